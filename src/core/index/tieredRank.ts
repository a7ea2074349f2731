import { AppError } from '../io/errors.ts';
import type { MatchCalibration } from './manifest.ts';
import type { TieredHead } from './tieredHead.ts';
import type { TieredRecord } from './tieredRecords.ts';
import { lowRankLogDensity } from './lowRankGaussian.ts';
import { ensureBlocks, ensureCodeBlocks, type BlockCache, type CodeCache } from './tieredQuery.ts';
import { gatherCodes } from './codeBlocks.ts';
import { gaussianProxyScores, int8CosineScores, signAgreementScores, type Int8Means } from '../scoring/prefilter.ts';
import { lowRankScoresKernel, type PrefilterKernel } from '../scoring/tieredKernels.ts';
import { judgeMatch, type MatchVerdict } from '../scoring/matchQuality.ts';
import { checkedEmbedding, checkSamples, embedSamplesMean, partKind, type EmbedPart, type QueryPart, type RankQuery } from '../scoring/rank.ts';
import { hasFilters } from '../scoring/queryFilters.ts';
import { SEARCH_DEFAULTS } from '../scoring/defaults.ts';
import { topK, type Ranked } from '../scoring/topK.ts';
import { autoMethod, type Method, type QueryKind } from '../scoring/methods.ts';

/**
 * The ranking of one query against a tiered (version 2) index — what rank.ts is for version 1, in
 * two stages: a prefilter over the head ranks every model at once (reported through `onPrefilter`),
 * then the top K candidates' records are fetched (only blocks not cached) and reranked exactly.
 * Shared by the worker, the CLI and the benchmarks; fetching and caching belong to the caller.
 *
 * A tiered index supports the methods its records carry: Gaussian density (Auto, prefiltered by the
 * Gaussian-shaped proxy) and the 1st moment (prefiltered by the int8 cosine, reranked with the
 * float32 means). Field filters and hybrid metadata fusion need every model's metadata, which a
 * tiered index does not load: they are refused with a message, never silently ignored.
 */
export const TIERED_METHODS: readonly Method[] = ['gaussian', 'first-moment'];

/**
 * Candidates reranked by default. bench:scale measures recall@10 against exhaustive exact GD for
 * several K (docs/benchmarks.md, "Scale"); K = 50 keeps a cold query's fetch to a few MB there.
 */
export const DEFAULT_CANDIDATES = 50;
export const MAX_CANDIDATES = 2000;
/**
 * Sign-coded heads (1M models): models kept from the sign-code stage, whose int8 means are then
 * fetched from codes.bin to pick the K candidates. bench:scale measures recall@10 against exhaustive
 * 1st moment at 1M for several shortlists (docs/benchmarks.md, "Scale").
 */
export const DEFAULT_SHORTLIST = 1000;
export const MAX_SHORTLIST = 20_000;

export interface TieredRankable {
  head: TieredHead;
  calibration?: MatchCalibration;
  nullText?: Float32Array[];
  /** Model id → position, for "more like this" (only the ids of models already shown need be known). */
  idOf?: (modelId: string) => number | undefined;
  /**
   * Models ranked with the index but not in it (the visitor's own, docs/local-models.md): their
   * records as the index would store them. They are always candidates, scored exactly; model i is
   * position head.count + i.
   */
  local?: TieredLocal;
}

export interface TieredLocal {
  ids: readonly string[];
  /** Decoded from the record bytes the index would hold (decodeRecord(encodeRecord(…))). */
  records: readonly TieredRecord[];
}

/** A model's position: the head's (target.idOf), else a local model's (head.count + i). */
export function tieredIdOf(target: TieredRankable, modelId: string): number | undefined {
  const m = target.idOf?.(modelId);
  if (m !== undefined) return m;
  const i = target.local?.ids.indexOf(modelId) ?? -1;
  return i >= 0 ? target.head.count + i : undefined;
}

