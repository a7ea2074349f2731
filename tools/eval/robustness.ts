/**
 * The robustness suites of `npm run eval` (docs/eval.md "Robustness suites"): held-out queries
 * scored by every method through rank(), like the clean sets, next to them in the report.
 *
 *   image  perturbations of the clean image queries (tools/eval/perturb.ts), one suite per kind;
 *          relevance: the model (as the clean image set)
 *   text   one typo per clean text query (relevance: the model, as the clean text set);
 *          held-out synonyms in held-out frames (relevance: every model with the named attributes);
 *          attribute-only queries (only a subject / palette / style; relevance: every model with it)
 *   sketch the held-out sketch renderer (tools/eval/heldoutSketch.ts) on each clean image query;
 *          relevance: every model with the sketched subject (a sketch has no palette or style), and
 *          the exact model as a second row; Auto = what the app runs for sketches
 *   model  model-as-query by subject and by style (relevance: every other model sharing it)
 *
 * The issue-12 targets are measured on the Auto row (the app's default).
 */
import { join } from 'node:path';
import type { ZooModelSpec } from '../zoo/spec.ts';
import { subjectDef } from '../zoo/spec.ts';
import { evaluateSet, type EvalContext, type PreparedQuery, type SetResult } from './evaluate.ts';
import {
  attributeQueries,
  contentWords,
  evalTypo,
  generatorVocabulary,
  synonymMap,
  synonymQueries,
  type Concept,
  type SynonymEntry,
} from './heldout.ts';
import { HELDOUT_SKETCH_LABEL, HELDOUT_SKETCH_VERSION, heldOutSketchAll } from './heldoutSketch.ts';
import { PERTURBATIONS, PERTURBATION_LABELS, PERTURBATION_VERSION, perturbAll } from './perturb.ts';
import type { QueryFile, QueryType } from './queries.ts';
import { target, type Target } from './report.ts';
import { loadLexicon } from '../zoo/lexicon.ts';

export interface SuiteResult {
  key: string;
  label: string;
  group: 'image' | 'sketch' | 'text' | 'model';
  /** How relevance is decided. */
  relevance: string;
  /** Examples of the queries (text suites). */
  examples?: string[];
  result: SetResult;
}

export interface RobustnessResults {
  suites: SuiteResult[];
  /** The issue-12 targets on the Auto row (model-as-query: the 1st moment row). */
  targets: Target[];
  synonymMap: SynonymEntry[];
  /** Eval models with a held-out synonym query, of all. */
  synonymCoverage: { queries: number; models: number; withStyle: number };
  seconds: number;
}

export interface RobustnessInputs {
  ctx: EvalContext;
  specs: ZooModelSpec[];
  queryFile: QueryFile;
  queriesDir: string;
  /** Where the perturbed images are cached. */
  perturbDir: string;
  /** Where the held-out sketches are cached. */
  sketchDir: string;
  /** Model id → index position. */
  modelIndex: (id: string) => number;
  /** The clean text queries' prepared form (for the typo suite's ground truth order). */
  embedImages: (files: string[]) => Promise<Float32Array[]>;
  embedTexts: (texts: string[]) => Promise<Float32Array[]>;
  log: (s: string) => void;
}

/** Models (index order) whose spec has `value` for `field`. */
function withAttribute(specs: Map<number, ZooModelSpec>, n: number, field: Concept, value: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (specs.get(i)![field] === value) out.push(i);
  return out;
}

