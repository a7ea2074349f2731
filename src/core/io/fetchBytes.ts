import { AppError } from './errors.ts';
import { sha256Hex } from './sha256.ts';

export interface FetchBytesOptions {
  /** Expected size in bytes: the read stops as soon as more arrive, and a shorter file fails after. */
  bytes?: number;
  /** Expected SHA-256 (hex); checked after download when given. */
  sha256?: string;
  /**
   * Most bytes accepted when `bytes` is not given (default MAX_UNDECLARED_BYTES): a file of unknown
   * size is cut off there too, so an endless stream never fills the memory.
   */
  maxBytes?: number;
  /**
   * How long the response's headers or its next piece of body may take (default STALL_MS): a host
   * that stops sending without closing the connection fails the download instead of holding it forever.
   */
  stallMs?: number;
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` is the expected size when known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  fetchImpl?: typeof fetch;
  /**
   * Read only bytes [start, end) of the file (an HTTP Range request). The host must answer 206 with
   * a Content-Range naming exactly that range (and `fileBytes` as the total, when given); `bytes`
   * defaults to end − start. A host that ignores ranges, shifts them or lies about the file's size
   * fails with a HostRangeError before its body is read, so a caller can switch to one file per block.
   */
  range?: { start: number; end: number; fileBytes?: number };
}

/** How a host failed a Range request: `ignored` (200, the whole file), `wrong-range` (another range or size), `unsatisfiable` (416). */
export class HostRangeError extends AppError {
  constructor(
    readonly reason: 'ignored' | 'wrong-range' | 'unsatisfiable',
    message: string,
    url: string,
  ) {
    super('http', message, url);
  }
}

/** Ceiling for a file whose size is not declared (the index manifest is a few kB). */
export const MAX_UNDECLARED_BYTES = 64 * 1024 * 1024;
/** No headers or no new bytes for this long: the connection is taken for dead. */
export const STALL_MS = 30_000;

/**
 * Downloads a file as bytes, streaming so callers can show byte progress,
 * and verifies size and checksum before anyone uses the data. Every read is bounded: by the
 * declared size (or `maxBytes`), and in time by `stallMs` between two pieces of the response.
 */
export async function fetchBytes(url: string, opts: FetchBytesOptions = {}): Promise<Uint8Array> {
  const doFetch = opts.fetchImpl ?? fetch;
  const name = fileName(url);
  const range = opts.range;
  if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end > range.start)) {
    throw new AppError('bad-query', `Cannot request bytes ${range.start}–${range.end} of ${name}: not a non-empty range.`, url);
  }
  if (range && opts.bytes === undefined) opts = { ...opts, bytes: range.end - range.start };
  const signal = opts.signal;
  // Our own signal: it follows the caller's, and also ends a download that stalled.
  const controller = new AbortController();
  const follow = () => controller.abort(signal?.reason);
  if (signal?.aborted) follow();
  else signal?.addEventListener('abort', follow, { once: true });
  const stallMs = opts.stallMs ?? STALL_MS;
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waitMore = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, stallMs);
  };
  const stallError = () => new AppError('network', `The download of ${name} stalled: nothing arrived for ${seconds(stallMs)}.`, url);

  let response: Response;
  try {
    waitMore();
    response = await doFetch(url, range ? { signal: controller.signal, headers: { Range: `bytes=${range.start}-${range.end - 1}` } } : { signal: controller.signal });
  } catch (err) {
    clearTimeout(timer);
    signal?.removeEventListener('abort', follow);
    if (signal?.aborted) throw err;
    if (stalled) throw stallError();
    // Browsers report a refused cross-origin read (no CORS header) as a plain network error.
    const hint = isCrossOrigin(url) ? ', or its host does not allow cross-origin requests (CORS)' : '';
    throw new AppError('network', `Could not reach ${name} (network error${hint}).`, url);
  }
  try {
    if (range) checkRangeResponse(response, range, name, url);
    if (!response.ok) {
      void response.body?.cancel().catch(() => {});
      throw new AppError('http', `${name} could not be loaded: HTTP ${response.status}.`, url);
    }
    const header = Number(response.headers.get('content-length'));
    // Content-Length is the compressed size when the server gzips; prefer the known size.
    const total = opts.bytes ?? (Number.isFinite(header) && header > 0 ? header : undefined);
    const limit = opts.bytes ?? opts.maxBytes ?? MAX_UNDECLARED_BYTES;

    const chunks: Uint8Array[] = [];
    let loaded = 0;
    opts.onProgress?.(0, total);
    // A connection dropped mid-body surfaces from the body reads (not from fetch()) as a bare TypeError.
    const interrupted = (err: unknown): never => {
      if (signal?.aborted) throw err;
      if (stalled) throw stallError();
      throw new AppError('network', `The download of ${name} was interrupted (network error).`, url);
    };
    // A host that sends more than the declared size (a wrong file, or an endless stream) is cut off
    // at the first byte too many, not read to its end.
    const tooLong = (n: number): never => {
      throw new AppError(
        'integrity',
        opts.bytes !== undefined
          ? `${name} is larger than the ${opts.bytes} bytes declared for it (${n} bytes arrived before the download was stopped): the file is a different version.`
          : `${name} is larger than the ${megabytes(limit)} a file of undeclared size may have (${n} bytes arrived before the download was stopped).`,
        url,
      );
    };
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        waitMore();
        const { done, value } = await reader.read().catch(interrupted);
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        if (loaded > limit) {
          await reader.cancel().catch(() => {});
          tooLong(loaded);
        }
        opts.onProgress?.(loaded, total);
      }
    } else {
      const buf = new Uint8Array(await response.arrayBuffer().catch(interrupted));
      if (buf.byteLength > limit) tooLong(buf.byteLength);
      chunks.push(buf);
      loaded = buf.byteLength;
      opts.onProgress?.(loaded, total);
    }
    clearTimeout(timer);
    return await verifyBytes(concat(chunks, loaded), opts, url);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', follow);
  }
}

/** A range answer must be 206 with exactly the asked range; anything else is refused before its body is read. */
function checkRangeResponse(response: Response, range: { start: number; end: number; fileBytes?: number }, name: string, url: string): void {
  const refuse = (reason: HostRangeError['reason'], message: string): never => {
    void response.body?.cancel().catch(() => {});
    throw new HostRangeError(reason, message, url);
  };
  const asked = `bytes ${range.start}–${range.end - 1}`;
  if (response.status === 200) refuse('ignored', `The host of ${name} ignores HTTP Range requests (it answered ${asked} with the whole file): serve the index from a host that supports ranges, or build it with one file per block (docs/hosting.md).`);
  if (response.status === 416) refuse('unsatisfiable', `The host of ${name} says ${asked} lies outside the file (HTTP 416): the file is shorter than the index says, or a different version.`);
  if (response.status !== 206) return; // other statuses: the plain HTTP error below
  const header = response.headers.get('content-range') ?? '';
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  // Content-Range is not a CORS-safelisted response header: another origin's host must expose it.
  const cors = isCrossOrigin(url) && !header ? ' If the index is on another origin, its host must send "Access-Control-Expose-Headers: Content-Range" (docs/hosting.md).' : '';
  if (!m) refuse('wrong-range', `The host of ${name} answered ${asked} without a valid Content-Range header ("${header}"), so the bytes cannot be placed.${cors}`);
  const [start, last, total] = [Number(m![1]), Number(m![2]), m![3] === '*' ? undefined : Number(m![3])];
  if (start !== range.start || last !== range.end - 1) refuse('wrong-range', `The host of ${name} answered ${asked} with bytes ${start}–${last}: it shifts or resizes ranges.`);
  if (range.fileBytes !== undefined && total !== undefined && total !== range.fileBytes) refuse('wrong-range', `The host of ${name} says the file has ${total} bytes, the index says ${range.fileBytes}: a different version of the file.`);
}

/** Checks a file's size and SHA-256 (when given) before anyone uses it; returns the same bytes. */
export async function verifyBytes(out: Uint8Array, expect: { bytes?: number; sha256?: string }, url: string): Promise<Uint8Array> {
  if (expect.bytes !== undefined && out.byteLength !== expect.bytes) {
    throw new AppError(
      'integrity',
      `${fileName(url)} has ${out.byteLength} bytes, expected ${expect.bytes}: the file is incomplete or a different version.`,
      url,
    );
  }
  if (expect.sha256 !== undefined) {
    const actual = await sha256Hex(out);
    if (actual !== expect.sha256.toLowerCase()) {
      throw new AppError(
        'integrity',
        `${fileName(url)} failed its checksum (SHA-256 ${actual.slice(0, 12)}…, expected ${expect.sha256.slice(0, 12)}…).`,
        url,
      );
    }
  }
  return out;
}

const megabytes = (n: number) => (n >= 1024 * 1024 ? `${+(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`);
const seconds = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export function fileName(url: string): string {
  const path = url.split(/[?#]/)[0];
  return path.slice(path.lastIndexOf('/') + 1) || url;
}

function isCrossOrigin(url: string): boolean {
  const here = (globalThis as { location?: { href: string; origin: string } }).location;
  if (!here) return false;
  try {
    return new URL(url, here.href).origin !== here.origin;
  } catch {
    return false;
  }
}
