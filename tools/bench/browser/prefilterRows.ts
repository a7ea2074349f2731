/**
 * The rows of `tools/bench/prefilter-kernels.ts`: the tiered index's prefilters and rerank in JS
 * (prefilter.ts, lowRankGaussian.ts) and in the WASM SIMD kernels (tieredKernels.ts), on synthetic
 * heads, with a memory-bandwidth roofline measured over the same bytes. DOM- and Node-free: the
 * Node CLI and the browser worker (prefilter.worker.ts) run the same code.
 */
import { gaussianProxyScores, int8CosineScores, signAgreementScores, type Int8Means, type SignCodes } from '../../../src/core/scoring/prefilter.ts';
import { lowRankLogDensity, type LowRankRecord } from '../../../src/core/index/lowRankGaussian.ts';
import { lowRankScoresKernel, prefilterKernel } from '../../../src/core/scoring/tieredKernels.ts';
import { mulberry32 } from '../../../src/core/math/prng.ts';
import { roofline, timeCalls, type Roofline, type Timing } from '../measure.ts';
import { makeQueries } from '../synth.ts';

export interface KernelRow {
  kernel: 'sign' | 'proxy' | 'cosine' | 'rerank';
  engine: 'js' | 'wasm';
  n: number;
  dim: number;
  /** Bytes the pass streams per query (codes/bits, plus per-model floats; rerank: the bases). */
  bytesPerQuery: number;
  timing: Timing;
  /** Bytes / the WASM SIMD streaming roofline of this run, ms. */
  roofMs: number;
  note?: string;
}

export interface PrefilterBenchResult {
  dim: number;
  rows: KernelRow[];
  /** One-time copy of the head's arrays into kernel memory, ms. */
  setupMs: { sign: number; int8: number };
  roof: { sign: Roofline; int8: Roofline };
  /** Largest |WASM − JS| / |JS| seen in the timed queries (sign: exact integers, so 0). */
  maxRelDiff: { sign: number; proxy: number; cosine: number; rerank: number };
  fallbacks: string[];
}

export interface PrefilterBenchOptions {
  signN: number;
  int8N: number;
  dim: number;
  /** Rerank: candidates and their rank. */
  rerankK: number;
  rerankRank: number;
  progress?: (text: string) => void;
}

/** Random sign codes: the prefilter's cost does not depend on the bits. */
function randomSigns(count: number, dim: number, seed: number): SignCodes {
  const words = Math.ceil(dim / 32);
  const r = mulberry32(seed);
  const bits = new Uint32Array(count * words);
  for (let i = 0; i < bits.length; i++) bits[i] = (r() * 2 ** 32) >>> 0;
  if (dim % 32) for (let m = 0; m < count; m++) bits[m * words + words - 1]! &= 2 ** (dim % 32) - 1;
  return { dim, count, words, bits };
}

/** Random int8 means with norms ≈ 0.5…0.9 and proxy terms. */
function randomInt8(count: number, dim: number, seed: number): { m: Int8Means; precision: Float32Array; logDet: Float32Array } {
  const r = mulberry32(seed);
  const codes = new Int8Array(count * dim);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.round((r() * 2 - 1) * 127);
  const scale = Float32Array.from({ length: count }, () => (0.5 + 0.4 * r()) / (127 * Math.sqrt(dim / 3)));
  const norms = Float32Array.from({ length: count }, () => 0.5 + 0.4 * r());
  const precision = Float32Array.from({ length: count }, () => 10 + 90 * r());
  const logDet = Float32Array.from({ length: count }, () => -3000 - 500 * r());
  return { m: { dim, count, codes, scale, norms }, precision, logDet };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) worst = Math.max(worst, d / Math.max(Math.abs(b[i]!), 1e-30));
  }
  return worst;
}

