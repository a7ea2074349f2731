/**
 * Stage 4 of a build, assemble — and the output of a merge: finalised models, in index order →
 * the index folder's contents (src/core/index/indexFolder.ts, shared with the browser) →
 * tools/lib/writeIndexDir.ts (atomic). A build and the merge of its shards go through this one
 * function, which is why shard-then-merge reproduces a single build byte for byte.
 */
import { calibrateIndex } from '../calibrate.ts';
import type { NodeEncoder } from '../nodeEncoder.ts';
import type { SearchIndex } from '../../../src/core/index/indexFormat.ts';
import type { IndexManifest } from '../../../src/core/index/manifest.ts';
import { assembleIndex, type IndexSettings } from '../../../src/core/index/indexFolder.ts';
import { writeIndexDir } from '../writeIndexDir.ts';
import type { FinalisedModel } from './finalise.ts';

export { assembleIndex, manifestParams, type IndexSettings } from '../../../src/core/index/indexFolder.ts';

/**
 * assembleIndex, then writeIndexDir: atomic, replacing an existing folder only with `force`;
 * `encoder` (both towers) measures the "nothing matches" calibration (tools/lib/calibrate.ts).
 */
export function writeAssembledIndex(
  outDir: string,
  models: FinalisedModel[],
  s: IndexSettings,
  opts: { force?: boolean; encoder?: NodeEncoder } = {},
): Promise<IndexManifest> {
  const { encoder } = opts;
  const names = models.map((m) => m.meta.name);
  const calibrate = encoder ? (index: SearchIndex, t: number) => calibrateIndex(index, encoder, t, names) : undefined;
  return writeIndexDir(outDir, { ...assembleIndex(models, s), calibrate }, opts);
}
