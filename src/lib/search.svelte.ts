import { describeBackendReason } from './backendReason.ts';
import { SEARCH_DEFAULTS } from '../core/scoring/defaults.ts';
import { describeStorageNotice } from './storageNotice.ts';
import type { ErrorInfo } from '../core/io/errors.ts';
import { toErrorInfo } from '../core/io/errors.ts';
import type { MatchVerdict } from '../core/scoring/matchQuality.ts';
import { autoMethod, type Method, type QueryKind } from '../core/scoring/methods.ts';
import { formatQuery, hasFilters, parseQuery, type FacetCounts, type FieldFilters } from '../core/scoring/queryFilters.ts';
import type { LoadProgress, QueryPart, RankedModel, ReadyInfo, SearchRequest, SearchResponse, TieredStats, WorkerConfig } from '../shared/protocol.ts';
import { memoryAddressBar, type AddressBar, type HistoryMode } from './addressBar.ts';
import { prepareImage } from './imageInput.ts';
import { describeMatch } from './matchNotice.ts';
import { applyProgress, downloadingText, type FileProgress } from './downloads.ts';
import { isAbort, searchClient } from './searchClient.ts';
import { clearSessionImage, loadSessionImage, saveSessionImage, type StoredImage } from './sessionImage.ts';
import { DEFAULT_IMAGE_WEIGHT, DEFAULT_K, readUrlState, searchParamsFor, withParams, type SearchUrlState, type UrlState } from './urlState.ts';

export type Phase = 'idle' | 'loading' | 'ready' | 'error';

export type { FileProgress } from './downloads.ts';

/** An image query: an uploaded, dropped or pasted file, or a drawn sketch (already shrunk to PNG). */
export interface ImageQuery {
  blob: Blob;
  name: string;
  source: 'file' | 'sketch';
  /** Object URL for the preview; revoked when the image is replaced. */
  previewUrl: string;
}

export interface SearchSummary {
  /** What was searched for, in words (for headings and exported files). */
  label: string;
  method: Method;
  backend: SearchResponse['backend'];
  encodeMs: number;
  scoreMs: number;
  matched: number;
  hybrid: boolean;
  /** Whether anything matches well: not 'ok' when the query carried no information or scored weakly. */
  match: MatchVerdict;
  /** Counts completed searches, so observers can tell a repeated query's fresh result apart. */
  seq: number;
  /** Field filters alone: the models they match, by name, not a ranking (no scores). */
  listing: boolean;
  /** A tiered index's two stages (candidates, what was fetched). */
  tiered?: TieredStats;
}

export const TOP_K = SEARCH_DEFAULTS.topK;

/**
 * Sample images of a model that is not in the index ("models like these images"): ranked as "more
 * like this" from a model built from them. Kept in memory only: never in the address or the session.
 */
export interface SamplesQuery {
  blobs: Blob[];
  /** A name for them ("models like “<label>”"); untrusted text. */
  label?: string;
}

/**
 * A change to the query, handed to `submit`. Fields left out keep their value; `null` removes a part.
 * Applied in this order: samples, image, text, filters, like, method, k, weights.
 */
export interface QueryChange {
  /** The text box: free text and field filters. */
  text?: string;
  /** Replaces the field filters of the text, keeping its free text (a facet was picked). */
  filters?: FieldFilters;
  /** An image or sketch (already prepared, see `useImage`); it ends a "more like this" query. */
  image?: StoredImage | null;
  /** "More like this": the model becomes the whole query. */
  like?: { id: string; name: string } | null;
  /** Sample images become the whole query (text, image and like are cleared); free text, an image or a like clears them. */
  samples?: SamplesQuery | null;
  /** The method asked for; null = automatic. */
  method?: Method | null;
  k?: number;
  imageWeight?: number;
  hybridWeight?: number;
}

export const IMAGE_NOT_SAVED = 'This image will not survive a reload: the browser’s session storage is full or disabled.';

/** Address parameters only an embedded page uses: a link out of the embed leaves them behind. */
const EMBED_ONLY = { embed: '', parentOrigin: '', box: '' };

