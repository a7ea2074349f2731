import { readImageHeader } from '../src/core/encode/imageHeader.ts';
import type { RgbaImage } from '../src/core/encode/preprocess.ts';
import type { LocalSet } from '../src/core/index/appendModels.ts';
import { BROWSER_CREATED_WITH, entryShardFiles } from '../src/core/index/indexFolder.ts';
import { assembleTiered, tieredManifestJson } from '../src/core/index/tieredAssemble.ts';
import { readIndex, writeIndex, type FloatData, type SearchIndex } from '../src/core/index/indexFormat.ts';
import { fromHalfArray } from '../src/core/math/linalg.ts';
import { parseModels, metadataOverLimit, type IndexManifest, type ModelMeta, type TieredManifest } from '../src/core/index/manifest.ts';
import { finaliseTieredModel, tieredSettingsFor, type TieredModel } from '../src/core/index/tieredEntry.ts';
import type { TieredLocal } from '../src/core/index/tieredRank.ts';
import { decodeRecord, type TieredRecord } from '../src/core/index/tieredRecords.ts';
import {
  byCodePoint,
  embeddingProblem,
  entrySettingsFor,
  finaliseModel,
  IGNORED_EXTENSIONS,
  invalidIdReason,
  metadataDefaults,
  modelMeta,
  mostCommonSize,
  sampleMean,
  samplesSummary,
  sizeLabel,
  type FinalisedModel,
} from '../src/core/index/modelEntry.ts';
import { isCmykJpeg } from '../src/core/encode/imageHeader.ts';
import { IMAGE_FAULTS, MAX_IMAGE_PIXELS } from '../src/core/messages.ts';
import { AppError } from '../src/core/io/errors.ts';
import { sha256Hex } from '../src/core/io/sha256.ts';
import { writeTar } from '../src/core/io/tar.ts';
import type { AddModelHoldStage, AddModelInput, AddModelProgress, AddModelSkip, LocalModelSummary } from '../src/shared/protocol.ts';
import { MAX_THUMBNAIL_BYTES, MAX_THUMBNAILS, recordBytes, type DerivedRecord, type LocalEntry, type LocalEntryMeta, type SaveResult } from './storage/localModelStore.ts';
import type { Thumbnail } from './thumbnail.ts';

/*
 * The visitor's own models, worker side (docs/local-models.md): the add pipeline (files → unit
 * embeddings → one stored record) and the derivation of their index sections for the loaded index
 * (record → core finaliseModel → entryShardFiles → readIndex of the shard's own index.bin), which is
 * what ranking appends and what the export writes; for a tiered index, their tiered records (record
 * → core finaliseTieredModel → decodeRecord), which rankTiered scores with the index's candidates.
 * Everything the browser does (decode, encode, thumbnail, storage) is passed in, so this file is
 * tested with fakes.
 */

/** Images one model may be made from (the builder has no limit; this bounds the worker's memory). */
export const MAX_FILES = 10_000;
/** Files above this size are left out before reading them whole. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** The stage an add can be held at (diagnostics: holdAdd). */
export type AddStage = AddModelHoldStage;
/** Where a local model comes from in messages (finaliseModel's source label). */
const SOURCE_LABEL = 'your model';

export interface AddDeps {
  /** The encoder the images are embedded with: the loaded index's. */
  encoder: { id: string; dim: number };
  /** Decodes a file (upright; its original size); throws when it cannot. */
  decode(blob: Blob): Promise<RgbaImage & { original: { width: number; height: number } }>;
  /** Embeds decoded pixels (one at a time, the worker's encoder turn). */
  embed(image: RgbaImage): Promise<Float32Array>;
  thumbnail(blob: Blob): Promise<Thumbnail>;
  /** Whether the loaded index has a model with this id. */
  indexHas(id: string): boolean;
  /** The stored models (to refuse a second copy of the same images or a taken id). */
  existing: readonly LocalEntryMeta[];
  /** Keys of stored records that are damaged (left out of searches; one may hold the new model's id). */
  damagedKeys?: readonly string[];
  save(record: LocalEntry): Promise<SaveResult>;
  cancelled(): boolean;
  onProgress?(p: AddModelProgress): void;
  /** Diagnostics: waits here when held (see holdAdd). */
  hold?(stage: AddStage): Promise<void>;
  now?(): number;
}

