import type { AddModelInput, AddModelOutcome, AddModelProgress, AddModelSkip, ExportedFile, LocalModelEdit, LocalModelSummary } from '../shared/protocol.ts';
import { applyProgress, type FileProgress } from './downloads.ts';
import { prepareAdd, type AddFields, type PickedFile } from './addModelForm.ts';
import { failureText, outcomeText, PERSIST_DENIED, progressText } from './localModelNotice.ts';
import { saveFile } from './saveFile.ts';
import { searchManager } from './search.svelte.ts';
import { isAbort, searchClient } from './searchClient.ts';

/** One of your models as the page shows it: the summary without its bytes, thumbnails as object URLs. */
export type LocalModelView = Omit<LocalModelSummary, 'thumbnails'> & { thumbs: string[] };

/** How the current (or last) add is going. */
export type AddPhase = 'idle' | 'embedding' | 'saving' | 'done' | 'refused' | 'error';

export interface AddState {
  phase: AddPhase;
  done: number;
  total: number;
  skipped: number;
  /** One line for the status: "Embedding 37 of 100…", "Saved …", why it was refused. */
  text: string;
  /** Reasons it was refused (the form's own, or the worker's). */
  reasons: string[];
  /** Files left out, and why (the report after the add). */
  skippedFiles: AddModelSkip[];
  /** The saved model's id ('' until saved). */
  localId: string;
}

/** What the manager needs of the worker bridge (src/lib/searchClient.ts; tests pass a fake). */
export interface LocalModelsClient {
  addLocalModel(input: AddModelInput, signal?: AbortSignal, onProgress?: (p: AddModelProgress) => void): Promise<AddModelOutcome>;
  listLocalModels(): Promise<LocalModelSummary[]>;
  /** Damaged records of your models (left out of searches); absent in fakes that have none. */
  damagedLocalModels?(): Promise<{ key: string; reason: string }[]>;
  updateLocalModel(id: string, edit: LocalModelEdit): Promise<LocalModelSummary>;
  removeLocalModel(id: string): Promise<void>;
  exportLocalModels(ids: string[], as: 'shard' | 'json'): Promise<ExportedFile>;
}

export interface LocalModelsDeps {
  client: LocalModelsClient;
  /** After a change to your models (the model count is refreshed and the search re-runs). */
  onChanged: () => void;
  /** Downloads a file (src/lib/saveFile.ts). */
  save: (parts: BlobPart[], type: string, filename: string) => void;
  /** navigator.storage.persist(); resolves false when not granted or unavailable. */
  persist?: () => Promise<boolean>;
  createUrl?: (blob: Blob) => string;
  revokeUrl?: (url: string) => void;
}

const IDLE: AddState = { phase: 'idle', done: 0, total: 0, skipped: 0, text: '', reasons: [], skippedFiles: [], localId: '' };

/**
 * State of "Your models": the list (with object URLs for thumbnails, revoked when a model goes),
 * adding one (progress, cancel, the report), renaming, removing after a confirmation, exporting.
 * Components read these fields and call these methods; only this class talks to the worker bridge.
 */
export class LocalModelsManager {
  /** Keys of your saved models' damaged records (left out; the storage panel removes them). */
  damaged = $state.raw<string[]>([]);
  /** Your models, newest list from the worker. */
  list = $state.raw<LocalModelView[]>([]);
  /** The current or last add. */
  add = $state.raw<AddState>(IDLE);
  /** A rename, removal, export or refresh is running. */
  busy = $state(false);
  /** The last action's outcome ("Renamed", "Removed", why it failed). */
  status = $state('');
  /** Asked to remove this id: the panel shows the confirmation. */
  confirming = $state('');
  /** The image encoder's first download during an add (LoadProgress rows). */
  loadFiles = $state.raw<FileProgress[]>([]);
  /** Said once persistent storage was not granted ('' otherwise). */
  persistNote = $state('');

  private controller: AbortController | undefined;
  /** Object URLs per model id: thumbnails never change for an id (it is derived from the images). */
  private urls = new Map<string, string[]>();
  private persistAsked = false;
  private readonly createUrl: (blob: Blob) => string;
  private readonly revokeUrl: (url: string) => void;

  constructor(private readonly deps: LocalModelsDeps) {
    this.createUrl = deps.createUrl ?? ((b) => URL.createObjectURL(b));
    this.revokeUrl = deps.revokeUrl ?? ((u) => URL.revokeObjectURL(u));
  }

