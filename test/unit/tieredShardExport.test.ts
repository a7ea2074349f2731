/**
 * Your models exported from a tiered (version 2) index: the app's shard (workers/localModels.ts
 * exportFile → tieredEntryFolder → core assembleTiered, as a .tar) merged by the real CLI merge
 * (`merge --format tiered`) beside the index it was made for equals a single build of the index's
 * models plus that model, every file byte for byte — so the merged index ranks it exactly as a
 * build would, and as the app ranked it (the app scores the same record: tieredLocal.test.ts).
 * The model's embeddings are the builder's own (its embedding cache, looked up by each file's
 * SHA-256, as the browser hashes them).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { parseTieredManifest } from '../../src/core/index/manifest.ts';
import { mostCommonSize, sizeLabel } from '../../src/core/index/modelEntry.ts';
import { readTieredHead } from '../../src/core/index/tieredHead.ts';
import { readTar } from '../../src/core/io/tar.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { runCli } from '../../tools/lib/indexBuilder/cli.ts';
import { EmbedCache } from '../../tools/lib/indexBuilder/embedCache.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { deriveTieredLocal, exportFile, type TieredExportBasis } from '../../workers/localModels.ts';
import type { LocalEntry } from '../../workers/storage/localModelStore.ts';
import { tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';

const DIM = TEST_ENCODER.dim;
let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('tiered-shard-export-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

const RED: ModelSpec = { folder: 'red', colour: [220, 30, 30], images: 6, seed: 1, modelJson: { name: 'Red model', creator: 'tests', licence: 'CC0-1.0' } };
const GREEN: ModelSpec = { folder: 'green', colour: [30, 170, 40], images: 5, seed: 2, modelJson: { licence: 'CC0-1.0' } };
const BLUE: ModelSpec = { folder: 'blue', colour: [20, 40, 220], images: 4, seed: 3, modelJson: { licence: 'CC0-1.0' } };
/** The visitor's model: 5 images, a name, a description and a licence typed in the dialog. */
const MINE: ModelSpec = { folder: 'amber-mine', colour: [230, 160, 30], images: 5, seed: 4, modelJson: { name: 'Amber, mine', description: 'Made in the browser', licence: 'CC-BY-4.0' } };
/** More images than the test encoder's 32 dimensions: a PPCA record. */
const MANY: ModelSpec = { folder: 'violet', colour: [120, 60, 200], images: 40, seed: 5, modelJson: { name: 'Violet', licence: 'CC0-1.0' } };

/** Every file of a folder, by relative path. */
async function allFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

/** What the browser keeps for `spec` after "Add your model" (its images embedded: here, the builder's cache's embeddings). */
async function localEntry(folder: string, spec: ModelSpec, cache: EmbedCache): Promise<LocalEntry> {
  const names = (await readdir(folder)).filter((n) => n !== 'model.json').sort();
  const rows: Float32Array[] = [];
  const images: LocalEntry['entry']['images'] = [];
  const sizes = new Map<string, number>();
  for (const name of names) {
    const sha256 = await sha256Hex(new Uint8Array(await readFile(join(folder, name))));
    const hit = (await cache.get(sha256))!;
    rows.push(hit.embedding);
    images.push({ name, sha256, width: hit.width, height: hit.height });
    const size = sizeLabel(hit.width, hit.height);
    sizes.set(size, (sizes.get(size) ?? 0) + 1);
  }
  const json = spec.modelJson as { name: string; description?: string; licence: string };
  const embeddings = new Float32Array(rows.length * DIM);
  rows.forEach((r, i) => embeddings.set(r, i * DIM));
  const thumbnails = [0, 1, 2].map((k) => new TextEncoder().encode(`thumbnail ${k} of ${spec.folder}`).buffer as ArrayBuffer);
  return {
    entry: {
      schema: 1,
      id: spec.folder,
      encoder: { id: TEST_ENCODER.id, dim: DIM },
      meta: { name: json.name, description: json.description ?? '', family: '', creator: 'unknown', licence: json.licence, resolution: mostCommonSize(sizes) ?? '', links: [] },
      images,
      skipped: [],
      thumbnailMime: 'image/webp',
      thumbnails: thumbnails.length,
      bytes: embeddings.byteLength,
      createdAt: 1,
      updatedAt: 1,
    },
    data: { embeddings: embeddings.buffer, thumbnails },
  };
}

type Case = { label: string; opts: Partial<BuildOptions>; mine: ModelSpec };
const CASES: Case[] = [
  { label: 'thumbnails hosted elsewhere (thumbnailBase), int8 head, block files', opts: { thumbnailBase: '../site-thumbs/', blockFiles: true }, mine: MINE },
  { label: 'sign-coded head, f32 basis', opts: { thumbnailBase: '../site-thumbs/', prefilter: 'sign', precision: 'f32' }, mine: MINE },
  { label: 'thumbnails in the index; a PPCA record (more images than dimensions)', opts: {}, mine: MANY },
];

