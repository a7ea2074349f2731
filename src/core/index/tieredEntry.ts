/**
 * One model's record in a tiered (version 2) index, from its unit embeddings: the record records.bin
 * holds for it, its metadata and the report's numbers. Pure (no I/O). Shared by the builder
 * (tools/lib/indexBuilder/tieredFinalise.ts adapts a model folder to it) and the worker, which
 * derives the visitor's own models this way to rank them with a tiered index (docs/local-models.md).
 *
 * The record kind follows the number of valid images n and the dimension d (docs/index-format.md,
 * "Version 2"):
 * - n ≤ d: the exact low-rank Gaussian of Σ̂ + εI (rank ≤ n − 1, from the n × n Gram matrix:
 *   lowRankGaussian), record kind 1 — the same density as version 1's full triangle;
 * - n > d: PPCA of Σ̂ to rank R (`--ppca-rank`, at most d) plus the mean of the dropped eigenvalues
 *   as isotropic variance, record kind 2 — an approximation. When nothing is dropped (R = d, or
 *   the dropped eigenvalues are all zero) it is exact and recorded as kind 1.
 */
import type { ModelMeta, TieredManifest } from './manifest.ts';
import { lowRankGaussian, ppcaGaussian, type LowRankGaussian } from './lowRankGaussian.ts';
import { MomentAccumulator } from './modelStats.ts';
import { modelMeta, type ModelEmbeddings } from './modelEntry.ts';
import { decodeRecord, encodeRecord, RecordKind, type BasisDtype } from './tieredRecords.ts';

/** One model as a tiered index stores it: what the tiered assemble takes, from a build or from merged shards. */
export interface TieredModel {
  meta: ModelMeta;
  /** The encoded record (tieredRecords.ts), exactly the bytes records.bin holds for it. */
  record: Uint8Array;
  /** Thumbnail bytes, one per `meta.thumbnails` path (empty when the thumbnails live elsewhere: thumbnailBase). */
  thumbs: Uint8Array[];
}

export interface TieredFinaliseSettings {
  dim: number;
  /** ε added to the covariance (never raised: Σ̂ + εI is positive definite for any ε > 0). */
  epsilon: number;
  /** Storage of the basis B. */
  precision: BasisDtype;
  /** Rank of the PPCA records of models with more images than dimensions (capped at the dimension). */
  ppcaRank: number;
}

export type RecordKindName = 'exact' | 'ppca';

export interface TieredStats {
  images: number;
  epsilon: number;
  kind: RecordKindName;
  rank: number;
  thumbnails: number;
}

export type TieredFinalised =
  | { ok: true; model: TieredModel; stats: TieredStats; warnings: string[] }
  | { ok: false; reason: string; /** The record could not be stored (the builder suggests other settings). */ recordFault?: true };

/** The builder's defaults (tools/lib/indexBuilder/defaults.ts), for a tiered index that does not record its own. */
const DEFAULTS = { epsilon: 1e-3, precision: 'f16', ppcaRank: 128 } as const;

/** The settings a tiered index's records were built with (its manifest's params; the builder's defaults where absent). */
export function tieredSettingsFor(manifest: Pick<TieredManifest, 'encoder' | 'params'>): TieredFinaliseSettings {
  const p = manifest.params ?? {};
  return {
    dim: manifest.encoder.dim,
    epsilon: p.epsilon ?? DEFAULTS.epsilon,
    precision: p.precision ?? DEFAULTS.precision,
    ppcaRank: p.ppcaRank ?? DEFAULTS.ppcaRank,
  };
}

/** The Gaussian the record stands for, in float64 (before the basis is stored at its precision). */
export function tieredGaussian(embeddings: readonly ArrayLike<number>[], s: Pick<TieredFinaliseSettings, 'dim' | 'epsilon' | 'ppcaRank'>): LowRankGaussian {
  const n = embeddings.length;
  const { dim } = s;
  if (n <= dim) {
    const flat = new Float64Array(n * dim);
    embeddings.forEach((e, i) => {
      if (e.length !== dim) throw new Error(`embedding ${i} has ${e.length} values, not ${dim}`);
      for (let j = 0; j < dim; j++) flat[i * dim + j] = e[j]!;
    });
    return lowRankGaussian(flat, n, dim, s.epsilon);
  }
  const acc = new MomentAccumulator(dim);
  for (const e of embeddings) acc.add(e);
  // The harmonic residual keeps the far-query (text) term exact: see PpcaResidual.
  return ppcaGaussian(acc.mean(), acc.covariance(), Math.min(s.ppcaRank, dim), s.epsilon, 'harmonic');
}

/**
 * The record of a model with at least 2 valid images, its metadata with defaults and thumbnail
 * paths. The encoded record is read back (decodeRecord, the reader's checks) before it is kept: a
 * basis beyond the f16 range (only with a tiny ε) makes the model invalid, with the reason.
 */
export function finaliseTieredModel(input: ModelEmbeddings, s: TieredFinaliseSettings): TieredFinalised {
  const { source, embeddings: embs } = input;
  if (embs.length < 2) {
    return { ok: false, reason: `only ${embs.length} valid image(s) in "${source.label}" (at least 2 are needed for a covariance)` };
  }
  let record: Uint8Array;
  let kind: RecordKindName;
  let rank: number;
  try {
    const g = tieredGaussian(embs, s);
    record = encodeRecord(g, s.precision);
    const back = decodeRecord(record, s.dim, `model "${source.id}"'s record`);
    kind = back.kind === RecordKind.ExactLowRank ? 'exact' : 'ppca';
    rank = back.rank;
  } catch (err) {
    return { ok: false, reason: `its Gaussian record cannot be stored: ${(err as Error).message}`, recordFault: true };
  }
  const warnings: string[] = [];
  const meta = modelMeta(input, warnings);
  return {
    ok: true,
    model: { meta, record, thumbs: input.thumbs },
    stats: { images: embs.length, epsilon: s.epsilon, kind, rank, thumbnails: meta.thumbnails.length },
    warnings,
  };
}
