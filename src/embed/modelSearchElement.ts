import {
  EMBED_PROTOCOL,
  EMBED_VERSION,
  MAX_EMBED_IMAGE_BYTES,
  MAX_EMBED_IMAGES,
  MAX_EMBED_TOTAL_BYTES,
  MAX_LIKE,
  MAX_METHOD,
  MAX_NAME,
  MAX_TEXT,
  parseAppMessage,
  type AppMessage,
  type HostLikeImages,
  type HostMessage,
  type HostQuery,
} from './protocol.ts';

/**
 * `<model-search>`: a framework-free custom element that embeds the search app in an iframe and
 * speaks the embed protocol with it (docs/embed.md). Built to `dist/embed/model-search.js`.
 *
 *   <script type="module" src="https://your-site/search/embed/model-search.js"></script>
 *   <model-search src="https://your-site/search/" index="index/demo/" query="red flowers"></model-search>
 *
 * Attributes: `src` (the deployed app, required), `index` (index path, passed as `?index=`), `query`
 * (text to search), `like` (a model id: "more like this"), `searchbox` (show the app's own search
 * box; without it a frame given a query or model shows results only), `height` (CSS length or
 * pixels; without it the frame follows the height the app reports, from 640px until it does).
 * Events (detail = the validated message): `model-search:ready`, `model-search:results`,
 * `model-search:select`, `model-search:error`. They bubble and cross shadow boundaries.
 * Methods: `search(text)`, `moreLike(id)`, `likeImages(images, {name, method})` (models like these
 * images: PNG, JPEG or WebP files as Blobs or ArrayBuffers, searched in the visitor's browser and
 * never stored or sent to a server; check `ready` event's `accepts` for 'like-images' first).
 *
 * Only messages from this element's iframe window *and* the app's origin are read, and each is
 * validated; messages to the app are addressed to the app's origin. No markup is ever built from
 * strings, so the element works on pages with a strict Content-Security-Policy.
 */
export const ELEMENT_NAME = 'model-search';
export const EVENT_PREFIX = 'model-search:';
const DEFAULT_HEIGHT = '640px';
// allow-forms: the app's search box is a <form> whose submit event a sandbox without it never fires.
const SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads';
// Threads need cross-origin isolation, which a cross-origin frame only gets when delegated to it;
// the copy-link button of the app's details needs clipboard-write.
const ALLOW = 'cross-origin-isolated; clipboard-write';

export interface ModelSearchElement extends HTMLElement {
  /** Whether the app in the frame has said `ready`. */
  readonly ready: boolean;
  /** The last `results` message, if any. */
  readonly lastResults: Extract<AppMessage, { type: 'results' }> | null;
  search(text: string): void;
  moreLike(id: string): void;
  /**
   * Searches for the models most like these images (1…64 PNG/JPEG/WebP files, each ≤ 16 MiB, ≤ 64
   * MiB in all): as "more like this" from a model built from them. Rejects with a RangeError naming
   * the limit before anything is sent. Your ArrayBuffers are copied, not detached. Resolves once the
   * message is sent (or waits for the app's `ready`); a newer search, moreLike or likeImages call
   * replaces one still being read.
   */
  likeImages(images: (Blob | ArrayBuffer)[], opts?: { name?: string; method?: string }): Promise<void>;
}

/** The bytes of images for a like-images message, checked against the protocol's limits (RangeError naming the limit). */
export async function readEmbedImages(images: readonly (Blob | ArrayBuffer)[]): Promise<ArrayBuffer[]> {
  if (!Array.isArray(images)) throw new TypeError('likeImages: images must be a list of Blobs or ArrayBuffers.');
  if (images.length < 1) throw new RangeError('likeImages: give at least 1 image.');
  if (images.length > MAX_EMBED_IMAGES) throw new RangeError(`likeImages: ${images.length} images (limit ${MAX_EMBED_IMAGES} images per search).`);
  const sizeOf = (x: Blob | ArrayBuffer) => (x instanceof Blob ? x.size : x instanceof ArrayBuffer ? x.byteLength : -1);
  let total = 0;
  for (const [i, image] of images.entries()) {
    const size = sizeOf(image);
    if (size < 0) throw new TypeError(`likeImages: image ${i + 1} is not a Blob or an ArrayBuffer.`);
    if (size > MAX_EMBED_IMAGE_BYTES) throw new RangeError(`likeImages: image ${i + 1} has ${size} bytes (limit ${MAX_EMBED_IMAGE_BYTES} bytes = 16 MiB per image).`);
    total += size;
  }
  if (total > MAX_EMBED_TOTAL_BYTES) throw new RangeError(`likeImages: the images hold ${total} bytes in all (limit ${MAX_EMBED_TOTAL_BYTES} bytes = 64 MiB).`);
  // Copies: the message transfers its buffers, and the caller's must stay usable.
  return Promise.all(images.map((image) => (image instanceof Blob ? image.arrayBuffer() : image.slice(0))));
}

