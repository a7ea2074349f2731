/**
 * Style-zoo evaluation (the "LoRA retrieval" seed): style models are image-to-image transforms
 * (tools/style-zoo/transforms.ts) applied to one fixed reference set S of content images; a query
 * is the style applied to unseen content. Methods are scored by MRR of the true style.
 *
 *   npx tsx tools/style-zoo/eval.ts --encoder test-encoder [--quick] [--cache .cache/style-zoo] [--json]
 *
 * Pipeline: render content (procedural zoo, cached as raw RGBA) → apply every transform → pixel
 * MSE vs the content (cleansing rule) → CLIP preprocessing → NodeEncoder → features (cached per
 * encoder) → learned projection (tools/style-zoo/train_style_projection.py, cached) → scores:
 *   - d_avg, plain features / learned projection (src/core/scoring/styleDistance.ts)
 *   - 1st moment and Gaussian density over each style's kept reference features, through the
 *     index writer/reader and scoreMethod (src/core/scoring/methods.ts), exactly as the search does.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENCODERS, type EncoderDescriptor } from '../../src/core/encode/encoders.ts';
import { readIndex, writeIndex } from '../../src/core/index/indexFormat.ts';
import { packedSize } from '../../src/core/math/linalg.ts';
import { scoreMethod, type Method } from '../../src/core/scoring/methods.ts';
import { gaussianFactors, MomentAccumulator } from '../../src/core/index/modelStats.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { cleansingMask, CLEANSING_MSE_THRESHOLD, projectFeatures, styleDistanceScores } from '../../src/core/scoring/styleDistance.ts';
import { choice, flag, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { NodeEncoder, PUBLIC_DIR } from '../lib/nodeEncoder.ts';
import { contentSets, renderContent, type ContentImage, type ContentSets } from './content.ts';
import { composedTrainingStyles, pixelMse, stylesOf, type RgbaPixels, type StyleTransform } from './transforms.ts';

export interface StyleEvalOptions {
  encoderId: string;
  cacheDir: string;
  quick?: boolean;
  log?: (s: string) => void;
}

export interface StyleEvalRow {
  method: string;
  mrr: number;
  top1: number;
  top5: number;
}

export interface StyleEvalResult {
  rows: StyleEvalRow[];
  styles: number;
  queries: number;
  seconds: number;
  notes: string[];
}

/** Bump when the feature pipeline changes in a way the source hashes below do not see. */
const PIPELINE_VERSION = 1;
const GD_EPSILON = 1e-3;
const BATCH = 32;
const PROJECTION_HP = { loss: 'set' as 'set' | 'pair', margin: 0.2, weightDecay: 1e-3, lr: 0.01, steps: 1500, stylesPerBatch: 24, contentsPerBatch: 6, seed: 1234, valFrac: 0.2 };

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The procedural zoo's renderer: a change there changes the content images. */
const ZOO_SOURCES = ['../zoo/spec.ts', '../zoo/render.ts', '../zoo/subjects.ts'];
const PYTHON = process.env.STYLE_ZOO_PYTHON ?? '/usr/bin/python3';

export interface StyleZooConfig {
  evalStyles: StyleTransform[];
  trainStyles: StyleTransform[];
  content: ContentSets;
  queriesPerStyle: number;
}

export function styleZooConfig(quick = false): StyleZooConfig {
  const content = contentSets(quick ? { reference: 8, query: 8, train: 12 } : { reference: 16, query: 8, train: 24 });
  const trainStyles = [...stylesOf('train'), ...composedTrainingStyles(quick ? 48 : 96)];
  return { evalStyles: stylesOf('eval'), trainStyles, content, queriesPerStyle: quick ? 2 : 4 };
}

// ---------------------------------------------------------------------------------------------
// Feature store: one file per encoder (+ transform code), keyed by "styleId|contentKey".

