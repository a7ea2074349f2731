import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_IMAGE_WEIGHT, DEFAULT_K, readUrlState, resolveIndexUrl, searchParamsFor, withParams, type SearchUrlState } from './urlState.ts';
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
        expect(back.index).toBe('index/colours/');
      }),
    );
  });

  it('leaves defaults out of the link', () => {
    expect(withParams('', searchParamsFor({ q: 'sea', method: null, k: DEFAULT_K, imageWeight: DEFAULT_IMAGE_WEIGHT, hybridWeight: 0, like: '' }))).toBe('?q=sea');
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
});