export type AddResult =
  | { status: 'saved'; record: LocalEntry; skipped: AddModelSkip[] }
  | { status: 'refused'; reasons: string[]; skipped: AddModelSkip[] }
  | { status: 'aborted' };

const extension = (name: string) => {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
};

/** `[a-z0-9-]`, at most 100 characters, from a name ("My Roses!" → "my-roses"); "model" when nothing is left. */
export function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
  return s || 'model';
}

/** The id of a model made from images with these SHA-256s: slug(name) + '-' + 8 hex of SHA-256(the sorted hashes). */
export async function localModelId(name: string, shas: readonly string[]): Promise<string> {
  const digest = await sha256Hex(new TextEncoder().encode([...shas].sort(byCodePoint).join('\n')));
  return `${slug(name)}-${digest.slice(0, 8)}`;
}

function validInput(input: AddModelInput): string | undefined {
  if (typeof input !== 'object' || input === null || !Array.isArray(input.files)) return 'No files were given.';
  if (input.files.length > MAX_FILES) return `Add at most ${MAX_FILES} images to one model (${input.files.length} were given).`;
  if (!input.files.every((f) => typeof f?.name === 'string' && f.blob instanceof Blob)) return 'Some of the files could not be read.';
  for (const k of ['name', 'description', 'licence', 'id'] as const) {
    if (input[k] !== undefined && typeof input[k] !== 'string') return `The ${k} must be text.`;
  }
  const over = metadataOverLimit({ name: input.name, description: input.description, licence: input.licence });
  if (over) return `The ${over.replace(/ of /, ' is ')}: shorten it.`;
  return undefined;
}

/** Why `id` cannot name a new model (its form, or the index or one of your models has it), or undefined. */
function idProblem(id: string, deps: Pick<AddDeps, 'indexHas' | 'existing'>, given = true): string | undefined {
  const fault = invalidIdReason(id);
  if (fault) return `The id “${id.slice(0, 140)}” cannot be used: ${fault}.`;
  // A derived id (the dialog asks for none) changes with the name: that is the way out to offer.
  const change = given ? 'Choose another id.' : 'Give the model another name to add it anyway.';
  if (deps.indexHas(id)) return `The id “${id}” is taken: an index model has that id${given ? '' : ' (these images may already be in this index, merged from an export)'}. ${change}`;
  if (deps.existing.some((e) => e.id === id)) return `The id “${id}” is taken: one of your models has that id. ${change}`;
  return undefined;
}

/** Why a file is left out before decoding, from its bytes, or ''. */
function headerReason(bytes: Uint8Array): string {
  const header = readImageHeader(bytes);
  if (!header) return '';
  if (isCmykJpeg(header)) return IMAGE_FAULTS.cmyk;
  if (header.width * header.height > MAX_IMAGE_PIXELS) return `too large (${sizeLabel(header.width, header.height)} pixels; images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels are accepted)`;
  return '';
}

/**
 * Adds a model from image files: ordered by name (code points), obviously-not-image files ignored,
 * unreadable, too large and duplicate files skipped with reasons, each valid image embedded (one
 * event per file), ≤ 3 thumbnails, then one stored record. Refused (nothing saved) with fewer than
 * 2 valid images, the same images as one of your models, an invalid or taken id, or no storage
 * room; aborted (nothing saved) when cancelled.
 */
