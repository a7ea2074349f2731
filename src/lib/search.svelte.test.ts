import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SearchResponse } from '../shared/protocol.ts';
import { memoryAddressBar } from './addressBar.ts';

// The fake worker bridge (test/support/fakeSearchClient.ts): searches resolve when the test says so.
vi.mock('./searchClient.ts', async () => (await import('../../test/support/fakeSearchClient.ts')).fakeSearchClientModule(['gaussian', 'first-moment', 'monte-carlo', 'best-k']));
const { pending, startup, rankedCounts } = await import('../../test/support/fakeSearchClient.ts');

/** Image decoding needs a browser; here a file is "prepared" as is, and a text file is refused. */
vi.mock('./imageInput.ts', () => ({
  prepareImage: async (file: Blob, name = 'image') => {
    if (!file.type.startsWith('image/')) throw Object.assign(new Error(`“${name}” is not an image`), { code: 'bad-query' });
    return { blob: file, width: 1, height: 1, name };
  },
}));

const { SearchManager, searchManager, IMAGE_NOT_SAVED, TOP_K } = await import('./search.svelte.ts');
const { searchClient } = await import('./searchClient.ts');
const { NO_INFORMATION, WEAK_MATCH } = await import('./matchNotice.ts');

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
    match: { kind: 'ok', best: 0 },
  };
}

const CONFIG = { appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' } as const;

async function readyManager(address = memoryAddressBar(), history: 'push' | 'replace' = 'push') {
  const m = new SearchManager();
  m.attach(address, history);
  await m.start(CONFIG);
  return m;
}

const png = (bytes = 'x') => new Blob([bytes], { type: 'image/png' });

/** A sessionStorage in memory; `full` makes it refuse writes like a full or disabled one. */
function fakeSessionStorage(full = false) {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => {
      if (full) throw new DOMException('full', 'QuotaExceededError');
      items.set(k, v);
    },
    removeItem: (k: string) => void items.delete(k),
  };
}

