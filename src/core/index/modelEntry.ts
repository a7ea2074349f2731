/**
 * One model's entry, from its unit embeddings to what an index stores for it: the mean, the
 * Gaussian factors (modelStats.ts), the kept samples, the metadata and the report's numbers.
 * Shared by the builder (tools/lib/indexBuilder/finalise.ts re-exports it, a model folder is the
 * source) and the browser (a model added in the app is the source). Pure: no DOM, no Node.
 *
 *   finaliseModel(input: ModelEmbeddings, s: FinaliseSettings): Finalised
 *   entrySettingsFor(manifest: IndexManifest, index: SearchIndex): EntrySettings
 *   sampleMean(embeddings: Float32Array, n: number, dim: number): Float32Array
 *   modelMeta(input, warnings): ModelMeta            metadataDefaults(partial, id): EntryMeta
 *   invalidIdReason(id): string | undefined           byCodePoint(a, b): number
 *   mostCommonSize(sizes: Map<string, number>)        sizeLabel(width, height): string
 *   embeddingProblem(e, dim): string | undefined      IGNORED_EXTENSIONS, METADATA_FIELDS, F16_MAX
 */
import type { Precision, SearchIndex } from './indexFormat.ts';
import type { IndexManifest, ModelLink, ModelMeta } from './manifest.ts';
import { gaussianFactors, MomentAccumulator } from './modelStats.ts';
import type { IndexSettings } from './indexFolder.ts';

/** File extensions that are obviously not images; such files are ignored without a word. */
export const IGNORED_EXTENSIONS: ReadonlySet<string> = new Set([
  '.json', '.txt', '.md', '.markdown', '.yaml', '.yml', '.toml', '.csv', '.tsv', '.html', '.htm', '.log', '.pdf',
]);

/** Model ids become paths (`thumbs/<id>/…`) and URL parameters: keep them to a safe alphabet. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
export const MAX_MODEL_ID_LENGTH = 128;

/** The metadata fields of model.json, and their defaults. `resolution` defaults to the images' most common size. */
export const METADATA_FIELDS = ['name', 'description', 'family', 'creator', 'licence', 'resolution', 'links'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

/** A model's metadata with its defaults applied (model.json for a folder, the form in the browser). */
export interface EntryMeta {
  name: string;
  description: string;
  family: string;
  creator: string;
  licence: string;
  /** undefined: derive from the images. */
  resolution?: string;
  links: ModelLink[];
}

/** Why an id is not acceptable, or undefined when it is. */
export function invalidIdReason(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_MODEL_ID_LENGTH) return `it is longer than ${MAX_MODEL_ID_LENGTH} characters`;
  if (id.includes('/') || id.includes('\\')) return 'it contains a path separator';
  if (id === '.' || id.includes('..')) return 'it contains ".."';
  if (!MODEL_ID_PATTERN.test(id)) return 'only the characters A-Z a-z 0-9 . _ - are allowed';
  return undefined;
}

/** Plain code-point order: the same on every machine and locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** "a, b, c and 7 more" */
export function listSome(items: string[], max = 8): string {
  const head = items.slice(0, max).join(', ');
  return items.length > max ? `${head} and ${items.length - max} more` : head;
}

/** The metadata with the defaults for the fields `partial` lacks (name → the id). */
export function metadataDefaults(partial: Partial<EntryMeta>, id: string): EntryMeta {
  return {
    name: partial.name ?? id,
    description: partial.description ?? '',
    family: partial.family ?? '',
    creator: partial.creator ?? 'unknown',
    licence: partial.licence ?? 'unspecified',
    resolution: partial.resolution,
    links: partial.links ?? [],
  };
}

/** The fields `partial` lacks (metadataDefaults fills them; modelMeta names them in a warning). */
export function missingMetadataFields(partial: Partial<EntryMeta>): MetadataField[] {
  return METADATA_FIELDS.filter((f) => partial[f] === undefined);
}

/** An image size as the metadata writes it: "W×H" (U+00D7). */
export const sizeLabel = (width: number, height: number): string => `${width}×${height}`;

/** The most frequent key of `sizes` (size label → count); the first one reaching the maximum wins. */
export function mostCommonSize(sizes: Map<string, number>): string | undefined {
  let best: string | undefined;
  let n = 0;
  for (const [size, c] of sizes) if (c > n) [best, n] = [size, c];
  return best;
}

/** Accepted image embeddings must be unit vectors; anything else means a broken encoder. */
export function embeddingProblem(e: Float32Array, dim: number): string | undefined {
  if (e.length !== dim) return `the encoder returned ${e.length} dimensions, expected ${dim}`;
  let s = 0;
  for (let i = 0; i < dim; i++) {
    if (!Number.isFinite(e[i])) return 'the encoder produced a non-finite embedding';
    s += e[i] * e[i];
  }
  if (Math.abs(s - 1) > 1e-3) return 'the encoder produced a zero embedding';
  return undefined;
}

/** Where an entry comes from: a model folder (label = its name) or a model added in the browser. */
export interface EntrySource {
  id: string;
  /** Names the source in messages: the folder's name, or e.g. "your model". */
  label: string;
  meta: EntryMeta;
  /** Fields the metadata lacked (defaults used); empty when it had them all. */
  missingFields: readonly MetadataField[];
}