export async function addModel(input: AddModelInput, deps: AddDeps): Promise<AddResult> {
  const bad = validInput(input);
  if (bad) return { status: 'refused', reasons: [bad], skipped: [] };
  const skipped: AddModelSkip[] = [];
  const files = input.files.filter((f) => !IGNORED_EXTENSIONS.has(extension(f.name))).sort((a, b) => byCodePoint(a.name, b.name));
  if (files.length < 2) return { status: 'refused', reasons: [`Add at least 2 images (${files.length === 1 ? 'only 1 was' : 'none were'} given).`], skipped };
  // An id given by the visitor is checked before minutes of embedding, and again at the end.
  const given = input.id?.trim();
  const givenFault = given ? idProblem(given, deps) : undefined;
  if (givenFault) return { status: 'refused', reasons: [givenFault], skipped };
  const { dim } = deps.encoder;
  const images: LocalEntryMeta['images'] = [];
  const embeddings = new Float32Array(files.length * dim);
  const thumbs: Thumbnail[] = [];
  let thumbsDone = false;
  const bySha = new Map<string, string>();
  const sizes = new Map<string, number>();
  const progress = (done: number) => deps.onProgress?.({ stage: 'embedding', done, total: files.length, skipped: skipped.length });
  progress(0);
  for (const [k, file] of files.entries()) {
    await deps.hold?.('before-embed');
    if (deps.cancelled()) return { status: 'aborted' };
    const skip = (reason: string) => skipped.push({ name: file.name, reason });
    if (file.blob.size === 0) skip(IMAGE_FAULTS.empty);
    else if (file.blob.size > MAX_FILE_BYTES) skip(`too large (${(Math.ceil((file.blob.size / 1024 / 1024) * 10) / 10).toFixed(1)} MB; files up to ${MAX_FILE_BYTES / 1024 / 1024} MB are accepted)`);
    else {
      const bytes = new Uint8Array(await file.blob.arrayBuffer());
      const sha = await sha256Hex(bytes);
      const first = bySha.get(sha);
      const fault = first === undefined ? headerReason(bytes) : '';
      if (first !== undefined) skip(`duplicate of “${first}”`);
      else if (fault) skip(fault);
      else {
        let decoded: Awaited<ReturnType<AddDeps['decode']>> | undefined;
        try {
          decoded = await deps.decode(file.blob);
        } catch {
          skip(IMAGE_FAULTS.unreadable);
        }
        if (decoded) {
          if (deps.cancelled()) return { status: 'aborted' };
          const e = await deps.embed(decoded);
          const problem = embeddingProblem(e, dim);
          if (problem) return { status: 'refused', reasons: [`“${file.name}” could not be embedded: ${problem}.`], skipped };
          bySha.set(sha, file.name);
          embeddings.set(e, images.length * dim);
          const { width, height } = decoded.original;
          images.push({ name: file.name, sha256: sha, width, height });
          const label = sizeLabel(width, height);
          sizes.set(label, (sizes.get(label) ?? 0) + 1);
          // Thumbnails of the first valid images; the list stops at the first one that fails (as the builder's).
          if (!thumbsDone && thumbs.length < MAX_THUMBNAILS) {
            try {
              const t = await deps.thumbnail(file.blob);
              // The store refuses larger thumbnails on reading: never save one.
              if (t.bytes.byteLength > MAX_THUMBNAIL_BYTES) thumbsDone = true;
              else thumbs.push(t);
            } catch {
              thumbsDone = true;
            }
          }
        }
      }
    }
    progress(k + 1);
  }
  if (images.length < 2) {
    return { status: 'refused', reasons: [`At least 2 readable, different images are needed; ${images.length === 1 ? 'only 1 was' : 'none was'} found.`], skipped };
  }
  const shas = images.map((i) => i.sha256).sort(byCodePoint);
  const key = shas.join('\n');
  const twin = deps.existing.find((e) => e.images.map((i) => i.sha256).sort(byCodePoint).join('\n') === key);
  if (twin) return { status: 'refused', reasons: [`These images were already added as “${twin.meta.name}” (${twin.id}).`], skipped };
  const name = input.name?.trim() ?? '';
  const id = given || (await localModelId(name, shas));
  const idFault = idProblem(id, deps, !!given);
  if (idFault) return { status: 'refused', reasons: [idFault], skipped };

  // Thumbnails of one model share one type (the paths' extension follows it).
  const mime = thumbs[0]?.mime ?? 'image/webp';
  const kept = thumbs.filter((t) => t.mime === mime);
  const now = deps.now?.() ?? Date.now();
  const data = { embeddings: embeddings.slice(0, images.length * dim).buffer, thumbnails: kept.map((t) => t.bytes) };
  const record: LocalEntry = {
    entry: {
      schema: 1,
      id,
      encoder: { ...deps.encoder },
      meta: {
        name: name || id,
        description: input.description?.trim() ?? '',
        family: '',
        creator: 'unknown',
        licence: input.licence?.trim() || 'unspecified',
        resolution: mostCommonSize(sizes) ?? '',
        links: [],
      },
      images,
      skipped,
      thumbnailMime: mime,
      thumbnails: kept.length,
      bytes: recordBytes(data),
      createdAt: now,
      updatedAt: now,
    },
    data,
  };
  await deps.hold?.('before-save');
  if (deps.cancelled()) return { status: 'aborted' };
  deps.onProgress?.({ stage: 'saving' });
  const saved = await deps.save(record);
  if (saved.status === 'exists') {
    // A damaged record under this id (never shown among your models) would otherwise leave a person
    // told to choose an id the dialog does not ask for.
    const damaged = deps.damagedKeys?.some((k) => k === `entry:${id}` || k === `data:${id}`);
    const reason = damaged
      ? `A damaged saved model holds the id “${id}”: remove damaged models under Offline storage, then add these images again.`
      : `The id “${id}” is taken: one of your models has that id (saved meanwhile, in another tab?). ${given ? 'Choose another id.' : 'Give the model another name to add it anyway.'}`;
    return { status: 'refused', reasons: [reason], skipped };
  }
  if (saved.status !== 'saved') return { status: 'refused', reasons: [saved.message], skipped };
  return { status: 'saved', record, skipped };
}

