import { AppError } from '../io/errors.ts';
import type { SearchIndex } from '../index/indexFormat.ts';
import type { MatchCalibration, ModelMeta } from '../index/manifest.ts';
import { sampleMean } from '../index/modelEntry.ts';
import { definedOnly, SEARCH_DEFAULTS } from './defaults.ts';
import { applyFilterMask, createMetadataSearch, hybridScores, metadataRelevance, type MetadataSearch } from './hybrid.ts';
import {
  autoMethod,
  meanSimilarityScores,
  METHOD_INFO,
  modelSimilarityScores,
  nearestSample,
  projectedMeanSimilarityScores,
  projectedModelSimilarityScores,
  productOfExperts,
  scoreMethod,
  supportedMethods,
  validateParams,
  type Method,
  type MethodParams,
  type QueryKind,
} from './methods.ts';
import { judgeMatch, type MatchVerdict } from './matchQuality.ts';
import { countMatching, facetCounts, hasFilters, matchesFilters, type FacetCounts, type FieldFilters } from './queryFilters.ts';
import { topK } from './topK.ts';

/**
 * The ranking of one query against one index — the single implementation behind the worker, the
 * search CLI and the eval: validation, Auto per query kind, every method, product of experts,
 * field filters, hybrid metadata fusion, leaving out the query model, top-k, facets and counts.
 * Encoding stays with the caller (onnxruntime-web in the worker, onnxruntime-node in Node): it is
 * passed in as `embed`. `I` is how the caller carries an image (a Blob, a file path, bytes).
 */

/**
 * One part of a query: text, an image (a photo/file or a sketch), a model of the index, or sample
 * images of a model that is not in the index ("models like these images": ranked as "more like
 * this" from a model built from them; `label` names them for people).
 */
export type QueryPart<I> =
  | { kind: 'text'; text: string }
  | { kind: 'image'; image: I; source?: 'file' | 'sketch' }
  | { kind: 'model'; modelId: string }
  | { kind: 'samples'; images: I[]; label?: string };

/** The parts the caller's encoder embeds (a samples part is embedded one image part at a time). */
export type EmbedPart<I> = Extract<QueryPart<I>, { kind: 'text' | 'image' }>;

/** How many images a samples part may hold. */
export const MAX_SAMPLE_IMAGES = 1000;

export interface RankQuery<I> {
  /**
   * One part, or text + image for a product-of-experts query. None, with field filters: a listing
   * of the models the filters match, by name (nothing is scored).
   */
  parts: { part: QueryPart<I>; weight: number }[];
  /** A method, or 'auto' (the default): the best the index supports for the query kind. */
  method?: Method | 'auto';
  /** k for best-k, T for Monte-Carlo / 1st+2nd moment (default: the index's temperature). */
  params?: MethodParams;
  /** How many results (default SEARCH_DEFAULTS.topK). */
  topK?: number;
  /** Only models whose metadata matches rank (AND across fields, OR within one). */
  filters?: FieldFilters;
  /** Weight in [0, 1] of metadata relevance of the text part, fused by reciprocal rank; 0 = content only. */
  hybridWeight?: number;
  /** A tiered index only: candidates K the prefilter keeps for the exact rerank (index/tieredRank.ts). */
  candidates?: number;
}

/** What ranking needs of an opened index (OpenedIndex from index/openIndex.ts is one). */
export interface RankableIndex {
  index: SearchIndex;
  models: ModelMeta[];
  /** Model id → position; ids are unique. */
  ids: Map<string, number>;
  /** The encoder's logit scale the index was built for. */
  temperature: number;
  /** What "nothing matches" means on this index (manifest.calibration), and its content-free text embeddings decoded. */
  calibration?: MatchCalibration;
  nullText?: Float32Array[];
}

export interface RankedResult {
  rank: number;
  /** Position of the model in the index. */
  index: number;
  /** The ranking score: the method's score, or the fused score in hybrid mode. */
  score: number;
  /** The method's content score. */
  contentScore: number;
  /**
   * Which of the model's thumbnails shows its sample nearest the query ("why this model"), or −1
   * (no kept samples, no thumbnails, or a text + image query, whose two parts may disagree).
   */
  nearestThumbnail: number;
}

