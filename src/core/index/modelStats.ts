import { choleskyInPlace, invertLowerTriangular, packLower } from '../math/linalg.ts';

/**
 * Streaming first and second moments of a model's sample embeddings, accumulated in float64.
 * Sums (not Welford) are fine here: embeddings are unit vectors, so no catastrophic growth.
 */
export class MomentAccumulator {
  readonly dim: number;
  count = 0;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array; // upper triangle used, Σ x xᵀ

  constructor(dim: number) {
    this.dim = dim;
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  add(x: ArrayLike<number>): void {
    const d = this.dim;
    if (x.length !== d) throw new Error(`Embedding has ${x.length} dimensions, expected ${d}.`);
    this.count++;
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      this.sum[i] += xi;
      const row = i * d;
      for (let j = i; j < d; j++) this.outer[row + j] += xi * x[j];
    }
  }

  mean(): Float64Array {
    if (this.count === 0) throw new Error('The mean needs at least 1 sample.');
    const m = new Float64Array(this.dim);
    for (let i = 0; i < this.dim; i++) m[i] = this.sum[i] / this.count;
    return m;
  }

  /** Unbiased sample covariance (divides by N − 1), dense and symmetric. */
  covariance(): Float64Array {
    const d = this.dim;
    const n = this.count;
    if (n < 2) throw new Error('The covariance needs at least 2 samples.');
    const mean = this.mean();
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = (this.outer[i * d + j] - n * mean[i] * mean[j]) / (n - 1);
        cov[i * d + j] = v;
        cov[j * d + i] = v;
      }
    }
    return cov;
  }
}

export interface GaussianFactors {
  mean: Float64Array;
  /** Packed lower triangle of W = L⁻¹ where Σ + εI = L Lᵀ (the precision Cholesky factor). */
  precision: Float64Array;
  /**
   * b = W μ of the unrounded factor. The index does not store this one: writeIndex derives b and
   * the log-determinant from W and μ as stored (fp16 or f32), see gaussianTerms in indexFormat.ts.
   */
  bias: Float64Array;
  /** log |Σ + εI| of the unrounded factor (likewise re-derived by the writer). */
  logDet: number;
  /** The ε actually used: the requested one, raised geometrically if Cholesky failed. */
  epsilon: number;
  /** How many times ε had to be raised. */
  jitterSteps: number;
}

/** Rounding allowed above the exact bound |W_ij| ≤ 1/√ε (the reader allows 1 %). */
const FACTOR_BOUND_SLACK = 1 + 1e-3;

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Σ' = Σ + εI → Cholesky L → W = L⁻¹, b = Wμ, log|Σ'| = 2 Σ log L_ii. If Σ' is not numerically
 * positive definite (or the factor breaks |W_ij| ≤ 1/√ε, the sign of pivots lost in rounding), ε is
 * multiplied by 10 (up to `maxSteps` times) and the caller is told.
 */
export function gaussianFactors(mean: Float64Array, covariance: Float64Array, epsilon: number, maxSteps = 8): GaussianFactors {
  const d = mean.length;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += covariance[i * d + i];
  // With ε = 0 requested, jitter starts from a tiny, scale-aware amount instead of staying at 0.
  const floor = 1e-10 * Math.max(trace / d, 1e-300);
  let eps = epsilon;
  for (let step = 0; step <= maxSteps; step++, eps = eps > 0 ? eps * 10 : floor) {
    const a = Float64Array.from(covariance);
    for (let i = 0; i < d; i++) a[i * d + i] += eps;
    if (!choleskyInPlace(a, d)) continue;
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(a[i * d + i]);
    const w = invertLowerTriangular(a, d);
    // Exactly, W (Σ + εI) Wᵀ = I bounds every |W_ij| by 1/√ε. A larger entry means a pivot was
    // lost in rounding (ε far below Σ's round-off) and the factor is noise — which the index
    // reader refuses — so ε is raised as for a failed Cholesky.
    if (eps > 0 && maxAbs(w) > FACTOR_BOUND_SLACK / Math.sqrt(eps)) continue;
    const bias = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += w[i * d + j] * mean[j];
      bias[i] = s;
    }
    return { mean, precision: packLower(w, d), bias, logDet, epsilon: eps, jitterSteps: step };
  }
  throw new Error(`The covariance is not positive definite even after raising ε ${maxSteps} times.`);
}
