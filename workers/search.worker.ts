import { expose, transfer } from 'comlink';
import { AppError } from '../src/core/io/errors.ts';
import type { CacheEvent } from './storage/cachedFetch.ts';
import { ENCODERS } from '../src/core/encode/encoders.ts';
import { openFileStore, type VerifiedFileStore } from './storage/fileStore.ts';
import { gaussianKernelFor } from '../src/core/scoring/simdKernels.ts';
import { supportedMethods } from '../src/core/scoring/methods.ts';
import { rank } from '../src/core/scoring/rank.ts';
import { preprocessRgba } from '../src/core/encode/preprocess.ts';
import { withLocalModels, type WithLocal } from '../src/core/index/appendModels.ts';
import { metadataOverLimit, type ModelMeta } from '../src/core/index/manifest.ts';
import type { OpenedIndex } from '../src/core/index/openIndex.ts';
import type {
  AbortStage,
  AddModelHoldStage,
  AddModelInput,
  AddModelOutcome,
  AddModelProgress,
  ExportedFile,
  LocalModelEdit,
  LocalModelSource,
  LocalModelSummary,
  Backend,
  BackendReason,
  LoadProgress,
  ReadyInfo,
  SearchOutcome,
  SearchRequest,
  SearchResponse,
  StorageInfo,
  StorageNotice,
  WorkerConfig,
  WorkerCounts,
} from '../src/shared/protocol.ts';
import { installErrorTransfer } from '../src/shared/comlinkErrors.ts';
import { decodeImage } from './decodeImage.ts';
import { addModel, deriveLocal, deriveTieredLocal, exportFile, summary, type DerivedLocal, type DerivedTieredLocal } from './localModels.ts';
import { openLocalModelStore, type LoadResult, type LocalEntry, type LocalModelStore } from './storage/localModelStore.ts';
import { makeThumbnail } from './thumbnail.ts';
import { EncoderRuntime } from './encoderRuntime.ts';
import { isTiered, startIndexLoad, type IndexLoad, type LoadedIndex } from './indexLoader.ts';
import { countsSince, type TieredLoaded } from './tieredIndex.ts';
import { DEFAULT_CANDIDATES, DEFAULT_SHORTLIST, rankTiered, TIERED_METHODS, type TieredLocal } from '../src/core/index/tieredRank.ts';
import type { EmbedPart, RankQuery } from '../src/core/scoring/rank.ts';
import { startOrtRuntime, WASM_THREADS, type Ort } from './ortRuntime.ts';
import { probeWebGpu } from './webgpu.ts';

installErrorTransfer();

type Progress = (p: LoadProgress) => void;

let config: WorkerConfig | undefined;
let progress: Progress = () => {};
let indexLoad: IndexLoad | undefined;
let runtimePromise: Promise<EncoderRuntime> | undefined;
let backendPromise: Promise<{ backend: Backend; reason?: BackendReason }> | undefined;

const STORAGE_UNAVAILABLE: StorageNotice = { kind: 'unavailable' };
let storePromise: Promise<VerifiedFileStore | null> | undefined;
/** The latest storage notice of this worker (shown again by the storage panel). */
let storageNotice: StorageNotice | undefined;

function storageNote(notice: StorageNotice): void {
  // Quota refusals add up (a later one must not hide that an earlier file is not saved either).
  if (notice.kind === 'quota' && storageNotice?.kind === 'quota') {
    notice = { kind: 'quota', labels: [...new Set([...storageNotice.labels, ...notice.labels])] };
  }
  storageNotice = notice;
  progress({ status: 'storage', notice });
}

/** Offline storage, opened once; null where IndexedDB is unavailable (then everything uses the network). */
function getStore(): Promise<VerifiedFileStore | null> {
  storePromise ??= openFileStore().then((store) => {
    if (!store) storageNote(STORAGE_UNAVAILABLE);
    return store;
  });
  return storePromise;
}

/** Turns storage trouble into a notice; the load itself goes on from the network. */
function onCacheEvent(e: CacheEvent): void {
  if (e.kind === 'corrupt') storageNote({ kind: 'corrupt', label: e.label });
  else if (e.kind === 'quota') storageNote({ kind: 'quota', labels: [e.label] });
  else if (e.kind === 'unavailable') storageNote({ kind: 'save-failed', label: e.label });
}

async function storageInfo(): Promise<StorageInfo> {
  const store = await getStore();
  const files = store ? await store.list() : [];
  // An estimate that throws at once (not only one that rejects) must not hide the file list.
  const estimate = await Promise.resolve()
    .then(() => navigator.storage?.estimate?.())
    .catch(() => undefined);
  const local = localEnabled() ? await localSummaries(settledIndex, false).catch(() => undefined) : undefined;
  return {
    available: store !== null,
    files,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    usage: estimate?.usage,
    quota: estimate?.quota,
    notice: store ? storageNotice : STORAGE_UNAVAILABLE,
    ...(local ? { localModels: local.models, ...(local.damaged.length ? { localDamaged: local.damaged } : {}) } : {}),
  };
}

function requireConfig(): WorkerConfig {
  if (!config) throw new AppError('backend', 'The search worker was used before it was configured.');
  return config;
}

