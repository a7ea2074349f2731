import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packedRowOffset, packedSize } from '../math/linalg.ts';
import { mulberry32 } from '../math/prng.ts';
import { MomentAccumulator, gaussianFactors } from './modelStats.ts';

// The rank-deficient sample set comes from tools/reference/make_method_fixtures.py.
const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/methods-cases.json', import.meta.url), 'utf8')) as {
  configs: { dim: number; degenerate: number[]; samples: string[]; rank: number[] }[];
};

function f32FromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Dense W from a packed lower triangle. */
function unpack(p: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) w[i * n + j] = p[packedRowOffset(i) + j];
  return w;
}

/** (WᵀW)⁻¹ = W⁻¹W⁻ᵀ, i.e. the matrix the factor was built from, via L = W⁻¹ (forward solves). */
function reconstruct(p: Float64Array, n: number): Float64Array {
  const w = unpack(p, n);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    l[j * n + j] = 1 / w[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += w[i * n + k] * l[k * n + j];
      l[i * n + j] = -s / w[i * n + i];
    }
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
      a[i * n + j] = s;
    }
  return a;
}

function outer(v: number[], scale = 1): Float64Array {
  const n = v.length;
  return Float64Array.from({ length: n * n }, (_, k) => scale * v[Math.floor(k / n)] * v[k % n]);
}

function expectFactorOf(f: ReturnType<typeof gaussianFactors>, cov: Float64Array, relTol: number): void {
  const n = f.mean.length;
  const a = reconstruct(f.precision, n);
  let scale = 0;
  for (const v of cov) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const want = cov[i * n + j] + (i === j ? f.epsilon : 0);
      expect(Math.abs(a[i * n + j] - want), `(${i}, ${j})`).toBeLessThanOrEqual(relTol * (scale + f.epsilon));
    }
  // log|Σ'| = −2 Σ log W_ii, and b = W μ.
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet -= 2 * Math.log(f.precision[packedRowOffset(i) + i]);
  expect(f.logDet).toBeCloseTo(logDet, 10);
  const w = unpack(f.precision, n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += w[i * n + j] * f.mean[j];
    expect(f.bias[i]).toBeCloseTo(s, 12);
  }
}

describe('MomentAccumulator', () => {
  it('computes the mean and the unbiased covariance (small exact case)', () => {
    const acc = new MomentAccumulator(2);
    expect(acc.dim).toBe(2);
    acc.add([1, 2]);
    acc.add(Float32Array.of(3, 4));
    acc.add(Float64Array.of(5, 0));
    expect(acc.count).toBe(3);
    expect(Array.from(acc.mean())).toEqual([3, 2]);
    expect(Array.from(acc.covariance())).toEqual([4, -2, -2, 4]);
  });

  it('two samples give a rank-1 covariance divided by N − 1 = 1', () => {
    const acc = new MomentAccumulator(3);
    acc.add([1, 0, 0]);
    acc.add([0, 1, 0]);
    const c = acc.covariance();
    expect(Array.from(c)).toEqual([0.5, -0.5, 0, -0.5, 0.5, 0, 0, 0, 0]);
  });

  it('returns fresh arrays (callers may mutate them)', () => {
    const acc = new MomentAccumulator(2);
    acc.add([1, 1]);
    acc.add([3, 5]);
    const m = acc.mean();
    m[0] = 99;
    expect(acc.mean()[0]).toBe(2);
    const c = acc.covariance();
    c[0] = 99;
    expect(acc.covariance()[0]).toBe(2);
  });

  it('rejects an embedding of the wrong length without counting it', () => {
    const acc = new MomentAccumulator(4);
    expect(() => acc.add([1, 2, 3])).toThrow(/Embedding has 3 dimensions, expected 4/);
    expect(() => acc.add(new Float32Array(5))).toThrow(/has 5 dimensions, expected 4/);
    expect(() => acc.add([])).toThrow(/has 0 dimensions/);
    expect(acc.count).toBe(0);
  });

  it('needs at least 1 sample for the mean (no 0/0 = NaN mean)', () => {
    const acc = new MomentAccumulator(3);
    expect(() => acc.mean()).toThrow(/The mean needs at least 1 sample/);
    // A rejected embedding does not count.
    expect(() => acc.add([1, 2])).toThrow(/dimensions/);
    expect(() => acc.mean()).toThrow(/at least 1 sample/);
    acc.add([0.5, -1, 2]);
    expect(Array.from(acc.mean())).toEqual([0.5, -1, 2]);
    expect(() => new MomentAccumulator(0).mean()).toThrow(/at least 1 sample/);
  });

  it('needs at least 2 samples for the covariance', () => {
    const acc = new MomentAccumulator(3);
    expect(() => acc.covariance()).toThrow(/at least 2 samples/);
    acc.add([1, 2, 3]);
    expect(() => acc.covariance()).toThrow(/at least 2 samples/);
    expect(Array.from(acc.mean())).toEqual([1, 2, 3]);
    acc.add([1, 2, 3]);
    expect(Array.from(acc.covariance())).toEqual(new Array(9).fill(0));
  });
});

