import { describe, expect, it } from 'vitest';
import { hugePngHeader } from '../test/support/build/fixtures.ts';
import { smallIndex } from '../test/support/smallIndex.ts';
import { withLocalModels } from '../src/core/index/appendModels.ts';
import { readIndex, writeIndex } from '../src/core/index/indexFormat.ts';
import { MANIFEST_FORMAT, type IndexManifest, type ModelMeta } from '../src/core/index/manifest.ts';
import { entrySettingsFor, finaliseModel, metadataDefaults } from '../src/core/index/modelEntry.ts';
import { mulberry32 } from '../src/core/math/prng.ts';
import { l2normalize } from '../src/core/math/vectors.ts';
import { rank } from '../src/core/scoring/rank.ts';
import type { AddModelInput, AddModelProgress } from '../src/shared/protocol.ts';
import { readTar } from '../src/core/io/tar.ts';
import { addModel, deriveLocal, deriveTieredLocal, entryFolder, memoisedDerivations, exportFile, exportJson, localModelId, slug, summary, type AddDeps, type AddResult } from './localModels.ts';
import type { LocalEntry, LocalEntryMeta, SaveResult } from './storage/localModelStore.ts';

const DIM = 8;

/** A fake image file: "img:<seed>:<w>x<h>" decodes to that size and embeds to a vector from the seed. */
const img = (seed: number, w = 64, h = 48) => new Blob([`img:${seed}:${w}x${h}`]);
const file = (name: string, blob: Blob) => ({ name, blob });
const vector = (seed: number) => {
  const next = mulberry32(seed);
  return l2normalize(Float32Array.from({ length: DIM }, () => next() - 0.5));
};

function fakes(over: Partial<AddDeps> = {}) {
  const saved: LocalEntry[] = [];
  const events: AddModelProgress[] = [];
  const embedded: number[] = [];
  const deps: AddDeps = {
    encoder: { id: 'test-encoder', dim: DIM },
    async decode(blob) {
      const m = /^img:(\d+):(\d+)x(\d+)$/.exec(await blob.text());
      if (!m) throw new Error('not an image');
      const [w, h] = [Number(m[2]), Number(m[3])];
      return { data: new Uint8Array([Number(m[1])]), width: w, height: h, original: { width: w, height: h } };
    },
    async embed(image) {
      embedded.push(image.data[0]);
      return vector(image.data[0]);
    },
    async thumbnail(blob) {
      return { bytes: new TextEncoder().encode(`thumb of ${await blob.text()}`).buffer as ArrayBuffer, mime: 'image/webp' };
    },
    indexHas: (id) => id === 'taken-by-index',
    existing: [],
    async save(record): Promise<SaveResult> {
      saved.push(record);
      return { status: 'saved' };
    },
    cancelled: () => false,
    onProgress: (p) => events.push(p),
    now: () => 1234,
    ...over,
  };
  return { deps, saved, events, embedded };
}

const input = (files: AddModelInput['files'], more: Partial<AddModelInput> = {}): AddModelInput => ({ files, ...more });

function saved(r: AddResult) {
  if (r.status !== 'saved') throw new Error(`not saved: ${JSON.stringify(r)}`);
  return r;
}

