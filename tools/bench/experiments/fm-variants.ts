/**
 * How close can the 1st-moment kernel (a [N, d] f32 mat-vec, cos(q, μ_m)) get to the memory
 * roofline? Variants on the bench's synthetic means, checked against src/core.
 *
 *   npx tsx tools/bench/experiments/fm-variants.ts [N ...]      (default N = 259 10000 100000)
 *
 *   js-src         src/core firstMomentScores as it is now: since 2026-11-25 the WASM SIMD dot kernel
 *                  this experiment led to (JS with 4 accumulators where WASM SIMD is missing). The
 *                  results in README.md were taken when it was one JS accumulator (a loop-carried add chain).
 *   js-acc4        4 independent accumulators
 *   js-acc8        8 independent accumulators
 *   wasm-simd      f32x4, 16 lanes/iter, 4 accumulators (means copied into WASM memory once, at load)
 *   js-f64-reduce  the JS roofline loop of measure.ts over the same bytes (no arithmetic on q)
 *   wasm-reduce    the WASM SIMD roofline loop of measure.ts (over ≤ 512 MiB)
 */
import wabtInit from 'wabt';
import { firstMomentScores } from '../../../src/core/scoring/methods.ts';
import { median, streamReduceGBs, wasmReduceGBs } from '../measure.ts';
import { makeMeans, makeQueries } from '../synth.ts';

const D = 512;

function jsAcc4(means: Float32Array, norms: Float32Array, dim: number, q: Float32Array): Float32Array {
  const count = norms.length;
  const out = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const b = m * dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < dim; j += 4) {
      s0 += means[b + j] * q[j];
      s1 += means[b + j + 1] * q[j + 1];
      s2 += means[b + j + 2] * q[j + 2];
      s3 += means[b + j + 3] * q[j + 3];
    }
    out[m] = norms[m] > 0 ? (s0 + s1 + s2 + s3) / norms[m] : 0;
  }
  return out;
}

function jsAcc8(means: Float32Array, norms: Float32Array, dim: number, q: Float32Array): Float32Array {
  const count = norms.length;
  const out = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const b = m * dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let j = 0; j < dim; j += 8) {
      s0 += means[b + j] * q[j];
      s1 += means[b + j + 1] * q[j + 1];
      s2 += means[b + j + 2] * q[j + 2];
      s3 += means[b + j + 3] * q[j + 3];
      s4 += means[b + j + 4] * q[j + 4];
      s5 += means[b + j + 5] * q[j + 5];
      s6 += means[b + j + 6] * q[j + 6];
      s7 += means[b + j + 7] * q[j + 7];
    }
    out[m] = norms[m] > 0 ? (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7) / norms[m] : 0;
  }
  return out;
}

// dim must be a multiple of 16 here (512 is).
const WAT = String.raw`
(module
  (memory (export "memory") 1)
  (func (export "fm") (param $means i32) (param $norms i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32)
    (local $m i32) (local $j i32) (local $mp i32) (local $qp i32) (local $end i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $t v128) (local $n f32)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (local.set $s1 (v128.const i32x4 0 0 0 0))
      (local.set $s2 (v128.const i32x4 0 0 0 0))
      (local.set $s3 (v128.const i32x4 0 0 0 0))
      (local.set $qp (local.get $q))
      (local.set $end (i32.add (local.get $means) (i32.shl (local.get $dim) (i32.const 2))))
      (block $done (loop $by16
        (br_if $done (i32.ge_u (local.get $means) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $means)) (v128.load (local.get $qp)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $means)) (v128.load offset=16 (local.get $qp)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $means)) (v128.load offset=32 (local.get $qp)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $means)) (v128.load offset=48 (local.get $qp)))))
        (local.set $means (i32.add (local.get $means) (i32.const 64)))
        (local.set $qp (i32.add (local.get $qp) (i32.const 64)))
        (br $by16)))
      (local.set $t (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
      (local.set $n (f32.load (local.get $norms)))
      (f32.store (local.get $out)
        (select
          (f32.div
            (f32.add (f32.add (f32x4.extract_lane 0 (local.get $t)) (f32x4.extract_lane 1 (local.get $t)))
                     (f32.add (f32x4.extract_lane 2 (local.get $t)) (f32x4.extract_lane 3 (local.get $t))))
            (local.get $n))
          (f32.const 0)
          (f32.gt (local.get $n) (f32.const 0))))
      (local.set $norms (i32.add (local.get $norms) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))
)`;

async function wasmFm(means: Float32Array, norms: Float32Array) {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('fm.wat', WAT, { simd: true });
  mod.validate();
  const bytes = mod.toBinary({}).buffer as Uint8Array<ArrayBuffer>;
  mod.destroy();
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as {
    memory: WebAssembly.Memory;
    fm: (means: number, norms: number, q: number, dim: number, count: number, out: number) => void;
  };
  const count = norms.length;
  const normsPtr = means.byteLength;
  const qPtr = normsPtr + Math.ceil((count * 4) / 64) * 64;
  const outPtr = qPtr + D * 4;
  ex.memory.grow(Math.ceil((outPtr + count * 4) / 65536));
  new Float32Array(ex.memory.buffer, 0, means.length).set(means);
  new Float32Array(ex.memory.buffer, normsPtr, count).set(norms);
  return (q: Float32Array) => {
    new Float32Array(ex.memory.buffer, qPtr, D).set(q);
    ex.fm(0, normsPtr, qPtr, D, count, outPtr);
    return new Float32Array(ex.memory.buffer, outPtr, count).slice();
  };
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

async function main() {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const qs = makeQueries(9, D);
  for (const n of sizes.length ? sizes : [259, 10_000, 100_000]) {
    const { means, norms } = makeMeans(n, D);
    const ref = firstMomentScores(means, norms, D, qs[0]);
    const wasm = await wasmFm(means, norms);
    const variants: [string, (q: Float32Array) => Float32Array][] = [
      ['js-src', (q) => firstMomentScores(means, norms, D, q)],
      ['js-acc4', (q) => jsAcc4(means, norms, D, q)],
      ['js-acc8', (q) => jsAcc8(means, norms, D, q)],
      ['wasm-simd', wasm],
    ];
    const bytes = n * D * 4;
    console.log(`\nN = ${n} (means ${(bytes / 1e6).toFixed(1)} MB)`);
    console.log('| variant | median ms | GB/s | max abs diff vs src |');
    console.log('|---|---|---|---|');
    for (const [name, fn] of variants) {
      for (let k = 0; k < 5; k++) fn(qs[k % 9]);
      const times: number[] = [];
      const reps = n >= 100_000 ? 15 : 41;
      for (let k = 0; k < reps; k++) {
        const t0 = performance.now();
        fn(qs[k % 9]);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      console.log(`| ${name} | ${ms.toFixed(3)} | ${((bytes / ms) * 1e-6).toFixed(1)} | ${maxAbs(fn(qs[0]), ref).toExponential(1)} |`);
    }
    console.log(`| js-f64-reduce (roofline) | | ${streamReduceGBs(means, 5).toFixed(1)} | |`);
    console.log(`| wasm-reduce (roofline) | | ${wasmReduceGBs(means, 5)!.gbs.toFixed(1)} | |`);
  }
}

main();
