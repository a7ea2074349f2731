/**
 * What the evaluation concludes from the per-set results: row labels, the best content method per
 * query type, the fine-tuned gains, the targets, and the previous run kept for comparison. Pure
 * functions of the results (tested in test/unit/evalSummary.test.ts).
 */
import { rowsFor, type SetResult } from './evaluate.ts';
import { QUERY_TYPES, type QueryType } from './queries.ts';
import { target, type EvalResults, type PreviousRun, type StyleResult, type Target } from './report.ts';

export type Metric = 'top1' | 'top5' | 'mrr';

/** Row key → label over every query type (the model type's "cos of means" label gives way to "1st moment"). */
export function methodLabels(structures: string[], temperature: number): Record<string, string> {
  const methods: Record<string, string> = {};
  for (const type of QUERY_TYPES) for (const r of rowsFor(type, structures, temperature)) methods[r.key] ??= r.label;
  methods['first-moment'] = '1st moment';
  return methods;
}

/** Rows that are not a method of their own: the baseline, and Auto (a copy of the row it picks). */
const NOT_A_METHOD = new Set(['metadata', 'auto']);

/** The content method with the highest `metric` on a set; the first row wins a tie. */
export function bestContent(set: SetResult, metric: Metric): { key: string; value: number } {
  let best: { key: string; value: number } | undefined;
  for (const [key, r] of Object.entries(set.rows)) {
    if (NOT_A_METHOD.has(key)) continue;
    if (!best || r[metric] > best.value) best = { key, value: r[metric] };
  }
  if (!best) throw new Error(`the ${set.type} set has no content rows`);
  return best;
}

export type FineTunedGain = NonNullable<EvalResults['fineTuned']>[number];

/** Each projection's gain over the plain 1st moment, per query type. */
export function fineTunedGains(
  sets: Record<QueryType, SetResult>,
  structures: string[],
  trainerVal: ReadonlyMap<string, { before: number; after: number }>,
): FineTunedGain[] {
  return structures.map((structure) => {
    const key = `fine-tuned-${structure}`;
    const gain = Object.fromEntries(
      QUERY_TYPES.map((type) => {
        const ft = sets[type].rows[key];
        const base = sets[type].rows['first-moment'];
        return [type, { top1: ft.top1 - base.top1, top5: ft.top5 - base.top5, mrr: ft.mrr - base.mrr }];
      }),
    ) as FineTunedGain['gain'];
    return { structure, gain, ...(trainerVal.has(structure) ? { trainerValTop1: trainerVal.get(structure)! } : {}) };
  });
}

export interface TargetInputs {
  sets: Record<QueryType, SetResult>;
  methods: Record<string, string>;
  style: StyleResult | { missing: string } | undefined;
  wallSeconds: number;
  budgetSeconds: number;
  /** For the wall-time target's detail: cores, whether the zoo was reused, cache hits. */
  timeDetail: string;
}

/** The issue's targets (docs/eval.md "Targets"), measured. */
export function evalTargets({ sets, methods, style, wallSeconds, budgetSeconds, timeDetail }: TargetInputs): Target[] {
  const gdImage = sets.image.rows.gaussian?.top1;
  const metaImage = sets.image.rows.metadata?.top1;
  const sketchBest = bestContent(sets.sketch, 'top5');
  const textBest = bestContent(sets.text, 'top5');
  const styled = style && 'learnedMrr' in style ? style : undefined;
  return [
    target('image top-1 (Gaussian density)', gdImage, '≥', 0.8, 'paper: 0.78 1st moment … 0.85 GD-FT on 259 real models'),
    target('sketch top-5 (best method)', sketchBest.value, '≥', 0.5, `best: ${methods[sketchBest.key]}`),
    target('text top-5 (best method)', textBest.value, '≥', 0.6, `best: ${methods[textBest.key]}`),
    target(
      'content image top-1 ÷ metadata-baseline image top-1',
      gdImage !== undefined && metaImage !== undefined ? (metaImage > 0 ? gdImage / metaImage : gdImage > 0 ? Infinity : NaN) : undefined,
      '≥',
      5,
      `GD ${gdImage?.toFixed(3)} vs baseline ${metaImage?.toFixed(3)} (baseline searches the subject word only)`,
    ),
    target(
      'style MRR: learned projection − plain features',
      styled ? styled.learnedMrr - styled.plainMrr : undefined,
      '>',
      0,
      styled ? `learned ${styled.learnedMrr.toFixed(3)} vs plain ${styled.plainMrr.toFixed(3)} (runStyleEval)` : (style as { missing: string } | undefined)?.missing ?? 'not run',
    ),
    target('total wall time (s)', wallSeconds, '≤', budgetSeconds, timeDetail),
  ];
}

/** The best content method by MRR per query type, as a note. */
export function bestByMrrNote(sets: Record<QueryType, SetResult>, methods: Record<string, string>): string {
  return `best method by MRR: ${QUERY_TYPES.map((type) => {
    const b = bestContent(sets[type], 'mrr');
    return `${type} ${methods[b.key]} (${b.value.toFixed(3)})`;
  }).join('; ')}`;
}

/** Which method Auto ran per query type, as a note (undefined when no set has an Auto row). */
export function autoNote(sets: Record<QueryType, SetResult>): string | undefined {
  const ran = QUERY_TYPES.filter((t) => sets[t].ranMethod?.auto).map((t) => `${t} → ${sets[t].ranMethod!.auto}`);
  return ran.length ? `Auto (the app's default) ran: ${ran.join(', ')} (src/core/scoring/methods.ts autoMethod)` : undefined;
}

/**
 * The headline numbers of an earlier results.json, kept beside the new ones (results.md "Compared
 * with the previous run"). Its temperature is the recorded one, or — for runs from before the
 * temperature was recorded — the one in the Monte-Carlo row's label.
 */
export function previousRun(json: unknown): PreviousRun | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const r = json as Partial<EvalResults> & { index?: { temperature?: number } };
  if (!r.sets || !r.methods || typeof r.createdAt !== 'string') return undefined;
  const fromLabel = Number(/T\s*=\s*([0-9.]+)/.exec(r.methods['monte-carlo'] ?? '')?.[1]);
  const temperature = r.index?.temperature ?? (Number.isFinite(fromLabel) ? fromLabel : undefined);
  const rows = {} as PreviousRun['rows'];
  for (const type of QUERY_TYPES) {
    rows[type] = {};
    for (const [key, m] of Object.entries(r.sets[type]?.rows ?? {})) rows[type][key] = { top1: m.top1, top5: m.top5, mrr: m.mrr };
  }
  const rob = r.robustness && 'suites' in r.robustness ? r.robustness.suites : [];
  const suites = rob
    .filter((x) => x.result?.rows?.auto)
    .map((x) => ({ key: x.key, label: x.label, relevance: x.relevance, top1: x.result.rows.auto!.top1, top5: x.result.rows.auto!.top5 }));
  return {
    ...(suites.length ? { suites } : {}),
    createdAt: r.createdAt,
    command: r.command ?? '',
    ...(temperature !== undefined ? { temperature } : {}),
    encoder: r.encoder?.id ?? '',
    zooKey: r.zoo?.key ?? '',
    methods: r.methods,
    rows,
  };
}
