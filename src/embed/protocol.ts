import type { RankedModel } from '../shared/protocol.ts';

/**
 * The embed protocol: messages between a host page and the search app running in an iframe
 * (`?embed=1`). Pure and DOM-free; shared by the app side (`src/lib/embedBridge.svelte.ts`) and the
 * host side (`src/embed/modelSearchElement.ts`). Documented in docs/embed.md.
 *
 * Every message carries `protocol` and `version`. Parsers are strict: a wrong protocol, version or
 * type, a field of the wrong kind, an over-long string or any unknown field rejects the whole
 * message. Version 1 may gain optional fields and message types a host can ignore (listed here, and
 * accepted by these parsers from then on: `results.noMatch`, the `resize` message, the host's
 * `like-images` message and `ready.accepts`); a changed or
 * required field comes with a new version. Parsed messages are
 * fresh objects holding only the known fields, so nothing of the sender's object (prototype,
 * getters, extra keys) leaks through.
 */
export const EMBED_PROTOCOL = 'model-search';
export const EMBED_VERSION = 1;

/** Longest accepted query text, model id, method name and result text field (in UTF-16 units). */
export const MAX_TEXT = 500;
export const MAX_LIKE = 200;
export const MAX_METHOD = 40;
export const MAX_FIELD = 500;
export const MAX_RESULTS = 200;
export const MAX_ORIGINS = 100;

/** Limits of a `like-images` message: images per message, bytes per image, bytes in all, name length. */
export const MAX_EMBED_IMAGES = 64;
export const MAX_EMBED_IMAGE_BYTES = 16 * 1024 * 1024;
export const MAX_EMBED_TOTAL_BYTES = 64 * 1024 * 1024;
export const MAX_NAME = 200;

/** The host message types this app accepts (sent in `ready.accepts`). */
export const HOST_MESSAGE_TYPES = ['query', 'like-images'] as const;
export type HostMessageType = (typeof HOST_MESSAGE_TYPES)[number];

/** The `error` code for an image of a `like-images` message that cannot be read; the message names its position (1 = first). */
export const BAD_IMAGE = 'bad-image';

interface Envelope {
  protocol: typeof EMBED_PROTOCOL;
  version: typeof EMBED_VERSION;
}

/**
 * Host → app: run a search. `like` (a model id) makes that model the whole query ("more like this");
 * otherwise `text` is searched (it may hold field filters such as `family:"flower"`). Neither = clear.
 * `method` names a scoring method (e.g. `gaussian`, `first-moment`, or a short alias such as `gd`);
 * absent = automatic.
 */
export interface HostQuery extends Envelope {
  type: 'query';
  text?: string;
  like?: string;
  method?: string;
}

/**
 * Host → app (added to version 1): rank the models most like these images, as "more like this"
 * from a model built from them. `images` are the files' bytes (PNG, JPEG or WebP), at most
 * MAX_EMBED_IMAGES of at most MAX_EMBED_IMAGE_BYTES each, MAX_EMBED_TOTAL_BYTES in all; `name`
 * (untrusted text) labels them in `results.query`. The app reads them in the visitor's browser and
 * neither stores them nor sends them anywhere. Older apps answer `bad-message`: check `ready.accepts`.
 */
export interface HostLikeImages extends Envelope {
  type: 'like-images';
  images: ArrayBuffer[];
  name?: string;
  method?: string;
}

export type HostMessage = HostQuery | HostLikeImages;

/** One ranked model as the host sees it: plain strings and numbers, never markup. */
export interface EmbedResult {
  rank: number;
  id: string;
  name: string;
  score: number;
  family: string;
  creator: string;
  licence: string;
  /** Absolute http(s) URL of the first thumbnail, when the model has one. */
  thumbnail?: string;
}

export interface ReadyMessage extends Envelope {
  type: 'ready';
  /** Number of models in the index. */
  models: number;
  /** The index's name (from its manifest; untrusted text). */
  index: string;
  /** The host message types this app accepts (added to version 1; absent from older apps, which accept only `query`). */
  accepts?: string[];
}

export interface ResultsMessage extends Envelope {
  type: 'results';
  /** What was searched for, in words (e.g. `“red flowers”`, `models like “X”`). */
  query: string;
  /** The scoring method that ranked the results. */
  method: string;
  results: EmbedResult[];
  /**
   * True when nothing matches the query well (the encoder knew none of its words, or the best score
   * is no better than content-free queries get): `results` are then only the closest models. Added
   * to version 1 as an optional field: absent from older apps, which is "not known".
   */
  noMatch?: boolean;
}

