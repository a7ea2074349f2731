import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { assembleKernels, kernelsModuleSource } from '../../../tools/build-wasm.ts';
import { DotKernel, GaussianKernel } from './simdKernels.ts';
import type { GaussianSections } from '../index/indexFormat.ts';
import { packedSize, toHalfArray } from '../math/linalg.ts';
import { firstMomentDotsJs, mahalanobis } from './methods.ts';

function randomSections(dim: number, count: number, dtype: 'f32' | 'f16', seed: number): GaussianSections {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const w = new Float32Array(count * packedSize(dim)).map(() => rand() * 0.3);
  // Keep values inside fp16's normal range, plus some subnormals and exact zeros.
  for (let i = 0; i < w.length; i += 97) w[i] = 3e-6 * rand();
  for (let i = 0; i < w.length; i += 89) w[i] = 0;
  const bias = new Float32Array(count * dim).map(() => rand());
  const precision = dtype === 'f16' ? { dtype, data: toHalfArray(w) } as const : { dtype, data: w } as const;
  return { precision, bias, logDet: new Float32Array(count), epsilon: new Float32Array(count) };
}

describe('WASM Gaussian kernel', () => {
  it('is assembled from kernels.wat (the committed base64 is up to date)', async () => {
    const committed = await readFile(new URL('./wasm/kernels.wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(kernelsModuleSource(await assembleKernels()));
  });

  for (const dtype of ['f32', 'f16'] as const) {
    for (const dim of [1, 7, 8, 9, 33, 130]) {
      it(`matches the JS loop (${dtype}, d=${dim}, ragged row tails)`, () => {
        const count = 11;
        // Several models: the masked row-end step reads into the next model's factor, and past the last one.
        const g = randomSections(dim, count, dtype, dim * 31 + (dtype === 'f16' ? 1 : 0));
        const q = new Float32Array(dim).map((_, i) => Math.sin(i + 1));
        const kernel = GaussianKernel.create(g, dim, count);
        expect(kernel).not.toBeNull();
        const got = kernel!.mahalanobis(q);
        const want = mahalanobis(g.precision, g.bias, dim, count, q);
        for (let m = 0; m < count; m++) expect(Math.abs(got[m] - want[m]) / (want[m] + 1e-9)).toBeLessThan(1e-5);
        // A second query reuses the copied factors.
        const q2 = q.map((v) => -v);
        const want2 = mahalanobis(g.precision, g.bias, dim, count, q2);
        kernel!.mahalanobis(q2).forEach((v, m) => expect(Math.abs(v - want2[m]) / (want2[m] + 1e-9)).toBeLessThan(1e-5));
      });
    }
  }
});

describe('WASM dot-product kernel (1st moment)', () => {
  for (const dim of [1, 15, 16, 17, 32, 100, 512]) {
    it(`matches the JS loop for d=${dim} (rows padded to 16 lanes)`, () => {
      const count = 13;
      const rows = new Float32Array(count * dim).map((_, i) => Math.sin(i * 0.37));
      const q = new Float32Array(dim).map((_, i) => Math.cos(i * 0.11));
      const kernel = DotKernel.create(rows, dim, count);
      expect(kernel).not.toBeNull();
      const got = kernel!.dots(q);
      const want = firstMomentDotsJs(rows, dim, count, q);
      for (let m = 0; m < count; m++) expect(Math.abs(got[m] - want[m])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[m])));
      // The kernel copied the rows: changing the source afterwards does not change results.
      rows.fill(0);
      expect(Array.from(kernel!.dots(q))).toEqual(Array.from(got));
    });
  }
});