// ---------------------------------------------------------------------------------------------
// Derivation for a loaded index

/** What a loaded version 1 index gives the derivation: its manifest and sections. */
export interface IndexBasis {
  manifest: IndexManifest;
  index: SearchIndex;
}

/** A record's embeddings as rows. */
export function embeddingRows(record: LocalEntry): Float32Array[] {
  const { dim } = record.entry.encoder;
  const all = new Float32Array(record.data.embeddings);
  return record.entry.images.map((_, r) => all.subarray(r * dim, (r + 1) * dim));
}

/** Why a record cannot join this index's rankings, or undefined. */
export function unusableReason(record: LocalEntry, basis: { manifest: { encoder: { id: string; dim: number } } }): string | undefined {
  const { encoder } = basis.manifest;
  const own = record.entry.encoder;
  if (own.id !== encoder.id || own.dim !== encoder.dim) {
    return `“${record.entry.meta.name.slice(0, 80)}” is one of your models, made with ${own.id} (${own.dim}-d); this index uses ${encoder.id} (${encoder.dim}-d).`;
  }
  return undefined;
}

/**
 * The records that can join this index, each with `finalise`'s result (a string from it: why that
 * one cannot), and why the others cannot, by id.
 */
function usableRecords<T>(
  records: readonly LocalEntry[],
  basis: Parameters<typeof unusableReason>[1],
  finalise: (record: LocalEntry) => T | string,
): { usable: { record: LocalEntry; value: T }[]; unusable: Map<string, string> } {
  const usable: { record: LocalEntry; value: T }[] = [];
  const unusable = new Map<string, string>();
  for (const record of records) {
    const value = unusableReason(record, basis) ?? finalise(record);
    if (typeof value === 'string') unusable.set(record.entry.id, value);
    else usable.push({ record, value });
  }
  return { usable, unusable };
}

type FinaliseResult = { ok: true; model: FinalisedModel; fresh?: DerivedRecord } | { ok: false; reason: string };

/** Finalised records per loaded index, by id and last change: a change re-finalises only what changed. */
const finalised = new WeakMap<IndexBasis, Map<string, FinaliseResult>>();

/** What a model's statistics depend on besides its embeddings: the key of its cached derivation. */
export function derivationKey(basis: IndexBasis): string {
  const s = entrySettingsFor(basis.manifest, basis.index);
  return JSON.stringify({ v: 1, ...s.finalise, samples: s.index.samplesPrecision ?? null });
}

