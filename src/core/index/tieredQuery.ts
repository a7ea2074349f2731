import { AppError } from '../io/errors.ts';
import { lowRankLogDensity } from './lowRankGaussian.ts';
import type { TieredHead } from './tieredHead.ts';
import { openBlock, type TieredRecord } from './tieredRecords.ts';
import { openCodeBlock, type CodeBlock } from './codeBlocks.ts';
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
  cache?: BlockCache;
  /** The prefilter: the Gaussian-shaped proxy (default; ranks like the rerank) or the 1st-moment cosine. */
  prefilter?: 'gaussian' | 'cosine';
  /** Called with the prefilter's ranking as soon as it exists, before any block is fetched. */
  onPrefilter?: (ranking: Ranked[]) => void;
}

/** Verified, decoded blocks by number: kept across queries, so warm queries fetch nothing. */
export type BlockCache = Map<number, Map<number, TieredRecord>>;

/**
 * Makes sure `blocks` are in `cache`: the missing ones are fetched in one call, verified against
 * their SHA-256 and decoded (openBlock). Returns the block numbers fetched (sorted, unique).
 */
export async function ensureBlocks(head: TieredHead, blocks: readonly number[], cache: BlockCache, fetchBlocks: TwoStageOptions['fetchBlocks']): Promise<number[]> {
  const missing = [...new Set(blocks)].filter((b) => !cache.has(b)).sort((a, b) => a - b);
  if (!missing.length) return missing;
  const raw = await fetchBlocks(missing);
  for (const b of missing) {
    const bytes = raw.get(b);
    if (!bytes) throw new AppError('http', `Block ${b} was not delivered.`, 'records.bin');
    try {
      cache.set(b, await openBlock(bytes, head.blocks[b]!, head.directory, head.dim, b));
    } catch (err) {
      // A block that fails its hash or layout is the host's fault (or a cache's): say which, keep nothing of it.
      throw new AppError('integrity', err instanceof Error ? err.message : String(err), 'records.bin');
    }
  }
  return missing;
}

/** Verified, decoded code blocks of a sign-coded head (codes.bin) by number, kept across queries. */
export type CodeCache = Map<number, CodeBlock>;

/**
 * Makes sure the code blocks `blocks` of a sign-coded head are in `cache`: the missing ones fetched
 * in one call, checked against the CodesTable's SHA-256 and decoded (openCodeBlock). Returns those fetched.
 */
export async function ensureCodeBlocks(head: TieredHead, blocks: readonly number[], cache: CodeCache, fetchCodeBlocks: TwoStageOptions['fetchBlocks']): Promise<number[]> {
  const entries = head.codeBlocks;
  if (!entries) throw new Error('This head keeps its int8 means itself: it has no code blocks.');
  const missing = [...new Set(blocks)].filter((b) => !cache.has(b)).sort((a, b) => a - b);
  if (!missing.length) return missing;
  const raw = await fetchCodeBlocks(missing);
  for (const b of missing) {
    const bytes = raw.get(b);
    if (!bytes) throw new AppError('http', `Code block ${b} was not delivered.`, 'codes.bin');
    try {
      cache.set(b, await openCodeBlock(bytes, entries[b]!, head.dim, b));
    } catch (err) {
      throw new AppError('integrity', err instanceof Error ? err.message : String(err), 'codes.bin');
    }
  }
  return missing;
}

export interface TwoStageResult {
  prefilter: Ranked[];
  exact: Ranked[];
  /** Blocks fetched for this query (not in the cache before). */
  fetched: number[];
}

export async function twoStageQuery(head: TieredHead, query: Float32Array, opts: TwoStageOptions): Promise<TwoStageResult> {
  if (!(Number.isInteger(opts.k) && opts.k >= 1)) throw new Error(`K must be a positive integer, got ${opts.k}.`);
  const cache: BlockCache = opts.cache ?? new Map();
  const { prefilter: means, proxy } = head;
  if (!means || !proxy) throw new Error('twoStageQuery needs a head with int8 means; rank a sign-coded head with rankTiered.');
  const pre = opts.prefilter === 'cosine' ? int8CosineScores(means, query) : gaussianProxyScores(means, proxy.precision, proxy.logDet, query);
  const candidates = topK(pre, Math.min(opts.k, head.count));
  opts.onPrefilter?.(candidates.slice(0, opts.top));
  const missing = await ensureBlocks(head, candidates.map((c) => head.directory[c.index]!.block), cache, opts.fetchBlocks);
  const scores = new Float32Array(candidates.length);
  candidates.forEach((c, i) => {
    const record = cache.get(head.directory[c.index]!.block)!.get(c.index)!;
    scores[i] = lowRankLogDensity(record, query);
  });
  const exact = topK(scores, opts.top).map((r) => ({ index: candidates[r.index]!.index, score: r.score }));
  return { prefilter: candidates.slice(0, opts.top), exact, fetched: missing };
}
