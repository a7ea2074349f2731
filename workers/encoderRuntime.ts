import type { InferenceSession } from 'onnxruntime-web';
import { encodePixelValues, encodeTokenIds } from '../src/core/encode/encode.ts';
import { AppError } from '../src/core/io/errors.ts';
import { resolveEncoderUrl, type EncoderDescriptor } from '../src/core/encode/encoders.ts';
import { fileName } from '../src/core/io/fetchBytes.ts';
import { preprocessRgba, type RgbaImage } from '../src/core/encode/preprocess.ts';
import type { Backend, BackendReason, LoadProgress } from '../src/shared/protocol.ts';
import { createClipTokenizer, type ClipTokenizer } from '../src/core/encode/tokenizer.ts';
import { downloadFile, downloadVerified, workerPolicy, type FileStorage } from './download.ts';
import { assertModelHost, type UrlSource } from '../src/shared/policy.ts';
import type { Ort } from './ortRuntime.ts';

type Progress = (p: LoadProgress) => void;
export type Tower = 'text' | 'vision';

/** Offline storage for the tower and tokenizer files; store null = network only. */
export type EncoderStorage = FileStorage;

/** The offline-storage group of an encoder; its version is the pair of pinned tower hashes. */
export const encoderGroup = (desc: EncoderDescriptor) => `encoder:${desc.id}`;
const encoderVersion = (desc: EncoderDescriptor) => `${desc.text.sha256 ?? '-'}+${desc.vision.sha256 ?? '-'}`;
/** The offline-storage group of a tokenizer (shared by the encoders that use it); its version is the pair of pinned hashes. */
export const tokenizerGroup = (desc: EncoderDescriptor) => `tokenizer:${desc.tokenizer.json}`;

const TOWER_LABEL: Record<Tower, string> = { text: 'text encoder', vision: 'image encoder' };

/**
 * Owns one encoder: downloaded bytes, tokenizer and one ORT session per tower for the active
 * backend. Every resource is a promise singleton so concurrent callers share one load; text queries
 * need only the text tower, and the vision tower is fetched in the background once the text tower
 * runs, where it can be saved (so the first text result never waits for it, and an image query
 * usually finds it on hand); elsewhere when the first image query arrives. A WebGPU failure (including a lost device)
 * flips one flag to WASM and the same code path runs again. Sessions are created with the
 * onnxruntime-web that `runtime` gives, loaded and started (workers/ortRuntime.ts).
 */
export class EncoderRuntime {
  readonly desc: EncoderDescriptor;
  backend: Backend;
  backendReason: BackendReason | undefined;
  private readonly bytes: Partial<Record<Tower, Promise<Uint8Array>>> = {};
  private readonly sessions: Partial<Record<Tower, { backend: Backend; session: Promise<InferenceSession> }>> = {};
  private tokenizer?: Promise<ClipTokenizer>;
  private readonly storage: EncoderStorage;
  /** Offline storage turned a file of this encoder away (quota, or a failed write). */
  private cannotSave = false;

  constructor(
    desc: EncoderDescriptor,
    backend: Backend,
    backendReason: BackendReason | undefined,
    private readonly appBase: string,
    private readonly modelHost: string | undefined,
    private readonly progress: Progress,
    storage: EncoderStorage,
    private readonly runtime: () => Promise<Ort>,
  ) {
    this.desc = desc;
    this.storage = {
      store: storage.store,
      onCacheEvent: (e) => {
        if (e.kind === 'quota' || e.kind === 'unavailable') this.cannotSave = true;
        storage.onCacheEvent?.(e);
      },
    };
    this.backend = backend;
    this.backendReason = backendReason;
  }

  /** Loads tokenizer + text session and runs one warm-up query (compiles GPU shaders once). */
  async ready(): Promise<void> {
    await Promise.all([this.getTokenizer(), this.getSession('text')]);
    // Only now, so the text tower never shares the network with it: fetch the image tower in the
    // background and save it for offline use (pinned or trusted on first use), so that an image or
    // sketch query finds it on hand and works offline after one visit. Only where it can be saved:
    // without storage (private mode) or with the text tower turned away by the quota, it would be
    // downloaded on every visit whether or not an image query comes; then the first image query
    // fetches it. A failure here is reported by the first image query, which fetches again.
    if (this.storage.store && !this.cannotSave) void this.getBytes('vision').catch(() => {});
  }