/**
 * A record, finalised with the index's settings (the same function the builder uses); memoised.
 * `cached` (the store's derivation for this model) is used when its key matches and its bytes check
 * out, which skips the covariance factorisation; a fresh derivation is returned as `fresh` to keep.
 */
function finaliseRecord(record: LocalEntry, basis: IndexBasis, cached?: DerivedRecord): FinaliseResult {
  let cache = finalised.get(basis);
  if (!cache) finalised.set(basis, (cache = new Map()));
  const key = recordKey(record);
  let hit = cache.get(key);
  if (!hit) cache.set(key, (hit = finaliseUncached(record, basis, cached)));
  return hit;
}

/** Diagnostics: how many records' derivations are held in memory for this loaded index (one per live record at most). */
export function memoisedDerivations(basis: object): number {
  return (finalised.get(basis as IndexBasis)?.size ?? 0) + (tieredFinalised.get(basis as TieredBasis)?.size ?? 0);
}

/** A record's memo key: its id (first line) and what changes with it. */
const recordKey = ({ entry: e }: LocalEntry) => `${e.id}\n${e.createdAt}\n${e.updatedAt}\n${e.images.length}`;

/** Forgets what was derived for records that are gone or changed since (a rename makes a new key: the old one's factors would stay in memory). */
function forgetGone<T>(cache: Map<string, T> | undefined, records: readonly LocalEntry[]): void {
  if (!cache) return;
  const live = new Set(records.map(recordKey));
  for (const key of cache.keys()) if (!live.has(key)) cache.delete(key);
}

/** A record as finalise's input: a source labelled "your model", its rows, its thumbnails. */
function entryInput(record: LocalEntry) {
  const e = record.entry;
  const m = e.meta;
  // metadataDefaults fixes the key order, which decides the bytes of models.json.
  const meta = metadataDefaults({ name: m.name, description: m.description, family: m.family, creator: m.creator, licence: m.licence, resolution: m.resolution || undefined, links: m.links }, e.id);
  return {
    source: { id: e.id, label: SOURCE_LABEL, meta, missingFields: [] },
    embeddings: embeddingRows(record),
    commonSize: m.resolution || undefined,
    thumbs: record.data.thumbnails.map((t) => new Uint8Array(t)),
    thumbExtension: e.thumbnailMime === 'image/png' ? 'png' : 'webp',
  };
}

function finaliseUncached(record: LocalEntry, basis: IndexBasis, cached?: DerivedRecord): FinaliseResult {
  const settings = entrySettingsFor(basis.manifest, basis.index);
  const e = record.entry;
  const input = entryInput(record);
  const key = derivationKey(basis);
  const stats = cached?.key === key ? fromDerivedBin(cached.bin, record, basis) : undefined;
  if (stats) return { ok: true, model: { meta: modelMeta(input, []), thumbs: input.thumbs, ...stats } };
  const result = finaliseModel(input, settings.finalise);
  if (!result.ok) return { ok: false, reason: `“${e.meta.name.slice(0, 80)}” cannot be ranked: ${result.reason}.` };
  const bin = derivedBin(result.model, basis);
  return { ok: true, model: result.model, fresh: { key, bin: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer } };
}

/** A finalised model's statistics as a one-model index.bin, stored as the index stores them (what the cache keeps). */
function derivedBin(model: FinalisedModel, basis: IndexBasis): Uint8Array {
  const s = entrySettingsFor(basis.manifest, basis.index);
  const { dim } = s.finalise;
  return writeIndex({
    dim,
    means: Float32Array.from(model.mean),
    gaussian: { precision: model.gaussian!.precision, epsilon: Float32Array.of(model.gaussian!.epsilon), dtype: s.finalise.precision },
    ...(model.samples && s.index.samplesPrecision ? { samples: { perModel: [model.samples], dtype: s.index.samplesPrecision } } : {}),
  });
}

/**
 * The statistics back from a cached one-model index.bin, or undefined when it does not fit this
 * record and these settings. Values stored in f16 or f32 come back exactly: the shard written from
 * them has the bytes a fresh derivation gives.
 */
