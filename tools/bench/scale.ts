/**
 * `npm run bench:scale` — the two-stage query at scale (issue 15), in Node on this machine:
 * prefilter over data a first visit can afford → top K → exact rerank from per-model records.
 *
 *   npm run bench:scale                       N = 10 000 (GD two-stage) and 1 000 000 (prefilter)
 *   npm run bench:scale -- --n 100000         the GD part at 100 000 (≈ 4 GB of float32 records in memory)
 *   flags: --queries 60  --no-million  --json <file>
 *
 * GD part (tools/scale/synthZoo.ts zoo at d = 512, 90 % low-sample models with exact low-rank
 * records, 10 % many-sample models with PPCA records): for several K, recall@10 of the two-stage
 * ranking against exhaustive exact Gaussian density over every model (the reference: exact records,
 * and the population Gaussian for the PPCA models), with each prefilter; bytes a first visit loads
 * (the head) and a cold query fetches (its K records at fp16); time per query of each stage.
 * Million part: means only; sign-code prefilter (64 B per model) → top K → int8-mean rescoring,
 * recall@10 against exhaustive 1st moment on the float32 means, and the prefilter's time.
 *
 * Times are Node on this 2-core VM (JS loops, one thread), not the browser worker; the worker,
 * the Range server and WebGPU kernels are the next steps (docs/benchmarks.md says which
 * numbers exist).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readTieredHead } from '../../src/core/index/tieredHead.ts';
import { twoStageQuery } from '../../src/core/index/tieredQuery.ts';
import type { TieredRecord } from '../../src/core/index/tieredRecords.ts';
import { fetchBytes } from '../../src/core/io/fetchBytes.ts';
import { blockFetcher } from '../../src/core/index/blockFetcher.ts';
import { startRangeServer } from '../lib/rangeServer.ts';
import { writeTieredIndex } from '../scale/tiered.ts';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { firstMomentScores, gaussianScores } from '../../src/core/scoring/methods.ts';
import { openLocalIndex } from '../lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../lib/nodeEncoder.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowRankLogDensity, lowRankMeanPrecision, lowRankRecordBytes, type LowRankRecord } from '../../src/core/index/lowRankGaussian.ts';
import { fromHalfArray, packedSize, toHalfArray } from '../../src/core/math/linalg.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { gaussianProxyScores, int8CosineScores, quantiseMeansInt8, recallAtK, signAgreementScores, signCodes, type Int8Means, type SignCodes } from '../../src/core/scoring/prefilter.ts';
import { topK } from '../../src/core/scoring/topK.ts';
import { flag, integer, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { forEachMeanChunk, makeScaleZoo, meanChunkCentres, SCALE_DIM, type ScaleZoo } from '../scale/synthZoo.ts';

const here = dirname(fileURLToPath(import.meta.url));
const USAGE = `usage: npm run bench:scale -- [--n 10000] [--queries 60] [--no-million] [--json <file>]
  --n <count>       models in the Gaussian-density part (default 10 000; 100 000 needs ≈ 4 GB)
  --queries <q>     queries per part (default 60: a third drawn from a model, near a concept, far from it)
  --no-million      skip the 1 000 000-model prefilter part
  --json <file>     where to write the results (default tools/bench/results/scale-latest.json)
  -h, --help        this text`;
const OPTIONS = { n: integer({ min: 100, default: 10_000 }), queries: integer({ min: 1, default: 60 }), 'no-million': flag(), json: text() };
const KS = [50, 100, 200, 500, 1000];
const MILLION = 1_000_000;
const MILLION_KS = [500, 1000, 2000, 5000];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

const mb = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

function densities(records: readonly LowRankRecord[], ids: ArrayLike<number>, q: Float32Array): Float32Array {
  const out = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = lowRankLogDensity(records[ids[i]!]!, q);
  return out;
}

function queriesFor(zoo: ScaleZoo, n: number, seed: number): Float32Array[] {
  const r = mulberry32(seed);
  // A third each: a fresh draw from one model ("an image it could make"), a query near a concept
  // (cosine ≈ 0.8) and one far from it (≈ 0.4, like a CLIP text query).
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? zoo.sampleOf(Math.floor(r() * zoo.count), r) : zoo.conceptQuery(Math.floor(r() * zoo.concepts.length), r, i % 3 === 1 ? 0.8 : 2.5)));
}

interface Prefilter {
  name: string;
  headBytesPerModel: number;
  scores: (q: Float32Array) => Float32Array;
}

/**
 * A storage order that keeps a query's candidates together: spherical k-means of the means
 * (≈ 64 models a cluster, a few rounds), models sorted by cluster. Blocks are runs of consecutive
 * models in that order, so the top K of one query touch few blocks and few Range requests.
 */
