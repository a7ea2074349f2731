import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../io/errors.ts';
import { HEADER_BYTES, SECTION_ENTRY_BYTES, readIndex, writeIndex, type IndexInput, type Precision, type SearchIndex } from './indexFormat.ts';
import { packedSize } from '../math/linalg.ts';
import { scoreMethod, supportedMethods } from '../scoring/methods.ts';
import { MomentAccumulator, gaussianFactors } from './modelStats.ts';
import { mulberry32 as rng } from '../math/prng.ts';

// Property tests of the index reader against corrupted input. Runs are bounded (numRuns) and
// seeded, so a failure prints a reproducible counterexample; set FC_SEED to explore other seeds.
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240612;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 300;

/** A valid index with every section, built the real way (unit samples → moments → factors). */
function fullInput(dim: number, count: number, precision: Precision, samples: Precision, seed: number): IndexInput {
  const next = rng(seed);
  const P = packedSize(dim);
  const means = new Float32Array(count * dim);
  const prec = new Float64Array(count * P);
  const epsilon = new Float32Array(count);
  const perModel: Float32Array[] = [];
  for (let m = 0; m < count; m++) {
    const n = 2 + ((m * 3) % 5);
    const x = new Float32Array(n * dim);
    const acc = new MomentAccumulator(dim);
    for (let s = 0; s < n; s++) {
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const v = (j === m % dim ? 1.5 : 0) + next() - 0.5;
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
    // Model 2 keeps no samples: Monte-Carlo and best-k legitimately give it −Infinity.
    perModel.push(m === 2 ? new Float32Array(0) : x);
  }
  const projection = Float32Array.from({ length: dim * dim }, (_, k) => (k % (dim + 1) === 0 ? 1 : 0) + (next() - 0.5) * 0.4);
  return { dim, means, gaussian: { precision: prec, epsilon, dtype: precision }, samples: { perModel, dtype: samples }, projection };
}

const DIM = 6;
const COUNT = 4;
const S = 3;

/** Style data: S unit reference features per model (model 1 keeps none), and a [4, DIM] projection. */
function styleInput(seed: number): NonNullable<IndexInput['style']> {
  const next = rng(seed);
  const refs = new Float32Array(COUNT * S * DIM);
  const keep = new Uint8Array(COUNT * S);
  for (let r = 0; r < COUNT * S; r++) {
    let n = 0;
    for (let j = 0; j < DIM; j++) n += (refs[r * DIM + j] = (j === r % DIM ? 1 : 0) + next() - 0.5) ** 2;
    for (let j = 0; j < DIM; j++) refs[r * DIM + j] /= Math.sqrt(n);
    keep[r] = Math.floor(r / S) === 1 || r % S === 2 ? 0 : 1;
  }
  const projection = Float32Array.from({ length: 4 * DIM }, () => next() - 0.5);
  return { refs, keep, refsPerModel: S, dtype: 'f16', projection };
}

const VARIANTS: { label: string; bytes: Uint8Array }[] = [
  { label: 'f32 factors + f32 samples', bytes: writeIndex(fullInput(DIM, COUNT, 'f32', 'f32', 1)) },
  { label: 'f16 factors + f16 samples', bytes: writeIndex(fullInput(DIM, COUNT, 'f16', 'f16', 2)) },
  { label: 'f32 factors + f16 samples + f16 style refs', bytes: writeIndex({ ...fullInput(DIM, COUNT, 'f32', 'f16', 3), style: styleInput(4) }) },
];
const ORIGINAL = VARIANTS.map((v) => readIndex(v.bytes));

/** Runs readIndex; any throw other than AppError('index-format') fails the property. */
function tryRead(bytes: Uint8Array): SearchIndex | undefined {
  try {
    return readIndex(bytes);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'index-format') throw new Error(`readIndex threw something else: ${String(err)}`);
    return undefined;
  }
}

function expectAppError(bytes: Uint8Array): void {
  expect(tryRead(bytes), 'readIndex should have rejected the file').toBeUndefined();
}

/** A random unit query of the index's dimension. */
// (Integers, not fc.double: fast-check's doubles are uniform over representations, i.e. mostly tiny.)
const unitQuery = fc
  .array(fc.integer({ min: -1000, max: 1000 }), { minLength: DIM, maxLength: DIM })
  .filter((v) => v.some((x) => x !== 0))
  .map((v) => {
    const n = Math.hypot(...v);
    return Float32Array.from(v, (x) => x / n);
  });

