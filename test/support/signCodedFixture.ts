import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../tools/lib/indexBuilder/cli.ts';

/**
 * The sign-coded tiered fixture of the browser tests: the tiered demo (public/index/demo-tiered)
 * re-packed by `npm run build-index -- merge --format tiered --prefilter sign --block-files` into
 * public/index/demo-signs/ (git-ignored): head.bin with sign codes, codes.bin, records.bin, and
 * the per-block files codes/ and blocks/ for hosts without Range. A merge of 300 models takes
 * about a second, so it is rebuilt on every run: never a stale copy of an older format.
 *
 * The test server (playwright.config.ts) serves dist/, built from public/ before the tests start,
 * and `vite preview` looks files up per request: the fixture is copied into dist/ too.
 */
const ROOT = join(import.meta.dirname, '..', '..');
export const SIGN_CODED_DIR = 'index/demo-signs';

export async function buildSignCodedFixture(): Promise<void> {
  const tmp = join(ROOT, '.cache', `demo-signs-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const args = ['merge', '--format', 'tiered', '--prefilter', 'sign', '--block-files', '--name', 'demo-signs', '--out', tmp, join(ROOT, 'public', 'index', 'demo-tiered')];
  const code = await runCli(args);
  if (code !== 0) throw new Error(`npm run build-index -- ${args.join(' ')} failed (exit ${code}).`);
  const target = join(ROOT, 'public', SIGN_CODED_DIR);
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  const dist = join(ROOT, 'dist');
  if (existsSync(dist)) {
    rmSync(join(dist, SIGN_CODED_DIR), { recursive: true, force: true });
    cpSync(target, join(dist, SIGN_CODED_DIR), { recursive: true });
  }
}
