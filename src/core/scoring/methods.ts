import { AppError } from '../io/errors.ts';
import { SEARCH_DEFAULTS } from './defaults.ts';
import { dotKernelFor, gaussianKernelFor } from './simdKernels.ts';
import { halfToFloatTable, inverseQuadForm, packedSize } from '../math/linalg.ts';
import { rowNorms } from '../math/vectors.ts';
import { styleDistanceScores } from './styleDistance.ts';
import type { FloatData, GaussianSections, SearchIndex } from '../index/indexFormat.ts';

/**
 * The retrieval methods of "Content-Based Search for Deep Generative Models" over a SearchIndex.
 * Every function returns one score per model (higher = better match), NaN-free for finite queries.
 */
export type Method = 'first-moment' | 'gaussian' | 'monte-carlo' | 'best-k' | 'first-second-moment' | 'fine-tuned' | 'style';

export interface MethodParams {
  /**
   * T for Monte-Carlo and 1st+2nd moment: the encoder's logit scale (100 for CLIP). Required by
   * those two methods; rank() supplies the index's own value.
   */
  temperature?: number;
  /** k for best-k (default SEARCH_DEFAULTS.k; 1 = max). */
  k?: number;
}

export const METHOD_INFO: Record<Method, { label: string; explain: string }> = {
  'first-moment': { label: '1st moment', explain: 'Cosine between the query and the mean of the model’s samples.' },
  gaussian: { label: 'Gaussian density', explain: 'Log-likelihood of the query under a Gaussian fitted to the model’s samples.' },
  'monte-carlo': { label: 'Monte-Carlo', explain: 'Average CLIP similarity exp(T·q·x) over the kept samples (log scale).' },
  'best-k': { label: 'Best-k', explain: 'Mean similarity of the k samples closest to the query.' },
  'first-second-moment': { label: '1st+2nd moment', explain: '½T²·qᵀΣq + T·qᵀμ: the mean plus the spread towards the query.' },
  'fine-tuned': { label: 'Fine-tuned 1st moment', explain: 'Cosine after a learned projection of query and model features.' },
  style: {
    label: 'Style distance',
    explain: 'Mean distance from the query to the model’s outputs for a shared set of reference inputs (lower distance ranks higher).',
  },
};

const LOG_2PI = Math.log(2 * Math.PI);

/** Methods the index has the sections for, best first. */
export function supportedMethods(index: SearchIndex): Method[] {
  const m: Method[] = [];
  if (index.projection) m.push('fine-tuned');
  if (index.gaussian) m.push('gaussian');
  m.push('first-moment');
  if (index.samples) m.push('monte-carlo', 'best-k');
  if (index.gaussian) m.push('first-second-moment');
  if (index.style) m.push('style');
  return m;
}

/** What a query is made of; the best method differs by kind (docs/eval/results.md). */
export type QueryKind = 'text' | 'image' | 'sketch' | 'model';

/**
 * The method "Auto" uses: the best the index supports for this kind of query, by the evaluation
 * (MRR on the 300-model zoo): photos rank best by Gaussian density (0.975 vs 0.946 for the 1st
 * moment); text and sketches by the 1st moment (text 0.854 vs GD 0.672: CLIP's modality gap puts
 * text far from every model's Gaussian). Rechecked with the encoder's own temperature (T = 18):
 * Monte-Carlo (text 0.844, sketch 0.378 ± 0.009 vs 0.367) and 1st+2nd moment (image 0.945, text
 * 0.812) come close but win no query kind significantly. Mixed queries use the 1st moment so the experts' scores
 * share one scale. The fine-tuned projection is never the automatic choice: on our zoo it did not
 * beat the plain 1st moment for any query kind; it stays one click away in the method picker.
 * An index that carries style-distance data was built for style retrieval, so photos use the style
 * distance there.
 */
