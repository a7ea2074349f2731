import { headerFault, readImageHeader } from '../core/encode/imageHeader.ts';
import { IMAGE_FAULTS } from '../core/messages.ts';
import {
  BAD_IMAGE,
  checkHostMessage,
  envelope,
  HOST_MESSAGE_TYPES,
  isAllowedOrigin,
  MAX_FRAME_HEIGHT,
  parseAllowedOrigins,
  toEmbedResult,
  type AppMessage,
  type HostLikeImages,
  type HostMessage,
  type ResultsMessage,
} from '../embed/protocol.ts';
import type { SearchManager } from './search.svelte.ts';
import { parseMethod } from './urlState.ts';

/**
 * The app side of the embed protocol (docs/embed.md), active when the app runs with `?embed=1`
 * inside an iframe. It answers only the page named by `?parentOrigin=`, and only when the operator's
 * allowlist (`embed.json`) lists that origin: queries from anywhere else are ignored, and every
 * message it posts is addressed to that origin, never to '*'.
 *
 * A message from the parent that claims this protocol but breaks it (a wrong version, a field of the
 * wrong kind, an unknown field) is answered with an `error` message (`bad-message`) naming the field;
 * anything else that is ignored (another window or origin, another script's messages) is logged in
 * the frame's console, never answered. Queries and like-images messages are applied once per task:
 * of a burst, the last wins. A like-images image whose header is not a readable image is answered
 * with `bad-image` naming its position; its images are searched in this browser and kept nowhere.
 *
 * DOM hooks (for tests and diagnostics) on `<html>`:
 *  - `data-embed-bridge`: `on` while listening, `refused` when the parent origin is not allowed, `off` after stop();
 *  - `data-embed-ignored`: how many incoming messages were ignored (wrong source, origin or shape).
 */
export interface EmbedBridge {
  /** Whether the bridge started (the parent origin is allowed). */
  readonly active: boolean;
  /** The origin messages are posted to, when active. */
  readonly parentOrigin: string | null;
  stop(): void;
}

export interface EmbedBridgeOptions {
  /** The operator's allowlist (see loadEmbedConfig). */
  allowedOrigins: string[];
  /** Absolute URL of the index folder; thumbnails are resolved against it. */
  indexBase: string;
  /** Defaults to `location.search` (tests pass their own). */
  search?: string;
  /** Messages that arrived before the bridge started (while the allowlist loaded): handled first, in order. */
  early?: readonly MessageEvent[];
}

/** Most console lines about ignored messages per bridge (a flood must not flood the console too). */
const MAX_WARNINGS = 10;
/**
 * Most messages kept while the allowlist loads; older ones go first (a later query replaces them
 * anyway). Of like-images messages (up to 64 MiB each) only the latest is kept.
 */
const MAX_EARLY = 50;

/**
 * The embed's layout: `compact` (the host's query drives it: results only, with a link to the full
 * app) unless the host asked for the app's own search box (`?box=1`, the element's `searchbox`).
 */
export function embedLayout(search: string = location.search): 'compact' | 'with-search-box' {
  return new URLSearchParams(search).get('box') === '1' ? 'with-search-box' : 'compact';
}

/** The page's content height in CSS pixels (what the frame needs to show it all), clamped. */
export function contentHeight(doc: Document = document): number {
  const body = doc.body;
  if (!body) return 0;
  const style = getComputedStyle(body);
  const h = body.getBoundingClientRect().height + parseFloat(style.marginTop || '0') + parseFloat(style.marginBottom || '0');
  return Math.min(MAX_FRAME_HEIGHT, Math.max(0, Math.ceil(h)));
}

/** Whether this page was asked to run as an embed: `?embed=1` and framed by another page. */
export function isEmbedRequest(search: string = location.search): boolean {
  return new URLSearchParams(search).get('embed') === '1' && typeof window !== 'undefined' && window.parent !== window;
}

