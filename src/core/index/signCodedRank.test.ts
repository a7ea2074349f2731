import { describe, expect, it } from 'vitest';
import { smallSignCodedIndex } from '../../../test/support/tieredIndex.ts';
import { readTieredHead, writeTieredHead } from './tieredHead.ts';
import { codeBytesPerModel, codeStride, openCodeBlock } from './codeBlocks.ts';
import { kernelScorer, rankTiered } from './tieredRank.ts';
import { prefilterKernel } from '../scoring/tieredKernels.ts';
import { signAgreementScores, signCodes } from '../scoring/prefilter.ts';
import { topK } from '../scoring/topK.ts';
import type { BlockCache, CodeCache } from './tieredQuery.ts';

/**
 * A sign-coded head (1M-model indexes): sign codes in the head, int8 means and proxy terms in
 * codes.bin fetched for a shortlist. With a shortlist of every model it must rank exactly as the
 * int8 head of the same index; with a smaller one, the shortlist is the sign codes' top.
 */
const DIM = 16;
const COUNT = 40;
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};
const qText = unit(Array.from({ length: DIM }, (_, j) => Math.sin(j + 1)));
const qImage = unit(Array.from({ length: DIM }, (_, j) => Math.cos(2 * j)));
const embedder = async (part: { kind: 'text' } | { kind: 'image' }) => (part.kind === 'text' ? qText : qImage);

async function setup() {
  const idx = await smallSignCodedIndex({ dim: DIM, count: COUNT, seed: 21, cycle: 6, noise: 0.4, perBlock: 5, dtype: 'f32' });
  const int8Head = readTieredHead(idx.head);
  const signHead = readTieredHead(idx.signHead);
  const slice = (data: Uint8Array, e: { offset: number; bytes: number }) => data.slice(e.offset, e.offset + e.bytes);
  const codeRequests: number[][] = [];
  const fetchBlocks = async (blocks: number[]) => new Map(blocks.map((b) => [b, slice(idx.packed.data, int8Head.blocks[b]!)] as const));
  const fetchCodeBlocks = async (blocks: number[]) => (codeRequests.push(blocks), new Map(blocks.map((b) => [b, slice(idx.codes, signHead.codeBlocks![b]!)] as const)));
  return { idx, int8Head, signHead, fetchBlocks, fetchCodeBlocks, codeRequests };
}

