/**
 * A small ustar (POSIX tar) writer and a careful reader, for shard archives (a shard is an index
 * folder; the browser exports one as `<name>.shard.tar`, `build-index merge` accepts it).
 *
 * writeTar is deterministic: regular files only, sorted by path (code point), mode 0644, uid/gid 0,
 * mtime 0, no user or group names, paths over 100 bytes split into the prefix field. GNU tar,
 * bsdtar and Windows' tar.exe read it.
 *
 * readTar accepts regular files and directories (skipped), GNU long names ('L') and pax extended
 * headers ('x': `path` only), and refuses everything else with a message naming the entry:
 * absolute or escaping paths, backslashes, links and devices, a bad checksum, a truncated
 * archive, duplicate paths, and more entries or bytes than the limits.
 */

import { quote } from '../messages.ts';

export interface TarFile {
  /** '/'-separated, relative, without '.' or '..' segments. */
  path: string;
  bytes: Uint8Array;
}

export interface TarLimits {
  /** Headers of any kind (default 10 000). */
  maxEntries?: number;
  /** Total bytes of the files' contents (default 4 GiB). */
  maxBytes?: number;
}

export class TarError extends Error {
  override name = 'TarError';
}

const BLOCK = 512;
export const DEFAULT_TAR_LIMITS: Required<TarLimits> = { maxEntries: 10_000, maxBytes: 4 * 1024 ** 3 };
/** The largest size an 11-digit octal field holds. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8');

/** Why `path` is not a safe relative file path, or undefined. */
export function unsafeTarPath(path: string): string | undefined {
  if (path.length === 0) return 'the path is empty';
  if (path.includes('\\')) return 'the path contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'the path is absolute';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'the path contains a control character';
  }
  const parts = path.split('/');
  if (parts.includes('..')) return 'the path contains ".."';
  if (parts.some((p) => p === '' || p === '.')) return 'the path has an empty or "." segment';
  return undefined;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function putString(h: Uint8Array, at: number, len: number, bytes: Uint8Array): void {
  if (bytes.length > len) throw new TarError('field too long');
  h.set(bytes, at);
}

function putOctal(h: Uint8Array, at: number, len: number, value: number): void {
  // len − 1 digits, then NUL.
  putString(h, at, len, utf8.encode(value.toString(8).padStart(len - 1, '0') + '\0'));
}

/** name (≤ 100 bytes) and prefix (≤ 155 bytes) for a path, split at a '/'. */
function splitPath(path: string): { name: Uint8Array; prefix: Uint8Array } {
  const whole = utf8.encode(path);
  if (whole.length <= 100) return { name: whole, prefix: new Uint8Array(0) };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = utf8.encode(path.slice(0, i));
    const name = utf8.encode(path.slice(i + 1));
    if (name.length > 100) break;
    if (prefix.length <= 155) return { name, prefix };
  }
  throw new TarError(`tar entry ${quote(path)}: the path is too long for a ustar header`);
}

/** A deterministic ustar archive of `files` (see the header). */
export function writeTar(files: Iterable<TarFile>): Uint8Array<ArrayBuffer> {
  const sorted = [...files].sort((a, b) => byCodePoint(a.path, b.path));
  let total = 2 * BLOCK;
  for (const [i, f] of sorted.entries()) {
    const bad = unsafeTarPath(f.path);
    if (bad) throw new TarError(`tar entry ${quote(f.path)}: ${bad}`);
    if (i > 0 && sorted[i - 1].path === f.path) throw new TarError(`tar entry ${quote(f.path)}: the path is given twice`);
    if (f.bytes.length > MAX_OCTAL_SIZE) throw new TarError(`tar entry ${quote(f.path)}: larger than a ustar entry can be`);
    total += BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of sorted) {
    const h = out.subarray(at, at + BLOCK);
    const { name, prefix } = splitPath(f.path);
    putString(h, 0, 100, name);
    putOctal(h, 100, 8, 0o644);
    putOctal(h, 108, 8, 0);
    putOctal(h, 116, 8, 0);
    putOctal(h, 124, 12, f.bytes.length);
    putOctal(h, 136, 12, 0);
    h[156] = 0x30; // '0': regular file
    putString(h, 257, 8, utf8.encode('ustar\u000000'));
    putOctal(h, 329, 8, 0);
    putOctal(h, 337, 8, 0);
    putString(h, 345, 155, prefix);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    putString(h, 148, 8, utf8.encode(sum.toString(8).padStart(6, '0') + '\0 '));
    out.set(f.bytes, at + BLOCK);
    at += BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK;
  }
  return out;
}

/** A NUL-terminated field as text. */
function readString(h: Uint8Array, at: number, len: number): string {
  const field = h.subarray(at, at + len);
  const end = field.indexOf(0);
  return text.decode(end < 0 ? field : field.subarray(0, end));
}

