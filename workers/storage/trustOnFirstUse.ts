import { AppError } from '../../src/core/io/errors.ts';
import { fetchBytes, fileName, type FetchBytesOptions } from '../../src/core/io/fetchBytes.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import type { CacheEvent } from './cachedFetch.ts';
import { trustKey, type TrustRead, type TrustRecord, type VerifiedFileStore } from './fileStore.ts';

/*
 * Trust on first use, for files whose SHA-256 the app cannot pin at build time (the real CLIP
 * encoder's ONNX files, fetched from the model host at run time). The first download's SHA-256 is
 * recorded, keyed by the URL and the size declared for it; every later read, from offline storage or
 * downloaded again, must have that hash. A file that differs is refused (an 'integrity' error naming
 * it) and changes nothing: the recorded hash and the saved copy stay as they were. Only clearing
 * offline storage forgets the record, so the next download is trusted anew.
 *
 * Where IndexedDB is unavailable, records live in this worker's memory: re-downloads in the same
 * session are still held to the first one.
 */

/** Records kept in memory where storage cannot keep them (per worker). */
const memory = new Map<string, TrustRecord>();

export interface TofuOptions extends Omit<FetchBytesOptions, 'sha256'> {
  label: string;
  /** The offline-storage group a verified copy is stored in (none: not stored). */
  group?: string;
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
  /** The verified saved copy is used: nothing is downloaded. */
  onCached?: (bytes: number) => void;
}

async function readTrust(store: VerifiedFileStore | null, url: string, bytes: number | undefined): Promise<TrustRead> {
  const inMemory = memory.get(trustKey(url, bytes));
  if (inMemory) return { status: 'recorded', record: inMemory };
  return store ? store.getTrust(url, bytes) : { status: 'none' };
}

/** Records the first download's hash; returns the record that holds afterwards (an earlier one wins). */
async function recordTrust(store: VerifiedFileStore | null, declared: number | undefined, record: TrustRecord): Promise<TrustRecord | 'damaged'> {
  const written = store ? await store.recordTrust(declared, record) : { status: 'unavailable' as const };
  if (written.status === 'recorded' || written.status === 'existing') return written.record;
  if (written.status === 'damaged') return 'damaged';
  // Storage cannot keep it: this worker holds it to the same hash for as long as it runs.
  const key = trustKey(record.url, declared);
  const kept = memory.get(key) ?? record;
  memory.set(key, kept);
  return kept;
}

function damaged(url: string): AppError {
  return new AppError(
    'integrity',
    `The checksum recorded on this device for ${fileName(url)} is damaged, so the file cannot be checked and is not used. Use “Clear saved files” under Offline storage (bottom of the page) to download it and trust it again.`,
    url,
  );
}

function changed(url: string, recorded: TrustRecord, actual: string): AppError {
  const when = new Date(recorded.firstSeen).toISOString().slice(0, 10);
  return new AppError(
    'integrity',
    `${fileName(url)} is not the file this device first downloaded from ${new URL(url).origin} on ${when} (SHA-256 ${actual.slice(0, 12)}…, first seen ${recorded.sha256.slice(0, 12)}…), so it is not used. If the model host published a new version on purpose, use “Clear saved files” under Offline storage (bottom of the page) to trust the new file.`,
    url,
  );
}

/**
 * The bytes of `url` held to the hash recorded at its first download: the verified saved copy when
 * there is one, else a download (size-checked by fetchBytes when the size is declared) whose hash
 * must equal the record, or, the first time, becomes it. Returns the bytes and that hash.
 */
export async function tofuFetchBytes(url: string, opts: TofuOptions): Promise<{ data: Uint8Array; sha256: string }> {
  const { store, label, group, onCacheEvent } = opts;
  const trust = await readTrust(store, url, opts.bytes);
  if (trust.status === 'damaged') throw damaged(url);
  const recorded = trust.status === 'recorded' ? trust.record : undefined;

  let corrupt = false;
  if (recorded && store && group !== undefined) {
    const cached = await store.get(recorded.sha256, recorded.bytes);
    if (cached.status === 'hit') {
      opts.onCached?.(cached.data.byteLength);
      onCacheEvent?.({ kind: 'hit', url, label, bytes: recorded.bytes });
      return { data: cached.data, sha256: recorded.sha256 };
    }
    if (cached.status === 'corrupt') {
      corrupt = true;
      onCacheEvent?.({ kind: 'corrupt', url, label });
    }
  }

  let data: Uint8Array;
  try {
    data = await fetchBytes(url, { bytes: opts.bytes, signal: opts.signal, onProgress: opts.onProgress, fetchImpl: opts.fetchImpl });
  } catch (err) {
    if (corrupt && err instanceof AppError && err.code === 'network') {
      throw new AppError('integrity', `The saved copy of ${fileName(url)} was damaged and the network is unreachable; reconnect and retry.`, url);
    }
    throw err;
  }
  const sha256 = await sha256Hex(data);
  const holds = recorded ?? (await recordTrust(store, opts.bytes, { url, bytes: data.byteLength, sha256, firstSeen: Date.now() }));
  if (holds === 'damaged') throw damaged(url);
  if (holds.sha256 !== sha256 || holds.bytes !== data.byteLength) throw changed(url, holds, sha256);

  if (store && group !== undefined) {
    const result = await store.put({ sha256, bytes: data.byteLength, url, label, group }, data);
    if (result === 'stored') onCacheEvent?.({ kind: 'stored', url, label, bytes: data.byteLength });
    else if (result === 'quota' || result === 'unavailable') onCacheEvent?.({ kind: result, url, label });
  }
  return { data, sha256 };
}

/** Test hook: forgets the in-memory records (a fresh worker). */
export function forgetMemoryTrust(): void {
  memory.clear();
}