describe('sign-coded tiered heads', () => {
  it('hold sign codes and a codes table instead of int8 means; codes.bin holds each model’s int8 mean and terms', async () => {
    const { idx, signHead, int8Head } = await setup();
    expect(signHead.prefilter).toBeUndefined();
    expect(signHead.proxy).toBeUndefined();
    expect(signHead.signs!.bits).toEqual(signCodes(idx.means, DIM).bits);
    expect(idx.codes.byteLength).toBe(COUNT * codeBytesPerModel(DIM));
    expect(codeStride(15)).toBe(16);
    const block = await openCodeBlock(idx.codes.slice(signHead.codeBlocks![3]!.offset, signHead.codeBlocks![3]!.offset + signHead.codeBlocks![3]!.bytes), signHead.codeBlocks![3]!, DIM, 3);
    const m = int8Head.blocks[3]!.firstModel;
    expect(Array.from(block.means.codes.subarray(0, DIM))).toEqual(Array.from(int8Head.prefilter!.codes.subarray(m * DIM, (m + 1) * DIM)));
    expect(block.precision[0]).toBe(int8Head.proxy!.precision[m]);
    expect(block.logDet[0]).toBe(int8Head.proxy!.logDet[m]);
    expect(idx.signHead.byteLength).toBeLessThan(idx.head.byteLength);
  });

  it('with a shortlist of every model, rank exactly as the int8 head (every method, mixed queries, more like this)', async () => {
    const { int8Head, signHead, fetchBlocks, fetchCodeBlocks } = await setup();
    const queries = [
      { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], method: 'gaussian' as const, topK: 8 },
      { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], method: 'first-moment' as const, topK: 8 },
      { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 0.3 }, { part: { kind: 'image' as const, image: 'i' }, weight: 0.7 }], topK: 8 },
      { parts: [{ part: { kind: 'model' as const, modelId: 'm9' }, weight: 1 }], topK: 8 },
    ];
    const idOf = (id: string) => (id === 'm9' ? 9 : undefined);
    for (const q of queries) {
      const a = await rankTiered({ head: int8Head, idOf }, q, embedder, { fetchBlocks, cache: new Map() as BlockCache, candidates: 12 });
      const b = await rankTiered({ head: signHead, idOf }, q, embedder, { fetchBlocks, cache: new Map() as BlockCache, candidates: 12, shortlist: COUNT, fetchCodeBlocks, codeCache: new Map() as CodeCache });
      expect(b.method).toBe(a.method);
      expect(b.prefilter).toEqual(a.prefilter);
      expect(b.results).toEqual(a.results);
      expect(b.signStage!.shortlist).toBe(q.parts[0]!.part.kind === 'model' ? COUNT - 1 : COUNT);
    }
  });

  it('a short shortlist is the sign codes’ top; only its code blocks are fetched, once; the kernels give the same ranking', async () => {
    const { signHead, fetchBlocks, fetchCodeBlocks, codeRequests } = await setup();
    const codeCache: CodeCache = new Map();
    const cache: BlockCache = new Map();
    const q = { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], method: 'first-moment' as const, topK: 5 };
    const got = await rankTiered({ head: signHead }, q, embedder, { fetchBlocks, cache, candidates: 6, shortlist: 10, fetchCodeBlocks, codeCache });
    const short = topK(signAgreementScores(signHead.signs!, qText), 10).map((c) => c.index);
    expect(got.candidates.map((c) => c.index).every((m) => short.includes(m))).toBe(true);
    expect([...got.prefilterScores].filter((s) => !Number.isNaN(s))).toHaveLength(10);
    expect(codeRequests).toEqual([[...new Set(short.map((m) => signHead.directory[m]!.block))].sort((a, b) => a - b)]);
    const again = await rankTiered({ head: signHead }, q, embedder, { fetchBlocks, cache, candidates: 6, shortlist: 10, fetchCodeBlocks, codeCache, scorer: kernelScorer(prefilterKernel(signHead)) });
    expect(again.signStage!.codeBlocksFetched).toEqual([]);
    expect(codeRequests).toHaveLength(1);
    expect(again.results).toEqual(got.results);
  });

  it('a code block that fails its hash fails the query with the block named, and is not kept', async () => {
    const { signHead, fetchBlocks } = await setup();
    const codeCache: CodeCache = new Map();
    const bad = async (blocks: number[]) => new Map(blocks.map((b) => [b, new Uint8Array(signHead.codeBlocks![b]!.bytes).fill(1)] as const));
    const q = { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], topK: 5 };
    await expect(rankTiered({ head: signHead }, q, embedder, { fetchBlocks, cache: new Map(), shortlist: 10, fetchCodeBlocks: bad, codeCache })).rejects.toThrow(/Code block \d+ failed its SHA-256 check/);
    expect(codeCache.size).toBe(0);
    await expect(rankTiered({ head: signHead }, q, embedder, { fetchBlocks, cache: new Map() })).rejects.toThrow(/needs fetchCodeBlocks/);
    await expect(rankTiered({ head: signHead }, q, embedder, { fetchBlocks, cache: new Map(), shortlist: 0, fetchCodeBlocks: bad, codeCache })).rejects.toThrow(/shortlist must be a whole number/);
  });

  it('the reader refuses a head that mixes both kinds or lacks sign codes', async () => {
    const { idx, int8Head } = await setup();
    const hashes = int8Head.blocks.map(() => '0'.repeat(64));
    const base = { dim: DIM, count: COUNT, blocks: int8Head.blocks, directory: int8Head.directory };
    expect(() => writeTieredHead({ ...base, codeHashes: hashes })).toThrow(/needs sign codes/);
    expect(() => writeTieredHead({ ...base, signs: signCodes(idx.means, DIM), prefilter: int8Head.prefilter, proxy: int8Head.proxy, codeHashes: hashes })).toThrow(/keeps its int8 means in codes.bin/);
    expect(() => writeTieredHead({ ...base, codeHashes: hashes.slice(1), signs: signCodes(idx.means, DIM) })).toThrow(/codes table has 7 entries for 8 blocks/);
  });
});
