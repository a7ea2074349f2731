import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { firstMomentScores } from './methods.ts';
import { topK, type Ranked } from './topK.ts';
import { l2normalize, rowNorms } from '../math/vectors.ts';
import { mulberry32 as rng } from '../math/prng.ts';

// Expectations come from tools/reference/make_scoring_fixtures.py (numpy, float64).
// Regenerate with: /usr/bin/python3 tools/reference/make_scoring_fixtures.py
interface FixtureQuery {
  query: number[];
  scores: number[];
  top10: number[];
}
interface FixtureCase {
  name: string;
  dim: number;
  count: number;
  zeroRow: number;
  tinyRows: number[];
  duplicateRows: [number, number][];
  means: number[];
  queries: FixtureQuery[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/first-moment-cases.json', import.meta.url), 'utf8'),
) as { cases: FixtureCase[] };

/** Reference ranking: stable sort by score descending, ties by lower index. */
function bruteTopK(scores: ArrayLike<number>, k: number): Ranked[] {
  return Array.from(scores, (score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, Math.max(0, k));
}

describe('fixture sanity', () => {
  it('has the cases the generator promises', () => {
    expect(fixture.cases.map((c) => [c.dim, c.count])).toEqual([
      [8, 5],
      [32, 50],
      [32, 300],
      [512, 50],
    ]);
    for (const c of fixture.cases) {
      expect(c.means).toHaveLength(c.dim * c.count);
      for (const q of c.queries) {
        expect(q.query).toHaveLength(c.dim);
        expect(q.scores).toHaveLength(c.count);
        expect(q.top10).toHaveLength(Math.min(10, c.count));
      }
    }
  });
});

describe.each(fixture.cases)('firstMomentScores vs numpy: $name', (c) => {
  const means = Float32Array.from(c.means);
  const norms = rowNorms(means, c.count, c.dim);

  it('rowNorms matches float64 norms of the stored float32 means', () => {
    for (let m = 0; m < c.count; m++) {
      let s = 0;
      for (let j = 0; j < c.dim; j++) s += means[m * c.dim + j] ** 2;
      const expected = Math.sqrt(s);
      expect(Math.abs(norms[m] - expected)).toBeLessThanOrEqual(expected * 1e-6);
    }
    expect(norms[c.zeroRow]).toBe(0);
    for (const r of c.tinyRows) {
      expect(norms[r]).toBeGreaterThan(0);
      expect(norms[r]).toBeLessThan(1e-5);
    }
  });

  it.each(c.queries.map((q, i) => ({ label: String(i), q })))('query $label: scores within 1e-5 and top-10 matches', ({ q }) => {
    const query = Float32Array.from(q.query);
    const scores = firstMomentScores(means, norms, c.dim, query);
    expect(scores).toBeInstanceOf(Float32Array);
    expect(scores).toHaveLength(c.count);
    let maxErr = 0;
    for (let m = 0; m < c.count; m++) {
      expect(Number.isNaN(scores[m])).toBe(false);
      maxErr = Math.max(maxErr, Math.abs(scores[m] - q.scores[m]));
    }
    expect(maxErr).toBeLessThanOrEqual(1e-5);
    // A zero mean scores exactly 0, never NaN.
    expect(scores[c.zeroRow]).toBe(0);
    // Tiny means are scored by direction, like any other.
    for (const r of c.tinyRows) expect(Math.abs(scores[r] - q.scores[r])).toBeLessThanOrEqual(1e-5);
    for (const [a, b] of c.duplicateRows) expect(scores[a]).toBe(scores[b]);

    const top = topK(scores, 10);
    expect(top.map((r) => r.index)).toEqual(q.top10);
    for (const r of top) expect(r.score).toBe(scores[r.index]);
  });
});

describe('firstMomentScores', () => {
  it('computes cos(q, mu/|mu|) on a hand-checked example', () => {
    // rows: (3,4) → cos with (1,0) = 0.6; (0,-2) → 0; (-1,0) → -1; (0,0) → 0.
    const means = Float32Array.from([3, 4, 0, -2, -1, 0, 0, 0]);
    const norms = rowNorms(means, 4, 2);
    const s = firstMomentScores(means, norms, 2, Float32Array.from([1, 0]));
    expect(Array.from(s)).toEqual([Math.fround(0.6), 0, -1, 0]);
  });

  it('is invariant to the scale of each mean', () => {
    const r = rng(7);
    const dim = 16;
    const count = 20;
    const means = Float32Array.from({ length: dim * count }, () => r() - 0.5);
    const scaled = means.map((v, i) => v * (i < dim * 10 ? 1e-4 : 37));
    const q = l2normalize(Float32Array.from({ length: dim }, () => r() - 0.5));
    const a = firstMomentScores(means, rowNorms(means, count, dim), dim, q);
    const b = firstMomentScores(scaled, rowNorms(scaled, count, dim), dim, q);
    for (let m = 0; m < count; m++) expect(Math.abs(a[m] - b[m])).toBeLessThan(1e-5);
  });

  it('gives 0 (not NaN) for a zero query and for zero means', () => {
    const means = Float32Array.from([1, 2, 0, 0]);
    const s = firstMomentScores(means, rowNorms(means, 2, 2), 2, new Float32Array(2));
    expect(Array.from(s)).toEqual([0, 0]);
  });

  it('takes the model count from norms, so a shorter norms array scores fewer rows', () => {
    const means = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const s = firstMomentScores(means, rowNorms(means, 2, 2), 2, Float32Array.from([0, 1]));
    expect(Array.from(s)).toEqual([0, 1]);
  });
});

describe('topK', () => {
  const s = Float32Array.from([0.1, 0.9, -0.5, 0.9, 0.3]);

  it('returns the best k, highest first', () => {
    expect(topK(s, 3)).toEqual([
      { index: 1, score: Math.fround(0.9) },
      { index: 3, score: Math.fround(0.9) },
      { index: 4, score: Math.fround(0.3) },
    ]);
  });

  it('returns [] for k = 0, negative k and empty input', () => {
    expect(topK(s, 0)).toEqual([]);
    expect(topK(s, -3)).toEqual([]);
    expect(topK(new Float32Array(0), 5)).toEqual([]);
  });

  it('returns every item, sorted, when k exceeds the count', () => {
    expect(topK(s, 100).map((r) => r.index)).toEqual([1, 3, 4, 0, 2]);
    expect(topK(s, s.length).map((r) => r.index)).toEqual([1, 3, 4, 0, 2]);
  });

  it('keeps index order among ties, including ties cut at the k boundary', () => {
    const flat = new Float32Array(50).fill(0.25);
    expect(topK(flat, 7).map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const t = Float32Array.from([2, 5, 2, 5, 2, 5, 2]);
    expect(topK(t, 2).map((r) => r.index)).toEqual([1, 3]);
    expect(topK(t, 4).map((r) => r.index)).toEqual([1, 3, 5, 0]);
    expect(topK(t, 5).map((r) => r.index)).toEqual([1, 3, 5, 0, 2]);
  });

  it('ranks all-negative scores correctly', () => {
    const neg = Float32Array.from([-0.7, -0.2, -0.9, -0.2, -0.1]);
    expect(topK(neg, 3)).toEqual([
      { index: 4, score: Math.fround(-0.1) },
      { index: 1, score: Math.fround(-0.2) },
      { index: 3, score: Math.fround(-0.2) },
    ]);
  });

  it('handles ±Infinity and treats -0 and 0 as a tie', () => {
    const v = Float32Array.from([0, -Infinity, -0, Infinity, 1]);
    expect(topK(v, 5).map((r) => r.index)).toEqual([3, 4, 0, 2, 1]);
  });

  it('matches a stable brute-force sort on random inputs with many ties', () => {
    const r = rng(12345);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 120);
      // Few distinct values → many ties; half the trials use a continuous spread.
      const scores =
        trial % 2 === 0
          ? Float32Array.from({ length: n }, () => Math.floor(r() * 5) - 2)
          : Float32Array.from({ length: n }, () => r() * 2 - 1);
      const k = Math.floor(r() * (n + 3));
      const got = topK(scores, k);
      expect(got).toEqual(bruteTopK(scores, k));
      for (const item of got) expect(Number.isNaN(item.score)).toBe(false);
    }
  });

  it('does not modify the scores', () => {
    const copy = s.slice();
    topK(s, 2);
    expect(s).toEqual(copy);
  });
});

describe('rowNorms', () => {
  it('computes the Euclidean norm of each row', () => {
    const rows = Float32Array.from([3, 4, 0, 0, 0, 0, -1, -2, 2, 1, 0, 0]);
    // Row length 3: (3,4,0) → 5, (0,0,0) → 0, (-1,-2,2) → 3, (1,0,0) → 1.
    expect(Array.from(rowNorms(rows, 4, 3))).toEqual([5, 0, 3, 1]);
  });

  it('only reads count × dim values and works on a subarray view', () => {
    const backing = Float32Array.from([99, 99, 6, 8, 5, 12, 99]);
    const view = backing.subarray(2, 6);
    expect(Array.from(rowNorms(view, 2, 2))).toEqual([10, 13]);
    expect(Array.from(rowNorms(backing.subarray(2), 1, 2))).toEqual([10]);
  });

  it('does not underflow for tiny float32 values', () => {
    const n = rowNorms(Float32Array.from([3e-30, 4e-30]), 1, 2);
    expect(n[0]).toBeGreaterThan(0);
    expect(n[0] / 5e-30).toBeCloseTo(1, 6);
  });
});

describe('l2normalize', () => {
  it('scales to unit length in place and keeps the direction', () => {
    const v = Float32Array.from([3, -4, 0]);
    const out = l2normalize(v);
    expect(out).toBe(v);
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(-0.8), 0]);
  });

  it('gives unit norm for random vectors', () => {
    const r = rng(99);
    for (let t = 0; t < 20; t++) {
      const v = Float32Array.from({ length: 512 }, () => (r() - 0.5) * 1000);
      l2normalize(v);
      expect(rowNorms(v, 1, 512)[0]).toBeCloseTo(1, 5);
    }
  });

  it('leaves a zero vector zero (no NaN)', () => {
    const v = new Float32Array(8);
    l2normalize(v);
    expect(Array.from(v)).toEqual(new Array(8).fill(0));
  });

  it('normalises vectors whose squared norm would underflow in float32', () => {
    const v = Float32Array.from([1e-30, 0, -1e-30]);
    l2normalize(v);
    expect(v[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(v[1]).toBe(0);
    expect(v[2]).toBeCloseTo(-Math.SQRT1_2, 6);
  });
});