describe('SearchManager', () => {
  beforeEach(() => {
    pending.length = 0;
    startup.events = [];
    startup.hold = undefined;
    Object.assign(rankedCounts, { modelCount: 3, localModels: 0 });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('a tiered index’s prefilter ranking shows at once, marked refining, and the exact one replaces it; a stale partial never lands', async () => {
    const m = await readyManager();
    const first = m.submit({ text: 'old' });
    const second = m.submit({ text: 'new' });
    const [older, newer] = pending.slice(-2);
    older!.partial!({ ...response('stale'), refining: true });
    expect(m.results).toEqual([]);
    newer!.partial!({ ...response('pre'), refining: true });
    expect(m.results.map((r) => r.model.id)).toEqual(['pre']);
    expect(m.refining).toBe(true);
    expect(m.scores).toBeNull();
    newer!.resolve(response('exact'));
    await Promise.allSettled([first, second]);
    expect(m.refining).toBe(false);
    expect(m.results.map((r) => r.model.id)).toEqual(['exact']);
    expect(m.scores).not.toBeNull();
    // A partial that arrives after the answer (another message port) changes nothing.
    newer!.partial!({ ...response('late'), refining: true });
    expect(m.results.map((r) => r.model.id)).toEqual(['exact']);
    expect(m.refining).toBe(false);
  });

  it('shows only the newest query even when an older answer arrives later', async () => {
    const m = await readyManager();
    const a = m.submit({ text: 'first' });
    const b = m.submit({ text: 'second' });
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

  it('each search gets its own signal; a newer one aborts every older one, and cancellation shows no error', async () => {
    const m = await readyManager();
    const runs = ['a', 'b', 'c', 'd', 'e'].map((text) => m.submit({ text }));
    expect(pending.map((p) => p.signal?.aborted)).toEqual([true, true, true, true, false]);
    await Promise.all(runs.slice(0, 4)); // the aborted ones end quietly
    expect(m.error).toBeNull();
    expect(m.searching).toBe(true);
    pending[4].resolve(response('e'));
    await runs[4];
    expect(m.results.map((r) => r.model.id)).toEqual(['e']);
    expect([m.searching, m.error, m.summary?.seq]).toEqual([false, null, 1]);
  });

  it('a superseded query never lands, even when its answer or its failure comes after the abort', async () => {
    // A bridge that ignores the abort (the worker had already answered): the manager must still drop it.
    const real = searchClient.search;
    const calls: { resolve: (r: SearchResponse) => void; reject: (e: unknown) => void }[] = [];
    searchClient.search = () => new Promise<SearchResponse>((resolve, reject) => calls.push({ resolve, reject }));
    try {
      const m = await readyManager();
      const a = m.submit({ text: 'first' });
      const b = m.submit({ text: 'second' });
      const c = m.submit({ text: 'third' });
      calls[2].resolve(response('third'));
      await c;
      calls[0].resolve(response('first'));
      calls[1].reject(Object.assign(new Error('The search engine stopped unexpectedly. Retry starts it again.'), { code: 'worker' }));
      await Promise.all([a, b]);
      expect(m.results.map((r) => r.model.id)).toEqual(['third']);
      expect(m.summary).toMatchObject({ label: '“third”', seq: 1 });
      expect(m.error).toBeNull();
      expect(m.searching).toBe(false);
    } finally {
      searchClient.search = real;
    }
  });

  it('clearing the query drops the running search: its late answer does not bring results back', async () => {
    const real = searchClient.search;
    let answer!: (r: SearchResponse) => void;
    searchClient.search = () => new Promise<SearchResponse>((resolve) => (answer = resolve));
    try {
      const m = await readyManager();
      const running = m.submit({ text: 'red' });
      await m.submit({ text: '' });
      answer(response('red'));
      await running;
      expect([m.results, m.summary, m.searching]).toEqual([[], null, false]);
    } finally {
      searchClient.search = real;
    }
  });

  it('builds requests from the query parts: text, image weights, filters, method and k', async () => {
    const m = await readyManager();
    void m.submit({ text: 'red flowers family:star' });
    expect(pending[0].request).toMatchObject({
      parts: [{ part: { kind: 'text', text: 'red flowers' }, weight: 1 }],
      method: 'first-moment', // Auto for text
      filters: { family: ['star'] },
      hybridWeight: 0,
    });
    void m.submit({ image: { blob: png(), name: 'a.png', source: 'file' }, imageWeight: 0.8 });
    expect(pending[1].request.parts.map((p) => [p.part.kind, p.weight])).toEqual([
      ['text', expect.closeTo(0.2, 12)],
      ['image', 0.8],
    ]);
    void m.submit({ text: '', method: 'best-k', k: 5 });
    expect(pending[2].request).toMatchObject({ method: 'best-k', params: { k: 5 }, parts: [{ part: { kind: 'image' }, weight: 1 }] });
    void m.submit({ method: null });
    expect(pending[3].request.method).toBe('gaussian'); // Auto for photos
    void m.submit({ like: { id: 'm1', name: 'Model one' } });
    expect(pending[4].request.parts).toEqual([{ part: { kind: 'model', modelId: 'm1' }, weight: 1 }]);
  });

  it('filters alone ask for a listing of the models they match (no parts), headed as a list by name', async () => {
    const m = await readyManager();
    const done = m.submit({ text: 'family:star' });
    expect(pending).toHaveLength(1);
    expect(pending[0].request.parts).toEqual([]);
    expect(pending[0].request.filters).toEqual({ family: ['star'] });
    expect(m.hasQuery).toBe(true);
    pending[0].resolve({ ...response('s'), matched: 2, results: [0, 1].map((i) => ({ ...response(`s${i}`).results[0], rank: i + 1, index: i, score: NaN, contentScore: NaN })) });
    await done;
    expect(m.error).toBeNull();
    expect(m.summary?.listing).toBe(true);
    expect(m.heading).toBe('2 of 2 models with family:star, by name');
    // A description again: a ranking, not a listing.
    const ranked = m.submit({ text: 'stars family:star' });
    expect(pending.at(-1)!.request.parts).toHaveLength(1);
    pending.at(-1)!.resolve(response('r'));
    await ranked;
    expect(m.summary?.listing).toBe(false);
  });

  it('submit writes the search into the address as a new history entry and issues exactly one search', async () => {
    const address = memoryAddressBar('?index=index%2Fcolours%2F&debug=1');
    const m = await readyManager(address);
    void m.submit({ text: 'red flowers', method: 'best-k', k: 5 });
    expect(address.writes).toEqual([{ search: '?index=index%2Fcolours%2F&debug=1&q=red+flowers&method=best-k&k=5', mode: 'push' }]);
    expect(pending).toHaveLength(1);
    expect(pending[0].request).toMatchObject({ method: 'best-k', params: { k: 5 } });

    // The same search again (e.g. Enter pressed twice): searched, but no second history entry.
    void m.submit({ text: 'red flowers' });
    expect(address.writes).toHaveLength(1);
    expect(pending).toHaveLength(2);

    // Typing edits the bound text without searching; a bare submit() searches with it.
    m.text = 'blue sea';
    expect(pending).toHaveLength(2);
    void m.submit();
    expect(pending).toHaveLength(3);
    expect(pending[2].request.parts[0].part).toEqual({ kind: 'text', text: 'blue sea' });
    expect(address.search).toContain('q=blue+sea');
  });

  it('an embedded page replaces its history entry instead of adding one', async () => {
    const address = memoryAddressBar('?embed=1&parentOrigin=http%3A%2F%2Fh');
    const m = await readyManager(address, 'replace');
    void m.submit({ text: 'cats' });
    expect(address.writes).toEqual([{ search: '?embed=1&parentOrigin=http%3A%2F%2Fh&q=cats', mode: 'replace' }]);
  });

  it('takes the search from the address on attach, and follows back/forward without writing', async () => {
    const address = memoryAddressBar('?q=red&method=gd&w=0.25&index=index/colours');
    const m = new SearchManager();
    const url = m.attach(address);
    expect(url.index).toBe('index/colours/');
    expect([m.text, m.requestedMethod, m.imageWeight]).toEqual(['red', 'gaussian', 0.25]);

    // The address's query runs once the worker is ready.
    void m.open(CONFIG);
    expect(pending).toHaveLength(0);
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    expect(pending[0].request).toMatchObject({ method: 'gaussian', parts: [{ part: { kind: 'text', text: 'red' } }] });

    m.openDetails(response('a').results[0]);
    address.navigate('?like=m2');
    void m.followAddress();
    expect(m.selected).toBeNull();
    expect([m.text, m.likeId, m.requestedMethod]).toEqual(['', 'm2', null]);
    expect(pending).toHaveLength(2);
    expect(pending[1].request.parts).toEqual([{ part: { kind: 'model', modelId: 'm2' }, weight: 1 }]);
    expect(address.writes).toEqual([]);
  });

  it('a facet replaces the filters of the text and keeps its words', async () => {
    const m = await readyManager();
    void m.submit({ text: 'red flowers family:star' });
    void m.submit({ filters: { creator: ['Ann'] } });
    expect(m.parsed).toEqual({ text: 'red flowers', filters: { creator: ['Ann'] } });
    expect(pending[1].request.filters).toEqual({ creator: ['Ann'] });
  });

  it('an image ends a "more like this" query; text clears it; removing the image forgets the stored copy', async () => {
    const storage = fakeSessionStorage();
    vi.stubGlobal('sessionStorage', storage);
    const m = await readyManager();
    void m.submit({ like: { id: 'm1', name: 'Model one' } });
    expect(m.queryKinds).toEqual(['model']);
    void m.submit({ image: { blob: png(), name: 'a.png', source: 'file' } });
    expect([m.likeId, m.likeName]).toEqual(['', '']);
    expect(m.queryKinds).toEqual(['image']);
    await m.settled();
    expect(storage.items.size).toBe(1);
    expect(m.imageNotice).toBe('');

    void m.submit({ like: { id: 'm1', name: 'Model one' } });
    void m.submit({ text: 'cats', like: null });
    expect(m.likeId).toBe('');

    void m.submit({ image: null });
    await m.settled();
    expect(m.image).toBeNull();
    expect(storage.items.size).toBe(0);
    expect(pending).toHaveLength(5);
  });

  it('says when an image cannot be kept for a reload, and a later image does not inherit an older save', async () => {
    vi.stubGlobal('sessionStorage', fakeSessionStorage(true));
    const m = await readyManager();
    void m.submit({ image: { blob: png(), name: 'a.png', source: 'file' } });
    await m.settled();
    expect(m.imageNotice).toBe(IMAGE_NOT_SAVED);
  });

  it('useImage prepares the file and submits it; a file that is not an image shows an error and searches nothing', async () => {
    const address = memoryAddressBar();
    const m = await readyManager(address);
    expect(await m.useImage(new Blob(['hello'], { type: 'text/plain' }), 'file', 'notes.txt')).toBe(false);
    expect(m.error?.message).toMatch(/notes\.txt/);
    expect(pending).toHaveLength(0);

    expect(await m.useImage(png(), 'sketch', 'sketch')).toBe(true);
    expect(m.error).toBeNull();
    expect(m.image).toMatchObject({ name: 'sketch', source: 'sketch' });
    expect(pending).toHaveLength(1);
    expect(pending[0].request.parts[0].part).toMatchObject({ kind: 'image', source: 'sketch' });
    expect(address.writes).toEqual([]); // Images stay out of the address
  });

  it('opens the session’s image query on page start', async () => {
    const storage = fakeSessionStorage();
    vi.stubGlobal('sessionStorage', storage);
    const first = await readyManager();
    void first.submit({ image: { blob: png(), name: 'kept.png', source: 'file' } });
    await first.settled();

    const m = new SearchManager();
    m.attach(memoryAddressBar());
    void m.open(CONFIG);
    expect(m.image).toMatchObject({ name: 'kept.png', source: 'file' });
    await vi.waitFor(() => expect(pending).toHaveLength(2));
    expect(pending[1].request.parts[0].part).toMatchObject({ kind: 'image', source: 'file' });
  });

  it('"more like this" replaces the free text (field filters stay) and its score plot leaves the query model out', async () => {
    const address = memoryAddressBar('?q=red+boats+family%3Aboat');
    const m = await readyManager(address);
    const done = m.submit({ like: { id: 'm1', name: 'Model one' } });
    expect(m.text).toBe('family:boat');
    expect(address.search).toBe('?q=family%3Aboat&like=m1');
    expect(pending[0].request.parts).toEqual([{ part: { kind: 'model', modelId: 'm1' }, weight: 1 }]);
    expect(pending[0].request.filters).toEqual({ family: ['boat'] });
    pending[0].resolve({ ...response('m2'), scores: new Float32Array([0.25, 1, 0.5]), queryModel: { id: 'm1', name: 'Model one', index: 1 } });
    await done;
    expect(Array.from(m.scores!)).toEqual([0.25, 0.5]);
  });

  it('"Show more" asks for TOP_K more results of the same query; a new query starts again at TOP_K', async () => {
    const m = await readyManager();
    const many = (n: number) => {
      const r = response('x');
      return { ...r, results: Array.from({ length: n }, (_, i) => ({ ...r.results[0], rank: i + 1, index: i })), matched: 60 };
    };
    let done = m.submit({ text: 'red' });
    expect(pending[0].request.topK).toBe(TOP_K);
    pending[0].resolve(many(TOP_K));
    await done;
    expect(m.hasMore).toBe(true);
    done = m.showMore();
    expect(pending[1].request).toMatchObject({ topK: 2 * TOP_K, parts: [{ part: { kind: 'text', text: 'red' } }] });
    pending[1].resolve(many(2 * TOP_K));
    await done;
    expect([m.results.length, m.hasMore]).toEqual([2 * TOP_K, true]);
    done = m.showMore();
    pending[2].resolve(many(60)); // all 60 matching models
    await done;
    expect(m.hasMore).toBe(false);
    await expect(m.showMore()).resolves.toBeUndefined();
    expect(pending).toHaveLength(3);
    void m.submit({ text: 'blue' });
    expect(pending[3].request.topK).toBe(TOP_K);
  });

  it('heading and share link follow the results and the open details', async () => {
    const m = await readyManager(memoryAddressBar('?q=red&debug=1', 'http://app.test/sub/'));
    expect(m.heading).toBe('Results');
    const done = m.submit({ text: 'red' });
    pending[0].resolve({ ...response('a'), matched: 2 });
    await done;
    expect(m.heading).toBe('Top 1 of 2 matching / 3 models for “red”');
    expect(m.shareUrl).toBe('');
    m.openDetails(m.results[0]);
    expect(m.shareUrl).toBe('http://app.test/sub/?debug=1&like=a');
    m.closeDetails();
    expect(m.selected).toBeNull();
  });

  it('says when nothing matches, keeps the closest models listed, and drops the notice on the next search that matches', async () => {
    const m = await readyManager();
    expect([m.noMatch, m.matchNotice]).toEqual([false, '']);

    let done = m.submit({ text: 'kitty images' });
    pending[0].resolve({ ...response('closest'), match: { kind: 'weak', best: 0.1, threshold: 0.2 } });
    await done;
    expect(m.summary?.match).toEqual({ kind: 'weak', best: 0.1, threshold: 0.2 });
    expect([m.noMatch, m.matchNotice]).toEqual([true, WEAK_MATCH]);
    expect(m.results.map((r) => r.model.id)).toEqual(['closest']);
    expect(m.heading).toBe('Closest 1 of 3 models for “kitty images”');

    // A newer search keeps the old verdict until its own answer arrives.
    done = m.submit({ text: 'everything yellow' });
    expect(m.matchNotice).toBe(WEAK_MATCH);
    pending[1].resolve({ ...response('any'), match: { kind: 'no-information', best: 0 } });
    await done;
    expect([m.noMatch, m.matchNotice]).toEqual([true, NO_INFORMATION]);

    done = m.submit({ text: 'red flowers' });
    pending[2].resolve({ ...response('rose'), match: { kind: 'ok', best: 0.9, threshold: 0.2 } });
    await done;
    expect([m.noMatch, m.matchNotice]).toEqual([false, '']);
    expect(m.heading).toBe('Top 1 of 3 models for “red flowers”');

    // Filters that leave no model have their own words; no "nothing matches well" on an empty list.
    done = m.submit({ text: 'kitty images family:none' });
    pending[3].resolve({ ...response('x'), results: [], matched: 0, match: { kind: 'weak', best: 0.1, threshold: 0.2 } });
    await done;
    expect([m.noMatch, m.matchNotice]).toEqual([false, '']);

    // A cleared query clears the verdict with the results; so does reset().
    done = m.submit({ text: 'kitty images' });
    pending[4].resolve({ ...response('closest'), match: { kind: 'no-information', best: 0 } });
    await done;
    expect(m.noMatch).toBe(true);
    await m.submit({ text: '' });
    expect([m.summary, m.noMatch, m.matchNotice]).toEqual([null, false, '']);
    done = m.submit({ text: 'kitty images' });
    pending[5].resolve({ ...response('closest'), match: { kind: 'weak', best: 0.1, threshold: 0.2 } });
    await done;
    m.reset();
    expect([m.noMatch, m.matchNotice]).toEqual([false, '']);
  });

  it('reset() returns to a new manager’s state and drops the running search', async () => {
    const address = memoryAddressBar();
    const m = await readyManager(address, 'replace');
    const running = m.submit({ text: 'red', method: 'best-k', k: 7, hybridWeight: 0.3 });
    m.reset();
    expect(pending[0].signal?.aborted).toBe(true);
    pending[0].resolve(response('late'));
    await running;
    const fresh = new SearchManager();
    for (const key of ['phase', 'text', 'requestedMethod', 'k', 'imageWeight', 'hybridWeight', 'likeId', 'results', 'summary', 'searching', 'error', 'selected', 'image', 'info'] as const) {
      expect(m[key], key).toEqual(fresh[key]);
    }
    // Detached: later submits no longer write the old address.
    await m.start(CONFIG);
    void m.submit({ text: 'blue' });
    expect(address.writes).toHaveLength(1);
  });

  it('a query submitted before the worker is ready says so, waits, and runs once ready (the last one only)', async () => {
    let release!: () => void;
    startup.hold = new Promise<void>((r) => (release = r));
    startup.events = [
      { status: 'initiate', file: 'ort.wasm', label: 'Runtime', kind: 'runtime', total: 2000 },
      { status: 'download', file: 'ort.wasm', loaded: 500, total: 2000 },
    ];
    const m = new SearchManager();
    m.attach(memoryAddressBar());
    const started = m.start(CONFIG);
    expect(m.queued).toBe(false); // nothing asked for yet
    expect(m.showDownloads).toBe(true);
    expect(m.loadingText).toBe('Downloading Runtime…');

    void m.submit({ text: 'blue' });
    void m.submit({ text: 'red flowers' });
    expect(m.phase).toBe('loading');
    expect(m.queued).toBe(true);
    expect(m.queuedLabel).toBe('“red flowers”');
    expect(pending).toHaveLength(0);

    release();
    await vi.waitFor(() => expect(pending).toHaveLength(1));
    expect(m.phase).toBe('ready');
    expect(m.queued).toBe(false);
    expect(m.queuedLabel).toBe('');
    expect(m.searching).toBe(true);
    expect(m.showDownloads).toBe(false);
    expect(pending[0].request.parts).toEqual([{ part: { kind: 'text', text: 'red flowers' }, weight: 1 }]);
    pending[0].resolve(response('red'));
    await started; // start() resolves once the waiting query has run
    expect(m.summary?.label).toBe('“red flowers”');
    expect(pending).toHaveLength(1);
  });

  it('an empty submit before ready queues nothing to announce', async () => {
    let release!: () => void;
    startup.hold = new Promise<void>((r) => (release = r));
    const m = new SearchManager();
    const started = m.start(CONFIG);
    void m.submit({ text: '  ' });
    expect(m.queued).toBe(false);
    release();
    await started;
    expect(pending).toHaveLength(0);
  });

  it('files read from this device are never reported as downloads', async () => {
    let release!: () => void;
    startup.hold = new Promise<void>((r) => (release = r));
    startup.events = [
      { status: 'initiate', file: 'ort.wasm', label: 'Runtime', kind: 'runtime', total: 2000 },
      { status: 'cached', file: 'ort.wasm', bytes: 2000 },
      { status: 'done', file: 'ort.wasm' },
      { status: 'initiate', file: 'index.bin', label: 'Index index.bin', kind: 'index', total: 100 },
    ];
    const m = new SearchManager();
    const started = m.start(CONFIG);
    expect(m.files.map((f) => [f.file, f.source, f.done])).toEqual([
      ['ort.wasm', 'storage', true],
      ['index.bin', 'pending', false],
    ]);
    expect(m.loadingText).toBe('Loading Index index.bin…');
    expect(m.loadingText).not.toMatch(/Downloading/);
    release();
    await started;
  });

  it('sample images are the whole query: one samples part, described by count or name, never in the address or the session', async () => {
    const storage = fakeSessionStorage();
    vi.stubGlobal('sessionStorage', storage);
    const address = memoryAddressBar('?q=red+boats+family%3Aboat');
    const m = await readyManager(address);
    void m.submit({ image: { blob: png(), name: 'a.png', source: 'file' } });
    await m.settled();
    expect(storage.items.size).toBe(1);
    const blobs = [png('1'), png('2'), png('3')];
    const done = m.submit({ samples: { blobs }, text: '', like: null });
    expect(m.queryKinds).toEqual(['model']);
    expect([m.text, m.image, m.likeId]).toEqual(['', null, '']);
    await m.settled();
    expect(storage.items.size).toBe(0);
    const last = pending[pending.length - 1]!;
    expect(last.request.parts).toEqual([{ part: { kind: 'samples', images: blobs }, weight: 1 }]);
    expect(last.request.hybridWeight).toBe(0);
    expect(address.search).toBe('');
    last.resolve(response('m2'));
    await done;
    expect(m.summary?.label).toBe('models like your 3 images');
    expect(m.heading).toBe('Top 1 of 3 models for models like your 3 images');

    void m.submit({ samples: { blobs: [png()], label: 'My scarlet blossom' } });
    expect(pending[pending.length - 1]!.request.parts[0]!.part).toMatchObject({ kind: 'samples', label: 'My scarlet blossom' });
    expect(m.queuedLabel).toBe('');
    expect(address.search).toBe('');
  });

  it('sample images keep field filters; free text, an image or "more like this" replaces them', async () => {
    const m = await readyManager();
    void m.submit({ text: 'family:star' });
    void m.submit({ samples: { blobs: [png()] } });
    expect(m.text).toBe('family:star');
    expect(pending[pending.length - 1]!.request.filters).toEqual({ family: ['star'] });
    m.text = 'red family:star';
    void m.submit();
    expect(m.samples).toBeNull();
    expect(pending[pending.length - 1]!.request.parts).toEqual([{ part: { kind: 'text', text: 'red' }, weight: 1 }]);
    void m.submit({ samples: { blobs: [png()] } });
    void m.submit({ image: { blob: png(), name: 'a.png', source: 'file' } });
    expect([m.samples, m.queryKinds]).toEqual([null, ['image']]);
    void m.submit({ samples: { blobs: [png()] } });
    void m.submit({ like: { id: 'm1', name: 'Model one' } });
    expect(m.samples).toBeNull();
    void m.submit({ samples: { blobs: [png()] } });
    void m.submit({ samples: null });
    expect(m.hasQuery).toBe(true);
    expect(pending[pending.length - 1]!.request.parts).toEqual([]);
  });

  it('a large (tiered) index is sent sample images too (core rankTiered ranks them)', async () => {
    const m = await readyManager();
    m.info = { ...m.info!, tiered: { candidates: 10, blocks: 1, headBytes: 1 } };
    const before = pending.length;
    void m.submit({ samples: { blobs: [png()] } });
    expect(pending).toHaveLength(before + 1);
    expect(pending[before]!.request.parts.map((p) => p.part.kind)).toEqual(['samples']);
  });

  it('localModelsChanged updates the model count and heading, and runs the current query again', async () => {
    const m = await readyManager();
    Object.assign(rankedCounts, { modelCount: 4, localModels: 1 });
    expect(await m.localModelsChanged()).toBeUndefined();
    expect([m.info?.modelCount, m.info?.localModels]).toEqual([4, 1]);
    expect(pending).toHaveLength(0);
    const done = m.submit({ text: 'red' });
    pending[0]!.resolve({ ...response('a'), matched: 4 });
    await done;
    expect(m.heading).toBe('Top 1 of 4 models for “red”');
    Object.assign(rankedCounts, { modelCount: 3, localModels: 0 });
    const again = m.localModelsChanged();
    await vi.waitFor(() => expect(pending).toHaveLength(2));
    expect(m.info?.localModels).toBe(0);
    expect(pending[1]!.request.parts).toEqual(pending[0]!.request.parts);
    pending[1]!.resolve({ ...response('b'), matched: 3 });
    await again;
    expect(m.heading).toBe('Top 1 of 3 models for “red”');
  });

  it('localModelsChanged keeps the old count when the worker cannot say, and still runs the query again', async () => {
    const m = await readyManager();
    const real = searchClient.modelCount;
    searchClient.modelCount = () => Promise.reject(new Error('worker gone'));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const done = m.submit({ text: 'red' });
      pending[0]!.resolve(response('a'));
      await done;
      const again = m.localModelsChanged();
      await vi.waitFor(() => expect(pending).toHaveLength(2));
      pending[1]!.resolve(response('b'));
      await again;
      expect(m.info?.modelCount).toBe(3);
      expect(warn).toHaveBeenCalledWith('The model count could not be refreshed:', expect.any(Error));
    } finally {
      searchClient.modelCount = real;
      warn.mockRestore();
    }
  });

  it('the app’s manager is one shared instance', () => {
    expect(searchManager).toBeInstanceOf(SearchManager);
  });
});
