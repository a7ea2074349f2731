import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_IMAGE_WEIGHT, DEFAULT_K, indexRefusal, MAX_QUERY_TEXT, readUrlState, resolveIndexUrl, searchParamsFor, withParams, type SearchUrlState } from './urlState.ts';
import { METHOD_INFO, type Method } from '../core/scoring/methods.ts';

describe('readUrlState', () => {
  it('uses defaults for an empty address', () => {
    const s = readUrlState('');
    expect(s).toMatchObject({ q: '', method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, like: '', backend: 'auto', index: 'index/demo/', how: false });
  });

  it('reads whether "How this ranking works" is open (only how=1 opens it)', () => {
    expect(readUrlState('?how=1').how).toBe(true);
    for (const v of ['0', 'yes', '', 'true']) expect(readUrlState(`?how=${v}`).how).toBe(false);
  });

  it('reads every search parameter and method aliases', () => {
    const s = readUrlState('?q=red+flowers+family%3A%22oil+paint%22&method=best-k&k=5&w=0.25&hw=0.4&like=zoo-7&index=index/colours');
    expect(s).toMatchObject({ q: 'red flowers family:"oil paint"', method: 'best-k', k: 5, imageWeight: 0.25, hybridWeight: 0.4, like: 'zoo-7', index: 'index/colours/' });
    expect(readUrlState('?method=gd').method).toBe('gaussian');
    expect(readUrlState('?method=1m').method).toBe('first-moment');
  });

  it('ignores values people could mistype or craft', () => {
    const s = readUrlState('?method=__proto__&k=0&w=1.5&hw=-1&backend=cuda');
    expect(s).toMatchObject({ method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, backend: 'auto' });
    expect(readUrlState('?method=toString&k=2.5&w=NaN').method).toBeNull();
    expect(readUrlState('?k=2.5').k).toBe(DEFAULT_K);
    expect(readUrlState('?w=NaN').imageWeight).toBe(DEFAULT_IMAGE_WEIGHT);
  });

  it('reads the candidates K of a tiered index (whole numbers 1–2000), says why it ignores others, and writes it back', () => {
    expect(readUrlState('?candidates=200')).toMatchObject({ candidates: 200, problems: [] });
    expect(readUrlState('').candidates).toBeNull();
    for (const bad of ['0', '2001', '2.5', 'many', '-3']) {
      const s = readUrlState(`?candidates=${bad}`);
      expect(s.candidates).toBeNull();
      expect(s.problems[0]).toMatch(/candidates/);
    }
    const base: SearchUrlState = { q: 'x', method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, like: '', candidates: null, shortlist: null };
    expect(searchParamsFor(base).candidates).toBe('');
    expect(searchParamsFor({ ...base, candidates: 80 }).candidates).toBe('80');
  });

  it('reads the sign shortlist of a sign-coded tiered index (whole numbers 1–20000), says why it ignores others, and writes it back', () => {
    expect(readUrlState('?shortlist=300')).toMatchObject({ shortlist: 300, problems: [] });
    expect(readUrlState('').shortlist).toBeNull();
    for (const bad of ['0', '20001', '2.5', 'all', '-3']) {
      const s = readUrlState(`?shortlist=${bad}`);
      expect(s.shortlist).toBeNull();
      expect(s.problems).toEqual([expect.stringMatching(/\?shortlist=.*ignored \(the index’s default shortlist\)/)]);
    }
    const base: SearchUrlState = { q: 'x', method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, like: '', candidates: null, shortlist: null };
    expect(searchParamsFor(base).shortlist).toBe('');
    expect(searchParamsFor({ ...base, shortlist: 500 }).shortlist).toBe('500');
  });

  it('has no problems for a good address, auto, empty values and tracking parameters', () => {
    expect(readUrlState('?q=sea&method=gd&k=5&w=0.3&hw=1&like=a&candidates=9&shortlist=90&index=x/&backend=wasm&modelHost=https://h.example/&how=1&debug&sw=0&embed=1&box=1&parentOrigin=https://host.example').problems).toEqual([]);
    expect(readUrlState('?method=auto&k=&w=&how=0&utm_source=mail&fbclid=1').problems).toEqual([]);
  });

  it('says which parameter was ignored, what it takes and what was used instead', () => {
    const one = (search: string) => {
      const { problems } = readUrlState(search);
      expect(problems, search).toHaveLength(1);
      return problems[0];
    };
    expect(one('?k=0')).toBe(`?k= must be an integer from 1 to 64, not "0": it was ignored (k = ${DEFAULT_K}).`);
    expect(one('?k=1e9')).toMatch(/^\?k= must be an integer from 1 to 64, not "1e9"/);
    expect(one('?w=1e308')).toBe(`?w= must be a number from 0 to 1, not "1e308": it was ignored (the image weighs ${DEFAULT_IMAGE_WEIGHT}).`);
    expect(one('?hw=-1')).toMatch(/^\?hw= must be a number from 0 to 1, not "-1"/);
    expect(one('?method=__proto__')).toMatch(/^\?method= must be one of auto, first-moment, .*gd.*, not "__proto__": it was ignored \(Auto picks the method\)\.$/);
    expect(one('?backend=cuda')).toMatch(/^\?backend= must be one of auto, wasm, webgpu, not "cuda"/);
    expect(one('?modelHost=javascript:alert(1)')).toMatch(/^\?modelHost= must be an http\(s\) address/);
    expect(readUrlState('?modelHost=ftp://x/').modelHost).toBeUndefined();
    expect(one('?how=yes')).toMatch(/^\?how= must be 1 /);
    expect(one('?embed=true')).toMatch(/^\?embed= must be 1 /);
    expect(one('?sw=off')).toMatch(/^\?sw= must be 0 /);
    expect(one('?embed=1&parentOrigin=https://a.example/path')).toMatch(/^\?parentOrigin= must be the host page’s origin/);
    expect(one('?like=' + 'x'.repeat(201))).toMatch(/^\?like= must be a model id \(at most 200 characters\)/);
    expect(readUrlState('?like=' + 'x'.repeat(201)).like).toBe('');
    expect(one('?k=3&k=5')).toBe('?k= is given 2 times: only the first, "3", is used.');
    expect(one('?methd=gd')).toMatch(/^The address has a parameter the app does not know, ignored: \?methd=/);
  });

  it('keeps only the first MAX_QUERY_TEXT characters of a huge ?q=, and says so', () => {
    const s = readUrlState(`?q=${'a'.repeat(MAX_QUERY_TEXT + 5)}`);
    expect(s.q).toHaveLength(MAX_QUERY_TEXT);
    expect(s.problems).toEqual([`?q= is ${MAX_QUERY_TEXT + 5} characters long: only its first ${MAX_QUERY_TEXT} are searched.`]);
  });

  it('quotes values as text: control characters escaped, long ones shortened', () => {
    const [p] = readUrlState(`?backend=${encodeURIComponent('a\u0000b\n<img src=x onerror=alert(1)>' + 'z'.repeat(300))}`).problems;
    expect(p).toContain('"a\\u0000b\\u000a<img src=x onerror=alert(1)>');
    expect(p.length).toBeLessThan(250);
  });
});

