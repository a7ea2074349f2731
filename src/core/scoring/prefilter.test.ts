import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { gaussianProxyScores, int8CosineScores, quantiseMeansInt8, recallAtK, signAgreementScores, signCodes } from './prefilter.ts';

function randomRows(count: number, dim: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count * dim }, () => next() * 2 - 1);
}

describe('prefilters', () => {
  it('int8 means give the 1st-moment cosine to within the quantisation bound', () => {
    const dim = 64;
    const means = randomRows(50, dim, 1);
    means.fill(0, 10 * dim, 11 * dim); // a zero mean scores 0
    const q8 = quantiseMeansInt8(means, dim);
    const query = randomRows(1, dim, 2);
    const got = int8CosineScores(q8, query);
    let q1 = 0;
    for (const v of query) q1 += Math.abs(v);
    for (let m = 0; m < 50; m++) {
      let dot = 0;
      let nn = 0;
      for (let j = 0; j < dim; j++) {
        dot += means[m * dim + j]! * query[j]!;
        nn += means[m * dim + j]! ** 2;
      }
      const exact = nn > 0 ? dot / Math.sqrt(nn) : 0;
      // Each component is off by at most scale/2, so the dot by at most (scale/2)·‖q‖₁.
      const bound = nn > 0 ? (q8.scale[m]! / 2) * q1 / Math.sqrt(nn) + 1e-6 : 0;
      expect(Math.abs(got[m]! - exact), `model ${m}`).toBeLessThanOrEqual(bound);
    }
    expect(got[10]).toBe(0);
  });

  it('sign agreement counts agreeing signs exactly (any dim, padding bits excluded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (dim, count, seed) => {
        const rows = randomRows(count, dim, seed);
        const query = randomRows(1, dim, seed + 1);
        const got = signAgreementScores(signCodes(rows, dim), query);
        for (let m = 0; m < count; m++) {
          let agree = 0;
          for (let j = 0; j < dim; j++) if (rows[m * dim + j]! > 0 === query[j]! > 0) agree++;
          expect(got[m]).toBe(agree);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('the Gaussian proxy is −½h‖q − μ‖² − ½log|Σ\'| to within the int8 rounding of qᵀμ', () => {
    const dim = 32;
    const means = randomRows(20, dim, 4).map((v) => v / 8);
    const q8 = quantiseMeansInt8(means, dim);
    const precision = Float32Array.from({ length: 20 }, (_, i) => 10 + i);
    const logDet = Float32Array.from({ length: 20 }, (_, i) => -100 + 3 * i);
    const query = randomRows(1, dim, 5);
    const got = gaussianProxyScores(q8, precision, logDet, query);
    let q1 = 0;
    for (const v of query) q1 += Math.abs(v);
    for (let m = 0; m < 20; m++) {
      let dd = 0;
      for (let j = 0; j < dim; j++) dd += (query[j]! - means[m * dim + j]!) ** 2;
      const exact = -0.5 * precision[m]! * dd - 0.5 * logDet[m]!;
      expect(Math.abs(got[m]! - exact)).toBeLessThanOrEqual(precision[m]! * (q8.scale[m]! / 2) * q1 + 1e-3);
    }
    expect(() => gaussianProxyScores(q8, precision.subarray(1), logDet, query)).toThrow(/needs 20/);
  });

  it('recall@k', () => {
    expect(recallAtK([1, 2, 3, 4], [4, 9, 1, 7], 4)).toBe(0.5);
    expect(recallAtK([1, 2], [2, 1, 3], 2)).toBe(1);
    expect(recallAtK([], [1], 3)).toBe(1);
  });

  it('refuses mismatched dimensions and non-finite means', () => {
    expect(() => quantiseMeansInt8(new Float32Array(5), 2)).toThrow(/multiple of dim/);
    expect(() => quantiseMeansInt8(Float32Array.of(1, NaN), 2)).toThrow(/non-finite/);
    const q8 = quantiseMeansInt8(new Float32Array(4), 2);
    expect(() => int8CosineScores(q8, new Float32Array(3))).toThrow(/3 dimensions/);
    expect(() => signAgreementScores(signCodes(new Float32Array(4), 2), new Float32Array(3))).toThrow(/3 dimensions/);
  });
});
