import * as ort from 'onnxruntime-web/webgpu';
import { cachedFetchBytes, type CacheEvent } from './storage/cachedFetch.ts';
import { encodePixelValues, encodeTokenIds } from '../src/core/encode/encode.ts';
import { AppError } from '../src/core/io/errors.ts';
import { resolveEncoderUrl, type EncoderDescriptor } from '../src/core/encode/encoders.ts';
import { fetchBytes, fileName } from '../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './storage/fileStore.ts';
import { preprocessRgba, type RgbaImage } from '../src/core/encode/preprocess.ts';
import type { Backend, BackendReason, LoadProgress } from '../src/shared/protocol.ts';
import { createClipTokenizer, type ClipTokenizer } from '../src/core/encode/tokenizer.ts';

type Progress = (p: LoadProgress) => void;
export type Tower = 'text' | 'vision';

/** Offline storage for the tower files; store null = network only. */
export interface EncoderStorage {
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
}

/** The offline-storage group of an encoder; its version is the pair of pinned tower hashes. */
export const encoderGroup = (desc: EncoderDescriptor) => `encoder:${desc.id}`;
const encoderVersion = (desc: EncoderDescriptor) => `${desc.text.sha256 ?? '-'}+${desc.vision.sha256 ?? '-'}`;

// Without cross-origin isolation (e.g. inside an embed) WASM must run single-threaded: threads need
// SharedArrayBuffer, which browsers give only to isolated pages (COOP + COEP headers).
export const WASM_THREADS = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.wasm.numThreads = WASM_THREADS;
ort.env.logLevel = 'error';

const TOWER_LABEL: Record<Tower, string> = { text: 'text encoder', vision: 'image encoder' };

/**
 * Owns one encoder: downloaded bytes, tokenizer and one ORT session per tower for the active
 * backend. Every resource is a promise singleton so concurrent callers share one load; the vision
 * tower is only fetched when the first image query arrives. A WebGPU failure (including a lost
 * device) flips one flag to WASM and the same code path runs again.
 */
export class EncoderRuntime {
  readonly desc: EncoderDescriptor;
  backend: Backend;
  backendReason: BackendReason | undefined;
  private readonly bytes: Partial<Record<Tower, Promise<Uint8Array>>> = {};
  private readonly sessions: Partial<Record<Tower, { backend: Backend; session: Promise<ort.InferenceSession> }>> = {};
  private tokenizer?: Promise<ClipTokenizer>;

  constructor(
    desc: EncoderDescriptor,
    backend: Backend,
    backendReason: BackendReason | undefined,
    private readonly appBase: string,
    private readonly modelHost: string | undefined,
    private readonly progress: Progress,
    private readonly storage: EncoderStorage = { store: null },
  ) {
    this.desc = desc;
    this.backend = backend;
    this.backendReason = backendReason;
  }

  /** Loads tokenizer + text session and runs one warm-up query (compiles GPU shaders once). */
  async ready(): Promise<void> {
    await Promise.all([this.getTokenizer(), this.getSession('text')]);
    // Fetch (and save for offline use) the image tower in the background, so image and sketch
    // queries work offline after one visit. Only when it can be saved: a file without a pinned
    // checksum would be downloaded again on every visit anyway.
    if (this.storage?.store && this.desc.vision.sha256) void this.getBytes('vision').catch(() => {});
  }

  async encodeText(text: string): Promise<Float32Array> {
    const ids = (await this.getTokenizer()).encodeBatch([text]);
    return this.withFallback(async () => {
      const [embedding] = await encodeTokenIds(ort, await this.getSession('text'), this.desc, ids, 1);
      return embedding;
    });
  }

  /** Embeds decoded RGBA pixels with CLIP preprocessing (src/core, shared with the Node tools). */
  async encodeImage(image: RgbaImage): Promise<Float32Array> {
    const pixels = preprocessRgba(image, this.desc.image);
    return this.withFallback(async () => {
      const [embedding] = await encodePixelValues(ort, await this.getSession('vision'), this.desc, pixels, 1);
      return embedding;
    });
  }

  /** Test/diagnostic hook: destroys the WebGPU device as a driver reset would. */
  async loseDevice(): Promise<boolean> {
    const text = this.sessions.text;
    if (this.backend !== 'webgpu' || !text || text.backend !== 'webgpu') return false;
    await text.session;
    const device = await currentGpuDevice();
    device.destroy();
    await device.lost; // the switch to WASM has happened when this returns
    return true;
  }

  private async withFallback<T>(run: () => Promise<T>): Promise<T> {
    const started = this.backend;
    try {
      // A run on a device that is lost meanwhile may never settle: the loss itself ends the wait.
      return await (started === 'webgpu' && this.deviceLost ? Promise.race([run(), this.deviceLost]) : run());
    } catch (err) {
      // Failed on WebGPU (possibly switched to WASM meanwhile by the loss handler): retry on WASM.
      if (started !== 'webgpu') throw err;
      this.fallBackToWasm({ kind: 'run-failed', detail: err instanceof Error ? err.message : String(err) });
      return run();
    }
  }

