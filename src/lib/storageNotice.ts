import type { StorageNotice } from '../shared/protocol.ts';

/** The sentence a person reads for a storage notice from the worker. */
export function describeStorageNotice(n: StorageNotice): string {
  switch (n.kind) {
    case 'unavailable':
      return 'Saving for offline use is unavailable in this browser (private mode or storage disabled); everything still loads from the network.';
    case 'corrupt':
      return `The saved copy of ${n.label} was damaged; it is downloaded again.`;
    case 'quota': {
      // Every file the quota turned away this session, so that the first (say, the text encoder)
      // is not hidden by the next one.
      const shown = n.labels.slice(0, 3);
      const more = n.labels.length - shown.length;
      const names = [...shown, ...(more > 0 ? [`${more} more file${more === 1 ? '' : 's'}`] : [])];
      const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
      return `Not enough browser storage to save ${list} for offline use; ${n.labels.length === 1 ? 'it' : 'they'} will be downloaded again next time.`;
    }
    case 'save-failed':
      return `Saving ${n.label} for offline use failed; everything still loads from the network.`;
    case 'offline-index':
      return `Offline: using the index saved on ${new Date(n.savedAt).toLocaleString()}.`;
    case 'range-fallback':
      return `The index host does not answer partial (Range) requests correctly, so the index's blocks are loaded one file at a time (slower). The host should allow Range requests and expose Content-Range (see the hosting guide). ${n.detail}`;
  }
}
