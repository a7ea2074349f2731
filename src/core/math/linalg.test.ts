import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  choleskyInPlace,
  fromHalfArray,
  halfToFloatTable,
  invertLowerTriangular,
  packLower,
  packedRowOffset,
  packedSize,
  toHalfArray,
  toHalfBits,
} from './linalg.ts';

// Reference values from tools/reference/make_method_fixtures.py (numpy.linalg, numpy.float16).
// Regenerate with: /usr/bin/python3 tools/reference/make_method_fixtures.py
interface LinalgCase {
  n: number;
  cond: number;
  a: number[];
  L: number[];
  W: number[];
  logDet: number;
}
interface Fp16Cases {
  float32Bits: number[];
  halfBits: number[];
  float64Values: number[];
  float64HalfBits: number[];
  decodeHalfBits: number[];
  decodeFloat32Bits: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../../test/fixtures/methods-cases.json', import.meta.url), 'utf8')) as {
  linalg: LinalgCase[];
  fp16: Fp16Cases;
};

const f32Bits = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
const fromF32Bits = (b: number) => new Float32Array(Uint32Array.of(b).buffer)[0];
const hex = (b: number, w = 4) => `0x${b.toString(16).padStart(w, '0')}`;
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function matmul(a: Float64Array, b: Float64Array, n: number, transposeB = false): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * (transposeB ? b[j * n + k] : b[k * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe('packed lower triangle', () => {
  it('packedSize and packedRowOffset', () => {
    expect([0, 1, 2, 3, 4, 16, 512].map(packedSize)).toEqual([0, 1, 3, 6, 10, 136, 131328]);
    expect([0, 1, 2, 3, 4, 5].map(packedRowOffset)).toEqual([0, 1, 3, 6, 10, 15]);
    for (let i = 0; i < 100; i++) {
      expect(packedRowOffset(i + 1) - packedRowOffset(i)).toBe(i + 1);
      expect(packedRowOffset(i)).toBe(packedSize(i));
    }
  });

  it('packLower stores row i, columns 0..i, row by row, ignoring the upper triangle', () => {
    const n = 4;
    const a = Float64Array.from({ length: n * n }, (_, k) => 10 * Math.floor(k / n) + (k % n) + (k % n > Math.floor(k / n) ? 1000 : 0));
    expect(Array.from(packLower(a, n))).toEqual([0, 10, 11, 20, 21, 22, 30, 31, 32, 33]);
    expect(Array.from(packLower(Float64Array.of(7), 1))).toEqual([7]);
    expect(packLower(new Float64Array(0), 0)).toHaveLength(0);
    // Element (i, j ≤ i) lives at packedRowOffset(i) + j.
    const n2 = 9;
    const b = Float64Array.from({ length: n2 * n2 }, (_, k) => k);
    const p = packLower(b, n2);
    for (let i = 0; i < n2; i++) for (let j = 0; j <= i; j++) expect(p[packedRowOffset(i) + j]).toBe(i * n2 + j);
  });
});

describe('Cholesky and triangular inverse vs numpy', () => {
  for (const c of fixture.linalg) {
    it(`n = ${c.n}, condition number ${c.cond.toPrecision(2)}`, () => {
      const { n } = c;
      // Forward errors against numpy grow with the condition number; residuals (L Lᵀ = A, L W = I) do not.
      const fwd = Math.max(1e-13, 8 * 2 ** -52 * c.cond);
      const a = Float64Array.from(c.a);
      expect(choleskyInPlace(a, n)).toBe(true);
      // Matches numpy.linalg.cholesky, and the upper triangle is zeroed.
      const scaleL = maxAbs(c.L);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          if (j > i) expect(a[i * n + j]).toBe(0);
          else expect(Math.abs(a[i * n + j] - c.L[i * n + j])).toBeLessThan(fwd * scaleL);
        }
      // L Lᵀ reproduces A.
      const llt = matmul(a, a, n, true);
      const scaleA = maxAbs(c.a);
      for (let k = 0; k < n * n; k++) expect(Math.abs(llt[k] - c.a[k])).toBeLessThan(1e-14 * scaleA);
      // log|A| = 2 Σ log L_ii; the determinant of the stored matrix is only defined to ~cond·u.
      let logDet = 0;
      for (let i = 0; i < n; i++) logDet += 2 * Math.log(a[i * n + i]);
      expect(Math.abs(logDet - c.logDet)).toBeLessThan(fwd * Math.max(1, Math.abs(c.logDet)));

      const w = invertLowerTriangular(a, n);
      const scaleW = maxAbs(c.W);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          if (j > i) expect(w[i * n + j]).toBe(0);
          else expect(Math.abs(w[i * n + j] - c.W[i * n + j])).toBeLessThan(fwd * scaleW);
        }
      // L W = I.
      const lw = matmul(a, w, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) expect(Math.abs(lw[i * n + j] - (i === j ? 1 : 0))).toBeLessThan(1e-12 * scaleW * scaleL);
    });
  }

  it('a small exact case', () => {
    const a = Float64Array.of(4, 2, 2, 3);
    expect(choleskyInPlace(a, 2)).toBe(true);
    expect(Array.from(a)).toEqual([2, 0, 1, Math.SQRT2]);
    const w = invertLowerTriangular(a, 2);
    expect(w[0]).toBe(0.5);
    expect(w[1]).toBe(0);
    expect(w[2]).toBeCloseTo(-1 / (2 * Math.SQRT2), 15);
    expect(w[3]).toBeCloseTo(1 / Math.SQRT2, 15);
  });

  it.each([
    ['indefinite', [1, 2, 2, 1]],
    ['zero', [0, 0, 0, 0]],
    ['rank-deficient', [1, 1, 1, 1]],
    ['negative diagonal', [-1, 0, 0, 1]],
    ['NaN', [1, 0, 0, NaN]],
    ['Infinity', [Infinity, 0, 0, 1]],
    ['NaN off-diagonal', [1, NaN, NaN, 1]],
  ])('returns false for a %s matrix', (_label, m) => {
    expect(choleskyInPlace(Float64Array.from(m), 2)).toBe(false);
  });
});

