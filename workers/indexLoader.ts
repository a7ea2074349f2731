import { AppError } from '../src/core/io/errors.ts';
import { fetchBytes } from '../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './storage/fileStore.ts';
import { openIndex, type OpenedIndex } from '../src/core/index/openIndex.ts';
import { manifestVersion, parseManifest, parseTieredManifest, type IndexManifest, type TieredManifest } from '../src/core/index/manifest.ts';
import { openTiered, type TieredLoaded } from './tieredIndex.ts';
import type { HostRangeError } from '../src/core/io/fetchBytes.ts';
import type { LoadProgress } from '../src/shared/protocol.ts';
import { sha256Hex } from '../src/core/io/sha256.ts';
import { downloadFile, withinPolicy, workerPolicy, type FileStorage } from './download.ts';
import { assertAllowed, type UrlSource } from '../src/shared/policy.ts';

/** An opened index as the worker keeps it: version 1 whole (openIndex), or a tiered head (tieredIndex.ts). */
export type LoadedIndex = OpenedIndex | TieredLoaded;

export function isTiered(index: LoadedIndex): index is TieredLoaded {
  return 'kind' in index && index.kind === 'tiered';
}

/** Offline storage for the index files; store null = everything comes from the network. */
export type IndexStorage = FileStorage & {
  /** A tiered index's host broke Range requests: its blocks now come from per-block files. */
  onRangeFallback?: (reason: HostRangeError) => void;
};

/** The offline-storage group of an index: its files and the manifest they belong to. */
export const indexGroup = (indexUrl: string) => `index:${indexUrl}`;

/** An index being loaded: its manifest comes first, so the encoder it names can load alongside the index files. */
export interface IndexLoad {
  /** The parsed manifest; rejects with the index's own error when the manifest is unusable. */
  manifest: Promise<IndexManifest | TieredManifest>;
  index: Promise<LoadedIndex>;
}

/**
 * Fetches the manifest, then the binary index and metadata it lists, verifying every checksum.
 * With a store, the files come from verified saved copies when present and are saved after download;
 * offline, the manifest saved with the last complete index is used instead. Both promises are
 * marked handled here: a caller that awaits only one of them leaves no unhandled rejection behind.
 */
export function startIndexLoad(indexUrl: string, onProgress: (p: LoadProgress) => void, storage: IndexStorage = { store: null }): IndexLoad {
  const manifestBytes = fetchManifest(indexUrl, storage.store, onProgress);
  const index = manifestBytes.then((bytes) => openLoaded(indexUrl, bytes, onProgress, storage));
  const manifest = manifestBytes.then((bytes): IndexManifest | TieredManifest | Promise<IndexManifest | TieredManifest> => {
    try {
      const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
      return manifestVersion(json) === 2 ? parseTieredManifest(json) : parseManifest(json);
    } catch {
      // openIndex names what is wrong with it (a web page, not JSON, a bad field).
      return index.then((i) => i.manifest);
    }
  });
  index.catch(() => {});
  manifest.catch(() => {});
  return { manifest, index };
}

/** The whole index (see startIndexLoad). */
export function loadIndex(indexUrl: string, onProgress: (p: LoadProgress) => void, storage: IndexStorage = { store: null }): Promise<LoadedIndex> {
  return startIndexLoad(indexUrl, onProgress, storage).index;
}

/**
 * The manifest from the network (always revalidated), else offline the one saved with the last
 * complete index. The index address comes from the page (?index=): the worker refuses one outside its
 * policy itself, before anything is fetched or read from storage (src/shared/policy.ts).
 */
/** A manifest is a few kB (calibration vectors included); an endless one stops here. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

async function fetchManifest(indexUrl: string, store: VerifiedFileStore | null, onProgress: (p: LoadProgress) => void): Promise<Uint8Array> {
  const source: UrlSource = { param: 'index', value: indexUrl };
  assertAllowed(indexUrl, source, workerPolicy());
  const manifestUrl = new URL('manifest.json', indexUrl).href;
  try {
    // The manifest is the root of trust for every other file: always revalidate it.
    return await withinPolicy(manifestUrl, source, (fetchImpl) => fetchBytes(manifestUrl, { maxBytes: MAX_MANIFEST_BYTES, fetchImpl: (u, init) => fetchImpl(u, { ...init, cache: 'no-cache' }) }));
  } catch (err) {
    const saved = err instanceof AppError && err.code === 'network' ? await savedManifest(store, indexGroup(indexUrl)) : undefined;
    if (!saved) throw err;
    onProgress({ status: 'storage', notice: { kind: 'offline-index', savedAt: saved.committedAt } });
    return saved.bytes;
  }
}

async function openLoaded(indexUrl: string, manifestBytes: Uint8Array, onProgress: (p: LoadProgress) => void, storage: IndexStorage): Promise<LoadedIndex> {
  const { store } = storage;
  const group = indexGroup(indexUrl);
  const tiered = tieredManifestOf(manifestBytes);
  if (tiered) return openTiered(indexUrl, tiered, manifestBytes, onProgress, { ...storage, group, onFallback: storage.onRangeFallback });
  const opened = await openIndex({
    where: indexUrl,
    manifest: async () => manifestBytes,
    // cachedFetchBytes checks size and SHA-256 of every download and every saved copy it returns.
    verifiesReads: true,
    read: (file, entry) =>
      downloadFile({ url: new URL(file, indexUrl).href, file, label: `Index ${file}`, kind: 'index', bytes: entry.bytes, sha256: entry.sha256, group }, storage, onProgress),
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

/** The parsed manifest when the bytes are a version 2 (tiered) one; undefined for anything else (openIndex names what is wrong). */
function tieredManifestOf(bytes: Uint8Array): TieredManifest | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (manifestVersion(json) !== 2) return undefined;
  try {
    return parseTieredManifest(json);
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, err.message, 'manifest.json');
    throw err;
  }
}
