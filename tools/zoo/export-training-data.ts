/**
 * Exports training data for the encoder from the TRAIN split of the procedural zoo.
 *
 *   npx tsx tools/zoo/export-training-data.ts --out .cache/zoo-train --models 800 --samples 24 [--captions 4] [--seed 0] [--workers N]
 *
 * Writes (all little-endian, row-major):
 *   meta.json     { count, size: 56, models: [{id, family, subject, palette, style, background, composition}],
 *                   captionsPerImage, samplesPerModel, zooSeed, order, sketchKinds, seeds }
 *   images.u8     uint8 [N, 56, 56, 3]  each 224² render average-pooled 4×4 (exact mean, rounded)
 *   sketch.u8     uint8 [N, 56, 56, 3]  line-drawing view of the same sample (even image index:
 *                                       lineDrawing of the render; odd: strokeSketch), pooled alike
 *   labels.i32    int32 [N]             model index into meta.models
 *   captions.i32  int32 [N, C, 77]      CLIP token ids of trainingCaptions (tools/zoo/captions.ts; SOT … EOT, EOT padding)
 *   prior.json    the lexical prior (tools/zoo/lexicon.ts priorGraph): {lemmas: [{text, ids}], edges: [[a, b, w]]},
 *                 ids = CLIP token ids of the lemma without start/end; edge a → b: b is tied to a
 * Image n is sample s = n mod S of model m = floor(n / S); its render seed is s (sample seeds
 * 0 … S−1, the same seeds `cli.ts models` uses for model folders; eval models are never exported).
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread } from 'node:worker_threads';
import { createClipTokenizer, CLIP_CONTEXT_LENGTH } from '../../src/core/encode/tokenizer.ts';
import { combineSeeds, makeZoo, prng, type ZooModelSpec } from './spec.ts';
import { renderSample } from './render.ts';
import { TRAINING_SKETCH_FAMILIES, trainingSketch } from './sketch.ts';
import { trainingCaptions, type TrainLexicon } from './captions.ts';
import { loadLexicon, priorGraph, priorSeeds, type Lexicon, type PriorGraph } from './lexicon.ts';
import { nodeCanvasFactory } from './node.ts';
import { integer, parseCommandLine, required, runCommand, text } from '../lib/args.ts';

export const RENDER_SIZE = 224;
export const POOL = 4;
export const OUT_SIZE = RENDER_SIZE / POOL;
/** Salt of the caption random stream: prng(combineSeeds(spec.seed, sampleSeed) ^ CAPTION_SALT). */
export const CAPTION_SALT = 0xca9710;
/** CLIP's start-of-text id: ids at or above it (start, end/pad) are not part of a lemma. */
const SOT = 49406;

/** Exact 4×4 (or `pool`×`pool`) average pool of RGBA to RGB, rounded half up. */
export function poolRgb(rgba: Uint8ClampedArray, size: number, pool: number, out: Uint8Array, offset = 0): void {
  const o = size / pool;
  const n = pool * pool;
  for (let oy = 0; oy < o; oy++) {
    for (let ox = 0; ox < o; ox++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = oy * pool; y < (oy + 1) * pool; y++) {
        let j = (y * size + ox * pool) * 4;
        for (let x = 0; x < pool; x++, j += 4) {
          r += rgba[j]!;
          g += rgba[j + 1]!;
          b += rgba[j + 2]!;
        }
      }
      const k = offset + (oy * o + ox) * 3;
      out[k] = Math.floor(r / n + 0.5);
      out[k + 1] = Math.floor(g / n + 0.5);
      out[k + 2] = Math.floor(b / n + 0.5);
    }
  }
}

export interface ExportOptions {
  out: string;
  models: number;
  samples: number;
  captions: number;
  seed: number;
  /** Worker threads rendering in parallel (1 = render on this thread). Output is identical. */
  workers?: number;
  log?: (msg: string) => void;
}

export interface ModelChunk {
  m: number;
  img: Uint8Array;
  sk: Uint8Array;
  cap: Int32Array;
  tRender: number;
  tSketch: number;
}

/** A caching CLIP tokenizer: text → Int32Array(77). */
export function cachedEncoder(): (text: string) => Int32Array {
  const tok = loadClipTokenizer();
  const cache = new Map<string, Int32Array>();
  return (text) => {
    let ids = cache.get(text);
    if (!ids) {
      ids = Int32Array.from(tok.encode(text));
      cache.set(text, ids);
    }
    return ids;
  };
}

