/**
 * Browser half of `npm run bench:encoder` for **our worker's code path**: this dedicated worker
 * loads the search worker's own modules (workers/encoderRuntime.ts and workers/ortRuntime.ts, by
 * URL path: tools may not import worker code, tools/check-boundaries.ts) and drives an
 * EncoderRuntime exactly as workers/search.worker.ts does, on a descriptor that is CLIP_VIT_B32 with
 * the twin's files:
 *
 * - onnxruntime-web comes from `startOrtRuntime`: the bundle the backend picks
 *   (`onnxruntime-web/wasm` or `/webgpu`), the binary from `virtual:ort-wasm` downloaded, verified
 *   and handed over as `env.wasm.wasmBinary`, `env.wasm.numThreads = WASM_THREADS`, started by the
 *   identity model;
 * - sessions come from EncoderRuntime.createSession (graphOptimizationLevel 'all', its warm-up run),
 *   the files through its download path (size + SHA-256 pinned from twin.json, no offline storage);
 * - every timed run is `encodeText(sentence)` / `encodeImage(rgba)`: the app's tokenizer or
 *   preprocessRgba, the run, the read-back and the L2 normalisation.
 *
 * The one thing the worker has no hook for is the thread count: WASM_THREADS is
 * `crossOriginIsolated ? min(4, navigator.hardwareConcurrency) : 1`, read when ortRuntime.ts is
 * evaluated, so this worker shadows navigator.hardwareConcurrency with the wanted count before it
 * imports the module. Session creation is timed from EncoderRuntime's own progress events
 * ('session' just before InferenceSession.create, 'warmup' just after).
 */
import type * as OrtWeb from 'onnxruntime-web';
import { CLIP_VIT_B32, type EncoderDescriptor } from '../../../src/core/encode/encoders.ts';
import { preprocessRgba, type RgbaImage } from '../../../src/core/encode/preprocess.ts';
import { createClipTokenizer } from '../../../src/core/encode/tokenizer.ts';
import { benchImage, median, type BrowserConfig, type Tower, type TowerResult, type WorkerResult } from './shared.ts';

/** The parts of workers/encoderRuntime.ts and workers/ortRuntime.ts this bench uses (their real types live in the worker layer). */
interface Progress {
  status: string;
  [k: string]: unknown;
}
type ProgressFn = (p: Progress) => void;
interface Storage {
  store: null;
}
interface EncoderRuntimeLike {
  backend: string;
  backendReason: unknown;
  ready(): Promise<void>;
  encodeText(text: string): Promise<Float32Array>;
  encodeImage(image: RgbaImage): Promise<Float32Array>;
}
interface EncoderRuntimeModule {
  EncoderRuntime: new (
    desc: EncoderDescriptor,
    backend: 'wasm' | 'webgpu',
    backendReason: undefined,
    appBase: string,
    modelHost: string | undefined,
    progress: ProgressFn,
    storage: Storage,
    runtime: () => Promise<typeof OrtWeb>,
  ) => EncoderRuntimeLike;
}
interface OrtRuntimeModule {
  startOrtRuntime(backend: 'wasm' | 'webgpu', storage: Storage, progress: ProgressFn): Promise<typeof OrtWeb>;
  WASM_THREADS: number;
}

const ctx = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null; crossOriginIsolated: boolean };
const log = (text: string) => ctx.postMessage({ type: 'progress', text });

