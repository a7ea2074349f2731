/**
 * Prefilters for the two-stage query of a large, range-loaded index (issue 15): a cheap score over
 * every model from data small enough to load before the first query, whose top K candidates are
 * then rescored exactly from records fetched on demand.
 *
 * - int8 means: each model's mean quantised to int8 with its own scale (512 B per model at
 *   d = 512, a quarter of f16). The 1st-moment cosine from them differs from the exact one by at
 *   most d·(scale/2)·‖q‖₁-ish rounding; the benchmark measures what that does to recall.
 * - sign codes: one bit per dimension (64 B per model at d = 512); the score is the number of
 *   agreeing signs (d − Hamming distance), a random-hyperplane estimate of the angle. For 1M
 *   models, where even int8 means (≈ 0.5 GB) are too many bytes for a first visit.
 */

export interface Int8Means {
  dim: number;
  count: number;
  /** [count, dim] quantised means: mean ≈ scale[m] · codes[m]. */
  codes: Int8Array;
  scale: Float32Array;
  /** ‖mean‖ of the unquantised mean (the cosine's denominator). */
  norms: Float32Array;
}

/** Quantises means ([count, dim]) to int8, per model: scale = max|μ_j| / 127, code = round(μ_j / scale). */
export function quantiseMeansInt8(means: Float32Array, dim: number): Int8Means {
  const count = means.length / dim;
  if (!Number.isInteger(count)) throw new Error(`means hold ${means.length} values, not a multiple of dim ${dim}.`);
  const codes = new Int8Array(means.length);
  const scale = new Float32Array(count);
  const norms = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const base = m * dim;
    let max = 0;
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const v = means[base + j]!;
      if (!Number.isFinite(v)) throw new Error(`The mean of model ${m} holds a non-finite value.`);
      max = Math.max(max, Math.abs(v));
      ss += v * v;
    }
    norms[m] = Math.sqrt(ss);
    const s = max > 0 ? max / 127 : 1;
    scale[m] = s;
    for (let j = 0; j < dim; j++) codes[base + j] = Math.round(means[base + j]! / s);
  }
  return { dim, count, codes, scale, norms };
}

/** ⟨q, μ_m⟩ for every model from its int8 mean (scale · ⟨q, codes⟩), into `out`: both prefilters' one pass over the codes. */
function int8Dots(m: Int8Means, query: Float32Array, out: Float32Array): Float32Array {
  const { dim, count, codes, scale } = m;
  if (query.length !== dim) throw new Error(`The query has ${query.length} dimensions, the index ${dim}.`);
  for (let i = 0; i < count; i++) {
    const base = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += codes[base + j]! * query[j]!;
    out[i] = s * scale[i]!;
  }
  return out;
}

/** 1st-moment cosine ⟨q, μ_m⟩ / ‖μ_m‖ from int8 means (0 for a zero mean). */
export function int8CosineScores(m: Int8Means, query: Float32Array, out = new Float32Array(m.count)): Float32Array {
  int8Dots(m, query, out);
  for (let i = 0; i < m.count; i++) out[i] = m.norms[i]! > 0 ? out[i]! / m.norms[i]! : 0;
  return out;
}

export interface SignCodes {
  dim: number;
  count: number;
  /** 32-bit words per model: ceil(dim / 32). */
  words: number;
  /** [count, words]: bit j of a model is 1 when its mean's component j is > 0. */
  bits: Uint32Array;
}

/** One sign bit per dimension of each row ([count, dim]). */
export function signCodes(rows: Float32Array, dim: number): SignCodes {
  const count = rows.length / dim;
  if (!Number.isInteger(count)) throw new Error(`rows hold ${rows.length} values, not a multiple of dim ${dim}.`);
  const words = Math.ceil(dim / 32);
  const bits = new Uint32Array(count * words);
  for (let m = 0; m < count; m++) {
    for (let j = 0; j < dim; j++) if (rows[m * dim + j]! > 0) bits[m * words + (j >>> 5)]! |= 1 << (j & 31);
  }
  return { dim, count, words, bits };
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Agreeing signs between the query's code and every model's: d − Hamming distance (higher is closer). */
export function signAgreementScores(codes: SignCodes, query: Float32Array, out = new Float32Array(codes.count)): Float32Array {
  const { dim, count, words, bits } = codes;
  if (query.length !== dim) throw new Error(`The query has ${query.length} dimensions, the index ${dim}.`);
  const q = signCodes(query, dim).bits;
  // Padding bits past dim are 0 in both, so they always agree: subtract them.
  const pad = words * 32 - dim;
  for (let m = 0; m < count; m++) {
    let differ = 0;
    const base = m * words;
    for (let w = 0; w < words; w++) differ += popcount32((bits[base + w]! ^ q[w]!) >>> 0);
    out[m] = words * 32 - pad - differ;
  }
  return out;
}

/** recall@k of `got` against `truth` (both rankings by model index): |top-k ∩ top-k| / k. */
export function recallAtK(truth: readonly number[], got: readonly number[], k: number): number {
  const want = new Set(truth.slice(0, k));
  if (want.size === 0) return 1;
  let hit = 0;
  for (const i of got.slice(0, k)) if (want.has(i)) hit++;
  return hit / want.size;
}

/**
 * A Gaussian-density-shaped prefilter: each model's Gaussian replaced by the isotropic one with the
 * same mean, its mean precision h = tr(Σ'⁻¹)/d and its true log|Σ'|:
 *
 *   −½ h ‖q − μ‖² − ½ log|Σ'|,   ‖q − μ‖² = ‖q‖² − 2 qᵀμ + ‖μ‖²   (qᵀμ from the int8 means)
 *
 * Two floats a model more than the cosine and the same cost, but it ranks like GD where the cosine
 * does not: queries far from every model (text), where covariances decide. On the demo index the
 * cosine's top 60 of 300 held 83 % of GD's top 10 for text queries, this one 99 % (docs/benchmarks.md).
 * For a low-rank record h = 1/s − ‖B‖²_F / d (lowRankMeanPrecision).
 */
export function gaussianProxyScores(m: Int8Means, precision: Float32Array, logDet: Float32Array, query: Float32Array, out = new Float32Array(m.count)): Float32Array {
  const { count, norms } = m;
  if (precision.length !== count || logDet.length !== count) throw new Error(`The proxy needs ${count} precisions and log-determinants.`);
  int8Dots(m, query, out);
  let qq = 0;
  for (const v of query) qq += v * v;
  for (let i = 0; i < count; i++) {
    const dd = Math.max(0, qq - 2 * out[i]! + norms[i]! * norms[i]!);
    out[i] = -0.5 * precision[i]! * dd - 0.5 * logDet[i]!;
  }
  return out;
}