/** All state of the search page. Components read it and call its methods; they never talk to the worker. */
export class SearchManager {
  phase = $state<Phase>('idle');
  /** What the worker is doing while loading (see `loadingText`, which names downloads first). */
  stage = $state('');
  /** Every large file of the start-up (and later ones, e.g. the image tower): the download list. */
  files = $state<FileProgress[]>([]);
  info = $state<ReadyInfo | null>(null);
  /** Set when the worker switched backend after start (e.g. a lost GPU device). */
  fallbackReason = $state<string | null>(null);
  results = $state.raw<RankedModel[]>([]);
  scores = $state.raw<Float32Array | null>(null);
  facets = $state.raw<FacetCounts>({});
  summary = $state<SearchSummary | null>(null);
  searching = $state(false);
  /** A tiered index's prefilter ranking is shown while the exact one is computed. */
  refining = $state(false);
  error = $state<ErrorInfo | null>(null);
  /** The latest offline-storage notice (quota full, storage disabled, damaged copy, offline start). */
  storageNotice = $state('');
  /** Set when the image query could not be kept in the tab's session (it will not survive a reload). */
  imageNotice = $state('');
  /** The result whose details are open, or null. */
  selected = $state.raw<RankedModel | null>(null);

  // The query being composed: text (with field filters), image, or a model ("more like this").
  /** The text box; typing changes it (bound), `submit` searches with it. */
  text = $state('');
  image = $state.raw<ImageQuery | null>(null);
  /** Id of the model used as query; its name arrives with the first response. */
  likeId = $state('');
  likeName = $state('');
  /** Sample images as the query ("models like these images"); never written to the address or the session. */
  samples = $state.raw<SamplesQuery | null>(null);
  /** The method asked for (URL or picker); null = automatic (best for the query kind). */
  requestedMethod = $state<Method | null>(null);
  k = $state(DEFAULT_K);
  imageWeight = $state(DEFAULT_IMAGE_WEIGHT);
  hybridWeight = $state(SEARCH_DEFAULTS.hybridWeight);
  /** A tiered index: candidates K kept by the prefilter (?candidates=); null = the index's default. */
  candidates = $state<number | null>(null);
  /** A sign-coded tiered index: models its sign codes keep (?shortlist=); null = the index's default. */
  shortlist = $state<number | null>(null);
  /** How many results the current query asks for: TOP_K, and TOP_K more per "Show more". */
  limit = $state(TOP_K);

  /** Free text and field filters of the text box (parsed once per edit, read by many getters). */
  parsed: { text: string; filters: FieldFilters } = $derived(parseQuery(this.text));

  get queryKinds(): QueryKind[] {
    if (this.likeId || this.samples) return ['model'];
    const kinds: QueryKind[] = [];
    if (this.parsed.text) kinds.push('text');
    if (this.image) kinds.push(this.image.source === 'sketch' ? 'sketch' : 'image');
    return kinds;
  }

  /** Something to search with, or field filters alone (which list the models they match). */
  get hasQuery(): boolean {
    return this.queryKinds.length > 0 || hasFilters(this.parsed.filters);
  }

  /** Whether the text box holds free text (not only filters). */
  get hasText(): boolean {
    return !!this.parsed.text;
  }

  /** The status line while loading: the downloads in flight, else the stage. */
  get loadingText(): string {
    return downloadingText(this.files) || this.stage;
  }

  /**
   * Whether the download list is shown: while the app loads, and while an image search may wait for
   * the image tower (a first image query). Background downloads during text searches do not move the page.
   */
  get showDownloads(): boolean {
    if (!this.files.length) return false;
    if (this.phase === 'loading') return true;
    return this.searching && (!!this.image || !!this.samples) && this.files.some((f) => f.kind === 'encoder' && !f.done);
  }

  /** Whether a query was submitted before the app was ready: it runs once ready ("Searching for … once ready"). */
  get queued(): boolean {
    return this.pendingRun && this.phase === 'loading' && this.hasQuery;
  }

  /** Words for the query that waits for the app to be ready, e.g. `“red flowers”`; '' when none waits. */
  get queuedLabel(): string {
    return this.queued ? this.describe() : '';
  }

  /** Whether the ranking has more models than are shown ("Show more"). */
  get hasMore(): boolean {
    return !!this.summary && !this.searching && this.results.length === this.limit && this.results.length < this.summary.matched;
  }

  /** The same query, TOP_K more results (the worker ranks again; the shown ones stay in place). */
  showMore(): Promise<void> {
    if (!this.hasMore) return Promise.resolve();
    this.limit += TOP_K;
    return this.run();
  }

