import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { histogram, scoreSummary } from './scoreStats.ts';

/** Reference counts for given edges with numpy.histogram semantics: [e_i, e_i+1), last bin closed. */
function referenceCounts(values: ArrayLike<number>, edges: Float64Array): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) continue;
    // The last bin whose left edge is ≤ v (zero-width bins lose to the later one, as in numpy).
    let hit = -1;
    for (let i = 0; i < bins; i++) {
      const inside = i === bins - 1 ? v >= edges[i] && v <= edges[i + 1] : v >= edges[i] && v < edges[i + 1];
      if (inside) hit = i;
    }
    if (hit >= 0) counts[hit]++;
  }
  return counts;
}

describe('histogram', () => {
  // Expected arrays written out from numpy.histogram(values, bins).
  it('matches numpy on a small example (last bin closed)', () => {
    const h = histogram([1, 2, 2, 3, 4], 3);
    expect([...h.edges]).toEqual([1, 2, 3, 4]);
    expect([...h.counts]).toEqual([1, 2, 2]);
    expect(h).toMatchObject({ min: 1, max: 4, finiteCount: 5 });
  });

  it('matches numpy where values sit on rounded edges', () => {
    // Edges are min + i·step, so 0.3 < 0.30000000000000004 falls in bin 2, as in numpy.
    const values = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const h = histogram(values, 10);
    expect([...h.counts]).toEqual([1, 1, 2, 0, 1, 2, 1, 0, 1, 2]);
    expect(h.edges[3]).toBe(3 * 0.1);
  });

  it('matches numpy with negative scores and empty bins', () => {
    const h = histogram([-3.5, -1.25, 0, 0, 2.75, 10], 4);
    expect([...h.edges]).toEqual([-3.5, -0.125, 3.25, 6.625, 10]);
    expect([...h.counts]).toEqual([2, 3, 0, 1]);
  });

  it('ignores NaN and infinities', () => {
    const h = histogram(Float32Array.of(NaN, 1, -Infinity, 2, 2, Infinity, 3, 4), 3);
    expect(h.finiteCount).toBe(5);
    expect([...h.counts]).toEqual([1, 2, 2]);
  });

  it('uses one bin when every score is equal', () => {
    const h = histogram([5, 5, NaN, 5]);
    expect([...h.edges]).toEqual([4.5, 5.5]);
    expect([...h.counts]).toEqual([3]);
    const huge = histogram([1e300, 1e300]);
    expect(huge.counts.length).toBe(1);
    expect(huge.edges[0]).toBeLessThan(1e300);
    expect(huge.edges[1]).toBeGreaterThan(1e300);
  });

  it('has no bins without finite scores', () => {
    for (const input of [[], [NaN, -Infinity]]) {
      const h = histogram(input);
      expect(h.counts.length).toBe(0);
      expect(h.edges.length).toBe(0);
      expect(h.finiteCount).toBe(0);
    }
  });

  it('picks Freedman–Diaconis bins, clamped to [10, 60]', () => {
    const ramp = Array.from({ length: 30000 }, (_, i) => i);
    expect(histogram(ramp).counts.length).toBe(32); // numpy bins='fd' gives 32 too
    expect(histogram([0, 1, 2]).counts.length).toBe(10);
    const outlier = [...Array.from({ length: 1000 }, (_, i) => i), 1e6];
    expect(histogram(outlier).counts.length).toBe(60);
    // IQR 0 (all but one equal): falls back to Sturges, still clamped.
    expect(histogram([...new Array(50).fill(1), 2]).counts.length).toBe(10);
  });

  it('rejects bad bin counts', () => {
    expect(() => histogram([1, 2], 0)).toThrow(RangeError);
    expect(() => histogram([1, 2], 2.5)).toThrow(RangeError);
  });

  it('counts every finite value once, inside the edges, as the reference does', () => {
    const scores = fc.array(fc.oneof(fc.double(), fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(0, 1, -1)), {
      maxLength: 200,
    });
    fc.assert(
      fc.property(scores, fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined }), (values, bins) => {
        const h = histogram(values, bins);
        const finite = values.filter(Number.isFinite);
        expect(h.finiteCount).toBe(finite.length);
        expect(h.counts.reduce((a, b) => a + b, 0)).toBe(finite.length);
        if (!finite.length) return;
        expect(h.edges.length).toBe(h.counts.length + 1);
        const last = h.edges[h.edges.length - 1];
        for (const v of finite) {
          expect(v).toBeGreaterThanOrEqual(h.edges[0]);
          expect(v).toBeLessThanOrEqual(last);
        }
        for (let i = 1; i < h.edges.length; i++) expect(h.edges[i]).toBeGreaterThanOrEqual(h.edges[i - 1]);
        expect([...h.counts]).toEqual(referenceCounts(values, h.edges));
        if (bins !== undefined && h.min !== h.max) expect(h.counts.length).toBe(bins);
      }),
      { numRuns: 500 },
    );
  });
});

describe('scoreSummary', () => {
  it('computes mean, population std, z-score and gap by hand', () => {
    // mean 4; deviations −3 −2 −1 0 6 → variance 50/5 = 10; z = 6/√10.
    const s = scoreSummary(Float32Array.of(1, 2, 3, 4, 10), [10, 4]);
    expect(s.n).toBe(5);
    expect(s.mean).toBe(4);
    expect(s.std).toBeCloseTo(Math.sqrt(10), 12);
    expect(s.topZ).toBeCloseTo(1.8973665961010275, 12);
    expect(s.gap).toBe(6);
    expect(s.top).toBe(10);
  });

  it('ignores non-finite scores and falls back to the best score', () => {
    const s = scoreSummary([NaN, 1, 3, -Infinity], []);
    expect(s).toMatchObject({ n: 2, mean: 2, std: 1, top: 3, topZ: 1, gap: 2 });
  });

  it('gives z 0 when every score is equal and gap 0 on a tie', () => {
    expect(scoreSummary([2, 2, 2], [2])).toMatchObject({ std: 0, topZ: 0, gap: 0 });
    expect(scoreSummary([1, 5, 5], [5]).gap).toBe(0);
  });

  it('handles empty and single-score input', () => {
    expect(scoreSummary([], []).n).toBe(0);
    const one = scoreSummary([7], [7]);
    expect(one).toMatchObject({ n: 1, topZ: 0 });
    expect(one.gap).toBeNaN();
  });
});
