import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { lowRankGaussian, lowRankLogDensity, lowRankMeanPrecision, lowRankRecordBytes, ppcaGaussian, structuredGaussian } from './lowRankGaussian.ts';
import { gaussianFactors, MomentAccumulator } from './modelStats.ts';
import { packedRowOffset } from '../math/linalg.ts';
import { inverse, Matrix } from 'ml-matrix';

interface Case {
  n: number;
  epsilon: number;
  samples: number[];
  queries: number[];
  exact: number[];
  ppca?: Record<string, number[]>;
}
const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/low-rank-gaussian.json', import.meta.url), 'utf8')) as { dim: number; cases: Case[] };
const DIM = fixture.dim;
const LOG_2PI = Math.log(2 * Math.PI);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

function queriesOf(c: Case): number[][] {
  return Array.from({ length: c.queries.length / DIM }, (_, i) => c.queries.slice(i * DIM, (i + 1) * DIM));
}

/** The index's full-triangle Gaussian density (modelStats' Cholesky path), in float64. */
function fullTriangle(samples: ArrayLike<number>, n: number, dim: number, epsilon: number): (q: number[]) => number {
  const acc = new MomentAccumulator(dim);
  for (let s = 0; s < n; s++) acc.add(Array.from({ length: dim }, (_, j) => samples[s * dim + j]!));
  const f = gaussianFactors(acc.mean(), acc.covariance(), epsilon, 0);
  return (q) => {
    let maha = 0;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += f.precision[packedRowOffset(i) + j]! * q[j]!;
      maha += (s - f.bias[i]!) ** 2;
    }
    return -0.5 * maha - 0.5 * f.logDet - 0.5 * dim * LOG_2PI;
  };
}

