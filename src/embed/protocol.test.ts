import { describe, expect, it } from 'vitest';
import type { RankedModel } from '../shared/protocol.ts';
import {
  EMBED_PROTOCOL,
  EMBED_VERSION,
  MAX_FRAME_HEIGHT,
  MAX_EMBED_IMAGE_BYTES,
  MAX_EMBED_IMAGES,
  MAX_EMBED_TOTAL_BYTES,
  MAX_LIKE,
  MAX_NAME,
  MAX_TEXT,
  isAllowedOrigin,
  normaliseOrigin,
  parseAllowedOrigins,
  parseAppMessage,
  parseHostMessage,
  checkHostMessage,
  toEmbedResult,
  type EmbedResult,
  type HostQuery,
} from './protocol.ts';
import { embedFrameUrl, readEmbedImages } from './modelSearchElement.ts';

const env = { protocol: EMBED_PROTOCOL, version: EMBED_VERSION };

describe('parseHostMessage', () => {
  it('accepts a text query, a like query, a method and an empty (clearing) query', () => {
    expect(parseHostMessage({ ...env, type: 'query', text: 'red flowers' })).toEqual({ ...env, type: 'query', text: 'red flowers' });
    expect(parseHostMessage({ ...env, type: 'query', like: 'scarlet-blossom-pixel-v1-e0234', method: 'first-moment' })).toEqual({
      ...env,
      type: 'query',
      like: 'scarlet-blossom-pixel-v1-e0234',
      method: 'first-moment',
    });
    expect(parseHostMessage({ ...env, type: 'query' })).toEqual({ ...env, type: 'query' });
    // Absent fields given as undefined (structured clone keeps them) count as absent.
    expect(parseHostMessage({ ...env, type: 'query', text: 'x', like: undefined })).toEqual({ ...env, type: 'query', text: 'x' });
  });

  it('accepts an object without a prototype (as some hosts build them)', () => {
    const msg = Object.assign(Object.create(null) as object, { ...env, type: 'query', text: 'cats' });
    expect((parseHostMessage(msg) as HostQuery | null)?.text).toBe('cats');
  });

  it('rejects the wrong protocol, version or type', () => {
    expect(parseHostMessage({ ...env, protocol: 'other', type: 'query', text: 'a' })).toBeNull();
    expect(parseHostMessage({ ...env, version: 2, type: 'query', text: 'a' })).toBeNull();
    expect(parseHostMessage({ ...env, version: '1', type: 'query', text: 'a' })).toBeNull();
    expect(parseHostMessage({ type: 'query', text: 'a' })).toBeNull();
    for (const type of ['results', 'ready', 'select', 'error', 'eval', 'QUERY', undefined]) {
      expect(parseHostMessage({ ...env, type, text: 'a' })).toBeNull();
    }
  });

  it('rejects non-objects and odd objects', () => {
    for (const data of [null, undefined, 'query', 42, true, [], [{ ...env, type: 'query' }], new Date(), new Map()]) {
      expect(parseHostMessage(data)).toBeNull();
    }
    class Query {
      protocol = EMBED_PROTOCOL;
      version = EMBED_VERSION;
      type = 'query';
    }
    expect(parseHostMessage(new Query())).toBeNull();
    const withGetter = { ...env, type: 'query', get text() { return 'sneaky'; } };
    expect(parseHostMessage(withGetter)).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', [Symbol('x')]: 1 })).toBeNull();
  });

  it('rejects fields of the wrong kind', () => {
    expect(parseHostMessage({ ...env, type: 'query', text: 42 })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', text: ['a'] })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', like: { id: 'x' } })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', text: 'a', method: 'Gaussian Density' })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', text: 'a', method: '<script>' })).toBeNull();
  });

  it('bounds string lengths', () => {
    expect((parseHostMessage({ ...env, type: 'query', text: 'a'.repeat(MAX_TEXT) }) as HostQuery | null)?.text).toHaveLength(MAX_TEXT);
    expect(parseHostMessage({ ...env, type: 'query', text: 'a'.repeat(MAX_TEXT + 1) })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', text: 'a'.repeat(10_000_000) })).toBeNull();
    expect((parseHostMessage({ ...env, type: 'query', like: 'm'.repeat(MAX_LIKE) }) as HostQuery | null)?.like).toHaveLength(MAX_LIKE);
    expect(parseHostMessage({ ...env, type: 'query', like: 'm'.repeat(MAX_LIKE + 1) })).toBeNull();
    expect(parseHostMessage({ ...env, type: 'query', method: 'a'.repeat(41) })).toBeNull();
  });

  it('rejects unknown and prototype-pollution keys, and never returns the sender’s object', () => {
    expect(parseHostMessage({ ...env, type: 'query', text: 'a', html: '<b>x</b>' })).toBeNull();
    for (const json of [
      `{"protocol":"model-search","version":1,"type":"query","text":"a","__proto__":{"polluted":true}}`,
      `{"protocol":"model-search","version":1,"type":"query","text":"a","constructor":{"prototype":{"polluted":true}}}`,
      `{"protocol":"model-search","version":1,"type":"query","text":"a","prototype":1}`,
    ]) {
      expect(parseHostMessage(JSON.parse(json))).toBeNull();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const sent = { ...env, type: 'query', text: 'a' };
    const parsed = parseHostMessage(sent);
    expect(parsed).not.toBe(sent);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});

describe('checkHostMessage', () => {
  const problem = (data: unknown) => {
    const c = checkHostMessage(data);
    return c.query ? null : [c.problem, c.ours];
  };

  it('says what is wrong, naming the field, and whether the message claims this protocol', () => {
    expect(problem({ ...env, type: 'query', text: 'a', k: 10 })).toEqual(['field "k" is not part of the protocol (a query has protocol, version, type, text, like, method)', true]);
    expect(problem({ ...env, type: 'query', filters: { family: 'x' } })?.[0]).toMatch(/^field "filters" is not part/);
    expect(problem({ ...env, type: 'query', text: 1 })).toEqual(['field "text" must be a string, not a number', true]);
    expect(problem({ ...env, type: 'query', like: ['x'] })).toEqual(['field "like" must be a string, not a list', true]);
    expect(problem({ ...env, type: 'query', method: null })).toEqual(['field "method" must be a string, not null', true]);
    expect(problem({ ...env, type: 'query', method: 'Gauss' })).toEqual(['field "method" is "Gauss": only lower-case letters, digits and "-"', true]);
    expect(problem({ ...env, type: 'query', text: 'a'.repeat(1_000_000) })).toEqual(['field "text" has 1000000 characters (limit 500)', true]);
    expect(problem({ ...env, version: 2, type: 'query' })).toEqual(['field "version" is 2; this app speaks version 1', true]);
    expect(problem({ protocol: EMBED_PROTOCOL, type: 'query' })).toEqual(['field "version" is missing', true]);
    expect(problem({ ...env, type: 'results' })).toEqual(['field "type" is "results"; a host can send "query" or "like-images"', true]);
    expect(problem({ ...env })).toEqual(['field "type" is missing', true]);
    // Not this protocol's: another script's message, to be ignored without an answer.
    expect(problem({ type: 'query', text: 'a' })).toEqual(['field "protocol" is missing', false]);
    expect(problem({ protocol: 'other', version: 1 })).toEqual(['field "protocol" is "other", not "model-search"', false]);
    expect(problem('hello')).toEqual(['the message is a string, not an object', false]);
    expect(problem(null)).toEqual(['the message is null, not an object', false]);
  });

  it('clips a hostile key in its words', () => {
    const key = 'k'.repeat(100_000);
    const [words] = problem({ ...env, type: 'query', [key]: 1 }) as [string];
    expect(words.length).toBeLessThan(200);
    expect(words).toMatch(/^field "k+…" is not part of the protocol/);
  });

  it('names a prototype-pollution key, and pollutes nothing', () => {
    const [words] = problem(JSON.parse('{"protocol":"model-search","version":1,"type":"query","__proto__":{"polluted":true}}')) as [string];
    expect(words).toMatch(/^field "__proto__" is not part of the protocol/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('like-images', () => {
  const problem = (data: unknown) => {
    const c = checkHostMessage(data);
    return c.query ? null : c.problem;
  };
  const like = (extra: object) => ({ ...env, type: 'like-images', ...extra });
  const png = () => new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer;

  it('accepts 1…64 ArrayBuffers with an optional name and method, as a fresh message', () => {
    const images = [png(), png()];
    const parsed = parseHostMessage(like({ images, name: 'My model', method: 'first-moment' }));
    expect(parsed).toEqual({ ...env, type: 'like-images', images, name: 'My model', method: 'first-moment' });
    expect(parsed?.type === 'like-images' && parsed.images).not.toBe(images);
    expect(parsed?.type === 'like-images' && parsed.images[0]).toBe(images[0]);
    expect(parseHostMessage(like({ images: [png()] }))).toEqual({ ...env, type: 'like-images', images: [expect.any(ArrayBuffer)] });
    expect(parseHostMessage(like({ images: Array.from({ length: MAX_EMBED_IMAGES }, png) }))).not.toBeNull();
    expect(parseHostMessage(like({ images: [png()], name: 'n'.repeat(MAX_NAME) }))).not.toBeNull();
  });

  it('names the field and the limit of every problem', () => {
    expect(problem(like({}))).toBe('field "images" is missing');
    expect(problem(like({ images: [] }))).toBe('field "images" is empty (at least 1 image)');
    expect(problem(like({ images: png() }))).toBe('field "images" must be a list of ArrayBuffers, not an object');
    expect(problem(like({ images: Array.from({ length: 80 }, png) }))).toBe('field "images" has 80 entries (limit 64)');
    expect(problem(like({ images: [png(), new Uint8Array(4)] }))).toBe('image 2 is a Uint8Array, not an ArrayBuffer');
    expect(problem(like({ images: [new SharedArrayBuffer(4)] }))).toBe('image 1 is a SharedArrayBuffer, not an ArrayBuffer');
    expect(problem(like({ images: [new Blob(['x'])] }))).toBe('image 1 is a Blob, not an ArrayBuffer');
    expect(problem(like({ images: ['data:image/png;base64,AAAA'] }))).toBe('image 1 is a string, not an ArrayBuffer');
    expect(problem(like({ images: [{ byteLength: 4 }] }))).toBe('image 1 is an object, not an ArrayBuffer');
    expect(problem(like({ images: [{ [Symbol.toStringTag]: 'ArrayBuffer', byteLength: 4 }] }))).toBe('image 1 is a look-alike, not an ArrayBuffer');
    expect(problem(like({ images: [new ArrayBuffer(0)] }))).toBe('image 1 is empty (0 bytes)');
    expect(problem(like({ images: [png(), png(), new ArrayBuffer(20 * 1024 * 1024)] }))).toBe('image 3 has 20.0 MiB (limit 16.0 MiB)');
    const big = Array.from({ length: 5 }, () => new ArrayBuffer(MAX_EMBED_IMAGE_BYTES));
    expect(problem(like({ images: big }))).toBe(`field "images" holds 80.0 MiB in all (limit ${MAX_EMBED_TOTAL_BYTES / 1024 / 1024}.0 MiB)`);
    expect(problem(like({ images: [png()], name: 'n'.repeat(MAX_NAME + 1) }))).toBe('field "name" has 201 characters (limit 200)');
    expect(problem(like({ images: [png()], name: 3 }))).toBe('field "name" must be a string, not a number');
    expect(problem(like({ images: [png()], text: 'a' }))).toBe('field "text" is not part of the protocol (like-images has protocol, version, type, images, name, method)');
    expect(problem({ ...env, type: 'query', images: [png()] })).toMatch(/^field "images" is not part of the protocol \(a query has/);
    const getter = like({});
    Object.defineProperty(getter, 'images', { get: () => [png()], enumerable: true });
    expect(problem(getter)).toBe('field "images" is not a plain value');
    const sneaky = [png()];
    Object.defineProperty(sneaky, 0, { get: () => png(), enumerable: true });
    expect(problem(like({ images: sneaky }))).toBe('image 1 is not a plain value');
  });

  it('the element reads Blobs and copies ArrayBuffers, refusing what breaks a limit with a RangeError naming it', async () => {
    const buf = png();
    const [a, b] = await readEmbedImages([buf, new Blob([new Uint8Array([1, 2])])]);
    expect(a).not.toBe(buf);
    expect(buf.byteLength).toBe(4);
    expect([a!.byteLength, b!.byteLength]).toEqual([4, 2]);
    await expect(readEmbedImages([])).rejects.toThrow(RangeError);
    await expect(readEmbedImages(Array.from({ length: 65 }, png))).rejects.toThrow(/65 images \(limit 64 images per search\)/);
    await expect(readEmbedImages([png(), new ArrayBuffer(MAX_EMBED_IMAGE_BYTES + 1)])).rejects.toThrow(/image 2 has 16777217 bytes \(limit 16777216 bytes = 16 MiB per image\)/);
    await expect(readEmbedImages(Array.from({ length: 5 }, () => new ArrayBuffer(MAX_EMBED_IMAGE_BYTES)))).rejects.toThrow(/limit 67108864 bytes = 64 MiB/);
    await expect(readEmbedImages([new Uint8Array(3) as unknown as ArrayBuffer])).rejects.toThrow(TypeError);
  });

  it('a ready message may list what the app accepts', () => {
    const ready = { ...env, type: 'ready', models: 3, index: 'x', accepts: ['query', 'like-images'] };
    expect(parseAppMessage(ready)).toEqual(ready);
    expect(parseAppMessage({ ...ready, accepts: 'query' })).toBeNull();
    expect(parseAppMessage({ ...ready, accepts: [1] })).toBeNull();
  });
});

const result: EmbedResult = {
  rank: 1,
  id: 'scarlet-blossom-pixel-v1-e0234',
  name: 'Scarlet Blossom Pixel v1',
  score: 0.93,
  family: 'flower',
  creator: 'rustybrush26',
  licence: 'CC0-1.0',
  thumbnail: 'https://search.example/index/demo/thumbs/scarlet-blossom-pixel-v1-e0234/0.webp',
};

describe('parseAppMessage', () => {
  it('accepts each app message type', () => {
    expect(parseAppMessage({ ...env, type: 'ready', models: 300, index: 'demo' })).toEqual({ ...env, type: 'ready', models: 300, index: 'demo' });
    const results = { ...env, type: 'results', query: '“red flowers”', method: 'gaussian', results: [result, { ...result, rank: 2, thumbnail: undefined }] };
    const parsed = parseAppMessage(results);
    expect(parsed?.type).toBe('results');
    expect(parsed && parsed.type === 'results' && parsed.results[1]).toEqual({ ...result, rank: 2, thumbnail: undefined });
    expect(parsed && parsed.type === 'results' && 'thumbnail' in parsed.results[1]).toBe(false);
    expect(parseAppMessage({ ...env, type: 'select', model: result })).toEqual({ ...env, type: 'select', model: result });
    // noMatch: optional in version 1 (older apps leave it out), a boolean when present.
    expect(parsed && 'noMatch' in parsed).toBe(false);
    for (const noMatch of [true, false]) {
      expect(parseAppMessage({ ...results, noMatch })).toEqual({ ...parsed, noMatch });
    }
    expect(parseAppMessage({ ...env, type: 'error', code: 'network', message: 'offline' })).toEqual({ ...env, type: 'error', code: 'network', message: 'offline' });
  });

  it('rejects host messages, wrong versions and malformed results', () => {
    expect(parseAppMessage({ ...env, type: 'query', text: 'a' })).toBeNull();
    expect(parseAppMessage({ ...env, version: 0, type: 'ready', models: 3, index: 'x' })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'ready', models: -1, index: 'x' })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'ready', models: 1.5, index: 'x' })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: 'none' })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: [{ ...result, rank: 0 }] })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: [{ ...result, description: '<img onerror>' }] })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: Array(201).fill(result) })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: [], noMatch: 'yes' })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: [], noMatch: 1 })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'select', model: { ...result, thumbnail: 'javascript:alert(1)' } })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'select', model: { ...result, name: 7 } })).toBeNull();
    expect(parseAppMessage({ ...env, type: 'error', code: 'x', message: 'm', html: '<b>' })).toBeNull();
  });
});