  private fallBackToWasm(reason: BackendReason): void {
    if (this.backend === 'wasm') return;
    console.warn(`[search worker] WebGPU → WASM: ${reason.kind}${'detail' in reason ? ` (${reason.detail})` : ''}.`);
    this.backend = 'wasm';
    this.backendReason = reason;
    for (const tower of ['text', 'vision'] as const) {
      const old = this.sessions[tower];
      delete this.sessions[tower];
      old?.session.then((s) => s.release()).catch(() => {});
    }
    this.progress({ status: 'fallback', from: 'webgpu', to: 'wasm', reason });
  }

  private getTokenizer(): Promise<ClipTokenizer> {
    this.tokenizer ??= (async () => {
      const load = async (path: string) => {
        const bytes = await fetchBytes(new URL(path, this.appBase).href);
        return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
      };
      const [json, config] = await Promise.all([load(this.desc.tokenizer.json), load(this.desc.tokenizer.config)]);
      return createClipTokenizer(json, config);
    })();
    this.tokenizer.catch(() => (this.tokenizer = undefined));
    return this.tokenizer;
  }

  private getBytes(tower: Tower): Promise<Uint8Array> {
    const cached = this.bytes[tower];
    if (cached) return cached;
    const promise = (async () => {
      const file = this.desc[tower];
      const url = resolveEncoderUrl(file, this.appBase, this.modelHost);
      const name = fileName(url);
      const label = `${this.desc.label} ${TOWER_LABEL[tower]}`;
      this.progress({ status: 'initiate', file: name, label });
      const onProgress = (loaded: number, total: number | undefined) => this.progress({ status: 'download', file: name, loaded, total });
      const { store, onCacheEvent } = this.storage;
      let bytes: Uint8Array;
      if (file.sha256 !== undefined && file.bytes !== undefined) {
        // Pinned by size + hash: served from (and saved to) verified offline storage.
        bytes = await cachedFetchBytes(url, { bytes: file.bytes, sha256: file.sha256, label, group: encoderGroup(this.desc), store, onCacheEvent, onProgress });
        // Committing the same version again adds this tower to it; a new descriptor version replaces the old files.
        await store?.commitGroup(encoderGroup(this.desc), encoderVersion(this.desc), [file.sha256]);
      } else {
        // Without a pinned hash nothing could be verified on read: never saved.
        bytes = await fetchBytes(url, { bytes: file.bytes, sha256: file.sha256, onProgress });
      }
      this.progress({ status: 'done', file: name });
      return bytes;
    })();
    this.bytes[tower] = promise;
    promise.catch(() => delete this.bytes[tower]);
    return promise;
  }

  private getSession(tower: Tower): Promise<ort.InferenceSession> {
    const current = this.sessions[tower];
    if (current && current.backend === this.backend) return current.session;
    const backend = this.backend;
    const session = this.createSession(tower, backend);
    const entry = { backend, session };
    this.sessions[tower] = entry;
    session.catch(() => {
      if (this.sessions[tower] === entry) delete this.sessions[tower];
    });
    return session;
  }

  private async createSession(tower: Tower, backend: Backend): Promise<ort.InferenceSession> {
    const bytes = await this.getBytes(tower);
    this.progress({ status: 'session', backend });
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: [backend],
        graphOptimizationLevel: 'all',
        // Only errors: ORT's node-placement warnings are expected and would alarm users in the console.
        logSeverityLevel: 3,
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (backend !== 'webgpu') {
        throw new AppError('backend', `The ${this.desc.label} ${TOWER_LABEL[tower]} could not be started: ${why}`, this.desc[tower].url);
      }
      this.fallBackToWasm({ kind: 'session-failed', detail: why });
      return this.getSession(tower);
    }
    if (backend === 'webgpu') this.watchDevice();
    // One warm-up run compiles the GPU shaders before the first real query.
    this.progress({ status: 'warmup', backend });
    if (tower === 'text') {
      await encodeTokenIds(ort, session, this.desc, (await this.getTokenizer()).encodeBatch(['']), 1);
    } else {
      const s = this.desc.image.size;
      await encodePixelValues(ort, session, this.desc, new Float32Array(3 * s * s), 1);
    }
    return session;
  }

  /** Rejects when the WebGPU device is lost (set once a WebGPU session exists). */
  private deviceLost?: Promise<never>;
  private watchDevice(): void {
    if (this.deviceLost) return;
    this.deviceLost = currentGpuDevice().then((device) =>
      device.lost.then((info) => {
        const detail = `${info.reason || 'unknown'}: ${info.message}`;
        this.fallBackToWasm({ kind: 'device-lost', detail });
        throw new Error(`WebGPU device lost (${detail})`);
      }),
    );
    this.deviceLost.catch(() => {});
  }
}

/** ORT's typings say `env.webgpu.device` is a promise; some builds return the device itself. */
function currentGpuDevice(): Promise<GPUDevice> {
  return Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice>);
}
