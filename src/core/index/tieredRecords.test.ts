import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { lowRankGaussian, lowRankLogDensity, type LowRankGaussian } from './lowRankGaussian.ts';
import { decodeRecord, encodeRecord, openBlock, packBlocks, recordBytes } from './tieredRecords.ts';

const DIM = 24;

function model(seed: number, n: number): LowRankGaussian {
  const next = mulberry32(seed);
  const centre = Array.from({ length: DIM }, () => next() * 2 - 1);
  const x = Array.from({ length: n * DIM }, (_, i) => centre[i % DIM]! + 0.3 * (next() * 2 - 1));
  return lowRankGaussian(x, n, DIM, 1e-2);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('tiered index records', () => {
  const q = Array.from({ length: DIM }, (_, j) => Math.sin(j));

  it('round-trips at float32: same density to float32 rounding', () => {
    const g = model(1, 9);
    const bytes = encodeRecord(g, 'f32');
    expect(bytes.byteLength).toBe(recordBytes(DIM, g.rank, 'f32'));
    expect(bytes.byteLength % 4).toBe(0);
    const r = decodeRecord(bytes, DIM);
    expect(r.kind).toBe(1);
    expect(r.rank).toBe(8);
    expect(rel(lowRankLogDensity(r, q), lowRankLogDensity(g, q))).toBeLessThan(1e-5);
  });

  it('at float16 the basis is rounded and the log-determinant follows the rounded rows', () => {
    const g = model(2, 12);
    const r = decodeRecord(encodeRecord(g, 'f16'), DIM);
    expect(r.basis.length).toBe(g.rank * DIM);
    expect(rel(lowRankLogDensity(r, q), lowRankLogDensity(g, q))).toBeLessThan(1e-2);
    expect(recordBytes(DIM, g.rank, 'f16')).toBeLessThan(recordBytes(DIM, g.rank, 'f32'));
  });

  it('refuses damaged or hostile records, naming what is wrong', () => {
    const good = encodeRecord(model(3, 6), 'f32');
    const with_ = (edit: (v: DataView) => void) => {
      const b = good.slice();
      edit(new DataView(b.buffer));
      return b;
    };
    expect(() => decodeRecord(good.subarray(0, 8), DIM)).toThrow(/shorter than a record header/);
    expect(() => decodeRecord(good, DIM + 1)).toThrow(/dimension 24, the index has 25/);
    expect(() => decodeRecord(good.subarray(0, good.byteLength - 4), DIM)).toThrow(/bytes, a rank-5 record/);
    expect(() => decodeRecord(with_((v) => v.setUint8(0, 9)), DIM)).toThrow(/unknown record kind 9/);
    expect(() => decodeRecord(with_((v) => v.setUint8(1, 7)), DIM)).toThrow(/unknown basis dtype/);
    expect(() => decodeRecord(with_((v) => v.setUint16(2, 999, true)), DIM)).toThrow(/rank 999 exceeds/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(8, 0, true)), DIM)).toThrow(/isotropic variance 0/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(8, -1, true)), DIM)).toThrow(/isotropic/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(12, NaN, true)), DIM)).toThrow(/log-determinant is not finite/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(12, 3, true)), DIM)).toThrow(/does not match its basis/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(16, Infinity, true)), DIM)).toThrow(/mean holds a non-finite/);
    expect(() => decodeRecord(with_((v) => v.setFloat32(16 + 4 * DIM, NaN, true)), DIM)).toThrow(/basis holds a non-finite/);
    // A basis row longer than 1/√s is not a covariance (it would make the Mahalanobis term negative).
    expect(() => decodeRecord(with_((v) => v.setFloat32(16 + 4 * DIM, 50, true)), DIM)).toThrow(/not a covariance/);
  });

  it('blocks: each is checked by its own SHA-256; a shifted, cut or corrupted range is refused', async () => {
    const records = Array.from({ length: 7 }, (_, i) => encodeRecord(model(10 + i, 3 + i), i % 2 ? 'f16' : 'f32'));
    const packed = await packBlocks(records, 3);
    expect(packed.blocks.map((b) => b.models)).toEqual([3, 3, 1]);
    expect(packed.data.byteLength).toBe(records.reduce((s, r) => s + r.byteLength, 0));
    const b1 = packed.blocks[1]!;
    const bytes = packed.data.slice(b1.offset, b1.offset + b1.bytes);
    const opened = await openBlock(bytes, b1, packed.directory, DIM, 1);
    expect([...opened.keys()]).toEqual([3, 4, 5]);
    expect(opened.get(4)!.rank).toBe(6);
    const shifted = packed.data.slice(b1.offset + 4, b1.offset + b1.bytes + 4);
    await expect(openBlock(shifted, b1, packed.directory, DIM, 1)).rejects.toThrow(/Block 1 failed its SHA-256 check/);
    await expect(openBlock(bytes.subarray(0, 100), b1, packed.directory, DIM, 1)).rejects.toThrow(/got 100 bytes, the index says/);
    const flipped = bytes.slice();
    flipped[40]! ^= 1;
    await expect(openBlock(flipped, b1, packed.directory, DIM, 1)).rejects.toThrow(/SHA-256/);
    // The whole file served for a range request (a host that ignores Range): refused by length.
    await expect(openBlock(packed.data, b1, packed.directory, DIM, 1)).rejects.toThrow(/the index says/);
  });

  it('refuses a block size that is not a positive integer', async () => {
    await expect(packBlocks([], 0)).rejects.toThrow(/positive integer/);
  });
});
