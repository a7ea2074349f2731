import { describe, expect, it } from 'vitest';
import { smallTieredIndex } from '../../../test/support/tieredIndex.ts';
import { quantiseMeansInt8, signCodes } from '../scoring/prefilter.ts';
import { readIndex } from './indexFormat.ts';
import { readTieredHead, TieredSection, writeTieredHead } from './tieredHead.ts';
import { openBlock } from './tieredRecords.ts';

const DIM = 16;
const COUNT = 9;

const build = () => smallTieredIndex({ dim: DIM, count: COUNT, seed: 5, cycle: 4, noise: 0.2, perBlock: 4, dtype: 'f16', signs: true });

/** The byte offset of a section's data in a head (from its section table). */
function sectionOffset(head: Uint8Array, kind: number): number {
  return Number(new DataView(head.buffer, head.byteOffset).getBigUint64(sectionEntry(head, kind) + 8, true));
}

/** The byte offset of a section's entry in the section table. */
function sectionEntry(head: Uint8Array, kind: number): number {
  const v = new DataView(head.buffer, head.byteOffset);
  for (let i = 0; i < v.getUint32(16, true); i++) if (v.getUint32(64 + 32 * i, true) === kind) return 64 + 32 * i;
  throw new Error('no such section');
}

const hash = (k: number) => k.toString(16).padStart(2, '0').repeat(32);

