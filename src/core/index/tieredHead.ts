import { HEADER_BYTES, INDEX_MAGIC, layoutIndex, SECTION_ALIGN, SECTION_ENTRY_BYTES } from './indexFormat.ts';
import type { Int8Means, SignCodes } from '../scoring/prefilter.ts';
import type { BlockEntry, RecordBlocks } from './tieredRecords.ts';
import { codeBlockEntries } from './codeBlocks.ts';
import { int8TermsProblem } from './int8Terms.ts';

/** How the int8 head's sections are named in its errors. */
const HEAD_TERMS = { codes: 'prefilter codes', precision: 'mean precision (ProxyPrecision)', logDet: 'log-determinant (ProxyLogDet)' };

/**
 * The head of a tiered (version 2) index: what a first visit loads before the first query —
 * the prefilter of every model, the record directory and the block table with each block's
 * SHA-256 (docs/index-format.md, "Version 2"). Same container as version 1 (magic, 64-byte header,
 * section table, 64-byte aligned sections), version 2, its own section kinds.
 */
export const TIERED_VERSION = 2;
export const TieredSection = {
  /** f32 [count]: ‖μ‖ of the float32 mean (the cosine's denominator). */
  Norms: 2,
  /** i8 [count, dim]: int8 means (prefilter.ts quantiseMeansInt8). */
  PrefilterCodes: 32,
  /** f32 [count]: their per-model scale. */
  PrefilterScale: 33,
  /** u32 [count, ceil(dim/32)]: one sign bit per dimension (optional; for very large indexes). */
  SignCodes: 34,
  /** u32 [count, 3]: block, byte offset in the block, byte length of each model's record. */
  RecordDirectory: 35,
  /** u32 [blocks, 16]: offset (lo, hi), bytes, first model, models, 3 reserved, SHA-256 (32 bytes). */
  BlockTable: 36,
  /** f32 [count]: mean precision tr(Σ'⁻¹)/d of each model's record (the Gaussian prefilter, prefilter.ts). */
  ProxyPrecision: 37,
  /** f32 [count]: log|Σ'| of each model's record. */
  ProxyLogDet: 38,
  /** u32 [blocks, 10] (optional): bytes of meta/<n>.json, 1 reserved word, its SHA-256 (32 bytes). */
  MetaTable: 39,
  /**
   * u32 [blocks, 8]: the SHA-256 of each block's part of codes.bin (codeBlocks.ts). Present only in a
   * sign-coded head, which then holds SignCodes and none of Norms, PrefilterCodes, PrefilterScale,
   * ProxyPrecision, ProxyLogDet: those live in codes.bin, fetched for the sign shortlist.
   */
  CodesTable: 40,
} as const;
const DTYPE = { F32: 1, U32: 3, I8: 4 } as const;
const BLOCK_WORDS = 16;
const META_WORDS = 10;
const CODE_WORDS = 8;
/** Largest metadata shard a head may declare (a block's ModelMeta list; limits in manifest.ts keep real ones far below). */
export const MAX_META_SHARD_BYTES = 256 * 1024 * 1024;

/** A block's metadata shard, meta/<n>.json: its size and SHA-256, checked before it is parsed. */
export interface MetaShardEntry {
  bytes: number;
  sha256: string;
}

export interface TieredHead {
  dim: number;
  count: number;
  /** Every model's int8 mean (an int8 head); absent in a sign-coded head, whose int8 means are in codes.bin. */
  prefilter?: Int8Means;
  /** The Gaussian-shaped prefilter's per-model terms (gaussianProxyScores); absent with `prefilter`. */
  proxy?: { precision: Float32Array; logDet: Float32Array };
  /** One sign bit per dimension: an optional extra in an int8 head, the only prefilter of a sign-coded head. */
  signs?: SignCodes;
  /** A sign-coded head: each block's part of codes.bin (same models as `blocks`), with its SHA-256. */
  codeBlocks?: BlockEntry[];
  blocks: BlockEntry[];
  directory: RecordBlocks['directory'];
  /** Bytes of the records file (the end of the last block). */
  recordsBytes: number;
  /** Per block, its metadata shard meta/<n>.json (absent in heads written without metadata shards). */
  meta?: MetaShardEntry[];
}

