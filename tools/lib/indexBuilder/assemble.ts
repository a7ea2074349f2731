/**
 * Stage 4 of a build, assemble — and the output of a merge: finalised models, in index order →
 * the index sections (IndexInput), the manifest's params, the models.json metadata and the
 * thumbnails → tools/lib/writeIndexDir.ts (atomic). A build and the merge of its shards go
 * through this one function, which is why shard-then-merge reproduces a single build byte for byte.
 */
import { definedOnly } from '../../../src/core/scoring/defaults.ts';
import { calibrateIndex } from '../calibrate.ts';
import type { NodeEncoder } from '../nodeEncoder.ts';
import type { IndexInput, Precision, SearchIndex } from '../../../src/core/index/indexFormat.ts';
import type { BuildParams, IndexManifest } from '../../../src/core/index/manifest.ts';
import { packedSize } from '../../../src/core/math/linalg.ts';
import { writeIndexDir, type IndexDirInput } from '../writeIndexDir.ts';
import type { FinalisedModel } from './finalise.ts';
import type { ProjectionStructure } from './projection.ts';

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
  projection?: { structure?: ProjectionStructure; matrix: Float32Array };
  /** Valid images per model: min / mean / max (recorded). */
  samplesPerModel?: { min: number; mean: number; max: number };
  /** The temperature, where it is not simply the encoder's logit scale (writeIndexDir adds that). */
  temperature?: number;
}

/** The manifest's record of the settings, in a fixed key order (the temperature is added last by writeIndexDir). */
function manifestParams(s: IndexSettings): BuildParams {
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

/** The index folder's contents for `models` (in index order). Pure: writeIndexDir does the writing. */
export function assembleIndex(models: FinalisedModel[], s: IndexSettings): IndexDirInput {
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
    createdWith: 'tools/build-index.ts',
    encoder: s.encoder,
    licence: s.licence,
    models: models.map((m) => m.meta),
    index,
    params: manifestParams(s),
    examples: s.examples,
    extraFiles,
  };
}

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
