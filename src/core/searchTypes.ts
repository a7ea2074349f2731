import type { ErrorInfo } from './errors.ts';
import type { BuildParams, ModelMeta } from './manifest.ts';
import type { Method, MethodParams } from './methods.ts';

/** Types shared by the UI and the search worker (structured-clone safe). */
export type BackendPreference = 'auto' | 'webgpu' | 'wasm';
export type Backend = 'webgpu' | 'wasm';

export interface WorkerConfig {
  /** Absolute URL the relative asset paths resolve against (the app's base). */
  appBase: string;
  /** Absolute URL of the index folder (ends with '/'). */
  indexUrl: string;
  backend: BackendPreference;
  /** Host that serves hub-style model files (`{host}/{repo}/resolve/main/…`). */
  modelHost?: string;
}

/** Progress and status from the worker, one union keyed by `status`. */
export type LoadProgress =
  | { status: 'initiate'; file: string; label: string }
  | { status: 'download'; file: string; loaded: number; total?: number }
  | { status: 'done'; file: string }
  | { status: 'session'; backend: Backend }
  | { status: 'warmup'; backend: Backend }
  | { status: 'fallback'; from: Backend; to: Backend; reason: string }
  | { status: 'ready'; backend: Backend; reason?: string };

export interface ReadyInfo {
  backend: Backend;
  /** Why the backend is not WebGPU, when it is not. */
  backendReason?: string;
  encoderId: string;
  encoderLabel: string;
  indexName: string;
  modelCount: number;
  /** Methods this index supports, best first (the default is the first). */
  methods: Method[];
  params?: BuildParams;
  loadMs: number;
}

/** One part of a query: text, an image file, or an existing model of the index. */
export type QueryPart = { kind: 'text'; text: string } | { kind: 'image'; image: Blob } | { kind: 'model'; modelIndex: number };

export interface SearchRequest {
  /** One part, or several for a multimodal product-of-experts query. */
  parts: { part: QueryPart; weight: number }[];
  method: Method;
  params?: MethodParams;
  topK: number;
}

export interface RankedModel {
  rank: number;
  index: number;
  score: number;
  model: ModelMeta;
}

export interface SearchResponse {
  backend: Backend;
  method: Method;
  encodeMs: number;
  scoreMs: number;
  results: RankedModel[];
  /** The score of every model, in index order (for plots and checks). */
  scores: Float32Array;
}

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