export function autoMethod(methods: readonly Method[], kinds: readonly QueryKind[]): Method {
  const has = (m: Method) => methods.includes(m);
  const imageOnly = kinds.length > 0 && kinds.every((k) => k === 'image');
  if (imageOnly && has('style')) return 'style';
  if (imageOnly && has('gaussian')) return 'gaussian';
  return has('first-moment') ? 'first-moment' : (methods[0] ?? 'first-moment');
}

/** Checks user-supplied parameters: NaN or infinite values would poison every score. */
export function validateParams(params: MethodParams): void {
  const { k, temperature } = params;
  if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new AppError('bad-query', 'k must be a whole number of at least 1.');
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature > 0 && temperature <= 1e4)) {
    throw new AppError('bad-query', 'The temperature must be a positive number (at most 10 000).');
  }
}

export function scoreMethod(index: SearchIndex, method: Method, query: Float32Array, params: MethodParams = {}): Float32Array {
  if (query.length !== index.dim) throw new Error(`The query has ${query.length} dimensions, the index ${index.dim}.`);
  validateParams(params);
  switch (method) {
    case 'first-moment':
      return firstMomentScores(index.means, index.norms, index.dim, query);
    case 'gaussian':
      return gaussianScores(index, query);
    case 'monte-carlo':
      return monteCarloScores(index, query, requireTemperature(params, method));
    case 'best-k':
      return bestKScores(index, query, params.k ?? SEARCH_DEFAULTS.k);
    case 'first-second-moment':
      return firstSecondMomentScores(index, query, requireTemperature(params, method));
    case 'fine-tuned':
      return fineTunedScores(index, query);
    case 'style':
      return styleScores(index, query);
  }
}

/** T belongs to the encoder (EncoderDescriptor.logitScale): no silent CLIP default for other encoders. */
function requireTemperature(params: MethodParams, method: Method): number {
  if (params.temperature === undefined) throw new Error(`${METHOD_INFO[method].label} needs the encoder's temperature (logit scale).`);
  return params.temperature;
}

/** fp16 style references as float32, converted once per data array. */
const styleRefsF32 = new WeakMap<Uint16Array, Float32Array>();

/** −(mean L2 distance) from the query to each model's kept reference outputs (styleDistance.ts). */
function styleScores(index: SearchIndex, query: Float32Array): Float32Array {
  const style = index.style;
  if (!style) throw new Error('This index has no style-distance data (reference outputs per model).');
  let refs: Float32Array;
  if (style.refs.dtype === 'f32') refs = style.refs.data;
  else {
    const half = style.refs.data;
    let cached = styleRefsF32.get(half);
    if (!cached) {
      const t = halfToFloatTable();
      cached = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) cached[i] = t[half[i]];
      styleRefsF32.set(half, cached);
    }
    refs = cached;
  }
  return styleDistanceScores(query, refs, style.keep, index.dim, style.refsPerModel, style.projection);
}

/**
 * cos(q, μ/|μ|) for every model; `query` must be unit length. (The paper ranks by exp(cos): same
 * order.) Uses the WASM SIMD kernel where available, else the JS loop.
 */
export function firstMomentScores(means: Float32Array, norms: Float32Array, dim: number, query: Float32Array): Float32Array {
  const count = norms.length;
  const kernel = dotKernelFor(means, dim, count);
  const scores = kernel ? kernel.dots(query) : firstMomentDotsJs(means, dim, count, query);
  for (let m = 0; m < count; m++) scores[m] = norms[m] > 0 ? scores[m] / norms[m] : 0;
  return scores;
}

/** μ_m · q in plain JS: four accumulators break the add dependency chain. */
export function firstMomentDotsJs(means: Float32Array, dim: number, count: number, query: Float32Array): Float32Array {
  const out = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const base = m * dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j + 3 < dim; j += 4) {
      s0 += means[base + j] * query[j];
      s1 += means[base + j + 1] * query[j + 1];
      s2 += means[base + j + 2] * query[j + 2];
      s3 += means[base + j + 3] * query[j + 3];
    }
    for (; j < dim; j++) s0 += means[base + j] * query[j];
    out[m] = s0 + s1 + s2 + s3;
  }
  return out;
}

