import { describe, expect, it } from 'vitest';
import { describeRanking, GOOD_STANDING, resultStrength, scoreField, standing, STRENGTH_LABEL, strengthOf, strengthReason, strongStanding } from './matchStrength.ts';

describe('scoreField', () => {
  it('is the median and 1.4826 × MAD of the finite scores (numpy: np.median, np.median(abs(x − med)))', () => {
    // Finite: −1e4, 1…9, 100 → median 5; |x − 5|: 10005, 4, 3, 2, 1, 0, 1, 2, 3, 4, 95 → MAD 3.
    const f = scoreField([1, 2, 3, 4, 5, 6, 7, 8, 9, 100, -1e4, Number.NaN, -Infinity])!;
    expect(f.n).toBe(11);
    expect(f.median).toBe(5);
    expect(f.spread).toBeCloseTo(1.4826 * 3, 12);
    // An even count takes the mean of the two middle values.
    expect(scoreField([4, 1, 3, 2])!.median).toBe(2.5);
  });

  it('a long lower tail does not hide a clear top hit (it would with mean and standard deviation)', () => {
    const scores = [...Array.from({ length: 297 }, (_, i) => 0.2 + 0.0003 * (i - 148)), -5e3, -8e3, 0.6];
    const f = scoreField(scores)!;
    const z = standing(0.6, f);
    expect(z).toBeGreaterThan(strongStanding(f.n));
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
    expect((0.6 - mean) / std).toBeLessThan(1); // what the plain z-score said
  });

  it('falls back to the standard deviation when most scores are equal, and to 0 when all are', () => {
    const f = scoreField([1, 1, 1, 1, 1, 3])!; // MAD 0
    expect(f.spread).toBeCloseTo(Math.sqrt((5 * (1 / 3) ** 2 + (5 / 3) ** 2) / 6), 12);
    const flat = scoreField([2, 2, 2])!;
    expect(flat.spread).toBe(0);
    expect(standing(2, flat)).toBe(0);
    expect(scoreField([Number.NaN, Infinity])).toBeNull();
  });
});

describe('strength', () => {
  it('strong above √(2 ln n), good from 2, weak below; nothing-matches caps it at weak', () => {
    expect(strongStanding(300)).toBeCloseTo(Math.sqrt(2 * Math.log(300)), 12); // 3.38
    expect(strongStanding(5)).toBe(GOOD_STANDING + 1); // few models: √(2 ln 5) = 1.79 would be below "good"
    expect(strengthOf(3.4, 300)).toBe('strong');
    expect(strengthOf(3.3, 300)).toBe('good');
    expect(strengthOf(2, 300)).toBe('good');
    expect(strengthOf(1.99, 300)).toBe('weak');
    expect(strengthOf(9, 300, true)).toBe('weak');
    expect(strengthOf(Number.NaN, 300)).toBe('weak');
    expect(strengthOf(-Infinity, 300)).toBe('weak');
    expect(standing(-Infinity, { n: 3, median: 0, spread: 1 })).toBe(-Infinity);
  });

  it('says it in plain words', () => {
    expect(STRENGTH_LABEL).toEqual({ strong: 'Strong match', good: 'Good match', weak: 'Weak match' });
    expect(strengthReason('strong', 300)).toBe('Scores far above the other 299 models for this query.');
    expect(strengthReason('weak', 300, true)).toMatch(/Nothing in this index matches/);
    for (const s of ['strong', 'good', 'weak'] as const) expect(strengthReason(s, 300)).not.toMatch(/σ|z-score|sigma/);
  });
});

describe('describeRanking', () => {
  const base = { topName: 'Gilded Cat', n: 300, gap: 0.0512, nothingMatches: false, methodLabel: '1st moment' };
  it('leads with words, then the numbers', () => {
    expect(describeRanking({ ...base, z: 5.04 })).toBe(
      'The top hit, “Gilded Cat”, is a strong match: it scores far above the other 299 models. (5.0 robust standard deviations above the median 1st moment score of 300 models, 0.0512 ahead of the runner-up.)',
    );
    expect(describeRanking({ ...base, z: 2.5 })).toMatch(/^The top hit, “Gilded Cat”, is a good match/);
    expect(describeRanking({ ...base, z: 1.2, gap: 0 })).toMatch(/^No model stands out.*tied with the runner-up\.\)$/);
    expect(describeRanking({ ...base, z: 6, nothingMatches: true })).toMatch(/^Nothing matches well: the top hit, “Gilded Cat”/);
    expect(describeRanking({ ...base, z: 3, n: 1 })).toBe('Only one model has a 1st moment score for this query.');
    // A sign-coded index scores only its shortlist: the sentence says so, not "the other 59 models".
    expect(describeRanking({ ...base, z: 5.04, scored: 'shortlisted' })).toMatch(/far above the other \d+ shortlisted models\..*score of \d+ shortlisted models/);
  });
});

describe('resultStrength', () => {
  it('is standing, strength and reason together', () => {
    const field = { n: 300, median: 0.2, spread: 0.05 };
    expect(resultStrength(0.45, field)).toEqual({ z: standing(0.45, field), strength: 'strong', reason: strengthReason('strong', 300) });
    expect(resultStrength(0.45, field, true)).toEqual({ z: standing(0.45, field), strength: 'weak', reason: strengthReason('weak', 300, true) });
  });
});
