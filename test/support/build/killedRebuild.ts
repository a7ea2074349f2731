import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WriteStep } from '../../../tools/lib/writeIndexDir.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, 'killedWrite.ts');

/** Runs a --force rebuild of `outDir` to "new" in a child process that SIGKILLs itself after `step`. */
export async function killedRebuild(outDir: string, step: WriteStep | 'none'): Promise<'killed' | 'finished'> {
  try {
    // One process (node with tsx's loader), so the SIGKILL it sends itself is what this sees.
    await run(process.execPath, ['--import', 'tsx', SCRIPT, outDir, 'new', step], { env: { ...process.env, NO_COLOR: '1' } });
    return 'finished';
  } catch (err) {
    if ((err as { signal?: string }).signal === 'SIGKILL') return 'killed';
    throw err;
  }
}