async function run(config: BrowserConfig): Promise<WorkerResult> {
  const notes: string[] = [];
  const hardwareConcurrency = navigator.hardwareConcurrency;
  // The thread count (see the header): the worker reads it once, at module evaluation.
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => config.threads });
  const [{ EncoderRuntime }, ortRuntime] = (await Promise.all([
    import(/* @vite-ignore */ config.appModules.encoderRuntime),
    import(/* @vite-ignore */ config.appModules.ortRuntime),
  ])) as [EncoderRuntimeModule, OrtRuntimeModule];
  if (ortRuntime.WASM_THREADS !== config.threads) notes.push(`WASM_THREADS is ${ortRuntime.WASM_THREADS}, not ${config.threads}`);

  const stamps: { status: string; t: number }[] = [];
  let fallback: string | undefined;
  const progress: ProgressFn = (p) => {
    stamps.push({ status: p.status, t: performance.now() });
    if (p.status === 'fallback') fallback = JSON.stringify(p.reason);
  };
  const storage: Storage = { store: null };
  const runtime = () => ortRuntime.startOrtRuntime(config.backend, storage, progress);

  const desc: EncoderDescriptor = {
    ...CLIP_VIT_B32,
    id: 'clip-twin',
    label: 'CLIP twin',
    text: { url: config.files.text.url, bytes: config.files.text.bytes, sha256: config.files.text.sha256 },
    vision: { url: config.files.vision.url, bytes: config.files.vision.bytes, sha256: config.files.vision.sha256 },
  };
  const appBase = new URL('/', self.location.href).href;
  const encoder = new EncoderRuntime(desc, config.backend, undefined, appBase, undefined, progress, storage, runtime);

  log(`${config.backend}, ${config.threads} thread(s): starting onnxruntime-web`);
  const r0 = performance.now();
  const ort = await runtime();
  const runtimeStartMs = performance.now() - r0;

  // The input-building cost alone (it is part of every timed run): the app's tokenizer and preprocessing.
  const readJson = async (rel: string) => (await (await fetch(new URL(rel, appBase))).json()) as unknown;
  const tokenizer = createClipTokenizer(await readJson(desc.tokenizer.json), await readJson(desc.tokenizer.config));
  const rgba: RgbaImage = { data: benchImage(0, config.imageSize), width: config.imageSize, height: config.imageSize };
  const inputTimes: Record<Tower, number[]> = { text: [], vision: [] };
  for (let i = 0; i < Math.max(5, config.runs); i++) {
    let t0 = performance.now();
    tokenizer.encodeBatch([config.sentence]);
    inputTimes.text.push(performance.now() - t0);
    t0 = performance.now();
    preprocessRgba(rgba, desc.image);
    inputTimes.vision.push(performance.now() - t0);
  }

  const towers: Partial<Record<Tower, TowerResult>> = {};
  for (const tower of ['text', 'vision'] as const) {
    const encode = () => (tower === 'text' ? encoder.encodeText(config.sentence) : encoder.encodeImage(rgba));
    log(`${tower}: loading`);
    const from = stamps.length;
    const t0 = performance.now();
    if (tower === 'text') await encoder.ready();
    const first = await encode();
    const t1 = performance.now();
    const mine = stamps.slice(from);
    const created = [...mine].reverse().find((s) => s.status === 'session');
    const warmup = [...mine].reverse().find((s) => s.status === 'warmup');
    if (!created || !warmup) throw new Error(`${tower}: no session/warm-up progress events (${mine.map((s) => s.status).join(', ')})`);
    log(`${tower}: session ${(warmup.t - created.t).toFixed(0)} ms; ${config.warmup} warm-up + ${config.runs} timed runs`);
    for (let i = 0; i < config.warmup; i++) await encode();
    const timesMs: number[] = [];
    let output = first;
    for (let i = 0; i < config.runs; i++) {
      const s = performance.now();
      output = await encode();
      timesMs.push(performance.now() - s);
    }
    towers[tower] = { createMs: warmup.t - created.t, firstRunMs: t1 - warmup.t, loadMs: t1 - t0, timesMs, output: Array.from(output) };
  }
  if (fallback) notes.push(`fell back to WASM: ${fallback}`);

  const binaries = performance
    .getEntriesByType('resource')
    .map((e) => e.name)
    .filter((n) => new URL(n).pathname.endsWith('.wasm') && !/[?&](url|import)\b/.test(n)) // the binary, not vite's `?url` module
    .map((n) => new URL(n).pathname.split('/').pop()!);
  return {
    runner: 'app',
    ort: { version: ort.env.versions.web ?? '?', bundle: config.backend === 'webgpu' ? 'onnxruntime-web/webgpu' : 'onnxruntime-web/wasm', binary: [...new Set(binaries)].join(', ') || '?', numThreads: ort.env.wasm.numThreads },
    backend: encoder.backend,
    fallback,
    runtimeStartMs,
    crossOriginIsolated: ctx.crossOriginIsolated,
    hardwareConcurrency,
    userAgent: navigator.userAgent,
    inputMs: { text: median(inputTimes.text), vision: median(inputTimes.vision) },
    towers,
    notes,
  };
}

ctx.onmessage = (e: MessageEvent) => {
  run(e.data as BrowserConfig).then(
    (result) => ctx.postMessage({ type: 'done', result }),
    (err: unknown) => ctx.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
