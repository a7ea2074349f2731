/**
 * Timing and memory-bandwidth helpers shared by the Node bench (case.ts) and the browser worker.
 * No Node or DOM imports: only performance.now() and typed arrays.
 */

export interface Timing {
  /** Median of the timed calls, ms. */
  medianMs: number;
  minMs: number;
  /** Number of timed calls (after warm-up). */
  n: number;
}

export interface TimeOptions {
  warmup: number;
  /** Timed calls wanted… */
  reps: number;
  /** …but stop once this much time was spent on timed calls (at least minReps are always run). */
  budgetMs: number;
  minReps?: number;
}

/** Times fn(k) for k = 0, 1, 2…: `warmup` untimed calls, then up to `reps` timed calls; median and min. */
export function timeCalls(fn: (k: number) => unknown, opts: TimeOptions): Timing {
  let k = 0;
  for (let i = 0; i < opts.warmup; i++) sink(fn(k++));
  const times: number[] = [];
  const minReps = opts.minReps ?? 3;
  let spent = 0;
  while (times.length < opts.reps && (times.length < minReps || spent < opts.budgetMs)) {
    const t0 = performance.now();
    const r = fn(k++);
    const dt = performance.now() - t0;
    sink(r);
    times.push(dt);
    spent += dt;
  }
  return { medianMs: median(times), minMs: Math.min(...times), n: times.length };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

let sunk = 0;
/** Keeps results observable so the JIT cannot drop the work. */
function sink(x: unknown): void {
  if (typeof x === 'number') sunk += x;
  else if (x && typeof x === 'object' && 'length' in x) sunk += (x as ArrayLike<number>).length;
}


/**
 * Best time of one pass, ms: at least `passes` samples and `minMs` in all. Buffers under 32 MiB
 * run several passes per sample (each sample ≥ 32 MiB of traffic), so coarse timers (5 µs in a
 * cross-origin-isolated page, 100 µs otherwise) cannot round a cache-resident pass to 0.
 */
function bestPassMs(byteLength: number, pass: () => void, passes: number, minMs: number): number {
  const inner = Math.max(1, Math.ceil((32 << 20) / Math.max(1, byteLength)));
  let best = Infinity;
  let spent = 0;
  for (let p = 0; p < passes || spent < minMs; p++) {
    const t0 = performance.now();
    for (let k = 0; k < inner; k++) pass();
    const dt = performance.now() - t0;
    best = Math.min(best, dt / inner);
    spent += dt;
  }
  return best;
}

/**
 * The streaming-reduction roofline: sum of the buffer's bytes viewed as a Float64Array with 8
 * independent accumulators (8 bytes per load, no loop-carried add chain), in JS. This is the
 * fastest plain-JS loop over a buffer found in tools/bench/experiments/roofline-loops.ts; it reads
 * every byte once. Returns GB/s (1 GB/s = 10⁶ bytes/ms) of the best pass; at least `passes` passes
 * and at least `minMs` of passes.
 */
export function streamReduceGBs(bytes: ArrayBufferView, passes: number, minMs = 200): number {
  const n8 = Math.floor(bytes.byteLength / 8);
  const a = new Float64Array(bytes.buffer, bytes.byteOffset + ((8 - (bytes.byteOffset % 8)) % 8), n8 - 1);
  // Small (cache-resident) buffers get many passes, so the loop is JIT-optimised before it counts.
  const best = bestPassMs(a.byteLength, () => sink(sumF64x8(a)), passes, minMs);
  return (a.byteLength / best) * 1e-6;
}

export function sumF64x8(a: Float64Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  const n = a.length - 7;
  let i = 0;
  for (; i < n; i += 8) {
    s0 += a[i];
    s1 += a[i + 1];
    s2 += a[i + 2];
    s3 += a[i + 3];
    s4 += a[i + 4];
    s5 += a[i + 5];
    s6 += a[i + 6];
    s7 += a[i + 7];
  }
  for (; i < a.length; i++) s0 += a[i];
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}

/**
 * Copy bandwidth: TypedArray.prototype.set (a memcpy) of the buffer, in chunks of at most 64 MiB,
 * into one preallocated destination of the chunk size. GB/s counts each source byte once
 * (the copy also writes as many bytes). Best of at least `passes` passes (and `minMs`) over the whole buffer.
 */
export function copyGBs(bytes: ArrayBufferView, passes: number, minMs = 200): number {
  const total = bytes.byteLength;
  const chunk = Math.min(total, 64 << 20);
  const dst = new Uint8Array(chunk);
  // Chunk views are made per chunk: one Uint8Array over > 4 GiB is not allowed in every engine.
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < total; o += chunk) chunks.push(new Uint8Array(bytes.buffer, bytes.byteOffset + o, Math.min(chunk, total - o)));
  const best = bestPassMs(total, () => {
    for (const c of chunks) dst.set(c);
  }, passes, minMs);
  sink(dst[chunk - 1]);
  return (total / best) * 1e-6;
}

