import type { BackendPreference } from '../core/searchTypes.ts';

/** What the address bar says about this search; parsed leniently (unknown values → defaults). */
export interface UrlState {
  q: string;
  backend: BackendPreference;
  index: string;
  modelHost?: string;
}

export const DEFAULT_INDEX = 'index/demo/';

export function readUrlState(search: string): UrlState {
  const p = new URLSearchParams(search);
  const backend = p.get('backend');
  let index = p.get('index') || DEFAULT_INDEX;
  if (!index.endsWith('/')) index += '/';
  return {
    q: p.get('q') ?? '',
    backend: backend === 'wasm' || backend === 'webgpu' ? backend : 'auto',
    index,
    modelHost: p.get('modelHost') || undefined,
  };
}

/** Returns the query string with `q` replaced, keeping every other parameter. */
export function withQuery(search: string, q: string): string {
  const p = new URLSearchParams(search);
  if (q) p.set('q', q);
  else p.delete('q');
  const s = p.toString();
  return s ? `?${s}` : '';
}
