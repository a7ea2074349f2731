/**
 * `npm run eval` — the retrieval evaluation on the procedural eval zoo (docs/eval.md).
 *
 *   npm run eval                                     # 300 models × 32 samples, zoo-encoder
 *   npm run eval -- --quick --encoder test-encoder   # a small smoke run
 *   npm run eval -- --train-projection               # also train + evaluate the fine-tuned projection
 *   npm run eval -- --projection proj.json           # evaluate a given projection
 *
 * Steps (each a function below, in this order): parseOptions → chooseEncoder → ensureZoo →
 * buildEvalIndex → maybeProjections → embedQueries → scoreAll (every method through rank() of
 * src/core/scoring/rank.ts, + the metadata baseline) → styleEval → summarise → writeReports →
 * printSummary.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENCODERS, resolveEncoderUrl, type EncoderDescriptor } from '../../src/core/encode/encoders.ts';
import { supportedMethods } from '../../src/core/scoring/methods.ts';
import { buildIndex } from '../lib/indexBuilder/buildIndex.ts';
import { createProgress } from '../lib/indexBuilder/progress.ts';
import { loadProjection, type Projection } from '../lib/indexBuilder/projection.ts';
import { openLocalIndex, type LocalIndex } from '../lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../lib/nodeEncoder.ts';
import { subjectDef } from '../zoo/spec.ts';
import { metadataBaseline } from './baseline.ts';
import { evaluateSet, type EvalContext, type PreparedQuery, type SetResult } from './evaluate.ts';
import { exportProjectionData, PROJECTION_DATA_VERSION } from './export-projection-data.ts';
import { embedImageFiles, embedTexts, readQueryFile, QUERY_TYPES, type QueryType } from './queries.ts';
import { consoleTable, markdownReport, targetLines, type EvalResults, type StyleResult } from './report.ts';
import { autoNote, bestByMrrNote, bestContent, evalTargets, fineTunedGains, methodLabels, previousRun } from './summary.ts';
import { ensureEvalZoo, type EvalZoo } from './zoo.ts';
import { robustnessSuites, robustnessTargets, type RobustnessResults } from './robustness.ts';
import { perturbedDir } from './perturb.ts';
import { HELDOUT_SKETCH_VERSION } from './heldoutSketch.ts';
import { robustnessConsole } from './report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The projection trainer (the zoo-encoder engineer's); EVAL_TRAIN_PROJECTION_PY overrides it (tests). */
const TRAIN_PROJECTION_PY = resolve(process.env.EVAL_TRAIN_PROJECTION_PY ?? join(ROOT, 'tools/zoo-encoder/train_projection.py'));
const PYTHON = '/usr/bin/python3';
/** The whole run must fit in this (the 2-core CI machine). */
const BUDGET_SECONDS = 600;
/** Time kept for what follows the projections: queries, scoring, the style evaluation. */
const RESERVE_SECONDS = 120;
const STRUCTURES = ['full', 'triangular', 'diagonal'] as const;

const USAGE = `usage: npm run eval -- [options]
  --models <n>           eval zoo models (default 300; --quick 60)
  --samples <n>          samples per model (default 32; --quick 16)
  --seed <n>             zoo seed (default 0)
  --text-per-model <n>   text queries per model, 1–3 (default 3; --quick 1)
  --encoder <id>         encoder of the index and queries (default zoo-encoder; falls back to
                         test-encoder with a warning when zoo-encoder is not installed)
  --cache <dir>          cache folder (default .cache/eval): zoo, indexes, embeddings
  --quick                a small, fast run (also a quick style evaluation)
  --projection <file>    evaluate this fine-tuned projection (JSON, docs/build-index.md)
  --train-projection     export training-zoo data, train projections with
                         tools/zoo-encoder/train_projection.py and evaluate them
  --structures <list>    structures to train (default full,triangular,diagonal as time allows)
  --train-models <n>     train-zoo models for the projection data (default 300; --quick 80)
  --no-style             skip the style-zoo evaluation
  --no-robustness        skip the robustness suites (perturbed images, typos, held-out synonyms,
                         attribute-only queries, model-as-query by subject and by style)
  --out <dir>            where results.json / results.md go (default docs/eval; --quick: the cache)
  -h, --help             this text`;

