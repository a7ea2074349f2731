/**
 * A tiered (version 2) index folder's contents, from its models' records (docs/index-format.md,
 * "Version 2"): the records in the clustered storage order (blockOrder.ts: models near each other
 * share blocks, so one query's candidates sit in few blocks) → records.bin in blocks of
 * `modelsPerBlock` (each with its SHA-256), head.bin (int8 means, the Gaussian prefilter's terms, the
 * record directory, the block table and the metadata table), meta/<block>.json, optionally
 * blocks/<n>.bin, the thumbnails, and the manifest. With `prefilter: 'sign'` the head holds sign
 * codes instead of int8 means, and the int8 means and proxy terms go to codes.bin (and codes/<n>.bin
 * with block files), in the same blocks ("Sign-coded heads"). A build, the merge of its shards
 * (tools/lib/indexBuilder/tieredAssemble.ts adds calibration and the atomic write) and the browser's
 * shard of the visitor's models go through this one function, so shard-then-merge reproduces a
 * single build byte for byte. Pure: no DOM, no Node.
 */
import { indexTemperatureFor } from '../encode/encoders.ts';
import { definedOnly } from '../scoring/defaults.ts';
import { quantiseMeansInt8, signCodes } from '../scoring/prefilter.ts';
import { sha256Hex } from '../io/sha256.ts';
import { blockOrder } from './blockOrder.ts';
import { codeBlockEntries, encodeCodeBlocks } from './codeBlocks.ts';
import { BUILDER_CREATED_WITH } from './indexFolder.ts';
import { lowRankMeanPrecision } from './lowRankGaussian.ts';
import { MANIFEST_FORMAT, type BuildParams, type ModelMeta, type TieredManifest } from './manifest.ts';
import { byCodePoint } from './modelEntry.ts';
import type { TieredModel } from './tieredEntry.ts';
import { writeTieredHead } from './tieredHead.ts';
import { decodeRecord, packBlocks, type BasisDtype, type TieredRecord } from './tieredRecords.ts';

/** The head's prefilter (--prefilter): int8 means in the head, or sign codes with the int8 means in codes.bin. */
export type TieredPrefilter = 'int8' | 'sign';

/** What a tiered index is built with: the same for a build and for the merge of its shards. */
export interface TieredSettings {
  name: string;
  licence: string;
  examples?: string[];
  encoder: { id: string; dim: number };
  /** ε of every record (recorded). */
  epsilon: number;
  /** Storage of the records' basis (recorded as params.precision). */
  precision: BasisDtype;
  /** Rank of PPCA records (recorded). */
  ppcaRank: number;
  modelsPerBlock: number;
  /** Also write blocks/<n>.bin (and codes/<n>.bin with a sign-coded head), one file per block. */
  blockFiles: boolean;
  /**
   * The head's prefilter: int8 means in the head (default), or sign codes in the head and the int8
   * means in codes.bin (a sign-coded head, for indexes too large for int8 means in the head: ~1M models).
   */
  prefilter?: TieredPrefilter;
  /** Thumbnails live under this folder (relative to the index folder), not in the index: none are written. */
  thumbnailBase?: string;
  samplesPerModel?: { min: number; mean: number; max: number };
  /** The temperature, where it is not simply the encoder's logit scale. */
  temperature?: number;
}

export interface AssembledTiered {
  /** Every file but manifest.json, by path relative to the index folder. */
  files: Map<string, Uint8Array>;
  /** The manifest without its calibration (measured from `records` by writeTieredIndex). */
  manifest: TieredManifest;
  /** The models in storage order (the order of the head, records.bin and the meta shards). */
  models: TieredModel[];
  /** The records as the reader decodes them (from the stored bytes), in storage order. */
  records: TieredRecord[];
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 1) + '\n');

/** manifest.json's text as the builder, the merge and the browser's shard write it. */
export const tieredManifestJson = (manifest: TieredManifest): string => JSON.stringify(manifest, null, 2) + '\n';

/**
 * The index folder's contents for `models` (in any order). The storage order is blockOrder's
 * clustered order of the models sorted by id, computed from the records' stored float32 means: a
 * function of the models alone, so a merge of shards, which only has the stored bytes, writes the
 * same order (and bytes) as a single build. Pure apart from hashing: writeTieredIndex does the writing.
 */
