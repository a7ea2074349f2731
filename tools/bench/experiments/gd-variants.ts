/**
 * Where does the exact Gaussian-density (‖W q − b‖²) kernel spend its time, and what would make it
 * faster? Times variants of the per-model packed-triangle loop on the bench's synthetic data and
 * checks each against the float64 JS reference (src/core mahalanobis on the f32 values).
 *
 *   npx tsx tools/bench/experiments/gd-variants.ts [N ...]      (default N = 259 1000)
 *
 * Variants (each: median ms/query over 7 queries after 2 warm-ups):
 *   js-f16-table       src/core mahalanobis, fp16 → 65536-entry Float32Array lookup (the JS fallback)
 *   js-u16-nodecode    same loop, raw u16 × q with no decode (wrong values): the cost without the lookup
 *   js-f16-table-acc4  lookup + 4 independent accumulators
 *   js-f16-scratch     decode each model once into an L2-resident f32 scratch, then js-f32-acc4 on it
 *   js-f32             src/core mahalanobis on f32 factors (fp16 converted at load: 2× bytes)
 *   js-f32-acc4        f32 + 4 independent accumulators
 *   wasm-f16-src       src/core/scoring/simdKernels.ts as it is now: since 2026-11-25 the design found here
 *                      (sext-qs-mask). The results in tools/bench/experiments/README.md were taken
 *                      against the kernel before it (8 lanes/iter, 6-op decode and/shl/mul/and/shl/or).
 *   wasm-f16-sext      WASM SIMD, 16 lanes/iter, 4 accumulators, 3-op decode: sign-extend, shl 13,
 *                      and 0x8FFFE000, × 2^112 (the sign bit lands in place, the multiply rebiases)
 *   wasm-f16-sext-qscale  the same minus the × 2^112, folded into the query once (q' = q·2^112; exact:
 *                      power-of-two scaling) → 2 integer ops per 4 lanes for the decode
 *   wasm-f16-sext-qs-mask  + the ragged row end (len mod 8 entries) as one masked 8-lane step, not a scalar loop
 *   wasm-f16-nodecode  same as wasm-f16-sext, but convert_i32x4 instead of the decode (wrong values): the decode's cost
 *   wasm-f32-src       src/core/scoring/simdKernels.ts on f32 factors (likewise the current kernel)
 *   wasm-f32-acc4      WASM SIMD f32, 16 lanes/iter, 4 accumulators
 */
import wabtInit from 'wabt';
import { GaussianKernel } from '../../../src/core/scoring/simdKernels.ts';
import type { FloatData, GaussianSections } from '../../../src/core/index/indexFormat.ts';
import { halfToFloatTable, packedSize } from '../../../src/core/math/linalg.ts';
import { mahalanobis } from '../../../src/core/scoring/methods.ts';
import { median } from '../measure.ts';
import { halfToF32, makeGaussianExtras, makeHalfFactors, makeQueries } from '../synth.ts';

const D = 512;
const P = packedSize(D);

// ---------------------------------------------------------------------------------------------
// JS variants

function jsU16NoDecode(w: Uint16Array, bias: Float32Array, dim: number, count: number, q: Float32Array) {
  const out = new Float64Array(count);
  for (let m = 0; m < count; m++) {
    let off = m * P;
    const bb = m * dim;
    let acc = 0;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += w[off + j] * q[j];
      off += i + 1;
      const r = s - bias[bb + i];
      acc += r * r;
    }
    out[m] = acc;
  }
  return out;
}

function jsF16TableAcc4(w: Uint16Array, bias: Float32Array, dim: number, count: number, q: Float32Array) {
  const t = halfToFloatTable();
  const out = new Float64Array(count);
  for (let m = 0; m < count; m++) {
    let off = m * P;
    const bb = m * dim;
    let acc = 0;
    for (let i = 0; i < dim; i++) {
      const len = i + 1;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 4 <= len; j += 4) {
        s0 += t[w[off + j]] * q[j];
        s1 += t[w[off + j + 1]] * q[j + 1];
        s2 += t[w[off + j + 2]] * q[j + 2];
        s3 += t[w[off + j + 3]] * q[j + 3];
      }
      for (; j < len; j++) s0 += t[w[off + j]] * q[j];
      off += len;
      const r = s0 + s1 + s2 + s3 - bias[bb + i];
      acc += r * r;
    }
    out[m] = acc;
  }
  return out;
}

