import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/core/io/errors.ts';
import { MAX_UNDECLARED_BYTES } from '../../src/core/io/fetchBytes.ts';
import { indexTemperature, openIndex, type OpenedIndex } from '../../src/core/index/openIndex.ts';
import { metaOfModels, openTieredHead, parseMetaShard } from '../../src/core/index/openTiered.ts';
import { manifestVersion, parseTieredManifest, type MatchCalibration, type ModelMeta, type TieredManifest } from '../../src/core/index/manifest.ts';
import type { TieredHead } from '../../src/core/index/tieredHead.ts';
import type { BlockCache, CodeCache } from '../../src/core/index/tieredQuery.ts';
import { codeBytesPerModel } from '../../src/core/index/codeBlocks.ts';
import type { BlockEntry } from '../../src/core/index/tieredRecords.ts';
import { decodeVectors } from '../../src/core/scoring/matchQuality.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';

export interface LocalIndex extends OpenedIndex {
  dir: string;
}

/**
 * Reads an index folder from disk through the same openIndex as the browser: sizes, SHA-256, format,
 * unique ids. Like the browser's downloads, no file is read past its declared size (the manifest,
 * whose size nothing declares, past MAX_UNDECLARED_BYTES): a huge file is refused from its size.
 */
export async function openLocalIndex(dir: string): Promise<LocalIndex> {
  const read = async (file: string, what: string, declared?: number) => {
    const path = join(dir, file);
    const size = await stat(path).then(
      (s) => (s.isFile() ? s.size : -1),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new AppError('http', `${what} was not found at ${path}.`, path);
        throw new AppError('http', `${what} at ${path} cannot be read (${err.code ?? err.message}).`, path);
      },
    );
    if (size < 0) throw new AppError('http', `${what} at ${path} is not a file.`, path);
    const limit = declared ?? MAX_UNDECLARED_BYTES;
    if (size > limit) {
      throw new AppError(
        'integrity',
        declared !== undefined
          ? `${file} is larger than the ${declared} bytes declared for it (${size} bytes): the file is a different version.`
          : `${file} is larger than the ${limit} bytes a file of unknown size may have (${size} bytes).`,
        path,
      );
    }
    return new Uint8Array(await readFile(path));
  };
  const opened = await openIndex({
    where: dir.endsWith('/') ? dir : `${dir}/`,
    manifest: () => read('manifest.json', 'The index manifest'),
    read: (file, entry) => read(file, file, entry.bytes),
  });
  return { dir, ...opened };
}

/**
 * A tiered (version 2) index folder on disk, opened as the worker opens one over HTTP
 * (workers/tieredIndex.ts): the head verified against the manifest, blocks read by their offsets in
 * records.bin (and, for a sign-coded head, codes.bin; verified per block by rankTiered), metadata
 * shards verified against the head's table.
 */
export interface LocalTieredIndex {
  dir: string;
  manifest: TieredManifest;
  head: TieredHead;
  temperature: number;
  calibration?: MatchCalibration;
  nullText: Float32Array[];
  fetchBlocks(blocks: number[]): Promise<Map<number, Uint8Array>>;
  cache: BlockCache;
  /** A sign-coded head: blocks of codes.bin by number, and the verified, decoded ones (absent for an int8 head). */
  fetchCodeBlocks?: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  codeCache?: CodeCache;
  meta(models: readonly number[]): Promise<ModelMeta[]>;
  /** Position of a model by id (reads every metadata shard once: a CLI can afford it). */
  findId(id: string): Promise<number | undefined>;
}

export async function isTieredFolder(dir: string): Promise<boolean> {
  try {
    return manifestVersion(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))) === 2;
  } catch {
    return false;
  }
}

