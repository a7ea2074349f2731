import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import type { StoredFileMeta } from '../../src/shared/protocol.ts';

/*
 * Offline copies of the large files (encoder ONNX files, index.bin, models.json, the index manifest).
 *
 * Why IndexedDB (via idb-keyval) and not Cache Storage: both work inside the search worker, where the
 * files are fetched, but IndexedDB writes each entry in one atomic transaction (a crash or a closed tab
 * never leaves a half-written entry behind) and holds the per-group version record next to the files,
 * so an index version is committed, and its predecessor removed, in one transaction too.
 *
 * Layout of the object store `files` in the database `model-search-files`:
 *   file:<sha256>  → { meta: StoredFileMeta, data: ArrayBuffer }   content-addressed bytes
 *   meta:<sha256>  → StoredFileMeta                                  same transaction; lets list() skip the bytes
 *   group:<group>  → GroupRecord                                     which files (and manifest) make up a version
 *   trust:<bytes>:<url> → TrustRecord                                the SHA-256 a file without a pinned hash had
 *                                                                    at its first download (trust on first use)
 * Every read is re-hashed before use; every write is hashed before it is stored. Trust records are
 * never overwritten (only clear() removes them), and nothing but clear() touches them.
 */

export const FILE_DB_NAME = 'model-search-files';
export const FILE_STORE_NAME = 'files';

export interface GroupRecord {
  group: string;
  /** The version the files belong to (an index: SHA-256 of its manifest). */
  version: string;
  /** The manifest bytes of this version, when the group has one (for offline start). */
  manifest?: ArrayBuffer;
  /** SHA-256s of the files of this version. */
  files: string[];
  committedAt: number;
}

interface FileEntry {
  meta: StoredFileMeta;
  data: ArrayBuffer;
}

/** The hash a file had when it was first downloaded from its URL (workers/storage/trustOnFirstUse.ts). */
export interface TrustRecord {
  url: string;
  /** Its size at the first download (the size declared for it, which is part of the key, when there is one). */
  bytes: number;
  /** SHA-256 (lower-case hex) of the first download. */
  sha256: string;
  /** When it was recorded (Unix ms). */
  firstSeen: number;
}

export type TrustRead = { status: 'none' } | { status: 'recorded'; record: TrustRecord } | { status: 'damaged' } | { status: 'unavailable' };
export type TrustWrite = { status: 'recorded'; record: TrustRecord } | { status: 'existing'; record: TrustRecord } | { status: 'damaged' } | { status: 'quota' | 'unavailable' };

export type GetResult = { status: 'hit'; data: Uint8Array } | { status: 'miss' } | { status: 'corrupt' };
export type PutResult = 'stored' | 'quota' | 'unavailable' | 'mismatch';
export type CommitResult = 'committed' | 'incomplete' | 'quota' | 'unavailable';

const fileKey = (sha: string) => `file:${sha}`;
const metaKey = (sha: string) => `meta:${sha}`;
const groupKey = (group: string) => `group:${group}`;
/** A trust record is keyed by the URL and the size declared for it ('-' when none is). */
export const trustKey = (url: string, bytes: number | undefined) => `trust:${bytes ?? '-'}:${url}`;

function isTrustRecord(value: unknown): value is TrustRecord {
  const r = value as Partial<TrustRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.url === 'string' &&
    typeof r.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(r.sha256) &&
    Number.isSafeInteger(r.bytes) &&
    (r.bytes as number) >= 0 &&
    typeof r.firstSeen === 'number'
  );
}

/** QuotaExceededError → 'quota'; anything else IndexedDB throws → 'unavailable'. */
export function classify(err: unknown): 'quota' | 'unavailable' {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' ? 'quota' : 'unavailable';
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  const buf = data.buffer;
  if (buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength) return buf;
  return data.slice().buffer as ArrayBuffer;
}

function asBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * Verified, content-addressed file storage over one idb-keyval store. Storage errors never throw:
 * reads degrade to misses, writes report why they did not happen.
 */
export class VerifiedFileStore {
  private readonly useStore: UseStore;
  /** SHA-256s this instance stored for a group and not yet committed: commits of that group keep them. */
  private readonly pending = new Map<string, Set<string>>();

  constructor(useStore?: UseStore) {
    this.useStore = useStore ?? createStore(FILE_DB_NAME, FILE_STORE_NAME);
  }

  /** Whether the store can be opened and read (false in browsers that disable IndexedDB). */
  probe(timeoutMs = 5000): Promise<boolean> {
    return probeStore(this.useStore, timeoutMs);
  }


