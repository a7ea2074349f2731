/**
 * Stage 3 of a tiered (version 2) build, finalise: one model's embeddings → its record in
 * records.bin, its metadata and the report's numbers. The work is src/core/index/tieredEntry.ts
 * (shared with the browser); this adapts a model folder to its source, as finalise.ts for version 1.
 */
import * as entry from '../../../src/core/index/tieredEntry.ts';
import type { ModelEmbeddings } from './finalise.ts';

export { tieredGaussian } from '../../../src/core/index/tieredEntry.ts';
export type { RecordKindName, TieredFinalised, TieredFinaliseSettings, TieredModel } from '../../../src/core/index/tieredEntry.ts';

/** core finaliseTieredModel for a model folder; a record that cannot be stored names the flags that help. */
export function finaliseTieredModel(input: ModelEmbeddings, s: entry.TieredFinaliseSettings): entry.TieredFinalised {
  const { id, folder, meta, missingFields } = input.folder;
  const r = entry.finaliseTieredModel({ ...input, source: { id, label: folder, meta, missingFields } }, s);
  if (r.ok) return r;
  const hint = r.recordFault && s.precision === 'f16' ? ' (use --precision f32 or a larger --epsilon)' : '';
  return { ok: false, reason: r.reason + hint };
}