export interface SelectMessage extends Envelope {
  type: 'select';
  model: EmbedResult;
}

export interface ErrorMessage extends Envelope {
  type: 'error';
  code: string;
  message: string;
}

/**
 * The height the app's page needs, in CSS pixels, sent when it changes (added to version 1): a host
 * sizes the frame to it so a compact embed shows its results without an inner scrollbar. Older apps
 * never send it; older hosts ignore it.
 */
export interface ResizeMessage extends Envelope {
  type: 'resize';
  height: number;
}

/** Largest height a resize message may carry (a runaway layout must not make the frame endless). */
export const MAX_FRAME_HEIGHT = 20000;

export type AppMessage = ReadyMessage | ResultsMessage | SelectMessage | ErrorMessage | ResizeMessage;
export type AppMessageType = AppMessage['type'];
export const APP_MESSAGE_TYPES: readonly AppMessageType[] = ['ready', 'results', 'select', 'error', 'resize'];

/** Builds an outgoing message with the envelope filled in. */
export function envelope<T extends object>(body: T): T & Envelope {
  return { protocol: EMBED_PROTOCOL, version: EMBED_VERSION, ...body };
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers

type Fields = Map<string, unknown>;

/**
 * The own data properties of a plain object (structured clones and JSON are plain objects), or null
 * for anything else: arrays, class instances, objects with accessors or with keys outside `allowed`.
 */
function plainFields(data: unknown, allowed: readonly string[]): Fields | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const proto: unknown = Object.getPrototypeOf(data);
  if (proto !== Object.prototype && proto !== null) return null;
  if (Object.getOwnPropertySymbols(data).length) return null;
  const fields: Fields = new Map();
  for (const key of Object.getOwnPropertyNames(data)) {
    if (!allowed.includes(key)) return null;
    const desc = Object.getOwnPropertyDescriptor(data, key);
    if (!desc || !('value' in desc)) return null;
    fields.set(key, desc.value);
  }
  return fields;
}

function hasEnvelope(f: Fields): boolean {
  return f.get('protocol') === EMBED_PROTOCOL && f.get('version') === EMBED_VERSION;
}

/** A string of at most `max` units, or undefined when absent; `false` when present but invalid. */
function optString(f: Fields, key: string, max: number): string | undefined | false {
  if (!f.has(key) || f.get(key) === undefined) return undefined;
  const v = f.get(key);
  return typeof v === 'string' && v.length <= max ? v : false;
}

