import { describe, expect, it } from 'vitest';
import { estimateNote } from './plotNote.ts';

describe('estimateNote', () => {
  it('an int8 head: every model has a score, K of them exact', () => {
    const scores = Float32Array.from({ length: 300 }, (_, i) => i / 300);
    expect(estimateNote(scores, 50)).toBe('Exact scores for the top 50 candidates; the other models’ scores are the prefilter’s estimates.');
  });

  it('a sign-coded head: exact, estimated from int8 means, and only sign-screened, counted from the scores', () => {
    const scores = new Float32Array(1300).fill(NaN);
    for (let i = 0; i < 1000; i++) scores[i] = i;
    expect(estimateNote(scores, 50)).toBe('Exact scores for the top 50 candidates; 950 more were estimated from their int8 means; the other 300 models were only sign-screened (not scored, not in the plot).');
  });

  it('the query model (−∞) is neither scored nor unscored; a shortlist of K has no estimates', () => {
    const scores = Float32Array.of(1, 2, -Infinity, NaN);
    expect(estimateNote(scores, 2)).toBe('Exact scores for the top 2 candidates; the other 1 model was only sign-screened (not scored, not in the plot).');
    expect(estimateNote(Float32Array.of(1, 2, 3, NaN, NaN), 2)).toBe('Exact scores for the top 2 candidates; 1 more was estimated from its int8 mean; the other 2 models were only sign-screened (not scored, not in the plot).');
  });
});