/** What the caption generator needs: the training lexicon and the words a typo must not produce. */
export interface CaptionContext {
  lexicon: TrainLexicon;
  /** Real words (the prior's lemmas' words and the caption vocabulary): a training typo never lands on one. A Set survives workerData's structured clone. */
  realWords: ReadonlySet<string>;
}

/** Renders, pools, sketches and captions the S samples of model `m` (image n = m·S + s). */
export function exportModel(spec: ZooModelSpec, m: number, S: number, C: number, encode: (text: string) => Int32Array, cap: CaptionContext): ModelChunk {
  const px = OUT_SIZE * OUT_SIZE * 3;
  const img = new Uint8Array(S * px);
  const sk = new Uint8Array(S * px);
  const ids = new Int32Array(S * C * CLIP_CONTEXT_LENGTH);
  let tRender = 0;
  let tSketch = 0;
  for (let s = 0; s < S; s++) {
    const n = m * S + s;
    const ta = performance.now();
    const rgba = renderSample(spec, s, nodeCanvasFactory, RENDER_SIZE);
    const tb = performance.now();
    poolRgb(rgba, RENDER_SIZE, POOL, img, s * px);
    const sketch = trainingSketch(n, rgba, spec, s, nodeCanvasFactory, RENDER_SIZE);
    poolRgb(sketch, RENDER_SIZE, POOL, sk, s * px);
    tSketch += performance.now() - tb;
    tRender += tb - ta;
    const texts = trainingCaptions(spec, cap.lexicon, prng(combineSeeds(spec.seed, s) ^ CAPTION_SALT), C, { avoidTypo: (w) => cap.realWords.has(w) });
    texts.forEach((t, c) => ids.set(encode(t), (s * C + c) * CLIP_CONTEXT_LENGTH));
  }
  return { m, img, sk, cap: ids, tRender, tSketch };
}

/** A prior graph as the trainers read it (prior.json, prior-text.json): {lemmas: [{text, ids}], edges}. */
export function priorJson(prior: PriorGraph, encode: (text: string) => Int32Array): string {
  const lemmas = prior.lemmas.map((text) => ({ text, ids: [...encode(text)].filter((id) => id < SOT) }));
  return JSON.stringify({ lemmas, edges: prior.edges }) + '\n';
}

/** The caption context and the prior graph, from WordNet (tools/zoo/lexicon.ts). */
export function captionContext(): { context: CaptionContext; prior: ReturnType<typeof priorGraph>; lexicon: Lexicon } {
  const lex = loadLexicon();
  const prior = priorGraph(lex.wordnet, priorSeeds(lex));
  const real = new Set(lex.trainVocabulary);
  for (const l of prior.lemmas) for (const w of l.split(/[^a-z]+/)) if (w) real.add(w);
  return { context: { lexicon: lex.train, realWords: real }, prior, lexicon: lex };
}

