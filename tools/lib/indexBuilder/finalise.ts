/**
 * Stage 3 of a build, finalise: from one model's embeddings to what the index stores for it. The
 * work is src/core/index/modelEntry.ts (shared with the browser); this adapts a model folder to
 * its source. Pure: tested on small synthetic embeddings (test/unit/buildStages.test.ts).
 */
import type { ModelMeta } from '../../../src/core/index/manifest.ts';
import * as entry from '../../../src/core/index/modelEntry.ts';
import type { ModelFolder } from './scan.ts';

export { F16_MAX, fewSamplesWarning, samplesSummary } from '../../../src/core/index/modelEntry.ts';
export type { Finalised, FinalisedModel, FinaliseSettings, FinaliseStats } from '../../../src/core/index/modelEntry.ts';

/** One model's embeddings, as the embed stage yields them: what finalise needs of a model. */
export interface ModelEmbeddings extends Omit<entry.ModelEmbeddings, 'source'> {
  folder: Pick<ModelFolder, 'id' | 'folder' | 'meta' | 'missingFields'>;
}

/** A model folder as an entry's source (its folder name labels it in messages). */
const sourceOf = ({ id, folder, meta, missingFields }: ModelEmbeddings['folder']): entry.EntrySource => ({ id, label: folder, meta, missingFields });

/** core finaliseModel for a model folder. */
export function finaliseModel(input: ModelEmbeddings, s: entry.FinaliseSettings): entry.Finalised {
  return entry.finaliseModel({ ...input, source: sourceOf(input.folder) }, s);
}

/** core modelMeta for a model folder. */
export function modelMeta(input: Pick<ModelEmbeddings, 'folder' | 'commonSize' | 'thumbs'>, warnings: string[]): ModelMeta {
  return entry.modelMeta({ ...input, source: sourceOf(input.folder) }, warnings);
}
