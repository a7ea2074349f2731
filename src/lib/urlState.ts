import { METADATA_LIMITS } from '../core/index/manifest.ts';
import { describeRange, escapeControls, listWords, mustBe, quote } from '../core/messages.ts';
import { SEARCH_DEFAULTS } from '../core/scoring/defaults.ts';
import { METHOD_INFO, type Method } from '../core/scoring/methods.ts';
import type { BackendPreference } from '../shared/protocol.ts';
import { DEMO_INDEX, type SiteDefaults } from '../shared/siteDefaults.ts';

/**
 * What the address bar says about this search. Links are typed, pasted and edited by people, so a
 * bad value does not stop the page: it is ignored (the default is used) and `problems` says so in
 * a sentence naming the parameter and the values it takes — except ?index=, where continuing on
 * another index would be wrong (the app refuses, see indexRefusal).
 *
 * Search parameters: q (text, with field filters such as `family:"…"`), method (absent = auto),
 * k (best-k), w (image weight in a text+image query, 0–1), hw (hybrid metadata weight, 0–1),
 * like (id of the model used as query), candidates and shortlist (a tiered index's two-stage query). Setup: index, backend, modelHost, debug, sw. Page: how
 * ("1": the "How this ranking works" panel is open). Embedding: embed, box, parentOrigin.
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
  /** A tiered index: candidates K of the two-stage query (`candidates=`); null = the default. */
  candidates: number | null;
  /** A sign-coded tiered index: models its sign codes keep for the int8 stage (`shortlist=`); null = the default. */
  shortlist: number | null;
  /** "How this ranking works" is open (`how=1`). */
  how: boolean;
  /** One sentence per parameter whose value was not used as given (shown as a notice). */
  problems: string[];
}

/** The part of UrlState one search is made of (what history entries differ by). */
export type SearchUrlState = Pick<UrlState, 'q' | 'method' | 'k' | 'imageWeight' | 'hybridWeight' | 'like' | 'candidates' | 'shortlist'>;

/** Short names accepted in URLs, e.g. ?method=gd. */
const METHOD_ALIASES: Record<string, Method> = { gd: 'gaussian', mc: 'monte-carlo', '1m': 'first-moment', ft: 'fine-tuned', '12m': 'first-second-moment', sd: 'style' };

/** The build's defaults (vite.config.ts, from MODEL_SEARCH_DEFAULT_INDEX / MODEL_SEARCH_MODEL_HOST). */
declare const __MODEL_SEARCH_SITE_DEFAULTS__: SiteDefaults | undefined;
const SITE_DEFAULTS: SiteDefaults = typeof __MODEL_SEARCH_SITE_DEFAULTS__ === 'undefined' ? { index: DEMO_INDEX } : __MODEL_SEARCH_SITE_DEFAULTS__;

/** The index opened without ?index=: the demo, or the one the site was built with. */
export const DEFAULT_INDEX = SITE_DEFAULTS.index;
/** Most candidates a two-stage (tiered) query may rerank (src/core/index/tieredRank.ts). */
export { MAX_CANDIDATES, MAX_SHORTLIST } from '../core/index/tieredRank.ts';
import { MAX_CANDIDATES, MAX_SHORTLIST } from '../core/index/tieredRank.ts';
// The search defaults live in core (one place for the app, the embed, the CLI and the eval).
export const DEFAULT_K = SEARCH_DEFAULTS.k;
export const DEFAULT_IMAGE_WEIGHT = SEARCH_DEFAULTS.imageWeight;
export const MAX_K = SEARCH_DEFAULTS.maxK;
/** Longest query text taken from an address (the encoder reads 77 tokens; this is many times that). */
export const MAX_QUERY_TEXT = 2000;
const BACKENDS = ['auto', 'wasm', 'webgpu'] as const;

/** Every parameter the app reads; others are named in a notice (a typo would otherwise change nothing, silently). */
const KNOWN_PARAMS = new Set(['q', 'method', 'k', 'w', 'hw', 'like', 'candidates', 'shortlist', 'index', 'backend', 'modelHost', 'debug', 'sw', 'how', 'embed', 'box', 'parentOrigin']);
/** Added by link trackers and sites, not by people: not worth a notice. */
const TRACKING_PARAM = /^(utm_.*|fbclid|gclid|msclkid|mc_cid|mc_eid|ref)$/;

export function parseMethod(value: string | null): Method | null {
  if (!value) return null;
  if (Object.hasOwn(METHOD_INFO, value)) return value as Method;
  return Object.hasOwn(METHOD_ALIASES, value) ? METHOD_ALIASES[value] : null;
}

