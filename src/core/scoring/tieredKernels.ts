import { lowRankLogDensity, type LowRankRecord } from '../index/lowRankGaussian.ts';
import { gaussianProxyScores, int8CosineScores, signAgreementScores, signCodes, type Int8Means, type SignCodes } from './prefilter.ts';
import { kernelInstance, type KernelExports } from './simdKernels.ts';

/**
 * WebAssembly SIMD kernels for the tiered index's two stages (issue 15), with the results of the JS
 * functions in prefilter.ts and lowRankGaussian.ts. DOM-free: the search worker and Node use it alike.
 *
 * - `prefilterKernel(head)` copies the head's int8 means and sign codes into kernel memory once and
 *   scores every model per query:
 *   - int8 dots (`int8_dots` in kernels.wat): the query is written as three int16 limbs,
 *     q_j ≈ 2^-k (l0 + 2^15 l1 + 2^30 l2) with |q|·2^k ≤ 2^43, and `i32x4.dot_i16x8_s` sums codes ×
 *     limbs exactly in integers. Every query component within 2^19 of the largest is represented
 *     exactly (smaller ones to within 2^-43 of the largest), so the kernel's dot is the exactly rounded
 *     ⟨codes, q⟩ where int8Dots' sequential float64 sum carries its own rounding: after the final
 *     rounding to float32 the two agree to the last bit or within ~1 ulp (≤ 1e-6 relative unless
 *     the dot cancels to ≪ its terms, or is made only of components < 2^-19 of the largest: then
 *     within 2^-43 · max|q| · Σ|codes| · scale). The cosine and proxy then apply prefilter.ts's own float64
 *     formulas to that float32 dot.
 *   - sign agreement (`sign_agree64`: i64 xor + i64.popcnt, or `sign_agree`: v128 xor +
 *     i8x16.popcnt, which x86 has no single instruction for before AVX-512, so it measured ≈ 1.5×
 *     slower here): integers, identical to the JS.
 * - `lowRankScoresKernel(records, q)`: lowRankLogDensity with ‖Bδ‖² from the kernel (`lowrank_proj`,
 *   f32 rows promoted to f64, f64 sums in another order: ≈ 1e-15 relative).
 *
 * Memory: the int8 codes are copied only up to `maxCodeBytes` (default 256 MiB: ≈ 500K models at
 * d = 512); a 1M-model head is ranked from its sign codes (64 MiB at d = 512). Where WASM SIMD is
 * missing, the memory cannot grow, or a part is too large, that part runs prefilter.ts's JS
 * functions instead and `fallbacks` says why; `engine: 'wasm'` makes that an error instead.
 */

export interface PrefilterHead {
  /** int8 means (cosine and proxy scores); a head may hold only sign codes (e.g. 1M models, where 0.5 GB of int8 codes are too many). */
  prefilter?: Int8Means;
  /** The Gaussian-shaped prefilter's per-model terms (gaussianProxyScores); needed for proxyScores. */
  proxy?: { precision: Float32Array; logDet: Float32Array };
  signs?: SignCodes;
}

export interface PrefilterKernelOptions {
  /** 'auto' (default): WASM where it can, else JS with the reason in `fallbacks`; 'wasm': throw instead of falling back; 'js': prefilter.ts only. */
  engine?: 'auto' | 'wasm' | 'js';
  /** Copy the int8 codes into kernel memory only up to this many bytes (default 256 MiB); larger heads use JS for the int8 scores. */
  maxCodeBytes?: number;
  /** The most kernel memory one part may take (default: wasm32's 4 GiB less a page). For tests of the fallback. */
  memoryLimit?: number;
  /** Sign agreement with scalar i64.popcnt (default: fastest on x86 here) or v128 i8x16.popcnt. Same results. */
  signPopcount?: 'i64' | 'i8x16';
}

export interface PrefilterKernel {
  /** Which code scores each part: the int8 scores (cosine, proxy) and the sign codes (null: the head has none). */
  readonly engines: { int8: 'wasm' | 'js' | null; signs: 'wasm' | 'js' | null };
  /** Why a part runs in JS, one sentence each (empty when every part runs in WASM or 'js' was asked for). */
  readonly fallbacks: readonly string[];
  /** gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, q); throws without int8 means or proxy terms. */
  proxyScores(query: Float32Array, out?: Float32Array): Float32Array;
  /** int8CosineScores(head.prefilter, q); throws when the head has no int8 means. */
  cosineScores(query: Float32Array, out?: Float32Array): Float32Array;
  /** signAgreementScores(head.signs, q); throws when the head has no sign codes. */
  signScores(query: Float32Array, out?: Float32Array): Float32Array;
}