function reqString(f: Fields, key: string, max: number): string | false {
  const v = f.get(key);
  return typeof v === 'string' && v.length <= max ? v : false;
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The fields each host message type may have. */
const HOST_KEYS: Record<HostMessageType, readonly string[]> = {
  query: ['protocol', 'version', 'type', 'text', 'like', 'method'],
  'like-images': ['protocol', 'version', 'type', 'images', 'name', 'method'],
};

/**
 * A host's message checked: the message (a query or like-images), or what is wrong with it in words
 * naming the field. `ours` says whether the message claims to be of this protocol (`protocol:
 * 'model-search'`): only then is the host told (another script on the page may post its own
 * messages to every frame).
 */
export type HostMessageCheck = { query: HostMessage } | { query: null; problem: string; ours: boolean };

/** A key or value quoted for a message: JSON, clipped (a hostile key may be megabytes long). */
function quote(value: unknown, max = 40): string {
  const s = typeof value === 'string' ? JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value) : String(value);
  return s.length > max + 10 ? `${s.slice(0, max)}…` : s;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Problem with an optional string field, or '' when it is absent or fine. */
function stringProblem(f: Fields, key: string, max: number): string {
  if (!f.has(key) || f.get(key) === undefined) return '';
  const v = f.get(key);
  if (typeof v !== 'string') return `field "${key}" must be a string, not ${kind(v)}`;
  if (v.length > max) return `field "${key}" has ${v.length} characters (limit ${max})`;
  return '';
}

/** Validates a message a host page sent to the app, saying what is wrong when it is not a valid v1 query. */
export function checkHostMessage(data: unknown): HostMessageCheck {
  const refuse = (problem: string, ours = true): HostMessageCheck => ({ query: null, problem, ours });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return refuse(`the message is ${kind(data)}, not an object`, false);
  const proto: unknown = Object.getPrototypeOf(data);
  const ownProtocol = Object.getOwnPropertyDescriptor(data, 'protocol');
  const ours = !!ownProtocol && 'value' in ownProtocol && ownProtocol.value === EMBED_PROTOCOL;
  if (!ours) {
    const p = ownProtocol && 'value' in ownProtocol ? ownProtocol.value : undefined;
    return refuse(p === undefined ? 'field "protocol" is missing' : `field "protocol" is ${quote(p)}, not "${EMBED_PROTOCOL}"`, false);
  }
  if (proto !== Object.prototype && proto !== null) return refuse('the message is not a plain object');
  if (Object.getOwnPropertySymbols(data).length) return refuse('the message has symbol keys');
  const typeDesc = Object.getOwnPropertyDescriptor(data, 'type');
  const type: unknown = typeDesc && 'value' in typeDesc ? typeDesc.value : undefined;
  const keys = (HOST_MESSAGE_TYPES as readonly unknown[]).includes(type) ? HOST_KEYS[type as HostMessageType] : HOST_KEYS.query;
  const f: Fields = new Map();
  for (const key of Object.getOwnPropertyNames(data)) {
    if (!keys.includes(key)) {
      return refuse(`field ${quote(key)} is not part of the protocol (${type === 'like-images' ? 'like-images' : 'a query'} has ${keys.join(', ')})`);
    }
    const desc = Object.getOwnPropertyDescriptor(data, key);
    if (!desc || !('value' in desc)) return refuse(`field "${key}" is not a plain value`);
    f.set(key, desc.value);
  }
  const version = f.get('version');
  if (version !== EMBED_VERSION) return refuse(version === undefined ? 'field "version" is missing' : `field "version" is ${quote(version)}; this app speaks version ${EMBED_VERSION}`);
  if (type !== 'query' && type !== 'like-images') {
    return refuse(type === undefined ? 'field "type" is missing' : `field "type" is ${quote(type)}; a host can send "query" or "like-images"`);
  }
  const problem = stringProblem(f, 'method', MAX_METHOD) || (type === 'query' ? stringProblem(f, 'text', MAX_TEXT) || stringProblem(f, 'like', MAX_LIKE) : stringProblem(f, 'name', MAX_NAME));
  if (problem) return refuse(problem);
  const method = f.get('method') as string | undefined;
  if (method !== undefined && !/^[a-z0-9-]*$/.test(method)) return refuse(`field "method" is ${quote(method)}: only lower-case letters, digits and "-"`);
  if (type === 'like-images') {
    const images = checkImages(f);
    if (typeof images === 'string') return refuse(images);
    const out: HostLikeImages = envelope({ type: 'like-images' as const, images });
    const name = f.get('name') as string | undefined;
    if (name !== undefined) out.name = name;
    if (method) out.method = method;
    return { query: out };
  }
  const text = f.get('text') as string | undefined;
  const like = f.get('like') as string | undefined;
  const out: HostQuery = envelope({ type: 'query' as const });
  if (text !== undefined) out.text = text;
  if (like !== undefined) out.like = like;
  if (method) out.method = method;
  return { query: out };
}

/** ArrayBuffer.prototype.byteLength: throws for anything that is not a real ArrayBuffer (a SharedArrayBuffer, a look-alike). */
const arrayBufferBytes = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;

/** Bytes in MiB for a message, e.g. "20.0 MiB". */
const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** The `images` of a like-images message as a fresh list, or what is wrong with them (positions count from 1). */
function checkImages(f: Fields): ArrayBuffer[] | string {
  const list = f.get('images');
  if (list === undefined) return 'field "images" is missing';
  if (!Array.isArray(list)) return `field "images" must be a list of ArrayBuffers, not ${kind(list)}`;
  if (list.length < 1) return 'field "images" is empty (at least 1 image)';
  if (list.length > MAX_EMBED_IMAGES) return `field "images" has ${list.length} entries (limit ${MAX_EMBED_IMAGES})`;
  const out: ArrayBuffer[] = [];
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const desc = Object.getOwnPropertyDescriptor(list, i);
    if (!desc || !('value' in desc)) return `image ${i + 1} is not a plain value`;
    const v: unknown = desc.value;
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    let bytes = -1;
    if (tag === 'ArrayBuffer') {
      try {
        bytes = arrayBufferBytes.call(v) as number;
      } catch {
        bytes = -1;
      }
    }
    if (bytes < 0) {
      const what = tag === 'ArrayBuffer' ? 'a look-alike' : typeof v === 'object' && v !== null && tag !== 'Object' && tag !== 'Array' ? `a ${tag.slice(0, 40)}` : kind(v);
      return `image ${i + 1} is ${what}, not an ArrayBuffer`;
    }
    if (bytes === 0) return `image ${i + 1} is empty (0 bytes)`;
    if (bytes > MAX_EMBED_IMAGE_BYTES) return `image ${i + 1} has ${mib(bytes)} (limit ${mib(MAX_EMBED_IMAGE_BYTES)})`;
    total += bytes;
    out.push(v as ArrayBuffer);
  }
  if (total > MAX_EMBED_TOTAL_BYTES) return `field "images" holds ${mib(total)} in all (limit ${mib(MAX_EMBED_TOTAL_BYTES)})`;
  return out;
}

