/**
 * Defaults of the index builder, in a module without heavy imports (sharp, onnxruntime) so the
 * CLI can print its usage text and reject bad flags quickly.
 */
import { join } from 'node:path';
import type { Precision } from '../../../src/core/index/indexFormat.ts';

/** Default pixel limit per image: 64 megapixels (e.g. 8000×8000). */
export const DEFAULT_MAX_PIXELS = 64_000_000;

export const BUILD_DEFAULTS = {
  batch: 16,
  epsilon: 1e-3,
  precision: 'f16' as Precision,
  keepSamples: 32,
  samplesPrecision: 'f32' as Precision,
  thumbnails: 3,
  thumbnailWidth: 256,
  maxPixels: DEFAULT_MAX_PIXELS,
  licence: 'unspecified',
  cacheDir: join('.cache', 'embeddings'),
};

/** Defaults of the tiered (version 2) format's own settings. */
// PPCA rank 128 (harmonic residual): on bench:scale's sweep against a spectrum that goes on past the
// rank, 96 gives recall@10 0.947 (short of 0.95), 128 gives 0.964; a rank-128 fp16 record at d = 512
// is 133 kB against 263 kB for the packed triangle (docs/benchmarks.md, "Scale").
export const TIERED_DEFAULTS = { modelsPerBlock: 16, ppcaRank: 128 } as const;