/** "?k= must be an integer from 1 to 64, not "0": it was ignored (k = 3)." — the CLI's sentence for --k, plus what the app did. */
function ignored(param: string, what: string, raw: string, used: string): string {
  return `${mustBe(`?${param}=`, what, raw)}: it was ignored (${used}).`;
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

/** Why the page does not start on the ?index= it was given (resolveIndexUrl said no). */
export function indexRefusal(index: string): string {
  return `The index address in ?index= (“${escapeControls(index.slice(0, 80))}”) is not one the app can load: give a folder path such as index/demo/ or an http(s) address.`;
}

/** An http(s) address, or null. */
function httpAddress(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function readUrlState(search: string): UrlState {
  const p = new URLSearchParams(search);
  const problems: string[] = [];
  /** The parameter's value ('' when present without one), or null; a repeated one is reported and its first value used. */
  const get = (name: string): string | null => {
    const all = p.getAll(name);
    if (all.length > 1) problems.push(`?${name}= is given ${all.length} times: only the first, ${quote(all[0])}, is used.`);
    return all.length ? all[0] : null;
  };

  const unknown = [...new Set(p.keys())].filter((k) => !KNOWN_PARAMS.has(k) && !TRACKING_PARAM.test(k));
  if (unknown.length) {
    const names = unknown.slice(0, 5).map((k) => `?${quote(k).slice(1, -1)}=`).join(', ');
    problems.push(`The address has ${unknown.length === 1 ? 'a parameter' : 'parameters'} the app does not know, ignored: ${names}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} (it reads ${[...KNOWN_PARAMS].join(', ')}).`);
  }

  let q = get('q') ?? '';
  if (q.length > MAX_QUERY_TEXT) {
    problems.push(`?q= is ${q.length} characters long: only its first ${MAX_QUERY_TEXT} are searched.`);
    q = q.slice(0, MAX_QUERY_TEXT);
  }

  const methodRaw = get('method');
  let method: Method | null = null;
  if (methodRaw && methodRaw !== 'auto') {
    method = parseMethod(methodRaw);
    if (!method) {
      const names = ['auto', ...Object.keys(METHOD_INFO), ...Object.keys(METHOD_ALIASES)];
      problems.push(ignored('method', listWords(names), methodRaw, 'Auto picks the method'));
    }
  }

  const kRaw = get('k');
  let k = DEFAULT_K;
  if (kRaw !== null && kRaw.trim() !== '') {
    const n = Number(kRaw);
    if (/^\s*\d+\s*$/.test(kRaw) && Number.isInteger(n) && n >= 1 && n <= MAX_K) k = n;
    else problems.push(ignored('k', describeRange('an integer', { min: 1, max: MAX_K }), kRaw, `k = ${DEFAULT_K}`));
  }

  /** A whole number in [1, max] (a tiered index's candidates or shortlist), or null = the index's default. */
  const count = (param: string, max: number, fallback: string): number | null => {
    const raw = get(param);
    if (raw === null || raw.trim() === '') return null;
    const n = Number(raw);
    if (/^\s*\d+\s*$/.test(raw) && Number.isInteger(n) && n >= 1 && n <= max) return n;
    problems.push(ignored(param, describeRange('an integer', { min: 1, max }), raw, fallback));
    return null;
  };
  const candidates = count('candidates', MAX_CANDIDATES, 'the index’s default number of candidates');
  const shortlist = count('shortlist', MAX_SHORTLIST, 'the index’s default shortlist');

  const fraction = (param: string, fallback: number, label: string): number => {
    const raw = get(param);
    if (raw === null || raw.trim() === '') return fallback;
    const x = Number(raw);
    if (Number.isFinite(x) && x >= 0 && x <= 1) return x;
    problems.push(ignored(param, describeRange('a number', { min: 0, max: 1 }), raw, `${label} ${fallback}`));
    return fallback;
  };
  const imageWeight = fraction('w', DEFAULT_IMAGE_WEIGHT, 'the image weighs');
  const hybridWeight = fraction('hw', SEARCH_DEFAULTS.hybridWeight, 'the metadata weighs');

  let like = get('like') ?? '';
  if (like.length > METADATA_LIMITS.id) {
    problems.push(ignored('like', `a model id (at most ${METADATA_LIMITS.id} characters)`, like, 'no "more like this"'));
    like = '';
  }

  const backendRaw = get('backend');
  let backend: BackendPreference = 'auto';
  if (backendRaw) {
    if ((BACKENDS as readonly string[]).includes(backendRaw)) backend = backendRaw as BackendPreference;
    else problems.push(ignored('backend', listWords(BACKENDS), backendRaw, 'auto picks WebGPU or WebAssembly'));
  }

  const hostRaw = get('modelHost');
  let modelHost: string | undefined;
  if (hostRaw) {
    modelHost = httpAddress(hostRaw) ?? undefined;
    if (!modelHost) problems.push(ignored('modelHost', 'an http(s) address', hostRaw, 'the default model host is used'));
  }

  // ?index= is checked against the page's address by resolveIndexUrl; an unusable one is refused, not ignored.
  let index = get('index') || DEFAULT_INDEX;
  if (!index.endsWith('/')) index += '/';

  const howRaw = get('how');
  if (howRaw !== null && howRaw !== '1' && howRaw !== '0' && howRaw !== '') {
    problems.push(ignored('how', '1 (open "How this ranking works") or 0', howRaw, 'the panel starts closed'));
  }
  const flag = (param: string, value: string, meaning: string) => {
    const raw = get(param);
    if (raw !== null && raw !== value) problems.push(ignored(param, `${value} (${meaning}) or absent`, raw, 'as if absent'));
  };
  flag('embed', '1', 'run inside a host page’s frame');
  flag('box', '1', 'the embed shows its search box');
  flag('sw', '0', 'no offline service worker');
  // Whether the origin is allowed is the embed bridge's call (embed.json); its form is checked here.
  const origin = get('parentOrigin');
  if (origin !== null && p.get('embed') === '1' && httpAddress(origin) !== `${origin}/`) {
    problems.push(`${mustBe('?parentOrigin=', 'the host page’s origin, such as https://example.org', origin)}: the embed stays off.`);
  }

  // Without ?modelHost=, the site's own (undefined: the worker's default, huggingface.co).
  modelHost ??= SITE_DEFAULTS.modelHost;
  return { q, backend, index, modelHost, method, k, imageWeight, hybridWeight, like, candidates, shortlist, how: howRaw === '1', problems };
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
    candidates: s.candidates != null ? String(s.candidates) : '',
    shortlist: s.shortlist != null ? String(s.shortlist) : '',
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
