/**
 * The index builder (tools/lib/indexBuilder) called as a library with the test encoder: statistics
 * against an independent recomputation, metadata and warnings, bad input, the incremental
 * cache, shard + merge. The command line itself is tested in buildCli.test.ts.
 */
import { access, mkdir, readFile, readdir, rm, stat, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { fromHalfArray, packedRowOffset } from '../../src/core/math/linalg.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { InputError } from '../../tools/lib/indexBuilder/errors.ts';
import { mergeShards } from '../../tools/lib/indexBuilder/mergeShards.ts';
import type { BuildReport } from '../../tools/lib/indexBuilder/report.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import {
  hugePngHeader,
  readIndexDir,
  specPixels,
  tempDir,
  writeModels,
  type ModelSpec,
} from '../support/build/fixtures.ts';

const DIM = TEST_ENCODER.dim;
let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
let caseNo = 0;

beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp?.cleanup();
});

/** A fresh folder per test case. */
async function caseDir(): Promise<string> {
  const dir = join(tmp.path, `case${caseNo++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function build(opts: Partial<BuildOptions> & Pick<BuildOptions, 'modelsDir' | 'outDir'>): Promise<BuildReport> {
  return buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, ...opts }, { encoder });
}

async function buildError(opts: Parameters<typeof build>[0]): Promise<InputError> {
  try {
    await build(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('the build did not fail');
}

/** Independent recomputation: the exact written pixels → preprocessRgba → encoder. */
async function embedSpec(spec: ModelSpec): Promise<Float32Array[]> {
  const plane = 3 * TEST_ENCODER.image.size ** 2;
  const pixels = new Float32Array(spec.images * plane);
  for (let i = 0; i < spec.images; i++) {
    preprocessRgba(specPixels(spec, i), TEST_ENCODER.image, pixels.subarray(i * plane, (i + 1) * plane));
  }
  return encoder.encodeImages(pixels, spec.images);
}

const RED: ModelSpec = {
  folder: 'red',
  colour: [220, 30, 30],
  images: 6,
  seed: 1,
  modelJson: {
    name: 'Red model',
    description: 'Paints red things',
    creator: 'tests',
    links: [{ label: 'home', url: 'https://example.com/red' }, { label: 'bad', url: 'javascript:alert(1)' }],
  },
};
const GREEN: ModelSpec = { folder: 'green', colour: [30, 170, 40], images: 6, seed: 2 };
const BLUE: ModelSpec = { folder: 'blue', colour: [20, 40, 220], images: 6, seed: 3 };
const YELLOW: ModelSpec = { folder: 'yellow', colour: [230, 220, 30], images: 6, seed: 4 };

describe('build: 3 models × 6 images', () => {
  let dir: string;
  let report: BuildReport;
  let out: string;

  beforeAll(async () => {
    dir = await caseDir();
    await writeModels(join(dir, 'models'), [RED, GREEN, BLUE]);
    out = join(dir, 'out', 'zoo');
    report = await build({ modelsDir: join(dir, 'models'), outDir: out, precision: 'f32', thumbnails: 2 });
  });

  it('writes a valid index with means, gaussian and sample sections in sorted id order', async () => {
    const { index, manifest, models } = await readIndexDir(out);
    expect(index.count).toBe(3);
    expect(index.dim).toBe(DIM);
    expect(index.gaussian?.precision.dtype).toBe('f32');
    expect(index.samples?.data.dtype).toBe('f32');
    expect(Array.from(index.samples!.offsets)).toEqual([0, 6, 12, 18]);
    expect(models.map((m) => m.id)).toEqual(['blue', 'green', 'red']);
    expect(manifest.name).toBe('zoo');
    expect(manifest.encoder).toEqual({ id: TEST_ENCODER.id, dim: DIM });
    expect(manifest.licence).toBe('unspecified');
    expect(manifest.params).toMatchObject({ epsilon: 1e-3, precision: 'f32', samplesKept: 32, samplesPerModel: { min: 6, mean: 6, max: 6 } });
    expect(report.ok).toBe(true);
    expect(report.images).toEqual({ total: 18, embedded: 18, fromCache: 0, skipped: 0 });
  });

  it('means, samples, W·Σ′·Wᵀ = I, bias and log-det match an independent recomputation', async () => {
    const { index } = await readIndexDir(out);
    const specs = [BLUE, GREEN, RED];
    for (const [m, spec] of specs.entries()) {
      const embs = await embedSpec(spec);
      const n = embs.length;
      const mean = new Float64Array(DIM);
      for (const e of embs) for (let j = 0; j < DIM; j++) mean[j] += e[j] / n;
      for (let j = 0; j < DIM; j++) expect(Math.abs(index.means[m * DIM + j] - mean[j])).toBeLessThan(1e-5);
      // kept samples: the embeddings in sorted file order
      const samples = index.samples!.data.data as Float32Array;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < DIM; j++) expect(Math.abs(samples[(m * 6 + i) * DIM + j] - embs[i][j])).toBeLessThan(1e-6);
      }
      if (m !== 2) continue;
      // Σ′ = unbiased covariance + εI, in float64
      const cov = new Float64Array(DIM * DIM);
      for (const e of embs) for (let i = 0; i < DIM; i++) for (let j = 0; j < DIM; j++) cov[i * DIM + j] += ((e[i] - mean[i]) * (e[j] - mean[j])) / (n - 1);
      for (let i = 0; i < DIM; i++) cov[i * DIM + i] += 1e-3;
      // W from the packed lower triangle
      const packed = index.gaussian!.precision.data as Float32Array;
      const base = m * ((DIM * (DIM + 1)) / 2);
      const W = new Float64Array(DIM * DIM);
      for (let i = 0; i < DIM; i++) for (let j = 0; j <= i; j++) W[i * DIM + j] = packed[base + packedRowOffset(i) + j];
      let maxErr = 0;
      for (let i = 0; i < DIM; i++) {
        for (let j = 0; j < DIM; j++) {
          let s = 0;
          for (let a = 0; a < DIM; a++) {
            if (W[i * DIM + a] === 0) continue;
            for (let b = 0; b < DIM; b++) s += W[i * DIM + a] * cov[a * DIM + b] * W[j * DIM + b];
          }
          maxErr = Math.max(maxErr, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      expect(maxErr).toBeLessThan(1e-3);
      let logDiag = 0;
      for (let i = 0; i < DIM; i++) {
        let b = 0;
        for (let j = 0; j <= i; j++) b += W[i * DIM + j] * mean[j];
        expect(Math.abs(index.gaussian!.bias[m * DIM + i] - b)).toBeLessThan(1e-3 * Math.max(1, Math.abs(b)));
        logDiag += Math.log(W[i * DIM + i]);
      }
      expect(index.gaussian!.logDet[m]).toBeCloseTo(-2 * logDiag, 2);
      expect(index.gaussian!.epsilon[m]).toBeCloseTo(1e-3, 9);
    }
  });

  it('writes WebP thumbnails of the first images, at their own width (under 256 px: never enlarged), and lists them in models.json', async () => {
    const { models } = await readIndexDir(out);
    for (const m of models) {
      expect(m.thumbnails).toEqual([`thumbs/${m.id}/0.webp`, `thumbs/${m.id}/1.webp`]);
      for (const [i, t] of m.thumbnails.entries()) {
        const bytes = await readFile(join(out, t));
        expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
        expect(bytes.subarray(8, 12).toString('ascii')).toBe('WEBP');
        const meta = await sharp(bytes).metadata();
        expect(meta.format).toBe('webp');
        expect(meta.width).toBe(40 + 8 * i); // specPixels: image i is 40 + 8i px wide
      }
    }
  });

  it('takes metadata from model.json, fills defaults and warns about missing fields', async () => {
    const { models } = await readIndexDir(out);
    const red = models.find((m) => m.id === 'red')!;
    expect(red).toMatchObject({
      name: 'Red model',
      description: 'Paints red things',
      creator: 'tests',
      family: '',
      licence: 'unspecified',
      resolution: '40×32',
      links: [{ label: 'home', url: 'https://example.com/red' }],
    });
    const green = models.find((m) => m.id === 'green')!;
    expect(green).toMatchObject({ name: 'green', description: '', creator: 'unknown', licence: 'unspecified', links: [] });
    const w = report.warnings.join('\n');
    expect(w).toMatch(/model "red": model\.json lacks family, licence, resolution/);
    expect(w).toMatch(/model "green": no model\.json metadata; using defaults for name/);
    expect(w).toMatch(/dropped 1 link/);
    expect(w).toMatch(/fewer valid images than the 32 dimensions.*blue \(6\), green \(6\), red \(6\)/);
  });

  it('default storage is f16 factors and f32 samples; --keep-samples 0 drops the samples section', async () => {
    const out2 = join(dir, 'out', 'f16');
    await build({ modelsDir: join(dir, 'models'), outDir: out2, keepSamples: 0, thumbnails: 0 });
    const a = await readIndexDir(out2);
    const b = await readIndexDir(out);
    expect(a.index.gaussian?.precision.dtype).toBe('f16');
    expect(a.index.samples).toBeUndefined();
    expect(a.models.every((m) => m.thumbnails.length === 0)).toBe(true);
    expect(Array.from(a.index.means)).toEqual(Array.from(b.index.means));
    const half = fromHalfArray(a.index.gaussian!.precision.data as Uint16Array);
    const full = b.index.gaussian!.precision.data as Float32Array;
    for (let i = 0; i < full.length; i++) expect(Math.abs(half[i] - full[i])).toBeLessThanOrEqual(Math.abs(full[i]) * 1e-3 + 1e-7);
  });
});

describe('bad input', () => {
  it('an empty models folder is an error', async () => {
    const dir = await caseDir();
    await mkdir(join(dir, 'models'));
    const err = await buildError({ modelsDir: join(dir, 'models'), outDir: join(dir, 'out') });
    expect(err.message).toMatch(/no model folders/);
    await expect(access(join(dir, 'out'))).rejects.toThrow();
  });

  it('a model with fewer than 2 valid images fails the build, naming it; --skip-invalid leaves it out', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [{ ...GREEN, images: 3 }, { ...BLUE, folder: 'lonely', images: 1 }]);
    await writeFile(join(models, 'lonely', 'broken.png'), 'not a png');
    await mkdir(join(models, 'a-no-images'));
    await writeFile(join(models, 'a-no-images', 'README.md'), 'no images here');
    const err = await buildError({ modelsDir: models, outDir: join(dir, 'out') });
    expect(err.details).toEqual([
      expect.stringMatching(/^model "a-no-images": only 0 valid image/),
      expect.stringMatching(/^model "lonely": only 1 valid image/),
    ]);
    expect(err.message).toMatch(/--skip-invalid/);
    await expect(access(join(dir, 'out'))).rejects.toThrow();

    const report = await build({ modelsDir: models, outDir: join(dir, 'out'), skipInvalid: true });
    const { models: metas } = await readIndexDir(join(dir, 'out'));
    expect(metas.map((m) => m.id)).toEqual(['green']);
    expect(report.invalidModels.map((x) => x.id)).toEqual(['a-no-images', 'lonely']);
    expect(report.warnings.join('\n')).toMatch(/model "lonely".*left out/);
  });

  it('skips and reports empty, non-image and too-large files; ignores text files silently', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [{ ...RED, images: 3, modelJson: undefined }]);
    await writeFile(join(models, 'red', 'a-empty.png'), new Uint8Array(0));
    await writeFile(join(models, 'red', 'b-text.jpg'), 'this is text, not a JPEG');
    await writeFile(join(models, 'red', 'c-huge.png'), hugePngHeader(20000, 20000));
    await writeFile(join(models, 'red', 'notes.txt'), 'ignored');
    await writeFile(join(models, 'red', 'README.md'), 'ignored');
    const report = await build({ modelsDir: models, outDir: join(dir, 'out') });
    expect(report.skipped).toEqual([
      { file: 'red/a-empty.png', reason: 'empty file (0 bytes)' },
      { file: 'red/b-text.jpg', reason: 'not an image (unsupported format)' },
      { file: 'red/c-huge.png', reason: 'too large (20000×20000)' },
    ]);
    expect(report.images).toEqual({ total: 6, embedded: 3, fromCache: 0, skipped: 3 });
    expect(report.models[0]).toMatchObject({ id: 'red', images: 3, skipped: 3 });
  });

  it('duplicate ids are an error listing the folders', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [
      { ...RED, images: 2, modelJson: { id: 'same' } },
      { ...GREEN, images: 2, modelJson: { id: 'same' } },
      { ...BLUE, images: 2 },
    ]);
    const err = await buildError({ modelsDir: models, outDir: join(dir, 'out') });
    expect(err.details.join('\n')).toMatch(/duplicate model id "same" \(folders "green", "red"\)/);
  });

  it('a model.json field over its limit is an error naming the file and the field', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [
      { ...RED, images: 2, modelJson: { description: 'x'.repeat(10 * 1024 * 1024) } },
      { ...GREEN, images: 2 },
    ]);
    const err = await buildError({ modelsDir: models, outDir: join(dir, 'out') });
    expect(err.details.join('\n')).toMatch(/red\/model\.json: a description of 10485760 characters \(limit 5000\); shorten it/);
  });

  it('ids that are not path-safe are an error', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [{ ...RED, images: 2, modelJson: { id: '../escape' } }, { ...GREEN, folder: 'has space', images: 2 }]);
    const err = await buildError({ modelsDir: models, outDir: join(dir, 'out') });
    const text = err.details.join('\n');
    expect(text).toMatch(/red\/model\.json: the id "\.\.\/escape" is not valid/);
    expect(text).toMatch(/folder name "has space" is not a valid model id/);
  });

  it('an existing output is left untouched without --force and replaced with it', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    const out = join(dir, 'out');
    await writeModels(models, [{ ...GREEN, images: 3 }]);
    await mkdir(out);
    await writeFile(join(out, 'manifest.json'), 'old');
    const err = await buildError({ modelsDir: models, outDir: out });
    expect(err.message).toMatch(/already exists.*--force/);
    expect(await readdir(out)).toEqual(['manifest.json']);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe('old');

    await build({ modelsDir: models, outDir: out, force: true });
    expect((await readIndexDir(out)).index.count).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['models', 'out']); // no temp folders left behind
  });

  it('--force refuses to replace a folder that is not an index', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [{ ...GREEN, images: 2 }]);
    await mkdir(join(dir, 'precious'));
    await writeFile(join(dir, 'precious', 'thesis.tex'), 'x');
    const err = await buildError({ modelsDir: models, outDir: join(dir, 'precious'), force: true });
    expect(err.message).toMatch(/not an index folder/);
    expect(await readdir(join(dir, 'precious'))).toEqual(['thesis.tex']);
  });
});

describe('incremental cache', () => {
  it('a second run after adding a model embeds only the new images; old means are identical', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    const cacheDir = join(dir, 'cache');
    const out = join(dir, 'out');
    await writeModels(models, [RED, GREEN]);
    const first = await build({ modelsDir: models, outDir: out, cacheDir });
    expect(first.images).toMatchObject({ embedded: 12, fromCache: 0 });
    const before = await readIndexDir(out);

    await writeModels(models, [BLUE]);
    const second = await build({ modelsDir: models, outDir: out, cacheDir, force: true });
    expect(second.images).toMatchObject({ total: 18, embedded: 6, fromCache: 12, skipped: 0 });
    expect(second.models.map((m) => [m.id, m.embedded, m.fromCache])).toEqual([
      ['blue', 6, 0],
      ['green', 0, 6],
      ['red', 0, 6],
    ]);
    const after = await readIndexDir(out);
    for (const id of ['green', 'red']) {
      const a = before.models.findIndex((m) => m.id === id);
      const b = after.models.findIndex((m) => m.id === id);
      expect(after.index.means.subarray(b * DIM, (b + 1) * DIM)).toEqual(before.index.means.subarray(a * DIM, (a + 1) * DIM));
      expect(after.index.gaussian!.logDet[b]).toBe(before.index.gaussian!.logDet[a]);
    }
    // one small file per image, sharded by hash prefix
    const shards = await readdir(join(cacheDir, 'v2', TEST_ENCODER.id));
    expect(shards.every((s) => /^[0-9a-f]{2}$/.test(s))).toBe(true);

    // a corrupt entry is ignored and recomputed, giving the same index
    const victim = join(cacheDir, 'v2', TEST_ENCODER.id, shards[0]);
    const [entry] = await readdir(victim);
    await writeFile(join(victim, entry), (await readFile(join(victim, entry))).subarray(0, 40));
    const third = await build({ modelsDir: models, outDir: out, cacheDir, force: true });
    expect(third.images).toMatchObject({ embedded: 1, fromCache: 17 });
    expect(third.warnings.join('\n')).toMatch(/1 unusable cache entr/);
    expect((await readIndexDir(out)).bin).toEqual(after.bin);
    expect((await stat(join(victim, entry))).size).toBe(52 + 4 * DIM + 4);
  });
});

describe('shards and merge', () => {
  it('shard 0/2 + shard 1/2 merged equals a single build, byte for byte', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [RED, GREEN, BLUE, { ...YELLOW, images: 4 }]);
    const single = join(dir, 'single');
    await build({ modelsDir: models, outDir: single, thumbnails: 1, name: 'zoo' });
    const s0 = await build({ modelsDir: models, outDir: join(dir, 's0'), shard: { index: 0, count: 2 }, thumbnails: 1, name: 'zoo' });
    const s1 = await build({ modelsDir: models, outDir: join(dir, 's1'), shard: { index: 1, count: 2 }, thumbnails: 1, name: 'zoo' });
    // sorted ids: blue, green, red, yellow → shard 0 = blue, red; shard 1 = green, yellow
    expect(s0.models.map((m) => m.id)).toEqual(['blue', 'red']);
    expect(s1.models.map((m) => m.id)).toEqual(['green', 'yellow']);
    expect((await readIndexDir(join(dir, 's0'))).index.count).toBe(2); // each shard is a valid index

    const merged = join(dir, 'merged');
    const report = await mergeShards({ outDir: merged, shardDirs: [join(dir, 's1'), join(dir, 's0')], name: 'zoo' });
    expect(report.ok).toBe(true);
    const a = await readIndexDir(single);
    const b = await readIndexDir(merged);
    expect(b.models.map((m) => m.id)).toEqual(['blue', 'green', 'red', 'yellow']);
    expect(b.index.gaussian!.precision.dtype).toBe('f16');
    expect(Array.from(b.index.means)).toEqual(Array.from(a.index.means));
    expect(Array.from(b.index.gaussian!.bias)).toEqual(Array.from(a.index.gaussian!.bias));
    expect(Array.from(b.index.gaussian!.logDet)).toEqual(Array.from(a.index.gaussian!.logDet));
    expect(Buffer.from(b.bin).equals(Buffer.from(a.bin))).toBe(true);
    expect(b.modelsJson).toBe(a.modelsJson);
    expect(b.manifest.params).toEqual(a.manifest.params);
    for (const m of b.models) {
      for (const t of m.thumbnails) expect(await readFile(join(merged, t))).toEqual(await readFile(join(single, t)));
    }
  });

  it('refuses shards with different settings or overlapping ids', async () => {
    const dir = await caseDir();
    const models = join(dir, 'models');
    await writeModels(models, [{ ...RED, images: 3 }, { ...GREEN, images: 3 }]);
    await build({ modelsDir: models, outDir: join(dir, 's0'), shard: { index: 0, count: 2 }, thumbnails: 0 });
    await build({ modelsDir: models, outDir: join(dir, 's1'), shard: { index: 1, count: 2 }, thumbnails: 0, epsilon: 1e-2 });
    await expect(mergeShards({ outDir: join(dir, 'm'), shardDirs: [join(dir, 's0'), join(dir, 's1')] })).rejects.toMatchObject({
      details: [expect.stringMatching(/^epsilon: .*s0 has 0\.001, .*s1 has 0\.01$/)],
    });
    await cp(join(dir, 's0'), join(dir, 's0-copy'), { recursive: true });
    await expect(mergeShards({ outDir: join(dir, 'm'), shardDirs: [join(dir, 's0'), join(dir, 's0-copy')] })).rejects.toMatchObject({
      message: expect.stringMatching(/duplicate model ids/),
      details: [expect.stringMatching(/"green" in/)],
    });
    // a tampered shard fails verification
    const bin = join(dir, 's0', 'index.bin');
    const bytes = await readFile(bin);
    bytes[bytes.length - 1] ^= 1;
    await writeFile(bin, bytes);
    await expect(mergeShards({ outDir: join(dir, 'm'), shardDirs: [join(dir, 's0')] })).rejects.toThrow(/shard .*index\.bin failed its checksum/);
    await expect(access(join(dir, 'm'))).rejects.toThrow();
    await rm(join(dir, 's0-copy'), { recursive: true });
  });

  it('a shard that would be empty is an error', async () => {
    const dir = await caseDir();
    await writeModels(join(dir, 'models'), [{ ...RED, images: 2 }]);
    const err = await buildError({ modelsDir: join(dir, 'models'), outDir: join(dir, 'out'), shard: { index: 1, count: 2 } });
    expect(err.message).toMatch(/shard 1\/2 holds no models/);
  });
});

describe('projection', () => {
  it('ships a fine-tuned projection and records its structure', async () => {
    const dir = await caseDir();
    await writeModels(join(dir, 'models'), [{ ...RED, images: 3 }, { ...GREEN, images: 3 }]);
    const matrix = new Float32Array(DIM * DIM);
    for (let i = 0; i < DIM; i++) matrix[i * DIM + i] = 1 + i / DIM;
    await build({
      modelsDir: join(dir, 'models'),
      outDir: join(dir, 'out'),
      projection: { structure: 'diagonal', matrix },
      thumbnails: 0,
    });
    const { index, manifest } = await readIndexDir(join(dir, 'out'));
    expect(manifest.params?.projection).toBe('diagonal');
    expect(Array.from(index.projection!.matrix)).toEqual(Array.from(matrix));
  });
});

describe('regularisation', () => {
  it('raises ε where Σ + εI is not positive definite, warns, and stores the ε used; f16 overflow is an error', async () => {
    const dir = await caseDir();
    await writeModels(join(dir, 'models'), [{ ...RED, images: 3, modelJson: undefined }]);
    const report = await build({ modelsDir: join(dir, 'models'), outDir: join(dir, 'out'), epsilon: 1e-20, precision: 'f32', thumbnails: 0 });
    const { epsilon: used, jitterSteps } = report.models[0];
    expect(jitterSteps).toBeGreaterThan(0);
    expect(used / (1e-20 * 10 ** jitterSteps)).toBeCloseTo(1, 12);
    expect(report.warnings.join('\n')).toContain(`model "red": the covariance + εI was not positive definite; ε raised ${jitterSteps} time(s) to ${used}`);
    const { index, manifest } = await readIndexDir(join(dir, 'out'));
    expect(index.gaussian!.epsilon[0] / used).toBeCloseTo(1, 6);
    expect(manifest.params?.epsilon).toBe(1e-20);

    // never positive definite: the model is invalid, with the reason
    const never = await buildError({ modelsDir: join(dir, 'models'), outDir: join(dir, 'never'), epsilon: 1e-30, precision: 'f32', thumbnails: 0 });
    expect(never.details.join('\n')).toMatch(/model "red": The covariance is not positive definite/);

    const err = await buildError({ modelsDir: join(dir, 'models'), outDir: join(dir, 'out16'), epsilon: 1e-12, thumbnails: 0 });
    expect(err.details.join('\n')).toMatch(/model "red": its precision factor has entries up to .* beyond the f16 range/);
  });
});
