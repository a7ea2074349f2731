/**
 * WebGPU scoring for the tiered index (issue 15, point 5; docs/webgpu-kernels.md): the int8
 * prefilters over every model of the head and the exact low-rank rerank of the candidates, the same
 * arithmetic as core/scoring/prefilter.ts and core/index/lowRankGaussian.ts, in f32.
 *
 * `createGpuTieredScorer` gives null (and a reason) when there is no usable adapter or device, or
 * when the adapter is a software one (SwiftShader, llvmpipe, WARP, a fallback adapter) and `force`
 * is not set: on such adapters the CPU path is faster. Every method rejects with a GpuScorerError
 * when the GPU fails (device lost, out of memory, validation): the caller scores on the CPU instead.
 */
import { GROUP_SIZE, LOWRANK_WGSL, PREFILTER_WGSL, ROWS_PER_GROUP, SIGN_WGSL } from './kernels.ts';
import type { Int8Means, SignCodes } from '../../src/core/scoring/prefilter.ts';
import type { LowRankRecord } from '../../src/core/index/lowRankGaussian.ts';

/** What shouldUseGpu reads: GPUAdapterInfo's fields (all optional, so a plain object or an old browser's info works). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface GpuDecision {
  use: boolean;
  /** One line for logs and the UI's "runtime" line. */
  reason: string;
  /** True for SwiftShader / CPU rasterisers / fallback adapters. */
  software: boolean;
}

/** Names of adapters that run on the CPU: correct, but slower than the JS/WASM path for this work. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render|\bcpu\b/i;

/**
 * Picks the GPU only for a hardware adapter. Software adapters (SwiftShader, llvmpipe/lavapipe,
 * WARP, any isFallbackAdapter) score on the CPU unless `force` is set — the tests do that to run
 * the kernels in CI's SwiftShader.
 */
export function shouldUseGpu(info: AdapterInfoLike | null | undefined, opts: { force?: boolean } = {}): GpuDecision {
  if (!info) return { use: false, reason: 'no WebGPU adapter', software: false };
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unnamed adapter';
  const software = info.isFallbackAdapter === true || SOFTWARE.test(name);
  if (software && !opts.force) return { use: false, reason: `software adapter (${name}): the CPU path is faster`, software };
  return { use: true, reason: software ? `software adapter (${name}), forced` : `hardware adapter (${name})`, software };
}

export type GpuUnavailableKind = 'no-webgpu' | 'no-adapter' | 'software-adapter' | 'adapter-failed' | 'device-failed' | 'shader-failed';

export interface GpuUnavailable {
  kind: GpuUnavailableKind;
  detail: string;
}

/** A GPU failure during scoring; `lost` when the device is gone (every later call fails the same way). Fall back to the CPU. */
export class GpuScorerError extends Error {
  readonly lost: boolean;
  constructor(message: string, lost = false) {
    super(message);
    this.name = 'GpuScorerError';
    this.lost = lost;
  }
}

export interface GpuScorerOptions {
  /** Run on a software adapter too (tests, `bench --force`). */
  force?: boolean;
  /** navigator.gpu by default (page or worker). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Called with the reason when the result is null. */
  onUnavailable?: (why: GpuUnavailable) => void;
  /** Lower the binding-size limit used for chunking (tests exercise the chunked path with it). */
  maxBindingBytes?: number;
}

