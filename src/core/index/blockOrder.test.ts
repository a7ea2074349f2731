import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { blockOrder, blockSpan, sphericalKMeans } from './blockOrder.ts';

/** `count` unit-ish means around `concepts` random directions, in a shuffled (id) order: the concept of each. */
function clustered(count: number, dim: number, concepts: number, seed: number): { means: Float32Array; concept: Int32Array } {
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: concepts }, () => Array.from({ length: dim }, gauss));
  const means = new Float32Array(count * dim);
  const concept = new Int32Array(count);
  for (let m = 0; m < count; m++) {
    const c = Math.floor(r() * concepts);
    concept[m] = c;
    for (let j = 0; j < dim; j++) means[m * dim + j] = centres[c]![j]! + 0.35 * gauss();
  }
  return { means, concept };
}

const isPermutation = (order: Int32Array) => [...order].sort((a, b) => a - b).every((v, i) => v === i);

describe('blockOrder', () => {
  const dim = 24;
  const { means, concept } = clustered(400, dim, 20, 5);

  it('is a permutation, deterministic, and the same for a copy of the means', () => {
    const a = blockOrder(means, dim, { modelsPerBlock: 16 });
    const b = blockOrder(Float32Array.from(means), dim, { modelsPerBlock: 16 });
    expect(isPermutation(a.order)).toBe(true);
    expect([...a.order]).toEqual([...b.order]);
    expect([...a.cluster]).toEqual([...b.cluster]);
    // A different seed is a different (still valid) order: the seed is what fixes it.
    const c = blockOrder(means, dim, { modelsPerBlock: 16, seed: 2 });
    expect(isPermutation(c.order)).toBe(true);
  });

  it('stores each cluster contiguously, in input (id) order within it', () => {
    for (const opts of [{ modelsPerBlock: 16 }, { modelsPerBlock: 8, clusters: 20 }]) {
      const { order, cluster, clusters } = blockOrder(means, dim, opts);
      const seq = Array.from(order, (m) => cluster[m]!);
      // Clusters numbered in storage order: the sequence never decreases, and uses every number.
      for (let i = 1; i < seq.length; i++) expect(seq[i]!).toBeGreaterThanOrEqual(seq[i - 1]!);
      expect(new Set(seq).size).toBe(clusters);
      for (let i = 1; i < order.length; i++) if (seq[i] === seq[i - 1]) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    }
  });

  it('keeps an index of one block in input order, and handles duplicates and zero means', () => {
    expect([...blockOrder(means.subarray(0, 10 * dim), dim, { modelsPerBlock: 16 }).order]).toEqual([...Array(10).keys()]);
    const same = new Float32Array(40 * dim).fill(0.5);
    same.fill(0, 0, dim); // one zero mean
    const o = blockOrder(same, dim, { modelsPerBlock: 4 });
    expect(isPermutation(o.order)).toBe(true);
    expect(() => blockOrder(new Float32Array(5), 2, { modelsPerBlock: 4 })).toThrow(/whole rows/);
    expect(() => blockOrder(means, dim, { modelsPerBlock: 0 })).toThrow(/modelsPerBlock/);
  });

  it('puts the nearest neighbours of a query in fewer blocks than the id order does', () => {
    const per = 16;
    const { order } = blockOrder(means, dim, { modelsPerBlock: per });
    const pos = new Int32Array(order.length);
    order.forEach((m, p) => (pos[m] = p));
    let idBlocks = 0;
    let clusteredBlocks = 0;
    const count = means.length / dim;
    for (let q = 0; q < 40; q++) {
      // Top 30 by cosine to model q's mean.
      const cos = (m: number) => {
        let d = 0;
        let n = 0;
        for (let j = 0; j < dim; j++) {
          d += means[q * dim + j]! * means[m * dim + j]!;
          n += means[m * dim + j]! ** 2;
        }
        return d / Math.sqrt(n);
      };
      const top = [...Array(count).keys()].sort((a, b) => cos(b) - cos(a)).slice(0, 30);
      idBlocks += blockSpan(top, per).blocks;
      clusteredBlocks += blockSpan(top.map((m) => pos[m]!), per).blocks;
    }
    expect(clusteredBlocks).toBeLessThan(0.5 * idBlocks);
    // And the clusters found are the concepts: most clusters hold one concept.
    const { cluster } = blockOrder(means, dim, { modelsPerBlock: per, clusters: 20 });
    let pure = 0;
    for (let c = 0; c < 20; c++) {
      const members = [...Array(count).keys()].filter((m) => cluster[m] === c).map((m) => concept[m]);
      if (members.length && new Set(members).size === 1) pure++;
    }
    expect(pure).toBeGreaterThanOrEqual(15);
  });

  it('sphericalKMeans: k capped by the rows, every row assigned', () => {
    const unit = Float64Array.from([1, 0, 0, 1, 1, 0]);
    const r = sphericalKMeans(unit, 2, 5, 4, 1);
    expect(r.k).toBeLessThanOrEqual(3);
    expect(r.assign[0]).toBe(r.assign[2]);
    expect(r.assign[1]).not.toBe(r.assign[0]);
  });
});

describe('blockSpan', () => {
  it('counts blocks and coalesced runs', () => {
    expect(blockSpan([0, 1, 17, 70, 50], 16)).toEqual({ blocks: 4, runs: 2 });
    expect(blockSpan([], 16)).toEqual({ blocks: 0, runs: 0 });
  });
});
