/**
 * "Same embeddings in → same bytes out" (docs/design/add-your-model.md §1.4, test 1): the CLI
 * builds an index with a fresh embedding cache; the browser's pure entry path then takes the
 * cache's embeddings (looked up by the SHA-256 of each file, as the browser computes them) and the
 * model metadata, derives its settings from the built index (entrySettingsFor) and writes a shard
 * with core only (finaliseModel → entryShardFiles). index.bin and models.json must be identical.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { entryShardFiles } from '../../src/core/index/indexFolder.ts';
import { safeLinks } from '../../src/core/index/manifest.ts';
import {
  byCodePoint,
  entrySettingsFor,
  finaliseModel,
  IGNORED_EXTENSIONS,
  metadataDefaults,
  missingMetadataFields,
  mostCommonSize,
  sampleMean,
  samplesSummary,
  sizeLabel,
  type EntryMeta,
  type FinalisedModel,
} from '../../src/core/index/modelEntry.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { EmbedCache } from '../../tools/lib/indexBuilder/embedCache.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { readIndexDir, tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';

const DIM = TEST_ENCODER.dim;
let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('entry-parity-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

const RED: ModelSpec = {
  folder: 'red',
  colour: [220, 30, 30],
  images: 5,
  seed: 1,
  modelJson: { name: 'Red model', creator: 'tests', links: [{ label: 'home', url: 'https://example.com/red' }] },
};
const GREEN: ModelSpec = { folder: 'green', colour: [30, 170, 40], images: 4, seed: 2, formats: ['png', 'jpeg'] };
const BLUE: ModelSpec = { folder: 'blue-folder', colour: [20, 40, 220], images: 3, seed: 3, modelJson: { id: 'blue', resolution: '512×512', licence: 'CC0-1.0' } };

/** What the browser holds for a model: its id, metadata and the valid images' embeddings and sizes, in file order. */
async function browserEntry(folder: string, cache: EmbedCache) {
  const names = (await readdir(folder)).filter((n) => n !== 'model.json' && !IGNORED_EXTENSIONS.has(extname(n).toLowerCase())).sort(byCodePoint);
  const embeddings: Float32Array[] = [];
  const sizes = new Map<string, number>();
  for (const name of names) {
    const hit = await cache.get(await sha256Hex(new Uint8Array(await readFile(join(folder, name)))));
    if (!hit) continue; // not an image: the browser skips it too
    embeddings.push(hit.embedding);
    const size = sizeLabel(hit.width, hit.height);
    sizes.set(size, (sizes.get(size) ?? 0) + 1);
  }
  const json = await readFile(join(folder, 'model.json'), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => undefined);
  const id = (json?.id as string | undefined) ?? folder.split(/[\\/]/).pop()!;
  const partial: Partial<EntryMeta> = {};
  for (const key of ['name', 'description', 'family', 'creator', 'licence', 'resolution'] as const) {
    if (typeof json?.[key] === 'string') partial[key] = json[key] as string;
  }
  if (Array.isArray(json?.links)) partial.links = safeLinks(json.links);
  return { id, partial, embeddings, commonSize: mostCommonSize(sizes) };
}

type Case = { label: string; opts: Partial<BuildOptions> };
const CASES: Case[] = [
  { label: 'defaults (f16 factors, 32 f32 samples, 3 thumbnails), a skipped non-image', opts: {} },
  { label: 'f32 factors, no samples', opts: { precision: 'f32', keepSamples: 0 } },
  { label: 'f16 samples, 2 kept', opts: { samplesPrecision: 'f16', keepSamples: 2, thumbnails: 1 } },
  { label: 'a projection', opts: { projection: { structure: 'diagonal', matrix: diagonal() } } },
  { label: 'rank-deficient models, ε raised', opts: { epsilon: 1e-20, precision: 'f32', thumbnails: 0 } },
];

function diagonal(): Float32Array {
  const m = new Float32Array(DIM * DIM);
  for (let i = 0; i < DIM; i++) m[i * DIM + i] = 1 + i / DIM;
  return m;
}

describe('the browser entry path writes the CLI bytes from the same embeddings', () => {
  for (const [n, c] of CASES.entries()) {
    it(c.label, async () => {
      const dir = join(tmp.path, `case${n}`);
      const models = join(dir, 'models');
      await writeModels(models, [RED, GREEN, BLUE]);
      await writeFile(join(models, 'green', 'notes.txt'), 'ignored');
      await writeFile(join(models, 'green', 'zz-broken.png'), 'not a png');
      const cacheDir = join(dir, 'cache');
      const out = join(dir, 'out');
      const report = await buildIndex({ encoderId: TEST_ENCODER.id, modelsDir: models, outDir: out, cacheDir, ...c.opts }, { encoder });
      expect(report.images.skipped).toBe(1);
      if (c.opts.epsilon === 1e-20) expect(report.models.some((m) => m.jitterSteps > 0)).toBe(true);
      const built = await readIndexDir(out);

      // the browser's side: entries from the cached embeddings, settings from the loaded index
      const settings = entrySettingsFor(built.manifest, built.index);
      const cache = new EmbedCache(cacheDir, TEST_ENCODER.id, DIM);
      const finalised: FinalisedModel[] = [];
      const counts: number[] = [];
      for (const folder of (await readdir(models)).sort(byCodePoint)) {
        const e = await browserEntry(join(models, folder), cache);
        // Thumbnail bytes are not part of the claim: the browser's own, as many as the CLI made.
        const thumbPaths = built.models.find((m) => m.id === e.id)!.thumbnails;
        const thumbs = await Promise.all(thumbPaths.map(async (p) => new Uint8Array(await readFile(join(out, p)))));
        const r = finaliseModel(
          {
            source: { id: e.id, label: 'your model', meta: metadataDefaults(e.partial, e.id), missingFields: missingMetadataFields(e.partial) },
            embeddings: e.embeddings,
            commonSize: e.commonSize,
            thumbs,
          },
          settings.finalise,
        );
        if (!r.ok) throw new Error(r.reason);
        finalised.push(r.model);
        counts.push(e.embeddings.length);
      }
      const files = await entryShardFiles(
        finalised,
        { ...settings.index, samplesPerModel: samplesSummary(counts) },
        { name: 'my-models', licence: built.manifest.licence },
      );
      const file = (p: string) => files.find((f) => f.path === p)!.bytes;
      expect(Buffer.from(file('index.bin')).equals(Buffer.from(built.bin))).toBe(true);
      expect(new TextDecoder().decode(file('models.json'))).toBe(built.modelsJson);
      const manifest = JSON.parse(new TextDecoder().decode(file('manifest.json')));
      expect(manifest.params).toEqual(built.manifest.params);
      expect(manifest.createdWith).toBe('Model Search in the browser');
      expect(manifest.calibration).toBeUndefined();
      expect(files.map((f) => f.path).slice(0, 3)).toEqual(['manifest.json', 'index.bin', 'models.json']);

      // sampleMean is the Means section's value
      const red = await browserEntry(join(models, 'red'), cache);
      const flat = new Float32Array(red.embeddings.length * DIM);
      red.embeddings.forEach((e, i) => flat.set(e, i * DIM));
      const m = built.models.findIndex((x) => x.id === 'red');
      expect(Array.from(sampleMean(flat, red.embeddings.length, DIM))).toEqual(Array.from(built.index.means.subarray(m * DIM, (m + 1) * DIM)));
    });
  }
});
