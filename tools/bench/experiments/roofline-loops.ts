/**
 * Which plain-JS streaming loop reads a buffer fastest? Picked the JS roofline loop of
 * tools/bench/measure.ts (sumF64x8), and prints the WASM SIMD reduce and the copy bandwidth beside it.
 *
 *   npx tsx tools/bench/experiments/roofline-loops.ts [MiB ...]      (default 0.5 64 512)
 *
 * Each loop reads the same bytes once; GB/s = 10⁶ bytes/ms, best pass of ≥ 5 passes and ≥ 200 ms
 * (small buffers get many passes, so every loop is JIT-optimised before it counts).
 */
import { mulberry32 } from '../../../src/core/math/prng.ts';
import { copyGBs, sumF64x8, wasmReduceGBs } from '../measure.ts';

function sumF32x1(a: Float32Array) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]; return s; }
function sumF32x8(a: Float32Array) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; let i = 0;
  for (; i < a.length - 7; i += 8) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; s4 += a[i + 4]; s5 += a[i + 5]; s6 += a[i + 6]; s7 += a[i + 7]; }
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}
function sumF64x4(a: Float64Array) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0; let i = 0;
  for (; i < a.length - 3; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
  return s0 + s1 + s2 + s3;
}
function xorI32x8(a: Int32Array) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; let i = 0;
  for (; i < a.length - 7; i += 8) { s0 ^= a[i]; s1 ^= a[i + 1]; s2 ^= a[i + 2]; s3 ^= a[i + 3]; s4 ^= a[i + 4]; s5 ^= a[i + 5]; s6 ^= a[i + 6]; s7 ^= a[i + 7]; }
  return s0 ^ s1 ^ s2 ^ s3 ^ s4 ^ s5 ^ s6 ^ s7;
}
function best(bytes: number, f: () => unknown, passes = 5, minMs = 200) {
  let b = Infinity;
  let spent = 0;
  for (let p = 0; p < passes || spent < minMs; p++) {
    const t0 = performance.now();
    f();
    const dt = performance.now() - t0;
    b = Math.min(b, dt);
    spent += dt;
  }
  return ((bytes / b) * 1e-6).toFixed(1);
}
const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const mb of sizes.length ? sizes : [0.5, 64, 512]) {
  const buf = new ArrayBuffer(Math.ceil((mb * 2 ** 20) / 64) * 64);
  const f32 = new Float32Array(buf);
  const rand = mulberry32(1);
  for (let i = 0; i < f32.length; i++) f32[i] = rand() - 0.5;
  const row = {
    MiB: mb,
    f32x1: best(buf.byteLength, () => sumF32x1(f32)),
    f32x8: best(buf.byteLength, () => sumF32x8(f32)),
    f64x4: best(buf.byteLength, () => sumF64x4(new Float64Array(buf))),
    f64x8: best(buf.byteLength, () => sumF64x8(new Float64Array(buf))),
    i32xor8: best(buf.byteLength, () => xorI32x8(new Int32Array(buf))),
    wasmSimd: wasmReduceGBs(f32, 5)?.gbs.toFixed(1),
    copy: copyGBs(f32, 5).toFixed(1),
  };
  console.log(JSON.stringify(row));
}
