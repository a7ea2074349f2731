import 'fake-indexeddb/auto';
import { createStore, keys, set, type UseStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { VerifiedFileStore } from './fileStore.ts';
import { LocalModelStore, LOCAL_DB_NAME, LOCAL_STORE_NAME, openLocalModelStore, quotaMessage, recordBytes, type LocalEntry } from './localModelStore.ts';

let dbCount = 0;
function freshStore(): UseStore {
  return createStore(`local-store-test-${++dbCount}`, 'models');
}

const DIM = 4;

function record(id: string, n = 3, createdAt = 1000): LocalEntry {
  const emb = new Float32Array(n * DIM);
  for (let r = 0; r < n; r++) emb[r * DIM + (r % DIM)] = 1;
  const thumbnails = [new Uint8Array([1, 2, 3]).buffer];
  const data = { embeddings: emb.buffer, thumbnails };
  return {
    entry: {
      schema: 1,
      id,
      encoder: { id: 'test-encoder', dim: DIM },
      meta: { name: `Model ${id}`, description: '', family: '', creator: 'unknown', licence: 'unspecified', resolution: '64×64', links: [] },
      images: Array.from({ length: n }, (_, i) => ({ name: `${i}.png`, sha256: String(i).repeat(64).slice(0, 64), width: 64, height: 64 })),
      skipped: [],
      thumbnailMime: 'image/webp',
      thumbnails: 1,
      bytes: recordBytes(data),
      createdAt,
      updatedAt: createdAt,
    },
    data,
  };
}

const plenty = async () => ({ usage: 0, quota: 1e12 });

describe('LocalModelStore', () => {
  it('saves both records in one transaction, lists, renames and removes', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    expect(store.sessionOnly).toBe(false);
    expect(await store.save(record('a-1', 3, 2000))).toEqual({ status: 'saved' });
    expect(await store.save(record('b-2', 2, 1000))).toEqual({ status: 'saved' });
    expect((await keys(useStore)).sort()).toEqual(['data:a-1', 'data:b-2', 'entry:a-1', 'entry:b-2']);
    const listed = await store.list();
    expect(listed.damaged).toEqual([]);
    expect(listed.entries.map((e) => e.entry.id)).toEqual(['b-2', 'a-1']);
    expect(new Float32Array(listed.entries[1].data.embeddings)).toHaveLength(3 * DIM);

    const renamed = await store.update('a-1', { name: 'Roses', licence: 'CC0-1.0' }, 5000);
    expect(renamed).toMatchObject({ id: 'a-1', meta: { name: 'Roses', licence: 'CC0-1.0', description: '' }, updatedAt: 5000, createdAt: 2000 });
    expect((await store.list()).entries.find((e) => e.entry.id === 'a-1')?.entry.meta.name).toBe('Roses');
    expect(await store.update('nope', { name: 'x' })).toBeUndefined();

    await store.remove('a-1');
    expect((await keys(useStore)).sort()).toEqual(['data:b-2', 'entry:b-2']);
  });

  it('refuses an id that is stored (or has a stray data record), writing nothing', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    await store.save(record('a-1'));
    expect(await store.save(record('a-1', 2))).toEqual({ status: 'exists' });
    // data:<id> without its entry: the entry's add succeeds, the data's fails, the transaction aborts.
    await set('data:c-3', { stray: true }, useStore);
    expect(await store.save(record('c-3'))).toEqual({ status: 'exists' });
    expect((await keys(useStore)).sort()).toEqual(['data:a-1', 'data:c-3', 'entry:a-1']);
  });

  it('an aborted transaction saves nothing (no half-saved model)', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    const bad = record('d-4');
    // A value IndexedDB cannot clone: the second write throws after the first was queued.
    (bad.data as unknown as { thumbnails: unknown[] }).thumbnails = [() => 0];
    const result = await store.save(bad);
    expect(result.status).toBe('unavailable');
    expect(await keys(useStore)).toEqual([]);
    expect((await store.list()).entries).toEqual([]);
  });

  it('refuses before writing when the estimate leaves too little room, with sizes', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, async () => ({ usage: 900_000, quota: 1_000_000 }));
    const r = record('e-5', 4000);
    const result = await store.save(r);
    expect(result.status).toBe('quota');
    expect(result.status === 'quota' && result.message).toMatch(/^Not enough storage to keep this model \(needs ≈ 0\.1 MB; too little room would be left\)\. Remove one of your models, or clear saved files under Offline storage\.$/);
    expect(await keys(useStore)).toEqual([]);
  });

  it('classifies QuotaExceededError from the transaction as quota', async () => {
    const failing: UseStore = () => Promise.reject(new DOMException('full', 'QuotaExceededError'));
    const store = new LocalModelStore(failing, async () => ({ usage: 10, quota: 1e9 }));
    const result = await store.save(record('f-6'));
    // The estimate reports plenty of room although the write was refused: no contradicting figure.
    expect(result).toEqual({ status: 'quota', message: expect.stringMatching(/needs ≈ 0\.1 MB; the browser refused to store it\)\./) });
    const tight = new LocalModelStore(failing, async () => ({ usage: 999_990, quota: 1_000_000 }));
    expect(await tight.save(record('f-7'))).toEqual({ status: 'quota', message: expect.stringMatching(/needs ≈ 0\.1 MB; the browser allows < 0\.1 MB more\)\./) });
  });

  it('quota words: the need rounded up, never a free figure at or above the need, 0 when nothing is left', () => {
    const MB = 1024 * 1024;
    const words = (needs: number, free: Parameters<typeof quotaMessage>[1]) => /\(([^)]*)\)/.exec(quotaMessage(needs, free))![1];
    expect(words(3 * MB, 4.8 * MB)).toBe('needs ≈ 3 MB; too little room would be left');
    expect(words(3 * MB, 3 * MB)).toBe('needs ≈ 3 MB; too little room would be left');
    expect(words(3 * MB, 1 * MB)).toBe('needs ≈ 3 MB; the browser allows 1 MB more');
    expect(words(3 * MB, 0)).toBe('needs ≈ 3 MB; the browser allows 0 MB more');
    expect(words(3 * MB, -5)).toBe('needs ≈ 3 MB; the browser allows 0 MB more');
    expect(words(3.01 * MB, undefined)).toBe('needs ≈ 3.1 MB');
    expect(words(1000, 'refused')).toBe('needs ≈ 0.1 MB; the browser refused to store it');
  });

  it('skips and reports damaged records, deleting none', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    await store.save(record('good-1'));
    const put = async (r: LocalEntry) => {
      await set(`entry:${r.entry.id}`, r.entry, useStore);
      await set(`data:${r.entry.id}`, r.data, useStore);
    };
    const short = record('short-1');
    short.data.embeddings = short.data.embeddings.slice(4);
    await put(short);
    const nan = record('nan-1');
    new Float32Array(nan.data.embeddings)[2] = NaN;
    await put(nan);
    const notUnit = record('nonunit-1');
    new Float32Array(notUnit.data.embeddings)[0] = 0.5;
    await put(notUnit);
    const dots = record('x..y');
    await put(dots);
    await put(record('.'));
    const nanDate = record('nandate-1');
    nanDate.entry.createdAt = NaN;
    await put(nanDate);
    const one = record('one-1', 1);
    await put(one);
    await set('entry:nodata-1', record('nodata-1').entry, useStore);
    await set('data:orphan-1', record('orphan-1').data, useStore);
    const long = record('long-1');
    long.entry.meta.description = 'x'.repeat(6000);
    await put(long);

    const { entries, damaged } = await store.list();
    expect(entries.map((e) => e.entry.id)).toEqual(['good-1']);
    expect(Object.fromEntries(damaged.map((d) => [d.key, d.reason]))).toEqual({
      'entry:short-1': 'its embeddings have the wrong size',
      'entry:nan-1': 'embedding 1 is not a number',
      'entry:nonunit-1': 'embedding 1 is not a unit vector',
      'entry:x..y': 'its id is not valid',
      'entry:.': 'its id is not valid',
      'entry:nandate-1': 'its dates are not valid',
      'entry:one-1': 'it has fewer than 2 images',
      'entry:nodata-1': 'its embeddings are missing',
      'data:orphan-1': 'its description is missing',
      'entry:long-1': 'its metadata has a description of 6000 characters (limit 5000)',
    });
    expect((await keys(useStore)).length).toBe(20);
  });

  it('removes only the damaged records when asked, with their derivations; healthy models and their caches stay', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    await store.save(record('good-1'));
    expect(await store.putDerived('good-1', { key: 'k', bin: new ArrayBuffer(2) })).toBe(true);
    const short = record('short-1');
    short.data.embeddings = short.data.embeddings.slice(4);
    await set('entry:short-1', short.entry, useStore);
    await set('data:short-1', short.data, useStore);
    await set('derived:short-1', { key: 'k', bin: new ArrayBuffer(2) }, useStore);
    await set('entry:nodata-1', record('nodata-1').entry, useStore);
    await set('data:orphan-1', record('orphan-1').data, useStore);
    await set('stray', 1, useStore);

    const removed = await store.removeDamaged();
    expect(removed.sort()).toEqual(['data:orphan-1', 'data:short-1', 'derived:short-1', 'entry:nodata-1', 'entry:short-1', 'stray']);
    expect((await keys(useStore)).map(String).sort()).toEqual(['data:good-1', 'derived:good-1', 'entry:good-1']);
    const listed = await store.list();
    expect(listed.damaged).toEqual([]);
    expect(listed.entries.map((e) => e.entry.id)).toEqual(['good-1']);
    // Nothing damaged: nothing deleted; the same images can be saved again under the freed id.
    expect(await store.removeDamaged()).toEqual([]);
    expect(await store.save(record('short-1'))).toEqual({ status: 'saved' });
    expect(await new LocalModelStore(null).removeDamaged()).toEqual([]);
  });

  it('keeps derivations beside their model (a cache: never reported damaged), removed with it', async () => {
    const useStore = freshStore();
    const store = new LocalModelStore(useStore, plenty);
    await store.save(record('g-1'));
    expect(await store.putDerived('g-1', { key: 'k', bin: new Uint8Array([1, 2]).buffer })).toBe(true);
    // No entry, no derivation kept.
    expect(await store.putDerived('gone-1', { key: 'k', bin: new ArrayBuffer(2) })).toBe(false);
    await set('derived:junk-1', 'junk', useStore);
    const listed = await store.list();
    expect([...listed.derived.keys()]).toEqual(['g-1']);
    expect(listed.derived.get('g-1')!.key).toBe('k');
    expect(listed.damaged).toEqual([]);
    await store.remove('g-1');
    expect((await keys(useStore)).sort()).toEqual(['derived:junk-1']);
  });

  it('keeps models in memory for the tab when IndexedDB is unavailable', async () => {
    const store = new LocalModelStore(null);
    expect(store.sessionOnly).toBe(true);
    expect(await store.save(record('m-1'))).toEqual({ status: 'saved' });
    expect(await store.save(record('m-1'))).toEqual({ status: 'exists' });
    expect((await store.update('m-1', { description: 'd' }))?.meta.description).toBe('d');
    expect((await store.list()).entries.map((e) => e.entry.meta.description)).toEqual(['d']);
    await store.remove('m-1');
    expect((await store.list()).entries).toEqual([]);
  });

  it('lives in its own database: clearing saved files keeps it', async () => {
    const store = await openLocalModelStore();
    expect(store.sessionOnly).toBe(false);
    expect(await store.save(record('kept-1'))).toMatchObject({ status: expect.stringMatching(/saved|quota/) });
    const files = new VerifiedFileStore();
    await files.clear();
    const direct = createStore(LOCAL_DB_NAME, LOCAL_STORE_NAME);
    expect(await keys(direct)).toContain('entry:kept-1');
  });
});
