import type { ErrorInfo } from '../core/errors.ts';
import { toErrorInfo } from '../core/errors.ts';
import type { Method } from '../core/methods.ts';
import type { LoadProgress, RankedModel, ReadyInfo, SearchResponse, WorkerConfig } from '../core/searchTypes.ts';
import { isAbort, searchClient } from './searchClient.ts';

export type Phase = 'idle' | 'loading' | 'ready' | 'error';

export interface FileProgress {
  file: string;
  label: string;
  loaded: number;
  total?: number;
  done: boolean;
}

export interface SearchSummary {
  text: string;
  method: Method;
  backend: SearchResponse['backend'];
  encodeMs: number;
  scoreMs: number;
  /** Counts completed searches, so observers can tell a repeated query's fresh result apart. */
  seq: number;
}

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
  summary = $state<SearchSummary | null>(null);
  searching = $state(false);
  error = $state<ErrorInfo | null>(null);
  /** The method asked for (e.g. from the URL); null = the index's best. */
  requestedMethod = $state<Method | null>(null);

  /** The method searches use: the requested one if the index supports it, else the index's best. */
  get method(): Method {
    const available = this.info?.methods ?? [];
    if (this.requestedMethod && available.includes(this.requestedMethod)) return this.requestedMethod;
    return available[0] ?? 'first-moment';
  }

  private config: WorkerConfig | null = null;
  private startController: AbortController | null = null;
  private searchController: AbortController | null = null;
  private pendingText: string | null = null;

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
      const text = this.pendingText;
      this.pendingText = null;
      if (text) await this.search(text);
    } catch (err) {
      if (isAbort(err)) return;
      this.phase = 'error';
      this.error = toErrorInfo(err);
    }
  }

  /** Runs a text search; a newer call cancels the older one so results never arrive out of order. */
  async search(text: string): Promise<void> {
    if (this.phase !== 'ready') {
      this.pendingText = text;
      return;
    }
    this.searchController?.abort();
    const controller = new AbortController();
    this.searchController = controller;
    this.searching = true;
    this.error = null;
    try {
      const res = await searchClient.search(
        { parts: [{ part: { kind: 'text', text }, weight: 1 }], method: this.method, topK: 20 },
        controller.signal,
      );
      this.results = res.results;
      this.scores = res.scores;
      this.summary = {
        text,
        method: res.method,
        backend: res.backend,
        encodeMs: res.encodeMs,
        scoreMs: res.scoreMs,
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

  retry(lastText: string): Promise<void> {
    if (this.phase === 'error' || !this.config) {
      this.pendingText = lastText || null;
      return this.config ? this.start(this.config) : Promise.resolve();
    }
    return this.search(lastText);
  }

  /** Switches method and re-runs the current query with it. */
  setMethod(method: Method): void {
    this.requestedMethod = method;
    if (this.summary?.text) void this.search(this.summary.text);
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
    }
  }

  reset(): void {
    this.startController?.abort();
    this.searchController?.abort();
    this.phase = 'idle';
    this.stage = '';
    this.files = [];
    this.info = null;
    this.fallbackReason = null;
    this.results = [];
    this.scores = null;
    this.summary = null;
    this.searching = false;
    this.error = null;
    this.pendingText = null;
    this.requestedMethod = null;
  }
}

export const searchManager = new SearchManager();
