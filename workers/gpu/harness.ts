/**
 * The check and benchmark driver of the WebGPU kernels (docs/webgpu-kernels.md). Not part of the
 * app (nothing imports it): test/e2e/gpu-kernels.spec.ts and tools/bench/gpu-scale.ts bundle it with
 * esbuild as an IIFE (global `gpuKernels`) and run it in a page on http://127.0.0.1 (a secure
 * context, which WebGPU needs). It makes its data in the page and returns only summaries, so
 * megabytes of scores never cross the Playwright bridge.
 *
 * Every GPU result is compared with the CPU function of src/core that the worker runs:
 * int8CosineScores, gaussianProxyScores, signAgreementScores, lowRankLogDensity.
 */
import { createGpuTieredScorer, probeGpuTieredScorer, GpuScorerError, shouldUseGpu, type GpuTieredScorer, type GpuUnavailable } from './tieredScorer.ts';
import { gaussianProxyScores, int8CosineScores, quantiseMeansInt8, signAgreementScores, signCodes, type Int8Means, type SignCodes } from '../../src/core/scoring/prefilter.ts';
import { lowRankGaussian, lowRankLogDensity, structuredGaussian, type LowRankRecord } from '../../src/core/index/lowRankGaussian.ts';
import { decodeRecord, encodeRecord, openBlock, type TieredRecord } from '../../src/core/index/tieredRecords.ts';
import { readTieredHead } from '../../src/core/index/tieredHead.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { topK } from '../../src/core/scoring/topK.ts';

export { shouldUseGpu };

const LOG_2PI = Math.log(2 * Math.PI);
const TOLERANCE = 1e-4;

/**
 * How far the GPU's scores are from the CPU's. `maxRel` = max |g − c| / |c|; `maxScaled` = max
 * |g − c| / mag, where mag is the sum of the magnitudes of the terms the score adds up (a float
 * sum's rounding is bounded relative to that, not to a result that cancels towards 0); the check is
 * maxScaled ≤ 1e-4. `top10Same`: the ten best, in order, are the same models.
 */
export interface Comparison {
  n: number;
  maxRel: number;
  maxScaled: number;
  maxAbs: number;
  worst: number;
  top10Same: boolean;
  top10Cpu: number[];
  top10Gpu: number[];
  ok: boolean;
}

function gauss(r: () => number): number {
  const u = 1 - r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function compare(cpu: ArrayLike<number>, gpu: ArrayLike<number>, mag: ArrayLike<number>, exact = false): Comparison {
  let maxRel = 0;
  let maxScaled = 0;
  let maxAbs = 0;
  let worst = -1;
  let finite = cpu.length === gpu.length;
  for (let i = 0; i < cpu.length; i++) {
    const c = cpu[i]!;
    const g = gpu[i]!;
    if (!Number.isFinite(g)) finite = false;
    const d = Math.abs(g - c);
    if (d > maxAbs) maxAbs = d;
    if (c !== 0) maxRel = Math.max(maxRel, d / Math.abs(c));
    const s = d / Math.max(mag[i]!, Number.MIN_VALUE);
    if (s > maxScaled) {
      maxScaled = s;
      worst = i;
    }
  }
  const k = Math.min(10, cpu.length);
  const top10Cpu = topK(Float32Array.from(cpu), k).map((r) => r.index);
  const top10Gpu = topK(Float32Array.from(gpu), k).map((r) => r.index);
  const top10Same = top10Cpu.every((x, i) => x === top10Gpu[i]);
  const ok = finite && top10Same && (exact ? maxAbs === 0 : maxScaled <= TOLERANCE);
  return { n: cpu.length, maxRel, maxScaled, maxAbs, worst, top10Same, top10Cpu, top10Gpu, ok };
}

/** Per-model magnitudes of the prefilters' terms (see Comparison). */
function prefilterMagnitudes(m: Int8Means, precision: Float32Array, logDet: Float32Array, query: Float32Array): { cosine: Float64Array; proxy: Float64Array } {
  const { dim, count, codes, scale, norms } = m;
  let qq = 0;
  for (const v of query) qq += v * v;
  const cosine = new Float64Array(count);
  const proxy = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let abs = 0;
    for (let j = 0; j < dim; j++) abs += Math.abs(codes[i * dim + j]! * query[j]!);
    const dot = abs * scale[i]!;
    cosine[i] = norms[i]! > 0 ? dot / norms[i]! : 0;
    proxy[i] = 0.5 * Math.abs(precision[i]!) * (qq + 2 * dot + norms[i]! ** 2) + 0.5 * Math.abs(logDet[i]!);
  }
  return { cosine, proxy };
}

