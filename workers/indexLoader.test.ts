import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../src/core/io/errors.ts';
import type { LoadProgress } from '../src/shared/protocol.ts';
import { loadIndex as loadAny, startIndexLoad } from './indexLoader.ts';
import type { OpenedIndex } from '../src/core/index/openIndex.ts';

/** These tests load the version 1 colours index (tiered indexes: test/e2e/tiered.spec.ts). */
const loadIndex = (...args: Parameters<typeof loadAny>) => loadAny(...args) as Promise<OpenedIndex>;
import { VerifiedFileStore } from './storage/fileStore.ts';

const BASE = 'https://host.test/index/colours/';
const DIR = new URL('../public/index/colours/', import.meta.url);
const real = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Serves an index folder from memory at BASE; `offline` makes every request fail like a browser offline. */
function serve(files: Record<string, Uint8Array>, state = { offline: false }) {
  const calls: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      calls.push(url);
      if (state.offline) throw new TypeError('Failed to fetch');
      const name = url.slice(BASE.length);
      return files[name] ? new Response(files[name].slice()) : new Response('not found', { status: 404 });
    }),
  );
  return { calls, state };
}

/** The colours index with models.json replaced (and the manifest's size and checksum updated to match). */
function withModels(models: unknown[]): Record<string, Uint8Array> {
  const modelsJson = new TextEncoder().encode(JSON.stringify(models));
  const manifest = JSON.parse(new TextDecoder().decode(real('manifest.json')));
  manifest.files['models.json'] = { bytes: modelsJson.byteLength, sha256: sha(modelsJson) };
  return { 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)), 'index.bin': real('index.bin'), 'models.json': modelsJson };
}

let n = 0;
const freshStore = () => new VerifiedFileStore(createStore(`index-loader-test-${++n}`, 'files'));
const colours = () => ({ 'manifest.json': real('manifest.json'), 'index.bin': real('index.bin'), 'models.json': real('models.json') });

/** The worker's own origin (its policy's 'self'): the index host of these tests, unless a test moves it. */
const atOrigin = (origin: string) => vi.stubGlobal('location', { origin, href: `${origin}/app/` });
beforeEach(() => atOrigin('https://host.test'));
afterEach(() => vi.unstubAllGlobals());

describe('loadIndex (the worker side of openIndex)', () => {
  it('loads, verifies and reports byte progress for each file; the temperature comes with the index', async () => {
    serve(colours());
    const events: LoadProgress[] = [];
    const loaded = await loadIndex(BASE, (p) => events.push(p));
    expect(loaded.index.count).toBe(12);
    expect(loaded.ids.get(loaded.models[5].id)).toBe(5);
    expect(loaded.temperature).toBe(100); // test encoder: CLIP's value
    for (const file of ['index.bin', 'models.json']) {
      expect(events.find((e) => e.status === 'initiate' && e.file === file)).toBeTruthy();
      expect(events.find((e) => e.status === 'done' && e.file === file)).toBeTruthy();
    }
  });

  it('offline, it uses the manifest saved with the last complete index and says so as data', async () => {
    const store = freshStore();
    const server = serve(colours());
    await loadIndex(BASE, () => {}, { store });
    server.state.offline = true;
    const events: LoadProgress[] = [];
    const again = await loadIndex(BASE, (p) => events.push(p), { store });
    expect(again.models.map((m) => m.id)).toHaveLength(12);
    const notice = events.find((e) => e.status === 'storage');
    expect(notice).toMatchObject({ status: 'storage', notice: { kind: 'offline-index' } });
  });

  it('offline with nothing saved, the network error surfaces (no hang, no empty index)', async () => {
    serve(colours(), { offline: true });
    const err = await loadIndex(BASE, () => {}, { store: freshStore() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('network');
  });

  it('rejects duplicate model ids even when every checksum matches', async () => {
    const models = JSON.parse(new TextDecoder().decode(real('models.json'))) as { id: string }[];
    models[7].id = models[2].id;
    serve(withModels(models));
    const err = await loadIndex(BASE, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('index-format');
    expect((err as Error).message).toBe(`The model list is invalid: models 3 and 8 share the id "${models[2].id}".`);
  });

  it('names a manifest that is missing (a web page came back) or not JSON, and a file that fails its checksum', async () => {
    serve({ ...colours(), 'manifest.json': new TextEncoder().encode('<!doctype html><html>app</html>') });
    const missing = await loadIndex(BASE, () => {}).catch((e: unknown) => e);
    expect((missing as AppError).code).toBe('http');
    expect((missing as Error).message).toBe('The index manifest was not found: the server sent a web page instead (is there an index at this address?).');
    serve({ ...colours(), 'manifest.json': new TextEncoder().encode('{"name": ') });
    await expect(loadIndex(BASE, () => {})).rejects.toThrow('The index manifest is not valid JSON.');
    const bad = colours();
    bad['index.bin'] = bad['index.bin'].slice();
    bad['index.bin'][200] ^= 1;
    serve(bad);
    await expect(loadIndex(BASE, () => {})).rejects.toThrow(/index\.bin failed its checksum/);
  });

  it('gives the manifest before the index files arrive, so the encoder can load alongside them', async () => {
    const files = colours();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const name = url.slice(BASE.length);
        if (name === 'index.bin') await held;
        return new Response(files[name as keyof typeof files].slice());
      }),
    );
    const events: LoadProgress[] = [];
    const load = startIndexLoad(BASE, (p) => events.push(p));
    const manifest = await load.manifest;
    expect(manifest.encoder).toMatchObject({ id: 'test-encoder', dim: 32 });
    expect(events.some((e) => e.status === 'done' && e.file === 'index.bin')).toBe(false);
    expect(events.find((e) => e.status === 'initiate' && e.file === 'index.bin')).toMatchObject({ kind: 'index', label: 'Index index.bin', total: files['index.bin'].byteLength });
    release();
    expect(((await load.index) as OpenedIndex).index.count).toBe(12);
  });

  it('a manifest that is not one rejects the manifest and the index with the same clear error', async () => {
    serve({ ...colours(), 'manifest.json': new TextEncoder().encode('<!doctype html><html>app</html>') });
    const load = startIndexLoad(BASE, () => {});
    await expect(load.manifest).rejects.toThrow('The index manifest was not found: the server sent a web page instead (is there an index at this address?).');
    await expect(load.index).rejects.toThrow('The index manifest was not found');
  });

  it('a second load comes from verified storage: only the manifest is fetched again', async () => {
    const store = freshStore();
    const server = serve(colours());
    await loadIndex(BASE, () => {}, { store });
    const before = server.calls.length;
    const events: LoadProgress[] = [];
    await loadIndex(BASE, (p) => events.push(p), { store });
    expect(server.calls.slice(before)).toEqual([`${BASE}manifest.json`]);
    // Reported as saved copies, never as downloads.
    expect(events.filter((e) => e.status === 'download')).toEqual([]);
    expect(events.filter((e) => e.status === 'cached').map((e) => e.status === 'cached' && e.file).sort()).toEqual(['index.bin', 'models.json']);
  });
});

