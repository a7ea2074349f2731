import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mulberry32 } from '../math/prng.ts';
import { lowRankLogDensity, type LowRankRecord } from '../index/lowRankGaussian.ts';
import { gaussianProxyScores, int8CosineScores, quantiseMeansInt8, signAgreementScores, signCodes, type Int8Means } from './prefilter.ts';
import { lowRankScoresKernel, prefilterKernel, queryLimbs, type PrefilterHead } from './tieredKernels.ts';

function randomRows(count: number, dim: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count * dim }, () => next() * 2 - 1);
}

/** A head with every part (the kernel also takes sign-only heads). */
type FullHead = Required<PrefilterHead>;

function randomHead(count: number, dim: number, seed: number): FullHead {
  const means = randomRows(count, dim, seed);
  if (count > 3) means.fill(0, 2 * dim, 3 * dim); // a zero mean: cosine 0
  const next = mulberry32(seed + 99);
  return {
    prefilter: quantiseMeansInt8(means, dim),
    proxy: {
      precision: Float32Array.from({ length: count }, () => 1 + 100 * next()),
      logDet: Float32Array.from({ length: count }, () => -3000 * next()),
    },
    signs: signCodes(means, dim),
  };
}

/**
 * What the dot's rounding is relative to: 1e-9 · Σ_j |codes_j · q_j| · |scale| (any summation order)
 * plus the kernel's limb bound 2^-43 · max|q| · Σ_j |codes_j| · |scale| (components below 2^-19 of
 * the largest are rounded to 2^-43 of it).
 */
function termScale(m: Int8Means, q: Float32Array, i: number): number {
  let s = 0;
  let c = 0;
  let max = 0;
  for (let j = 0; j < m.dim; j++) {
    s += Math.abs(m.codes[i * m.dim + j]! * q[j]!);
    c += Math.abs(m.codes[i * m.dim + j]!);
    max = Math.max(max, Math.abs(q[j]!));
  }
  return (1e-9 * s + 2 ** -43 * max * c) * Math.abs(m.scale[i]!);
}

/**
 * The kernel's float scores against the JS ones: equal, or within 1e-6 relative — where the dot
 * cancels to far below its terms, within termScale (scaled by `gain`: d score / d dot).
 * Non-finite scores must be identical. Returns how many were bit-identical.
 */
function expectClose(got: Float32Array, want: Float32Array, m: Int8Means, q: Float32Array, gain: (i: number) => number): number {
  let same = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (Object.is(a, b)) {
      same++;
      continue;
    }
    if (!Number.isFinite(b) || !Number.isFinite(a)) expect(a, `model ${i}`).toBe(b);
    const tol = 1e-6 * Math.abs(b) + gain(i) * termScale(m, q, i) + 1e-40;
    expect(Math.abs(a - b), `model ${i}: ${a} vs ${b}`).toBeLessThanOrEqual(tol);
  }
  return same;
}

function checkAll(head: FullHead, query: Float32Array): { same: number; total: number } {
  const m = head.prefilter;
  const k = prefilterKernel(head, { engine: 'wasm' });
  expect(k.engines).toEqual({ int8: 'wasm', signs: 'wasm' });
  let same = 0;
  const cos = k.cosineScores(query);
  same += expectClose(cos, int8CosineScores(m, query), m, query, (i) => (m.norms[i]! > 0 ? 1 / m.norms[i]! : 0));
  const proxy = k.proxyScores(query);
  const want = gaussianProxyScores(m, head.proxy.precision, head.proxy.logDet, query);
  same += expectClose(proxy, want, m, query, (i) => Math.abs(head.proxy.precision[i]!));
  {
    const want = Array.from(signAgreementScores(head.signs, query));
    expect(Array.from(k.signScores(query))).toEqual(want);
    const simd = prefilterKernel({ signs: head.signs }, { engine: 'wasm', signPopcount: 'i8x16' });
    expect(Array.from(simd.signScores(query))).toEqual(want);
  }
  return { same, total: 2 * m.count };
}

