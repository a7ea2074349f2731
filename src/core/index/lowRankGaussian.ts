import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * A model's Gaussian N(μ, Σ̂ + εI) stored as its mean and a low-rank factor (issue 15).
 *
 * With n samples and n ≤ d, the sample covariance Σ̂ has rank r ≤ n − 1, so Σ̂ = V Λ Vᵀ (V: d × r,
 * orthonormal) and, by Woodbury and the matrix determinant lemma,
 *
 *   (Σ̂ + εI)⁻¹ = I/ε − V diag(λ / (ε(ε + λ))) Vᵀ,      log|Σ̂ + εI| = d log ε + Σ log(1 + λ/ε).
 *
 * The record keeps B = diag(β) Vᵀ with β = √(λ / (ε(ε + λ))), so the Mahalanobis term is
 * ‖q − μ‖²/ε − ‖B(q − μ)‖²: O(d·r) time and bytes instead of the triangle's d(d+1)/2 — and exact.
 *
 * With n > d the same form holds a PPCA approximation (`ppcaGaussian`): the top r eigenpairs of Σ̂
 * and the mean of the rest, σ², folded into the isotropic part (ε + σ²). `exact` says which.
 */
/** What the density needs: a record as the index stores it (float32 or float64 arrays). */
export interface LowRankRecord {
  dim: number;
  mean: ArrayLike<number>;
  /** r, the number of rows of `basis`. */
  rank: number;
  /** B, [r, d] row-major: row k = β_k v_kᵀ. */
  basis: ArrayLike<number>;
  /** The isotropic variance: ε for an exact factor, ε + σ² for PPCA. */
  isotropic: number;
  /** log|Σ'| of the covariance the record stands for. */
  logDet: number;
}

export interface LowRankGaussian extends LowRankRecord {
  mean: Float64Array;
  basis: Float64Array;
  /** λ_k of Σ̂ (descending) that `basis` holds (PPCA: minus σ²). */
  eigenvalues: Float64Array;
  /** True when the record is exactly Σ̂ + εI (n ≤ d, or PPCA that kept every non-zero direction). */
  exact: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new Error(`${what} holds a non-finite value at ${i}.`);
}

/** β_k v_k rows from eigenpairs of the covariance, and the log-determinant of VΛVᵀ + sI. */
function record(dim: number, mean: Float64Array, vectors: Float64Array[], lambdas: number[], isotropic: number, exact: boolean): LowRankGaussian {
  const r = vectors.length;
  const basis = new Float64Array(r * dim);
  let logDet = dim * Math.log(isotropic);
  for (let k = 0; k < r; k++) {
    const l = lambdas[k]!;
    const beta = Math.sqrt(l / (isotropic * (isotropic + l)));
    const v = vectors[k]!;
    for (let j = 0; j < dim; j++) basis[k * dim + j] = beta * v[j]!;
    logDet += Math.log1p(l / isotropic);
  }
  return { dim, mean, rank: r, basis, isotropic, logDet, eigenvalues: Float64Array.from(lambdas), exact };
}

/**
 * The exact low-rank Gaussian of n samples ([n, dim] row-major), with the index's estimator: the
 * unbiased covariance (divides by n − 1) plus εI. Works through the n × n Gram matrix, so it costs
 * O(n²d + n³) and never forms a d × d matrix. Directions whose eigenvalue is rounding noise
 * (≤ 1e-12 of the largest, or of the samples' mean square) are dropped: they add nothing to Σ̂.
 */
export function lowRankGaussian(samples: ArrayLike<number>, n: number, dim: number, epsilon: number): LowRankGaussian {
  if (!(epsilon > 0)) throw new Error(`ε must be positive for a low-rank Gaussian (got ${epsilon}): Σ̂ alone is singular.`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`A covariance needs at least 2 samples, got ${n}.`);
  if (samples.length !== n * dim) throw new Error(`Expected ${n} × ${dim} = ${n * dim} sample values, got ${samples.length}.`);
  checkFinite(samples, 'The samples');
  const mean = new Float64Array(dim);
  for (let s = 0; s < n; s++) for (let j = 0; j < dim; j++) mean[j] += samples[s * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const centred = new Float64Array(n * dim);
  for (let s = 0; s < n; s++) for (let j = 0; j < dim; j++) centred[s * dim + j] = samples[s * dim + j]! - mean[j]!;
  // G = Xc Xcᵀ / (n − 1): the same non-zero eigenvalues as Σ̂ = Xcᵀ Xc / (n − 1).
  const gram = new Matrix(n, n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += centred[a * dim + j]! * centred[b * dim + j]!;
      gram.set(a, b, s / (n - 1));
      gram.set(b, a, s / (n - 1));
    }
  }
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  // Rounding noise is relative to the data's own scale, so identical samples give rank 0.
  let meanSquare = 0;
  for (let i = 0; i < n * dim; i++) meanSquare += samples[i]! * samples[i]!;
  meanSquare /= n * dim;
  const floor = 1e-12 * Math.max(values[order[0]!]!, meanSquare);
  const vectors: Float64Array[] = [];
  const lambdas: number[] = [];
  for (const i of order) {
    const l = values[i]!;
    if (!(l > floor)) break;
    // v = Xcᵀ u / √((n − 1) λ) is a unit eigenvector of Σ̂ for the Gram eigenvector u.
    const v = new Float64Array(dim);
    const scale = 1 / Math.sqrt((n - 1) * l);
    for (let s = 0; s < n; s++) {
      const u = evd.eigenvectorMatrix.get(s, i) * scale;
      if (u === 0) continue;
      for (let j = 0; j < dim; j++) v[j] += u * centred[s * dim + j]!;
    }
    vectors.push(v);
    lambdas.push(l);
  }
  return record(dim, mean, vectors, lambdas, epsilon, true);
}

