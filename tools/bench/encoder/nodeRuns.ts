/**
 * The Node rows of `npm run bench:encoder`: both towers of a twin model set timed in one process,
 * with the app's input building (src/core: tokenizer, preprocessRgba, encodeTokenIds /
 * encodePixelValues, which take onnxruntime-node and onnxruntime-web alike).
 *
 * Run as a script, it is the child process of the "onnxruntime-web in Node" rows: onnxruntime-web's
 * WASM backend on the same `.wasm` as the worker's WASM backend, in Node (no browser, no worker),
 * whose thread count can be set only once per process:
 *
 *   node --import tsx tools/bench/encoder/nodeRuns.ts '{"dir":…,"models":"quantized","threads":2,"warmup":5,"runs":20}'
 *
 * It prints one JSON line: { ort, towers } (outputs as plain arrays) or { error }.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-web';
import { encodePixelValues, encodeTokenIds, type OrtTensorFactory } from '../../../src/core/encode/encode.ts';
import { CLIP_VIT_B32 } from '../../../src/core/encode/encoders.ts';
import { preprocessRgba } from '../../../src/core/encode/preprocess.ts';
import { createClipTokenizer } from '../../../src/core/encode/tokenizer.ts';
import { BENCH_SENTENCE, benchImage, type ModelSet, type Tower } from './shared.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TOWERS = ['text', 'vision'] as const;
export const FILE_OF: Record<ModelSet, Record<Tower, string>> = {
  quantized: { text: 'onnx/text_model_quantized.onnx', vision: 'onnx/vision_model_quantized.onnx' },
  fp32: { text: 'onnx/text_model.onnx', vision: 'onnx/vision_model.onnx' },
};

export interface NodeTower {
  createMs: number;
  firstRunMs: number;
  timesMs: number[];
  output: Float32Array;
}

type OrtModule = OrtTensorFactory & { InferenceSession: { create(b: Uint8Array, o: object): Promise<InferenceSession> } };

/** Both towers of `models`, one session at a time (created, run once, warmed up, timed, released). */
export async function timeTowers(ort: OrtModule, sessionOptions: object, dir: string, models: ModelSet, warmup: number, runs: number): Promise<Record<Tower, NodeTower>> {
  const readJson = (rel: string) => JSON.parse(readFileSync(path.join(ROOT, 'public', rel), 'utf8')) as unknown;
  const tokenizer = createClipTokenizer(readJson(CLIP_VIT_B32.tokenizer.json), readJson(CLIP_VIT_B32.tokenizer.config));
  const s = CLIP_VIT_B32.image.size;
  const rgba = { data: benchImage(0, s), width: s, height: s };
  const out = {} as Record<Tower, NodeTower>;
  for (const tower of TOWERS) {
    const bytes = new Uint8Array(readFileSync(path.join(dir, FILE_OF[models][tower])));
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, sessionOptions);
    const t1 = performance.now();
    // The same input building and read-back as the worker's encodeText / encodeImage.
    const encode = async () =>
      tower === 'text'
        ? (await encodeTokenIds(ort, session, CLIP_VIT_B32, tokenizer.encodeBatch([BENCH_SENTENCE]), 1))[0]
        : (await encodePixelValues(ort, session, CLIP_VIT_B32, preprocessRgba(rgba, CLIP_VIT_B32.image), 1))[0];
    let output = await encode();
    const t2 = performance.now();
    for (let i = 0; i < warmup; i++) await encode();
    const timesMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r0 = performance.now();
      output = await encode();
      timesMs.push(performance.now() - r0);
    }
    await session.release();
    out[tower] = { createMs: t1 - t0, firstRunMs: t2 - t1, timesMs, output };
  }
  return out;
}

/** onnxruntime-node as the reference: native CPU, the worker's graph optimisation, `threads` intra-op threads. */
export async function nodeNative(dir: string, models: ModelSet, threads: number, warmup: number, runs: number): Promise<Record<Tower, NodeTower>> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
  return timeTowers(ort, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 }, dir, models, warmup, runs);
}

export interface NodeWasmArgs {
  dir: string;
  models: ModelSet;
  threads: number;
  warmup: number;
  runs: number;
}

export interface NodeWasmResult {
  ort?: { version: string; binary: string; numThreads: number };
  towers?: Record<Tower, Omit<NodeTower, 'output'> & { output: number[] }>;
  error?: string;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = JSON.parse(process.argv[2]) as NodeWasmArgs;
  let result: NodeWasmResult;
  try {
    const ort = await import('onnxruntime-web');
    const binary = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
    ort.env.wasm.wasmBinary = readFileSync(binary);
    ort.env.wasm.numThreads = args.threads;
    ort.env.logLevel = 'error';
    const towers = await timeTowers(ort as unknown as OrtModule, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 }, args.dir, args.models, args.warmup, args.runs);
    result = {
      ort: { version: ort.env.versions.web ?? '?', binary: path.basename(binary), numThreads: args.threads },
      towers: Object.fromEntries(TOWERS.map((t) => [t, { ...towers[t], output: Array.from(towers[t].output) }])) as NodeWasmResult['towers'],
    };
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
