/**
 * What the Node half of `npm run bench:encoder` (tools/bench/encoder.ts) and its browser workers
 * (app.worker.ts, transformers.worker.ts) share: the messages, the fixed inputs and the statistics.
 * No Node or DOM imports.
 */
import { referenceImage } from '../../clip-twin/referenceImage.ts';

/** The sentence every text row encodes (tokenised by the app's tokenizer into [1, 77] int64). */
export const BENCH_SENTENCE = 'a watercolor painting of a red fox sitting in a snowy forest at dusk, soft light';

/** The twin's file pairs: `quantized` (Xenova's *_quantized.onnx, transformers.js dtype 'q8') and `fp32`. */
export type ModelSet = 'quantized' | 'fp32';
export type Tower = 'text' | 'vision';

/** One twin file as the page serves it: URL path, size and SHA-256 (from twin.json). */
export interface TwinFile {
  url: string;
  bytes: number;
  sha256: string;
}

/** A browser configuration: one fresh Chromium, one page, one dedicated worker. */
export interface BrowserConfig {
  /** `app`: the search worker's modules (workers/encoderRuntime.ts + workers/ortRuntime.ts); `transformers`: transformers.js. */
  runner: 'app' | 'transformers';
  backend: 'wasm' | 'webgpu';
  threads: number;
  models: ModelSet;
  files: Record<Tower, TwinFile>;
  /** The directory the twin is served from, with a trailing slash ('/twin/'). */
  twinBase: string;
  warmup: number;
  runs: number;
  sentence: string;
  imageSize: number;
  /** Whether the page asks performance.measureUserAgentSpecificMemory() after the runs (the first round only). */
  uaMemory?: boolean;
  /** The app worker's modules, by URL path: tools may not import worker code (tools/check-boundaries.ts). */
  appModules: { encoderRuntime: string; ortRuntime: string };
}

export interface TowerResult {
  /** InferenceSession.create alone, ms (the bytes already in memory). */
  createMs: number;
  /** The first run after the session exists (the app's own warm-up run for `app`), ms. */
  firstRunMs: number;
  /** Timed runs after `warmup` untimed ones, ms each, in order. */
  timesMs: number[];
  /** The tower's output for the bench input, as the runner returns it (the app: L2-normalised). */
  output: number[];
  /** Everything from the request to the usable session (download + verify + create + warm-up), ms. */
  loadMs: number;
  /** transformers.js only: its session's run() called directly with the same input, ms each (a diagnostic). */
  rawRunMs?: number[];
}

export interface WorkerResult {
  runner: BrowserConfig['runner'];
  /** What the worker ran on: onnxruntime-web's version, bundle and binary. */
  ort: { version: string; bundle: string; binary: string; numThreads: number | string | undefined };
  /** The backend the sessions ended up on (the app falls back from WebGPU to WASM on failure). */
  backend: string;
  fallback?: string;
  /** The app: startOrtRuntime (binary download + verify + onnxruntime-web's start by the identity model), ms. transformers.js starts it inside its first InferenceSession.create. */
  runtimeStartMs?: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  /** transformers.js's version (runner `transformers`). */
  library?: string;
  /** Tokenizer + preprocessing alone, median ms (included in every timed run). */
  inputMs: Record<Tower, number>;
  towers: Partial<Record<Tower, TowerResult>>;
  notes: string[];
}

/** performance.measureUserAgentSpecificMemory(), summed (bytes), as the page measured it after the runs. */
export interface UaMemory {
  totalBytes: number;
  /** Bytes attributed to DedicatedWorkerGlobalScope (the bench worker and ORT's thread workers). */
  workerBytes: number;
  /** Bytes attributed to the page itself. */
  windowBytes: number;
}

export type PageResult = WorkerResult & { uaMemory?: UaMemory; uaMemoryError?: string };

/** A deterministic opaque RGBA image: the twin's reference image (tools/clip-twin/referenceImage.ts). */
export const benchImage = (b = 0, size = 224): Uint8Array => referenceImage(b, size);

export interface Stats {
  n: number;
  medianMs: number;
  /** Nearest-rank 90th percentile. */
  p90Ms: number;
  minMs: number;
}

export function stats(times: readonly number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n, medianMs: NaN, p90Ms: NaN, minMs: NaN };
  const h = n >> 1;
  return { n, medianMs: n % 2 ? s[h] : (s[h - 1] + s[h]) / 2, p90Ms: s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)], minMs: s[0] };
}

export function median(xs: readonly number[]): number {
  return stats(xs).medianMs;
}

/** Cosine of two vectors (not assumed normalised). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