  /** The heading above the results. */
  get heading(): string {
    if (!this.summary) return 'Results';
    if (this.summary.listing) return `${this.results.length} of ${this.summary.matched} models with ${this.summary.label}, by name`;
    const total = this.info?.modelCount ?? 0;
    const matched = this.summary.matched === this.info?.modelCount ? '' : `${this.summary.matched} matching / `;
    // Nothing matches well: these are the closest models, not matches (the notice above says why).
    const top = this.noMatch ? 'Closest' : 'Top';
    return `${top} ${this.results.length} of ${matched}${total} models for ${this.summary.label}`;
  }

  /**
   * Whether the latest search found nothing that matches well (see src/core/scoring/matchQuality.ts);
   * its results are still the closest models. False with no results (filters left none: that has
   * its own words).
   */
  get noMatch(): boolean {
    return !!this.summary && this.summary.match.kind !== 'ok' && this.results.length > 0;
  }

  /** The sentence above the results when nothing matches well, or ''. */
  get matchNotice(): string {
    return this.noMatch ? describeMatch(this.summary?.match) : '';
  }

  /** Link to the open result as a "more like this" search ("Copy link" in its details); '' when none is open. */
  get shareUrl(): string {
    if (!this.selected) return '';
    return this.linkTo({ ...this.urlState, q: '', like: this.selected.model.id });
  }

  /** The current search in the full app (what an embed's "Open in Model Search" links to). */
  get appUrl(): string {
    return this.linkTo(this.urlState);
  }

  /** A link to the app with search `state`, keeping the page's setup (index, backend), never the embed's parameters. */
  private linkTo(state: SearchUrlState): string {
    return new URL(withParams(this.address.search, { ...searchParamsFor(state), ...EMBED_ONLY }), this.address.href).href;
  }

  /** The method searches use: the requested one if the index supports it, else the automatic one. */
  get method(): Method {
    const available = this.info?.methods ?? [];
    if (this.requestedMethod && available.includes(this.requestedMethod)) return this.requestedMethod;
    return autoMethod(available, this.queryKinds);
  }

  /** What belongs in the address bar. */
  get urlState(): SearchUrlState {
    return { q: this.text, method: this.requestedMethod, k: this.k, imageWeight: this.imageWeight, hybridWeight: this.hybridWeight, like: this.likeId, candidates: this.candidates, shortlist: this.shortlist };
  }

  private config: WorkerConfig | null = null;
  private startController: AbortController | null = null;
  private searchController: AbortController | null = null;
  /** A search was asked for before the worker was ready: it runs when it is. */
  private pendingRun = $state(false);
  /** Where the search is written; a detached manager (tests) keeps it in memory. */
  private address: AddressBar = memoryAddressBar();
  private historyMode: HistoryMode = 'push';
  /** Session-storage writes of the image query, one after another. */
  private persisting: Promise<void> = Promise.resolve();

  /**
   * Binds the manager to the page's address and takes the search it holds (before the first render,
   * so the text box starts filled). Embedded pages replace the history entry instead of adding one:
   * they must not grow the host page's joint session history. Returns the whole address state
   * (index, backend, … as well).
   */
  attach(address: AddressBar, history: HistoryMode = 'push'): UrlState {
    this.address = address;
    this.historyMode = history;
    const url = readUrlState(address.search);
    this.applyUrlState(url);
    return url;
  }

  /**
   * Page start: restores the tab's image query, starts the worker, and runs the query the page was
   * opened with (once the worker is ready).
   */
  open(config: WorkerConfig): Promise<void> {
    const stored = loadSessionImage();
    if (stored) this.setImage(stored);
    const started = this.start(config);
    if (this.hasQuery) void this.run();
    return started;
  }

