import * as ort from 'onnxruntime-web/webgpu';
import { encodeTokenIds } from '../src/core/encode.ts';
import { AppError } from '../src/core/errors.ts';
import { resolveEncoderUrl, type EncoderDescriptor } from '../src/core/encoders.ts';
import { fetchBytes, fileName } from '../src/core/fetchBytes.ts';
import type { Backend, LoadProgress } from '../src/core/searchTypes.ts';
import { createClipTokenizer, type ClipTokenizer } from '../src/core/tokenizer.ts';

type Progress = (p: LoadProgress) => void;

// Without cross-origin isolation (e.g. inside an embed) WASM must run single-threaded.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.logLevel = 'error';

/**
 * Owns one encoder: its downloaded bytes, the tokenizer and the ORT text session for the active
 * backend. Every resource is a promise singleton so concurrent callers share one load. A WebGPU
 * failure (including a lost device) flips one flag to WASM and the same code path runs again.
 */
export class EncoderRuntime {
  readonly desc: EncoderDescriptor;
  backend: Backend;
  backendReason: string | undefined;
  private textBytes?: Promise<Uint8Array>;
  private tokenizer?: Promise<ClipTokenizer>;
  private textSession?: Promise<ort.InferenceSession>;
  private sessionBackend?: Backend;

  constructor(
    desc: EncoderDescriptor,
    backend: Backend,
    backendReason: string | undefined,
    private readonly appBase: string,
    private readonly modelHost: string | undefined,
    private progress: Progress,
  ) {
    this.desc = desc;
    this.backend = backend;
    this.backendReason = backendReason;
  }

  setProgress(progress: Progress): void {
    this.progress = progress;
  }

  /** Loads tokenizer + text session and runs one warm-up query (compiles GPU shaders once). */
  async ready(): Promise<void> {
    await Promise.all([this.getTokenizer(), this.getTextSession()]);
  }

  async encodeText(text: string): Promise<Float32Array> {
    const tokenizer = await this.getTokenizer();
    const ids = tokenizer.encodeBatch([text]);
    return this.withFallback(async () => {
      const session = await this.getTextSession();
      const [embedding] = await encodeTokenIds(ort, session, this.desc, ids, 1);
      return embedding;
    });
  }

  /** Test/diagnostic hook: destroys the WebGPU device as a driver reset would. */
  async loseDevice(): Promise<boolean> {
    if (this.backend !== 'webgpu' || !this.textSession) return false;
    await this.textSession;
    (await currentGpuDevice()).destroy();
    return true;
  }

  private async withFallback<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (this.backend !== 'webgpu') throw err;
      this.fallBackToWasm(`WebGPU failed (${err instanceof Error ? err.message : String(err)})`);
      return run();
    }
  }

  private fallBackToWasm(reason: string): void {
    if (this.backend === 'wasm') return;
    console.warn(`[search worker] ${reason}; switching to WASM.`);
    this.backend = 'wasm';
    this.backendReason = reason;
    const old = this.textSession;
    this.textSession = undefined;
    old?.then((s) => s.release()).catch(() => {});
    this.progress({ status: 'fallback', from: 'webgpu', to: 'wasm', reason });
  }

  private getTokenizer(): Promise<ClipTokenizer> {
    this.tokenizer ??= (async () => {
      const load = async (path: string) => {
        const url = new URL(path, this.appBase).href;
        const bytes = await fetchBytes(url);
        return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
      };
      const [json, config] = await Promise.all([load(this.desc.tokenizer.json), load(this.desc.tokenizer.config)]);
      return createClipTokenizer(json, config);
    })();
    this.tokenizer.catch(() => (this.tokenizer = undefined));
    return this.tokenizer;
  }

  private getTextBytes(): Promise<Uint8Array> {
    this.textBytes ??= (async () => {
      const file = this.desc.text;
      const url = resolveEncoderUrl(file, this.appBase, this.modelHost);
      const name = fileName(url);
      this.progress({ status: 'initiate', file: name, label: `${this.desc.label} text encoder` });
      const bytes = await fetchBytes(url, {
        bytes: file.bytes,
        sha256: file.sha256,
        onProgress: (loaded, total) => this.progress({ status: 'download', file: name, loaded, total }),
      });
      this.progress({ status: 'done', file: name });
      return bytes;
    })();
    this.textBytes.catch(() => (this.textBytes = undefined));
    return this.textBytes;
  }

  private getTextSession(): Promise<ort.InferenceSession> {
    if (this.textSession && this.sessionBackend === this.backend) return this.textSession;
    const backend = this.backend;
    this.sessionBackend = backend;
    const promise = (async () => {
      const bytes = await this.getTextBytes();
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
          throw new AppError('backend', `The ${this.desc.label} text encoder could not be started: ${why}`, this.desc.text.url);
        }
        this.fallBackToWasm(`WebGPU session could not be created (${err instanceof Error ? err.message : String(err)})`);
        return this.getTextSession();
      }
      if (backend === 'webgpu') this.watchDevice();
      this.progress({ status: 'warmup', backend });
      const tokenizer = await this.getTokenizer();
      await encodeTokenIds(ort, session, this.desc, tokenizer.encodeBatch(['']), 1);
      return session;
    })();
    this.textSession = promise;
    promise.catch(() => {
      if (this.textSession === promise) this.textSession = undefined;
    });
    return promise;
  }

  private watchDevice(): void {
    void currentGpuDevice().then((device) =>
      device.lost.then((info) => this.fallBackToWasm(`WebGPU device lost (${info.reason || 'unknown'}: ${info.message})`)),
    );
  }
}

/** ORT's typings say `env.webgpu.device` is a promise; some builds return the device itself. */
function currentGpuDevice(): Promise<GPUDevice> {
  return Promise.resolve(ort.env.webgpu.device as GPUDevice | Promise<GPUDevice>);
}
