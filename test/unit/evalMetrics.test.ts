import { describe, expect, it } from 'vitest';
import {
  aggregate,
  familyRelevant,
  firstRelevantPositionProbabilities,
  outcomeMetrics,
  queryMetrics,
  rankOutcome,
} from '../../tools/eval/metrics.ts';

/** Brute force: average the metrics over every ordering of the candidates that respects the scores. */
function bruteForce(scores: number[], relevant: number[], exclude: number[] = [], ks = [1, 5]) {
  const cands = scores.map((s, i) => i).filter((i) => !exclude.includes(i));
  const perms: number[][] = [];
  const permute = (rest: number[], acc: number[]) => {
    if (!rest.length) return perms.push(acc);
    rest.forEach((x, j) => permute([...rest.slice(0, j), ...rest.slice(j + 1)], [...acc, x]));
  };
  permute(cands, []);
  // Keep only the orderings sorted by score (descending): ties in any order.
  const valid = perms.filter((p) => p.every((x, j) => j === 0 || scores[p[j - 1]] >= scores[x]));
  let rank = 0;
  let rr = 0;
  const topK: Record<number, number> = Object.fromEntries(ks.map((k) => [k, 0]));
  for (const p of valid) {
    const pos = p.findIndex((x) => relevant.includes(x)) + 1;
    rank += pos;
    rr += 1 / pos;
    for (const k of ks) if (pos <= k) topK[k] += 1;
  }
  for (const k of ks) topK[k] /= valid.length;
  return { rank: rank / valid.length, rr: rr / valid.length, topK };
}

