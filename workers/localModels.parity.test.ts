/**
 * The worker's own path, end to end in Node: files → addModel (dedupe, order, skips, sizes; the
 * embeddings come from the CLI's cache, as the browser's would from its encoder) → the stored record
 * → entryFolder with the built index's settings. Its index.bin and models.json must be the bytes
 * `build-index` writes for a folder with the same images and a model.json of {id, name, licence}
 * (docs/design/add-your-model.md §1.4; test/unit/entryParity.test.ts checks the core half).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../src/core/encode/encoders.ts';
import { sha256Hex } from '../src/core/io/sha256.ts';
import { buildIndex, type BuildOptions } from '../tools/lib/indexBuilder/buildIndex.ts';
import { EmbedCache } from '../tools/lib/indexBuilder/embedCache.ts';
import { NodeEncoder } from '../tools/lib/nodeEncoder.ts';
import { readIndexDir, tempDir, writeModels } from '../test/support/build/fixtures.ts';
import { parseTieredManifest } from '../src/core/index/manifest.ts';
import { decodeRecord } from '../src/core/index/tieredRecords.ts';
import { addModel, deriveTieredLocal, entryFolder } from './localModels.ts';

const DIM = TEST_ENCODER.dim;
let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('local-parity-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

/** The browser's side: the files as a folder pick gives them (model.json is ignored by extension), embedded from the CLI's cache. */
async function addFromCache(models: string, id: string, cacheDir: string) {
  const cache = new EmbedCache(cacheDir, TEST_ENCODER.id, DIM);
  const names = await readdir(join(models, id));
  const files = await Promise.all(names.map(async (name) => ({ name, blob: new Blob([await readFile(join(models, id, name))]) })));
  const result = await addModel(
    { files, name: 'My scarlet blossom', licence: 'CC0-1.0', id },
    {
      encoder: { id: TEST_ENCODER.id, dim: DIM },
      async decode(blob) {
        const hit = await cache.get(await sha256Hex(new Uint8Array(await blob.arrayBuffer())));
        if (!hit) throw new Error('not an image');
        return Object.assign({ data: new Uint8Array(0), width: hit.width, height: hit.height, original: { width: hit.width, height: hit.height } }, { embedding: hit.embedding });
      },
      embed: async (image) => (image as unknown as { embedding: Float32Array }).embedding,
      thumbnail: async () => ({ bytes: new Uint8Array([1]).buffer, mime: 'image/webp' }),
      indexHas: () => false,
      existing: [],
      save: async () => ({ status: 'saved' }),
      cancelled: () => false,
    },
  );
  if (result.status !== 'saved') throw new Error(JSON.stringify(result));
  return result;
}

const CASES: { label: string; opts: Partial<BuildOptions> }[] = [
  { label: 'the demo settings (f16 factors, 32 f16 samples)', opts: { samplesPrecision: 'f16', keepSamples: 32, epsilon: 0.001 } },
  { label: 'f32 factors, no samples', opts: { precision: 'f32', keepSamples: 0 } },
];

describe('a model added in the worker = the same folder built by the CLI', () => {
  for (const [n, c] of CASES.entries()) {
    it(c.label, { timeout: 60_000 }, async () => {
      const dir = join(tmp.path, `case${n}`);
      const models = join(dir, 'models');
      const id = 'my-scarlet-blossom';
      await writeModels(models, [{ folder: id, colour: [200, 40, 60], images: 6, seed: 4, formats: ['png', 'jpeg'], modelJson: { id, name: 'My scarlet blossom', licence: 'CC0-1.0' } }]);
      await writeFile(join(models, id, 'zz-broken.png'), 'not a png');
      const cacheDir = join(dir, 'cache');
      const out = join(dir, 'out');
      await buildIndex({ encoderId: TEST_ENCODER.id, modelsDir: models, outDir: out, cacheDir, ...c.opts }, { encoder });
      const built = await readIndexDir(out);

      const result = await addFromCache(models, id, cacheDir);
      expect(result.skipped).toEqual([{ name: 'zz-broken.png', reason: 'could not be read as an image (unsupported format or damaged file)' }]);
      expect(result.record.entry.images).toHaveLength(6);

      const shard = await entryFolder([result.record], { manifest: built.manifest, index: built.index });
      const file = (p: string) => shard.files.find((f) => f.path === p)!.bytes;
      expect(Buffer.from(file('index.bin')).equals(Buffer.from(built.bin))).toBe(true);
      expect(new TextDecoder().decode(file('models.json'))).toBe(built.modelsJson);
      const manifest = JSON.parse(new TextDecoder().decode(file('manifest.json')));
      expect(manifest.params).toEqual(built.manifest.params);
      expect(manifest.licence).toBe('CC0-1.0');

      // The next visit derives from the stored cache (no factorisation): the same bytes.
      expect(shard.fresh.size).toBe(1);
      const again = await entryFolder([result.record], { manifest: built.manifest, index: built.index }, 'my-models', shard.fresh);
      expect(again.fresh.size).toBe(0);
      const file2 = (p: string) => again.files.find((f) => f.path === p)!.bytes;
      expect(Buffer.from(file2('index.bin')).equals(Buffer.from(built.bin))).toBe(true);
      expect(new TextDecoder().decode(file2('models.json'))).toBe(built.modelsJson);
    });
  }
});

describe('a model added in the worker, on a tiered index = its record in the CLI’s tiered build', () => {
  it('the same record (f16 basis): the one records.bin holds for the same folder', { timeout: 60_000 }, async () => {
    const dir = join(tmp.path, 'tiered');
    const models = join(dir, 'models');
    const id = 'my-scarlet-blossom';
    await writeModels(models, [{ folder: id, colour: [200, 40, 60], images: 6, seed: 4, formats: ['png'], modelJson: { id, name: 'My scarlet blossom', licence: 'CC0-1.0' } }]);
    const cacheDir = join(dir, 'cache');
    const out = join(dir, 'out');
    await buildIndex({ encoderId: TEST_ENCODER.id, modelsDir: models, outDir: out, cacheDir, format: 'tiered', precision: 'f16', epsilon: 0.002 }, { encoder });
    const manifest = parseTieredManifest(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    // One model: records.bin is its record.
    const built = decodeRecord(new Uint8Array(await readFile(join(out, 'records.bin'))), DIM, 'built');
    const result = await addFromCache(models, id, cacheDir);
    const derived = deriveTieredLocal([result.record], { manifest });
    expect(derived.unusable.size).toBe(0);
    expect(derived.set!.ids).toEqual([id]);
    expect(derived.set!.records[0]).toEqual(built);
    expect(derived.set!.models[0]).toMatchObject({ id, name: 'My scarlet blossom', licence: 'CC0-1.0' });
  });
});
