import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import type { OpenedIndex } from '../src/core/index/openIndex.ts';
import { MANIFEST_FORMAT, type IndexManifest, type ModelMeta } from '../src/core/index/manifest.ts';
import { ENCODERS } from '../src/core/encode/encoders.ts';
import { mulberry32 } from '../src/core/math/prng.ts';
import { l2normalize } from '../src/core/math/vectors.ts';
import { readTar } from '../src/core/io/tar.ts';
import { smallIndex } from '../test/support/smallIndex.ts';
import { smallTieredIndex } from '../test/support/tieredIndex.ts';
import { readTieredHead } from '../src/core/index/tieredHead.ts';
import type { AddModelProgress, SearchOutcome } from '../src/shared/protocol.ts';
import { LocalModelStore } from './storage/localModelStore.ts';
import type { SearchWorkerApi } from './search.worker.ts';

/*
 * The worker's glue for your own models, in Node: the index loader, the encoder runtime, the image
 * decoder and the thumbnailer are fakes; storage is fake-indexeddb; ranking, derivation and the
 * store are the real code.
 */

const DESC = ENCODERS['test-encoder']!;
const DIM = DESC.dim;
const vector = (seed: number) => {
  const next = mulberry32(seed);
  return l2normalize(Float32Array.from({ length: DIM }, () => next() - 0.5));
};

const { captured } = vi.hoisted(() => ({ captured: { api: undefined as unknown, tiered: false } }));

vi.mock('comlink', async (importOriginal) => ({
  ...(await importOriginal<typeof import('comlink')>()),
  expose: (api: unknown) => {
    captured.api = api;
  },
}));
vi.mock('./ortRuntime.ts', () => ({ WASM_THREADS: 1, startOrtRuntime: async () => ({}) }));
vi.mock('./webgpu.ts', () => ({ probeWebGpu: async () => ({ ok: false, reason: { kind: 'requested' } }) }));
vi.mock('./decodeImage.ts', () => ({
  decodeImage: async (blob: Blob) => {
    const m = /^img:(\d+)$/.exec(await blob.text());
    if (!m) throw new Error('not an image');
    return { data: new Uint8Array([Number(m[1])]), width: 10, height: 8, original: { width: 10, height: 8 } };
  },
}));
vi.mock('./thumbnail.ts', () => ({ makeThumbnail: async (blob: Blob) => ({ bytes: new TextEncoder().encode(await blob.text()).buffer, mime: 'image/webp' }) }));
vi.mock('./encoderRuntime.ts', () => ({
  EncoderRuntime: class {
    desc = DESC;
    backend = 'wasm';
    backendReason = undefined;
    async ready() {}
    async encodeText() {
      return vector(500);
    }
    async encodeImage(image: { data: Uint8Array }) {
      return vector(image.data[0]!);
    }
  },
}));
vi.mock('./indexLoader.ts', () => ({
  isTiered: (i: { kind?: string }) => i.kind === 'tiered',
  startIndexLoad: () => {
    const opened = captured.tiered ? tieredIndex() : Promise.resolve(baseIndex());
    return { manifest: opened.then((o) => o.manifest), index: opened };
  },
}));

function baseIndex(): OpenedIndex {
  const { index } = smallIndex({ seed: 9, dim: DIM, count: 6, samples: 5 });
  const models: ModelMeta[] = Array.from({ length: 6 }, (_, i) => ({ id: `m${i}`, name: `Model ${i}`, description: '', family: '', creator: 'unknown', licence: 'CC0-1.0', resolution: '', links: [], thumbnails: [] }));
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: 'base',
    createdWith: 'test',
    encoder: { id: DESC.id, dim: DIM },
    count: 6,
    licence: 'CC0-1.0',
    files: { 'index.bin': { bytes: 0, sha256: '0'.repeat(64) }, 'models.json': { bytes: 0, sha256: '0'.repeat(64) } },
    params: { epsilon: 1e-3, precision: 'f32', samplesKept: 5, samplesPrecision: 'f32', temperature: 20 },
  };
  return { manifest, manifestBytes: new Uint8Array(), models, index, ids: new Map(models.map((m, i) => [m.id, i])), temperature: 20, nullText: [] };
}

