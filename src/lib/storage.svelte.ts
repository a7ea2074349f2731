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
  /** The last action's outcome ("Cleared", or why storage could not be read). */
  status = $state('');

  /** Counts actions, so that only the newest one writes its outcome. */
  private seq = 0;

  /** Reads what is saved (the panel was opened). */
  refresh(): Promise<void> {
    return this.act(() => searchClient.storageInfo(), '');
  }

  /** Deletes every saved file. */
  clear(): Promise<void> {
    return this.act(() => searchClient.clearStorage(), 'Cleared');
  }

  reset(): void {
    this.seq++;
    this.info = null;
    this.busy = false;
    this.status = '';
  }

  private async act(action: () => Promise<StorageInfo>, done: string): Promise<void> {
    const seq = ++this.seq;
    this.busy = true;
    this.status = '';
    try {
      const info = await action();
      if (seq !== this.seq) return;
      this.info = info;
      this.status = done;
    } catch (err) {
      if (seq !== this.seq) return;
      this.status = `Could not read offline storage: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      if (seq === this.seq) this.busy = false;
    }
  }
}

export const storageManager = new StorageManager();
