/**
 * Blocks of a tiered index served by a real static server (sirv, with Range support) and by a host
 * that ignores Range: the reader falls back to per-block files, and says so once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRangeServer } from '../../../tools/lib/rangeServer.ts';
import { smallTieredIndex } from '../../../test/support/tieredIndex.ts';
import { blockFetcher } from './blockFetcher.ts';
import { readTieredHead, type TieredHead } from './tieredHead.ts';
import { twoStageQuery } from './tieredQuery.ts';
import type { HostRangeError } from '../io/fetchBytes.ts';

const DIM = 16;
const COUNT = 24;

describe('block fetcher', () => {
  let dir: string;
  let close: () => void;
  let base: string;
  let head: TieredHead;
  let inMemory: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  const q = Float32Array.from({ length: DIM }, (_, j) => Math.sin(j + 1) / 3);

  beforeAll(async () => {
    const { packed, head: headBytes } = await smallTieredIndex({ dim: DIM, count: COUNT, seed: 3, cycle: 4, noise: 0.3, perBlock: 3, dtype: 'f16' });
    head = readTieredHead(headBytes);
    dir = mkdtempSync(join(tmpdir(), 'blocks-'));
    for (const sub of ['good', 'files', 'bare']) {
      mkdirSync(join(dir, sub, 'blocks'), { recursive: true });
      writeFileSync(join(dir, sub, 'records.bin'), packed.data);
    }
    packed.blocks.forEach((b, i) => writeFileSync(join(dir, 'files', 'blocks', `${i}.bin`), packed.data.subarray(b.offset, b.offset + b.bytes)));
    // One corrupted block file where the host also ignores Range.
    mkdirSync(join(dir, 'corrupt', 'blocks'), { recursive: true });
    writeFileSync(join(dir, 'corrupt', 'records.bin'), packed.data);
    packed.blocks.forEach((b, i) => writeFileSync(join(dir, 'corrupt', 'blocks', `${i}.bin`), packed.data.subarray(b.offset, b.offset + b.bytes).map((x, k) => (k === 30 ? x ^ 1 : x))));
    inMemory = async (blocks) => new Map(blocks.map((b) => [b, packed.data.slice(head.blocks[b]!.offset, head.blocks[b]!.offset + head.blocks[b]!.bytes)] as const));
    ({ base, close } = await startRangeServer(dir, (req, _res, serve) => {
      // Every folder but "good" sits behind a host that ignores Range.
      if (!req.url!.startsWith('/good/')) delete req.headers.range;
      serve();
    }));
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads blocks with Range requests from a host that supports them', async () => {
    const want = await twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: inMemory });
    const f = blockFetcher(`${base}/good/`, head);
    const got = await twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: f.fetchBlocks });
    expect(got.exact).toEqual(want.exact);
    expect(f.source()).toBe('ranges');
  });

  it('falls back to per-block files behind a host that ignores Range, and says so once', async () => {
    const want = await twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: inMemory });
    const told: HostRangeError[] = [];
    const f = blockFetcher(`${base}/files`, head, { onFallback: (e) => told.push(e) });
    const got = await twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: f.fetchBlocks });
    await twoStageQuery(head, Float32Array.from(q, (v) => -v), { k: 10, top: 5, fetchBlocks: f.fetchBlocks });
    expect(got.exact).toEqual(want.exact);
    expect(f.source()).toBe('block-files');
    expect(told.map((e) => e.reason)).toEqual(['ignored']);
  });

  it('without block files either, the error names both problems', async () => {
    const f = blockFetcher(`${base}/bare/`, head);
    await expect(twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: f.fetchBlocks })).rejects.toThrow(/ignores HTTP Range requests.*per-block files are not there either.*HTTP 404/);
  });

  it('a corrupted block file fails its SHA-256 like a corrupted range', async () => {
    const f = blockFetcher(`${base}/corrupt/`, head);
    await expect(twoStageQuery(head, q, { k: 10, top: 5, fetchBlocks: f.fetchBlocks })).rejects.toThrow(/failed its SHA-256 check/);
  });
});