describe('the worker refuses index addresses outside its policy (src/shared/policy.ts)', () => {
  /** Serves the colours index under any base, recording every URL asked for; `redirect` makes responses claim to come from elsewhere. */
  function serveAnywhere(redirect?: (url: string) => string | undefined) {
    const files = colours();
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        calls.push(url);
        const name = url.slice(url.lastIndexOf('/') + 1) as keyof typeof files;
        const response = files[name] ? new Response(files[name].slice()) : new Response('not found', { status: 404 });
        const to = redirect?.(url);
        if (to) Object.defineProperty(response, 'url', { value: to });
        return response;
      }),
    );
    return calls;
  }

  it('refuses an index on a host the build does not list, before fetching anything, naming ?index= and how to allow a host', async () => {
    const calls = serveAnywhere();
    const err = await loadIndex('https://other-host.test/idx/', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('bad-query');
    expect((err as Error).message).toContain('?index= (“https://other-host.test/idx/”)');
    expect((err as Error).message).toContain('https://other-host.test, a host this site does not allow');
    expect((err as Error).message).toContain('MODEL_SEARCH_CONNECT_SRC');
    expect(calls).toEqual([]);
  });

  it('loads an index from a host the build lists (a subdomain of https://*.hf.co) and from its own origin', async () => {
    serveAnywhere();
    expect((await loadIndex('https://datasets.hf.co/idx/', () => {})).index.count).toBe(12);
    expect((await loadIndex('https://host.test/elsewhere/', () => {})).index.count).toBe(12);
  });

  it('refuses look-alike hosts, other schemes and addresses with credentials, each with a sentence', async () => {
    const calls = serveAnywhere();
    for (const [url, words] of [
      ['https://hf.co.evil.test/idx/', 'a host this site does not allow'],
      ['https://evilhf.co/idx/', 'a host this site does not allow'],
      ['http://datasets.hf.co/idx/', 'a host this site does not allow'],
      ['https://datasets.hf.co:8443/idx/', 'a host this site does not allow'],
      ['javascript:alert(1)//', 'is not an http(s) address'],
      ['data:text/plain,x/', 'is not an http(s) address'],
      ['https://user:secret@host.test/idx/', 'contains a user name or password'],
    ]) {
      const err = await loadIndex(url, () => {}).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(AppError);
      expect((err as Error).message, url).toContain('?index=');
      expect((err as Error).message, url).toContain(words);
    }
    expect(calls).toEqual([]);
  });

  it('a saved copy of an index does not get round the policy (no offline fallback for a refused host)', async () => {
    const store = freshStore();
    serveAnywhere();
    await loadIndex(BASE, () => {}, { store });
    atOrigin('https://app.test'); // the same index address is now another origin's, and not listed
    const calls = serveAnywhere();
    await expect(loadIndex(BASE, () => {}, { store })).rejects.toThrow('a host this site does not allow');
    expect(calls).toEqual([]);
  });

  it('refuses a manifest or index file that a redirect brought from a host outside the policy, and says so (not "network error")', async () => {
    serveAnywhere((url) => (url.endsWith('manifest.json') ? 'https://evil.test/idx/manifest.json' : undefined));
    const err = await loadIndex(BASE, () => {}, { store: freshStore() }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('bad-query');
    expect((err as Error).message).toContain('manifest.json (from ?index=) was redirected from https://host.test to https://evil.test');

    serveAnywhere((url) => (url.endsWith('index.bin') ? 'https://evil.test/idx/index.bin' : undefined));
    await expect(loadIndex(BASE, () => {})).rejects.toThrow('Index index.bin was redirected from https://host.test to https://evil.test');

    // A redirect that stays within the policy is followed as before.
    serveAnywhere((url) => url.replace('https://host.test/', 'https://cdn.hf.co/'));
    expect((await loadIndex(BASE, () => {})).index.count).toBe(12);
  });
});