function fromDerivedBin(bin: ArrayBuffer, record: LocalEntry, basis: IndexBasis): Omit<FinalisedModel, 'meta' | 'thumbs'> | undefined {
  const s = entrySettingsFor(basis.manifest, basis.index);
  const { dim, precision, keepSamples } = s.finalise;
  const n = record.entry.images.length;
  let idx: SearchIndex;
  try {
    idx = readIndex(new Uint8Array(bin));
  } catch {
    return undefined;
  }
  const g = idx.gaussian;
  if (idx.count !== 1 || idx.dim !== dim || !g || g.precision.dtype !== precision) return undefined;
  // The cache must belong to these embeddings: the mean is theirs, exactly.
  const mean = sampleMean(new Float32Array(record.data.embeddings), n, dim);
  for (let i = 0; i < dim; i++) if (mean[i] !== idx.means[i]) return undefined;
  const keep = Math.min(keepSamples, n);
  const wantSamples = keepSamples > 0 && !!s.index.samplesPrecision;
  if (wantSamples !== !!idx.samples) return undefined;
  if (idx.samples && (idx.samples.data.dtype !== s.index.samplesPrecision || idx.samples.offsets[1] !== keep)) return undefined;
  const floats = (d: FloatData) => (d.dtype === 'f16' ? fromHalfArray(d.data) : Float32Array.from(d.data));
  return {
    mean,
    gaussian: { precision: floats(g.precision), epsilon: g.epsilon[0]! },
    ...(idx.samples ? { samples: floats(idx.samples.data) } : {}),
  };
}

export interface DerivedLocal {
  /** The usable models as a mini-index (the bytes a shard of them holds), or undefined when none is. */
  set?: LocalSet;
  /** Why each unusable record is left out, by id. */
  unusable: Map<string, string>;
  /** Derivations computed now (not from `cached`), by id: for the store to keep. */
  fresh: Map<string, DerivedRecord>;
}

/** The shard files of `records` for this index (manifest.json, index.bin, models.json, thumbs/…). */
export async function entryFolder(
  records: readonly LocalEntry[],
  basis: IndexBasis,
  name = 'my-models',
  cached: ReadonlyMap<string, DerivedRecord> = new Map(),
): Promise<{ files: { path: string; bytes: Uint8Array }[]; unusable: Map<string, string>; fresh: Map<string, DerivedRecord> }> {
  const { usable, unusable } = usableRecords(records, basis, (r) => {
    const f = finaliseRecord(r, basis, cached.get(r.entry.id));
    return f.ok ? f : f.reason;
  });
  const fresh = new Map<string, DerivedRecord>();
  for (const { record, value } of usable) if (value.fresh) fresh.set(record.entry.id, value.fresh);
  const models = usable.map((u) => u.value.model);
  const counts = usable.map((u) => u.record.entry.images.length);
  if (!models.length) return { files: [], unusable, fresh };
  const settings = entrySettingsFor(basis.manifest, basis.index).index;
  const files = await entryShardFiles(models, { ...settings, samplesPerModel: samplesSummary(counts) }, { name });
  return { files, unusable, fresh };
}

/** The usable records as the loaded index would rank them: readIndex of the shard's own index.bin. */
export async function deriveLocal(records: readonly LocalEntry[], basis: IndexBasis, cached: ReadonlyMap<string, DerivedRecord> = new Map()): Promise<DerivedLocal> {
  // Forget what was finalised for records that are gone.
  forgetGone(finalised.get(basis), records);
  const { files, unusable, fresh } = await entryFolder(records, basis, undefined, cached);
  // What the store already keeps for these settings is not fresh (a memoised result remembers it was).
  for (const [id, d] of fresh) if (cached.get(id)?.key === d.key) fresh.delete(id);
  if (!files.length) return { unusable, fresh };
  const file = (path: string) => files.find((f) => f.path === path)!.bytes;
  const index = readIndex(file('index.bin'));
  const models = parseModels(JSON.parse(new TextDecoder().decode(file('models.json'))), index.count);
  return { set: { index, models }, unusable, fresh };
}

/** What a loaded tiered index gives the derivation: its encoder and params (ε, precision, PPCA rank). */
export interface TieredBasis {
  manifest: Pick<TieredManifest, 'encoder' | 'params'>;
}