describe('fp16', () => {
  const { fp16 } = fixture;

  it(`toHalfBits matches numpy.float16 for ${fp16.float32Bits.length} float32 values (ties, subnormals, overflow, ±0)`, () => {
    expect(fp16.float32Bits.length).toBeGreaterThan(1900);
    const mismatches: string[] = [];
    fp16.float32Bits.forEach((bits, i) => {
      const v = fromF32Bits(bits);
      const got = toHalfBits(v);
      if (got !== fp16.halfBits[i]) mismatches.push(`${v} (${hex(bits, 8)}): got ${hex(got)}, numpy ${hex(fp16.halfBits[i])}`);
    });
    expect(mismatches).toEqual([]);
    // The fixture does exercise the interesting cases.
    const halves = new Set(fp16.halfBits);
    expect(halves.has(0x7c00) && halves.has(0xfc00)).toBe(true); // overflow → ±Inf
    expect(halves.has(0x8000) && halves.has(0x0000)).toBe(true); // ±0 (incl. underflow)
    expect(fp16.halfBits.filter((h) => (h & 0x7c00) === 0 && (h & 0x3ff) !== 0).length).toBeGreaterThan(100); // subnormals
  });

  // toHalfBits rounds a float64 straight to fp16. Going through float32 first (as it once did) turns a
  // value just above or below an fp16 tie into an exact tie, which then rounds to even: 1 fp16 ulp off.
  // The writer hits this path: the Float64Array precision factors go through toHalfArray.
  it('toHalfBits rounds float64 inputs once, like numpy.float16 (no double rounding)', () => {
    const mismatches: string[] = [];
    fp16.float64Values.forEach((v, i) => {
      const got = toHalfBits(v);
      if (got !== fp16.float64HalfBits[i]) mismatches.push(`${v}: got ${hex(got)}, numpy ${hex(fp16.float64HalfBits[i])}`);
    });
    expect(mismatches).toEqual([]);
  });

  it.each([
    // [label, value, nearest fp16, what float32-then-fp16 gives]
    ['just above the tie between 1 and 1 + 2⁻¹⁰', 1 + 2 ** -11 + 2 ** -40, 0x3c01, 0x3c00],
    ['just below the tie between 1 + 2⁻¹⁰ and 1 + 2⁻⁹', 1 + 3 * 2 ** -11 - 2 ** -40, 0x3c01, 0x3c02],
    ['just above a negative tie', -(1 + 2 ** -11 + 2 ** -40), 0xbc01, 0xbc00],
    ['just above the tie between 0 and the smallest subnormal', 2 ** -25 + 2 ** -60, 0x0001, 0x0000],
    ['just below the tie between subnormals 1 and 2', 3 * 2 ** -25 - 2 ** -60, 0x0001, 0x0002],
    ['just below the overflow tie 65520', 65520 - 2 ** -30, 0x7bff, 0x7c00],
  ])('toHalfBits rounds %s once, not twice', (_label, value, nearest, doubleRounded) => {
    // The float32 rounding of these values is an exact fp16 tie…
    expect(Math.fround(value)).not.toBe(value);
    expect(toHalfBits(Math.fround(value))).toBe(doubleRounded);
    // …but the float64 value itself is not, and rounds to its nearest fp16 value.
    expect(hex(toHalfBits(value))).toBe(hex(nearest));
    expect(hex(toHalfArray(Float64Array.of(value))[0])).toBe(hex(nearest));
    // Nearest indeed: no fp16 value is closer.
    const t = halfToFloatTable();
    const err = Math.abs(t[nearest] - value);
    if (nearest !== 0x7bff) expect(Math.abs(t[doubleRounded] - value)).toBeGreaterThan(err);
  });

  it('toHalfBits special values', () => {
    expect(toHalfBits(0)).toBe(0);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65519)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // the tie above the largest finite value rounds to Inf
    expect(toHalfBits(Infinity)).toBe(0x7c00);
    expect(toHalfBits(-Infinity)).toBe(0xfc00);
    expect(toHalfBits(1e300)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal → even (0)
    expect(toHalfBits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal ulps → even
    expect(toHalfBits(-(2 ** -26))).toBe(0x8000);
    expect(toHalfBits(1e-300)).toBe(0x0000);
    expect(toHalfBits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up from the subnormal range into the normals
    expect(toHalfBits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(toHalfBits(2 ** -14 - 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(toHalfBits(2047)).toBe(0x67ff);
    expect(toHalfBits(2049)).toBe(0x6800); // tie between 2048 and 2050 → even (2048)
    expect(toHalfBits(2 - 2 ** -12)).toBe(0x4000); // rounds up across the exponent boundary
    const nan = toHalfBits(NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x3ff).not.toBe(0);
  });

  it(`halfToFloatTable decodes like numpy for ${fp16.decodeHalfBits.length} bit patterns`, () => {
    const t = halfToFloatTable();
    expect(t).toHaveLength(65536);
    expect(halfToFloatTable()).toBe(t); // cached
    fp16.decodeHalfBits.forEach((h, i) => {
      expect(hex(f32Bits(t[h]), 8), `half ${hex(h)}`).toBe(hex(fp16.decodeFloat32Bits[i], 8));
    });
    expect(Object.is(t[0x8000], -0)).toBe(true);
    expect(t[0x7c00]).toBe(Infinity);
    expect(t[0xfc00]).toBe(-Infinity);
    expect(t[0x7bff]).toBe(65504);
    expect(t[0x0001]).toBe(2 ** -24);
    expect(t[0x7e00]).toBeNaN();
    expect(t[0xfc01]).toBeNaN();
  });

  it('every non-NaN fp16 value round-trips through the table and toHalfBits', () => {
    const t = halfToFloatTable();
    let nans = 0;
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) {
        nans++;
        expect(t[h]).toBeNaN();
        const back = toHalfBits(t[h]);
        expect((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0).toBe(true);
      } else if (toHalfBits(t[h]) !== h) {
        expect(hex(toHalfBits(t[h])), `half ${hex(h)}`).toBe(hex(h));
      }
    }
    expect(nans).toBe(2 * 1023);
  });

  it('toHalfArray / fromHalfArray', () => {
    const values = Float32Array.from([0, -0, 1, -1.5, 0.1, 65504, 1e6, -1e-8, 2 ** -20]);
    const bits = toHalfArray(values);
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(Array.from(bits)).toEqual(Array.from(values, toHalfBits));
    const back = fromHalfArray(bits);
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back)).toEqual([0, -0, 1, -1.5, 0.0999755859375, 65504, Infinity, -0, 2 ** -20]);
    expect(Object.is(back[1], -0)).toBe(true);
    // Accepts plain arrays and Float64Arrays.
    expect(Array.from(toHalfArray([0.5, 2]))).toEqual([0x3800, 0x4000]);
    expect(Array.from(toHalfArray(Float64Array.of(0.5, 2)))).toEqual([0x3800, 0x4000]);
    expect(toHalfArray([])).toHaveLength(0);
    expect(fromHalfArray(new Uint16Array(0))).toHaveLength(0);
    // Relative rounding error of normal values is at most 2^-11.
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround((Math.sin(i * 12.9898) * 43758.5453) % 1000);
      if (Math.abs(v) < 2 ** -14) continue;
      const r = fromHalfArray(toHalfArray([v]))[0];
      expect(Math.abs(r - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
    }
  });
});
