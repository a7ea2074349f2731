import { lowRankLogDensity } from './lowRankGaussian.ts';
import type { TieredHead } from './tieredHead.ts';
import { openBlock, type TieredRecord } from './tieredRecords.ts';
import { gaussianProxyScores, int8CosineScores } from '../scoring/prefilter.ts';
import { topK, type Ranked } from '../scoring/topK.ts';

/**
 * The two-stage query over a tiered index (issue 15): a prefilter over the head ranks every model
 * (by default the Gaussian-shaped proxy of prefilter.ts, from the int8 means and two floats a model); the top K candidates' blocks are fetched (only those not cached), verified and decoded; the
 * candidates are reranked by their exact (or PPCA) Gaussian density. Fetching is the caller's
 * (`fetchBlocks`: Range requests, IndexedDB, files), so the same code runs in the worker and in Node.
 */
export interface TwoStageOptions {
  /** Candidates kept from the prefilter. */
  k: number;
  /** Results returned. */
  top: number;
  /** Fetches raw blocks by number (each exactly its table entry's bytes), e.g. coalesced Range reads. */
  fetchBlocks: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  /** Decoded records of blocks already verified (kept across queries: warm queries fetch nothing). */
  cache?: Map<number, Map<number, TieredRecord>>;
  /** The prefilter: the Gaussian-shaped proxy (default; ranks like the rerank) or the 1st-moment cosine. */
  prefilter?: 'gaussian' | 'cosine';
  /** Called with the prefilter's ranking as soon as it exists, before any block is fetched. */
  onPrefilter?: (ranking: Ranked[]) => void;
}

export interface TwoStageResult {
  prefilter: Ranked[];
  exact: Ranked[];
  /** Blocks fetched for this query (not in the cache before). */
  fetched: number[];
}

export async function twoStageQuery(head: TieredHead, query: Float32Array, opts: TwoStageOptions): Promise<TwoStageResult> {
  if (!(Number.isInteger(opts.k) && opts.k >= 1)) throw new Error(`K must be a positive integer, got ${opts.k}.`);
  const cache = opts.cache ?? new Map<number, Map<number, TieredRecord>>();
  const pre = opts.prefilter === 'cosine' ? int8CosineScores(head.prefilter, query) : gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, query);
  const candidates = topK(pre, Math.min(opts.k, head.count));
  opts.onPrefilter?.(candidates.slice(0, opts.top));
  const needed = [...new Set(candidates.map((c) => head.directory[c.index]!.block))].sort((a, b) => a - b);
  const missing = needed.filter((b) => !cache.has(b));
  if (missing.length) {
    const raw = await opts.fetchBlocks(missing);
    for (const b of missing) {
      const bytes = raw.get(b);
      if (!bytes) throw new Error(`Block ${b} was not delivered.`);
      cache.set(b, await openBlock(bytes, head.blocks[b]!, head.directory, head.dim, b));
    }
  }
  const scores = new Float32Array(candidates.length);
  candidates.forEach((c, i) => {
    const record = cache.get(head.directory[c.index]!.block)!.get(c.index)!;
    scores[i] = lowRankLogDensity(record, query);
  });
  const exact = topK(scores, opts.top).map((r) => ({ index: candidates[r.index]!.index, score: r.score }));
  return { prefilter: candidates.slice(0, opts.top), exact, fetched: missing };
}
