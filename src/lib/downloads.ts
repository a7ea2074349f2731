import type { DownloadKind, LoadProgress } from '../shared/protocol.ts';
import { formatBytes, formatBytesOf } from './format.ts';

/** One large file of the start-up: a row of the download list (src/components/LoadProgress.svelte). */
export interface FileProgress {
  file: string;
  label: string;
  kind: DownloadKind;
  /** Bytes downloaded so far, or the saved copy's size. */
  loaded: number;
  /** The file's size, when known. */
  total?: number;
  /**
   * Where the bytes come from: not known yet (a saved copy is being looked up, or the server has not
   * answered), the network, or a saved copy on this device (nothing is downloaded).
   */
  source: 'pending' | 'network' | 'storage';
  done: boolean;
}

/** The rows after one progress event from the worker (other events leave them as they are). */
export function applyProgress(files: FileProgress[], p: LoadProgress): FileProgress[] {
  const update = (file: string, change: (f: FileProgress) => FileProgress) => files.map((f) => (f.file === file ? change(f) : f));
  switch (p.status) {
    case 'initiate':
      return [...files.filter((f) => f.file !== p.file), { file: p.file, label: p.label, kind: p.kind, loaded: 0, total: p.total, source: 'pending', done: false }];
    case 'download':
      return update(p.file, (f) => ({ ...f, source: 'network', loaded: p.loaded, total: p.total ?? f.total }));
    case 'cached':
      return update(p.file, (f) => ({ ...f, source: 'storage', loaded: p.bytes, total: p.bytes }));
    case 'done':
      return update(p.file, (f) => ({ ...f, done: true, total: f.total ?? f.loaded }));
    default:
      return files;
  }
}

/** What a row says about its bytes: "12.3 of 25.5 MB", "25.5 MB from this device", "waiting". */
export function rowBytes(f: FileProgress): string {
  if (f.source === 'storage') return `${formatBytes(f.loaded)} from this device`;
  if (f.source === 'pending') return 'waiting';
  return f.total ? formatBytesOf(f.loaded, f.total) : formatBytes(f.loaded);
}

export interface DownloadTotals {
  /** Bytes downloaded so far. */
  downloaded: number;
  /** Sum of the sizes of the files being downloaded; undefined while one of them has no known size. */
  total?: number;
  /** Bytes read from saved copies on this device. */
  saved: number;
  /** Files whose source is not known yet. */
  pending: number;
}

export function downloadTotals(files: FileProgress[]): DownloadTotals {
  const network = files.filter((f) => f.source === 'network');
  const known = network.every((f) => f.total !== undefined);
  return {
    downloaded: network.reduce((sum, f) => sum + f.loaded, 0),
    total: known ? network.reduce((sum, f) => sum + (f.total ?? 0), 0) : undefined,
    saved: files.filter((f) => f.source === 'storage').reduce((sum, f) => sum + f.loaded, 0),
    pending: files.filter((f) => f.source === 'pending').length,
  };
}

/** The total line under the rows: "Downloaded 14.1 of 41.3 MB · 3.7 MB from this device". */
export function totalLine(files: FileProgress[]): string {
  const t = downloadTotals(files);
  const parts: string[] = [];
  if (t.total) parts.push(`Downloaded ${formatBytesOf(t.downloaded, t.total)}`);
  else if (t.downloaded) parts.push(`Downloaded ${formatBytes(t.downloaded)}`);
  if (t.saved) parts.push(`${formatBytes(t.saved)} from this device`);
  if (!parts.length) return t.pending ? 'Looking for saved copies…' : '';
  if (!t.total && !t.downloaded && !t.pending) parts.unshift('Nothing to download');
  return parts.join(' · ');
}

/** The status words while files load: downloads in flight by name ("Downloading the runtime…"), else ''. */
export function downloadingText(files: FileProgress[]): string {
  const active = files.filter((f) => f.source === 'network' && !f.done);
  if (active.length === 1) return `Downloading ${active[0].label}…`;
  if (active.length > 1) return `Downloading ${active.length} files…`;
  return '';
}
