/**
 * `build-index merge --format tiered --out <dir> <shard>...`: joins tiered (version 2) shard
 * indexes (folders, or `.tar` archives of them: the app's export of your models) into one. Each
 * shard is verified like a reader verifies it (manifest, head.bin and records.bin sizes and
 * SHA-256, the head's own checks, every block against its SHA-256 and every record decoded, a
 * sign-coded shard's codes.bin block by block, every metadata shard against the head's MetaTable),
 * the settings must agree (encoder and dimension, ε, basis precision, PPCA rank, temperature, where
 * the thumbnails live), ids must be unique, and the models are concatenated in sorted id order —
 * the order a single build starts from — then put in the clustered storage order (blockOrder, from
 * the stored means), re-blocked, re-hashed and recalibrated by the same writeTieredIndex as a
 * build: shard-then-merge reproduces a single build byte for byte. The merged head is int8 or
 * sign-coded (`prefilter`) whatever the shards' heads are: it is recomputed from the records.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestVersion, parseModelMetaList, parseTieredManifest, type BuildParams, type ModelMeta, type TieredManifest } from '../../../src/core/index/manifest.ts';
import { openCodeBlock } from '../../../src/core/index/codeBlocks.ts';
import { openTieredHead } from '../../../src/core/index/openTiered.ts';
import type { TieredHead } from '../../../src/core/index/tieredHead.ts';
import { openBlock } from '../../../src/core/index/tieredRecords.ts';
import { sha256Hex } from '../../../src/core/io/sha256.ts';
import { MAX_UNDECLARED_BYTES } from '../../../src/core/io/fetchBytes.ts';
import type { NodeEncoder } from '../nodeEncoder.ts';
import { InputError } from './errors.ts';
import { checkSameSettings, loadMergeEncoder, mergedLicence, mergedOrder, mergedSamplesPerModel, readThumbnails, runMerge } from './mergeShards.ts';
import type { BuildReport } from './report.ts';
import { writeTieredIndex, type TieredPrefilter } from './tieredAssemble.ts';
import type { TieredModel } from './tieredFinalise.ts';

export interface TieredMergeOptions {
  outDir: string;
  shardDirs: string[];
  force?: boolean;
  name?: string;
  licence?: string;
  /** Models per block of the merged index (default: the shards', which must then agree). */
  modelsPerBlock?: number;
  /** Write blocks/<n>.bin (default: when every shard has them). */
  blockFiles?: boolean;
  /** The merged index's head: int8 or sign-coded (default: sign-coded when every shard is, else int8). */
  prefilter?: TieredPrefilter;
  /** The merged index's thumbnails are hosted there (none copied); default: the shards' (which must agree). */
  thumbnailBase?: string;
  /** The shards' encoder, loaded (tests); otherwise loaded from its descriptor to calibrate the merged index. */
  encoder?: NodeEncoder;
}

interface TieredShard {
  dir: string;
  manifest: TieredManifest;
  head: TieredHead;
  records: Uint8Array;
  meta: ModelMeta[];
}

/** A file of the shard, no larger than `declared` bytes (when given), checked against its size and SHA-256. */
async function readChecked(dir: string, file: string, declared?: { bytes: number; sha256: string }): Promise<Uint8Array> {
  const path = join(dir, file);
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -1),
    (err: NodeJS.ErrnoException) => {
      throw new Error(`${file} is missing (${err.code ?? err.message})`);
    },
  );
  if (size < 0) throw new Error(`${file} is not a file`);
  const limit = declared?.bytes ?? MAX_UNDECLARED_BYTES;
  if (size !== limit && (declared || size > limit)) throw new Error(`${file} has ${size} bytes, ${declared ? `the index says ${declared.bytes}` : `more than ${limit}`}`);
  const bytes = new Uint8Array(await readFile(path));
  if (declared && (await sha256Hex(bytes)) !== declared.sha256) throw new Error(`${file} failed its SHA-256 check`);
  return bytes;
}

/** Reads and verifies a tiered shard completely: a merge must not pass on bytes a reader would refuse. */
export async function readTieredShard(dir: string): Promise<TieredShard> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await readChecked(dir, 'manifest.json')));
  } catch (err) {
    throw new InputError(`shard ${dir}: ${(err as Error).message}`);
  }
  if (manifestVersion(json) === 1) throw new InputError(`shard ${dir} is a version 1 index (index.bin + models.json); merge version 1 shards without --format tiered`);
  try {
    const manifest = parseTieredManifest(json);
    // The reader's checks: dimension and count, and a sign-coded head comes with its codes.bin.
    const head = openTieredHead(await readChecked(dir, 'head.bin', manifest.files['head.bin']), manifest);
    const records = await readChecked(dir, 'records.bin', manifest.files['records.bin']);
    if (head.recordsBytes !== records.byteLength) throw new Error(`head.bin's blocks end at byte ${head.recordsBytes}, records.bin has ${records.byteLength}`);
    for (let b = 0; b < head.blocks.length; b++) {
      const e = head.blocks[b]!;
      await openBlock(records.subarray(e.offset, e.offset + e.bytes), e, head.directory, head.dim, b);
    }
    if (head.codeBlocks) {
      // Not needed for the merge (the head is recomputed from the records), but a reader would refuse a bad one.
      const codes = await readChecked(dir, 'codes.bin', manifest.files['codes.bin']);
      for (const [b, e] of head.codeBlocks.entries()) await openCodeBlock(codes.subarray(e.offset, e.offset + e.bytes), e, head.dim, b);
    }
    if (!head.meta) throw new Error('head.bin lists no metadata shards (MetaTable)');
    const meta: ModelMeta[] = [];
    for (let b = 0; b < head.blocks.length; b++) {
      const file = `meta/${b}.json`;
      const bytes = await readChecked(dir, file, head.meta[b]);
      meta.push(...parseModelMetaList(JSON.parse(new TextDecoder().decode(bytes)), head.blocks[b]!.models, file));
    }
    return { dir, manifest, head, records, meta };
  } catch (err) {
    throw new InputError(`shard ${dir}: ${(err as Error).message}`);
  }
}

