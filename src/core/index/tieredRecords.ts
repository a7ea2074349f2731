import { fromHalfArray, toHalfArray } from '../math/linalg.ts';
import { sha256Hex } from '../io/sha256.ts';
import type { LowRankRecord } from './lowRankGaussian.ts';

/**
 * Per-model records of the tiered index (docs/index-format.md, "Version 2"), and the blocks they are
 * fetched in. A record is what the rerank needs for one model; blocks are runs of consecutive
 * records, each with its own SHA-256, so a partial (Range) read can be checked on its own.
 *
 * Record layout, little-endian, 4-byte aligned:
 *
 *   0   u8   kind      1 = exact low-rank (Σ̂ + εI, n ≤ d), 2 = PPCA (n > d, approximate)
 *   1   u8   dtype     of the basis: 1 = float32, 2 = float16
 *   2   u16  rank      r ≤ dim
 *   4   u32  dim
 *   8   f32  isotropic s (ε, or ε + σ² for PPCA), > 0
 *   12  f32  logDet    log|Σ'|
 *   16  f32  mean      [dim]
 *   …   basis          [r, dim] (float32, or float16 bit patterns), then zero padding to 4 bytes
 */
export const RecordKind = { ExactLowRank: 1, Ppca: 2 } as const;
export type BasisDtype = 'f32' | 'f16';

const HEADER = 16;

export interface TieredRecord extends LowRankRecord {
  kind: (typeof RecordKind)[keyof typeof RecordKind];
  mean: Float32Array;
  basis: Float32Array;
}

export function recordBytes(dim: number, rank: number, dtype: BasisDtype): number {
  const raw = HEADER + 4 * dim + rank * dim * (dtype === 'f16' ? 2 : 4);
  return Math.ceil(raw / 4) * 4;
}

/** Serialises a record; with f16 the basis is rounded, and logDet is then recomputed from the rounded rows (see decodeRecord). */
export function encodeRecord(r: LowRankRecord & { exact: boolean }, dtype: BasisDtype): Uint8Array {
  const { dim, rank } = r;
  if (rank > 0xffff || rank > dim) throw new Error(`rank ${rank} does not fit a record of dimension ${dim}.`);
  if (!(r.isotropic > 0) || !Number.isFinite(r.isotropic)) throw new Error(`The isotropic variance must be positive and finite, got ${r.isotropic}.`);
  const out = new Uint8Array(recordBytes(dim, rank, dtype));
  const view = new DataView(out.buffer);
  view.setUint8(0, r.exact ? RecordKind.ExactLowRank : RecordKind.Ppca);
  view.setUint8(1, dtype === 'f16' ? 2 : 1);
  view.setUint16(2, rank, true);
  view.setUint32(4, dim, true);
  view.setFloat32(8, r.isotropic, true);
  for (let j = 0; j < dim; j++) view.setFloat32(HEADER + 4 * j, r.mean[j]!, true);
  const base = HEADER + 4 * dim;
  const n = rank * dim;
  let stored: ArrayLike<number>;
  if (dtype === 'f16') {
    const bits = toHalfArray(Array.from({ length: n }, (_, i) => r.basis[i]!));
    for (let i = 0; i < n; i++) view.setUint16(base + 2 * i, bits[i]!, true);
    stored = fromHalfArray(bits);
  } else {
    for (let i = 0; i < n; i++) view.setFloat32(base + 4 * i, r.basis[i]!, true);
    stored = Float32Array.from({ length: n }, (_, i) => r.basis[i]!);
  }
  view.setFloat32(12, logDetOf(stored, rank, dim, r.isotropic), true);
  return out;
}

/**
 * log|Σ'| from the stored rows: ‖B_k‖² = β_k² = λ_k / (s(s + λ_k)), so λ_k = s²β_k² / (1 − sβ_k²) and
 * log|Σ'| = d log s + Σ log(1 + λ_k/s) = d log s − Σ log(1 − sβ_k²). Stored rounded rows define the
 * density the reader computes, so the log-determinant follows them (as v1's LogDet follows W).
 */
function logDetOf(basis: ArrayLike<number>, rank: number, dim: number, s: number): number {
  let logDet = dim * Math.log(s);
  for (let k = 0; k < rank; k++) {
    let b2 = 0;
    for (let j = 0; j < dim; j++) b2 += basis[k * dim + j]! ** 2;
    logDet -= Math.log1p(-Math.min(s * b2, 1 - 1e-12));
  }
  return logDet;
}

