import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore, get, keys, set, type UseStore } from 'idb-keyval';
import { describe, expect, it, vi } from 'vitest';
import { cachedFetchBytes, type CacheEvent } from './cachedFetch.ts';
import { AppError } from '../../src/core/io/errors.ts';
import { VerifiedFileStore } from './fileStore.ts';

let dbCount = 0;
const freshStore = (): UseStore => createStore(`cached-fetch-test-${++dbCount}`, 'files');

const URL_ = 'https://host.test/index/index.bin';
const BODY = new Uint8Array(50_000).map((_, i) => (i * 7919) & 0xff);
const SHA = createHash('sha256').update(BODY).digest('hex');

/** A fetch that serves `body` (or fails like an offline browser), counting calls. */
function server(body: Uint8Array | 'offline' = BODY) {
  return vi.fn<typeof fetch>(async () => {
    if (body === 'offline') throw new TypeError('Failed to fetch');
    return new Response(body.slice());
  });
}

function options(store: VerifiedFileStore | null, fetchImpl: typeof fetch, events: CacheEvent[] = [], progress: [number, number | undefined][] = [], cached: number[] = []) {
  return {
    sha256: SHA,
    bytes: BODY.byteLength,
    label: 'Index index.bin',
    group: 'index:https://host.test/index/',
    store,
    fetchImpl,
    onCacheEvent: (e: CacheEvent) => events.push(e),
    onProgress: (loaded: number, total: number | undefined) => progress.push([loaded, total]),
    onCached: (bytes: number) => cached.push(bytes),
  };
}

async function damage(useStore: UseStore): Promise<void> {
  const entry = await get(`file:${SHA}`, useStore);
  const bytes = new Uint8Array(entry.data as ArrayBuffer);
  bytes[123] ^= 0x01;
  await set(`file:${SHA}`, { ...entry, data: bytes.buffer }, useStore);
}

describe('cachedFetchBytes', () => {
  it('downloads and stores on a miss, then serves the verified copy without the network', async () => {
    const store = new VerifiedFileStore(freshStore());
    const events: CacheEvent[] = [];
    const online = server();
    const downloaded: [number, number | undefined][] = [];
    const cachedFirst: number[] = [];
    expect(await cachedFetchBytes(URL_, options(store, online, events, downloaded, cachedFirst))).toEqual(BODY);
    expect(online).toHaveBeenCalledTimes(1);
    expect(events.map((e) => e.kind)).toEqual(['stored']);
    // A download reports its bytes against the pinned size, and is not reported as a saved copy.
    expect(downloaded[0]).toEqual([0, BODY.byteLength]);
    expect(downloaded.at(-1)).toEqual([BODY.byteLength, BODY.byteLength]);
    expect(cachedFirst).toEqual([]);

    const offline = server('offline');
    const progress: [number, number | undefined][] = [];
    const cached: number[] = [];
    const again = await cachedFetchBytes(URL_, options(store, offline, events, progress, cached));
    expect(again).toEqual(BODY);
    expect(offline).not.toHaveBeenCalled();
    expect(events.map((e) => e.kind)).toEqual(['stored', 'hit']);
    // A file served from storage is reported as such, never as download progress.
    expect(cached).toEqual([BODY.byteLength]);
    expect(progress).toEqual([]);
  });

  it('never stores a download whose hash does not match', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const wrong = BODY.slice();
    wrong[0] ^= 0xff;
    const events: CacheEvent[] = [];
    await expect(cachedFetchBytes(URL_, options(store, server(wrong), events))).rejects.toMatchObject({ code: 'integrity' });
    expect(await keys(useStore)).toEqual([]);
    expect(events).toEqual([]);
  });

  it('detects a damaged saved copy, downloads the file again and saves it again', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    await cachedFetchBytes(URL_, options(store, server()));
    await damage(useStore);

    const events: CacheEvent[] = [];
    const online = server();
    expect(await cachedFetchBytes(URL_, options(store, online, events))).toEqual(BODY);
    expect(online).toHaveBeenCalledTimes(1);
    expect(events.map((e) => e.kind)).toEqual(['corrupt', 'stored']);
    const stored = await store.get(SHA, BODY.byteLength);
    expect(stored.status === 'hit' && stored.data).toEqual(BODY);
  });

  it('a damaged saved copy while offline fails with a clear integrity error', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    await cachedFetchBytes(URL_, options(store, server()));
    await damage(useStore);

    const events: CacheEvent[] = [];
    const err = await cachedFetchBytes(URL_, options(store, server('offline'), events)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: 'integrity',
      subject: URL_,
      message: 'The saved copy of index.bin was damaged and the network is unreachable; reconnect and retry.',
    });
    expect(events.map((e) => e.kind)).toEqual(['corrupt']);
    // The damaged entry is gone: a later try is a plain miss.
    expect((await store.get(SHA, BODY.byteLength)).status).toBe('miss');
  });

  it('a miss while offline is the ordinary network error', async () => {
    const store = new VerifiedFileStore(freshStore());
    await expect(cachedFetchBytes(URL_, options(store, server('offline')))).rejects.toMatchObject({ code: 'network' });
  });

  it('a full quota still returns the data and reports a quota event', async () => {
    const real = freshStore();
    const quota: UseStore = (mode, callback) =>
      mode === 'readwrite' ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : real(mode, callback);
    const events: CacheEvent[] = [];
    expect(await cachedFetchBytes(URL_, options(new VerifiedFileStore(quota), server(), events))).toEqual(BODY);
    expect(events).toEqual([{ kind: 'quota', url: URL_, label: 'Index index.bin' }]);
  });

  it('works from the network when storage is unavailable or absent', async () => {
    const broken: UseStore = () => {
      throw new DOMException('IndexedDB is disabled', 'InvalidStateError');
    };
    const events: CacheEvent[] = [];
    const online = server();
    expect(await cachedFetchBytes(URL_, options(new VerifiedFileStore(broken), online, events))).toEqual(BODY);
    expect(events.map((e) => e.kind)).toEqual(['unavailable']);

    const none: CacheEvent[] = [];
    expect(await cachedFetchBytes(URL_, options(null, server(), none))).toEqual(BODY);
    expect(none).toEqual([]);
  });

  it('passes an abort through untouched', async () => {
    const controller = new AbortController();
    controller.abort();
    const aborting = vi.fn<typeof fetch>(async () => {
      throw new DOMException('aborted', 'AbortError');
    });
    const store = new VerifiedFileStore(freshStore());
    await expect(cachedFetchBytes(URL_, { ...options(store, aborting), signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