export interface TieredRankOptions {
  /** Candidates kept from the prefilter (default DEFAULT_CANDIDATES). */
  candidates?: number;
  fetchBlocks: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  /** Verified, decoded blocks kept across queries (warm queries fetch nothing). */
  cache: BlockCache;
  /**
   * Who computes the scores: the WASM SIMD kernels (kernelScorer), a GPU (the worker's WebGPU
   * scorer), or, without one, prefilter.ts's and lowRankGaussian.ts's JS functions.
   */
  scorer?: TieredScorer;
  /** The prefilter's ranking (top `topK`), before any record is fetched. */
  onPrefilter?: (prefilter: Ranked[]) => void | Promise<void>;
  /** Sign-coded heads: models kept from the sign stage (default DEFAULT_SHORTLIST; never fewer than K). */
  shortlist?: number;
  /** Sign-coded heads: raw blocks of codes.bin by number (each exactly its entry's bytes). */
  fetchCodeBlocks?: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  /** Sign-coded heads: verified, decoded code blocks kept across queries. */
  codeCache?: CodeCache;
}

/** The two stages' arithmetic, by an engine that can do it faster than the JS reference functions (same results). */
export interface TieredScorer {
  /** Stage 1 for one query vector: the Gaussian proxy (gaussianProxyScores) or the int8 cosine (int8CosineScores) of every model, into `out`. */
  prefilter(method: Method, query: Float32Array, out: Float32Array): Promise<void> | void;
  /** Stage 1 of a sign-coded head: signAgreementScores of every model, into `out` (absent: prefilter.ts's JS). */
  signs?(query: Float32Array, out: Float32Array): Promise<void> | void;
  /** Stage 2: lowRankLogDensity of each record. */
  logDensities(records: readonly TieredRecord[], query: Float32Array): Promise<ArrayLike<number>> | ArrayLike<number>;
}

/** The WASM SIMD kernels (tieredKernels.ts; made once per head): prefilter.ts's scores ~13× faster, log-densities equal to ~1e-16. */
export function kernelScorer(kernel: PrefilterKernel): TieredScorer {
  return {
    prefilter: (method, q, out) => void (method === 'gaussian' ? kernel.proxyScores(q, out) : kernel.cosineScores(q, out)),
    ...(kernel.engines.signs ? { signs: (q: Float32Array, out: Float32Array) => void kernel.signScores(q, out) } : {}),
    logDensities: (records, q) => lowRankScoresKernel(records, q),
  };
}

export interface TieredRanking {
  method: Method;
  kinds: QueryKind[];
  /** The prefilter's top `topK` (its scores are the proxy's, not the method's). */
  prefilter: Ranked[];
  /** The exact ranking of the candidates and local models (top `topK`), rank order. */
  results: Ranked[];
  /** Every candidate with its exact score, prefilter order, then the local models (but a local query model). */
  candidates: Ranked[];
  /**
   * The prefilter's score of every model, index order (−∞ for the query model). A sign-coded head
   * scores only its shortlist this way (int8 means from codes.bin): NaN for the other models.
   * Local models follow the head's (head.count + i), with their exact scores.
   */
  prefilterScores: Float32Array;
  /** Blocks fetched for this query (not cached before). */
  fetched: number[];
  /** Sign-coded heads: the shortlist's size, and the code blocks fetched for it (not cached before). */
  signStage?: { shortlist: number; codeBlocksFetched: number[] };
  queryModel: number;
  match: MatchVerdict;
}

