/**
 * Scores every query of every set with every method through src/core — the code the app's worker
 * runs — and turns the rankings into top-1 / top-5 / MRR (tools/eval/metrics.ts).
 */
import { modelSimilarityScores, scoreMethod, type Method, type MethodParams } from '../../src/core/scoring/methods.ts';
import type { SearchIndex } from '../../src/core/index/indexFormat.ts';
import type { ModelMeta } from '../../src/core/index/manifest.ts';
import type { MetadataBaseline } from './baseline.ts';
import { aggregate, familyRelevant, queryMetrics, type QueryMetrics, type SetMetrics } from './metrics.ts';
import type { QueryType } from './queries.ts';

/** One row of the results table. */
export interface MethodRow {
  key: string;
  label: string;
  kind: 'content' | 'fine-tuned' | 'metadata';
  method?: Method;
  params?: MethodParams;
  /** fine-tuned rows: the projection structure (which projected index scores it). */
  structure?: string;
}

export const CONTENT_ROWS: MethodRow[] = [
  { key: 'first-moment', label: '1st moment', kind: 'content', method: 'first-moment' },
  { key: 'gaussian', label: 'Gaussian density (GD)', kind: 'content', method: 'gaussian' },
  { key: 'monte-carlo', label: 'Monte-Carlo (T=100)', kind: 'content', method: 'monte-carlo' },
  { key: 'best-1', label: 'best-k, k=1', kind: 'content', method: 'best-k', params: { k: 1 } },
  { key: 'best-3', label: 'best-k, k=3', kind: 'content', method: 'best-k', params: { k: 3 } },
  { key: 'first-second-moment', label: '1st+2nd moment', kind: 'content', method: 'first-second-moment' },
];

export const METADATA_ROW: MethodRow = { key: 'metadata', label: 'metadata baseline (MiniSearch)', kind: 'metadata' };

export function fineTunedRow(structure: string): MethodRow {
  return { key: `fine-tuned-${structure}`, label: `fine-tuned 1st moment (${structure})`, kind: 'fine-tuned', method: 'fine-tuned', structure };
}

/** A query ready to score: its embedding (content sets), the metadata search string, and its ground truth. */
export interface PreparedQuery {
  embedding?: Float32Array;
  /** What the metadata baseline searches for this query. */
  keywords: string;
  /** Index of the ground-truth model (image, sketch, text) or of the query model (model-as-query). */
  model: number;
  /** Sketch kind, for the per-kind breakdown. */
  kind?: string;
}

export interface EvalContext {
  index: SearchIndex;
  models: readonly ModelMeta[];
  /** Projected indexes (same models, same order) by structure. */
  projected: Map<string, SearchIndex>;
  baseline: MetadataBaseline;
}

export interface RowResult extends SetMetrics {
  /** Mean scoring time per query (ms), encoding excluded. */
  msPerQuery: number;
}

export interface SetResult {
  type: QueryType;
  queries: number;
  /** Queries dropped (model-as-query whose family has no other member). */
  skipped: number;
  rows: Record<string, RowResult>;
  /** Sketch queries: the same metrics per sketch kind. */
  byKind?: Record<string, Record<string, SetMetrics>>;
}

/** Cosine of projected means: model-as-query for a fine-tuned index. */
function projectedModelSimilarity(index: SearchIndex, a: number): Float32Array {
  const p = index.projection!.projectedMeans;
  const { dim, count } = index;
  const out = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += p[a * dim + j] * p[m * dim + j];
    out[m] = s;
  }
  return out;
}

/** The rows that apply to a query type. Model-as-query has cos of means (plain and projected) and the baseline. */
export function rowsFor(type: QueryType, structures: string[]): MethodRow[] {
  const ft = structures.map(fineTunedRow);
  if (type === 'model') return [{ ...CONTENT_ROWS[0], label: '1st moment (cos of means)' }, ...ft, METADATA_ROW];
  return [...CONTENT_ROWS, ...ft, METADATA_ROW];
}

function scoresFor(ctx: EvalContext, type: QueryType, row: MethodRow, q: PreparedQuery): Float32Array {
  if (row.kind === 'metadata') return ctx.baseline.scores(q.keywords);
  const index = row.kind === 'fine-tuned' ? ctx.projected.get(row.structure!)! : ctx.index;
  if (type === 'model') return row.kind === 'fine-tuned' ? projectedModelSimilarity(index, q.model) : modelSimilarityScores(index, q.model);
  return scoreMethod(index, row.method!, q.embedding!, row.params ?? {});
}

export function evaluateSet(ctx: EvalContext, type: QueryType, queries: PreparedQuery[]): SetResult {
  const structures = [...ctx.projected.keys()];
  const rows = rowsFor(type, structures);
  const families = ctx.models.map((m) => m.family);
  // Ground truth per query: the model itself, or (model-as-query) the other models of its family.
  const truth = queries.map((q) => {
    if (type !== 'model') return { relevant: [q.model], exclude: [] as number[] };
    const rel = familyRelevant(families, q.model);
    return rel ? { relevant: rel, exclude: [q.model] } : undefined;
  });
  const used = queries.map((q, i) => ({ q, t: truth[i] })).filter((x) => x.t !== undefined);
  const result: SetResult = { type, queries: used.length, skipped: queries.length - used.length, rows: {} };
  const perKind = new Map<string, Map<string, QueryMetrics[]>>();
  for (const row of rows) {
    const per: QueryMetrics[] = [];
    const t0 = performance.now();
    for (const { q, t } of used) {
      const m = queryMetrics(scoresFor(ctx, type, row, q), t!.relevant, { exclude: t!.exclude, ks: [1, 5] });
      per.push(m);
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
  }
  if (perKind.size) {
    result.byKind = {};
    for (const [kind, byRow] of [...perKind].sort(([a], [b]) => a.localeCompare(b))) {
      result.byKind[kind] = Object.fromEntries([...byRow].map(([k, list]) => [k, aggregate(list)]));
    }
  }
  return result;
}
