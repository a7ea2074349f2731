import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { AppError } from '../io/errors.ts';
import { MANIFEST_FORMAT, manifestVersion, METADATA_LIMITS, metadataOverLimit, parseManifest, parseModelMetaList, parseModels, parseTieredManifest, safeLinks, thumbnailUrl, type ModelMeta } from './manifest.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = '0123456789abcdef'.repeat(4);

function validManifest(): Record<string, unknown> {
  return {
    format: 'model-search-index',
    formatVersion: 1,
    name: 'demo',
    createdWith: 'tools/build-demo-index.ts',
    encoder: { id: 'clip-vit-b32', dim: 512 },
    count: 12,
    licence: 'CC0-1.0',
    files: {
      'index.bin': { bytes: 24704, sha256: SHA_A },
      'models.json': { bytes: 0, sha256: SHA_B },
    },
  };
}

/** Deep copy with one change applied. */
function variant(edit: (m: Record<string, any>) => void): unknown {
  const m = structuredClone(validManifest());
  edit(m);
  return m;
}

function expectFormatError(
  fn: () => unknown,
  pattern: RegExp,
  subject = 'manifest.json',
  prefix = /^The index manifest is invalid: .+\.$/,
): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an AppError').toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe('index-format');
  expect(err.subject).toBe(subject);
  expect(err.message).toMatch(prefix);
  expect(err.message).toMatch(pattern);
  return err;
}