/**
 * The WASM SIMD roofline: 64 bytes per iteration (4 × v128.load + i32x4.add into 4 accumulators),
 * i.e. what a SIMD kernel could stream. WebAssembly cannot read a JS ArrayBuffer in place, so it
 * runs over a copy of the buffer's first min(byteLength, 512 MiB) bytes in a WebAssembly.Memory
 * (512 MiB is 16× the L3 here: past that size the figure is the DRAM read bandwidth).
 * Returns GB/s of the best pass, or null where WebAssembly SIMD is unavailable.
 *
 * The module (157 bytes, assembled with wabt from this text):
 *   (module (import "env" "memory" (memory 1))
 *     (func (export "reduce") (param $p i32) (param $end i32) (result i32) (local $a v128) … (local $d v128)
 *       (block $done (loop $l
 *         (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 64)) (local.get $end)))
 *         (local.set $a (i32x4.add (local.get $a) (v128.load (local.get $p))))   ;; $b, $c, $d: offset=16/32/48
 *         (local.set $p (i32.add (local.get $p) (i32.const 64))) (br $l)))
 *       (i32x4.extract_lane 0 (i32x4.add (i32x4.add $a $b) (i32x4.add $c $d)))))
 */
const REDUCE_WASM = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 2, 15, 1, 3, 101, 110, 118, 6, 109,
  101, 109, 111, 114, 121, 2, 0, 1, 3, 2, 1, 0, 7, 10, 1, 6, 114, 101, 100, 117, 99, 101, 0, 0, 10, 105,
  1, 103, 1, 4, 123, 2, 64, 3, 64, 32, 0, 65, 192, 0, 106, 32, 1, 75, 13, 1, 32, 2, 32, 0, 253, 0,
  4, 0, 253, 174, 1, 33, 2, 32, 3, 32, 0, 253, 0, 4, 16, 253, 174, 1, 33, 3, 32, 4, 32, 0, 253, 0,
  4, 32, 253, 174, 1, 33, 4, 32, 5, 32, 0, 253, 0, 4, 48, 253, 174, 1, 33, 5, 32, 0, 65, 192, 0, 106,
  33, 0, 12, 0, 11, 11, 32, 2, 32, 3, 253, 174, 1, 32, 4, 32, 5, 253, 174, 1, 253, 174, 1, 253, 27, 0,
  11,
]);
const WASM_REDUCE_MAX = 512 << 20;
let wasmReduce: { memory: WebAssembly.Memory; reduce: (p: number, end: number) => number } | null | undefined;

export function wasmReduceGBs(bytes: ArrayBufferView, passes: number, minMs = 200): { gbs: number; bytes: number } | null {
  if (wasmReduce === undefined) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(REDUCE_WASM), { env: { memory } });
      wasmReduce = { memory, reduce: inst.exports.reduce as (p: number, end: number) => number };
    } catch {
      wasmReduce = null;
    }
  }
  if (!wasmReduce) return null;
  const size = Math.floor(Math.min(bytes.byteLength, WASM_REDUCE_MAX) / 64) * 64;
  const { memory, reduce } = wasmReduce;
  const need = Math.ceil(size / 65536) - memory.buffer.byteLength / 65536;
  if (need > 0) memory.grow(need);
  new Uint8Array(memory.buffer, 0, size).set(new Uint8Array(bytes.buffer, bytes.byteOffset, size));
  const best = bestPassMs(size, () => sink(reduce(0, size)), passes, minMs);
  return { gbs: (size / best) * 1e-6, bytes: size };
}

/** GB/s: JS Float64Array 8-accumulator reduction, WASM SIMD reduction (over ≤ 512 MiB copy), TypedArray.set copy. */
export interface Roofline {
  js: number;
  wasm: number | null;
  wasmBytes: number;
  copy: number;
}

/** All three rooflines over one buffer. */
export function roofline(buf: ArrayBufferView, passes: number): Roofline {
  const w = wasmReduceGBs(buf, passes);
  return { js: streamReduceGBs(buf, passes), wasm: w?.gbs ?? null, wasmBytes: w?.bytes ?? 0, copy: copyGBs(buf, Math.min(passes, 3)) };
}
