import { cachedFetchBytes, type CacheEvent } from './storage/cachedFetch.ts';
import { fetchBytes, fileName } from '../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './storage/fileStore.ts';
import type { DownloadKind, LoadProgress } from '../src/shared/protocol.ts';

/** Offline storage for downloaded files; store null = network only. */
export interface FileStorage {
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
}

/** One large file of the start-up: a row of the download list. */
export interface DownloadSpec {
  url: string;
  /** Human label, e.g. "Index index.bin". */
  label: string;
  kind: DownloadKind;
  /** The row's key (file names are unique among the start-up's files); default: the URL's file name. */
  file?: string;
  /** Known size in bytes (checked after download). */
  bytes?: number;
  /** Known SHA-256 (checked after download). */
  sha256?: string;
  /**
   * The offline-storage group that keeps it. Only a file pinned by size and SHA-256 is stored (a
   * copy that cannot be verified on read is never kept); the caller commits the group.
   */
  group?: string;
  fetchImpl?: typeof fetch;
}

/**
 * Loads a file as one row of the download list: `initiate`, then `download` events while bytes come
 * over the network or one `cached` event when the verified saved copy is used, then `done`. A pinned
 * file with a group comes from (and goes to) offline storage; anything else from the network.
 */
export async function downloadFile(spec: DownloadSpec, storage: FileStorage, progress: (p: LoadProgress) => void): Promise<Uint8Array> {
  const file = spec.file ?? fileName(spec.url);
  const { label, kind, bytes, sha256, group, fetchImpl } = spec;
  progress({ status: 'initiate', file, label, kind, total: bytes });
  const onProgress = (loaded: number, total: number | undefined) => progress({ status: 'download', file, loaded, total });
  let data: Uint8Array;
  if (bytes !== undefined && sha256 !== undefined && group !== undefined) {
    data = await cachedFetchBytes(spec.url, {
      bytes,
      sha256,
      label,
      group,
      store: storage.store,
      onCacheEvent: storage.onCacheEvent,
      onProgress,
      onCached: (n) => progress({ status: 'cached', file, bytes: n }),
      fetchImpl,
    });
  } else {
    data = await fetchBytes(spec.url, { bytes, sha256, onProgress, fetchImpl });
  }
  progress({ status: 'done', file });
  return data;
}