  /**
   * The one way a search starts from the UI and the embed bridge: applies the change to the query,
   * writes the search into the address (a new history entry when it changed, see `attach`) and runs
   * it. A newer submit drops the result of an older one still running. `submit()` with no change
   * searches again with the query as it stands (e.g. text typed into the bound box).
   */
  submit(change: QueryChange = {}): Promise<void> {
    this.limit = TOP_K;
    if (change.samples) this.setSamples(change.samples);
    else if (change.samples === null) this.samples = null;
    if (change.image !== undefined) {
      this.setImage(change.image);
      this.persistImage(change.image);
    }
    if (change.text !== undefined) this.text = change.text;
    if (change.filters) this.text = formatQuery(parseQuery(this.text).text, change.filters);
    if (change.like) this.setLike(change.like);
    else if (change.like === null) this.clearLike();
    // Free text (typed into the bound box, or given here) replaces sample images.
    if (this.samples && this.parsed.text) this.samples = null;
    if (change.method !== undefined) this.requestedMethod = change.method;
    if (change.k !== undefined) this.k = change.k;
    if (change.imageWeight !== undefined) this.imageWeight = change.imageWeight;
    if (change.hybridWeight !== undefined) this.hybridWeight = change.hybridWeight;
    this.writeAddress();
    return this.run();
  }

  /**
   * An uploaded, dropped, pasted or drawn image becomes the query: decoded, shrunk to a PNG, then
   * submitted. Resolves true once its search started, false when the file is not a usable image
   * (the error is shown instead).
   */
  async useImage(file: Blob, source: 'file' | 'sketch', name?: string): Promise<boolean> {
    try {
      const prepared = await prepareImage(file, name);
      void this.submit({ image: { blob: prepared.blob, name: prepared.name, source } });
      return true;
    } catch (err) {
      this.error = toErrorInfo(err);
      return false;
    }
  }

  /** The address changed under the page (back/forward): take its search and run it, writing nothing. */
  followAddress(): Promise<void> {
    this.selected = null;
    // Sample images are not in the address: another entry's search replaces them.
    this.samples = null;
    this.applyUrlState(readUrlState(this.address.search));
    return this.run();
  }

  openDetails(r: RankedModel): void {
    this.selected = r;
  }

  closeDetails(): void {
    this.selected = null;
  }

  /** Back to a new manager's state (tests): drops running work, detaches from the address. */
  reset(): void {
    this.startController?.abort();
    this.searchController?.abort();
    this.startController = null;
    this.searchController = null;
    this.config = null;
    this.pendingRun = false;
    if (this.image) URL.revokeObjectURL(this.image.previewUrl);
    this.address = memoryAddressBar();
    this.historyMode = 'push';
    this.persisting = Promise.resolve();
    this.phase = 'idle';
    this.stage = '';
    this.files = [];
    this.info = null;
    this.fallbackReason = null;
    this.results = [];
    this.scores = null;
    this.facets = {};
    this.summary = null;
    this.searching = false;
    this.error = null;
    this.storageNotice = '';
    this.imageNotice = '';
    this.selected = null;
    this.text = '';
    this.image = null;
    this.likeId = '';
    this.likeName = '';
    this.samples = null;
    this.requestedMethod = null;
    this.k = DEFAULT_K;
    this.imageWeight = DEFAULT_IMAGE_WEIGHT;
    this.hybridWeight = SEARCH_DEFAULTS.hybridWeight;
  }

  /** Waits for the image query's session-storage writes (tests). */
  settled(): Promise<void> {
    return this.persisting;
  }

  private writeAddress(): void {
    const current = this.address.search;
    const next = withParams(current, searchParamsFor(this.urlState));
    if (next !== current) this.address.write(next, this.historyMode);
  }

  /**
   * Keeps the image query in the tab's session (not the URL: it can be megabytes, and it is private),
   * or forgets it. Writes run in order, and an image replaced meanwhile is not written.
   */
  private persistImage(image: StoredImage | null): void {
    this.persisting = this.persisting.then(async () => {
      if (!image) {
        clearSessionImage();
        return;
      }
      if (this.image?.blob !== image.blob) return;
      const saved = await saveSessionImage(image);
      if (this.image?.blob === image.blob) this.imageNotice = saved ? '' : IMAGE_NOT_SAVED;
    });
  }

  async start(config: WorkerConfig): Promise<void> {
    this.config = config;
    this.startController?.abort();
    const controller = new AbortController();
    this.startController = controller;
    this.phase = 'loading';
    this.stage = 'Loading the index…';
    this.error = null;
    this.files = [];
    try {
      const info = await searchClient.start(config, (p) => this.onProgress(p), controller.signal);
      this.info = info;
      this.phase = 'ready';
      this.stage = '';
      if (this.pendingRun) {
        this.pendingRun = false;
        await this.run();
      }
    } catch (err) {
      if (isAbort(err)) return;
      this.phase = 'error';
      this.error = toErrorInfo(err);
    }
  }

