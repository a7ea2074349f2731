import { cachedFetchBytes, type CacheEvent } from './storage/cachedFetch.ts';
import { tofuFetchBytes } from './storage/trustOnFirstUse.ts';
import { fetchBytes, fileName } from '../src/core/io/fetchBytes.ts';
import type { VerifiedFileStore } from './storage/fileStore.ts';
import type { DownloadKind, LoadProgress } from '../src/shared/protocol.ts';
import { assertAllowed, DEFAULT_MODEL_HOSTS, redirectError, refusal, type ConnectPolicy, type UrlSource } from '../src/shared/policy.ts';
import type { AppError } from '../src/core/io/errors.ts';

/** The build's allowed hosts (vite.config.ts `define`: the list the CSP is generated from). */
declare const __MODEL_SEARCH_CONNECT_HOSTS__: readonly string[] | undefined;

/**
 * The policy this worker fetches under: its own origin and the hosts compiled into it. Read at each
 * call (tests set `location`); a bundle built without the list gets the default model hosts only.
 */
export function workerPolicy(): ConnectPolicy {
  const hosts = typeof __MODEL_SEARCH_CONNECT_HOSTS__ === 'undefined' ? DEFAULT_MODEL_HOSTS : __MODEL_SEARCH_CONNECT_HOSTS__;
  return { self: (globalThis as { location?: { origin: string } }).location?.origin, hosts };
}

/**
 * Runs `read` with a fetch that stays inside the policy: `url` itself is checked before anything is
 * fetched (or read from storage), and a response whose final URL (after redirects, which fetch
 * follows by itself) is outside the policy is refused before its body is read. The refusal wins over
 * whatever error the caller makes of the failed fetch (fetchBytes reports any fetch failure as a
 * network error).
 */
export async function withinPolicy<T>(url: string, source: UrlSource, read: (fetchImpl: typeof fetch) => Promise<T>, inner?: typeof fetch): Promise<T> {
  const policy = workerPolicy();
  assertAllowed(url, source, policy);
  let refused: AppError | undefined;
  const guarded: typeof fetch = async (input, init) => {
    const response = await (inner ?? fetch)(input, init);
    // response.url is '' for responses made in memory (tests); a real one has its final address.
    if (response.url && refusal(response.url, policy)) {
      refused = redirectError(url, response.url, 'file' in source ? source.file : fileName(url), source, policy);
      void response.body?.cancel().catch(() => {});
      throw refused;
    }
    return response;
  };
  try {
    return await read(guarded);
  } catch (err) {
    throw refused ?? err;
  }
}

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
   * Without a pinned SHA-256: record the file's hash at its first download and hold every later read
   * to it (trust on first use, workers/storage/trustOnFirstUse.ts). Such a file is stored too (with a group).
   */
  trustOnFirstUse?: boolean;
  /**
   * The offline-storage group that keeps it. Only a file whose SHA-256 is known (pinned, or recorded
   * on first use) is stored (a copy that cannot be verified on read is never kept); the caller
   * commits the group.
   */
  group?: string;
  /** Where the URL came from, for a refusal's message (default: the file). */
  source?: UrlSource;
  fetchImpl?: typeof fetch;
}

/** A downloaded file and its SHA-256 when it is known (pinned or recorded on first use). */
export interface Downloaded {
  data: Uint8Array;
  sha256?: string;
}

/**
 * Loads a file as one row of the download list: `initiate`, then `download` events while bytes come
 * over the network or one `cached` event when the verified saved copy is used, then `done`. A pinned
 * (or trusted-on-first-use) file with a group comes from (and goes to) offline storage; anything
 * else from the network. Every URL is checked against the worker's policy first (workerPolicy).
 */
export async function downloadVerified(spec: DownloadSpec, storage: FileStorage, progress: (p: LoadProgress) => void): Promise<Downloaded> {
  const file = spec.file ?? fileName(spec.url);
  const { label, kind, bytes, sha256, group } = spec;
  const result = await withinPolicy(
    spec.url,
    spec.source ?? { file: label },
    async (fetchImpl): Promise<Downloaded> => {
      progress({ status: 'initiate', file, label, kind, total: bytes });
      const onProgress = (loaded: number, total: number | undefined) => progress({ status: 'download', file, loaded, total });
      const onCached = (n: number) => progress({ status: 'cached', file, bytes: n });
      if (bytes !== undefined && sha256 !== undefined && group !== undefined) {
        const data = await cachedFetchBytes(spec.url, { bytes, sha256, label, group, store: storage.store, onCacheEvent: storage.onCacheEvent, onProgress, onCached, fetchImpl });
        return { data, sha256: sha256.toLowerCase() };
      }
      if (sha256 === undefined && spec.trustOnFirstUse) {
        return tofuFetchBytes(spec.url, { bytes, label, group, store: storage.store, onCacheEvent: storage.onCacheEvent, onProgress, onCached, fetchImpl });
      }
      return { data: await fetchBytes(spec.url, { bytes, sha256, onProgress, fetchImpl }), sha256 };
    },
    spec.fetchImpl,
  );
  progress({ status: 'done', file });
  return result;
}

/** The bytes of downloadVerified. */
export async function downloadFile(spec: DownloadSpec, storage: FileStorage, progress: (p: LoadProgress) => void): Promise<Uint8Array> {
  return (await downloadVerified(spec, storage, progress)).data;
}