function clusteredOrder(means: Float32Array, dim: number, perCluster = 64, rounds = 4): Int32Array {
  const count = means.length / dim;
  const k = Math.max(1, Math.round(count / perCluster));
  const r = mulberry32(3);
  const centroids = new Float32Array(k * dim);
  for (let c = 0; c < k; c++) {
    const pick = Math.floor(r() * count);
    centroids.set(means.subarray(pick * dim, pick * dim + dim), c * dim);
  }
  const assign = new Int32Array(count);
  for (let round = 0; round <= rounds; round++) {
    for (let m = 0; m < count; m++) {
      let best = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += means[m * dim + j]! * centroids[c * dim + j]!;
        if (s > best) [best, assign[m]] = [s, c];
      }
    }
    if (round === rounds) break;
    centroids.fill(0);
    for (let m = 0; m < count; m++) for (let j = 0; j < dim; j++) centroids[assign[m]! * dim + j]! += means[m * dim + j]!;
    for (let c = 0; c < k; c++) {
      let n = 0;
      for (let j = 0; j < dim; j++) n += centroids[c * dim + j]! ** 2;
      const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
      for (let j = 0; j < dim; j++) centroids[c * dim + j]! *= inv;
    }
  }
  return Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => assign[a]! - assign[b]! || a - b);
}

/** Blocks of `perBlock` consecutive models in `order`: each model's block, and each block's bytes. */
function blocksOf(order: Int32Array, recordBytes: number[], perBlock: number): { blockOf: Int32Array; blockBytes: number[] } {
  const blockOf = new Int32Array(order.length);
  const blockBytes: number[] = [];
  order.forEach((m, i) => {
    const b = Math.floor(i / perBlock);
    blockOf[m] = b;
    blockBytes[b] = (blockBytes[b] ?? 0) + recordBytes[m]!;
  });
  return { blockOf, blockBytes };
}

/** What fetching these candidates' blocks costs: blocks, bytes, and Range requests after merging adjacent blocks. */
function fetchCost(ids: readonly number[], layout: { blockOf: Int32Array; blockBytes: number[] }): { blocks: number; bytes: number; ranges: number } {
  const touched = [...new Set(ids.map((i) => layout.blockOf[i]!))].sort((a, b) => a - b);
  let ranges = 0;
  touched.forEach((b, i) => {
    if (i === 0 || touched[i - 1] !== b - 1) ranges++;
  });
  return { blocks: touched.length, bytes: touched.reduce((s, b) => s + layout.blockBytes[b]!, 0), ranges };
}

const MODELS_PER_BLOCK = 16;
const REUSE = Symbol('reuse');
const HTTP_PER_BLOCK = 4;
const HTTP_KS = [50, 200];

const DEMO_KS = [10, 20, 30, 60, 100];

/**
 * The shipped demo index (300 models of the procedural zoo, zoo encoder, d = 64, v1 full
 * triangles): how much of exact Gaussian density's top 10 the 1st moment's top K holds, for
 * image-like queries (a kept sample of a random model, in the data the model was built from) and
 * text queries (every model's name, and the manifest's example queries, through the zoo encoder).
 */