/** Validates a message a host page sent to the app; null for anything that is not a valid v1 host message. */
export function parseHostMessage(data: unknown): HostMessage | null {
  return checkHostMessage(data).query;
}

const RESULT_KEYS = ['rank', 'id', 'name', 'score', 'family', 'creator', 'licence', 'thumbnail'] as const;

function parseEmbedResult(data: unknown): EmbedResult | null {
  const f = plainFields(data, RESULT_KEYS);
  if (!f) return null;
  const rank = f.get('rank');
  const score = f.get('score');
  if (typeof rank !== 'number' || !Number.isSafeInteger(rank) || rank < 1) return null;
  if (typeof score !== 'number') return null;
  const id = reqString(f, 'id', MAX_FIELD);
  const name = reqString(f, 'name', MAX_FIELD);
  const family = reqString(f, 'family', MAX_FIELD);
  const creator = reqString(f, 'creator', MAX_FIELD);
  const licence = reqString(f, 'licence', MAX_FIELD);
  const thumbnail = optString(f, 'thumbnail', 2000);
  if (id === false || name === false || family === false || creator === false || licence === false) return null;
  if (thumbnail === false || (thumbnail !== undefined && !isHttpUrl(thumbnail))) return null;
  const out: EmbedResult = { rank, id, name, score, family, creator, licence };
  if (thumbnail !== undefined) out.thumbnail = thumbnail;
  return out;
}

/** Validates a message the app sent to its host (used by the `<model-search>` element). */
export function parseAppMessage(data: unknown): AppMessage | null {
  const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
  switch (type) {
    case 'ready': {
      const f = plainFields(data, ['protocol', 'version', 'type', 'models', 'index', 'accepts']);
      if (!f || !hasEnvelope(f)) return null;
      const models = f.get('models');
      const index = reqString(f, 'index', MAX_FIELD);
      if (typeof models !== 'number' || !Number.isSafeInteger(models) || models < 0 || index === false) return null;
      const accepts = f.get('accepts');
      const out: ReadyMessage = envelope({ type: 'ready' as const, models, index });
      if (accepts !== undefined) {
        if (!Array.isArray(accepts) || accepts.length > 20 || !accepts.every((a) => typeof a === 'string' && a.length <= MAX_METHOD)) return null;
        out.accepts = [...(accepts as string[])];
      }
      return out;
    }
    case 'results': {
      const f = plainFields(data, ['protocol', 'version', 'type', 'query', 'method', 'results', 'noMatch']);
      if (!f || !hasEnvelope(f)) return null;
      const query = reqString(f, 'query', MAX_FIELD * 2);
      const method = reqString(f, 'method', MAX_METHOD);
      const list = f.get('results');
      const noMatch = f.get('noMatch');
      if (query === false || method === false || !Array.isArray(list) || list.length > MAX_RESULTS) return null;
      if (noMatch !== undefined && typeof noMatch !== 'boolean') return null;
      const results: EmbedResult[] = [];
      for (const item of list) {
        const r = parseEmbedResult(item);
        if (!r) return null;
        results.push(r);
      }
      const out: ResultsMessage = envelope({ type: 'results' as const, query, method, results });
      if (noMatch !== undefined) out.noMatch = noMatch;
      return out;
    }
    case 'select': {
      const f = plainFields(data, ['protocol', 'version', 'type', 'model']);
      if (!f || !hasEnvelope(f)) return null;
      const model = parseEmbedResult(f.get('model'));
      return model ? envelope({ type: 'select' as const, model }) : null;
    }
    case 'resize': {
      const f = plainFields(data, ['protocol', 'version', 'type', 'height']);
      if (!f || !hasEnvelope(f)) return null;
      const height = f.get('height');
      if (typeof height !== 'number' || !Number.isInteger(height) || height < 0 || height > MAX_FRAME_HEIGHT) return null;
      return envelope({ type: 'resize' as const, height });
    }
    case 'error': {
      const f = plainFields(data, ['protocol', 'version', 'type', 'code', 'message']);
      if (!f || !hasEnvelope(f)) return null;
      const code = reqString(f, 'code', MAX_METHOD);
      const message = reqString(f, 'message', MAX_FIELD * 4);
      if (code === false || message === false) return null;
      return envelope({ type: 'error' as const, code, message });
    }
    default:
      return null;
  }
}