const u8 = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes a hex SHA-256 into 32 bytes of `words` at word `at`. */
function putHash(words: Uint32Array, at: number, sha256: string, what: string): void {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${what} has no valid SHA-256.`);
  const hash = new Uint8Array(words.buffer, words.byteOffset + at * 4, 32);
  for (let k = 0; k < 32; k++) hash[k] = parseInt(sha256.slice(2 * k, 2 * k + 2), 16);
}

const hexOf = (words: Uint32Array, at: number) => Array.from(new Uint8Array(words.buffer, words.byteOffset + at * 4, 32), (b) => b.toString(16).padStart(2, '0')).join('');

/** A head to write: an int8 head (`prefilter` and `proxy`), or a sign-coded one (`signs` and `codeHashes`, codes.bin's block hashes). */
export type TieredHeadInput = Omit<TieredHead, 'recordsBytes' | 'codeBlocks'> & { codeHashes?: readonly string[] };

export function writeTieredHead(head: TieredHeadInput): Uint8Array {
  const { dim, count, prefilter, proxy, signs, blocks, directory, meta, codeHashes } = head;
  if (codeHashes) {
    if (!signs) throw new Error('A sign-coded head needs sign codes.');
    if (prefilter || proxy) throw new Error('A sign-coded head keeps its int8 means in codes.bin, not in the head.');
    if (codeHashes.length !== blocks.length) throw new Error(`The codes table has ${codeHashes.length} entries for ${blocks.length} blocks.`);
  } else {
    if (!prefilter || !proxy) throw new Error('A head needs int8 means and proxy terms, or sign codes with a codes table.');
    if (prefilter.count !== count || prefilter.dim !== dim) throw new Error('The prefilter does not match the index size.');
    if (proxy.precision.length !== count || proxy.logDet.length !== count) throw new Error(`The Gaussian prefilter needs ${count} precisions and log-determinants.`);
  }
  if (signs && (signs.count !== count || signs.dim !== dim || signs.bits.length !== count * Math.ceil(dim / 32))) throw new Error('The sign codes do not match the index size.');
  if (directory.length !== count) throw new Error(`The directory has ${directory.length} entries for ${count} models.`);
  const dir = new Uint32Array(count * 3);
  directory.forEach((d, m) => dir.set([d.block, d.offset, d.bytes], m * 3));
  const table = new Uint32Array(blocks.length * BLOCK_WORDS);
  blocks.forEach((b, i) => {
    const w = i * BLOCK_WORDS;
    table[w] = b.offset % 2 ** 32;
    table[w + 1] = Math.floor(b.offset / 2 ** 32);
    table[w + 2] = b.bytes;
    table[w + 3] = b.firstModel;
    table[w + 4] = b.models;
    putHash(table, w + 8, b.sha256, `Block ${i}`);
  });
  const sections: { kind: number; dtype: number; data: Uint8Array }[] = [
    { kind: TieredSection.RecordDirectory, dtype: DTYPE.U32, data: u8(dir) },
    { kind: TieredSection.BlockTable, dtype: DTYPE.U32, data: u8(table) },
  ];
  if (prefilter && proxy) {
    // (The int8 head's section order before sign-coded heads existed: its bytes stay the same.)
    sections.unshift(
      { kind: TieredSection.Norms, dtype: DTYPE.F32, data: u8(prefilter.norms) },
      { kind: TieredSection.PrefilterCodes, dtype: DTYPE.I8, data: u8(prefilter.codes) },
      { kind: TieredSection.PrefilterScale, dtype: DTYPE.F32, data: u8(prefilter.scale) },
    );
    sections.push({ kind: TieredSection.ProxyPrecision, dtype: DTYPE.F32, data: u8(proxy.precision) }, { kind: TieredSection.ProxyLogDet, dtype: DTYPE.F32, data: u8(proxy.logDet) });
  }
  if (codeHashes) {
    const words = new Uint32Array(codeHashes.length * CODE_WORDS);
    codeHashes.forEach((h, i) => putHash(words, i * CODE_WORDS, h, `Code block ${i}`));
    sections.push({ kind: TieredSection.CodesTable, dtype: DTYPE.U32, data: u8(words) });
  }
  if (signs) sections.push({ kind: TieredSection.SignCodes, dtype: DTYPE.U32, data: u8(signs.bits) });
  if (meta) {
    if (meta.length !== blocks.length) throw new Error(`The metadata table has ${meta.length} entries for ${blocks.length} blocks.`);
    const words = new Uint32Array(meta.length * META_WORDS);
    meta.forEach((e, i) => {
      if (!Number.isSafeInteger(e.bytes) || e.bytes < 2 || e.bytes > MAX_META_SHARD_BYTES) throw new Error(`Metadata shard ${i} has ${e.bytes} bytes.`);
      words[i * META_WORDS] = e.bytes;
      putHash(words, i * META_WORDS + 2, e.sha256, `Metadata shard ${i}`);
    });
    sections.push({ kind: TieredSection.MetaTable, dtype: DTYPE.U32, data: u8(words) });
  }
  return layoutIndex(dim, count, sections, TIERED_VERSION);
}

function fail(message: string): never {
  throw new Error(`The index head is invalid: ${message}.`);
}

/** Parses and checks a head; any inconsistency a damaged or hostile file could hold is refused. */
export function readTieredHead(bytes: Uint8Array): TieredHead {
  if (bytes.byteLength < HEADER_BYTES) fail(`it has only ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== INDEX_MAGIC) fail('wrong magic number (not a model-search index)');
  const version = view.getUint32(4, true);
  if (version !== TIERED_VERSION) fail(`format version ${version} is not a tiered head (expected ${TIERED_VERSION})`);
  const dim = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const sectionCount = view.getUint32(16, true);
  if (dim < 1 || dim > 4096) fail(`embedding dimension ${dim} is out of range`);
  if (count < 1 || count > 100_000_000) fail(`model count ${count} is out of range`);
  if (sectionCount > 64 || HEADER_BYTES + sectionCount * SECTION_ENTRY_BYTES > bytes.byteLength) fail('the section table is truncated');
  const found = new Map<number, { dtype: number; offset: number; length: number }>();
  const spans: [number, number][] = [];
  for (let i = 0; i < sectionCount; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const kind = view.getUint32(e, true);
    const offset = Number(view.getBigUint64(e + 8, true));
    const length = Number(view.getBigUint64(e + 16, true));
    if (offset % SECTION_ALIGN !== 0 || offset + length > bytes.byteLength || offset < HEADER_BYTES + sectionCount * SECTION_ENTRY_BYTES) fail(`section ${i} lies outside the file's data`);
    if (found.has(kind)) fail(`section kind ${kind} appears twice`);
    found.set(kind, { dtype: view.getUint32(e + 4, true), offset, length });
    if (length > 0) spans.push([offset, offset + length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) fail('two sections overlap');
  const get = (kind: number, dtype: number, elements: number, width: number, label: string) => {
    const s = found.get(kind);
    if (!s) fail(`the ${label} section is missing`);
    if (s.dtype !== dtype) fail(`the ${label} section has data type ${s.dtype}`);
    if (s.length !== elements * width) fail(`the ${label} section has ${s.length} bytes, expected ${elements * width}`);
    return bytes.slice(s.offset, s.offset + s.length).buffer;
  };
  // A sign-coded head (CodesTable) keeps every per-model prefilter float and the int8 means in codes.bin.
  const signCoded = found.has(TieredSection.CodesTable);
  let prefilter: TieredHead['prefilter'];
  let proxy: TieredHead['proxy'];
  if (signCoded) {
    if (!found.has(TieredSection.SignCodes)) fail('it has a CodesTable but no SignCodes section (a sign-coded head ranks by its sign codes)');
    for (const [kind, label] of [[TieredSection.Norms, 'Norms'], [TieredSection.PrefilterCodes, 'PrefilterCodes'], [TieredSection.PrefilterScale, 'PrefilterScale'], [TieredSection.ProxyPrecision, 'ProxyPrecision'], [TieredSection.ProxyLogDet, 'ProxyLogDet']] as const) {
      if (found.has(kind)) fail(`a sign-coded head (with a CodesTable) must not also have a ${label} section`);
    }
  } else {
    const norms = new Float32Array(get(TieredSection.Norms, DTYPE.F32, count, 4, 'Norms'));
    const codes = new Int8Array(get(TieredSection.PrefilterCodes, DTYPE.I8, count * dim, 1, 'PrefilterCodes'));
    const scale = new Float32Array(get(TieredSection.PrefilterScale, DTYPE.F32, count, 4, 'PrefilterScale'));
    const precision = new Float32Array(get(TieredSection.ProxyPrecision, DTYPE.F32, count, 4, 'ProxyPrecision'));
    const logDet = new Float32Array(get(TieredSection.ProxyLogDet, DTYPE.F32, count, 4, 'ProxyLogDet'));
    const means = { dim, count, codes, scale, norms };
    for (let m = 0; m < count; m++) {
      const problem = int8TermsProblem(means, precision, logDet, m, HEAD_TERMS);
      if (problem) fail(`model ${m}'s ${problem}`);
    }
    prefilter = means;
    proxy = { precision, logDet };
  }
  const dir = new Uint32Array(get(TieredSection.RecordDirectory, DTYPE.U32, count * 3, 4, 'RecordDirectory'));
  const tableSection = found.get(TieredSection.BlockTable);
  if (!tableSection || tableSection.length % (BLOCK_WORDS * 4) !== 0 || tableSection.length === 0) fail('the BlockTable section is missing or not a whole number of entries');
  const blockCount = tableSection.length / (BLOCK_WORDS * 4);
  const table = new Uint32Array(get(TieredSection.BlockTable, DTYPE.U32, blockCount * BLOCK_WORDS, 4, 'BlockTable'));
  const blocks: BlockEntry[] = [];
  let expectOffset = 0;
  let expectModel = 0;
  for (let i = 0; i < blockCount; i++) {
    const w = i * BLOCK_WORDS;
    const offset = table[w]! + table[w + 1]! * 2 ** 32;
    const entry: BlockEntry = {
      offset,
      bytes: table[w + 2]!,
      firstModel: table[w + 3]!,
      models: table[w + 4]!,
      sha256: hexOf(table, w + 8),
    };
    // Blocks tile the records file and the models in order: no gap, no overlap, nothing left out.
    if (entry.offset !== expectOffset) fail(`block ${i} starts at byte ${entry.offset}, expected ${expectOffset}`);
    if (entry.firstModel !== expectModel || entry.models < 1) fail(`block ${i} holds models ${entry.firstModel}…, expected ${expectModel}…`);
    expectOffset += entry.bytes;
    expectModel += entry.models;
    blocks.push(entry);
  }
  if (expectModel !== count) fail(`the blocks hold ${expectModel} models, the index has ${count}`);
  const directory: RecordBlocks['directory'] = [];
  for (let m = 0; m < count; m++) {
    const [block, offset, length] = [dir[m * 3]!, dir[m * 3 + 1]!, dir[m * 3 + 2]!];
    const b = blocks[block];
    if (!b || m < b.firstModel || m >= b.firstModel + b.models) fail(`model ${m}'s record is not in block ${block}`);
    if (length < 16 || offset + length > b.bytes) fail(`model ${m}'s record (bytes ${offset}+${length}) runs past its block`);
    const prev = directory[m - 1];
    if (m > b.firstModel && prev && offset !== prev.offset + prev.bytes) fail(`model ${m}'s record does not follow model ${m - 1}'s`);
    if (m === b.firstModel && offset !== 0) fail(`model ${m}'s record does not start its block`);
    if (m === b.firstModel + b.models - 1 && offset + length !== b.bytes) fail(`block ${block} has bytes after its last record`);
    directory.push({ block, offset, bytes: length });
  }
  let signs: SignCodes | undefined;
  if (found.has(TieredSection.SignCodes)) {
    const words = Math.ceil(dim / 32);
    signs = { dim, count, words, bits: new Uint32Array(get(TieredSection.SignCodes, DTYPE.U32, count * words, 4, 'SignCodes')) };
  }
  let codeBlocks: BlockEntry[] | undefined;
  if (signCoded) {
    if (found.get(TieredSection.CodesTable)!.length !== blockCount * CODE_WORDS * 4) fail(`the CodesTable section has ${found.get(TieredSection.CodesTable)!.length} bytes, expected ${blockCount * CODE_WORDS * 4} (one entry per block)`);
    const words = new Uint32Array(get(TieredSection.CodesTable, DTYPE.U32, blockCount * CODE_WORDS, 4, 'CodesTable'));
    codeBlocks = codeBlockEntries(blocks, dim, Array.from({ length: blockCount }, (_, i) => hexOf(words, i * CODE_WORDS)));
  }
  let meta: MetaShardEntry[] | undefined;
  const metaSection = found.get(TieredSection.MetaTable);
  if (metaSection) {
    if (metaSection.length !== blockCount * META_WORDS * 4) fail(`the MetaTable section has ${metaSection.length} bytes, expected ${blockCount * META_WORDS * 4} (one entry per block)`);
    const words = new Uint32Array(get(TieredSection.MetaTable, DTYPE.U32, blockCount * META_WORDS, 4, 'MetaTable'));
    meta = [];
    for (let i = 0; i < blockCount; i++) {
      const bytes = words[i * META_WORDS]!;
      // The smallest shard is "[]"; a huge one would be a download the app should never start.
      if (bytes < 2 || bytes > MAX_META_SHARD_BYTES) fail(`block ${i}'s metadata shard has ${bytes} bytes`);
      meta.push({ bytes, sha256: hexOf(words, i * META_WORDS + 2) });
    }
  }
  return { dim, count, ...(prefilter ? { prefilter, proxy } : {}), signs, ...(codeBlocks ? { codeBlocks } : {}), blocks, directory, recordsBytes: expectOffset, ...(meta ? { meta } : {}) };
}