describe('tiered index head', () => {
  it('round-trips: prefilter, sign codes, directory and block table; a block read through it opens and verifies', async () => {
    const { packed, head, means, proxy } = await build();
    const h = readTieredHead(head);
    expect(h.proxy).toEqual(proxy);
    expect(h.count).toBe(COUNT);
    expect(h.blocks).toEqual(packed.blocks);
    expect(h.directory).toEqual(packed.directory);
    expect(h.recordsBytes).toBe(packed.data.byteLength);
    expect(h.prefilter).toEqual(quantiseMeansInt8(means, DIM));
    expect(h.signs!.bits).toEqual(signCodes(means, DIM).bits);
    const b = h.blocks[1]!;
    const records = await openBlock(packed.data.slice(b.offset, b.offset + b.bytes), b, h.directory, DIM, 1);
    expect([...records.keys()]).toEqual([4, 5, 6, 7]);
  });

  it('carries the metadata shards\' sizes and SHA-256 (MetaTable), one per block; a head without it reads as before', async () => {
    const { packed, means, proxy, head: plain } = await build();
    expect(readTieredHead(plain).meta).toBeUndefined();
    const meta = packed.blocks.map((_, i) => ({ bytes: 100 + i, sha256: hash(i + 1) }));
    const head = writeTieredHead({ dim: DIM, count: COUNT, prefilter: quantiseMeansInt8(means, DIM), proxy, blocks: packed.blocks, directory: packed.directory, meta });
    const h = readTieredHead(head);
    expect(h.meta).toEqual(meta);
    expect(h.blocks).toEqual(packed.blocks);
    // Refused on write: not one entry per block, a bad hash, an impossible size.
    const base = { dim: DIM, count: COUNT, prefilter: quantiseMeansInt8(means, DIM), proxy, blocks: packed.blocks, directory: packed.directory };
    expect(() => writeTieredHead({ ...base, meta: meta.slice(1) })).toThrow(/2 entries for 3 blocks/);
    expect(() => writeTieredHead({ ...base, meta: [meta[0]!, { bytes: 5, sha256: 'nope' }, meta[2]!] })).toThrow(/Metadata shard 1 has no valid SHA-256/);
    expect(() => writeTieredHead({ ...base, meta: [meta[0]!, { bytes: 0, sha256: hash(1) }, meta[2]!] })).toThrow(/Metadata shard 1 has 0 bytes/);
    // Refused on read: a table that is not one entry per block, an impossible size.
    const entry = sectionEntry(head, TieredSection.MetaTable);
    const short = head.slice();
    new DataView(short.buffer).setBigUint64(entry + 16, BigInt(2 * 40), true);
    expect(() => readTieredHead(short)).toThrow(/MetaTable section has 80 bytes, expected 120 \(one entry per block\)/);
    const zero = head.slice();
    new DataView(zero.buffer).setUint32(sectionOffset(head, TieredSection.MetaTable) + 40, 1, true);
    expect(() => readTieredHead(zero)).toThrow(/block 1's metadata shard has 1 bytes/);
  });

  it('a version 1 reader refuses a tiered head by its version, with a clear message', async () => {
    const { head } = await build();
    expect(() => readIndex(head)).toThrow(/format version 2 is not supported/);
  });

  it('refuses heads whose blocks or directory do not tile the records, or whose norms lie', async () => {
    const { head } = await build();
    const edit = (fn: (v: DataView) => void) => {
      const b = head.slice();
      fn(new DataView(b.buffer));
      return b;
    };
    const table = sectionOffset(head, TieredSection.BlockTable);
    const dir = sectionOffset(head, TieredSection.RecordDirectory);
    const norms = sectionOffset(head, TieredSection.Norms);
    const precision = sectionOffset(head, TieredSection.ProxyPrecision);
    const logDet = sectionOffset(head, TieredSection.ProxyLogDet);
    expect(() => readTieredHead(edit((v) => v.setFloat32(precision, 0, true)))).toThrow(/model 0's mean precision \(ProxyPrecision\) is not a finite positive number/);
    expect(() => readTieredHead(edit((v) => v.setFloat32(precision + 4, NaN, true)))).toThrow(/model 1's mean precision \(ProxyPrecision\) is not a finite positive number/);
    expect(() => readTieredHead(edit((v) => v.setFloat32(logDet, Infinity, true)))).toThrow(/log-determinant \(ProxyLogDet\) is not a finite number/);
    expect(() => readTieredHead(head.subarray(0, 40))).toThrow(/only 40 bytes/);
    expect(() => readTieredHead(edit((v) => v.setUint32(4, 1, true)))).toThrow(/not a tiered head/);
    expect(() => readTieredHead(edit((v) => v.setUint32(table + 64, 5, true)))).toThrow(/block 1 starts at byte 5/); // second block's offset
    expect(() => readTieredHead(edit((v) => v.setUint32(table + 64 + 12, 3, true)))).toThrow(/block 1 holds models 3/);
    expect(() => readTieredHead(edit((v) => v.setUint32(dir, 2, true)))).toThrow(/model 0's record is not in block 2/);
    expect(() => readTieredHead(edit((v) => v.setUint32(dir + 4, 8, true)))).toThrow(/does not start its block|runs past/);
    expect(() => readTieredHead(edit((v) => v.setUint32(dir + 12 + 4, 4, true)))).toThrow(/does not follow/);
    expect(() => readTieredHead(edit((v) => v.setFloat32(norms, 1e-9, true)))).toThrow(/does not match its prefilter codes/);
    expect(() => readTieredHead(edit((v) => v.setFloat32(norms, 7, true)))).toThrow(/mean norm is 7/);
    expect(() => readTieredHead(edit((v) => v.setFloat32(norms, NaN, true)))).toThrow(/mean norm/);
  });

  it('refuses to write what it could not read back', async () => {
    const { packed, means, proxy } = await build();
    const prefilter = quantiseMeansInt8(means, DIM);
    expect(() => writeTieredHead({ dim: DIM, count: COUNT + 1, prefilter, proxy, blocks: packed.blocks, directory: packed.directory })).toThrow(/does not match/);
    expect(() => writeTieredHead({ dim: DIM, count: COUNT, prefilter, proxy, blocks: [{ ...packed.blocks[0]!, sha256: 'x' }], directory: packed.directory })).toThrow(/SHA-256/);
    expect(() => writeTieredHead({ dim: DIM, count: COUNT, prefilter, proxy: { precision: new Float32Array(2), logDet: proxy.logDet }, blocks: packed.blocks, directory: packed.directory })).toThrow(/needs 9 precisions/);
  });
});