/**
 * A mean embedding as the query: cos(mean, μ_b) for every model. The same scores as "more like
 * this" from a model whose stored mean is `mean` (q = mean / |mean|, then the 1st moment).
 */
export function meanSimilarityScores(index: SearchIndex, mean: Float32Array): Float32Array {
  return scaledMeanScores(index, mean, rowNorms(mean, 1, index.dim)[0]);
}

function scaledMeanScores(index: SearchIndex, mean: Float32Array, norm: number): Float32Array {
  const { dim } = index;
  if (mean.length !== dim) throw new AppError('bad-query', `The query mean has ${mean.length} dimensions; this index needs ${dim}.`);
  const q = Float32Array.from(mean);
  if (norm > 0) for (let j = 0; j < dim; j++) q[j] /= norm;
  return firstMomentScores(index.means, index.norms, dim, q);
}

/** Model as query: cos(μ_a, μ_b) against model `a`. */
export function modelSimilarityScores(index: SearchIndex, a: number): Float32Array {
  if (!(Number.isInteger(a) && a >= 0 && a < index.count)) throw new AppError('bad-query', `There is no model number ${a}.`);
  const { dim } = index;
  return scaledMeanScores(index, index.means.subarray(a * dim, (a + 1) * dim), index.norms[a]);
}

/** A mean embedding as the query on the fine-tuned index: cos(P mean, P μ_b), as the fine-tuned method scores a query. */
export function projectedMeanSimilarityScores(index: SearchIndex, mean: Float32Array): Float32Array {
  return fineTunedScores(index, mean);
}

/** Model as query on the fine-tuned index: cos(P μa, P μb) (projected means are stored unit length). */
export function projectedModelSimilarityScores(index: SearchIndex, a: number): Float32Array {
  if (!index.projection) throw new Error('This index ships no fine-tuned projection.');
  if (!(Number.isInteger(a) && a >= 0 && a < index.count)) throw new AppError('bad-query', `There is no model number ${a}.`);
  const { dim, count } = index;
  const p = index.projection.projectedMeans;
  const q = p.slice(a * dim, (a + 1) * dim);
  return firstMomentScores(p, new Float32Array(count).fill(1), dim, q);
}

function requireGaussian(index: SearchIndex) {
  if (!index.gaussian) throw new Error('This index has no Gaussian statistics (built without covariance factors).');
  return index.gaussian;
}

/** ‖W q − b‖² per model: the WASM SIMD kernel where available, else the portable JS loop. */
function mahalanobisFast(g: GaussianSections, dim: number, count: number, query: Float32Array): Float64Array {
  // The kernel works in f32 (and scales fp16 queries by 2^112): far-from-unit queries take the
  // float64 JS loop so nothing overflows. Real queries are unit vectors.
  let max = 0;
  for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(query[j]));
  const kernel = max <= 1e3 ? gaussianKernelFor(g, dim, count) : null;
  return kernel ? kernel.mahalanobis(query) : mahalanobis(g.precision, g.bias, dim, count, query);
}

/** ‖W q − b‖² per model: the Mahalanobis term, read straight from the packed precision factor. */
export function mahalanobis(precision: FloatData, bias: Float32Array, dim: number, count: number, query: Float32Array): Float64Array {
  const out = new Float64Array(count);
  const P = packedSize(dim);
  if (precision.dtype === 'f32') {
    const w = precision.data;
    for (let m = 0; m < count; m++) {
      let off = m * P;
      const bb = m * dim;
      let acc = 0;
      for (let i = 0; i < dim; i++) {
        let s = 0;
        for (let j = 0; j <= i; j++) s += w[off + j] * query[j];
        off += i + 1;
        const r = s - bias[bb + i];
        acc += r * r;
      }
      out[m] = acc;
    }
  } else {
    const w = precision.data;
    const t = halfToFloatTable();
    for (let m = 0; m < count; m++) {
      let off = m * P;
      const bb = m * dim;
      let acc = 0;
      for (let i = 0; i < dim; i++) {
        let s = 0;
        for (let j = 0; j <= i; j++) s += t[w[off + j]] * query[j];
        off += i + 1;
        const r = s - bias[bb + i];
        acc += r * r;
      }
      out[m] = acc;
    }
  }
  return out;
}