export interface Ranking {
  /** The method used (Auto resolved; model queries compare means: 1st moment, or fine-tuned = projected means). */
  method: Method;
  /** What the query was made of, one kind per part; none for a listing (filters only). */
  kinds: QueryKind[];
  results: RankedResult[];
  /** The content score of every model in index order (filters ignored; the query model included). */
  scores: Float32Array;
  /** How many models pass the filters. */
  matched: number;
  facets: FacetCounts;
  /** Whether hybrid fusion shaped the ranking (the query had text and a non-zero weight). */
  hybrid: boolean;
  /** Position of the model a "more like this" query used (left out of the results), or −1. */
  queryModel: number;
  /** The temperature the scores used. */
  temperature: number;
  /** Whether anything matches: a content-free query or one no better than content-free ones is not a real ranking. */
  match: MatchVerdict;
}

/** The kind of a query part; sketches are images drawn in the app; sample images rank as a model. */
export function partKind(part: QueryPart<unknown>): QueryKind {
  if (part.kind === 'image') return part.source === 'sketch' ? 'sketch' : 'image';
  if (part.kind === 'samples') return 'model';
  return part.kind;
}

/** How many results a query asks for (SEARCH_DEFAULTS.topK when it does not say); a bad count is a bad query. */
function resultCount(topK: number | undefined): number {
  const k = topK ?? SEARCH_DEFAULTS.topK;
  if (!(Number.isInteger(k) && k >= 1)) throw new AppError('bad-query', 'The number of results must be a whole number of at least 1.');
  return k;
}

/**
 * Rejects malformed queries with a message a person can act on, before anything is encoded.
 * Returns the parts that take part (weight > 0), text trimmed, and the method to use.
 */
export function planQuery<I>(
  target: RankableIndex,
  query: RankQuery<I>,
): { parts: RankQuery<I>['parts']; method: Method; kinds: QueryKind[]; hybridWeight: number; topK: number } {
  if (!Array.isArray(query.parts) || !query.parts.length) {
    throw new AppError('bad-query', 'Enter some text, add an image or pick a model to search with.');
  }
  for (const { part, weight } of query.parts) {
    if (!Number.isFinite(weight) || weight < 0 || weight > 1e6) throw new AppError('bad-query', 'Query weights must be non-negative numbers (at most 1 000 000).');
    if (part.kind === 'text' && !part.text.trim()) throw new AppError('bad-query', 'Type a description of the images you are looking for.');
    if (part.kind === 'model' && !target.ids.has(part.modelId)) throw new AppError('bad-query', `The model “${part.modelId.slice(0, 200)}” is not in this index.`);
    if (part.kind === 'samples') checkSamples(part);
  }
  const parts = query.parts
    .filter((p) => p.weight > 0)
    .map((p) => (p.part.kind === 'text' ? { ...p, part: { kind: 'text' as const, text: p.part.text.trim() } } : p));
  if (!parts.length) throw new AppError('bad-query', 'Enter some text, add an image or pick a model to search with.');
  if (parts.some((p) => p.part.kind === 'model') && parts.length > 1) {
    throw new AppError('bad-query', 'A model can only be used as a query on its own.');
  }
  if (parts.some((p) => p.part.kind === 'samples') && parts.length > 1) {
    throw new AppError('bad-query', 'Sample images of a model can only be used as a query on their own.');
  }
  const kinds = parts.map((p) => partKind(p.part));
  const available = supportedMethods(target.index);
  const requested = query.method ?? 'auto';
  if (requested !== 'auto' && !Object.hasOwn(METHOD_INFO, requested)) {
    throw new AppError('bad-query', `There is no method "${String(requested)}" (methods: ${Object.keys(METHOD_INFO).join(', ')}).`);
  }
  // Model (or sample images) as query compares means (cos μa·μb) — projected means when the fine-tuned method is asked for.
  const method: Method =
    kinds[0] === 'model'
      ? requested === 'fine-tuned' && available.includes('fine-tuned') ? 'fine-tuned' : 'first-moment'
      : requested === 'auto' ? autoMethod(available, kinds) : requested;
  if (!available.includes(method)) {
    throw new AppError('bad-query', `This index does not support the ${method} method (it has: ${available.join(', ')}).`);
  }
  const hw = query.hybridWeight ?? SEARCH_DEFAULTS.hybridWeight;
  if (!(Number.isFinite(hw) && hw >= 0 && hw <= 1)) throw new AppError('bad-query', 'The hybrid weight must be between 0 and 1.');
  const k = resultCount(query.topK);
  validateParams(query.params ?? {});
  return { parts, method, kinds, hybridWeight: hw, topK: k };
}

