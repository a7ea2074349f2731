import type { GaussianSections } from '../index/indexFormat.ts';
import { KERNELS_WASM_BASE64 } from './wasm/kernels.wasm.ts';

/**
 * WebAssembly SIMD kernels for the two hot loops: ‖W q − b‖² over every model (Gaussian density)
 * and μ·q over every model (1st moment). An index's arrays are copied into a kernel's memory once;
 * each query then streams them without touching JS. Where WASM SIMD (or memory) is unavailable,
 * `create` returns null and callers use the portable JS loops.
 */
interface KernelExports {
  memory: WebAssembly.Memory;
  mahalanobis_f32(w: number, bias: number, q: number, dim: number, count: number, out: number, mask: number): void;
  mahalanobis_f16(w: number, bias: number, q: number, dim: number, count: number, out: number, mask: number): void;
  dot_rows(rows: number, q: number, dim16: number, stride: number, count: number, out: number): void;
  int8_dots(codes: number, limbs: number, stride: number, count: number, scale: number, invK: number, out: number): void;
  sign_agree(bits: number, q: number, vecs: number, count: number, dim: number, out: number): void;
  sign_agree64(bits: number, q: number, pairs: number, count: number, dim: number, out: number): void;
  lowrank_proj(rows: number, delta: number, stride: number, rank: number): number;
}

export type { KernelExports };

let compiled: WebAssembly.Module | null | undefined;

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled kernel module, or null where this runtime lacks WASM SIMD. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64) as Uint8Array<ArrayBuffer>);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const PAGE = 65536;
const MAX_BYTES = 4 * 1024 ** 3 - PAGE; // wasm32 address space
/** fp16 patterns decode 2^112 too small in the kernel; the query carries the factor instead. */
const HALF_SCALE = 2 ** 112;
const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** A fresh kernel instance with at least `bytes` of memory, or null. */
function instantiate(bytes: number): KernelExports | null {
  const r = kernelInstance(bytes);
  return 'error' in r ? null : r.exports; // out of memory: the JS path reads the index in place instead
}

/**
 * A fresh kernel instance with at least `bytes` of memory, or why there is none: no WASM SIMD in
 * this runtime, more than wasm32's 4 GiB (or `limit`), or a failed memory.grow (the engine's own
 * cap, or the tab out of memory). Callers keep a JS path for each case.
 */
export function kernelInstance(bytes: number, limit = MAX_BYTES): { exports: KernelExports } | { error: string } {
  const module = kernelModule();
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (!module) return { error: 'this runtime has no WebAssembly SIMD' };
  if (bytes > limit) return { error: `${mb(bytes)} of kernel memory is more than the ${mb(limit)} a wasm32 kernel may hold` };
  let exports: KernelExports;
  try {
    exports = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
  } catch (e) {
    return { error: `the WebAssembly kernel could not be instantiated (${e instanceof Error ? e.message : String(e)})` };
  }
  const pages = Math.ceil(bytes / PAGE) - exports.memory.buffer.byteLength / PAGE;
  try {
    if (pages > 0) exports.memory.grow(pages);
  } catch (e) {
    return { error: `WebAssembly memory could not grow to ${mb(bytes)} (${e instanceof Error ? e.message : String(e)})` };
  }
  return { exports };
}

export class GaussianKernel {
  private constructor(
    private readonly ex: KernelExports,
    private readonly f16: boolean,
    private readonly dim: number,
    private readonly count: number,
    private readonly ptr: { w: number; bias: number; q: number; out: number; mask: number },
  ) {}

  /** Copies an index's factors into a fresh kernel instance; null if WASM SIMD or memory is unavailable. */
  static create(g: GaussianSections, dim: number, count: number): GaussianKernel | null {
    const w = g.precision.data;
    // The masked row-end step may read up to 7 entries past the last factor: leave padding.
    const mask = 0;
    const wPtr = align64(9 * 32);
    const bias = align64(wPtr + w.byteLength + 64);
    const q = align64(bias + g.bias.byteLength);
    const out = align64(q + dim * 4);
    const ex = instantiate(out + count * 8);
    if (!ex) return null;
    const mem = new Uint8Array(ex.memory.buffer);
    const masks = new Uint32Array(ex.memory.buffer, mask, 9 * 8);
    for (let k = 0; k <= 8; k++) for (let lane = 0; lane < k; lane++) masks[k * 8 + lane] = 0xffffffff;
    mem.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), wPtr);
    mem.set(new Uint8Array(g.bias.buffer, g.bias.byteOffset, g.bias.byteLength), bias);
    return new GaussianKernel(ex, g.precision.dtype === 'f16', dim, count, { w: wPtr, bias, q, out, mask });
  }

  /** ‖W_m q − b_m‖² for every model m. */
  mahalanobis(query: Float32Array): Float64Array {
    const { ex, ptr } = this;
    const q = new Float32Array(ex.memory.buffer, ptr.q, this.dim);
    if (this.f16) for (let j = 0; j < this.dim; j++) q[j] = query[j] * HALF_SCALE;
    else q.set(query);
    const run = this.f16 ? ex.mahalanobis_f16 : ex.mahalanobis_f32;
    run(ptr.w, ptr.bias, ptr.q, this.dim, this.count, ptr.out, ptr.mask);
    return new Float64Array(ex.memory.buffer, ptr.out, this.count).slice();
  }
}

export class DotKernel {
  private constructor(
    private readonly ex: KernelExports,
    private readonly dim: number,
    private readonly stride: number,
    private readonly count: number,
    private readonly ptr: { rows: number; q: number; out: number },
  ) {}

  /** Copies `count` rows of `dim` values into a kernel, padding each row to a multiple of 16 lanes. */
  static create(rows: Float32Array, dim: number, count: number): DotKernel | null {
    const stride = Math.ceil(dim / 16) * 16;
    const q = align64(count * stride * 4);
    const out = align64(q + stride * 4);
    const ex = instantiate(out + count * 4);
    if (!ex) return null;
    const dst = new Float32Array(ex.memory.buffer, 0, count * stride);
    if (stride === dim) dst.set(rows.subarray(0, count * dim));
    else for (let m = 0; m < count; m++) dst.set(rows.subarray(m * dim, (m + 1) * dim), m * stride);
    return new DotKernel(ex, dim, stride, count, { rows: 0, q, out });
  }

  /** rows[m] · q for every row m. */
  dots(query: Float32Array): Float32Array {
    const { ex, ptr } = this;
    new Float32Array(ex.memory.buffer, ptr.q, this.dim).set(query);
    ex.dot_rows(ptr.rows, ptr.q, this.stride, this.stride, this.count, ptr.out);
    return new Float32Array(ex.memory.buffer, ptr.out, this.count).slice();
  }
}

const gaussianKernels = new WeakMap<GaussianSections, GaussianKernel | null>();
const dotKernels = new WeakMap<Float32Array, DotKernel | null>();

/** The kernel for an index's Gaussian sections, created on first use and reused for every query. */
export function gaussianKernelFor(g: GaussianSections, dim: number, count: number): GaussianKernel | null {
  let k = gaussianKernels.get(g);
  if (k === undefined) {
    k = GaussianKernel.create(g, dim, count);
    gaussianKernels.set(g, k);
  }
  return k;
}

/** The dot-product kernel for a [count, dim] matrix (e.g. an index's means), created once. */
export function dotKernelFor(rows: Float32Array, dim: number, count: number): DotKernel | null {
  let k = dotKernels.get(rows);
  if (k === undefined) {
    k = DotKernel.create(rows, dim, count);
    dotKernels.set(rows, k);
  }
  return k;
}
