import type { BuildParams, ModelMeta } from '../core/index/manifest.ts';
import type { MatchVerdict } from '../core/scoring/matchQuality.ts';
import type { Method } from '../core/scoring/methods.ts';
import type { QueryPart as RankQueryPart, RankQuery } from '../core/scoring/rank.ts';
import type { FacetCounts } from '../core/scoring/queryFilters.ts';

/** Types shared by the UI and the search worker (structured-clone safe). */
export type BackendPreference = 'auto' | 'webgpu' | 'wasm';
export type Backend = 'webgpu' | 'wasm';

/** Why the encoder runs on WASM rather than WebGPU, as data: the UI writes the words (src/lib). */
export type BackendReason =
  /** ?backend=wasm asked for it. */
  | { kind: 'requested' }
  /** navigator.gpu is missing. */
  | { kind: 'no-webgpu' }
  /** requestAdapter() gave no adapter. */
  | { kind: 'no-adapter' }
  /** requestAdapter() threw. */
  | { kind: 'adapter-failed'; detail: string }
  /** onnxruntime-web could not create a WebGPU session. */
  | { kind: 'session-failed'; detail: string }
  /** A WebGPU run failed. */
  | { kind: 'run-failed'; detail: string }
  /** The GPU device was lost (driver reset, another tab, simulated by ?debug). */
  | { kind: 'device-lost'; detail: string };

export interface WorkerConfig {
  /** Absolute URL the relative asset paths resolve against (the app's base). */
  appBase: string;
  /** Absolute URL of the index folder (ends with '/'). */
  indexUrl: string;
  backend: BackendPreference;
  /** Host that serves hub-style model files (`{host}/{repo}/resolve/main/…`). */
  modelHost?: string;
  /**
   * Whether the visitor's own models (added in this browser, kept in IndexedDB) join searches.
   * Default true; false inside embeds, where a host's results must never include a visitor's entries.
   */
  localModels?: boolean;
}

/** What a large file is for: the rows of the download list (src/components/LoadProgress.svelte). */
export type DownloadKind = 'runtime' | 'encoder' | 'tokenizer' | 'index';

/**
 * Progress and status from the worker, one union keyed by `status`. A file's row starts with
 * `initiate`, then either `download` events (bytes over the network) or one `cached` event (read
 * from offline storage, nothing downloaded), then `done`.
 */
export type LoadProgress =
  | { status: 'initiate'; file: string; label: string; kind: DownloadKind; total?: number }
  | { status: 'download'; file: string; loaded: number; total?: number }
  | { status: 'cached'; file: string; bytes: number }
  | { status: 'done'; file: string }
  | { status: 'session'; backend: Backend }
  | { status: 'warmup'; backend: Backend }
  | { status: 'fallback'; from: Backend; to: Backend; reason: BackendReason }
  | { status: 'ready'; backend: Backend; reason?: BackendReason }
  /** Offline storage news a person should see (quota full, storage disabled, damaged copy, offline start). */
  | { status: 'storage'; notice: StorageNotice };

/**
 * What happened to offline storage, as data: the UI writes the sentence (src/lib). `label` names a
 * file ("Index index.bin", "Text encoder"); `savedAt` is a Unix time in ms.
 */
export type StorageNotice =
  /** IndexedDB cannot be opened (private mode, storage disabled): everything loads from the network. */
  | { kind: 'unavailable' }
  /** A saved copy failed its checksum and is downloaded again. */
  | { kind: 'corrupt'; label: string }
  /** Not enough quota to save these files (every one this session, in order); they are downloaded again next time. */
  | { kind: 'quota'; labels: string[] }
  /** Saving failed for another reason. */
  | { kind: 'save-failed'; label: string }
  /** The network is unreachable: the index saved at `savedAt` is used. */
  | { kind: 'offline-index'; savedAt: number }
  /** The index host answers Range requests wrongly: a tiered index's blocks now come from per-block files. */
  | { kind: 'range-fallback'; detail: string };

/** One file in offline storage (workers/storage/fileStore.ts keeps them). */
export interface StoredFileMeta {
  /** SHA-256 (lower-case hex) of the bytes; also the entry's key. */
  sha256: string;
  bytes: number;
  /** Where the bytes came from (informational; untrusted text). */
  url: string;
  /** Human label, e.g. "Index index.bin" (untrusted text). */
  label: string;
  /** The group that stored it, e.g. `index:<indexUrl>` or `encoder:<id>`. */
  group: string;
  /** Date.now() when stored. */
  storedAt: number;
}