describe('addModel', () => {
  it('orders files by code point, ignores non-image extensions, skips bad and duplicate files, reports progress', async () => {
    const { deps, saved: store, events, embedded } = fakes();
    const r = saved(
      await addModel(
        input(
          [
            file('b.png', img(2, 64, 48)),
            file('notes.txt', new Blob(['hello'])),
            file('a.png', img(1, 64, 48)),
            file('B.png', img(3, 32, 32)),
            file('c.png', img(1, 64, 48)),
            file('d.png', new Blob(['not an image'])),
            file('e.png', new Blob([])),
            file('f.png', new Blob([new Uint8Array(hugePngHeader(20000, 20000))])),
            file('model.json', new Blob(['{}'])),
          ],
          { name: 'My Roses!', licence: 'CC0-1.0' },
        ),
        deps,
      ),
    );
    // Code-point order: "B.png" < "a.png" < "b.png" < …
    expect(r.record.entry.images.map((i) => i.name)).toEqual(['B.png', 'a.png', 'b.png']);
    expect(embedded).toEqual([3, 1, 2]);
    expect(r.skipped).toEqual([
      { name: 'c.png', reason: 'duplicate of “a.png”' },
      { name: 'd.png', reason: 'could not be read as an image (unsupported format or damaged file)' },
      { name: 'e.png', reason: 'is empty' },
      { name: 'f.png', reason: 'too large (20000×20000 pixels; images up to 64 megapixels are accepted)' },
    ]);
    const e = r.record.entry;
    expect(e.id).toBe(await localModelId('My Roses!', e.images.map((i) => i.sha256)));
    expect(e.id).toMatch(/^my-roses-[0-9a-f]{8}$/);
    expect(e.meta).toEqual({ name: 'My Roses!', description: '', family: '', creator: 'unknown', licence: 'CC0-1.0', resolution: '64×48', links: [] });
    expect(e).toMatchObject({ schema: 1, encoder: { id: 'test-encoder', dim: DIM }, thumbnails: 3, thumbnailMime: 'image/webp', createdAt: 1234, skipped: r.skipped });
    expect(new Float32Array(r.record.data.embeddings)).toEqual(new Float32Array([...vector(3), ...vector(1), ...vector(2)]));
    expect(e.bytes).toBe(3 * DIM * 4 + r.record.data.thumbnails.reduce((s, t) => s + t.byteLength, 0));
    expect(store).toHaveLength(1);
    expect(events[0]).toEqual({ stage: 'embedding', done: 0, total: 7, skipped: 0 });
    expect(events.at(-2)).toEqual({ stage: 'embedding', done: 7, total: 7, skipped: 4 });
    expect(events.at(-1)).toEqual({ stage: 'saving' });
  });

  it('refuses fewer than 2 (valid) images, before and after embedding, saving nothing', async () => {
    const one = fakes();
    expect(await addModel(input([file('a.png', img(1)), file('x.txt', img(2))]), one.deps)).toEqual({ status: 'refused', reasons: ['Add at least 2 images (only 1 was given).'], skipped: [] });
    expect(one.embedded).toEqual([]);
    const dup = fakes();
    const r = await addModel(input([file('a.png', img(1)), file('b.png', img(1))]), dup.deps);
    expect(r).toMatchObject({ status: 'refused', reasons: [expect.stringMatching(/At least 2 readable, different images are needed; only 1 was found/)], skipped: [{ name: 'b.png', reason: 'duplicate of “a.png”' }] });
    expect(dup.saved).toEqual([]);
  });

  it('refuses the same images again, an invalid id and an id the index or your models have', async () => {
    const first = fakes();
    const a = saved(await addModel(input([file('a.png', img(1)), file('b.png', img(2))], { name: 'One' }), first.deps));
    const existing: LocalEntryMeta[] = [a.record.entry];
    const again = fakes({ existing });
    expect(await addModel(input([file('y.png', img(2)), file('x.png', img(1))], { name: 'Two' }), again.deps)).toMatchObject({
      status: 'refused',
      reasons: [`These images were already added as “One” (${a.record.entry.id}).`],
    });
    const other = [file('a.png', img(5)), file('b.png', img(6))];
    const early = fakes();
    expect(await addModel(input(other, { id: 'x..y' }), early.deps)).toMatchObject({ status: 'refused', reasons: ['The id “x..y” cannot be used: it contains "..".'] });
    // A given id is checked before any image is embedded.
    expect(early.embedded).toEqual([]);
    expect(await addModel(input(other, { id: 'taken-by-index' }), fakes().deps)).toMatchObject({ status: 'refused', reasons: [expect.stringMatching(/an index model has that id/)] });
    expect(await addModel(input(other, { id: a.record.entry.id }), fakes({ existing }).deps)).toMatchObject({ status: 'refused', reasons: [expect.stringMatching(/one of your models has that id/)] });
    const full = fakes({ save: async () => ({ status: 'quota', message: 'Not enough storage to keep this model (needs ≈ 0.1 MB).' }) });
    expect(await addModel(input(other), full.deps)).toMatchObject({ status: 'refused', reasons: ['Not enough storage to keep this model (needs ≈ 0.1 MB).'] });
    expect(await addModel(input(other, { description: 'x'.repeat(6000) }), fakes().deps)).toMatchObject({ status: 'refused', reasons: ['The description is 6000 characters (limit 5000): shorten it.'] });
  });

  it('a file over the size limit says its size rounded up, never equal to the limit', async () => {
    // A real Blob whose size says 256 MB + 1 byte (its bytes are never read: the size alone refuses it).
    const huge = new Blob([]);
    Object.defineProperty(huge, 'size', { value: 256 * 1024 * 1024 + 1 });
    Object.defineProperty(huge, 'arrayBuffer', { value: () => Promise.reject(new Error('must not be read')) });
    const r = saved(await addModel(input([file('a.png', img(1)), file('b.png', img(2)), file('big.png', huge)]), fakes().deps));
    expect(r.skipped).toEqual([{ name: 'big.png', reason: 'too large (256.1 MB; files up to 256 MB are accepted)' }]);
  });

  it('a damaged stored record holding the new id is named, with the way out (the dialog asks for no id)', async () => {
    const id = saved(await addModel(input([file('a.png', img(1)), file('b.png', img(2))], { name: 'Mine' }), fakes().deps)).record.entry.id;
    const exists = async (): Promise<SaveResult> => ({ status: 'exists' });
    for (const key of [`entry:${id}`, `data:${id}`]) {
      expect(await addModel(input([file('a.png', img(1)), file('b.png', img(2))], { name: 'Mine' }), fakes({ save: exists, damagedKeys: ['entry:other-1', key] }).deps)).toMatchObject({
        status: 'refused',
        reasons: [`A damaged saved model holds the id “${id}”: remove damaged models under Offline storage, then add these images again.`],
      });
    }
    // Taken meanwhile by a healthy model (another tab saved it): the plain words, and the way out the dialog offers.
    expect(await addModel(input([file('a.png', img(1)), file('b.png', img(2))], { name: 'Mine' }), fakes({ save: exists, damagedKeys: ['entry:other-1'] }).deps)).toMatchObject({
      status: 'refused',
      reasons: [expect.stringMatching(/one of your models has that id .*Give the model another name/)],
    });
    // The same images under the same name after the site merged their shard: the index has the derived id.
    expect(await addModel(input([file('a.png', img(1)), file('b.png', img(2))], { name: 'Mine' }), fakes({ indexHas: (x) => x === id }).deps)).toMatchObject({
      status: 'refused',
      reasons: [`The id “${id}” is taken: an index model has that id (these images may already be in this index, merged from an export). Give the model another name to add it anyway.`],
    });
  });

  it('stops between images when cancelled, saving nothing', async () => {
    let cancel = false;
    const f = fakes({ cancelled: () => cancel });
    const embed = f.deps.embed;
    f.deps.embed = async (image) => {
      const e = await embed(image);
      cancel = true;
      return e;
    };
    expect(await addModel(input([file('a.png', img(1)), file('b.png', img(2)), file('c.png', img(3))]), f.deps)).toEqual({ status: 'aborted' });
    expect(f.embedded).toEqual([1]);
    expect(f.saved).toEqual([]);
    // Held before the save, then cancelled: nothing saved either.
    const g = fakes();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let cancelled = false;
    g.deps.cancelled = () => cancelled;
    g.deps.hold = (stage) => (stage === 'before-save' ? released : Promise.resolve());
    const pending = addModel(input([file('a.png', img(1)), file('b.png', img(2))]), g.deps);
    await new Promise((r) => setTimeout(r, 10));
    cancelled = true;
    release();
    expect(await pending).toEqual({ status: 'aborted' });
    expect(g.saved).toEqual([]);
  });

  it('slugs names to [a-z0-9-], at most 100 characters', () => {
    expect(slug('  Été à Paris — 2024!! ')).toBe('ete-a-paris-2024');
    expect(slug('***')).toBe('model');
    expect(slug('a'.repeat(150))).toHaveLength(100);
  });
});

