/**
 * test/support/heldOutIndex.ts: an index with one model left out, derived from the full index,
 * equals a build without that model's folder (index.bin, models.json, thumbnails, settings).
 */
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { readIndexDir, tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';
import { writeHeldOutIndex } from '../support/heldOutIndex.ts';

let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('held-out-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

const SPECS: ModelSpec[] = [
  { folder: 'red', colour: [220, 30, 30], images: 4, seed: 1, modelJson: { name: 'Red' } },
  { folder: 'green', colour: [30, 170, 40], images: 5, seed: 2 },
  { folder: 'blue', colour: [20, 40, 220], images: 3, seed: 3 },
];

async function files(dir: string): Promise<Map<string, Buffer>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out = new Map<string, Buffer>();
  for (const e of entries) if (e.isFile()) out.set(join(e.parentPath, e.name).slice(dir.length + 1), await readFile(join(e.parentPath, e.name)));
  return out;
}

describe('writeHeldOutIndex', () => {
  const cases: [string, Partial<BuildOptions>][] = [
    ['demo-like settings (f16 factors and samples)', { samplesPrecision: 'f16', keepSamples: 32 }],
    ['f32 factors, no samples', { precision: 'f32', keepSamples: 0, thumbnails: 1 }],
  ];
  for (const [n, [label, opts]] of cases.entries()) {
    it(`equals a build without the model: ${label}`, async () => {
      const dir = join(tmp.path, `case${n}`);
      const build = (modelsDir: string, outDir: string) =>
        buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, modelsDir, outDir, name: 'zoo', licence: 'CC0-1.0', ...opts }, { encoder });
      await writeModels(join(dir, 'models'), SPECS);
      await build(join(dir, 'models'), join(dir, 'full'));
      await rename(join(dir, 'models', 'green'), join(dir, 'green-aside'));
      await build(join(dir, 'models'), join(dir, 'without'));

      await writeHeldOutIndex(join(dir, 'full'), join(dir, 'heldout'), 'green');
      const [want, got] = await Promise.all([readIndexDir(join(dir, 'without')), readIndexDir(join(dir, 'heldout'))]);
      expect(Buffer.from(got.bin).equals(Buffer.from(want.bin))).toBe(true);
      expect(got.modelsJson).toBe(want.modelsJson);
      const { samplesPerModel, ...params } = want.manifest.params!;
      expect(samplesPerModel).toBeDefined();
      expect(got.manifest.params).toEqual(params);
      expect(got.manifest).toMatchObject({ name: 'zoo', licence: 'CC0-1.0', count: 2 });
      expect(got.manifest.calibration).toBeUndefined();
      const [wantFiles, gotFiles] = await Promise.all([files(join(dir, 'without')), files(join(dir, 'heldout'))]);
      wantFiles.delete('manifest.json');
      gotFiles.delete('manifest.json');
      expect(gotFiles).toEqual(wantFiles);
    });
  }

  it('refuses an id the index does not have', async () => {
    const dir = join(tmp.path, 'missing');
    await writeModels(join(dir, 'models'), SPECS.slice(0, 2));
    await buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, modelsDir: join(dir, 'models'), outDir: join(dir, 'full'), thumbnails: 0 }, { encoder });
    await expect(writeHeldOutIndex(join(dir, 'full'), join(dir, 'out'), 'nope')).rejects.toThrow(/has no model "nope"/);
  });
});
