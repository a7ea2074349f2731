/**
 * Stage 3 of a tiered (version 2) build, finalise: one model's embeddings → its record in
 * records.bin (src/core/index/tieredRecords.ts), its metadata and the report's numbers. Pure (no
 * I/O), like finalise.ts for version 1.
 *
 * The builder chooses the record kind per model from its number of valid images n and the
 * dimension d (docs/index-format.md, "Version 2"):
 * - n ≤ d: the exact low-rank Gaussian of Σ̂ + εI (rank ≤ n − 1, from the n × n Gram matrix:
 *   lowRankGaussian), record kind 1 — the same density as version 1's full triangle;
 * - n > d: PPCA of Σ̂ to rank R (`--ppca-rank`, at most d) plus the mean of the dropped eigenvalues
 *   as isotropic variance, record kind 2 — an approximation. When nothing is dropped (R = d, or
 *   the dropped eigenvalues are all zero) it is exact and recorded as kind 1.
 */
import type { ModelMeta } from '../../../src/core/index/manifest.ts';
import { lowRankGaussian, ppcaGaussian, type LowRankGaussian } from '../../../src/core/index/lowRankGaussian.ts';
import { MomentAccumulator } from '../../../src/core/index/modelStats.ts';
import { decodeRecord, encodeRecord, RecordKind, type BasisDtype } from '../../../src/core/index/tieredRecords.ts';
import { modelMeta, type ModelEmbeddings } from './finalise.ts';

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

interface TieredStats {
  images: number;
  epsilon: number;
  kind: RecordKindName;
  rank: number;
  thumbnails: number;
}

export type TieredFinalised =
  | { ok: true; model: TieredModel; stats: TieredStats; warnings: string[] }
  | { ok: false; reason: string };

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
  const { folder, embeddings: embs } = input;
  if (embs.length < 2) {
    return { ok: false, reason: `only ${embs.length} valid image(s) in "${folder.folder}" (at least 2 are needed for a covariance)` };
  }
  let record: Uint8Array;
  let kind: RecordKindName;
  let rank: number;
  try {
    const g = tieredGaussian(embs, s);
    record = encodeRecord(g, s.precision);
    const back = decodeRecord(record, s.dim, `model "${folder.id}"'s record`);
    kind = back.kind === RecordKind.ExactLowRank ? 'exact' : 'ppca';
    rank = back.rank;
  } catch (err) {
    const hint = s.precision === 'f16' ? ' (use --precision f32 or a larger --epsilon)' : '';
    return { ok: false, reason: `its Gaussian record cannot be stored: ${(err as Error).message}${hint}` };
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
