/**
 * `npm run eval` — the retrieval evaluation on the procedural eval zoo (docs/eval.md).
 *
 *   npm run eval                                     # 300 models × 32 samples, zoo-encoder
 *   npm run eval -- --quick --encoder test-encoder   # a small smoke run
 *   npm run eval -- --train-projection               # also train + evaluate the fine-tuned projection
 *   npm run eval -- --projection proj.json           # evaluate a given projection
 *
 * Steps: eval zoo (cached) → index (tools/lib/build/buildIndex.ts, embedding cache) → [projected
 * index] → query embeddings (NodeEncoder) → every method of src/core/scoring/methods.ts + the metadata
 * baseline → metrics, targets, docs/eval/results.{json,md}.
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
import type { SearchIndex } from '../../src/core/index/indexFormat.ts';
import { buildIndex } from '../lib/build/buildIndex.ts';
import { createProgress } from '../lib/build/progress.ts';
import { loadProjection, type Projection } from '../lib/build/projection.ts';
import { openLocalIndex, type LocalIndex } from '../lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../lib/nodeEncoder.ts';
import { subjectDef } from '../zoo/spec.ts';
import { metadataBaseline } from './baseline.ts';
import { evaluateSet, rowsFor, type EvalContext, type PreparedQuery, type SetResult } from './evaluate.ts';
import { exportProjectionData, PROJECTION_DATA_VERSION } from './export-projection-data.ts';
import { embedImageFiles, embedTexts, readQueryFile, QUERY_TYPES, type QueryType } from './queries.ts';
import { consoleTable, markdownReport, target, targetLines, type EvalResults, type StyleResult, type Target } from './report.ts';
import { ensureEvalZoo } from './zoo.ts';

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
    out: values.out ?? (quick ? join(cache, 'quick-results') : join('docs', 'eval')),
  };
}

class UsageError extends Error {}

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
async function styleEvaluation(o: Options, encoderId: string): Promise<StyleResult | { missing: string }> {
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

async function main(argv: string[]): Promise<number> {
  const t0 = performance.now();
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const notes: string[] = [];
  const timing: Record<string, number> = {};
  const lap = (name: string, since: number) => (timing[name] = (timing[name] ?? 0) + (performance.now() - since) / 1000);

  // --- encoder ---
  let encoderId = o.encoder;
  let encoderNote: string | undefined;
  const missing = encoderMissing(encoderId);
  if (missing) {
    if (o.encoderExplicit) {
      console.error(`error: encoder "${encoderId}" is not available: ${missing}`);
      return 2;
    }
    encoderNote = `zoo-encoder is not available (${missing}); fell back to test-encoder, a colour-only 32-d fixture — these numbers are NOT representative`;
    log(`warning: ${encoderNote}`);
    notes.push(encoderNote);
    encoderId = 'test-encoder';
  }
  const desc = ENCODERS[encoderId];
  const fingerprint = await encoderFingerprint(desc);
  const encTag = `${desc.id}-${fingerprint}`;
  let t = performance.now();
  const encoder = await NodeEncoder.load(desc);
  lap('encoder load', t);
  log(`encoder: ${desc.label} (${desc.id}, ${desc.dim}-d, weights ${fingerprint})`);

  // --- eval zoo ---
  t = performance.now();
  await mkdir(o.cache, { recursive: true });
  const zoo = await ensureEvalZoo(o.cache, { models: o.models, samples: o.samples, seed: o.seed, textPerModel: o.textPerModel }, log);
  lap('zoo generation', t);
  if (zoo.reused) log(`eval zoo: reusing ${zoo.dir}`);
  const specById = new Map(zoo.specs.map((s) => [s.id, s]));

  // --- index ---
  const embeddingsCache = join(o.cache, 'embeddings', encTag);
  const buildOpts = {
    modelsDir: zoo.modelsDir,
    encoderId,
    keepSamples: 32,
    precision: 'f16' as const,
    samplesPrecision: 'f32' as const,
    epsilon: 1e-3,
    thumbnails: 1,
    cacheDir: embeddingsCache,
    force: true,
    licence: 'CC0-1.0',
  };
  const build = async (outDir: string, projection?: Projection) => {
    const tb = performance.now();
    const report = await buildIndex(
      { ...buildOpts, outDir, projection, name: `eval-${zoo.key}${projection ? `-ft-${projection.structure}` : ''}` },
      { encoder, progress: createProgress({ label: `index${projection ? ` (${projection.structure})` : ''}` }) },
    );
    log(
      `index: ${report.models.length} models → ${outDir} (${report.images.embedded} embedded, ${report.images.fromCache} from cache, ` +
        `${((performance.now() - tb) / 1000).toFixed(1)} s)`,
    );
    if (!projection) cacheHits = { fromCache: report.images.fromCache, total: report.images.total };
    return openLocalIndex(outDir);
  };
  let cacheHits = { fromCache: 0, total: 0 };
  t = performance.now();
  const indexDir = join(zoo.dir, `index-${encTag}`);
  const plain = await build(indexDir);
  lap('index build', t);

  // --- fine-tuned projections ---
  const projected = new Map<string, LocalIndex>();
  const projectionInfo: string[] = [];
  const trainerVal = new Map<string, { before: number; after: number }>();
  if (o.projection) {
    t = performance.now();
    const p = await loadProjection(o.projection, desc.dim);
    const hash = (await sha256File(o.projection)).slice(0, 10);
    // Keyed apart from trained projections of the same structure (both may be evaluated at once).
    projected.set(`given-${p.structure}`, await build(join(zoo.dir, `index-${encTag}-ft-${p.structure}-${hash}`), p));
    projectionInfo.push(`given-${p.structure}: ${o.projection}`);
    lap('projected index build', t);
  }
  if (o.trainProjection) {
    if (!existsSync(TRAIN_PROJECTION_PY)) {
      const msg = `--train-projection: ${relative(ROOT, TRAIN_PROJECTION_PY)} does not exist yet; no fine-tuned rows`;
      log(`warning: ${msg}`);
      notes.push(msg);
    } else {
      t = performance.now();
      const data = { models: o.trainModels, samples: o.quick ? 8 : 16, imagesPerModel: 2, textsPerModel: 2, sketches: true, seed: o.seed };
      const dataKey = `v${PROJECTION_DATA_VERSION}-m${data.models}-s${data.samples}-i${data.imagesPerModel}-t${data.textsPerModel}-seed${data.seed}`;
      // Keyed by the encoder weights and the zoo code (the train zoo renders with the same code).
      const dataDir = join(o.cache, `projection-data-${encTag}-${dataKey}-${zoo.key.split('-').pop()}`);
      if (!existsSync(join(dataDir, 'meta.json'))) await exportProjectionData({ dataDir, encoder, ...data, log });
      else log(`projection data: reusing ${dataDir}`);
      lap('projection data', t);
      const meta = JSON.parse(await readFile(join(dataDir, 'meta.json'), 'utf8')) as { Q: number; M: number; kinds: Record<string, number> };
      const pyHash = (await sha256File(TRAIN_PROJECTION_PY)).slice(0, 10);
      const wanted = o.quick && !argv.includes('--structures') ? ['full'] : o.structures;
      let slowest = 0; // seconds of the slowest structure so far (training + its index)
      for (const structure of wanted) {
        const elapsed = sinceStart(t0);
        // Keep RESERVE_SECONDS for the queries, the methods and the style evaluation.
        if (structure !== wanted[0] && elapsed + slowest + RESERVE_SECONDS > BUDGET_SECONDS) {
          const msg = `skipped the ${structure} projection: not enough time left in the ${BUDGET_SECONDS} s budget (${elapsed.toFixed(0)} s used)`;
          log(msg);
          notes.push(msg);
          continue;
        }
        const tp = performance.now();
        const projFile = join(dataDir, `proj-${structure}-${pyHash}.json`);
        if (!existsSync(projFile)) {
          log(`projection: training ${structure} (${relative(ROOT, TRAIN_PROJECTION_PY)})`);
          const r = await runPython([TRAIN_PROJECTION_PY, '--data', dataDir, '--structure', structure, '--out', `${projFile}.tmp`]);
          if (r.code !== 0) {
            const msg = `train_projection.py --structure ${structure} failed (exit ${r.code}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`;
            log(`warning: ${msg}`);
            notes.push(msg);
            lap('projection training', tp);
            continue;
          }
          for (const l of r.output.split('\n').filter((x) => /before|after/.test(x))) log(`  ${l.trim()}`);
          await writeFile(`${projFile}.log`, r.output);
          await rename(`${projFile}.tmp`, projFile);
        } else log(`projection: reusing ${projFile}`);
        // The trainer's own held-out split (20 % of the training-zoo queries): top-1 before → after.
        const trainerLog = existsSync(`${projFile}.log`) ? await readFile(`${projFile}.log`, 'utf8') : '';
        const valTop1 = (when: string) => Number(new RegExp(`${when}[^\\n]*val top-1 ([0-9.]+)`).exec(trainerLog)?.[1] ?? NaN);
        trainerVal.set(structure, { before: valTop1('before'), after: valTop1('after') });
        const p = await loadProjection(projFile, desc.dim);
        lap('projection training', tp);
        const tb = performance.now();
        projected.set(structure, await build(join(zoo.dir, `index-${encTag}-ft-${structure}-${pyHash}`), p));
        lap('projected index build', tb);
        slowest = Math.max(slowest, (performance.now() - tp) / 1000);
        projectionInfo.push(structure);
      }
      if (projected.size) {
        notes.push(
          `fine-tuned projections trained by ${relative(ROOT, TRAIN_PROJECTION_PY)} on ${meta.Q} training-zoo queries ` +
            `(${Object.entries(meta.kinds).map(([k, v]) => `${v} ${k}`).join(', ')}) of ${meta.M} train-zoo models, none of them in the eval zoo; ` +
            `the trainer's held-out top-1 (20 % of those queries) before → after: ` +
            [...trainerVal].map(([s, v]) => `${s} ${v.before.toFixed(3)} → ${v.after.toFixed(3)}`).join(', '),
        );
      }
    }
  }

  // --- queries ---
  t = performance.now();
  const qf = await readQueryFile(zoo.queriesDir);
  const idToIndex = new Map(plain.models.map((m, i) => [m.id, i]));
  const modelIndex = (id: string) => {
    const i = idToIndex.get(id);
    if (i === undefined) throw new Error(`query ground truth "${id}" is not a model of the eval index`);
    return i;
  };
  const subjectWord = (id: string) => subjectDef(specById.get(id)!.subject).words[0];
  const [imageEmb, sketchEmb, textEmb] = await Promise.all([
    embedImageFiles(encoder, qf.image.map((q) => join(zoo.queriesDir, q.file))),
    embedImageFiles(encoder, qf.sketch.map((q) => join(zoo.queriesDir, q.file))),
    embedTexts(encoder, qf.text.map((q) => q.text)),
  ]);
  const prepared: Record<QueryType, PreparedQuery[]> = {
    image: qf.image.map((q, i) => ({ embedding: imageEmb[i], keywords: subjectWord(q.model), model: modelIndex(q.model) })),
    sketch: qf.sketch.map((q, i) => ({ embedding: sketchEmb[i], keywords: subjectWord(q.model), model: modelIndex(q.model), kind: q.kind })),
    text: qf.text.map((q, i) => ({ embedding: textEmb[i], keywords: q.text, model: modelIndex(q.model) })),
    model: qf.model.map((q) => ({ keywords: plain.models[modelIndex(q.model)].name, model: modelIndex(q.model) })),
  };
  lap('query embedding', t);

  // --- scoring ---
  t = performance.now();
  for (const [s, p] of projected) {
    if (p.models.map((m) => m.id).join('\n') !== plain.models.map((m) => m.id).join('\n')) throw new Error(`the ${s} projected index lists different models`);
  }
  const ctx: EvalContext = {
    index: plain.index,
    models: plain.models,
    projected: new Map<string, SearchIndex>([...projected].map(([s, p]) => [s, p.index])),
    baseline: metadataBaseline(plain.models),
  };
  const sets = {} as Record<QueryType, SetResult>;
  for (const type of QUERY_TYPES) {
    const ts = performance.now();
    sets[type] = evaluateSet(ctx, type, prepared[type]);
    log(`scored ${sets[type].queries} ${type} queries × ${Object.keys(sets[type].rows).length} methods in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
  lap('scoring', t);

  // --- style ---
  let style: EvalResults['style'];
  if (o.style) {
    t = performance.now();
    log('style zoo: runStyleEval …');
    style = await styleEvaluation(o, encoderId);
    lap('style evaluation', t);
  } else style = { missing: 'skipped (--no-style)' };

  // --- results ---
  const methods: Record<string, string> = {};
  for (const type of QUERY_TYPES) for (const r of rowsFor(type, [...projected.keys()])) methods[r.key] ??= r.label;
  methods['first-moment'] = '1st moment';
  const bestContent = (type: QueryType, metric: 'top1' | 'top5' | 'mrr') => {
    let best: { key: string; value: number } | undefined;
    for (const [key, r] of Object.entries(sets[type].rows)) {
      if (key === 'metadata') continue;
      if (!best || r[metric] > best.value) best = { key, value: r[metric] };
    }
    return best!;
  };
  const gdImage = sets.image.rows.gaussian?.top1;
  const metaImage = sets.image.rows.metadata?.top1;
  const sketchBest = bestContent('sketch', 'top5');
  const textBest = bestContent('text', 'top5');
  const wallSeconds = sinceStart(t0);
  const targets: Target[] = [
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
      style && 'learnedMrr' in style ? style.learnedMrr - style.plainMrr : undefined,
      '>',
      0,
      style && 'learnedMrr' in style ? `learned ${style.learnedMrr.toFixed(3)} vs plain ${style.plainMrr.toFixed(3)} (runStyleEval)` : (style as { missing: string }).missing,
    ),
    target('total wall time (s)', wallSeconds, '≤', BUDGET_SECONDS, `${availableParallelism()} cores; ${zoo.reused ? 'eval zoo reused from the cache' : 'eval zoo generated in this run'}, ` +
        `${cacheHits.fromCache} of ${cacheHits.total} sample embeddings from the cache`),
  ];
  const fineTuned = [...projected.keys()].map((structure) => {
    const key = `fine-tuned-${structure}`;
    const gain = Object.fromEntries(
      QUERY_TYPES.map((type) => {
        const ft = sets[type].rows[key];
        const base = sets[type].rows['first-moment'];
        return [type, { top1: ft.top1 - base.top1, top5: ft.top5 - base.top5, mrr: ft.mrr - base.mrr }];
      }),
    ) as Record<QueryType, { top1: number; top5: number; mrr: number }>;
    return { structure, gain, ...(trainerVal.has(structure) ? { trainerValTop1: trainerVal.get(structure)! } : {}) };
  });
  notes.push(
    `best method by MRR: ${QUERY_TYPES.map((type) => `${type} ${methods[bestContent(type, 'mrr').key]} (${bestContent(type, 'mrr').value.toFixed(3)})`).join('; ')}`,
  );
  if (!zoo.reused) notes.push(`the eval zoo was generated in this run (${zoo.seconds.toFixed(1)} s of the wall time)`);
  notes.push(
    'metadata baseline: MiniSearch (BM25, prefix, fuzzy 0.2, OR, stop words dropped) over name + description + family + creator; ' +
      'text queries search the query text, image and sketch queries the ground-truth model’s subject word only, model-as-query the query model’s name',
    'ties in a ranking count as the expectation over all orderings of the tied models (tools/eval/metrics.ts)',
    `default method of the eval index (what the app runs): ${supportedMethods(plain.index)[0]}`,
  );

  const results: EvalResults = {
    createdAt: new Date().toISOString(),
    command: `npm run eval -- ${argv.join(' ')}`.trim(),
    encoder: { id: desc.id, label: desc.label, dim: desc.dim, requested: o.encoder, ...(encoderNote ? { note: encoderNote } : {}) },
    zoo: { split: 'eval', models: zoo.specs.length, samplesPerModel: o.samples, seed: o.seed, key: zoo.key, families: new Set(zoo.specs.map((s) => s.family)).size },
    index: { models: plain.index.count, epsilon: 1e-3, precision: 'f16', keepSamples: 32, samplesPrecision: 'f32', projections: projectionInfo },
    counts: Object.fromEntries(QUERY_TYPES.map((q) => [q, sets[q].queries])) as Record<QueryType, number>,
    methods,
    sets,
    ...(fineTuned.length ? { fineTuned } : {}),
    style,
    targets,
    timing,
    wallSeconds,
    notes,
  };

  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, 'results.json'), JSON.stringify(results, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  await writeFile(join(o.out, 'results.md'), markdownReport(results));
  // Where the browser test (test/e2e/eval-browser.spec.ts) finds the eval index and its queries.
  await writeFile(
    join(o.cache, 'latest.json'),
    JSON.stringify(
      {
        key: zoo.key,
        encoder: desc.id,
        indexDir: relative(resolve(o.cache), resolve(indexDir)),
        queriesDir: relative(resolve(o.cache), resolve(zoo.queriesDir)),
        defaultMethod: supportedMethods(plain.index)[0],
      },
      null,
      1,
    ) + '\n',
  );

  console.log('');
  console.log(`encoder ${desc.label} (${desc.id}, ${desc.dim}-d)${encoderNote ? ' — FALLBACK, not representative' : ''}`);
  console.log(
    `eval zoo ${zoo.specs.length} models × ${o.samples} samples (${results.zoo.families} families); index ε = 1e-3, f16 factors, 32 kept samples` +
      (projectionInfo.length ? `; projections: ${[...projected.keys()].join(', ')}` : ''),
  );
  console.log(`queries: ${QUERY_TYPES.map((q) => `${sets[q].queries} ${q}`).join(', ')}`);
  console.log('');
  console.log(consoleTable(results));
  if (sets.sketch.byKind) {
    const best = sketchBest.key;
    console.log(`\nsketch ${methods[best]} by kind: ${Object.entries(sets.sketch.byKind).map(([k, r]) => `${k} top-5 ${r[best]?.top5.toFixed(3)}`).join(', ')}`);
  }
  for (const f of fineTuned) {
    console.log(`fine-tuned (${f.structure}) gain over 1st moment: ${QUERY_TYPES.map((q) => `${q} top-1 ${f.gain[q].top1 >= 0 ? '+' : ''}${f.gain[q].top1.toFixed(3)}`).join(', ')}`);
  }
  if (style && 'learnedMrr' in style) console.log(`style MRR: learned projection ${style.learnedMrr.toFixed(3)}, plain features ${style.plainMrr.toFixed(3)}`);
  console.log('');
  console.log(targetLines(targets));
  console.log(`\nwall time ${wallSeconds.toFixed(1)} s (${Object.entries(timing).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`);
  console.log(`results: ${join(o.out, 'results.json')}, ${join(o.out, 'results.md')}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