/** The index being loaded (once): its manifest first, then its files. A failed load starts over on the next call. */
function getIndexLoad(): IndexLoad {
  if (indexLoad) return indexLoad;
  const cfg = requireConfig();
  const onProgress: Progress = (p) => (p.status === 'storage' ? storageNote(p.notice) : progress(p));
  const onRangeFallback = (reason: Error) => storageNote({ kind: 'range-fallback', detail: reason.message });
  const started = getStore().then((store) => startIndexLoad(cfg.indexUrl, onProgress, { store, onCacheEvent, onRangeFallback }));
  const load: IndexLoad = { manifest: started.then((l) => l.manifest), index: started.then((l) => l.index) };
  load.manifest.catch(() => {});
  load.index.then(
    (loaded) => {
      if (indexLoad === load) settledIndex = loaded;
    },
    () => {
      if (indexLoad === load) indexLoad = undefined;
    },
  );
  indexLoad = load;
  return load;
}

function getIndex(): Promise<LoadedIndex> {
  return getIndexLoad().index;
}

// ---------------------------------------------------------------------------------------------
// The visitor's own models (workers/localModels.ts, docs/local-models.md)

/** The index as loaded, once it is (the storage panel lists local models without waiting for it). */
let settledIndex: LoadedIndex | undefined;
const LOCAL_CHANNEL = 'model-search-local';
let localStorePromise: Promise<LocalModelStore> | undefined;
let localRecords: Promise<LoadResult> | undefined;
let localChannel: BroadcastChannel | undefined;
/** Diagnostics: adds wait at this stage until `holdAdd(null)`. */
let addHold: { stage: AddModelHoldStage; released: Promise<void>; release: () => void } | undefined;

/** Local models join searches unless the page said not to (embeds). */
function localEnabled(): boolean {
  return config?.localModels !== false;
}

function getLocalStore(): Promise<LocalModelStore> {
  localStorePromise ??= openLocalModelStore();
  return localStorePromise;
}

/** The stored models, read (and validated) once per change; none where local models are off. */
function getLocalRecords(): Promise<LoadResult> {
  if (!localEnabled()) return Promise.resolve({ entries: [], damaged: [], derived: new Map() });
  if (!localChannel && typeof BroadcastChannel !== 'undefined') {
    localChannel = new BroadcastChannel(LOCAL_CHANNEL);
    // Another tab added, renamed or removed one: read the list again before the next search.
    localChannel.onmessage = () => localChanged(false);
  }
  if (!localRecords) {
    const reading: Promise<LoadResult> = getLocalStore()
      .then((store) => store.list())
      .then((r) => {
        if (r.damaged.length) console.warn(`${r.damaged.length} of your saved models are damaged and were left out:`, r.damaged);
        return r;
      })
      .catch((err: unknown) => {
        // Storage failing must not stop searches: none of your models this time, read again next time.
        if (localRecords === reading) localRecords = undefined;
        return { entries: [], damaged: [{ key: '*', reason: `the browser's storage failed (${String((err as Error)?.message ?? err).slice(0, 200)})` }], derived: new Map() };
      });
    localRecords = reading;
  }
  return localRecords;
}

/** The local set changed (here, or in another tab when `!broadcast`). */
function localChanged(broadcast: boolean): void {
  localRecords = undefined;
  if (broadcast) localChannel?.postMessage({ type: 'changed' });
}

/** Derived once per (loaded index, stored set): the mini-index the exported shard would hold. */
const derivedLocal = new WeakMap<OpenedIndex, { records: LoadResult; derived: Promise<DerivedLocal> }>();

async function localFor(loaded: OpenedIndex): Promise<{ records: LoadResult; derived: DerivedLocal }> {
  const records = await getLocalRecords();
  let hit = derivedLocal.get(loaded);
  if (!hit || hit.records !== records) {
    const derived = deriveLocal(records.entries, loaded, records.derived).then(
      (d) => {
        // Kept for the next visit (a cache: a failure to keep it costs only time).
        if (d.fresh.size) void getLocalStore().then((store) => Promise.all([...d.fresh].map(([id, r]) => store.putDerived(id, r))));
        return d;
      },
      (err: unknown): DerivedLocal => {
        // One failure must not stop the index's own searches: every local model is left out, with why.
        const why = `Your models could not be prepared for this index: ${(err as Error)?.message ?? String(err)}`;
        return { unusable: new Map(records.entries.map((r) => [r.entry.id, why])), fresh: new Map() };
      },
    );
    hit = { records, derived };
    derivedLocal.set(loaded, hit);
  }
  return { records, derived: await hit.derived };
}

/** Derived once per (loaded tiered index, stored set): your models as that index's records. */
const derivedTiered = new WeakMap<TieredLoaded, { records: LoadResult; derived: DerivedTieredLocal }>();

