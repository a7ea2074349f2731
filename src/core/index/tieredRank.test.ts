import { describe, expect, it } from 'vitest';
import { smallTieredIndex } from '../../../test/support/tieredIndex.ts';
import { topK } from '../scoring/topK.ts';
import { lowRankLogDensity } from './lowRankGaussian.ts';
import { readTieredHead } from './tieredHead.ts';
import { kernelScorer, rankTiered } from './tieredRank.ts';
import { prefilterKernel } from '../scoring/tieredKernels.ts';
import type { BlockCache } from './tieredQuery.ts';

const DIM = 16;
const COUNT = 40;

async function setup() {
  const { gs, packed, head: bytes } = await smallTieredIndex({ dim: DIM, count: COUNT, seed: 21, cycle: 6, noise: 0.4, perBlock: 5, dtype: 'f32' });
  const head = readTieredHead(bytes);
  const fetched: number[][] = [];
  const fetchBlocks = async (blocks: number[]) => {
    fetched.push(blocks);
    return new Map(blocks.map((b) => [b, packed.data.slice(head.blocks[b]!.offset, head.blocks[b]!.offset + head.blocks[b]!.bytes)] as const));
  };
  return { gs, head, fetchBlocks, fetched, cache: new Map() as BlockCache };
}

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};
const qText = unit(Array.from({ length: DIM }, (_, j) => Math.sin(j + 1)));
const qImage = unit(Array.from({ length: DIM }, (_, j) => Math.cos(2 * j)));
const embedder = async (part: { kind: 'text' } | { kind: 'image' }) => (part.kind === 'text' ? qText : qImage);

