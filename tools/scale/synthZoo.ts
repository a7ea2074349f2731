/**
 * Realistic synthetic model zoos at CLIP's d = 512 for the scale benchmark (issue 15), without the
 * image pipeline: 10K, 100K, 1M models in seconds to minutes on 2 cores.
 *
 * The generative model (what a zoo of fine-tunes looks like in CLIP space):
 * - Concepts: one per ~40 models (many fine-tunes of a subject). A concept has a unit centre and 32
 *   shared directions of one global orthonormal basis G (512 × 512).
 * - A model's mean: ρ · normalise(centre + 0.6 u), u a random unit vector, ρ ∈ [0.5, 0.9] (the norm
 *   of the mean of unit CLIP embeddings).
 * - A model's covariance: full rank with a CLIP-like spectrum, V diag(λ) Vᵀ + σ²I: V = the
 *   concept's 32 directions and 96 more of G, λ_i ∝ 1/i (i = 1…128), σ² the isotropic tail;
 *   trace 1 − ρ² (80 % in the 128 directions), so E‖x‖² = 1 like a unit embedding.
 * - Low-sample models (90 %): n samples drawn from that Gaussian, n ∈ [nMin, nMax] log-uniform;
 *   the index holds the exact low-rank Gaussian of those samples (Σ̂ + εI, rank n − 1: what the
 *   builder computes), which is also the reference density.
 * - Many-sample models (10 %, "n > d"): the reference is the population Gaussian itself (rank 128
 *   + isotropic, exact); the index holds its PPCA to `ppcaRank` — the approximation whose ranking
 *   agreement the benchmark measures — with the dropped eigenvalues replaced by one isotropic
 *   variance (`residual`: their arithmetic mean as in ML PPCA, or the geometric or harmonic mean).
 *   PPCA-128 is exact here (the spectrum ends at 128 directions); `structureRank` lengthens the
 *   spectrum (tools/scale/ppcaSweep.ts uses 256) to test a rank against a spectrum that goes on.
 * Samples are Gaussian (not re-normalised to unit length), so the exact density is known in closed form.
 */
import { Matrix, QrDecomposition } from 'ml-matrix';
import { lowRankGaussian, structuredGaussian, type LowRankGaussian, type LowRankRecord } from '../../src/core/index/lowRankGaussian.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';

export const SCALE_DIM = 512;
const DEFAULT_STRUCTURE_RANK = 128;
const CONCEPT_DIRECTIONS = 32;
const MODELS_PER_CONCEPT = 40;

export interface ScaleZooOptions {
  count: number;
  seed?: number;
  /** Sample counts of low-sample models, log-uniform in [min, max] (max ≤ d). */
  samples?: [number, number];
  /** Fraction of models with n > d (stored as PPCA). */
  manySampleFraction?: number;
  ppcaRank?: number;
  /**
   * Directions with their own variance (λ_i ∝ 1/i) in every model's covariance, the rest isotropic
   * (default 128). A PPCA record of rank ≥ this is exact; the sweep raises it to see PPCA-r
   * against a spectrum that goes on past r, as a real CLIP spectrum does.
   */
  structureRank?: number;
  /**
   * The isotropic variance that stands for the dropped eigenvalues e_i (+ ε) of a PPCA record:
   * 'mean' (Tipping & Bishop's maximum likelihood, the default), 'geometric' (keeps log|Σ|
   * exact) or 'harmonic' (keeps tr(Σ⁻¹) exact: the Mahalanobis term of a query far in the dropped directions).
   */
  residual?: PpcaResidual;
  epsilon?: number;
}

export type PpcaResidual = 'mean' | 'geometric' | 'harmonic';

/** A stored record at float32, as a range-loaded index would hold it. */
export interface StoredRecord extends LowRankRecord {
  mean: Float32Array;
  basis: Float32Array;
  exact: boolean;
}

export interface ScaleModel {
  concept: number;
  /** Samples behind the record (0 for a many-sample model, whose record is PPCA). */
  samples: number;
  /** What the index stores (exact low-rank, or PPCA). */
  stored: StoredRecord;
  /** The exact density (the reference): the stored record itself for low-sample models. */
  reference: StoredRecord;
}

export interface ScaleZoo {
  dim: number;
  count: number;
  epsilon: number;
  means: Float32Array;
  concepts: { centre: Float64Array; directions: number[] }[];
  models: ScaleModel[];
  /** Draws a fresh "image" query from model m's own Gaussian. */
  sampleOf: (m: number, rand: () => number) => Float32Array;
  /**
   * A text-like query about concept c, not any one model: normalise(centre + spread · u). Spread
   * 0.8 puts it at cosine ≈ 0.8 to the centre; 2.5 at ≈ 0.4, as far as CLIP's text embeddings sit
   * from image embeddings of what they describe (there the covariances decide more of the ranking).
   */
  conceptQuery: (c: number, rand: () => number, spread?: number) => Float32Array;
  /** Model m's PPCA record at another rank or residual (many-sample models only; for the rank/residual sweep). */
  ppcaOf: (m: number, rank: number, residual?: PpcaResidual) => StoredRecord;
}