async function tieredLocalFor(loaded: TieredLoaded): Promise<DerivedTieredLocal> {
  if (!localEnabled()) return { unusable: new Map() };
  const records = await getLocalRecords();
  let hit = derivedTiered.get(loaded);
  if (!hit || hit.records !== records) {
    let derived: DerivedTieredLocal;
    try {
      derived = deriveTieredLocal(records.entries, loaded);
    } catch (err) {
      // One failure must not stop the index's own searches: every local model is left out, with why.
      const why = `Your models could not be prepared for this index: ${(err as Error)?.message ?? String(err)}`;
      derived = { unusable: new Map(records.entries.map((r) => [r.entry.id, why])) };
    }
    hit = { records, derived };
    derivedTiered.set(loaded, hit);
  }
  return hit.derived;
}

/** Your usable models for a tiered search: those whose id this index is not known to have (shadowed ones are left out). */
async function tieredLocal(loaded: TieredLoaded): Promise<(TieredLocal & { models: ModelMeta[] }) | undefined> {
  const { set } = await tieredLocalFor(loaded);
  if (!set) return undefined;
  const keep = set.ids.flatMap((id, i) => (loaded.idOf(id) === undefined ? [i] : []));
  if (!keep.length) return undefined;
  if (keep.length === set.ids.length) return set;
  return { ids: keep.map((i) => set.ids[i]!), records: keep.map((i) => set.records[i]!), models: keep.map((i) => set.models[i]!) };
}

/** The loaded v1 index with the usable local models appended (memoised per change). */
async function rankableFor(loaded: OpenedIndex): Promise<WithLocal> {
  if (!localEnabled()) return withLocalModels(loaded, undefined);
  const { derived } = await localFor(loaded);
  try {
    return withLocalModels(loaded, derived.set);
  } catch (err) {
    console.warn('Your models were left out of this search:', err);
    return withLocalModels(loaded, undefined);
  }
}

/** How many models searches rank with `loaded` (the index's, and those of yours that join it) and how many of them are yours. */
async function rankedCounts(loaded: LoadedIndex): Promise<{ modelCount: number; localModels: number }> {
  if (isTiered(loaded)) {
    const local = (await tieredLocal(loaded))?.ids.length ?? 0;
    return { modelCount: loaded.head.count + local, localModels: local };
  }
  const target = await rankableFor(loaded);
  return { modelCount: target.index.count, localModels: target.index.count - target.baseCount };
}

/** Every stored model with whether (and why not) it is ranked with `loaded`; thumbnails when asked. */
async function localSummaries(loaded: LoadedIndex | undefined, thumbnails: boolean): Promise<{ models: LocalModelSummary[]; damaged: LoadResult['damaged'] }> {
  const [records, store] = await Promise.all([getLocalRecords(), getLocalStore()]);
  let state: (r: LocalEntry) => { unusable?: string; shadowed: boolean };
  if (!loaded) {
    state = () => ({ unusable: 'The index is not loaded yet.', shadowed: false });
  } else if (isTiered(loaded)) {
    const derived = await tieredLocalFor(loaded);
    state = (r) => ({ unusable: derived.unusable.get(r.entry.id), shadowed: loaded.idOf(r.entry.id) !== undefined });
  } else {
    const { derived } = await localFor(loaded);
    state = (r) => ({ unusable: derived.unusable.get(r.entry.id), shadowed: loaded.ids.has(r.entry.id) });
  }
  const models = records.entries.map((r) => {
    const s = summary(r, { ...state(r), sessionOnly: store.sessionOnly });
    return thumbnails ? s : { ...s, thumbnails: [] };
  });
  return { models, damaged: records.damaged };
}

/**
 * "More like this" from one of your models that this index does not rank (another encoder, a
 * record that cannot be derived): says why, instead of "not in this index".
 */
async function checkLocalModelQuery(loaded: LoadedIndex, req: SearchRequest): Promise<void> {
  if (!localEnabled() || !Array.isArray(req?.parts)) return;
  for (const p of req.parts) {
    const part = p?.part;
    if (part?.kind !== 'model' || typeof part.modelId !== 'string') continue;
    const inIndex = isTiered(loaded) ? loaded.idOf(part.modelId) !== undefined : loaded.ids.has(part.modelId);
    if (inIndex) continue;
    const record = (await getLocalRecords()).entries.find((r) => r.entry.id === part.modelId);
    if (!record) continue;
    const why = isTiered(loaded) ? (await tieredLocalFor(loaded)).unusable.get(part.modelId) : (await localFor(loaded)).derived.unusable.get(part.modelId);
    if (why) throw new AppError('bad-query', why);
  }
}

/** A stored model by id, or a clear refusal. */
async function localRecord(id: string): Promise<LocalEntry> {
  const found = (await getLocalRecords()).entries.find((r) => r.entry.id === id);
  if (!found) throw new AppError('bad-query', `There is no model “${String(id).slice(0, 140)}” among your models.`);
  return found;
}

function transferSummaries<T extends LocalModelSummary | LocalModelSummary[]>(value: T): T {
  const list: LocalModelSummary[] = Array.isArray(value) ? value : [value as LocalModelSummary];
  return transfer(value, list.flatMap((m) => m.thumbnails.map((t) => t.bytes)));
}

/** Adds in progress also hear the encoder's download progress (the page keeps a long add alive on it). */
const addListeners = new Set<Progress>();

/** The encoder's and onnxruntime-web's load progress: to the page, and to every add in progress. */
function encoderProgress(p: LoadProgress): void {
  progress(p);
  for (const listen of addListeners) listen(p);
}

