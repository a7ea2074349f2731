import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { metadataOverLimit, type ModelMeta } from '../../src/core/index/manifest.ts';
import { invalidIdReason } from '../../src/core/index/modelEntry.ts';
import type { AddModelSkip, LocalModelEdit } from '../../src/shared/protocol.ts';
import { classify, probeStore } from './fileStore.ts';

/*
 * The visitor's own models (docs/local-models.md). A database of its own, so that "Clear saved
 * files" (VerifiedFileStore.clear, which wipes model-search-files) never touches them: they are user
 * data, not a cache. Layout of the object store `models` in the database `model-search-local`:
 *   entry:<id> → LocalEntryMeta   what the list shows, the source images' names and hashes
 *   data:<id>  → LocalEntryData   the unit embeddings and the thumbnails
 *   derived:<id> → DerivedRecord  the model's index sections for the last index settings (a cache:
 *                                 checked on use, rebuilt when missing, damaged or for other settings)
 * entry: and data: are written and removed in one transaction: nothing is ever half-saved.
 * Records are validated on every read; a damaged one is left out and reported, never deleted.
 */

export const LOCAL_DB_NAME = 'model-search-local';
export const LOCAL_STORE_NAME = 'models';

/** One valid source image, in the embeddings' order (code-point order of names). */
export interface LocalImage {
  name: string;
  sha256: string;
  /** Upright size of the original file. */
  width: number;
  height: number;
}

/** The metadata a local model carries: ModelMeta without id and thumbnails. Untrusted text. */
export type LocalMeta = Omit<ModelMeta, 'id' | 'thumbnails'>;

export interface LocalEntryMeta {
  schema: 1;
  id: string;
  encoder: { id: string; dim: number };
  meta: LocalMeta;
  images: LocalImage[];
  /** The add report: files left out and why. */
  skipped: AddModelSkip[];
  thumbnailMime: 'image/webp' | 'image/png';
  thumbnails: number;
  /** Bytes of the embeddings and thumbnails. */
  bytes: number;
  createdAt: number;
  updatedAt: number;
}

export interface LocalEntryData {
  /** f32 [images · dim], unit rows. */
  embeddings: ArrayBuffer;
  thumbnails: ArrayBuffer[];
}

export interface LocalEntry {
  entry: LocalEntryMeta;
  data: LocalEntryData;
}

/** A model's statistics as a one-model index.bin, for the settings `key` (workers/localModels.ts). */
export interface DerivedRecord {
  key: string;
  bin: ArrayBuffer;
}

export type SaveResult = { status: 'saved' } | { status: 'exists' } | { status: 'quota' | 'unavailable'; message: string };

export interface LoadResult {
  entries: LocalEntry[];
  /** Records left out (kept in storage), with why. */
  damaged: { key: string; reason: string }[];
  /** Cached derivations by model id (only well-formed ones; their bytes are checked on use). */
  derived: Map<string, DerivedRecord>;
}

export const MAX_THUMBNAILS = 3;
export const MAX_THUMBNAIL_BYTES = 1_000_000;
const MB = 1024 * 1024;

const entryKey = (id: string) => `entry:${id}`;
const dataKey = (id: string) => `data:${id}`;
const derivedKey = (id: string) => `derived:${id}`;

type Estimate = () => Promise<{ usage?: number; quota?: number } | undefined>;

const browserEstimate: Estimate = () =>
  Promise.resolve()
    .then(() => (typeof navigator !== 'undefined' ? navigator.storage?.estimate?.() : undefined))
    .catch(() => undefined);

/** A size in MB to one decimal: rounded up when `up` (a need is never understated), "0 MB" only for nothing. */
const megabytes = (n: number, up = false) => {
  const tenths = (up ? Math.ceil : Math.round)((n / MB) * 10) / 10;
  return `${n > 0 && tenths === 0 ? '< 0.1' : tenths} MB`;
};

/**
 * The words shown when storage cannot keep a model. `free`: what the estimate leaves (a figure that
 * does not contradict the refusal: the check keeps twice the need free, so room between one and two
 * times the need is "little room" rather than a number larger than the need); 'refused': the
 * browser refused the write itself.
 */
