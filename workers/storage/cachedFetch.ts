import { AppError } from '../../src/core/io/errors.ts';
import { fetchBytes, fileName, type FetchBytesOptions } from '../../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './fileStore.ts';

/** What happened to a file in offline storage (for notices and diagnostics). */
export type CacheEvent =
  | { kind: 'hit'; url: string; label: string; bytes: number }
  | { kind: 'stored'; url: string; label: string; bytes: number }
  /** The saved copy failed its size/hash check; it was deleted and the file is downloaded again. */
  | { kind: 'corrupt'; url: string; label: string }
  /** Not saved: the browser's storage quota is used up. */
  | { kind: 'quota'; url: string; label: string }
  /** Not saved: storage is disabled or failed. */
  | { kind: 'unavailable'; url: string; label: string };

export interface CachedFetchOptions extends FetchBytesOptions {
  sha256: string;
  bytes: number;
  label: string;
  /** Which group the stored copy belongs to (see VerifiedFileStore.commitGroup). */
  group: string;
  /** null: storage unavailable, always use the network. */
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
  /** The verified saved copy is used: nothing is downloaded (`onProgress` is only called for downloads). */
  onCached?: (bytes: number) => void;
}

/**
 * Bytes of a file pinned by size + SHA-256: the verified saved copy when there is one (no network),
 * else downloaded (and verified by fetchBytes), then saved. Storage problems never fail the load.
 */
export async function cachedFetchBytes(url: string, opts: CachedFetchOptions): Promise<Uint8Array> {
  const { store, label, group, onCacheEvent } = opts;
  const sha256 = opts.sha256.toLowerCase();
  let corrupt = false;
  if (store) {
    const cached = await store.get(sha256, opts.bytes);
    if (cached.status === 'hit') {
      opts.onCached?.(cached.data.byteLength);
      onCacheEvent?.({ kind: 'hit', url, label, bytes: opts.bytes });
      return cached.data;
    }
    if (cached.status === 'corrupt') {
      corrupt = true;
      onCacheEvent?.({ kind: 'corrupt', url, label });
    }
  }

  let data: Uint8Array;
  try {
    data = await fetchBytes(url, { sha256, bytes: opts.bytes, signal: opts.signal, onProgress: opts.onProgress, fetchImpl: opts.fetchImpl });
  } catch (err) {
    if (corrupt && err instanceof AppError && err.code === 'network') {
      throw new AppError(
        'integrity',
        `The saved copy of ${fileName(url)} was damaged and the network is unreachable; reconnect and retry.`,
        url,
      );
    }
    throw err;
  }

  if (store) {
    const result = await store.put({ sha256, bytes: opts.bytes, url, label, group }, data);
    if (result === 'stored') onCacheEvent?.({ kind: 'stored', url, label, bytes: opts.bytes });
    else if (result === 'quota' || result === 'unavailable') onCacheEvent?.({ kind: result, url, label });
    // 'mismatch' cannot happen here: fetchBytes already checked the same size and hash.
  }
  return data;
}