const MIB = 2 ** 20;
const DEFAULT_MAX_CODE_BYTES = 256 * MIB;
/** Each i32 lane of int8_dots sums stride/4 products of ≤ 2^21: below 2^31 up to this padded dim. */
export const MAX_INT8_KERNEL_DIM = 4000;
const align64 = (n: number) => Math.ceil(n / 64) * 64;
const u8 = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The query as int16 limbs for int8_dots: q_j ≈ invK · (l0 + 2^15 l1 + 2^30 l2); null if a component is not finite. */
export function queryLimbs(query: Float32Array, stride: number): { limbs: Int16Array; invK: number } | null {
  let max = 0;
  for (let j = 0; j < query.length; j++) {
    const v = Math.abs(query[j]!);
    if (!(v < Infinity)) return null; // NaN or ±∞: the JS path gives int8Dots' NaN/∞ exactly
    if (v > max) max = v;
  }
  const limbs = new Int16Array(3 * stride);
  if (max === 0) return { limbs, invK: 1 };
  // k with max · 2^k ≤ 2^43 < 2 max · 2^k: scaling by a power of two is exact.
  let e = Math.ceil(Math.log2(max));
  while (max > 2 ** e) e++;
  while (max <= 2 ** (e - 1)) e--;
  const k = 43 - e;
  // 2^k may be outside float64 for tiny queries (max ≈ 2^-149 ⇒ k ≈ 192): multiply in two exact steps.
  const k1 = Math.trunc(k / 2);
  const s1 = 2 ** k1;
  const s2 = 2 ** (k - k1);
  const T = 2 ** 15;
  for (let j = 0; j < query.length; j++) {
    const x = Math.round(query[j]! * s1 * s2); // |x| ≤ 2^43, an exact integer in float64
    const l0 = x - T * Math.round(x / T); // in [−2^14, 2^14)
    const x1 = (x - l0) / T;
    const l1 = x1 - T * Math.round(x1 / T);
    const l2 = (x1 - l1) / T; // |l2| ≤ 2^13 + 1
    limbs[j] = l0;
    limbs[stride + j] = l1;
    limbs[2 * stride + j] = l2;
  }
  return { limbs, invK: 2 ** -k1 * 2 ** -(k - k1) };
}

function checkQuery(query: Float32Array, dim: number): void {
  if (query.length !== dim) throw new Error(`The query has ${query.length} dimensions, the index ${dim}.`);
}

/** int8 dots ⟨q, μ_m⟩ (float32, as int8Dots stores them) of every model, in a kernel instance. */
class Int8DotsKernel {
  private constructor(
    private readonly ex: KernelExports,
    private readonly m: Int8Means,
    private readonly stride: number,
    private readonly ptr: { codes: number; limbs: number; scale: number; out: number },
  ) {}

  static create(m: Int8Means, limit: number | undefined): Int8DotsKernel | string {
    const { dim, count, codes, scale } = m;
    const stride = Math.ceil(dim / 16) * 16;
    if (stride > MAX_INT8_KERNEL_DIM) return `d = ${dim} is above the int8 kernel's ${MAX_INT8_KERNEL_DIM} dimensions`;
    const limbs = align64(count * stride);
    const scalePtr = align64(limbs + 3 * stride * 2);
    const out = align64(scalePtr + count * 4);
    const got = kernelInstance(out + count * 4, limit);
    if ('error' in got) return got.error;
    const mem = new Uint8Array(got.exports.memory.buffer);
    if (stride === dim) mem.set(u8(codes.subarray(0, count * dim)), 0);
    else for (let i = 0; i < count; i++) mem.set(u8(codes.subarray(i * dim, (i + 1) * dim)), i * stride);
    mem.set(u8(scale.subarray(0, count)), scalePtr);
    return new Int8DotsKernel(got.exports, m, stride, { codes: 0, limbs, scale: scalePtr, out });
  }

  /** The float32 dots into `out`; false for a query with a non-finite component (then the caller runs the JS). */
  dots(query: Float32Array, out: Float32Array): boolean {
    const { ex, ptr, stride, m } = this;
    const q = queryLimbs(query, stride);
    if (!q) return false;
    new Int16Array(ex.memory.buffer, ptr.limbs, 3 * stride).set(q.limbs);
    ex.int8_dots(ptr.codes, ptr.limbs, stride, m.count, ptr.scale, q.invK, ptr.out);
    out.set(new Float32Array(ex.memory.buffer, ptr.out, m.count));
    return true;
  }
}