/** A small real tiered (version 2) index (models t0…t5), loaded as the worker's loader would give it: records in memory, JS scoring. */
async function tieredIndex() {
  const { packed, head: bytes } = await smallTieredIndex({ dim: DIM, count: 6, seed: 3, cycle: 4, noise: 0.4, perBlock: 3, dtype: 'f16' });
  const head = readTieredHead(bytes);
  const base = baseIndex().manifest;
  const manifest = { ...base, formatVersion: 2, files: { 'head.bin': { bytes: bytes.byteLength, sha256: '0'.repeat(64) } }, tiered: { modelsPerBlock: 3, blocks: head.blocks.length, blockFiles: false }, params: { epsilon: 1e-2, precision: 'f16', ppcaRank: 8, temperature: 20 } };
  const models: ModelMeta[] = Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, name: `Tiered ${i}`, description: '', family: '', creator: 'unknown', licence: 'CC0-1.0', resolution: '', links: [], thumbnails: [] }));
  const seen = new Map<string, number>();
  const counts = () => ({ requests: 0, fetched: 0, bytes: 0, fromStorage: 0 });
  return {
    kind: 'tiered',
    manifest,
    manifestBytes: new Uint8Array(),
    head,
    temperature: 20,
    nullText: [],
    cache: new Map(),
    fetchBlocks: async (blocks: number[]) => new Map(blocks.map((b) => [b, packed.data.slice(head.blocks[b]!.offset, head.blocks[b]!.offset + head.blocks[b]!.bytes)] as const)),
    scorer: () => undefined,
    engine: () => ({ engine: 'wasm' }),
    source: () => 'ranges',
    idOf: (id: string) => seen.get(id),
    meta: async (ms: number[]) => ms.map((m) => (seen.set(models[m]!.id, m), models[m]!)),
    stats: { records: counts(), codes: counts(), metaShards: 0 },
  };
}

async function worker(): Promise<SearchWorkerApi> {
  await import('./search.worker.ts');
  const api = captured.api as SearchWorkerApi;
  api.configure({ indexUrl: 'https://x.test/index/', appBase: '/', backend: 'wasm' } as never);
  return api;
}

const files = (seeds: number[]) => seeds.map((s, i) => ({ name: `${String(i).padStart(2, '0')}.png`, blob: new Blob([`img:${s}`]) }));
const done = (o: SearchOutcome) => {
  if (o.status !== 'done') throw new Error('aborted');
  return o.response;
};