/** ‖Wq − b‖² for one model whose packed factor is `w[off…]` in f32, 4 accumulators. */
function rowsF32Acc4(w: Float32Array, off: number, bias: Float32Array, bb: number, dim: number, q: Float32Array) {
  let acc = 0;
  for (let i = 0; i < dim; i++) {
    const len = i + 1;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j + 4 <= len; j += 4) {
      s0 += w[off + j] * q[j];
      s1 += w[off + j + 1] * q[j + 1];
      s2 += w[off + j + 2] * q[j + 2];
      s3 += w[off + j + 3] * q[j + 3];
    }
    for (; j < len; j++) s0 += w[off + j] * q[j];
    off += len;
    const r = s0 + s1 + s2 + s3 - bias[bb + i];
    acc += r * r;
  }
  return acc;
}

function jsF32Acc4(w: Float32Array, bias: Float32Array, dim: number, count: number, q: Float32Array) {
  const out = new Float64Array(count);
  for (let m = 0; m < count; m++) out[m] = rowsF32Acc4(w, m * P, bias, m * dim, dim, q);
  return out;
}

const scratch = new Float32Array(P);
function jsF16Scratch(w: Uint16Array, bias: Float32Array, dim: number, count: number, q: Float32Array) {
  const t = halfToFloatTable();
  const out = new Float64Array(count);
  for (let m = 0; m < count; m++) {
    const base = m * P;
    for (let k = 0; k < P; k++) scratch[k] = t[w[base + k]];
    out[m] = rowsF32Acc4(scratch, 0, bias, m * dim, dim, q);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// WASM variants (assembled here with wabt, the tool src/core's build-wasm uses)

const WAT = String.raw`
(module
  (memory (export "memory") 1)
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
  ;; fp16 → f32 on sign-extended lanes (dec() below inlines the same in the SIMD loops): the sign lands at bit 31 after
  ;; shl 13; the and clears the smeared sign copies (bits 28-30); × 2^112 rebiases the exponent
  ;; (and makes subnormals exact). Inf/NaN patterns become finite (valid indexes have none).
  (func $dec1_noscale (param $h i32) (result f32)
    (f32.reinterpret_i32 (i32.and (i32.shl (local.get $h) (i32.const 13)) (i32.const 0x8FFFE000))))
  (func $dec1 (param $h i32) (result f32)
    (f32.mul (f32.reinterpret_i32 (i32.and (i32.shl (local.get $h) (i32.const 13)) (i32.const 0x8FFFE000)))
             (f32.const 0x1p112)))

  ;; Generated 3×: f16_sext (decode), f16_nodecode (convert only, wrong values: the decode's cost),
  ;; f16_sext_qscale (decode without the × 2^112, which the caller folds into q: q' = q · 2^112).
  ${['f16_sext', 'f16_nodecode', 'f16_sext_qscale', 'f16_sext_qscale_masktail']
    .map(
      (name, mode) => `
  (func (export "${name}")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32) (param $mask i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $h v128) (local $wp i32) (local $qp i32) (local $mp i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $tail f32) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $done16 (loop $by16
          (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $len)))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
          (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $h (v128.load (local.get $wp)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul ${dec(mode, '(i32x4.extend_low_i16x8_s (local.get $h))')} (v128.load (local.get $qp)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul ${dec(mode, '(i32x4.extend_high_i16x8_s (local.get $h))')} (v128.load offset=16 (local.get $qp)))))
          (local.set $h (v128.load offset=16 (local.get $wp)))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul ${dec(mode, '(i32x4.extend_low_i16x8_s (local.get $h))')} (v128.load offset=32 (local.get $qp)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul ${dec(mode, '(i32x4.extend_high_i16x8_s (local.get $h))')} (v128.load offset=48 (local.get $qp)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $by16)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $h (v128.load (local.get $wp)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul ${dec(mode, '(i32x4.extend_low_i16x8_s (local.get $h))')} (v128.load (local.get $qp)))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul ${dec(mode, '(i32x4.extend_high_i16x8_s (local.get $h))')} (v128.load offset=16 (local.get $qp)))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))))${
              mode === 3
                ? `
        ;; Ragged row end: one more 8-lane step that reads past the row (into the next row or the
        ;; padding: finite values) with the q lanes ≥ len masked to 0, instead of a scalar loop.
        (if (i32.lt_u (local.get $j) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $mp (i32.add (local.get $mask) (i32.shl (i32.sub (local.get $len) (local.get $j)) (i32.const 5))))
            (local.set $h (v128.load (local.get $wp)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul ${dec(mode, '(i32x4.extend_low_i16x8_s (local.get $h))')} (v128.and (v128.load (local.get $qp)) (v128.load (local.get $mp))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul ${dec(mode, '(i32x4.extend_high_i16x8_s (local.get $h))')} (v128.and (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $mp))))))
            (local.set $j (local.get $len))))`
                : ''
            }
        (local.set $tail (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3)))))
        (block $done1 (loop $by1
          (br_if $done1 (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $tail (f32.add (local.get $tail)
            (f32.mul (call ${mode === 2 ? '$dec1_noscale' : '$dec1'} (i32.load16_s (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1)))))
                     (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $by1)))
        (local.set $r (f32.sub (local.get $tail) (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 1))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))`,
    )
    .join('\n')}

  (func (export "f32_acc4")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $wp i32) (local $qp i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $tail f32) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $done16 (loop $by16
          (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $len)))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $wp)) (v128.load (local.get $qp)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $wp)) (v128.load offset=16 (local.get $qp)))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $wp)) (v128.load offset=32 (local.get $qp)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $wp)) (v128.load offset=48 (local.get $qp)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $by16)))
        (local.set $tail (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3)))))
        (block $done1 (loop $by1
          (br_if $done1 (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $tail (f32.add (local.get $tail)
            (f32.mul (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
                     (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $by1)))
        (local.set $r (f32.sub (local.get $tail) (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 2))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))
)`;

/** The decode, inlined (Node 20's V8 does not inline small wasm functions): 0 = decode, 1 = convert only. */
function dec(mode: number, x: string): string {
  const bits = `(v128.and (i32x4.shl ${x} (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))`;
  if (mode === 1) return `(f32x4.convert_i32x4_s ${x})`;
  if (mode >= 2) return bits; // the 2^112 is folded into q (the caller stores q · 2^112)
  return `(f32x4.mul ${bits} (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))`;
}

type WasmFn = (w: number, bias: number, q: number, dim: number, count: number, out: number, mask: number) => void;

async function wasmVariants(f16: Uint16Array, f32: Float32Array, bias: Float32Array, count: number) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('gd-variants.wat', WAT, { simd: true });
  mod.validate();
  const bytes = mod.toBinary({}).buffer;
  mod.destroy();
  const make = (w: Uint16Array | Float32Array) => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
    const ex = inst.exports as unknown as Record<string, WasmFn> & { memory: WebAssembly.Memory };
    const align = (n: number) => Math.ceil(n / 64) * 64;
    const wPtr = 0;
    const biasPtr = align(w.byteLength + 64);
    const qPtr = align(biasPtr + bias.byteLength);
    const outPtr = align(qPtr + D * 4);
    const maskPtr = align(outPtr + count * 8);
    const end = align(maskPtr + 8 * 32);
    ex.memory.grow(Math.ceil(end / 65536));
    const mem = new Uint8Array(ex.memory.buffer);
    mem.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), wPtr);
    mem.set(new Uint8Array(bias.buffer, bias.byteOffset, bias.byteLength), biasPtr);
    // mask[r] (32 bytes): lanes k < r all-ones, the rest 0.
    const masks = new Uint32Array(ex.memory.buffer, maskPtr, 8 * 8);
    for (let r = 0; r < 8; r++) for (let k = 0; k < r; k++) masks[r * 8 + k] = 0xffffffff;
    return (name: string, qScale = 1) => (q: Float32Array) => {
      const qm = new Float32Array(ex.memory.buffer, qPtr, D);
      for (let j = 0; j < D; j++) qm[j] = q[j] * qScale;
      ex[name](wPtr, biasPtr, qPtr, D, count, outPtr, maskPtr);
      return new Float64Array(ex.memory.buffer, outPtr, count).slice();
    };
  };
  const on16 = make(f16);
  const on32 = make(f32);
  return {
    f16_sext: on16('f16_sext'),
    f16_nodecode: on16('f16_nodecode'),
    f16_sext_qscale: on16('f16_sext_qscale', 2 ** 112),
    f16_sext_qscale_masktail: on16('f16_sext_qscale_masktail', 2 ** 112),
    f32_acc4: on32('f32_acc4'),
  };
}