function planTiered<I>(target: TieredRankable, query: RankQuery<I>): { parts: RankQuery<I>['parts']; method: Method; kinds: QueryKind[]; topK: number } {
  if (!Array.isArray(query.parts) || !query.parts.some((p) => p.weight > 0)) {
    if (query.filters && hasFilters(query.filters)) throw new AppError('bad-query', 'Listing models by field filters needs every model’s metadata, which this large (tiered) index does not load. Add text or an image to search with.');
    throw new AppError('bad-query', 'Enter some text, add an image or pick a model to search with.');
  }
  if (query.filters && hasFilters(query.filters)) throw new AppError('bad-query', 'Field filters are not available on this large (tiered) index: they need every model’s metadata. Search without them.');
  if ((query.hybridWeight ?? 0) > 0) throw new AppError('bad-query', 'Metadata (hybrid) ranking is not available on this large (tiered) index. Set its weight to 0.');
  for (const { part, weight } of query.parts) {
    if (!Number.isFinite(weight) || weight < 0 || weight > 1e6) throw new AppError('bad-query', 'Query weights must be non-negative numbers (at most 1 000 000).');
    if (part.kind === 'text' && !part.text.trim()) throw new AppError('bad-query', 'Type a description of the images you are looking for.');
    if (part.kind === 'model' && tieredIdOf(target, part.modelId) === undefined) throw new AppError('bad-query', `The model “${part.modelId.slice(0, 200)}” is not in this index.`);
    if (part.kind === 'samples') checkSamples(part);
  }
  const parts = query.parts.filter((p) => p.weight > 0).map((p) => (p.part.kind === 'text' ? { ...p, part: { kind: 'text' as const, text: p.part.text.trim() } } : p));
  if (parts.some((p) => p.part.kind === 'model' || p.part.kind === 'samples') && parts.length > 1) throw new AppError('bad-query', 'A model (or a set of sample images) can only be used as a query on its own.');
  const kinds = parts.map((p) => partKind(p.part));
  const requested = query.method ?? 'auto';
  // Auto as on a version 1 index (methods.ts autoMethod): the calibration measured each kind's threshold with it.
  const method: Method = kinds[0] === 'model' ? 'first-moment' : requested === 'auto' ? autoMethod(TIERED_METHODS, kinds) : requested;
  if (!TIERED_METHODS.includes(method)) throw new AppError('bad-query', `This large (tiered) index does not support the ${String(method)} method (it has: ${TIERED_METHODS.join(', ')}).`);
  const k = query.topK ?? SEARCH_DEFAULTS.topK;
  if (!(Number.isInteger(k) && k >= 1)) throw new AppError('bad-query', 'The number of results must be a whole number of at least 1.');
  return { parts, method, kinds, topK: k };
}

/** The candidate count a query may ask for: a whole number in [1, MAX_CANDIDATES]. */
export function candidateCount(k: number | undefined): number {
  const c = k ?? DEFAULT_CANDIDATES;
  if (!(Number.isInteger(c) && c >= 1 && c <= MAX_CANDIDATES)) throw new AppError('bad-query', `The number of candidates K must be a whole number from 1 to ${MAX_CANDIDATES}.`);
  return c;
}

/** Exact 1st-moment cosine from a record's float32 mean (0 for a zero mean), as firstMomentScores. */
export function recordCosine(record: { mean: ArrayLike<number> }, q: ArrayLike<number>): number {
  let dot = 0;
  let ss = 0;
  for (let j = 0; j < q.length; j++) {
    dot += record.mean[j]! * q[j]!;
    ss += record.mean[j]! * record.mean[j]!;
  }
  return ss > 0 ? dot / Math.sqrt(ss) : 0;
}

