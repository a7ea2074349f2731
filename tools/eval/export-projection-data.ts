/**
 * Training data for the fine-tuned projection (the paper's "fine-tuned 1st moment"), from the
 * TRAIN split of the procedural zoo — never from the eval zoo the projection is evaluated on.
 *
 *   npx tsx tools/eval/export-projection-data.ts --data <dir> [--encoder zoo-encoder] [--models 300]
 *       [--samples 16] [--images 2] [--texts 2] [--no-sketches] [--seed 0]
 *
 * Writes (raw little-endian, row-major) what tools/zoo-encoder/train_projection.py reads:
 *   queries.f32        float32 [Q, D]  unit-length query embeddings
 *   query_models.i32   int32   [Q]     ground-truth model (row of means.f32) of each query
 *   means.f32          float32 [M, D]  each train model's mean sample embedding (not renormalised,
 *                                      like the index's means)
 *   meta.json          { Q, M, D, encoder, models: [ids], kinds: {image, sketch, text}, … }
 *
 * Per train model: `--samples` renders (sample seeds 0…S−1, the seeds of model folders) give the
 * mean; `--images` fresh renders (seeds from QUERY_SEED_BASE + 100, never used for model folders
 * or eval queries) are image queries; with sketches, one line drawing and one stroke sketch of
 * fresh seeds are sketch queries; `--texts` captions from the zoo's *training* templates (fresh
 * random streams) are text queries — the eval queries' sentence templates stay unseen by both the
 * encoder and the projection. Everything goes through the same CLIP preprocessing and NodeEncoder
 * as the index builder (a PNG round trip of a zoo render is lossless, so rendering straight to
 * pixels gives the same embedding as the builder's decode of the written file).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { EncoderDescriptor } from '../../src/core/encode/encoders.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { NodeEncoder } from '../lib/nodeEncoder.ts';
import { QUERY_SEED_BASE } from '../zoo/cli.ts';
import { nodeCanvasFactory } from '../zoo/node.ts';
import { renderSample } from '../zoo/render.ts';
import { lineDrawing, strokeSketch } from '../zoo/sketch.ts';
import { combineSeeds, makeZoo, prng } from '../zoo/spec.ts';
import { trainingCaptions } from '../zoo/captions.ts';
import { loadLexicon } from '../zoo/lexicon.ts';
import { embedTexts } from './queries.ts';

export interface ProjectionDataOptions {
  dataDir: string;
  encoder: NodeEncoder;
  models: number;
  samples: number;
  imagesPerModel: number;
  textsPerModel: number;
  sketches: boolean;
  seed: number;
  log?: (s: string) => void;
}

/** Bump when what the export writes changes (cached data folders are keyed by it). */
export const PROJECTION_DATA_VERSION = 2;

/** First sample seed of the projection's image queries (disjoint from model folders and eval queries). */
export const PROJECTION_QUERY_SEED = QUERY_SEED_BASE + 100;
/** Salt of the projection's caption streams (differs from the encoder's CAPTION_SALT). */
const PROJECTION_CAPTION_SALT = 0x9e07c1;

const SIZE = 224;

/**
 * Renders and embeds `jobs` in batches; rendering the next batch (JavaScript, main thread)
 * overlaps the encoder's run on the current one (onnxruntime's threads).
 */
export async function embedRenders(encoder: NodeEncoder, jobs: (() => Uint8ClampedArray)[], batch = 32): Promise<Float32Array[]> {
  const desc: EncoderDescriptor = encoder.desc;
  const plane = 3 * desc.image.size * desc.image.size;
  const prepare = (start: number) => {
    const n = Math.min(batch, jobs.length - start);
    const pixels = new Float32Array(n * plane);
    for (let i = 0; i < n; i++) pixels.set(preprocessRgba({ data: jobs[start + i](), width: SIZE, height: SIZE }, desc.image), i * plane);
    return { pixels, n };
  };
  const out: Float32Array[] = [];
  let pending: Promise<Float32Array[]> | undefined;
  for (let start = 0; start < jobs.length; start += batch) {
    const { pixels, n } = prepare(start);
    if (pending) out.push(...(await pending));
    pending = encoder.encodeImages(pixels, n);
  }
  if (pending) out.push(...(await pending));
  return out;
}

export interface ProjectionDataSummary {
  Q: number;
  M: number;
  D: number;
  kinds: Record<string, number>;
  seconds: number;
}

