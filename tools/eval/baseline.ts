/**
 * The metadata-only baseline: what a model hub's keyword search finds. A MiniSearch (BM25) full-
 * text index over each model's name, description, family and creator (models.json), queried the
 * way a search box usually is: prefix matching, a little fuzziness, terms OR-ed, English stop
 * words dropped. Models the search does not return score 0 (ties are averaged by the metrics).
 *
 * What it is asked (see docs/eval.md):
 * - text queries: the query text itself;
 * - image and sketch queries: the ground-truth model's subject word only (e.g. "cat") — a user
 *   who names what the picture shows but nothing else (colours, style and background are what
 *   the picture shows too, but a user cannot be assumed to put them into words);
 * - model-as-query: the query model's name.
 */
import MiniSearch from 'minisearch';
import type { ModelMeta } from '../../src/core/index/manifest.ts';

export const BASELINE_FIELDS = ['name', 'description', 'family', 'creator'] as const;

export const BASELINE_SEARCH_OPTIONS = { prefix: true, fuzzy: 0.2, combineWith: 'OR' as const };

/** Common English words a keyword search ignores. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be by for from has have i in is it its me of on or show that the this to ' +
    'want was were which who with looking generator model makes make images image pictures picture'
  ).split(' '),
);

/** Lower-cases; drops stop words (a term that is only a stop word is not indexed or searched). */
function processTerm(term: string): string | null {
  const t = term.toLowerCase();
  return STOP_WORDS.has(t) ? null : t;
}

export interface MetadataBaseline {
  /** One score per model (index order); 0 = not found. */
  scores(query: string): Float32Array;
}

export function metadataBaseline(models: readonly ModelMeta[]): MetadataBaseline {
  const search = new MiniSearch<{ id: number; name: string; description: string; family: string; creator: string }>({
    fields: [...BASELINE_FIELDS],
    idField: 'id',
    processTerm,
    searchOptions: { ...BASELINE_SEARCH_OPTIONS, processTerm },
  });
  search.addAll(models.map((m, id) => ({ id, name: m.name, description: m.description, family: m.family, creator: m.creator })));
  return {
    scores(query: string): Float32Array {
      const out = new Float32Array(models.length);
      for (const hit of search.search(query)) out[hit.id as number] = hit.score;
      return out;
    },
  };
}
