/**
 * The scale benchmark's synthetic zoo (tools/scale/synthZoo.ts): its records are what it says they
 * are, so the recall `npm run bench:scale` reports is measured against the right reference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { lowRankLogDensity } from '../../src/core/index/lowRankGaussian.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { forEachMeanChunk, makeScaleZoo, SCALE_DIM, type ScaleZoo } from '../../tools/scale/synthZoo.ts';

describe('synthetic scale zoo', () => {
  let zoo: ScaleZoo;
  beforeAll(() => {
    zoo = makeScaleZoo({ count: 120, seed: 4, manySampleFraction: 0.25 }); // 3 concepts
  }, 60_000);

  it('low-sample models hold the exact low-rank Gaussian of their samples (rank n − 1), many-sample ones PPCA-64 of an exact reference', () => {
    const low = zoo.models.filter((m) => m.samples > 0);
    const many = zoo.models.filter((m) => m.samples === 0);
    expect(low.length).toBeGreaterThan(0);
    expect(many.length).toBeGreaterThan(0);
    for (const m of low) {
      expect(m.stored.exact).toBe(true);
      expect(m.stored.rank).toBe(m.samples - 1);
      expect(m.reference).toBe(m.stored);
    }
    for (const m of many) {
      expect(m.stored.exact).toBe(false);
      expect(m.stored.rank).toBe(64);
      expect(m.reference.rank).toBe(128);
      expect(m.reference.exact).toBe(true);
    }
  });

  it("a model's own draws score higher under its Gaussian than under another concept's models", () => {
    const r = mulberry32(1);
    const m = zoo.models.findIndex((x) => x.samples > 20);
    const other = zoo.models.findIndex((x) => x.concept !== zoo.models[m]!.concept);
    let wins = 0;
    for (let i = 0; i < 20; i++) {
      const q = zoo.sampleOf(m, r);
      if (lowRankLogDensity(zoo.models[m]!.reference, q) > lowRankLogDensity(zoo.models[other]!.reference, q)) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(18);
  });

  it('draws have E‖x‖² ≈ 1, like unit embeddings, and means of norm 0.5–0.9', () => {
    const r = mulberry32(2);
    let ss = 0;
    for (let i = 0; i < 200; i++) for (const v of zoo.sampleOf(i % zoo.count, r)) ss += v * v;
    expect(ss / 200).toBeGreaterThan(0.9);
    expect(ss / 200).toBeLessThan(1.1);
    for (let m = 0; m < zoo.count; m++) {
      const n = Math.hypot(...zoo.means.subarray(m * SCALE_DIM, (m + 1) * SCALE_DIM));
      expect(n).toBeGreaterThan(0.49);
      expect(n).toBeLessThan(0.91);
    }
  });

  it('means-only chunks are deterministic and chunk-size independent', () => {
    const collect = (chunk: number) => {
      const out = new Float32Array(50 * SCALE_DIM);
      forEachMeanChunk(50, 9, chunk, (means, first) => out.set(means, first * SCALE_DIM));
      return out;
    };
    expect(collect(7)).toEqual(collect(50));
  });
});