/**
 * onnxruntime-web for the chosen backend, given its binary (through offline storage; a row of the
 * download list) and started; sessions are created with it.
 */
function getOrtRuntime(): Promise<Ort> {
  return Promise.all([getBackend(), getStore()]).then(([{ backend }, store]) => startOrtRuntime(backend, { store, onCacheEvent }, encoderProgress));
}

/** WebGPU where it works, else WASM (and why), probed once: it picks onnxruntime-web's bundle too. */
function getBackend(): Promise<{ backend: Backend; reason?: BackendReason }> {
  backendPromise ??= chooseBackend(requireConfig().backend);
  return backendPromise;
}

async function chooseBackend(pref: WorkerConfig['backend']): Promise<{ backend: Backend; reason?: BackendReason }> {
  if (pref === 'wasm') return { backend: 'wasm', reason: { kind: 'requested' } };
  const probe = await probeWebGpu();
  return probe.ok ? { backend: 'webgpu' } : { backend: 'wasm', reason: probe.reason };
}

/**
 * The encoder the index was built with; created once, shared by all callers. It needs only the
 * index's manifest, so the encoder, the tokenizer and onnxruntime-web's binary download alongside the
 * index files (openIndex checks that index.bin has the manifest's dimension).
 */
function getRuntime(): Promise<EncoderRuntime> {
  const cfg = requireConfig();
  runtimePromise ??= (async () => {
    const { encoder } = await getIndexLoad().manifest;
    const desc = ENCODERS[encoder.id];
    if (!desc) {
      throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${encoder.id}".`);
    }
    if (desc.dim !== encoder.dim) {
      throw new AppError('encoder-mismatch', `Encoder ${desc.id} gives ${desc.dim}-d embeddings but the index has ${encoder.dim}-d.`);
    }
    const [{ backend, reason }, store] = await Promise.all([getBackend(), getStore()]);
    return new EncoderRuntime(desc, backend, reason, cfg.appBase, cfg.modelHost, encoderProgress, { store, onCacheEvent }, getOrtRuntime);
  })();
  runtimePromise.catch(() => (runtimePromise = undefined));
  return runtimePromise;
}

/** What this worker has done (diagnostics; see WorkerCounts). */
const counts: WorkerCounts = { searches: 0, encodes: 0, scorings: 0, aborted: { 'before-encode': 0, 'before-score': 0, 'before-return': 0 }, held: 0 };

/** Searches in progress by the page's call id; `cancel` marks one, and it stops at its next checkpoint. */
const calls = new Map<number, { cancelled: boolean }>();

/** Thrown inside rank's embed callback to stop a cancelled search; never leaves the worker. */
class Cancelled {
  constructor(readonly stage: AbortStage) {}
}

/** Diagnostics: searches wait at this checkpoint until released (tests cancel them there). */
let hold: { stage: AbortStage; released: Promise<void>; release: () => void } | undefined;

/**
 * Yields one task, so that a cancel message the page sent meanwhile is handled (an encode or a
 * scoring runs without yielding), then stops the search with Cancelled if it was cancelled.
 */
async function checkpoint(call: { cancelled: boolean }, stage: AbortStage): Promise<void> {
  if (hold?.stage === stage) {
    counts.held++;
    await hold.released.finally(() => counts.held--);
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (call.cancelled) throw new Cancelled(stage);
}

/**
 * Encodes run one at a time: onnxruntime-web does not support overlapping runs (on WebGPU a second
 * run while one awaits the GPU stalls the worker). A search cancelled while it waits for its turn is
 * never encoded.
 */
let encoderTurn: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = encoderTurn.then(fn);
  encoderTurn = run.catch(() => {});
  return run;
}

/** Embeds a text or image part with the index's encoder, one encode at a time; a cancelled call is never encoded. */
function embedPart(runtime: EncoderRuntime, call: { cancelled: boolean }) {
  return async (part: EmbedPart<Blob>): Promise<Float32Array> => {
    const input = part.kind === 'text' ? part.text : await decodeImage(part.image);
    return oneAtATime(() => {
      if (call.cancelled) throw new Cancelled('before-encode');
      counts.encodes++;
      return typeof input === 'string' ? runtime.encodeText(input) : runtime.encodeImage(input);
    });
  };
}

/**
 * Ranks `req` on a tiered index in two stages: the prefilter's ranking goes to `onPartial` (with
 * the shown models' metadata) as soon as it exists, then the exact ranking of the candidates is the
 * answer. Both carry the same models where they agree, so cards already shown stay in place.
 */
