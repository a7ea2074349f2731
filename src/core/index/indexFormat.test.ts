import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { AppError } from '../io/errors.ts';
import {
  DType,
  HEADER_BYTES,
  INDEX_MAGIC,
  INDEX_VERSION,
  SECTION_ALIGN,
  SECTION_ENTRY_BYTES,
  SectionKind,
  gaussianTerms,
  layoutIndex,
  readIndex,
  writeIndex,
  type IndexInput,
  type Precision,
} from './indexFormat.ts';
import { halfToFloatTable, packedRowOffset, packedSize, toHalfArray, toHalfBits } from '../math/linalg.ts';
import { MomentAccumulator, gaussianFactors } from './modelStats.ts';
import { mulberry32 as rng } from '../math/prng.ts';

// Property tests (random truncation / bit flips / header sizes) live in indexFormat.property.test.ts;
// this file holds the layout, the round trips and the table-driven corruption cases.

/**
 * Deterministic test means: [count, dim] with varied signs and magnitudes. Each row is scaled to a
 * length |μ| in [0.35, 0.95): means of unit embeddings, as the reader requires (|μ| ≤ 1 + 1e-3).
 */
function makeMeans(count: number, dim: number): Float32Array {
  const raw = Float64Array.from({ length: count * dim }, (_, i) => Math.sin(i * 1.7 + 0.3) * (1 + (i % 5)) * 0.1);
  const out = new Float32Array(count * dim);
  for (let m = 0; m < count; m++) {
    const row = raw.subarray(m * dim, (m + 1) * dim);
    const length = 0.35 + 0.6 * ((m * 0.618) % 1);
    const n = Math.hypot(...row);
    for (let j = 0; j < dim; j++) out[m * dim + j] = (row[j] / n) * length;
  }
  return out;
}

/** Euclidean length of row m of a [count, dim] array, in float64. */
function rowNorm(a: ArrayLike<number>, dim: number, m: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[m * dim + j] ** 2;
  return Math.sqrt(s);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `fn`, which must throw AppError('index-format') whose message matches `pattern`. */
function expectIndexError(fn: () => unknown, pattern: RegExp): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected readIndex to throw').toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe('index-format');
  expect(err.name).toBe('AppError');
  expect(err.subject).toBe('index.bin');
  expect(err.message).toMatch(/^The index file is invalid: .+\.$/);
  expect(err.message).toMatch(pattern);
  return err;
}

interface Entry {
  kind: number;
  dtype: number;
  offset: number;
  byteLength: number;
  reserved: bigint;
}

/** Section table entry i of an index, as written. */
function entry(bytes: Uint8Array, i: number): Entry {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
  return {
    kind: view.getUint32(e, true),
    dtype: view.getUint32(e + 4, true),
    offset: Number(view.getBigUint64(e + 8, true)),
    byteLength: Number(view.getBigUint64(e + 16, true)),
    reserved: view.getBigUint64(e + 24, true),
  };
}

function sectionCount(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(16, true);
}

/** The table entry of a section kind, and its position in the table. */
function entryOf(bytes: Uint8Array, kind: number): Entry & { index: number } {
  for (let i = 0; i < sectionCount(bytes); i++) {
    const e = entry(bytes, i);
    if (e.kind === kind) return { ...e, index: i };
  }
  throw new Error(`no section ${kind}`);
}

function patch(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

interface RawSection {
  kind: number;
  dtype: number;
  data: Uint8Array;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const align = (n: number) => Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;

/** Files the real writer never produces (unknown kinds, duplicates, wrong sizes and dtypes). */
const rawIndex = (dim: number, count: number, sections: RawSection[]) => layoutIndex(dim, count, sections);

/** The sections of a file, copied out in table order. */
function sectionsOf(bytes: Uint8Array): RawSection[] {
  return Array.from({ length: sectionCount(bytes) }, (_, i) => {
    const e = entry(bytes, i);
    return { kind: e.kind, dtype: e.dtype, data: bytes.slice(e.offset, e.offset + e.byteLength) };
  });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * A complete index input built the real way: unit sample embeddings per model → MomentAccumulator →
 * gaussianFactors. Model 1 keeps no samples in the samples section (an allowed empty range).
 */
function fullInput(dim: number, count: number, precision: Precision, samples: Precision, seed = 1): IndexInput {
  const next = rng(seed);
  const P = packedSize(dim);
  const means = new Float32Array(count * dim);
  const prec = new Float64Array(count * P);
  const epsilon = new Float32Array(count);
  const perModel: Float32Array[] = [];
  for (let m = 0; m < count; m++) {
    const n = 3 + ((m * 5) % 7);
    const x = new Float32Array(n * dim);
    const acc = new MomentAccumulator(dim);
    for (let s = 0; s < n; s++) {
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const v = (j === m % dim ? 2 : 0) + next() - 0.5;
        x[s * dim + j] = v;
        norm += v * v;
      }
      for (let j = 0; j < dim; j++) x[s * dim + j] /= Math.sqrt(norm);
      acc.add(x.subarray(s * dim, (s + 1) * dim));
    }
    const f = gaussianFactors(acc.mean(), acc.covariance(), 1e-3);
    means.set(f.mean, m * dim);
    prec.set(f.precision, m * P);
    epsilon[m] = f.epsilon;
    perModel.push(m === 1 ? new Float32Array(0) : x);
  }
  const projection = Float32Array.from({ length: dim * dim }, (_, k) => (k % (dim + 1) === 0 ? 1 : 0) + (next() - 0.5) * 0.3);
  return {
    dim,
    means,
    gaussian: { precision: prec, epsilon, dtype: precision },
    samples: { perModel, dtype: samples },
    projection,
  };
}

/**
 * b = W μ and −2 Σ log W_ii in float64 from a factor as a reader sees it (the stored values),
 * written out here independently of gaussianTerms.
 */
function termsFromStored(dim: number, means: ArrayLike<number>, w: ArrayLike<number>): { bias: Float64Array; logDet: Float64Array } {
  const P = packedSize(dim);
  const count = means.length / dim;
  const bias = new Float64Array(count * dim);
  const logDet = new Float64Array(count);
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j <= i; j++) bias[m * dim + i] += w[m * P + (i * (i + 1)) / 2 + j] * means[m * dim + j];
      logDet[m] -= 2 * Math.log(w[m * P + (i * (i + 1)) / 2 + i]);
    }
  }
  return { bias, logDet };
}


/** The reader's words for a non-finite value: sections stored model by model name the model too. */
const nonFinite = (name: string, at: number | string) => new RegExp(`(the ${name} section has a non-finite value at ${at}\\.|has a non-finite value in the ${name} section \\(value ${at}\\))`);
const DIM = 16;
const COUNT = 3;
// 16 × 3 × 4 = 192 bytes of means (a multiple of 64) followed by 12 bytes of norms.
const MEANS = makeMeans(COUNT, DIM);
const VALID = writeIndex({ dim: DIM, means: MEANS });
const FULL_INPUT = fullInput(5, 4, 'f32', 'f32');
const FULL = writeIndex(FULL_INPUT);
const FULL16_INPUT = fullInput(5, 4, 'f16', 'f16', 2);
const FULL16 = writeIndex(FULL16_INPUT);

describe('writeIndex layout', () => {
  it('writes the documented header', () => {
    const view = new DataView(VALID.buffer, VALID.byteOffset, VALID.byteLength);
    expect(String.fromCharCode(...VALID.subarray(0, 4))).toBe(INDEX_MAGIC);
    expect(view.getUint32(4, true)).toBe(INDEX_VERSION);
    expect(view.getUint32(8, true)).toBe(DIM);
    expect(view.getUint32(12, true)).toBe(COUNT);
    expect(view.getUint32(16, true)).toBe(2);
    expect(Array.from(VALID.subarray(20, 64)).every((b) => b === 0)).toBe(true);
    expect(entry(VALID, 0)).toEqual({ kind: SectionKind.Means, dtype: DType.F32, offset: 128, byteLength: 192, reserved: 0n });
    expect(entry(VALID, 1)).toEqual({ kind: SectionKind.Norms, dtype: DType.F32, offset: 320, byteLength: 12, reserved: 0n });
    expect(VALID.byteLength).toBe(384);
  });

  it('places every section at a multiple of 64, in order, without overlap, and pads the file to 64', () => {
    for (const bytes of [VALID, FULL, FULL16]) {
      expect(bytes.byteLength % SECTION_ALIGN).toBe(0);
      let prevEnd = HEADER_BYTES + sectionCount(bytes) * SECTION_ENTRY_BYTES;
      for (let i = 0; i < sectionCount(bytes); i++) {
        const e = entry(bytes, i);
        expect(e.offset % SECTION_ALIGN).toBe(0);
        expect(e.offset).toBeGreaterThanOrEqual(prevEnd);
        expect(e.offset - prevEnd).toBeLessThan(SECTION_ALIGN);
        expect(e.reserved).toBe(0n);
        prevEnd = e.offset + e.byteLength;
      }
      expect(bytes.byteLength - prevEnd).toBeLessThan(SECTION_ALIGN);
    }
  });

  it('writes every section of a full index with the documented kind, dtype and size', () => {
    const d = 5;
    const c = 4;
    const total = (FULL_INPUT.samples!.perModel.reduce((s, x) => s + x.length, 0)) / d;
    const expectTable = (bytes: Uint8Array, prec: number, samples: number) =>
      expect(Array.from({ length: sectionCount(bytes) }, (_, i) => entry(bytes, i)).map((e) => [e.kind, e.dtype, e.byteLength])).toEqual([
        [SectionKind.Means, DType.F32, c * d * 4],
        [SectionKind.Norms, DType.F32, c * 4],
        [SectionKind.Precision, prec, c * packedSize(d) * (prec === DType.F16 ? 2 : 4)],
        [SectionKind.PrecisionBias, DType.F32, c * d * 4],
        [SectionKind.LogDet, DType.F32, c * 4],
        [SectionKind.Epsilon, DType.F32, c * 4],
        [SectionKind.SampleOffsets, DType.U32, (c + 1) * 4],
        [SectionKind.Samples, samples, total * d * (samples === DType.F16 ? 2 : 4)],
        [SectionKind.Projection, DType.F32, d * d * 4],
        [SectionKind.ProjectedMeans, DType.F32, c * d * 4],
      ]);
    expectTable(FULL, DType.F32, DType.F32);
    const total16 = FULL16_INPUT.samples!.perModel.reduce((s, x) => s + x.length, 0) / d;
    expect(total16).toBe(total);
    expectTable(FULL16, DType.F16, DType.F16);
    // The raw builder used below reproduces the writer byte for byte.
    expect(rawIndex(d, c, sectionsOf(FULL))).toEqual(FULL);
    expect(rawIndex(DIM, COUNT, sectionsOf(VALID))).toEqual(VALID);
  });

  it('rejects means that are not count × dim values', () => {
    expect(() => writeIndex({ dim: DIM, means: MEANS.subarray(0, DIM * COUNT - 1) })).toThrow(/count × dim/);
    expect(() => writeIndex({ dim: DIM, means: new Float32Array(0) })).toThrow(/count × dim/);
  });
});