describe('low-rank Gaussian (Woodbury + determinant lemma)', () => {
  it('matches scipy.stats.multivariate_normal on Σ̂ + εI (n ≤ d and n > d)', () => {
    for (const c of fixture.cases) {
      const g = lowRankGaussian(c.samples, c.n, DIM, c.epsilon);
      expect(g.rank).toBeLessThanOrEqual(Math.min(c.n - 1, DIM));
      expect(g.exact).toBe(true);
      queriesOf(c).forEach((q, i) => expect(rel(lowRankLogDensity(g, q), c.exact[i]!), `n=${c.n} query ${i}`).toBeLessThan(1e-9));
    }
  });

  it('equals the full-triangle density the index stores today to ≤ 1e-4 relative (it is exact: ≤ 1e-8 here)', () => {
    for (const c of fixture.cases.filter((x) => x.n <= DIM)) {
      const g = lowRankGaussian(c.samples, c.n, DIM, c.epsilon);
      const full = fullTriangle(c.samples, c.n, DIM, c.epsilon);
      for (const q of queriesOf(c)) expect(rel(lowRankLogDensity(g, q), full(q))).toBeLessThan(1e-8);
    }
  });

  it('keeps rank n − 1 for n ≤ d samples in general position, so its bytes are (n)·d, not d(d+1)/2', () => {
    const c = fixture.cases.find((x) => x.n === 20)!;
    const g = lowRankGaussian(c.samples, c.n, DIM, c.epsilon);
    expect(g.rank).toBe(19);
    // At CLIP's d = 512 with 100 samples: ≈ 5× fewer bytes than the packed triangle (fp16 both).
    expect((512 * 513) / 2 / (lowRankRecordBytes(512, 99, 2) / 2)).toBeGreaterThan(2.5);
    expect(lowRankRecordBytes(512, 99, 2)).toBe(100 * 512 * 2 + 12);
  });

  it('PPCA: matches scipy on the truncated covariance, and with every direction kept it is the exact density', () => {
    const c = fixture.cases.find((x) => x.ppca)!;
    const acc = new MomentAccumulator(DIM);
    for (let s = 0; s < c.n; s++) acc.add(c.samples.slice(s * DIM, (s + 1) * DIM));
    const mean = acc.mean();
    const cov = acc.covariance();
    for (const [r, expected] of Object.entries(c.ppca!)) {
      const g = ppcaGaussian(mean, cov, Number(r), c.epsilon);
      expect(g.exact).toBe(false);
      expect(g.rank).toBe(Number(r));
      queriesOf(c).forEach((q, i) => expect(rel(lowRankLogDensity(g, q), expected[i]!), `r=${r} query ${i}`).toBeLessThan(1e-9));
    }
    const all = ppcaGaussian(mean, cov, DIM, c.epsilon);
    expect(all.exact).toBe(true);
    queriesOf(c).forEach((q, i) => expect(rel(lowRankLogDensity(all, q), c.exact[i]!)).toBeLessThan(1e-9));
  });

  it('PPCA with the harmonic residual keeps tr((Σ + εI)⁻¹) exact (the far-query term); the ML residual overstates the dropped variance', () => {
    const c = fixture.cases.find((x) => x.ppca)!;
    const acc = new MomentAccumulator(DIM);
    for (let s = 0; s < c.n; s++) acc.add(c.samples.slice(s * DIM, (s + 1) * DIM));
    const cov = acc.covariance();
    const full = new Matrix(DIM, DIM);
    for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) full.set(i, j, cov[i * DIM + j]! + (i === j ? c.epsilon : 0));
    const inv = inverse(full);
    let trace = 0;
    for (let i = 0; i < DIM; i++) trace += inv.get(i, i);
    for (const r of [1, 3, Math.floor(DIM / 2)]) {
      const harmonic = ppcaGaussian(acc.mean(), cov, r, c.epsilon, 'harmonic');
      const ml = ppcaGaussian(acc.mean(), cov, r, c.epsilon);
      expect(rel(lowRankMeanPrecision(harmonic) * DIM, trace), `r=${r}`).toBeLessThan(1e-9);
      expect(lowRankMeanPrecision(ml) * DIM).toBeLessThan(trace);
      expect(harmonic.isotropic).toBeLessThanOrEqual(ml.isotropic);
    }
  });

  it('property: for random samples (2 ≤ n ≤ d) and queries, low-rank = full triangle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(1e-3, 1e-2, 0.1), (dim, nRaw, seed, eps) => {
        const n = Math.min(nRaw, dim);
        const next = mulberry32(seed);
        const samples = Array.from({ length: n * dim }, () => next() * 2 - 1);
        const q = Array.from({ length: dim }, () => next() * 2 - 1);
        const g = lowRankGaussian(samples, n, dim, eps);
        expect(rel(lowRankLogDensity(g, q), fullTriangle(samples, n, dim, eps)(q))).toBeLessThan(1e-8);
      }),
      { numRuns: 200 },
    );
  });

  it('a covariance given as V diag(λ) Vᵀ + σ²I (orthonormal V) scores as the dense Gaussian', () => {
    const dim = 6;
    // Two orthonormal directions.
    const v1 = [1, 1, 0, 0, 0, 0].map((x) => x / Math.SQRT2);
    const v2 = [0, 0, 1, -1, 1, -1].map((x) => x / 2);
    const lambdas = [0.3, 0.05];
    const sigma2 = 0.002;
    const eps = 1e-3;
    const mean = Float64Array.from([0.2, -0.1, 0.3, 0, 0.1, 0.4]);
    const g = structuredGaussian(mean, [...v1, ...v2], lambdas, sigma2, eps);
    const cov = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i * dim + j] = lambdas[0]! * v1[i]! * v1[j]! + lambdas[1]! * v2[i]! * v2[j]! + (i === j ? sigma2 : 0);
    const f = gaussianFactors(mean, cov, eps, 0);
    const q = [0.5, 0.1, -0.2, 0.3, 0.6, 0.2];
    let maha = 0;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += f.precision[packedRowOffset(i) + j]! * q[j]!;
      maha += (s - f.bias[i]!) ** 2;
    }
    const dense = -0.5 * maha - 0.5 * f.logDet - 0.5 * dim * LOG_2PI;
    expect(rel(lowRankLogDensity(g, q), dense)).toBeLessThan(1e-10);
  });

  it('mean precision: 1/s − ‖B‖²_F/d equals tr((Σ̂ + εI)⁻¹)/d of the dense matrix', () => {
    const c = fixture.cases.find((x) => x.n === 20)!;
    const g = lowRankGaussian(c.samples, c.n, DIM, c.epsilon);
    const acc = new MomentAccumulator(DIM);
    for (let s = 0; s < c.n; s++) acc.add(c.samples.slice(s * DIM, (s + 1) * DIM));
    const f = gaussianFactors(acc.mean(), acc.covariance(), c.epsilon, 0);
    // tr(Σ'⁻¹) = tr(WᵀW) = ‖W‖²_F.
    let frob = 0;
    for (const w of f.precision) frob += w * w;
    expect(rel(lowRankMeanPrecision(g), frob / DIM)).toBeLessThan(1e-8);
  });

  it('identical samples give the isotropic Gaussian (rank 0), not a division by zero', () => {
    const x = [0.6, 0.8, 0, 0.6, 0.8, 0, 0.6, 0.8, 0];
    const g = lowRankGaussian(x, 3, 3, 0.01);
    expect(g.rank).toBe(0);
    const q = [0, 1, 0];
    const d2 = 0.36 + 0.04;
    expect(lowRankLogDensity(g, q)).toBeCloseTo(-0.5 * (d2 / 0.01) - 1.5 * Math.log(0.01) - 1.5 * LOG_2PI, 9);
  });

  it('refuses what it cannot represent, with a message', () => {
    expect(() => lowRankGaussian([1, 2, 3, 4], 2, 2, 0)).toThrow(/ε must be positive/);
    expect(() => lowRankGaussian([1, 2], 1, 2, 1e-3)).toThrow(/at least 2 samples/);
    expect(() => lowRankGaussian([1, 2, 3], 2, 2, 1e-3)).toThrow(/Expected 2 × 2/);
    expect(() => lowRankGaussian([1, NaN, 3, 4], 2, 2, 1e-3)).toThrow(/non-finite/);
    expect(() => ppcaGaussian(new Float64Array(2), new Float64Array(4), 3, 1e-3)).toThrow(/rank/);
    const g = lowRankGaussian([1, 0, 0, 1], 2, 2, 1e-3);
    expect(() => lowRankLogDensity(g, [1, 0, 0])).toThrow(/3 dimensions/);
  });
});
