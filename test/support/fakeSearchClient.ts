import type { Method } from '../../src/core/scoring/methods.ts';
import type {
  AddModelInput,
  AddModelOutcome,
  AddModelProgress,
  ExportedFile,
  LoadProgress,
  LocalModelEdit,
  LocalModelSummary,
  ReadyInfo,
  SearchRequest,
  SearchResponse,
} from '../../src/shared/protocol.ts';

/** Searches the fake worker bridge has been asked for; each resolves when the test says so, in any order. */
export const pending: { request: SearchRequest; resolve: (r: SearchResponse) => void; signal?: AbortSignal; partial?: (r: SearchResponse) => void }[] = [];

/** How the fake worker starts: the progress events it sends, and a promise it waits for before it is ready. */
export const startup: { events: LoadProgress[]; hold?: Promise<void> } = { events: [] };

/** What the fake worker's `modelCount()` answers (tests set it before a change to the visitor's models). */
export const rankedCounts = { modelCount: 3, localModels: 0 };

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
      modelCount: async () => ({ ...rankedCounts }),
      ...fakeLocalModelsClient(),
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

/** A saved model's summary as the worker gives it (one 1-byte PNG thumbnail per image, up to 3). */
export function localSummary(id: string, over: Partial<LocalModelSummary> = {}): LocalModelSummary {
  const images = over.images ?? 2;
  return {
    id,
    name: id,
    description: '',
    licence: '',
    images,
    bytes: 1000,
    createdAt: 0,
    updatedAt: 0,
    encoder: { id: 'test', dim: 32 },
    usable: true,
    shadowed: false,
    sessionOnly: false,
    thumbnails: Array.from({ length: Math.min(3, images) }, () => ({ mime: 'image/png', bytes: new Uint8Array([1]).buffer })),
    ...over,
  };
}

/** An add the fake worker has been asked for: the test sends progress and ends it. */
export interface PendingAdd {
  input: AddModelInput;
  signal?: AbortSignal;
  progress: (p: AddModelProgress) => void;
  resolve: (o: AddModelOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * Your models in a fake worker (src/lib/localModels.svelte.ts's client): `saved` is what it keeps,
 * `adds` the adds waiting for the test; an aborted add resolves 'aborted' as the real bridge does.
 */
export function fakeLocalModelsClient(saved: LocalModelSummary[] = []) {
  const adds: PendingAdd[] = [];
  const exports: { ids: string[]; as: 'shard' | 'json' }[] = [];
  return {
    saved,
    adds,
    exports,
    addLocalModel: (input: AddModelInput, signal?: AbortSignal, onProgress?: (p: AddModelProgress) => void) =>
      new Promise<AddModelOutcome>((resolve, reject) => {
        signal?.addEventListener('abort', () => resolve({ status: 'aborted' }));
        adds.push({ input, signal, progress: (p) => onProgress?.(p), resolve: (o) => {
          if (o.status === 'saved') saved.push(o.model);
          resolve(o);
        }, reject });
      }),
    listLocalModels: async () => [...saved],
    updateLocalModel: async (id: string, edit: LocalModelEdit) => {
      const i = saved.findIndex((m) => m.id === id);
      if (i < 0) throw new Error(`no model ${id}`);
      saved[i] = { ...saved[i], ...edit };
      return saved[i];
    },
    removeLocalModel: async (id: string) => {
      const i = saved.findIndex((m) => m.id === id);
      if (i >= 0) saved.splice(i, 1);
    },
    exportLocalModels: async (ids: string[], as: 'shard' | 'json'): Promise<ExportedFile> => {
      exports.push({ ids, as });
      return { fileName: as === 'shard' ? 'my-models.shard.tar' : 'my-models.json', mime: as === 'shard' ? 'application/x-tar' : 'application/json', bytes: new ArrayBuffer(4) };
    },
  };
}
