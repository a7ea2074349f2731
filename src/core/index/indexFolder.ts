/**
 * A version 1 index folder's contents, from finalised models to bytes: the sections (IndexInput),
 * the manifest's params, models.json and the thumbnails, then index.bin, models.json and
 * manifest.json exactly as the builder writes them. The builder (tools/lib/writeIndexDir.ts adds
 * the atomic write) and the browser (a shard of the models added there) share it, so the same
 * entries give the same index.bin and models.json. Pure: no DOM, no Node.
 *
 *   assembleIndex(models: FinalisedModel[], s: IndexSettings, createdWith?): IndexDirInput
 *   serialiseIndexFolder(input: IndexDirInput, opts?: { createdWith? }): Promise<SerialisedIndexFolder>
 *   entryShardFiles(models: FinalisedModel[], settings: ShardSettings,
 *                   opts: { name; licence?; createdWith?; thumbnails?: Map<string, Uint8Array> })
 *     : Promise<{ path: string; bytes: Uint8Array }[]>   // manifest.json, index.bin, models.json, thumbs/…
 */
import { definedOnly } from '../scoring/defaults.ts';
import { indexTemperatureFor } from '../encode/encoders.ts';
import { sha256Hex } from '../io/sha256.ts';
import { packedSize } from '../math/linalg.ts';
import { readIndex, writeIndex, type IndexInput, type Precision, type SearchIndex } from './indexFormat.ts';
import { MANIFEST_FORMAT, type BuildParams, type IndexManifest, type MatchCalibration, type ModelMeta } from './manifest.ts';
import { byCodePoint, type FinalisedModel } from './modelEntry.ts';

/** What the builder records as `createdWith`; the browser passes its own. */
export const BUILDER_CREATED_WITH = 'tools/build-index.ts';
export const BROWSER_CREATED_WITH = 'Model Search in the browser';

/** What an index is built with: the same for a build and for the merge of its shards. */
export interface IndexSettings {
  name: string;
  licence: string;
  /** Example text queries shown by the app for this index. */
  examples?: string[];
  encoder: { id: string; dim: number };
  /** The requested ε (recorded; each model's own, possibly raised, ε is in its Gaussian). */
  epsilon?: number;
  /** Storage of the precision factors; undefined: the index has no Gaussian sections. */
  precision?: Precision;
  /** Samples kept per model (recorded). */
  samplesKept?: number;
  /** Storage of the kept samples; undefined: no samples section. */
  samplesPrecision?: Precision;
  /** The fine-tuned projection shipped with the index, and its structure (recorded). */
  projection?: { structure?: BuildParams['projection']; matrix: Float32Array };
  /** Valid images per model: min / mean / max (recorded). */
  samplesPerModel?: { min: number; mean: number; max: number };
  /** The temperature, where it is not simply the encoder's logit scale (serialiseIndexFolder adds that). */
  temperature?: number;
}

/** A version 1 index folder before serialisation. */
export interface IndexDirInput {
  name: string;
  createdWith: string;
  encoder: { id: string; dim: number };
  licence: string;
  models: ModelMeta[];
  index: IndexInput;
  params?: BuildParams;
  examples?: string[];
  /** Extra files (e.g. thumbnails), by path relative to the index folder. */
  extraFiles?: Map<string, Uint8Array>;
  /**
   * Measures the index's "nothing matches" calibration from the written bytes (tools/lib/calibrate.ts
   * with the index's encoder); without it the manifest has no calibration.
   */
  calibrate?: (index: SearchIndex, temperature: number) => Promise<MatchCalibration>;
}

/** The manifest's record of the settings, in a fixed key order (the temperature is added last by serialiseIndexFolder). */
export function manifestParams(s: IndexSettings): BuildParams {
  const params: BuildParams = {
    epsilon: s.epsilon,
    precision: s.precision,
    samplesKept: s.samplesKept,
    samplesPrecision: s.samplesPrecision,
    samplesPerModel: s.samplesPerModel,
    projection: s.projection?.structure,
    temperature: s.temperature,
  };
  return definedOnly(params);
}