/** |terms| of lowRankLogDensity: ½(‖δ‖²/s + ‖Bδ‖²) + ½|log|Σ'|| + (d/2) log 2π. */
export function lowRankMagnitude(g: LowRankRecord, query: ArrayLike<number>): number {
  const { dim, mean, basis, rank } = g;
  const delta = new Float64Array(dim);
  let dd = 0;
  for (let j = 0; j < dim; j++) {
    delta[j] = query[j]! - mean[j]!;
    dd += delta[j]! ** 2;
  }
  let proj = 0;
  for (let k = 0; k < rank; k++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += basis[k * dim + j]! * delta[j]!;
    proj += s * s;
  }
  return 0.5 * (dd / g.isotropic + proj) + 0.5 * Math.abs(g.logDet) + 0.5 * dim * LOG_2PI;
}

/** Random int8 means of `count` models (d-dimensional, norms 0.5–0.9 like CLIP means) and a plausible proxy. */
export function randomPrefilter(seed: number, count: number, dim: number): { means: Float32Array; prefilter: Int8Means; precision: Float32Array; logDet: Float32Array; signs: SignCodes } {
  const r = mulberry32(seed);
  const means = new Float32Array(count * dim);
  for (let m = 0; m < count; m++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const v = gauss(r);
      means[m * dim + j] = v;
      ss += v * v;
    }
    // A few exact zero means: the cosine's 0 branch.
    const f = m % 997 === 5 ? 0 : (0.5 + 0.4 * r()) / Math.sqrt(ss);
    for (let j = 0; j < dim; j++) means[m * dim + j]! *= f;
  }
  const precision = Float32Array.from({ length: count }, () => 20 + 100 * r());
  const logDet = Float32Array.from({ length: count }, () => -2500 + 1000 * r());
  return { means, prefilter: quantiseMeansInt8(means, dim), precision, logDet, signs: signCodes(means, dim) };
}

function orthonormalRows(r: () => number, rank: number, dim: number): Float64Array {
  const rows = new Float64Array(rank * dim);
  for (let k = 0; k < rank; k++) {
    const v = rows.subarray(k * dim, (k + 1) * dim);
    for (let j = 0; j < dim; j++) v[j] = gauss(r);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < k; p++) {
        const u = rows.subarray(p * dim, (p + 1) * dim);
        let d = 0;
        for (let j = 0; j < dim; j++) d += u[j]! * v[j]!;
        for (let j = 0; j < dim; j++) v[j]! -= d * u[j]!;
      }
    }
    let n = 0;
    for (let j = 0; j < dim; j++) n += v[j]! ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < dim; j++) v[j]! /= n;
  }
  return rows;
}

export interface RecordSetOptions {
  seed: number;
  dim: number;
  k: number;
  /** Largest rank (≤ 99 for exact records from ≤ 100 samples). */
  maxRank?: number;
  /** Every record at maxRank (the benchmark's worst case) instead of a mix. */
  fullRank?: boolean;
}

/**
 * K records as a tiered index stores them, encoded and decoded (so bases are f16-rounded and
 * logDet follows the rounded rows): 2 of rank 0, then alternately exact low-rank Gaussians of
 * 2…100 samples (rank up to 99) and PPCA records (rank up to maxRank); every 5th basis kept f32.
 * Means scatter around a centre; the query is drawn near it.
 */
