import { SEARCH_DEFAULTS } from '../core/scoring/defaults.ts';
import { METHOD_INFO, type Method } from '../core/scoring/methods.ts';
import type { BackendPreference } from '../shared/protocol.ts';

/**
 * What the address bar says about this search; parsed leniently (unknown or out-of-range values →
 * defaults) because links are typed, pasted and edited by people.
 *
 * Search parameters: q (text, with field filters such as `family:"…"`), method (absent = auto),
 * k (best-k), w (image weight in a text+image query, 0–1), hw (hybrid metadata weight, 0–1),
 * like (id of the model used as query). Setup: index, backend, modelHost, debug. Page: how ("1": the
 * "How this ranking works" panel is open).
 */
export interface UrlState {
  q: string;
  backend: BackendPreference;
  index: string;
  modelHost?: string;
  method: Method | null;
  k: number;
  imageWeight: number;
  hybridWeight: number;
  like: string;
  /** "How this ranking works" is open (`how=1`). */
  how: boolean;
}

/** The part of UrlState one search is made of (what history entries differ by). */
export type SearchUrlState = Pick<UrlState, 'q' | 'method' | 'k' | 'imageWeight' | 'hybridWeight' | 'like'>;

/** Short names accepted in URLs, e.g. ?method=gd. */
const METHOD_ALIASES: Record<string, Method> = { gd: 'gaussian', mc: 'monte-carlo', '1m': 'first-moment', ft: 'fine-tuned', '12m': 'first-second-moment', sd: 'style' };

export const DEFAULT_INDEX = 'index/demo/';
// The search defaults live in core (one place for the app, the embed, the CLI and the eval).
export const DEFAULT_K = SEARCH_DEFAULTS.k;
export const DEFAULT_IMAGE_WEIGHT = SEARCH_DEFAULTS.imageWeight;
export const MAX_K = SEARCH_DEFAULTS.maxK;

export function parseMethod(value: string | null): Method | null {
  if (!value) return null;
  if (Object.hasOwn(METHOD_INFO, value)) return value as Method;
  return Object.hasOwn(METHOD_ALIASES, value) ? METHOD_ALIASES[value] : null;
}

function parseFraction(value: string | null, fallback: number): number {
  if (value === null || value.trim() === '') return fallback;
  const x = Number(value);
  return Number.isFinite(x) && x >= 0 && x <= 1 ? x : fallback;
}

function parseK(value: string | null): number {
  const k = Number(value);
  return Number.isInteger(k) && k >= 1 && k <= MAX_K ? k : DEFAULT_K;
}

/**
 * The index folder's absolute address from the `index` parameter (a path relative to the app, or an
 * http(s) URL), or null for anything else (`javascript:`, `data:`, an unparsable address): the app
 * says so instead of trying to load it.
 */
export function resolveIndexUrl(index: string, base: string): string | null {
  try {
    const url = new URL(index, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

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
    k: parseK(p.get('k')),
    imageWeight: parseFraction(p.get('w'), DEFAULT_IMAGE_WEIGHT),
    hybridWeight: parseFraction(p.get('hw'), SEARCH_DEFAULTS.hybridWeight),
    like: (p.get('like') ?? '').slice(0, 500),
    how: p.get('how') === '1',
  };
}

/** Query parameters for a search state; defaults are left out so links stay short. */
export function searchParamsFor(s: SearchUrlState): Record<string, string> {
  return {
    q: s.q,
    method: s.method ?? '',
    k: s.method === 'best-k' && s.k !== DEFAULT_K ? String(s.k) : '',
    w: s.imageWeight !== DEFAULT_IMAGE_WEIGHT ? String(s.imageWeight) : '',
    hw: s.hybridWeight > 0 ? String(s.hybridWeight) : '',
    like: s.like,
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
