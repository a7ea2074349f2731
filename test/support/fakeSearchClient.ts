import type { Method } from '../../src/core/scoring/methods.ts';
import type { LoadProgress, ReadyInfo, SearchRequest, SearchResponse } from '../../src/shared/protocol.ts';

/** Searches the fake worker bridge has been asked for; each resolves when the test says so, in any order. */
export const pending: { request: SearchRequest; resolve: (r: SearchResponse) => void; signal?: AbortSignal; partial?: (r: SearchResponse) => void }[] = [];

/** How the fake worker starts: the progress events it sends, and a promise it waits for before it is ready. */
export const startup: { events: LoadProgress[]; hold?: Promise<void> } = { events: [] };

/** A stand-in for src/lib/searchClient.ts (use with vi.mock) over a 3-model index with `methods`. */
export function fakeSearchClientModule(methods: Method[]) {
  return {
    isAbort: (e: unknown) => e instanceof DOMException && e.name === 'AbortError',
    searchClient: {
      start: async (_config: unknown, onProgress: (p: LoadProgress) => void): Promise<ReadyInfo> => {
        for (const p of startup.events) onProgress(p);
        await startup.hold;
        return READY(methods);
      },
      search: (request: SearchRequest, signal?: AbortSignal, partial?: (r: SearchResponse) => void) =>
        new Promise<SearchResponse>((resolve, reject) => {
          signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          pending.push({ request, resolve, signal, partial });
        }),
    },
  };
}

const READY = (methods: Method[]): ReadyInfo => ({
  backend: 'wasm',
  encoderId: 'test',
  encoderLabel: 'Test',
  indexName: 'fixture',
  modelCount: 3,
  methods,
  examples: [],
  temperature: 100,
  wasmThreads: 1,
  loadMs: 1,
});
