import { cachedFetchBytes, type CacheEvent } from './storage/cachedFetch.ts';
import { AppError } from '../src/core/io/errors.ts';
import { fetchBytes } from '../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './storage/fileStore.ts';
import { openIndex, type OpenedIndex } from '../src/core/index/openIndex.ts';
import type { LoadProgress } from '../src/shared/protocol.ts';
import { sha256Hex } from '../src/core/io/sha256.ts';

/** An opened index as the worker keeps it (see openIndex in src/core/index/openIndex.ts). */
export type LoadedIndex = OpenedIndex;

export interface IndexStorage {
  /** null: storage unavailable, everything comes from the network. */
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
}

/** The offline-storage group of an index: its files and the manifest they belong to. */
export const indexGroup = (indexUrl: string) => `index:${indexUrl}`;

/**
 * Fetches the manifest, then the binary index and metadata it lists, verifying every checksum.
 * With a store, the files come from verified saved copies when present and are saved after download;
 * offline, the manifest saved with the last complete index is used instead.
 */
export async function loadIndex(
  indexUrl: string,
  onProgress: (p: LoadProgress) => void,
  storage: IndexStorage = { store: null },
): Promise<LoadedIndex> {
  const { store, onCacheEvent } = storage;
  const group = indexGroup(indexUrl);
  const manifestUrl = new URL('manifest.json', indexUrl).href;
  let manifestBytes: Uint8Array;
  try {
    // The manifest is the root of trust for every other file: always revalidate it.
    manifestBytes = await fetchBytes(manifestUrl, { fetchImpl: (u, init) => fetch(u, { ...init, cache: 'no-cache' }) });
  } catch (err) {
    const saved = err instanceof AppError && err.code === 'network' ? await savedManifest(store, group) : undefined;
    if (!saved) throw err;
    manifestBytes = saved.bytes;
    onProgress({ status: 'storage', notice: { kind: 'offline-index', savedAt: saved.committedAt } });
  }
  const opened = await openIndex({
    where: indexUrl,
    manifest: async () => manifestBytes,
    // cachedFetchBytes checks size and SHA-256 of every download and every saved copy it returns.
    verifiesReads: true,
    read: async (file, entry) => {
      onProgress({ status: 'initiate', file, label: `Index ${file}` });
      const bytes = await cachedFetchBytes(new URL(file, indexUrl).href, {
        bytes: entry.bytes,
        sha256: entry.sha256,
        label: `Index ${file}`,
        group,
        store,
        onCacheEvent,
        onProgress: (loaded, total) => onProgress({ status: 'download', file, loaded, total }),
      });
      onProgress({ status: 'done', file });
      return bytes;
    },
  });
  // Both files are verified and usable: this manifest's version replaces the saved one whole.
  if (store) {
    const { files } = opened.manifest;
    await store.commitGroup(group, await sha256Hex(manifestBytes), [files['index.bin'].sha256, files['models.json'].sha256], manifestBytes);
  }
  return opened;
}

/** The manifest saved with the last complete index, if its bytes still match the recorded version. */
async function savedManifest(store: VerifiedFileStore | null, group: string): Promise<{ bytes: Uint8Array; committedAt: number } | undefined> {
  const record = await store?.getGroup(group);
  if (!record?.manifest) return undefined;
  const bytes = new Uint8Array(record.manifest);
  return (await sha256Hex(bytes)) === record.version ? { bytes, committedAt: record.committedAt } : undefined;
}
