import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';
import { recoverIndexDir, writeIndexDir, type WriteStep } from '../../tools/lib/writeIndexDir.ts';
import { killedRebuild } from '../support/build/killedRebuild.ts';
import { tinyIndexInput } from '../support/build/tinyIndex.ts';
import { dataLost, handled, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/**
 * A `--force` rebuild killed (SIGKILL, no clean-up) after each step of replacing the index folder.
 * Data is lost when, after the recovery every later write runs first, --out does not open as a
 * complete index (the old or the new one, with verified checksums), or something is left beside it.
 */

/** What --out holds: the name of the complete index there (checksums verified by openLocalIndex), or why not. */
async function survivor(outDir: string): Promise<string> {
  try {
    return (await openLocalIndex(outDir)).manifest.name;
  } catch (err) {
    return `no complete index (${err instanceof Error ? err.message : String(err)})`;
  }
}

function killedAfter(step: WriteStep, expected: 'old' | 'new'): HostileCase {
  return {
    group: 'storage fault',
    finding: step === 'old-moved-aside',
    name: `an index rebuild (--force) killed after "${step}"`,
    timeoutMs: 60_000,
    run: async ({ tmp }): Promise<Verdict> => {
      const outDir = join(tmp, 'index');
      await writeIndexDir(outDir, tinyIndexInput('old'));
      if ((await killedRebuild(outDir, step)) !== 'killed') return dataLost('the build was not killed (the case proves nothing)');
      await recoverIndexDir(outDir);
      const got = await survivor(outDir);
      const beside = (await readdir(tmp)).filter((n) => n !== 'index');
      if (got !== expected) return dataLost(`after recovery --out holds ${got}; expected the ${expected} index`);
      if (beside.length) return dataLost(`left beside --out: ${beside.join(', ')}`);
      return handled(`--out holds the complete ${expected} index; nothing left beside it`);
    },
  };
}

const cases: HostileCase[] = [
  killedAfter('written', 'old'),
  killedAfter('old-moved-aside', 'old'),
  killedAfter('new-in-place', 'new'),
  killedAfter('old-removed', 'new'),
  {
    group: 'storage fault',
    name: 'a rebuild killed half-way, then a plain build without --force: the restored index is kept',
    timeoutMs: 60_000,
    run: async ({ tmp }) => {
      const outDir = join(tmp, 'index');
      await writeIndexDir(outDir, tinyIndexInput('old'));
      await killedRebuild(outDir, 'old-moved-aside');
      let refused = '';
      try {
        await writeIndexDir(outDir, tinyIndexInput('third'));
      } catch (err) {
        refused = err instanceof Error ? err.message : String(err);
      }
      const got = await survivor(outDir);
      if (got !== 'old') return dataLost(`--out holds ${got}`);
      return /already exists/.test(refused) ? handled('the old index was restored and kept (the write without --force refused)') : dataLost(`the write without --force did not refuse: ${refused || 'it replaced the index'}`);
    },
  },
];

defineHostileCases(cases);