function readOctal(h: Uint8Array, at: number, len: number, what: string, entry: string): number {
  const digits = readString(h, at, len).trim();
  if (!/^[0-7]*$/.test(digits)) throw new TarError(`tar entry ${quote(entry)}: its ${what} field is not an octal number`);
  return digits === '' ? 0 : parseInt(digits, 8);
}

function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** The `path` of a pax extended header's records ("<len> <key>=<value>\n"...); refuses a `size`. */
function paxPath(data: Uint8Array, entry: string): string | undefined {
  let path: string | undefined;
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(text.decode(data.subarray(at, space)));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) throw new TarError(`tar entry ${quote(entry)}: a malformed pax header`);
    const record = text.decode(data.subarray(space + 1, at + len - 1));
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') path = value;
    else if (key === 'size') throw new TarError(`tar entry ${quote(entry)}: pax "size" records are not supported`);
    at += len;
  }
  return path;
}

/**
 * The regular files of a tar archive, in archive order, as views into `bytes`. Directory entries
 * and leading "./" are dropped. Throws TarError naming the entry for anything unsafe or damaged.
 */
export function readTar(bytes: Uint8Array, limits: TarLimits = {}): TarFile[] {
  const { maxEntries, maxBytes } = { ...DEFAULT_TAR_LIMITS, ...limits };
  const files: TarFile[] = [];
  const seen = new Set<string>();
  const dirs = new Set<string>();
  let at = 0;
  let entries = 0;
  let total = 0;
  let longName: string | undefined;
  for (;;) {
    if (at + BLOCK > bytes.length) {
      if (at === bytes.length && entries === 0) throw new TarError('the archive is empty');
      throw new TarError(`the archive is truncated (no end marker after ${entries} entr${entries === 1 ? 'y' : 'ies'})`);
    }
    const h = bytes.subarray(at, at + BLOCK);
    if (isZeroBlock(h)) break;
    if (++entries > maxEntries) throw new TarError(`the archive has more than ${maxEntries} entries`);
    const rawName = readString(h, 0, 100);
    const magic = readString(h, 257, 6);
    const prefix = magic === 'ustar' ? readString(h, 345, 155) : '';
    let path = longName ?? (prefix ? `${prefix}/${rawName}` : rawName);
    longName = undefined;
    const label = path || `#${entries}`;

    let sum = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : h[i];
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const stored = readOctal(h, 148, 8, 'checksum', label);
    if (stored !== sum && stored !== signed) throw new TarError(`tar entry ${quote(label)}: bad header checksum (damaged archive)`);

    const size = readOctal(h, 124, 12, 'size', label);
    const dataAt = at + BLOCK;
    if (dataAt + size > bytes.length) throw new TarError(`tar entry ${quote(label)}: the archive is truncated (${size} bytes declared)`);
    const data = bytes.subarray(dataAt, dataAt + size);
    at = dataAt + Math.ceil(size / BLOCK) * BLOCK;

    const type = String.fromCharCode(h[156]);
    if (type === 'L' || type === 'x') {
      const next = type === 'L' ? readString(data, 0, data.length) : paxPath(data, label);
      if (next !== undefined) longName = next;
      continue;
    }
    while (path.startsWith('./')) path = path.slice(2);
    const isDir = type === '5' || ((type === '0' || type === '\0') && path.endsWith('/') && size === 0);
    if (isDir) {
      path = path.replace(/\/+$/, '');
      if (path === '' || path === '.') continue;
    }
    const bad = unsafeTarPath(path);
    if (bad) throw new TarError(`tar entry ${quote(label)}: ${bad}`);
    if (isDir) {
      dirs.add(path);
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      const kind = { '1': 'a hard link', '2': 'a symbolic link', '3': 'a device', '4': 'a device', '6': 'a FIFO', g: 'a pax global header', K: 'a long link name' }[type];
      throw new TarError(`tar entry ${quote(label)}: ${kind ?? `an entry of type ${quote(type)}`} (only regular files are accepted)`);
    }
    if (seen.has(path)) throw new TarError(`tar entry ${quote(label)}: the path occurs twice`);
    total += size;
    if (total > maxBytes) throw new TarError(`the archive's files are larger than ${maxBytes} bytes in total`);
    seen.add(path);
    files.push({ path, bytes: data });
  }
  // A file may not also be a folder of another entry.
  for (const f of files) {
    for (let i = f.path.indexOf('/'); i > 0; i = f.path.indexOf('/', i + 1)) {
      if (seen.has(f.path.slice(0, i))) throw new TarError(`tar entry ${quote(f.path)}: ${quote(f.path.slice(0, i))} is both a file and a folder`);
    }
    if (dirs.has(f.path)) throw new TarError(`tar entry ${quote(f.path)}: it is both a file and a folder`);
  }
  return files;
}