describe('toEmbedResult', () => {
  const ranked: RankedModel = {
    rank: 3,
    index: 17,
    score: -12.5,
    contentScore: -14,
    model: {
      id: 'scarlet-blossom-pixel-v1-e0234',
      name: '<img src=x onerror=alert(1)>',
      description: 'secret-ish long description',
      family: 'flower',
      creator: 'rustybrush26',
      licence: 'CC0-1.0',
      resolution: '224×224',
      links: [{ label: 'home', url: 'https://example.com/' }],
      thumbnails: ['thumbs/scarlet-blossom-pixel-v1-e0234/0.webp', 'thumbs/scarlet-blossom-pixel-v1-e0234/1.webp'],
    },
  };

  it('keeps only plain fields and resolves the first thumbnail to an absolute URL', () => {
    const r = toEmbedResult(ranked, 'https://search.example/app/index/demo/');
    expect(Object.keys(r).sort()).toEqual(['creator', 'family', 'id', 'licence', 'name', 'rank', 'score', 'thumbnail']);
    expect(r).toEqual({
      rank: 3,
      id: 'scarlet-blossom-pixel-v1-e0234',
      name: '<img src=x onerror=alert(1)>', // text, passed as text: the receiver must not parse it
      score: -12.5,
      family: 'flower',
      creator: 'rustybrush26',
      licence: 'CC0-1.0',
      thumbnail: 'https://search.example/app/index/demo/thumbs/scarlet-blossom-pixel-v1-e0234/0.webp',
    });
    for (const v of Object.values(r)) expect(['string', 'number']).toContain(typeof v);
    // What the app sends is what the element accepts.
    expect(parseAppMessage({ ...env, type: 'select', model: r })).toEqual({ ...env, type: 'select', model: r });
  });

  it('leaves out a missing thumbnail and clips over-long text', () => {
    const r = toEmbedResult({ ...ranked, model: { ...ranked.model, thumbnails: [], name: 'n'.repeat(5000) } }, 'https://search.example/index/demo/');
    expect('thumbnail' in r).toBe(false);
    expect(r.name).toHaveLength(500);
    expect(parseAppMessage({ ...env, type: 'results', query: 'q', method: 'gaussian', results: [r] })).not.toBeNull();
  });
});

