import { describeStorageNotice } from './storageNotice.ts';
import type { ErrorInfo } from '../core/io/errors.ts';
import { toErrorInfo } from '../core/io/errors.ts';
import { autoMethod, type Method, type QueryKind } from '../core/scoring/methods.ts';
import { formatQuery, parseQuery, type FacetCounts, type FieldFilters } from '../core/scoring/queryFilters.ts';
import type { LoadProgress, QueryPart, RankedModel, ReadyInfo, SearchRequest, SearchResponse, WorkerConfig } from '../shared/protocol.ts';
import { isAbort, searchClient } from './searchClient.ts';
import { DEFAULT_IMAGE_WEIGHT, DEFAULT_K, type SearchUrlState } from './urlState.ts';

export type Phase = 'idle' | 'loading' | 'ready' | 'error';

export interface FileProgress {
  file: string;
  label: string;
  loaded: number;
  total?: number;
  done: boolean;
}

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
  /** Counts completed searches, so observers can tell a repeated query's fresh result apart. */
  seq: number;
}

export const TOP_K = 24;

/** All state of the search page. Components read it and call its methods; they never talk to the worker. */
export class SearchManager {
  phase = $state<Phase>('idle');
  stage = $state('');
  files = $state<FileProgress[]>([]);
  info = $state<ReadyInfo | null>(null);
  /** Set when the worker switched backend after start (e.g. a lost GPU device). */
  fallbackReason = $state<string | null>(null);
  results = $state.raw<RankedModel[]>([]);
  scores = $state.raw<Float32Array | null>(null);
  facets = $state.raw<FacetCounts>({});
  summary = $state<SearchSummary | null>(null);
  searching = $state(false);
  error = $state<ErrorInfo | null>(null);
  /** The latest offline-storage notice (quota full, storage disabled, damaged copy, offline start). */
  storageNotice = $state('');

  // The query being composed: text (with field filters), image, or a model ("more like this").
  text = $state('');
  image = $state.raw<ImageQuery | null>(null);
  /** Id of the model used as query; its name arrives with the first response. */
  likeId = $state('');
  likeName = $state('');
  /** The method asked for (URL or picker); null = automatic (best for the query kind). */
  requestedMethod = $state<Method | null>(null);
  k = $state(DEFAULT_K);
  imageWeight = $state(DEFAULT_IMAGE_WEIGHT);
  hybridWeight = $state(0);

  /** Free text and field filters of the text box (parsed once per edit, read by many getters). */
  parsed: { text: string; filters: FieldFilters } = $derived(parseQuery(this.text));

  get queryKinds(): QueryKind[] {
    if (this.likeId) return ['model'];
    const kinds: QueryKind[] = [];
    if (this.parsed.text) kinds.push('text');
    if (this.image) kinds.push(this.image.source === 'sketch' ? 'sketch' : 'image');
    return kinds;
  }

  get hasQuery(): boolean {
    return this.queryKinds.length > 0;
  }

  /** The method searches use: the requested one if the index supports it, else the automatic one. */
  get method(): Method {
    const available = this.info?.methods ?? [];
    if (this.requestedMethod && available.includes(this.requestedMethod)) return this.requestedMethod;
    return autoMethod(available, this.queryKinds);
  }

  /** What belongs in the address bar. */
  get urlState(): SearchUrlState {
    return { q: this.text, method: this.requestedMethod, k: this.k, imageWeight: this.imageWeight, hybridWeight: this.hybridWeight, like: this.likeId };
  }

  private config: WorkerConfig | null = null;
  private startController: AbortController | null = null;
  private searchController: AbortController | null = null;
  private pendingRun = false;

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
  applyUrlState(s: SearchUrlState): void {
    this.text = s.q;
    this.requestedMethod = s.method;
    this.k = s.k;
    this.imageWeight = s.imageWeight;
    this.hybridWeight = s.hybridWeight;
    if (s.like !== this.likeId) this.likeName = '';
    this.likeId = s.like;
  }