/**
 * The allowlist deployed next to the app as `embed.json` (`{ "allowedOrigins": [...] }`).
 * A missing or invalid file gives an empty allowlist, so embedding is refused.
 */
export async function loadEmbedConfig(appBase: string): Promise<string[]> {
  const url = new URL('embed.json', appBase).href;
  let json: unknown;
  try {
    const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
    if (!res.ok) {
      console.warn(`[embed] ${url} answered HTTP ${res.status}: no origin may embed this app. Deploy embed.json with "allowedOrigins" (docs/embed.md).`);
      return [];
    }
    json = await res.json();
  } catch (err) {
    console.warn(`[embed] could not read ${url} (${err instanceof Error ? err.message : String(err)}): no origin may embed this app.`);
    return [];
  }
  const raw = typeof json === 'object' && json !== null ? (json as { allowedOrigins?: unknown }).allowedOrigins : undefined;
  const origins = parseAllowedOrigins(raw);
  const listed = Array.isArray(raw) ? raw.length : 0;
  if (listed > origins.length) {
    console.warn(`[embed] ${listed - origins.length} entr${listed - origins.length === 1 ? 'y' : 'ies'} of allowedOrigins in ${url} ignored: each must be an exact http(s) origin such as "https://models.example", or "*".`);
  }
  if (!origins.length) console.warn(`[embed] ${url} allows no origin: embedding is refused.`);
  return origins;
}

const MAX_ERROR_MESSAGE = 2000;

/**
 * The `results` message for the manager's latest search: its ranking, and `noMatch` when nothing
 * matches well (the app shows its notice then). With no search (a cleared query) an empty list.
 */
export function resultsMessage(manager: Pick<SearchManager, 'summary' | 'results' | 'noMatch' | 'method'>, indexBase: string): ResultsMessage {
  const summary = manager.summary;
  if (!summary) return envelope({ type: 'results' as const, query: '', method: manager.method, results: [], noMatch: false });
  return envelope({
    type: 'results' as const,
    query: summary.label.slice(0, 1000),
    method: summary.method,
    results: manager.results.map((r) => toEmbedResult(r, indexBase)),
    noMatch: manager.noMatch,
  });
}

function setHook(name: 'embedBridge' | 'embedIgnored', value: string): void {
  if (typeof document !== 'undefined') document.documentElement.dataset[name] = value;
}