  async encodeText(text: string): Promise<Float32Array> {
    const ids = (await this.getTokenizer()).encodeBatch([text]);
    return this.withFallback(async () => {
      const session = await this.getSession('text');
      const [embedding] = await encodeTokenIds(await this.runtime(), session, this.desc, ids, 1);
      return embedding;
    });
  }

  /** Embeds decoded RGBA pixels with CLIP preprocessing (src/core, shared with the Node tools). */
  async encodeImage(image: RgbaImage): Promise<Float32Array> {
    const pixels = preprocessRgba(image, this.desc.image);
    return this.withFallback(async () => {
      const session = await this.getSession('vision');
      const [embedding] = await encodePixelValues(await this.runtime(), session, this.desc, pixels, 1);
      return embedding;
    });
  }

  /** Test/diagnostic hook: destroys the WebGPU device as a driver reset would. */
  async loseDevice(): Promise<boolean> {
    const text = this.sessions.text;
    if (this.backend !== 'webgpu' || !text || text.backend !== 'webgpu') return false;
    await text.session;
    const device = await currentGpuDevice(await this.runtime());
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
      const { pinned } = this.desc.tokenizer;
      const group = pinned ? tokenizerGroup(this.desc) : undefined;
      const load = async (part: 'json' | 'config') => {
        const url = new URL(this.desc.tokenizer[part], this.appBase).href;
        const pin = pinned?.[part];
        // Unpinned tokenizer files are held to their first download's hash (not stored).
        const bytes = await downloadFile(
          { url, label: `Tokenizer ${fileName(url)}`, kind: 'tokenizer', bytes: pin?.bytes, sha256: pin?.sha256, group, trustOnFirstUse: true },
          this.storage,
          this.progress,
        );
        return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
      };
      const [json, config] = await Promise.all([load('json'), load('config')]);
      if (pinned && group) await this.storage.store?.commitGroup(group, `${pinned.json.sha256}+${pinned.config.sha256}`, [pinned.json.sha256, pinned.config.sha256]);
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
      // The model host comes from the page (?modelHost=): the worker checks it against its own
      // policy before any file name is added to it, and names the parameter when it refuses.
      let source: UrlSource | undefined;
      if (file.url.includes('{modelHost}') && this.modelHost !== undefined) {
        assertModelHost(this.modelHost, this.appBase, workerPolicy());
        source = { param: 'modelHost', value: this.modelHost };
      }
      const url = resolveEncoderUrl(file, this.appBase, this.modelHost);
      // Pinned by size + hash, or (the CLIP files from the model host) held to the hash recorded at
      // the first download: either way every read is verified, so the file is served from (and saved
      // to) offline storage.
      const { data, sha256 } = await downloadVerified(
        { url, label: `${this.desc.label} ${TOWER_LABEL[tower]}`, kind: 'encoder', bytes: file.bytes, sha256: file.sha256, trustOnFirstUse: true, group: encoderGroup(this.desc), source },
        this.storage,
        this.progress,
      );
      // Committing the same version again adds this tower to it; a new descriptor version replaces the old files.
      if (sha256) await this.storage.store?.commitGroup(encoderGroup(this.desc), encoderVersion(this.desc), [sha256]);
      return data;
    })();
    this.bytes[tower] = promise;
    promise.catch(() => delete this.bytes[tower]);
    return promise;
  }

  private getSession(tower: Tower): Promise<InferenceSession> {
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

  private async createSession(tower: Tower, backend: Backend): Promise<InferenceSession> {
    const [bytes, ort] = await Promise.all([this.getBytes(tower), this.runtime()]);
    this.progress({ status: 'session', backend });
    let session: InferenceSession;
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
    // A WASM session has copied the model into its own heap and is never re-created (nothing falls
    // back from WASM), so the file's bytes (89 MB for CLIP's image tower) are let go. A WebGPU
    // session keeps them for the fallback; a later read comes from offline storage, verified.
    if (backend === 'wasm' && this.bytes[tower]) delete this.bytes[tower];
    if (backend === 'webgpu') this.watchDevice(ort);
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
  private watchDevice(ort: Ort): void {
    if (this.deviceLost) return;
    this.deviceLost = currentGpuDevice(ort).then((device) =>
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
function currentGpuDevice(ort: Ort): Promise<GPUDevice> {
  return Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice>);
}