/**
 * A samples part's images embedded one at a time, in order (the worker encodes one at a time
 * anyway), and their mean as the index's Means section would store it.
 */
export async function embedSamplesMean<I>(images: readonly I[], dim: number, embed: (part: EmbedPart<I>) => Promise<Float32Array>): Promise<Float32Array> {
  const rows = new Float32Array(images.length * dim);
  for (const [r, image] of images.entries()) rows.set(checkedEmbedding(await embed({ kind: 'image', image, source: 'file' }), dim, 'image'), r * dim);
  return sampleMean(rows, images.length, dim);
}

/** A samples part holds 1…MAX_SAMPLE_IMAGES images. */
export function checkSamples(part: { images: unknown }): void {
  if (!Array.isArray(part.images) || part.images.length < 1) throw new AppError('bad-query', 'Add at least 1 image of the model to search with.');
  if (part.images.length > MAX_SAMPLE_IMAGES) {
    throw new AppError('bad-query', `A search with sample images takes at most ${MAX_SAMPLE_IMAGES} images (this one has ${part.images.length}).`);
  }
}

const byName = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/**
 * The models `filters` match, by name (then index order), the first `count`: what a query of field
 * filters alone shows. Nothing is scored: scores are NaN, and the verdict is 'ok' (nothing to judge).
 */
export function listModels(target: RankableIndex, filters: FieldFilters, topK?: number): Ranking {
  const count = resultCount(topK);
  const { models, index } = target;
  const matching = models.map((m, i) => i).filter((i) => matchesFilters(models[i], filters));
  matching.sort((a, b) => byName.compare(models[a].name, models[b].name) || a - b);
  return {
    method: autoMethod(supportedMethods(index), ['text']),
    kinds: [],
    results: matching.slice(0, count).map((i, r) => ({ rank: r + 1, index: i, score: NaN, contentScore: NaN, nearestThumbnail: -1 })),
    scores: new Float32Array(index.count).fill(NaN),
    matched: matching.length,
    facets: facetCounts(models, filters),
    hybrid: false,
    queryModel: -1,
    temperature: target.temperature,
    match: { kind: 'ok', best: NaN },
  };
}

/**
 * An encoder's output, refused when it cannot be a unit embedding for this index: a wrong length
 * (another encoder) or a NaN / ∞ (a failing GPU kernel). Scoring it would blame the index's models.
 */
export function checkedEmbedding(embedding: Float32Array, dim: number, kind: QueryKind): Float32Array {
  if (embedding.length !== dim) {
    throw new AppError('encoder-mismatch', `The encoder gave a ${embedding.length}-dimensional embedding for the ${kind} query; this index needs ${dim} dimensions.`);
  }
  let ss = 0;
  for (let j = 0; j < dim; j++) ss += embedding[j] * embedding[j];
  if (!Number.isFinite(ss)) {
    throw new AppError('backend', `The encoder returned an invalid embedding (not a number) for the ${kind} query. Try again, or switch the runtime to WASM.`);
  }
  return embedding;
}

/** The metadata text index of a model list, built on the first hybrid query and kept. */
const metadataSearches = new WeakMap<readonly ModelMeta[], MetadataSearch>();
function metadataSearchFor(models: readonly ModelMeta[]): MetadataSearch {
  let search = metadataSearches.get(models);
  if (!search) metadataSearches.set(models, (search = createMetadataSearch(models)));
  return search;
}

/**
 * Ranks the index's models for a query. `embed` turns a text or image part into a unit-length
 * embedding with the index's encoder; it is called once per such part, in order.
 */
