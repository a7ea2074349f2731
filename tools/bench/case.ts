/**
 * One group of bench sizes in its own Node process (so its multi-GB buffers die with it):
 * builds the synthetic data, measures the rooflines and the src/core kernels, then writes the
 * data and the TS scores of query 0 to `dataDir` for numpy_ref.py.
 *
 *   node --import tsx tools/bench/case.ts '<json CaseArgs>'
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { freemem, loadavg } from 'node:os';
import { join } from 'node:path';
import { firstMomentScores, gaussianScores, mahalanobis } from '../../src/core/scoring/methods.ts';
import { packedSize } from '../../src/core/math/linalg.ts';
import type { FloatData, SearchIndex } from '../../src/core/index/indexFormat.ts';
import { roofline, timeCalls, type Roofline, type Timing } from './measure.ts';
import { benchIndex, halfToF32, makeGaussianExtras, makeHalfFactors, makeMeans, makeQueries } from './synth.ts';

export interface CaseArgs {
  sizes: number[];
  /** Distinct precision factors wanted (GD at larger N reads factor m % distinct). */
  distinct: number;
  dim: number;
  queries: number;
  dataDir: string;
  out: string;
  /** Peak-RSS budget for this process, bytes. */
  rssBudget: number;
  /** "engine/dtype" → reason: not timed at sizes that cycle the factor buffer (time budget). */
  skipAtCycles?: Record<string, string>;
}

/** gaussianScores: src/core's dispatch (a WASM SIMD kernel where src/core has one); mahalanobis-js: the JS loop. */
export type GdEngine = 'gaussianScores' | 'mahalanobis-js';

export interface GdResult {
  engine: GdEngine;
  dtype: 'f16' | 'f32';
  /** Distinct factors in the buffer (model m reads factor m % distinct). */
  distinct: number;
  timing: Timing;
  bytesPerQuery: number;
  /** Rooflines over the factor buffer this kernel streams. */
  roof: Roofline;
}


export interface SizeResult {
  n: number;
  firstMoment: { timing: Timing; bytesPerQuery: number; roof: Roofline };
  /** 1-minute load average before and after this size (other processes share the 2 cores). */
  load: [number, number];
  gd: GdResult[];
  skipped: string[];
}

export interface CaseResult {
  dim: number;
  plan: string[];
  sizes: SizeResult[];
  peakRssBytes: number;
  genMs: number;
}

const GB = 1e9;

function log(msg: string) {
  process.stderr.write(`  [case] ${msg}\n`);
}

function writeArray(path: string, a: ArrayBufferView) {
  const fd = openSync(path, 'w');
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let o = 0; o < u8.length; o += 256 << 20) writeSync(fd, u8, o, Math.min(256 << 20, u8.length - o));
  closeSync(fd);
}