describe('parseManifest', () => {
  it('accepts a valid manifest and returns it unchanged', () => {
    const json = validManifest();
    const m = parseManifest(json);
    expect(m).toEqual(validManifest());
    expect(m.format).toBe(MANIFEST_FORMAT);
    expect(m.files['index.bin'].sha256).toBe(SHA_A);
  });

  it('keeps at most 8 short, distinct example queries and rejects non-string ones', () => {
    const long = 'x'.repeat(200);
    const m = parseManifest({ ...validManifest(), examples: ['  red   flowers ', 'red flowers', '', long, ...'abcdefghij'.split('')] });
    expect(m.examples).toEqual(['red flowers', 'x'.repeat(80), 'a', 'b', 'c', 'd', 'e', 'f']);
    expect(() => parseManifest({ ...validManifest(), examples: [1] })).toThrow(/examples/);
    expect(() => parseManifest({ ...validManifest(), examples: '<b>' })).toThrow(/examples/);
  });

  it('accepts the demo index shipped in public/', () => {
    const json: unknown = JSON.parse(
      readFileSync(new URL('../../../public/index/demo/manifest.json', import.meta.url), 'utf8'),
    );
    const m = parseManifest(json);
    expect(m.count).toBeGreaterThan(0);
    expect(m.encoder.dim).toBeGreaterThan(0);
  });

  it('ignores unknown extra fields', () => {
    expect(() => parseManifest(variant((m) => (m.extra = { anything: true })))).not.toThrow();
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'model-search-index'],
    ['undefined', undefined],
  ])('rejects %s', (_label, json) => {
    expectFormatError(() => parseManifest(json), /not a JSON object|format is/);
  });

  it('rejects a JSON array (no format field)', () => {
    expectFormatError(() => parseManifest([]), /format is "undefined"/);
  });

  type Case = [string, (m: Record<string, any>) => void, RegExp];
  const cases: Case[] = [
    ['missing format', (m) => delete m.format, /format is "undefined", expected "model-search-index"/],
    ['wrong format', (m) => (m.format = 'safetensors'), /format is "safetensors"/],
    ['missing formatVersion', (m) => delete m.formatVersion, /format version undefined is not supported/],
    ['formatVersion 2', (m) => (m.formatVersion = 2), /this is a tiered \(version 2\) index/],
    ['formatVersion 3', (m) => (m.formatVersion = 3), /format version 3 is not supported/],
    ['formatVersion "1" (string)', (m) => (m.formatVersion = '1'), /format version 1 is not supported/],
    ['missing name', (m) => delete m.name, /name must be a string/],
    ['numeric name', (m) => (m.name = 7), /name must be a string/],
    ['missing createdWith', (m) => delete m.createdWith, /createdWith must be a string/],
    ['missing licence', (m) => delete m.licence, /licence must be a string/],
    ['licence as object', (m) => (m.licence = { spdx: 'MIT' }), /licence must be a string/],
    ['missing encoder', (m) => delete m.encoder, /encoder id\/dim missing/],
    ['encoder as string', (m) => (m.encoder = 'clip'), /encoder id\/dim missing/],
    ['missing encoder.id', (m) => delete m.encoder.id, /encoder id\/dim missing/],
    ['numeric encoder.id', (m) => (m.encoder.id = 5), /encoder id\/dim missing/],
    ['missing encoder.dim', (m) => delete m.encoder.dim, /encoder id\/dim missing/],
    ['fractional encoder.dim', (m) => (m.encoder.dim = 511.5), /encoder id\/dim missing/],
    ['string encoder.dim', (m) => (m.encoder.dim = '512'), /encoder id\/dim missing/],
    ['zero encoder.dim', (m) => (m.encoder.dim = 0), /encoder id\/dim missing/],
    ['missing count', (m) => delete m.count, /model count missing/],
    ['count 0', (m) => (m.count = 0), /model count missing/],
    ['negative count', (m) => (m.count = -3), /model count missing/],
    ['fractional count', (m) => (m.count = 1.5), /model count missing/],
    ['string count', (m) => (m.count = '12'), /model count missing/],
    ['missing files', (m) => delete m.files, /file sizes\/checksums missing/],
    ['files as array', (m) => (m.files = []), /file sizes\/checksums missing/],
    ['missing index.bin entry', (m) => delete m.files['index.bin'], /file sizes\/checksums missing/],
    ['missing models.json entry', (m) => delete m.files['models.json'], /file sizes\/checksums missing/],
    ['null index.bin entry', (m) => (m.files['index.bin'] = null), /file sizes\/checksums missing/],
    ['missing bytes', (m) => delete m.files['index.bin'].bytes, /file sizes\/checksums missing/],
    ['negative bytes', (m) => (m.files['index.bin'].bytes = -1), /file sizes\/checksums missing/],
    ['fractional bytes', (m) => (m.files['models.json'].bytes = 10.5), /file sizes\/checksums missing/],
    ['string bytes', (m) => (m.files['index.bin'].bytes = '24704'), /file sizes\/checksums missing/],
    ['unsafe-integer bytes', (m) => (m.files['index.bin'].bytes = 2 ** 53), /file sizes\/checksums missing/],
    ['missing sha256', (m) => delete m.files['models.json'].sha256, /file sizes\/checksums missing/],
    ['short sha256', (m) => (m.files['index.bin'].sha256 = 'a'.repeat(63)), /file sizes\/checksums missing/],
    ['long sha256', (m) => (m.files['index.bin'].sha256 = 'a'.repeat(65)), /file sizes\/checksums missing/],
    ['upper-case sha256', (m) => (m.files['index.bin'].sha256 = 'A'.repeat(64)), /file sizes\/checksums missing/],
    ['non-hex sha256', (m) => (m.files['models.json'].sha256 = 'g'.repeat(64)), /file sizes\/checksums missing/],
    ['sha256 with a newline', (m) => (m.files['index.bin'].sha256 = SHA_A + '\n'), /file sizes\/checksums missing/],
  ];
  it.each(cases)('rejects %s', (_label, edit, pattern) => {
    expectFormatError(() => parseManifest(variant(edit)), pattern);
  });
});

/** What parseModels returns for an entry without any usable field, at position i. */
const defaults = (i: number): ModelMeta => ({
  id: `model-${i}`,
  name: `Model ${i + 1}`,
  description: '',
  family: '',
  creator: '',
  licence: '',
  resolution: '',
  links: [],
  thumbnails: [],
});