/** Sign agreement of every model, in a kernel instance. */
class SignKernel {
  private constructor(
    private readonly ex: KernelExports,
    private readonly s: SignCodes,
    private readonly vecs: number,
    private readonly ptr: { bits: number; q: number; out: number },
    private readonly simd: boolean,
  ) {}

  static create(s: SignCodes, limit: number | undefined, simd: boolean): SignKernel | string {
    const { count, words, bits } = s;
    const vecs = Math.ceil(words / 4);
    const stride = vecs * 4; // words, zero-padded
    const q = align64(count * stride * 4);
    const out = align64(q + stride * 4);
    const got = kernelInstance(out + count * 4, limit);
    if ('error' in got) return got.error;
    const dst = new Uint32Array(got.exports.memory.buffer, 0, count * stride);
    if (stride === words) dst.set(bits.subarray(0, count * words));
    else for (let i = 0; i < count; i++) dst.set(bits.subarray(i * words, (i + 1) * words), i * stride);
    return new SignKernel(got.exports, s, vecs, { bits: 0, q, out }, simd);
  }

  scores(query: Float32Array, out: Float32Array): void {
    const { ex, ptr, vecs, s } = this;
    const q = new Uint32Array(ex.memory.buffer, ptr.q, vecs * 4);
    q.fill(0);
    q.set(signCodes(query, s.dim).bits);
    (this.simd ? ex.sign_agree : ex.sign_agree64)(ptr.bits, ptr.q, vecs, s.count, s.dim, ptr.out);
    out.set(new Float32Array(ex.memory.buffer, ptr.out, s.count));
  }
}

/**
 * The prefilter kernels of a head: its int8 means (≤ maxCodeBytes) and sign codes copied into
 * WebAssembly memory once; each call scores every model as prefilter.ts's function of that name.
 */