export interface GpuTieredScorer {
  readonly adapter: AdapterInfoLike;
  readonly decision: GpuDecision;
  /** The storage-binding size the scorer chunks to (bytes). */
  readonly maxBindingBytes: number;
  /** Uploads the head's int8 means and the Gaussian proxy's two floats a model (once; replaces earlier ones). */
  setPrefilter(prefilter: Int8Means, proxy?: { precision: Float32Array; logDet: Float32Array }): Promise<void>;
  /** gaussianProxyScores over every model of the prefilter. */
  proxyScores(query: Float32Array): Promise<Float32Array>;
  /** int8CosineScores over every model of the prefilter. */
  cosineScores(query: Float32Array): Promise<Float32Array>;
  /** signAgreementScores; the codes are uploaded on first use and kept while the same object is passed. */
  signScores(codes: SignCodes, query: Float32Array): Promise<Float32Array>;
  /** lowRankLogDensity of each record (any mix of ranks, exact or PPCA); the same record objects as the last call are not uploaded again. */
  lowRankScores(records: readonly LowRankRecord[], query: Float32Array): Promise<Float32Array>;
  /** Why the device was lost, or null. */
  readonly lost: string | null;
  /** Tests only: destroys the device behind the scorer's back, so later calls fail as after a device loss. */
  loseDeviceForTesting(): void;
  destroy(): void;
}

/** Tries to make a scorer; null and the reason when none can be had (see GpuScorerOptions.onUnavailable). */
export async function createGpuTieredScorer(opts: GpuScorerOptions = {}): Promise<GpuTieredScorer | null> {
  const r = await probeGpuTieredScorer(opts);
  if ('reason' in r) {
    opts.onUnavailable?.(r.reason);
    return null;
  }
  return r.scorer;
}

/** createGpuTieredScorer with the reason in the result. */
export async function probeGpuTieredScorer(opts: GpuScorerOptions = {}): Promise<{ scorer: GpuTieredScorer } | { reason: GpuUnavailable }> {
  const gpu = opts.gpu ?? (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) return { reason: { kind: 'no-webgpu', detail: 'navigator.gpu is missing (WebGPU disabled, unsupported, or not a secure context)' } };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (err) {
    return { reason: { kind: 'adapter-failed', detail: message(err) } };
  }
  if (!adapter) return { reason: { kind: 'no-adapter', detail: 'requestAdapter() gave no adapter' } };
  const info = adapterInfo(adapter);
  const decision = shouldUseGpu(info, { force: opts.force });
  if (!decision.use) return { reason: { kind: 'software-adapter', detail: decision.reason } };
  let device: GPUDevice;
  try {
    const lim = adapter.limits;
    device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize, maxBufferSize: lim.maxBufferSize },
    });
  } catch (err) {
    return { reason: { kind: 'device-failed', detail: message(err) } };
  }
  try {
    const scorer = await Scorer.create(device, info, decision, opts.maxBindingBytes);
    return { scorer };
  } catch (err) {
    device.destroy();
    return { reason: { kind: 'shader-failed', detail: message(err) } };
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function adapterInfo(adapter: GPUAdapter): AdapterInfoLike {
  const i = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const legacyFallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
    isFallbackAdapter: (i as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter ?? legacyFallback ?? false,
  };
}

const MAX_GROUPS_X = 65535;
const LOG_2PI = Math.log(2 * Math.PI);

/** A 2-D dispatch covering `groups` workgroups (x ≤ 65 535). */
function grid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS_X) return [groups, 1];
  const y = Math.ceil(groups / MAX_GROUPS_X);
  return [Math.ceil(groups / y), y];
}

interface PrefilterChunk {
  first: number;
  count: number;
  codes: GPUBuffer;
  model: GPUBuffer;
  scores: GPUBuffer;
  params: GPUBuffer;
  bind: GPUBindGroup;
}

interface SignChunk {
  first: number;
  count: number;
  bits: GPUBuffer;
  scores: GPUBuffer;
  params: GPUBuffer;
  bind: GPUBindGroup;
}

interface RankBatch {
  records: readonly LowRankRecord[];
  rows: number;
  buffers: GPUBuffer[];
  scores: GPUBuffer;
  query: GPUBuffer;
  bind: GPUBindGroup;
}

class Scorer implements GpuTieredScorer {
  lost: string | null = null;
  private destroyed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private prefilter: { dim: number; count: number; words: number; chunks: PrefilterChunk[]; query: GPUBuffer; hasProxy: boolean } | null = null;
  private signs: { codes: SignCodes; chunks: SignChunk[]; qbits: GPUBuffer } | null = null;
  private rank: { dim: number; batches: RankBatch[] } | null = null;
  private readback: GPUBuffer | null = null;

