/**
 * The 1M part of `npm run bench:scale` (issue 15), shared by Node (tools/bench/scale.ts) and the
 * browser worker (scale.worker.ts): queries of a sign-coded tiered index over HTTP with the code
 * the app runs — rankTiered (sign agreement over the head → shortlist → its code blocks from
 * codes.bin → int8 cosine → top K → their record blocks from records.bin → exact cosine from the
 * float32 means) with blockFetcher's coalesced Range reads and the WASM kernel scorer — then the top
 * 10's metadata shards, as the app shows them. Cold: empty caches per query; warm: the caches the
 * cold pass of the same shortlist filled (what IndexedDB would hold). DOM-free: no Node APIs either.
 */
import { blockFetcher, codesLayout, recordsLayout } from '../../../src/core/index/blockFetcher.ts';
import type { TieredHead } from '../../../src/core/index/tieredHead.ts';
import type { BlockCache, CodeCache } from '../../../src/core/index/tieredQuery.ts';
import { rankTiered, type TieredRanking, type TieredScorer } from '../../../src/core/index/tieredRank.ts';
import { fetchBytes } from '../../../src/core/io/fetchBytes.ts';

/** One pass (cold or warm) over every query at one shortlist size: per-query arrays, query order. */
export interface MillionPass {
  shortlist: number;
  candidates: number;
  pass: 'cold' | 'warm';
  /** Start of the query → the exact ranking (all stages, fetches included; metadata not included). */
  totalMs: number[];
  /** Start → the first code-block request (sign kernel, top shortlist); cold only (warm: NaN). */
  signStageMs: number[];
  /** The sign kernel alone (scorer.signs over every model). */
  signKernelMs: number[];
  /** First code-block request → the prefilter ranking (fetch, SHA-256, decode, int8 cosine of the shortlist, top K); cold only. */
  codeStageMs: number[];
  /** Of which the code blocks' HTTP requests; cold only. */
  codeFetchMs: number[];
  /** Start → the prefilter ranking (the K candidates). */
  toPrefilterMs: number[];
  /** Prefilter ranking → exact ranking (record blocks fetched, checked, decoded; exact cosine; top 10). */
  rerankMs: number[];
  /** Last record block arrived → exact ranking (SHA-256, decode, cosine, top 10); warm: the rerank alone. */
  afterRecordsMs: number[];
  codesBytes: number[];
  codesRequests: number[];
  recordsBytes: number[];
  recordsRequests: number[];
  /** The top 10's metadata shards (meta/<block>.json), fetched and checked after the ranking. */
  metaBytes: number[];
  metaRequests: number[];
  /** Exact top 10 (model positions in the index). */
  results: number[][];
}

export interface MillionPassOptions {
  /** The index folder's URL (…/ holding head.bin, codes.bin, records.bin, meta/). */
  base: string;
  shortlists: readonly number[];
  candidates: number;
  scorer: TieredScorer;
  top?: number;
  /** Called after each cold query with its ranking (Node computes other layouts' costs from it). */
  onCold?: (shortlist: number, query: number, ranking: TieredRanking) => void;
  progress?: (text: string) => void;
}

/** Failed fetches (network errors) retried once: how many, and the first one's cause. Reported, never hidden. */
export const fetchRetries = { count: 0, first: '' };

