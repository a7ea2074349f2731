/**
 * Stage 3 of a build, finalise: from one model's embeddings to what the index stores for it —
 * the mean, the Gaussian factors (src/core/index/modelStats.ts), the kept samples, the metadata
 * and the report's numbers. Pure: no I/O, so it is tested on small synthetic embeddings
 * (test/unit/buildStages.test.ts).
 */
import type { Precision } from '../../../src/core/index/indexFormat.ts';
import type { ModelMeta } from '../../../src/core/index/manifest.ts';
import { gaussianFactors, MomentAccumulator } from '../../../src/core/index/modelStats.ts';
import { listSome, METADATA_FIELDS, type ModelFolder } from './scan.ts';

/** One model's embeddings, as the embed stage yields them: what finalise needs of a model. */
export interface ModelEmbeddings {
  folder: Pick<ModelFolder, 'id' | 'folder' | 'meta' | 'missingFields'>;
  /** Unit embeddings of the valid images, in file order. */
  embeddings: Float32Array[];
  /** The valid images' most common size, "W×H" (for a model.json without a resolution). */
  commonSize?: string;
  /** WebP thumbnails of the first valid images, in file order. */
  thumbs: Uint8Array[];
}

/** One model as the index stores it: what assemble takes, from a build or from merged shards. */
export interface FinalisedModel {
  meta: ModelMeta;
  /** [dim] */
  mean: Float64Array | Float32Array;
  /** The packed precision factor W and the ε it was built with; absent for an index without Gaussians. */
  gaussian?: { precision: Float64Array | Float32Array; epsilon: number };
  /** [n, dim] kept sample embeddings; absent for an index without samples. */
  samples?: Float32Array;
  /** Thumbnail bytes, one per `meta.thumbnails` path. */
  thumbs: Uint8Array[];
}

export interface FinaliseSettings {
  dim: number;
  /** The requested ε (raised per model where Σ + εI is not positive definite). */
  epsilon: number;
  /** Storage of the precision factors: f16 refuses factors beyond its range. */
  precision: Precision;
  /** Samples kept per model, 0 = none. */
  keepSamples: number;
}

/** The report's numbers for a finalised model (ModelReport's statistics fields). */
interface FinaliseStats {
  /** Valid images the statistics were computed from. */
  images: number;
  /** The ε used (raised from the requested one when jitterSteps > 0). */
  epsilon: number;
  jitterSteps: number;
  samplesKept: number;
  thumbnails: number;
}

export type Finalised =
  | { ok: true; model: FinalisedModel; stats: FinaliseStats; warnings: string[] }
  | { ok: false; reason: string };

/** The largest finite fp16 value. */
const F16_MAX = 65504;

/**
 * Mean, Σ + εI → W (ε raised as needed), the first `keepSamples` embeddings, the metadata with
 * defaults and thumbnail paths. A model with fewer than 2 valid images, a covariance that stays
 * singular, or (f16) a factor beyond the f16 range is not finalised: `reason` says why.
 */
export function finaliseModel(input: ModelEmbeddings, s: FinaliseSettings): Finalised {
  const { folder, embeddings: embs } = input;
  if (embs.length < 2) {
    return { ok: false, reason: `only ${embs.length} valid image(s) in "${folder.folder}" (at least 2 are needed for a covariance)` };
  }
  const acc = new MomentAccumulator(s.dim);
  for (const e of embs) acc.add(e);
  let f;
  try {
    f = gaussianFactors(acc.mean(), acc.covariance(), s.epsilon);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (s.precision === 'f16') {
    let big = 0;
    for (let i = 0; i < f.precision.length; i++) big = Math.max(big, Math.abs(f.precision[i]));
    if (big > F16_MAX) {
      return {
        ok: false,
        reason: `its precision factor has entries up to ${big.toExponential(2)}, beyond the f16 range (use --precision f32 or a larger --epsilon)`,
      };
    }
  }
  const warnings: string[] = [];
  if (f.jitterSteps > 0) {
    warnings.push(`model "${folder.id}": the covariance + εI was not positive definite; ε raised ${f.jitterSteps} time(s) to ${f.epsilon}`);
  }
  const keep = Math.min(s.keepSamples, embs.length);
  const samples = new Float32Array(keep * s.dim);
  for (let i = 0; i < keep; i++) samples.set(embs[i], i * s.dim);

  const meta = modelMeta(input, warnings);
  const { thumbnails } = meta;
  return {
    ok: true,
    model: {
      meta,
      mean: f.mean,
      gaussian: { precision: f.precision, epsilon: f.epsilon },
      ...(s.keepSamples > 0 ? { samples } : {}),
      thumbs: input.thumbs,
    },
    stats: { images: embs.length, epsilon: f.epsilon, jitterSteps: f.jitterSteps, samplesKept: keep, thumbnails: thumbnails.length },
    warnings,
  };
}

/**
 * A model's metadata: model.json's fields, defaults for the missing ones (each named in a warning
 * pushed to `warnings`), the resolution from the images when model.json has none, and the paths of
 * its thumbnails (`thumbs/<id>/<k>.webp`). Shared by both index formats.
 */
export function modelMeta(input: Pick<ModelEmbeddings, 'folder' | 'commonSize' | 'thumbs'>, warnings: string[]): ModelMeta {
  const { folder } = input;
  const resolution = folder.meta.resolution ?? input.commonSize ?? '';
  if (folder.missingFields.length) {
    const fields = folder.missingFields.map((fld) => (fld === 'resolution' ? `resolution (using "${resolution}" from the images)` : fld));
    warnings.push(
      folder.missingFields.length === METADATA_FIELDS.length
        ? `model "${folder.id}": no model.json metadata; using defaults for ${fields.join(', ')}`
        : `model "${folder.id}": model.json lacks ${fields.join(', ')}; using defaults`,
    );
  }
  const thumbnails = input.thumbs.map((_, i) => `thumbs/${folder.id}/${i}.webp`);
  return { id: folder.id, ...folder.meta, resolution, thumbnails };
}

/** The warning for models with fewer valid images than dimensions (singular sample covariance), if any. */
export function fewSamplesWarning(models: { id: string; images: number }[], s: Pick<FinaliseSettings, 'dim' | 'epsilon'>): string | undefined {
  const few = models.filter((m) => m.images < s.dim).map((m) => `${m.id} (${m.images})`);
  if (!few.length) return undefined;
  return (
    `${few.length} model(s) have fewer valid images than the ${s.dim} dimensions, so their sample covariance is ` +
    `singular; ε = ${s.epsilon} keeps Σ + εI positive definite: ${listSome(few, 20)}`
  );
}

/** min / mean / max of the valid images per model (a merge recovers the totals from the means exactly). */
export function samplesSummary(counts: number[]): { min: number; mean: number; max: number } {
  const total = counts.reduce((a, b) => a + b, 0);
  return { min: Math.min(...counts), mean: total / counts.length, max: Math.max(...counts) };
}