export async function rank<I>(
  target: RankableIndex,
  query: RankQuery<I>,
  embed: (part: EmbedPart<I>) => Promise<Float32Array>,
): Promise<Ranking> {
  const { index, models } = target;
  // Field filters alone: list what they match (planQuery would ask for something to search with).
  if (Array.isArray(query.parts) && !query.parts.some((p) => p.weight > 0) && query.filters && hasFilters(query.filters)) return listModels(target, query.filters, query.topK);
  const { parts, method, kinds, hybridWeight, topK: count } = planQuery(target, query);
  const params: MethodParams = { k: SEARCH_DEFAULTS.k, temperature: target.temperature, ...definedOnly(query.params ?? {}) };

  const perPart: Float32Array[] = [];
  const judged: { kind: QueryKind; embedding?: Float32Array }[] = [];
  let queryModel = -1;
  // The samples' mean: the direction nearest samples are judged against.
  let samplesMean: Float32Array | null = null;
  for (const [i, { part }] of parts.entries()) {
    if (part.kind === 'samples') {
      // One image at a time, in order: the worker encodes one at a time anyway.
      samplesMean = await embedSamplesMean(part.images, index.dim, embed);
      perPart.push(method === 'fine-tuned' ? projectedMeanSimilarityScores(index, samplesMean) : meanSimilarityScores(index, samplesMean));
      judged.push({ kind: 'model' });
    } else if (part.kind === 'model') {
      queryModel = target.ids.get(part.modelId)!;
      perPart.push(method === 'fine-tuned' ? projectedModelSimilarityScores(index, queryModel) : modelSimilarityScores(index, queryModel));
      judged.push({ kind: 'model' });
    } else {
      const embedding = checkedEmbedding(await embed(part), index.dim, kinds[i]);
      perPart.push(scoreMethod(index, method, embedding, params));
      judged.push({ kind: kinds[i], embedding });
    }
  }
  const scores = perPart.length === 1 ? perPart[0] : productOfExperts(perPart.map((s, i) => ({ scores: s, weight: parts[i].weight })));
  // −∞ is a real score (a model with nothing to compare, a filter); NaN and +∞ only come from values
  // no honest index holds, and would decide the order silently: refuse them, naming the model.
  for (let m = 0; m < scores.length; m++) {
    if (Number.isNaN(scores[m]) || scores[m] === Infinity) {
      throw new AppError(
        'index-format',
        `Model “${models[m]?.name ?? m}” (${models[m]?.id ?? `#${m}`}) scores ${Number.isNaN(scores[m]) ? 'NaN' : '+∞'} under ${METHOD_INFO[method].label}: this index's statistics for it are inconsistent, so it cannot be ranked. Rebuild the index.`,
      );
    }
  }

  const filters = query.filters ?? {};
  let ranking = applyFilterMask(scores, models, filters);
  // "More like this" lists other models: the query model itself would always be first.
  if (queryModel >= 0) ranking[queryModel] = -Infinity;
  const textPart = parts.find((p) => p.part.kind === 'text')?.part as { text: string } | undefined;
  // A model query has no text part: hybrid fusion never meets the query model.
  const hybrid = hybridWeight > 0 && !!textPart;
  if (hybrid) {
    const relevance = metadataRelevance(metadataSearchFor(models), textPart.text, index.count);
    // Fusion gives every model a finite score: filter again after it.
    ranking = applyFilterMask(hybridScores(ranking, relevance, hybridWeight), models, filters);
  }
  const top = topK(ranking, count).filter((r) => r.score > -Infinity);
  // One direction to compare samples with: the single part's embedding, or the query model's mean.
  const probe =
    judged.length !== 1 ? null : queryModel >= 0 ? index.means.subarray(queryModel * index.dim, (queryModel + 1) * index.dim) : (samplesMean ?? judged[0].embedding ?? null);
  const nearest = (m: number) => (probe ? nearestSample(index, m, probe, models[m].thumbnails.length) : -1);
  return {
    method,
    kinds,
    results: top.map((r, i) => ({ rank: i + 1, index: r.index, score: r.score, contentScore: scores[r.index], nearestThumbnail: nearest(r.index) })),
    scores,
    matched: countMatching(models, filters),
    facets: facetCounts(models, filters),
    hybrid,
    queryModel,
    temperature: params.temperature!,
    match: judgeMatch(target.calibration, target.nullText ?? [], judged, method, scores),
  };
}
