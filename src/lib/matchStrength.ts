/**
 * How strongly a result matches, in words a visitor understands. Raw scores change scale and sign
 * with the method (a cosine of 0.55, a log-density of 136 or −60), so a result's strength is its
 * standing among every model's score for the same query: how many robust standard deviations it
 * lies above the typical model. Pure and DOM-free.
 *
 * - strong: above what the best of n unrelated models reaches by chance — the expected maximum of n
 *   standard normal draws is about √(2 ln n) (3.4 for 300 models);
 * - good: at least 2 above the typical model (the top 2–3 % of a normal field);
 * - weak: the rest, and every result of a query the index's calibration calls "nothing matches".
 *
 * Median and MAD, not mean and standard deviation: log-densities have long lower tails (a model far
 * from the query scores −10⁴), which inflate the standard deviation until even an exact match
 * "does not stand out".
 */

export type Strength = 'strong' | 'good' | 'weak';

/** Where a query's scores sit: their median and robust spread (1.4826 × MAD, a normal's σ). */
export interface ScoreField {
  /** Finite scores counted. */
  n: number;
  median: number;
  /** 1.4826 × median absolute deviation; the standard deviation when the MAD is 0; 0 if all are equal. */
  spread: number;
}

/** The spread of a normal field: MAD × this is its standard deviation. */
const MAD_TO_SIGMA = 1.4826;
/** Standing (robust z) from which a result is at least a good match. */
export const GOOD_STANDING = 2;

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** The field of `scores` (non-finite scores are left out); null when none is finite. */
export function scoreField(scores: ArrayLike<number>): ScoreField | null {
  const values: number[] = [];
  for (let i = 0; i < scores.length; i++) if (Number.isFinite(scores[i])) values.push(scores[i]);
  const n = values.length;
  if (!n) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = median(sorted);
  const mad = median(Float64Array.from(sorted, (v) => Math.abs(v - mid)).sort());
  let spread = MAD_TO_SIGMA * mad;
  if (!(spread > 0)) {
    let sum = 0;
    for (const v of values) sum += v;
    const mean = sum / n;
    let sq = 0;
    for (const v of values) sq += (v - mean) ** 2;
    spread = Math.sqrt(sq / n);
  }
  return { n, median: mid, spread };
}

/** How many robust standard deviations `score` lies above the field's median (0 for a flat field, −∞ for −∞). */
export function standing(score: number, field: ScoreField): number {
  if (Number.isNaN(score)) return NaN;
  if (!Number.isFinite(score)) return score > 0 ? Infinity : -Infinity;
  return field.spread > 0 ? (score - field.median) / field.spread : 0;
}

/** The standing from which a result is strong among `n` models: √(2 ln n), at least GOOD_STANDING + 1. */
export function strongStanding(n: number): number {
  return Math.max(GOOD_STANDING + 1, Math.sqrt(2 * Math.log(Math.max(n, 1))));
}

/** The strength of a result with standing `z` among `n` models; `nothingMatches` caps it at weak. */
export function strengthOf(z: number, n: number, nothingMatches = false): Strength {
  if (nothingMatches || !(z >= GOOD_STANDING)) return 'weak';
  return z >= strongStanding(n) ? 'strong' : 'good';
}

/** A result's standing, strength and the sentence that explains it, from its content score. */
export function resultStrength(score: number, field: ScoreField, nothingMatches = false): { z: number; strength: Strength; reason: string } {
  const z = standing(score, field);
  const strength = strengthOf(z, field.n, nothingMatches);
  return { z, strength, reason: strengthReason(strength, field.n, nothingMatches) };
}

export const STRENGTH_LABEL: Record<Strength, string> = { strong: 'Strong match', good: 'Good match', weak: 'Weak match' };

/** One plain sentence on why a result has its strength (no σ, no formulas: those are in the details). */
export function strengthReason(strength: Strength, n: number, nothingMatches = false): string {
  if (nothingMatches) return 'Nothing in this index matches the query well; this is one of the closest models.';
  const others = n - 1;
  if (strength === 'strong') return `Scores far above the other ${others} models for this query.`;
  if (strength === 'good') return `Scores well above most of the other ${others} models for this query.`;
  return `Scores about as well as many of the other ${others} models for this query.`;
}

const fmt = new Intl.NumberFormat('en', { maximumSignificantDigits: 3 });

/** The plot caption: what the top hit's standing means, in words, then the numbers behind it. */
/**
 * `scored`: which models the field is — 'all' of the index, or a sign-coded index's 'shortlisted'
 * models (the others were only sign-screened), which the sentence must then say.
 */
export function describeRanking(o: { topName: string; z: number; n: number; gap: number; nothingMatches: boolean; methodLabel: string; scored?: 'all' | 'shortlisted' }): string {
  const { topName, z, gap, nothingMatches, methodLabel } = o;
  const n = o.n;
  const models = o.scored === 'shortlisted' ? 'shortlisted models' : 'models';
  if (n < 2) return `Only one model has a ${methodLabel} score for this query.`;
  const strength = strengthOf(z, n, nothingMatches);
  const words = nothingMatches
    ? `Nothing matches well: the top hit, “${topName}”, scores within what unrelated queries reach on this index.`
    : strength === 'strong'
      ? `The top hit, “${topName}”, is a strong match: it scores far above the other ${n - 1} ${models}.`
      : strength === 'good'
        ? `The top hit, “${topName}”, is a good match: it scores well above most of the other ${n - 1} ${models}.`
        : `No model stands out: the top hit, “${topName}”, scores about as well as many of the other ${n - 1}${o.scored === 'shortlisted' ? ' shortlisted models' : ''}.`;
  const lead = Number.isFinite(gap) && gap > 0 ? `, ${fmt.format(gap)} ahead of the runner-up` : gap === 0 ? ', tied with the runner-up' : '';
  const numbers = Number.isFinite(z) ? ` (${z.toFixed(1)} robust standard deviations above the median ${methodLabel} score of ${n} ${models}${lead}.)` : '';
  return words + numbers;
}