export async function assembleTiered(input: readonly TieredModel[], s: TieredSettings, createdWith = BUILDER_CREATED_WITH): Promise<AssembledTiered> {
  const { dim } = s.encoder;
  const count = input.length;
  if (count === 0) throw new Error('a tiered index needs at least one model');
  // Everything the head says about a model comes from its record as stored (rounded basis included),
  // so a merge, which only has the stored bytes, computes the same head.
  const byId = [...input].sort((a, b) => byCodePoint(a.meta.id, b.meta.id));
  const decoded = byId.map((m) => decodeRecord(m.record, dim, `model "${m.meta.id}"'s record`));
  const idMeans = new Float32Array(count * dim);
  decoded.forEach((r, i) => idMeans.set(r.mean, i * dim));
  // (An invalid block size is left to packBlocks, which names it.)
  const { order } = Number.isInteger(s.modelsPerBlock) && s.modelsPerBlock >= 1 ? blockOrder(idMeans, dim, { modelsPerBlock: s.modelsPerBlock }) : { order: Int32Array.from({ length: count }, (_, i) => i) };
  const models = Array.from(order, (i) => byId[i]!);
  const records = Array.from(order, (i) => decoded[i]!);
  const means = new Float32Array(count * dim);
  records.forEach((r, i) => means.set(r.mean, i * dim));
  const proxy = { precision: Float32Array.from(records, lowRankMeanPrecision), logDet: Float32Array.from(records, (r) => r.logDet) };
  const packed = await packBlocks(models.map((m) => m.record), s.modelsPerBlock);

  const files = new Map<string, Uint8Array>();
  const metaEntries: { bytes: number; sha256: string }[] = [];
  packed.blocks.forEach((b, i) => {
    const shard = json(models.slice(b.firstModel, b.firstModel + b.models).map((m): ModelMeta => m.meta));
    files.set(`meta/${i}.json`, shard);
    metaEntries.push({ bytes: shard.byteLength, sha256: '' });
  });
  for (let i = 0; i < metaEntries.length; i++) metaEntries[i]!.sha256 = await sha256Hex(files.get(`meta/${i}.json`)!);
  const int8 = quantiseMeansInt8(means, dim);
  const layout = { blocks: packed.blocks, directory: packed.directory, meta: metaEntries };
  // A sign-coded head: the same int8 means and proxy terms, moved to codes.bin in the records' blocks.
  const codes = s.prefilter === 'sign' ? await encodeCodeBlocks(int8, proxy, packed.blocks) : undefined;
  const head = codes ? writeTieredHead({ dim, count, signs: signCodes(means, dim), codeHashes: codes.hashes, ...layout }) : writeTieredHead({ dim, count, prefilter: int8, proxy, ...layout });
  files.set('head.bin', head);
  files.set('records.bin', packed.data);
  if (codes) files.set('codes.bin', codes.data);
  if (s.blockFiles) {
    packed.blocks.forEach((b, i) => files.set(`blocks/${i}.bin`, packed.data.subarray(b.offset, b.offset + b.bytes)));
    if (codes) codeBlockEntries(packed.blocks, dim, codes.hashes).forEach((e, i) => files.set(`codes/${i}.bin`, codes.data.subarray(e.offset, e.offset + e.bytes)));
  }
  if (!s.thumbnailBase) {
    for (const m of models) {
      if (m.thumbs.length !== m.meta.thumbnails.length) throw new Error(`model "${m.meta.id}": thumbnails and their paths disagree`);
      m.thumbs.forEach((t, i) => files.set(m.meta.thumbnails[i]!, t));
    }
  }
  const temperature = indexTemperatureFor(s.encoder.id, s.temperature);
  if (temperature === undefined) throw new Error(`Unknown encoder "${s.encoder.id}": give a temperature for its logit scale.`);
  const params: BuildParams = definedOnly({ epsilon: s.epsilon, precision: s.precision, ppcaRank: s.ppcaRank, samplesPerModel: s.samplesPerModel, temperature });
  const manifest: TieredManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 2,
    name: s.name,
    createdWith,
    encoder: s.encoder,
    count,
    licence: s.licence,
    files: {
      'head.bin': { bytes: head.byteLength, sha256: await sha256Hex(head) },
      'records.bin': { bytes: packed.data.byteLength, sha256: await sha256Hex(packed.data) },
      ...(codes ? { 'codes.bin': { bytes: codes.data.byteLength, sha256: await sha256Hex(codes.data) } } : {}),
    },
    tiered: { modelsPerBlock: s.modelsPerBlock, blocks: packed.blocks.length, blockFiles: s.blockFiles },
    ...(s.thumbnailBase ? { thumbnailBase: s.thumbnailBase } : {}),
    params,
    ...(s.examples?.length ? { examples: s.examples } : {}),
  };
  return { files, manifest, models, records };
}