describe('search worker: your own models', () => {
  it('adds, ranks (marked local), lists, survives clearing saved files, renames, exports, removes', async () => {
    const api = await worker();
    expect((await api.ready()).localModels).toBe(0);
    const events: AddModelProgress[] = [];
    const added = await api.addLocalModel({ files: files([1, 2, 3]), name: 'My roses', licence: 'CC0-1.0' }, 1, (p) => events.push(p));
    if (added.status !== 'saved') throw new Error(JSON.stringify(added));
    const id = added.model.id;
    expect(added.model).toMatchObject({ name: 'My roses', images: 3, usable: true, shadowed: false, sessionOnly: false });
    expect(added.model.thumbnails).toHaveLength(3);
    expect(events.at(-1)).toEqual({ stage: 'saving' });

    const search = (parts: object[]) => api.search({ parts, method: 'first-moment', hybridWeight: 0 } as never).then(done);
    const img = (seed: number) => ({ part: { kind: 'image', image: new Blob([`img:${seed}`]) }, weight: 1 });
    // An image of the model: it ranks first, marked as yours.
    const r = await search([img(2)]);
    expect(r.modelCount).toBe(7);
    expect(await api.modelCount()).toEqual({ modelCount: 7, localModels: 1 });
    expect(r.results[0]).toMatchObject({ model: { id }, local: true });
    expect(r.results.filter((x) => x.local)).toHaveLength(1);
    // The derivation is kept for the next visit.
    const { createStore, keys } = await import('idb-keyval');
    await vi.waitFor(async () => expect(await keys(createStore('model-search-local', 'models'))).toContain(`derived:${id}`));
    // More like this, from your model and to it.
    const from = await search([{ part: { kind: 'model', modelId: id }, weight: 1 }]);
    expect(from.queryModel).toMatchObject({ id, index: 6 });
    const to = await search([{ part: { kind: 'model', modelId: 'm0' }, weight: 1 }]);
    expect(to.results.some((x) => x.model.id === id && x.local)).toBe(true);

    const info = await api.clearStorage();
    expect(info.localModels?.map((m) => m.id)).toEqual([id]);
    expect((await api.listLocalModels()).map((m) => m.name)).toEqual(['My roses']);

    const renamed = await api.updateLocalModel(id, { name: 'Roses, renamed' });
    expect(renamed).toMatchObject({ id, name: 'Roses, renamed' });
    expect((await search([img(2)])).results[0]!.model.name).toBe('Roses, renamed');

    const shard = await api.exportLocalModels([id], 'shard');
    expect(shard.fileName).toBe('roses-renamed.shard.tar');
    expect(readTar(new Uint8Array(shard.bytes)).map((f) => f.path)).toContain('index.bin');
    const source = await api.localModelSource(id);
    expect(source).toMatchObject({ dim: DIM, images: [{ name: '00.png', width: 10, height: 8 }, { name: '01.png' }, { name: '02.png' }] });
    expect(Array.from(source.embeddings.subarray(0, DIM))).toEqual(Array.from(vector(1)));

    // The same images again: refused.
    const again = await api.addLocalModel({ files: files([3, 2, 1]), name: 'Twice' });
    expect(again).toMatchObject({ status: 'refused', reasons: [expect.stringMatching(/already added as “Roses, renamed”/)] });

    await api.removeLocalModel(id);
    expect(await api.listLocalModels()).toEqual([]);
    expect(await api.modelCount()).toEqual({ modelCount: 6, localModels: 0 });
    expect((await search([img(2)])).results.every((x) => !x.local)).toBe(true);
    await expect(api.removeLocalModel(id)).rejects.toThrow(/no model/);
  });

  it('cancel(callId) stops an add, held before the save: nothing is saved', async () => {
    const api = await worker();
    api.holdAdd('before-save');
    const pending = api.addLocalModel({ files: files([7, 8]), name: 'Held' }, 42);
    await new Promise((r) => setTimeout(r, 50));
    api.cancel(42);
    api.holdAdd(null);
    expect(await pending).toEqual({ status: 'aborted' });
    expect(await api.listLocalModels()).toEqual([]);
  });

  it('reads the list again when another tab says it changed', async () => {
    const api = await worker();
    await api.ready();
    expect(await api.listLocalModels()).toEqual([]);
    // Another tab (its own store object on the same database) adds one and pings.
    const other = new LocalModelStore((await import('idb-keyval')).createStore('model-search-local', 'models'));
    const emb = new Float32Array([...vector(11), ...vector(12)]);
    await other.save({
      entry: {
        schema: 1, id: 'other-tab-1', encoder: { id: DESC.id, dim: DIM },
        meta: { name: 'From another tab', description: '', family: '', creator: 'unknown', licence: 'unspecified', resolution: '', links: [] },
        images: [0, 1].map((i) => ({ name: `${i}.png`, sha256: String(i).repeat(64), width: 1, height: 1 })),
        skipped: [], thumbnailMime: 'image/webp', thumbnails: 0, bytes: emb.byteLength, createdAt: 1, updatedAt: 1,
      },
      data: { embeddings: emb.buffer, thumbnails: [] },
    });
    const channel = new BroadcastChannel('model-search-local');
    channel.postMessage({ type: 'changed' });
    await new Promise((r) => setTimeout(r, 50));
    channel.close();
    expect((await api.listLocalModels()).map((m) => m.name)).toEqual(['From another tab']);
    await api.removeLocalModel('other-tab-1');
  });

  it('a damaged record holds its id until the visitor removes the damaged models; then the same images save again', async () => {
    const api = await worker();
    await api.ready();
    const added = await api.addLocalModel({ files: files([21, 22]), name: 'Cut' });
    if (added.status !== 'saved') throw new Error(JSON.stringify(added));
    const id = added.model.id;
    // The data record cut short (a write killed half-way in an older version, a disk fault) and another tab's ping.
    const { createStore, get, set, keys } = await import('idb-keyval');
    const db = createStore('model-search-local', 'models');
    const data = (await get(`data:${id}`, db)) as { embeddings: ArrayBuffer; thumbnails: ArrayBuffer[] };
    await set(`data:${id}`, { ...data, embeddings: data.embeddings.slice(4) }, db);
    const channel = new BroadcastChannel('model-search-local');
    channel.postMessage({ type: 'changed' });
    await new Promise((r) => setTimeout(r, 50));
    channel.close();
    const info = await api.storageInfo();
    expect(info.localDamaged).toEqual([{ key: `entry:${id}`, reason: 'its embeddings have the wrong size' }]);
    expect(await api.listLocalModels()).toEqual([]);
    expect(await api.damagedLocalModels()).toEqual(info.localDamaged);
    const blocked = await api.addLocalModel({ files: files([21, 22]), name: 'Cut' });
    expect(blocked).toMatchObject({ status: 'refused', reasons: [`A damaged saved model holds the id “${id}”: remove damaged models under Offline storage, then add these images again.`] });

    const after = await api.removeDamagedLocalModels();
    expect(after.localDamaged).toBeUndefined();
    expect(await api.damagedLocalModels()).toEqual([]);
    expect((await keys(db)).filter((k) => String(k).endsWith(id))).toEqual([]);
    const again = await api.addLocalModel({ files: files([21, 22]), name: 'Cut' });
    expect(again).toMatchObject({ status: 'saved', model: { id } });
    await api.removeLocalModel(id);
  });

  it('with a tiered index: ranked (marked local) from its tiered record, "more like this" both ways; a tiered shard export and JSON', async () => {
    const api = await worker();
    const added = await api.addLocalModel({ files: files([41, 42]), name: 'Tiered' });
    if (added.status !== 'saved') throw new Error(JSON.stringify(added));
    const id = added.model.id;
    captured.tiered = true;
    try {
      api.configure({ indexUrl: 'https://x.test/tiered/', appBase: '/', backend: 'wasm' } as never);
      const info = await api.ready();
      expect(info).toMatchObject({ modelCount: 7, localModels: 1 });
      expect(await api.modelCount()).toEqual({ modelCount: 7, localModels: 1 });
      const [listed] = await api.listLocalModels();
      expect(listed).toMatchObject({ id, usable: true, shadowed: false });
      expect(listed!.unusableReason).toBeUndefined();
      const search = (parts: object[], method?: string) => api.search({ parts, ...(method ? { method } : {}) } as never).then(done);
      for (const method of ['first-moment', 'gaussian']) {
        // An image of the model: it ranks first, marked as yours, after the index's six.
        const r = await search([{ part: { kind: 'image', image: new Blob(['img:41']) }, weight: 1 }], method);
        expect(r.results[0]).toMatchObject({ index: 6, local: true, model: { id, name: 'Tiered' } });
        expect(r.results.filter((x) => x.local)).toHaveLength(1);
        expect(r).toMatchObject({ modelCount: 7, matched: 7 });
        expect(r.scores).toHaveLength(7);
        expect(r.scores[6]).toBe(r.results[0]!.score);
      }
      const from = await search([{ part: { kind: 'model', modelId: id }, weight: 1 }]);
      expect(from.queryModel).toEqual({ id, name: 'Tiered', index: 6 });
      expect(from.results.map((x) => x.model.id)).toEqual(expect.arrayContaining(['t0', 't5']));
      expect(from.results.some((x) => x.local)).toBe(false);
      const to = await search([{ part: { kind: 'model', modelId: 't0' }, weight: 1 }]);
      expect(to.results.some((x) => x.model.id === id && x.local)).toBe(true);
      // The shard is a tiered folder with the index's settings (its merge: test/unit/tieredShardExport.test.ts).
      const shard = await api.exportLocalModels([id], 'shard');
      expect(shard.fileName).toBe('tiered.shard.tar');
      const inTar = readTar(new Uint8Array(shard.bytes));
      expect(inTar.map((f) => f.path).sort()).toEqual(['head.bin', 'manifest.json', 'meta/0.json', 'records.bin', `thumbs/${id}/0.webp`, `thumbs/${id}/1.webp`]);
      const shardManifest = JSON.parse(new TextDecoder().decode(inTar.find((f) => f.path === 'manifest.json')!.bytes));
      expect(shardManifest).toMatchObject({ formatVersion: 2, count: 1, encoder: { id: DESC.id, dim: DIM }, tiered: { modelsPerBlock: 3, blocks: 1, blockFiles: false }, params: { epsilon: 1e-2, precision: 'f16', ppcaRank: 8, temperature: 20 } });
      expect((await api.exportLocalModels([id], 'json')).fileName).toBe('tiered.json');
    } finally {
      captured.tiered = false;
      api.configure({ indexUrl: 'https://x.test/index/', appBase: '/', backend: 'wasm' } as never);
      await api.removeLocalModel(id);
    }
  });

  it('local models are off when the page says so (embeds)', async () => {
    const api = await worker();
    api.configure({ indexUrl: 'https://x.test/index/', appBase: '/', backend: 'wasm', localModels: false } as never);
    await expect(api.addLocalModel({ files: files([1, 2]) })).rejects.toThrow(/off here/);
    expect(await api.listLocalModels()).toEqual([]);
    expect((await api.storageInfo()).localModels).toBeUndefined();
  });
});
