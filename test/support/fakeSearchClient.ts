import type { Method } from '../../src/core/scoring/methods.ts';
import type { ReadyInfo, SearchRequest, SearchResponse } from '../../src/shared/protocol.ts';

/** Searches the fake worker bridge has been asked for; each resolves when the test says so, in any order. */
export const pending: { request: SearchRequest; resolve: (r: SearchResponse) => void; signal?: AbortSignal }[] = [];

/** A stand-in for src/lib/searchClient.ts (use with vi.mock) over a 3-model index with `methods`. */
export function fakeSearchClientModule(methods: Method[]) {
  return {
    isAbort: (e: unknown) => e instanceof DOMException && e.name === 'AbortError',
    searchClient: {
      start: async (): Promise<ReadyInfo> => ({
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
      }),
      search: (request: SearchRequest, signal?: AbortSignal) =>
        new Promise<SearchResponse>((resolve, reject) => {
          signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          pending.push({ request, resolve, signal });
        }),
    },
  };
}
