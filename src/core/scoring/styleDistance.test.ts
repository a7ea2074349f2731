import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { CLEANSING_MSE_THRESHOLD, cleansingMask, projectFeatures, styleDistanceScores } from './styleDistance.ts';

/** Seeded floats in [-1, 1). */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

const randArray = (n: number, rand: () => number) => Float32Array.from({ length: n }, rand);

/** Direct float64 reference: nested arrays, matrix product written out, mean over kept pairs. */
function reference(q: number[], refs: number[][][], keep: number[][], P?: number[][]): number[] {
  const f = (x: number[]) => (P ? P.map((row) => row.reduce((s, p, j) => s + p * x[j], 0)) : x);
  const fq = f(q);
  return refs.map((model, m) => {
    const dists = model.filter((_, s) => keep[m][s] === 1).map((x) => Math.sqrt(f(x).reduce((s, v, i) => s + (fq[i] - v) ** 2, 0)));
    return dists.length ? -dists.reduce((a, b) => a + b, 0) / dists.length : -Infinity;
  });
}

function nest(flat: Float32Array, M: number, S: number, D: number): number[][][] {
  return Array.from({ length: M }, (_, m) => Array.from({ length: S }, (_, s) => Array.from(flat.subarray((m * S + s) * D, (m * S + s + 1) * D))));
}

describe('cleansingMask', () => {
  it('drops pairs with MSE below 0.01 (the seed rule) and keeps the rest', () => {
    const mse = Float32Array.from([0, 0.0099, 0.01, 0.2, NaN, Infinity, -1]);
    expect(CLEANSING_MSE_THRESHOLD).toBe(0.01);
    expect(Array.from(cleansingMask(mse))).toEqual([0, 0, 1, 1, 0, 0, 0]);
    expect(Array.from(cleansingMask(mse, 0.1))).toEqual([0, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(cleansingMask(mse, 0))).toEqual([1, 1, 1, 1, 0, 0, 0]);
  });
  it('refuses a bad threshold', () => {
    expect(() => cleansingMask(new Float32Array(2), NaN)).toThrow();
    expect(() => cleansingMask(new Float32Array(2), -1)).toThrow();
  });
});

describe('styleDistanceScores', () => {
  const M = 5, S = 7, D = 6;
  const rand = rng(42);
  const refs = randArray(M * S * D, rand);
  const q = randArray(D, rand);
  const keepAll = new Uint8Array(M * S).fill(1);

  it('matches the direct computation with plain features', () => {
    const got = styleDistanceScores(q, refs, keepAll, D, S);
    const want = reference(Array.from(q), nest(refs, M, S, D), Array.from({ length: M }, () => Array(S).fill(1)));
    expect(got.length).toBe(M);
    got.forEach((v, m) => expect(v).toBeCloseTo(want[m], 5));
  });

  it('matches the direct computation with a projection (square and rectangular)', () => {
    for (const P of [D, 3]) {
      const proj = randArray(P * D, rand);
      const Pn = Array.from({ length: P }, (_, i) => Array.from(proj.subarray(i * D, (i + 1) * D)));
      const got = styleDistanceScores(q, refs, keepAll, D, S, proj);
      const want = reference(Array.from(q), nest(refs, M, S, D), Array.from({ length: M }, () => Array(S).fill(1)), Pn);
      got.forEach((v, m) => expect(v).toBeCloseTo(want[m], 4));
    }
  });

  it('averages only over kept pairs, from the cleansing mask', () => {
    const mse = Float32Array.from({ length: M * S }, (_, i) => ((i * 37) % 11) / 100); // 0 … 0.10
    const keep = cleansingMask(mse);
    const keepNested = Array.from({ length: M }, (_, m) => Array.from(keep.subarray(m * S, (m + 1) * S)));
    expect(keep.some((k) => k === 0)).toBe(true);
    const got = styleDistanceScores(q, refs, keep, D, S);
    const want = reference(Array.from(q), nest(refs, M, S, D), keepNested);
    got.forEach((v, m) => expect(v).toBeCloseTo(want[m], 5));
    // A dropped pair does not influence the score at all.
    const moved = refs.slice();
    const dropped = keep.indexOf(0);
    for (let j = 0; j < D; j++) moved[dropped * D + j] = 1e6;
    expect(Array.from(styleDistanceScores(q, moved, keep, D, S))).toEqual(Array.from(got));
  });

  it('scores an all-dropped model −Infinity (not NaN) and ranks it last', () => {
    const keep = keepAll.slice();
    keep.fill(0, 2 * S, 3 * S); // model 2 dropped entirely
    const proj = randArray(D * D, rand);
    for (const scores of [styleDistanceScores(q, refs, keep, D, S), styleDistanceScores(q, refs, keep, D, S, proj)]) {
      expect(scores[2]).toBe(-Infinity);
      expect(scores.some((v) => Number.isNaN(v))).toBe(false);
      for (let m = 0; m < M; m++) if (m !== 2) expect(scores[m]).toBeGreaterThan(scores[2]);
    }
  });

  it('is 0 for a query equal to every kept reference, and −‖q − r‖ for a single pair', () => {
    const r = randArray(D, rand);
    const same = new Float32Array(S * D);
    for (let s = 0; s < S; s++) same.set(r, s * D);
    expect(Math.abs(styleDistanceScores(r, same, new Uint8Array(S).fill(1), D, S)[0])).toBe(0);
    const one = styleDistanceScores(q, r, new Uint8Array([1]), D, 1)[0];
    expect(one).toBeCloseTo(-Math.hypot(...Array.from(q, (v, i) => v - r[i])), 5);
  });

  it('rejects inconsistent shapes', () => {
    expect(() => styleDistanceScores(q.subarray(1), refs, keepAll, D, S)).toThrow();
    expect(() => styleDistanceScores(q, refs.subarray(1), keepAll, D, S)).toThrow();
    expect(() => styleDistanceScores(q, refs, keepAll, D, 4)).toThrow();
    expect(() => styleDistanceScores(q, refs, keepAll, D, S, new Float32Array(D + 1))).toThrow();
  });
});

describe('projectFeatures', () => {
  it('computes P·x row by row', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 rows of 3
    const P = Float32Array.from([1, 0, 0, 0, 1, 1]); // 2 × 3
    expect(Array.from(projectFeatures(x, 2, 3, P))).toEqual([1, 5, 4, 11]);
  });
});
