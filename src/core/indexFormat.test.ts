import { describe, it, expect } from 'vitest';
import { AppError } from './errors.ts';
import {
  DType,
  HEADER_BYTES,
  INDEX_MAGIC,
  INDEX_VERSION,
  SECTION_ALIGN,
  SECTION_ENTRY_BYTES,
  SectionKind,
  readIndex,
  writeIndex,
  type SectionInput,
} from './indexFormat.ts';

// fast-check is not installed in this project, so there is no property test here; the
// exhaustive truncation loop and the table-driven corruption cases cover the reader instead.

function bytesOf(f: Float32Array): Uint8Array {
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function meansSection(means: Float32Array): SectionInput {
  return { kind: SectionKind.Means, dtype: DType.F32, data: bytesOf(means) };
}

/** Deterministic test means: [count, dim] with varied signs and magnitudes. */
function makeMeans(count: number, dim: number): Float32Array {
  return Float32Array.from({ length: count * dim }, (_, i) => Math.sin(i * 1.7 + 0.3) * (1 + (i % 5)) * 0.1);
}

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

/** Section table entry i of an index, as written. */
function entry(bytes: Uint8Array, i: number) {
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

function patch(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

const DIM = 16;
const COUNT = 3;
// 16 × 3 × 4 = 192 bytes of means: a multiple of 64, so the file has no trailing padding.
const MEANS = makeMeans(COUNT, DIM);
const VALID = writeIndex(DIM, COUNT, [meansSection(MEANS)]);

describe('writeIndex layout', () => {
  it('writes the documented header', () => {
    const view = new DataView(VALID.buffer, VALID.byteOffset, VALID.byteLength);
    expect(String.fromCharCode(...VALID.subarray(0, 4))).toBe(INDEX_MAGIC);
    expect(view.getUint32(4, true)).toBe(INDEX_VERSION);
    expect(view.getUint32(8, true)).toBe(DIM);
    expect(view.getUint32(12, true)).toBe(COUNT);
    expect(view.getUint32(16, true)).toBe(1);
    expect(Array.from(VALID.subarray(20, 64)).every((b) => b === 0)).toBe(true);
    const e = entry(VALID, 0);
    expect(e).toEqual({ kind: SectionKind.Means, dtype: DType.F32, offset: 128, byteLength: 192, reserved: 0n });
    expect(VALID.byteLength).toBe(128 + 192);
  });

  it('places every section at a multiple of 64 and pads the file to 64', () => {
    const odd = new Uint8Array(37).map((_, i) => i + 1);
    const odd2 = new Uint8Array(65).fill(0xab);
    const means = makeMeans(5, 3); // 60 bytes
    const bytes = writeIndex(3, 5, [
      { kind: 42 as SectionKind, dtype: DType.F16, data: odd },
      meansSection(means),
      { kind: 7 as SectionKind, dtype: DType.F32, data: odd2 },
    ]);
    expect(bytes.byteLength % SECTION_ALIGN).toBe(0);
    const entries = [0, 1, 2].map((i) => entry(bytes, i));
    let prevEnd = HEADER_BYTES + 3 * SECTION_ENTRY_BYTES;
    for (const [i, data] of [odd, bytesOf(means), odd2].entries()) {
      const e = entries[i];
      expect(e.offset % SECTION_ALIGN).toBe(0);
      expect(e.offset).toBeGreaterThanOrEqual(prevEnd);
      expect(e.byteLength).toBe(data.byteLength);
      expect(bytes.subarray(e.offset, e.offset + e.byteLength)).toEqual(data);
      prevEnd = e.offset + e.byteLength;
    }
    expect(readIndex(bytes).means).toEqual(means);
  });
});

describe('readIndex round trip', () => {
  it('returns the header fields and bit-identical means', () => {
    // Awkward values: -0, subnormals, extremes, values that are not exactly representable in decimal.
    const special = Float32Array.from([
      -0, 0, 1.401298464324817e-45, -1.17549435e-38, 3.4028234663852886e38, -3.4028234663852886e38,
      Math.fround(0.1), Math.fround(-1 / 3),
    ]);
    const means = new Float32Array(4 * 8);
    means.set(special, 0);
    means.set(makeMeans(3, 8), 8);
    const parsed = readIndex(writeIndex(8, 4, [meansSection(means)]));
    expect(parsed.version).toBe(INDEX_VERSION);
    expect(parsed.dim).toBe(8);
    expect(parsed.count).toBe(4);
    expect(parsed.means).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(parsed.means.buffer, parsed.means.byteOffset, parsed.means.length)).toEqual(
      new Uint32Array(means.buffer),
    );
    expect(Object.is(parsed.means[0], -0)).toBe(true);
  });

  it('round-trips dim 1 / count 1 and a 512-dim index', () => {
    const one = readIndex(writeIndex(1, 1, [meansSection(Float32Array.from([0.5]))]));
    expect(Array.from(one.means)).toEqual([0.5]);
    const big = makeMeans(40, 512);
    const parsed = readIndex(writeIndex(512, 40, [meansSection(big)]));
    expect(new Uint32Array(parsed.means.buffer)).toEqual(new Uint32Array(big.buffer));
  });

  it('works on a subarray at an odd byteOffset of a bigger buffer', () => {
    for (const at of [1, 3, 5, 63]) {
      const big = new Uint8Array(at + VALID.byteLength + 11).fill(0xee);
      big.set(VALID, at);
      const view = big.subarray(at, at + VALID.byteLength);
      expect(view.byteOffset).toBe(at);
      const parsed = readIndex(view);
      expect(parsed.dim).toBe(DIM);
      expect(parsed.count).toBe(COUNT);
      expect(new Uint32Array(parsed.means.buffer, parsed.means.byteOffset, parsed.means.length)).toEqual(
        new Uint32Array(MEANS.buffer),
      );
    }
  });

  it('returns a copy of the means, independent of the input bytes', () => {
    const bytes = VALID.slice();
    const parsed = readIndex(bytes);
    bytes.fill(0, 128);
    expect(parsed.means).toEqual(MEANS);
    expect(parsed.means.byteOffset % 4).toBe(0);
  });

  it('skips unknown section kinds before and after the means', () => {
    const bytes = writeIndex(DIM, COUNT, [
      { kind: 0 as SectionKind, dtype: 99 as DType, data: new Uint8Array(3).fill(0xff) },
      { kind: 1000 as SectionKind, dtype: DType.F16, data: new Uint8Array(130).fill(0x7f) },
      meansSection(MEANS),
      { kind: 0xffffffff as SectionKind, dtype: 0 as DType, data: new Uint8Array([1, 2, 3]) },
    ]);
    const parsed = readIndex(bytes);
    expect(parsed.means).toEqual(MEANS);
  });

  it('treats trailing alignment padding as optional', () => {
    // 5 × 3 × 4 = 60 bytes of means at offset 128: the writer pads to 192, the reader needs 188.
    const means = makeMeans(5, 3);
    const bytes = writeIndex(3, 5, [meansSection(means)]);
    expect(bytes.byteLength).toBe(192);
    expect(readIndex(bytes.subarray(0, 188)).means).toEqual(means);
    expectIndexError(() => readIndex(bytes.subarray(0, 187)), /section 0 runs past the end/);
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
    // One entry needs 64 + 32 = 96 bytes.
    expectIndexError(() => readIndex(VALID.subarray(0, 95)), /section table is truncated/);
    // 9 entries need 64 + 288 = 352 bytes; the file has 320.
    expectIndexError(() => readIndex(patch(VALID, (v) => v.setUint32(16, 9, true))), /section table is truncated/);
  });

  it('rejects a section that runs past the end of the file', () => {
    expectIndexError(
      () => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 16, 193n, true))),
      /section 0 runs past the end of the file/,
    );
    expectIndexError(
      () => readIndex(patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 8, 1024n, true))),
      /section 0 runs past the end/,
    );
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
    const bytes = writeIndex(DIM, COUNT, [meansSection(MEANS), { kind: 9 as SectionKind, dtype: DType.F32, data: new Uint8Array(4) }]);
    expect(readIndex(bytes).means).toEqual(MEANS);
    const bad = patch(bytes, (v) => v.setBigUint64(HEADER_BYTES + SECTION_ENTRY_BYTES + 16, 1n << 20n, true));
    expectIndexError(() => readIndex(bad), /section 1 runs past the end/);
  });

  it.each([1, 4, 32, 100, 127])('rejects a section offset of %i (not 64-byte aligned)', (offset) => {
    const bad = patch(VALID, (v) => v.setBigUint64(HEADER_BYTES + 8, BigInt(offset), true));
    expectIndexError(() => readIndex(bad), /section 0 is not 64-byte aligned/);
  });

  it('rejects a means section of the wrong size', () => {
    for (const len of [0, 4, 188, 196, 256]) {
      const bytes = patch(VALID.length >= 128 + len ? VALID : concat(VALID, new Uint8Array(64)), (v) =>
        v.setBigUint64(HEADER_BYTES + 16, BigInt(len), true),
      );
      expectIndexError(() => readIndex(bytes), new RegExp(`means section has ${len} bytes, expected 192`));
    }
    // Also when the writer is handed the wrong amount of data.
    const short = writeIndex(DIM, COUNT, [meansSection(MEANS.subarray(0, DIM * COUNT - 1))]);
    expectIndexError(() => readIndex(short), /has 188 bytes, expected 192/);
    const long = writeIndex(DIM, COUNT - 1, [meansSection(MEANS)]);
    expectIndexError(() => readIndex(long), /has 192 bytes, expected 128/);
  });

  it.each([
    ['F16', DType.F16],
    ['unknown dtype 0', 0],
    ['unknown dtype 3', 3],
  ])('rejects a means section of dtype %s', (_label, dtype) => {
    const bad = patch(VALID, (v) => v.setUint32(HEADER_BYTES + 4, dtype, true));
    expectIndexError(() => readIndex(bad), /the means section must be float32/);
  });

  it('rejects a file without a means section', () => {
    const none = writeIndex(DIM, COUNT, []);
    expectIndexError(() => readIndex(none), /the means section is missing/);
    const other = writeIndex(DIM, COUNT, [{ kind: 2 as SectionKind, dtype: DType.F32, data: bytesOf(MEANS) }]);
    expectIndexError(() => readIndex(other), /the means section is missing/);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
  ])('rejects %s in the means and names the model', (_label, value) => {
    for (const [flat, model] of [
      [0, 0],
      [DIM + 5, 1],
      [DIM * COUNT - 1, 2],
    ]) {
      const means = MEANS.slice();
      means[flat] = value;
      const bytes = writeIndex(DIM, COUNT, [meansSection(means)]);
      expectIndexError(() => readIndex(bytes), new RegExp(`model ${model} has a non-finite mean value`));
    }
  });

  it('rejects a NaN with a non-canonical bit pattern', () => {
    const bad = VALID.slice();
    new DataView(bad.buffer).setUint32(128 + 4 * 7, 0x7f800001, true); // signalling NaN
    expectIndexError(() => readIndex(bad), /model 0 has a non-finite mean value/);
  });

  it('rejects every truncation of a valid file, from 0 bytes to one short of full', () => {
    expect(VALID.byteLength).toBe(320);
    const seen = new Set<string>();
    for (let len = 0; len < VALID.byteLength; len++) {
      const err = expectIndexError(() => readIndex(VALID.subarray(0, len)), /./);
      seen.add(err.message.replace(/\d+/g, 'N'));
      // And the same truncation as a fresh, exactly sized buffer.
      expectIndexError(() => readIndex(VALID.slice(0, len)), /./);
    }
    expect(readIndex(VALID.subarray(0, VALID.byteLength)).means).toEqual(MEANS);
    // Short files hit the header check, longer ones the section bounds check.
    expect([...seen].sort()).toEqual([
      'The index file is invalid: it has only N bytes.',
      'The index file is invalid: section N runs past the end of the file.',
      'The index file is invalid: the section table is truncated.',
    ]);
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