  /** Takes the search part of an address (on load and on back/forward). */
  private applyUrlState(s: SearchUrlState): void {
    this.limit = TOP_K;
    this.text = s.q;
    this.requestedMethod = s.method;
    this.k = s.k;
    this.imageWeight = s.imageWeight;
    this.hybridWeight = s.hybridWeight;
    this.candidates = s.candidates;
    this.shortlist = s.shortlist;
    if (s.like !== this.likeId) this.likeName = '';
    this.likeId = s.like;
  }

  private setImage(image: StoredImage | null): void {
    if (this.image) URL.revokeObjectURL(this.image.previewUrl);
    this.image = image ? { ...image, previewUrl: URL.createObjectURL(image.blob) } : null;
    if (image) {
      this.clearLike();
      this.samples = null;
    }
  }

  /** "More like this": the model becomes the whole query; free text goes (field filters stay). */
  private setLike(model: { id: string; name: string }): void {
    this.likeId = model.id;
    this.likeName = model.name;
    this.samples = null;
    this.text = formatQuery('', this.parsed.filters);
  }

  /** Sample images become the whole query: free text, the image (and its session copy) and "more like this" go; field filters stay. */
  private setSamples(samples: SamplesQuery): void {
    this.samples = { blobs: [...samples.blobs], ...(samples.label ? { label: samples.label } : {}) };
    this.clearLike();
    if (this.image) {
      this.setImage(null);
      this.persistImage(null);
    }
    this.text = formatQuery('', this.parsed.filters);
  }

  /**
   * The visitor added, renamed or removed one of their own models: the model count comes from the
   * worker (which decides which of them rank), the heading follows, and the current query runs again.
   */
  async localModelsChanged(): Promise<void> {
    if (this.phase !== 'ready') return;
    try {
      const counts = await searchClient.modelCount();
      if (this.info) this.info = { ...this.info, ...counts };
    } catch (err) {
      // The count is a label: a worker that cannot say keeps the old one (the search below reports real failures).
      console.warn('The model count could not be refreshed:', err);
    }
    if (this.hasQuery) await this.run();
  }

  private clearLike(): void {
    this.likeId = '';
    this.likeName = '';
  }

  /** The request for the current query, or null when there is nothing to search with. */
  request(): SearchRequest | null {
    const { text, filters } = this.parsed;
    const parts: SearchRequest['parts'] = [];
    if (this.likeId) {
      parts.push({ part: { kind: 'model', modelId: this.likeId }, weight: 1 });
    } else if (this.samples) {
      const { blobs, label } = this.samples;
      parts.push({ part: { kind: 'samples', images: blobs, ...(label ? { label } : {}) }, weight: 1 });
    } else {
      const both = !!text && !!this.image;
      if (text) parts.push({ part: { kind: 'text', text }, weight: both ? 1 - this.imageWeight : 1 });
      if (this.image) {
        const part: QueryPart = { kind: 'image', image: this.image.blob, source: this.image.source };
        parts.push({ part, weight: both ? this.imageWeight : 1 });
      }
    }
    // No parts: field filters alone list the models they match (rank's listing); neither is no request.
    if (!parts.length && !hasFilters(filters)) return null;
    return {
      parts,
      method: this.method,
      params: this.method === 'best-k' ? { k: this.k } : undefined,
      topK: this.limit,
      filters,
      hybridWeight: text && !this.likeId && !this.samples ? this.hybridWeight : 0,
      ...(this.info?.tiered && this.candidates !== null ? { candidates: this.candidates } : {}),
      // Only a sign-coded head has a sign shortlist (the worker would ignore it on any other).
      ...(this.info?.tiered?.shortlist !== undefined && this.shortlist !== null ? { shortlist: this.shortlist } : {}),
    };
  }

  /** Words for what is being searched, e.g. `“red flowers” + sketch`. */
  private describe(): string {
    if (this.likeId) return `models like “${this.likeName || this.likeId}”`;
    if (this.samples) {
      const n = this.samples.blobs.length;
      return this.samples.label ? `models like “${this.samples.label}”` : `models like your ${n} image${n === 1 ? '' : 's'}`;
    }
    if (!this.parsed.text && !this.image) return formatQuery('', this.parsed.filters);
    const bits: string[] = [];
    if (this.parsed.text) bits.push(`“${this.parsed.text}”`);
    if (this.image) bits.push(this.image.source === 'sketch' ? 'your sketch' : `image “${this.image.name}”`);
    return bits.join(' + ');
  }

