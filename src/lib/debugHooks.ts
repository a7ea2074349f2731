import type { AbortStage, AddModelHoldStage, LocalModelSource, LocalModelSummary, WorkerCounts } from '../shared/protocol.ts';
import { searchClient, type Deadlines } from './searchClient.ts';

/**
 * Diagnostics for tests and bug reports, on `window.modelSearchDebug` when the page's address has
 * `?debug` (e2e: search.spec simulates a GPU driver reset, image-parity.spec compares the browser's
 * pixels and embeddings with Node's, cancel.spec and the hostile worker cases count what the worker
 * encoded and scored and make it fail).
 */
export interface ModelSearchDebug {
  /** Simulates a lost GPU device; resolves true when the worker had one to lose. */
  loseDevice(): Promise<boolean>;
  /** A tiered index: scores on the GPU even on a software adapter ('force'), or that GPU device destroyed ('lose'). */
  gpuScoring(action: 'force' | 'lose'): Promise<{ engine: string; reason?: string; lost?: boolean }>;
  /** Makes the search worker crash (an uncaught error); the bridge restarts it on the next search. */
  crashWorker(): Promise<void>;
  /** Makes the search worker stop answering (a busy loop); the next call's deadline replaces it. */
  hangWorker(): Promise<void>;
  /** Fires the search worker's `messageerror` event (a message from it could not be deserialised). */
  breakWorkerMessages(): void;
  /** How many search workers the page has started (a replaced one counts again). */
  workerStarts(): number;
  /** How many searches the page handed to a worker (one aborted before it was sent is not). */
  searchesSent(): number;
  /** What the current search worker has encoded and scored, and where cancelled searches stopped. */
  workerCounts(): Promise<WorkerCounts>;
  /** Makes searches wait in the worker at `stage` until `holdSearches(null)` (to cancel one there). */
  holdSearches(stage: AbortStage | null): Promise<void>;
  /** Shorter worker deadlines for calls started from now on (a stuck worker fails in seconds). */
  setDeadlines(deadlines: Partial<Deadlines>): void;
  /** The encoder's embedding of the image at `url`. */
  encodeImage(url: string): Promise<number[]>;
  /** The encoder's input pixels for the image at `url`. */
  preprocessImage(url: string): Promise<number[]>;
  /** Your models as the worker lists them (thumbnails as byte counts, so that they cross to a test). */
  listLocalModels(): Promise<(Omit<LocalModelSummary, 'thumbnails'> & { thumbnails: number[] })[]>;
  /** What one of your models was made from: its images (name, SHA-256, size) in order and their unit embeddings (Playwright carries the Float32Array). */
  localModelSource(id: string): Promise<LocalModelSource>;
  /** Makes adds wait in the worker at `stage` until `holdAdd(null)` (to cancel one, or close the tab, there). */
  holdAdd(stage: AddModelHoldStage | null): Promise<void>;
}

async function fetchBlob(url: string): Promise<Blob> {
  return (await fetch(url)).blob();
}

export function debugHooks(): ModelSearchDebug {
  return {
    loseDevice: () => searchClient.loseDevice(),
    gpuScoring: (action) => searchClient.gpuScoring(action),
    crashWorker: () => searchClient.crash(),
    hangWorker: () => searchClient.hang(),
    breakWorkerMessages: () => searchClient.breakMessages(),
    workerStarts: () => searchClient.workerStarts,
    searchesSent: () => searchClient.searchesSent,
    workerCounts: () => searchClient.workerCounts(),
    holdSearches: (stage) => searchClient.holdAt(stage),
    setDeadlines: (deadlines) => searchClient.setDeadlines(deadlines),
    encodeImage: async (url) => Array.from(await searchClient.encodeImage(await fetchBlob(url))),
    preprocessImage: async (url) => Array.from(await searchClient.preprocessImage(await fetchBlob(url))),
    localModelSource: (id) => searchClient.localModelSource(id),
    holdAdd: (stage) => searchClient.holdAdd(stage),
    listLocalModels: async () => (await searchClient.listLocalModels()).map((m) => ({ ...m, thumbnails: m.thumbnails.map((t) => t.bytes.byteLength) })),
  };
}

/** Installs the hooks when `search` (the address's query) has `debug`; returns whether it did. */
export function installDebugHooks(search: string = location.search, target: object = window): boolean {
  if (!new URLSearchParams(search).has('debug')) return false;
  (target as { modelSearchDebug?: ModelSearchDebug }).modelSearchDebug = debugHooks();
  return true;
}
