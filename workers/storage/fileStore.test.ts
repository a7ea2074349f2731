import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore, get, keys, set, type UseStore } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { trustKey, VerifiedFileStore, type GroupRecord, type TrustRecord } from './fileStore.ts';

let dbCount = 0;
/** A fresh fake-IndexedDB database per test. */
function freshStore(): UseStore {
  return createStore(`file-store-test-${++dbCount}`, 'files');
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
function file(text: string, group = 'index:a') {
  const data = bytesOf(text);
  return { data, meta: { sha256: sha(data), bytes: data.byteLength, url: `https://x.test/${text}`, label: `Label ${text}`, group } };
}

describe('VerifiedFileStore', () => {
  it('stores verified bytes and reads them back (hit), misses unknown files', async () => {
    const store = new VerifiedFileStore(freshStore());
    const a = file('alpha');
    expect(await store.put(a.meta, a.data)).toBe('stored');
    const got = await store.get(a.meta.sha256, a.meta.bytes);
    expect(got.status).toBe('hit');
    expect(got.status === 'hit' && new TextDecoder().decode(got.data)).toBe('alpha');
    expect(await store.get(sha(bytesOf('nope')), 4)).toEqual({ status: 'miss' });
    const listed = await store.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ sha256: a.meta.sha256, bytes: 5, label: 'Label alpha', group: 'index:a' });
    expect(listed[0].storedAt).toBeGreaterThan(0);
  });

  it('refuses to store bytes whose hash or size does not match', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const a = file('alpha');
    expect(await store.put({ ...a.meta, sha256: sha(bytesOf('beta')) }, a.data)).toBe('mismatch');
    expect(await store.put({ ...a.meta, bytes: 4 }, a.data)).toBe('mismatch');
    expect(await keys(useStore)).toEqual([]);
  });

  it('stores a view into a larger buffer as exactly its own bytes', async () => {
    const store = new VerifiedFileStore(freshStore());
    const big = bytesOf('xxalphayy');
    const view = big.subarray(2, 7);
    expect(await store.put({ ...file('alpha').meta }, view)).toBe('stored');
    const got = await store.get(sha(view), 5);
    expect(got.status === 'hit' && new TextDecoder().decode(got.data)).toBe('alpha');
  });

  it('detects a damaged entry, deletes it and reports it as corrupt', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const a = file('alpha');
    await store.put(a.meta, a.data);
    const entry = await get(`file:${a.meta.sha256}`, useStore);
    const damaged = new Uint8Array(entry.data as ArrayBuffer);
    damaged[0] ^= 0xff;
    await set(`file:${a.meta.sha256}`, { ...entry, data: damaged.buffer }, useStore);

    expect(await store.get(a.meta.sha256, a.meta.bytes)).toEqual({ status: 'corrupt' });
    expect(await keys(useStore)).toEqual([]);
    expect(await store.get(a.meta.sha256, a.meta.bytes)).toEqual({ status: 'miss' });
  });

  it('treats a truncated or malformed entry as corrupt', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const a = file('alpha');
    await set(`file:${a.meta.sha256}`, { meta: a.meta, data: a.data.slice(0, 3).buffer }, useStore);
    expect((await store.get(a.meta.sha256, a.meta.bytes)).status).toBe('corrupt');
    await set(`file:${a.meta.sha256}`, 'garbage', useStore);
    expect((await store.get(a.meta.sha256, a.meta.bytes)).status).toBe('corrupt');
  });

  it('commitGroup replaces the old version whole, only after the new one is complete, and leaves other groups alone', async () => {
    const useStore = freshStore();
    const writer = new VerifiedFileStore(useStore);
    const v1 = [file('bin-v1'), file('models-shared')];
    const other = file('other-index', 'index:b');
    for (const f of [...v1, other]) expect(await writer.put(f.meta, f.data)).toBe('stored');
    expect(await writer.commitGroup('index:a', 'v1', v1.map((f) => f.meta.sha256), bytesOf('{"m":1}'))).toBe('committed');
    expect(await writer.commitGroup('index:b', 'b1', [other.meta.sha256])).toBe('committed');

    // A later session (fresh instance) loads v2: bin changes, models.json is the same file.
    const session = new VerifiedFileStore(useStore);
    const v2bin = file('bin-v2');
    // Committing before the new file is stored writes nothing.
    expect(await session.commitGroup('index:a', 'v2', [v2bin.meta.sha256, v1[1].meta.sha256])).toBe('incomplete');
    expect((await session.getGroup('index:a'))?.version).toBe('v1');
    // Stored but not committed (tab closed here): the old version is still whole and usable.
    expect(await session.put(v2bin.meta, v2bin.data)).toBe('stored');
    expect((await session.get(v1[0].meta.sha256, v1[0].meta.bytes)).status).toBe('hit');
    expect((await session.getGroup('index:a'))?.files).toEqual(v1.map((f) => f.meta.sha256));

    expect(await session.commitGroup('index:a', 'v2', [v2bin.meta.sha256, v1[1].meta.sha256], bytesOf('{"m":2}'))).toBe('committed');
    const record = (await session.getGroup('index:a')) as GroupRecord;
    expect(record.version).toBe('v2');
    expect(new TextDecoder().decode(new Uint8Array(record.manifest!))).toBe('{"m":2}');
    expect(record.files.sort()).toEqual([v2bin.meta.sha256, v1[1].meta.sha256].sort());

    const left = (await session.list()).map((m) => m.sha256).sort();
    expect(left).toEqual([v2bin.meta.sha256, v1[1].meta.sha256, other.meta.sha256].sort());
    expect((await session.get(v1[0].meta.sha256, v1[0].meta.bytes)).status).toBe('miss');
    expect((await session.getGroup('index:b'))?.files).toEqual([other.meta.sha256]);
    expect((await session.get(other.meta.sha256, other.meta.bytes)).status).toBe('hit');
  });

  it('committing the same version again adds files, keeping the ones already committed', async () => {
    const store = new VerifiedFileStore(freshStore());
    const text = file('text-tower', 'encoder:e');
    const vision = file('vision-tower', 'encoder:e');
    await store.put(text.meta, text.data);
    expect(await store.commitGroup('encoder:e', 't+v', [text.meta.sha256])).toBe('committed');
    await store.put(vision.meta, vision.data);
    expect(await store.commitGroup('encoder:e', 't+v', [vision.meta.sha256])).toBe('committed');
    expect((await store.getGroup('encoder:e'))?.files.sort()).toEqual([text.meta.sha256, vision.meta.sha256].sort());
    expect(await store.list()).toHaveLength(2);
  });

  it('re-committing what is already committed (a warm start) writes nothing; a missing file still counts', async () => {
    const real = freshStore();
    const writes: string[] = [];
    const watched: UseStore = (mode, callback) => {
      if (mode === 'readwrite') writes.push(mode);
      return real(mode, callback);
    };
    const store = new VerifiedFileStore(watched);
    const text = file('text-tower', 'encoder:e');
    await store.put(text.meta, text.data);
    expect(await store.commitGroup('encoder:e', 't+v', [text.meta.sha256])).toBe('committed');
    const committedAt = (await store.getGroup('encoder:e'))?.committedAt;
    writes.length = 0;

    const warm = new VerifiedFileStore(watched);
    expect(await warm.commitGroup('encoder:e', 't+v', [text.meta.sha256])).toBe('committed');
    expect(writes).toEqual([]);
    expect((await warm.getGroup('encoder:e'))?.committedAt).toBe(committedAt);

    // The record lists a file that is gone (deleted as damaged): the full commit runs and says so.
    await warm.get(text.meta.sha256, text.meta.bytes + 1); // wrong size: deleted as damaged
    expect(await warm.commitGroup('encoder:e', 't+v', [text.meta.sha256])).toBe('incomplete');
    expect(writes).toEqual(['readwrite', 'readwrite']);
  });

  it('a commit keeps files this instance stored for the group but has not committed yet', async () => {
    const store = new VerifiedFileStore(freshStore());
    const text = file('text-tower', 'encoder:e');
    const vision = file('vision-tower', 'encoder:e');
    await store.put(text.meta, text.data);
    await store.put(vision.meta, vision.data); // stored while the text tower's commit is still to come
    expect(await store.commitGroup('encoder:e', 't+v', [text.meta.sha256])).toBe('committed');
    expect((await store.get(vision.meta.sha256, vision.meta.bytes)).status).toBe('hit');
  });

  it('drops orphans of the group left by an earlier session that never committed', async () => {
    const useStore = freshStore();
    const crashed = new VerifiedFileStore(useStore);
    const orphan = file('half-loaded');
    await crashed.put(orphan.meta, orphan.data);
    const later = new VerifiedFileStore(useStore);
    const bin = file('bin');
    await later.put(bin.meta, bin.data);
    await later.commitGroup('index:a', 'v', [bin.meta.sha256]);
    expect((await later.list()).map((m) => m.sha256)).toEqual([bin.meta.sha256]);
  });

  it('clear() removes files and group records', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const a = file('alpha');
    await store.put(a.meta, a.data);
    await store.commitGroup('index:a', 'v', [a.meta.sha256]);
    await store.clear();
    expect(await keys(useStore)).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect(await store.getGroup('index:a')).toBeUndefined();
  });

  it('reports a full quota without throwing', async () => {
    const real = freshStore();
    const quota: UseStore = (mode, callback) =>
      mode === 'readwrite' ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : real(mode, callback);
    const store = new VerifiedFileStore(quota);
    const a = file('alpha');
    expect(await store.put(a.meta, a.data)).toBe('quota');
    expect(await store.commitGroup('index:a', 'v', [])).toBe('quota');
  });

  it('degrades to misses and "unavailable" when IndexedDB throws (private mode)', async () => {
    const throwsSync: UseStore = () => {
      throw new DOMException('A mutation operation was attempted on a database that did not allow mutations.', 'InvalidStateError');
    };
    const rejects: UseStore = () => Promise.reject(new DOMException('denied', 'UnknownError'));
    for (const useStore of [throwsSync, rejects]) {
      const store = new VerifiedFileStore(useStore);
      const a = file('alpha');
      expect(await store.probe()).toBe(false);
      expect(await store.get(a.meta.sha256, a.meta.bytes)).toEqual({ status: 'miss' });
      expect(await store.put(a.meta, a.data)).toBe('unavailable');
      expect(await store.commitGroup('index:a', 'v', [a.meta.sha256])).toBe('unavailable');
      expect(await store.list()).toEqual([]);
      expect(await store.getGroup('index:a')).toBeUndefined();
      await expect(store.clear()).resolves.toBeUndefined();
    }
    expect(await new VerifiedFileStore(freshStore()).probe()).toBe(true);
  });

  it('keeps trust records (first-use hashes): recorded once, never overwritten, untouched by commits and the file list', async () => {
    const useStore = freshStore();
    const store = new VerifiedFileStore(useStore);
    const url = 'https://huggingface.co/x/text.onnx';
    const first: TrustRecord = { url, bytes: 10, sha256: sha(bytesOf('first')), firstSeen: 1 };
    expect(await store.getTrust(url, 10)).toEqual({ status: 'none' });
    expect(await store.recordTrust(10, first)).toEqual({ status: 'recorded', record: first });
    expect(await store.recordTrust(10, { ...first, sha256: sha(bytesOf('second')), firstSeen: 2 })).toEqual({ status: 'existing', record: first });
    expect(await store.getTrust(url, 10)).toEqual({ status: 'recorded', record: first });
    // Another declared size, or none, is another key.
    expect(await store.getTrust(url, 11)).toEqual({ status: 'none' });
    expect(await store.getTrust(url, undefined)).toEqual({ status: 'none' });

    // A commit that removes every unreferenced file leaves the record alone; list() shows files only.
    const a = file('alpha', 'encoder:e');
    await store.put(a.meta, a.data);
    expect(await store.commitGroup('encoder:e', 'v2', [a.meta.sha256])).toBe('committed');
    expect(await store.commitGroup('encoder:e', 'v3', [])).toBe('committed');
    expect(await get(trustKey(url, 10), useStore)).toEqual(first);
    expect((await store.list()).map((m) => m.sha256)).toEqual([]);

    // A damaged record is reported, and kept (never replaced by the next download's hash).
    await set(trustKey(url, 10), { ...first, sha256: 'XYZ' }, useStore);
    expect(await store.getTrust(url, 10)).toEqual({ status: 'damaged' });
    expect(await store.recordTrust(10, first)).toEqual({ status: 'damaged' });
    expect(await get(trustKey(url, 10), useStore)).toEqual({ ...first, sha256: 'XYZ' });

    // clear() forgets it.
    await store.clear();
    expect(await keys(useStore)).toEqual([]);
    const broken = new VerifiedFileStore(() => Promise.reject(new DOMException('denied', 'UnknownError')));
    expect(await broken.getTrust(url, 10)).toEqual({ status: 'unavailable' });
    expect(await broken.recordTrust(10, first)).toEqual({ status: 'unavailable' });
  });
});