describe('parseModels', () => {
  const full: ModelMeta = {
    id: 'sd15-anime',
    name: 'Anime LoRA',
    description: 'Flat colours, big eyes.',
    family: 'SD 1.5',
    creator: 'someone',
    licence: 'CreativeML OpenRAIL-M',
    resolution: '512×512',
    links: [
      { label: 'Model card', url: 'https://huggingface.co/someone/sd15-anime' },
      { label: 'Paper', url: 'http://arxiv.org/abs/2210.03116' },
    ],
    thumbnails: ['thumbs/sd15-anime/0.webp', 'thumbs/sd15-anime/1.webp'],
  };

  it('returns well-formed entries as they are, in order', () => {
    const second = { ...full, id: 'b', name: 'B' };
    expect(parseModels([full, second], 2)).toEqual([full, second]);
  });

  const expectModelsError = (fn: () => unknown, pattern: RegExp) =>
    expectFormatError(fn, pattern, 'models.json', /^The model list is invalid: .+\.$/);

  it('throws AppError("index-format") when the count does not match', () => {
    expectModelsError(() => parseModels([full], 2), /models\.json lists 1 models, the index has 2/);
    expectModelsError(() => parseModels([full, full, full], 2), /lists 3 models, the index has 2/);
    expectModelsError(() => parseModels([], 1), /lists 0 models/);
  });

  it.each([
    ['an object', { 0: full }],
    ['null', null],
    ['a string', 'not a list'],
  ])('throws AppError("index-format") when models.json is %s', (_label, json) => {
    expectModelsError(() => parseModels(json, 1), /models\.json is not a list/);
  });

  it('gives non-object entries defaults from their position', () => {
    const got = parseModels([null, 5, 'text', [1, 2], true, undefined], 6);
    expect(got).toEqual([0, 1, 2, 3, 4, 5].map(defaults));
    expect(got[0]).toEqual({
      id: 'model-0',
      name: 'Model 1',
      description: '',
      family: '',
      creator: '',
      licence: '',
      resolution: '',
      links: [],
      thumbnails: [],
    });
  });

  it('replaces non-string fields with defaults and keeps string ones', () => {
    const got = parseModels(
      [
        full,
        {
          id: 17,
          name: ['x'],
          description: { html: '<b>' },
          family: null,
          creator: true,
          licence: 3,
          resolution: 512,
          links: 'https://example.com',
          thumbnails: 'thumbs/a.png',
        },
      ],
      2,
    );
    expect(got[0]).toEqual(full);
    expect(got[1]).toEqual(defaults(1));
  });

  it('fills only the missing fields of a partial entry', () => {
    expect(parseModels([{ name: 'Only a name' }], 1)).toEqual([{ ...defaults(0), name: 'Only a name' }]);
    expect(parseModels([{ resolution: '1024×1024' }], 1)).toEqual([{ ...defaults(0), resolution: '1024×1024' }]);
  });

  it('drops unknown fields so only known fields reach the UI', () => {
    const [m] = parseModels([{ ...full, onclick: 'alert(1)', html: '<script>', nested: { a: 1 } }], 1);
    expect(Object.keys(m).sort()).toEqual(['creator', 'description', 'family', 'id', 'licence', 'links', 'name', 'resolution', 'thumbnails']);
    // Links carry only a label and a URL.
    const [n] = parseModels([{ links: [{ label: 'x', url: 'https://a.example/', onclick: 'alert(1)', title: '<b>' }] }], 1);
    expect(n.links).toEqual([{ label: 'x', url: 'https://a.example/' }]);
    expect(Object.keys(n.links[0]).sort()).toEqual(['label', 'url']);
  });

  describe('links', () => {
    const linksOf = (links: unknown) => parseModels([{ links }], 1)[0].links;

    it('keeps http and https links, normalised to URL.href', () => {
      expect(
        linksOf([
          { label: 'Home', url: 'https://example.com' },
          { label: 'Odd', url: 'HTTP://Example.COM/a b?x=1#y' },
          { label: 'Padded', url: '  https://x.org/p  ' },
          { label: 'Port', url: 'https://host.example:8443/p' },
        ]),
      ).toEqual([
        { label: 'Home', url: 'https://example.com/' },
        { label: 'Odd', url: 'http://example.com/a%20b?x=1#y' },
        { label: 'Padded', url: 'https://x.org/p' },
        { label: 'Port', url: 'https://host.example:8443/p' },
      ]);
    });

    it('labels a link with its hostname when the label is missing, empty or not a string', () => {
      expect(
        linksOf([
          { url: 'https://huggingface.co/a/b' },
          { label: '', url: 'http://Example.ORG:8080/x' },
          { label: 42, url: 'https://civitai.com/models/1' },
          { label: null, url: 'https://x.org' },
        ]),
      ).toEqual([
        { label: 'huggingface.co', url: 'https://huggingface.co/a/b' },
        { label: 'example.org', url: 'http://example.org:8080/x' },
        { label: 'civitai.com', url: 'https://civitai.com/models/1' },
        { label: 'x.org', url: 'https://x.org/' },
      ]);
    });

    it.each([
      ['javascript:', 'javascript:alert(1)'],
      ['JavaScript: (mixed case)', 'JavaScript:alert(document.cookie)'],
      ['javascript: with leading space', ' javascript:alert(1)'],
      ['data:', 'data:text/html,<script>alert(1)</script>'],
      ['vbscript:', 'vbscript:msgbox(1)'],
      ['file:', 'file:///etc/passwd'],
      ['ftp:', 'ftp://example.com/model.ckpt'],
      ['protocol-relative', '//example.com/x'],
      ['relative path', '/models/a'],
      ['bare word', 'example.com'],
      ['empty', ''],
      ['scheme only', 'https://'],
      ['malformed host', 'http://[::1'],
      ['bad port', 'https://example.com:99999/'],
    ])('drops a %s URL', (_label, url) => {
      expect(linksOf([{ label: 'x', url }])).toEqual([]);
      // …without affecting its valid neighbours.
      expect(linksOf([{ label: 'a', url: 'https://a.example/' }, { label: 'x', url }, { label: 'b', url: 'http://b.example/' }])).toEqual([
        { label: 'a', url: 'https://a.example/' },
        { label: 'b', url: 'http://b.example/' },
      ]);
    });

    it('drops entries without a string URL, and ignores a links field that is not a list', () => {
      expect(linksOf([null, 5, 'https://example.com', { label: 'x' }, { url: 7 }, { url: { href: 'https://a.example/' } }, []])).toEqual([]);
      for (const links of [undefined, null, 'https://example.com', { url: 'https://example.com' }, 3]) expect(linksOf(links)).toEqual([]);
      expect(safeLinks([{ url: 'https://a.example' }])).toEqual([{ label: 'a.example', url: 'https://a.example/' }]);
    });
  });

  describe('thumbnails', () => {
    const thumbsOf = (thumbnails: unknown) => parseModels([{ thumbnails }], 1)[0].thumbnails;

    it('keeps plain relative paths, in order', () => {
      const ok = ['thumbs/a.png', 'a_b-c.webp', 'x/y/z.jpg', 'a..b.png', 'dir/./img.png', '0.webp', 'a'.repeat(299)];
      expect(thumbsOf(ok)).toEqual(ok);
    });

    it.each([
      ['a parent-directory component', '../secret.png'],
      ['a nested parent-directory component', 'thumbs/../../etc/passwd'],
      ['a trailing parent-directory component', 'thumbs/..'],
      ['a leading slash', '/thumbs/a.png'],
      ['an http URL', 'http://evil.example/a.png'],
      ['an https URL', 'https://evil.example/a.png'],
      ['a protocol-relative URL', '//evil.example/a.png'],
      ['a data: URL', 'data:image/png;base64,AAAA'],
      ['a javascript: URL', 'javascript:alert(1)'],
      ['a leading dot', './a.png'],
      ['a backslash', 'thumbs\\a.png'],
      ['a space', 'thumbs/a b.png'],
      ['a query string', 'a.png?x=1'],
      ['percent-encoding', '%2e%2e/a.png'],
      ['non-ASCII letters', 'thümbs/a.png'],
      ['an empty string', ''],
      ['300 characters', 'a'.repeat(300)],
    ])('drops a path with %s', (_label, path) => {
      expect(thumbsOf([path])).toEqual([]);
      expect(thumbsOf(['first.png', path, 'second.png'])).toEqual(['first.png', 'second.png']);
    });

    it('drops non-string entries, and ignores a thumbnails field that is not a list', () => {
      expect(thumbsOf([null, 5, { src: 'a.png' }, ['a.png'], true, 'ok.png'])).toEqual(['ok.png']);
      for (const thumbnails of [undefined, null, 'a.png', { 0: 'a.png' }]) expect(thumbsOf(thumbnails)).toEqual([]);
    });
  });

  it('keeps HTML-like metadata verbatim as plain strings (escaping is the renderer’s job)', () => {
    const payload = '<img src=x onerror=alert(1)>';
    const entry = {
      id: '"><script>alert(1)</script>',
      name: payload,
      description: `Nice &amp; <b>bold</b> ${payload}`,
      family: 'javascript:alert(1)',
      creator: '\u202Eevil\u0000',
      licence: '<a href="https://example.com">MIT</a>',
      resolution: '<b>512</b>×512',
    };
    const [m] = parseModels([entry], 1);
    expect(m).toEqual({ ...entry, links: [], thumbnails: [] });
    for (const key of Object.keys(entry) as (keyof typeof entry)[]) expect(typeof m[key]).toBe('string');
  });

  it('does not pick up fields from a __proto__ key', () => {
    const json: unknown = JSON.parse('[{"__proto__": {"name": "from proto", "id": "p"}}]');
    expect(parseModels(json, 1)[0]).toMatchObject({ id: 'model-0', name: 'Model 1' });
  });
});

