/**
 * Scores every query of every set with every method through `rank()` (src/core/scoring/rank.ts) —
 * the one ranking function the app's worker and the search CLI run — and turns the rankings into
 * top-1 / top-5 / MRR (tools/eval/metrics.ts).
 */
import type { Method, MethodParams } from '../../src/core/scoring/methods.ts';
import { rank, type QueryPart, type RankableIndex } from '../../src/core/scoring/rank.ts';
import type { SearchIndex } from '../../src/core/index/indexFormat.ts';
import type { MetadataBaseline } from './baseline.ts';
import { aggregate, familyRelevant, precisionAtK, queryMetrics, type QueryMetrics, type SetMetrics } from './metrics.ts';
import type { QueryType } from './queries.ts';

/** One row of the results table. */
export interface MethodRow {
  key: string;
  label: string;
  kind: 'content' | 'fine-tuned' | 'metadata';
  /** The method rank() is asked for ('auto': what the app picks for the query kind). */
  method?: Method | 'auto';
  params?: MethodParams;
  /** fine-tuned rows: the projection structure (which projected index scores it). */
  structure?: string;
}

/** The methods that need the temperature T carry it in their label. */
const withT = (label: string, temperature: number) => `${label} (T = ${temperature})`;

/** The content rows, every one scored through rank() with an explicit method; T is the index's. */
export function contentRows(temperature: number): MethodRow[] {
  return [
    { key: 'first-moment', label: '1st moment', kind: 'content', method: 'first-moment' },
    { key: 'gaussian', label: 'Gaussian density (GD)', kind: 'content', method: 'gaussian' },
    { key: 'monte-carlo', label: withT('Monte-Carlo', temperature), kind: 'content', method: 'monte-carlo' },
    { key: 'best-1', label: 'best-k, k=1', kind: 'content', method: 'best-k', params: { k: 1 } },
    { key: 'best-3', label: 'best-k, k=3', kind: 'content', method: 'best-k', params: { k: 3 } },
    { key: 'first-second-moment', label: withT('1st+2nd moment', temperature), kind: 'content', method: 'first-second-moment' },
  ];
}

/** Auto: the method the app uses for the query kind (src/core/scoring/methods.ts autoMethod). */
export const AUTO_ROW: MethodRow = { key: 'auto', label: 'Auto (the app’s choice per query kind)', kind: 'content', method: 'auto' };

export const METADATA_ROW: MethodRow = { key: 'metadata', label: 'metadata baseline (MiniSearch)', kind: 'metadata' };

export function fineTunedRow(structure: string): MethodRow {
  return { key: `fine-tuned-${structure}`, label: `fine-tuned 1st moment (${structure})`, kind: 'fine-tuned', method: 'fine-tuned', structure };
}

/** A query ready to score: its embedding (content sets), the metadata search string, and its ground truth. */
export interface PreparedQuery {
  embedding?: Float32Array;
  /** What the metadata baseline searches for this query (for text queries: the query text). */
  keywords: string;
  /** Index of the ground-truth model (image, sketch, text) or of the query model (model-as-query). */
  model: number;
  /** Sketch kind, for the per-kind breakdown. */
  kind?: string;
  /**
   * Set-based relevance (the robustness suites, tools/eval/robustness.ts): every model index that
   * counts as a correct answer. When absent, the set's own ground truth applies (the model, or its
   * family for model-as-query). A query with an empty list is skipped.
   */
  relevant?: number[];
  /** Model indices that are not candidates (with `relevant`; e.g. the query model itself). */
  exclude?: number[];
}

export interface EvalContext {
  /** The eval index as opened by openIndex (its temperature is what MC and 1st+2nd moment use). */
  target: RankableIndex;
  /** Projected indexes (same models, same order) by structure. */
  projected: Map<string, RankableIndex>;
  baseline: MetadataBaseline;
}

export interface RowResult extends SetMetrics {
  /** Mean ranking time per query (ms) through rank(), encoding excluded. */
  msPerQuery: number;
  /** Mean expected precision@5 (only when evaluateSet was asked for it: the robustness suites). */
  p5?: number;
}

export interface SetResult {
  type: QueryType;
  queries: number;
  /** Queries dropped (model-as-query whose family has no other member). */
  skipped: number;
  rows: Record<string, RowResult>;
  /** The method rank() ran for each row (Auto resolved), by row key. */
  ranMethod?: Record<string, Method>;
  /** Sketch queries: the same metrics per sketch kind. */
  byKind?: Record<string, Record<string, SetMetrics>>;
}

/**
 * The rows that apply to a query type. Model-as-query has cos of means (plain and projected) and
 * the baseline; the others every content method, Auto, the fine-tuned rows and the baseline.
 */