interface Options {
  models: number;
  samples: number;
  seed: number;
  textPerModel: number;
  encoder: string;
  encoderExplicit: boolean;
  cache: string;
  quick: boolean;
  projection?: string;
  trainProjection: boolean;
  structures: string[];
  trainModels: number;
  style: boolean;
  robustness: boolean;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      samples: { type: 'string' },
      seed: { type: 'string' },
      'text-per-model': { type: 'string' },
      encoder: { type: 'string' },
      cache: { type: 'string' },
      quick: { type: 'boolean', default: false },
      projection: { type: 'string' },
      'train-projection': { type: 'boolean', default: false },
      structures: { type: 'string' },
      'train-models': { type: 'string' },
      'no-style': { type: 'boolean', default: false },
      'no-robustness': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick!;
  const int = (v: string | undefined, name: string, dflt: number, min: number, max = Infinity) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}…${max}, got "${v}"`);
    return n;
  };
  const structures = (values.structures ?? STRUCTURES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of structures) if (!(STRUCTURES as readonly string[]).includes(s)) throw new UsageError(`unknown structure "${s}" (${STRUCTURES.join(', ')})`);
  const cache = values.cache ?? join('.cache', 'eval');
  return {
    models: int(values.models, 'models', quick ? 60 : 300, 4),
    samples: int(values.samples, 'samples', quick ? 16 : 32, 2),
    seed: int(values.seed, 'seed', 0, 0),
    textPerModel: int(values['text-per-model'], 'text-per-model', quick ? 1 : 3, 1, 3),
    encoder: values.encoder ?? 'zoo-encoder',
    encoderExplicit: values.encoder !== undefined,
    cache,
    quick,
    projection: values.projection,
    trainProjection: values['train-projection']!,
    structures,
    trainModels: int(values['train-models'], 'train-models', quick ? 80 : 300, 4),
    style: !values['no-style'],
    robustness: !values['no-robustness'],
    out: values.out ?? (quick ? join(cache, 'quick-results') : join('docs', 'eval')),
  };
}

class UsageError extends Error {}
/** A failure that ends the run with this exit code and message (no usage text). */
class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const log = (s: string) => console.error(s);
const sinceStart = (t0: number) => (performance.now() - t0) / 1000;

/** Is the encoder usable here: a descriptor, and (for files served from public/) the files on disk? */
function encoderMissing(id: string): string | undefined {
  const desc = ENCODERS[id];
  if (!desc) return `no "${id}" entry in src/core/encode/encoders.ts ENCODERS`;
  for (const file of [desc.text, desc.vision]) {
    const url = resolveEncoderUrl(file, new URL('file:' + PUBLIC_DIR).href);
    if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) return `${relative(ROOT, fileURLToPath(url))} is missing`;
  }
  return undefined;
}

/**
 * A short fingerprint of the encoder's weights: embeddings cached under an encoder id must be
 * recomputed when the weights behind that id change (e.g. a retrained zoo encoder).
 */
async function encoderFingerprint(desc: EncoderDescriptor): Promise<string> {
  const h = createHash('sha256').update(desc.id);
  for (const file of [desc.vision, desc.text]) {
    const url = resolveEncoderUrl(file, new URL('file:' + PUBLIC_DIR).href);
    if (file.sha256) h.update(file.sha256);
    else if (url.startsWith('file:')) h.update(await readFile(fileURLToPath(url)));
    else h.update(`${url}|${file.bytes ?? ''}`);
  }
  return h.digest('hex').slice(0, 10);
}

function runPython(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(PYTHON, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolvePromise({ code: -1, output: String(err) }));
    child.on('exit', (code) => resolvePromise({ code: code ?? -1, output }));
  });
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

type StyleModule = typeof import('../style-zoo/eval.ts');

/**
 * Style retrieval (the style zoo's own evaluation, tools/style-zoo/eval.ts `runStyleEval`).
 * HOOK: loaded dynamically so a missing or failing style zoo never stops the content evaluation;
 * the result is reported as "n/a" with the reason.
 */
async function styleEval(o: Options, encoderId: string): Promise<StyleResult | { missing: string }> {
  const path = join(ROOT, 'tools/style-zoo/eval.ts');
  if (!existsSync(path)) return { missing: 'tools/style-zoo/eval.ts (runStyleEval) does not exist yet' };
  try {
    const mod = (await import('../style-zoo/eval.ts')) as StyleModule;
    if (typeof mod.runStyleEval !== 'function') return { missing: 'tools/style-zoo/eval.ts does not export runStyleEval' };
    const r = await mod.runStyleEval({ encoderId, cacheDir: join(o.cache, 'style-zoo'), quick: o.quick, log: (s: string) => log(`  style: ${s}`) });
    const find = (re: RegExp) => r.rows.find((row) => re.test(row.method));
    const learned = find(/^d_avg \(learned projection\)/);
    const plain = find(/^d_avg \(plain features\)/);
    if (!learned || !plain) return { missing: `runStyleEval returned no d_avg rows (rows: ${r.rows.map((x) => x.method).join(', ')})` };
    return { learnedMrr: learned.mrr, plainMrr: plain.mrr, rows: r.rows, styles: r.styles, queries: r.queries, seconds: r.seconds, notes: r.notes };
  } catch (err) {
    return { missing: `runStyleEval failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** What every step shares: the options, the start time, the notes and the time per phase. */