/** Connects a SearchManager to the framing page. Call once, after loadEmbedConfig. */
export function startEmbedBridge(manager: SearchManager, opts: EmbedBridgeOptions): EmbedBridge {
  const claimed = new URLSearchParams(opts.search ?? location.search).get('parentOrigin') ?? '';
  const framed = window.parent !== window;
  if (!framed || !isAllowedOrigin(claimed, opts.allowedOrigins)) {
    console.warn(
      !framed
        ? '[embed] ?embed=1 but the app is not in a frame: the embed bridge is off.'
        : claimed
          ? `[embed] refusing to be embedded by ${JSON.stringify(claimed.slice(0, 200))}: that origin is not in embed.json's allowedOrigins.`
          : '[embed] refusing to be embedded: ?parentOrigin= is missing or empty.',
    );
    setHook('embedBridge', 'refused');
    return { active: false, parentOrigin: null, stop() {} };
  }
  // An exact origin even when the allowlist is '*': postMessage with it reaches the parent only if
  // the parent really has that origin, so a page cannot read results by claiming someone else's.
  const parentOrigin = claimed;
  const parent = window.parent;
  let ignored = 0;
  let stopped = false;
  setHook('embedBridge', 'on');
  setHook('embedIgnored', '0');

  const post = (msg: AppMessage) => {
    if (stopped) return;
    try {
      parent.postMessage(msg, parentOrigin);
    } catch (err) {
      console.warn('[embed] postMessage failed:', err);
    }
  };

  /** Whether the search running now came from a like-images message (its image errors are `bad-image`). */
  let imagesApplied = false;

  /** A host's message replaces the whole query, and goes in the way the app's own controls do. */
  const apply = (q: HostMessage) => {
    if (q.type === 'like-images') {
      const fault = imageProblem(q);
      if (fault) {
        post(envelope({ type: 'error' as const, code: BAD_IMAGE, message: `The images were not searched: ${fault}.` }));
        return;
      }
    }
    // Absent = automatic; an unknown name is reported and the automatic method used.
    const method = q.method ? parseMethod(q.method) : null;
    if (q.method && !method) {
      post(envelope({ type: 'error' as const, code: 'bad-method', message: `Unknown method "${q.method}"; the automatic method is used.` }));
    }
    imagesApplied = q.type === 'like-images';
    if (q.type === 'like-images') {
      const samples = { blobs: q.images.map((b) => new Blob([b])), ...(q.name ? { label: q.name } : {}) };
      void manager.submit({ samples, text: '', like: null, method });
    } else {
      void manager.submit({ samples: null, image: null, text: q.text ?? '', like: q.like ? { id: q.like, name: '' } : null, method });
    }
  };

  let warnings = 0;
  const ignore = (why: string) => {
    setHook('embedIgnored', String(++ignored));
    if (warnings > MAX_WARNINGS) return;
    console.warn(++warnings > MAX_WARNINGS ? '[embed] more messages were ignored; they are no longer logged.' : `[embed] ignored a message: ${why}.`);
  };

  // A burst of queries (a host typing, or a flood) runs once, with the last: one task later.
  let latest: HostMessage | null = null;
  let flush: ReturnType<typeof setTimeout> | undefined;
  const enqueue = (q: HostMessage) => {
    latest = q;
    flush ??= setTimeout(() => {
      flush = undefined;
      const q = latest;
      latest = null;
      if (q && !stopped) apply(q);
    }, 0);
  };

  const onMessage = (event: MessageEvent) => {
    if (event.source !== parent) return ignore(`it came from ${quoteOrigin(event.origin)}, not from the page that embeds this app`);
    if (event.origin !== parentOrigin || !isAllowedOrigin(event.origin, opts.allowedOrigins)) {
      return ignore(`it came from ${quoteOrigin(event.origin)}, but this app is embedded for ${parentOrigin}`);
    }
    const checked = checkHostMessage(event.data);
    if (!checked.query) {
      ignore(checked.problem);
      if (checked.ours) post(envelope({ type: 'error' as const, code: 'bad-message', message: `The message was ignored: ${checked.problem}.` }));
      return;
    }
    enqueue(checked.query);
  };
  window.addEventListener('message', onMessage);
  for (const event of opts.early ?? []) onMessage(event);

  let readySent = false;
  let lastSummary: object | null = null;
  let lastError: object | null = null;
  let lastSelected: object | null = null;
  const destroyEffects = $effect.root(() => {
    $effect(() => {
      if (readySent || manager.phase !== 'ready' || !manager.info) return;
      readySent = true;
      post(envelope({ type: 'ready' as const, models: manager.info.modelCount, index: manager.info.indexName.slice(0, 500), accepts: [...HOST_MESSAGE_TYPES] }));
    });
    $effect(() => {
      const summary = manager.summary;
      void summary?.seq;
      void manager.results;
      if (summary === lastSummary) return;
      const hadResults = lastSummary !== null;
      lastSummary = summary;
      // A cleared query (no summary) after results: the host's list should empty too.
      if (summary || hadResults) post(resultsMessage(manager, opts.indexBase));
    });
    $effect(() => {
      const error = manager.error;
      if (error === lastError) return;
      lastError = error;
      if (!error) return;
      // An image of a like-images message that the worker could not decode.
      const code = imagesApplied && manager.samples && error.code === 'bad-query' && /^This file /.test(error.message) ? BAD_IMAGE : error.code;
      const message = code === BAD_IMAGE ? `The images were not searched: one of them ${error.message.replace(/^This file /, '')}` : error.message;
      post(envelope({ type: 'error' as const, code, message: message.slice(0, MAX_ERROR_MESSAGE) }));
    });
    // A model was picked (its details opened): the host hears which.
    $effect(() => {
      const selected = manager.selected;
      if (selected === lastSelected) return;
      lastSelected = selected;
      if (selected) post(envelope({ type: 'select' as const, model: toEmbedResult(selected, opts.indexBase) }));
    });
  });

  // The host sizes the frame to the page: report the content height whenever it changes.
  let lastHeight = -1;
  let frameRequest = 0;
  const reportHeight = () => {
    frameRequest = 0;
    const height = contentHeight();
    if (height === lastHeight) return;
    lastHeight = height;
    post(envelope({ type: 'resize' as const, height }));
  };
  const hasPage = typeof document !== 'undefined' && typeof ResizeObserver !== 'undefined';
  const sizes = hasPage ? new ResizeObserver(() => (frameRequest ||= requestAnimationFrame(reportHeight))) : null;
  if (hasPage && document.body) {
    sizes!.observe(document.body);
    reportHeight();
  }

  return {
    active: true,
    parentOrigin,
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(flush);
      sizes?.disconnect();
      if (frameRequest) cancelAnimationFrame(frameRequest);
      window.removeEventListener('message', onMessage);
      destroyEffects();
      setHook('embedBridge', 'off');
    },
  };
}