  /** Whether an add is running (the dialog shows Cancel). */
  get adding(): boolean {
    return this.add.phase === 'embedding' || this.add.phase === 'saving';
  }


  /** A local model's k-th thumbnail as an object URL ('' when unknown). */
  thumbSrc(id: string, k: number): string {
    return this.list.find((m) => m.id === id)?.thumbs[k] ?? '';
  }

  /** Reads the list again from the worker (the index loaded, or another tab changed it). */
  async refresh(): Promise<void> {
    try {
      const [list, damaged] = await Promise.all([
        this.deps.client.listLocalModels(),
        // A failure to read them keeps the last known, and never hides the list.
        Promise.resolve(this.deps.client.damagedLocalModels?.() ?? []).then(
          (d) => d.filter((x) => x.key !== '*').map((x) => x.key),
          () => this.damaged,
        ),
      ]);
      this.setList(list);
      this.damaged = damaged;
    } catch (err) {
      this.fail('Could not read your models', err);
    }
  }

  /**
   * Adds a model from picked files: the form's checks first (fewer than 2 images is refused before
   * any work), then the worker embeds and saves. Resolves when it has ended, however it ended.
   */
  async start(picked: readonly PickedFile[], fields: AddFields): Promise<void> {
    if (this.adding) return;
    const prepared = prepareAdd(picked, fields);
    if (!prepared.input) {
      this.add = { ...IDLE, phase: 'refused', reasons: [prepared.refusal], text: `Not added: ${prepared.refusal}` };
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    const total = prepared.input.files.length;
    this.add = { ...IDLE, phase: 'embedding', total, text: `Embedding 0 of ${total}…` };
    this.loadFiles = [];
    const onProgress = (p: AddModelProgress) => {
      if (this.controller !== controller) return;
      if (p.stage === 'load') this.loadFiles = applyProgress(this.loadFiles, p.progress);
      const counts = p.stage === 'embedding' || p.stage === 'reading' ? { done: p.done, total: p.total } : {};
      this.add = { ...this.add, ...counts, ...(p.stage === 'embedding' ? { skipped: p.skipped } : {}), phase: p.stage === 'saving' ? 'saving' : 'embedding', text: progressText(p) };
    };
    try {
      const outcome = await this.deps.client.addLocalModel(prepared.input, controller.signal, onProgress);
      if (this.controller !== controller) return;
      await this.finish(outcome);
    } catch (err) {
      if (this.controller !== controller) return;
      if (isAbort(err)) await this.finish({ status: 'aborted' });
      else {
        console.warn('[your models] adding failed', err);
        this.add = { ...this.add, phase: 'error', text: failureText('Not added', err) };
      }
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
  }

  /**
   * Another tab added, renamed or removed one of your models (its worker posts on the channel the
   * workers share): read the list again, and re-run the search when it changed. Our own changes
   * arrive here too; the list then already matches and nothing re-runs. Returns the unsubscribe.
   */
  watchOtherTabs(channelName = 'model-search-local'): () => void {
    if (typeof BroadcastChannel === 'undefined') return () => {};
    const channel = new BroadcastChannel(channelName);
    channel.onmessage = async () => {
      const before = signature(this.list);
      await this.refresh();
      if (signature(this.list) !== before) this.deps.onChanged();
    };
    return () => channel.close();
  }

  /**
   * Stops the add: the worker stops at its next checkpoint (between images, before the one write)
   * and saves nothing; the status says "Cancelled" once it has.
   */
  cancel(): void {
    if (!this.controller || this.controller.signal.aborted) return;
    this.controller.abort();
    if (this.adding) this.add = { ...this.add, text: 'Cancelling…' };
  }

  /** Cancel was pressed and the worker has not stopped yet. */
  get cancelling(): boolean {
    return this.adding && !!this.controller?.signal.aborted;
  }

  /** Back to an empty form (the dialog opened again). */
  clearAdd(): void {
    if (!this.adding) this.add = IDLE;
  }

  rename(id: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (!trimmed) {
      this.status = 'A name cannot be empty.';
      return Promise.resolve();
    }
    return this.act('Could not rename', async () => {
      const model = await this.deps.client.updateLocalModel(id, { name: trimmed });
      this.setList(this.list.map((m) => (m.id === id ? this.view(model) : m)), true);
      // The results show the new name once the search runs again.
      this.deps.onChanged();
      return 'Renamed';
    });
  }

  /** Asks first: the panel shows a confirmation for `id`; `remove(id, true)` removes. */
  remove(id: string, confirmed = false): Promise<void> {
    if (!confirmed) {
      this.confirming = id;
      return Promise.resolve();
    }
    this.confirming = '';
    return this.act('Could not remove', async () => {
      await this.deps.client.removeLocalModel(id);
      this.setList(this.list.filter((m) => m.id !== id));
      this.deps.onChanged();
      return 'Removed';
    });
  }

  /** Your models `ids` as a download: an index shard (.tar) or JSON. */
  export(ids: string[], as: 'shard' | 'json'): Promise<void> {
    if (!ids.length) return Promise.resolve();
    return this.act('Could not export', async () => {
      const file = await this.deps.client.exportLocalModels(ids, as);
      this.deps.save([file.bytes], file.mime, file.fileName);
      return `Exported ${file.fileName}`;
    });
  }

  reset(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.setList([]);
    this.damaged = [];
    this.add = IDLE;
    this.busy = false;
    this.status = '';
    this.confirming = '';
    this.persistNote = '';
    this.persistAsked = false;
  }

  private async finish(outcome: AddModelOutcome): Promise<void> {
    if (outcome.status === 'saved') {
      const { model, skipped } = outcome;
      this.setList([...this.list.filter((m) => m.id !== model.id), this.view(model)]);
      this.add = { ...this.add, phase: 'done', done: model.images, total: this.add.total, skippedFiles: skipped, localId: model.id, text: outcomeText(outcome) };
      this.deps.onChanged();
      if (!model.sessionOnly) await this.askPersist();
    } else if (outcome.status === 'refused') {
      this.add = { ...this.add, phase: 'refused', reasons: outcome.reasons, skippedFiles: outcome.skipped, text: outcomeText(outcome) };
    } else {
      this.add = { ...IDLE, phase: 'idle', text: outcomeText(outcome) };
    }
  }

  /** After the first saved model: ask the browser to keep this site's storage (Window-only API). */
  private async askPersist(): Promise<void> {
    if (this.persistAsked || !this.deps.persist) return;
    this.persistAsked = true;
    const granted = await this.deps.persist().catch(() => false);
    this.persistNote = granted ? '' : PERSIST_DENIED;
  }

  private async act(failed: string, action: () => Promise<string>): Promise<void> {
    this.busy = true;
    this.status = '';
    try {
      this.status = await action();
    } catch (err) {
      this.fail(failed, err);
    } finally {
      this.busy = false;
    }
  }

  private fail(what: string, err: unknown): void {
    console.warn('[your models]', what, err);
    this.status = failureText(what, err);
  }

  /** The summary without its bytes; thumbnails as object URLs, made once per id. */
  private view(summary: LocalModelSummary): LocalModelView {
    const { thumbnails, ...rest } = summary;
    let thumbs = this.urls.get(summary.id);
    if (!thumbs) {
      thumbs = thumbnails.map((t) => this.createUrl(new Blob([t.bytes], { type: t.mime })));
      this.urls.set(summary.id, thumbs);
    }
    return { ...rest, thumbs };
  }

  /** Replaces the list; object URLs of models no longer in it are revoked. */
  private setList(next: (LocalModelSummary | LocalModelView)[], views = false): void {
    const list = next.map((m) => (views || 'thumbs' in m ? (m as LocalModelView) : this.view(m as LocalModelSummary)));
    const keep = new Set(list.map((m) => m.id));
    for (const [id, urls] of this.urls) {
      if (keep.has(id)) continue;
      for (const u of urls) this.revokeUrl(u);
      this.urls.delete(id);
    }
    this.list = list;
  }
}

/** What a list change is judged by: ids, names and whether each ranks. */
function signature(list: LocalModelView[]): string {
  return JSON.stringify(list.map((m) => [m.id, m.name, m.updatedAt, m.usable, m.shadowed]));
}

/** The app's manager: the worker bridge, the search (which re-runs after a change), downloads. */
export const localModels = new LocalModelsManager({
  client: searchClient,
  onChanged: () => void searchManager.localModelsChanged(),
  save: saveFile,
  persist: () => (typeof navigator !== 'undefined' && navigator.storage?.persist ? navigator.storage.persist() : Promise.resolve(false)),
});
