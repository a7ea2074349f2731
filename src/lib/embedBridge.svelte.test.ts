import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SearchResponse } from '../shared/protocol.ts';
import { memoryAddressBar } from './addressBar.ts';

// The fake worker bridge (test/support/fakeSearchClient.ts): searches resolve when the test says so.
vi.mock('./searchClient.ts', async () => (await import('../../test/support/fakeSearchClient.ts')).fakeSearchClientModule(['gaussian', 'first-moment']));
const { pending } = await import('../../test/support/fakeSearchClient.ts');

const { SearchManager } = await import('./search.svelte.ts');
const { connectEmbed, resultsMessage, startEmbedBridge } = await import('./embedBridge.svelte.ts');
const { parseAppMessage } = await import('../embed/protocol.ts');

const HOST = 'https://host.example';

/** A framed window in Node: a parent that records what it is sent, and message listeners to call. */
function fakeFrame() {
  const listeners = new Set<(e: MessageEvent) => void>();
  const parent = { postMessage: vi.fn() };
  const win = {
    parent,
    addEventListener: (type: string, fn: (e: MessageEvent) => void) => type === 'message' && listeners.add(fn),
    removeEventListener: (type: string, fn: (e: MessageEvent) => void) => listeners.delete(fn),
  };
  const receive = (data: unknown, origin = HOST, source: unknown = parent) => {
    for (const fn of listeners) fn({ data, origin, source } as MessageEvent);
  };
  return { win, parent, receive, listeners };
}