/** log N(q; μ, Σ + εI) = −½‖Wq − b‖² − ½ log|Σ'| − (d/2) log 2π. */
export function gaussianScores(index: SearchIndex, query: Float32Array): Float32Array {
  const g = requireGaussian(index);
  const { dim, count } = index;
  const maha = mahalanobisFast(g, dim, count, query);
  const scores = new Float32Array(count);
  const c = 0.5 * dim * LOG_2PI;
  for (let m = 0; m < count; m++) scores[m] = -0.5 * maha[m] - 0.5 * g.logDet[m] - c;
  return scores;
}

/** ½T² qᵀΣq + T qᵀμ, with qᵀΣq = ‖W⁻ᵀ q‖² − ε‖q‖² (a back-substitution per model). */
function firstSecondMomentScores(index: SearchIndex, query: Float32Array, temperature: number): Float32Array {
  const g = requireGaussian(index);
  const { dim, count, means } = index;
  const P = packedSize(dim);
  const w = g.precision.data;
  const f16 = g.precision.dtype === 'f16';
  const r = new Float64Array(dim);
  let qq = 0;
  for (let j = 0; j < dim; j++) qq += query[j] * query[j];
  const scores = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const yy = inverseQuadForm(w, f16, m * P, dim, query, r);
    const qSigmaQ = Math.max(0, yy - g.epsilon[m] * qq);
    let qmu = 0;
    for (let j = 0; j < dim; j++) qmu += query[j] * means[m * dim + j];
    scores[m] = 0.5 * temperature * temperature * qSigmaQ + temperature * qmu;
  }
  return scores;
}

function requireSamples(index: SearchIndex) {
  if (!index.samples) throw new Error('This index keeps no sample embeddings (needed for Monte-Carlo and best-k).');
  return index.samples;
}

/** qᵀx_i for the samples of model m, into `out` (length ≥ n_m). Returns n_m. */
function sampleDots(index: SearchIndex, m: number, query: Float32Array, out: Float64Array): number {
  const { offsets, data } = requireSamples(index);
  const dim = index.dim;
  const start = offsets[m];
  const n = offsets[m + 1] - start;
  const t = halfToFloatTable();
  for (let s = 0; s < n; s++) {
    const base = (start + s) * dim;
    let dot = 0;
    if (data.dtype === 'f32') for (let j = 0; j < dim; j++) dot += data.data[base + j] * query[j];
    else for (let j = 0; j < dim; j++) dot += t[data.data[base + j]] * query[j];
    out[s] = dot;
  }
  return n;
}

/**
 * Which of model m's first `among` kept samples is closest to `query` (largest qᵀx), or −1 when it
 * keeps none (or the index keeps no samples). The builder keeps samples in file order and makes the
 * thumbnails of the first files, so sample i < thumbnails is the one thumbnail i shows.
 */
export function nearestSample(index: SearchIndex, m: number, query: Float32Array, among: number): number {
  if (!index.samples || among <= 0) return -1;
  const n = Math.min(among, index.samples.offsets[m + 1] - index.samples.offsets[m]);
  if (n <= 0) return -1;
  const dots = new Float64Array(index.samples.offsets[m + 1] - index.samples.offsets[m]);
  sampleDots(index, m, query, dots);
  let best = 0;
  for (let s = 1; s < n; s++) if (dots[s] > dots[best]) best = s;
  return best;
}

