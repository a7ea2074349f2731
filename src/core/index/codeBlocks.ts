import { sha256Hex } from '../io/sha256.ts';
import type { Int8Means } from '../scoring/prefilter.ts';
import type { BlockEntry } from './tieredRecords.ts';
import { int8TermsProblem } from './int8Terms.ts';

const BLOCK_TERMS = { codes: 'codes', precision: 'mean precision', logDet: 'log-determinant' };

/**
 * codes.bin, the middle tier of a sign-coded tiered index (docs/index-format.md, "Sign-coded
 * heads"). At 1M models the int8 means (≈ 0.5 GB) cannot be in the head; the head keeps one sign
 * bit per dimension and every model's int8 mean, scale, norm and Gaussian-proxy terms move here, in
 * the same blocks (same models) as records.bin, each block with its own SHA-256 in the head. A
 * query fetches only its sign shortlist's blocks.
 *
 * Block layout (little-endian), for the block's `models` consecutive models:
 *
 *   i8  codes  [models, stride]   int8 mean, stride = dim rounded up to 4 (zero padding)
 *   f32 terms  [models, 4]        scale, ‖μ‖, mean precision, log|Σ'| (as the int8 head's sections)
 *
 * A block's offset is firstModel · (stride + 16): it follows from the block table, only its hash is stored.
 */
export const CODE_TERMS = 4;

export const codeStride = (dim: number) => Math.ceil(dim / 4) * 4;
export const codeBytesPerModel = (dim: number) => codeStride(dim) + 4 * CODE_TERMS;

/** The decoded prefilter data of one block's models (model m is row m − firstModel). */
export interface CodeBlock {
  firstModel: number;
  models: number;
  means: Int8Means;
  precision: Float32Array;
  logDet: Float32Array;
}

/** Where block `b`'s codes lie in codes.bin, from the record block table (same models). */
export function codeBlockEntries(blocks: readonly Pick<BlockEntry, 'firstModel' | 'models'>[], dim: number, hashes: readonly string[]): BlockEntry[] {
  if (hashes.length !== blocks.length) throw new Error(`The codes table has ${hashes.length} entries for ${blocks.length} blocks.`);
  const per = codeBytesPerModel(dim);
  return blocks.map((b, i) => ({ offset: b.firstModel * per, bytes: b.models * per, firstModel: b.firstModel, models: b.models, sha256: hashes[i]! }));
}

/** codes.bin for an index whose blocks are `blocks`, and each block's SHA-256 (the head's CodesTable). */
export async function encodeCodeBlocks(
  prefilter: Int8Means,
  proxy: { precision: Float32Array; logDet: Float32Array },
  blocks: readonly Pick<BlockEntry, 'firstModel' | 'models'>[],
): Promise<{ data: Uint8Array; hashes: string[] }> {
  const { dim, count } = prefilter;
  const stride = codeStride(dim);
  const per = codeBytesPerModel(dim);
  const data = new Uint8Array(count * per);
  const view = new DataView(data.buffer);
  const hashes: string[] = [];
  let expect = 0;
  for (const b of blocks) {
    if (b.firstModel !== expect) throw new Error(`Block of models ${b.firstModel}… does not follow model ${expect - 1}.`);
    const start = b.firstModel * per;
    for (let i = 0; i < b.models; i++) {
      const m = b.firstModel + i;
      data.set(new Uint8Array(prefilter.codes.buffer, prefilter.codes.byteOffset + m * dim, dim), start + i * stride);
      const t = start + b.models * stride + i * 4 * CODE_TERMS;
      view.setFloat32(t, prefilter.scale[m]!, true);
      view.setFloat32(t + 4, prefilter.norms[m]!, true);
      view.setFloat32(t + 8, proxy.precision[m]!, true);
      view.setFloat32(t + 12, proxy.logDet[m]!, true);
    }
    expect += b.models;
    hashes.push(await sha256Hex(data.subarray(start, start + b.models * per)));
  }
  if (expect !== count) throw new Error(`The blocks hold ${expect} models, the prefilter ${count}.`);
  return { data, hashes };
}

/**
 * Checks a fetched code block against its entry (size, SHA-256) and decodes it, with the checks the
 * int8 head's reader makes: finite positive scales and precisions, norms in [0, 1] that agree with
 * the codes, finite log-determinants. Throws with the block named.
 */
export async function openCodeBlock(bytes: Uint8Array, entry: BlockEntry, dim: number, index: number): Promise<CodeBlock> {
  if (bytes.byteLength !== entry.bytes) throw new Error(`Code block ${index}: got ${bytes.byteLength} bytes, the index says ${entry.bytes}.`);
  if ((await sha256Hex(bytes)) !== entry.sha256) throw new Error(`Code block ${index} failed its SHA-256 check: the host served other bytes than the index was built with.`);
  const { models } = entry;
  const stride = codeStride(dim);
  const codes = new Int8Array(models * dim);
  for (let i = 0; i < models; i++) codes.set(new Int8Array(bytes.buffer, bytes.byteOffset + i * stride, dim), i * dim);
  const view = new DataView(bytes.buffer, bytes.byteOffset + models * stride, models * 4 * CODE_TERMS);
  const scale = new Float32Array(models);
  const norms = new Float32Array(models);
  const precision = new Float32Array(models);
  const logDet = new Float32Array(models);
  for (let i = 0; i < models; i++) {
    scale[i] = view.getFloat32(i * 16, true);
    norms[i] = view.getFloat32(i * 16 + 4, true);
    precision[i] = view.getFloat32(i * 16 + 8, true);
    logDet[i] = view.getFloat32(i * 16 + 12, true);
  }
  const means = { dim, count: models, codes, scale, norms };
  for (let i = 0; i < models; i++) {
    const problem = int8TermsProblem(means, precision, logDet, i, BLOCK_TERMS);
    if (problem) throw new Error(`Code block ${index}: model ${entry.firstModel + i}'s ${problem}.`);
  }
  return { firstModel: entry.firstModel, models, means, precision, logDet };
}

/** The int8 means and proxy terms of `models` (any order), gathered from their decoded code blocks, as one Int8Means. */
export function gatherCodes(models: readonly number[], blockOf: (m: number) => CodeBlock, dim: number): { means: Int8Means; precision: Float32Array; logDet: Float32Array } {
  const n = models.length;
  const means: Int8Means = { dim, count: n, codes: new Int8Array(n * dim), scale: new Float32Array(n), norms: new Float32Array(n) };
  const precision = new Float32Array(n);
  const logDet = new Float32Array(n);
  models.forEach((m, i) => {
    const b = blockOf(m);
    const row = m - b.firstModel;
    means.codes.set(b.means.codes.subarray(row * dim, (row + 1) * dim), i * dim);
    means.scale[i] = b.means.scale[row]!;
    means.norms[i] = b.means.norms[row]!;
    precision[i] = b.precision[row]!;
    logDet[i] = b.logDet[row]!;
  });
  return { means, precision, logDet };
}