export async function openLocalTiered(dir: string): Promise<LocalTieredIndex> {
  const manifest = parseTieredManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const entry = manifest.files['head.bin'];
  const headBytes = new Uint8Array(await readFile(join(dir, 'head.bin')));
  if (headBytes.byteLength !== entry.bytes || (await sha256Hex(headBytes)) !== entry.sha256) {
    throw new AppError('integrity', 'head.bin does not match the size and SHA-256 its manifest records: the file is a different version.', join(dir, 'head.bin'));
  }
  const head = openTieredHead(headBytes, manifest, join(dir, 'head.bin'));
  const fetchBlocks = await blockReader(dir, 'records.bin', head.blocks, head.recordsBytes, "head.bin's blocks end at byte", manifest.files['records.bin'].bytes);
  // A sign-coded head: its int8 means and proxy terms are read from codes.bin, block by block (verified by ensureCodeBlocks).
  const codes = manifest.files['codes.bin'];
  const fetchCodeBlocks = head.codeBlocks && codes ? await blockReader(dir, 'codes.bin', head.codeBlocks, head.count * codeBytesPerModel(head.dim), `${head.count} models of dimension ${head.dim} take`, codes.bytes) : undefined;
  const shards = new Map<number, ModelMeta[]>();
  const shard = async (b: number) => {
    let list = shards.get(b);
    if (!list) {
      const e = head.meta?.[b];
      const bytes = new Uint8Array(await readFile(join(dir, 'meta', `${b}.json`)));
      if (!e || bytes.byteLength !== e.bytes || (await sha256Hex(bytes)) !== e.sha256) throw new AppError('integrity', `meta/${b}.json does not match the size and SHA-256 the head records.`, join(dir, 'meta', `${b}.json`));
      list = parseMetaShard(bytes, head, b, join(dir, 'meta', `${b}.json`));
      shards.set(b, list);
    }
    return list;
  };
  const meta = (models: readonly number[]) => metaOfModels(head, models, shard);
  const findId = async (id: string) => {
    for (let b = 0; b < head.blocks.length; b++) {
      const i = (await shard(b)).findIndex((m) => m.id === id);
      if (i >= 0) return head.blocks[b]!.firstModel + i;
    }
    return undefined;
  };
  const temperature = indexTemperature(manifest);
  const calibration = manifest.calibration;
  return {
    dir,
    manifest,
    head,
    temperature,
    calibration,
    nullText: decodeVectors(calibration?.nullText ?? []),
    fetchBlocks,
    cache: new Map(),
    ...(fetchCodeBlocks ? { fetchCodeBlocks, codeCache: new Map() } : {}),
    meta,
    findId,
  };
}

/**
 * Block reads of a blocked file of the index (records.bin, codes.bin) by offset, once its size is
 * checked against what the head implies (`expected`, said as `why`) and what the manifest says.
 * The blocks' bytes are verified by whoever decodes them (rankTiered: openBlock, openCodeBlock).
 */
async function blockReader(dir: string, file: string, entries: readonly BlockEntry[], expected: number, why: string, declared: number): Promise<(blocks: number[]) => Promise<Map<number, Uint8Array>>> {
  const path = join(dir, file);
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -2),
    () => -1,
  );
  if (size === -1) throw new AppError('http', `${file} was not found at ${path}.`, path);
  if (size === -2) throw new AppError('http', `${file} at ${path} is not a file.`, path);
  if (size !== expected || size !== declared) {
    throw new AppError('integrity', `${file} has ${size} bytes; ${why} ${expected} and the manifest says ${declared}: the files are of different versions.`, path);
  }
  // Opened per read and closed after it: a query reads a handful of blocks, and nothing is left
  // for the garbage collector to close (the index object has no close()).
  return async (blocks: number[]) => {
    const out = new Map<number, Uint8Array>();
    const handle = await open(path, 'r');
    try {
      for (const b of blocks) {
        const e = entries[b]!;
        const buf = new Uint8Array(e.bytes);
        const { bytesRead } = await handle.read(buf, 0, e.bytes, e.offset);
        out.set(b, buf.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
    return out;
  };
}
