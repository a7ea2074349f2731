/**
 * Checks on the output folder, done before any expensive work: an existing output is only
 * replaced with --force, and --force only ever replaces an index folder (one with a
 * manifest.json) or an empty folder — never, say, a home directory given by mistake.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, relative, resolve, isAbsolute } from 'node:path';
import { InputError } from './errors.ts';

export async function checkOutputDir(outDir: string, force: boolean, inputDirs: string[] = []): Promise<void> {
  const out = resolve(outDir);
  for (const dir of inputDirs) {
    const rel = relative(resolve(dir), out);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
      throw new InputError(`the output ${outDir} must not be inside the input folder ${dir}`);
    }
    const back = relative(out, resolve(dir));
    if (!back.startsWith('..') && !isAbsolute(back)) {
      throw new InputError(`the output ${outDir} must not contain the input folder ${dir}`);
    }
  }
  const st = await stat(out).catch(() => undefined);
  if (!st) return;
  if (!force) throw new InputError(`the output ${outDir} already exists (use --force to replace it)`);
  if (!st.isDirectory()) throw new InputError(`the output ${outDir} exists and is not a folder; refusing to replace it`);
  const entries = await readdir(out);
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new InputError(`refusing to replace ${outDir}: it is not an index folder (no manifest.json) and not empty`);
  }
}

/** The default index name: the output folder's name. */
export function defaultIndexName(outDir: string): string {
  return basename(resolve(outDir));
}