  /** The stored bytes when present, of the expected size and hash; a damaged entry is deleted. */
  async get(sha256: string, bytes: number): Promise<GetResult> {
    const sha = sha256.toLowerCase();
    let entry: unknown;
    try {
      entry = await this.useStore('readonly', (store) => promisifyRequest(store.get(fileKey(sha))));
    } catch {
      return { status: 'miss' };
    }
    if (entry === undefined) return { status: 'miss' };
    const data = asBytes((entry as Partial<FileEntry> | null)?.data);
    if (data && data.byteLength === bytes && (await sha256Hex(data)) === sha) return { status: 'hit', data };
    await this.deleteFile(sha);
    return { status: 'corrupt' };
  }

  /** Stores bytes after checking them against `meta` (size and SHA-256); one atomic transaction. */
  async put(meta: Omit<StoredFileMeta, 'storedAt'>, data: Uint8Array): Promise<PutResult> {
    const sha = meta.sha256.toLowerCase();
    if (data.byteLength !== meta.bytes || (await sha256Hex(data)) !== sha) return 'mismatch';
    const full: StoredFileMeta = { sha256: sha, bytes: meta.bytes, url: meta.url, label: meta.label, group: meta.group, storedAt: Date.now() };
    const pending = this.pendingFor(meta.group);
    pending.add(sha);
    try {
      await this.useStore('readwrite', (store) => {
        store.put({ meta: full, data: toArrayBuffer(data) } satisfies FileEntry, fileKey(sha));
        store.put(full, metaKey(sha));
        return promisifyRequest(store.transaction);
      });
      return 'stored';
    } catch (err) {
      pending.delete(sha);
      return classify(err);
    }
  }

  /** Metadata of every stored file (the bytes are not read), by group then label. */
  async list(): Promise<StoredFileMeta[]> {
    try {
      const metas = await this.useStore('readonly', async (store) => {
        const keys = (await promisifyRequest(store.getAllKeys())).filter((k): k is string => typeof k === 'string' && k.startsWith('meta:'));
        return Promise.all(keys.map((k) => promisifyRequest(store.get(k)) as Promise<StoredFileMeta>));
      });
      return metas
        .filter((m) => m && typeof m.sha256 === 'string' && typeof m.group === 'string' && typeof m.label === 'string')
        .sort((a, b) => a.group.localeCompare(b.group) || a.label.localeCompare(b.label));
    } catch {
      return [];
    }
  }

  async getGroup(group: string): Promise<GroupRecord | undefined> {
    try {
      return await this.useStore('readonly', (store) => promisifyRequest(store.get(groupKey(group)) as IDBRequest<GroupRecord | undefined>));
    } catch {
      return undefined;
    }
  }

  /**
   * Records that `version` of `group` consists of the stored files `shas` (plus the manifest), then
   * deletes the group's files no group record references any more: the previous version goes only once
   * the new one is complete, all in one transaction. Committing the same version again adds files to it.
   * Returns 'incomplete' (and writes nothing) when one of `shas` is not stored. A version that
   * already lists these files, all still stored, is left as it is (a warm start committing what it
   * read): one read-only look, so the start does not wait behind a write transaction.
   */
  async commitGroup(group: string, version: string, shas: string[], manifestBytes?: Uint8Array): Promise<CommitResult> {
    const wanted = shas.map((s) => s.toLowerCase());
    const pending = this.pendingFor(group);
    if (await this.isCommitted(group, version, wanted, manifestBytes !== undefined)) {
      for (const sha of wanted) pending.delete(sha);
      return 'committed';
    }
    try {
      const result = await this.useStore('readwrite', async (store): Promise<CommitResult> => {
        const keys = new Set((await promisifyRequest(store.getAllKeys())).filter((k): k is string => typeof k === 'string'));
        if (!wanted.every((sha) => keys.has(fileKey(sha)))) return 'incomplete';

        const groupKeys = [...keys].filter((k) => k.startsWith('group:'));
        const metaKeys = [...keys].filter((k) => k.startsWith('meta:'));
        const [records, metas] = await Promise.all([
          Promise.all(groupKeys.map((k) => promisifyRequest(store.get(k)) as Promise<GroupRecord | undefined>)),
          Promise.all(metaKeys.map((k) => promisifyRequest(store.get(k)) as Promise<StoredFileMeta | undefined>)),
        ]);
        const previous = records.find((r) => r?.group === group);
        // Same version again (e.g. a second encoder tower): keep the files already committed and still stored.
        const kept = previous && previous.version === version ? previous.files.filter((sha) => keys.has(fileKey(sha))) : [];
        const files = [...new Set([...kept, ...wanted])];
        const record: GroupRecord = {
          group,
          version,
          files,
          // Re-committing a version keeps the date it was first complete ("saved on …").
          committedAt: previous?.version === version ? previous.committedAt : Date.now(),
          ...(manifestBytes ? { manifest: toArrayBuffer(manifestBytes) } : previous?.version === version && previous.manifest ? { manifest: previous.manifest } : {}),
        };
        store.put(record, groupKey(group));

        const referenced = new Set(files);
        for (const r of records) if (r && r.group !== group) for (const sha of r.files ?? []) referenced.add(sha);
        const previousFiles = new Set(previous?.files ?? []);
        for (const meta of metas) {
          if (!meta) continue;
          const sha = meta.sha256;
          const ours = meta.group === group || previousFiles.has(sha);
          if (ours && !referenced.has(sha) && !pending.has(sha)) {
            store.delete(fileKey(sha));
            store.delete(metaKey(sha));
          }
        }
        await promisifyRequest(store.transaction);
        return 'committed';
      });
      if (result === 'committed') for (const sha of wanted) pending.delete(sha);
      return result;
    } catch (err) {
      return classify(err);
    }
  }