interface FeatureStore {
  dim: number;
  features: Map<string, Float32Array>;
  mse: Map<string, number>;
  dirty: boolean;
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The vision tower's SHA-256: from the descriptor, else of the local file, else of its URL. */
async function visionHash(desc: EncoderDescriptor): Promise<string> {
  if (desc.vision.sha256) return desc.vision.sha256;
  try {
    return await sha256File(join(PUBLIC_DIR, desc.vision.url));
  } catch {
    return createHash('sha256').update(desc.vision.url).digest('hex');
  }
}

async function loadStore(path: string, dim: number): Promise<FeatureStore> {
  const store: FeatureStore = { dim, features: new Map(), mse: new Map(), dirty: false };
  try {
    const meta = JSON.parse(await readFile(`${path}.json`, 'utf8')) as { dim: number; keys: string[]; mse: number[] };
    const buf = await readFile(`${path}.f32`);
    if (meta.dim !== dim || buf.byteLength !== meta.keys.length * dim * 4 || meta.mse.length !== meta.keys.length) return store;
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    meta.keys.forEach((k, i) => {
      store.features.set(k, all.subarray(i * dim, (i + 1) * dim));
      store.mse.set(k, meta.mse[i]);
    });
  } catch {
    // No cache yet (or unreadable): start empty.
  }
  return store;
}

async function saveStore(path: string, store: FeatureStore): Promise<void> {
  const keys = [...store.features.keys()];
  const all = new Float32Array(keys.length * store.dim);
  keys.forEach((k, i) => all.set(store.features.get(k)!, i * store.dim));
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(`${tmp}.f32`, new Uint8Array(all.buffer));
  await writeFile(`${tmp}.json`, JSON.stringify({ dim: store.dim, keys, mse: keys.map((k) => store.mse.get(k)) }));
  await rename(`${tmp}.f32`, `${path}.f32`);
  await rename(`${tmp}.json`, `${path}.json`);
}

/** Removes this encoder's feature stores from older code or weights (they can never be hit again). */
async function pruneStores(cacheDir: string, encoderId: string, keep: string): Promise<void> {
  const prefix = `features-${encoderId.replace(/[^\w.-]/g, '_')}-`;
  for (const name of await readdir(cacheDir)) {
    if (name.startsWith(prefix) && !name.startsWith(`${keep}.`)) await rm(join(cacheDir, name), { force: true });
  }
}

const pairKey = (style: StyleTransform, c: ContentImage) => `${style.id}|${c.key}`;

/** Ensures features + MSE for every (style, content) pair in `jobs`. */
async function computeFeatures(
  jobs: { style: StyleTransform; content: ContentImage }[],
  store: FeatureStore,
  encoder: NodeEncoder,
  desc: EncoderDescriptor,
  pixelsOf: (c: ContentImage) => Promise<RgbaPixels>,
  log: (s: string) => void,
): Promise<void> {
  const todo = jobs.filter((j) => !store.features.has(pairKey(j.style, j.content)));
  if (!todo.length) return;
  log(`embedding ${todo.length} transformed images (${jobs.length - todo.length} cached)…`);
  const size = desc.image.size;
  const per = 3 * size * size;
  const pre = { size, mean: desc.image.mean, std: desc.image.std };
  const batch = new Float32Array(BATCH * per);
  const t0 = Date.now();
  for (let b = 0; b < todo.length; b += BATCH) {
    const chunk = todo.slice(b, b + BATCH);
    const mses: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const src = await pixelsOf(chunk[i].content);
      const out = chunk[i].style.apply(src);
      mses.push(pixelMse(src, out));
      preprocessRgba(out, pre, batch.subarray(i * per, (i + 1) * per));
    }
    const feats = await encoder.encodeImages(batch.subarray(0, chunk.length * per), chunk.length);
    chunk.forEach((j, i) => {
      const k = pairKey(j.style, j.content);
      store.features.set(k, feats[i]);
      store.mse.set(k, mses[i]);
    });
    store.dirty = true;
    if ((b / BATCH) % 20 === 19) log(`  ${b + chunk.length}/${todo.length} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Learned projection (python, cached)

async function runPython(args: string[], log: (s: string) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) log(`  [python] ${line.trimEnd()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`Could not start ${PYTHON} (set STYLE_ZOO_PYTHON): ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`train_style_projection.py failed (exit ${code}):\n${tail}`));
    });
  });
}

interface ProjectionResult {
  matrix: Float32Array;
  outDim: number;
  info: { loss: string; finalLoss: number; validation: { heldOutStyles: number; mrrPlain: number | null; mrrProjected: number } | null; seconds: number; trainRows: number; trainStyles: number };
}

async function learnProjection(
  cacheDir: string,
  storeKey: string,
  store: FeatureStore,
  cfg: StyleZooConfig,
  log: (s: string) => void,
  overrides: Partial<typeof PROJECTION_HP> = {},
): Promise<ProjectionResult> {
  const hp = { ...PROJECTION_HP, ...overrides };
  const script = here('./train_style_projection.py');
  const rows: Float32Array[] = [];
  const styles: number[] = [];
  const contents: number[] = [];
  cfg.trainStyles.forEach((st, si) => {
    cfg.content.train.forEach((c, ci) => {
      const k = pairKey(st, c);
      // The cleansing rule applies to training pairs too: an unchanged image carries no style.
      if (store.mse.get(k)! < CLEANSING_MSE_THRESHOLD) return;
      rows.push(store.features.get(k)!);
      styles.push(si);
      contents.push(ci);
    });
  });
  const key = createHash('sha256')
    .update(JSON.stringify({ storeKey, hp, styles: cfg.trainStyles.map((s) => s.id), content: cfg.content.train.map((c) => c.key), n: rows.length }))
    .update(await readFile(script))
    .digest('hex')
    .slice(0, 16);
  const outPath = join(cacheDir, `projection-${key}.json`);
  let json: string | null = null;
  try {
    json = await readFile(outPath, 'utf8');
    log(`learned projection: cached (${outPath})`);
  } catch {
    const dir = join(cacheDir, `projection-${key}-input`);
    await mkdir(dir, { recursive: true });
    const flat = new Float32Array(rows.length * store.dim);
    rows.forEach((r, i) => flat.set(r, i * store.dim));
    await writeFile(join(dir, 'features.f32'), new Uint8Array(flat.buffer));
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ n: rows.length, dim: store.dim, styles, contents, styleIds: cfg.trainStyles.map((s) => s.id) }));
    log(`training the projection (${hp.loss} triplets) on ${rows.length} pairs (${cfg.trainStyles.length} training styles × ${cfg.content.train.length} training contents, cleansed)…`);
    await runPython(
      [script, dir, outPath, '--loss', hp.loss, '--margin', `${hp.margin}`, '--weight-decay', `${hp.weightDecay}`, '--lr', `${hp.lr}`, '--steps', `${hp.steps}`,
        '--styles-per-batch', `${hp.stylesPerBatch}`, '--contents-per-batch', `${hp.contentsPerBatch}`, '--seed', `${hp.seed}`, '--val-frac', `${hp.valFrac}`],
      log,
    );
    await rm(dir, { recursive: true, force: true });
    json = await readFile(outPath, 'utf8');
  }
  const parsed = JSON.parse(json) as { matrix: number[][]; outDim: number } & ProjectionResult['info'];
  const P = parsed.matrix.length;
  const matrix = new Float32Array(P * store.dim);
  parsed.matrix.forEach((row, i) => {
    if (row.length !== store.dim) throw new Error('The projection has the wrong width.');
    matrix.set(row, i * store.dim);
  });
  if (!matrix.every(Number.isFinite)) throw new Error('The learned projection has non-finite entries.');
  return { matrix, outDim: P, info: parsed };
}

// ---------------------------------------------------------------------------------------------
// Scoring

/** Rank of `truth` (1 = best); ties and NaN count against the truth (pessimistic). */
export function rankOf(scores: Float32Array, truth: number): number {
  const t = scores[truth];
  if (Number.isNaN(t)) return scores.length;
  let rank = 1;
  for (let m = 0; m < scores.length; m++) if (m !== truth && !(scores[m] < t)) rank++;
  return rank;
}

class MrrAccumulator {
  /** Reciprocal rank of every query, in query order (for paired comparisons). */
  readonly perQuery: number[] = [];
  private rr = 0;
  private top1 = 0;
  private top5 = 0;
  private n = 0;
  add(rank: number) {
    this.perQuery.push(1 / rank);
    this.rr += 1 / rank;
    if (rank === 1) this.top1++;
    if (rank <= 5) this.top5++;
    this.n++;
  }
  row(method: string): StyleEvalRow {
    return { method, mrr: this.rr / this.n, top1: this.top1 / this.n, top5: this.top5 / this.n };
  }
}

/**
 * 1st moment + Gaussian density over each style's kept reference features, through the real
 * index path: MomentAccumulator → gaussianFactors → writeIndex → readIndex → scoreMethod.
 * A style with no kept pair gets a placeholder entry and scores −Infinity (set by the caller).
 */
function buildStatsIndex(refs: Float32Array, keep: Uint8Array, M: number, S: number, dim: number) {
  const means = new Float32Array(M * dim);
  const P = packedSize(dim);
  const precision = new Float64Array(M * P);
  const epsilon = new Float32Array(M);
  const empty: boolean[] = [];
  for (let m = 0; m < M; m++) {
    const acc = new MomentAccumulator(dim);
    for (let s = 0; s < S; s++) if (keep[m * S + s]) acc.add(refs.subarray((m * S + s) * dim, (m * S + s + 1) * dim));
    empty.push(acc.count === 0);
    const mean = acc.count ? acc.mean() : new Float64Array(dim);
    const cov = acc.count >= 2 ? acc.covariance() : new Float64Array(dim * dim);
    const f = gaussianFactors(mean, cov, GD_EPSILON);
    means.set(mean, m * dim);
    precision.set(f.precision, m * P);
    epsilon[m] = f.epsilon;
  }
  const index = readIndex(writeIndex({ dim, means, gaussian: { precision, epsilon, dtype: 'f32' } }));
  return {
    score(method: Method, q: Float32Array): Float32Array {
      const s = scoreMethod(index, method, q);
      for (let m = 0; m < M; m++) if (empty[m]) s[m] = -Infinity;
      return s;
    },
  };
}

/** Mean and standard error of the per-query difference a − b (paired over the same queries). */
function pairedDiff(a: number[], b: number[]): { mean: number; se: number } {
  const n = a.length;
  const d = a.map((v, i) => v - b[i]);
  const mean = d.reduce((s, v) => s + v, 0) / n;
  const varD = d.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, n - 1);
  return { mean, se: Math.sqrt(varD / n) };
}

function normaliseRows(x: Float32Array, dim: number): Float32Array {
  for (let i = 0; i < x.length; i += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) x[i + j] *= inv;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------

export async function runStyleEval(opts: StyleEvalOptions): Promise<StyleEvalResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const desc = ENCODERS[opts.encoderId];
  if (!desc) throw new Error(`Unknown encoder "${opts.encoderId}" (known: ${Object.keys(ENCODERS).join(', ')}).`);
  const cfg = styleZooConfig(opts.quick);
  const { evalStyles, trainStyles, content, queriesPerStyle: Q } = cfg;
  const M = evalStyles.length;
  const S = content.reference.length;
  await mkdir(opts.cacheDir, { recursive: true });

  // Content images, rendered once and cached as raw RGBA, keyed by the zoo renderer's source.
  const zooHash = createHash('sha256');
  for (const f of ZOO_SOURCES) zooHash.update(await sha256File(here(f)));
  const zooTag = zooHash.digest('hex').slice(0, 12);
  const pixelCache = new Map<string, RgbaPixels>();
  const pixelsOf = async (c: ContentImage) => {
    let p = pixelCache.get(c.key);
    if (!p) pixelCache.set(c.key, (p = await renderContent(c, join(opts.cacheDir, `content-${zooTag}`))));
    return p;
  };

  const queryContent = (mi: number) => Array.from({ length: Q }, (_, k) => content.query[(mi * Q + k) % content.query.length]);
  const jobs: { style: StyleTransform; content: ContentImage }[] = [];
  evalStyles.forEach((style, mi) => {
    for (const c of content.reference) jobs.push({ style, content: c });
    for (const c of queryContent(mi)) jobs.push({ style, content: c });
  });
  for (const style of trainStyles) for (const c of content.train) jobs.push({ style, content: c });

  const encoderTag = `${desc.id.replace(/[^\w.-]/g, '_')}-${(await visionHash(desc)).slice(0, 12)}`;
  const codeHash = createHash('sha256')
    .update(`${PIPELINE_VERSION}|${zooTag}`)
    .update(await sha256File(here('./transforms.ts')))
    .update(await sha256File(here('./content.ts')))
    .digest('hex')
    .slice(0, 12);
  const storeKey = `${encoderTag}-${codeHash}`;
  const storePath = join(opts.cacheDir, `features-${storeKey}`);
  const store = await loadStore(storePath, desc.dim);
  if (jobs.some((j) => !store.features.has(pairKey(j.style, j.content)))) {
    const encoder = await NodeEncoder.load(desc, undefined, { towers: ['vision'] });
    await computeFeatures(jobs, store, encoder, desc, pixelsOf, log);
    await saveStore(storePath, store);
    await pruneStores(opts.cacheDir, desc.id, `features-${storeKey}`);
  } else {
    log(`features: all ${jobs.length} cached`);
  }
  const D = desc.dim;

  // [M, S, D] reference features and the cleansing mask.
  const refs = new Float32Array(M * S * D);
  const mse = new Float32Array(M * S);
  evalStyles.forEach((st, m) =>
    content.reference.forEach((c, s) => {
      refs.set(store.features.get(pairKey(st, c))!, (m * S + s) * D);
      mse[m * S + s] = store.mse.get(pairKey(st, c))!;
    }),
  );
  const keep = cleansingMask(mse);
  const keepAll = new Uint8Array(M * S).fill(1);
  const droppedPairs = keep.reduce((a, k) => a + (1 - k), 0);
  const deadStyles = evalStyles.filter((_, m) => keep.subarray(m * S, (m + 1) * S).every((k) => k === 0)).map((s) => s.id);

  const proj = await learnProjection(opts.cacheDir, storeKey, store, cfg, log);
  const projPair = await learnProjection(opts.cacheDir, storeKey, store, cfg, log, { loss: 'pair', valFrac: 0 });

  const plainStats = buildStatsIndex(refs, keep, M, S, D);
  // The index holds unit embeddings (readIndex checks it): project, then L2-normalise.
  const projRefs = normaliseRows(projectFeatures(refs, M * S, D, proj.matrix), proj.outDim);
  const projStats = buildStatsIndex(projRefs, keep, M, S, proj.outDim);

  const acc = {
    plain: new MrrAccumulator(),
    projected: new MrrAccumulator(),
    first: new MrrAccumulator(),
    gd: new MrrAccumulator(),
    plainNoCleansing: new MrrAccumulator(),
    gdProjected: new MrrAccumulator(),
    projectedPair: new MrrAccumulator(),
  };
  let queries = 0;
  evalStyles.forEach((st, m) => {
    for (const c of queryContent(m)) {
      const q = store.features.get(pairKey(st, c))!;
      const pq = normaliseRows(projectFeatures(q, 1, D, proj.matrix), proj.outDim);
      acc.plain.add(rankOf(styleDistanceScores(q, refs, keep, D, S), m));
      acc.projected.add(rankOf(styleDistanceScores(q, refs, keep, D, S, proj.matrix), m));
      acc.first.add(rankOf(plainStats.score('first-moment', q), m));
      acc.gd.add(rankOf(plainStats.score('gaussian', q), m));
      acc.plainNoCleansing.add(rankOf(styleDistanceScores(q, refs, keepAll, D, S), m));
      acc.gdProjected.add(rankOf(projStats.score('gaussian', pq), m));
      acc.projectedPair.add(rankOf(styleDistanceScores(q, refs, keep, D, S, projPair.matrix), m));
      queries++;
    }
  });

  const rows = [
    acc.plain.row('d_avg (plain features)'),
    acc.projected.row('d_avg (learned projection)'),
    acc.first.row('1st moment'),
    acc.gd.row('Gaussian density'),
    acc.plainNoCleansing.row('d_avg (plain, no cleansing)'),
    acc.projectedPair.row('d_avg (learned projection, single-image triplets)'),
    acc.gdProjected.row('Gaussian density (learned projection, renormalised)'),
  ];
  const v = proj.info.validation;
  const gain = pairedDiff(acc.projected.perQuery, acc.plain.perQuery);
  const notes = [
    `encoder ${desc.id} (D = ${D}); ${M} evaluation styles, ${trainStyles.length} disjoint training styles (${trainStyles.length + M} transforms in all)`,
    `reference set |S| = ${S} content images (eval-split zoo specs, reserved sample seeds); ${content.query.length} unseen query contents (other eval specs), ${Q} queries per style; ${content.train.length} training contents (train-split specs)`,
    `cleansing (pixel MSE < ${CLEANSING_MSE_THRESHOLD}): dropped ${droppedPairs} of ${M * S} reference pairs; ${deadStyles.length} styles lost every pair${deadStyles.length ? ` (${deadStyles.join(', ')}): they score −∞ under every cleansed method` : ''}`,
    `projection: ${proj.outDim}×${D}, ${proj.info.loss}-distance triplets, margin ${PROJECTION_HP.margin}, weight decay ${PROJECTION_HP.weightDecay}, ${PROJECTION_HP.steps} steps on ${proj.info.trainRows} pairs of ${proj.info.trainStyles} training styles; final loss ${proj.info.finalLoss.toFixed(4)}` +
      (v ? `; held-out training styles (${v.heldOutStyles}): d_avg MRR ${v.mrrPlain?.toFixed(3)} plain → ${v.mrrProjected.toFixed(3)} projected` : ''),
    `learned projection − plain features, d_avg MRR: ${gain.mean >= 0 ? '+' : ''}${gain.mean.toFixed(3)} ± ${gain.se.toFixed(3)} (paired standard error over the ${queries} queries)`,
    `Gaussian density: ε = ${GD_EPSILON}, ${S}-sample covariances in ${D} dimensions (ε-dominated); ranks count ties against the true style`,
  ];
  return { rows, styles: M, queries, seconds: (Date.now() - t0) / 1000, notes };
}

export function formatTable(r: StyleEvalResult): string {
  const w = Math.max(...r.rows.map((x) => x.method.length));
  const lines = [`${'method'.padEnd(w)}    MRR   top-1  top-5`];
  for (const x of r.rows) lines.push(`${x.method.padEnd(w)}  ${x.mrr.toFixed(3)}  ${x.top1.toFixed(3)}  ${x.top5.toFixed(3)}`);
  lines.push(`${r.styles} styles, ${r.queries} queries, ${r.seconds.toFixed(1)} s`);
  for (const n of r.notes) lines.push(`- ${n}`);
  return lines.join('\n');
}

const USAGE = `usage: npx tsx tools/style-zoo/eval.ts [--encoder test-encoder] [--cache .cache/style-zoo] [--quick] [--json]
  --encoder <id>   ${Object.keys(ENCODERS).join(' | ')} (default test-encoder)
  --cache <dir>    rendered content images (default .cache/style-zoo)
  --quick          fewer content images, training styles and queries per style
  --json           print the result as JSON instead of a table
  -h, --help       this text`;

const OPTIONS = {
  encoder: choice(Object.keys(ENCODERS), { default: 'test-encoder' }),
  cache: text({ default: '.cache/style-zoo' }),
  quick: flag(),
  json: flag(),
};

async function main() {
  const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const result = await runStyleEval({
    encoderId: values.encoder,
    cacheDir: values.cache,
    quick: values.quick,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(formatTable(result) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void runCommand(USAGE, main).then((code) => (process.exitCode = code));
}
