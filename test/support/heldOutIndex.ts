/**
 * An index without one of its models, derived from the index itself instead of a rebuild
 * (docs/design/add-your-model.md §7, setup step 1): every other model is decoded as merge decodes
 * a shard (shardModels) and written again with the index's settings and no encoder, so without
 * calibration. Per-model statistics are independent of the other models, so index.bin and
 * models.json equal a build without that model's folder (test/unit/heldOut.test.ts). The manifest
 * records no samplesPerModel: the held-out model's image count is not in the index.
 */
import { entrySettingsFor } from '../../src/core/index/modelEntry.ts';
import type { IndexManifest } from '../../src/core/index/manifest.ts';
import { writeAssembledIndex } from '../../tools/lib/indexBuilder/assemble.ts';
import { shardModels } from '../../tools/lib/indexBuilder/mergeShards.ts';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';

export async function writeHeldOutIndex(srcIndexDir: string, outDir: string, excludeId: string, opts: { force?: boolean } = {}): Promise<IndexManifest> {
  const { manifest, index, models } = await openLocalIndex(srcIndexDir);
  if (!models.some((m) => m.id === excludeId)) throw new Error(`${srcIndexDir} has no model "${excludeId}"`);
  const kept = (await shardModels({ dir: srcIndexDir, index, models })).filter((m) => m.meta.id !== excludeId);
  const settings = entrySettingsFor(manifest, index).index;
  return writeAssembledIndex(
    outDir,
    kept,
    { ...settings, name: manifest.name, licence: manifest.licence, examples: manifest.examples },
    { force: opts.force },
  );
}
