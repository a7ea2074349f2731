/**
 * Browser half of `npm run bench:scale` (issue 15): the two-stage query of a tiered (v2) index in a
 * dedicated Web Worker — the code the app's worker runs (tieredHead, blockFetcher, tieredQuery from
 * src/core) — against the local Range server on another origin (CORS), cold (empty block cache per
 * query) and warm (the blocks the cold pass fetched, as IndexedDB would hold them); and for the
 * million-model part a written sign-coded index: its head fetched and read, the sign-code prefilter
 * over every model (JS and WASM), and rankTiered cold and warm (millionRank.ts). Timings are the worker's
 * performance.now(); bytes are the Content-Length of every response the reader received.
 */
import { readTieredHead } from '../../../src/core/index/tieredHead.ts';
import { twoStageQuery } from '../../../src/core/index/tieredQuery.ts';
import { blockFetcher } from '../../../src/core/index/blockFetcher.ts';
import type { TieredRecord } from '../../../src/core/index/tieredRecords.ts';
import { fetchBytes } from '../../../src/core/io/fetchBytes.ts';
import { gaussianProxyScores, signAgreementScores, type SignCodes } from '../../../src/core/scoring/prefilter.ts';
import { topK } from '../../../src/core/scoring/topK.ts';
import { parseTieredManifest } from '../../../src/core/index/manifest.ts';
import { openTieredHead } from '../../../src/core/index/openTiered.ts';
import { kernelScorer } from '../../../src/core/index/tieredRank.ts';
import { prefilterKernel } from '../../../src/core/scoring/tieredKernels.ts';
import { millionPasses, type MillionPass } from './millionRank.ts';

export interface ScaleBrowserConfig {
  /** Tiered indexes: folder URL (manifest.json, head.bin, records.bin) and a queries file (float32 [q, dim]). */
  gd: { label: string; base: string; queries: string; ks: number[]; top: number }[];
  /**
   * The million-model part: a sign-coded tiered index (folder URL with manifest.json, head.bin,
   * codes.bin, records.bin, meta/) and queries. The sign prefilter alone (JS and the WASM kernel, top
   * `shortlist`) over `reps` queries, then rankTiered cold and warm over `rankReps` of them
   * (millionRank.ts: the app's two-stage query; none with rankReps 0).
   */
  million?: { base: string; queries: string; shortlist: number; candidates: number; reps: number; rankReps: number };
}

export interface PassTimes {
  k: number;
  pass: 'cold' | 'warm';
  /** Per query: ms from the start of the query to the prefilter ranking, to the exact ranking; ms after the last block arrived (SHA-256, decode, rerank); bytes and requests. */
  prefilterMs: number[];
  exactMs: number[];
  afterRecordsMs: number[];
  bytes: number[];
  requests: number[];
  /** Exact top `top`, model indices in the index's (stored) order. */
  exact: number[][];
}

export interface ScaleBrowserGd {
  label: string;
  headBytes: number;
  headFetchedBytes: number;
  headMs: number;
  passes: PassTimes[];
  /** The prefilter and its top K alone, per engine, ms per query. */
  prefilterOnly: { engine: string; ms: number[] }[];
}

export interface ScaleBrowserResult {
  gd: ScaleBrowserGd[];
  million?: {
    /** head.bin fetched and checked against the manifest's SHA-256; then read (readTieredHead, held to the manifest). */
    headFetchMs: number;
    headReadMs: number;
    headBytes: number;
    /** Sign codes copied into the WASM kernel's memory (once per head). */
    kernelSetupMs?: number;
    signMs: number[];
    kernelMs?: number[];
    kernel?: string;
    firstTop: number[];
    codesBytes: number;
    /** rankTiered at the default shortlist and K, cold then warm (millionRank.ts). */
    passes: MillionPass[];
  };
}

interface KernelModule {
  prefilterKernel: (
    head: { prefilter?: unknown; proxy?: { precision: Float32Array; logDet: Float32Array }; signs?: SignCodes },
    opts?: { engine?: 'auto' | 'wasm' | 'js' },
  ) => { engines: { int8: string | null; signs: string | null }; fallbacks: readonly string[]; proxyScores(q: Float32Array, out?: Float32Array): Float32Array; signScores(q: Float32Array, out?: Float32Array): Float32Array };
}