let peakRss = 0;
function noteRss() {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

/** Largest count ≤ want that divides want (so cycling is exact) and whose bytes fit. */
function fitCount(want: number, bytesPer: number, budget: number): number {
  for (let c = want; c >= 1; c--) if (want % c === 0 && c * bytesPer <= budget) return c;
  return 0;
}

function main() {
  const args = JSON.parse(process.argv[2]) as CaseArgs;
  const { dim: d, sizes, dataDir } = args;
  const P = packedSize(d);
  const nMax = Math.max(...sizes);
  const plan: string[] = [];
  const t0 = performance.now();

  const qs = makeQueries(args.queries, d);
  const { means, norms } = makeMeans(nMax, d);
  noteRss();

  // Memory plan: fp16 factors first, then their f32 copy, inside both the RSS budget and what
  // the OS has free (keeping 2 GB for everything else on the machine).
  const avail = () => Math.min(args.rssBudget - process.memoryUsage().rss, freemem() - 2 * GB);
  // ×2 for fp16: gaussianScores may keep a copy of the factors in WASM memory.
  const perModel16 = 2 * (P * 2 + d * 4) + 8;
  const n16 = fitCount(args.distinct, perModel16, avail());
  if (n16 < args.distinct) plan.push(`fp16 factors: only ${n16} of ${args.distinct} distinct fit in memory`);
  const factors16 = makeHalfFactors(n16, d);
  const extras = makeGaussianExtras(n16, d);
  noteRss();
  // f32 factors (+ a WASM copy if they fit in 4 GiB of wasm32 memory), after the fp16 WASM copy
  // that gaussianScores will make later.
  const wasmCopy16 = n16 * (P * 2 + d * 4);
  const room32 = avail() - wasmCopy16;
  let n32 = 0;
  for (let c = n16; c >= 1 && !n32; c--) {
    const bytes = c * P * 4;
    if (n16 % c === 0 && (bytes < 4 * 2 ** 30 ? 2 * bytes : bytes) <= room32) n32 = c;
  }
  if (n32 < n16) plan.push(`f32 factors: ${n32 ? `only ${n32}` : 'none'} of ${n16} distinct fit in memory (${((n16 * P * 4) / GB).toFixed(1)} GB needed)`);
  const factors32 = n32 ? halfToF32(factors16.subarray(0, n32 * P)) : undefined;
  noteRss();
  const genMs = performance.now() - t0;
  plan.push(
    `data: means ${nMax}×${d} f32 (${((nMax * d * 4) / GB).toFixed(2)} GB), fp16 factors ${n16} distinct (${((n16 * P * 2) / GB).toFixed(2)} GB)` +
      (n32 ? `, f32 factors ${n32} distinct (${((n32 * P * 4) / GB).toFixed(2)} GB)` : '') +
      `, generated in ${(genMs / 1000).toFixed(1)} s`,
  );
  log(plan[plan.length - 1]);

  const indexOf = (count: number, precision: FloatData): SearchIndex => benchIndex({ means, norms, extras }, d, count, precision);

  // One SearchIndex per (dtype, distinct), shared by every size: src/core may cache per-index state
  // (a WASM copy of the factors) keyed on it, and that copy must be made once, not per size.
  const indexCache = new Map<string, SearchIndex>();
  const indexFor = (dtype: 'f16' | 'f32', distinct: number): SearchIndex => {
    const key = `${dtype}/${distinct}`;
    let ix = indexCache.get(key);
    if (!ix) {
      const precision: FloatData =
        dtype === 'f16' ? { dtype, data: factors16.subarray(0, distinct * P) } : { dtype, data: factors32!.subarray(0, distinct * P) };
      ix = indexOf(distinct, precision);
      indexCache.set(key, ix);
    }
    return ix;
  };
  /** dtype → whether gaussianScores ran at the JS loop's speed (no faster kernel behind it). */
  const sameAsJs = new Map<string, boolean>();

  const results: SizeResult[] = [];
  for (const n of sizes) {
    const skipped: string[] = [];
    const meansN = means.subarray(0, n * d);
    const normsN = norms.subarray(0, n);
    const load0 = loadavg()[0];
    log(`N=${n}: rooflines over the means…`);
    const fmRoof = roofline(meansN, 5);
    log(`N=${n}: 1st moment…`);
    const fm = timeCalls((k) => firstMomentScores(meansN, normsN, d, qs[k % qs.length]), {
      warmup: 5,
      reps: 41,
      budgetMs: 4000,
    });
    writeArray(join(dataDir, `ts_fm_${n}.f32`), firstMomentScores(meansN, normsN, d, qs[0]));

    const gd: GdResult[] = [];
    const variants: { dtype: 'f16' | 'f32'; distinct: number }[] = [{ dtype: 'f16', distinct: Math.min(n, n16) }];
    if (factors32) variants.push({ dtype: 'f32', distinct: Math.min(n, n32) });
    else skipped.push('GD f32: n/a (memory)');
    for (const v of variants) {
      const distinct = v.distinct;
      if (n % distinct !== 0) {
        skipped.push(`GD ${v.dtype}: ${n} is not a multiple of ${distinct} distinct factors`);
        continue;
      }
      const cycles = n / distinct;
      const index = indexFor(v.dtype, distinct);
      const precision = index.gaussian!.precision;
      const bias = index.gaussian!.bias;
      const out = new Float32Array(n);
      const outMaha = new Float64Array(n);
      // N > distinct: the same call over the distinct buffer, `cycles` times (model m reads factor m % distinct).
      const engines: { engine: GdEngine; call: (q: Float32Array) => unknown }[] = [
        {
          engine: 'gaussianScores',
          call: (q) => {
            for (let c = 0; c < cycles; c++) out.set(gaussianScores(index, q), c * distinct);
            return out;
          },
        },
        {
          engine: 'mahalanobis-js',
          call: (q) => {
            for (let c = 0; c < cycles; c++) outMaha.set(mahalanobis(precision, bias, d, distinct, q), c * distinct);
            return outMaha;
          },
        },
      ];
      const roof = roofline(precision.data, 3);
      for (const e of engines) {
        const key = `${e.engine}/${v.dtype}`;
        const skip = args.skipAtCycles && cycles > 1 ? args.skipAtCycles[key] : undefined;
        if (skip) {
          skipped.push(`GD ${key} at N=${n}: not run (${skip})`);
          continue;
        }
        if (cycles > 1 && e.engine === 'gaussianScores' && sameAsJs.get(v.dtype)) {
          skipped.push(`GD ${key} at N=${n}: not run — at N=${sizes[0]} it ran at the JS loop's speed (the JS fallback), see mahalanobis-js`);
          continue;
        }
        log(`N=${n}: GD ${key} (${distinct} distinct × ${cycles})…`);
        const big = n * P >= 1e9;
        // Warm-up ≥ 1 where the index is new: gaussianScores may copy the factors into a WASM kernel on first use.
        const timing = timeCalls((k) => e.call(qs[k % qs.length]), {
          warmup: big ? (cycles > 1 ? 0 : 1) : n >= 5000 ? 1 : 2,
          reps: big ? 3 : 9,
          budgetMs: big ? 0 : 12_000,
          minReps: 3,
        });
        gd.push({
          engine: e.engine,
          dtype: v.dtype,
          distinct,
          timing,
          bytesPerQuery: n * (P * (v.dtype === 'f16' ? 2 : 4) + d * 4),
          roof,
        });
        noteRss();
      }
      const js = gd.find((g) => g.engine === 'mahalanobis-js' && g.dtype === v.dtype);
      const gs = gd.find((g) => g.engine === 'gaussianScores' && g.dtype === v.dtype);
      if (js && gs && cycles === 1) sameAsJs.set(v.dtype, gs.timing.medianMs > 0.7 * js.timing.medianMs);
      if (cycles === 1) {
        writeArray(join(dataDir, `ts_maha_${v.dtype}_${n}.f64`), mahalanobis(precision, bias, d, distinct, qs[0]));
        // gaussianScores(q0) + ½ logDet + c = −½ maha: the dispatched kernel's maha, to check it too.
        const g = gaussianScores(index, qs[0]);
        const c = 0.5 * d * Math.log(2 * Math.PI);
        const m2 = new Float64Array(distinct);
        for (let m = 0; m < distinct; m++) m2[m] = -2 * (g[m] + 0.5 * index.gaussian!.logDet[m] + c);
        writeArray(join(dataDir, `ts_gs_${v.dtype}_${n}.f64`), m2);
      }
    }
    results.push({
      n,
      firstMoment: { timing: fm, bytesPerQuery: n * d * 4, roof: fmRoof },
      load: [load0, loadavg()[0]],
      gd,
      skipped,
    });
  }

  // Data for numpy_ref.py (written after the timings so disk I/O cannot disturb them).
  log('writing the data for numpy…');
  const qAll = new Float32Array(qs.length * d);
  qs.forEach((q, k) => qAll.set(q, k * d));
  writeArray(join(dataDir, 'queries.f32'), qAll);
  writeArray(join(dataDir, 'means.f32'), means);
  writeArray(join(dataDir, 'norms.f32'), norms);
  writeArray(join(dataDir, 'factors.f16'), factors16);
  writeArray(join(dataDir, 'bias.f32'), extras.bias);
  writeArray(join(dataDir, 'logdet.f32'), extras.logDet);
  writeFileSync(
    join(dataDir, 'meta.json'),
    JSON.stringify({ dim: d, sizes, queries: qs.length, distinct: n16, distinctF32: n32, meansCount: nMax }),
  );
  noteRss();
  const result: CaseResult = { dim: d, plan, sizes: results, peakRssBytes: peakRss, genMs };
  writeFileSync(args.out, JSON.stringify(result, null, 1));
}

main();