/** What offline storage holds (the storage panel). */
export interface StorageInfo {
  /** False where IndexedDB is unavailable (private mode, storage disabled): everything loads from the network. */
  available: boolean;
  /** Stored files, by group then label (labels and urls are untrusted text). */
  files: StoredFileMeta[];
  /** Sum of the stored files' sizes in bytes. */
  totalBytes: number;
  /** The browser's estimate for this origin (all storage, not only these files), when known. */
  usage?: number;
  quota?: number;
  /** The latest storage notice of this session, if any. */
  notice?: StorageNotice;
  /** The visitor's own models (kept when saved files are cleared); `thumbnails` is empty here (listLocalModels has them). */
  localModels?: LocalModelSummary[];
  /** Saved models that are damaged and left out (kept in storage, never deleted silently): the record's key and why. */
  localDamaged?: { key: string; reason: string }[];
}

export interface ReadyInfo {
  backend: Backend;
  /** Why the backend is not WebGPU, when it is not. */
  backendReason?: BackendReason;
  encoderId: string;
  encoderLabel: string;
  indexName: string;
  modelCount: number;
  /** Methods this index supports, best first (the default is the first). */
  methods: Method[];
  params?: BuildParams;
  /** Example text queries offered for this index. */
  examples: string[];
  /** T of Monte-Carlo and 1st+2nd moment: the logit scale of the index's encoder. */
  temperature: number;
  /** Threads of the WASM backend (1 unless the page is cross-origin isolated). */
  wasmThreads: number;
  loadMs: number;
  /**
   * A tiered (version 2) index: ranked in two stages, records fetched per query. `shortlist`: a
   * sign-coded head (its int8 means in codes.bin), the default number of models its sign codes keep.
   */
  tiered?: { candidates: number; blocks: number; headBytes: number; shortlist?: number };
  /** Folder (relative to the index) that thumbnail paths resolve against, when not the index's own (manifest.thumbnailBase). */
  thumbnailBase?: string;
  /** How many of `modelCount` are the visitor's own models (added in this browser). */
  localModels?: number;
}

/** One part of a query: text, an image file (or a sketch), or an existing model of the index. */
export type QueryPart = RankQueryPart<Blob>;

/**
 * A query as the UI sends it: src/core/scoring/rank.ts defines and checks every field; `shortlist`
 * is a sign-coded tiered index's sign shortlist (src/core/index/tieredRank.ts checks it).
 */
export type SearchRequest = RankQuery<Blob> & { shortlist?: number };

export interface RankedModel {
  rank: number;
  index: number;
  /** The ranking score: the method's score, or the fused score in hybrid mode. */
  score: number;
  /** The method's content score (what the score-distribution plot shows). */
  contentScore: number;
  /** Which thumbnail shows the model's sample nearest the query ("why this model"); −1 or absent: none known. */
  nearestThumbnail?: number;
  model: ModelMeta;
  /** One of the visitor's own models (added in this browser, not part of the index). Its thumbnails come from `listLocalModels`. */
  local?: boolean;
}

export interface SearchResponse {
  backend: Backend;
  method: Method;
  encodeMs: number;
  scoreMs: number;
  results: RankedModel[];
  /** The content score of every model, in index order (for plots and checks), filters ignored. */
  scores: Float32Array;
  /** How many models pass the filters. */
  matched: number;
  /** Facet values with counts (disjunctive: each field counted under the other fields' filters). */
  facets: FacetCounts;
  /** The model a "more like this" query used (it is left out of the results). */
  queryModel?: { id: string; name: string; index: number };
  /** Models ranked for this answer, the visitor's own included (the count can change when they add or remove one). */
  modelCount?: number;
  /** Whether hybrid fusion changed the ranking (the query had text and a non-zero weight). */
  hybrid: boolean;
  /** Whether anything matches well (see src/core/scoring/matchQuality.ts): the UI says so when not. */
  match: MatchVerdict;
  /** The prefilter's ranking of a tiered index, sent before the exact one (no scores yet): the UI shows it and waits. */
  refining?: boolean;
  /** A tiered index's two stages: what the exact ranking cost. */
  tiered?: TieredStats;
}

export interface TieredStats {
  /** Candidates reranked exactly (K). */
  candidates: number;
  /** Blocks fetched for this query, requests made and bytes received (0 when every block was cached). */
  blocksFetched: number;
  requests: number;
  bytesFetched: number;
  /** Blocks read from offline storage instead. */
  blocksFromStorage: number;
  /** How blocks arrive: Range reads, or per-block files (a host without working Range). */
  source: 'ranges' | 'block-files';
  /** Who computed the scores: a real GPU (WGSL), the WASM SIMD kernels, or JS. */
  engine: 'webgpu' | 'wasm' | 'js';
  /** Time to the prefilter ranking (after encoding), then to the exact ranking. */
  prefilterMs: number;
  exactMs: number;
  /**
   * A sign-coded head: sign codes screened every model and kept `shortlist`, whose int8 means came
   * from codes.bin (code blocks fetched, requests, bytes; or read from offline storage) to pick the K
   * candidates. The other models have no score (NaN in `scores`).
   */
  signStage?: { shortlist: number; codeBlocksFetched: number; codeRequests: number; codeBytesFetched: number; codeBlocksFromStorage: number };
}