export async function exportProjectionData(o: ProjectionDataOptions): Promise<ProjectionDataSummary> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const zoo = makeZoo('train', o.models, o.seed);
  const D = o.encoder.desc.dim;
  const M = zoo.length;

  // Means over sample seeds 0…S−1.
  const sampleJobs = zoo.flatMap((spec) => Array.from({ length: o.samples }, (_, s) => () => renderSample(spec, s, nodeCanvasFactory, SIZE)));
  log(`projection data: embedding ${sampleJobs.length} samples of ${M} train models for their means`);
  const sampleEmbs = await embedRenders(o.encoder, sampleJobs);
  const means = new Float32Array(M * D);
  for (let m = 0; m < M; m++) {
    const acc = new Float64Array(D);
    for (let s = 0; s < o.samples; s++) {
      const e = sampleEmbs[m * o.samples + s];
      for (let j = 0; j < D; j++) acc[j] += e[j];
    }
    for (let j = 0; j < D; j++) means[m * D + j] = acc[j] / o.samples;
  }

  // Image queries (all models), then sketch queries (all models).
  const visual: { model: number; kind: 'image' | 'sketch'; job: () => Uint8ClampedArray }[] = [];
  zoo.forEach((spec, m) => {
    for (let k = 0; k < o.imagesPerModel; k++) {
      visual.push({ model: m, kind: 'image', job: () => renderSample(spec, PROJECTION_QUERY_SEED + k, nodeCanvasFactory, SIZE) });
    }
  });
  if (o.sketches) {
    const s1 = PROJECTION_QUERY_SEED + 50;
    zoo.forEach((spec, m) => {
      visual.push({ model: m, kind: 'sketch', job: () => lineDrawing(renderSample(spec, s1, nodeCanvasFactory, SIZE), SIZE) });
      visual.push({ model: m, kind: 'sketch', job: () => strokeSketch(spec, s1 + 1, nodeCanvasFactory, SIZE) });
    });
  }
  log(`projection data: embedding ${visual.length} image/sketch queries`);
  const visualEmbs = await embedRenders(o.encoder, visual.map((v) => v.job));

  // Text queries: training captions (tools/zoo/captions.ts, no typos) from fresh random streams.
  const texts: { model: number; text: string }[] = [];
  const lexicon = loadLexicon().train;
  zoo.forEach((spec, m) => {
    const rand = prng(combineSeeds(spec.seed, PROJECTION_QUERY_SEED) ^ PROJECTION_CAPTION_SALT);
    for (const text of trainingCaptions(spec, lexicon, rand, o.textsPerModel, { typoRate: 0 })) texts.push({ model: m, text });
  });
  const textEmbs = await embedTexts(o.encoder, texts.map((t) => t.text));

  const Q = visual.length + texts.length;
  const queries = new Float32Array(Q * D);
  const queryModels = new Int32Array(Q);
  [...visualEmbs, ...textEmbs].forEach((e, i) => queries.set(e, i * D));
  [...visual.map((v) => v.model), ...texts.map((t) => t.model)].forEach((m, i) => (queryModels[i] = m));
  const kinds = {
    image: visual.filter((v) => v.kind === 'image').length,
    sketch: visual.filter((v) => v.kind === 'sketch').length,
    text: texts.length,
  };

  // Written into a temporary folder and renamed: a half-written data folder is never used.
  const tmp = `${o.dataDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  await writeFile(join(tmp, 'queries.f32'), bytes(queries));
  await writeFile(join(tmp, 'query_models.i32'), bytes(queryModels));
  await writeFile(join(tmp, 'means.f32'), bytes(means));
  const seconds = (performance.now() - t0) / 1000;
  const meta = {
    Q,
    M,
    D,
    encoder: o.encoder.desc.id,
    split: 'train',
    zooSeed: o.seed,
    samplesPerModel: o.samples,
    kinds,
    order: `queries: ${kinds.image} image, then ${kinds.sketch} sketch (a line drawing and a stroke sketch per model), then ${kinds.text} text; model by model within each kind`,
    models: zoo.map((z) => z.id),
    files: { 'queries.f32': `float32 [${Q}, ${D}]`, 'query_models.i32': `int32 [${Q}]`, 'means.f32': `float32 [${M}, ${D}]` },
    seconds,
  };
  await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
  await rm(o.dataDir, { recursive: true, force: true });
  await rename(tmp, o.dataDir);
  log(`projection data: Q = ${Q} queries (${kinds.image} image, ${kinds.sketch} sketch, ${kinds.text} text), M = ${M} models, D = ${D} → ${o.dataDir} (${seconds.toFixed(1)} s)`);
  return { Q, M, D, kinds, seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      encoder: { type: 'string', default: 'zoo-encoder' },
      models: { type: 'string', default: '300' },
      samples: { type: 'string', default: '16' },
      images: { type: 'string', default: '2' },
      texts: { type: 'string', default: '2' },
      'no-sketches': { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.data) {
    console.log(
      'usage: npx tsx tools/eval/export-projection-data.ts --data <dir> [--encoder zoo-encoder] [--models 300] [--samples 16] [--images 2] [--texts 2] [--no-sketches] [--seed 0]',
    );
    process.exit(values.help ? 0 : 2);
  }
  const int = (v: string, name: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
  const { ENCODERS } = await import('../../src/core/encode/encoders.ts');
  const desc = ENCODERS[values.encoder];
  if (!desc) throw new Error(`unknown encoder "${values.encoder}" (known: ${Object.keys(ENCODERS).join(', ')})`);
  const encoder = await NodeEncoder.load(desc);
  await exportProjectionData({
    dataDir: values.data,
    encoder,
    models: int(values.models, 'models', 2),
    samples: int(values.samples, 'samples', 2),
    imagesPerModel: int(values.images, 'images', 0),
    textsPerModel: int(values.texts, 'texts', 0),
    sketches: !values['no-sketches'],
    seed: int(values.seed, 'seed', 0),
    log: (s) => console.error(s),
  });
}

if (process.argv[1]?.endsWith('export-projection-data.ts')) {
  main().catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