async function runTieredSearch(loaded: TieredLoaded, runtime: EncoderRuntime, req: SearchRequest, call: { cancelled: boolean }, onPartial?: (r: SearchResponse) => void | Promise<void>): Promise<SearchResponse> {
  const t0 = performance.now();
  let encodeMs = 0;
  let prefilterMs = 0;
  const embed = embedPart(runtime, call);
  const before = { records: { ...loaded.stats.records }, codes: { ...loaded.stats.codes } };
  let partialSent: Promise<void> = Promise.resolve();
  // Your models: always candidates, at head.count + i.
  const local = await tieredLocal(loaded);
  const { count } = loaded.head;
  const modelCount = count + (local?.ids.length ?? 0);
  const ranking = await rankTiered(
    { head: loaded.head, calibration: loaded.calibration, nullText: loaded.nullText, idOf: loaded.idOf, ...(local ? { local } : {}) },
    req as RankQuery<Blob>,
    async (part) => {
      const e0 = performance.now();
      const embedding = await embed(part);
      encodeMs += performance.now() - e0;
      await checkpoint(call, 'before-score');
      return embedding;
    },
    {
      candidates: req.candidates,
      shortlist: req.shortlist,
      fetchBlocks: loaded.fetchBlocks,
      cache: loaded.cache,
      fetchCodeBlocks: loaded.fetchCodeBlocks,
      codeCache: loaded.codeCache,
      scorer: loaded.scorer(),
      // The prefilter's cards need their metadata shards: fetched alongside the records, not before them.
      onPrefilter: (prefilter) => {
        prefilterMs = performance.now() - t0 - encodeMs;
        if (!onPartial) return;
        // The page's callback is a comlink proxy on its own port: awaiting its answer keeps the
        // partial ranking from overtaking the final one on the way back.
        partialSent = loaded.meta(prefilter.map((r) => r.index)).then(async (metas) => {
          if (call.cancelled) return;
          await onPartial({
            backend: runtime.backend,
            method: req.parts.some((p) => p.part.kind === 'model') ? 'first-moment' : req.method && req.method !== 'auto' ? req.method : 'gaussian',
            encodeMs,
            scoreMs: prefilterMs,
            results: prefilter.map((r, i) => ({ rank: i + 1, index: r.index, score: NaN, contentScore: NaN, nearestThumbnail: -1, model: metas[i]! })),
            scores: new Float32Array(0),
            matched: modelCount,
            facets: {},
            hybrid: false,
            match: { kind: 'ok', best: NaN },
            refining: true,
          });
        });
        // Handled here too: a search whose rerank fails first must not leave this rejection unobserved.
        partialSent.catch(() => {});
      },
    },
  );
  // The partial answer goes out before the final one (or fails the search with its own error).
  await partialSent;
  counts.scorings++;
  await checkpoint(call, 'before-return');
  // Metadata: the index's models from their shards, yours from their records.
  const shown = [...ranking.results.map((r) => r.index), ...(ranking.queryModel >= 0 ? [ranking.queryModel] : [])];
  const indexMetas = await loaded.meta(shown.filter((m) => m < count));
  let next = 0;
  const metas = shown.map((m) => (m < count ? indexMetas[next++]! : local!.models[m - count]!));
  const records = countsSince(before.records, loaded.stats.records);
  const codes = countsSince(before.codes, loaded.stats.codes);
  // Every model's score for the plot and the strength words: the exact score of each candidate, the
  // prefilter's estimate (same units for Gaussian density and the cosine) for the rest; on a
  // sign-coded head NaN for the models outside the sign shortlist (never scored).
  const scores = ranking.prefilterScores;
  for (const c of ranking.candidates) scores[c.index] = c.score;
  const totalMs = performance.now() - t0;
  const own = ranking.queryModel >= 0 ? metas[metas.length - 1]! : undefined;
  return {
    backend: runtime.backend,
    method: ranking.method,
    encodeMs,
    scoreMs: totalMs - encodeMs,
    results: ranking.results.map((r, i) => ({ rank: i + 1, index: r.index, score: r.score, contentScore: r.score, nearestThumbnail: -1, model: metas[i]!, ...(r.index >= count ? { local: true } : {}) })),
    modelCount,
    scores,
    matched: modelCount,
    facets: {},
    hybrid: false,
    match: ranking.match,
    queryModel: own ? { id: own.id, name: own.name, index: ranking.queryModel } : undefined,
    tiered: {
      candidates: ranking.candidates.length,
      blocksFetched: records.fetched,
      requests: records.requests,
      bytesFetched: records.bytes,
      blocksFromStorage: records.fromStorage,
      source: loaded.source(),
      engine: loaded.engine().engine,
      prefilterMs,
      exactMs: totalMs - encodeMs - prefilterMs,
      ...(ranking.signStage
        ? {
            signStage: {
              shortlist: ranking.signStage.shortlist,
              codeBlocksFetched: codes.fetched,
              codeRequests: codes.requests,
              codeBytesFetched: codes.bytes,
              codeBlocksFromStorage: codes.fromStorage,
            },
          }
        : {}),
    },
  };
}

