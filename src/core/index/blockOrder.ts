/**
 * The storage order of a tiered (version 2) index: models near each other share blocks, so the top
 * K candidates of one query sit in few blocks and a cold query fetches few of them
 * (docs/index-format.md, "Version 2").
 *
 * Spherical k-means over the models' unit-normalised means (k-means++ seeding from a fixed seed,
 * Lloyd rounds on the cosine), then the models cluster by cluster — clusters chained greedily so
 * that neighbouring clusters are also neighbours in the file (a query whose candidates span two
 * clusters then reads one coalesced range), and within a cluster in their input order (the
 * builder's sorted id order). Deterministic: the same means in the same input order give the same
 * order on every machine (plain float64 arithmetic, no parallelism, a fixed seed), which is what
 * lets a merge of shards reproduce a single build byte for byte.
 *
 * Pure and DOM-free (the builder runs it; the worker never needs it: the head's directory and
 * meta shards simply follow the stored order).
 */
import { mulberry32 } from '../math/prng.ts';

export interface BlockOrderOptions {
  /** Models per block of the index (the last may hold fewer). */
  modelsPerBlock: number;
  /** One flat level of this many clusters instead of the default two levels (measurements). */
  clusters?: number;
  /** Lloyd rounds after the seeding (default 8; stops early once no model moves). */
  rounds?: number;
  /** PRNG seed of the k-means++ seeding (default 1). */
  seed?: number;
}

export interface BlockOrder {
  /** order[i] = the input position of the model stored at position i (a permutation of 0..count-1). */
  order: Int32Array;
  /** The cluster of each input position (clusters numbered in storage order). */
  cluster: Int32Array;
  /** Clusters actually used (≤ the requested number: duplicates of one mean collapse). */
  clusters: number;
}

/** The means as float64 unit vectors (a zero mean stays zero: it joins whichever cluster the tie-break gives it). */
function unitRows(means: ArrayLike<number>, dim: number, count: number): Float64Array {
  const u = new Float64Array(count * dim);
  for (let m = 0; m < count; m++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += means[m * dim + j]! ** 2;
    const inv = s > 0 && Number.isFinite(s) ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) u[m * dim + j] = means[m * dim + j]! * inv;
  }
  return u;
}

function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[ai + j]! * b[bi + j]!;
  return s;
}

/**
 * Spherical k-means: k-means++ seeding (distance 1 − cos, a fixed seed), then Lloyd rounds
 * (assignment by the largest cosine, ties to the lower cluster; centroids re-normalised; an empty
 * cluster keeps its centroid). Returns each row's cluster and the centroids.
 */
export function sphericalKMeans(unit: Float64Array, dim: number, k: number, rounds: number, seed: number): { assign: Int32Array; centroids: Float64Array; k: number } {
  const count = unit.length / dim;
  k = Math.max(1, Math.min(k, count));
  const r = mulberry32(seed);
  const centroids = new Float64Array(k * dim);
  // k-means++: the first centre uniformly, then each next with probability ∝ its distance to the nearest centre.
  const nearest = new Float64Array(count).fill(Infinity);
  let pick = Math.floor(r() * count);
  let used = 0;
  for (let c = 0; c < k; c++) {
    centroids.set(unit.subarray(pick * dim, pick * dim + dim), c * dim);
    used++;
    let total = 0;
    for (let m = 0; m < count; m++) {
      const d = Math.max(0, 1 - dot(unit, m * dim, centroids, c * dim, dim));
      if (d < nearest[m]!) nearest[m] = d;
      total += nearest[m]!;
    }
    if (c === k - 1) break;
    if (!(total > 1e-12)) break; // every model sits on a centre already: no more distinct clusters
    let x = r() * total;
    pick = count - 1;
    for (let m = 0; m < count; m++) {
      x -= nearest[m]!;
      if (x < 0 && nearest[m]! > 0) {
        pick = m;
        break;
      }
    }
  }
  k = used;
  const assign = new Int32Array(count);
  const sums = new Float64Array(k * dim);
  for (let round = 0; ; round++) {
    let moved = 0;
    for (let m = 0; m < count; m++) {
      let best = -Infinity;
      let bestC = 0;
      for (let c = 0; c < k; c++) {
        const s = dot(unit, m * dim, centroids, c * dim, dim);
        if (s > best) {
          best = s;
          bestC = c;
        }
      }
      if (round === 0 || assign[m] !== bestC) moved++;
      assign[m] = bestC;
    }
    if (round >= rounds || (round > 0 && moved === 0)) break;
    sums.fill(0);
    for (let m = 0; m < count; m++) {
      const c = assign[m]!;
      for (let j = 0; j < dim; j++) sums[c * dim + j]! += unit[m * dim + j]!;
    }
    for (let c = 0; c < k; c++) {
      let n = 0;
      for (let j = 0; j < dim; j++) n += sums[c * dim + j]! ** 2;
      if (!(n > 0)) continue; // empty (or a zero sum): keep the old centroid
      const inv = 1 / Math.sqrt(n);
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j]! * inv;
    }
  }
  return { assign, centroids, k };
}