interface Run {
  argv: string[];
  o: Options;
  t0: number;
  notes: string[];
  timing: Record<string, number>;
}

/** Runs `fn`, adding its seconds to the phase `name` of the run's timing. */
async function timed<T>(run: Run, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    run.timing[name] = (run.timing[name] ?? 0) + (performance.now() - t) / 1000;
  }
}

interface EncoderSetup {
  desc: EncoderDescriptor;
  encoder: NodeEncoder;
  fingerprint: string;
  /** Encoder id + weights hash: keys the embedding cache and the index folders. */
  encTag: string;
  /** Set when the zoo encoder was missing and the test encoder stands in. */
  note?: string;
}

/** Picks the requested encoder (or falls back to test-encoder with a note when zoo-encoder is missing) and loads it. */
async function chooseEncoder(run: Run): Promise<EncoderSetup> {
  let encoderId = run.o.encoder;
  let note: string | undefined;
  const missing = encoderMissing(encoderId);
  if (missing) {
    if (run.o.encoderExplicit) throw new ExitError(`encoder "${encoderId}" is not available: ${missing}`, 2);
    note = `zoo-encoder is not available (${missing}); fell back to test-encoder, a colour-only 32-d fixture — these numbers are NOT representative`;
    log(`warning: ${note}`);
    run.notes.push(note);
    encoderId = 'test-encoder';
  }
  const desc = ENCODERS[encoderId];
  const fingerprint = await encoderFingerprint(desc);
  const encoder = await timed(run, 'encoder load', () => NodeEncoder.load(desc));
  log(`encoder: ${desc.label} (${desc.id}, ${desc.dim}-d, weights ${fingerprint})`);
  return { desc, encoder, fingerprint, encTag: `${desc.id}-${fingerprint}`, note };
}

/** Generates the eval zoo's model folders and query sets, or reuses them from the cache. */
async function ensureZoo(run: Run): Promise<EvalZoo> {
  const { o } = run;
  const zoo = await timed(run, 'zoo generation', async () => {
    await mkdir(o.cache, { recursive: true });
    return ensureEvalZoo(o.cache, { models: o.models, samples: o.samples, seed: o.seed, textPerModel: o.textPerModel }, log);
  });
  if (zoo.reused) log(`eval zoo: reusing ${zoo.dir}`);
  return zoo;
}

/** Builds an index of the eval zoo into a folder (optionally with a projection) and opens it as the app would. */
type IndexBuilder = (outDir: string, projection?: Projection) => Promise<{ index: LocalIndex; fromCache: number; total: number }>;