describe('your models as a tiered shard', () => {
  for (const [n, c] of CASES.entries()) {
    it(`merged by the CLI beside its index equals a single build with the model: ${c.label}`, async () => {
      const root = join(tmp.path, `case${n}`);
      const common = { encoderId: TEST_ENCODER.id, format: 'tiered' as const, modelsPerBlock: 2, name: 'zoo', licence: 'CC0-1.0', ...c.opts };
      const all = join(root, 'all-models');
      const some = join(root, 'index-models');
      await writeModels(all, [RED, GREEN, BLUE, c.mine]);
      await writeModels(some, [RED, GREEN, BLUE]);
      const cacheDir = join(root, 'cache');
      await buildIndex({ ...common, modelsDir: all, outDir: join(root, 'single'), cacheDir }, { encoder });
      await buildIndex({ ...common, modelsDir: some, outDir: join(root, 'index'), cacheDir }, { encoder });

      // The app with the index loaded exports the visitor's model.
      const indexFiles = await allFiles(join(root, 'index'));
      const manifest = parseTieredManifest(JSON.parse(indexFiles.get('manifest.json')!.toString('utf8')));
      const head = readTieredHead(new Uint8Array(indexFiles.get('head.bin')!));
      const basis: TieredExportBasis = { kind: 'tiered', manifest, signCoded: !!head.codeBlocks };
      const record = await localEntry(join(all, c.mine.folder), c.mine, new EmbedCache(cacheDir, TEST_ENCODER.id, DIM));
      const shard = await exportFile([record], 'shard', basis);
      expect(shard.fileName).toBe(`${c.mine.folder}.shard.tar`);
      const inTar = readTar(shard.bytes).map((f) => f.path);
      expect(inTar).toEqual(expect.arrayContaining(['manifest.json', 'head.bin', 'records.bin', 'meta/0.json', ...[0, 1, 2].map((k) => `thumbs/${c.mine.folder}/${k}.webp`)]));
      if (c.opts.prefilter === 'sign') expect(inTar).toContain('codes.bin');
      const tarPath = join(root, shard.fileName);
      await writeFile(tarPath, shard.bytes);

      // The site merges it with the CLI, no flags beyond the output.
      const out: string[] = [];
      const io = { stdout: { write: (s: string) => void out.push(s) }, stderr: { write: (s: string) => void out.push(s) } };
      const code = await runCli(['merge', '--format', 'tiered', '--out', join(root, 'merged'), '--name', 'zoo', '--licence', 'CC0-1.0', join(root, 'index'), tarPath], io);
      expect(code, out.join('')).toBe(0);

      const merged = await allFiles(join(root, 'merged'));
      const single = await allFiles(join(root, 'single'));
      // The single build writes its model's own thumbnails; the shard carries the browser's (copied by the merge
      // where the index holds thumbnails; left for the site to copy where they live elsewhere).
      const mine = (p: string) => p.startsWith(join('thumbs', c.mine.folder));
      expect([...merged.keys()].filter((p) => !mine(p)).sort()).toEqual([...single.keys()].filter((p) => !mine(p)).sort());
      for (const [path, bytes] of single) if (!mine(path)) expect(Buffer.compare(merged.get(path)!, bytes), path).toBe(0);
      const copied = [...merged.keys()].filter(mine);
      expect(copied.length).toBe(c.opts.thumbnailBase ? 0 : 3);
      for (const p of copied) expect(merged.get(p)!.toString()).toMatch(/^thumbnail \d of /);

      // The record the app ranks is the one the merged index holds.
      const derived = deriveTieredLocal([record], { manifest });
      expect(derived.unusable.size).toBe(0);
      expect(derived.set!.models[0]!.id).toBe(c.mine.folder);
    }, 120_000);
  }

  it('refuses a shard for a model made with another encoder, naming it', async () => {
    const root = join(tmp.path, 'refusal');
    await writeModels(join(root, 'models'), [RED, GREEN]);
    await buildIndex({ encoderId: TEST_ENCODER.id, format: 'tiered', modelsPerBlock: 2, modelsDir: join(root, 'models'), outDir: join(root, 'index'), cacheDir: null }, { encoder });
    const files = await allFiles(join(root, 'index'));
    const manifest = parseTieredManifest(JSON.parse(files.get('manifest.json')!.toString('utf8')));
    const other = { ...manifest, encoder: { id: 'zoo-encoder', dim: DIM } };
    const record = await localEntry(join(tmp.path, 'case0', 'all-models', MINE.folder), MINE, new EmbedCache(join(tmp.path, 'case0', 'cache'), TEST_ENCODER.id, DIM));
    await expect(exportFile([record], 'shard', { kind: 'tiered', manifest: other, signCoded: false })).rejects.toThrow(/made with test-encoder .*this index uses zoo-encoder/);
  });
});