export async function robustnessSuites(inp: RobustnessInputs): Promise<RobustnessResults> {
  const t0 = performance.now();
  const { ctx, queryFile: qf, log } = inp;
  const n = ctx.target.models.length;
  const specById = new Map(inp.specs.map((s) => [s.id, s]));
  const specAt = new Map<number, ZooModelSpec>();
  for (const s of inp.specs) specAt.set(inp.modelIndex(s.id), s);
  const suites: SuiteResult[] = [];
  const run = async (key: string, label: string, group: SuiteResult['group'], type: QueryType, relevance: string, queries: PreparedQuery[], examples?: string[]) => {
    const ts = performance.now();
    const result = await evaluateSet(ctx, type, queries, { precision: true });
    suites.push({ key, label, group, relevance, ...(examples ? { examples } : {}), result });
    log(`robustness: ${key} (${result.queries} queries × ${Object.keys(result.rows).length} methods) in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  };

  // Image perturbations.
  const files = qf.image.map((q) => join(inp.queriesDir, q.file));
  const perturbed = await perturbAll(files, inp.perturbDir);
  log(`robustness: ${PERTURBATIONS.length} perturbations of ${files.length} image queries in ${inp.perturbDir} (v${PERTURBATION_VERSION})`);
  for (const kind of PERTURBATIONS) {
    const emb = await inp.embedImages(perturbed[kind]);
    const queries = qf.image.map((q, i) => ({ embedding: emb[i], keywords: subjectDef(specById.get(q.model)!.subject).words[0], model: inp.modelIndex(q.model) }));
    await run(`image-${kind}`, `image: ${PERTURBATION_LABELS[kind]}`, 'image', 'image', 'the model', queries);
  }

  // Sketches by the held-out renderer, one per clean image query (one per eval model).
  const sketches = await heldOutSketchAll(files, inp.sketchDir);
  log(`robustness: ${sketches.length} held-out sketches in ${inp.sketchDir} (v${HELDOUT_SKETCH_VERSION})`);
  const sketchEmb = await inp.embedImages(sketches);
  // A sketch draws a subject (and its count), not a palette or a style: relevance is the subject;
  // the exact model is reported beside it.
  await run(
    'sketch-heldout',
    HELDOUT_SKETCH_LABEL,
    'sketch',
    'sketch',
    "every model with the sketched model's subject",
    qf.image.map((q, i) => {
      const spec = specById.get(q.model)!;
      return { embedding: sketchEmb[i], keywords: subjectDef(spec.subject).words[0], model: inp.modelIndex(q.model), relevant: withAttribute(specAt, n, 'subject', spec.subject) };
    }),
  );
  await run(
    'sketch-heldout-model',
    `${HELDOUT_SKETCH_LABEL}, exact model`,
    'sketch',
    'sketch',
    'the model',
    qf.image.map((q, i) => ({ embedding: sketchEmb[i], keywords: subjectDef(specById.get(q.model)!.subject).words[0], model: inp.modelIndex(q.model) })),
  );

  // Text: one typo per clean text query.
  const lexicon = loadLexicon();
  const content = contentWords();
  const vocab = generatorVocabulary(lexicon);
  const typos = qf.text.map((q, i) => ({ q, t: evalTypo(q.text, i, content, vocab) }));
  const typoKept = typos.filter((x) => x.t !== undefined);
  const typoEmb = await inp.embedTexts(typoKept.map((x) => x.t!.text));
  await run(
    'text-typo',
    'text: one typo (clean text queries, one edit in one content word)',
    'text',
    'text',
    'the model',
    typoKept.map((x, i) => ({ embedding: typoEmb[i], keywords: x.t!.text, model: inp.modelIndex(x.q.model) })),
    typoKept.slice(0, 3).map((x) => x.t!.text),
  );

  // Text: held-out synonyms in held-out frames.
  const map = synonymMap(lexicon, vocab);
  const syn = synonymQueries(inp.specs, map);
  const synEmb = await inp.embedTexts(syn.map((q) => q.text));
  const synQueries = syn.map((q, i) => {
    let rel = [...specAt.keys()];
    for (const [field, value] of Object.entries(q.named) as [Concept, string][]) rel = rel.filter((m) => specAt.get(m)![field] === value);
    return { embedding: synEmb[i], keywords: q.text, model: inp.modelIndex(q.model), relevant: rel };
  });
  await run(
    'text-synonyms',
    'text: held-out WordNet synonyms in held-out frames',
    'text',
    'text',
    'every model with the named subject + palette (+ style when it has a synonym)',
    synQueries,
    syn.slice(0, 4).map((q) => q.text),
  );

  // Text: attribute-only queries (the zoo's words), set-based relevance.
  const attrs = attributeQueries();
  const attrEmb = await inp.embedTexts(attrs.map((a) => a.text));
  for (const kind of ['subject', 'palette', 'style'] as Concept[]) {
    const qs: PreparedQuery[] = [];
    const ex: string[] = [];
    attrs.forEach((a, i) => {
      if (a.kind !== kind) return;
      const rel = withAttribute(specAt, n, kind, a.id);
      if (!rel.length) return;
      qs.push({ embedding: attrEmb[i], keywords: a.text, model: rel[0], relevant: rel });
      if (ex.length < 2) ex.push(a.text);
    });
    await run(`attr-${kind}`, `text: only a ${kind}`, 'text', 'text', `every model with that ${kind}`, qs, ex);
  }

  // Model-as-query by subject and by style.
  for (const field of ['subject', 'style'] as Concept[]) {
    const qs = qf.model.map((q) => {
      const m = inp.modelIndex(q.model);
      const rel = withAttribute(specAt, n, field, specAt.get(m)![field]).filter((x) => x !== m);
      return { keywords: ctx.target.models[m].name, model: m, relevant: rel, exclude: [m] };
    });
    await run(`model-${field}`, `model as query, by ${field}`, 'model', 'model', `every other model with the query model's ${field}`, qs);
  }

  const withStyle = syn.filter((q) => q.named.style !== undefined).length;
  return {
    suites,
    targets: [],
    synonymMap: map,
    synonymCoverage: { queries: syn.length, models: inp.specs.length, withStyle },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The issue-12 targets (docs/eval.md "Robustness suites"), on the Auto row. */
export function robustnessTargets(clean: Record<QueryType, SetResult>, suites: SuiteResult[]): Target[] {
  const auto = (set: SetResult | undefined, metric: 'top1' | 'top5') => set?.rows.auto?.[metric];
  const suite = (key: string) => suites.find((s) => s.key === key)?.result;
  const detail = (set: SetResult | undefined) => (set ? `Auto row (ran ${set.ranMethod?.auto ?? '?'}), ${set.queries} queries` : 'not measured');
  return [
    target('clean image top-1', auto(clean.image, 'top1'), '≥', 0.95, detail(clean.image)),
    target('text in the zoo\'s words (clean text) top-1', auto(clean.text, 'top1'), '≥', 0.8, detail(clean.text)),
    target('held-out synonyms top-1', auto(suite('text-synonyms'), 'top1'), '≥', 0.6, detail(suite('text-synonyms'))),
    target('held-out synonyms top-5', auto(suite('text-synonyms'), 'top5'), '≥', 0.85, detail(suite('text-synonyms'))),
    target('one typo top-1', auto(suite('text-typo'), 'top1'), '≥', 0.5, detail(suite('text-typo'))),
    target('screenshot frame top-1', auto(suite('image-frame'), 'top1'), '≥', 0.85, detail(suite('image-frame'))),
    target('rotation 7° top-1', auto(suite('image-rotate7'), 'top1'), '≥', 0.85, detail(suite('image-rotate7'))),
    target('centre crop 70 % top-1', auto(suite('image-crop70'), 'top1'), '≥', 0.85, detail(suite('image-crop70'))),
    target('held-out sketch renderer top-1 (right subject)', auto(suite('sketch-heldout'), 'top1'), '≥', 0.6, detail(suite('sketch-heldout'))),
  ];
}
