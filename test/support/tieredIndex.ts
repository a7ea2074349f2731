import { lowRankGaussian, lowRankMeanPrecision, type LowRankGaussian } from '../../src/core/index/lowRankGaussian.ts';
import { writeTieredHead } from '../../src/core/index/tieredHead.ts';
import { encodeCodeBlocks } from '../../src/core/index/codeBlocks.ts';
import { encodeRecord, packBlocks, type BasisDtype, type RecordBlocks } from '../../src/core/index/tieredRecords.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { quantiseMeansInt8, signCodes } from '../../src/core/scoring/prefilter.ts';

export interface SmallTieredOptions {
  dim: number;
  count: number;
  seed: number;
  /** Model m has 3 + (m % cycle) samples. */
  cycle: number;
  /** Spread of the samples around their model's centre. */
  noise: number;
  perBlock: number;
  dtype: BasisDtype;
  signs?: boolean;
}

/** The same index as smallTieredIndex, with a sign-coded head: its int8 means and proxy terms in codes.bin. */
export async function smallSignCodedIndex(o: Omit<SmallTieredOptions, 'signs'>): Promise<Awaited<ReturnType<typeof smallTieredIndex>> & { signHead: Uint8Array; codes: Uint8Array }> {
  const base = await smallTieredIndex(o);
  const { packed, means, proxy } = base;
  const { data, hashes } = await encodeCodeBlocks(quantiseMeansInt8(means, o.dim), proxy, packed.blocks);
  const signHead = writeTieredHead({ dim: o.dim, count: o.count, signs: signCodes(means, o.dim), codeHashes: hashes, blocks: packed.blocks, directory: packed.directory });
  return { ...base, signHead, codes: data };
}

/** A small tiered index in memory: exact low-rank models of random samples, their records in blocks, and the head. */
export async function smallTieredIndex(o: SmallTieredOptions): Promise<{ gs: LowRankGaussian[]; means: Float32Array; packed: RecordBlocks; head: Uint8Array; proxy: { precision: Float32Array; logDet: Float32Array } }> {
  const next = mulberry32(o.seed);
  const gs = Array.from({ length: o.count }, (_, m) => {
    const n = 3 + (m % o.cycle);
    const c = Array.from({ length: o.dim }, () => next() - 0.5);
    return lowRankGaussian(Array.from({ length: n * o.dim }, (_, i) => (c[i % o.dim]! + o.noise * (next() - 0.5)) / 2.5), n, o.dim, 1e-2);
  });
  const means = new Float32Array(o.count * o.dim);
  gs.forEach((g, m) => means.set(g.mean, m * o.dim));
  const packed = await packBlocks(gs.map((g) => encodeRecord(g, o.dtype)), o.perBlock);
  const proxy = { precision: Float32Array.from(gs, lowRankMeanPrecision), logDet: Float32Array.from(gs, (g) => g.logDet) };
  const head = writeTieredHead({ dim: o.dim, count: o.count, prefilter: quantiseMeansInt8(means, o.dim), proxy, signs: o.signs ? signCodes(means, o.dim) : undefined, blocks: packed.blocks, directory: packed.directory });
  return { gs, means, packed, head, proxy };
}