/**
 * Where a cancelled search stopped in the worker: before encoding (nothing encoded), after
 * encoding (nothing scored), or after scoring (nothing sent back).
 */
export type AbortStage = 'before-encode' | 'before-score' | 'before-return';

/** How a search call ends in the worker: its response, or stopped because the page cancelled it (not an error). */
export type SearchOutcome = { status: 'done'; response: SearchResponse } | { status: 'aborted'; stage: AbortStage };

/** What one search worker has done since it started (diagnostics: tests prove cancellation with them). */
export interface WorkerCounts {
  /** Search calls received. */
  searches: number;
  /** Query parts encoded (a text + image query encodes twice). */
  encodes: number;
  /** Searches scored (every model ranked). */
  scorings: number;
  /** Cancelled searches, by where they stopped. */
  aborted: Record<AbortStage, number>;
  /** Searches waiting at a held checkpoint now (see the worker's `holdAt`). */
  held: number;
}

/** One of the visitor's own models, added in this browser (workers/storage/localModelStore.ts keeps it). */
export interface LocalModelSummary {
  id: string;
  /** Untrusted text (the visitor typed it, or a damaged record holds it): never HTML. */
  name: string;
  description: string;
  licence: string;
  /** Valid images the statistics were computed from. */
  images: number;
  /** Bytes kept in IndexedDB (embeddings and thumbnails). */
  bytes: number;
  createdAt: number;
  updatedAt: number;
  /** The encoder that embedded the images. */
  encoder: { id: string; dim: number };
  /** Ranked with the loaded index (same encoder and dimension, not shadowed, and the index is version 1). */
  usable: boolean;
  /** Why it is not ranked with the loaded index (another encoder, statistics that fail), when `usable` is false and it is not shadowed. */
  unusableReason?: string;
  /** The loaded index already has a model with this id: the index's copy is ranked, not this one. */
  shadowed: boolean;
  /** Kept for this tab only (IndexedDB unavailable): gone when the tab closes. */
  sessionOnly: boolean;
  /** Thumbnail files (WebP, or PNG where the browser cannot encode WebP), in order. */
  thumbnails: { mime: string; bytes: ArrayBuffer }[];
}

/** A model to add: image files (a folder's or a pick's), optional metadata. */
export interface AddModelInput {
  /** The files as picked; the worker orders them by name (code points), skips non-images and duplicates. */
  files: { name: string; blob: Blob }[];
  name?: string;
  description?: string;
  licence?: string;
  /** Id to use instead of the derived one (`[A-Za-z0-9._-]`, see core invalidIdReason). */
  id?: string;
}

/** How adding a model is going (one event per image embedded). */
export type AddModelProgress =
  | { stage: 'reading'; done: number; total: number }
  | { stage: 'embedding'; done: number; total: number; skipped: number }
  | { stage: 'saving' }
  /** The image encoder is being downloaded or opened first. */
  | { stage: 'load'; progress: LoadProgress };

/** A file that was left out of a model, and why (plain words). */
export interface AddModelSkip {
  name: string;
  reason: string;
}

/** How adding a model ended. Nothing is saved unless `status` is 'saved'. */
export type AddModelOutcome =
  | { status: 'saved'; model: LocalModelSummary; skipped: AddModelSkip[] }
  | { status: 'refused'; reasons: string[]; skipped: AddModelSkip[] }
  | { status: 'aborted' };

/** Fields of one of your models that can change (its id never does: links use it). */
export interface LocalModelEdit {
  name?: string;
  description?: string;
  licence?: string;
}

/** Where an add can be held (diagnostics: the worker's `holdAdd`): before each image, or before the one write. */
export type AddModelHoldStage = 'before-embed' | 'before-save';

/** Diagnostics: what one of your models was made from (the e2e test seeds the CLI's cache with it). */
export interface LocalModelSource {
  images: { name: string; sha256: string; width: number; height: number }[];
  /** [images · dim], unit rows, in the images' order. */
  embeddings: Float32Array;
  dim: number;
  encoder: { id: string; dim: number };
}

/** A file for the page to download (an index shard as .tar, or JSON). */
export interface ExportedFile {
  fileName: string;
  mime: string;
  bytes: ArrayBuffer;
}