describe('readIndex round trip', () => {
  it('returns the header fields and bit-identical means', () => {
    // Awkward values: -0, subnormals, values that are not exactly representable in decimal, and the
    // longest means the reader allows (means of unit embeddings: |μ| ≤ 1 + 1e-3).
    const special = [-0, 0, 1.401298464324817e-45, -1.17549435e-38, Math.fround(0.1), Math.fround(-1 / 3), 0, 0];
    const means = new Float32Array(5 * 8);
    means.set(special, 0);
    means.set(makeMeans(2, 8), 8);
    means[24 + 2] = 1; // exactly unit length
    means[32 + 7] = -(1 + 9e-4); // just inside the tolerance
    const parsed = readIndex(writeIndex({ dim: 8, means }));
    expect(parsed.version).toBe(INDEX_VERSION);
    expect(parsed.dim).toBe(8);
    expect(parsed.count).toBe(5);
    expect(parsed.means).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(parsed.means.buffer, parsed.means.byteOffset, parsed.means.length)).toEqual(new Uint32Array(means.buffer));
    expect(Object.is(parsed.means[0], -0)).toBe(true);
    expect(parsed.norms[3]).toBe(1);
    expect(parsed.norms[4]).toBe(Math.fround(1 + 9e-4));
    expect(parsed.gaussian).toBeUndefined();
    expect(parsed.samples).toBeUndefined();
    expect(parsed.projection).toBeUndefined();
  });

  it('stores |μ| per model in the norms section', () => {
    const parsed = readIndex(VALID);
    for (let m = 0; m < COUNT; m++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += MEANS[m * DIM + j] ** 2;
      expect(parsed.norms[m]).toBe(Math.fround(Math.sqrt(s)));
    }
  });

  it('round-trips dim 1 / count 1 and a 512-dim index', () => {
    const one = readIndex(writeIndex({ dim: 1, means: Float32Array.from([0.5]) }));
    expect(Array.from(one.means)).toEqual([0.5]);
    expect(Array.from(one.norms)).toEqual([0.5]);
    const minusOne = readIndex(writeIndex({ dim: 1, means: Float32Array.from([-1]) }));
    expect(Array.from(minusOne.norms)).toEqual([1]);
    const big = makeMeans(40, 512);
    for (let m = 0; m < 40; m++) expect(rowNorm(big, 512, m)).toBeLessThan(1);
    const parsed = readIndex(writeIndex({ dim: 512, means: big }));
    expect(new Uint32Array(parsed.means.buffer, parsed.means.byteOffset, parsed.means.length)).toEqual(new Uint32Array(big.buffer));
  });

  it('round-trips every section: f32 precision and samples', () => {
    const input = FULL_INPUT;
    const g = input.gaussian!;
    const parsed = readIndex(FULL);
    const d = input.dim;
    expect(parsed.means).toEqual(input.means);
    expect(parsed.gaussian!.precision.dtype).toBe('f32');
    expect(parsed.gaussian!.precision.data).toEqual(Float32Array.from(g.precision));
    // b and the log-determinant are derived from the stored factor and means, rounded once to f32.
    const want = termsFromStored(d, input.means, Float32Array.from(g.precision));
    expect(parsed.gaussian!.bias).toEqual(Float32Array.from(want.bias));
    expect(parsed.gaussian!.logDet).toEqual(Float32Array.from(want.logDet));
    expect(parsed.gaussian!.epsilon).toEqual(g.epsilon);
    const counts = input.samples!.perModel.map((x) => x.length / d);
    expect(counts[1]).toBe(0);
    expect(Array.from(parsed.samples!.offsets)).toEqual(counts.reduce((o, n) => [...o, o[o.length - 1] + n], [0]));
    expect(parsed.samples!.data.dtype).toBe('f32');
    const all = new Float32Array(parsed.samples!.data.data.length);
    let at = 0;
    for (const x of input.samples!.perModel) all.set(x, (at += x.length) - x.length);
    expect(parsed.samples!.data.data).toEqual(all);
    expect(parsed.projection!.matrix).toEqual(input.projection);
    // Projected means are P μ / |P μ| (float64 reference).
    for (let m = 0; m < parsed.count; m++) {
      const pm = Array.from({ length: d }, (_, i) => {
        let v = 0;
        for (let j = 0; j < d; j++) v += input.projection![i * d + j] * input.means[m * d + j];
        return v;
      });
      const n = Math.hypot(...pm);
      for (let i = 0; i < d; i++) expect(parsed.projection!.projectedMeans[m * d + i]).toBeCloseTo(pm[i] / n, 6);
    }
  });

  it('round-trips every section: f16 precision and f16 samples keep the rounded bit patterns', () => {
    const input = FULL16_INPUT;
    const parsed = readIndex(FULL16);
    expect(parsed.gaussian!.precision.dtype).toBe('f16');
    expect(parsed.gaussian!.precision.data).toBeInstanceOf(Uint16Array);
    expect(parsed.gaussian!.precision.data).toEqual(toHalfArray(input.gaussian!.precision));
    const stored = Array.from(toHalfArray(input.gaussian!.precision), (h) => halfToFloatTable()[h]);
    const want = termsFromStored(input.dim, input.means, stored);
    expect(parsed.gaussian!.bias).toEqual(Float32Array.from(want.bias));
    expect(parsed.gaussian!.logDet).toEqual(Float32Array.from(want.logDet));
    expect(parsed.samples!.data.dtype).toBe('f16');
    const flat = input.samples!.perModel.flatMap((x) => Array.from(x));
    expect(parsed.samples!.data.data).toEqual(toHalfArray(flat));
    expect(parsed.projection!.matrix).toEqual(input.projection);
    // Mixed: f16 precision with f32 samples, no projection.
    const mixed = readIndex(writeIndex({ ...input, samples: { ...input.samples!, dtype: 'f32' }, projection: undefined }));
    expect(mixed.gaussian!.precision.dtype).toBe('f16');
    expect(mixed.samples!.data.dtype).toBe('f32');
    expect(mixed.projection).toBeUndefined();
  });

  it('works on a subarray at an odd byteOffset of a bigger buffer (copies where it cannot view)', () => {
    for (const at of [1, 2, 3, 5, 63]) {
      for (const src of [VALID, FULL16]) {
        const big = new Uint8Array(at + src.byteLength + 11).fill(0xee);
        big.set(src, at);
        const view = big.subarray(at, at + src.byteLength);
        expect(view.byteOffset).toBe(at);
        const parsed = readIndex(view);
        const ref = readIndex(src);
        expect(parsed.dim).toBe(ref.dim);
        expect(parsed.count).toBe(ref.count);
        expect(parsed).toEqual(ref);
        for (const a of [parsed.means, parsed.norms, parsed.gaussian?.precision.data, parsed.samples?.offsets]) {
          if (a) expect(a.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
        }
      }
    }
  });

  it('views the file bytes without copying when aligned (documented: arrays view the file)', () => {
    const bytes = FULL.slice();
    const parsed = readIndex(bytes);
    for (const a of [parsed.means, parsed.norms, parsed.gaussian!.bias, parsed.samples!.offsets, parsed.projection!.matrix]) {
      expect(a.buffer).toBe(bytes.buffer);
      expect(a.byteOffset % SECTION_ALIGN).toBe(0);
    }
    // A misaligned copy is independent of the input bytes.
    const big = new Uint8Array(VALID.byteLength + 1);
    big.set(VALID, 1);
    const copy = readIndex(big.subarray(1));
    big.fill(0);
    expect(copy.means).toEqual(MEANS);
  });

  it('skips unknown section kinds before, between and after the known ones', () => {
    const known = sectionsOf(FULL);
    const bytes = rawIndex(5, 4, [
      { kind: 0, dtype: 99, data: new Uint8Array(3).fill(0xff) },
      { kind: 1000, dtype: DType.F16, data: new Uint8Array(130).fill(0x7f) },
      ...known.slice(0, 4),
      { kind: 14, dtype: DType.F32, data: bytesOf(Float32Array.of(NaN)) },
      ...known.slice(4),
      { kind: 0xffffffff, dtype: 0, data: new Uint8Array([1, 2, 3]) },
    ]);
    expect(readIndex(bytes)).toEqual(readIndex(FULL));
  });

  it('accepts the sections in any order', () => {
    const shuffled = sectionsOf(FULL).reverse();
    expect(readIndex(rawIndex(5, 4, shuffled))).toEqual(readIndex(FULL));
  });

  it('treats trailing alignment padding as optional', () => {
    // 5 × 3 × 4 = 60 bytes of means at 128, norms (20 bytes) at 192: the writer pads to 256, the reader needs 212.
    const means = makeMeans(5, 3);
    const bytes = writeIndex({ dim: 3, means });
    expect(bytes.byteLength).toBe(256);
    expect(readIndex(bytes.subarray(0, 212)).means).toEqual(means);
    expectIndexError(() => readIndex(bytes.subarray(0, 211)), /section 1 runs past the end/);
  });
});