  private constructor(
    private readonly device: GPUDevice,
    readonly adapter: AdapterInfoLike,
    readonly decision: GpuDecision,
    readonly maxBindingBytes: number,
    private readonly pipes: { prefilter: GPUComputePipeline; sign: GPUComputePipeline; delta: GPUComputePipeline; project: GPUComputePipeline; finish: GPUComputePipeline; rankLayout: GPUBindGroupLayout },
  ) {
    void device.lost.then((info) => {
      if (!this.destroyed) this.lost = `the GPU device was lost (${info.reason}): ${info.message || 'no message'}`;
    });
  }

  static async create(device: GPUDevice, info: AdapterInfoLike, decision: GpuDecision, maxBinding?: number): Promise<Scorer> {
    const lim = device.limits;
    const limit = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize, maxBinding ?? Infinity);
    const module = async (code: string, label: string) => {
      const m = device.createShaderModule({ code, label });
      const ci = await m.getCompilationInfo();
      const errors = ci.messages.filter((x) => x.type === 'error');
      if (errors.length) throw new Error(`${label}: ${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join('; ')}`);
      return m;
    };
    device.pushErrorScope('validation');
    const [pre, sign, rank] = await Promise.all([module(PREFILTER_WGSL, 'prefilter'), module(SIGN_WGSL, 'sign'), module(LOWRANK_WGSL, 'lowrank')]);
    const entry = (i: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    const ro: GPUBufferBindingType = 'read-only-storage';
    const rankLayout = device.createBindGroupLayout({
      label: 'lowrank',
      entries: [entry(0, ro), entry(1, ro), entry(2, ro), entry(3, ro), entry(4, ro), entry(5, 'storage'), entry(6, 'storage'), entry(7, 'storage'), entry(8, 'uniform')],
    });
    const rankPipeLayout = device.createPipelineLayout({ bindGroupLayouts: [rankLayout] });
    const [prefilter, signPipe, delta, project, finish] = await Promise.all([
      device.createComputePipelineAsync({ label: 'prefilter', layout: 'auto', compute: { module: pre, entryPoint: 'main' } }),
      device.createComputePipelineAsync({ label: 'sign', layout: 'auto', compute: { module: sign, entryPoint: 'main' } }),
      device.createComputePipelineAsync({ label: 'delta', layout: rankPipeLayout, compute: { module: rank, entryPoint: 'deltaPass' } }),
      device.createComputePipelineAsync({ label: 'project', layout: rankPipeLayout, compute: { module: rank, entryPoint: 'projectPass' } }),
      device.createComputePipelineAsync({ label: 'finish', layout: rankPipeLayout, compute: { module: rank, entryPoint: 'finishPass' } }),
    ]);
    const err = await device.popErrorScope();
    if (err) throw new Error(`pipeline creation: ${err.message}`);
    return new Scorer(device, info, decision, limit, { prefilter, sign: signPipe, delta, project, finish, rankLayout });
  }

