/**
 * Writes a tiny index named `name` over `outDir` (with --force) and kills its own process with
 * SIGKILL right after `step` (tools/lib/writeIndexDir.ts WriteStep), or finishes when step is
 * "none". Run by test/unit/atomicRebuild.test.ts in a child process:
 *   npx tsx test/support/build/killedWrite.ts <outDir> <name> <step>
 */
import { writeIndexDir, type WriteStep } from '../../../tools/lib/writeIndexDir.ts';
import { tinyIndexInput } from './tinyIndex.ts';

const [outDir, name, step] = process.argv.slice(2) as [string, string, WriteStep | 'none'];
await writeIndexDir(outDir, tinyIndexInput(name), {
  force: true,
  onStep: (s) => {
    if (s === step) process.kill(process.pid, 'SIGKILL');
  },
});