describe('readIndex rejects malformed files with AppError("index-format")', () => {
  it('rejects a file shorter than the header', () => {
    expectIndexError(() => readIndex(new Uint8Array(0)), /only 0 bytes/);
    expectIndexError(() => readIndex(VALID.subarray(0, 63)), /only 63 bytes/);
  });

  it('rejects a wrong magic number', () => {
    const bad = patch(VALID, (v) => v.setUint8(3, 'Y'.charCodeAt(0)));
    expectIndexError(() => readIndex(bad), /wrong magic number/);
    const png = VALID.slice();
    png.set([0x89, 0x50, 0x4e, 0x47], 0);
    expectIndexError(() => readIndex(png), /not a model-search index/);
  });

  it.each([0, 2, 0xffffffff])('rejects format version %i', (version) => {
    const bad = patch(VALID, (v) => v.setUint32(4, version, true));
    expectIndexError(() => readIndex(bad), new RegExp(`format version ${version} is not supported \\(expected 1\\)`));
  });

  it('rejects dim 0 and dim above 4096', () => {
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(8, 0, true))), /embedding dimension 0 is out of range/);
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(8, 4097, true))), /dimension 4097/);
  });

  it('rejects count 0 and an absurd count', () => {
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(12, 0, true))), /model count 0 is out of range/);
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(12, 0xffffffff, true))), /model count 4294967295/);
  });

  it('rejects too many sections and a truncated section table', () => {
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(16, 65, true))), /65 sections is too many/);
    // Two entries need 64 + 64 = 128 bytes.
    expectIndexError(() => readIndex(VALID.subarray(0, 127)), /section table is truncated/);
    // 11 entries need 64 + 352 = 416 bytes; the file has 384.
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(16, 11, true))), /section table is truncated/);
  });

  it('rejects a section that runs past the end of the file', () => {
    // The norms (section 1) end at 332 of 384 bytes.
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + SECTION_ENTRY_BYTES + 16, 65n, true))), /section 1 runs past the end of the file/);
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 16, 257n, true))), /section 0 runs past the end of the file/);
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 8, 1024n, true))), /section 0 runs past the end/);
    // Offsets and lengths near 2^64 must not wrap around.
    expectIndexError(
      () => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 8, 0xffffffffffffffc0n, true))),
      /section 0 runs past the end/,
    );
    expectIndexError(
      () => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 16, 0xffffffffffffffffn, true))),
      /section 0 runs past the end/,
    );
  });

  it('bounds-checks unknown sections too', () => {
    const bytes = rawIndex(DIM, COUNT, [...sectionsOf(VALID), { kind: 99, dtype: DType.F32, data: new Uint8Array(4) }]);
    expect(readIndex(bytes).means).toEqual(MEANS);
    const bad = patch(bytes, (v) => v.setBigUint64(HEADER_BYTES + 2 * SECTION_ENTRY_BYTES + 16, 1n << 20n, true));
    expectIndexError(() => readIndex(bad), /section 2 runs past the end/);
  });

  // A corrupted offset must not alias the header or another section: one flipped bit in the norms
  // entry's offset (512 → 0) used to make the reader take "MSIX", the version, dim and count as the
  // norms (subnormal norms → 1st-moment scores of ±Infinity).
  it('rejects a non-empty section that starts inside the header or the section table', () => {
    const tableEnd = align(HEADER_BYTES + sectionCount(FULL) * SECTION_ENTRY_BYTES);
    expect(tableEnd).toBe(384);
    const e = entryOf(FULL, SectionKind.Norms);
    for (const at of [0n, 64n, BigInt(tableEnd - SECTION_ALIGN)]) {
      const bad = patch(FULL, (v) => v.setBigUint64(HEADER_BYTES + e.index * SECTION_ENTRY_BYTES + 8, at, true));
      expectIndexError(() => readIndex(bad), new RegExp(`section ${e.index} starts inside the header or section table`));
    }
    // Unknown sections are held to the same rule.
    const withUnknown = rawIndex(DIM, COUNT, [...sectionsOf(VALID), { kind: 99, dtype: DType.F32, data: new Uint8Array(4) }]);
    const unknownAt0 = patch(withUnknown, (v) => v.setBigUint64(HEADER_BYTES + 2 * SECTION_ENTRY_BYTES + 8, 0n, true));
    expectIndexError(() => readIndex(unknownAt0), /section 2 starts inside the header or section table/);
  });

  it('accepts a section that starts right after the section table, and an empty section anywhere', () => {
    // The first section of every written file starts exactly at the aligned end of the table.
    expect(entry(FULL, 0).offset).toBe(align(HEADER_BYTES + sectionCount(FULL) * SECTION_ENTRY_BYTES));
    expect(entry(VALID, 0).offset).toBe(align(HEADER_BYTES + 2 * SECTION_ENTRY_BYTES));
    expect(readIndex(VALID).means).toEqual(MEANS);
    // An empty (unknown) section may point at offset 0: it reads no bytes.
    const withEmpty = rawIndex(DIM, COUNT, [...sectionsOf(VALID), { kind: 99, dtype: DType.F32, data: new Uint8Array(0) }]);
    const emptyAt0 = patch(withEmpty, (v) => v.setBigUint64(HEADER_BYTES + 2 * SECTION_ENTRY_BYTES + 8, 0n, true));
    expect(entry(emptyAt0, 2)).toMatchObject({ offset: 0, byteLength: 0 });
    expect(readIndex(emptyAt0).means).toEqual(MEANS);
  });

  it('rejects two known sections that overlap', () => {
    const means = entryOf(FULL, SectionKind.Means);
    const bias = entryOf(FULL, SectionKind.PrecisionBias);
    const norms = entryOf(FULL, SectionKind.Norms);
    // Same size as the means (count × dim float32): point the bias at the means' bytes.
    expect(bias.byteLength).toBe(means.byteLength);
    const aliased = patch(FULL, (v) => v.setBigUint64(HEADER_BYTES + bias.index * SECTION_ENTRY_BYTES + 8, BigInt(means.offset), true));
    expectIndexError(() => readIndex(aliased), /sections Means and PrecisionBias overlap/);
    // A partial overlap: the norms start 64 bytes into the 80-byte means.
    expect(means.byteLength).toBeGreaterThan(SECTION_ALIGN);
    const partial = patch(FULL, (v) => v.setBigUint64(HEADER_BYTES + norms.index * SECTION_ENTRY_BYTES + 8, BigInt(means.offset + SECTION_ALIGN), true));
    expectIndexError(() => readIndex(partial), /sections Means and Norms overlap/);
  });

  it('accepts adjacent sections, and unknown sections that alias known data', () => {
    // VALID's 192-byte means end exactly where the norms start.
    const [means, norms] = [entry(VALID, 0), entry(VALID, 1)];
    expect(means.offset + means.byteLength).toBe(norms.offset);
    expect(readIndex(VALID).norms).toHaveLength(COUNT);
    // Unknown sections are skipped, so they may overlap anything past the table.
    const withUnknown = rawIndex(DIM, COUNT, [...sectionsOf(VALID), { kind: 99, dtype: DType.F32, data: new Uint8Array(192) }]);
    const aliased = patch(withUnknown, (v) => v.setBigUint64(HEADER_BYTES + 2 * SECTION_ENTRY_BYTES + 8, BigInt(entry(withUnknown, 0).offset), true));
    expect(readIndex(aliased).means).toEqual(MEANS);
  });

  it.each([1, 4, 32, 100, 127])('rejects a section offset of %i (not 64-byte aligned)', (offset) => {
    const bad = patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 8, BigInt(offset), true));
    expectIndexError(() => readIndex(bad), /section 0 is not 64-byte aligned/);
  });

  it('rejects a means section of the wrong size', () => {
    for (const len of [0, 4, 188]) {
      const bytes = patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 16, BigInt(len), true));
      expectIndexError(() => readIndex(bytes), new RegExp(`Means section has ${len} bytes, expected 192`));
    }
    // Growing the means in place runs into the norms that follow them: an overlap.
    for (const len of [196, 256]) {
      const bytes = patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 16, BigInt(len), true));
      expectIndexError(() => readIndex(bytes), /sections Means and Norms overlap/);
    }
    // With the means last, a longer section is a size error.
    const [means, norms] = sectionsOf(VALID);
    for (const extra of [4, 64]) {
      const bytes = rawIndex(DIM, COUNT, [norms, { ...means, data: concat(means.data, new Uint8Array(extra)) }]);
      expectIndexError(() => readIndex(bytes), new RegExp(`Means section has ${192 + extra} bytes, expected 192`));
    }
    // Also when the header's count disagrees with the data.
    const fewer = patch(VALID, (v) => v.setUint32(12, COUNT - 1, true));
    expectIndexError(() => readIndex(fewer), /Means section has 192 bytes, expected 128/);
  });

  it.each([
    ['F16', DType.F16],
    ['U32', DType.U32],
    ['unknown dtype 0', 0],
    ['unknown dtype 7', 7],
  ])('rejects a means section of dtype %s', (_label, dtype) => {
    const bad = patch(VALID, (v) => v.setUint32(HEADER_BYTES + 4, dtype, true));
    expectIndexError(() => readIndex(bad), new RegExp(`the Means section has an unsupported data type ${dtype}`));
  });

  it('rejects a file without a means or norms section', () => {
    const [means, norms] = sectionsOf(VALID);
    expectIndexError(() => readIndex(rawIndex(DIM, COUNT, [])), /the Means section is missing/);
    expectIndexError(() => readIndex(rawIndex(DIM, COUNT, [norms])), /the Means section is missing/);
    // Means data under another (unknown) kind is not the means.
    expectIndexError(() => readIndex(rawIndex(DIM, COUNT, [{ ...means, kind: 99 }, norms])), /the Means section is missing/);
    expectIndexError(() => readIndex(rawIndex(DIM, COUNT, [means])), /the Norms section is missing/);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('rejects %s in the means and names the position', (_label, value) => {
    for (const flat of [0, DIM + 5, DIM * COUNT - 1]) {
      const means = MEANS.slice();
      means[flat] = value;
      expectIndexError(() => readIndex(writeIndex({ dim: DIM, means })), nonFinite('Means', flat));
    }
  });

  it('rejects a NaN with a non-canonical bit pattern', () => {
    const bad = VALID.slice();
    new DataView(bad.buffer).setUint32(128 + 4 * 7, 0x7f800001, true); // signalling NaN
    expectIndexError(() => readIndex(bad), nonFinite('Means', 7));
    const negNaN = VALID.slice();
    new DataView(negNaN.buffer).setUint32(128 + 4 * 9, 0xffc00000, true);
    expectIndexError(() => readIndex(negNaN), nonFinite('Means', 9));
  });

  it('rejects every truncation of a valid file, from 0 bytes to one short of full', () => {
    expect(VALID.byteLength).toBe(384);
    const seen = new Set<string>();
    for (let len = 0; len < 332; len++) {
      const err = expectIndexError(() => readIndex(VALID.subarray(0, len)), /./);
      seen.add(err.message.replace(/\d+/g, 'N'));
      // And the same truncation as a fresh, exactly sized buffer.
      expectIndexError(() => readIndex(VALID.slice(0, len)), /./);
    }
    // From 332 bytes on, only alignment padding is missing.
    for (let len = 332; len <= VALID.byteLength; len++) expect(readIndex(VALID.subarray(0, len)).means).toEqual(MEANS);
    // Short files hit the header check, longer ones the section bounds check.
    expect([...seen].sort()).toEqual([
      'The index file is invalid: it has only N bytes.',
      'The index file is invalid: section N runs past the end of the file.',
      'The index file is invalid: the section table is truncated.',
    ]);
  });

  it('rejects every truncation of a full index (all sections)', () => {
    for (const bytes of [FULL, FULL16]) {
      let end = 0;
      for (let i = 0; i < sectionCount(bytes); i++) end = Math.max(end, entry(bytes, i).offset + entry(bytes, i).byteLength);
      for (let len = 0; len < end; len++) expectIndexError(() => readIndex(bytes.subarray(0, len)), /./);
      expect(readIndex(bytes.subarray(0, end))).toEqual(readIndex(bytes));
    }
  });
});

