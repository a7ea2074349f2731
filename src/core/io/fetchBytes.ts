import { AppError } from './errors.ts';
import { sha256Hex } from './sha256.ts';

export interface FetchBytesOptions {
  /** Expected size in bytes: the read stops as soon as more arrive, and a shorter file fails after. */
  bytes?: number;
  /** Expected SHA-256 (hex); checked after download when given. */
  sha256?: string;
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` is the expected size when known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  fetchImpl?: typeof fetch;
}

/**
 * Downloads a file as bytes, streaming so callers can show byte progress,
 * and verifies size and checksum before anyone uses the data.
 */
export async function fetchBytes(url: string, opts: FetchBytesOptions = {}): Promise<Uint8Array> {
  const doFetch = opts.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { signal: opts.signal });
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    // Browsers report a refused cross-origin read (no CORS header) as a plain network error.
    const hint = isCrossOrigin(url) ? ', or its host does not allow cross-origin requests (CORS)' : '';
    throw new AppError('network', `Could not reach ${fileName(url)} (network error${hint}).`, url);
  }
  if (!response.ok) {
    throw new AppError('http', `${fileName(url)} could not be loaded: HTTP ${response.status}.`, url);
  }
  const header = Number(response.headers.get('content-length'));
  // Content-Length is the compressed size when the server gzips; prefer the known size.
  const total = opts.bytes ?? (Number.isFinite(header) && header > 0 ? header : undefined);

  const chunks: Uint8Array[] = [];
  let loaded = 0;
  opts.onProgress?.(0, total);
  // A connection dropped mid-body surfaces from the body reads (not from fetch()) as a bare TypeError.
  const interrupted = (err: unknown): never => {
    if (opts.signal?.aborted) throw err;
    throw new AppError('network', `The download of ${fileName(url)} was interrupted (network error).`, url);
  };
  // A host that sends more than the declared size (a wrong file, or an endless stream) is cut off
  // at the first byte too many, not read to its end.
  const tooLong = (n: number): never => {
    throw new AppError('integrity', `${fileName(url)} is larger than the ${opts.bytes} bytes declared for it (${n} bytes arrived before the download was stopped): the file is a different version.`, url);
  };
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(interrupted);
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      if (opts.bytes !== undefined && loaded > opts.bytes) {
        await (reader as { cancel?: () => Promise<void> }).cancel?.().catch(() => {});
        tooLong(loaded);
      }
      opts.onProgress?.(loaded, total);
    }
  } else {
    const buf = new Uint8Array(await response.arrayBuffer().catch(interrupted));
    chunks.push(buf);
    loaded = buf.byteLength;
    opts.onProgress?.(loaded, total);
  }
  return verifyBytes(concat(chunks, loaded), opts, url);
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
