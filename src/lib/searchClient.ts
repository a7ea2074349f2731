import { proxy, wrap, type Remote } from 'comlink';
import type { SearchWorkerApi } from '../../workers/search.worker.ts';
import { AppError } from '../core/io/errors.ts';
import type {
  AbortStage,
  AddModelHoldStage,
  AddModelInput,
  AddModelOutcome,
  AddModelProgress,
  ExportedFile,
  LoadProgress,
  LocalModelEdit,
  LocalModelSource,
  LocalModelSummary,
  ReadyInfo,
  SearchOutcome,
  SearchRequest,
  SearchResponse,
  StorageInfo,
  WorkerConfig,
  WorkerCounts,
} from '../shared/protocol.ts';
import { installErrorTransfer } from '../shared/comlinkErrors.ts';

installErrorTransfer();

/** What the bridge needs of a Worker (a test passes a stand-in over a MessageChannel). */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  dispatchEvent(event: Event): boolean;
  terminate(): void;
}

export interface Deadlines {
  /** A search (encode + score) that takes longer than this is taken for a stuck worker. */
  callMs: number;
  /** Loading may take minutes on a slow network, but not this long without any progress event. */
  stallMs: number;
}

export const DEADLINES: Deadlines = { callMs: 120_000, stallMs: 120_000 };