export function runPrefilterBench(o: PrefilterBenchOptions): PrefilterBenchResult {
  const progress = o.progress ?? (() => {});
  const { dim } = o;
  const qs = makeQueries(7, dim);
  const rows: KernelRow[] = [];
  const maxRelDiff = { sign: 0, proxy: 0, cosine: 0, rerank: 0 };

  // Sign codes: N = signN (1M at d = 512: 64 MB).
  progress(`sign codes: N=${o.signN}, d=${dim}`);
  const signs = randomSigns(o.signN, dim, 1);
  let t0 = performance.now();
  const signKernel = prefilterKernel({ signs }); // a 1M head ranks from its sign codes alone
  const signSetup = performance.now() - t0;
  progress(`  roofline over ${(signs.bits.byteLength / 1e6).toFixed(0)} MB`);
  const signRoof = roofline(signs.bits, 3);
  const signBytes = signs.bits.byteLength;
  const roofMsOf = (bytes: number, r: Roofline) => bytes / (Math.max(r.wasm ?? 0, r.js) * 1e6);
  const out = new Float32Array(o.signN);
  const out2 = new Float32Array(o.signN);
  progress('  JS signAgreementScores');
  const signJs = timeCalls((k) => signAgreementScores(signs, qs[k % qs.length]!, out), { warmup: 2, reps: 9, budgetMs: 2500 });
  progress('  WASM signScores');
  const signWasm = timeCalls((k) => signKernel.signScores(qs[k % qs.length]!, out2), { warmup: 2, reps: 15, budgetMs: 2000 });
  for (const q of qs.slice(0, 2)) maxRelDiff.sign = Math.max(maxRelDiff.sign, maxRel(signKernel.signScores(q, out2), signAgreementScores(signs, q, out)));
  rows.push({ kernel: 'sign', engine: 'js', n: o.signN, dim, bytesPerQuery: signBytes, timing: signJs, roofMs: roofMsOf(signBytes, signRoof) });
  rows.push({ kernel: 'sign', engine: 'wasm', n: o.signN, dim, bytesPerQuery: signBytes, timing: signWasm, roofMs: roofMsOf(signBytes, signRoof) });
  const fallbacks = [...signKernel.fallbacks];

  // Int8 means: N = int8N (100K at d = 512: 51 MB).
  progress(`int8 means: N=${o.int8N}, d=${dim}`);
  const { m, precision, logDet } = randomInt8(o.int8N, dim, 3);
  t0 = performance.now();
  const k8 = prefilterKernel({ prefilter: m, proxy: { precision, logDet } });
  const int8Setup = performance.now() - t0;
  fallbacks.push(...k8.fallbacks);
  progress(`  roofline over ${(m.codes.byteLength / 1e6).toFixed(0)} MB`);
  const int8Roof = roofline(m.codes, 3);
  const int8Bytes = m.codes.byteLength + o.int8N * 16; // codes + scale, norm, precision, logDet
  const a = new Float32Array(o.int8N);
  const b = new Float32Array(o.int8N);
  for (const [kernel, js, wasm] of [
    ['proxy', (q: Float32Array) => gaussianProxyScores(m, precision, logDet, q, a), (q: Float32Array) => k8.proxyScores(q, b)],
    ['cosine', (q: Float32Array) => int8CosineScores(m, q, a), (q: Float32Array) => k8.cosineScores(q, b)],
  ] as const) {
    progress(`  JS ${kernel}`);
    const tj = timeCalls((k) => js(qs[k % qs.length]!), { warmup: 2, reps: 7, budgetMs: 2500 });
    progress(`  WASM ${kernel}`);
    const tw = timeCalls((k) => wasm(qs[k % qs.length]!), { warmup: 2, reps: 15, budgetMs: 2000 });
    for (const q of qs.slice(0, 2)) maxRelDiff[kernel] = Math.max(maxRelDiff[kernel], maxRel(wasm(q), js(q)));
    rows.push({ kernel, engine: 'js', n: o.int8N, dim, bytesPerQuery: int8Bytes, timing: tj, roofMs: roofMsOf(int8Bytes, int8Roof) });
    rows.push({ kernel, engine: 'wasm', n: o.int8N, dim, bytesPerQuery: int8Bytes, timing: tw, roofMs: roofMsOf(int8Bytes, int8Roof), note: k8.engines.int8 === 'js' ? 'int8 codes fell back to JS' : undefined });
  }

  // Rerank: K candidates' low-rank records (float32 bases, as the index stores them).
  progress(`rerank: K=${o.rerankK}, r=${o.rerankRank}, d=${dim}`);
  const r = mulberry32(4);
  const records: LowRankRecord[] = Array.from({ length: o.rerankK }, () => ({
    dim,
    rank: o.rerankRank,
    mean: Float32Array.from({ length: dim }, () => (r() - 0.5) * 0.1),
    basis: Float32Array.from({ length: o.rerankRank * dim }, () => (r() - 0.5) * 2),
    isotropic: 0.01,
    logDet: -3000,
  }));
  const rerankBytes = o.rerankK * (o.rerankRank + 1) * dim * 4;
  const dens = new Float64Array(o.rerankK);
  const dens2 = new Float64Array(o.rerankK);
  const jsRerank = (q: Float32Array) => {
    for (let i = 0; i < records.length; i++) dens[i] = lowRankLogDensity(records[i]!, q);
    return dens;
  };
  progress('  JS lowRankLogDensity');
  const rj = timeCalls((k) => jsRerank(qs[k % qs.length]!), { warmup: 2, reps: 9, budgetMs: 2000 });
  progress('  WASM lowRankScoresKernel');
  const rw = timeCalls((k) => lowRankScoresKernel(records, qs[k % qs.length]!, dens2), { warmup: 2, reps: 15, budgetMs: 2000 });
  for (const q of qs.slice(0, 2)) maxRelDiff.rerank = Math.max(maxRelDiff.rerank, maxRel(lowRankScoresKernel(records, q, dens2), jsRerank(q)));
  const rerankRoofMs = roofMsOf(rerankBytes, int8Roof);
  rows.push({ kernel: 'rerank', engine: 'js', n: o.rerankK, dim, bytesPerQuery: rerankBytes, timing: rj, roofMs: rerankRoofMs, note: `rank ${o.rerankRank}` });
  rows.push({ kernel: 'rerank', engine: 'wasm', n: o.rerankK, dim, bytesPerQuery: rerankBytes, timing: rw, roofMs: rerankRoofMs, note: `rank ${o.rerankRank}; copies each basis into kernel memory per query` });

  return { dim, rows, setupMs: { sign: signSetup, int8: int8Setup }, roof: { sign: signRoof, int8: int8Roof }, maxRelDiff, fallbacks };
}