describe('parseModels ids', () => {
  it('rejects two models with the same id, naming both positions', () => {
    const fn = () => parseModels([{ id: 'a' }, { id: 'b' }, { id: 'a' }], 3);
    expect(fn).toThrow(AppError);
    expect(fn).toThrow('The model list is invalid: models 1 and 3 share the id "a".');
  });

  it('rejects an empty or blank id', () => {
    expect(() => parseModels([{ id: 'a' }, { id: '  ' }], 2)).toThrow('The model list is invalid: model 2 has an empty id.');
  });

  it('rejects a real id that collides with a position default', () => {
    expect(() => parseModels([{}, { id: 'model-0' }], 2)).toThrow(/share the id "model-0"/);
  });
});

describe('parseModels limits', () => {
  it('refuses a model whose text is over its field\'s limit, naming the model, field and sizes', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    expect(() => parseModels([{ id: 'a' }, { id: 'big', description: huge }], 2)).toThrow(
      `The model list is invalid: model 2 ("big") has a description of ${huge.length} characters (limit ${METADATA_LIMITS.description}).`,
    );
    expect(() => parseModels([{ id: 'n', name: 'n'.repeat(METADATA_LIMITS.name + 1) }], 1)).toThrow(/has a name of 301 characters \(limit 300\)/);
    const links = Array.from({ length: METADATA_LIMITS.links + 1 }, (_, i) => ({ label: 'l', url: `https://x.example/${i}` }));
    expect(() => parseModels([{ id: 'l', links }], 1)).toThrow(/has a 21 links \(limit 20\)/);
    expect(() => parseModels([{ id: 't', thumbnails: Array(101).fill('thumbs/t/0.webp') }], 1)).toThrow(/101 thumbnails/);
  });

  it('accepts every field at its limit', () => {
    const at = (k: keyof typeof METADATA_LIMITS) => 'a'.repeat(METADATA_LIMITS[k]);
    const [m] = parseModels([{ id: at('id'), name: at('name'), description: at('description'), family: at('family'), creator: at('creator'), licence: at('licence'), resolution: at('resolution') }], 1);
    expect(m.description).toHaveLength(METADATA_LIMITS.description);
    expect(metadataOverLimit(m)).toBe('');
  });
});

