import { METHOD_INFO, type Method } from '../core/methods.ts';
import type { BackendPreference } from '../core/searchTypes.ts';

/** What the address bar says about this search; parsed leniently (unknown values → defaults). */
export interface UrlState {
  q: string;
  backend: BackendPreference;
  index: string;
  modelHost?: string;
  method: Method | null;
}

/** Short names accepted in URLs, e.g. ?method=gd. */
const METHOD_ALIASES: Record<string, Method> = { gd: 'gaussian', mc: 'monte-carlo', '1m': 'first-moment', ft: 'fine-tuned', '12m': 'first-second-moment' };

export function parseMethod(value: string | null): Method | null {
  if (!value) return null;
  if (value in METHOD_INFO) return value as Method;
  return METHOD_ALIASES[value] ?? null;
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
    method: parseMethod(p.get('method')),
  };
}

/** Returns the query string with the given parameters replaced (empty = removed), keeping the rest. */
export function withParams(search: string, params: Record<string, string>): string {
  const p = new URLSearchParams(search);
  for (const [k, v] of Object.entries(params)) {
    if (v) p.set(k, v);
    else p.delete(k);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