export function rowsFor(type: QueryType, structures: string[], temperature: number): MethodRow[] {
  const ft = structures.map(fineTunedRow);
  const content = contentRows(temperature);
  if (type === 'model') return [{ ...content[0], label: '1st moment (cos of means)' }, ...ft, METADATA_ROW];
  return [...content, AUTO_ROW, ...ft, METADATA_ROW];
}

/** The part of a rank() query that stands for an eval query (its embedding is passed to rank() as `embed`). */
export function queryPart(type: QueryType, q: PreparedQuery, target: RankableIndex): QueryPart<string> {
  switch (type) {
    case 'text':
      return { kind: 'text', text: q.keywords };
    case 'image':
      return { kind: 'image', image: `image query ${q.model}`, source: 'file' };
    case 'sketch':
      return { kind: 'image', image: `sketch query ${q.model}`, source: 'sketch' };
    case 'model':
      return { kind: 'model', modelId: target.models[q.model].id };
  }
}

/**
 * One score per model (index order) for a query and a row, and the method that produced it.
 * Content rows go through rank() with the row's method; the scores are `ranking.scores` (every
 * model, so the metrics see the full ranking and count ties as expectations).
 */
export async function scoreRow(ctx: EvalContext, type: QueryType, row: MethodRow, q: PreparedQuery): Promise<{ scores: Float32Array; method?: Method }> {
  if (row.kind === 'metadata') return { scores: ctx.baseline.scores(q.keywords) };
  const target = row.kind === 'fine-tuned' ? ctx.projected.get(row.structure!)! : ctx.target;
  const embedding = q.embedding;
  if (type !== 'model' && !embedding) throw new Error(`a ${type} query has no embedding`);
  const ranking = await rank(
    target,
    // topK 1: the metrics are computed from ranking.scores, not from the top-k list.
    { parts: [{ part: queryPart(type, q, target), weight: 1 }], method: row.method, params: row.params, topK: 1 },
    async () => embedding!,
  );
  return { scores: ranking.scores, method: ranking.method };
}

export async function evaluateSet(ctx: EvalContext, type: QueryType, queries: PreparedQuery[], opts: { precision?: boolean } = {}): Promise<SetResult> {
  const structures = [...ctx.projected.keys()];
  const rows = rowsFor(type, structures, ctx.target.temperature);
  const families = ctx.target.models.map((m) => m.family);
  // Ground truth per query: the model itself, or (model-as-query) the other models of its family.
  const truth = queries.map((q) => {
    if (q.relevant) return q.relevant.some((r) => !(q.exclude ?? []).includes(r)) ? { relevant: q.relevant, exclude: q.exclude ?? [] } : undefined;
    if (type !== 'model') return { relevant: [q.model], exclude: [] as number[] };
    const rel = familyRelevant(families, q.model);
    return rel ? { relevant: rel, exclude: [q.model] } : undefined;
  });
  const used = queries.map((q, i) => ({ q, t: truth[i] })).filter((x) => x.t !== undefined);
  const result: SetResult = { type, queries: used.length, skipped: queries.length - used.length, rows: {}, ranMethod: {} };
  const perKind = new Map<string, Map<string, QueryMetrics[]>>();
  for (const row of rows) {
    const per: QueryMetrics[] = [];
    let p5 = 0;
    const t0 = performance.now();
    for (const { q, t } of used) {
      const { scores, method } = await scoreRow(ctx, type, row, q);
      if (method) {
        const ran = result.ranMethod![row.key];
        if (ran !== undefined && ran !== method) throw new Error(`the ${row.label} row ran both ${ran} and ${method} on ${type} queries`);
        result.ranMethod![row.key] = method;
      }
      const m = queryMetrics(scores, t!.relevant, { exclude: t!.exclude, ks: [1, 5] });
      per.push(m);
      if (opts.precision) p5 += precisionAtK(scores, t!.relevant, 5, t!.exclude);
      if (q.kind !== undefined) {
        const byRow = perKind.get(q.kind) ?? new Map<string, QueryMetrics[]>();
        perKind.set(q.kind, byRow);
        const list = byRow.get(row.key) ?? [];
        byRow.set(row.key, list);
        list.push(m);
      }
    }
    const ms = performance.now() - t0;
    result.rows[row.key] = { ...aggregate(per), msPerQuery: used.length ? ms / used.length : 0 };
    if (opts.precision) result.rows[row.key].p5 = used.length ? p5 / used.length : NaN;
  }
  if (perKind.size) {
    result.byKind = {};
    for (const [kind, byRow] of [...perKind].sort(([a], [b]) => a.localeCompare(b))) {
      result.byKind[kind] = Object.fromEntries([...byRow].map(([k, list]) => [k, aggregate(list)]));
    }
  }
  return result;
}
