import type { GaussianSections } from './indexFormat.ts';
import { KERNELS_WASM_BASE64 } from './wasm/kernels.wasm.ts';

/**
 * WebAssembly SIMD kernel for ‖W q − b‖² over every model (the hot loop of Gaussian-density
 * scoring). The factors are copied into the module's memory once per index; each query then
 * streams them without touching JS. Where WASM SIMD is unavailable, callers use the JS loop.
 */
interface KernelExports {
  memory: WebAssembly.Memory;
  mahalanobis_f32(w: number, bias: number, q: number, dim: number, count: number, out: number): void;
  mahalanobis_f16(w: number, bias: number, q: number, dim: number, count: number, out: number): void;
}

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

export class GaussianKernel {
  private constructor(
    private readonly exports: KernelExports,
    private readonly f16: boolean,
    private readonly dim: number,
    private readonly count: number,
    private readonly wPtr: number,
    private readonly biasPtr: number,
    private readonly qPtr: number,
    private readonly outPtr: number,
  ) {}

  /** Copies an index's factors into a fresh kernel instance; null if WASM SIMD or memory is unavailable. */
  static create(g: GaussianSections, dim: number, count: number): GaussianKernel | null {
    const module = kernelModule();
    if (!module) return null;
    const align = (n: number) => Math.ceil(n / 64) * 64;
    const w = g.precision.data;
    const wPtr = 0;
    const biasPtr = align(wPtr + w.byteLength);
    const qPtr = align(biasPtr + g.bias.byteLength);
    const outPtr = align(qPtr + dim * 4);
    const end = align(outPtr + count * 8);
    if (end > MAX_BYTES) return null;
    let exports: KernelExports;
    try {
      const instance = new WebAssembly.Instance(module, {});
      exports = instance.exports as unknown as KernelExports;
      exports.memory.grow(Math.ceil(end / PAGE) - exports.memory.buffer.byteLength / PAGE);
    } catch {
      return null; // out of memory: the JS path reads the index in place instead
    }
    const mem = new Uint8Array(exports.memory.buffer);
    mem.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), wPtr);
    mem.set(new Uint8Array(g.bias.buffer, g.bias.byteOffset, g.bias.byteLength), biasPtr);
    return new GaussianKernel(exports, g.precision.dtype === 'f16', dim, count, wPtr, biasPtr, qPtr, outPtr);
  }

  /** ‖W_m q − b_m‖² for every model m. */
  mahalanobis(query: Float32Array): Float64Array {
    const { exports: ex } = this;
    new Float32Array(ex.memory.buffer, this.qPtr, this.dim).set(query);
    const run = this.f16 ? ex.mahalanobis_f16 : ex.mahalanobis_f32;
    run(this.wPtr, this.biasPtr, this.qPtr, this.dim, this.count, this.outPtr);
    return new Float64Array(ex.memory.buffer, this.outPtr, this.count).slice();
  }
}

const kernels = new WeakMap<GaussianSections, GaussianKernel | null>();

/** The kernel for an index's Gaussian sections, created on first use and reused for every query. */
export function gaussianKernelFor(g: GaussianSections, dim: number, count: number): GaussianKernel | null {
  let k = kernels.get(g);
  if (k === undefined) {
    k = GaussianKernel.create(g, dim, count);
    kernels.set(g, k);
  }
  return k;
}