// ---------------------------------------------------------------------------------------------

function maxRel(a: Float64Array, ref: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a[i] - ref[i]) / Math.abs(ref[i]));
  return worst;
}

async function main() {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const qs = makeQueries(9, D);
  for (const n of sizes.length ? sizes : [259, 1000]) {
    const f16 = makeHalfFactors(n, D);
    const f32 = halfToF32(f16);
    const { bias, logDet, epsilon } = makeGaussianExtras(n, D);
    const sections = (precision: FloatData): GaussianSections => ({ precision, bias, logDet, epsilon });
    const ref = mahalanobis({ dtype: 'f32', data: f32 }, bias, D, n, qs[0]);
    const k16 = GaussianKernel.create(sections({ dtype: 'f16', data: f16 }), D, n);
    const k32 = GaussianKernel.create(sections({ dtype: 'f32', data: f32 }), D, n);
    const w = await wasmVariants(f16, f32, bias, n);
    const variants: [string, number, (q: Float32Array) => Float64Array][] = [
      ['js-f16-table', 2, (q) => mahalanobis({ dtype: 'f16', data: f16 }, bias, D, n, q)],
      ['js-u16-nodecode', 2, (q) => jsU16NoDecode(f16, bias, D, n, q)],
      ['js-f16-table-acc4', 2, (q) => jsF16TableAcc4(f16, bias, D, n, q)],
      ['js-f16-scratch', 2, (q) => jsF16Scratch(f16, bias, D, n, q)],
      ['js-f32', 4, (q) => mahalanobis({ dtype: 'f32', data: f32 }, bias, D, n, q)],
      ['js-f32-acc4', 4, (q) => jsF32Acc4(f32, bias, D, n, q)],
      ['wasm-f16-src', 2, (q) => k16!.mahalanobis(q)],
      ['wasm-f16-sext', 2, w.f16_sext],
      ['wasm-f16-sext-qscale', 2, w.f16_sext_qscale],
      ['wasm-f16-sext-qs-mask', 2, w.f16_sext_qscale_masktail],
      ['wasm-f16-nodecode', 2, w.f16_nodecode],
      ['wasm-f32-src', 4, (q) => k32!.mahalanobis(q)],
      ['wasm-f32-acc4', 4, w.f32_acc4],
    ];
    console.log(`\nN = ${n} (d = ${D}; fp16 factors ${((n * P * 2) / 1e6).toFixed(0)} MB, f32 ${((n * P * 4) / 1e6).toFixed(0)} MB)`);
    console.log('| variant | median ms | GB/s of factor bytes | × js-f16-table | max rel diff vs f64 ref |');
    console.log('|---|---|---|---|---|');
    let base = 0;
    for (const [name, width, fn] of variants) {
      for (let k = 0; k < 2; k++) fn(qs[k]);
      const times: number[] = [];
      for (let k = 0; k < 7; k++) {
        const t0 = performance.now();
        fn(qs[2 + k]);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      if (!base) base = ms;
      const diff = name.includes('nodecode') ? 'n/a (wrong on purpose)' : maxRel(fn(qs[0]), ref).toExponential(1);
      console.log(`| ${name} | ${ms.toFixed(1)} | ${((n * P * width) / ms / 1e6).toFixed(2)} | ${(base / ms).toFixed(2)} | ${diff} |`);
    }
  }
}

main();
