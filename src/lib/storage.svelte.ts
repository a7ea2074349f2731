import { AppError } from '../core/io/errors.ts';
import type { StorageInfo } from '../shared/protocol.ts';
import { searchClient } from './searchClient.ts';

export { formatBytes } from './format.ts';

/**
 * State of the "Offline storage" panel: what the worker has saved for offline use, read when the
 * panel opens, and clearing it. The panel reads these fields and calls these methods.
 */
export class StorageManager {
  /** What is saved; null until first read. */
  info = $state<StorageInfo | null>(null);
  busy = $state(false);
  /** The last action's outcome ("Cleared", or why storage could not be read or cleared). */
  status = $state('');

  /** Counts actions, so that only the newest one writes its outcome. */
  private seq = 0;

  /** Reads what is saved (the panel was opened). */
  refresh(): Promise<void> {
    return this.act(() => searchClient.storageInfo(), () => '', 'Could not read offline storage');
  }

  /** Deletes every saved file. */
  clear(): Promise<void> {
    // "Cleared" only when nothing is left: a store that failed to delete must not be reported as empty.
    return this.act(
      () => searchClient.clearStorage(),
      (info) => (info.files.length ? `Could not clear offline storage: ${info.files.length} ${info.files.length === 1 ? 'file is' : 'files are'} still saved.` : 'Cleared'),
      'Could not clear offline storage',
    );
  }

  /** Asked to remove the damaged records of your models: the panel shows the confirmation. */
  confirmingDamaged = $state(false);

  /**
   * Deletes your saved models' damaged records: asks first (the panel confirms), then reports what
   * is left — "Removed" only when none is.
   */
  removeDamaged(confirmed = false): Promise<void> {
    if (!confirmed) {
      this.confirmingDamaged = true;
      return Promise.resolve();
    }
    this.confirmingDamaged = false;
    return this.act(
      () => searchClient.removeDamagedLocalModels(),
      (info) => {
        const left = info.localDamaged?.length ?? 0;
        return left ? `Could not remove ${left === 1 ? 'one damaged record' : `${left} damaged records`}: ${left === 1 ? 'it is' : 'they are'} still saved.` : 'Removed the damaged models';
      },
      'Could not remove the damaged models',
    );
  }

  reset(): void {
    this.confirmingDamaged = false;
    this.seq++;
    this.info = null;
    this.busy = false;
    this.status = '';
  }

  private async act(action: () => Promise<StorageInfo>, done: (info: StorageInfo) => string, failed: string): Promise<void> {
    const seq = ++this.seq;
    this.busy = true;
    this.status = '';
    try {
      const info = await action();
      if (seq !== this.seq) return;
      this.info = info;
      this.status = done(info);
    } catch (err) {
      if (seq !== this.seq) return;
      // The app's own errors are sentences for people; anything else stays in the console.
      if (!(err instanceof AppError)) console.warn('[storage]', failed, err);
      this.status = err instanceof AppError ? `${failed}: ${err.message}` : `${failed}: the browser reported an unexpected error (details in the console).`;
    } finally {
      if (seq === this.seq) this.busy = false;
    }
  }
}

export const storageManager = new StorageManager();