/**
 * The Gaussian whose covariance is known as V diag(λ) Vᵀ + σ²I (orthonormal columns v_k, given as
 * [r, dim] rows), plus εI: the same record form, exact. The scale benchmark's models are made this
 * way, so their exact density is known without forming d × d matrices.
 */
export function structuredGaussian(mean: Float64Array, vectors: ArrayLike<number>, lambdas: ArrayLike<number>, sigma2: number, epsilon: number): LowRankGaussian {
  const dim = mean.length;
  const rows: Float64Array[] = [];
  for (let k = 0; k < lambdas.length; k++) rows.push(Float64Array.from({ length: dim }, (_, j) => vectors[k * dim + j]!));
  return record(dim, mean, rows, Array.from(lambdas), epsilon + sigma2, true);
}

/**
 * What stands for the eigenvalues e_i of Σ + εI that a PPCA record drops: their arithmetic mean
 * (Tipping & Bishop's maximum likelihood), or their harmonic mean, which keeps tr(Σ'⁻¹) exact: the
 * Mahalanobis term of a query far out in the dropped directions. The arithmetic mean overstates the
 * variance of most dropped directions, so such a model scores too high on far queries (text); on
 * bench:scale's zoo the harmonic residual lifts recall@10 at rank 64 from 0.942 to 0.952, and at
 * rank 128 to 0.964 on a spectrum that goes on past it (docs/benchmarks.md, "Scale").
 */
export type PpcaResidual = 'mean' | 'harmonic';

/**
 * PPCA of a dense covariance ([dim, dim]): the top `rank` eigenpairs, and one isotropic variance s
 * for the rest (`residual`, see PpcaResidual), ε included: Σ + εI ≈ V(Λ + εI − sI)Vᵀ + sI. With
 * 'mean' this is Tipping & Bishop's maximum-likelihood PPCA. Exact when the dropped eigenvalues are all zero.
 */
export function ppcaGaussian(mean: Float64Array, covariance: Float64Array, rank: number, epsilon: number, residual: PpcaResidual = 'mean'): LowRankGaussian {
  const dim = mean.length;
  if (!(epsilon > 0)) throw new Error(`ε must be positive for a low-rank Gaussian (got ${epsilon}).`);
  if (covariance.length !== dim * dim) throw new Error(`Expected a ${dim} × ${dim} covariance.`);
  if (!Number.isInteger(rank) || rank < 0 || rank > dim) throw new Error(`The rank must be an integer in 0…${dim}, got ${rank}.`);
  checkFinite(mean, 'The mean');
  checkFinite(covariance, 'The covariance');
  const m = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) m.set(i, j, 0.5 * (covariance[i * dim + j]! + covariance[j * dim + i]!));
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues.map((v) => Math.max(v, 0));
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const rest = order.slice(rank);
  // s: the isotropic variance of the record, ε included.
  const s = !rest.length ? epsilon
    : residual === 'harmonic' ? rest.length / rest.reduce((a, i) => a + 1 / (values[i]! + epsilon), 0)
    : epsilon + rest.reduce((a, i) => a + values[i]!, 0) / rest.length;
  const vectors: Float64Array[] = [];
  const lambdas: number[] = [];
  for (const i of order.slice(0, rank)) {
    const l = values[i]! + epsilon - s;
    if (!(l > 0)) break;
    const v = new Float64Array(dim);
    for (let j = 0; j < dim; j++) v[j] = evd.eigenvectorMatrix.get(j, i);
    vectors.push(v);
    lambdas.push(l);
  }
  const exact = rest.every((i) => values[i]! <= 1e-12 * (values[order[0]!] ?? 0));
  return record(dim, Float64Array.from(mean), vectors, lambdas, s, exact);
}

/** log N(q; μ, VΛVᵀ + sI) = −½(‖δ‖²/s − ‖Bδ‖²) − ½ log|Σ'| − (d/2) log 2π, δ = q − μ. */
export function lowRankLogDensity(g: LowRankRecord, query: ArrayLike<number>): number {
  const { dim, mean, basis, rank } = g;
  if (query.length !== dim) throw new Error(`The query has ${query.length} dimensions, the model ${dim}.`);
  const delta = new Float64Array(dim);
  let dd = 0;
  for (let j = 0; j < dim; j++) {
    delta[j] = query[j]! - mean[j]!;
    dd += delta[j]! * delta[j]!;
  }
  let projected = 0;
  for (let k = 0; k < rank; k++) {
    let s = 0;
    const row = k * dim;
    for (let j = 0; j < dim; j++) s += basis[row + j]! * delta[j]!;
    projected += s * s;
  }
  // ‖δ‖²/s − ‖Bδ‖² ≥ ‖δ‖²/(s + λ_max) > 0 exactly; rounding can only take it a hair below.
  const maha = Math.max(0, dd / g.isotropic - projected);
  return -0.5 * maha - 0.5 * g.logDet - 0.5 * dim * LOG_2PI;
}

/** Mean precision tr(Σ'⁻¹)/d of a record: 1/s − ‖B‖²_F/d (the Gaussian prefilter's h, scoring/prefilter.ts). */
export function lowRankMeanPrecision(g: LowRankRecord): number {
  let b2 = 0;
  for (let i = 0; i < g.rank * g.dim; i++) b2 += g.basis[i]! * g.basis[i]!;
  return 1 / g.isotropic - b2 / g.dim;
}

/** Bytes of the record in the tiered index (issue 15): B and μ at `bytesPerValue`, plus 3 float32 scalars. */
export function lowRankRecordBytes(dim: number, rank: number, bytesPerValue: number): number {
  return (rank + 1) * dim * bytesPerValue + 12;
}