/** A loaded v1 index (f32 Gaussians and samples) and its manifest. */
function basis() {
  const { index } = smallIndex({ seed: 3, dim: DIM, count: 5, samples: 6 });
  const models: ModelMeta[] = Array.from({ length: 5 }, (_, i) => ({ ...metadataDefaults({}, `m${i}`), id: `m${i}`, resolution: '', thumbnails: [] }));
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: 'base',
    createdWith: 'test',
    encoder: { id: 'test-encoder', dim: DIM },
    count: 5,
    licence: 'CC0-1.0',
    files: { 'index.bin': { bytes: 0, sha256: '0'.repeat(64) }, 'models.json': { bytes: 0, sha256: '0'.repeat(64) } },
    params: { epsilon: 1e-3, precision: 'f32', samplesKept: 6, samplesPrecision: 'f32', temperature: 20 },
  };
  return { manifest, index, models, ids: new Map(models.map((m, i) => [m.id, i])), temperature: 20 };
}

async function record(name: string, seeds: number[], encoder = { id: 'test-encoder', dim: DIM }): Promise<LocalEntry> {
  const f = fakes({ encoder });
  return saved(await addModel(input(seeds.map((s, i) => file(`${i}.png`, img(s))), { name }), f.deps)).record;
}

describe('deriveLocal and entryFolder', () => {
  it('derives the shard the export holds, with the loaded index settings, and ranks it appended', async () => {
    const b = basis();
    const r1 = await record('Zeta', [11, 12, 13]);
    const r2 = await record('Alpha', [21, 22]);
    const other = await record('Other', [31, 32], { id: 'zoo-encoder', dim: DIM });
    const derived = await deriveLocal([r1, r2, other], b);
    expect(derived.unusable.get(other.entry.id)).toMatch(/made with zoo-encoder \(8-d\); this index uses test-encoder \(8-d\)/);
    const set = derived.set!;
    // Code-point id order, as the shard writes them.
    expect(set.models.map((m) => m.name)).toEqual(['Alpha', 'Zeta']);
    expect(set.models[0].thumbnails).toEqual([0, 1].map((k) => `thumbs/${r2.entry.id}/${k}.webp`));
    const { files } = await entryFolder([r1, r2], b);
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['manifest.json', 'index.bin', 'models.json', `thumbs/${r1.entry.id}/0.webp`]));
    const manifest = JSON.parse(new TextDecoder().decode(files.find((f) => f.path === 'manifest.json')!.bytes));
    expect(manifest.params).toMatchObject({ epsilon: 1e-3, precision: 'f32', samplesKept: 6, samplesPrecision: 'f32', temperature: 20, samplesPerModel: { min: 2, mean: 2.5, max: 3 } });
    expect(manifest.calibration).toBeUndefined();
    // The mini-index holds what core finaliseModel + writeIndex make of the embeddings.
    const settings = entrySettingsFor(b.manifest, b.index).finalise;
    const f = finaliseModel({ source: { id: 'x', label: 'x', meta: metadataDefaults({}, 'x'), missingFields: [] }, embeddings: [vector(21), vector(22)], thumbs: [] }, settings);
    if (!f.ok) throw new Error(f.reason);
    const alone = readIndex(writeIndex({ dim: DIM, means: Float32Array.from(f.model.mean), gaussian: { precision: f.model.gaussian!.precision, epsilon: Float32Array.of(f.model.gaussian!.epsilon), dtype: 'f32' }, samples: { perModel: [f.model.samples!], dtype: 'f32' } }));
    expect(Array.from(set.index.means.subarray(0, DIM))).toEqual(Array.from(alone.means));
    expect(Array.from(set.index.gaussian!.bias.subarray(0, DIM))).toEqual(Array.from(alone.gaussian!.bias));

    const appended = withLocalModels(b, set);
    const query = Float32Array.from(set.index.means.subarray(DIM, 2 * DIM));
    const ranking = await rank(appended, { parts: [{ part: { kind: 'text', text: 'zeta' }, weight: 1 }], method: 'first-moment', hybridWeight: 0 }, async () => l2normalize(query));
    expect(appended.models[ranking.results[0].index].name).toBe('Zeta');
    expect(ranking.results[0].index).toBeGreaterThanOrEqual(appended.baseCount);
  });

  it('summaries say why a model is not ranked; the JSON export carries the mean', async () => {
    const r = await record('Alpha', [21, 22]);
    const s = summary(r, { unusable: 'another encoder', shadowed: false, sessionOnly: true });
    expect(s).toMatchObject({ id: r.entry.id, name: 'Alpha', images: 2, usable: false, unusableReason: 'another encoder', sessionOnly: true, shadowed: false });
    expect(s.thumbnails).toHaveLength(2);
    const json = JSON.parse(exportJson([r]));
    expect(json).toMatchObject({ format: 'model-search-local-models', formatVersion: 1, models: [{ id: r.entry.id, name: 'Alpha', images: 2, encoder: { id: 'test-encoder', dim: DIM } }] });
    const mean = json.models[0].mean as number[];
    expect(mean).toHaveLength(DIM);
    expect(mean[0]).toBe(Math.fround((vector(21)[0] + vector(22)[0]) / 2));
  });

  it('exports a shard .tar holding exactly the bytes ranked, JSON, and refuses a shard before the index has loaded', async () => {
    const b = basis();
    const r1 = await record('Zeta roses', [11, 12, 13]);
    const r2 = await record('Alpha', [21, 22]);
    const derived = await deriveLocal([r1, r2], b);
    const shard = await exportFile([r1, r2], 'shard', b);
    expect(shard).toMatchObject({ fileName: 'my-models.shard.tar', mime: 'application/x-tar' });
    const files = readTar(shard.bytes);
    expect(files.map((f) => f.path)).toEqual([
      'index.bin', 'manifest.json', 'models.json',
      ...[r2, r1].flatMap((r) => [0, 1].concat(r === r1 ? [2] : []).map((k) => `thumbs/${r.entry.id}/${k}.webp`)),
    ].sort());
    const bin = files.find((f) => f.path === 'index.bin')!.bytes;
    expect(Array.from(readIndex(bin).means)).toEqual(Array.from(derived.set!.index.means));
    // The tar is deterministic.
    expect((await exportFile([r2, r1], 'shard', b)).bytes).toEqual(shard.bytes);
    expect((await exportFile([r1], 'shard', b)).fileName).toBe('zeta-roses.shard.tar');
    const json = await exportFile([r1], 'json', undefined);
    expect(json).toMatchObject({ fileName: 'zeta-roses.json', mime: 'application/json' });
    expect(JSON.parse(new TextDecoder().decode(json.bytes)).models[0].images).toBe(3);
    await expect(exportFile([r1], 'shard', undefined)).rejects.toThrow(/index loaded first/);
    const other = await record('Other', [31, 32], { id: 'zoo-encoder', dim: DIM });
    await expect(exportFile([other], 'shard', b)).rejects.toThrow(/made with zoo-encoder/);
  });

  it('holds one derivation per live record: renamed or removed ones are let go (a 512-d factor is ~0.5–1 MB each)', async () => {
    const b = basis();
    const r = await record('Renamed often', [51, 52, 53]);
    const keep = await record('Kept', [61, 62]);
    for (let t = 1; t <= 20; t++) {
      const renamed = { ...r, entry: { ...r.entry, meta: { ...r.entry.meta, name: `Name ${t}` }, updatedAt: r.entry.updatedAt + t } };
      expect((await deriveLocal([renamed, keep], b)).set!.models.map((m) => m.name)).toEqual(['Kept', `Name ${t}`].sort((x, y) => (x < y ? -1 : 1)));
      expect(memoisedDerivations(b)).toBe(2);
    }
    await deriveLocal([keep], b);
    expect(memoisedDerivations(b)).toBe(1);
    const tb = { manifest: { encoder: { id: 'test-encoder', dim: DIM }, params: { epsilon: 1e-3, precision: 'f32' as const, ppcaRank: 4 } } };
    for (let t = 1; t <= 5; t++) deriveTieredLocal([{ ...r, entry: { ...r.entry, updatedAt: t } }], tb);
    expect(memoisedDerivations(tb)).toBe(1);
  });

  it('uses a stored derivation only when it fits the settings and the embeddings', async () => {
    const b = basis();
    const r1 = await record('Zeta', [11, 12, 13]);
    const r2 = await record('Alpha', [21, 22]);
    const first = await deriveLocal([r1, r2], { ...b });
    expect([...first.fresh.keys()].sort()).toEqual([r1.entry.id, r2.entry.id].sort());
    const bytesOf = async (cached: Map<string, { key: string; bin: ArrayBuffer }>) => {
      const { files, fresh } = await entryFolder([r1, r2], { ...b }, 'my-models', cached);
      return { bin: Array.from(files.find((f) => f.path === 'index.bin')!.bytes), fresh: [...fresh.keys()].sort() };
    };
    const reference = await bytesOf(new Map());
    // Kept derivations: the same bytes, nothing fresh.
    expect(await bytesOf(first.fresh)).toEqual({ ...reference, fresh: [] });
    // Another model's derivation under r1's id (a mean that is not r1's), other settings, junk: derived again.
    const swapped = new Map([[r1.entry.id, first.fresh.get(r2.entry.id)!], [r2.entry.id, { key: 'other settings', bin: first.fresh.get(r2.entry.id)!.bin }]]);
    expect(await bytesOf(swapped)).toEqual({ ...reference, fresh: [r1.entry.id, r2.entry.id].sort() });
    const junk = new Map([[r1.entry.id, { key: first.fresh.get(r1.entry.id)!.key, bin: new ArrayBuffer(64) }]]);
    expect(await bytesOf(junk)).toEqual({ ...reference, fresh: [r1.entry.id, r2.entry.id].sort() });
    // deriveLocal does not call fresh what the store already keeps.
    expect((await deriveLocal([r1, r2], { ...b }, first.fresh)).fresh.size).toBe(0);
  });

  it('measures the derivation cost at CLIP size (d = 512, 100 images; about 0.2–0.8 s on 2 shared cores)', async () => {
    const dim = 512;
    const next = mulberry32(5);
    const centre = l2normalize(Float32Array.from({ length: dim }, () => next() - 0.5));
    const n = 100;
    const emb = new Float32Array(n * dim);
    for (let r = 0; r < n; r++) emb.set(l2normalize(centre.map((v) => v + 0.5 * (next() - 0.5))), r * dim);
    const rec: LocalEntry = {
      entry: {
        schema: 1, id: 'big-1', encoder: { id: 'clip-vit-b32', dim },
        meta: { name: 'Big', description: '', family: '', creator: 'unknown', licence: 'unspecified', resolution: '', links: [] },
        images: Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, sha256: '0'.repeat(64), width: 1, height: 1 })),
        skipped: [], thumbnailMime: 'image/webp', thumbnails: 0, bytes: emb.byteLength, createdAt: 0, updatedAt: 0,
      },
      data: { embeddings: emb.buffer, thumbnails: [] },
    };
    const { index } = smallIndex({ seed: 1, dim, count: 1, samples: 3 });
    const b = { manifest: { ...basis().manifest, encoder: { id: 'clip-vit-b32', dim }, params: { epsilon: 1e-3, precision: 'f32' as const, samplesKept: 32, samplesPrecision: 'f32' as const } }, index };
    const t0 = performance.now();
    const d = await deriveLocal([rec], b);
    const ms = performance.now() - t0;
    const t1 = performance.now();
    const cached = await deriveLocal([rec], { ...b }, d.fresh);
    const cachedMs = performance.now() - t1;
    console.log(`derivation of one 512-d model from 100 images: ${ms.toFixed(0)} ms; from its stored derivation: ${cachedMs.toFixed(0)} ms`);
    expect(d.set?.index.count).toBe(1);
    expect(Array.from(cached.set!.index.means)).toEqual(Array.from(d.set!.index.means));
    // A bound against a runaway (a quadratic slip would take minutes), not a speed target.
    expect(ms).toBeLessThan(10_000);
  }, 30_000);
});
