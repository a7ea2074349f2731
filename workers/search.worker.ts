import { expose, transfer } from 'comlink';
import { AppError } from '../src/core/errors.ts';
import { ENCODERS } from '../src/core/encoders.ts';
import { firstMomentScores, topK } from '../src/core/scoring.ts';
import type {
  Backend,
  LoadProgress,
  ReadyInfo,
  SearchRequest,
  SearchResponse,
  WorkerConfig,
} from '../src/core/searchTypes.ts';
import { installErrorTransfer } from '../src/shared/comlinkErrors.ts';
import { EncoderRuntime } from './encoderRuntime.ts';
import { loadIndex, type LoadedIndex } from './indexLoader.ts';
import { probeWebGpu } from './webgpu.ts';

installErrorTransfer();

type Progress = (p: LoadProgress) => void;

let config: WorkerConfig | undefined;
let progress: Progress = () => {};
let indexPromise: Promise<LoadedIndex> | undefined;
let runtimePromise: Promise<EncoderRuntime> | undefined;

function requireConfig(): WorkerConfig {
  if (!config) throw new AppError('backend', 'The search worker was used before it was configured.');
  return config;
}

function getIndex(): Promise<LoadedIndex> {
  const cfg = requireConfig();
  indexPromise ??= loadIndex(cfg.indexUrl, (p) => progress(p));
  indexPromise.catch(() => (indexPromise = undefined));
  return indexPromise;
}

async function chooseBackend(pref: WorkerConfig['backend']): Promise<{ backend: Backend; reason?: string }> {
  if (pref === 'wasm') return { backend: 'wasm', reason: 'WASM was requested (?backend=wasm)' };
  const probe = await probeWebGpu();
  return probe.ok ? { backend: 'webgpu' } : { backend: 'wasm', reason: probe.reason };
}

/** The encoder the index was built with; created once, shared by all callers. */
function getRuntime(): Promise<EncoderRuntime> {
  const cfg = requireConfig();
  runtimePromise ??= (async () => {
    const index = await getIndex();
    const desc = ENCODERS[index.manifest.encoder.id];
    if (!desc) {
      throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${index.manifest.encoder.id}".`);
    }
    if (desc.dim !== index.dim) {
      throw new AppError('encoder-mismatch', `Encoder ${desc.id} gives ${desc.dim}-d embeddings but the index has ${index.dim}-d.`);
    }
    const { backend, reason } = await chooseBackend(cfg.backend);
    return new EncoderRuntime(desc, backend, reason, cfg.appBase, cfg.modelHost, (p) => progress(p));
  })();
  runtimePromise.catch(() => (runtimePromise = undefined));
  return runtimePromise;
}

const api = {
  /** Sets where the index and models live. Calling it again with a new config starts over. */
  configure(next: WorkerConfig, onProgress?: Progress): void {
    if (JSON.stringify(next) !== JSON.stringify(config)) {
      indexPromise = undefined;
      runtimePromise = undefined;
    }
    config = next;
    if (onProgress) progress = onProgress;
  },

  /** Loads index, tokenizer and encoder (once) and warms the encoder up. */
  async ready(): Promise<ReadyInfo> {
    const t0 = performance.now();
    const [index, runtime] = await Promise.all([getIndex(), getRuntime()]);
    await runtime.ready();
    progress({ status: 'ready', backend: runtime.backend, reason: runtime.backendReason });
    return {
      backend: runtime.backend,
      backendReason: runtime.backendReason,
      encoderId: runtime.desc.id,
      encoderLabel: runtime.desc.label,
      indexName: index.manifest.name,
      modelCount: index.count,
      loadMs: performance.now() - t0,
    };
  },

  /** CLIP text embedding (unit length) of `text` with the index's encoder. */
  async encodeText(text: string): Promise<{ encoderId: string; embedding: Float32Array; backend: Backend }> {
    const runtime = await getRuntime();
    const embedding = await runtime.encodeText(text);
    return transfer({ encoderId: runtime.desc.id, embedding, backend: runtime.backend }, [embedding.buffer]);
  },

  async search(req: SearchRequest): Promise<SearchResponse> {
    const text = req.text.trim();
    if (!text) throw new AppError('bad-query', 'Type a description of the images you are looking for.');
    const [index, runtime] = await Promise.all([getIndex(), getRuntime()]);
    const t0 = performance.now();
    const query = await runtime.encodeText(text);
    const t1 = performance.now();
    const scores = firstMomentScores(index.means, index.norms, index.dim, query);
    const top = topK(scores, req.topK);
    const t2 = performance.now();
    const response: SearchResponse = {
      backend: runtime.backend,
      encodeMs: t1 - t0,
      scoreMs: t2 - t1,
      results: top.map((r, i) => ({ rank: i + 1, index: r.index, score: r.score, model: index.models[r.index] })),
      scores,
    };
    return transfer(response, [scores.buffer]);
  },

  /** Diagnostics: simulate a lost GPU device (driver reset); the next query falls back to WASM. */
  async loseDevice(): Promise<boolean> {
    const runtime = await getRuntime();
    return runtime.loseDevice();
  },
};

export type SearchWorkerApi = typeof api;

expose(api);
