import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/core/io/errors.ts';
import { MAX_UNDECLARED_BYTES } from '../../src/core/io/fetchBytes.ts';
import { indexTemperature, openIndex, type OpenedIndex } from '../../src/core/index/openIndex.ts';
import { metaOfModels, openTieredHead, parseMetaShard } from '../../src/core/index/openTiered.ts';
import { manifestVersion, parseTieredManifest, type MatchCalibration, type ModelMeta, type TieredManifest } from '../../src/core/index/manifest.ts';
import type { TieredHead } from '../../src/core/index/tieredHead.ts';
import type { BlockCache } from '../../src/core/index/tieredQuery.ts';
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
 * records.bin (verified per block by rankTiered), metadata shards verified against the head's table.
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
  const recordsPath = join(dir, 'records.bin');
  const recordsSize = await stat(recordsPath).then((s) => s.size, () => -1);
  if (recordsSize < 0) throw new AppError('http', `records.bin was not found at ${recordsPath}.`, recordsPath);
  if (recordsSize !== head.recordsBytes || recordsSize !== manifest.files['records.bin'].bytes) {
    throw new AppError('integrity', `records.bin has ${recordsSize} bytes; head.bin's blocks end at byte ${head.recordsBytes} and the manifest says ${manifest.files['records.bin'].bytes}: the files are of different versions.`, recordsPath);
  }
  const records = await open(recordsPath, 'r');
  const fetchBlocks = async (blocks: number[]) => {
    const out = new Map<number, Uint8Array>();
    for (const b of blocks) {
      const e = head.blocks[b]!;
      const buf = new Uint8Array(e.bytes);
      const { bytesRead } = await records.read(buf, 0, e.bytes, e.offset);
      out.set(b, buf.subarray(0, bytesRead));
    }
    return out;
  };
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
  return { dir, manifest, head, temperature, calibration, nullText: decodeVectors(calibration?.nullText ?? []), fetchBlocks, cache: new Map(), meta, findId };
}
