/**
 * Style distance (the "LoRA retrieval" seed): every style model m transforms one fixed reference
 * set S of content images; its "fingerprint" is the features of t(s, m) for s ∈ S. A query image q
 * scores
 *
 *   score(q, m) = −d_avg(q, m) = −(1/|K_m|) Σ_{s ∈ K_m} ‖f(q) − f(t(s, m))‖₂
 *
 * where f is the encoder feature, or P·feature with a learned projection P, and K_m ⊆ S are the
 * reference pairs kept by the cleansing rule (pairs whose transform barely changed the image are
 * dropped: they say nothing about the style). A model with no kept pair scores −Infinity.
 *
 * Pure and DOM-free: shared by the Node evaluation (tools/style-zoo) and, later, the browser.
 */

/** The seed's cleansing threshold: pixel MSE on the [0,1] scale below which a pair is dropped. */
export const CLEANSING_MSE_THRESHOLD = 0.01;

/**
 * Keep-mask from per-pair pixel MSEs (on the [0,1] scale): 1 = keep, 0 = drop because the
 * transform barely changed the image (MSE < threshold). A non-finite MSE is dropped too. The MSEs
 * are float32, so the threshold is compared as a float32 (an MSE of exactly 0.01 is kept).
 */
export function cleansingMask(mse: Float32Array, threshold = CLEANSING_MSE_THRESHOLD): Uint8Array {
  if (!(Number.isFinite(threshold) && threshold >= 0)) throw new Error('The cleansing threshold must be a finite number ≥ 0.');
  const t = Math.fround(threshold);
  const keep = new Uint8Array(mse.length);
  for (let i = 0; i < mse.length; i++) keep[i] = Number.isFinite(mse[i]) && mse[i] >= t ? 1 : 0;
  return keep;
}

/**
 * Applies a row-major projection P [p, dim] to `count` feature rows [count, dim] → [count, p].
 * Accumulates in float64.
 */
export function projectFeatures(features: Float32Array, count: number, dim: number, projection: Float32Array): Float32Array {
  if (dim < 1 || projection.length % dim !== 0 || projection.length === 0) {
    throw new Error(`The projection has ${projection.length} values, not a multiple of the feature dimension ${dim}.`);
  }
  if (features.length !== count * dim) throw new Error(`Expected ${count} × ${dim} feature values, got ${features.length}.`);
  const p = projection.length / dim;
  const out = new Float32Array(count * p);
  for (let n = 0; n < count; n++) {
    const base = n * dim;
    for (let i = 0; i < p; i++) {
      const row = i * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += projection[row + j] * features[base + j];
      out[n * p + i] = s;
    }
  }
  return out;
}

/**
 * −d_avg(q, m) for every model m. `refFeatures` is [M, S, dim] (features of t(s, m)), `keep` is
 * [M, S] (1 = kept), `refsPerModel` is S (flat arrays cannot tell M from S), `projection`
 * (optional) is row-major [P, dim] and is applied to the query and to every reference feature
 * before the distances. Returns M scores (higher = closer); −Infinity for a model whose every pair
 * was dropped. Never NaN for finite inputs.
 */
export function styleDistanceScores(
  queryFeature: Float32Array,
  refFeatures: Float32Array,
  keep: Uint8Array,
  dim: number,
  refsPerModel: number,
  projection?: Float32Array,
): Float32Array {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new Error(`Bad feature dimension ${dim}.`);
  if (!(Number.isInteger(refsPerModel) && refsPerModel >= 1)) throw new Error(`Bad reference-set size ${refsPerModel}.`);
  if (queryFeature.length !== dim) throw new Error(`The query has ${queryFeature.length} dimensions, expected ${dim}.`);
  const pairs = keep.length;
  if (pairs % refsPerModel !== 0) throw new Error(`keep has ${pairs} entries, not a multiple of S = ${refsPerModel}.`);
  if (refFeatures.length !== pairs * dim) {
    throw new Error(`refFeatures holds ${refFeatures.length} values; expected ${pairs} pairs × ${dim} dimensions.`);
  }
  const models = pairs / refsPerModel;
  let q: Float32Array = queryFeature;
  let d = dim;
  let project: ((pair: number, out: Float64Array) => void) | null = null;
  if (projection) {
    q = projectFeatures(queryFeature, 1, dim, projection);
    d = projection.length / dim;
    const P = projection;
    // Only kept pairs are projected (a dropped pair costs nothing).
    project = (pair, out) => {
      const base = pair * dim;
      for (let i = 0; i < d; i++) {
        const row = i * dim;
        let s = 0;
        for (let j = 0; j < dim; j++) s += P[row + j] * refFeatures[base + j];
        out[i] = s;
      }
    };
  }
  const tmp = new Float64Array(d);
  const scores = new Float32Array(models);
  for (let m = 0; m < models; m++) {
    let sum = 0;
    let kept = 0;
    for (let s = 0; s < refsPerModel; s++) {
      const pair = m * refsPerModel + s;
      if (!keep[pair]) continue;
      let acc = 0;
      if (project) {
        project(pair, tmp);
        for (let i = 0; i < d; i++) acc += (q[i] - tmp[i]) ** 2;
      } else {
        const base = pair * dim;
        for (let i = 0; i < d; i++) acc += (q[i] - refFeatures[base + i]) ** 2;
      }
      sum += Math.sqrt(acc);
      kept++;
    }
    scores[m] = kept > 0 ? -sum / kept : -Infinity;
  }
  return scores;
}