/** Ranks `req`, stopping at the first checkpoint after the page cancels it (see `cancel`). */
async function runSearch(req: SearchRequest, call: { cancelled: boolean }, onPartial?: (r: SearchResponse) => void | Promise<void>): Promise<SearchResponse> {
  const [loaded, runtime] = await Promise.all([getIndex(), getRuntime()]);
  await checkpoint(call, 'before-encode');
  await checkLocalModelQuery(loaded, req);
  if (isTiered(loaded)) return runTieredSearch(loaded, runtime, req, call, onPartial);
  const t0 = performance.now();
  let encodeMs = 0;
  // Time spent yielding at the checkpoint between encoding and scoring: neither encoding nor scoring.
  let yieldMs = 0;
  const embed = embedPart(runtime, call);
  const target = await rankableFor(loaded);
  const ranking = await rank(target, req, async (part) => {
    const e0 = performance.now();
    // Cancelled while waiting for its turn (or a later part of a cancelled text + image query): never encoded.
    const embedding = await embed(part);
    const e1 = performance.now();
    encodeMs += e1 - e0;
    await checkpoint(call, 'before-score');
    yieldMs += performance.now() - e1;
    return embedding;
  });
  counts.scorings++;
  const scoreMs = performance.now() - t0 - encodeMs - yieldMs;
  await checkpoint(call, 'before-return');
  const { models, baseCount } = target;
  return {
    backend: runtime.backend,
    method: ranking.method,
    encodeMs,
    scoreMs,
    results: ranking.results.map((r) => ({ ...r, model: models[r.index], ...(r.index >= baseCount ? { local: true } : {}) })),
    modelCount: target.index.count,
    scores: ranking.scores,
    matched: ranking.matched,
    facets: ranking.facets,
    hybrid: ranking.hybrid,
    match: ranking.match,
    queryModel: ranking.queryModel >= 0 ? { id: models[ranking.queryModel].id, name: models[ranking.queryModel].name, index: ranking.queryModel } : undefined,
  };
}