export function randomRecords(o: RecordSetOptions): { records: TieredRecord[]; queries: Float32Array[] } {
  const { dim, k } = o;
  const maxRank = o.maxRank ?? 99;
  const r = mulberry32(o.seed);
  const centre = Float64Array.from({ length: dim }, () => gauss(r) / Math.sqrt(dim) * 0.7);
  const eps = 0.01;
  const records: TieredRecord[] = [];
  for (let i = 0; i < k; i++) {
    const spread = 0.05 + 0.25 * r();
    const mean = Float64Array.from(centre, (c) => c + (spread * gauss(r)) / Math.sqrt(dim));
    let g: LowRankRecord & { exact: boolean };
    const rank = o.fullRank ? maxRank : i < 2 ? 0 : i === 2 || i === 3 ? maxRank : 1 + Math.floor(r() * maxRank);
    if (rank === 0) {
      g = structuredGaussian(mean, new Float64Array(0), [], 0.001 * i, eps);
    } else if (i % 2 === 0 && !o.fullRank && rank <= 99) {
      // Exact: rank + 1 samples around the mean.
      const n = rank + 1;
      const scale = 0.3 + r();
      const samples = new Float64Array(n * dim);
      for (let s = 0; s < n; s++) for (let j = 0; j < dim; j++) samples[s * dim + j] = mean[j]! + (scale * gauss(r)) / Math.sqrt(dim);
      g = lowRankGaussian(samples, n, dim, eps);
    } else {
      // PPCA: a CLIP-like 1/i spectrum over `rank` directions plus an isotropic tail σ².
      const vectors = orthonormalRows(r, rank, dim);
      const total = 0.2 + 0.4 * r();
      const lambdas = Array.from({ length: rank }, (_, x) => (0.8 * total) / (x + 1) / Math.log(rank + 2));
      g = { ...structuredGaussian(mean, vectors, lambdas, (0.2 * total) / dim, eps), exact: false };
    }
    records.push(decodeRecord(encodeRecord(g, i % 5 === 4 ? 'f32' : 'f16'), dim, `record ${i}`));
  }
  const queries: Float32Array[] = [];
  for (let q = 0; q < 3; q++) {
    // Near the centre, near one record, and far (a text-like query).
    const base = q === 1 ? records[5 % k]!.mean : centre;
    const far = q === 2 ? 3 : 1;
    queries.push(Float32Array.from(base, (c) => far * c + (0.1 * far * gauss(r)) / Math.sqrt(dim)));
  }
  return { records, queries };
}

export interface RandomCheckOptions {
  seed?: number;
  count?: number;
  dim?: number;
  k?: number;
  force?: boolean;
  /** Also run with this binding limit (bytes), so the prefilter and the records are chunked. */
  chunkBytes?: number;
}

export interface CheckReport {
  available: boolean;
  reason?: GpuUnavailable;
  adapter?: unknown;
  decision?: unknown;
  results: Record<string, Comparison>;
  timings: Record<string, number>;
  notes: string[];
  ok: boolean;
}

export async function probe(force = false): Promise<{ available: boolean; reason?: GpuUnavailable; adapter?: unknown; decision?: unknown; hasGpu: boolean }> {
  const hasGpu = !!(globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  const r = await probeGpuTieredScorer({ force });
  if ('reason' in r) return { available: false, reason: r.reason, hasGpu };
  const out = { available: true, adapter: r.scorer.adapter, decision: r.scorer.decision, hasGpu };
  r.scorer.destroy();
  return out;
}

/** The random-data check: prefilters over `count` models and the rerank of `k` records, GPU vs CPU. */
export async function checkRandom(o: RandomCheckOptions = {}): Promise<CheckReport> {
  const seed = o.seed ?? 15;
  const count = o.count ?? 2000;
  const dim = o.dim ?? 512;
  const k = o.k ?? 50;
  const results: Record<string, Comparison> = {};
  const timings: Record<string, number> = {};
  const notes: string[] = [];
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t);
    t = now;
  };
  let reason: GpuUnavailable | undefined;
  const scorer = await createGpuTieredScorer({ force: o.force, onUnavailable: (w) => (reason = w) });
  lap('create');
  if (!scorer) return { available: false, reason, results, timings, notes, ok: false };
  try {
    const data = randomPrefilter(seed, count, dim);
    const { records, queries } = randomRecords({ seed: seed + 1, dim, k });
    lap('data');
    await runPrefilterChecks(scorer, data, queries, results, '');
    lap('prefilter');
    await runRankChecks(scorer, records, queries, results, '');
    lap('rerank');
    if (o.chunkBytes) {
      const small = await createGpuTieredScorer({ force: o.force, maxBindingBytes: o.chunkBytes });
      if (!small) throw new Error('the second scorer was refused');
      try {
        await runPrefilterChecks(small, data, queries.slice(0, 1), results, 'chunked ');
        await runRankChecks(small, records, queries.slice(0, 1), results, 'chunked ');
      } finally {
        small.destroy();
      }
      lap('chunked');
    }
    // Device loss: every later call rejects with a GpuScorerError marked lost (the caller's cue for the CPU).
    scorer.loseDeviceForTesting();
    try {
      await scorer.proxyScores(queries[0]!);
      notes.push('device loss: proxyScores resolved after the device was destroyed');
    } catch (err) {
      notes.push(err instanceof GpuScorerError && err.lost ? `device loss: ${err.message}` : `device loss: unexpected ${String(err)}`);
    }
    lap('loss');
  } finally {
    scorer.destroy();
  }
  const lossOk = notes.some((n) => n.startsWith('device loss: ') && /lost/.test(n) && !/unexpected|resolved/.test(n));
  return { available: true, adapter: scorer.adapter, decision: scorer.decision, results, timings, notes, ok: lossOk && Object.values(results).every((r) => r.ok) };
}