/** The index folder's contents for `models` (in index order). Pure: serialiseIndexFolder makes the bytes. */
export function assembleIndex(models: FinalisedModel[], s: IndexSettings, createdWith = BUILDER_CREATED_WITH): IndexDirInput {
  const { dim } = s.encoder;
  const count = models.length;
  const packed = packedSize(dim);
  const means = new Float32Array(count * dim);
  const precision = new Float32Array(s.precision ? count * packed : 0);
  const epsilon = new Float32Array(s.precision ? count : 0);
  const extraFiles = new Map<string, Uint8Array>();
  models.forEach((m, j) => {
    means.set(m.mean, j * dim);
    if (s.precision) {
      if (!m.gaussian) throw new Error(`model "${m.meta.id}" has no Gaussian factor`);
      precision.set(m.gaussian.precision, j * packed);
      epsilon[j] = m.gaussian.epsilon;
    }
    if (s.samplesPrecision && !m.samples) throw new Error(`model "${m.meta.id}" has no samples`);
    if (m.thumbs.length !== m.meta.thumbnails.length) throw new Error(`model "${m.meta.id}": thumbnails and their paths disagree`);
    m.thumbs.forEach((t, i) => extraFiles.set(m.meta.thumbnails[i], t));
  });
  const index: IndexInput = {
    dim,
    means,
    // writeIndex derives b = Wμ and the log-determinant from the factor as stored (fp16 or f32).
    ...(s.precision ? { gaussian: { precision, epsilon, dtype: s.precision } } : {}),
    ...(s.samplesPrecision ? { samples: { perModel: models.map((m) => m.samples!), dtype: s.samplesPrecision } } : {}),
    ...(s.projection ? { projection: s.projection.matrix } : {}),
  };
  return {
    name: s.name,
    createdWith,
    encoder: s.encoder,
    licence: s.licence,
    models: models.map((m) => m.meta),
    index,
    params: manifestParams(s),
    examples: s.examples,
    extraFiles,
  };
}

/** Every index records the temperature (its encoder's logit scale) its Monte-Carlo and 1st+2nd-moment scores use. */
export function indexTemperatureParams(encoderId: string, params: BuildParams = {}): BuildParams {
  const temperature = indexTemperatureFor(encoderId, params.temperature);
  if (temperature === undefined) throw new Error(`Unknown encoder "${encoderId}": give params.temperature for its logit scale.`);
  return { ...params, temperature };
}

export interface SerialisedIndexFolder {
  /** index.bin, models.json, then the extra files, by path relative to the folder (manifest.json not included). */
  files: [string, Uint8Array][];
  manifest: IndexManifest;
  /** manifest.json's text. */
  manifestJson: string;
}

/**
 * The bytes of an index folder: index.bin (writeIndex), models.json, and the manifest with the
 * SHA-256 of both, the params with the temperature, and the calibration when `input.calibrate`
 * measures one (from the written index.bin). `opts.createdWith` overrides the input's.
 */
export async function serialiseIndexFolder(input: IndexDirInput, opts: { createdWith?: string } = {}): Promise<SerialisedIndexFolder> {
  if (input.models.length * input.encoder.dim !== input.index.means.length) {
    throw new Error('models and means disagree on the model count');
  }
  const bin = writeIndex(input.index);
  const params = indexTemperatureParams(input.encoder.id, input.params);
  const calibration = input.calibrate ? await input.calibrate(readIndex(bin), params.temperature!) : undefined;
  const modelsJson = new TextEncoder().encode(JSON.stringify(input.models, null, 1) + '\n');
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: input.name,
    createdWith: opts.createdWith ?? input.createdWith,
    encoder: input.encoder,
    count: input.models.length,
    licence: input.licence,
    files: {
      'index.bin': { bytes: bin.byteLength, sha256: await sha256Hex(bin) },
      'models.json': { bytes: modelsJson.byteLength, sha256: await sha256Hex(modelsJson) },
    },
    params,
    ...(input.examples?.length ? { examples: input.examples } : {}),
    ...(calibration ? { calibration } : {}),
  };
  const files: [string, Uint8Array][] = [['index.bin', bin], ['models.json', modelsJson], ...(input.extraFiles ?? [])];
  return { files, manifest, manifestJson: JSON.stringify(manifest, null, 2) + '\n' };
}

/** A shard's settings: entrySettingsFor(manifest, index).index, plus the entries' own samplesPerModel. */
export type ShardSettings = Omit<IndexSettings, 'name' | 'licence' | 'examples'>;

/**
 * The files of a shard of `models` (any order; written in code-point id order) that `merge`
 * accepts beside the loaded index's own shards: manifest.json, index.bin, models.json and the
 * thumbnails (`opts.thumbnails` adds or replaces files by path). No calibration (merge measures
 * it). `licence` defaults to the models' common licence, else "unspecified".
 */
export async function entryShardFiles(
  models: FinalisedModel[],
  settings: ShardSettings,
  opts: { name: string; licence?: string; createdWith?: string; thumbnails?: Map<string, Uint8Array> },
): Promise<{ path: string; bytes: Uint8Array }[]> {
  const sorted = [...models].sort((a, b) => byCodePoint(a.meta.id, b.meta.id));
  const licences = [...new Set(sorted.map((m) => m.meta.licence))];
  const licence = opts.licence ?? (licences.length === 1 ? licences[0]! : 'unspecified');
  const input = assembleIndex(sorted, { ...settings, name: opts.name, licence }, opts.createdWith ?? BROWSER_CREATED_WITH);
  for (const [path, bytes] of opts.thumbnails ?? []) input.extraFiles!.set(path, bytes);
  const { files, manifestJson } = await serialiseIndexFolder(input);
  return [{ path: 'manifest.json', bytes: new TextEncoder().encode(manifestJson) }, ...files.map(([path, bytes]) => ({ path, bytes }))];
}
