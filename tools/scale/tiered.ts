/**
 * Writes a tiered (version 2) index of a synthetic scale zoo: manifest.json, head.bin and
 * records.bin, models stored in the given order (docs/index-format.md, "Version 2"). The scale
 * benchmark serves it from a local Range server and queries it with src/core/index/tieredQuery.ts.
 * (Builder for real model folders: the next step of issue 15.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTieredHead } from '../../src/core/index/tieredHead.ts';
import { encodeRecord, packBlocks } from '../../src/core/index/tieredRecords.ts';
import { lowRankMeanPrecision } from '../../src/core/index/lowRankGaussian.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { quantiseMeansInt8, signCodes } from '../../src/core/scoring/prefilter.ts';
import type { ScaleZoo } from './synthZoo.ts';

export interface TieredBuild {
  /** order[i] = the zoo model stored at index i. */
  order: Int32Array;
  headBytes: number;
  recordsBytes: number;
  blocks: number;
}

/** `blockFiles`: also write every block as blocks/<n>.bin, for hosts without working Range requests (core/index/blockFetcher.ts). */
export async function writeTieredIndex(zoo: ScaleZoo, dir: string, order: Int32Array, perBlock: number, blockFiles = false): Promise<TieredBuild> {
  const { dim, count } = zoo;
  const means = new Float32Array(count * dim);
  order.forEach((m, i) => means.set(zoo.means.subarray(m * dim, (m + 1) * dim), i * dim));
  const records = Array.from(order, (m) => encodeRecord(zoo.models[m]!.stored, 'f16'));
  const packed = await packBlocks(records, perBlock);
  const proxy = { precision: Float32Array.from(order, (m) => lowRankMeanPrecision(zoo.models[m]!.stored)), logDet: Float32Array.from(order, (m) => zoo.models[m]!.stored.logDet) };
  const head = writeTieredHead({ dim, count, prefilter: quantiseMeansInt8(means, dim), proxy, signs: signCodes(means, dim), blocks: packed.blocks, directory: packed.directory });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'head.bin'), head);
  writeFileSync(join(dir, 'records.bin'), packed.data);
  if (blockFiles) {
    mkdirSync(join(dir, 'blocks'), { recursive: true });
    packed.blocks.forEach((b, i) => writeFileSync(join(dir, 'blocks', `${i}.bin`), packed.data.subarray(b.offset, b.offset + b.bytes)));
  }
  const manifest = {
    format: 'model-search-index',
    formatVersion: 2,
    name: `synthetic-${count}`,
    createdWith: `tools/scale/tiered.ts (synthetic zoo, ${perBlock} models a block)`,
    encoder: { id: 'synthetic', dim },
    count,
    files: {
      'head.bin': { bytes: head.byteLength, sha256: await sha256Hex(head) },
      'records.bin': { bytes: packed.data.byteLength },
    },
    layout: { blockFiles },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return { order, headBytes: head.byteLength, recordsBytes: packed.data.byteLength, blocks: packed.blocks.length };
}