/** src/core/scoring/tieredKernels.ts if it exists (built by another part of the project); null otherwise. Imported at run time so this bench does not depend on it. */
async function loadKernels(): Promise<KernelModule | null> {
  try {
    const path = '/src/core/scoring/tieredKernels.ts';
    const mod = (await import(/* @vite-ignore */ path)) as Partial<KernelModule>;
    return typeof mod.prefilterKernel === 'function' ? (mod as KernelModule) : null;
  } catch (err) {
    progress(`no WASM prefilter kernel (${err instanceof Error ? err.message.slice(0, 120) : String(err)})`);
    return null;
  }
}

const ctx = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
const progress = (text: string) => ctx.postMessage({ type: 'progress', text });

async function floats(url: string): Promise<Float32Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Float32Array(await r.arrayBuffer());
}

async function gdPart(c: ScaleBrowserConfig['gd'][number]): Promise<ScaleBrowserGd> {
  let requests = 0;
  let bytes = 0;
  const counting: typeof fetch = async (input, init) => {
    const r = await fetch(input, init);
    requests++;
    bytes += Number(r.headers.get('content-length') ?? 0);
    return r;
  };
  const base = c.base.endsWith('/') ? c.base : `${c.base}/`;
  const manifest = (await (await fetch(`${base}manifest.json`)).json()) as { files: Record<string, { bytes: number; sha256?: string }> };
  const t0 = performance.now();
  const read = readTieredHead(await fetchBytes(`${base}head.bin`, { ...manifest.files['head.bin'], fetchImpl: counting }));
  const { prefilter, proxy } = read;
  if (!prefilter || !proxy) throw new Error('The Gaussian-density part needs a head with int8 means, not a sign-coded one.');
  const head = { ...read, prefilter, proxy };
  const headMs = performance.now() - t0;
  const headFetchedBytes = bytes;
  progress(`${c.label}: head ${(headFetchedBytes / 1e6).toFixed(1)} MB in ${headMs.toFixed(0)} ms`);
  const queryData = await floats(c.queries);
  const queries = Array.from({ length: queryData.length / head.dim }, (_, i) => queryData.subarray(i * head.dim, (i + 1) * head.dim));
  const { fetchBlocks } = blockFetcher(base, head, { fetchImpl: counting });
  let fetchedAt = 0;
  const timedFetch = async (blocks: number[]) => {
    const out = await fetchBlocks(blocks);
    fetchedAt = performance.now();
    return out;
  };
  const passes: PassTimes[] = [];
  for (const k of c.ks) {
    const warmCache = new Map<number, Map<number, TieredRecord>>();
    for (const pass of ['cold', 'warm'] as const) {
      const p: PassTimes = { k, pass, prefilterMs: [], exactMs: [], afterRecordsMs: [], bytes: [], requests: [], exact: [] };
      for (const q of queries) {
        const [r0, b0] = [requests, bytes];
        const cache = pass === 'cold' ? new Map<number, Map<number, TieredRecord>>() : warmCache;
        let prefilterAt = 0;
        fetchedAt = 0;
        const t = performance.now();
        const result = await twoStageQuery(head, q, { k, top: c.top, fetchBlocks: timedFetch, cache, onPrefilter: () => (prefilterAt = performance.now()) });
        const end = performance.now();
        if (pass === 'cold') for (const [b, records] of cache) warmCache.set(b, records);
        p.prefilterMs.push(prefilterAt - t);
        p.exactMs.push(end - t);
        p.afterRecordsMs.push(end - (fetchedAt || prefilterAt));
        p.bytes.push(bytes - b0);
        p.requests.push(requests - r0);
        p.exact.push(result.exact.map((r) => r.index));
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      progress(`${c.label} K=${k} ${pass}: prefilter ${med(p.prefilterMs).toFixed(1)} ms, exact ${med(p.exactMs).toFixed(1)} ms, ${(med(p.bytes) / 1e6).toFixed(2)} MB in ${med(p.requests)} requests`);
      passes.push(p);
    }
  }
  // The prefilter alone (Gaussian proxy + top K), JS against the WASM kernel where it exists.
  const prefilterOnly: ScaleBrowserGd['prefilterOnly'] = [];
  const k = Math.max(...c.ks);
  const scratch = new Float32Array(head.count);
  const timeIt = (f: (q: Float32Array) => void) => {
    const ms: number[] = [];
    for (let i = -2; i < Math.min(20, queries.length); i++) {
      const t = performance.now();
      f(queries[Math.max(0, i)]!);
      if (i >= 0) ms.push(performance.now() - t);
    }
    return ms;
  };
  prefilterOnly.push({ engine: 'JS (prefilter.ts gaussianProxyScores)', ms: timeIt((q) => topK(gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, q, scratch), k)) });
  const kernels = await loadKernels();
  if (kernels) {
    try {
      const kernel = kernels.prefilterKernel({ prefilter: head.prefilter, proxy: head.proxy });
      prefilterOnly.push({ engine: `tieredKernels.prefilterKernel proxyScores (int8: ${kernel.engines.int8})`, ms: timeIt((q) => topK(kernel.proxyScores(q, scratch), k)) });
    } catch (err) {
      progress(`WASM proxy kernel failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { label: c.label, headBytes: manifest.files['head.bin']!.bytes, headFetchedBytes, headMs, passes, prefilterOnly };
}

async function millionPart(c: NonNullable<ScaleBrowserConfig['million']>): Promise<NonNullable<ScaleBrowserResult['million']>> {
  const base = c.base.endsWith('/') ? c.base : `${c.base}/`;
  const manifest = parseTieredManifest(await (await fetch(`${base}manifest.json`)).json());
  // The first visit's download: head.bin, checked against the manifest's size and SHA-256, then read.
  const t0 = performance.now();
  const bytes = await fetchBytes(`${base}head.bin`, manifest.files['head.bin']);
  const t1 = performance.now();
  const head = openTieredHead(bytes, manifest);
  const headReadMs = performance.now() - t1;
  const codes = head.signs;
  if (!codes) throw new Error('The million-model part needs a sign-coded head.');
  progress(`1M head: ${(bytes.byteLength / 1e6).toFixed(1)} MB fetched and checked in ${(t1 - t0).toFixed(0)} ms, read in ${headReadMs.toFixed(0)} ms`);
  const qd = await floats(c.queries);
  const queries = Array.from({ length: qd.length / head.dim }, (_, i) => qd.subarray(i * head.dim, (i + 1) * head.dim));
  const scratch = new Float32Array(head.count);
  const signMs: number[] = [];
  let firstTop: number[] = [];
  // Two warm-up queries (JIT), then the timed ones.
  for (let i = -2; i < Math.min(c.reps, queries.length); i++) {
    const q = queries[Math.max(0, i)]!;
    const t = performance.now();
    const top = topK(signAgreementScores(codes, q, scratch), c.shortlist);
    const ms = performance.now() - t;
    if (i >= 0) signMs.push(ms);
    if (i === 0) firstTop = top.slice(0, 10).map((x) => x.index);
  }
  progress(`1M sign prefilter (JS): median ${[...signMs].sort((a, b) => a - b)[signMs.length >> 1]!.toFixed(1)} ms`);
  const out: NonNullable<ScaleBrowserResult['million']> = { headFetchMs: t1 - t0, headReadMs, headBytes: bytes.byteLength, signMs, firstTop, codesBytes: codes.bits.byteLength, passes: [] };
  // The WASM kernel (src/core/scoring/tieredKernels.ts), as the app's worker builds it for the head.
  const tk = performance.now();
  const kernel = prefilterKernel(head);
  out.kernelSetupMs = performance.now() - tk;
  const kernelMs: number[] = [];
  for (let i = -2; i < Math.min(c.reps, queries.length); i++) {
    const q = queries[Math.max(0, i)]!;
    const t = performance.now();
    topK(kernel.signScores(q, scratch), c.shortlist);
    if (i >= 0) kernelMs.push(performance.now() - t);
  }
  out.kernelMs = kernelMs;
  out.kernel = `tieredKernels.prefilterKernel (signs: ${kernel.engines.signs}${kernel.fallbacks.length ? `; ${kernel.fallbacks.join(' ')}` : ''})`;
  progress(`1M sign prefilter (${out.kernel}): median ${[...kernelMs].sort((a, b) => a - b)[kernelMs.length >> 1]!.toFixed(1)} ms`);
  if (c.rankReps > 0) {
    out.passes = await millionPasses(head, queries.slice(0, c.rankReps), { base, shortlists: [c.shortlist], candidates: c.candidates, scorer: kernelScorer(kernel), progress });
  }
  return out;
}

ctx.onmessage = (e: MessageEvent) => {
  const { config } = e.data as { config: ScaleBrowserConfig };
  void (async () => {
    try {
      const result: ScaleBrowserResult = { gd: [] };
      for (const c of config.gd) result.gd.push(await gdPart(c));
      if (config.million) result.million = await millionPart(config.million);
      ctx.postMessage({ type: 'done', result });
    } catch (err) {
      ctx.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
    }
  })();
};