/** The iframe address for an app URL (relative URLs resolve against the page). Null if not http(s). */
export function embedFrameUrl(
  src: string,
  opts: { parentOrigin: string; index?: string | null; query?: string | null; like?: string | null; searchBox?: boolean; baseUrl?: string },
): URL | null {
  let url: URL;
  try {
    url = new URL(src, opts.baseUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  url.searchParams.set('embed', '1');
  url.searchParams.set('parentOrigin', opts.parentOrigin);
  if (opts.index) url.searchParams.set('index', opts.index);
  if (opts.query) url.searchParams.set('q', opts.query.slice(0, MAX_TEXT));
  if (opts.like) url.searchParams.set('like', opts.like.slice(0, MAX_LIKE));
  if (opts.searchBox) url.searchParams.set('box', '1');
  return url;
}

/** `640` → `640px`; other values are left to the CSS parser (an invalid one is ignored). */
function cssHeight(value: string | null): string {
  const v = (value ?? '').trim();
  if (!v) return DEFAULT_HEIGHT;
  return /^\d+(\.\d+)?$/.test(v) ? `${v}px` : v;
}

/** A like-images message's buffers move to the app instead of being copied. */
function transferOf(msg: HostMessage): Transferable[] {
  return msg.type === 'like-images' ? msg.images : [];
}

function defineModelSearch(): void {
  if (typeof customElements === 'undefined' || customElements.get(ELEMENT_NAME)) return;

  class ModelSearch extends HTMLElement implements ModelSearchElement {
    static get observedAttributes(): string[] {
      return ['src', 'index', 'query', 'like', 'height', 'searchbox'];
    }

    #root: ShadowRoot;
    #frame: HTMLIFrameElement | null = null;
    #appOrigin = '';
    #ready = false;
    #pending: HostMessage | null = null;
    /** Counts searches asked for: images still being read when a newer one comes are dropped. */
    #turn = 0;
    #lastResults: Extract<AppMessage, { type: 'results' }> | null = null;
    #quiet = false;
    #connected = false;
    /** The last height the app reported (0 before any): used while no `height` attribute is set. */
    #reported = 0;

    constructor() {
      super();
      this.#root = this.attachShadow({ mode: 'open' });
      try {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(':host { display: block; } :host([hidden]) { display: none; }');
        this.#root.adoptedStyleSheets = [sheet];
      } catch {
        // Older browsers: the host element stays inline, which only affects layout.
      }
    }

    get ready(): boolean {
      return this.#ready;
    }

    get lastResults() {
      return this.#lastResults;
    }

    connectedCallback(): void {
      this.#connected = true;
      window.addEventListener('message', this.#onMessage);
      // (Re)build: an iframe put back into a document reloads anyway, so it takes the current attributes.
      this.#build();
    }

    disconnectedCallback(): void {
      this.#connected = false;
      window.removeEventListener('message', this.#onMessage);
      // A removed iframe is discarded and reloads when put back; the app then says ready again.
      this.#ready = false;
    }

    attributeChangedCallback(name: string, oldValue: string | null, newValue: string | null): void {
      if (name === 'height') {
        if (this.#frame) this.#frame.style.height = newValue === null && this.#reported ? `${this.#reported}px` : cssHeight(newValue);
        return;
      }
      // Before the element is connected, attributes are simply read when the frame is built.
      if (!this.#connected || oldValue === newValue) return;
      if (name === 'src' || name === 'index' || name === 'searchbox') {
        this.#build();
        return;
      }
      if (!this.#frame) return;
      switch (name) {
        case 'query':
          if (!this.#quiet) this.#send({ text: (newValue ?? '').slice(0, MAX_TEXT) });
          break;
        case 'like':
          if (this.#quiet) break;
          if (newValue) this.#send({ like: newValue.slice(0, MAX_LIKE) });
          else this.#send({ text: (this.getAttribute('query') ?? '').slice(0, MAX_TEXT) });
          break;
      }
    }

    /** Searches for text (field filters allowed); clears a "more like" query. */
    search(text: string): void {
      this.#quiet = true;
      try {
        this.removeAttribute('like');
        this.setAttribute('query', String(text));
      } finally {
        this.#quiet = false;
      }
      this.#send({ text: String(text).slice(0, MAX_TEXT) });
    }

    /** Searches for models like the one with this id (an id of the app's index). */
    moreLike(id: string): void {
      this.#quiet = true;
      try {
        this.setAttribute('like', String(id));
      } finally {
        this.#quiet = false;
      }
      this.#send({ like: String(id).slice(0, MAX_LIKE) });
    }

    async likeImages(images: (Blob | ArrayBuffer)[], opts: { name?: string; method?: string } = {}): Promise<void> {
      const turn = ++this.#turn;
      const name = opts.name === undefined ? undefined : String(opts.name);
      if (name !== undefined && name.length > MAX_NAME) throw new RangeError(`likeImages: the name has ${name.length} characters (limit ${MAX_NAME}).`);
      const method = opts.method === undefined ? undefined : String(opts.method).slice(0, MAX_METHOD);
      const buffers = await readEmbedImages(images);
      if (turn !== this.#turn) return;
      const msg: HostLikeImages = { protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: 'like-images', images: buffers };
      if (name) msg.name = name;
      if (method) msg.method = method;
      this.#post(msg);
    }

    #build(): void {
      this.#frame?.remove();
      this.#frame = null;
      this.#ready = false;
      this.#pending = null;
      this.#appOrigin = '';
      this.#reported = 0;
      const src = this.getAttribute('src');
      const url = src
        ? embedFrameUrl(src, {
            baseUrl: document.baseURI,
            parentOrigin: location.origin,
            index: this.getAttribute('index'),
            query: this.getAttribute('query'),
            like: this.getAttribute('like'),
            searchBox: this.hasAttribute('searchbox'),
          })
        : null;
      if (!url) {
        this.#emit({ protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: 'error', code: 'bad-src', message: 'The src attribute must be the http(s) address of the search app.' });
        return;
      }
      this.#appOrigin = url.origin;
      const frame = document.createElement('iframe');
      frame.title = 'Model search';
      frame.setAttribute('loading', 'lazy');
      frame.setAttribute('sandbox', SANDBOX);
      frame.setAttribute('allow', ALLOW);
      // CSSOM properties, not a style attribute: allowed under a strict style-src.
      frame.style.border = 'none';
      frame.style.width = '100%';
      frame.style.display = 'block';
      frame.style.height = cssHeight(this.getAttribute('height'));
      frame.src = url.href;
      this.#frame = frame;
      this.#root.append(frame);
    }

    #send(body: { text?: string; like?: string }): void {
      this.#turn++;
      this.#post({ protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: 'query', ...body } satisfies HostQuery);
    }

    #post(msg: HostMessage): void {
      const target = this.#frame?.contentWindow;
      if (!this.#ready || !target) {
        // Until the app says ready its listener may not exist yet; the latest message waits.
        this.#pending = msg;
        return;
      }
      target.postMessage(msg, { targetOrigin: this.#appOrigin, transfer: transferOf(msg) });
    }

    #onMessage = (event: MessageEvent): void => {
      const frame = this.#frame;
      if (!frame || !frame.contentWindow || event.source !== frame.contentWindow || event.origin !== this.#appOrigin) return;
      const msg = parseAppMessage(event.data);
      if (!msg) return;
      if (msg.type === 'ready') {
        this.#ready = true;
        const pending = this.#pending;
        this.#pending = null;
        if (pending) frame.contentWindow.postMessage(pending, { targetOrigin: this.#appOrigin, transfer: transferOf(pending) });
      } else if (msg.type === 'results') {
        this.#lastResults = msg;
      } else if (msg.type === 'resize') {
        // The frame follows the app's height unless the host fixed one.
        this.#reported = msg.height;
        if (!this.hasAttribute('height') && msg.height > 0) frame.style.height = `${msg.height}px`;
      }
      this.#emit(msg);
    };

    #emit(msg: AppMessage): void {
      this.dispatchEvent(new CustomEvent(EVENT_PREFIX + msg.type, { detail: msg, bubbles: true, composed: true }));
    }
  }

  customElements.define(ELEMENT_NAME, ModelSearch);
}

defineModelSearch();

declare global {
  interface HTMLElementTagNameMap {
    'model-search': ModelSearchElement;
  }
}