/** What a cancelled call rejects with when its signal gave no reason: an AbortError (not a failure). */
function abortError(signal?: AbortSignal): unknown {
  return signal?.aborted && signal.reason !== undefined ? signal.reason : new DOMException('The search was cancelled.', 'AbortError');
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** One running worker: its remote, and a promise that rejects when it fails (never resolves). */
interface Live {
  worker: WorkerLike;
  remote: Remote<SearchWorkerApi>;
  failed: Promise<never>;
  fail: (err: AppError) => void;
  ready: boolean;
  /** The load in progress or done, with its configuration: callers that ask for the same one share it. */
  loading?: { config: WorkerConfig; info: Promise<ReadyInfo> };
  /**
   * Called on every load progress event, also after ready (the image encoder downloads in the
   * background or for the first image): a running add re-arms its deadline with it.
   */
  onLoadProgress: Set<() => void>;
}

/**
 * The typed bridge the UI uses, over one search worker that can fail. The worker's `error` event
 * (its script did not load, or it threw outside a call) and a call past its deadline end it: every
 * pending call rejects with a 'worker' error a person can retry, the worker is terminated, and the
 * next call starts a new one and loads the index again with the last configuration.
 *
 * Aborting a search rejects it at once with an AbortError (cancellation is not a failure). One
 * aborted before it was sent (the worker was still loading) is never sent; one in the worker is
 * cancelled there by call id (an AbortSignal cannot cross postMessage): the worker stops before
 * encoding, between encoding and scoring, or before answering, so a superseded query costs at most
 * the encode it had started. The worker is not terminated for that: it would throw away the loaded
 * encoder and GPU session.
 */
export function createSearchClient(makeWorker: () => WorkerLike, deadlines: Deadlines = { ...DEADLINES }) {
  let live: Live | undefined;
  /** Workers started so far (diagnostics: a crash shows as a second start). */
  let starts = 0;
  let last: { config: WorkerConfig; onProgress: (p: LoadProgress) => void } | undefined;
  /** Ids the worker knows search calls by (for `cancel`). */
  let nextCallId = 1;
  /** Searches handed to a worker so far (diagnostics: one aborted before it was sent is not). */
  let sent = 0;

  function connect(): Live {
    const worker = makeWorker();
    starts++;
    let fail!: (err: AppError) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => {}); // observed through races; never an unhandled rejection
    const l: Live = { worker, remote: wrap<SearchWorkerApi>(worker), failed, fail, ready: false, onLoadProgress: new Set() };
    const onError = (e: Event) => {
      e.preventDefault?.();
      const unreadable = e.type === 'messageerror';
      // The browser's own words (often "Uncaught TypeError: …") are for bug reports, not for the banner.
      const detail = (e as ErrorEvent).message;
      if (detail) console.error(`The search worker failed: ${detail}`);
      // An error event with no message before the worker was ready: its script did not load.
      const ran = l.ready || unreadable || !!detail;
      end(l, ran
        ? new AppError('worker', `The search engine stopped unexpectedly${unreadable ? ' (a message from it could not be read)' : ''}. Retry starts it again.`)
        : new AppError('worker', 'The search engine could not start (its script did not load). Reload the page; if that does not help, the site may be updating.'));
    };
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onError);
    live = l;
    return l;
  }

  function end(l: Live, err: AppError): void {
    l.fail(err);
    l.worker.terminate();
    if (live === l) live = undefined;
  }

  /**
   * A timer that ends `l` with a 'worker' error when it runs out: `expired` rejects with that error,
   * `arm` (re)starts it, `clear` stops it.
   */
  function deadline(l: Live, ms: number, message: string) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reject!: (err: AppError) => void;
    const expired = new Promise<never>((_, r) => (reject = r));
    const clear = () => clearTimeout(timer);
    const arm = () => {
      clear();
      timer = setTimeout(() => {
        const err = new AppError('worker', message);
        end(l, err);
        reject(err);
      }, ms);
    };
    arm();
    return { expired, arm, clear };
  }

  /** Races a call against the worker failing and its deadline (which ends the worker). */
  function guarded<T>(l: Live, call: Promise<T>, ms: number, what: string): Promise<T> {
    const late = deadline(l, ms, `The search engine did not answer ${what} within ${seconds(ms)}. Retry starts it again.`);
    return Promise.race([call, l.failed, late.expired]).finally(late.clear);
  }

  /**
   * Loads index and encoder in `l` once per configuration (searches that wait for a restarted worker
   * share its load); a failed load is tried again by the next caller.
   */
  function load(l: Live, config: WorkerConfig, onProgress: (p: LoadProgress) => void): Promise<ReadyInfo> {
    if (l.loading?.config === config) return l.loading.info;
    const info = loadNow(l, config, onProgress);
    l.loading = { config, info };
    info.catch(() => {
      if (l.loading?.info === info) l.loading = undefined;
    });
    return info;
  }

  /** Loads index and encoder in `l`, failing when no progress comes for deadlines.stallMs. */
  async function loadNow(l: Live, config: WorkerConfig, onProgress: (p: LoadProgress) => void): Promise<ReadyInfo> {
    const stall = deadline(l, deadlines.stallMs, `Loading stopped: nothing arrived for ${seconds(deadlines.stallMs)}. Retry starts again.`);
    let settled = false;
    const progress = (p: LoadProgress) => {
      // Events after the load settled (the image encoder in the background) must not re-arm its stall timer.
      if (!settled) stall.arm();
      for (const f of l.onLoadProgress) f();
      onProgress(p);
    };
    try {
      const info = await Promise.race([l.remote.configure(config, proxy(progress)).then(() => l.remote.ready()), l.failed, stall.expired]);
      l.ready = true;
      return info;
    } finally {
      settled = true;
      stall.clear();
    }
  }

  /** The live, loaded worker: a new one (loaded with the last configuration) after a failure. */
  async function loaded(): Promise<Live> {
    if (live?.ready) return live;
    if (!last) throw new AppError('worker', 'The search engine has not been started.');
    const l = live ?? connect();
    await load(l, last.config, last.onProgress);
    return l;
  }

  /** Any other call: on the live worker (not restarted for it), with the call deadline. */
  function call<T>(fn: (r: Remote<SearchWorkerApi>) => Promise<T>, what: string): Promise<T> {
    const l = live ?? connect();
    return guarded(l, fn(l.remote), deadlines.callMs, what);
  }

  /**
   * One search in the worker, sent with a call id; the worker is told to cancel it when `signal`
   * aborts. Settles when the worker has answered or failed (an aborted caller was told at once; see
   * `search`).
   */
  async function searchInWorker(request: SearchRequest, signal: AbortSignal | undefined, onPartial?: (r: SearchResponse) => void): Promise<SearchResponse> {
    const l = await loaded();
    // Aborted while the worker was (re)loading: never sent, never encoded.
    if (signal?.aborted) throw abortError(signal);
    const id = nextCallId++;
    // The cancel message reaches the worker at its next checkpoint (it yields before encoding, between
    // encoding and scoring, and before answering).
    const cancel = () => void l.remote.cancel(id).catch(() => {});
    signal?.addEventListener('abort', cancel, { once: true });
    sent++;
    try {
      // A tiered index's prefilter ranking arrives before the answer; a cancelled call's never lands.
      const partial = onPartial && proxy((r: SearchResponse) => {
        if (!signal?.aborted) onPartial(r);
      });
      const outcome = await guarded<SearchOutcome>(l, l.remote.search(request, id, partial), deadlines.callMs, 'a search');
      if (outcome.status === 'aborted') throw abortError(signal);
      return outcome.response;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /**
   * Adds one of the visitor's models in the loaded worker. It can take minutes (one image embedded
   * per event), so its deadline is armed again on each progress event, as loading's is: the worker
   * is taken for stuck only when callMs pass with no event. Aborting `signal` sends a cancel for its
   * call id; the worker then saves nothing and answers 'aborted'.
   */
  async function addInWorker(input: AddModelInput, signal: AbortSignal | undefined, onProgress?: (p: AddModelProgress) => void): Promise<AddModelOutcome> {
    const l = await loaded();
    if (signal?.aborted) return { status: 'aborted' };
    const id = nextCallId++;
    const cancel = () => void l.remote.cancel(id).catch(() => {});
    signal?.addEventListener('abort', cancel, { once: true });
    const late = deadline(l, deadlines.callMs, `The search engine stopped answering while adding your model: nothing arrived for ${seconds(deadlines.callMs)}. Nothing was saved; retry starts it again.`);
    const progress = proxy((p: AddModelProgress) => {
      late.arm();
      if (!signal?.aborted) onProgress?.(p);
    });
    // The image encoder's first download reports through the load's progress: it keeps the add alive too.
    l.onLoadProgress.add(late.arm);
    try {
      return await Promise.race([l.remote.addLocalModel(input, id, progress), l.failed, late.expired]);
    } finally {
      l.onLoadProgress.delete(late.arm);
      late.clear();
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** A call that needs the loaded index (the worker derives local models' statistics for it). */
  async function callLoaded<T>(fn: (r: Remote<SearchWorkerApi>) => Promise<T>, what: string): Promise<T> {
    const l = await loaded();
    return guarded(l, fn(l.remote), deadlines.callMs, what);
  }

  return {
    /** How many workers this client has started (1 until one fails). */
    get workerStarts(): number {
      return starts;
    },
    /** How many searches were handed to a worker (one aborted before it was sent is not). */
    get searchesSent(): number {
      return sent;
    },
    /** Tests and ?debug: shorter deadlines for calls started from now on (a stuck worker fails in seconds). */
    setDeadlines(next: Partial<Deadlines>): void {
      for (const key of ['callMs', 'stallMs'] as const) {
        const ms = next[key];
        if (ms === undefined) continue;
        if (!(Number.isFinite(ms) && ms > 0)) throw new AppError('bad-query', `The ${key} deadline must be a positive number of milliseconds.`);
        deadlines[key] = ms;
      }
    },
    async start(config: WorkerConfig, onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<ReadyInfo> {
      last = { config, onProgress };
      const l = live ?? connect();
      return abortable(load(l, config, onProgress), signal);
    },
    /**
     * Ranks the models for `request` in the worker. Aborting `signal` rejects at once with an
     * AbortError and cancels the work in the worker (see createSearchClient).
     */
    search(request: SearchRequest, signal?: AbortSignal, onPartial?: (r: SearchResponse) => void): Promise<SearchResponse> {
      return abortable(searchInWorker(request, signal, onPartial), signal);
    },
    /** Diagnostics: a tiered index's scoring on the GPU even on a software adapter ('force'), or that device destroyed ('lose'). */
    gpuScoring(action: 'force' | 'lose'): Promise<{ engine: string; reason?: string; lost?: boolean }> {
      return call((r) => r.gpuScoring(action), 'a diagnostics request');
    },
    loseDevice(): Promise<boolean> {
      return call((r) => r.loseDevice(), 'a device reset');
    },
    /** Diagnostics: makes the worker throw outside any call (its `error` event), as a crash would. */
    crash(): Promise<void> {
      return call((r) => r.crash(), 'a crash request');
    },
    /** Diagnostics: makes the worker stop answering (a busy loop); the next call's deadline ends it. */
    hang(): Promise<void> {
      return call((r) => r.hang(), 'a hang request');
    },
    /** Diagnostics: the worker's `messageerror` event, as when a message from it cannot be deserialised. */
    breakMessages(): void {
      live?.worker.dispatchEvent(new MessageEvent('messageerror'));
    },
    /** Diagnostics: what the current worker has encoded and scored (a new worker counts from zero). */
    workerCounts(): Promise<WorkerCounts> {
      return call((r) => r.counts(), 'a diagnostics request');
    },
    /** Diagnostics: searches wait in the worker at `stage` until `holdAt(null)` (tests cancel them there). */
    holdAt(stage: AbortStage | null): Promise<void> {
      return call((r) => r.holdAt(stage), 'a diagnostics request');
    },
    /** The image embedding the worker computes (diagnostics and cross-checks with the Node tools). */
    async encodeImage(image: Blob): Promise<Float32Array> {
      return (await call((r) => r.encodeImage(image), 'an image')).embedding;
    },
    preprocessImage(image: Blob): Promise<Float32Array> {
      return call((r) => r.preprocessImage(image), 'an image');
    },
    /** What offline storage holds (files, totals, the browser's usage estimate). */
    storageInfo(): Promise<StorageInfo> {
      return call((r) => r.storageInfo(), 'a storage request');
    },
    /** Deletes every saved file; resolves to the emptied state. */
    clearStorage(): Promise<StorageInfo> {
      return call((r) => r.clearStorage(), 'a storage request');
    },
    /** Deletes the damaged records of your saved models (after the visitor confirmed); resolves to the state after. */
    removeDamagedLocalModels(): Promise<StorageInfo> {
      return call((r) => r.removeDamagedLocalModels(), 'a storage request');
    },
    /**
     * Adds one of the visitor's models from image files (see addInWorker). Aborting `signal`
     * resolves with `{status: 'aborted'}` once the worker has stopped (cancelling is not a failure).
     */
    addLocalModel(input: AddModelInput, signal?: AbortSignal, onProgress?: (p: AddModelProgress) => void): Promise<AddModelOutcome> {
      return addInWorker(input, signal, onProgress);
    },
    /** How many models searches rank now (the index's and the visitor's that join it). */
    modelCount(): Promise<{ modelCount: number; localModels: number }> {
      return callLoaded((r) => r.modelCount(), 'a request for the model count');
    },
    /** The visitor's own models, with their thumbnails' bytes. */
    listLocalModels(): Promise<LocalModelSummary[]> {
      return callLoaded((r) => r.listLocalModels(), 'a request for your models');
    },
    /** Your saved models' damaged records (key and why), left out of searches. */
    damagedLocalModels(): Promise<{ key: string; reason: string }[]> {
      return call((r) => r.damagedLocalModels(), 'a request for your models');
    },
    /** Renames or re-describes one of your models; resolves to it as it is now. */
    updateLocalModel(id: string, edit: LocalModelEdit): Promise<LocalModelSummary> {
      return callLoaded((r) => r.updateLocalModel(id, edit), 'a change to your model');
    },
    removeLocalModel(id: string): Promise<void> {
      return callLoaded((r) => r.removeLocalModel(id), 'a removal of your model');
    },
    /** Diagnostics: what one of your models was made from (images in order, their unit embeddings). */
    localModelSource(id: string): Promise<LocalModelSource> {
      return callLoaded((r) => r.localModelSource(id), 'a diagnostics request');
    },
    /** Diagnostics: adds wait in the worker at `stage` until `holdAdd(null)` (tests cancel or close the tab there). */
    holdAdd(stage: AddModelHoldStage | null): Promise<void> {
      return call((r) => r.holdAdd(stage), 'a diagnostics request');
    },
    /** Your models `ids` as an index shard (.tar for `build-index merge`) or as JSON. */
    exportLocalModels(ids: string[], as: 'shard' | 'json'): Promise<ExportedFile> {
      return callLoaded((r) => r.exportLocalModels(ids, as), 'an export of your models');
    },
  };
}

export type SearchClient = ReturnType<typeof createSearchClient>;

/** One worker for the whole app, started lazily on first use. */
export const searchClient: SearchClient = createSearchClient(
  () => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: 'search' }),
);

/** "2 s", or "0.5 s" for the short deadlines of tests. */
function seconds(ms: number): string {
  return `${ms >= 1000 ? Math.round(ms / 1000) : ms / 1000} s`;
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
