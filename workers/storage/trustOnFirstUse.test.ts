import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/io/errors.ts';
import type { CacheEvent } from './cachedFetch.ts';
import { trustKey, VerifiedFileStore, type TrustRecord } from './fileStore.ts';
import { forgetMemoryTrust, tofuFetchBytes, type TofuOptions } from './trustOnFirstUse.ts';

let dbCount = 0;
const freshStore = (): UseStore => createStore(`tofu-test-${++dbCount}`, 'files');

const URL_ = 'https://huggingface.co/Xenova/clip/resolve/main/onnx/text_model_quantized.onnx';
const SIZE = 40_000;
const BODY = new Uint8Array(SIZE).map((_, i) => (i * 7919) & 0xff);
/** The same size, one byte different: what a host that swapped the file serves. */
const CHANGED = BODY.slice();
CHANGED[20_000] ^= 0x40;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const GROUP = 'encoder:clip-vit-b32';

/** A fetch serving `body`, counting calls. */
function host(body: Uint8Array | 'offline' = BODY) {
  return vi.fn<typeof fetch>(async () => {
    if (body === 'offline') throw new TypeError('Failed to fetch');
    return new Response(body.slice());
  });
}

function options(store: VerifiedFileStore | null, fetchImpl: typeof fetch, events: CacheEvent[] = [], cached: number[] = []): TofuOptions {
  return { bytes: SIZE, label: 'CLIP text encoder', group: GROUP, store, fetchImpl, onCacheEvent: (e) => events.push(e), onCached: (n) => cached.push(n) };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

afterEach(() => forgetMemoryTrust());

describe('trust on first use (files without a pinned SHA-256)', () => {
  it('records the hash of the first download and stores it; later reads come from the verified copy', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const events: CacheEvent[] = [];
    const first = await tofuFetchBytes(URL_, options(store, host(), events));
    expect(first).toEqual({ data: BODY, sha256: sha(BODY) });
    const record = (await get(trustKey(URL_, SIZE), useStore)) as TrustRecord;
    expect(record).toMatchObject({ url: URL_, bytes: SIZE, sha256: sha(BODY) });
    expect(events.map((e) => e.kind)).toEqual(['stored']);

    const offline = host('offline');
    const cached: number[] = [];
    expect((await tofuFetchBytes(URL_, options(store, offline, events, cached))).data).toEqual(BODY);
    expect(offline).not.toHaveBeenCalled();
    expect(cached).toEqual([SIZE]);
  });

  it('refuses a re-download that differs from the first one, naming the file, and changes nothing stored', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const other = new TextEncoder().encode('another index file');
    await store.put({ sha256: sha(other), bytes: other.byteLength, url: 'https://x.test/models.json', label: 'Index models.json', group: 'index:x' }, other);
    await tofuFetchBytes(URL_, options(store, host()));
    // The saved copy is gone (evicted), and the host now serves another file of the same size.
    await del(`file:${sha(BODY)}`, useStore);
    const before = await keys(useStore);

    const err = await failure(tofuFetchBytes(URL_, options(store, host(CHANGED))));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'integrity', subject: URL_ });
    expect((err as Error).message).toMatch(
      /^text_model_quantized\.onnx is not the file this device first downloaded from https:\/\/huggingface\.co on \d{4}-\d\d-\d\d \(SHA-256 [0-9a-f]{12}…, first seen [0-9a-f]{12}…\), so it is not used\./,
    );
    // The record is the first hash still; the changed file was not stored; the other entry is intact.
    expect(((await get(trustKey(URL_, SIZE), useStore)) as TrustRecord).sha256).toBe(sha(BODY));
    expect((await keys(useStore)).sort()).toEqual(before.sort());
    expect((await store.get(sha(CHANGED), SIZE)).status).toBe('miss');
    expect((await store.get(sha(other), other.byteLength)).status).toBe('hit');
    // And the original file is accepted again.
    expect((await tofuFetchBytes(URL_, options(store, host()))).data).toEqual(BODY);
  });

  it('a saved copy damaged in storage is deleted and the file downloaded again, held to the recorded hash', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    await tofuFetchBytes(URL_, options(store, host()));
    const entry = await get(`file:${sha(BODY)}`, useStore);
    const bytes = new Uint8Array(entry.data as ArrayBuffer);
    bytes[5] ^= 1;
    await set(`file:${sha(BODY)}`, { ...entry, data: bytes.buffer }, useStore);

    const events: CacheEvent[] = [];
    const online = host();
    expect((await tofuFetchBytes(URL_, options(store, online, events))).data).toEqual(BODY);
    expect(online).toHaveBeenCalledTimes(1);
    expect(events.map((e) => e.kind)).toEqual(['corrupt', 'stored']);

    // Damaged again, and this time the host serves a changed file: refused, not stored.
    const again = await get(`file:${sha(BODY)}`, useStore);
    new Uint8Array(again.data as ArrayBuffer)[5] ^= 1;
    await set(`file:${sha(BODY)}`, again, useStore);
    await expect(tofuFetchBytes(URL_, options(store, host(CHANGED)))).rejects.toMatchObject({ code: 'integrity' });
    expect((await store.get(sha(CHANGED), SIZE)).status).toBe('miss');
  });

  it('a tampered record refuses the genuine file rather than trusting anew; a damaged record is an error, never overwritten', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    await tofuFetchBytes(URL_, options(store, host()));
    const record = (await get(trustKey(URL_, SIZE), useStore)) as TrustRecord;
    await set(trustKey(URL_, SIZE), { ...record, sha256: '0'.repeat(64) }, useStore);
    await expect(tofuFetchBytes(URL_, options(store, host()))).rejects.toMatchObject({ code: 'integrity' });
    expect(((await get(trustKey(URL_, SIZE), useStore)) as TrustRecord).sha256).toBe('0'.repeat(64));

    for (const damaged of [{ ...record, sha256: 'not a hash' }, 'garbage', null, { url: URL_ }]) {
      await set(trustKey(URL_, SIZE), damaged, useStore);
      const err = await failure(tofuFetchBytes(URL_, options(store, host())));
      expect(err, JSON.stringify(damaged)).toMatchObject({ code: 'integrity' });
      expect((err as Error).message).toBe(
        'The checksum recorded on this device for text_model_quantized.onnx is damaged, so the file cannot be checked and is not used. Use “Clear saved files” under Offline storage (bottom of the page) to download it and trust it again.',
      );
      expect(await get(trustKey(URL_, SIZE), useStore)).toEqual(damaged);
    }
    // Clearing storage forgets the record: the next download is trusted anew.
    await store.clear();
    expect((await tofuFetchBytes(URL_, options(store, host(CHANGED)))).sha256).toBe(sha(CHANGED));
  });

  it('keyed by URL and declared size: another size is another record; a wrong size fails the size check first', async () => {
    const store = new VerifiedFileStore(freshStore());
    // Without a group nothing is saved: every read is a download.
    const unsaved = (fetchImpl: typeof fetch, bytes = SIZE) => ({ ...options(store, fetchImpl), group: undefined, bytes });
    await tofuFetchBytes(URL_, unsaved(host()));
    const shorter = BODY.subarray(0, SIZE - 1);
    await expect(tofuFetchBytes(URL_, unsaved(host(shorter)))).rejects.toThrow(`text_model_quantized.onnx has ${SIZE - 1} bytes, expected ${SIZE}`);
    expect((await tofuFetchBytes(URL_, unsaved(host(shorter), SIZE - 1))).sha256).toBe(sha(shorter));
    await expect(tofuFetchBytes(URL_, unsaved(host(CHANGED)))).rejects.toMatchObject({ code: 'integrity' });
  });

  it('without storage (private mode), the first hash is held in memory for the rest of the session', async () => {
    const broken: UseStore = () => {
      throw new DOMException('IndexedDB is disabled', 'InvalidStateError');
    };
    for (const store of [null, new VerifiedFileStore(broken)]) {
      forgetMemoryTrust();
      expect((await tofuFetchBytes(URL_, options(store, host()))).data).toEqual(BODY);
      const online = host();
      expect((await tofuFetchBytes(URL_, options(store, online))).data).toEqual(BODY);
      expect(online).toHaveBeenCalledTimes(1); // nothing saved: downloaded again, and verified
      await expect(tofuFetchBytes(URL_, options(store, host(CHANGED)))).rejects.toMatchObject({ code: 'integrity' });
    }
  });

  it('a save killed half-way (the file write fails after the record) loses nothing: the next read downloads and verifies', async () => {
    const real = freshStore();
    let failWrites = false;
    // The file's own transaction aborts (the tab closed, quota): the small record went first.
    const flaky: UseStore = (mode, callback) => (failWrites && mode === 'readwrite' ? Promise.reject(new DOMException('aborted', 'AbortError')) : real(mode, callback));
    const store = new VerifiedFileStore(flaky);
    const record = store.recordTrust.bind(store);
    store.recordTrust = async (declared, r) => {
      const result = await record(declared, r);
      failWrites = true;
      return result;
    };
    const events: CacheEvent[] = [];
    expect((await tofuFetchBytes(URL_, options(store, host(), events))).data).toEqual(BODY);
    expect(events.map((e) => e.kind)).toEqual(['unavailable']);
    expect(((await get(trustKey(URL_, SIZE), real)) as TrustRecord).sha256).toBe(sha(BODY));
    expect(await get(`file:${sha(BODY)}`, real)).toBeUndefined();

    failWrites = false;
    store.recordTrust = record;
    const online = host();
    expect((await tofuFetchBytes(URL_, options(store, online))).data).toEqual(BODY);
    expect(online).toHaveBeenCalledTimes(1);
    await expect(tofuFetchBytes(URL_, options(store, host(CHANGED)))).resolves.toMatchObject({ sha256: sha(BODY) }); // the saved copy, not the host
  });

  it('two first downloads at once that differ: one is recorded, the other refused', async () => {
    const store = new VerifiedFileStore(freshStore());
    const results = await Promise.allSettled([tofuFetchBytes(URL_, options(store, host())), tofuFetchBytes(URL_, options(store, host(CHANGED)))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toMatchObject({ code: 'integrity' });
  });
});