async function demoPart() {
  const demo = await openLocalIndex(join(PUBLIC_DIR, 'index/demo'));
  const { index } = demo;
  const encoder = await NodeEncoder.load(ENCODERS['zoo-encoder']);
  const r = mulberry32(11);
  const samples = index.samples!;
  const image = Array.from({ length: 100 }, () => {
    const m = Math.floor(r() * index.count);
    const s = samples.offsets[m]! + Math.floor(r() * (samples.offsets[m + 1]! - samples.offsets[m]!));
    return samples.data.dtype === 'f32' ? samples.data.data.slice(s * index.dim, (s + 1) * index.dim) : fromHalfArray(samples.data.data.slice(s * index.dim, (s + 1) * index.dim));
  });
  const texts = [...demo.models.map((m) => m.name), ...(demo.manifest.examples ?? [])];
  const text = await encoder.encodeTexts(texts);
  // The Gaussian proxy from v1's full triangles: h = tr(Σ'⁻¹)/d = ‖W‖²_F/d, and the stored log|Σ'|.
  const g = index.gaussian!;
  const P = packedSize(index.dim);
  const w = g.precision.dtype === 'f16' ? fromHalfArray(g.precision.data) : g.precision.data;
  const precision = Float32Array.from({ length: index.count }, (_, m) => {
    let s = 0;
    for (let i = 0; i < P; i++) s += w[m * P + i]! ** 2;
    return s / index.dim;
  });
  const q8 = quantiseMeansInt8(index.means, index.dim);
  const prefilters = {
    '1st moment (cosine)': (q: Float32Array) => firstMomentScores(index.means, index.norms, index.dim, q),
    'Gaussian proxy (int8 means + 2 floats)': (q: Float32Array) => gaussianProxyScores(q8, precision, g.logDet, q),
  };
  const recallFor = (queries: Float32Array[], pre: (q: Float32Array) => Float32Array) =>
    DEMO_KS.map((k) => {
      let recall = 0;
      for (const q of queries) {
        const truth = topK(gaussianScores(index, q), 10).map((x) => x.index);
        const got = new Set(topK(pre(q), k).map((x) => x.index));
        recall += truth.filter((i) => got.has(i)).length / truth.length / queries.length;
      }
      return { k, heldOfGdTop10: recall };
    });
  const rows = Object.entries(prefilters).flatMap(([prefilter, pre]) => [
    { prefilter, queries: `image-like (a kept sample), ${image.length}`, byK: recallFor(image, pre) },
    { prefilter, queries: `text (names, examples), ${text.length}`, byK: recallFor(text, pre) },
  ]);
  return { count: index.count, dim: index.dim, rows };
}

/**
 * The two-stage query end to end in Node: the zoo written as a tiered index (clustered order,
 * HTTP_PER_BLOCK models a block), served by sirv on localhost with real Range support, opened from
 * its manifest and head, and queried with tieredQuery (coalesced Range reads, per-block SHA-256,
 * decode, rerank). Cold: an empty block cache per query; warm: the same queries again with the
 * cache the cold pass filled (what IndexedDB will hold in the app).
 */
async function httpPart(reuse: { zoo: ScaleZoo; truth: number[][]; queries: Float32Array[]; clustered: Int32Array }) {
  const dir = mkdtempSync(join(tmpdir(), 'tiered-'));
  const build = await writeTieredIndex(reuse.zoo, dir, reuse.clustered, HTTP_PER_BLOCK);
  const { base, close } = await startRangeServer(dir);
  let requests = 0;
  let bytes = 0;
  const counting: typeof fetch = async (input, init) => {
    const r = await fetch(input, init);
    requests++;
    bytes += Number(r.headers.get('content-length') ?? 0);
    return r;
  };
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256?: string }> };
    const t0 = performance.now();
    const head = readTieredHead(await fetchBytes(`${base}/head.bin`, { ...manifest.files['head.bin'], fetchImpl: counting }));
    const headMs = performance.now() - t0;
    const headFetched = bytes;
    const { fetchBlocks } = blockFetcher(`${base}/`, head, { fetchImpl: counting });
    const rows = [];
    for (const k of HTTP_KS) {
      const warmCache = new Map<number, Map<number, TieredRecord>>();
      for (const pass of ['cold', 'warm'] as const) {
        const stats = { prefilterMs: [] as number[], exactMs: [] as number[], bytes: [] as number[], requests: [] as number[], recall: 0 };
        for (const [qi, q] of reuse.queries.entries()) {
          const [r0, b0] = [requests, bytes];
          const t = performance.now();
          let prefilterAt = 0;
          const cache = pass === 'cold' ? new Map<number, Map<number, TieredRecord>>() : warmCache;
          const result = await twoStageQuery(head, q, { k, top: 10, fetchBlocks, cache, onPrefilter: () => (prefilterAt = performance.now()) });
          stats.exactMs.push(performance.now() - t);
          if (pass === 'cold') for (const [b, records] of cache) warmCache.set(b, records);
          stats.prefilterMs.push(prefilterAt - t);
          stats.requests.push(requests - r0);
          stats.bytes.push(bytes - b0);
          stats.recall += recallAtK(reuse.truth[qi]!, result.exact.map((r) => build.order[r.index]!), 10) / reuse.queries.length;
        }
        rows.push({ k, pass, recall: stats.recall, prefilterMs: median(stats.prefilterMs), exactMs: median(stats.exactMs), bytes: median(stats.bytes), requests: median(stats.requests) });
      }
    }
    return { perBlock: HTTP_PER_BLOCK, headBytes: build.headBytes, headFetched, headMs, recordsBytes: build.recordsBytes, blocks: build.blocks, rows };
  } finally {
    close();
    rmSync(dir, { recursive: true, force: true });
  }
}
const QUERY_KINDS = ['drawn from a model', 'near a concept (cos ≈ 0.8)', 'far from a concept (cos ≈ 0.4)'];