  /** Whether `version` of `group` is committed with `shas` (and a manifest when one is needed), every file still stored. */
  private async isCommitted(group: string, version: string, shas: string[], needsManifest: boolean): Promise<boolean> {
    try {
      return await this.useStore('readonly', async (store) => {
        const record = (await promisifyRequest(store.get(groupKey(group)))) as GroupRecord | undefined;
        if (record?.version !== version || (needsManifest && !record.manifest) || !shas.every((sha) => record.files.includes(sha))) return false;
        const present = await Promise.all(shas.map((sha) => promisifyRequest(store.count(fileKey(sha)))));
        return present.every((n) => n === 1);
      });
    } catch {
      return false;
    }
  }

  /**
   * The hash recorded for `url` (with the size declared for it) at its first download: 'none' when
   * nothing is recorded, 'damaged' when the record is not a well-formed one (never treated as absent:
   * that would trust whatever comes next), 'unavailable' when storage cannot be read.
   */
  async getTrust(url: string, bytes: number | undefined): Promise<TrustRead> {
    let value: unknown;
    try {
      value = await this.useStore('readonly', (store) => promisifyRequest(store.get(trustKey(url, bytes))));
    } catch {
      return { status: 'unavailable' };
    }
    if (value === undefined) return { status: 'none' };
    return isTrustRecord(value) ? { status: 'recorded', record: value } : { status: 'damaged' };
  }

  /**
   * Records `record` for its URL and `declaredBytes` unless a record is there already, in one
   * transaction (two tabs downloading at once cannot both record): 'existing' returns the record
   * already there, which is kept; a damaged one is kept too, and reported.
   */
  async recordTrust(declaredBytes: number | undefined, record: TrustRecord): Promise<TrustWrite> {
    const key = trustKey(record.url, declaredBytes);
    try {
      return await this.useStore('readwrite', async (store): Promise<TrustWrite> => {
        const existing: unknown = await promisifyRequest(store.get(key));
        if (existing !== undefined) return isTrustRecord(existing) ? { status: 'existing', record: existing } : { status: 'damaged' };
        store.put(record, key);
        await promisifyRequest(store.transaction);
        return { status: 'recorded', record };
      });
    } catch (err) {
      return { status: classify(err) };
    }
  }

  /** Deletes every stored file, group record and trust record. */
  async clear(): Promise<void> {
    this.pending.clear();
    try {
      await this.useStore('readwrite', (store) => {
        store.clear();
        return promisifyRequest(store.transaction);
      });
    } catch {
      // Nothing stored that could be cleared.
    }
  }

  private async deleteFile(sha: string): Promise<void> {
    try {
      await this.useStore('readwrite', (store) => {
        store.delete(fileKey(sha));
        store.delete(metaKey(sha));
        return promisifyRequest(store.transaction);
      });
    } catch {
      // The next read re-checks the hash anyway.
    }
  }

  private pendingFor(group: string): Set<string> {
    let set = this.pending.get(group);
    if (!set) this.pending.set(group, (set = new Set()));
    return set;
  }
}

let defaultStore: Promise<VerifiedFileStore | null> | undefined;

/**
 * The app's store, or null where IndexedDB is missing or refuses to open (private mode, storage
 * disabled): probed once per context, so callers can skip storage quickly.
 */
export function openFileStore(): Promise<VerifiedFileStore | null> {
  defaultStore ??= (async () => {
    if (typeof indexedDB === 'undefined') return null;
    try {
      const store = new VerifiedFileStore();
      return (await store.probe()) ? store : null;
    } catch {
      return null;
    }
  })();
  return defaultStore;
}

/** Whether an idb-keyval store can be opened and read within `timeoutMs` (false where IndexedDB is disabled or stuck). */
export async function probeStore(useStore: UseStore, timeoutMs = 5000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const read = useStore('readonly', (store) => promisifyRequest(store.count()));
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('IndexedDB timed out')), timeoutMs)));
    await Promise.race([read, timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
