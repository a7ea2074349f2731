/**
 * Incremental embedding cache: one small binary file per image, keyed by the SHA-256 of the
 * image file's bytes and the encoder id:
 *
 *   <cache>/v2/<encoder-id>/<sha[0:2]>/<sha>.emb
 *
 * File layout (little-endian):
 *   0  "MSEC" · 4 u32 version (2) · 8 u32 dim · 12 u32 width · 16 u32 height (upright, after EXIF
 *   rotation) · 20 32 bytes SHA-256 of the image · 52 f32[dim] unit-length embedding ·
 *   52+4·dim u32 CRC-32 of everything before it.
 *
 * Writes go to a temp file that is renamed into place, so concurrent builds (e.g. shards run in
 * parallel on one cache) and crashes never leave a partial entry under the final name. A file
 * that is short, has the wrong header, a bad checksum or non-finite values is ignored (the image
 * is embedded again and the entry rewritten).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x4345534d; // "MSEC" read as little-endian u32
// 2: transparent pixels are flattened onto black (colour × alpha) in both the builder and the browser.
const VERSION = 2;
const HEADER = 52;

export interface CacheEntry {
  embedding: Float32Array;
  width: number;
  height: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries found but unusable (short, corrupt, wrong dimension). */
  corrupt: number;
  writes: number;
  writeErrors: number;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function encodeEntry(sha256: string, entry: CacheEntry): Uint8Array {
  const dim = entry.embedding.length;
  const bytes = new Uint8Array(HEADER + 4 * dim + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, dim, true);
  view.setUint32(12, entry.width, true);
  view.setUint32(16, entry.height, true);
  bytes.set(hexToBytes(sha256), 20);
  for (let i = 0; i < dim; i++) view.setFloat32(HEADER + 4 * i, entry.embedding[i], true);
  view.setUint32(HEADER + 4 * dim, crc32(bytes.subarray(0, HEADER + 4 * dim)), true);
  return bytes;
}

/** The entry, or undefined when the bytes are not a valid entry for this hash and dimension. */
export function decodeEntry(bytes: Uint8Array, sha256: string, dim: number): CacheEntry | undefined {
  if (bytes.byteLength !== HEADER + 4 * dim + 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION || view.getUint32(8, true) !== dim) return undefined;
  if (view.getUint32(HEADER + 4 * dim, true) !== crc32(bytes.subarray(0, HEADER + 4 * dim))) return undefined;
  const hash = hexToBytes(sha256);
  for (let i = 0; i < 32; i++) if (bytes[20 + i] !== hash[i]) return undefined;
  const embedding = new Float32Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = view.getFloat32(HEADER + 4 * i, true);
    if (!Number.isFinite(v)) return undefined;
    embedding[i] = v;
  }
  return { embedding, width: view.getUint32(12, true), height: view.getUint32(16, true) };
}

export class EmbedCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, corrupt: 0, writes: 0, writeErrors: 0 };
  /** The first write error, for one warning instead of thousands. */
  firstWriteError?: string;
  private readonly root: string | null;

  /** `dir` null disables the cache (every lookup misses, nothing is written). */
  constructor(dir: string | null, readonly encoderId: string, readonly dim: number) {
    if (!/^[A-Za-z0-9._-]+$/.test(encoderId)) throw new Error(`encoder id "${encoderId}" is not usable as a folder name`);
    this.root = dir === null ? null : join(dir, `v${VERSION}`, encoderId);
  }

  get enabled(): boolean {
    return this.root !== null;
  }

  pathFor(sha256: string): string {
    if (!this.root) throw new Error('the cache is disabled');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), `${sha256}.emb`);
  }

  async get(sha256: string): Promise<CacheEntry | undefined> {
    if (!this.root) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.pathFor(sha256)));
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const entry = decodeEntry(bytes, sha256, this.dim);
    if (entry) this.stats.hits++;
    else {
      this.stats.corrupt++;
      this.stats.misses++;
    }
    return entry;
  }

  /** Never throws: a cache that cannot be written only costs time on the next run. */
  async put(sha256: string, entry: CacheEntry): Promise<void> {
    if (!this.root) return;
    if (entry.embedding.length !== this.dim) throw new Error(`embedding has ${entry.embedding.length} dimensions, expected ${this.dim}`);
    const path = this.pathFor(sha256);
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(join(this.root, sha256.slice(0, 2)), { recursive: true });
      await writeFile(tmp, encodeEntry(sha256, entry));
      await rename(tmp, path);
      this.stats.writes++;
    } catch (err) {
      this.stats.writeErrors++;
      this.firstWriteError ??= `${(err as Error).message}`;
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
}