function gaussianPart(count: number, queryCount: number) {
  const t0 = performance.now();
  const zoo = makeScaleZoo({ count });
  const buildS = (performance.now() - t0) / 1000;
  const dim = zoo.dim;
  const stored = zoo.models.map((m) => m.stored);
  const reference = zoo.models.map((m) => m.reference);
  const all = Int32Array.from({ length: count }, (_, i) => i);
  const queries = queriesFor(zoo, queryCount, 99);
  const q8 = quantiseMeansInt8(zoo.means, dim);
  const codes = signCodes(zoo.means, dim);
  const norms = q8.norms;
  const proxyPrecision = Float32Array.from(stored, (g) => lowRankMeanPrecision(g));
  const proxyLogDet = Float32Array.from(stored, (g) => g.logDet);
  const prefilters: Prefilter[] = [
    {
      name: '1st moment, float32 means',
      headBytesPerModel: dim * 4 + 4,
      scores: (q) => firstMomentScores(zoo.means, norms, dim, q),
    },
    { name: '1st moment, int8 means', headBytesPerModel: dim + 8, scores: (q) => int8CosineScores(q8, q) },
    { name: 'Gaussian proxy, int8 means + 2 floats', headBytesPerModel: dim + 16, scores: (q) => gaussianProxyScores(q8, proxyPrecision, proxyLogDet, q) },
    { name: 'sign codes', headBytesPerModel: dim / 8 + 4, scores: (q) => signAgreementScores(codes, q) },
  ];
  // The reference: exhaustive exact Gaussian density; and exhaustive over the stored records (PPCA
  // effect alone), and over those records with B rounded to fp16 as the tiered index stores them.
  const half = stored.map((g) => ({ ...g, basis: fromHalfArray(toHalfArray(g.basis)) }));
  const truth: number[][] = [];
  const storedAll: number[][] = [];
  const halfAll: number[][] = [];
  const exhaustiveMs: number[] = [];
  for (const q of queries) {
    truth.push(topK(densities(reference, all, q), 10).map((x) => x.index));
    const t = performance.now();
    storedAll.push(topK(densities(stored, all, q), 10).map((x) => x.index));
    exhaustiveMs.push(performance.now() - t);
    halfAll.push(topK(densities(half, all, q), 10).map((x) => x.index));
  }
  const recordBytes = stored.map((g) => lowRankRecordBytes(dim, g.rank, 2));
  const t1 = performance.now();
  const clustered = clusteredOrder(zoo.means, dim);
  const layouts = {
    [`as built (no order), ${MODELS_PER_BLOCK} models a block`]: blocksOf(Int32Array.from({ length: count }, (_, i) => i), recordBytes, MODELS_PER_BLOCK),
    [`clustered (k-means of the means), ${MODELS_PER_BLOCK} models a block`]: blocksOf(clustered, recordBytes, MODELS_PER_BLOCK),
    'clustered, 4 models a block': blocksOf(clustered, recordBytes, 4),
    'clustered, one model a block (a hash per record)': blocksOf(clustered, recordBytes, 1),
  };
  const orderSeconds = (performance.now() - t1) / 1000;
  const rows = prefilters.map((p) => {
    const prefilterMs: number[] = [];
    const byK = KS.filter((k) => k <= count).map((k) => ({ k, recall: 0, recallByKind: [0, 0, 0], rerankMs: [] as number[], coldBytes: [] as number[], layouts: Object.fromEntries(Object.keys(layouts).map((name) => [name, [] as ReturnType<typeof fetchCost>[]])) }));
    queries.forEach((q, qi) => {
      const t = performance.now();
      const pre = p.scores(q);
      const order = topK(pre, Math.max(...byK.map((b) => b.k)));
      prefilterMs.push(performance.now() - t);
      for (const b of byK) {
        const ids = order.slice(0, b.k).map((x) => x.index);
        const t2 = performance.now();
        const exact = densities(stored, ids, q);
        const top = topK(exact, 10).map((x) => ids[x.index]!);
        b.rerankMs.push(performance.now() - t2);
        const recall = recallAtK(truth[qi]!, top, 10);
        b.recall += recall / queries.length;
        b.recallByKind[qi % 3]! += recall / queries.filter((_, i) => i % 3 === qi % 3).length;
        b.coldBytes.push(ids.reduce((s, i) => s + recordBytes[i]!, 0));
        for (const [name, layout] of Object.entries(layouts)) b.layouts[name]!.push(fetchCost(ids, layout));
      }
    });
    return {
      prefilter: p.name,
      headBytes: p.headBytesPerModel * count,
      prefilterMs: median(prefilterMs),
      byK: byK.map((b) => ({
        k: b.k,
        recall: b.recall,
        recallByKind: Object.fromEntries(QUERY_KINDS.map((name, i) => [name, b.recallByKind[i]!])),
        rerankMs: median(b.rerankMs),
        coldBytes: median(b.coldBytes),
        blocks: Object.fromEntries(Object.entries(b.layouts).map(([name, costs]) => [name, { blocks: median(costs.map((c) => c.blocks)), bytes: median(costs.map((c) => c.bytes)), ranges: median(costs.map((c) => c.ranges)) }])),
      })),
    };
  });
  const ranks = stored.filter((g) => g.exact).map((g) => g.rank);
  return {
    // Not serialised: what the HTTP part reuses.
    [REUSE]: { zoo, truth, queries, clustered },
    count,
    dim,
    queries: queryCount,
    buildSeconds: buildS,
    lowSampleModels: ranks.length,
    ppcaModels: count - ranks.length,
    meanRank: ranks.reduce((a, b) => a + b, 0) / Math.max(1, ranks.length),
    recordBytesMean: recordBytes.reduce((a, b) => a + b, 0) / count,
    triangleBytes: packedSize(dim) * 2,
    modelsPerBlock: MODELS_PER_BLOCK,
    orderSeconds,
    exhaustiveStoredRecall: queries.reduce((s, _, i) => s + recallAtK(truth[i]!, storedAll[i]!, 10), 0) / queries.length,
    exhaustiveHalfRecall: queries.reduce((s, _, i) => s + recallAtK(truth[i]!, halfAll[i]!, 10), 0) / queries.length,
    halfVsFloatRecall: queries.reduce((s, _, i) => s + recallAtK(storedAll[i]!, halfAll[i]!, 10), 0) / queries.length,
    exhaustiveByKind: Object.fromEntries(QUERY_KINDS.map((name, kind) => {
      const idx = queries.map((_, i) => i).filter((i) => i % 3 === kind);
      return [name, idx.reduce((s, i) => s + recallAtK(truth[i]!, storedAll[i]!, 10), 0) / idx.length];
    })),
    exhaustiveMs: median(exhaustiveMs),
    rows,
  };
}