function counter(): { fetch: typeof fetch; requests: number; bytes: number } {
  const c = {
    requests: 0,
    bytes: 0,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      let r: Response;
      try {
        r = await fetch(input, init);
      } catch (err) {
        // A localhost connection the server closed as the client reused it: say so, try once more.
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        fetchRetries.count++;
        if (!fetchRetries.first) fetchRetries.first = `${err instanceof Error ? err.message : String(err)}: ${cause?.code ?? ''} ${cause?.message ?? ''} (after ${c.requests} requests)`;
        r = await fetch(input, init);
      }
      c.requests++;
      c.bytes += Number(r.headers.get('content-length') ?? 0);
      return r;
    }) as typeof fetch,
  };
  return c;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function millionPasses(head: TieredHead, queries: readonly Float32Array[], opts: MillionPassOptions): Promise<MillionPass[]> {
  const base = opts.base.endsWith('/') ? opts.base : `${opts.base}/`;
  const top = opts.top ?? 10;
  const codesCount = counter();
  const recordsCount = counter();
  const metaCount = counter();
  const codes = blockFetcher(base, codesLayout(head), { fetchImpl: codesCount.fetch });
  const records = blockFetcher(base, recordsLayout(head), { fetchImpl: recordsCount.fetch });
  // Stage marks of the query in flight.
  let marks = { signStart: 0, signEnd: 0, codeStart: 0, codeEnd: 0, recordsEnd: 0, prefilter: 0 };
  const scorer: TieredScorer = {
    ...opts.scorer,
    signs: async (q, out) => {
      marks.signStart = performance.now();
      await opts.scorer.signs!(q, out);
      marks.signEnd = performance.now();
    },
  };
  if (!opts.scorer.signs) throw new Error('The scorer has no sign kernel (the head has no sign codes?).');
  const fetchCodeBlocks = async (blocks: number[]) => {
    marks.codeStart = performance.now();
    const out = await codes.fetchBlocks(blocks);
    marks.codeEnd = performance.now();
    return out;
  };
  const fetchBlocks = async (blocks: number[]) => {
    const out = await records.fetchBlocks(blocks);
    marks.recordsEnd = performance.now();
    return out;
  };
  const passes: MillionPass[] = [];
  for (const shortlist of opts.shortlists) {
    const warm = { cache: new Map() as BlockCache, codeCache: new Map() as CodeCache, meta: new Set<number>() };
    for (const pass of ['cold', 'warm'] as const) {
      const p: MillionPass = {
        shortlist,
        candidates: opts.candidates,
        pass,
        totalMs: [],
        signStageMs: [],
        signKernelMs: [],
        codeStageMs: [],
        codeFetchMs: [],
        toPrefilterMs: [],
        rerankMs: [],
        afterRecordsMs: [],
        codesBytes: [],
        codesRequests: [],
        recordsBytes: [],
        recordsRequests: [],
        metaBytes: [],
        metaRequests: [],
        results: [],
      };
      for (const [qi, q] of queries.entries()) {
        const caches = pass === 'cold' ? { cache: new Map() as BlockCache, codeCache: new Map() as CodeCache, meta: new Set<number>() } : warm;
        const before = [codesCount.bytes, codesCount.requests, recordsCount.bytes, recordsCount.requests, metaCount.bytes, metaCount.requests];
        marks = { signStart: 0, signEnd: 0, codeStart: 0, codeEnd: 0, recordsEnd: 0, prefilter: 0 };
        const t = performance.now();
        const ranking = await rankTiered(
          { head },
          { parts: [{ part: { kind: 'text', text: `query ${qi}` }, weight: 1 }], method: 'first-moment', topK: top },
          async () => q,
          {
            candidates: opts.candidates,
            shortlist,
            fetchBlocks,
            cache: caches.cache,
            fetchCodeBlocks,
            codeCache: caches.codeCache,
            scorer,
            onPrefilter: () => void (marks.prefilter = performance.now()),
          },
        );
        const end = performance.now();
        // The top 10's metadata, as the app shows them: each block's shard once, checked against the MetaTable.
        if (head.meta) {
          for (const b of new Set(ranking.results.map((r) => head.directory[r.index]!.block))) {
            if (caches.meta.has(b)) continue;
            await fetchBytes(`${base}meta/${b}.json`, { ...head.meta[b]!, fetchImpl: metaCount.fetch });
            caches.meta.add(b);
          }
        }
        const cold = pass === 'cold';
        p.totalMs.push(end - t);
        p.signKernelMs.push(marks.signEnd - marks.signStart);
        p.signStageMs.push(cold && marks.codeStart ? marks.codeStart - t : NaN);
        p.codeStageMs.push(cold && marks.codeStart ? marks.prefilter - marks.codeStart : NaN);
        p.codeFetchMs.push(cold && marks.codeStart ? marks.codeEnd - marks.codeStart : NaN);
        p.toPrefilterMs.push(marks.prefilter - t);
        p.rerankMs.push(end - marks.prefilter);
        p.afterRecordsMs.push(end - (marks.recordsEnd || marks.prefilter));
        p.codesBytes.push(codesCount.bytes - before[0]!);
        p.codesRequests.push(codesCount.requests - before[1]!);
        p.recordsBytes.push(recordsCount.bytes - before[2]!);
        p.recordsRequests.push(recordsCount.requests - before[3]!);
        p.metaBytes.push(metaCount.bytes - before[4]!);
        p.metaRequests.push(metaCount.requests - before[5]!);
        p.results.push(ranking.results.map((r) => r.index));
        if (cold) {
          opts.onCold?.(shortlist, qi, ranking);
          for (const [b, v] of caches.cache) warm.cache.set(b, v);
          for (const [b, v] of caches.codeCache) warm.codeCache.set(b, v);
          for (const b of caches.meta) warm.meta.add(b);
        }
      }
      if (fetchRetries.count) opts.progress?.(`${fetchRetries.count} fetches failed and were retried once; the first: ${fetchRetries.first}`);
      opts.progress?.(
        `1M shortlist ${shortlist}, K ${opts.candidates}, ${pass}: ${median(p.totalMs).toFixed(0)} ms/query (sign kernel ${median(p.signKernelMs).toFixed(1)} ms), ` +
          `codes ${(median(p.codesBytes) / 1e6).toFixed(2)} MB in ${median(p.codesRequests)} requests, records ${(median(p.recordsBytes) / 1e6).toFixed(2)} MB in ${median(p.recordsRequests)}`,
      );
      passes.push(p);
    }
  }
  return passes;
}
