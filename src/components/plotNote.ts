/**
 * The note under the score plot of a tiered index: which scores are exact and which are estimates.
 * `scores` is every model's score as the worker sends it: the exact score of the K candidates, the
 * int8 prefilter's estimate of other models it scored, −∞ for the query model of "more like this",
 * and NaN for models a sign-coded head never scored (outside its sign shortlist). Pure, DOM-free.
 */
export function estimateNote(scores: ArrayLike<number>, exactCandidates: number): string {
  let finite = 0;
  let unscored = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (Number.isFinite(v)) finite++;
    else if (Number.isNaN(v)) unscored++;
  }
  const exact = Math.min(exactCandidates, finite);
  const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
  if (!unscored) return `Exact scores for the top ${exact} candidates; the other models’ scores are the prefilter’s estimates.`;
  // A sign-coded head: the plot holds the sign shortlist only.
  const estimated = finite - exact;
  const parts = [`Exact scores for the top ${plural(exact, 'candidate', 'candidates')}`];
  if (estimated > 0) parts.push(estimated === 1 ? '1 more was estimated from its int8 mean' : `${plural(estimated, 'more', 'more')} were estimated from their int8 means`);
  parts.push(`the other ${plural(unscored, 'model was', 'models were')} only sign-screened (not scored, not in the plot)`);
  return `${parts.join('; ')}.`;
}