describe('origins', () => {
  it('normalises exact http(s) origins', () => {
    expect(parseAllowedOrigins(['https://Models.Example', 'https://models.example/', 'http://127.0.0.1:4180', 'https://a.example:443', 'http://[::1]:8080'])).toEqual([
      'https://models.example',
      'http://127.0.0.1:4180',
      'https://a.example',
      'http://[::1]:8080',
    ]);
  });

  it('rejects paths, queries, credentials, null, wildcards in names and other schemes', () => {
    const bad = [
      'https://models.example/search',
      'https://models.example/.',
      'https://models.example?x=1',
      'https://models.example#top',
      'https://user:pw@models.example',
      'null',
      '',
      '  ',
      'models.example',
      '//models.example',
      'https://*.models.example',
      'ftp://models.example',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'chrome-extension://abc',
      '**',
    ];
    for (const o of bad) expect(parseAllowedOrigins([o]), o).toEqual([]);
    expect(parseAllowedOrigins([1, null, { origin: 'https://a.example' }, ['https://a.example']])).toEqual([]);
    expect(normaliseOrigin('https://a.example/path')).toBeNull();
  });

  it('gives an empty allowlist for anything but a list', () => {
    for (const v of [undefined, null, 'https://a.example', { allowedOrigins: ['https://a.example'] }, 3]) {
      expect(parseAllowedOrigins(v)).toEqual([]);
    }
  });

  it('keeps * only when listed exactly', () => {
    expect(parseAllowedOrigins(['*'])).toEqual(['*']);
    expect(parseAllowedOrigins(['https://*'])).toEqual([]);
    expect(parseAllowedOrigins(['*.example'])).toEqual([]);
  });

  it('matches exactly on scheme, host and port', () => {
    const allow = parseAllowedOrigins(['https://a.example', 'http://localhost:4180']);
    expect(isAllowedOrigin('https://a.example', allow)).toBe(true);
    expect(isAllowedOrigin('http://localhost:4180', allow)).toBe(true);
    for (const o of [
      'https://a.example.evil.com',
      'https://evil.com',
      'https://sub.a.example',
      'https://xa.example',
      'http://a.example',
      'https://a.example:8443',
      'http://localhost:4181',
      'http://localhost',
      'http://127.0.0.1:4180',
      'https://a.example/',
      'https://A.example',
      'null',
      '',
      'file://',
    ]) {
      expect(isAllowedOrigin(o, allow), o).toBe(false);
    }
  });

  it('lets * match any http(s) origin but never the opaque null origin', () => {
    expect(isAllowedOrigin('https://anything.example', ['*'])).toBe(true);
    expect(isAllowedOrigin('null', ['*'])).toBe(false);
    expect(isAllowedOrigin('chrome-extension://abc', ['*'])).toBe(false);
    expect(isAllowedOrigin('https://a.example', [])).toBe(false);
  });
});

