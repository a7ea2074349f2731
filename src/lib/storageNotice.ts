import type { StorageNotice } from '../shared/protocol.ts';

/** The sentence a person reads for a storage notice from the worker. */
export function describeStorageNotice(n: StorageNotice): string {
  switch (n.kind) {
    case 'unavailable':
      return 'Saving for offline use is unavailable in this browser (private mode or storage disabled); everything still loads from the network.';
    case 'corrupt':
      return `The saved copy of ${n.label} was damaged; it is downloaded again.`;
    case 'quota':
      return `Not enough browser storage to save ${n.label} for offline use; it will be downloaded again next time.`;
    case 'save-failed':
      return `Saving ${n.label} for offline use failed; everything still loads from the network.`;
    case 'offline-index':
      return `Offline: using the index saved on ${new Date(n.savedAt).toLocaleString()}.`;
    case 'range-fallback':
      return `The index host does not answer partial (Range) requests correctly, so the index's blocks are loaded one file at a time (slower). The host should allow Range requests and expose Content-Range (see the hosting guide). ${n.detail}`;
  }
}