  /** Runs GPU work one call at a time (the read-back buffer is shared), mapping failures to GpuScorerError. */
  private serial<T>(what: string, job: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.destroyed) throw new GpuScorerError(`${what}: the GPU scorer was destroyed.`);
      if (this.lost) throw new GpuScorerError(`${what}: ${this.lost}`, true);
      try {
        return await job();
      } catch (err) {
        if (err instanceof GpuScorerError && !this.lost) throw err;
        // A lost device rejects mapAsync before `lost` resolves: give it a moment to say so.
        await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 0))]);
        if (this.lost) throw new GpuScorerError(`${what}: ${this.lost}`, true);
        throw new GpuScorerError(`${what} failed on the GPU: ${message(err)}`);
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** GPUBufferUsage is read lazily: the module also loads where WebGPU does not exist (Node tests of shouldUseGpu). */
  private get storage(): number {
    return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  }

  private buffer(bytes: number, usage: number, label: string): GPUBuffer {
    // Zero-sized bindings are invalid; 16 bytes covers every struct here.
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage, label });
  }

  /** Runs `job` inside validation + out-of-memory error scopes, always popped; a captured error wins over the job's result. */
  private async scoped<T>(job: () => Promise<T>): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let thrown: unknown = null;
    try {
      result = await job();
    } catch (err) {
      thrown = err ?? new Error('unknown error');
    }
    const validation = await this.device.popErrorScope();
    const oom = await this.device.popErrorScope();
    if (oom) throw new GpuScorerError(`out of GPU memory: ${oom.message}`);
    if (validation) throw new GpuScorerError(`WebGPU validation error: ${validation.message}`);
    if (thrown) throw thrown;
    return result as T;
  }

  /** Copies `parts` (buffer, floats) into one read-back buffer, submits, and returns the floats in order. */
  private async read(encoder: GPUCommandEncoder, parts: { buffer: GPUBuffer; floats: number }[], total: number): Promise<Float32Array> {
    const bytes = Math.max(16, total * 4);
    if (!this.readback || this.readback.size < bytes) {
      this.readback?.destroy();
      this.readback = this.device.createBuffer({ size: Math.ceil(bytes / 256) * 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
    }
    const rb = this.readback;
    let at = 0;
    for (const p of parts) {
      if (p.floats) encoder.copyBufferToBuffer(p.buffer, 0, rb, at * 4, p.floats * 4);
      at += p.floats;
    }
    this.device.queue.submit([encoder.finish()]);
    await rb.mapAsync(GPUMapMode.READ, 0, bytes);
    try {
      return new Float32Array(rb.getMappedRange(0, bytes).slice(0, total * 4));
    } finally {
      rb.unmap();
    }
  }

  setPrefilter(prefilter: Int8Means, proxy?: { precision: Float32Array; logDet: Float32Array }): Promise<void> {
    return this.serial('setPrefilter', async () => {
      const { dim, count, codes, scale, norms } = prefilter;
      if (codes.length !== dim * count || scale.length !== count || norms.length !== count) throw new GpuScorerError(`setPrefilter: the int8 means do not hold ${count} × ${dim} codes with a scale and norm each.`);
      if (proxy && (proxy.precision.length !== count || proxy.logDet.length !== count)) throw new GpuScorerError(`setPrefilter: the proxy needs ${count} precisions and log-determinants.`);
      this.dropPrefilter();
      const words = Math.ceil(dim / 4);
      const rowBytes = words * 4;
      // Codes are the largest binding; per-model data (16 B) and scores (4 B) are smaller still.
      const perChunk = Math.max(ROWS_PER_GROUP, Math.floor(Math.min(this.maxBindingBytes / rowBytes, this.maxBindingBytes / 16) / ROWS_PER_GROUP) * ROWS_PER_GROUP);
      const chunks: PrefilterChunk[] = [];
      let query: GPUBuffer | null = null;
      try {
        await this.scoped(async () => {
          query = this.buffer(words * 16, this.storage, 'prefilter query'); // vec4 a word of codes
          for (let first = 0; first < count; first += perChunk) {
            const n = Math.min(perChunk, count - first);
            const codesBuf = this.buffer(n * rowBytes, this.storage, 'prefilter codes');
            if (dim % 4 === 0 && codes.byteOffset % 4 === 0) {
              // Already 4 codes a word: upload the bytes as they are (no copy of a 0.5 GB head).
              this.device.queue.writeBuffer(codesBuf, 0, codes.buffer, codes.byteOffset + first * dim, n * dim);
            } else {
              const padded = new Int8Array(n * rowBytes);
              for (let m = 0; m < n; m++) padded.set(codes.subarray((first + m) * dim, (first + m + 1) * dim), m * rowBytes);
              this.device.queue.writeBuffer(codesBuf, 0, padded.buffer, 0, padded.byteLength);
            }
            const model = new Float32Array(n * 4);
            for (let m = 0; m < n; m++) {
              model[m * 4] = scale[first + m]!;
              model[m * 4 + 1] = norms[first + m]!;
              model[m * 4 + 2] = proxy ? proxy.precision[first + m]! : 0;
              model[m * 4 + 3] = proxy ? proxy.logDet[first + m]! : 0;
            }
            const modelBuf = this.buffer(model.byteLength, this.storage, 'prefilter model');
            this.device.queue.writeBuffer(modelBuf, 0, model);
            const scores = this.buffer(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'prefilter scores');
            const params = this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'prefilter params');
            const bind = this.device.createBindGroup({
              layout: this.pipes.prefilter.getBindGroupLayout(0),
              entries: [codesBuf, modelBuf, query, scores, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
            });
            chunks.push({ first, count: n, codes: codesBuf, model: modelBuf, scores, params, bind });
          }
        });
      } catch (err) {
        for (const c of chunks) [c.codes, c.model, c.scores, c.params].forEach((b) => b.destroy());
        (query as GPUBuffer | null)?.destroy();
        throw err;
      }
      this.prefilter = { dim, count, words, chunks, query: query!, hasProxy: !!proxy };
    });
  }

  private dropPrefilter(): void {
    if (!this.prefilter) return;
    for (const c of this.prefilter.chunks) [c.codes, c.model, c.scores, c.params].forEach((b) => b.destroy());
    this.prefilter.query.destroy();
    this.prefilter = null;
  }

  proxyScores(query: Float32Array): Promise<Float32Array> {
    return this.serial('proxyScores', () => this.runPrefilter(query, 1));
  }

  cosineScores(query: Float32Array): Promise<Float32Array> {
    return this.serial('cosineScores', () => this.runPrefilter(query, 0));
  }

  private async runPrefilter(query: Float32Array, mode: 0 | 1): Promise<Float32Array> {
    const p = this.prefilter;
    if (!p) throw new GpuScorerError('No prefilter uploaded (call setPrefilter first).');
    if (mode === 1 && !p.hasProxy) throw new GpuScorerError('The prefilter was uploaded without the Gaussian proxy.');
    if (query.length !== p.dim) throw new GpuScorerError(`The query has ${query.length} dimensions, the index ${p.dim}.`);
    let qq = 0;
    for (const v of query) qq += v * v;
    const q = new Float32Array(p.words * 4);
    q.set(query);
    return this.scoped(async () => {
      this.device.queue.writeBuffer(p.query, 0, q);
      const encoder = this.device.createCommandEncoder({ label: 'prefilter' });
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.pipes.prefilter);
      for (const c of p.chunks) {
        this.device.queue.writeBuffer(c.params, 0, new Uint32Array([c.count, p.words, mode, new Uint32Array(new Float32Array([qq]).buffer)[0]!]));
        pass.setBindGroup(0, c.bind);
        pass.dispatchWorkgroups(...grid(Math.ceil(c.count / ROWS_PER_GROUP)));
      }
      pass.end();
      return this.read(encoder, p.chunks.map((c) => ({ buffer: c.scores, floats: c.count })), p.count);
    });
  }

  signScores(codes: SignCodes, query: Float32Array): Promise<Float32Array> {
    return this.serial('signScores', async () => {
      const { dim, count, words, bits } = codes;
      if (query.length !== dim) throw new GpuScorerError(`The query has ${query.length} dimensions, the index ${dim}.`);
      if (words !== Math.ceil(dim / 32) || bits.length !== count * words) throw new GpuScorerError('The sign codes do not match their dimension and count.');
      return this.scoped(async () => {
        if (this.signs?.codes !== codes) {
          this.dropSigns();
          const perChunk = Math.max(GROUP_SIZE, Math.floor(this.maxBindingBytes / (words * 4) / GROUP_SIZE) * GROUP_SIZE);
          const qbits = this.buffer(words * 4, this.storage, 'sign query');
          const chunks: SignChunk[] = [];
          for (let first = 0; first < count; first += perChunk) {
            const n = Math.min(perChunk, count - first);
            const bitsBuf = this.buffer(n * words * 4, this.storage, 'sign codes');
            this.device.queue.writeBuffer(bitsBuf, 0, bits.buffer as ArrayBuffer, bits.byteOffset + first * words * 4, n * words * 4);
            const scores = this.buffer(n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'sign scores');
            const params = this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'sign params');
            this.device.queue.writeBuffer(params, 0, new Uint32Array([n, words, dim, 0]));
            const bind = this.device.createBindGroup({
              layout: this.pipes.sign.getBindGroupLayout(0),
              entries: [bitsBuf, qbits, scores, params].map((buffer, binding) => ({ binding, resource: { buffer } })),
            });
            chunks.push({ first, count: n, bits: bitsBuf, scores, params, bind });
          }
          this.signs = { codes, chunks, qbits };
        }
        const s = this.signs!;
        // The query's sign code, as signCodes() makes it (bit j set when q_j > 0).
        const qb = new Uint32Array(words);
        for (let j = 0; j < dim; j++) if (query[j]! > 0) qb[j >>> 5]! |= 1 << (j & 31);
        this.device.queue.writeBuffer(s.qbits, 0, qb);
        const encoder = this.device.createCommandEncoder({ label: 'sign' });
        const pass = encoder.beginComputePass();
        pass.setPipeline(this.pipes.sign);
        for (const c of s.chunks) {
          pass.setBindGroup(0, c.bind);
          pass.dispatchWorkgroups(...grid(Math.ceil(c.count / GROUP_SIZE)));
        }
        pass.end();
        return this.read(encoder, s.chunks.map((c) => ({ buffer: c.scores, floats: c.count })), count);
      }).catch((err: unknown) => {
        this.dropSigns(); // uploaded again next time
        throw err;
      });
    });
  }

  private dropSigns(): void {
    if (!this.signs) return;
    for (const c of this.signs.chunks) [c.bits, c.scores, c.params].forEach((b) => b.destroy());
    this.signs.qbits.destroy();
    this.signs = null;
  }

  lowRankScores(records: readonly LowRankRecord[], query: Float32Array): Promise<Float32Array> {
    return this.serial('lowRankScores', async () => {
      if (records.length === 0) return new Float32Array(0);
      const dim = query.length;
      for (const [i, r] of records.entries()) {
        if (r.dim !== dim || r.mean.length !== dim) throw new GpuScorerError(`Record ${i} has dimension ${r.dim}, the query ${dim}.`);
        if (!Number.isInteger(r.rank) || r.rank < 0 || r.rank > dim || r.basis.length < r.rank * dim) throw new GpuScorerError(`Record ${i} has a bad rank ${r.rank} or a short basis.`);
        if (!(r.isotropic > 0)) throw new GpuScorerError(`Record ${i} has isotropic variance ${r.isotropic}.`);
      }
      return this.scoped(async () => {
        if (!this.sameRecords(records, dim)) {
          this.dropRank();
          this.rank = { dim, batches: this.uploadRecords(records, dim) };
        }
        const batches = this.rank!.batches;
        const encoder = this.device.createCommandEncoder({ label: 'lowrank' });
        for (const b of batches) this.device.queue.writeBuffer(b.query, 0, query.buffer as ArrayBuffer, query.byteOffset, query.byteLength);
        const pass = encoder.beginComputePass();
        for (const b of batches) {
          pass.setBindGroup(0, b.bind);
          pass.setPipeline(this.pipes.delta);
          pass.dispatchWorkgroups(...grid(b.records.length));
          if (b.rows) {
            pass.setPipeline(this.pipes.project);
            pass.dispatchWorkgroups(...grid(Math.ceil(b.rows / ROWS_PER_GROUP)));
          }
          pass.setPipeline(this.pipes.finish);
          pass.dispatchWorkgroups(...grid(Math.ceil(b.records.length / GROUP_SIZE)));
        }
        pass.end();
        return this.read(encoder, batches.map((b) => ({ buffer: b.scores, floats: b.records.length })), records.length);
      }).catch((err: unknown) => {
        this.dropRank(); // uploaded again next time
        throw err;
      });
    });
  }

  private sameRecords(records: readonly LowRankRecord[], dim: number): boolean {
    const r = this.rank;
    if (!r || r.dim !== dim) return false;
    let i = 0;
    for (const b of r.batches) for (const rec of b.records) if (records[i++] !== rec) return false;
    return i === records.length;
  }

  /** Batches whose bases fit one binding each; the records' arrays are uploaded as f32. */
  private uploadRecords(records: readonly LowRankRecord[], dim: number): RankBatch[] {
    const maxRows = Math.max(1, Math.floor(this.maxBindingBytes / (dim * 4)));
    const maxRecords = Math.max(1, Math.floor(this.maxBindingBytes / (dim * 4)));
    const groups: LowRankRecord[][] = [];
    let cur: LowRankRecord[] = [];
    let rows = 0;
    for (const r of records) {
      if (cur.length && (rows + r.rank > maxRows || cur.length >= maxRecords)) {
        groups.push(cur);
        cur = [];
        rows = 0;
      }
      cur.push(r);
      rows += r.rank;
    }
    groups.push(cur);
    return groups.map((group) => {
      const k = group.length;
      const totalRows = group.reduce((s, r) => s + r.rank, 0);
      const means = new Float32Array(k * dim);
      const basis = new Float32Array(totalRows * dim);
      const rowRecord = new Uint32Array(totalRows);
      const recs = new ArrayBuffer(k * 16);
      const recU = new Uint32Array(recs);
      const recF = new Float32Array(recs);
      let row = 0;
      group.forEach((r, i) => {
        means.set(r.mean instanceof Float32Array ? r.mean : Float32Array.from(r.mean), i * dim);
        const n = r.rank * dim;
        const src = r.basis instanceof Float32Array ? r.basis.subarray(0, n) : Float32Array.from({ length: n }, (_, x) => r.basis[x]!);
        basis.set(src, row * dim);
        rowRecord.fill(i, row, row + r.rank);
        recU[i * 4] = row;
        recU[i * 4 + 1] = r.rank;
        recF[i * 4 + 2] = r.isotropic;
        recF[i * 4 + 3] = r.logDet;
        row += r.rank;
      });
      const up = (data: ArrayBufferView & { byteLength: number }, label: string) => {
        const b = this.buffer(data.byteLength, this.storage, label);
        this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
        return b;
      };
      const meansBuf = up(means, 'rank means');
      const basisBuf = up(basis, 'rank basis');
      const rowBuf = up(rowRecord, 'rank rows');
      const recBuf = up(new Uint8Array(recs), 'rank records');
      const query = this.buffer(dim * 4, this.storage, 'rank query');
      const delta = this.buffer(k * dim * 4, GPUBufferUsage.STORAGE, 'rank delta');
      const rowDot = this.buffer(totalRows * 4, GPUBufferUsage.STORAGE, 'rank rowDot');
      const scores = this.buffer(2 * k * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'rank scores and dd');
      const params = this.buffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'rank params');
      const pv = new ArrayBuffer(16);
      new Uint32Array(pv, 0, 3).set([k, totalRows, dim]);
      new Float32Array(pv, 12, 1)[0] = 0.5 * dim * LOG_2PI;
      this.device.queue.writeBuffer(params, 0, pv);
      const buffers = [meansBuf, basisBuf, rowBuf, recBuf, query, delta, rowDot, scores, params];
      const bind = this.device.createBindGroup({ layout: this.pipes.rankLayout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
      return { records: group, rows: totalRows, buffers, scores, query, bind };
    });
  }

  private dropRank(): void {
    if (!this.rank) return;
    for (const b of this.rank.batches) b.buffers.forEach((x) => x.destroy());
    this.rank = null;
  }

  /** Tests: loses the device as a driver reset would (no API forces a real loss), without marking the scorer destroyed. */
  loseDeviceForTesting(): void {
    this.device.destroy();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.dropPrefilter();
    this.dropSigns();
    this.dropRank();
    this.readback?.destroy();
    this.device.destroy();
  }
}