  setImage(image: { blob: Blob; name: string; source: 'file' | 'sketch' } | null): void {
    if (this.image) URL.revokeObjectURL(this.image.previewUrl);
    this.image = image ? { ...image, previewUrl: URL.createObjectURL(image.blob) } : null;
    if (image) this.clearLike();
  }

  /** "More like this": the model becomes the whole query. */
  setLike(model: { id: string; name: string }): void {
    this.likeId = model.id;
    this.likeName = model.name;
  }

  clearLike(): void {
    this.likeId = '';
    this.likeName = '';
  }

  /** Replaces the field filters (e.g. from a facet), rewriting them in the text box. */
  setFilters(filters: FieldFilters): void {
    this.text = formatQuery(this.parsed.text, filters);
  }

  /** The request for the current query, or null when there is nothing to search with. */
  request(): SearchRequest | null {
    const { text, filters } = this.parsed;
    const parts: SearchRequest['parts'] = [];
    if (this.likeId) {
      parts.push({ part: { kind: 'model', modelId: this.likeId }, weight: 1 });
    } else {
      const both = !!text && !!this.image;
      if (text) parts.push({ part: { kind: 'text', text }, weight: both ? 1 - this.imageWeight : 1 });
      if (this.image) {
        const part: QueryPart = { kind: 'image', image: this.image.blob, source: this.image.source };
        parts.push({ part, weight: both ? this.imageWeight : 1 });
      }
    }
    if (!parts.length) return null;
    return {
      parts,
      method: this.method,
      params: this.method === 'best-k' ? { k: this.k } : undefined,
      topK: TOP_K,
      filters,
      hybridWeight: text && !this.likeId ? this.hybridWeight : 0,
    };
  }

  /** Words for what is being searched, e.g. `“red flowers” + sketch`. */
  private describe(): string {
    if (this.likeId) return `models like “${this.likeName || this.likeId}”`;
    const bits: string[] = [];
    if (this.parsed.text) bits.push(`“${this.parsed.text}”`);
    if (this.image) bits.push(this.image.source === 'sketch' ? 'your sketch' : `image “${this.image.name}”`);
    return bits.join(' + ');
  }

  /** Runs the current query; a newer run cancels the older one so results never arrive out of order. */
  async run(): Promise<void> {
    if (this.phase !== 'ready') {
      this.pendingRun = true;
      return;
    }
    const request = this.request();
    this.searchController?.abort();
    if (!request) {
      this.searching = false;
      if (Object.keys(this.parsed.filters).length) {
        this.error = { code: 'bad-query', message: 'Filters narrow a search: add a description, an image or a sketch to search with.' };
      }
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
      const res = await searchClient.search(request, controller.signal);
      this.results = res.results;
      this.scores = res.scores;
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
        seq: (this.summary?.seq ?? 0) + 1,
      };
      if (this.info && res.backend !== this.info.backend) {
        this.info = { ...this.info, backend: res.backend };
      }
    } catch (err) {
      if (isAbort(err)) return;
      this.error = toErrorInfo(err);
    } finally {
      if (this.searchController === controller) this.searching = false;
    }
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
        this.files = [...this.files.filter((f) => f.file !== p.file), { file: p.file, label: p.label, loaded: 0, done: false }];
        this.stage = `Downloading ${p.label}…`;
        break;
      case 'download':
        this.files = this.files.map((f) => (f.file === p.file ? { ...f, loaded: p.loaded, total: p.total } : f));
        break;
      case 'done':
        this.files = this.files.map((f) => (f.file === p.file ? { ...f, done: true } : f));
        break;
      case 'session':
        this.stage = `Starting the encoder (${p.backend === 'webgpu' ? 'WebGPU' : 'WASM'})…`;
        break;
      case 'warmup':
        this.stage = 'Warming up the encoder…';
        break;
      case 'fallback':
        this.fallbackReason = p.reason;
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