  /**
   * Runs the current query; a newer run cancels the older one so results never arrive out of order.
   * Private: searches start through `submit`, `open`, `followAddress` and `retry`.
   */
  private async run(): Promise<void> {
    if (this.phase !== 'ready') {
      this.pendingRun = true;
      return;
    }
    const request = this.request();
    this.searchController?.abort();
    if (!request) {
      this.searchController = null;
      this.searching = false;
      this.results = [];
      this.scores = null;
      this.summary = null;
      return;
    }
    const controller = new AbortController();
    this.searchController = controller;
    this.searching = true;
    this.error = null;
    const label = this.describe();
    try {
      // A tiered index answers twice: the prefilter's ranking at once (cards without scores), then
      // the exact one; cards are keyed by model, so the ones already shown stay where they are.
      let answered = false;
      const onPartial = (partial: SearchResponse) => {
        // A partial ranking never replaces the answer (or a newer query's anything).
        if (answered || controller.signal.aborted || this.searchController !== controller) return;
        this.results = partial.results;
        this.scores = null;
        this.refining = true;
      };
      const res = await searchClient.search(request, controller.signal, onPartial);
      answered = true;
      // A superseded (aborted) query's result never lands, even one that was already on its way.
      if (controller.signal.aborted) return;
      this.refining = false;
      this.results = res.results;
      // The score plot shows the other models: the query model of "more like this" would sit alone at 1.
      const own = res.queryModel?.index ?? -1;
      this.scores = own >= 0 ? res.scores.filter((_, i) => i !== own) : res.scores;
      this.facets = res.facets;
      if (res.queryModel && res.queryModel.id === this.likeId) this.likeName = res.queryModel.name;
      this.summary = {
        label: res.queryModel ? `models like “${res.queryModel.name}”` : label,
        method: res.method,
        backend: res.backend,
        encodeMs: res.encodeMs,
        scoreMs: res.scoreMs,
        matched: res.matched,
        hybrid: res.hybrid,
        match: res.match,
        seq: (this.summary?.seq ?? 0) + 1,
        tiered: res.tiered,
        listing: request.parts.length === 0,
      };
      if (this.info && res.backend !== this.info.backend) {
        this.info = { ...this.info, backend: res.backend };
      }
    } catch (err) {
      // Cancellation is not a failure, and a superseded query's failure is not the current one's.
      if (isAbort(err) || controller.signal.aborted) return;
      this.error = toErrorInfo(err);
    } finally {
      if (this.searchController === controller) {
        this.searching = false;
        this.refining = false;
      }
    }
  }

  /** The page cannot start as asked (e.g. an ?index= address it cannot load): an error, no loading. */
  refuse(error: ErrorInfo): void {
    this.phase = 'error';
    this.stage = '';
    this.error = error;
  }

  retry(): Promise<void> {
    if (this.phase === 'error' || !this.config) {
      this.pendingRun = true;
      return this.config ? this.start(this.config) : Promise.resolve();
    }
    return this.run();
  }

  dismissError(): void {
    this.error = null;
  }

  private onProgress(p: LoadProgress): void {
    switch (p.status) {
      case 'initiate':
        // Not "Downloading" yet: the file may come from a saved copy (see `loadingText`).
        this.files = applyProgress(this.files, p);
        this.stage = `Loading ${p.label}…`;
        break;
      case 'download':
      case 'cached':
      case 'done':
        this.files = applyProgress(this.files, p);
        break;
      case 'session':
        this.stage = `Starting the encoder (${p.backend === 'webgpu' ? 'WebGPU' : 'WASM'})…`;
        break;
      case 'warmup':
        this.stage = 'Warming up the encoder…';
        break;
      case 'fallback':
        this.fallbackReason = describeBackendReason(p.reason);
        if (this.info) this.info = { ...this.info, backend: p.to, backendReason: p.reason };
        break;
      case 'ready':
        this.stage = '';
        break;
      case 'storage':
        this.storageNotice = describeStorageNotice(p.notice);
        break;
    }
  }
}

export const searchManager = new SearchManager();