async function runPrefilterChecks(scorer: GpuTieredScorer, data: ReturnType<typeof randomPrefilter>, queries: Float32Array[], results: Record<string, Comparison>, prefix: string): Promise<void> {
  const { prefilter, precision, logDet, signs } = data;
  await scorer.setPrefilter(prefilter, { precision, logDet });
  for (const [qi, q] of queries.entries()) {
    const mag = prefilterMagnitudes(prefilter, precision, logDet, q);
    results[`${prefix}cosine q${qi}`] = compare(int8CosineScores(prefilter, q), await scorer.cosineScores(q), mag.cosine);
    results[`${prefix}proxy q${qi}`] = compare(gaussianProxyScores(prefilter, precision, logDet, q), await scorer.proxyScores(q), mag.proxy);
    results[`${prefix}sign q${qi}`] = compare(signAgreementScores(signs, q), await scorer.signScores(signs, q), new Float64Array(signs.count).fill(1), true);
  }
}

async function runRankChecks(scorer: GpuTieredScorer, records: readonly LowRankRecord[], queries: Float32Array[], results: Record<string, Comparison>, prefix: string): Promise<void> {
  for (const [qi, q] of queries.entries()) {
    const cpu = records.map((g) => lowRankLogDensity(g, q));
    const mag = records.map((g) => lowRankMagnitude(g, q));
    // The second and later queries reuse the uploaded records (same objects).
    results[`${prefix}lowRank q${qi}`] = compare(cpu, await scorer.lowRankScores(records, q), mag);
  }
}

export interface TieredCheckOptions {
  headUrl: string;
  recordsUrl: string;
  k?: number;
  queries: number[][];
  force?: boolean;
}

/**
 * A real tiered head and records file (tools/scale/tiered.ts): the prefilters over the head, then
 * the top-K candidates' records decoded from their blocks (SHA-256 checked) and reranked, GPU vs CPU.
 */
