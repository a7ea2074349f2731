import MiniSearch from 'minisearch';
import { AppError } from '../io/errors.ts';
import type { ModelMeta } from '../index/manifest.ts';
import { hasFilters, matchesFilters, type FieldFilters } from './queryFilters.ts';

// Hybrid search: metadata text relevance (MiniSearch, BM25) blended with content scores, plus the
// filter mask. Pure and DOM-free, shared by the worker, the CLI and the tests.

/** What MiniSearch indexes per model; `id` is the model's index in models.json. */
interface MetadataDoc {
  id: number;
  name: string;
  family: string;
  creator: string;
  description: string;
}

export type MetadataSearch = MiniSearch<MetadataDoc>;

/** Reciprocal-rank-fusion constant from Cormack et al. (2009); damps the weight of the very top ranks. */
export const RRF_K = 60;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A full-text index over the models' name (boost 3), family and creator (2) and description (1). */
export function createMetadataSearch(models: readonly ModelMeta[]): MetadataSearch {
  const search = new MiniSearch<MetadataDoc>({
    fields: ['name', 'family', 'creator', 'description'],
    storeFields: [],
    searchOptions: {
      boost: { name: 3, family: 2, creator: 2, description: 1 },
      prefix: true,
      fuzzy: 0.2,
    },
  });
  search.addAll(
    models.map((m, id) => ({ id, name: text(m.name), family: text(m.family), creator: text(m.creator), description: text(m.description) })),
  );
  return search;
}

/** MiniSearch's score for each of `count` models in index order; 0 where the text does not match. */
export function metadataRelevance(search: MetadataSearch, query: string, count: number): Float32Array {
  const out = new Float32Array(count);
  if (!query.trim()) return out;
  for (const r of search.search(query)) {
    const id = r.id as number;
    if (Number.isInteger(id) && id >= 0 && id < count && Number.isFinite(r.score) && r.score > 0) out[id] = r.score;
  }
  return out;
}

/**
 * 1-based rank of each index within `order` (the indices sorted best first); 0 for those left out.
 */
function ranksOf(order: number[], count: number): Uint32Array {
  const ranks = new Uint32Array(count);
  for (let r = 0; r < order.length; r++) ranks[order[r]] = r + 1;
  return ranks;
}

/** Indices sorted by score descending, ties by index; only those `keep` accepts. */
function sortedIndices(scores: Float32Array, keep: (s: number) => boolean): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (keep(scores[i])) idx.push(i);
  return idx.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Weighted reciprocal-rank fusion of content scores and metadata relevance:
 * `score = (1 − w) / (60 + rank_content) + w / (60 + rank_text)`, ranks 1-based, best first.
 *
 * Ranks rather than scores, because the scales do not compare: content scores are cosines in [−1, 1]
 * for some methods and log-likelihoods in the hundreds or thousands for others, and BM25 scores have
 * a third scale that depends on the query length. Any linear blend would need per-method
 * normalisation that breaks on outliers; RRF needs none and is robust to monotone rescaling.
 *
 * Models with zero relevance get no text term. Non-finite content scores (NaN, ±Infinity, e.g. a
 * masked model) rank after every finite one. Ties take the lower index first, so w = 0 reproduces the
 * content order exactly and w = 1 puts text matches first, by relevance. Apply the filter mask after
 * fusion (fusion gives every model a finite score). Throws AppError('bad-query') unless 0 ≤ w ≤ 1.
 */
export function hybridScores(content: Float32Array, relevance: Float32Array, textWeight: number): Float32Array {
  if (typeof textWeight !== 'number' || !Number.isFinite(textWeight) || textWeight < 0 || textWeight > 1) {
    throw new AppError('bad-query', `The text weight must be a number from 0 to 1, not ${String(textWeight)}.`);
  }
  if (content.length !== relevance.length) {
    throw new Error(`hybridScores: ${content.length} content scores but ${relevance.length} relevance scores`);
  }
  const n = content.length;
  const contentOrder = sortedIndices(content, Number.isFinite);
  for (let i = 0; i < n; i++) if (!Number.isFinite(content[i])) contentOrder.push(i); // last, by index
  const contentRank = ranksOf(contentOrder, n);
  const textRank = ranksOf(sortedIndices(relevance, (s) => Number.isFinite(s) && s > 0), n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = (1 - textWeight) / (RRF_K + contentRank[i]);
    if (textRank[i] > 0) s += textWeight / (RRF_K + textRank[i]);
    out[i] = s;
  }
  return out;
}

/**
 * A copy of `scores` with every model that fails the filters set to −Infinity (`countMatching` in
 * queryFilters.ts says how many pass). Note `topK` does not skip −Infinity: when fewer than k models
 * pass it pads its answer with them, so drop non-finite scores from its answer (or cap k).
 */
export function applyFilterMask(scores: Float32Array, models: readonly ModelMeta[], filters: FieldFilters): Float32Array {
  const out = Float32Array.from(scores);
  if (!hasFilters(filters)) return out;
  for (let i = 0; i < out.length; i++) {
    const model = models[i];
    if (!model || !matchesFilters(model, filters)) out[i] = -Infinity;
  }
  return out;
}
