/**
 * Stage 4 of a tiered (version 2) build, assemble — and the output of a tiered merge: the folder's
 * contents come from src/core/index/tieredAssemble.ts (shared with the browser's shard export);
 * this adds the calibration (with the encoder: both towers) and the atomic write.
 */
import type { MatchCalibration, TieredManifest } from '../../../src/core/index/manifest.ts';
import { assembleTiered, tieredManifestJson, type TieredSettings } from '../../../src/core/index/tieredAssemble.ts';
import type { NodeEncoder } from '../nodeEncoder.ts';
import { writeDirAtomically, type WriteStep } from '../writeIndexDir.ts';
import { calibrateTiered } from './tieredCalibrate.ts';
import type { TieredModel } from './tieredFinalise.ts';

export { assembleTiered, type AssembledTiered, type TieredPrefilter, type TieredSettings } from '../../../src/core/index/tieredAssemble.ts';

/**
 * assembleTiered, the calibration (with `encoder`: both towers), then the atomic write: replacing
 * an existing folder only with `force`.
 */
export async function writeTieredIndex(
  outDir: string,
  models: readonly TieredModel[],
  s: TieredSettings,
  opts: { force?: boolean; encoder?: NodeEncoder; onStep?: (step: WriteStep) => void | Promise<void> } = {},
): Promise<TieredManifest> {
  const { files, manifest, models: stored, records } = await assembleTiered(models, s);
  let calibration: MatchCalibration | undefined;
  if (opts.encoder) calibration = await calibrateTiered(records, opts.encoder, stored.map((m) => m.meta.name));
  const full: TieredManifest = { ...manifest, ...(calibration ? { calibration } : {}) };
  await writeDirAtomically(outDir, files, tieredManifestJson(full), { force: opts.force, onStep: opts.onStep });
  return full;
}