export async function checkTiered(o: TieredCheckOptions): Promise<CheckReport> {
  const results: Record<string, Comparison> = {};
  const timings: Record<string, number> = {};
  const notes: string[] = [];
  let reason: GpuUnavailable | undefined;
  const scorer = await createGpuTieredScorer({ force: o.force, onUnavailable: (w) => (reason = w) });
  if (!scorer) return { available: false, reason, results, timings, notes, ok: false };
  try {
    const read = readTieredHead(new Uint8Array(await (await fetch(o.headUrl)).arrayBuffer()));
    const { prefilter, proxy } = read;
    if (!prefilter || !proxy) throw new Error('The GPU harness compares the int8 prefilter: give it a head with int8 means, not a sign-coded one.');
    const head = { ...read, prefilter, proxy };
    const recordsFile = new Uint8Array(await (await fetch(o.recordsUrl)).arrayBuffer());
    await scorer.setPrefilter(head.prefilter, head.proxy);
    const k = Math.min(o.k ?? 50, head.count);
    for (const [qi, qv] of o.queries.entries()) {
      const q = Float32Array.from(qv);
      const mag = prefilterMagnitudes(head.prefilter, head.proxy.precision, head.proxy.logDet, q);
      const cpuProxy = gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, q);
      const gpuProxy = await scorer.proxyScores(q);
      results[`tiered proxy q${qi}`] = compare(cpuProxy, gpuProxy, mag.proxy);
      results[`tiered cosine q${qi}`] = compare(int8CosineScores(head.prefilter, q), await scorer.cosineScores(q), mag.cosine);
      if (head.signs) results[`tiered sign q${qi}`] = compare(signAgreementScores(head.signs, q), await scorer.signScores(head.signs, q), new Float64Array(head.count).fill(1), true);
      // Candidates from the GPU's prefilter (the same as the CPU's when the order check passes).
      const candidates = topK(gpuProxy, k).map((c) => c.index);
      const sameCandidates = topK(cpuProxy, k).every((c, i) => c.index === candidates[i]);
      if (!sameCandidates) notes.push(`q${qi}: the GPU's top-${k} candidates differ from the CPU's`);
      const blocks = new Map<number, Map<number, TieredRecord>>();
      for (const m of candidates) {
        const b = head.directory[m]!.block;
        if (!blocks.has(b)) {
          const e = head.blocks[b]!;
          blocks.set(b, await openBlock(recordsFile.subarray(e.offset, e.offset + e.bytes), e, head.directory, head.dim, b));
        }
      }
      const records = candidates.map((m) => blocks.get(head.directory[m]!.block)!.get(m)!);
      const cpu = records.map((g) => lowRankLogDensity(g, q));
      results[`tiered rerank q${qi}`] = compare(cpu, await scorer.lowRankScores(records, q), records.map((g) => lowRankMagnitude(g, q)));
      notes.push(`q${qi}: ranks of the ${k} candidates ${Math.min(...records.map((r) => r.rank))}–${Math.max(...records.map((r) => r.rank))}, ${records.filter((r) => r.kind === 2).length} PPCA`);
    }
  } finally {
    scorer.destroy();
  }
  return { available: true, adapter: scorer.adapter, decision: scorer.decision, results, timings, notes, ok: Object.values(results).every((r) => r.ok) };
}

// ---------------------------------------------------------------------------------------------
// Benchmark (tools/bench/gpu-scale.ts)

export interface BenchOptions {
  dim: number;
  sizes: number[];
  ks: number[];
  rank: number;
  reps: number;
  force: boolean;
}