/** The builder every eval index uses: the same parameters, the embedding cache keyed by the encoder's weights. */
function indexBuilder(run: Run, enc: EncoderSetup, zoo: EvalZoo): IndexBuilder {
  const buildOpts = {
    modelsDir: zoo.modelsDir,
    encoderId: enc.desc.id,
    keepSamples: 32,
    precision: 'f16' as const,
    samplesPrecision: 'f32' as const,
    epsilon: 1e-3,
    thumbnails: 1,
    cacheDir: join(run.o.cache, 'embeddings', enc.encTag),
    force: true,
    licence: 'CC0-1.0',
  };
  return async (outDir, projection) => {
    const tb = performance.now();
    const report = await buildIndex(
      { ...buildOpts, outDir, projection, name: `eval-${zoo.key}${projection ? `-ft-${projection.structure}` : ''}` },
      { encoder: enc.encoder, progress: createProgress({ label: `index${projection ? ` (${projection.structure})` : ''}` }) },
    );
    log(
      `index: ${report.models.length} models → ${outDir} (${report.images.embedded} embedded, ${report.images.fromCache} from cache, ` +
        `${((performance.now() - tb) / 1000).toFixed(1)} s)`,
    );
    return { index: await openLocalIndex(outDir), fromCache: report.images.fromCache, total: report.images.total };
  };
}

interface EvalIndex {
  plain: LocalIndex;
  dir: string;
  /** Sample embeddings taken from the cache, of all. */
  cacheHits: { fromCache: number; total: number };
}

/** Builds the plain eval index (ε = 1e-3, f16 factors, 32 kept f32 samples) and opens it through openIndex. */
async function buildEvalIndex(run: Run, enc: EncoderSetup, zoo: EvalZoo, build: IndexBuilder): Promise<EvalIndex> {
  const dir = join(zoo.dir, `index-${enc.encTag}`);
  const { index, fromCache, total } = await timed(run, 'index build', () => build(dir));
  log(`index temperature T = ${index.temperature} (Monte-Carlo, 1st+2nd moment)`);
  return { plain: index, dir, cacheHits: { fromCache, total } };
}

interface Projections {
  /** Projected indexes by structure ("given-<structure>" for --projection). */
  projected: Map<string, LocalIndex>;
  info: string[];
  /** The trainer's held-out top-1 before → after, per trained structure. */
  trainerVal: Map<string, { before: number; after: number }>;
}

/** The fine-tuned indexes: one for --projection, and (--train-projection) one per structure trained within the time budget. */
async function maybeProjections(run: Run, enc: EncoderSetup, zoo: EvalZoo, build: IndexBuilder): Promise<Projections> {
  const out: Projections = { projected: new Map(), info: [], trainerVal: new Map() };
  if (run.o.projection) await givenProjection(run, enc, zoo, build, out);
  if (run.o.trainProjection) await trainProjections(run, enc, zoo, build, out);
  return out;
}

/** --projection: an index built with the given projection file. */
async function givenProjection(run: Run, enc: EncoderSetup, zoo: EvalZoo, build: IndexBuilder, out: Projections): Promise<void> {
  const file = run.o.projection!;
  await timed(run, 'projected index build', async () => {
    const p = await loadProjection(file, enc.desc.dim);
    const hash = (await sha256File(file)).slice(0, 10);
    // Keyed apart from trained projections of the same structure (both may be evaluated at once).
    out.projected.set(`given-${p.structure}`, (await build(join(zoo.dir, `index-${enc.encTag}-ft-${p.structure}-${hash}`), p)).index);
    out.info.push(`given-${p.structure}: ${file}`);
  });
}