/** One model's embeddings: what finalise needs of a model. */
export interface ModelEmbeddings {
  source: EntrySource;
  /** Unit embeddings of the valid images, in file order. */
  embeddings: Float32Array[];
  /** The valid images' most common size, "W×H" (for metadata without a resolution). */
  commonSize?: string;
  /** Thumbnails of the first valid images, in file order. */
  thumbs: Uint8Array[];
  /** Extension of the thumbnail paths (default "webp"; "png" where the browser cannot encode WebP). */
  thumbExtension?: string;
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
export interface FinaliseStats {
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
export const F16_MAX = 65504;

/** The builder's default ε (tools/lib/indexBuilder/defaults.ts), for an index that does not record its own. */
const DEFAULT_EPSILON = 1e-3;

/**
 * Mean, Σ + εI → W (ε raised as needed), the first `keepSamples` embeddings, the metadata with
 * defaults and thumbnail paths. A model with fewer than 2 valid images, a covariance that stays
 * singular, or (f16) a factor beyond the f16 range is not finalised: `reason` says why.
 */
export function finaliseModel(input: ModelEmbeddings, s: FinaliseSettings): Finalised {
  const { source, embeddings: embs } = input;
  if (embs.length < 2) {
    return { ok: false, reason: `only ${embs.length} valid image(s) in "${source.label}" (at least 2 are needed for a covariance)` };
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
    warnings.push(`model "${source.id}": the covariance + εI was not positive definite; ε raised ${f.jitterSteps} time(s) to ${f.epsilon}`);
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
 * A model's metadata: the source's fields, defaults for the missing ones (each named in a warning
 * pushed to `warnings`), the resolution from the images when the source has none, and the paths of
 * its thumbnails (`thumbs/<id>/<k>.webp`). Shared by both index formats. The key order decides the
 * bytes of models.json: keep it.
 */
export function modelMeta(input: Pick<ModelEmbeddings, 'source' | 'commonSize' | 'thumbs' | 'thumbExtension'>, warnings: string[]): ModelMeta {
  const { source } = input;
  const resolution = source.meta.resolution ?? input.commonSize ?? '';
  if (source.missingFields.length) {
    const fields = source.missingFields.map((fld) => (fld === 'resolution' ? `resolution (using "${resolution}" from the images)` : fld));
    warnings.push(
      source.missingFields.length === METADATA_FIELDS.length
        ? `model "${source.id}": no model.json metadata; using defaults for ${fields.join(', ')}`
        : `model "${source.id}": model.json lacks ${fields.join(', ')}; using defaults`,
    );
  }
  const ext = input.thumbExtension ?? 'webp';
  const thumbnails = input.thumbs.map((_, i) => `thumbs/${source.id}/${i}.${ext}`);
  return { id: source.id, ...source.meta, resolution, thumbnails };
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

/**
 * The mean of `n` embeddings ([n, dim] row-major), summed in float64 in row order like
 * MomentAccumulator and rounded to f32 once, as the index's Means section stores it.
 */
export function sampleMean(embeddings: Float32Array, n: number, dim: number): Float32Array {
  if (n < 1) throw new Error('The mean needs at least 1 sample.');
  if (embeddings.length < n * dim) throw new Error(`expected ${n} × ${dim} values, got ${embeddings.length}`);
  const sum = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    const row = r * dim;
    for (let i = 0; i < dim; i++) sum[i] += embeddings[row + i];
  }
  const mean = new Float32Array(dim);
  for (let i = 0; i < dim; i++) mean[i] = sum[i] / n;
  return mean;
}

/**
 * How entries are finalised and written so that their shard matches a loaded index: `finalise`
 * for finaliseModel; `index` for assembleIndex/entryShardFiles (name and licence are the caller's,
 * samplesPerModel is the entries' own).
 */
export interface EntrySettings {
  finalise: FinaliseSettings;
  index: Omit<IndexSettings, 'name' | 'licence' | 'examples' | 'samplesPerModel'>;
}

/**
 * The settings of a loaded version 1 index, copied verbatim from its manifest and sections (merge
 * compares them as strings, so a shard built with these merges with the index's own shards): ε
 * (finalising falls back to the builder's default where the manifest records none), the factor
 * and samples dtypes, the samples kept (else the largest kept count in the index), the projection
 * and the temperature.
 */
export function entrySettingsFor(manifest: IndexManifest, index: SearchIndex): EntrySettings {
  const p = manifest.params ?? {};
  const { id, dim } = manifest.encoder;
  let keepSamples = 0;
  if (index.samples) {
    const { offsets } = index.samples;
    let most = 0;
    for (let m = 0; m + 1 < offsets.length; m++) most = Math.max(most, offsets[m + 1] - offsets[m]);
    keepSamples = p.samplesKept ?? most;
  }
  const precision = index.gaussian?.precision.dtype;
  return {
    finalise: { dim, epsilon: p.epsilon ?? DEFAULT_EPSILON, precision: precision ?? 'f32', keepSamples },
    index: {
      encoder: { id, dim },
      epsilon: p.epsilon,
      precision,
      samplesKept: p.samplesKept,
      samplesPrecision: index.samples?.data.dtype,
      projection: index.projection ? { structure: p.projection, matrix: index.projection.matrix } : undefined,
      temperature: p.temperature,
    },
  };
}
