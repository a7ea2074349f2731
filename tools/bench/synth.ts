/**
 * Synthetic benchmark data: means, unit queries and packed lower-triangular precision factors.
 * DOM- and Node-free so the Node bench and the browser worker build the same data.
 *
 * Factors are generated straight as fp16 bit patterns: a pool of a few million N(0, 0.05²)
 * off-diagonal values is rounded to fp16 once (toHalfBits), each model copies a slice of the
 * pool at a random offset (one memcpy, so 10 000 models take ~1 s instead of minutes), then the
 * diagonal is overwritten with positive values 1/sqrt(ε + s), ε ∈ [1e-3, 1e-2], s ∈ [0, 4e-3]
 * (≈ 8…32). Every pattern is finite: nothing is ever Inf/NaN.
 */
import { halfToFloatTable, packedRowOffset, packedSize, toHalfBits } from '../../src/core/math/linalg.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import type { FloatData, SearchIndex } from '../../src/core/index/indexFormat.ts';

/** Approximately N(0, 1): sum of 4 uniforms, rescaled. */
function gauss(r: () => number): number {
  return (r() + r() + r() + r() - 2) * Math.sqrt(3);
}

/** Means [count, dim] with norms ≈ 0.5…0.9 (like the mean of unit CLIP embeddings), and their norms. */
export function makeMeans(count: number, dim: number, seed = 1): { means: Float32Array; norms: Float32Array } {
  const r = mulberry32(seed);
  const means = new Float32Array(count * dim);
  const norms = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const base = m * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = gauss(r);
      means[base + j] = v;
      s += v * v;
    }
    const target = 0.5 + 0.4 * r();
    const k = target / Math.sqrt(s);
    let s2 = 0;
    for (let j = 0; j < dim; j++) {
      means[base + j] *= k;
      s2 += means[base + j] * means[base + j];
    }
    norms[m] = Math.sqrt(s2);
  }
  return { means, norms };
}

/** `n` unit-length query vectors. */
export function makeQueries(n: number, dim: number, seed = 7): Float32Array[] {
  const r = mulberry32(seed);
  const out: Float32Array[] = [];
  for (let k = 0; k < n; k++) {
    const q = new Float32Array(dim);
    let s = 0;
    for (let j = 0; j < dim; j++) {
      q[j] = gauss(r);
      s += q[j] * q[j];
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) q[j] *= inv;
    out.push(q);
  }
  return out;
}

const POOL = 1 << 22; // 4 Mi fp16 values (8 MiB): slices of it fill the factors

/** Packed lower-triangular factors [count, packedSize(dim)] as fp16 bit patterns (see the file header). */
export function makeHalfFactors(count: number, dim: number, seed = 3): Uint16Array {
  const P = packedSize(dim);
  const r = mulberry32(seed);
  const pool = new Uint16Array(POOL + P);
  for (let i = 0; i < pool.length; i++) pool[i] = toHalfBits(0.05 * gauss(r));
  const out = new Uint16Array(count * P);
  for (let m = 0; m < count; m++) {
    const start = Math.floor(r() * POOL);
    const base = m * P;
    out.set(pool.subarray(start, start + P), base);
    for (let i = 0; i < dim; i++) {
      const eps = 1e-3 + 9e-3 * r();
      out[base + packedRowOffset(i) + i] = toHalfBits(1 / Math.sqrt(eps + 4e-3 * r()));
    }
  }
  return out;
}

/** The exact float32 values of fp16 bit patterns (what the f32 index variant would hold). */
export function halfToF32(bits: Uint16Array): Float32Array {
  const t = halfToFloatTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** Bias b [count, dim], log-determinants and ε per model. */
export function makeGaussianExtras(count: number, dim: number, seed = 5) {
  const r = mulberry32(seed);
  const bias = new Float32Array(count * dim);
  for (let i = 0; i < bias.length; i++) bias[i] = 2 * gauss(r);
  const logDet = new Float32Array(count);
  const epsilon = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    logDet[m] = -2000 - 500 * r();
    epsilon[m] = 1e-3 + 9e-3 * r();
  }
  return { bias, logDet, epsilon };
}

/** A SearchIndex over the first `count` models of the synthetic data (views, no copies), with `precision` as its factors. */
export function benchIndex(
  data: { means: Float32Array; norms: Float32Array; extras: ReturnType<typeof makeGaussianExtras> },
  dim: number,
  count: number,
  precision: FloatData,
): SearchIndex {
  const { means, norms, extras } = data;
  return {
    version: 1,
    dim,
    count,
    means: means.subarray(0, count * dim),
    norms: norms.subarray(0, count),
    gaussian: {
      precision,
      bias: extras.bias.subarray(0, count * dim),
      logDet: extras.logDet.subarray(0, count),
      epsilon: extras.epsilon.subarray(0, count),
    },
  };
}
