import { describe, expect, it } from 'vitest';
import { smallTieredIndex } from '../../../test/support/tieredIndex.ts';
import { topK } from '../scoring/topK.ts';
import { lowRankLogDensity } from './lowRankGaussian.ts';
import { readTieredHead } from './tieredHead.ts';
import { decodeRecord } from './tieredRecords.ts';
import { twoStageQuery } from './tieredQuery.ts';

const DIM = 16;
const COUNT = 30;

async function index() {
  const { packed, head: bytes } = await smallTieredIndex({ dim: DIM, count: COUNT, seed: 8, cycle: 5, noise: 0.3, perBlock: 4, dtype: 'f32' });
  const head = readTieredHead(bytes);
  const requested: number[][] = [];
  const fetchBlocks = async (blocks: number[]) => {
    requested.push(blocks);
    return new Map(blocks.map((b) => [b, packed.data.slice(head.blocks[b]!.offset, head.blocks[b]!.offset + head.blocks[b]!.bytes)] as const));
  };
  return { head, packed, fetchBlocks, requested };
}

describe('two-stage query over a tiered index', () => {
  const q = Float32Array.from({ length: DIM }, (_, j) => Math.cos(j) / 3);

  it('with K = every model it is exhaustive Gaussian density over the stored records, whichever prefilter', async () => {
    const { head, packed, fetchBlocks } = await index();
    const got = await twoStageQuery(head, q, { k: COUNT, top: 10, fetchBlocks });
    expect((await twoStageQuery(head, q, { k: COUNT, top: 10, fetchBlocks, prefilter: 'cosine' })).exact).toEqual(got.exact);
    const scores = Float32Array.from({ length: COUNT }, (_, m) => {
      const d = packed.directory[m]!;
      const start = head.blocks[d.block]!.offset + d.offset;
      return lowRankLogDensity(decodeRecord(packed.data.subarray(start, start + d.bytes), DIM), q);
    });
    expect(got.exact).toEqual(topK(scores, 10));
  });

  it('shows the prefilter ranking before fetching, fetches only missing blocks, and fetches nothing when warm', async () => {
    const { head, fetchBlocks, requested } = await index();
    const cache = new Map();
    const order: string[] = [];
    const first = await twoStageQuery(head, q, { k: 8, top: 5, cache, fetchBlocks: async (b) => (order.push('fetch'), fetchBlocks(b)), onPrefilter: (r) => (order.push('prefilter'), expect(r).toHaveLength(5)) });
    expect(order).toEqual(['prefilter', 'fetch']);
    expect(first.fetched.length).toBeGreaterThan(0);
    const again = await twoStageQuery(head, q, { k: 8, top: 5, cache, fetchBlocks });
    expect(again.fetched).toEqual([]);
    expect(again.exact).toEqual(first.exact);
    expect(requested).toHaveLength(1);
  });

  it('a block the host corrupted fails the query with the block named; nothing is cached from it', async () => {
    const { head, fetchBlocks } = await index();
    const cache = new Map();
    const bad = async (blocks: number[]) => {
      const m = await fetchBlocks(blocks);
      m.get(blocks[0]!)![20]! ^= 0xff;
      return m;
    };
    await expect(twoStageQuery(head, q, { k: 8, top: 5, cache, fetchBlocks: bad })).rejects.toThrow(/Block \d+ failed its SHA-256 check/);
    expect(cache.size).toBe(0);
    await expect(twoStageQuery(head, q, { k: 0, top: 5, fetchBlocks })).rejects.toThrow(/K must be a positive integer/);
    await expect(twoStageQuery(head, q, { k: 8, top: 5, fetchBlocks: async () => new Map() })).rejects.toThrow(/was not delivered/);
  });
});
