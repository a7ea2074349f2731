import { AppError } from './errors.ts';

/**
 * Binary index layout (little-endian), version 1.
 *
 *   0  magic "MSIX" · 4 u32 version · 8 u32 dim · 12 u32 count · 16 u32 sectionCount · 20..63 zero
 *   64 section table: sectionCount × 32 bytes { u32 kind, u32 dtype, u64 offset, u64 byteLength, u64 reserved }
 *   sections: each starts at a multiple of 64 so typed arrays / GPU buffers can view them without copies.
 *
 * See docs/index-format.md.
 */
export const INDEX_MAGIC = 'MSIX';
export const INDEX_VERSION = 1;
export const HEADER_BYTES = 64;
export const SECTION_ENTRY_BYTES = 32;
export const SECTION_ALIGN = 64;

export const SectionKind = {
  /** float32 [count, dim]: per-model mean of L2-normalised sample embeddings (not renormalised). */
  Means: 1,
} as const;
export type SectionKind = (typeof SectionKind)[keyof typeof SectionKind];

export const DType = { F32: 1, F16: 2 } as const;
export type DType = (typeof DType)[keyof typeof DType];

export interface SectionInput {
  kind: SectionKind;
  dtype: DType;
  data: Uint8Array;
}

export interface ParsedIndex {
  version: number;
  dim: number;
  count: number;
  means: Float32Array;
}

const MAX_DIM = 4096;
const MAX_COUNT = 10_000_000;

function align(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}

export function writeIndex(dim: number, count: number, sections: SectionInput[]): Uint8Array {
  let offset = align(HEADER_BYTES + sections.length * SECTION_ENTRY_BYTES);
  const placed = sections.map((s) => {
    const at = offset;
    offset = align(at + s.data.byteLength);
    return { ...s, offset: at };
  });
  const out = new Uint8Array(offset);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = INDEX_MAGIC.charCodeAt(i);
  view.setUint32(4, INDEX_VERSION, true);
  view.setUint32(8, dim, true);
  view.setUint32(12, count, true);
  view.setUint32(16, sections.length, true);
  placed.forEach((s, i) => {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    view.setUint32(e, s.kind, true);
    view.setUint32(e + 4, s.dtype, true);
    view.setBigUint64(e + 8, BigInt(s.offset), true);
    view.setBigUint64(e + 16, BigInt(s.data.byteLength), true);
    out.set(s.data, s.offset);
  });
  return out;
}

function fail(message: string): never {
  throw new AppError('index-format', `The index file is invalid: ${message}.`, 'index.bin');
}

/** Parses and validates an index; every problem becomes an AppError('index-format'). */
export function readIndex(bytes: Uint8Array): ParsedIndex {
  if (bytes.byteLength < HEADER_BYTES) fail(`it has only ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== INDEX_MAGIC) fail('wrong magic number (not a model-search index)');
  const version = view.getUint32(4, true);
  if (version !== INDEX_VERSION) fail(`format version ${version} is not supported (expected ${INDEX_VERSION})`);
  const dim = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const sectionCount = view.getUint32(16, true);
  if (dim < 1 || dim > MAX_DIM) fail(`embedding dimension ${dim} is out of range`);
  if (count < 1 || count > MAX_COUNT) fail(`model count ${count} is out of range`);
  if (sectionCount > 64) fail(`${sectionCount} sections is too many`);
  if (HEADER_BYTES + sectionCount * SECTION_ENTRY_BYTES > bytes.byteLength) fail('the section table is truncated');

  let means: Float32Array | undefined;
  for (let i = 0; i < sectionCount; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const kind = view.getUint32(e, true);
    const dtype = view.getUint32(e + 4, true);
    const offset = view.getBigUint64(e + 8, true);
    const length = view.getBigUint64(e + 16, true);
    if (offset % BigInt(SECTION_ALIGN) !== 0n) fail(`section ${i} is not 64-byte aligned`);
    if (offset + length > BigInt(bytes.byteLength)) fail(`section ${i} runs past the end of the file`);
    if (kind === SectionKind.Means) {
      if (dtype !== DType.F32) fail('the means section must be float32');
      if (length !== BigInt(count * dim * 4)) fail(`the means section has ${length} bytes, expected ${count * dim * 4}`);
      // Copy so the array is aligned regardless of where `bytes` sits in its buffer.
      const start = bytes.byteOffset + Number(offset);
      means = new Float32Array(bytes.buffer.slice(start, start + Number(length)));
    }
    // Unknown kinds are skipped: newer writers may add optional sections.
  }
  if (!means) fail('the means section is missing');
  for (let i = 0; i < means.length; i++) {
    if (!Number.isFinite(means[i])) fail(`model ${Math.floor(i / dim)} has a non-finite mean value`);
  }
  return { version, dim, count, means };
}