export interface DerivedTieredLocal {
  /** The usable models' records as the index would store them, with their metadata (same order); undefined when none is. */
  set?: TieredLocal & { models: ModelMeta[] };
  /** Why each unusable record is left out, by id. */
  unusable: Map<string, string>;
}

type TieredResult = { ok: true; meta: ModelMeta; record: TieredRecord } | { ok: false; reason: string };

/** Tiered records per loaded index, by id and last change (as `finalised`). */
const tieredFinalised = new WeakMap<TieredBasis, Map<string, TieredResult>>();

function tieredUncached(record: LocalEntry, basis: TieredBasis): TieredResult {
  const s = tieredSettingsFor(basis.manifest);
  const r = finaliseTieredModel(entryInput(record), s);
  if (!r.ok) return { ok: false, reason: `“${record.entry.meta.name.slice(0, 80)}” cannot be ranked with this index: ${r.reason}.` };
  // Decoded from the bytes a merged index would hold: the same record its candidates are scored from.
  return { ok: true, meta: r.model.meta, record: decodeRecord(r.model.record, s.dim, 'your model’s record') };
}

/**
 * The usable records as a tiered index would store them: core finaliseTieredModel with the index's
 * ε, basis precision and PPCA rank, read back with decodeRecord; memoised per index and record.
 */
export function deriveTieredLocal(records: readonly LocalEntry[], basis: TieredBasis): DerivedTieredLocal {
  let cache = tieredFinalised.get(basis);
  if (!cache) tieredFinalised.set(basis, (cache = new Map()));
  forgetGone(cache, records);
  const { usable, unusable } = usableRecords(records, basis, (r) => {
    const key = recordKey(r);
    let hit = cache.get(key);
    if (!hit) cache.set(key, (hit = tieredUncached(r, basis)));
    return hit.ok ? hit : hit.reason;
  });
  const set = { ids: usable.map((u) => u.record.entry.id), records: usable.map((u) => u.value.record), models: usable.map((u) => u.value.meta) };
  return { ...(usable.length ? { set } : {}), unusable };
}

/** What a loaded tiered index gives the shard export: its manifest, and whether its head is sign-coded. */
export interface TieredExportBasis {
  kind: 'tiered';
  manifest: TieredManifest;
  signCoded: boolean;
}

/**
 * The tiered shard files of `records` for this index: a version 2 folder (manifest.json, head.bin,
 * records.bin, meta/, codes.bin for a sign-coded head, block files when the index has them) with
 * the index's own settings — ε, basis precision, PPCA rank, models per block, prefilter, temperature,
 * thumbnailBase and example queries — so that `build-index merge --format tiered` accepts it beside
 * the index and the merged index ranks these models as the app does (core assembleTiered, the
 * builder's and the merge's own function). Where the index keeps its thumbnails elsewhere
 * (thumbnailBase), the index part holds none, as the index's own shards; the models' thumbnails
 * still travel in the archive, at their paths, for the site to copy into that folder.
 */
export async function tieredEntryFolder(
  records: readonly LocalEntry[],
  basis: TieredExportBasis,
  name = 'my-models',
): Promise<{ files: { path: string; bytes: Uint8Array }[]; unusable: Map<string, string> }> {
  const s = tieredSettingsFor(basis.manifest);
  const { usable, unusable } = usableRecords(records, basis, (r): TieredModel | string => {
    const f = finaliseTieredModel(entryInput(r), s);
    return f.ok ? f.model : `“${r.entry.meta.name.slice(0, 80)}” cannot be ranked with this index: ${f.reason}.`;
  });
  const models = usable.map((u) => u.value);
  const counts = usable.map((u) => u.record.entry.images.length);
  if (!models.length) return { files: [], unusable };
  const m = basis.manifest;
  const licences = [...new Set(models.map((x) => x.meta.licence))];
  const { files, manifest } = await assembleTiered(
    models,
    {
      name,
      licence: licences.length === 1 ? licences[0]! : 'unspecified',
      examples: m.examples,
      encoder: { ...m.encoder },
      epsilon: s.epsilon,
      precision: s.precision,
      ppcaRank: s.ppcaRank,
      modelsPerBlock: m.tiered.modelsPerBlock,
      blockFiles: m.tiered.blockFiles,
      prefilter: basis.signCoded ? 'sign' : 'int8',
      thumbnailBase: m.thumbnailBase,
      samplesPerModel: samplesSummary(counts),
      temperature: m.params?.temperature,
    },
    BROWSER_CREATED_WITH,
  );
  const out = [{ path: 'manifest.json', bytes: new TextEncoder().encode(tieredManifestJson(manifest)) }, ...[...files].map(([path, bytes]) => ({ path, bytes }))];
  if (m.thumbnailBase) for (const x of models) x.thumbs.forEach((bytes, i) => out.push({ path: x.meta.thumbnails[i]!, bytes }));
  return { files: out, unusable };
}