/** --train-projection: exports training-zoo data, trains each structure with the Python trainer while time allows, builds its index. */
async function trainProjections(run: Run, enc: EncoderSetup, zoo: EvalZoo, build: IndexBuilder, out: Projections): Promise<void> {
  const { o, notes } = run;
  if (!existsSync(TRAIN_PROJECTION_PY)) {
    const msg = `--train-projection: ${relative(ROOT, TRAIN_PROJECTION_PY)} does not exist yet; no fine-tuned rows`;
    log(`warning: ${msg}`);
    notes.push(msg);
    return;
  }
  const data = { models: o.trainModels, samples: o.quick ? 8 : 16, imagesPerModel: 2, textsPerModel: 2, sketches: true, seed: o.seed };
  const dataKey = `v${PROJECTION_DATA_VERSION}-m${data.models}-s${data.samples}-i${data.imagesPerModel}-t${data.textsPerModel}-seed${data.seed}`;
  // Keyed by the encoder weights and the zoo code (the train zoo renders with the same code).
  const dataDir = join(o.cache, `projection-data-${enc.encTag}-${dataKey}-${zoo.key.split('-').pop()}`);
  await timed(run, 'projection data', async () => {
    if (!existsSync(join(dataDir, 'meta.json'))) await exportProjectionData({ dataDir, encoder: enc.encoder, ...data, log });
    else log(`projection data: reusing ${dataDir}`);
  });
  const meta = JSON.parse(await readFile(join(dataDir, 'meta.json'), 'utf8')) as { Q: number; M: number; kinds: Record<string, number> };
  const pyHash = (await sha256File(TRAIN_PROJECTION_PY)).slice(0, 10);
  const wanted = o.quick && !run.argv.includes('--structures') ? ['full'] : o.structures;
  let slowest = 0; // seconds of the slowest structure so far (training + its index)
  for (const structure of wanted) {
    const elapsed = sinceStart(run.t0);
    // Keep RESERVE_SECONDS for the queries, the methods and the style evaluation.
    if (structure !== wanted[0] && elapsed + slowest + RESERVE_SECONDS > BUDGET_SECONDS) {
      const msg = `skipped the ${structure} projection: not enough time left in the ${BUDGET_SECONDS} s budget (${elapsed.toFixed(0)} s used)`;
      log(msg);
      notes.push(msg);
      continue;
    }
    const tp = performance.now();
    const projFile = join(dataDir, `proj-${structure}-${pyHash}.json`);
    const p = await timed(run, 'projection training', () => trainOneProjection(run, enc, dataDir, structure, projFile, out));
    if (!p) continue;
    const built = await timed(run, 'projected index build', () => build(join(zoo.dir, `index-${enc.encTag}-ft-${structure}-${pyHash}`), p));
    out.projected.set(structure, built.index);
    slowest = Math.max(slowest, (performance.now() - tp) / 1000);
    out.info.push(structure);
  }
  if (out.projected.size) {
    notes.push(
      `fine-tuned projections trained by ${relative(ROOT, TRAIN_PROJECTION_PY)} on ${meta.Q} training-zoo queries ` +
        `(${Object.entries(meta.kinds).map(([k, v]) => `${v} ${k}`).join(', ')}) of ${meta.M} train-zoo models, none of them in the eval zoo; ` +
        `the trainer's held-out top-1 (20 % of those queries) before → after: ` +
        [...out.trainerVal].map(([s, v]) => `${s} ${v.before.toFixed(3)} → ${v.after.toFixed(3)}`).join(', '),
    );
  }
}

/** Trains one structure (or reuses its cached projection), records the trainer's held-out top-1; undefined when training failed. */
async function trainOneProjection(run: Run, enc: EncoderSetup, dataDir: string, structure: string, projFile: string, out: Projections): Promise<Projection | undefined> {
  if (!existsSync(projFile)) {
    log(`projection: training ${structure} (${relative(ROOT, TRAIN_PROJECTION_PY)})`);
    const r = await runPython([TRAIN_PROJECTION_PY, '--data', dataDir, '--structure', structure, '--out', `${projFile}.tmp`]);
    if (r.code !== 0) {
      const msg = `train_projection.py --structure ${structure} failed (exit ${r.code}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`;
      log(`warning: ${msg}`);
      run.notes.push(msg);
      return undefined;
    }
    for (const l of r.output.split('\n').filter((x) => /before|after/.test(x))) log(`  ${l.trim()}`);
    await writeFile(`${projFile}.log`, r.output);
    await rename(`${projFile}.tmp`, projFile);
  } else log(`projection: reusing ${projFile}`);
  // The trainer's own held-out split (20 % of the training-zoo queries): top-1 before → after.
  const trainerLog = existsSync(`${projFile}.log`) ? await readFile(`${projFile}.log`, 'utf8') : '';
  const valTop1 = (when: string) => Number(new RegExp(`${when}[^\\n]*val top-1 ([0-9.]+)`).exec(trainerLog)?.[1] ?? NaN);
  out.trainerVal.set(structure, { before: valTop1('before'), after: valTop1('after') });
  return loadProjection(projFile, enc.desc.dim);
}

