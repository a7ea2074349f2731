/**
 * Writes a tiered (version 2) index of a synthetic scale zoo: manifest.json, head.bin and
 * records.bin, models stored in the given order (docs/index-format.md, "Version 2"). The scale
 * benchmark serves it from a local Range server and queries it with src/core/index/tieredQuery.ts.
 * (Builder for real model folders: the next step of issue 15.)
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeTieredHead } from '../../src/core/index/tieredHead.ts';
import { encodeRecord, type BlockEntry, type RecordBlocks } from '../../src/core/index/tieredRecords.ts';
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
/** `signs`: also put the optional sign codes in the head (64 B a model at d = 512; the 1M-model prefilter's data). */
export async function writeTieredIndex(zoo: ScaleZoo, dir: string, order: Int32Array, perBlock: number, blockFiles = false, signs = true): Promise<TieredBuild> {
  const { dim, count } = zoo;
  const means = new Float32Array(count * dim);
  order.forEach((m, i) => means.set(zoo.means.subarray(m * dim, (m + 1) * dim), i * dim));
  // Block by block, straight to records.bin (what packBlocks does, without holding every record at
  // once: at 100 000 models the fp16 records are ≈ 3 GB).
  mkdirSync(dir, { recursive: true });
  if (blockFiles) mkdirSync(join(dir, 'blocks'), { recursive: true });
  const fd = openSync(join(dir, 'records.bin'), 'w');
  const blocks: BlockEntry[] = [];
  const directory: RecordBlocks['directory'] = [];
  let at = 0;
  try {
    for (let first = 0; first < count; first += perBlock) {
      const models = Math.min(perBlock, count - first);
      const records = Array.from({ length: models }, (_, i) => encodeRecord(zoo.models[order[first + i]!]!.stored, 'f16'));
      const data = new Uint8Array(records.reduce((s, r) => s + r.byteLength, 0));
      let within = 0;
      for (const r of records) {
        directory.push({ block: blocks.length, offset: within, bytes: r.byteLength });
        data.set(r, within);
        within += r.byteLength;
      }
      writeSync(fd, data);
      if (blockFiles) writeFileSync(join(dir, 'blocks', `${blocks.length}.bin`), data);
      blocks.push({ offset: at, bytes: data.byteLength, firstModel: first, models, sha256: await sha256Hex(data) });
      at += data.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  const proxy = { precision: Float32Array.from(order, (m) => lowRankMeanPrecision(zoo.models[m]!.stored)), logDet: Float32Array.from(order, (m) => zoo.models[m]!.stored.logDet) };
  const head = writeTieredHead({ dim, count, prefilter: quantiseMeansInt8(means, dim), proxy, signs: signs ? signCodes(means, dim) : undefined, blocks, directory });
  writeFileSync(join(dir, 'head.bin'), head);
  const manifest = {
    format: 'model-search-index',
    formatVersion: 2,
    name: `synthetic-${count}`,
    createdWith: `tools/scale/tiered.ts (synthetic zoo, ${perBlock} models a block)`,
    encoder: { id: 'synthetic', dim },
    count,
    files: {
      'head.bin': { bytes: head.byteLength, sha256: await sha256Hex(head) },
      'records.bin': { bytes: at },
    },
    layout: { blockFiles },
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  return { order, headBytes: head.byteLength, recordsBytes: at, blocks: blocks.length };
}