describe('gaussianFactors', () => {
  it('factors a small SPD matrix exactly: W = L⁻¹, b = Wμ, log|Σ|', () => {
    const mean = Float64Array.of(1, -2);
    const f = gaussianFactors(mean, Float64Array.of(4, 2, 2, 3), 0);
    expect(f.jitterSteps).toBe(0);
    expect(f.epsilon).toBe(0);
    expect(f.mean).toBe(mean);
    expect(f.precision).toHaveLength(packedSize(2));
    // L = [[2, 0], [1, √2]] → W = [[1/2, 0], [−1/(2√2), 1/√2]]
    expect(f.precision[0]).toBe(0.5);
    expect(f.precision[1]).toBeCloseTo(-1 / (2 * Math.SQRT2), 15);
    expect(f.precision[2]).toBeCloseTo(1 / Math.SQRT2, 15);
    expect(f.bias[0]).toBeCloseTo(0.5, 15);
    expect(f.bias[1]).toBeCloseTo(-1 / (2 * Math.SQRT2) - 2 / Math.SQRT2, 15);
    expect(f.logDet).toBeCloseTo(Math.log(8), 14);
  });

  it('adds ε to the diagonal only, and does not modify the covariance', () => {
    const cov = Float64Array.of(4, 2, 2, 3);
    const f = gaussianFactors(Float64Array.of(0, 0), cov, 0.5);
    expect(Array.from(cov)).toEqual([4, 2, 2, 3]);
    expect(f.epsilon).toBe(0.5);
    expect(f.logDet).toBeCloseTo(Math.log(4.5 * 3.5 - 4), 14);
    expectFactorOf(f, cov, 1e-14);
  });

  it('raises ε ×10 per failed Cholesky and reports it (indefinite by rounding)', () => {
    // Eigenvalues ≈ 2 and −5e-10: ε = 1e-12, 1e-11, 1e-10 fail; 1e-9 succeeds.
    const cov = Float64Array.of(1, 1, 1, 1 - 1e-9);
    const f = gaussianFactors(Float64Array.of(0.1, 0.2), cov, 1e-12);
    expect(f.jitterSteps).toBe(3);
    expect(f.epsilon).toBeCloseTo(1e-9, 20);
    expect(Number.isFinite(f.logDet)).toBe(true);
    expectFactorOf(f, cov, 1e-12);
  });

  it('raises ε for a rank-deficient covariance when the requested ε drowns in rounding', () => {
    // 1e8·v vᵀ is singular; ε = 1e-12 is far below its rounding error (ulp(1e8) ≈ 1.5e-8).
    const cov = outer([1, 2, 3], 1e8);
    const f = gaussianFactors(Float64Array.of(0, 0, 0), cov, 1e-12);
    expect(f.jitterSteps).toBeGreaterThan(0);
    expect(f.epsilon / (1e-12 * 10 ** f.jitterSteps)).toBeCloseTo(1, 12);
    expectFactorOf(f, cov, 1e-12);
  });

  // With ε = 0 the jitter used to stay at 0 (0 × 10 = 0), so every retry repeated the failed
  // factorisation. It now starts from 1e-10 · trace(Σ)/d and grows ×10 from there.
  it('raises ε from 0 for a rank-deficient covariance (ε = 0 requested), starting at 1e-10·trace/d', () => {
    const cov = outer([1, 2, 3]); // trace 14, d = 3
    const f = gaussianFactors(Float64Array.of(0, 0, 0), cov, 0);
    expect(f.jitterSteps).toBeGreaterThan(0);
    expect(f.epsilon).toBeGreaterThan(0);
    // Step 1 tries the floor, each later step ×10.
    const floor = (1e-10 * 14) / 3;
    expect(f.epsilon / (floor * 10 ** (f.jitterSteps - 1))).toBeCloseTo(1, 12);
    expectFactorOf(f, cov, 1e-9);
    // The floor scales with the covariance.
    const big = gaussianFactors(Float64Array.of(0, 0, 0), outer([1, 2, 3], 1e6), 0);
    expect(big.jitterSteps).toBe(f.jitterSteps);
    expect(big.epsilon / f.epsilon).toBeCloseTo(1e6, 6);
  });

  it('raises ε when Cholesky "succeeds" on pivots lost in rounding: every |W_ij| stays within 1/√ε', () => {
    // 3 unit vectors in 32-d: Σ has rank 2, and ε = 1e-20 is far below its round-off, so the
    // factorisation can complete on noise pivots, giving a W that W Σ′ Wᵀ = I rules out.
    for (let seed = 1; seed <= 10; seed++) {
      const rand = mulberry32(seed);
      const acc = new MomentAccumulator(32);
      for (let k = 0; k < 3; k++) {
        const v = Array.from({ length: 32 }, () => rand() - 0.5);
        const n = Math.hypot(...v);
        acc.add(v.map((x) => x / n));
      }
      const f = gaussianFactors(acc.mean(), acc.covariance(), 1e-20);
      expect(f.jitterSteps).toBeGreaterThan(0);
      expect(Math.max(...f.precision.map(Math.abs)) * Math.sqrt(f.epsilon)).toBeLessThanOrEqual(1 + 1e-3);
    }
  });

  it('with ε = 0 keeps ε = 0 when the covariance is positive definite', () => {
    const f = gaussianFactors(Float64Array.of(0, 0), Float64Array.of(2, 1, 1, 2), 0);
    expect(f.jitterSteps).toBe(0);
    expect(f.epsilon).toBe(0);
  });

  it('with ε = 0 and an all-zero covariance jitters from the absolute floor 1e-10·1e-300', () => {
    const cov = new Float64Array(4);
    const f = gaussianFactors(Float64Array.of(0.5, 0.5), cov, 0);
    expect(f.jitterSteps).toBe(1);
    expect(f.epsilon).toBe(1e-10 * 1e-300);
    expect(f.precision.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(f.logDet)).toBe(true);
  });

  it('jitters the rank-deficient covariance of samples on a 4-dim subspace (fixture) when ε is tiny', () => {
    for (const cfg of fixture.configs) {
      for (const m of cfg.degenerate) {
        const d = cfg.dim;
        const x = f32FromBase64(cfg.samples[m]);
        const acc = new MomentAccumulator(d);
        for (let i = 0; i < x.length / d; i++) acc.add(x.subarray(i * d, (i + 1) * d));
        expect(acc.count).toBeGreaterThan(d);
        expect(cfg.rank[m]).toBeLessThanOrEqual(4);
        const cov = acc.covariance();
        // With the default ε = 1e-3 it factors directly.
        const ok = gaussianFactors(acc.mean(), cov, 1e-3);
        expect(ok.jitterSteps).toBe(0);
        expectFactorOf(ok, cov, 1e-12);
        // With ε far below the covariance's rounding noise (~1e-18 here) it must jitter, and say
        // so — past the ε where Cholesky first completes on noise pivots (1e-16 for d = 64).
        const f = gaussianFactors(acc.mean(), cov, 1e-22);
        expect(f.jitterSteps, `d = ${d}`).toBeGreaterThan(0);
        expect(f.epsilon / (1e-22 * 10 ** f.jitterSteps)).toBeCloseTo(1, 10);
        expect(f.precision.every(Number.isFinite)).toBe(true);
        expect(Number.isFinite(f.logDet)).toBe(true);
        expectFactorOf(f, cov, 1e-6);
      }
    }
  });

  it('throws after maxSteps when even the largest ε fails', () => {
    // Eigenvalues 4 and −2: needs ε > 2 (1e-3 · 10⁴ = 10 is the first that works).
    const cov = Float64Array.of(1, 3, 3, 1);
    for (const maxSteps of [0, 2, 3]) {
      expect(() => gaussianFactors(Float64Array.of(0, 0), cov, 1e-3, maxSteps)).toThrow(
        `The covariance is not positive definite even after raising ε ${maxSteps} times.`,
      );
    }
    // Exactly enough steps succeed.
    expect(gaussianFactors(Float64Array.of(0, 0), cov, 1e-3, 4).jitterSteps).toBe(4);
    const f = gaussianFactors(Float64Array.of(0, 0), cov, 1e-3);
    expect(f.jitterSteps).toBe(4);
    expect(f.epsilon).toBeCloseTo(10, 10);
    expect(() => gaussianFactors(Float64Array.of(0, 0), Float64Array.of(1, NaN, NaN, 1), 1e-3)).toThrow(
      'The covariance is not positive definite even after raising ε 8 times.',
    );
    // With ε = 0 too (the floor is NaN for a NaN trace, so nothing can help).
    expect(() => gaussianFactors(Float64Array.of(0, 0), Float64Array.of(NaN, 0, 0, 1), 0)).toThrow(/even after raising ε 8 times/);
  });
});