export function prefilterKernel(head: PrefilterHead, opts: PrefilterKernelOptions = {}): PrefilterKernel {
  const engine = opts.engine ?? 'auto';
  const { prefilter: m, proxy, signs } = head;
  if (!m && !signs) throw new Error('A prefilter needs int8 means or sign codes; this head has neither.');
  const count = m?.count ?? signs!.count;
  const dim = m?.dim ?? signs!.dim;
  if (m && (m.codes.length !== count * dim || m.scale.length !== count || m.norms.length !== count)) {
    throw new Error(`The int8 prefilter of ${count} models × ${dim} dimensions has ${m.codes.length} codes, ${m.scale.length} scales and ${m.norms.length} norms.`);
  }
  if (proxy && (proxy.precision.length !== count || proxy.logDet.length !== count)) throw new Error(`The proxy needs ${count} precisions and log-determinants.`);
  if (signs && (signs.count !== count || signs.dim !== dim || signs.words !== Math.ceil(dim / 32) || signs.bits.length !== count * signs.words)) {
    throw new Error(`The sign codes (${signs.count} models × ${signs.dim} dimensions, ${signs.bits.length} words) do not match the prefilter (${count} × ${dim}).`);
  }

  const fallbacks: string[] = [];
  const fail = (part: string, why: string) => {
    if (engine === 'wasm') throw new Error(`The ${part} prefilter cannot run in WebAssembly: ${why}.`);
    fallbacks.push(`The ${part} prefilter runs in JS: ${why}.`);
  };

  let int8: Int8DotsKernel | null = null;
  if (m && engine !== 'js') {
    const maxCodeBytes = opts.maxCodeBytes ?? DEFAULT_MAX_CODE_BYTES;
    if (count * dim > maxCodeBytes) fail('int8', `its ${(count * dim / MIB).toFixed(0)} MiB of codes are more than the ${(maxCodeBytes / MIB).toFixed(0)} MiB copied into kernel memory`);
    else {
      const k = Int8DotsKernel.create(m, opts.memoryLimit);
      if (typeof k === 'string') fail('int8', k);
      else int8 = k;
    }
  }
  let sign: SignKernel | null = null;
  if (signs && engine !== 'js') {
    const k = SignKernel.create(signs, opts.memoryLimit, opts.signPopcount === 'i8x16');
    if (typeof k === 'string') fail('sign-code', k);
    else sign = k;
  }

  const needInt8 = (): Int8Means => {
    if (!m) throw new Error('This index has no int8 means: use the sign-code prefilter (signScores).');
    return m;
  };
  return {
    engines: { int8: m ? (int8 ? 'wasm' : 'js') : null, signs: signs ? (sign ? 'wasm' : 'js') : null },
    fallbacks,
    cosineScores(query, out = new Float32Array(count)) {
      const m = needInt8();
      checkQuery(query, dim);
      if (!int8 || !int8.dots(query, out)) return int8CosineScores(m, query, out as Float32Array<ArrayBuffer>);
      const { norms } = m;
      for (let i = 0; i < count; i++) out[i] = norms[i]! > 0 ? out[i]! / norms[i]! : 0;
      return out;
    },
    proxyScores(query, out = new Float32Array(count)) {
      const m = needInt8();
      if (!proxy) throw new Error('This index has no Gaussian prefilter terms (precision, log-determinant): use cosineScores.');
      const { precision, logDet } = proxy;
      checkQuery(query, dim);
      if (!int8 || !int8.dots(query, out)) return gaussianProxyScores(m, precision, logDet, query, out as Float32Array<ArrayBuffer>);
      const { norms } = m;
      let qq = 0;
      for (const v of query) qq += v * v;
      for (let i = 0; i < count; i++) {
        const dd = Math.max(0, qq - 2 * out[i]! + norms[i]! * norms[i]!);
        out[i] = -0.5 * precision[i]! * dd - 0.5 * logDet[i]!;
      }
      return out;
    },
    signScores(query, out = new Float32Array(count)) {
      if (!signs) throw new Error('This index has no sign codes: use the int8 prefilter (cosineScores or proxyScores).');
      checkQuery(query, dim);
      if (!sign) return signAgreementScores(signs, query, out as Float32Array<ArrayBuffer>);
      sign.scores(query, out);
      return out;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Rerank: the low-rank Gaussian's ‖Bδ‖² in the kernel

const LOG_2PI = Math.log(2 * Math.PI);
let rerank: { ex: KernelExports; bytes: number } | null | undefined;
let rerankError = '';

/** The shared rerank instance with room for `bytes`, or null (why in rerankError). */
function rerankInstance(bytes: number): KernelExports | null {
  if (rerank === null) return null;
  if (rerank && rerank.bytes >= bytes) return rerank.ex;
  const want = Math.max(bytes, 4 * MIB, (rerank?.bytes ?? 0) * 2);
  const got = kernelInstance(want);
  if ('error' in got) {
    rerankError = got.error;
    // No SIMD is for good; a failed growth leaves any smaller instance usable for smaller records.
    if (got.error.includes('SIMD')) rerank = null;
    return null;
  }
  rerank = { ex: got.exports, bytes: want };
  return got.exports;
}

/** Why the last lowRankScoresKernel call ran a record in JS ('' when none did). */
export function lowRankKernelFallback(): string {
  return rerankError;
}

/**
 * lowRankLogDensity(record, query) for each record, into `out`: ‖Bδ‖² from the WASM kernel for
 * float32 bases, the JS function for any other record (float64 bases, rank 0) or where the
 * kernel has no memory.
 */
export function lowRankScoresKernel(records: readonly LowRankRecord[], query: ArrayLike<number>, out = new Float64Array(records.length)): Float64Array {
  rerankError = '';
  for (let i = 0; i < records.length; i++) {
    const g = records[i]!;
    const { dim, mean, basis, rank } = g;
    if (query.length !== dim) throw new Error(`The query has ${query.length} dimensions, the model ${dim}.`);
    const stride = Math.ceil(dim / 4) * 4;
    const rowsBytes = rank * stride * 4;
    const f32 = basis instanceof Float32Array && rank > 0 && basis.length >= rank * dim ? basis : null;
    const ex = f32 ? rerankInstance(align64(rowsBytes) + stride * 8) : null;
    if (!ex || !f32) {
      out[i] = lowRankLogDensity(g, query);
      continue;
    }
    const deltaPtr = align64(rowsBytes);
    const delta = new Float64Array(ex.memory.buffer, deltaPtr, stride);
    let dd = 0;
    for (let j = 0; j < dim; j++) {
      const v = query[j]! - mean[j]!;
      delta[j] = v;
      dd += v * v;
    }
    for (let j = dim; j < stride; j++) delta[j] = 0;
    const rows = new Float32Array(ex.memory.buffer, 0, rank * stride);
    if (stride === dim) rows.set(f32.subarray(0, rank * dim));
    else {
      for (let k = 0; k < rank; k++) {
        rows.set(f32.subarray(k * dim, (k + 1) * dim), k * stride);
        for (let j = dim; j < stride; j++) rows[k * stride + j] = 0;
      }
    }
    const projected = ex.lowrank_proj(0, deltaPtr, stride, rank);
    const maha = Math.max(0, dd / g.isotropic - projected);
    out[i] = -0.5 * maha - 0.5 * g.logDet - 0.5 * dim * LOG_2PI;
  }
  return out;
}
