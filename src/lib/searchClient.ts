import { proxy, wrap, type Remote } from 'comlink';
import type { SearchWorkerApi } from '../../workers/search.worker.ts';
import type { LoadProgress, ReadyInfo, SearchRequest, SearchResponse, StorageInfo, WorkerConfig } from '../shared/protocol.ts';
import { installErrorTransfer } from '../shared/comlinkErrors.ts';

installErrorTransfer();

let remote: Remote<SearchWorkerApi> | undefined;

/** One worker for the whole app, started lazily on first use. */
function worker(): Remote<SearchWorkerApi> {
  remote ??= wrap<SearchWorkerApi>(
    new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module', name: 'search' }),
  );
  return remote;
}

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

/**
 * The typed bridge the UI uses. Aborting a call drops its result here; the worker finishes the
 * computation anyway (terminating it would throw away the loaded encoder and GPU session).
 */
export const searchClient = {
  async start(config: WorkerConfig, onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<ReadyInfo> {
    const w = worker();
    await w.configure(config, proxy(onProgress));
    return abortable(w.ready(), signal);
  },
  search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse> {
    return abortable(worker().search(request), signal);
  },
  loseDevice(): Promise<boolean> {
    return worker().loseDevice();
  },
  /** The image embedding the worker computes (diagnostics and cross-checks with the Node tools). */
  async encodeImage(image: Blob): Promise<Float32Array> {
    return (await worker().encodeImage(image)).embedding;
  },
  preprocessImage(image: Blob): Promise<Float32Array> {
    return worker().preprocessImage(image);
  },
  /** What offline storage holds (files, totals, the browser's usage estimate). */
  storageInfo(): Promise<StorageInfo> {
    return worker().storageInfo();
  },
  /** Deletes every saved file; resolves to the emptied state. */
  clearStorage(): Promise<StorageInfo> {
    return worker().clearStorage();
  },
};

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