/**
 * The rows' clusters (spherical k-means into `k`), chained: first the cluster nearest `from` (or
 * the one holding rows[0]), then always the unvisited cluster whose centroid is nearest the last one
 * (ties to the lower number). Each group keeps the rows' order; empty clusters are dropped.
 */
function clusterChain(unit: Float64Array, dim: number, rows: Int32Array, k: number, rounds: number, seed: number, from?: Float64Array): { rows: Int32Array; centroid: Float64Array }[] {
  const sub = new Float64Array(rows.length * dim);
  rows.forEach((m, i) => sub.set(unit.subarray(m * dim, m * dim + dim), i * dim));
  const { assign, centroids, k: used } = sphericalKMeans(sub, dim, k, rounds, seed);
  const sizes = new Int32Array(used);
  for (const c of assign) sizes[c]!++;
  const seen = new Uint8Array(used);
  const nearestTo = (v: Float64Array, vi: number) => {
    let best = -Infinity;
    let next = -1;
    for (let c = 0; c < used; c++) {
      if (seen[c] || sizes[c] === 0) continue;
      const s = dot(v, vi, centroids, c * dim, dim);
      if (s > best) {
        best = s;
        next = c;
      }
    }
    return next;
  };
  const chain: number[] = [];
  let cur = from ? nearestTo(from, 0) : assign[0]!;
  while (cur >= 0) {
    seen[cur] = 1;
    chain.push(cur);
    cur = nearestTo(centroids, cur * dim);
  }
  const members = chain.map(() => [] as number[]);
  const slot = new Int32Array(used).fill(-1);
  chain.forEach((c, i) => (slot[c] = i));
  assign.forEach((c, i) => members[slot[c]!]!.push(rows[i]!));
  return chain.map((c, i) => ({ rows: Int32Array.from(members[i]!), centroid: centroids.slice(c * dim, c * dim + dim) }));
}

/**
 * The clustered storage order of `count` models with these means ([count, dim], in input order).
 * An index of one block (count ≤ modelsPerBlock) keeps the input order.
 *
 * By default two levels: ⌈√(count / modelsPerBlock)⌉ clusters, each split again into
 * ⌈size / modelsPerBlock⌉ (about one a block), the sub-clusters chained from where the previous
 * cluster ended. The cost is O(count · d · √(count / modelsPerBlock)) a round — a flat k-means with
 * one cluster a block costs O(count² · d / modelsPerBlock), hours at 100 000 models — and the
 * chaining keeps nearby clusters in nearby blocks. `clusters` asks for one flat level instead.
 */
export function blockOrder(means: ArrayLike<number>, dim: number, opts: BlockOrderOptions): BlockOrder {
  if (!(Number.isInteger(dim) && dim >= 1) || means.length % dim !== 0) throw new Error(`blockOrder: ${means.length} values are not whole rows of ${dim}`);
  const per = opts.modelsPerBlock;
  if (!(Number.isInteger(per) && per >= 1)) throw new Error('blockOrder: modelsPerBlock must be a whole number ≥ 1');
  const count = means.length / dim;
  const identity = Int32Array.from({ length: count }, (_, i) => i);
  if (count <= per) return { order: identity, cluster: new Int32Array(count), clusters: count > 0 ? 1 : 0 };
  const unit = unitRows(means, dim, count);
  const rounds = opts.rounds ?? 8;
  const seed = opts.seed ?? 1;
  let leaves: { rows: Int32Array; centroid: Float64Array }[];
  if (opts.clusters !== undefined) {
    leaves = clusterChain(unit, dim, identity, opts.clusters, rounds, seed);
  } else {
    leaves = [];
    for (const group of clusterChain(unit, dim, identity, Math.ceil(Math.sqrt(count / per)), rounds, seed)) {
      if (group.rows.length <= per) leaves.push(group);
      else leaves.push(...clusterChain(unit, dim, group.rows, Math.ceil(group.rows.length / per), rounds, seed, leaves.at(-1)?.centroid));
    }
  }
  const order = new Int32Array(count);
  const cluster = new Int32Array(count);
  let at = 0;
  leaves.forEach((leaf, c) => {
    for (const m of leaf.rows) {
      order[at++] = m;
      cluster[m] = c;
    }
  });
  return { order, cluster, clusters: leaves.length };
}

/** Blocks a set of stored positions touch, and the contiguous runs of blocks (the Range requests after coalescing). */
export function blockSpan(positions: Iterable<number>, modelsPerBlock: number): { blocks: number; runs: number } {
  const blocks = [...new Set([...positions].map((p) => Math.floor(p / modelsPerBlock)))].sort((a, b) => a - b);
  let runs = 0;
  blocks.forEach((b, i) => {
    if (i === 0 || blocks[i - 1] !== b - 1) runs++;
  });
  return { blocks: blocks.length, runs };
}