describe('readIndex validates the Gaussian, sample and projection sections', () => {
  const d = 5;
  const c = 4;
  const P = packedSize(d);
  const sizes: [number, string, number, number][] = [
    // kind, name, elements, bytes per element in FULL
    [SectionKind.Norms, 'Norms', c, 4],
    [SectionKind.Precision, 'Precision', c * P, 4],
    [SectionKind.PrecisionBias, 'PrecisionBias', c * d, 4],
    [SectionKind.LogDet, 'LogDet', c, 4],
    [SectionKind.Epsilon, 'Epsilon', c, 4],
    [SectionKind.SampleOffsets, 'SampleOffsets', c + 1, 4],
    [SectionKind.Samples, 'Samples', readIndex(FULL).samples!.offsets[c] * d, 4],
    [SectionKind.Projection, 'Projection', d * d, 4],
    [SectionKind.ProjectedMeans, 'ProjectedMeans', c * d, 4],
  ];

  it.each(sizes)('rejects a %i (%s) section of the wrong size', (kind, name, elements, width) => {
    for (const src of [FULL, FULL16]) {
      const w = (kind === SectionKind.Precision || kind === SectionKind.Samples) && src === FULL16 ? 2 : width;
      const expected = elements * w;
      for (const delta of [-w, w, -1, 1, -expected]) {
        const sections = sectionsOf(src).map((s) => {
          if (s.kind !== kind) return s;
          const data = delta < 0 ? s.data.slice(0, s.data.byteLength + delta) : concat(s.data, new Uint8Array(delta));
          return { ...s, data };
        });
        expectIndexError(() => readIndex(rawIndex(d, c, sections)), new RegExp(`the ${name} section has ${expected + delta} bytes, expected ${expected}\\.`));
      }
    }
  });

  it('the writer refuses a factor or ε of the wrong length; a wrong-size projection is the reader\'s error', () => {
    const g = FULL_INPUT.gaussian!;
    expect(() => writeIndex({ ...FULL_INPUT, gaussian: { ...g, precision: g.precision.subarray(0, 3 * P) } })).toThrow(
      /gaussian\.precision must hold count × dim\(dim\+1\)\/2 = 60 values, got 45/,
    );
    expect(() => writeIndex({ ...FULL_INPUT, gaussian: { ...g, epsilon: new Float32Array(c + 1) } })).toThrow(/gaussian\.epsilon must hold count = 4 values, got 5/);
    expectIndexError(() => readIndex(writeIndex({ ...FULL_INPUT, projection: new Float32Array(d * d - 1) })), /Projection section has 96 bytes, expected 100/);
  });

  it.each([
    SectionKind.Means,
    SectionKind.Norms,
    SectionKind.Precision,
    SectionKind.PrecisionBias,
    SectionKind.LogDet,
    SectionKind.Epsilon,
    SectionKind.SampleOffsets,
    SectionKind.Samples,
    SectionKind.Projection,
    SectionKind.ProjectedMeans,
  ])('rejects a duplicated section of kind %i', (kind) => {
    const sections = sectionsOf(FULL);
    const dup = sections.find((s) => s.kind === kind)!;
    const name = Object.entries(SectionKind).find(([, v]) => v === kind)![0];
    // Even when both copies are identical, and wherever the duplicate sits.
    expectIndexError(() => readIndex(rawIndex(d, c, [...sections, dup])), new RegExp(`section ${name} appears twice`));
    expectIndexError(() => readIndex(rawIndex(d, c, [dup, ...sections])), new RegExp(`section ${name} appears twice`));
  });

  it('rejects a duplicated unknown section kind too', () => {
    const extra = { kind: 1000, dtype: DType.F32, data: new Uint8Array(8) };
    expectIndexError(() => readIndex(rawIndex(d, c, [...sectionsOf(FULL), extra, extra])), /section 1000 appears twice/);
  });

  it.each([
    [SectionKind.Precision, 'PrecisionBias', SectionKind.PrecisionBias],
    [SectionKind.Precision, 'LogDet', SectionKind.LogDet],
    [SectionKind.Precision, 'Epsilon', SectionKind.Epsilon],
    [SectionKind.SampleOffsets, 'Samples', SectionKind.Samples],
    [SectionKind.Projection, 'ProjectedMeans', SectionKind.ProjectedMeans],
  ])('a section of kind %i without its %s section is an error', (_present, name, missing) => {
    const sections = sectionsOf(FULL).filter((s) => s.kind !== missing);
    expectIndexError(() => readIndex(rawIndex(d, c, sections)), new RegExp(`the ${name} section is missing`));
  });

  it('optional groups are optional', () => {
    const without = (...kinds: number[]) => rawIndex(d, c, sectionsOf(FULL).filter((s) => !kinds.includes(s.kind)));
    const noGauss = readIndex(without(SectionKind.Precision, SectionKind.PrecisionBias, SectionKind.LogDet, SectionKind.Epsilon));
    expect(noGauss.gaussian).toBeUndefined();
    expect(noGauss.samples).toBeDefined();
    const noSamples = readIndex(without(SectionKind.SampleOffsets, SectionKind.Samples));
    expect(noSamples.samples).toBeUndefined();
    expect(noSamples.gaussian).toBeDefined();
    const noProjection = readIndex(without(SectionKind.Projection, SectionKind.ProjectedMeans));
    expect(noProjection.projection).toBeUndefined();
  });

  it.each([
    [SectionKind.Norms, [DType.F16, DType.U32]],
    [SectionKind.Precision, [DType.U32, 0, 4]],
    [SectionKind.PrecisionBias, [DType.F16, DType.U32]],
    [SectionKind.LogDet, [DType.F16]],
    [SectionKind.Epsilon, [DType.F16]],
    [SectionKind.SampleOffsets, [DType.F32, DType.F16]],
    [SectionKind.Samples, [DType.U32, 9]],
    [SectionKind.Projection, [DType.F16]],
    [SectionKind.ProjectedMeans, [DType.F16]],
  ])('rejects section kind %i with unsupported data types %j', (kind, dtypes) => {
    const e = entryOf(FULL, kind);
    for (const dtype of dtypes) {
      const bad = patch(FULL, (v) => v.setUint32(HEADER_BYTES + e.index * SECTION_ENTRY_BYTES + 4, dtype, true));
      expectIndexError(() => readIndex(bad), new RegExp(`section has an unsupported data type ${dtype}`));
    }
  });

  describe('sample offsets', () => {
    const e = entryOf(FULL, SectionKind.SampleOffsets);
    const setOffset = (i: number, value: number) => patch(FULL, (v) => v.setUint32(e.offset + 4 * i, value, true));
    const offsets = Array.from(readIndex(FULL).samples!.offsets);

    it('must start at 0', () => {
      expect(offsets[0]).toBe(0);
      expectIndexError(() => readIndex(setOffset(0, 1)), /sample offsets must start at 0/);
      expectIndexError(() => readIndex(setOffset(0, 0xffffffff)), /sample offsets must start at 0/);
    });

    it('must not decrease', () => {
      expectIndexError(() => readIndex(setOffset(1, offsets[2] + 1)), /sample offsets must not decrease/);
      expectIndexError(() => readIndex(setOffset(c - 1, 0)), /must not decrease/);
      expectIndexError(() => readIndex(setOffset(c, offsets[c - 1] - 1)), /must not decrease/);
      // Equal neighbours (a model without kept samples) are fine.
      expect(offsets[1]).toBe(offsets[2]);
    });

    it('must agree with the size of the samples section', () => {
      expectIndexError(() => readIndex(setOffset(c, offsets[c] + 1)), /the Samples section has \d+ bytes, expected \d+/);
      expectIndexError(() => readIndex(setOffset(c, offsets[c] - 1)), /the Samples section has \d+ bytes, expected \d+/);
    });

    it('rejects an absurd total', () => {
      expectIndexError(() => readIndex(setOffset(c, 0xffffffff)), /too many samples/);
    });
  });

  /** The value a reader sees at element `at` of a float section (fp16 decoded). */
  const getFloat = (bytes: Uint8Array, kind: number, at: number): number => {
    const e = entryOf(bytes, kind);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return e.dtype === DType.F16 ? halfToFloatTable()[v.getUint16(e.offset + 2 * at, true)] : v.getFloat32(e.offset + 4 * at, true);
  };
  /** A copy with element `at` of a float section set to `value` (rounded to fp16 where the section is fp16). */
  const setFloat = (bytes: Uint8Array, kind: number, at: number, value: number): Uint8Array => {
    const e = entryOf(bytes, kind);
    return patch(bytes, (v) =>
      e.dtype === DType.F16 ? v.setUint16(e.offset + 2 * at, toHalfBits(value), true) : v.setFloat32(e.offset + 4 * at, value, true),
    );
  };
  const diagPos = (m: number, i: number) => m * P + packedRowOffset(i) + i;
  /** −2 Σ log W_ii of model m, from the stored factor. */
  const factorLogDet = (bytes: Uint8Array, m: number) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += Math.log(getFloat(bytes, SectionKind.Precision, diagPos(m, i)));
    return -2 * s;
  };
  /** The reader's log-determinant tolerance. */
  const logDetTol = (logDet: number) => 1e-3 * d + 1e-5 * Math.abs(logDet);
  /** b = W μ of model m (float64) from the stored factor and means. */
  const factorBias = (bytes: Uint8Array, m: number) =>
    Array.from({ length: d }, (_, i) => {
      let s = 0;
      for (let j = 0; j <= i; j++) s += getFloat(bytes, SectionKind.Precision, m * P + packedRowOffset(i) + j) * getFloat(bytes, SectionKind.Means, m * d + j);
      return s;
    });
  /** A copy with model m's stored b and/or log-determinant made consistent with its (edited) factor again. */
  const refreshTerms = (bytes: Uint8Array, m: number, which: { bias?: boolean; logDet?: boolean } = { bias: true, logDet: true }) => {
    let out = bytes;
    if (which.bias) factorBias(bytes, m).forEach((b, i) => (out = setFloat(out, SectionKind.PrecisionBias, m * d + i, b)));
    if (which.logDet) out = setFloat(out, SectionKind.LogDet, m, factorLogDet(out, m));
    return out;
  };
  /** A copy with W_ii of model m set to `value` and, if asked, b and the log-determinant made consistent again. */
  const withDiagonal = (bytes: Uint8Array, m: number, i: number, value: number, fixTerms: boolean) => {
    const out = setFloat(bytes, SectionKind.Precision, diagPos(m, i), value);
    return fixTerms ? refreshTerms(out, m) : out;
  };
  const bound = (bytes: Uint8Array, m: number) => 1.01 / Math.sqrt(getFloat(bytes, SectionKind.Epsilon, m));

  describe('precision factor plausibility (unit-vector statistics)', () => {
    it('the valid indexes satisfy every bound the reader checks', () => {
      for (const bytes of [FULL, FULL16]) {
        for (let m = 0; m < c; m++) {
          const eps = getFloat(bytes, SectionKind.Epsilon, m);
          expect(eps).toBe(Math.fround(1e-3));
          for (let k = 0; k < P; k++) expect(Math.abs(getFloat(bytes, SectionKind.Precision, m * P + k))).toBeLessThanOrEqual(bound(bytes, m));
          for (let i = 0; i < d; i++) expect(getFloat(bytes, SectionKind.Precision, diagPos(m, i))).toBeGreaterThanOrEqual(0.5);
          // The writer derives both from the stored factor: equal to float32 rounding.
          const ld = getFloat(bytes, SectionKind.LogDet, m);
          expect(ld).toBe(Math.fround(factorLogDet(bytes, m)));
          factorBias(bytes, m).forEach((b, i) => expect(getFloat(bytes, SectionKind.PrecisionBias, m * d + i)).toBe(Math.fround(b)));
        }
      }
    });

    // W_ii = 1/L_ii ≥ 1/√(Σ_ii + ε) > 0.5 for unit embeddings: a smaller diagonal is corruption.
    it.each([
      ['0', 0],
      ['-0', -0],
      ['-1', -1],
      ['-1e-30', -1e-30],
      ['1e-45 (tiny positive)', 1e-45],
      ['0.4999', 0.4999],
    ])('rejects a float32 diagonal of %s as implausible', (_label, value) => {
      for (const [m, i] of [
        [0, 0],
        [2, 3],
        [c - 1, d - 1],
      ]) {
        // Even with the log-determinant made to match (where it is finite).
        for (const fix of value > 0 ? [false, true] : [false]) {
          expectIndexError(() => readIndex(withDiagonal(FULL, m, i, value, fix)), new RegExp(`model #${m} has an implausible precision diagonal`));
        }
      }
    });

    it.each([
      ['+0', 0x0000],
      ['-0', 0x8000],
      ['-1', 0xbc00],
      ['negative subnormal', 0x8001],
      ['smallest subnormal', 0x0001],
      ['largest value below 0.5', 0x37ff],
    ])('rejects an fp16 diagonal of %s as implausible', (_label, bits) => {
      const e = entryOf(FULL16, SectionKind.Precision);
      for (const [m, i] of [
        [0, 0],
        [1, 2],
        [c - 1, d - 1],
      ]) {
        const bad = patch(FULL16, (v) => v.setUint16(e.offset + 2 * diagPos(m, i), bits, true));
        expectIndexError(() => readIndex(bad), new RegExp(`model #${m} has an implausible precision diagonal \\(Precision section: ${escapeRe(String(halfToFloatTable()[bits]))}\\)`));
      }
    });

    it('accepts a diagonal of exactly 0.5 with a matching b and log-determinant, and negative off-diagonals', () => {
      // A factor near the identity, so that only the edited entries matter (an honest factor with
      // its first diagonal halved would break the inverse-scale check below).
      const d = 5;
      const means = Float32Array.of(0.6, 0, 0, 0, 0, 0, 0.6, 0, 0, 0);
      for (const dtype of ['f32', 'f16'] as const) {
        const w = new Float32Array(2 * packedSize(d));
        for (let m = 0; m < 2; m++) for (let i = 0; i < d; i++) w[m * packedSize(d) + packedRowOffset(i) + i] = 1;
        w[0] = 0.5; // W_00 of model 0
        w[packedSize(d) + packedRowOffset(1)] = -1; // W_10 of model 1: off-diagonals may have either sign
        const parsed = readIndex(writeIndex({ dim: d, means, gaussian: { precision: w, epsilon: Float32Array.of(1e-3, 1e-3), dtype } })).gaussian!;
        expect(parsed.precision.data[0]).toBe(dtype === 'f16' ? 0x3800 : 0.5);
        expect(parsed.precision.data[packedSize(d) + packedRowOffset(1)]).toBe(dtype === 'f16' ? 0xbc00 : -1);
      }
    });

    it('rejects a factor within every entry bound whose inverse is out of scale (the probe: ε = 1e-12, off-diagonals 6e4)', () => {
      // W_ii = 1, W_ij = 6e4 below the diagonal: |W_ij| < 1/√ε = 1e6, b and log-det consistent
      // (the writer derives them), yet Wᵀy = q blows up to ∞ and 1st+2nd moment became NaN.
      const d = 16;
      const means = new Float32Array(2 * d);
      means[0] = 0.5;
      means[d + 1] = 0.5;
      const P = packedSize(d);
      const w = new Float32Array(2 * P);
      for (let m = 0; m < 2; m++) for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) w[m * P + packedRowOffset(i) + j] = i === j ? 1 : m === 1 ? 6e4 : 0;
      const bytes = writeIndex({ dim: d, means, gaussian: { precision: w, epsilon: Float32Array.of(1e-12, 1e-12), dtype: 'f32' } });
      expectIndexError(() => readIndex(bytes), /model #1 has a precision factor \(Precision section\) out of scale for its ε = 1\.00e-12/);
    });

    // ‖W‖₂ ≤ 1/√ε bounds every entry (with 1 % slack).
    it('rejects a precision entry with |W_ij| > 1.01/√ε, off or on the diagonal, of either sign', () => {
      for (const bytes of [FULL, FULL16]) {
        for (const m of [0, c - 1]) {
          const b = bound(bytes, m);
          expect(b).toBeCloseTo(31.939, 3);
          for (const k of [m * P + packedRowOffset(3) + 1, diagPos(m, 2)]) {
            for (const value of [b * 1.01, -b * 1.01]) {
              expectIndexError(() => readIndex(setFloat(bytes, SectionKind.Precision, k, value)), new RegExp(`model #${m} has a precision value \\(Precision section\\) beyond`));
            }
          }
        }
      }
      // The old "non-positive diagonal" case −65504 (largest fp16 magnitude) is now out of range first.
      const e = entryOf(FULL16, SectionKind.Precision);
      const huge = patch(FULL16, (v) => v.setUint16(e.offset + 2 * diagPos(1, 1), 0xfbff, true));
      expectIndexError(() => readIndex(huge), /model #1 has a precision value \(Precision section\) beyond/);
    });

    it('accepts off-diagonal entries just inside 1.01/√ε', () => {
      for (const bytes of [FULL, FULL16]) {
        const m = 2;
        const k = m * P + packedRowOffset(4) + 1;
        for (const value of [bound(bytes, m) * 0.999, -bound(bytes, m) * 0.999]) {
          const ok = refreshTerms(setFloat(bytes, SectionKind.Precision, k, value), m);
          const stored = getFloat(ok, SectionKind.Precision, k);
          expect(Math.abs(stored)).toBeGreaterThan(bound(bytes, m) * 0.99);
          expect(Math.abs(stored)).toBeLessThanOrEqual(bound(bytes, m));
          expect(getFloat(bytes, SectionKind.Precision, k)).not.toBe(stored);
          expect(readIndex(ok).gaussian).toBeDefined();
        }
      }
    });

    it('rejects a log-determinant \\(LogDet section\\) that does not match −2 Σ log W_ii', () => {
      for (const bytes of [FULL, FULL16]) {
        for (const m of [0, 2]) {
          const ref = factorLogDet(bytes, m);
          for (const value of [ref + 2 * logDetTol(ref), ref - 2 * logDetTol(ref), -ref, 0]) {
            expectIndexError(() => readIndex(setFloat(bytes, SectionKind.LogDet, m, value)), new RegExp(`model #${m} has a log-determinant \\(LogDet section\\) that does not match its factor`));
          }
          // A changed diagonal (still plausible) with the old log-determinant is caught the same way.
          const w = getFloat(bytes, SectionKind.Precision, diagPos(m, 1));
          const changed = withDiagonal(bytes, m, 1, w * 2, false);
          expectIndexError(() => readIndex(refreshTerms(changed, m, { bias: true })), new RegExp(`model #${m} has a log-determinant \\(LogDet section\\) that does not match`));
          expect(readIndex(withDiagonal(bytes, m, 1, w * 2, true)).gaussian).toBeDefined();
        }
      }
      // The largest finite float32 as a log-determinant is finite but impossible.
      const e = entryOf(FULL, SectionKind.LogDet);
      expectIndexError(() => readIndex(patch(FULL, (v) => v.setUint32(e.offset, 0xff7fffff, true))), /model #0 has a log-determinant \(LogDet section\) that does not match/);
    });

    it('accepts a log-determinant within 1e-3·dim + 1e-5·|logDet| of −2 Σ log W_ii', () => {
      for (const bytes of [FULL, FULL16]) {
        const ref = factorLogDet(bytes, 1);
        for (const value of [ref + 0.5 * logDetTol(ref), ref - 0.5 * logDetTol(ref)]) {
          expect(readIndex(setFloat(bytes, SectionKind.LogDet, 1, value)).gaussian!.logDet[1]).toBe(Math.fround(value));
        }
      }
    });

    it('rejects a precision bias that does not follow from the stored factor and mean (b = Wμ)', () => {
      for (const bytes of [FULL, FULL16]) {
        for (const [m, i] of [
          [0, 0],
          [2, 3],
          [c - 1, d - 1],
        ]) {
          const b = getFloat(bytes, SectionKind.PrecisionBias, m * d + i);
          // Σ_j |W_ij μ_j|: the scale of the tolerance (1e-3 of it, plus float32 slack).
          let scale = 0;
          for (let j = 0; j <= i; j++) {
            scale += Math.abs(getFloat(bytes, SectionKind.Precision, m * P + packedRowOffset(i) + j) * getFloat(bytes, SectionKind.Means, m * d + j));
          }
          for (const value of [b + 3e-3 * scale + 1e-4, b - 3e-3 * scale - 1e-4, -3.4028234663852886e38, 3e38]) {
            expectIndexError(() => readIndex(setFloat(bytes, SectionKind.PrecisionBias, m * d + i, value)), new RegExp(`model #${m} has a precision bias \\(PrecisionBias section, b = Wμ\\) that does not match`));
          }
          for (const value of [b + 0.5e-3 * scale, b - 0.5e-3 * scale]) {
            expect(readIndex(setFloat(bytes, SectionKind.PrecisionBias, m * d + i, value)).gaussian!.bias[m * d + i]).toBe(Math.fround(value));
          }
          // A changed mean (shrunk towards 0, so still shorter than 1) with the old b is caught too.
          const mu = getFloat(bytes, SectionKind.Means, m * d + i);
          let moved = setFloat(bytes, SectionKind.Means, m * d + i, mu * 0.9);
          let n = 0;
          for (let j = 0; j < d; j++) n += getFloat(moved, SectionKind.Means, m * d + j) ** 2;
          moved = setFloat(moved, SectionKind.Norms, m, Math.sqrt(n));
          expectIndexError(() => readIndex(moved), new RegExp(`model #${m} has a precision bias`));
          expect(readIndex(refreshTerms(moved, m, { bias: true })).gaussian).toBeDefined();
        }
      }
    });

    it('still reads files whose b and log-determinant came from the factor before fp16 rounding (the earlier writer)', () => {
      // Same statistics as FULL16, but b = Wμ and log|Σ'| from the float64 factor, as written before
      // the writer derived them from the stored bytes: valid version-1 files, so they must still load.
      const input = FULL16_INPUT;
      const g = input.gaussian!;
      const old = termsFromStored(d, input.means, g.precision);
      const sections = sectionsOf(FULL16).map((s) =>
        s.kind === SectionKind.PrecisionBias
          ? { ...s, data: bytesOf(Float32Array.from(old.bias)) }
          : s.kind === SectionKind.LogDet
            ? { ...s, data: bytesOf(Float32Array.from(old.logDet)) }
            : s,
      );
      const bytes = rawIndex(d, c, sections);
      expect(getFloat(bytes, SectionKind.PrecisionBias, 0)).not.toBe(getFloat(FULL16, SectionKind.PrecisionBias, 0));
      const parsed = readIndex(bytes);
      expect(parsed.gaussian!.bias).toEqual(Float32Array.from(old.bias));
      expect(parsed.gaussian!.logDet).toEqual(Float32Array.from(old.logDet));
    });

    it('b and the log-determinant always come from the stored factor', () => {
      const stored = readIndex(FULL16).gaussian!;
      expect(gaussianTerms(d, FULL16_INPUT.means, stored.precision)).toEqual({ bias: stored.bias, logDet: stored.logDet });
    });

    it.each([
      ['0', 0],
      ['-0', -0],
      ['-1e-3', -1e-3],
      ['1e6', 1e6],
      ['3e38', 3e38],
    ])('rejects ε = %s (ε must be in (0, 1e6))', (_label, value) => {
      for (const m of [0, c - 1]) {
        for (const bytes of [FULL, FULL16]) {
          const bad = setFloat(bytes, SectionKind.Epsilon, m, value);
          expectIndexError(() => readIndex(bad), new RegExp(`model #${m} has an invalid ε \\(Epsilon section: ${escapeRe(String(Math.fround(value)))}\\)`));
        }
      }
    });

    it('accepts any positive ε below 1e6 as such; the entry bound then applies', () => {
      // Tiny ε only loosens the entry bound.
      for (const value of [1e-45, 1e-30, 1e-6]) {
        expect(readIndex(setFloat(FULL, SectionKind.Epsilon, 1, value)).gaussian!.epsilon[1]).toBe(Math.fround(value));
      }
      // A larger ε than the factor was built with tightens the bound below the honest entries; just
      // below 1e6 the ε itself is accepted and the entries are what fails.
      for (const value of [1e-2, 999_999]) {
        expectIndexError(() => readIndex(setFloat(FULL, SectionKind.Epsilon, 1, value)), /model #1 has a precision value \(Precision section\) beyond/);
      }
      // A real factor built with a large ε (1) reads back.
      const dim = 3;
      const acc = new MomentAccumulator(dim);
      for (const x of [[1, 0, 0], [0.6, 0.8, 0], [0, 0.6, 0.8]]) acc.add(x);
      const f = gaussianFactors(acc.mean(), acc.covariance(), 1);
      expect(f.jitterSteps).toBe(0);
      const parsed = readIndex(writeIndex({ dim, means: Float32Array.from(f.mean), gaussian: { precision: f.precision, epsilon: Float32Array.of(1), dtype: 'f32' } }));
      expect(Array.from(parsed.gaussian!.epsilon)).toEqual([1]);
    });
  });

  describe('means, norms and samples of unit embeddings', () => {
    /** Means whose row 1 is rescaled to `length`. */
    const withMeanLength = (length: number) => {
      const means = MEANS.slice();
      const n = rowNorm(MEANS, DIM, 1);
      for (let j = 0; j < DIM; j++) means[DIM + j] = (MEANS[DIM + j] / n) * length;
      return means;
    };

    it('rejects a mean \\(Means section\\) longer than 1 (+1e-3)', () => {
      for (const length of [1.002, 1.5, 1e6]) {
        const means = withMeanLength(length);
        const n = rowNorm(means, DIM, 1);
        expectIndexError(
          () => readIndex(writeIndex({ dim: DIM, means })),
          new RegExp(`model #1 has a mean \\(Means section\\) longer than 1 \\(${escapeRe(n.toFixed(4))}\\); embeddings must be unit vectors`),
        );
      }
    });

    it('accepts means up to length 1 + 1e-3', () => {
      for (const length of [0, 0.5, 1, 1.0009]) {
        const parsed = readIndex(writeIndex({ dim: DIM, means: withMeanLength(length) }));
        expect(parsed.norms[1]).toBeCloseTo(length, 6);
      }
    });

    it('rejects a stored norm far below a tiny mean\'s length (every cosine would be huge)', () => {
      // |μ| = 1e-5 is a legal mean; a stored norm of 1e-45 (the probe's) is not its length.
      const means = withMeanLength(1e-5);
      const good = writeIndex({ dim: DIM, means });
      expect(readIndex(good).norms[1]).toBeCloseTo(1e-5, 10);
      const e = entryOf(good, SectionKind.Norms);
      for (const value of [1e-45, 1e-6, 2e-5]) {
        const bad = patch(good, (v) => v.setFloat32(e.offset + 4, value, true));
        expectIndexError(() => readIndex(bad), /model #1 has a norm \(Norms section\) that does not match its mean \(stored .*, \|μ\| = 1\.000e-5\)/);
      }
    });

    it('rejects a norm that does not equal |μ| (1e-4 of |μ|)', () => {
      const e = entryOf(VALID, SectionKind.Norms);
      const norms = readIndex(VALID).norms;
      for (const m of [0, COUNT - 1]) {
        for (const value of [norms[m] * (1 + 2e-4), norms[m] * (1 - 2e-4), 0, -norms[m], 1]) {
          const bad = patch(VALID, (v) => v.setFloat32(e.offset + 4 * m, value, true));
          expectIndexError(() => readIndex(bad), new RegExp(`model #${m} has a norm \\(Norms section\\) that does not match its mean`));
        }
        for (const value of [norms[m] * (1 + 5e-5), norms[m] * (1 - 5e-5)]) {
          const ok = patch(VALID, (v) => v.setFloat32(e.offset + 4 * m, value, true));
          expect(readIndex(ok).norms[m]).toBe(Math.fround(value));
        }
      }
    });

    it('rejects the largest finite values where unit-vector statistics make them impossible', () => {
      // A mean component of 3.4e38: a mean \\(Means section\\) longer than 1.
      const means = MEANS.slice();
      means[5] = 3.4028234663852886e38;
      expectIndexError(() => readIndex(writeIndex({ dim: DIM, means })), /model #0 has a mean \(Means section\) longer than 1 \(3\.40282\d*e\+38\)/);
      // An fp16 sample value of 65504: not a unit vector.
      const e16 = entryOf(FULL16, SectionKind.Samples);
      expectIndexError(() => readIndex(patch(FULL16, (v) => v.setUint16(e16.offset, 0xfbff, true))), /sample 0 is not a unit vector/);
    });

    /** A copy of `bytes` with kept sample row r scaled by `factor`. */
    const scaleSample = (bytes: Uint8Array, r: number, factor: number) => {
      let out = bytes;
      for (let j = 0; j < d; j++) out = setFloat(out, SectionKind.Samples, r * d + j, getFloat(bytes, SectionKind.Samples, r * d + j) * factor);
      return out;
    };
    const sampleSq = (bytes: Uint8Array, r: number) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += getFloat(bytes, SectionKind.Samples, r * d + j) ** 2;
      return s;
    };
    const total = readIndex(FULL).samples!.offsets[c];

    it('rejects a kept sample whose |x|² is not within 1e-2 of 1', () => {
      for (const bytes of [FULL, FULL16]) {
        for (const r of [0, total - 1]) {
          for (const sq of [1.02, 0.98, 0]) {
            const bad = scaleSample(bytes, r, Math.sqrt(sq));
            expectIndexError(
              () => readIndex(bad),
              new RegExp(`sample ${r} is not a unit vector \\(\\|x\\|² = ${escapeRe(sampleSq(bad, r).toFixed(4))}\\)`),
            );
          }
        }
      }
      // A precise message for f32 samples.
      expectIndexError(() => readIndex(scaleSample(FULL, 0, Math.sqrt(1.012))), /sample 0 is not a unit vector \(\|x\|² = 1\.0120\)/);
    });

    it('accepts kept samples with |x|² within 1e-2 of 1', () => {
      for (const bytes of [FULL, FULL16]) {
        for (const sq of [1.006, 0.994]) {
          const ok = scaleSample(bytes, total - 1, Math.sqrt(sq));
          expect(Math.abs(sampleSq(ok, total - 1) - 1)).toBeLessThanOrEqual(1e-2);
          expect(readIndex(ok).samples!.offsets[c]).toBe(total);
        }
      }
    });
  });

  describe('non-finite values', () => {
    const f32Sections: [number, string][] = [
      [SectionKind.Means, 'Means'],
      [SectionKind.Norms, 'Norms'],
      [SectionKind.Precision, 'Precision'],
      [SectionKind.PrecisionBias, 'PrecisionBias'],
      [SectionKind.LogDet, 'LogDet'],
      [SectionKind.Epsilon, 'Epsilon'],
      [SectionKind.Samples, 'Samples'],
      [SectionKind.Projection, 'Projection'],
      [SectionKind.ProjectedMeans, 'ProjectedMeans'],
    ];
    it.each(f32Sections)('rejects NaN / ±Inf / signalling NaN in float32 section %i (%s)', (kind, name) => {
      const e = entryOf(FULL, kind);
      const n = e.byteLength / 4;
      for (const bits of [0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001, 0xffffffff]) {
        for (const at of [0, n >> 1, n - 1]) {
          const bad = patch(FULL, (v) => v.setUint32(e.offset + 4 * at, bits, true));
          expectIndexError(() => readIndex(bad), nonFinite(name, at));
        }
      }
    });

    it.each([
      [SectionKind.Precision, 'Precision'],
      [SectionKind.Samples, 'Samples'],
    ])('rejects fp16 Inf / NaN patterns in section %i (%s)', (kind, name) => {
      const e = entryOf(FULL16, kind);
      const n = e.byteLength / 2;
      for (const bits of [0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfe00, 0xffff, 0x7fff]) {
        for (const at of [0, n >> 1, n - 1]) {
          const bad = patch(FULL16, (v) => v.setUint16(e.offset + 2 * at, bits, true));
          expectIndexError(() => readIndex(bad), nonFinite(name, at));
        }
      }
    });

    it('accepts large finite values where the statistics allow them (projection)', () => {
      // P is not bounded by unit-vector statistics: finite is all the reader asks.
      const proj = entryOf(FULL, SectionKind.Projection);
      expect(readIndex(patch(FULL, (v) => v.setUint32(proj.offset, 0x7f7fffff, true))).projection!.matrix[0]).toBe(3.4028234663852886e38);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Style-distance sections (kinds 11–13)

/**
 * Style data for `count` models × S references: unit rows, except that a dropped pair may hold any
 * shorter row (here: zeros for every third dropped pair). Model 1 keeps no pair at all.
 */
function styleInput(count: number, S: number, dim: number, dtype: Precision, projectionRows = 0, seed = 7): NonNullable<IndexInput['style']> {
  const next = rng(seed);
  const refs = new Float32Array(count * S * dim);
  const keep = new Uint8Array(count * S);
  for (let r = 0; r < count * S; r++) {
    const m = Math.floor(r / S);
    keep[r] = m === 1 ? 0 : r % 3 === 2 ? 0 : 1;
    if (!keep[r] && r % 2 === 0) continue; // an all-zero row (norm 0 ≤ 1 is allowed)
    let n = 0;
    for (let j = 0; j < dim; j++) {
      const v = (j === m % dim ? 1 : 0) + next() - 0.5;
      refs[r * dim + j] = v;
      n += v * v;
    }
    for (let j = 0; j < dim; j++) refs[r * dim + j] /= Math.sqrt(n);
  }
  const style: NonNullable<IndexInput['style']> = { refs, keep, refsPerModel: S, dtype };
  if (projectionRows) style.projection = Float32Array.from({ length: projectionRows * dim }, () => (next() - 0.5) * 2);
  return style;
}

describe('style-distance sections (StyleRefs 11, StyleKeep 12, StyleProjection 13)', () => {
  const S = 5;
  const STYLE_BASE: IndexInput = { dim: DIM, means: MEANS };
  const withStyle = (style: IndexInput['style'], base: IndexInput = STYLE_BASE) => writeIndex({ ...base, style });
  const STYLE32 = withStyle(styleInput(COUNT, S, DIM, 'f32', 3));
  const STYLE16 = withStyle(styleInput(COUNT, S, DIM, 'f16'));

  it('has the documented kind numbers', () => {
    expect(SectionKind.StyleRefs).toBe(11);
    expect(SectionKind.StyleKeep).toBe(12);
    expect(SectionKind.StyleProjection).toBe(13);
  });

  it.each([
    ['f32', 0],
    ['f32', 3],
    ['f16', 0],
    ['f16', 2 * DIM],
  ] as const)('round-trips %s references with a %i-row projection', (dtype, rows) => {
    const style = styleInput(COUNT, S, DIM, dtype, rows);
    const bytes = withStyle(style);
    const sections = sectionsOf(bytes);
    expect(sections.map((s) => s.kind)).toEqual([1, 2, 11, 12, ...(rows ? [13] : [])]);
    const refs = entryOf(bytes, SectionKind.StyleRefs);
    expect(refs.dtype).toBe(dtype === 'f16' ? DType.F16 : DType.F32);
    expect(refs.byteLength).toBe(COUNT * S * DIM * (dtype === 'f16' ? 2 : 4));
    const keep = entryOf(bytes, SectionKind.StyleKeep);
    expect([keep.dtype, keep.byteLength]).toEqual([DType.U32, COUNT * S * 4]);

    const index = readIndex(bytes);
    expect(index.means).toEqual(MEANS);
    expect(index.style).toBeDefined();
    const st = index.style!;
    expect(st.refsPerModel).toBe(S);
    expect(st.keep).toBeInstanceOf(Uint8Array);
    expect(Array.from(st.keep)).toEqual(Array.from(style.keep));
    expect(st.refs.dtype).toBe(dtype);
    if (dtype === 'f32') expect(st.refs.data).toEqual(style.refs);
    else expect(st.refs.data).toEqual(toHalfArray(style.refs));
    if (rows) {
      expect(entryOf(bytes, SectionKind.StyleProjection)).toMatchObject({ dtype: DType.F32, byteLength: rows * DIM * 4 });
      expect(st.projection).toEqual(style.projection);
    } else expect(st.projection).toBeUndefined();
    // Nothing else appears.
    expect(index.gaussian ?? index.samples ?? index.projection).toBeUndefined();
  });

  it('round-trips next to every other section, S = 1, at an odd byteOffset', () => {
    const input: IndexInput = { ...FULL16_INPUT, style: styleInput(4, 1, 5, 'f16', 5) };
    const bytes = writeIndex(input);
    const moved = new Uint8Array(bytes.byteLength + 3);
    moved.set(bytes, 3);
    for (const b of [bytes, moved.subarray(3)]) {
      const index = readIndex(b);
      expect(index.style!.refsPerModel).toBe(1);
      expect(index.style!.refs.data).toEqual(toHalfArray(input.style!.refs));
      expect(index.style!.projection).toEqual(input.style!.projection);
      expect(index.gaussian).toEqual(readIndex(FULL16).gaussian);
      expect(index.samples).toEqual(readIndex(FULL16).samples);
      expect(index.projection).toEqual(readIndex(FULL16).projection);
    }
  });

  it('writes an index without style byte for byte as before (no style sections, same layout)', () => {
    for (const [input, bytes] of [
      [FULL_INPUT, FULL],
      [FULL16_INPUT, FULL16],
    ] as const) {
      expect(writeIndex({ ...input, style: undefined })).toEqual(bytes);
      expect(sectionsOf(bytes).map((s) => s.kind)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(readIndex(bytes).style).toBeUndefined();
    }
  });

  it('the committed indexes read as before and rewrite to the same bytes', () => {
    for (const name of ['demo', 'colours']) {
      const file = new Uint8Array(readFileSync(new URL(`../../../public/index/${name}/index.bin`, import.meta.url)));
      const index = readIndex(file);
      expect(index.style).toBeUndefined();
      const t = halfToFloatTable();
      const floats = (d: { dtype: Precision; data: Float32Array | Uint16Array }) =>
        d.dtype === 'f32' ? (d.data as Float32Array) : Float32Array.from(d.data as Uint16Array, (h) => t[h]);
      const input: IndexInput = { dim: index.dim, means: index.means };
      if (index.gaussian) {
        const g = index.gaussian;
        input.gaussian = { precision: floats(g.precision), epsilon: g.epsilon, dtype: g.precision.dtype };
      }
      if (index.samples) {
        const { offsets, data } = index.samples;
        const all = floats(data);
        input.samples = {
          perModel: Array.from({ length: index.count }, (_, m) => all.slice(offsets[m] * index.dim, offsets[m + 1] * index.dim)),
          dtype: data.dtype,
        };
      }
      if (index.projection) input.projection = index.projection.matrix;
      expect(writeIndex(input), name).toEqual(file);
    }
  }, 120_000); // re-encodes the demo and colours indexes: 29 s measured on a loaded 2-core machine

  it('keeps the keep mask apart from the file bytes (a copy, as Uint8Array)', () => {
    const index = readIndex(STYLE32);
    expect(index.style!.keep.buffer).not.toBe(STYLE32.buffer);
  });

  describe('writeIndex rejects inconsistent style input', () => {
    const good = styleInput(COUNT, S, DIM, 'f32', 2);
    it.each([
      ['refsPerModel 0', { refsPerModel: 0 }, /refsPerModel must be a whole number ≥ 1/],
      ['refsPerModel 2.5', { refsPerModel: 2.5 }, /refsPerModel must be a whole number ≥ 1/],
      ['keep too short', { keep: good.keep.subarray(1) }, /style\.keep must hold count × S = 15 values, got 14/],
      ['refs too long', { refs: new Float32Array(good.refs.length + DIM) }, /style\.refs must hold count × S × dim = 240 values/],
      ['keep value 2', { keep: Uint8Array.from(good.keep, (v, i) => (i === 4 ? 2 : v)) }, /only 0 and 1 \(value 2 at 4\)/],
      ['projection not a multiple of dim', { projection: new Float32Array(DIM + 1) }, /positive multiple of dim = 16 values, got 17/],
      ['empty projection', { projection: new Float32Array(0) }, /positive multiple of dim/],
    ] as const)('%s', (_, change, pattern) => {
      expect(() => withStyle({ ...good, ...change })).toThrow(pattern);
    });
  });

  describe('readIndex rejects malformed style sections with AppError("index-format")', () => {
    const base = sectionsOf(STYLE32);
    const find = (kind: number) => base.find((s) => s.kind === kind)!;
    const without = (...kinds: number[]) => base.filter((s) => !kinds.includes(s.kind));
    const replace = (kind: number, data: Uint8Array, dtype?: number) =>
      base.map((s) => (s.kind === kind ? { kind, dtype: dtype ?? s.dtype, data } : s));
    const read = (sections: RawSection[]) => readIndex(rawIndex(DIM, COUNT, sections));

    it('the unmodified sections read back (the cases below differ only in what they say)', () => {
      expect(read(base).style!.refsPerModel).toBe(S);
    });

    it('rejects StyleRefs whose rows do not divide into count × S (S not a whole number)', () => {
      const refs = find(SectionKind.StyleRefs).data;
      // One extra row: 16 rows for 3 models.
      const longer = replace(SectionKind.StyleRefs, concat(refs, new Uint8Array(DIM * 4)));
      expectIndexError(() => read(longer), /the StyleRefs section has 1024 bytes, not count × S × dim values for a whole S ≥ 1/);
      // Not even whole rows.
      expectIndexError(() => read(replace(SectionKind.StyleRefs, refs.subarray(4))), /the StyleRefs section has 956 bytes, not count × S × dim/);
      // Fewer rows than models (S would be 0), and an empty section.
      expectIndexError(() => read(replace(SectionKind.StyleRefs, refs.subarray(0, 2 * DIM * 4))), /not count × S × dim values for a whole S ≥ 1/);
      expectIndexError(() => read(replace(SectionKind.StyleRefs, new Uint8Array(0))), /the StyleRefs section has 0 bytes/);
    });

    it('rejects a StyleKeep of the wrong length or dtype', () => {
      const keep = find(SectionKind.StyleKeep).data;
      expectIndexError(() => read(replace(SectionKind.StyleKeep, keep.subarray(4))), /the StyleKeep section has 56 bytes, expected 60/);
      expectIndexError(() => read(replace(SectionKind.StyleKeep, concat(keep, new Uint8Array(4)))), /the StyleKeep section has 64 bytes, expected 60/);
      expectIndexError(() => read(replace(SectionKind.StyleKeep, keep, DType.F32)), /the StyleKeep section has an unsupported data type 1/);
    });

    it('rejects keep values other than 0 and 1', () => {
      for (const value of [2, 255, 0x100, 0xffffffff]) {
        const keep = find(SectionKind.StyleKeep).data.slice();
        new DataView(keep.buffer).setUint32(7 * 4, value, true);
        expectIndexError(() => read(replace(SectionKind.StyleKeep, keep)), new RegExp(`StyleKeep section has the value ${value} at 7 \\(only 0 and 1`));
      }
    });

    it('rejects StyleRefs without StyleKeep, StyleKeep without StyleRefs, and StyleProjection without both', () => {
      expectIndexError(() => read(without(SectionKind.StyleKeep)), /the StyleRefs and StyleKeep sections must come together/);
      expectIndexError(() => read(without(SectionKind.StyleRefs)), /the StyleRefs and StyleKeep sections must come together/);
      expectIndexError(() => read(without(SectionKind.StyleRefs, SectionKind.StyleKeep)), /StyleProjection section needs the StyleRefs and StyleKeep/);
      // Without the projection the pair is a valid style index.
      expect(read(without(SectionKind.StyleProjection)).style!.projection).toBeUndefined();
    });

    it('rejects a StyleProjection that is not P × dim float32 values', () => {
      const p = find(SectionKind.StyleProjection).data;
      expectIndexError(() => read(replace(SectionKind.StyleProjection, p.subarray(4))), /the StyleProjection section has 188 bytes, not P × dim values/);
      expectIndexError(() => read(replace(SectionKind.StyleProjection, new Uint8Array(0))), /the StyleProjection section has 0 bytes, not P × dim/);
      expectIndexError(() => read(replace(SectionKind.StyleProjection, p, DType.F16)), /the StyleProjection section has an unsupported data type 2/);
      expectIndexError(() => read(replace(SectionKind.StyleRefs, find(SectionKind.StyleRefs).data, DType.U32)), /the StyleRefs section has an unsupported data type 3/);
      // More rows are fine (P need not equal dim).
      expect(read(replace(SectionKind.StyleProjection, concat(p, p))).style!.projection).toHaveLength(6 * DIM);
    });

    it('rejects NaN / ±Inf in every style float section (f32 and f16)', () => {
      for (const kind of [SectionKind.StyleRefs, SectionKind.StyleProjection]) {
        const e = entryOf(STYLE32, kind);
        const name = kind === SectionKind.StyleRefs ? 'StyleRefs' : 'StyleProjection';
        for (const bits of [0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001]) {
          for (const at of [0, e.byteLength / 4 - 1]) {
            const bad = patch(STYLE32, (v) => v.setUint32(e.offset + 4 * at, bits, true));
            expectIndexError(() => readIndex(bad), nonFinite(name, at));
          }
        }
      }
      const e = entryOf(STYLE16, SectionKind.StyleRefs);
      for (const bits of [0x7c00, 0xfc00, 0x7e00, 0xffff]) {
        const bad = patch(STYLE16, (v) => v.setUint16(e.offset + 2 * 9, bits, true));
        expectIndexError(() => readIndex(bad), nonFinite('StyleRefs', 9));
      }
    });

    it('rejects a reference row longer than 1 + 1e-2 (f32 and f16), accepts rows up to it', () => {
      const style = styleInput(COUNT, S, DIM, 'f32');
      const scaled = (f: number) => {
        const refs = style.refs.slice();
        for (let j = 0; j < DIM; j++) refs[7 * DIM + j] *= f;
        return refs;
      };
      expect(rowNorm(style.refs, DIM, 7)).toBeCloseTo(1, 6);
      expect(() => withStyle({ ...style, refs: scaled(1.009) })).not.toThrow();
      expect(readIndex(withStyle({ ...style, refs: scaled(1.009) })).style).toBeDefined();
      expect(readIndex(withStyle({ ...style, dtype: 'f16', refs: scaled(1.009) })).style).toBeDefined();
      for (const dtype of ['f32', 'f16'] as const) {
        expectIndexError(() => readIndex(withStyle({ ...style, dtype, refs: scaled(1.02) })), /model #1 has a style reference \(StyleRefs section, reference 2\) longer than 1 \(1\.0[12]/);
        expectIndexError(() => readIndex(withStyle({ ...style, dtype, refs: scaled(1e4) })), /model #1 has a style reference \(StyleRefs section, reference 2\) longer than 1/);
      }
    });

    it('rejects a projection entry beyond ±1e9, accepts one at 1e9', () => {
      const style = styleInput(COUNT, S, DIM, 'f32', 2);
      const at = (v: number) => ({ ...style, projection: Float32Array.from(style.projection!, (x, i) => (i === 5 ? v : x)) });
      expect(readIndex(withStyle(at(-1e9))).style!.projection![5]).toBe(Math.fround(-1e9));
      for (const v of [1.01e9, -3e38]) expectIndexError(() => readIndex(withStyle(at(v))), /the StyleProjection section has an implausible value at 5/);
    });

    it('rejects a duplicated style section and style sections overlapping another section', () => {
      expectIndexError(() => read([...base, find(SectionKind.StyleKeep)]), /section StyleKeep appears twice/);
      const e = entryOf(STYLE32, SectionKind.StyleKeep);
      const means = entryOf(STYLE32, SectionKind.Means);
      const overlapping = patch(STYLE32, (v) => v.setBigUint64(HEADER_BYTES + e.index * SECTION_ENTRY_BYTES + 8, BigInt(means.offset), true));
      expectIndexError(() => readIndex(overlapping), /overlap/);
    });
  });
});