describe('parseManifest temperature', () => {
  it.each([0, -1, Number.NaN, 1e5, '100'])('rejects params.temperature = %s', (t) => {
    const m = JSON.parse(JSON.stringify(validManifest()));
    m.params = { temperature: t };
    expect(() => parseManifest(m)).toThrow(/params\.temperature/);
  });
  it('keeps a valid temperature', () => {
    expect(parseManifest({ ...validManifest(), params: { temperature: 18 } }).params?.temperature).toBe(18);
  });
});

function validTiered(): Record<string, any> {
  return {
    format: 'model-search-index',
    formatVersion: 2,
    name: 'demo-tiered',
    createdWith: 'tools/build-index.ts',
    encoder: { id: 'zoo-encoder', dim: 64 },
    count: 300,
    licence: 'CC0-1.0',
    files: {
      'head.bin': { bytes: 40000, sha256: SHA_A },
      'records.bin': { bytes: 1272000, sha256: SHA_B },
    },
    tiered: { modelsPerBlock: 16, blocks: 19, blockFiles: true },
    params: { epsilon: 0.001, precision: 'f16', ppcaRank: 64, temperature: 22.481 },
  };
}

describe('parseTieredManifest and manifestVersion', () => {
  it('accepts a valid version 2 manifest and returns it unchanged; manifestVersion tells the versions apart', () => {
    expect(parseTieredManifest(validTiered())).toEqual(validTiered());
    expect(parseTieredManifest({ ...validTiered(), thumbnailBase: '../demo/' }).thumbnailBase).toBe('../demo/');
    expect(manifestVersion(validTiered())).toBe(2);
    expect(manifestVersion(validManifest())).toBe(1);
    expect(manifestVersion({ ...validTiered(), formatVersion: 3 })).toBeUndefined();
    expect(manifestVersion({ ...validTiered(), format: 'other' })).toBeUndefined();
    expect(manifestVersion(null)).toBeUndefined();
    expect(manifestVersion([1])).toBeUndefined();
  });

  it('the version 1 parser names a tiered index as such, and the tiered parser a version 1 index', () => {
    expectFormatError(() => parseManifest(validTiered()), /this is a tiered \(version 2\) index \(head\.bin \+ records\.bin\)/);
    expectFormatError(() => parseTieredManifest(validManifest()), /this is a version 1 index \(index\.bin \+ models\.json\), not a tiered index/);
  });

  const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
    ['not an object', (m) => Object.keys(m).forEach((k) => delete m[k]), /format is "undefined"/],
    ['format version 3', (m) => (m.formatVersion = 3), /format version 3 is not a tiered index \(expected 2\)/],
    ['no name', (m) => delete m.name, /name must be a string/],
    ['bad encoder', (m) => (m.encoder.dim = 0), /encoder id\/dim missing/],
    ['zero count', (m) => (m.count = 0), /model count missing/],
    ['v1 files', (m) => (m.files = validManifest().files), /file sizes\/checksums of head\.bin and records\.bin missing/],
    ['bad head hash', (m) => (m.files['head.bin'].sha256 = 'xyz'), /head\.bin and records\.bin missing/],
    ['no tiered section', (m) => delete m.tiered, /the tiered section is missing/],
    ['zero models a block', (m) => (m.tiered.modelsPerBlock = 0), /modelsPerBlock must be a positive integer, not 0/],
    ['blocks do not add up', (m) => (m.tiered.blocks = 18), /tiered\.blocks is 18; 300 models at 16 a block make 19/],
    ['blockFiles not boolean', (m) => (m.tiered.blockFiles = 'yes'), /blockFiles must be true or false/],
    ['absolute thumbnailBase', (m) => (m.thumbnailBase = 'https://evil.example/'), /thumbnailBase must be a relative folder/],
    ['rooted thumbnailBase', (m) => (m.thumbnailBase = '/demo/'), /thumbnailBase must be a relative folder/],
    ['.. inside thumbnailBase', (m) => (m.thumbnailBase = 'a/../../x/'), /thumbnailBase must be a relative folder/],
    ['bad examples', (m) => (m.examples = [1]), /examples must be a list of strings/],
    ['bad temperature', (m) => (m.params.temperature = -1), /params\.temperature must be a positive number/],
    ['bad calibration', (m) => (m.calibration = { version: 2 }), /calibration must be an object with version 1/],
  ];
  it.each(cases)('refuses %s with a clear message', (_, edit, pattern) => {
    const m = validTiered();
    edit(m);
    expectFormatError(() => parseTieredManifest(m), pattern);
  });

  it('thumbnailUrl resolves a thumbnail against the index folder or its thumbnailBase', () => {
    expect(thumbnailUrl('https://x.org/index/demo-tiered/', 'thumbs/a/0.webp')).toBe('https://x.org/index/demo-tiered/thumbs/a/0.webp');
    expect(thumbnailUrl('https://x.org/index/demo-tiered', 'thumbs/a/0.webp', '../demo/')).toBe('https://x.org/index/demo/thumbs/a/0.webp');
  });
});

describe('parseModelMetaList (meta shards of a tiered index)', () => {
  const entry = (id: string) => ({ id, name: id, description: '', family: '', creator: '', licence: '', resolution: '', links: [], thumbnails: [] });
  it('parses a block\'s entries like models.json', () => {
    expect(parseModelMetaList([entry('a'), entry('b')], 2, 'meta/3.json')).toEqual([entry('a'), entry('b')]);
  });
  it('names the shard in its refusals', () => {
    const prefix = /^The model list meta\/3\.json is invalid: .+\.$/;
    expectFormatError(() => parseModelMetaList([entry('a')], 2, 'meta/3.json'), /meta\/3\.json lists 1 models, its block has 2/, 'meta/3.json', prefix);
    expectFormatError(() => parseModelMetaList({}, 2, 'meta/3.json'), /meta\/3\.json is not a list/, 'meta/3.json', prefix);
    expectFormatError(() => parseModelMetaList([entry('a'), entry('a')], 2, 'meta/3.json'), /share the id "a"/, 'meta/3.json', prefix);
  });
});
