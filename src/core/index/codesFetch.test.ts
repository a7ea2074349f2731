/**
 * codes.bin of a sign-coded head over a real static server (Range support) and behind a host that
 * ignores Range (per-block files in codes/), and the manifest ⇔ head agreement openTieredHead checks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRangeServer } from '../../../tools/lib/rangeServer.ts';
import { smallSignCodedIndex } from '../../../test/support/tieredIndex.ts';
import { blockFetcher, codesLayout, recordsLayout } from './blockFetcher.ts';
import { readTieredHead, type TieredHead } from './tieredHead.ts';
import { rankTiered } from './tieredRank.ts';
import { openTieredHead } from './openTiered.ts';
import type { TieredManifest } from './manifest.ts';
import type { BlockCache, CodeCache } from './tieredQuery.ts';
import type { HostRangeError } from '../io/fetchBytes.ts';

const DIM = 16;
const COUNT = 30;
const q = Float32Array.from({ length: DIM }, (_, j) => Math.sin(j + 1) / 3);
const query = { parts: [{ part: { kind: 'text' as const, text: 'x' }, weight: 1 }], method: 'first-moment' as const, topK: 5 };

describe('codes.bin over HTTP', () => {
  let dir: string;
  let close: () => void;
  let base: string;
  let head: TieredHead;
  let idx: Awaited<ReturnType<typeof smallSignCodedIndex>>;

  beforeAll(async () => {
    idx = await smallSignCodedIndex({ dim: DIM, count: COUNT, seed: 5, cycle: 4, noise: 0.3, perBlock: 4, dtype: 'f16' });
    head = readTieredHead(idx.signHead);
    dir = mkdtempSync(join(tmpdir(), 'codes-'));
    for (const sub of ['good', 'files']) {
      mkdirSync(join(dir, sub, 'codes'), { recursive: true });
      mkdirSync(join(dir, sub, 'blocks'), { recursive: true });
      writeFileSync(join(dir, sub, 'records.bin'), idx.packed.data);
      writeFileSync(join(dir, sub, 'codes.bin'), idx.codes);
    }
    head.codeBlocks!.forEach((b, i) => writeFileSync(join(dir, 'files', 'codes', `${i}.bin`), idx.codes.subarray(b.offset, b.offset + b.bytes)));
    head.blocks.forEach((b, i) => writeFileSync(join(dir, 'files', 'blocks', `${i}.bin`), idx.packed.data.subarray(b.offset, b.offset + b.bytes)));
    ({ base, close } = await startRangeServer(dir, (req, _res, serve) => {
      if (!req.url!.startsWith('/good/')) delete req.headers.range;
      serve();
    }));
  });
  afterAll(() => {
    close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (folder: string, onFallback?: (e: HostRangeError) => void) => {
    const codes = blockFetcher(`${base}/${folder}/`, codesLayout(head), { onFallback });
    const records = blockFetcher(`${base}/${folder}/`, recordsLayout(head), { onFallback });
    return rankTiered({ head }, query, async () => q, { fetchBlocks: records.fetchBlocks, cache: new Map() as BlockCache, fetchCodeBlocks: codes.fetchBlocks, codeCache: new Map() as CodeCache, shortlist: 12, candidates: 6 }).then((r) => ({ r, source: codes.source() }));
  };

  it('reads code blocks with Range requests, and from codes/<n>.bin behind a host that ignores Range — same ranking', async () => {
    const good = await run('good');
    expect(good.source).toBe('ranges');
    const told: HostRangeError[] = [];
    const files = await run('files', (e) => told.push(e));
    expect(files.source).toBe('block-files');
    expect(told.length).toBeGreaterThan(0);
    expect(files.r.results).toEqual(good.r.results);
    expect(good.r.signStage!.codeBlocksFetched.length).toBeGreaterThan(0);
  });

  it('codesLayout refuses an int8 head, which has no codes.bin', () => {
    expect(() => codesLayout(readTieredHead(idx.head))).toThrow(/has no codes.bin/);
  });

  it('openTieredHead holds the head and the manifest to each other about codes.bin', () => {
    const manifest = (codes?: { bytes: number }) => ({ count: COUNT, encoder: { id: 'x', dim: DIM }, files: { 'head.bin': { bytes: 0, sha256: '' }, 'records.bin': { bytes: 0, sha256: '' }, ...(codes ? { 'codes.bin': { ...codes, sha256: '0'.repeat(64) } } : {}) } }) as unknown as TieredManifest;
    expect(openTieredHead(idx.signHead, manifest({ bytes: idx.codes.byteLength })).codeBlocks).toHaveLength(head.blocks.length);
    expect(() => openTieredHead(idx.signHead, manifest())).toThrow(/sign-coded.*lists no codes.bin/);
    expect(() => openTieredHead(idx.head, manifest({ bytes: idx.codes.byteLength }))).toThrow(/lists codes.bin, but head.bin holds its int8 means/);
    expect(() => openTieredHead(idx.signHead, manifest({ bytes: idx.codes.byteLength - 4 }))).toThrow(/codes.bin has \d+ bytes; 30 models of dimension 16 take/);
  });
});
