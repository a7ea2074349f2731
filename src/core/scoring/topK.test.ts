import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topK } from './topK.ts';

/** The reference: a full sort with NaN last, then index order. */
function reference(scores: Float32Array, k: number): number[] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  return [...scores.keys()]
    .sort((a, b) => {
      const na = Number.isNaN(scores[a]), nb = Number.isNaN(scores[b]);
      if (na !== nb) return na ? 1 : -1;
      return key(scores[b]) - key(scores[a]) || a - b;
    })
    .slice(0, Math.max(0, k));
}

describe('topK', () => {
  it('is the first k of a full sort, for any values: NaN below −∞, ties in index order', () => {
    const value = fc.oneof(fc.float({ noNaN: false }), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 1, 1));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), fc.integer({ min: 0, max: 70 }), (values, k) => {
        const scores = Float32Array.from(values);
        expect(topK(scores, k).map((r) => r.index)).toEqual(reference(scores, k));
      }),
      { numRuns: 400 },
    );
  });

  it('a NaN first in the file no longer blocks every later model (the probe case)', () => {
    const scores = Float32Array.of(Number.NaN, 0.1, 0.9, 0.5, Number.NaN, 0.7);
    expect(topK(scores, 3).map((r) => r.index)).toEqual([2, 5, 3]);
    expect(topK(scores, 6).map((r) => r.index)).toEqual([2, 5, 3, 1, 0, 4]);
  });
});