function millionPart(queryCount: number) {
  const dim = SCALE_DIM;
  const seed = 21;
  const chunk = 20_000;
  const codes: SignCodes = { dim, count: MILLION, words: dim / 32, bits: new Uint32Array(MILLION * (dim / 32)) };
  const q8: Int8Means = { dim, count: MILLION, codes: new Int8Array(MILLION * dim), scale: new Float32Array(MILLION), norms: new Float32Array(MILLION) };
  const centres = meanChunkCentres(MILLION, seed);
  const r = mulberry32(5);
  const queries = Array.from({ length: queryCount }, () => {
    const c = centres[Math.floor(r() * centres.length)]!;
    const v = Float32Array.from(c, (x) => x + 0.08 * (r() * 2 - 1));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  // Exhaustive exact 1st moment, streamed chunk by chunk (the float32 means are never all in memory).
  const best = queries.map(() => [] as { index: number; score: number }[]);
  const t0 = performance.now();
  forEachMeanChunk(MILLION, seed, chunk, (means, first) => {
    const n = means.length / dim;
    const c8 = quantiseMeansInt8(means, dim);
    q8.codes.set(c8.codes, first * dim);
    q8.scale.set(c8.scale, first);
    q8.norms.set(c8.norms, first);
    codes.bits.set(signCodes(means, dim).bits, first * codes.words);
    queries.forEach((q, qi) => {
      const scores = firstMomentScores(means, c8.norms, dim, q);
      const merged = [...best[qi]!, ...topK(scores, 10).map((x) => ({ index: x.index + first, score: x.score }))];
      merged.sort((a, b) => b.score - a.score || a.index - b.index);
      best[qi] = merged.slice(0, 10);
    });
  });
  const buildSeconds = (performance.now() - t0) / 1000;
  const truth = best.map((b) => b.map((x) => x.index));
  const signMs: number[] = [];
  const byK = MILLION_KS.map((k) => ({ k, recall: 0, rescoreMs: [] as number[] }));
  const scratch = new Float32Array(MILLION);
  queries.forEach((q, qi) => {
    const t = performance.now();
    const pre = signAgreementScores(codes, q, scratch);
    const order = topK(pre, Math.max(...MILLION_KS));
    signMs.push(performance.now() - t);
    for (const b of byK) {
      const ids = order.slice(0, b.k).map((x) => x.index);
      const t2 = performance.now();
      const sub: Int8Means = { dim, count: ids.length, codes: new Int8Array(ids.length * dim), scale: new Float32Array(ids.length), norms: new Float32Array(ids.length) };
      ids.forEach((id, i) => {
        sub.codes.set(q8.codes.subarray(id * dim, (id + 1) * dim), i * dim);
        sub.scale[i] = q8.scale[id]!;
        sub.norms[i] = q8.norms[id]!;
      });
      const top = topK(int8CosineScores(sub, q), 10).map((x) => ids[x.index]!);
      b.rescoreMs.push(performance.now() - t2);
      b.recall += recallAtK(truth[qi]!, top, 10) / queries.length;
    }
  });
  // A full int8 scan, for comparison (what the head would cost in time if it held int8 means).
  const t3 = performance.now();
  int8CosineScores(q8, queries[0]!, scratch);
  const int8ScanMs = performance.now() - t3;
  return {
    count: MILLION,
    dim,
    queries: queryCount,
    buildSeconds,
    headBytes: MILLION * (dim / 8 + 4),
    int8Bytes: MILLION * (dim + 8),
    signPrefilterMs: median(signMs),
    int8ScanMs,
    byK: byK.map((b) => ({ k: b.k, recall: b.recall, rescoreMs: median(b.rescoreMs), fetchedBytes: b.k * (dim + 8) })),
  };
}

void runCommand(USAGE, async () => {
  const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const out: Record<string, unknown> = { when: new Date().toISOString(), node: process.version };
  const demo = await demoPart();
  out.demo = demo;
  console.log(`Demo index (${demo.count} models, d = ${demo.dim}): share of exact GD's top 10 in the prefilter's top K`);
  console.log('| prefilter | queries | ' + DEMO_KS.map((k) => `K=${k}`).join(' | ') + ' |');
  console.log('|---|---|' + DEMO_KS.map(() => '---:').join('|') + '|');
  for (const row of demo.rows) console.log(`| ${row.prefilter} | ${row.queries} | ${row.byK.map((b) => b.heldOfGdTop10.toFixed(3)).join(' | ')} |`);
  console.log('');
  console.log(`Gaussian density, N = ${values.n.toLocaleString('en')} models at d = ${SCALE_DIM}, ${values.queries} queries …`);
  const gd = gaussianPart(values.n, values.queries);
  out.gaussian = gd;
  console.log(
    `zoo built in ${gd.buildSeconds.toFixed(1)} s: ${gd.lowSampleModels} low-sample models (exact low-rank, mean rank ${gd.meanRank.toFixed(1)}), ${gd.ppcaModels} PPCA-64 models; ` +
      `record ${mb(gd.recordBytesMean)} mean at fp16 vs ${mb(gd.triangleBytes)} for the packed triangle (${(gd.triangleBytes / gd.recordBytesMean).toFixed(1)}×)`,
  );
  console.log(`exhaustive GD over the stored records: recall@10 ${gd.exhaustiveStoredRecall.toFixed(3)} vs the exact reference (the PPCA models' approximation alone), ${gd.exhaustiveMs.toFixed(0)} ms/query`);
  console.log(`the same with B rounded to fp16: ${gd.exhaustiveHalfRecall.toFixed(3)} vs the reference, ${gd.halfVsFloatRecall.toFixed(3)} vs the float32 records`);
  console.log('\n| prefilter | head | prefilter ms/query | ' + gd.rows[0]!.byK.map((b) => `K=${b.k} recall@10`).join(' | ') + ' | rerank ms (K=200) | cold fetch (K=200) |');
  console.log('|---|---:|---:|' + gd.rows[0]!.byK.map(() => '---:').join('|') + '|---:|---:|');
  for (const row of gd.rows) {
    const k200 = row.byK.find((b) => b.k === 200) ?? row.byK.at(-1)!;
    console.log(`| ${row.prefilter} | ${mb(row.headBytes)} | ${row.prefilterMs.toFixed(1)} | ${row.byK.map((b) => b.recall.toFixed(3)).join(' | ')} | ${k200.rerankMs.toFixed(1)} | ${mb(k200.coldBytes)} |`);
  }
  console.log(`\nFetching the K = 200 candidates' records block by block (Gaussian-proxy prefilter; median per cold query; the k-means order took ${gd.orderSeconds.toFixed(1)} s):`);
  console.log('| storage order and block size | blocks | bytes | Range requests (adjacent blocks merged) |');
  console.log('|---|---:|---:|---:|');
  const int8Row = gd.rows.find((r) => r.prefilter.startsWith('Gaussian proxy'))!;
  const k200 = int8Row.byK.find((b) => b.k === 200) ?? int8Row.byK.at(-1)!;
  for (const [name, c] of Object.entries(k200.blocks)) console.log(`| ${name} | ${c.blocks} | ${mb(c.bytes)} | ${c.ranges} |`);
  console.log(`\nrecall@10 by query kind (Gaussian proxy, K = ${k200.k}): ` + Object.entries(k200.recallByKind).map(([n, v]) => `${n} ${v.toFixed(3)}`).join(', '));
  console.log('exhaustive over the stored records, by query kind: ' + Object.entries(gd.exhaustiveByKind).map(([n, v]) => `${n} ${v.toFixed(3)}`).join(', '));
  console.log(`\nThrough a local Range server (sirv), tiered index in the clustered order, ${HTTP_PER_BLOCK} models a block …`);
  const http = await httpPart((gd as unknown as Record<symbol, Parameters<typeof httpPart>[0]>)[REUSE]!);
  out.http = http;
  console.log(`head ${mb(http.headBytes)} (fetched and checked in ${http.headMs.toFixed(0)} ms), records ${mb(http.recordsBytes)} in ${http.blocks} blocks`);
  console.log('| K | query | recall@10 | to prefilter ranking ms | to exact ranking ms | bytes fetched | Range requests |');
  console.log('|---:|---|---:|---:|---:|---:|---:|');
  for (const r of http.rows) console.log(`| ${r.k} | ${r.pass} | ${r.recall.toFixed(3)} | ${r.prefilterMs.toFixed(1)} | ${r.exactMs.toFixed(1)} | ${mb(r.bytes)} | ${r.requests} |`);
  if (!values['no-million']) {
    console.log(`\n1st moment, N = 1 000 000 models (means only), ${values.queries} queries …`);
    const mil = millionPart(values.queries);
    out.million = mil;
    console.log(`generated and scanned exhaustively in ${mil.buildSeconds.toFixed(0)} s; head (sign codes + norms) ${mb(mil.headBytes)}, int8 means would be ${mb(mil.int8Bytes)}`);
    console.log(`sign-code prefilter ${mil.signPrefilterMs.toFixed(1)} ms/query (full int8 scan: ${mil.int8ScanMs.toFixed(0)} ms)`);
    console.log('\n| K | recall@10 vs exhaustive 1st moment | rescore ms | int8 means fetched |');
    console.log('|---:|---:|---:|---:|');
    for (const b of mil.byK) console.log(`| ${b.k} | ${b.recall.toFixed(3)} | ${b.rescoreMs.toFixed(1)} | ${mb(b.fetchedBytes)} |`);
  }
  const file = values.json ?? join(here, 'results', 'scale-latest.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`\nwrote ${file}`);
}).then((code) => (process.exitCode = code));