/** Reads the zoo's query sets, embeds image, sketch and text queries with the encoder, and ties each to its ground-truth model. */
async function embedQueries(run: Run, enc: EncoderSetup, zoo: EvalZoo, plain: LocalIndex): Promise<Record<QueryType, PreparedQuery[]>> {
  return timed(run, 'query embedding', async () => {
    const qf = await readQueryFile(zoo.queriesDir);
    const specById = new Map(zoo.specs.map((s) => [s.id, s]));
    const modelIndex = (id: string) => {
      const i = plain.ids.get(id);
      if (i === undefined) throw new Error(`query ground truth "${id}" is not a model of the eval index`);
      return i;
    };
    const subjectWord = (id: string) => subjectDef(specById.get(id)!.subject).words[0];
    const [imageEmb, sketchEmb, textEmb] = await Promise.all([
      embedImageFiles(enc.encoder, qf.image.map((q) => join(zoo.queriesDir, q.file))),
      embedImageFiles(enc.encoder, qf.sketch.map((q) => join(zoo.queriesDir, q.file))),
      embedTexts(enc.encoder, qf.text.map((q) => q.text)),
    ]);
    return {
      image: qf.image.map((q, i) => ({ embedding: imageEmb[i], keywords: subjectWord(q.model), model: modelIndex(q.model) })),
      sketch: qf.sketch.map((q, i) => ({ embedding: sketchEmb[i], keywords: subjectWord(q.model), model: modelIndex(q.model), kind: q.kind })),
      text: qf.text.map((q, i) => ({ embedding: textEmb[i], keywords: q.text, model: modelIndex(q.model) })),
      model: qf.model.map((q) => ({ keywords: plain.models[modelIndex(q.model)].name, model: modelIndex(q.model) })),
    };
  });
}

