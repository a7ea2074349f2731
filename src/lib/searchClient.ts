import { proxy, wrap, type Remote } from 'comlink';
import type { SearchWorkerApi } from '../../workers/search.worker.ts';
import { AppError } from '../core/io/errors.ts';
import type { LoadProgress, ReadyInfo, SearchRequest, SearchResponse, StorageInfo, WorkerConfig } from '../shared/protocol.ts';
import { installErrorTransfer } from '../shared/comlinkErrors.ts';

installErrorTransfer();

/** What the bridge needs of a Worker (a test passes a stand-in over a MessageChannel). */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  terminate(): void;
}

export interface Deadlines {
  /** A search (encode + score) that takes longer than this is taken for a stuck worker. */
  callMs: number;
  /** Loading may take minutes on a slow network, but not this long without any progress event. */
  stallMs: number;
}

export const DEADLINES: Deadlines = { callMs: 120_000, stallMs: 120_000 };

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
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
}

/**
 * The typed bridge the UI uses, over one search worker that can fail. The worker's `error` event
 * (its script did not load, or it threw outside a call) and a call past its deadline end it: every
 * pending call rejects with a 'worker' error a person can retry, the worker is terminated, and the
 * next call starts a new one and loads the index again with the last configuration. Aborting a call
 * drops its result here; the worker finishes the computation (terminating it would throw away the
 * loaded encoder and GPU session).
 */
export function createSearchClient(makeWorker: () => WorkerLike, deadlines: Deadlines = DEADLINES) {
  let live: Live | undefined;
  /** Workers started so far (diagnostics: a crash shows as a second start). */
  let starts = 0;
  let last: { config: WorkerConfig; onProgress: (p: LoadProgress) => void } | undefined;

  function connect(): Live {
    const worker = makeWorker();
    starts++;
    let fail!: (err: AppError) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => {}); // observed through races; never an unhandled rejection
    const l: Live = { worker, remote: wrap<SearchWorkerApi>(worker), failed, fail, ready: false };
    const onError = (e: Event) => {
      e.preventDefault?.();
      const detail = (e as ErrorEvent).message ? `: ${(e as ErrorEvent).message}` : '';
      end(l, l.ready
        ? new AppError('worker', `The search engine stopped unexpectedly${detail}. Retry starts it again.`)
        : new AppError('worker', `The search engine could not start${detail || ' (its script did not load)'}. Reload the page; if that does not help, the site may be updating.`));
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
    const late = deadline(l, ms, `The search engine did not answer ${what} within ${Math.round(ms / 1000)} s. Retry starts it again.`);
    return Promise.race([call, l.failed, late.expired]).finally(late.clear);
  }

  /** Loads index and encoder in `l`, failing when no progress comes for deadlines.stallMs. */
  async function load(l: Live, config: WorkerConfig, onProgress: (p: LoadProgress) => void): Promise<ReadyInfo> {
    const stall = deadline(l, deadlines.stallMs, `Loading stopped: nothing arrived for ${Math.round(deadlines.stallMs / 1000)} s. Retry starts again.`);
    const progress = (p: LoadProgress) => {
      stall.arm();
      onProgress(p);
    };
    try {
      const info = await Promise.race([l.remote.configure(config, proxy(progress)).then(() => l.remote.ready()), l.failed, stall.expired]);
      l.ready = true;
      return info;
    } finally {
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

  return {
    /** How many workers this client has started (1 until one fails). */
    get workerStarts(): number {
      return starts;
    },
    async start(config: WorkerConfig, onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<ReadyInfo> {
      last = { config, onProgress };
      const l = live ?? connect();
      return abortable(load(l, config, onProgress), signal);
    },
    async search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
      const l = await abortable(loaded(), signal);
      return abortable(guarded(l, l.remote.search(request), deadlines.callMs, 'a search'), signal);
    },
    loseDevice(): Promise<boolean> {
      return call((r) => r.loseDevice(), 'a device reset');
    },
    /** Diagnostics: makes the worker throw outside any call (its `error` event), as a crash would. */
    crash(): Promise<void> {
      return call((r) => r.crash(), 'a crash request');
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
  };
}

export type SearchClient = ReturnType<typeof createSearchClient>;

/** One worker for the whole app, started lazily on first use. */
export const searchClient: SearchClient = createSearchClient(
  () => new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: 'search' }),
);

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