/** Every supported method's scores: finite or −Infinity, never NaN or +Infinity. */
function checkScores(index: SearchIndex, query: Float32Array): void {
  for (const method of supportedMethods(index)) {
    for (const params of [{ temperature: 100 }, { k: 3, temperature: 100 }]) {
      const s = scoreMethod(index, method, query, params);
      expect(s).toHaveLength(index.count);
      for (let m = 0; m < s.length; m++) {
        const v = s[m];
        if (!(Number.isFinite(v) || v === -Infinity)) {
          throw new Error(`${method} ${JSON.stringify(params)} gave ${v} for model ${m} (query ${Array.from(query).join(',')})`);
        }
      }
    }
  }
}

describe('indexFormat properties', () => {
  it('the uncorrupted indexes parse and score', () => {
    for (const [i, v] of VARIANTS.entries()) {
      expect(ORIGINAL[i].gaussian && ORIGINAL[i].samples && ORIGINAL[i].projection).toBeTruthy();
      expect(supportedMethods(ORIGINAL[i])).toHaveLength(ORIGINAL[i].style ? 7 : 6);
      checkScores(readIndex(v.bytes), Float32Array.from({ length: DIM }, (_, j) => (j === 0 ? 1 : 0)));
    }
  });

  it('random truncation → AppError("index-format"), also at an unaligned byteOffset', () => {
    fc.assert(
      fc.property(fc.nat(VARIANTS.length - 1), fc.nat({ max: 1_000_000 }), fc.nat(7), (v, r, shift) => {
        const bytes = VARIANTS[v].bytes;
        // Everything up to the end of the last section is required; after it, only padding.
        const len = r % lastSectionEnd(bytes);
        expectAppError(bytes.subarray(0, len));
        const moved = new Uint8Array(len + shift);
        moved.set(bytes.subarray(0, len), shift);
        expectAppError(moved.subarray(shift));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  /** Flips 1–8 random bits of a variant; returns the parsed index or undefined if readIndex rejected it. */
  const flipped = fc.tuple(fc.nat(VARIANTS.length - 1), fc.array(fc.nat({ max: 0x7fffffff }), { minLength: 1, maxLength: 8 }));
  function flipAndRead([v, positions]: [number, number[]]): SearchIndex | undefined {
    const bytes = VARIANTS[v].bytes.slice();
    const bits = bytes.byteLength * 8;
    for (const p of positions) {
      const bit = p % bits;
      bytes[bit >> 3] ^= 1 << (bit & 7);
    }
    return tryRead(bytes);
  }

  it('random single / multi bit flips → AppError, or an index whose every method scores without NaN (no other exception, no hang)', () => {
    let rejected = 0;
    let parsed = 0;
    fc.assert(
      fc.property(flipped, unitQuery, (flip, query) => {
        const started = performance.now();
        const index = flipAndRead(flip);
        if (!index) {
          rejected++;
          return;
        }
        parsed++;
        for (const method of supportedMethods(index)) {
          for (const params of [{ temperature: 100 }, { k: 3, temperature: 100 }]) {
            const s = scoreMethod(index, method, query, params);
            expect(s).toHaveLength(index.count);
            const bad = s.findIndex(Number.isNaN);
            if (bad >= 0) throw new Error(`${method} ${JSON.stringify(params)} gave NaN for model ${bad}`);
          }
        }
        // No hang: parsing plus scoring a tiny index is sub-millisecond; allow generous slack.
        expect(performance.now() - started).toBeLessThan(1000);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Both outcomes occur (flips in padding or in values are accepted; in the header, mostly rejected).
    expect(rejected).toBeGreaterThan(0);
    expect(parsed).toBeGreaterThan(0);
  });

  // readIndex used to check float sections for finiteness only, so an accepted bit flip could make a
  // method return +Infinity for the corrupted model, which then topped the ranking. It now also
  // checks what unit-vector statistics imply (|μ| ≤ 1, norms = |μ|, unit samples, ε range, bounded
  // precision entries, W_ii ≥ 0.5, consistent logDet, no section inside the header or overlapping).
  it('random bit flips never make a method return +Infinity or NaN (finite or −Infinity only)', () => {
    let parsed = 0;
    fc.assert(
      fc.property(flipped, unitQuery, (flip, query) => {
        const index = flipAndRead(flip);
        if (!index) return;
        parsed++;
        checkScores(index, query);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Some corrupted files are accepted, so the scores were really checked.
    expect(parsed).toBeGreaterThan(0);
  });

  it('every single bit flip of every variant → AppError, or finite / −Infinity scores only', () => {
    // (No expect() in the loop: ~20 000 accepted files × queries × methods.)
    const queries = [
      Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0)),
      Float32Array.from({ length: DIM }, (_, i) => (i === DIM - 1 ? -1 : 0)),
      Float32Array.from({ length: DIM }, (_, i) => (i % 2 ? -1 : 1) / Math.sqrt(DIM)),
    ];
    let accepted = 0;
    let rejected = 0;
    const failures: string[] = [];
    for (const { bytes: original, label } of VARIANTS) {
      const bytes = original.slice();
      for (let bit = 0; bit < bytes.byteLength * 8; bit++) {
        bytes[bit >> 3] ^= 1 << (bit & 7);
        const index = tryRead(bytes);
        bytes[bit >> 3] ^= 1 << (bit & 7);
        if (!index) {
          rejected++;
          continue;
        }
        accepted++;
        for (const q of queries) {
          for (const method of supportedMethods(index)) {
            for (const params of [{ temperature: 100 }, { k: 3, temperature: 100 }]) {
              const s = scoreMethod(index, method, q, params);
              const bad = s.findIndex((v) => !(Number.isFinite(v) || v === -Infinity));
              if (s.length !== index.count || bad >= 0) failures.push(`${label}, byte ${bit >> 3} bit ${bit & 7}: ${method} ${JSON.stringify(params)} gave ${s[bad]} for model ${bad}`);
            }
          }
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  }, 120_000); // every bit flip of every variant, read and scored: 18 s alone, 42 s measured on a loaded 2-core machine

  describe('deterministic single-bit corruptions that used to be accepted and yield +Infinity', () => {
    const f32 = VARIANTS[0].bytes;
    const sectionOffset = (bytes: Uint8Array, kind: number) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < view.getUint32(16, true); i++) {
        const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
        if (view.getUint32(e, true) === kind) return Number(view.getBigUint64(e + 8, true));
      }
      throw new Error(`no section ${kind}`);
    };
    const flipBit = (bytes: Uint8Array, byte: number, bit: number) => {
      const copy = bytes.slice();
      copy[byte] ^= 1 << bit;
      return copy;
    };
    /** The reader's error message for `bytes` (which it must reject with AppError('index-format')). */
    const rejection = (bytes: Uint8Array): string => {
      try {
        readIndex(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('index-format');
        return (err as AppError).message;
      }
      throw new Error('readIndex accepted the corrupted file');
    };

    // Kept samples must be unit vectors (|‖x‖² − 1| ≤ 1e-2), as the format documents.
    it('a flipped exponent bit in an f32 sample (0.x → ~1e38) is rejected, so Monte-Carlo cannot give +Infinity', () => {
      const at = sectionOffset(f32, 8);
      const first = new DataView(f32.buffer, f32.byteOffset).getFloat32(at, true);
      expect(Math.abs(first)).toBeLessThan(1);
      const bytes = flipBit(f32, at + 3, 6); // bit 30 of the first sample value
      expect(Math.abs(new DataView(bytes.buffer).getFloat32(at, true))).toBeGreaterThan(1e37);
      expect(rejection(bytes)).toMatch(/sample 0 is not a unit vector/);
    });

    // For unit embeddings (Σ + εI)_ii ≤ 2 + ε, so W_ii = 1/L_ii > 0.5: a subnormal diagonal is rejected.
    it('a flipped exponent bit in an f32 precision diagonal (→ subnormal) is rejected, so 1st+2nd moment cannot give +Infinity', () => {
      const at = sectionOffset(f32, 3);
      const bytes = flipBit(f32, at + 3, 6); // bit 30 of W_00 of model 0
      const w00 = new DataView(bytes.buffer).getFloat32(at, true);
      expect(w00).toBeGreaterThan(0);
      expect(w00).toBeLessThan(1e-30);
      expect(rejection(bytes)).toMatch(/model #0 has an implausible precision diagonal/);
    });

    // Norms read from the header ("MSIX…") after a flipped offset bit.
    it('a flipped bit in the norms offset (→ the header) is rejected, so 1st moment cannot give ±Infinity', () => {
      const view = new DataView(f32.buffer, f32.byteOffset);
      let entry = -1;
      for (let i = 0; i < view.getUint32(16, true); i++) if (view.getUint32(HEADER_BYTES + i * SECTION_ENTRY_BYTES, true) === 2) entry = i;
      const offsetAt = HEADER_BYTES + entry * SECTION_ENTRY_BYTES + 8;
      const offset = view.getUint32(offsetAt, true);
      expect(offset).toBe(512); // a single set bit: flipping it points the norms at byte 0
      const bytes = flipBit(f32, offsetAt + 1, 1);
      expect(new DataView(bytes.buffer).getUint32(offsetAt, true)).toBe(0);
      expect(rejection(bytes)).toMatch(new RegExp(`section ${entry} starts inside the header or section table`));
    });
  });

  describe('multi-bit corruption of the fine-tuned projection', () => {
    // Three bit-30 flips in row 4 of the f16 variant's projection matrix: P_40, P_42, P_44 (all < 1 in
    // magnitude) are multiplied by exactly 2^128 and stay finite, so readIndex accepts the file.
    const bytes = VARIANTS[1].bytes;
    const P = ORIGINAL[1].projection!.matrix;
    const cols = [0, 2, 4];
    const row = 4;

    it('the case below is reachable: the flipped entries stay finite and their row norm exceeds 1', () => {
      for (const j of cols) expect(Math.abs(P[row * DIM + j])).toBeLessThan(1);
      expect(Math.hypot(...cols.map((j) => P[row * DIM + j]))).toBeGreaterThan(1);
    });

    // Regression: P_4j ≈ 1e38 from three flipped bits used to overflow (P q)_4 in float32 and give
    // +Infinity; fineTunedScores now projects in float64 and readIndex checks the projected means.
    it('three flipped exponent bits in one projection row → AppError, or finite fine-tuned scores', () => {
      const at = (() => {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < view.getUint32(16, true); i++) {
          const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
          if (view.getUint32(e, true) === 9) return Number(view.getBigUint64(e + 8, true));
        }
        throw new Error('no projection');
      })();
      const bad = bytes.slice();
      for (const j of cols) bad[at + 4 * (row * DIM + j) + 3] ^= 0x40;
      const index = tryRead(bad);
      if (!index) return;
      const q = new Float32Array(DIM);
      const n = Math.hypot(...cols.map((j) => P[row * DIM + j]));
      for (const j of cols) q[j] = P[row * DIM + j] / n;
      const s = scoreMethod(index, 'fine-tuned', q);
      for (let m = 0; m < s.length; m++) expect(Number.isFinite(s[m]), `model ${m}: ${s[m]}`).toBe(true);
    });
  });

  it('random wrong dim / count in the header → AppError', () => {
    const field = fc.constantFrom(8, 12);
    const value = fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 64 }));
    fc.assert(
      fc.property(fc.nat(VARIANTS.length - 1), field, value, (v, at, x) => {
        const bytes = VARIANTS[v].bytes.slice();
        const view = new DataView(bytes.buffer);
        fc.pre(view.getUint32(at, true) !== x);
        view.setUint32(at, x, true);
        expectAppError(bytes);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('random wrong sectionCount → AppError, or (when it drops whole optional groups off the end) a consistent subset', () => {
    fc.assert(
      fc.property(fc.nat(VARIANTS.length - 1), fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 70 })), (v, x) => {
        const bytes = VARIANTS[v].bytes.slice();
        const view = new DataView(bytes.buffer);
        const original = view.getUint32(16, true);
        fc.pre(original !== x);
        view.setUint32(16, x, true);
        const index = tryRead(bytes);
        if (!index) return;
        // The format cannot tell a shorter table from an index written without the later sections:
        // accept only a prefix that ends on a group boundary, with unchanged data.
        expect(x).toBeLessThan(original);
        // (The style variant can also drop its optional StyleProjection, or all of its style sections.)
        const ref = ORIGINAL[v];
        expect(ref.style ? [2, 6, 8, 10, 12] : [2, 6, 8]).toContain(x);
        expect(index.means).toEqual(ref.means);
        expect(index.norms).toEqual(ref.norms);
        if (index.gaussian) expect(index.gaussian).toEqual(ref.gaussian);
        if (index.samples) expect(index.samples).toEqual(ref.samples);
        if (x < 10) expect(index.projection).toBeUndefined();
        else expect(index.projection).toEqual(ref.projection);
        if (x < 12) expect(index.style).toBeUndefined();
        else expect(index.style).toEqual({ ...ref.style, projection: undefined });
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

function lastSectionEnd(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = 0;
  for (let i = 0; i < view.getUint32(16, true); i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    end = Math.max(end, Number(view.getBigUint64(e + 8, true) + view.getBigUint64(e + 16, true)));
  }
  return end;
}