export function quotaMessage(needs: number, free: number | 'refused' | undefined): string {
  const allows =
    free === undefined ? '' : free === 'refused' ? '; the browser refused to store it' : free >= needs ? '; too little room would be left' : `; the browser allows ${megabytes(Math.max(0, free))} more`;
  return `Not enough storage to keep this model (needs ≈ ${megabytes(needs, true)}${allows}). Remove one of your models, or clear saved files under Offline storage.`;
}

/** Bytes a record keeps: its embeddings and thumbnails. */
export function recordBytes(data: LocalEntryData): number {
  return data.embeddings.byteLength + data.thumbnails.reduce((s, t) => s + t.byteLength, 0);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

/** Why a stored record cannot be used, or undefined when it can. */
export function recordProblem(key: string, entry: unknown, data: unknown): string | undefined {
  const e = entry as Partial<LocalEntryMeta> | null;
  if (typeof e !== 'object' || e === null) return 'the record is not an object';
  if (e.schema !== 1) return `unknown record schema ${String(e.schema)}`;
  // The index's own id rules (an id becomes a folder name in an exported shard).
  if (!isString(e.id) || invalidIdReason(e.id)) return 'its id is not valid';
  if (key !== entryKey(e.id)) return 'its id does not match its key';
  const enc = e.encoder as Partial<LocalEntryMeta['encoder']> | undefined;
  if (!enc || !isString(enc.id) || !isCount(enc.dim, 4096) || enc.dim < 1) return 'its encoder is not valid';
  const m = e.meta as Partial<LocalMeta> | undefined;
  if (!m || !(['name', 'description', 'family', 'creator', 'licence', 'resolution'] as const).every((k) => isString(m[k])) || !Array.isArray(m.links)) return 'its metadata is not valid';
  const over = metadataOverLimit({ id: e.id, ...m });
  if (over) return `its metadata has a ${over}`;
  if (!m.links.every((l) => isString(l?.label) && isString(l?.url))) return 'its links are not valid';
  const images = e.images;
  if (!Array.isArray(images) || images.length < 2) return 'it has fewer than 2 images';
  if (!images.every((i) => isString(i?.name) && isString(i?.sha256) && /^[0-9a-f]{64}$/.test(i.sha256) && isCount(i.width, 1e6) && isCount(i.height, 1e6))) return 'its image list is not valid';
  if (!Array.isArray(e.skipped) || !e.skipped.every((s) => isString(s?.name) && isString(s?.reason))) return 'its report is not valid';
  if (e.thumbnailMime !== 'image/webp' && e.thumbnailMime !== 'image/png') return 'its thumbnail type is not valid';
  if (!isCount(e.thumbnails, MAX_THUMBNAILS)) return 'it has too many thumbnails';
  if (![e.createdAt, e.updatedAt, e.bytes].every((v) => typeof v === 'number' && Number.isFinite(v))) return 'its dates are not valid';
  const d = data as Partial<LocalEntryData> | null | undefined;
  if (typeof d !== 'object' || d === null) return 'its embeddings are missing';
  if (!(d.embeddings instanceof ArrayBuffer) || d.embeddings.byteLength !== images.length * enc.dim * 4) return 'its embeddings have the wrong size';
  const rows = new Float32Array(d.embeddings);
  for (let r = 0; r < images.length; r++) {
    let s = 0;
    for (let j = 0; j < enc.dim; j++) {
      const v = rows[r * enc.dim + j];
      if (!Number.isFinite(v)) return `embedding ${r + 1} is not a number`;
      s += v * v;
    }
    if (Math.abs(s - 1) > 1e-3) return `embedding ${r + 1} is not a unit vector`;
  }
  if (!Array.isArray(d.thumbnails) || d.thumbnails.length !== e.thumbnails) return 'its thumbnails are missing';
  if (!d.thumbnails.every((t) => t instanceof ArrayBuffer && t.byteLength <= MAX_THUMBNAIL_BYTES)) return 'a thumbnail is not valid';
  return undefined;
}

/** Rejects with the first failure of a transaction (a failed request aborts it, undoing every write). */
function onError(tx: IDBTransaction, reject: (e: unknown) => void) {
  tx.onerror = (ev) => reject((ev.target as IDBRequest | null)?.error ?? tx.error);
  tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
}

/**
 * The store's records sorted out: usable models (validated), damaged records (key and why), and
 * cached derivations. One rule for what list() reports as damaged and what removeDamaged() deletes.
 */
function sortRecords(byKey: ReadonlyMap<string, unknown>): LoadResult {
  const entries: LocalEntry[] = [];
  const damaged: LoadResult['damaged'] = [];
  const derived = new Map<string, DerivedRecord>();
  for (const [key, value] of byKey) {
    if (key.startsWith('entry:')) {
      const id = key.slice('entry:'.length);
      const data = byKey.get(dataKey(id));
      const problem = recordProblem(key, value, data);
      if (problem) damaged.push({ key, reason: problem });
      else entries.push({ entry: value as LocalEntryMeta, data: data as LocalEntryData });
    } else if (key.startsWith('data:')) {
      if (!byKey.has(entryKey(key.slice('data:'.length)))) damaged.push({ key, reason: 'its description is missing' });
    } else if (key.startsWith('derived:')) {
      // A cache: a bad one is simply derived again (and overwritten).
      const d = value as Partial<DerivedRecord> | null;
      if (d && typeof d.key === 'string' && d.bin instanceof ArrayBuffer) derived.set(key.slice('derived:'.length), { key: d.key, bin: d.bin });
    } else {
      damaged.push({ key, reason: 'unknown record' });
    }
  }
  entries.sort((a, b) => a.entry.createdAt - b.entry.createdAt || (a.entry.id < b.entry.id ? -1 : 1));
  return { entries, damaged, derived };
}

/**
 * The local models' storage: IndexedDB, or (where it is unavailable) this worker's memory for the
 * tab only — `sessionOnly` says which.
 */
export class LocalModelStore {
  private readonly memory = new Map<string, LocalEntry>();

  constructor(
    private readonly useStore: UseStore | null,
    private readonly estimate: Estimate = browserEstimate,
  ) {}

  /** Kept in worker memory only: gone when the tab closes. */
  get sessionOnly(): boolean {
    return this.useStore === null;
  }

  /** Every stored model, validated; damaged records are reported, not deleted. */
  async list(): Promise<LoadResult> {
    if (!this.useStore) return { entries: [...this.memory.values()].sort((a, b) => a.entry.createdAt - b.entry.createdAt), damaged: [], derived: new Map() };
    const [keys, values] = await this.useStore('readonly', (store) => Promise.all([promisifyRequest(store.getAllKeys()), promisifyRequest(store.getAll())]));
    const byKey = new Map<string, unknown>();
    keys.forEach((k, i) => byKey.set(String(k), values[i]));
    return sortRecords(byKey);
  }

  /**
   * Caches a model's derivation (best effort: false when it was not kept). Only beside its entry,
   * so a model removed meanwhile leaves nothing behind.
   */
  async putDerived(id: string, record: DerivedRecord): Promise<boolean> {
    if (!this.useStore) return false;
    try {
      return await this.useStore('readwrite', (store) => {
        let kept = false;
        const done = new Promise<boolean>((resolve, reject) => {
          store.transaction.oncomplete = () => resolve(kept);
          onError(store.transaction, reject);
        });
        const req = store.getKey(entryKey(id));
        req.onsuccess = () => {
          if (req.result === undefined) return;
          store.put(record, derivedKey(id));
          kept = true;
        };
        return done;
      });
    } catch {
      return false;
    }
  }

  /**
   * Keeps a new model: both records in one transaction, or neither. An id already stored (or a
   * stray data record under it) is 'exists'; a full disk is 'quota' with the words to show.
   */
  async save(record: LocalEntry): Promise<SaveResult> {
    const { entry, data } = record;
    const needs = recordBytes(data);
    if (!this.useStore) {
      if (this.memory.has(entry.id)) return { status: 'exists' };
      this.memory.set(entry.id, record);
      return { status: 'saved' };
    }
    const est = await this.estimate();
    const free = est?.quota !== undefined && est.usage !== undefined ? est.quota - est.usage : undefined;
    if (free !== undefined && free < 2 * needs) return { status: 'quota', message: quotaMessage(needs, free) };
    try {
      await this.useStore('readwrite', (store) => {
        const done = new Promise<void>((resolve, reject) => {
          store.transaction.oncomplete = () => resolve();
          onError(store.transaction, reject);
        });
        try {
          // add(), not put(): an existing key fails the request, and that aborts the transaction.
          store.add(entry, entryKey(entry.id));
          store.add(data, dataKey(entry.id));
        } catch (err) {
          done.catch(() => {});
          store.transaction.abort();
          throw err;
        }
        return done;
      });
      return { status: 'saved' };
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === 'ConstraintError') return { status: 'exists' };
      const kind = classify(err);
      if (kind === 'quota') {
        const after = await this.estimate();
        const free = after?.quota !== undefined && after.usage !== undefined ? after.quota - after.usage : undefined;
        // The estimate can still report room after a refused write (it lags, or a limit applies that
        // it does not show, as in private windows): a figure that contradicts the refusal is left out.
        return { status: 'quota', message: quotaMessage(needs, free === undefined || free >= needs ? 'refused' : free) };
      }
      return { status: 'unavailable', message: `Your model could not be saved: the browser's storage failed (${String((err as Error | null)?.message ?? err).slice(0, 200)}).` };
    }
  }

  /** Changes a model's name, description or licence (never its id); undefined when it is not stored. */
  async update(id: string, edit: LocalModelEdit, now = Date.now()): Promise<LocalEntryMeta | undefined> {
    const apply = (cur: LocalEntryMeta): LocalEntryMeta => ({
      ...cur,
      meta: {
        ...cur.meta,
        ...(edit.name !== undefined ? { name: edit.name } : {}),
        ...(edit.description !== undefined ? { description: edit.description } : {}),
        ...(edit.licence !== undefined ? { licence: edit.licence } : {}),
      },
      updatedAt: now,
    });
    if (!this.useStore) {
      const cur = this.memory.get(id);
      if (!cur) return undefined;
      const next = apply(cur.entry);
      this.memory.set(id, { ...cur, entry: next });
      return next;
    }
    return this.useStore('readwrite', (store) => {
      let next: LocalEntryMeta | undefined;
      const done = new Promise<LocalEntryMeta | undefined>((resolve, reject) => {
        store.transaction.oncomplete = () => resolve(next);
        onError(store.transaction, reject);
      });
      const req = store.get(entryKey(id));
      req.onsuccess = () => {
        const cur = req.result as LocalEntryMeta | undefined;
        if (!cur || typeof cur !== 'object') return;
        next = apply(cur);
        store.put(next, entryKey(id));
      };
      return done;
    });
  }

  /**
   * Deletes the damaged records (what list() reports as damaged), checked again inside one
   * transaction so that a model saved or mended meanwhile is kept; the only way records of yours
   * are deleted without naming the model, and only when the visitor asks. Returns the keys deleted.
   */
  async removeDamaged(): Promise<string[]> {
    if (!this.useStore) return [];
    return this.useStore('readwrite', (store) => {
      const removed: string[] = [];
      const done = new Promise<string[]>((resolve, reject) => {
        store.transaction.oncomplete = () => resolve(removed);
        onError(store.transaction, reject);
      });
      const keysReq = store.getAllKeys();
      const valuesReq = store.getAll();
      valuesReq.onsuccess = () => {
        const byKey = new Map<string, unknown>();
        (keysReq.result as IDBValidKey[]).forEach((k, i) => byKey.set(String(k), (valuesReq.result as unknown[])[i]));
        // A damaged entry or stray data record goes with its model's other records.
        const withRelated = (key: string) => {
          const id = /^(?:entry|data):(.*)$/s.exec(key)?.[1];
          return id === undefined ? [key] : [key, dataKey(id), derivedKey(id)];
        };
        const doomed = new Set(sortRecords(byKey).damaged.flatMap(({ key }) => withRelated(key)));
        for (const key of doomed) {
          if (!byKey.has(key)) continue;
          store.delete(key);
          removed.push(key);
        }
      };
      return done;
    });
  }

  /** Removes a model's two records in one transaction. */
  async remove(id: string): Promise<void> {
    if (!this.useStore) {
      this.memory.delete(id);
      return;
    }
    await this.useStore('readwrite', (store) => {
      store.delete(entryKey(id));
      store.delete(dataKey(id));
      store.delete(derivedKey(id));
      return promisifyRequest(store.transaction);
    });
  }
}


/** The local models' store: IndexedDB where it opens, else memory (sessionOnly). */
export async function openLocalModelStore(): Promise<LocalModelStore> {
  if (typeof indexedDB === 'undefined') return new LocalModelStore(null);
  try {
    const useStore = createStore(LOCAL_DB_NAME, LOCAL_STORE_NAME);
    return (await probeStore(useStore)) ? new LocalModelStore(useStore) : new LocalModelStore(null);
  } catch {
    return new LocalModelStore(null);
  }
}
