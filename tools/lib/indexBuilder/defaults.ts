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
export const TIERED_DEFAULTS = { modelsPerBlock: 16, ppcaRank: 64 } as const;