export async function rankTiered<I>(
  target: TieredRankable,
  query: RankQuery<I>,
  embed: (part: EmbedPart<I>) => Promise<Float32Array>,
  opts: TieredRankOptions,
): Promise<TieredRanking> {
  const { head } = target;
  const { parts, method, kinds, topK: count } = planTiered(target, query);
  const k = Math.min(candidateCount(opts.candidates), head.count);
  const local = target.local?.records ?? [];
  if (target.local && target.local.ids.length !== local.length) throw new Error('local models: ids and records differ in number');
  const recordOf = async (m: number): Promise<TieredRecord> => {
    if (m >= head.count) return local[m - head.count]!;
    const block = head.directory[m]!.block;
    await ensureBlocks(head, [block], opts.cache, opts.fetchBlocks);
    return opts.cache.get(block)!.get(m)!;
  };

  // Each part's query vector: an embedding, or the query model's own float32 mean.
  const vectors: { q: Float32Array; weight: number }[] = [];
  const judged: { kind: QueryKind; embedding?: Float32Array }[] = [];
  let queryModel = -1;
  for (const [i, { part, weight }] of parts.entries()) {
    if (part.kind === 'model') {
      queryModel = tieredIdOf(target, part.modelId)!;
      vectors.push({ q: (await recordOf(queryModel)).mean, weight });
      judged.push({ kind: 'model' });
    } else if (part.kind === 'samples') {
      // Their mean as a unit vector: the 1st-moment cosine, as rank() scores a samples part.
      const mean = await embedSamplesMean(part.images, head.dim, embed);
      const norm = Math.hypot(...mean);
      vectors.push({ q: norm > 0 ? mean.map((v) => v / norm) : mean, weight });
      judged.push({ kind: 'model' });
    } else {
      const embedding = checkedEmbedding(await embed(part), head.dim, kinds[i]!);
      vectors.push({ q: embedding, weight });
      judged.push({ kind: kinds[i]!, embedding });
    }
  }

  // Stage 1: every model, from the head. A text + image query sums the parts' weighted scores (product of experts).
  const stage = head.prefilter ? await int8Stage(head, vectors, method, opts.scorer) : await signStage(head, vectors, method, Math.max(k, shortlistCount(opts.shortlist)), queryModel, opts);
  const headScores = stage.scores;
  if (queryModel >= 0 && queryModel < head.count) headScores[queryModel] = -Infinity;
  const candidates = (stage.shortlist ? topK(stage.shortlist.scores, k).map((c) => ({ index: stage.shortlist!.models[c.index]!, score: c.score })) : topK(headScores, k)).filter((c) => c.score > -Infinity);
  const prefilter = candidates.slice(0, count);
  await opts.onPrefilter?.(prefilter);

  // Stage 2: the candidates' records (missing blocks fetched and verified) and the local models' (but
  // the query model), scored exactly by the same engine.
  const fetched = await ensureBlocks(head, candidates.map((c) => head.directory[c.index]!.block), opts.cache, opts.fetchBlocks);
  const records = candidates.map((c) => opts.cache.get(head.directory[c.index]!.block)!.get(c.index)!);
  local.forEach((record, i) => {
    if (head.count + i === queryModel) return;
    candidates.push({ index: head.count + i, score: NaN });
    records.push(record);
  });
  const exact = new Float32Array(candidates.length);
  for (const { q, weight } of vectors) {
    const densities = method === 'gaussian' && opts.scorer ? await opts.scorer.logDensities(records, q) : null;
    records.forEach((record, i) => {
      exact[i] += weight * (densities ? densities[i]! : method === 'gaussian' ? lowRankLogDensity(record, q) : recordCosine(record, q));
    });
  }
  exact.forEach((s, i) => {
    if ((Number.isNaN(s) || s === Infinity) && candidates[i]!.index >= head.count) throw new Error(`Local model “${target.local!.ids[candidates[i]!.index - head.count]!.slice(0, 140)}” scores ${s}: its record is inconsistent.`);
    if (Number.isNaN(s) || s === Infinity) throw new AppError('index-format', `Model #${candidates[i]!.index} scores ${Number.isNaN(s) ? 'NaN' : '+∞'}: this index's record for it is inconsistent, so it cannot be ranked. Rebuild the index.`);
  });
  const results = topK(exact, Math.min(count, candidates.length)).map((r) => ({ index: candidates[r.index]!.index, score: r.score }));
  // Local models have no prefilter score: their exact one (−∞ for a local query model).
  let pre = headScores;
  if (local.length) {
    pre = new Float32Array(head.count + local.length).fill(-Infinity);
    pre.set(headScores);
    candidates.forEach((c, i) => c.index >= head.count && (pre[c.index] = exact[i]!));
  }
  return {
    method,
    kinds,
    prefilter,
    results,
    candidates: candidates.map((c, i) => ({ index: c.index, score: exact[i]! })),
    prefilterScores: pre,
    fetched,
    ...(stage.shortlist ? { signStage: { shortlist: stage.shortlist.models.length, codeBlocksFetched: stage.shortlist.fetched } } : {}),
    queryModel,
    match: judgeMatch(target.calibration, target.nullText ?? [], judged, method, exact),
  };
}

/** The shortlist size a query may ask for: a whole number in [1, MAX_SHORTLIST]. */
export function shortlistCount(n: number | undefined): number {
  const s = n ?? DEFAULT_SHORTLIST;
  if (!(Number.isInteger(s) && s >= 1 && s <= MAX_SHORTLIST)) throw new AppError('bad-query', `The shortlist must be a whole number from 1 to ${MAX_SHORTLIST}.`);
  return s;
}