describe('the resize message (added to version 1)', () => {
  it('carries a whole, non-negative height up to MAX_FRAME_HEIGHT, nothing else', () => {
    expect(parseAppMessage({ ...env, type: 'resize', height: 812 })).toEqual({ ...env, type: 'resize', height: 812 });
    expect(parseAppMessage({ ...env, type: 'resize', height: 0 })).toEqual({ ...env, type: 'resize', height: 0 });
    expect(parseAppMessage({ ...env, type: 'resize', height: MAX_FRAME_HEIGHT })?.type).toBe('resize');
    for (const height of [-1, 12.5, MAX_FRAME_HEIGHT + 1, Number.NaN, Infinity, '800', null]) {
      expect(parseAppMessage({ ...env, type: 'resize', height }), String(height)).toBeNull();
    }
    expect(parseAppMessage({ ...env, type: 'resize', height: 10, width: 5 })).toBeNull();
    expect(parseAppMessage({ protocol: EMBED_PROTOCOL, version: 2, type: 'resize', height: 10 })).toBeNull();
  });
});

describe('embedFrameUrl', () => {
  it('asks for the search box only when the host wants it', () => {
    const base = { parentOrigin: 'https://host.example', baseUrl: 'https://host.example/page' };
    const compact = embedFrameUrl('https://app.example/search/', { ...base, query: 'red flowers' })!;
    expect(compact.searchParams.get('q')).toBe('red flowers');
    expect(compact.searchParams.has('box')).toBe(false);
    expect(embedFrameUrl('https://app.example/search/', { ...base, query: 'x', searchBox: true })!.searchParams.get('box')).toBe('1');
    expect(embedFrameUrl('javascript:alert(1)', base)).toBeNull();
  });
});