/** Yields model chunks in order m = 0, 1, …, rendered by `workers` threads (interleaved models). */
async function* modelChunks(zoo: ZooModelSpec[], S: number, C: number, workers: number, cap: CaptionContext, encode: (text: string) => Int32Array): AsyncGenerator<ModelChunk> {
  if (workers <= 1) {
    for (let m = 0; m < zoo.length; m++) yield exportModel(zoo[m]!, m, S, C, encode, cap);
    return;
  }
  const pending = new Map<number, ModelChunk>();
  let wake: (() => void) | null = null;
  let failure: unknown = null;
  const threads = Array.from({ length: workers }, (_, w) => {
    // Workers do not inherit tsx's loader: register it (tsx/esm/api) before importing the .ts worker.
    const url = new URL('./export-worker.ts', import.meta.url).href;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); })`;
    const t = new Worker(boot, { eval: true, workerData: { zoo, S, C, w, workers, cap } });
    t.on('message', (chunk: ModelChunk) => {
      pending.set(chunk.m, chunk);
      wake?.();
    });
    t.on('error', (e) => {
      failure = e;
      wake?.();
    });
    return t;
  });
  try {
    for (let m = 0; m < zoo.length; m++) {
      while (!pending.has(m)) {
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      const chunk = pending.get(m)!;
      pending.delete(m);
      yield chunk;
    }
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

const TOKENIZER_DIR = new URL('../../public/tokenizers/clip-vit-b32/', import.meta.url);

export function loadClipTokenizer() {
  const tj = JSON.parse(readFileSync(new URL('tokenizer.json', TOKENIZER_DIR), 'utf8'));
  const tc = JSON.parse(readFileSync(new URL('tokenizer_config.json', TOKENIZER_DIR), 'utf8'));
  return createClipTokenizer(tj, tc);
}

/** The whole words of CLIP's BPE vocabulary (its tokens ending in "</w>", without the marker). */
export function clipWholeWords(): Set<string> {
  const vocab = (JSON.parse(readFileSync(new URL('tokenizer.json', TOKENIZER_DIR), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  return new Set(Object.keys(vocab).filter((t) => t.endsWith('</w>')).map((t) => t.slice(0, -4)));
}

export async function exportTrainingData(opts: ExportOptions): Promise<{ count: number; seconds: number }> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const t0 = performance.now();
  const zoo: ZooModelSpec[] = makeZoo('train', opts.models, opts.seed);
  mkdirSync(opts.out, { recursive: true });
  const S = opts.samples;
  const C = opts.captions;
  const N = zoo.length * S;
  const fImg = openSync(join(opts.out, 'images.u8'), 'w');
  const fSk = openSync(join(opts.out, 'sketch.u8'), 'w');
  const fLab = openSync(join(opts.out, 'labels.i32'), 'w');
  const fCap = openSync(join(opts.out, 'captions.i32'), 'w');
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (!le) throw new Error('export-training-data: big-endian hosts are not supported');
  let tRender = 0;
  let tSketch = 0;
  const workers = Math.max(1, Math.min(opts.workers ?? 1, zoo.length));
  const { context, prior } = captionContext();
  const encode = cachedEncoder();
  writeFileSync(join(opts.out, 'prior.json'), priorJson(prior, encode));
  log(`prior: ${prior.lemmas.length} lemmas, ${prior.edges.length} edges`);
  try {
    for await (const { m, img, sk, cap, ...t } of modelChunks(zoo, S, C, workers, context, encode)) {
      tRender += t.tRender;
      tSketch += t.tSketch;
      const lab = new Int32Array(S).fill(m);
      writeSync(fImg, img);
      writeSync(fSk, sk);
      writeSync(fLab, new Uint8Array(lab.buffer));
      writeSync(fCap, new Uint8Array(cap.buffer));
      if ((m + 1) % 100 === 0 || m + 1 === zoo.length) {
        log(`  ${m + 1}/${zoo.length} models, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    [fImg, fSk, fLab, fCap].forEach((f) => closeSync(f));
  }
  const meta = {
    count: N,
    size: OUT_SIZE,
    models: zoo.map((z) => ({ id: z.id, family: z.family, subject: z.subject, palette: z.palette, style: z.style, background: z.background, composition: z.composition })),
    captionsPerImage: C,
    samplesPerModel: S,
    zooSeed: opts.seed,
    renderSize: RENDER_SIZE,
    pool: POOL,
    order: 'image n = sample (n mod samplesPerModel) of model floor(n / samplesPerModel); sample seed = n mod samplesPerModel',
    sketchKinds: `image n: trainingSketch family ${TRAINING_SKETCH_FAMILIES.map((f, i) => `${i} ${f}`).join(', ')} by n mod ${TRAINING_SKETCH_FAMILIES.length}`,
    captions: 'v2 (tools/zoo/captions.ts)',
    files: {
      'images.u8': `uint8 [${N}, ${OUT_SIZE}, ${OUT_SIZE}, 3]`,
      'sketch.u8': `uint8 [${N}, ${OUT_SIZE}, ${OUT_SIZE}, 3]`,
      'labels.i32': `int32 [${N}]`,
      'captions.i32': `int32 [${N}, ${C}, ${CLIP_CONTEXT_LENGTH}]`,
    },
  };
  writeFileSync(join(opts.out, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  const seconds = (performance.now() - t0) / 1000;
  log(
    `exported ${N} images of ${zoo.length} train models to ${opts.out} in ${seconds.toFixed(1)} s ` +
      `with ${workers} thread(s) (per image: render ${(tRender / N).toFixed(2)} ms, sketch+pool ${(tSketch / N).toFixed(2)} ms)`,
  );
  return { count: N, seconds };
}

const USAGE = 'usage: npx tsx tools/zoo/export-training-data.ts --out <dir> [--models 800] [--samples 24] [--captions 4] [--seed 0] [--workers N]';

const OPTIONS = {
  out: text(),
  models: integer({ min: 0, default: 800 }),
  samples: integer({ min: 0, default: 24 }),
  captions: integer({ min: 0, default: 4 }),
  seed: integer({ min: 0, default: 0 }),
  workers: integer({ min: 0, default: Math.min(4, availableParallelism()) }),
};

async function main(): Promise<void> {
  const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
  await exportTrainingData({ ...values, out: required(values.out, 'out') });
}

if (isMainThread && process.argv[1]?.endsWith('export-training-data.ts')) {
  void runCommand(USAGE, main).then((code) => (process.exitCode = code));
}