function maxSamples(index: SearchIndex): number {
  const { offsets } = requireSamples(index);
  let max = 0;
  for (let m = 0; m < index.count; m++) max = Math.max(max, offsets[m + 1] - offsets[m]);
  return max;
}

/** log((1/N) Σ exp(T qᵀx_i)), computed as a log-sum-exp in float64 (the paper's MC score, in log space). */
function monteCarloScores(index: SearchIndex, query: Float32Array, temperature: number): Float32Array {
  const dots = new Float64Array(maxSamples(index));
  const scores = new Float32Array(index.count);
  for (let m = 0; m < index.count; m++) {
    const n = sampleDots(index, m, query, dots);
    if (n === 0) {
      scores[m] = -Infinity;
      continue;
    }
    let max = -Infinity;
    for (let s = 0; s < n; s++) max = Math.max(max, temperature * dots[s]);
    let sum = 0;
    for (let s = 0; s < n; s++) sum += Math.exp(temperature * dots[s] - max);
    scores[m] = max + Math.log(sum / n);
  }
  return scores;
}

/** Mean of the k largest qᵀx_i (k is clamped to the model's sample count; k = 1 is the max). */
function bestKScores(index: SearchIndex, query: Float32Array, k: number): Float32Array {
  const kk = Math.max(1, Math.floor(k));
  const dots = new Float64Array(maxSamples(index));
  const scores = new Float32Array(index.count);
  for (let m = 0; m < index.count; m++) {
    const n = sampleDots(index, m, query, dots);
    if (n === 0) {
      scores[m] = -Infinity;
      continue;
    }
    const top = dots.subarray(0, n).sort().reverse();
    const take = Math.min(kk, n);
    let s = 0;
    for (let i = 0; i < take; i++) s += top[i];
    scores[m] = s / take;
  }
  return scores;
}

/** cos(P q, P μ): the fine-tuned 1st moment with the index's learned projection. */
function fineTunedScores(index: SearchIndex, query: Float32Array): Float32Array {
  if (!index.projection) throw new Error('This index ships no fine-tuned projection.');
  const { dim, count } = index;
  const p = index.projection.matrix;
  // float64 so a huge (but finite) projection entry cannot overflow before normalisation.
  const wide = new Float64Array(dim);
  let max = 0;
  for (let i = 0; i < dim; i++) {
    let v = 0;
    for (let j = 0; j < dim; j++) v += p[i * dim + j] * query[j];
    wide[i] = v;
    max = Math.max(max, Math.abs(v));
  }
  let s = 0;
  for (let i = 0; i < dim; i++) s += (wide[i] / (max || 1)) ** 2;
  const inv = s > 0 && Number.isFinite(max) ? 1 / (Math.sqrt(s) * max) : 0;
  const pq = new Float32Array(dim);
  for (let i = 0; i < dim; i++) pq[i] = wide[i] * inv;
  const ones = new Float32Array(count).fill(1);
  return firstMomentScores(index.projection.projectedMeans, ones, dim, pq);
}

/**
 * Product of experts for multimodal queries: s = Σ_j w_j s_j over log-domain score arrays.
 * Weights need not sum to 1; a zero weight drops a modality.
 */
export function productOfExperts(parts: { scores: Float32Array; weight: number }[]): Float32Array {
  if (!parts.length) throw new Error('A multimodal query needs at least one part.');
  const n = parts[0].scores.length;
  const out = new Float32Array(n);
  for (const { scores, weight } of parts) {
    if (scores.length !== n) throw new Error('All parts of a multimodal query must score the same models.');
    if (!Number.isFinite(weight) || weight < 0) throw new Error('Multimodal weights must be finite and non-negative.');
    if (weight === 0) continue;
    for (let i = 0; i < n; i++) out[i] += weight * scores[i];
  }
  return out;
}