/**
 * The embed side of page start: reads the allowlist, then connects the bridge. Returns the stop
 * function (safe to call before the allowlist arrived: the bridge then never starts).
 */
export function connectEmbed(manager: SearchManager, opts: { appBase: string; indexBase: string }): () => void {
  let bridge: EmbedBridge | null = null;
  let stopped = false;
  // A host may post its first query as soon as the frame loads, before the allowlist is read: the
  // messages are kept (not judged yet) and handed to the bridge, which checks them like any other.
  const early: MessageEvent[] = [];
  const hold = (event: MessageEvent) => {
    // At most one like-images message (the latest): 50 of them could hold gigabytes.
    if (isLikeImages(event.data)) {
      const older = early.findIndex((e) => isLikeImages(e.data));
      if (older >= 0) early.splice(older, 1);
    }
    if (early.push(event) > MAX_EARLY) early.shift();
  };
  window.addEventListener('message', hold);
  void loadEmbedConfig(opts.appBase).then((allowedOrigins) => {
    window.removeEventListener('message', hold);
    if (!stopped) bridge = startEmbedBridge(manager, { allowedOrigins, indexBase: opts.indexBase, early });
  });
  return () => {
    stopped = true;
    window.removeEventListener('message', hold);
    bridge?.stop();
  };
}

/** Whether a message (not judged yet) says it is a like-images message; reads only an own data property. */
function isLikeImages(data: unknown): boolean {
  if (typeof data !== 'object' || data === null) return false;
  const desc = Object.getOwnPropertyDescriptor(data, 'type');
  return !!desc && 'value' in desc && desc.value === 'like-images';
}

/**
 * What the headers of a like-images message's images show to be wrong (not an image format this app
 * reads, CMYK, too many pixels), naming the image by position (1 = first), or ''.
 */
export function imageProblem(msg: HostLikeImages): string {
  for (const [i, bytes] of msg.images.entries()) {
    const header = readImageHeader(new Uint8Array(bytes));
    const fault = header ? headerFault(header) : IMAGE_FAULTS.unreadable;
    if (fault) return `image ${i + 1} ${fault}`;
  }
  return '';
}

/** An event's origin for a console line (it is the browser's serialisation, but may be 'null' or long). */
function quoteOrigin(origin: string): string {
  return typeof origin === 'string' && origin && origin !== 'null' ? origin.slice(0, 200) : 'a page without an origin';
}