const query = (body: object) => ({ protocol: 'model-search', version: 1, type: 'query', ...body });
const likeImages = (images: ArrayBuffer[], body: object = {}) => ({ protocol: 'model-search', version: 1, type: 'like-images', images, ...body });
/** The first bytes of a 2×2 PNG: enough for the header check (the worker decodes the rest). */
const pngHeader = () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0]).buffer;
/** Queries are applied one task after they arrive (a burst runs once). */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('embed bridge', () => {
  beforeEach(() => {
    pending.length = 0;
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('a host query goes in through SearchManager.submit, like the app’s own controls', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    const address = memoryAddressBar(`?embed=1&parentOrigin=${encodeURIComponent(HOST)}`);
    const m = new SearchManager();
    m.attach(address, 'replace');
    await m.start({ appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' });
    const submit = vi.spyOn(m, 'submit');
    const bridge = startEmbedBridge(m, { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: address.search });
    expect(bridge.active).toBe(true);

    frame.receive(query({ text: 'red flowers', method: 'gd' }));
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit).toHaveBeenCalledWith({ samples: null, image: null, text: 'red flowers', like: null, method: 'gaussian' });
    expect(pending).toHaveLength(1);
    expect(pending[0].request).toMatchObject({ method: 'gaussian', parts: [{ part: { kind: 'text', text: 'red flowers' } }] });
    // The same address handling as the app: the frame's entry is replaced, never added to.
    expect(address.writes).toEqual([{ search: `?embed=1&parentOrigin=${encodeURIComponent(HOST)}&q=red+flowers&method=gaussian`, mode: 'replace' }]);

    frame.receive(query({ like: 'm7' }));
    await nextTask();
    expect(submit).toHaveBeenLastCalledWith({ samples: null, image: null, text: '', like: { id: 'm7', name: '' }, method: null });
    expect(pending[0].signal?.aborted).toBe(true); // the newer query drops the older
    expect(pending[1].request.parts).toEqual([{ part: { kind: 'model', modelId: 'm7' }, weight: 1 }]);

    // An unknown method is reported to the host; the query still runs, with the automatic method.
    frame.receive(query({ text: 'cats', method: 'nope' }));
    await nextTask();
    expect(frame.parent.postMessage).toHaveBeenCalledWith(expect.objectContaining({ type: 'error', code: 'bad-method' }), HOST);
    expect(submit).toHaveBeenLastCalledWith(expect.objectContaining({ text: 'cats', method: null }));

    bridge.stop();
    expect(frame.listeners.size).toBe(0);
  });

  it('each results message tells the host whether anything matches well (noMatch)', async () => {
    // (Svelte effects do not run under Node, so the message the bridge's effect posts is built here.)
    const m = new SearchManager();
    await m.start({ appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' });
    const model = { id: 'm1', name: 'M1', description: '', family: 'f', creator: 'c', licence: 'l', resolution: '', links: [], thumbnails: ['t/0.webp'] };
    const answer = (match: SearchResponse['match']): SearchResponse => ({
      backend: 'wasm',
      method: 'first-moment',
      encodeMs: 1,
      scoreMs: 1,
      results: [{ rank: 1, index: 0, score: 0.1, contentScore: 0.1, model }],
      scores: new Float32Array(3),
      matched: 3,
      facets: {},
      hybrid: false,
      match,
    });
    const cases: [SearchResponse['match'], boolean][] = [
      [{ kind: 'weak', best: 0.1, threshold: 0.2 }, true],
      [{ kind: 'ok', best: 0.9, threshold: 0.2 }, false],
      [{ kind: 'no-information', best: 0 }, true],
    ];
    for (const [i, [match, noMatch]] of cases.entries()) {
      const done = m.submit({ text: `q${i}` });
      pending[pending.length - 1].resolve(answer(match));
      await done;
      const msg = resultsMessage(m, 'http://x/i/');
      expect(msg).toEqual({
        protocol: 'model-search',
        version: 1,
        type: 'results',
        query: `“q${i}”`,
        method: 'first-moment',
        results: [{ rank: 1, id: 'm1', name: 'M1', score: 0.1, family: 'f', creator: 'c', licence: 'l', thumbnail: 'http://x/i/t/0.webp' }],
        noMatch,
      });
      // What the host's validator (the <model-search> element) accepts.
      expect(parseAppMessage(structuredClone(msg))).toEqual(msg);
    }
    await m.submit({ text: '' });
    expect(resultsMessage(m, 'http://x/i/')).toMatchObject({ type: 'results', query: '', results: [], noMatch: false });
  });

  it('messages from another origin or window never reach submit, and are logged, not answered', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = new SearchManager();
    const submit = vi.spyOn(m, 'submit');
    const bridge = startEmbedBridge(m, { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: `?parentOrigin=${encodeURIComponent(HOST)}` });
    frame.receive(query({ text: 'evil' }), 'https://evil.example');
    frame.receive(query({ text: 'evil' }), HOST, {});
    frame.receive({ type: 'query', text: 'no envelope' });
    await nextTask();
    expect(submit).not.toHaveBeenCalled();
    expect(frame.parent.postMessage).not.toHaveBeenCalledWith(expect.objectContaining({ type: 'error' }), expect.anything());
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      `[embed] ignored a message: it came from https://evil.example, but this app is embedded for ${HOST}.`,
      `[embed] ignored a message: it came from ${HOST}, not from the page that embeds this app.`,
      '[embed] ignored a message: field "protocol" is missing.',
    ]);
    bridge.stop();
  });

  it('a message of this protocol that breaks it is answered with an error naming the field', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = new SearchManager();
    const submit = vi.spyOn(m, 'submit');
    const bridge = startEmbedBridge(m, { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: `?parentOrigin=${encodeURIComponent(HOST)}` });
    const answers: [unknown, string][] = [
      [query({ text: 'cats', k: 5 }), 'field "k" is not part of the protocol'],
      [query({ text: 7 }), 'field "text" must be a string, not a number'],
      [query({ text: 'a'.repeat(600) }), 'field "text" has 600 characters (limit 500)'],
      [{ ...query({ text: 'a' }), version: 2 }, 'field "version" is 2; this app speaks version 1'],
      [JSON.parse('{"protocol":"model-search","version":1,"type":"query","__proto__":{"polluted":true}}'), 'field "__proto__" is not part of the protocol'],
    ];
    for (const [data, words] of answers) {
      frame.parent.postMessage.mockClear();
      frame.receive(data);
      const sent = frame.parent.postMessage.mock.calls.map((c) => c[0] as { type: string; code: string; message: string });
      expect(sent).toEqual([expect.objectContaining({ type: 'error', code: 'bad-message' })]);
      expect(sent[0].message).toContain(words);
      expect(parseAppMessage(structuredClone(sent[0]))).toEqual(sent[0]);
    }
    await nextTask();
    expect(submit).not.toHaveBeenCalled();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    bridge.stop();
  });

  it('a burst of queries runs once, with the last one', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    const m = new SearchManager();
    const submit = vi.spyOn(m, 'submit').mockResolvedValue();
    const bridge = startEmbedBridge(m, { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: `?parentOrigin=${encodeURIComponent(HOST)}` });
    for (let i = 0; i < 1000; i++) frame.receive(query({ text: `q${i}` }));
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(1);
    expect(submit).toHaveBeenCalledWith(expect.objectContaining({ text: 'q999' }));
    // A query still waiting when the bridge stops is dropped.
    frame.receive(query({ text: 'late' }));
    bridge.stop();
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(1);
  });

  it('messages that arrive while the allowlist loads are kept and then checked like any other', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let answer!: (r: Response) => void;
    vi.stubGlobal('fetch', () => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal('location', { search: `?embed=1&parentOrigin=${encodeURIComponent(HOST)}` });
    const m = new SearchManager();
    const submit = vi.spyOn(m, 'submit').mockResolvedValue();
    const stop = connectEmbed(m, { appBase: 'http://x/', indexBase: 'http://x/i/' });
    frame.receive(query({ text: 'evil' }), 'https://evil.example');
    frame.receive(query({ text: 'red flowers' }));
    answer(new Response(JSON.stringify({ allowedOrigins: [HOST] })));
    await vi.waitFor(() => expect(submit).toHaveBeenCalledTimes(1));
    expect(submit).toHaveBeenCalledWith(expect.objectContaining({ text: 'red flowers' }));
    stop();
    expect(frame.listeners.size).toBe(0);
  });

  it('like-images goes in as a samples query; a bad header is answered with bad-image naming the image; the last of a burst wins', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const m = new SearchManager();
    await m.start({ appBase: 'http://x/', indexUrl: 'http://x/i/', backend: 'auto' });
    const submit = vi.spyOn(m, 'submit');
    const bridge = startEmbedBridge(m, { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: `?parentOrigin=${encodeURIComponent(HOST)}` });
    frame.receive(likeImages([pngHeader(), pngHeader()], { name: 'My model', method: 'first-moment' }));
    await nextTask();
    expect(submit).toHaveBeenCalledWith({ samples: { blobs: [expect.any(Blob), expect.any(Blob)], label: 'My model' }, text: '', like: null, method: 'first-moment' });
    expect(pending[0]!.request.parts).toEqual([{ part: { kind: 'samples', images: [expect.any(Blob), expect.any(Blob)], label: 'My model' }, weight: 1 }]);

    frame.receive(likeImages([pngHeader(), new Uint8Array([1, 2, 3, 4]).buffer]));
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(1);
    expect(frame.parent.postMessage).toHaveBeenLastCalledWith(
      expect.objectContaining({ type: 'error', code: 'bad-image', message: expect.stringMatching(/image 2 could not be read as an image/) }),
      HOST,
    );

    // A burst: a query then like-images: one search, the like-images.
    frame.receive(query({ text: 'cats' }));
    frame.receive(likeImages([pngHeader()]));
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(2);
    expect(submit).toHaveBeenLastCalledWith(expect.objectContaining({ samples: { blobs: [expect.any(Blob)] } }));
    // From another origin: ignored, never submitted.
    frame.receive(likeImages([pngHeader()]), 'https://evil.example');
    await nextTask();
    expect(submit).toHaveBeenCalledTimes(2);
    bridge.stop();
  });

  it('while the allowlist loads, only the latest like-images message is kept', async () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let answer!: (r: Response) => void;
    vi.stubGlobal('fetch', () => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal('location', { search: `?embed=1&parentOrigin=${encodeURIComponent(HOST)}` });
    const m = new SearchManager();
    const submit = vi.spyOn(m, 'submit').mockResolvedValue();
    const stop = connectEmbed(m, { appBase: 'http://x/', indexBase: 'http://x/i/' });
    // Three held like-images messages that break the protocol: only the latest is kept, so one answer.
    for (let i = 0; i < 3; i++) frame.receive(likeImages([new Uint8Array(4) as unknown as ArrayBuffer], { name: `n${i}` }));
    frame.receive(query({ text: 'between' }));
    answer(new Response(JSON.stringify({ allowedOrigins: [HOST] })));
    await vi.waitFor(() => expect(submit).toHaveBeenCalledTimes(1));
    expect(submit).toHaveBeenCalledWith(expect.objectContaining({ text: 'between' }));
    const errors = frame.parent.postMessage.mock.calls.filter(([msg]) => msg.type === 'error');
    expect(errors).toEqual([[expect.objectContaining({ code: 'bad-message', message: expect.stringMatching(/image 1 is a Uint8Array/) }), HOST]]);
    stop();
  });

  it('a parent origin that is not allowed gets no bridge', () => {
    const frame = fakeFrame();
    vi.stubGlobal('window', frame.win);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bridge = startEmbedBridge(new SearchManager(), { allowedOrigins: [HOST], indexBase: 'http://x/i/', search: '?parentOrigin=https%3A%2F%2Fother.example' });
    expect(bridge.active).toBe(false);
    expect(frame.listeners.size).toBe(0);
  });
});

describe('embedLayout', () => {
  it('is compact (the host drives the query) unless the host asked for the search box', async () => {
    const { embedLayout } = await import('./embedBridge.svelte.ts');
    expect(embedLayout('?embed=1&q=red%20flowers')).toBe('compact');
    expect(embedLayout('?embed=1&like=m3')).toBe('compact');
    expect(embedLayout('?embed=1')).toBe('compact');
    expect(embedLayout('?embed=1&q=red&box=1')).toBe('with-search-box');
    expect(embedLayout('?embed=1&box=0')).toBe('compact');
  });
});