export interface BenchRow {
  what: string;
  n: number;
  /** GPU: median ms a call (query upload, dispatch, read-back of every score). */
  gpuMs: number;
  /** GPU first call (pipeline warm-up, first read-back buffer). */
  gpuFirstMs: number;
  /** One-off upload (setPrefilter, or the records of the batch). */
  uploadMs: number;
  cpuMs: number;
  /** cpu / gpu: > 1 means the GPU is faster. */
  speedup: number;
  maxScaled: number;
  top10Same: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time<T>(f: () => Promise<T> | T): Promise<[number, T]> {
  const t = performance.now();
  const v = await f();
  return [performance.now() - t, v];
}

/** Random int8 codes fast enough for 1M × 512 (crypto random bytes; quantised means' statistics do not matter for timing). */
function randomInt8Means(count: number, dim: number, seed: number): { prefilter: Int8Means; precision: Float32Array; logDet: Float32Array } {
  const codes = new Int8Array(count * dim);
  for (let at = 0; at < codes.length; at += 65536) crypto.getRandomValues(codes.subarray(at, Math.min(codes.length, at + 65536)));
  const r = mulberry32(seed);
  const scale = Float32Array.from({ length: count }, () => (0.7 / Math.sqrt(dim) / 127) * (2 + r()));
  const norms = Float32Array.from({ length: count }, () => 0.5 + 0.4 * r());
  return {
    prefilter: { dim, count, codes, scale, norms },
    precision: Float32Array.from({ length: count }, () => 20 + 100 * r()),
    logDet: Float32Array.from({ length: count }, () => -2500 + 1000 * r()),
  };
}

export async function bench(o: BenchOptions, log: (s: string) => void = () => {}): Promise<{ adapter: unknown; decision: unknown; rows: BenchRow[] } | { error: string; reason?: GpuUnavailable }> {
  let reason: GpuUnavailable | undefined;
  const scorer = await createGpuTieredScorer({ force: o.force, onUnavailable: (w) => (reason = w) });
  if (!scorer) return { error: `no GPU scorer: ${reason?.kind}: ${reason?.detail}`, reason };
  const rows: BenchRow[] = [];
  try {
    const rq = mulberry32(7);
    const query = Float32Array.from({ length: o.dim }, () => gauss(rq) / Math.sqrt(o.dim));
    for (const n of o.sizes) {
      log(`prefilter over ${n} models: making data`);
      const d = randomInt8Means(n, o.dim, n);
      const [uploadMs] = await time(() => scorer.setPrefilter(d.prefilter, { precision: d.precision, logDet: d.logDet }));
      const [gpuFirstMs, first] = await time(() => scorer.proxyScores(query));
      const gpu: number[] = [];
      for (let i = 0; i < o.reps; i++) gpu.push((await time(() => scorer.proxyScores(query)))[0]);
      const cpu: number[] = [];
      let cpuScores: Float32Array = new Float32Array(n);
      for (let i = 0; i < Math.max(1, Math.min(o.reps, 5)); i++) cpu.push((await time(() => (cpuScores = gaussianProxyScores(d.prefilter, d.precision, d.logDet, query))))[0]);
      // Accuracy on a sample (the magnitudes cost a CPU pass of their own).
      const sample = Math.min(n, 20000);
      const sub: Int8Means = { dim: o.dim, count: sample, codes: d.prefilter.codes.subarray(0, sample * o.dim), scale: d.prefilter.scale.subarray(0, sample), norms: d.prefilter.norms.subarray(0, sample) };
      const mag = prefilterMagnitudes(sub, d.precision, d.logDet, query).proxy;
      const c = compare(cpuScores.subarray(0, sample), first.subarray(0, sample), mag);
      const full = compare(cpuScores, first, new Float64Array(n).fill(1));
      rows.push({ what: 'proxy prefilter', n, gpuMs: median(gpu), gpuFirstMs, uploadMs, cpuMs: median(cpu), speedup: median(cpu) / median(gpu), maxScaled: c.maxScaled, top10Same: full.top10Same });
      log(`proxy prefilter n=${n}: gpu ${median(gpu).toFixed(2)} ms, cpu ${median(cpu).toFixed(2)} ms`);
    }
    await scorer.setPrefilter({ dim: o.dim, count: 1, codes: new Int8Array(o.dim), scale: new Float32Array(1), norms: new Float32Array(1) }); // frees the big head
    for (const k of o.ks) {
      log(`rerank of ${k} records of rank ${o.rank}: making data`);
      const { records, queries } = randomRecords({ seed: k, dim: o.dim, k, maxRank: o.rank, fullRank: true });
      const q = queries[0]!;
      const [gpuFirstMs, first] = await time(() => scorer.lowRankScores(records, q)); // upload + first run
      const gpu: number[] = [];
      for (let i = 0; i < o.reps; i++) gpu.push((await time(() => scorer.lowRankScores(records, q)))[0]); // records resident
      const cold: number[] = [];
      for (let i = 0; i < Math.min(o.reps, 5); i++) {
        const copy = records.map((r) => ({ ...r })); // new objects: uploaded again
        cold.push((await time(() => scorer.lowRankScores(copy, q)))[0]);
      }
      const cpu: number[] = [];
      let cpuScores: number[] = [];
      for (let i = 0; i < Math.max(1, Math.min(o.reps, 5)); i++) cpu.push((await time(() => (cpuScores = records.map((g) => lowRankLogDensity(g, q)))))[0]);
      const c = compare(cpuScores, first, records.map((g) => lowRankMagnitude(g, q)));
      rows.push({ what: `rerank (records resident)`, n: k, gpuMs: median(gpu), gpuFirstMs, uploadMs: median(cold) - median(gpu), cpuMs: median(cpu), speedup: median(cpu) / median(gpu), maxScaled: c.maxScaled, top10Same: c.top10Same });
      rows.push({ what: `rerank (records uploaded)`, n: k, gpuMs: median(cold), gpuFirstMs, uploadMs: median(cold) - median(gpu), cpuMs: median(cpu), speedup: median(cpu) / median(cold), maxScaled: c.maxScaled, top10Same: c.top10Same });
      log(`rerank k=${k}: gpu ${median(gpu).toFixed(2)} ms resident, ${median(cold).toFixed(2)} ms with upload, cpu ${median(cpu).toFixed(2)} ms`);
    }
  } finally {
    scorer.destroy();
  }
  return { adapter: scorer.adapter, decision: scorer.decision, rows };
}