const clip = (s: string, max = MAX_FIELD) => (s.length > max ? s.slice(0, max) : s);

/**
 * The host's view of a ranked model: only plain fields (no description, links or index internals),
 * strings clipped to MAX_FIELD so the receiving parser never rejects them, and the first thumbnail
 * resolved against the index folder into an absolute URL.
 */
export function toEmbedResult(r: RankedModel, indexBase: string): EmbedResult {
  const m = r.model;
  const out: EmbedResult = {
    rank: r.rank,
    id: clip(String(m.id)),
    name: clip(String(m.name)),
    score: Number(r.score),
    family: clip(String(m.family)),
    creator: clip(String(m.creator)),
    licence: clip(String(m.licence)),
  };
  const thumb = m.thumbnails[0];
  if (typeof thumb === 'string' && thumb) {
    try {
      const url = new URL(thumb, indexBase);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.href.length <= 2000) out.thumbnail = url.href;
    } catch {
      // An unresolvable thumbnail is left out rather than failing the whole result.
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Origins

/**
 * The origin an allowlist entry names, or null when it is not exactly an http(s) origin
 * (`https://models.example`, optionally with a port or a trailing `/`). Paths, queries, fragments,
 * credentials, `null`, wildcards inside names and other schemes are rejected.
 */
export function normaliseOrigin(value: string): string | null {
  const s = value.trim();
  if (!/^https?:\/\//i.test(s)) return null;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || url.search || url.hash || s.includes('?') || s.includes('#')) return null;
  if (url.pathname !== '/' || /^https?:\/\/[^/]+\/./i.test(s)) return null;
  if (!url.hostname || url.hostname.includes('*')) return null;
  return url.origin;
}

/**
 * The allowlist from a config value: a list of origins, each normalised (`new URL(o).origin`);
 * invalid entries are dropped, duplicates removed. `'*'` (any http(s) origin) is kept only when it
 * is listed explicitly and exactly. Anything that is not a list gives an empty allowlist.
 */
export function parseAllowedOrigins(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out = new Set<string>();
  for (const entry of list.slice(0, MAX_ORIGINS)) {
    if (typeof entry !== 'string' || entry.length > 300) continue;
    if (entry.trim() === '*') {
      out.add('*');
      continue;
    }
    const origin = normaliseOrigin(entry);
    if (origin) out.add(origin);
  }
  return [...out];
}

/**
 * Whether a serialised origin (e.g. `MessageEvent.origin`, `location.origin`) is on the allowlist.
 * Matching is exact on scheme, host and port: `https://a.example` does not match
 * `https://a.example.evil.com`, `http://a.example` or `https://a.example:8443`. The opaque origin
 * `null` and non-http(s) origins never match, not even `'*'`.
 */
export function isAllowedOrigin(origin: string, allowlist: readonly string[]): boolean {
  if (typeof origin !== 'string' || origin === 'null') return false;
  // Only an already-serialised origin is accepted: re-serialising must give the same string.
  if (normaliseOrigin(origin) !== origin) return false;
  return allowlist.includes('*') || allowlist.includes(origin);
}
