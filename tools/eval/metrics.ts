/**
 * Retrieval metrics of the evaluation harness: top-k accuracy and mean reciprocal rank (MRR) of
 * the first relevant model, over one score per model (higher = better).
 *
 * Ties are handled deterministically and without favouring any model: a query's metrics are the
 * *expected* values over every ordering of the tied scores (each ordering equally likely). So a
 * scorer that gives every model the same score gets top-1 = (relevant / candidates) — chance —
 * never 1 because the right model happened to come first in index order, and never 0 because it
 * came last. With distinct scores (the content methods, in practice) this is the ordinary rank.
 */

/** Where the first relevant model lands for one query. */
export interface RankOutcome {
  /** Non-relevant candidates scored strictly above the best relevant one. */
  above: number;
  /** Non-relevant candidates tied with the best relevant one. */
  tiedOther: number;
  /** Relevant candidates sharing the best relevant score (≥ 1). */
  tiedRelevant: number;
}

export interface QueryMetrics {
  /** Expected rank of the first relevant model (1 = best). */
  rank: number;
  /** Expected top-k hit (0…1) for every k asked for. */
  topK: Record<number, number>;
  /** Expected reciprocal rank of the first relevant model. */
  rr: number;
}

/**
 * Rank statistics of the first relevant model in `scores`.
 * `relevant`: the indices of the correct models (at least one). `exclude`: indices that are not
 * candidates at all (e.g. the query model itself in model-as-query). NaN scores rank last
 * (treated as −∞). Throws when no relevant model is a candidate.
 */
export function rankOutcome(scores: ArrayLike<number>, relevant: Iterable<number>, exclude: Iterable<number> = []): RankOutcome {
  const n = scores.length;
  const excluded = new Set(exclude);
  const rel = new Set<number>();
  for (const r of relevant) {
    if (!(Number.isInteger(r) && r >= 0 && r < n)) throw new Error(`relevant index ${r} is out of range (0…${n - 1})`);
    if (!excluded.has(r)) rel.add(r);
  }
  if (rel.size === 0) throw new Error('a query needs at least one relevant candidate');
  const val = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  let best = -Infinity;
  let found = false;
  for (const r of rel) {
    if (!found || val(r) > best) best = val(r);
    found = true;
  }
  let above = 0;
  let tiedOther = 0;
  let tiedRelevant = 0;
  for (let i = 0; i < n; i++) {
    if (excluded.has(i)) continue;
    const s = val(i);
    if (rel.has(i)) {
      if (s === best) tiedRelevant++;
    } else if (s > best) above++;
    else if (s === best) tiedOther++;
  }
  return { above, tiedOther, tiedRelevant };
}

/**
 * P(the first relevant model of the tied block sits at position i), i = 1…t+1, when the t
 * non-relevant and r relevant tied models are shuffled uniformly.
 */
export function firstRelevantPositionProbabilities(t: number, r: number): number[] {
  if (!(r >= 1)) throw new Error('r must be at least 1');
  const p: number[] = [];
  let noneYet = 1; // P(the first i−1 positions hold non-relevant models)
  for (let i = 1; i <= t + 1; i++) {
    const left = t + r - (i - 1); // models not yet placed
    p.push(noneYet * (r / left));
    noneYet *= (t - (i - 1)) / left;
  }
  return p;
}

/** Expected rank, top-k hits and reciprocal rank for one query's outcome. */
export function outcomeMetrics(o: RankOutcome, ks: readonly number[] = [1, 5]): QueryMetrics {
  const probs = firstRelevantPositionProbabilities(o.tiedOther, o.tiedRelevant);
  let rank = 0;
  let rr = 0;
  const topK: Record<number, number> = {};
  for (const k of ks) topK[k] = 0;
  probs.forEach((p, idx) => {
    const position = o.above + idx + 1;
    rank += p * position;
    rr += p / position;
    for (const k of ks) if (position <= k) topK[k] += p;
  });
  return { rank, topK, rr };
}

/** Metrics of one query straight from its scores. */
export function queryMetrics(
  scores: ArrayLike<number>,
  relevant: Iterable<number>,
  opts: { exclude?: Iterable<number>; ks?: readonly number[] } = {},
): QueryMetrics {
  return outcomeMetrics(rankOutcome(scores, relevant, opts.exclude), opts.ks);
}

/** Means over a query set. */
export interface SetMetrics {
  queries: number;
  top1: number;
  top5: number;
  mrr: number;
  /** Mean expected rank of the first relevant model. */
  meanRank: number;
}

export function aggregate(per: QueryMetrics[]): SetMetrics {
  const n = per.length;
  if (n === 0) return { queries: 0, top1: NaN, top5: NaN, mrr: NaN, meanRank: NaN };
  let top1 = 0;
  let top5 = 0;
  let mrr = 0;
  let rank = 0;
  for (const q of per) {
    top1 += q.topK[1] ?? 0;
    top5 += q.topK[5] ?? 0;
    mrr += q.rr;
    rank += q.rank;
  }
  return { queries: n, top1: top1 / n, top5: top5 / n, mrr: mrr / n, meanRank: rank / n };
}

/**
 * Family ground truth for model-as-query: every other model of the query model's family.
 * Returns undefined when the family has no other member (such a query cannot be scored).
 */
export function familyRelevant(families: readonly string[], query: number): number[] | undefined {
  const fam = families[query];
  const rel: number[] = [];
  families.forEach((f, i) => {
    if (i !== query && f === fam) rel.push(i);
  });
  return rel.length ? rel : undefined;
}

/**
 * Set-based relevance (the robustness suites): expected precision@k — the share of the first k
 * candidates that are relevant — with ties counted as the expectation over every ordering of the
 * tied models, like the other metrics. `exclude`d indices are not candidates. With fewer than k
 * candidates the denominator is still k (a short list cannot be more precise than it is long).
 */
export function precisionAtK(scores: ArrayLike<number>, relevant: Iterable<number>, k: number, exclude: Iterable<number> = []): number {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error('k must be a positive integer');
  const excluded = new Set(exclude);
  const rel = new Set(relevant);
  const val = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  const cands: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!excluded.has(i)) cands.push(i);
  cands.sort((a, b) => val(b) - val(a) || a - b);
  let placed = 0;
  let hits = 0;
  for (let g = 0; g < cands.length && placed < k; ) {
    let end = g;
    let relInGroup = 0;
    while (end < cands.length && val(cands[end]) === val(cands[g])) {
      if (rel.has(cands[end])) relInGroup++;
      end++;
    }
    const size = end - g;
    const slots = Math.min(size, k - placed);
    hits += (slots * relInGroup) / size;
    placed += slots;
    g = end;
  }
  return hits / k;
}

/** A suite's metrics under set-based relevance: the usual ones (first relevant model) and precision@5. */
export interface SuiteMetrics extends SetMetrics {
  /** Mean expected precision@5. */
  p5: number;
}