export function mergeTieredShards(opts: TieredMergeOptions): Promise<BuildReport> {
  return runMerge(opts, (shardDirs, name, report) => mergeTieredFolders(shardDirs, name, opts, report));
}

/** The merge proper, from shard folders. */
async function mergeTieredFolders(shardDirs: string[], name: string, opts: TieredMergeOptions, report: BuildReport): Promise<void> {
  const shards: TieredShard[] = [];
  for (const dir of shardDirs) shards.push(await readTieredShard(dir));

  // --- the settings must agree ---
  const first = shards[0]!;
  const describe = (s: TieredShard) => {
    const p: BuildParams = s.manifest.params ?? {};
    return {
      encoder: `${s.manifest.encoder.id} (${s.manifest.encoder.dim}-d)`,
      precision: String(p.precision ?? 'unknown'),
      epsilon: String(p.epsilon ?? 'unknown'),
      ppcaRank: String(p.ppcaRank ?? 'unknown'),
      temperature: String(p.temperature ?? 'unknown'),
      ...(opts.thumbnailBase === undefined ? { thumbnailBase: s.manifest.thumbnailBase ?? 'none (in the index)' } : {}),
      ...(opts.modelsPerBlock === undefined ? { modelsPerBlock: `${s.manifest.tiered.modelsPerBlock} (or pass --models-per-block)` } : {}),
    };
  };
  checkSameSettings(shards, describe);
  const { id: encoderId, dim } = first.manifest.encoder;
  report.encoder = { id: encoderId, dim };
  const p0: BuildParams = first.manifest.params ?? {};
  if (p0.epsilon === undefined || p0.precision === undefined || p0.ppcaRank === undefined) {
    throw new InputError(`shard ${first.dir}: its manifest does not record params.epsilon, params.precision and params.ppcaRank`);
  }

  const licence = mergedLicence(shards, opts.licence);

  // --- unique ids, sorted order ---
  const entries = mergedOrder(shards, (s) => s.meta);

  // --- the records as stored (bytes copied: a record holds no offsets), in the merged order ---
  const thumbnailBase = opts.thumbnailBase ?? first.manifest.thumbnailBase;
  const models: TieredModel[] = [];
  for (const { si, m, meta } of entries) {
    const s = shards[si]!;
    const d = s.head.directory[m]!;
    const start = s.head.blocks[d.block]!.offset + d.offset;
    models.push({ meta, record: s.records.subarray(start, start + d.bytes), thumbs: thumbnailBase ? [] : await readThumbnails(s, meta) });
    const kind = s.records[start] === 1 ? 'exact' : 'ppca';
    const rank = s.records[start + 2]! | (s.records[start + 3]! << 8);
    report.models.push({ id: meta.id, images: 0, embedded: 0, fromCache: 0, skipped: 0, epsilon: p0.epsilon, jitterSteps: 0, samplesKept: 0, thumbnails: meta.thumbnails.length, record: kind, rank });
  }

  await writeTieredIndex(
    opts.outDir,
    models,
    {
      name,
      licence,
      encoder: { id: encoderId, dim },
      epsilon: p0.epsilon,
      precision: p0.precision,
      ppcaRank: p0.ppcaRank,
      modelsPerBlock: opts.modelsPerBlock ?? first.manifest.tiered.modelsPerBlock,
      blockFiles: opts.blockFiles ?? shards.every((s) => s.manifest.tiered.blockFiles),
      thumbnailBase,
      // (The head is recomputed from the stored records: any shard head makes either kind.)
      prefilter: opts.prefilter ?? (shards.every((x) => x.head.codeBlocks) ? 'sign' : 'int8'),
      samplesPerModel: mergedSamplesPerModel(shards.map((s) => ({ params: s.manifest.params, count: s.manifest.count })), models.length),
      // Example queries travel when every shard has the same ones (a build's, given to each shard).
      examples: shards.every((x) => JSON.stringify(x.manifest.examples) === JSON.stringify(first.manifest.examples)) ? first.manifest.examples : undefined,
      temperature: p0.temperature,
    },
    { force: opts.force, encoder: opts.encoder ?? (await loadMergeEncoder(encoderId)) },
  );
}