const api = {
  /** Sets where the index and models live. Calling it again with a new config starts over. */
  configure(next: WorkerConfig, onProgress?: Progress): void {
    if (JSON.stringify(next) !== JSON.stringify(config)) {
      indexLoad = undefined;
      settledIndex = undefined;
      runtimePromise = undefined;
      backendPromise = undefined;
      localRecords = undefined;
    }
    config = next;
    if (onProgress) progress = onProgress;
  },

  /**
   * Loads index, onnxruntime-web, tokenizer and text encoder (once, all at the same time) and warms
   * the encoder up: text queries can run from here; the image tower follows.
   */
  async ready(): Promise<ReadyInfo> {
    const t0 = performance.now();
    // Your models' storage opens alongside the index (its probe can wait seconds where IndexedDB hangs).
    void getLocalRecords();
    const warmRuntime = getRuntime().then(async (runtime) => {
      await runtime.ready();
      return runtime;
    });
    const [index, runtime] = await Promise.all([getIndex(), warmRuntime, getOrtRuntime()]);
    progress({ status: 'ready', backend: runtime.backend, reason: runtime.backendReason });
    if (isTiered(index)) {
      // Your models join before the first search (a ?like=<your model> link needs them).
      const counts = await rankedCounts(index);
      return {
        backend: runtime.backend,
        backendReason: runtime.backendReason,
        encoderId: runtime.desc.id,
        encoderLabel: runtime.desc.label,
        indexName: index.manifest.name,
        ...counts,
        methods: [...TIERED_METHODS],
        params: index.manifest.params,
        examples: index.manifest.examples ?? [],
        temperature: index.temperature,
        wasmThreads: WASM_THREADS,
        loadMs: performance.now() - t0,
        tiered: {
          candidates: DEFAULT_CANDIDATES,
          blocks: index.head.blocks.length,
          headBytes: index.manifest.files['head.bin'].bytes,
          ...(index.head.codeBlocks ? { shortlist: Math.min(DEFAULT_SHORTLIST, index.head.count) } : {}),
        },
        thumbnailBase: index.manifest.thumbnailBase,
      };
    }
    // Your models join before the first search (a ?like=<your model> link needs them).
    const target = await rankableFor(index);
    const counts = await rankedCounts(index);
    // Copy the Gaussian factors into the WASM kernel now, not on the first query.
    const g = target.index.gaussian;
    if (g) gaussianKernelFor(g, target.index.dim, target.index.count);
    return {
      backend: runtime.backend,
      backendReason: runtime.backendReason,
      encoderId: runtime.desc.id,
      encoderLabel: runtime.desc.label,
      indexName: index.manifest.name,
      ...counts,
      methods: supportedMethods(target.index),
      params: index.manifest.params,
      examples: index.manifest.examples ?? [],
      temperature: index.temperature,
      wasmThreads: WASM_THREADS,
      loadMs: performance.now() - t0,
    };
  },

  /** CLIP text embedding (unit length) of `text` with the index's encoder. */
  async encodeText(text: string): Promise<{ encoderId: string; embedding: Float32Array; backend: Backend }> {
    const runtime = await getRuntime();
    const embedding = await runtime.encodeText(text);
    return transfer({ encoderId: runtime.desc.id, embedding, backend: runtime.backend }, [embedding.buffer]);
  },

  /**
   * Ranks the models for `req`. With a `callId`, the page can `cancel` the call: it stops before
   * encoding, between encoding and scoring, or before answering, with an 'aborted' outcome.
   */
  async search(req: SearchRequest, callId?: number, onPartial?: (r: SearchResponse) => void | Promise<void>): Promise<SearchOutcome> {
    counts.searches++;
    const call = { cancelled: false };
    if (callId !== undefined) calls.set(callId, call);
    try {
      const response = await runSearch(req, call, onPartial);
      return transfer({ status: 'done', response }, [response.scores.buffer]);
    } catch (err) {
      if (!(err instanceof Cancelled)) throw err;
      counts.aborted[err.stage]++;
      return { status: 'aborted', stage: err.stage };
    } finally {
      if (callId !== undefined) calls.delete(callId);
    }
  },

  /** The page no longer wants call `callId`'s result (a newer query replaced it). */
  cancel(callId: number): void {
    const call = calls.get(callId);
    if (call) call.cancelled = true;
  },

  /** Diagnostics: what this worker has done (tests prove that superseded queries were not encoded or scored). */
  counts(): WorkerCounts {
    return structuredClone(counts);
  },

  /** Diagnostics: searches wait at `stage` until `holdAt(null)` (tests cancel a search there). */
  holdAt(stage: AbortStage | null): void {
    hold?.release();
    hold = undefined;
    if (!stage) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    hold = { stage, released, release };
  },

  /** Embeds an image file with the index's encoder (used by tests to compare with the Node path). */
  async encodeImage(image: Blob): Promise<{ encoderId: string; embedding: Float32Array; backend: Backend }> {
    const runtime = await getRuntime();
    const embedding = await runtime.encodeImage(await decodeImage(image));
    return transfer({ encoderId: runtime.desc.id, embedding, backend: runtime.backend }, [embedding.buffer]);
  },

  /** Diagnostics: the CLIP pixel tensor the worker feeds the vision tower for an image file. */
  async preprocessImage(image: Blob): Promise<Float32Array> {
    const runtime = await getRuntime();
    const pixels = preprocessRgba(await decodeImage(image), runtime.desc.image);
    return transfer(pixels, [pixels.buffer]);
  },

  /**
   * Adds one of the visitor's own models from image files: embeds them (one per turn, so searches
   * interleave), computes the index's statistics and keeps the entry in IndexedDB in one transaction.
   * Cancel with `cancel(callId)`: nothing is saved.
   */
  async addLocalModel(input: AddModelInput, callId?: number, onProgress?: (p: AddModelProgress) => void): Promise<AddModelOutcome> {
    if (!localEnabled()) throw new AppError('bad-query', 'Your own models are off here.');
    const call = { cancelled: false };
    if (callId !== undefined) calls.set(callId, call);
    // A progress event is never awaited (the page's proxy may be gone): adding goes on.
    const send = (p: AddModelProgress) => void Promise.resolve(onProgress?.(p)).catch(() => {});
    const forward: Progress = (p) => send({ stage: 'load', progress: p });
    addListeners.add(forward);
    try {
      const [loaded, runtime, store, records] = await Promise.all([getIndex(), getRuntime(), getLocalStore(), getLocalRecords()]);
      const result = await addModel(input, {
        encoder: { id: runtime.desc.id, dim: runtime.desc.dim },
        decode: decodeImage,
        embed: (image) =>
          oneAtATime(() => {
            if (call.cancelled) throw new Cancelled('before-encode');
            counts.encodes++;
            return runtime.encodeImage(image);
          }),
        thumbnail: makeThumbnail,
        indexHas: (id) => (isTiered(loaded) ? loaded.idOf(id) !== undefined : loaded.ids.has(id)),
        existing: records.entries.map((r) => r.entry),
        damagedKeys: records.damaged.map((d) => d.key),
        save: (record) => store.save(record),
        cancelled: () => call.cancelled,
        onProgress: send,
        hold: (stage) => (addHold?.stage === stage ? addHold.released : Promise.resolve()),
      });
      if (result.status === 'aborted') return result;
      if (result.status === 'refused') return result;
      localChanged(true);
      const { models } = await localSummaries(loaded, true);
      // Saved: if reading the list back fails (or another tab removed it at once), answer from the record itself.
      const model = models.find((m) => m.id === result.record.entry.id) ?? summary(result.record, { shadowed: false, sessionOnly: store.sessionOnly });
      return transfer({ status: 'saved', model, skipped: result.skipped }, model.thumbnails.map((t) => t.bytes));
    } catch (err) {
      if (err instanceof Cancelled) return { status: 'aborted' };
      throw err;
    } finally {
      addListeners.delete(forward);
      if (callId !== undefined) calls.delete(callId);
    }
  },

  /** How many models searches rank now: the index's and those of yours that join it (after you add or remove one). */
  async modelCount(): Promise<{ modelCount: number; localModels: number }> {
    return rankedCounts(await getIndex());
  },

  /** The visitor's own models, with thumbnails (transferred), and whether each is ranked with the loaded index. */
  async listLocalModels(): Promise<LocalModelSummary[]> {
    if (!localEnabled()) return [];
    const loaded = await getIndex().catch(() => undefined);
    return transferSummaries((await localSummaries(loaded, true)).models);
  },

  /** Your saved models' damaged records (left out of searches, kept until removed under Offline storage): key and why. */
  async damagedLocalModels(): Promise<{ key: string; reason: string }[]> {
    return (await getLocalRecords()).damaged;
  },

  /** Renames or re-describes one of your models; returns it as it is now. */
  async updateLocalModel(id: string, edit: LocalModelEdit): Promise<LocalModelSummary> {
    if (!localEnabled()) throw new AppError('bad-query', 'Your own models are off here.');
    const clean: LocalModelEdit = {};
    for (const k of ['name', 'description', 'licence'] as const) {
      const v = edit?.[k];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw new AppError('bad-query', `The ${k} must be text.`);
      clean[k] = k === 'description' ? v.trim() : v.trim() || undefined;
    }
    const over = metadataOverLimit(clean);
    if (over) throw new AppError('bad-query', `The ${over.replace(/ of /, ' is ')}: shorten it.`);
    await localRecord(id);
    const store = await getLocalStore();
    const updated = await store.update(id, Object.fromEntries(Object.entries(clean).filter(([, v]) => v !== undefined)));
    if (!updated) throw new AppError('bad-query', `There is no model “${String(id).slice(0, 140)}” among your models.`);
    localChanged(true);
    const loaded = await getIndex().catch(() => undefined);
    const model = (await localSummaries(loaded, true)).models.find((m) => m.id === id);
    if (!model) throw new AppError('bad-query', `“${updated.meta.name.slice(0, 140)}” was renamed, but it is no longer among your models (removed in another tab, or storage could not be read back).`);
    return transferSummaries(model);
  },

  /** Removes one of your models (from every tab's searches). */
  async removeLocalModel(id: string): Promise<void> {
    if (!localEnabled()) throw new AppError('bad-query', 'Your own models are off here.');
    await localRecord(id);
    await (await getLocalStore()).remove(id);
    localChanged(true);
  },

  /** Your models `ids` as an index shard (.tar that `npm run build-index -- merge` accepts) or JSON. */
  async exportLocalModels(ids: string[], as: 'shard' | 'json'): Promise<ExportedFile> {
    if (!Array.isArray(ids) || !ids.length) throw new AppError('bad-query', 'Choose at least one of your models to export.');
    const records = await Promise.all(ids.map((id) => localRecord(id)));
    const loaded = as === 'shard' ? await getIndex() : undefined;
    const basis = loaded && isTiered(loaded) ? { kind: 'tiered' as const, manifest: loaded.manifest, signCoded: !!loaded.head.codeBlocks } : loaded;
    const file = await exportFile(records, as, basis);
    return transfer({ fileName: file.fileName, mime: file.mime, bytes: file.bytes.buffer }, [file.bytes.buffer]);
  },

  /** Diagnostics: what one of your models was made from (images in order, their unit embeddings). */
  async localModelSource(id: string): Promise<LocalModelSource> {
    const r = await localRecord(id);
    const embeddings = new Float32Array(r.data.embeddings.slice(0));
    return transfer({ images: r.entry.images.map((i) => ({ ...i })), embeddings, dim: r.entry.encoder.dim, encoder: { ...r.entry.encoder } }, [embeddings.buffer]);
  },

  /** Diagnostics: adds wait at `stage` until `holdAdd(null)` (tests close the tab or cancel there). */
  holdAdd(stage: AddModelHoldStage | null): void {
    addHold?.release();
    addHold = undefined;
    if (!stage) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    addHold = { stage, released, release };
  },

  /** What offline storage holds, with the browser's usage estimate when it gives one. */
  storageInfo(): Promise<StorageInfo> {
    return storageInfo();
  },

  /**
   * Deletes your saved models' damaged records (the storage panel lists them; the visitor confirmed):
   * they never rank, and a damaged record would keep its id taken. Returns the state after.
   */
  async removeDamagedLocalModels(): Promise<StorageInfo> {
    if (!localEnabled()) throw new AppError('bad-query', 'Your own models are off here.');
    const removed = await (await getLocalStore()).removeDamaged();
    if (removed.length) localChanged(true);
    return storageInfo();
  },

  /** Deletes every saved file (what is loaded now stays in use); returns the emptied state. */
  async clearStorage(): Promise<StorageInfo> {
    const store = await getStore();
    await store?.clear();
    if (store) storageNotice = undefined;
    return storageInfo();
  },

  /**
   * Diagnostics: a tiered index's scores on the GPU even on a software adapter (tests check the WGSL
   * kernels inside the app on SwiftShader this way); `lose` then destroys that device.
   */
  async gpuScoring(action: 'force' | 'lose'): Promise<{ engine: string; reason?: string; lost?: boolean }> {
    const index = await getIndex();
    if (!isTiered(index)) throw new AppError('bad-query', 'GPU scoring applies to a tiered (version 2) index.');
    if (action === 'lose') return { ...index.engine(), lost: index.loseGpu() };
    return index.useGpu({ force: true });
  },

  /** Diagnostics: simulate a lost GPU device (driver reset); the next query falls back to WASM. */
  async loseDevice(): Promise<boolean> {
    const runtime = await getRuntime();
    return runtime.loseDevice();
  },

  /** Diagnostics: throw outside any call, as a crash would (the page's bridge sees the worker's error event). */
  async crash(): Promise<void> {
    setTimeout(() => {
      throw new Error('simulated crash');
    });
  },

  /** Diagnostics: stop answering anything (a busy loop), as a stuck worker would; only terminate() ends it. */
  async hang(): Promise<void> {
    setTimeout(() => {
      for (;;) {
        // spin
      }
    });
  },
};

export type SearchWorkerApi = typeof api;

expose(api);