/**
 * Queries for the scale benchmark, a third each: a fresh draw from one model ("an image it could
 * make"), a query near a concept (cosine ≈ 0.8) and one far from it (≈ 0.4, like a CLIP text query).
 */
export function scaleQueries(zoo: ScaleZoo, n: number, seed: number): Float32Array[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? zoo.sampleOf(Math.floor(r() * zoo.count), r) : zoo.conceptQuery(Math.floor(r() * zoo.concepts.length), r, i % 3 === 1 ? 0.8 : 2.5)));
}

function gauss(r: () => number): number {
  // Box–Muller: exact normals (the spectrum's tails matter here).
  const u = 1 - r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

function unitVector(dim: number, r: () => number): Float64Array {
  const v = Float64Array.from({ length: dim }, () => gauss(r));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** 512 orthonormal directions (rows), from the QR of a random Gaussian matrix. */
export function orthonormalBasis(dim: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const a = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) a.set(i, j, gauss(r));
  const q = new QrDecomposition(a).orthogonalMatrix;
  const rows = new Float64Array(dim * dim);
  for (let k = 0; k < dim; k++) for (let j = 0; j < dim; j++) rows[k * dim + j] = q.get(j, k);
  return rows;
}

function toStored(g: LowRankGaussian): StoredRecord {
  return { dim: g.dim, mean: Float32Array.from(g.mean), rank: g.rank, basis: Float32Array.from(g.basis), isotropic: g.isotropic, logDet: g.logDet, exact: g.exact };
}

/** Truncates a structured Gaussian's record to its top `rank` directions, PPCA-style (dropped variance → isotropic). */
function ppcaOf(mean: Float64Array, dirs: Float64Array, lambdas: number[], sigma2: number, epsilon: number, rank: number, dim: number, residual: PpcaResidual = 'mean'): StoredRecord {
  // Eigenvalues of the full covariance (+ ε): λ_i + σ² + ε in the 128 directions, σ² + ε in the other d − 128.
  const kept = lambdas.slice(0, rank);
  const dropped = [...lambdas.slice(rank).map((l) => l + sigma2 + epsilon), ...Array<number>(dim - lambdas.length).fill(sigma2 + epsilon)];
  const n = dropped.length;
  const s =
    n === 0 ? sigma2 + epsilon
    : residual === 'mean' ? dropped.reduce((a, e) => a + e, 0) / n
    : residual === 'geometric' ? Math.exp(dropped.reduce((a, e) => a + Math.log(e), 0) / n)
    : n / dropped.reduce((a, e) => a + 1 / e, 0);
  const top = kept.map((l) => l + sigma2 + epsilon - s);
  const g = structuredGaussian(mean, dirs.subarray(0, rank * dim), top, s - epsilon, epsilon);
  return { ...toStored(g), exact: rank >= lambdas.length };
}

export function makeScaleZoo(opts: ScaleZooOptions): ScaleZoo {
  const dim = SCALE_DIM;
  const { count } = opts;
  const seed = opts.seed ?? 15;
  const [nMin, nMax] = opts.samples ?? [4, 64];
  const many = opts.manySampleFraction ?? 0.1;
  const ppcaRank = opts.ppcaRank ?? 64;
  const residual = opts.residual ?? 'mean';
  const STRUCTURE_RANK = opts.structureRank ?? DEFAULT_STRUCTURE_RANK;
  const epsilon = opts.epsilon ?? 1e-3;
  const G = orthonormalBasis(dim, seed);
  const r = mulberry32(seed + 1);
  const conceptCount = Math.max(1, Math.round(count / MODELS_PER_CONCEPT));
  const concepts = Array.from({ length: conceptCount }, () => {
    const centre = unitVector(dim, r);
    const directions: number[] = [];
    while (directions.length < CONCEPT_DIRECTIONS) {
      const d = Math.floor(r() * dim);
      if (!directions.includes(d)) directions.push(d);
    }
    return { centre, directions };
  });
  const means = new Float32Array(count * dim);
  // Per model only the indices of its directions in G are kept (128 × 512 floats each would be 0.5 MB a model).
  const structures: Structure[] = [];
  const harmonic = Array.from({ length: STRUCTURE_RANK }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  const models: ScaleModel[] = [];
  for (let m = 0; m < count; m++) {
    const concept = Math.floor(r() * conceptCount);
    const c = concepts[concept]!;
    const u = unitVector(dim, r);
    const rho = 0.5 + 0.4 * r();
    const dir = c.centre.map((x, j) => x + 0.6 * u[j]!);
    const norm = Math.hypot(...dir);
    const mean = dir.map((x) => (rho * x) / norm);
    const picked = [...c.directions];
    while (picked.length < STRUCTURE_RANK) {
      const d = Math.floor(r() * dim);
      if (!picked.includes(d)) picked.push(d);
    }
    const variance = 1 - rho * rho;
    const lambdas = Array.from({ length: STRUCTURE_RANK }, (_, i) => (0.8 * variance) / harmonic / (i + 1));
    const sigma2 = (0.2 * variance) / dim;
    means.set(mean, m * dim);
    const structure: Structure = { mean, picked: Int16Array.from(picked), sqrtL: Float64Array.from(lambdas, Math.sqrt), sigma: Math.sqrt(sigma2) };
    structures.push(structure);
    if (r() < many) {
      const dirs = new Float64Array(STRUCTURE_RANK * dim);
      picked.forEach((d, k) => dirs.set(G.subarray(d * dim, (d + 1) * dim), k * dim));
      const reference = toStored(structuredGaussian(mean, dirs, lambdas, sigma2, epsilon));
      const stored = ppcaRank >= STRUCTURE_RANK ? { ...reference, exact: true } : ppcaOf(mean, dirs, lambdas, sigma2, epsilon, ppcaRank, dim, residual);
      models.push({ concept, samples: 0, stored, reference });
    } else {
      const n = Math.min(dim, Math.round(Math.exp(Math.log(nMin) + r() * (Math.log(nMax) - Math.log(nMin)))));
      const x = new Float64Array(n * dim);
      for (let s = 0; s < n; s++) x.set(drawFrom(structure, G, r, dim), s * dim);
      const stored = toStored(lowRankGaussian(x, n, dim, epsilon));
      models.push({ concept, samples: n, stored, reference: stored });
    }
  }
  const sampleOf = (m: number, rand: () => number) => Float32Array.from(drawFrom(structures[m]!, G, rand, dim));
  const conceptQuery = (c: number, rand: () => number, spread = 0.8) => {
    const u = unitVector(dim, rand);
    const v = concepts[c]!.centre.map((x, j) => x + spread * u[j]!);
    const n = Math.hypot(...v);
    return Float32Array.from(v, (x) => x / n);
  };
  const ppcaAt = (m: number, rank: number, res: PpcaResidual = residual) => {
    const s = structures[m]!;
    if (zooModels[m]!.samples !== 0) throw new Error(`Model ${m} is not a many-sample model.`);
    const dirs = new Float64Array(STRUCTURE_RANK * dim);
    s.picked.forEach((d, k) => dirs.set(G.subarray(d * dim, (d + 1) * dim), k * dim));
    return ppcaOf(s.mean, dirs, Array.from(s.sqrtL, (x) => x * x), s.sigma * s.sigma, epsilon, rank, dim, res);
  };
  const zooModels = models;
  return { dim, count, epsilon, means, concepts, models, sampleOf, conceptQuery, ppcaOf: ppcaAt };
}

interface Structure {
  mean: Float64Array;
  /** Rows of G that are the model's principal directions, strongest first. */
  picked: Int16Array;
  sqrtL: Float64Array;
  sigma: number;
}

function drawFrom(s: Structure, G: Float64Array, r: () => number, dim: number): Float64Array {
  const x = Float64Array.from(s.mean, (v) => v + s.sigma * gauss(r));
  for (let k = 0; k < s.sqrtL.length; k++) {
    const a = s.sqrtL[k]! * gauss(r);
    const base = s.picked[k]! * dim;
    for (let j = 0; j < dim; j++) x[j] += a * G[base + j]!;
  }
  return x;
}

/**
 * Means only, for the 1M-model prefilter benchmark: the same concept structure, generated in
 * chunks so a million 512-d means never need to sit in float32 at once. `visit` gets each chunk
 * ([models, dim]) and the index of its first model.
 */
export function forEachMeanChunk(count: number, seed: number, chunk: number, visit: (means: Float32Array, first: number) => void): void {
  const dim = SCALE_DIM;
  const r = mulberry32(seed + 1);
  const conceptCount = Math.max(1, Math.round(count / MODELS_PER_CONCEPT));
  const centres = Array.from({ length: conceptCount }, () => Float32Array.from(unitVector(dim, r)));
  const buf = new Float32Array(chunk * dim);
  const u = new Float32Array(dim);
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    for (let i = 0; i < n; i++) {
      const c = centres[Math.floor(r() * conceptCount)]!;
      let su = 0;
      for (let j = 0; j < dim; j++) {
        u[j] = gauss(r);
        su += u[j]! * u[j]!;
      }
      const k = 0.6 / Math.sqrt(su);
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = c[j]! + k * u[j]!;
        buf[i * dim + j] = v;
        s += v * v;
      }
      const scale = (0.5 + 0.4 * r()) / Math.sqrt(s);
      for (let j = 0; j < dim; j++) buf[i * dim + j]! *= scale;
    }
    visit(buf.subarray(0, n * dim), first);
  }
}

/** Concept centres of forEachMeanChunk's zoo (same seed), for text-like queries. */
export function meanChunkCentres(count: number, seed: number): Float32Array[] {
  const r = mulberry32(seed + 1);
  const conceptCount = Math.max(1, Math.round(count / MODELS_PER_CONCEPT));
  return Array.from({ length: conceptCount }, () => Float32Array.from(unitVector(SCALE_DIM, r)));
}
