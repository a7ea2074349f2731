/**
 * Statistics for the score-distribution plot (the paper's Fig. 9): a histogram of every model's
 * score for one query, and the top hit's lead (its standing in words: matchStrength.ts). Pure and DOM-free.
 */

export interface Histogram {
  /** bins + 1 non-decreasing edges; bin i is [edges[i], edges[i+1]), the last bin is closed. */
  edges: Float64Array;
  counts: Uint32Array;
  /** Smallest / largest finite score (NaN when there is none). */
  min: number;
  max: number;
  /** How many scores were finite (the others are ignored). */
  finiteCount: number;
}

export interface ScoreSummary {
  /** Finite scores counted. */
  n: number;
  mean: number;
  /** Population standard deviation (divides by n). */
  std: number;
  /** The best shown score (or the best score overall when none is shown). */
  top: number;
  /** (top − mean) / std; 0 when every score is the same. */
  topZ: number;
  /** top − the runner-up (the second-highest score of all models); NaN with fewer than two. */
  gap: number;
}

export const MIN_BINS = 10;
export const MAX_BINS = 60;

function finiteValues(scores: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** Linear-interpolation quantile of sorted values (numpy's default `percentile`). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Freedman–Diaconis bin count, ceil(range / (2·IQR·n^(-1/3))), clamped to [MIN_BINS, MAX_BINS];
 * Sturges' rule when the IQR is 0 (most scores equal, a few outliers).
 */
export function defaultBinCount(sorted: Float64Array): number {
  const n = sorted.length;
  const range = sorted[n - 1] - sorted[0];
  const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
  const width = (2 * iqr) / Math.cbrt(n);
  const raw = width > 0 && Number.isFinite(range / width) ? Math.ceil(range / width) : Math.ceil(Math.log2(n)) + 1;
  return Math.min(MAX_BINS, Math.max(MIN_BINS, raw));
}

/**
 * Histogram of the finite scores with numpy.histogram semantics: equal-width bins from the
 * smallest to the largest score, every bin half-open except the last, which is closed.
 * `bins` defaults to Freedman–Diaconis (see defaultBinCount). When every finite score is equal
 * there is one bin of width 1 centred on the value; with no finite score there are no bins.
 */
export function histogram(scores: ArrayLike<number>, bins?: number): Histogram {
  if (bins !== undefined && !(Number.isInteger(bins) && bins >= 1)) {
    throw new RangeError(`The bin count must be a whole number of at least 1, not ${bins}.`);
  }
  const values = finiteValues(scores);
  const n = values.length;
  if (n === 0) return { edges: new Float64Array(0), counts: new Uint32Array(0), min: NaN, max: NaN, finiteCount: 0 };
  const sorted = values.slice().sort();
  const min = sorted[0];
  const max = sorted[n - 1];

  if (min === max) {
    // numpy widens an empty range by ±0.5; where that is lost to rounding, widen relatively.
    const half = min - 0.5 === min ? Math.abs(min) * 2 ** -20 : 0.5;
    return { edges: Float64Array.of(min - half, max + half), counts: Uint32Array.of(n), min, max, finiteCount: n };
  }

  const count = bins ?? defaultBinCount(sorted);
  // max − min can overflow for huge doubles: then work with halves (exact for such magnitudes).
  const span = max - min;
  const wide = !Number.isFinite(span);
  const edges = new Float64Array(count + 1);
  edges[0] = min;
  for (let i = 1; i < count; i++) {
    const t = i / count;
    const e = wide ? min * (1 - t) + max * t : min + i * (span / count);
    edges[i] = Math.min(Math.max(e, edges[i - 1]), max);
  }
  edges[count] = max;

  const counts = new Uint32Array(count);
  const halfSpan = max * 0.5 - min * 0.5;
  for (let k = 0; k < n; k++) {
    const v = values[k];
    const frac = wide ? (v * 0.5 - min * 0.5) / halfSpan : (v - min) / span;
    let i = Math.min(count - 1, Math.max(0, Math.floor(frac * count)));
    // Rounding can put a value next to its true bin: settle it against the edges themselves.
    while (i > 0 && v < edges[i]) i--;
    while (i < count - 1 && v >= edges[i + 1]) i++;
    counts[i]++;
  }
  return { edges, counts, min, max, finiteCount: n };
}

/**
 * Mean, population standard deviation, the z-score of the best shown score and its gap to the
 * runner-up. Non-finite scores are ignored (as in `histogram`).
 */
export function scoreSummary(scores: ArrayLike<number>, topScores: number[]): ScoreSummary {
  const values = finiteValues(scores);
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, std: NaN, top: NaN, topZ: NaN, gap: NaN };

  let sum = 0;
  let best = -Infinity;
  let second = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    sum += v;
    if (v > best) {
      second = best;
      best = v;
    } else if (v > second) second = v;
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  const std = Math.sqrt(sq / n);

  const shown = topScores.filter(Number.isFinite);
  const top = shown.length ? Math.max(...shown) : best;
  const topZ = std > 0 ? (top - mean) / std : 0;
  // The runner-up is the best other model: the second-highest when the top hit is the best.
  const gap = n < 2 ? NaN : top - (top >= best ? second : best);
  return { n, mean, std, top, topZ, gap };
}