/** Ranks every query of every set with every method through rank() (and the metadata baseline) and computes the metrics. */
async function scoreAll(run: Run, plain: LocalIndex, projected: Map<string, LocalIndex>, prepared: Record<QueryType, PreparedQuery[]>): Promise<Record<QueryType, SetResult>> {
  return timed(run, 'scoring', async () => {
    const ids = plain.models.map((m) => m.id).join('\n');
    for (const [s, p] of projected) if (p.models.map((m) => m.id).join('\n') !== ids) throw new Error(`the ${s} projected index lists different models`);
    const ctx: EvalContext = { target: plain, projected, baseline: metadataBaseline(plain.models) };
    const sets = {} as Record<QueryType, SetResult>;
    for (const type of QUERY_TYPES) {
      const ts = performance.now();
      sets[type] = await evaluateSet(ctx, type, prepared[type]);
      log(`scored ${sets[type].queries} ${type} queries × ${Object.keys(sets[type].rows).length} methods in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    }
    return sets;
  });
}

/** The robustness suites (tools/eval/robustness.ts) on the plain index, unless --no-robustness. */
async function maybeRobustness(
  run: Run,
  enc: EncoderSetup,
  zoo: EvalZoo,
  plain: LocalIndex,
  projected: Map<string, LocalIndex>,
  sets: Record<QueryType, SetResult>,
): Promise<RobustnessResults | { missing: string }> {
  if (!run.o.robustness) return { missing: 'skipped (--no-robustness)' };
  return timed(run, 'robustness suites', async () => {
    const r = await robustnessSuites({
      ctx: { target: plain, projected, baseline: metadataBaseline(plain.models) },
      specs: zoo.specs,
      queryFile: await readQueryFile(zoo.queriesDir),
      queriesDir: zoo.queriesDir,
      perturbDir: perturbedDir(zoo.dir),
      sketchDir: join(zoo.dir, `heldout-sketch-v${HELDOUT_SKETCH_VERSION}`),
      modelIndex: (id) => {
        const i = plain.ids.get(id);
        if (i === undefined) throw new Error(`robustness: "${id}" is not a model of the eval index`);
        return i;
      },
      embedImages: (files) => embedImageFiles(enc.encoder, files),
      embedTexts: (texts) => embedTexts(enc.encoder, texts),
      log,
    });
    r.targets = robustnessTargets(sets, r.suites);
    return r;
  });
}

/** Runs the style-zoo evaluation unless --no-style. */
async function maybeStyleEval(run: Run, encoderId: string): Promise<StyleResult | { missing: string }> {
  if (!run.o.style) return { missing: 'skipped (--no-style)' };
  log('style zoo: runStyleEval …');
  return timed(run, 'style evaluation', () => styleEval(run.o, encoderId));
}

interface Parts {
  enc: EncoderSetup;
  zoo: EvalZoo;
  evalIndex: EvalIndex;
  proj: Projections;
  sets: Record<QueryType, SetResult>;
  style: StyleResult | { missing: string };
  robustness: RobustnessResults | { missing: string };
}

/** Labels, targets, fine-tuned gains and notes: everything results.json holds (the previous run is added by writeReports). */
function summarise(run: Run, { enc, zoo, evalIndex, proj, sets, style, robustness }: Parts): EvalResults {
  const { o, notes } = run;
  const { plain, cacheHits } = evalIndex;
  const structures = [...proj.projected.keys()];
  const methods = methodLabels(structures, plain.temperature);
  const wallSeconds = sinceStart(run.t0);
  const targets = evalTargets({
    sets,
    methods,
    style,
    wallSeconds,
    budgetSeconds: BUDGET_SECONDS,
    timeDetail:
      `${availableParallelism()} cores; ${zoo.reused ? 'eval zoo reused from the cache' : 'eval zoo generated in this run'}, ` +
      `${cacheHits.fromCache} of ${cacheHits.total} sample embeddings from the cache`,
  });
  const fineTuned = fineTunedGains(sets, structures, proj.trainerVal);
  notes.push(bestByMrrNote(sets, methods));
  const auto = autoNote(sets);
  if (auto) notes.push(auto);
  if (!zoo.reused) notes.push(`the eval zoo was generated in this run (${zoo.seconds.toFixed(1)} s of the wall time)`);
  notes.push(
    'metadata baseline: MiniSearch (BM25, prefix, fuzzy 0.2, OR, stop words dropped) over name + description + family + creator; ' +
      'text queries search the query text, image and sketch queries the ground-truth model’s subject word only, model-as-query the query model’s name',
    'ties in a ranking count as the expectation over all orderings of the tied models (tools/eval/metrics.ts)',
    'every content row is ranked by rank() (src/core/scoring/rank.ts), the function the app and the search CLI run, with the row\'s method and ' +
      `the index's temperature T = ${plain.temperature}; the metrics read the score of every model (ranking.scores). Model-as-query ` +
      'compares means: plain with the 1st moment, projected with the fine-tuned method',
  );
  return {
    createdAt: new Date().toISOString(),
    command: `npm run eval -- ${run.argv.join(' ')}`.trim(),
    encoder: { id: enc.desc.id, label: enc.desc.label, dim: enc.desc.dim, requested: o.encoder, ...(enc.note ? { note: enc.note } : {}) },
    zoo: { split: 'eval', models: zoo.specs.length, samplesPerModel: o.samples, seed: o.seed, key: zoo.key, families: new Set(zoo.specs.map((s) => s.family)).size },
    index: {
      models: plain.index.count,
      epsilon: 1e-3,
      precision: 'f16',
      keepSamples: 32,
      samplesPrecision: 'f32',
      projections: proj.info,
      temperature: plain.temperature,
    },
    counts: Object.fromEntries(QUERY_TYPES.map((q) => [q, sets[q].queries])) as Record<QueryType, number>,
    methods,
    sets,
    ...(fineTuned.length ? { fineTuned } : {}),
    style,
    targets,
    robustness,
    timing: run.timing,
    wallSeconds,
    notes,
  };
}

/** Writes results.json and results.md (beside the numbers of the run they replace) and the cache's latest.json for the browser test. */
async function writeReports(run: Run, results: EvalResults, evalIndex: EvalIndex, zoo: EvalZoo): Promise<void> {
  const { o } = run;
  await mkdir(o.out, { recursive: true });
  const jsonPath = join(o.out, 'results.json');
  if (existsSync(jsonPath)) {
    try {
      const previous = previousRun(JSON.parse(await readFile(jsonPath, 'utf8')));
      if (previous) results.previous = previous;
    } catch {
      log(`warning: could not read the previous ${jsonPath}; no comparison with it`);
    }
  }
  // A pinned run kept beside every new one (say, the encoder before a change), written by hand from an old results.json.
  const baselinePath = join(o.out, 'baseline.json');
  if (existsSync(baselinePath)) {
    const b = JSON.parse(await readFile(baselinePath, 'utf8')) as { about?: unknown; results?: unknown };
    const run = previousRun(b.results);
    if (run && typeof b.about === 'string') results.baseline = { ...run, about: b.about };
    else log(`warning: ${baselinePath} is not {about, results: <a results.json>}; no comparison with it`);
  }
  await writeFile(jsonPath, JSON.stringify(results, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  await writeFile(join(o.out, 'results.md'), markdownReport(results));
  // Where the browser test (test/e2e/eval-browser.spec.ts) finds the eval index and its queries.
  await writeFile(
    join(o.cache, 'latest.json'),
    JSON.stringify(
      {
        key: zoo.key,
        encoder: results.encoder.id,
        indexDir: relative(resolve(o.cache), resolve(evalIndex.dir)),
        queriesDir: relative(resolve(o.cache), resolve(zoo.queriesDir)),
        defaultMethod: supportedMethods(evalIndex.plain.index)[0],
      },
      null,
      1,
    ) + '\n',
  );
}

/** The table, the targets and the timings on stdout. */
function printSummary(run: Run, results: EvalResults): void {
  const { sets, methods, fineTuned = [], style, targets, timing } = results;
  console.log('');
  console.log(`encoder ${results.encoder.label} (${results.encoder.id}, ${results.encoder.dim}-d)${results.encoder.note ? ' — FALLBACK, not representative' : ''}`);
  console.log(
    `eval zoo ${results.zoo.models} models × ${results.zoo.samplesPerModel} samples (${results.zoo.families} families); index ε = 1e-3, f16 factors, 32 kept samples, ` +
      `T = ${results.index.temperature}` +
      (results.index.projections.length ? `; projections: ${results.index.projections.join(', ')}` : ''),
  );
  console.log(`queries: ${QUERY_TYPES.map((q) => `${sets[q].queries} ${q}`).join(', ')}`);
  console.log('');
  console.log(consoleTable(results));
  if (sets.sketch.byKind) {
    const best = bestContent(sets.sketch, 'top5').key;
    console.log(`\nsketch ${methods[best]} by kind: ${Object.entries(sets.sketch.byKind).map(([k, r]) => `${k} top-5 ${r[best]?.top5.toFixed(3)}`).join(', ')}`);
  }
  for (const f of fineTuned) {
    console.log(`fine-tuned (${f.structure}) gain over 1st moment: ${QUERY_TYPES.map((q) => `${q} top-1 ${f.gain[q].top1 >= 0 ? '+' : ''}${f.gain[q].top1.toFixed(3)}`).join(', ')}`);
  }
  if (style && 'learnedMrr' in style) console.log(`style MRR: learned projection ${style.learnedMrr.toFixed(3)}, plain features ${style.plainMrr.toFixed(3)}`);
  console.log('');
  console.log(targetLines(targets));
  if (results.robustness && 'suites' in results.robustness) {
    console.log('');
    console.log(robustnessConsole(results));
    console.log('');
    console.log(targetLines(results.robustness.targets));
  } else if (results.robustness) console.log(`\nrobustness suites: ${results.robustness.missing}`);
  console.log(`\nwall time ${results.wallSeconds.toFixed(1)} s (${Object.entries(timing).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`);
  console.log(`results: ${join(run.o.out, 'results.json')}, ${join(run.o.out, 'results.md')}`);
}

/** The evaluation, step by step; returns the exit code (0 measured, 2 bad flag or missing encoder). */
async function main(argv: string[]): Promise<number> {
  const t0 = performance.now();
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const run: Run = { argv, o, t0, notes: [], timing: {} };
  try {
    const enc = await chooseEncoder(run);
    const zoo = await ensureZoo(run);
    const build = indexBuilder(run, enc, zoo);
    const evalIndex = await buildEvalIndex(run, enc, zoo, build);
    const proj = await maybeProjections(run, enc, zoo, build);
    const prepared = await embedQueries(run, enc, zoo, evalIndex.plain);
    const sets = await scoreAll(run, evalIndex.plain, proj.projected, prepared);
    const robustness = await maybeRobustness(run, enc, zoo, evalIndex.plain, proj.projected, sets);
    const style = await maybeStyleEval(run, enc.desc.id);
    const results = summarise(run, { enc, zoo, evalIndex, proj, sets, style, robustness });
    await writeReports(run, results, evalIndex, zoo);
    printSummary(run, results);
    return 0;
  } catch (err) {
    if (err instanceof ExitError) {
      console.error(`error: ${err.message}`);
      return err.code;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
