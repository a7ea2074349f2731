import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReadyInfo, SearchRequest, SearchResponse } from '../shared/protocol.ts';

/** A fake worker bridge whose searches resolve when the test says so, in any order. */
const pending: { request: SearchRequest; resolve: (r: SearchResponse) => void; signal?: AbortSignal }[] = [];
vi.mock('./searchClient.ts', () => ({
  isAbort: (e: unknown) => e instanceof DOMException && e.name === 'AbortError',
  searchClient: {
    start: async (): Promise<ReadyInfo> => ({
      backend: 'wasm',
      encoderId: 'test',
      encoderLabel: 'Test',
      indexName: 'fixture',
      modelCount: 3,
      methods: ['gaussian', 'first-moment', 'monte-carlo', 'best-k'],
      examples: [],
      wasmThreads: 1,
      loadMs: 1,
    }),
    search: (request: SearchRequest, signal?: AbortSignal) =>
      new Promise<SearchResponse>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        pending.push({ request, resolve, signal });
      }),
  },
}));

const { SearchManager } = await import('./search.svelte.ts');

function response(label: string): SearchResponse {
  const model = { id: label, name: label, description: '', family: '', creator: '', licence: '', resolution: '', links: [], thumbnails: [] };
  return {
    backend: 'wasm',
    method: 'first-moment',
    encodeMs: 1,
    scoreMs: 1,
    results: [{ rank: 1, index: 0, score: 1, contentScore: 1, model }],
    scores: new Float32Array(3),
    matched: 3,
    facets: {},
    hybrid: false,
  };
}

async function readyManager() {
  const m = new SearchManager();
  await m.start({ appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' });
  return m;
}

describe('SearchManager', () => {
  beforeEach(() => {
    pending.length = 0;
  });

  it('shows only the newest query even when an older answer arrives later', async () => {
    const m = await readyManager();
    m.text = 'first';
    const a = m.run();
    m.text = 'second';
    const b = m.run();
    expect(pending).toHaveLength(2);
    expect(pending[0].signal?.aborted).toBe(true);
    pending[1].resolve(response('second'));
    await b;
    pending[0].resolve(response('first')); // too late: dropped
    await a;
    expect(m.results.map((r) => r.model.id)).toEqual(['second']);
    expect(m.summary?.label).toBe('“second”');
    expect(m.summary?.seq).toBe(1);
    expect(m.searching).toBe(false);
  });

  it('builds requests from the query parts: text, image weights, filters, method and k', async () => {
    const m = await readyManager();
    m.text = 'red flowers family:star';
    void m.run();
    expect(pending[0].request).toMatchObject({
      parts: [{ part: { kind: 'text', text: 'red flowers' }, weight: 1 }],
      method: 'first-moment', // Auto for text
      filters: { family: ['star'] },
      hybridWeight: 0,
    });
    m.setImage({ blob: new Blob(['x'], { type: 'image/png' }), name: 'a.png', source: 'file' });
    m.imageWeight = 0.8;
    void m.run();
    expect(pending[1].request.parts.map((p) => [p.part.kind, p.weight])).toEqual([
      ['text', expect.closeTo(0.2, 12)],
      ['image', 0.8],
    ]);
    m.text = '';
    m.requestedMethod = 'best-k';
    m.k = 5;
    void m.run();
    expect(pending[2].request).toMatchObject({ method: 'best-k', params: { k: 5 }, parts: [{ part: { kind: 'image' }, weight: 1 }] });
    m.requestedMethod = null;
    void m.run();
    expect(pending[3].request.method).toBe('gaussian'); // Auto for photos
    m.setLike({ id: 'm1', name: 'Model one' });
    void m.run();
    expect(pending[4].request.parts).toEqual([{ part: { kind: 'model', modelId: 'm1' }, weight: 1 }]);
  });

  it('explains that filters alone are not a query', async () => {
    const m = await readyManager();
    m.text = 'family:star';
    await m.run();
    expect(pending).toHaveLength(0);
    expect(m.error?.message).toMatch(/add a description, an image or a sketch/);
  });
});
