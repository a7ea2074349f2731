import { searchClient } from './searchClient.ts';

/**
 * Diagnostics for tests and bug reports, on `window.modelSearchDebug` when the page's address has
 * `?debug` (e2e: search.spec simulates a GPU driver reset, image-parity.spec compares the browser's
 * pixels and embeddings with Node's).
 */
export interface ModelSearchDebug {
  /** Simulates a lost GPU device; resolves true when the worker had one to lose. */
  loseDevice(): Promise<boolean>;
  /** Makes the search worker crash (an uncaught error); the bridge restarts it on the next search. */
  crashWorker(): Promise<void>;
  /** How many search workers the page has started (a replaced one counts again). */
  workerStarts(): number;
  /** The encoder's embedding of the image at `url`. */
  encodeImage(url: string): Promise<number[]>;
  /** The encoder's input pixels for the image at `url`. */
  preprocessImage(url: string): Promise<number[]>;
}

async function fetchBlob(url: string): Promise<Blob> {
  return (await fetch(url)).blob();
}

export function debugHooks(): ModelSearchDebug {
  return {
    loseDevice: () => searchClient.loseDevice(),
    crashWorker: () => searchClient.crash(),
    workerStarts: () => searchClient.workerStarts,
    encodeImage: async (url) => Array.from(await searchClient.encodeImage(await fetchBlob(url))),
    preprocessImage: async (url) => Array.from(await searchClient.preprocessImage(await fetchBlob(url))),
  };
}

/** Installs the hooks when `search` (the address's query) has `debug`; returns whether it did. */
export function installDebugHooks(search: string = location.search, target: object = window): boolean {
  if (!new URLSearchParams(search).has('debug')) return false;
  (target as { modelSearchDebug?: ModelSearchDebug }).modelSearchDebug = debugHooks();
  return true;
}