describe('tiered prefilter kernels (WASM) against prefilter.ts', () => {
  for (const [dim, count] of [[1, 1], [7, 5], [15, 9], [16, 4], [17, 7], [31, 3], [32, 8], [33, 13], [100, 21], [127, 6], [512, 203], [768, 10]] as const) {
    it(`d=${dim}, N=${count}: sign scores identical, int8 scores equal or within 1e-6`, () => {
      const head = randomHead(count, dim, dim * 7 + count);
      const { same, total } = checkAll(head, randomRows(1, dim, dim + 1));
      // The kernel's dot is exactly rounded; the JS sum rounds too, but both end in float32: nearly all bit-equal.
      expect(same).toBeGreaterThanOrEqual(Math.floor(0.9 * total));
    });
  }

  it('sign codes longer than 31 vectors a model (d = 4100: the i8x16 kernel widens its byte counts)', () => {
    const dim = 4100;
    const rows = randomRows(5, dim, 21);
    const signs = signCodes(rows, dim);
    const q = randomRows(1, dim, 22);
    const want = Array.from(signAgreementScores(signs, q));
    for (const signPopcount of ['i64', 'i8x16'] as const) expect(Array.from(prefilterKernel({ signs }, { engine: 'wasm', signPopcount }).signScores(q))).toEqual(want);
    // Every sign disagreeing: 0 (the widest counts).
    const all = Array.from(prefilterKernel({ signs }, { signPopcount: 'i8x16' }).signScores(rows.subarray(0, dim).map((v) => (v > 0 ? -1 : 1))));
    expect(all[0]).toBe(0);
  });

  it('reuses the copied codes: later queries and edits of the source arrays do not matter', () => {
    const dim = 40;
    const head = randomHead(12, dim, 5);
    const k = prefilterKernel(head);
    const q1 = randomRows(1, dim, 6);
    const first = k.signScores(q1).slice();
    const firstCos = k.cosineScores(q1).slice();
    head.signs!.bits.fill(0);
    head.prefilter.codes.fill(0);
    expect(Array.from(k.signScores(q1))).toEqual(Array.from(first));
    expect(Array.from(k.cosineScores(q1))).toEqual(Array.from(firstCos));
  });

  it('writes into a given output array', () => {
    const head = randomHead(9, 20, 3);
    const k = prefilterKernel(head);
    const q = randomRows(1, 20, 4);
    const out = new Float32Array(9);
    expect(k.signScores(q, out)).toBe(out);
    expect(k.proxyScores(q, out)).toBe(out);
    expect(k.cosineScores(q, out)).toBe(out);
  });

  it('rejects a query of the wrong size and a sign query on a head without sign codes', () => {
    const head = randomHead(4, 10, 1);
    const k = prefilterKernel(head);
    expect(() => k.cosineScores(new Float32Array(9))).toThrow(/9 dimensions, the index 10/);
    expect(() => k.signScores(new Float32Array(11))).toThrow(/11 dimensions/);
    const noSigns = prefilterKernel({ prefilter: head.prefilter, proxy: head.proxy });
    expect(noSigns.engines.signs).toBeNull();
    expect(() => noSigns.signScores(new Float32Array(10))).toThrow(/no sign codes/);
  });

  it('queries with NaN or ±∞ give the JS results exactly (they take the JS path)', () => {
    const head = randomHead(6, 24, 8);
    const k = prefilterKernel(head);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const q = randomRows(1, 24, 9);
      q[5] = bad;
      expect(Array.from(k.cosineScores(q))).toEqual(Array.from(int8CosineScores(head.prefilter, q)));
      expect(Array.from(k.proxyScores(q))).toEqual(Array.from(gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, q)));
      expect(Array.from(k.signScores(q))).toEqual(Array.from(signAgreementScores(head.signs!, q)));
    }
  });

  it('a zero query, a tiny (subnormal) one and a huge one', () => {
    const dim = 33;
    const head = randomHead(10, dim, 12);
    for (const q of [new Float32Array(dim), randomRows(1, dim, 13).map((v) => v * 1e-42), randomRows(1, dim, 14).map((v) => v * 1e30)]) checkAll(head, q);
  });

  it('property: equal to the JS for raw codes (−128…127), any scales, odd dims, N not a multiple of 4', () => {
    const floatQ = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(floatQ, { minLength: 70, maxLength: 70 }),
        fc.constantFrom(1, 1e-3, 1e3, 1e-20),
        (dim, count, seed, qValues, qScale) => {
          const next = mulberry32(seed);
          const codes = Int8Array.from({ length: count * dim }, () => Math.floor(next() * 256) - 128);
          const scale = Float32Array.from({ length: count }, () => (next() - 0.2) * 0.05);
          const norms = Float32Array.from({ length: count }, (_, i) => (i === 0 ? 0 : next() * 2));
          const means: Int8Means = { dim, count, codes, scale, norms };
          const rows = randomRows(count, dim, seed + 1);
          const head: FullHead = {
            prefilter: means,
            proxy: { precision: Float32Array.from({ length: count }, () => next() * 50), logDet: Float32Array.from({ length: count }, () => (next() - 0.5) * 1e3) },
            signs: signCodes(rows, dim),
          };
          const query = Float32Array.from({ length: dim }, (_, j) => qValues[j]! * qScale);
          checkAll(head, query);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: the query limbs hold every component within 2^19 of the largest exactly, the rest to 2^-43 of it', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }), (values) => {
        const q = Float32Array.from(values);
        const stride = Math.ceil(q.length / 16) * 16;
        const { limbs, invK } = queryLimbs(q, stride)!;
        let max = 0;
        for (const v of q) max = Math.max(max, Math.abs(v));
        for (let j = 0; j < q.length; j++) {
          for (let l = 0; l < 3; l++) expect(Math.abs(limbs[l * stride + j]!)).toBeLessThanOrEqual(l < 2 ? 16384 : 8193);
          const back = (limbs[j]! + 2 ** 15 * limbs[stride + j]! + 2 ** 30 * limbs[2 * stride + j]!) * invK;
          if (Math.abs(q[j]!) >= max * 2 ** -19) expect(back).toBe(q[j]! === 0 ? 0 : q[j]!);
          else expect(Math.abs(back - q[j]!)).toBeLessThanOrEqual(max * 2 ** -43);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('tiered prefilter kernels: fallbacks', () => {
  afterEach(() => vi.restoreAllMocks());

  it('int8 codes above maxCodeBytes are scored in JS (sign codes still in WASM), and say why', () => {
    const head = randomHead(50, 64, 2);
    const k = prefilterKernel(head, { maxCodeBytes: 1000 });
    expect(k.engines).toEqual({ int8: 'js', signs: 'wasm' });
    expect(k.fallbacks.join(' ')).toMatch(/int8 prefilter runs in JS: its 0 MiB of codes are more than/);
    const q = randomRows(1, 64, 3);
    expect(Array.from(k.cosineScores(q))).toEqual(Array.from(int8CosineScores(head.prefilter, q)));
  });

  it('a memory limit below what a part needs: JS with the reason, or a clear error for engine "wasm"', () => {
    const head = randomHead(30, 48, 4);
    const k = prefilterKernel(head, { memoryLimit: 256 });
    expect(k.engines).toEqual({ int8: 'js', signs: 'js' });
    expect(k.fallbacks).toHaveLength(2);
    expect(k.fallbacks[1]).toMatch(/sign-code prefilter runs in JS: .* MiB of kernel memory is more than/);
    const q = randomRows(1, 48, 5);
    expect(Array.from(k.signScores(q))).toEqual(Array.from(signAgreementScores(head.signs!, q)));
    expect(Array.from(k.proxyScores(q))).toEqual(Array.from(gaussianProxyScores(head.prefilter, head.proxy.precision, head.proxy.logDet, q)));
    expect(() => prefilterKernel(head, { memoryLimit: 1024, engine: 'wasm' })).toThrow(/int8 prefilter cannot run in WebAssembly: .* more than/);
  });

  it('a memory.grow that fails (engine cap, tab out of memory): JS with the engine’s reason', () => {
    const head = randomHead(5000, 64, 6); // codes and sign codes > 64 KiB: both need to grow
    vi.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    const k = prefilterKernel(head);
    expect(k.engines).toEqual({ int8: 'js', signs: 'js' });
    expect(k.fallbacks[0]).toMatch(/WebAssembly memory could not grow to .* MiB \(WebAssembly.Memory.grow\(\): Maximum memory size exceeded\)/);
    expect(() => prefilterKernel(head, { engine: 'wasm' })).toThrow(/cannot run in WebAssembly: WebAssembly memory could not grow/);
    vi.restoreAllMocks();
    const q = randomRows(1, 64, 7);
    expect(Array.from(k.signScores(q))).toEqual(Array.from(signAgreementScores(head.signs!, q)));
  });

  it('engine "js" is prefilter.ts itself', () => {
    const head = randomHead(7, 19, 8);
    const k = prefilterKernel(head, { engine: 'js' });
    expect(k.engines).toEqual({ int8: 'js', signs: 'js' });
    expect(k.fallbacks).toEqual([]);
  });

  it('rejects heads whose arrays do not match', () => {
    const head = randomHead(5, 16, 9);
    expect(() => prefilterKernel({ ...head, proxy: { precision: new Float32Array(4), logDet: new Float32Array(5) } })).toThrow(/5 precisions/);
    expect(() => prefilterKernel({ ...head, signs: signCodes(randomRows(4, 16, 1), 16) })).toThrow(/do not match/);
  });
});

describe('low-rank rerank kernel', () => {
  function record(dim: number, rank: number, seed: number, f32 = true): LowRankRecord {
    const next = mulberry32(seed);
    const basis = Float64Array.from({ length: rank * dim }, () => (next() - 0.5) * 3);
    return {
      dim,
      rank,
      mean: Float32Array.from({ length: dim }, () => next() - 0.5),
      basis: f32 ? Float32Array.from(basis) : basis,
      isotropic: 0.01 + next() * 0.1,
      logDet: dim * Math.log(0.05),
    };
  }

  it('equals lowRankLogDensity (≤ 1e-12 relative) for float32 bases, odd dims and ranks, rank 0 and float64 bases', () => {
    for (const dim of [1, 3, 4, 5, 17, 64, 130, 512]) {
      const records = [record(dim, 7, dim), record(dim, 0, dim + 1), record(dim, 1, dim + 2), record(dim, 13, dim + 3, false), record(dim, 31, dim + 4)];
      const q = randomRows(1, dim, dim + 5);
      const got = lowRankScoresKernel(records, q);
      records.forEach((g, i) => {
        const want = lowRankLogDensity(g, q);
        expect(Math.abs(got[i]! - want), `d=${dim} record ${i}`).toBeLessThanOrEqual(1e-12 * Math.abs(want));
      });
    }
  });

  it('property: equal to lowRankLogDensity for random records', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (dim, rank, seed) => {
        const g = record(dim, rank, seed);
        const q = randomRows(1, dim, seed + 1);
        const want = lowRankLogDensity(g, q);
        const [got] = lowRankScoresKernel([g], q);
        expect(Math.abs(got! - want)).toBeLessThanOrEqual(1e-12 * Math.abs(want) + 1e-12);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a query of the wrong size', () => {
    expect(() => lowRankScoresKernel([record(8, 2, 1)], new Float32Array(7))).toThrow(/7 dimensions, the model 8/);
  });
});

describe('tiered prefilter kernels: partial heads', () => {
  it('a head of sign codes alone (1M models) scores signs; the int8 scores say what is missing', () => {
    const rows = randomRows(9, 70, 3);
    const signs = signCodes(rows, 70);
    const k = prefilterKernel({ signs });
    expect(k.engines).toEqual({ int8: null, signs: 'wasm' });
    const q = randomRows(1, 70, 4);
    expect(Array.from(k.signScores(q))).toEqual(Array.from(signAgreementScores(signs, q)));
    expect(() => k.cosineScores(q)).toThrow(/no int8 means/);
    expect(() => prefilterKernel({})).toThrow(/neither/);
  });

  it('int8 means without proxy terms: cosine only', () => {
    const head = randomHead(6, 12, 5);
    const k = prefilterKernel({ prefilter: head.prefilter });
    const q = randomRows(1, 12, 6);
    expect(k.cosineScores(q).length).toBe(6);
    expect(() => k.proxyScores(q)).toThrow(/no Gaussian prefilter terms/);
  });
});