type QueryVectors = readonly { q: Float32Array; weight: number }[];
interface Stage1 {
  /** Every model's prefilter score (index order; NaN where a sign-coded head did not score it). */
  scores: Float32Array;
  /** A sign-coded head: the shortlisted models, their int8 scores (same order), the code blocks fetched. */
  shortlist?: { models: number[]; scores: Float32Array; fetched: number[] };
}

/**
 * Σ weight · score(q) over the query's parts, for every model. One part of weight 1 (most queries)
 * is scored straight into the result: at 1M models the sum and a second array cost as much as the
 * WASM sign kernel itself.
 */
async function weightedSum(count: number, vectors: QueryVectors, score: (q: Float32Array, out: Float32Array<ArrayBuffer>) => Promise<void> | void): Promise<Float32Array> {
  const total = new Float32Array(count);
  if (vectors.length === 1 && vectors[0]!.weight === 1) {
    await score(vectors[0]!.q, total);
    return total;
  }
  const part = new Float32Array(count);
  for (const { q, weight } of vectors) {
    await score(q, part);
    for (let m = 0; m < count; m++) total[m] += weight * part[m]!;
  }
  return total;
}

/** An int8 head: the Gaussian proxy or the int8 cosine of every model. */
async function int8Stage(head: TieredHead, vectors: QueryVectors, method: Method, scorer: TieredScorer | undefined): Promise<Stage1> {
  return { scores: await weightedSum(head.count, vectors, async (q, out) => (scorer ? scorer.prefilter(method, q, out) : scoreInt8(head.prefilter!, head.proxy!, method, q, out))) };
}

function scoreInt8(means: Int8Means, proxy: { precision: Float32Array; logDet: Float32Array }, method: Method, q: Float32Array, out: Float32Array<ArrayBuffer>): void {
  if (method === 'gaussian') gaussianProxyScores(means, proxy.precision, proxy.logDet, q, out);
  else int8CosineScores(means, q, out);
}

/**
 * A sign-coded head: sign agreement over every model keeps a shortlist; the shortlist's code blocks
 * (int8 means and proxy terms, codes.bin) are fetched and verified, and the shortlist is scored as
 * an int8 head scores every model. Models outside the shortlist are not scored (NaN).
 */
async function signStage(head: TieredHead, vectors: QueryVectors, method: Method, size: number, queryModel: number, opts: TieredRankOptions): Promise<Stage1> {
  const { fetchCodeBlocks, codeCache } = opts;
  if (!head.signs || !head.codeBlocks) throw new Error('A head without int8 means needs sign codes and code blocks.');
  if (!fetchCodeBlocks || !codeCache) throw new Error('Ranking a sign-coded head needs fetchCodeBlocks and a codeCache.');
  const codes = head.signs;
  const signs = await weightedSum(head.count, vectors, async (q, out) => (opts.scorer?.signs ? opts.scorer.signs(q, out) : void signAgreementScores(codes, q, out)));
  if (queryModel >= 0) signs[queryModel] = -Infinity;
  const models = topK(signs, Math.min(size, head.count)).filter((c) => c.score > -Infinity).map((c) => c.index);
  const blockOf = (m: number) => head.directory[m]!.block;
  const fetched = await ensureCodeBlocks(head, models.map(blockOf), codeCache, fetchCodeBlocks);
  const { means, precision, logDet } = gatherCodes(models, (m) => codeCache.get(blockOf(m))!, head.dim);
  const scores = new Float32Array(models.length);
  const sub = new Float32Array(models.length);
  for (const { q, weight } of vectors) {
    scoreInt8(means, { precision, logDet }, method, q, sub);
    for (let i = 0; i < models.length; i++) scores[i] += weight * sub[i]!;
  }
  const all = new Float32Array(head.count).fill(NaN);
  models.forEach((m, i) => (all[m] = scores[i]!));
  return { scores: all, shortlist: { models, scores, fetched } };
}