describe('searchParamsFor', () => {
  it('round-trips through the address bar', () => {
    const methods = Object.keys(METHOD_INFO) as Method[];
    const state = fc.record<SearchUrlState>({
      q: fc.string(),
      method: fc.option(fc.constantFrom(...methods), { nil: null }),
      k: fc.integer({ min: 1, max: 64 }),
      imageWeight: fc.double({ min: 0, max: 1, noNaN: true }),
      hybridWeight: fc.double({ min: 0, max: 1, noNaN: true }),
      like: fc.string({ maxLength: 50 }),
      candidates: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: null }),
      shortlist: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }),
    });
    fc.assert(
      fc.property(state, (s) => {
        const back = readUrlState(withParams('?index=index/colours/', searchParamsFor(s)));
        expect(back.q).toBe(s.q);
        expect(back.method).toBe(s.method);
        if (s.method === 'best-k') expect(back.k).toBe(s.k);
        expect(back.imageWeight).toBe(s.imageWeight);
        expect(back.hybridWeight).toBe(s.hybridWeight);
        expect(back.like).toBe(s.like);
        expect(back.candidates).toBe(s.candidates);
        expect(back.shortlist).toBe(s.shortlist);
        expect(back.index).toBe('index/colours/');
      }),
    );
  });

  it('leaves defaults out of the link', () => {
    expect(withParams('', searchParamsFor({ q: 'sea', method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, like: '', candidates: null, shortlist: null }))).toBe('?q=sea');
  });
});

describe('resolveIndexUrl', () => {
  const base = 'https://models.example/search/';
  it('resolves folder paths and http(s) addresses, and refuses every other scheme or a broken address', () => {
    expect(resolveIndexUrl('index/demo/', base)).toBe('https://models.example/search/index/demo/');
    expect(resolveIndexUrl('https://cdn.example/idx/', base)).toBe('https://cdn.example/idx/');
    expect(resolveIndexUrl('//other.example/idx/', base)).toBe('https://other.example/idx/');
    for (const bad of ['javascript:alert(1)/', 'data:text/plain,x/', 'file:///etc/', 'http://[::1/', 'blob:https://x/']) expect(resolveIndexUrl(bad, base), bad).toBeNull();
  });

  it('refuses with a sentence naming ?index= and what it takes', () => {
    expect(indexRefusal('javascript:alert(1)/')).toBe('The index address in ?index= (“javascript:alert(1)/”) is not one the app can load: give a folder path such as index/demo/ or an http(s) address.');
    expect(indexRefusal('a\nb')).toContain('(“a\\u000ab”)');
  });
});