describe('rankTiered: the two-stage ranking of a tiered index', () => {
  it('with K = every model it equals exhaustive Gaussian density (an independent loop over the records)', async () => {
    const { gs, head, fetchBlocks, cache } = await setup();
    const got = await rankTiered({ head }, { parts: [{ part: { kind: 'text', text: 'x' }, weight: 1 }], method: 'gaussian', topK: 10 }, embedder, { fetchBlocks, cache, candidates: COUNT });
    const truth = topK(Float32Array.from(gs, (g) => lowRankLogDensity(g, qText)), 10);
    expect(got.method).toBe('gaussian');
    expect(got.results.map((r) => r.index)).toEqual(truth.map((r) => r.index));
    got.results.forEach((r, i) => expect(r.score).toBeCloseTo(truth[i]!.score, 3));
  });

  it('with the WASM kernels the ranking and scores are those of the JS path', async () => {
    const { head, fetchBlocks, cache } = await setup();
    const kernel = prefilterKernel(head);
    expect(kernel.engines.int8).toBe('wasm');
    for (const method of ['gaussian', 'first-moment'] as const) {
      const query = { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 0.4 }, { part: { kind: 'image' as const, image: 'i' }, weight: 0.6 }], method, topK: 8 };
      const js = await rankTiered({ head }, query, embedder, { fetchBlocks, cache, candidates: 20 });
      const wasm = await rankTiered({ head }, query, embedder, { fetchBlocks, cache, candidates: 20, scorer: kernelScorer(kernel) });
      expect(wasm.prefilter).toEqual(js.prefilter);
      expect(wasm.results.map((r) => r.index)).toEqual(js.results.map((r) => r.index));
      wasm.results.forEach((r, i) => expect(Math.abs(r.score - js.results[i]!.score)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(r.score))));
    }
  });

  it('reports the prefilter ranking before any block is fetched, then fetches only what is missing', async () => {
    const { head, fetchBlocks, fetched, cache } = await setup();
    const order: string[] = [];
    const fetchLogged = async (b: number[]) => (order.push('fetch'), fetchBlocks(b));
    const query = { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], topK: 5 };
    const first = await rankTiered({ head }, query, embedder, { fetchBlocks: fetchLogged, cache, candidates: 12, onPrefilter: (p) => void order.push(`prefilter:${p.length}`) });
    expect(order).toEqual(['prefilter:5', 'fetch']);
    expect(first.candidates).toHaveLength(12);
    const again = await rankTiered({ head }, query, embedder, { fetchBlocks, cache, candidates: 12 });
    expect(again.fetched).toEqual([]);
    expect(again.results).toEqual(first.results);
    expect(fetched).toHaveLength(1);
  });

  it('a text + image query ranks by the weighted sum of both log-densities (product of experts)', async () => {
    const { gs, head, fetchBlocks, cache } = await setup();
    const parts = [{ part: { kind: 'text' as const, text: 'x' }, weight: 0.3 }, { part: { kind: 'image' as const, image: 'img' }, weight: 0.7 }];
    const got = await rankTiered({ head }, { parts, method: 'gaussian', topK: 5 }, embedder, { fetchBlocks, cache, candidates: COUNT });
    const truth = topK(Float32Array.from(gs, (g) => 0.3 * lowRankLogDensity(g, qText) + 0.7 * lowRankLogDensity(g, qImage)), 5);
    expect(got.results.map((r) => r.index)).toEqual(truth.map((r) => r.index));
  });

  it('1st moment reranks by the exact cosine; "more like this" uses the model’s own mean and leaves it out', async () => {
    const { gs, head, fetchBlocks, cache } = await setup();
    const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let d = 0, na = 0, nb = 0;
      for (let j = 0; j < DIM; j++) (d += a[j]! * b[j]!), (na += a[j]! ** 2), (nb += b[j]! ** 2);
      return d / Math.sqrt(na * nb);
    };
    const fm = await rankTiered({ head }, { parts: [{ part: { kind: 'text', text: 'x' }, weight: 1 }], method: 'first-moment', topK: 5 }, embedder, { fetchBlocks, cache, candidates: COUNT });
    expect(fm.results.map((r) => r.index)).toEqual(topK(Float32Array.from(gs, (g) => cos(g.mean, qText)), 5).map((r) => r.index));
    const like = await rankTiered({ head, idOf: (id) => (id === 'm7' ? 7 : undefined) }, { parts: [{ part: { kind: 'model', modelId: 'm7' }, weight: 1 }], topK: 5 }, embedder, { fetchBlocks, cache, candidates: COUNT });
    const scores = Float32Array.from(gs, (g) => cos(g.mean, gs[7]!.mean));
    scores[7] = -Infinity;
    expect(like.queryModel).toBe(7);
    expect(like.results.map((r) => r.index)).toEqual(topK(scores, 5).map((r) => r.index));
  });

  it('sample images rank by the cosine to their mean (1st moment), every model a candidate; mixed with other parts they are refused', async () => {
    const { gs, head, fetchBlocks, cache } = await setup();
    const images = [qText, qImage];
    const byImage = async (part: { kind: 'text' } | { kind: 'image'; image?: unknown }) => ('image' in part ? (part.image as Float32Array) : qText);
    const got = await rankTiered({ head }, { parts: [{ part: { kind: 'samples', images }, weight: 1 }], topK: 5 }, byImage, { fetchBlocks, cache, candidates: COUNT });
    expect(got.method).toBe('first-moment');
    // Independent reference: the float64 mean of the two images, and the cosine with each record's mean.
    const mean = Array.from({ length: DIM }, (_, j) => (qText[j]! + qImage[j]!) / 2);
    const cos = (a: ArrayLike<number>) => {
      let d = 0, na = 0, nb = 0;
      for (let j = 0; j < DIM; j++) (d += a[j]! * mean[j]!), (na += a[j]! ** 2), (nb += mean[j]! ** 2);
      return d / Math.sqrt(na * nb);
    };
    const reference = Float32Array.from(gs, (g) => cos(g.mean));
    expect(got.results.map((r) => r.index)).toEqual(topK(reference, 5).map((r) => r.index));
    for (const r of got.results) expect(r.score).toBeCloseTo(reference[r.index]!, 5);
    await expect(
      rankTiered({ head }, { parts: [{ part: { kind: 'samples', images }, weight: 1 }, { part: { kind: 'text', text: 'x' }, weight: 1 }] }, byImage, { fetchBlocks, cache }),
    ).rejects.toThrow(/on its own/);
    await expect(rankTiered({ head }, { parts: [{ part: { kind: 'samples', images: [] }, weight: 1 }] }, byImage, { fetchBlocks, cache })).rejects.toThrow(/at least 1 image/);
  });

  it('Auto picks as on a version 1 index (the calibration measured each kind with it): text → 1st moment, images → Gaussian density', async () => {
    const { head, fetchBlocks, cache } = await setup();
    const run = (part: { kind: 'text'; text: string } | { kind: 'image'; image: string; source?: 'sketch' }) => rankTiered({ head }, { parts: [{ part, weight: 1 }] }, embedder, { fetchBlocks, cache });
    expect((await run({ kind: 'text', text: 'x' })).method).toBe('first-moment');
    expect((await run({ kind: 'image', image: 'i' })).method).toBe('gaussian');
    expect((await run({ kind: 'image', image: 'i', source: 'sketch' })).method).toBe('first-moment');
  });

  it('refuses what a tiered index cannot do, with a message, before encoding anything', async () => {
    const { head, fetchBlocks, cache } = await setup();
    let encoded = 0;
    const embed = async () => (encoded++, qText);
    const text = [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }];
    const run = (q: object, candidates?: number) => rankTiered({ head }, { parts: text, ...q }, embed, { fetchBlocks, cache, candidates });
    await expect(run({ method: 'monte-carlo' })).rejects.toThrow(/does not support the monte-carlo method/);
    await expect(run({ filters: { family: ['sd'] } })).rejects.toThrow(/Field filters are not available/);
    await expect(run({ hybridWeight: 0.5 })).rejects.toThrow(/hybrid/);
    await expect(run({}, 0)).rejects.toThrow(/candidates K must be a whole number/);
    await expect(rankTiered({ head }, { parts: [{ part: { kind: 'model', modelId: 'nope' }, weight: 1 }] }, embed, { fetchBlocks, cache })).rejects.toThrow(/is not in this index/);
    expect(encoded).toBe(0);
  });

  it('a wrong-length embedding is refused (another encoder), not scored', async () => {
    const { head, fetchBlocks, cache } = await setup();
    await expect(rankTiered({ head }, { parts: [{ part: { kind: 'text', text: 'x' }, weight: 1 }] }, async () => new Float32Array(DIM + 1), { fetchBlocks, cache })).rejects.toThrow(/needs 16 dimensions/);
  });
});