describe('queryMetrics', () => {
  it('gives the plain rank, top-k and reciprocal rank for distinct scores', () => {
    const scores = [0.1, 0.9, 0.5, 0.7, 0.3];
    expect(queryMetrics(scores, [1])).toEqual({ rank: 1, rr: 1, topK: { 1: 1, 5: 1 } });
    const m = queryMetrics(scores, [2]); // 0.9, 0.7 above
    expect(m.rank).toBe(3);
    expect(m.rr).toBeCloseTo(1 / 3, 12);
    expect(m.topK).toEqual({ 1: 0, 5: 1 });
    const last = queryMetrics(scores, [0], { ks: [1, 3, 5] });
    expect(last.rank).toBe(5);
    expect(last.topK).toEqual({ 1: 0, 3: 0, 5: 1 });
  });

  it('uses the best-ranked relevant model when several are relevant', () => {
    const m = queryMetrics([0.2, 0.8, 0.6, 0.9], [0, 2]);
    expect(m.rank).toBe(3);
    expect(m.rr).toBeCloseTo(1 / 3, 12);
  });

  it('handles ties as the expectation over orderings: deterministic, neither optimistic nor pessimistic', () => {
    // All equal: the relevant model is first with probability 1/n, whatever its index.
    const flat = [0, 0, 0, 0];
    for (const r of [0, 1, 3]) {
      const m = queryMetrics(flat, [r]);
      expect(m.topK[1]).toBeCloseTo(0.25, 12);
      expect(m.rank).toBeCloseTo(2.5, 12);
      expect(m.rr).toBeCloseTo((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4, 12);
    }
    // Same inputs → same output, and index order does not matter.
    expect(queryMetrics([1, 0.5, 0.5, 0.5], [3])).toEqual(queryMetrics([1, 0.5, 0.5, 0.5], [1]));
  });

  it('matches a brute-force enumeration of tied orderings', () => {
    const cases: [number[], number[], number[]?][] = [
      [[3, 1, 1, 1, 0, 1], [2]],
      [[3, 1, 1, 1, 0, 1], [2, 5]],
      [[1, 1, 1, 1, 1, 1, 1], [0, 6]],
      [[2, 2, 1, 2, 1, 0], [4, 1]],
      [[0.5, 0.5, 0.5, 0.9, 0.1, 0.5], [0, 5], [3]],
      [[5, 4, 4, 4, 4, 4, 3], [6]],
    ];
    for (const [scores, rel, exclude] of cases) {
      const got = queryMetrics(scores, rel, { exclude, ks: [1, 2, 5] });
      const want = bruteForce(scores, rel, exclude, [1, 2, 5]);
      expect(got.rank).toBeCloseTo(want.rank, 12);
      expect(got.rr).toBeCloseTo(want.rr, 12);
      for (const k of [1, 2, 5]) expect(got.topK[k]).toBeCloseTo(want.topK[k], 12);
    }
  });

  it('excludes candidates (the query model itself) from the ranking', () => {
    const scores = [1, 0.9, 0.2, 0.8];
    // Model 0 is the query: without it, relevant model 3 is second behind model 1.
    expect(queryMetrics(scores, [3], { exclude: [0] }).rank).toBe(2);
    expect(queryMetrics(scores, [3]).rank).toBe(3);
  });

  it('ranks NaN scores last and rejects impossible ground truth', () => {
    expect(queryMetrics([NaN, 0.1, 0.2], [1]).rank).toBe(2);
    expect(queryMetrics([NaN, 0.1, NaN], [0]).rank).toBeCloseTo(2.5, 12);
    expect(() => queryMetrics([1, 2], [])).toThrow(/at least one relevant/);
    expect(() => queryMetrics([1, 2], [0], { exclude: [0] })).toThrow(/at least one relevant/);
    expect(() => queryMetrics([1, 2], [2])).toThrow(/out of range/);
  });
});

describe('tie probabilities', () => {
  it('sum to one and put the relevant first with probability r/(t+r)', () => {
    for (const [t, r] of [[0, 1], [3, 1], [4, 2], [10, 10], [299, 3]]) {
      const p = firstRelevantPositionProbabilities(t, r);
      expect(p).toHaveLength(t + 1);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(p[0]).toBeCloseTo(r / (t + r), 12);
    }
  });

  it('rankOutcome counts above and tied models', () => {
    expect(rankOutcome([0.5, 0.9, 0.5, 0.5, 0.1], [0, 3])).toEqual({ above: 1, tiedOther: 1, tiedRelevant: 2 });
    expect(outcomeMetrics({ above: 2, tiedOther: 0, tiedRelevant: 1 })).toEqual({ rank: 3, rr: 1 / 3, topK: { 1: 0, 5: 1 } });
  });
});

describe('familyRelevant', () => {
  const families = ['a', 'b', 'a', 'c', 'a', 'b'];
  it('lists every other model of the same family', () => {
    expect(familyRelevant(families, 0)).toEqual([2, 4]);
    expect(familyRelevant(families, 5)).toEqual([1]);
  });
  it('is undefined for a family of one', () => {
    expect(familyRelevant(families, 3)).toBeUndefined();
  });
  it('scores a model-as-query ranking over family membership, without the query itself', () => {
    const scores = [1, 0.7, 0.6, 0.3, 0.9, 0.2]; // query 0; family a = {2, 4}
    const m = queryMetrics(scores, familyRelevant(families, 0)!, { exclude: [0] });
    expect(m.rank).toBe(1); // model 4 (0.9) is the best candidate and is in family a
    const q1 = queryMetrics(scores, familyRelevant(families, 1)!, { exclude: [1] });
    expect(q1.rank).toBe(5); // 1, 0.9, 0.6, 0.3 above model 5 (0.2)
  });
});

describe('aggregate', () => {
  it('averages top-1, top-5, MRR and rank', () => {
    const a = aggregate([
      { rank: 1, rr: 1, topK: { 1: 1, 5: 1 } },
      { rank: 4, rr: 0.25, topK: { 1: 0, 5: 1 } },
      { rank: 10, rr: 0.1, topK: { 1: 0, 5: 0 } },
      { rank: 2.5, rr: 0.5, topK: { 1: 0.5, 5: 1 } },
    ]);
    expect(a.queries).toBe(4);
    expect(a.top1).toBeCloseTo(0.375, 12);
    expect(a.top5).toBeCloseTo(0.75, 12);
    expect(a.mrr).toBeCloseTo(1.85 / 4, 12);
    expect(a.meanRank).toBeCloseTo(17.5 / 4, 12);
  });
  it('is NaN (not zero) for an empty set', () => {
    expect(aggregate([]).top1).toBeNaN();
  });
});