/** Parses and checks one record; anything a damaged or hostile file could hold is refused with a message naming `what`. */
export function decodeRecord(bytes: Uint8Array, dim: number, what = 'record'): TieredRecord {
  if (bytes.byteLength < HEADER) throw new Error(`${what}: ${bytes.byteLength} bytes is shorter than a record header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = view.getUint8(0);
  const dtypeCode = view.getUint8(1);
  const rank = view.getUint16(2, true);
  const recDim = view.getUint32(4, true);
  const isotropic = view.getFloat32(8, true);
  const logDet = view.getFloat32(12, true);
  if (kind !== RecordKind.ExactLowRank && kind !== RecordKind.Ppca) throw new Error(`${what}: unknown record kind ${kind}.`);
  if (dtypeCode !== 1 && dtypeCode !== 2) throw new Error(`${what}: unknown basis dtype ${dtypeCode}.`);
  if (recDim !== dim) throw new Error(`${what}: dimension ${recDim}, the index has ${dim}.`);
  if (rank > dim) throw new Error(`${what}: rank ${rank} exceeds the dimension ${dim}.`);
  const dtype: BasisDtype = dtypeCode === 2 ? 'f16' : 'f32';
  const expected = recordBytes(dim, rank, dtype);
  if (bytes.byteLength !== expected) throw new Error(`${what}: ${bytes.byteLength} bytes, a rank-${rank} record of dimension ${dim} has ${expected}.`);
  if (!(isotropic > 0) || !Number.isFinite(isotropic)) throw new Error(`${what}: isotropic variance ${isotropic} is not positive and finite.`);
  if (!Number.isFinite(logDet)) throw new Error(`${what}: log-determinant is not finite.`);
  const mean = new Float32Array(dim);
  for (let j = 0; j < dim; j++) mean[j] = view.getFloat32(HEADER + 4 * j, true);
  const base = HEADER + 4 * dim;
  const n = rank * dim;
  let basis: Float32Array;
  if (dtype === 'f16') {
    const bits = new Uint16Array(n);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(base + 2 * i, true);
    basis = fromHalfArray(bits);
  } else {
    basis = new Float32Array(n);
    for (let i = 0; i < n; i++) basis[i] = view.getFloat32(base + 4 * i, true);
  }
  for (let j = 0; j < dim; j++) if (!Number.isFinite(mean[j]!)) throw new Error(`${what}: the mean holds a non-finite value.`);
  // Exactly, ‖B_k‖² = λ/(s(s + λ)) < 1/s: a row at or past that bound is not a covariance (and would
  // make the Mahalanobis term negative); 1 % slack for fp16 rounding.
  const bound = 1.01 / isotropic;
  for (let k = 0; k < rank; k++) {
    let b2 = 0;
    for (let j = 0; j < dim; j++) {
      const v = basis[k * dim + j]!;
      if (!Number.isFinite(v)) throw new Error(`${what}: the basis holds a non-finite value.`);
      b2 += v * v;
    }
    if (b2 >= bound) throw new Error(`${what}: basis row ${k} has squared norm ${b2.toPrecision(4)} ≥ 1/s: not a covariance.`);
  }
  // The stored log-determinant must be the one the stored rows define.
  const want = logDetOf(basis, rank, dim, isotropic);
  if (Math.abs(want - logDet) > 1e-4 * Math.max(1, Math.abs(want))) throw new Error(`${what}: log-determinant ${logDet} does not match its basis (${want.toFixed(4)}).`);
  return { kind: kind as TieredRecord['kind'], dim, rank, mean, basis, isotropic, logDet };
}

export interface BlockEntry {
  /** Byte offset of the block in the records file. */
  offset: number;
  bytes: number;
  firstModel: number;
  models: number;
  sha256: string;
}

export interface RecordBlocks {
  /** The records file: every block, back to back. */
  data: Uint8Array;
  blocks: BlockEntry[];
  /** Per model (in index order): its block, and its byte range within the block. */
  directory: { block: number; offset: number; bytes: number }[];
}

/** Groups encoded records (index order) into blocks of `perBlock` consecutive models and hashes each block. */
export async function packBlocks(records: readonly Uint8Array[], perBlock: number): Promise<RecordBlocks> {
  if (!Number.isInteger(perBlock) || perBlock < 1) throw new Error(`Models per block must be a positive integer, got ${perBlock}.`);
  const total = records.reduce((s, r) => s + r.byteLength, 0);
  const data = new Uint8Array(total);
  const blocks: BlockEntry[] = [];
  const directory: RecordBlocks['directory'] = [];
  let at = 0;
  for (let first = 0; first < records.length; first += perBlock) {
    const start = at;
    const models = Math.min(perBlock, records.length - first);
    for (let i = 0; i < models; i++) {
      const r = records[first + i]!;
      directory.push({ block: blocks.length, offset: at - start, bytes: r.byteLength });
      data.set(r, at);
      at += r.byteLength;
    }
    blocks.push({ offset: start, bytes: at - start, firstModel: first, models, sha256: await sha256Hex(data.subarray(start, at)) });
  }
  return { data, blocks, directory };
}

/**
 * Checks a fetched block against its table entry and decodes its records. A host that shifted,
 * truncated or corrupted a range fails here, with the block named, before any score is computed.
 */
export async function openBlock(bytes: Uint8Array, entry: BlockEntry, directory: RecordBlocks['directory'], dim: number, index: number): Promise<Map<number, TieredRecord>> {
  if (bytes.byteLength !== entry.bytes) throw new Error(`Block ${index}: got ${bytes.byteLength} bytes, the index says ${entry.bytes}.`);
  const hash = await sha256Hex(bytes);
  if (hash !== entry.sha256) throw new Error(`Block ${index} failed its SHA-256 check: the host served other bytes than the index was built with.`);
  const out = new Map<number, TieredRecord>();
  for (let m = entry.firstModel; m < entry.firstModel + entry.models; m++) {
    const d = directory[m];
    if (!d || d.block !== index || d.offset + d.bytes > bytes.byteLength) throw new Error(`Block ${index}: the directory entry of model ${m} does not lie in it.`);
    out.set(m, decodeRecord(bytes.subarray(d.offset, d.offset + d.bytes), dim, `model ${m}'s record`));
  }
  return out;
}