/** The list's view of a record. */
export function summary(record: LocalEntry, state: { unusable?: string; shadowed: boolean; sessionOnly: boolean }): LocalModelSummary {
  const e = record.entry;
  return {
    id: e.id,
    name: e.meta.name,
    description: e.meta.description,
    licence: e.meta.licence,
    images: e.images.length,
    bytes: e.bytes,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    encoder: { ...e.encoder },
    usable: state.unusable === undefined && !state.shadowed,
    ...(state.unusable !== undefined ? { unusableReason: state.unusable } : {}),
    shadowed: state.shadowed,
    sessionOnly: state.sessionOnly,
    thumbnails: record.data.thumbnails.map((t) => ({ mime: e.thumbnailMime, bytes: t.slice(0) })),
  };
}

/** The JSON export's format name (docs/local-models.md, "JSON export"). */
export const LOCAL_JSON_FORMAT = 'model-search-local-models';

/** A documented JSON description of `records` for a model page: metadata, image count, encoder, mean. */
export function exportJson(records: readonly LocalEntry[]): string {
  const models = records.map((r) => {
    const e = r.entry;
    const { dim } = e.encoder;
    const mean = sampleMean(new Float32Array(r.data.embeddings), e.images.length, dim);
    return {
      id: e.id,
      ...e.meta,
      images: e.images.length,
      encoder: e.encoder,
      mean: Array.from(mean),
      createdAt: new Date(e.createdAt).toISOString(),
      updatedAt: new Date(e.updatedAt).toISOString(),
    };
  });
  return JSON.stringify({ format: LOCAL_JSON_FORMAT, formatVersion: 1, models }, null, 1) + '\n';
}

/** The download's base name: the model's slug for one model, else "my-models". */
function exportBaseName(records: readonly LocalEntry[]): string {
  return records.length === 1 ? slug(records[0]!.entry.meta.name) : 'my-models';
}

/**
 * `records` as a file to download: an index shard of the loaded index's format (`<name>.shard.tar`:
 * a version 1 folder for a version 1 `basis`, a tiered folder for a tiered one) or the JSON
 * description (`<name>.json`).
 */
export async function exportFile(records: readonly LocalEntry[], as: 'shard' | 'json', basis: IndexBasis | TieredExportBasis | undefined): Promise<{ fileName: string; mime: string; bytes: Uint8Array<ArrayBuffer> }> {
  if (!records.length) throw new AppError('bad-query', 'Choose at least one of your models to export.');
  const base = exportBaseName(records);
  if (as === 'json') return { fileName: `${base}.json`, mime: 'application/json', bytes: new TextEncoder().encode(exportJson(records)) };
  if (as !== 'shard') throw new AppError('bad-query', 'Export as "shard" or "json".');
  if (!basis) throw new AppError('bad-query', 'An index shard needs the index loaded first (its settings go into the shard); export them as JSON, or retry once the index has loaded.');
  const { files, unusable } = (basis as TieredExportBasis).kind === 'tiered' ? await tieredEntryFolder(records, basis as TieredExportBasis, base) : await entryFolder(records, basis as IndexBasis, base);
  if (unusable.size) throw new AppError('bad-query', [...unusable.values()].join(' '));
  return { fileName: `${base}.shard.tar`, mime: 'application/x-tar', bytes: writeTar(files) };
}
