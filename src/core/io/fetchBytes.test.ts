import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { mulberry32 } from '../math/prng.ts';
import { fetchBytes, fileName, MAX_UNDECLARED_BYTES, STALL_MS } from './fetchBytes.ts';

const SIZE = 3 * 1024 * 1024;
const CHUNK = 96 * 1024;

/** 3 MiB of deterministic, non-repeating-looking bytes (the project's one PRNG). */
const BODY = (() => {
  const next = mulberry32(0x9e3779b9);
  return Uint8Array.from({ length: SIZE }, () => Math.floor(next() * 256));
})();
const BODY_SHA256 = createHash('sha256').update(BODY).digest('hex');

/** Writes `body` in CHUNK-sized pieces, yielding to the event loop between them. */
async function writeChunked(res: ServerResponse, body: Uint8Array, upTo = body.byteLength): Promise<void> {
  for (let at = 0; at < upTo; at += CHUNK) {
    const piece = body.subarray(at, Math.min(at + CHUNK, upTo));
    if (!res.write(piece)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

let server: Server;
/** What the endless route wrote before the client went away. */
const endless = { written: 0, closed: false };
let base: string;
let refusedUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      switch (path) {
        case '/data/big.bin':
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
          await writeChunked(res, BODY);
          res.end();
          return;
        case '/data/chunked.bin':
          // No Content-Length: Node uses chunked transfer encoding.
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          await writeChunked(res, BODY);
          res.end();
          return;
        case '/data/small.json':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
          res.end('[]');
          return;
        case '/data/broken.bin':
          // Promises the whole body, sends a third, then drops the connection.
          res.writeHead(200, { 'content-length': SIZE });
          await writeChunked(res, BODY, SIZE / 3);
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        case '/data/broken-chunked.bin':
          res.writeHead(200, {});
          await writeChunked(res, BODY, SIZE / 3);
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        case '/data/stall.bin':
          // Sends a little, then never finishes (until the client aborts or the server closes).
          res.writeHead(200, { 'content-length': SIZE });
          res.write(BODY.subarray(0, 1000));
          return;
        case '/data/endless.bin': {
          // Declares nothing and never ends: a hostile or broken host.
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          endless.written = 0;
          while (!res.destroyed && endless.written < 256 * 1024 * 1024) {
            if (!res.write(BODY.subarray(0, CHUNK))) {
              await new Promise<void>((resolve) => {
                const done = () => {
                  res.off('drain', done);
                  res.off('close', done);
                  resolve();
                };
                res.on('drain', done);
                res.on('close', done);
              });
            }
            endless.written += CHUNK;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          endless.closed = res.destroyed;
          return;
        }
        case '/data/silent':
          // Accepts the request and never answers (not even headers).
          return;
        case '/data/drip.bin':
          // The whole small body, one piece every 60 ms: slow, but never silent for long.
          res.writeHead(200, { 'content-length': 20 * 100 });
          for (let i = 0; i < 20 && !res.destroyed; i++) {
            res.write(BODY.subarray(i * 100, (i + 1) * 100));
            await new Promise((resolve) => setTimeout(resolve, 60));
          }
          res.end();
          return;
        case '/data/server-error':
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('boom');
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A port that was just listening and is now closed: connecting to it is refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/index.bin`;
  await new Promise<void>((resolve, reject) => closed.close((err) => (err ? reject(err) : resolve())));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

type Progress = [loaded: number, total: number | undefined];

async function expectAppError(promise: Promise<unknown>, code: AppError['code'], pattern: RegExp): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the promise to reject').toBeInstanceOf(AppError);
  const appErr = err as AppError;
  expect(appErr.code).toBe(code);
  expect(appErr.message).toMatch(pattern);
  return appErr;
}

function checkProgress(calls: Progress[], expectedTotal: number | undefined, finalLoaded: number): void {
  expect(calls.length).toBeGreaterThan(2);
  expect(calls[0]).toEqual([0, expectedTotal]);
  for (let i = 1; i < calls.length; i++) {
    expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);
    expect(calls[i][1]).toBe(expectedTotal);
  }
  expect(calls[calls.length - 1][0]).toBe(finalLoaded);
}

describe('fetchBytes against a real HTTP server', () => {
  it('downloads a 3 MiB body with Content-Length, reporting progress up to the total', async () => {
    const calls: Progress[] = [];
    const bytes = await fetchBytes(`${base}/data/big.bin`, { onProgress: (l, t) => calls.push([l, t]) });
    expect(bytes.byteLength).toBe(SIZE);
    expect(Buffer.from(bytes).equals(Buffer.from(BODY))).toBe(true);
    checkProgress(calls, SIZE, SIZE);
    // Strictly increasing after the initial 0: every call reports new bytes.
    for (let i = 2; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThan(calls[i - 1][0]);
  });

  it('downloads a chunked body without Content-Length (total unknown)', async () => {
    const calls: Progress[] = [];
    const bytes = await fetchBytes(`${base}/data/chunked.bin`, { onProgress: (l, t) => calls.push([l, t]) });
    expect(Buffer.from(bytes).equals(Buffer.from(BODY))).toBe(true);
    checkProgress(calls, undefined, SIZE);
  });

  it('uses the expected size as the progress total when given', async () => {
    const calls: Progress[] = [];
    await fetchBytes(`${base}/data/chunked.bin`, { bytes: SIZE, onProgress: (l, t) => calls.push([l, t]) });
    checkProgress(calls, SIZE, SIZE);
  });

  it('accepts a matching size and SHA-256 (either case)', async () => {
    const bytes = await fetchBytes(`${base}/data/big.bin`, { bytes: SIZE, sha256: BODY_SHA256 });
    expect(bytes.byteLength).toBe(SIZE);
    const again = await fetchBytes(`${base}/data/big.bin`, { sha256: BODY_SHA256.toUpperCase() });
    expect(again.byteLength).toBe(SIZE);
  });

  it('rejects a size mismatch with AppError("integrity")', async () => {
    const err = await expectAppError(
      fetchBytes(`${base}/data/big.bin`, { bytes: SIZE - 1 }),
      'integrity',
      new RegExp(`big\\.bin is larger than the ${SIZE - 1} bytes declared for it`),
    );
    expect(err.subject).toBe(`${base}/data/big.bin`);
    await expectAppError(fetchBytes(`${base}/data/small.json`, { bytes: 3 }), 'integrity', /has 2 bytes, expected 3/);
  });

  it('stops reading as soon as a stream passes the declared size (a host streaming without end)', async () => {
    const declared = 2 * 1024 * 1024;
    await expectAppError(fetchBytes(`${base}/data/endless.bin`, { bytes: declared }), 'integrity', /endless\.bin is larger than the 2097152 bytes declared for it/);
    // The server sees the connection go: it wrote a little past the declared size, not 256 MB.
    await expect.poll(() => endless.closed, { timeout: 5000 }).toBe(true);
    expect(endless.written).toBeLessThan(declared + 16 * CHUNK + 4 * 1024 * 1024);
  });

  it('cuts off a file of unknown size at maxBytes (an endless stream where no size is declared)', async () => {
    const max = 1024 * 1024;
    await expectAppError(
      fetchBytes(`${base}/data/endless.bin`, { maxBytes: max }),
      'integrity',
      /endless\.bin is larger than the 1 MiB a file of undeclared size may have/,
    );
    await expect.poll(() => endless.closed, { timeout: 5000 }).toBe(true);
    expect(endless.written).toBeLessThan(max + 16 * CHUNK + 4 * 1024 * 1024);
    expect(MAX_UNDECLARED_BYTES).toBeGreaterThan(max);
  });

  it('fails a download whose body stops arriving (a stalled connection), naming the file', async () => {
    const t0 = Date.now();
    const err = await expectAppError(fetchBytes(`${base}/data/stall.bin`, { stallMs: 300 }), 'network', /^The download of stall\.bin stalled: nothing arrived for 300 ms\.$/);
    expect(err.subject).toBe(`${base}/data/stall.bin`);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(STALL_MS).toBe(30_000);
  });

  it('fails a request whose headers never come', async () => {
    await expectAppError(fetchBytes(`${base}/data/silent`, { stallMs: 300 }), 'network', /^The download of silent stalled/);
  });

  it('lets a slow download finish as long as every piece comes within the stall time', async () => {
    const bytes = await fetchBytes(`${base}/data/drip.bin`, { stallMs: 1000, bytes: 2000 });
    expect(Buffer.from(bytes).equals(Buffer.from(BODY.subarray(0, 2000)))).toBe(true);
  });

  it('rejects a checksum mismatch with AppError("integrity")', async () => {
    const wrong = createHash('sha256').update('something else').digest('hex');
    await expectAppError(
      fetchBytes(`${base}/data/big.bin`, { bytes: SIZE, sha256: wrong }),
      'integrity',
      new RegExp(`big\\.bin failed its checksum \\(SHA-256 ${BODY_SHA256.slice(0, 12)}…, expected ${wrong.slice(0, 12)}…\\)`),
    );
    // A single flipped bit is caught.
    const flipped = BODY_SHA256.slice(0, 63) + (BODY_SHA256[63] === '0' ? '1' : '0');
    await expectAppError(fetchBytes(`${base}/data/chunked.bin`, { sha256: flipped }), 'integrity', /failed its checksum/);
  });

  it('turns a 404 into AppError("http") with the status in the message', async () => {
    const err = await expectAppError(fetchBytes(`${base}/data/missing.bin?v=2`), 'http', /HTTP 404/);
    expect(err.message).toBe('missing.bin could not be loaded: HTTP 404.');
    expect(err.subject).toBe(`${base}/data/missing.bin?v=2`);
    await expectAppError(fetchBytes(`${base}/data/server-error`), 'http', /server-error could not be loaded: HTTP 500/);
  });

  it('turns a refused connection into AppError("network")', async () => {
    const err = await expectAppError(fetchBytes(refusedUrl), 'network', /Could not reach index\.bin \(network error\)/);
    expect(err.subject).toBe(refusedUrl);
  });

  it('turns a connection dropped mid-body into AppError("network")', async () => {
    const calls: Progress[] = [];
    await expectAppError(
      fetchBytes(`${base}/data/broken.bin`, { onProgress: (l, t) => calls.push([l, t]) }),
      'network',
      /broken\.bin.*interrupted/,
    );
    // It did get part of the body before the drop.
    expect(calls[calls.length - 1][0]).toBeGreaterThan(0);
    expect(calls[calls.length - 1][0]).toBeLessThan(SIZE);
    await expectAppError(fetchBytes(`${base}/data/broken-chunked.bin`), 'network', /interrupted/);
  });

  it('rejects with the abort reason (not an AppError) when aborted before the request', async () => {
    const reason = new Error('user went away');
    const err = await fetchBytes(`${base}/data/big.bin`, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(err).not.toBeInstanceOf(AppError);
  });

  it('rejects with the abort reason when aborted while the body streams', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled mid-download');
    const promise = fetchBytes(`${base}/data/stall.bin`, {
      signal: controller.signal,
      onProgress: (loaded) => {
        if (loaded > 0) controller.abort(reason);
      },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBe(reason);
  });

  it('rejects with an AbortError DOMException when aborted without a reason', async () => {
    const controller = new AbortController();
    const promise = fetchBytes(`${base}/data/stall.bin`, {
      signal: controller.signal,
      onProgress: (loaded) => {
        if (loaded > 0) controller.abort();
      },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AppError);
    expect((err as Error).name).toBe('AbortError');
  });
});

describe('fetchBytes with an injected fetch', () => {
  it('passes the URL through, with a signal that follows the caller’s', async () => {
    const seen: [string, RequestInit | undefined][] = [];
    const caller = new AbortController();
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      seen.push([String(input), init]);
      return new Response(new Uint8Array([1, 2, 3]));
    }) as typeof fetch;
    const bytes = await fetchBytes('https://example.test/a/b.bin', { fetchImpl, signal: caller.signal });
    expect(Array.from(bytes)).toEqual([1, 2, 3]);
    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBe('https://example.test/a/b.bin');
    const passed = seen[0][1]?.signal;
    expect(passed?.aborted).toBe(false);
    // Finished: the caller's later abort no longer reaches the finished request's signal.
    caller.abort();
    expect(passed?.aborted).toBe(false);
  });

  it('aborts the request it made when the caller aborts', async () => {
    const caller = new AbortController();
    const reason = new Error('left the page');
    let passed: AbortSignal | undefined;
    const fetchImpl = ((_: string, init?: RequestInit) => {
      passed = init?.signal ?? undefined;
      return new Promise<Response>((_, reject) => passed!.addEventListener('abort', () => reject(passed!.reason)));
    }) as typeof fetch;
    const promise = fetchBytes('https://example.test/a/b.bin', { fetchImpl, signal: caller.signal });
    caller.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(passed?.aborted).toBe(true);
  });

  it('handles a response without a body', async () => {
    const calls: Progress[] = [];
    const fetchImpl = (async () => new Response(null, { status: 200 })) as typeof fetch;
    const bytes = await fetchBytes('https://example.test/empty', { fetchImpl, onProgress: (l, t) => calls.push([l, t]) });
    expect(bytes.byteLength).toBe(0);
    expect(calls[0]).toEqual([0, undefined]);
    expect(calls[calls.length - 1]).toEqual([0, undefined]);
  });

  it('wraps a thrown fetch error as AppError("network")', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expectAppError(fetchBytes('https://example.test/x/index.bin', { fetchImpl }), 'network', /^Could not reach index\.bin/);
  });

  it('lets an error thrown by onProgress propagate unchanged (not relabelled as a network error)', async () => {
    const boom = new RangeError('progress handler failed');
    const fetchImpl = (async () => new Response(new Uint8Array(10))) as typeof fetch;
    const err = await fetchBytes('https://example.test/p', {
      fetchImpl,
      onProgress: (loaded) => {
        if (loaded > 0) throw boom;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(boom);
  });

  it('verifies the SHA-256 of an empty body', async () => {
    const empty = createHash('sha256').update(new Uint8Array(0)).digest('hex');
    const fetchImpl = (async () => new Response(new Uint8Array(0))) as typeof fetch;
    await expect(fetchBytes('https://example.test/e', { fetchImpl, bytes: 0, sha256: empty })).resolves.toHaveLength(0);
  });
});

describe('fileName', () => {
  it.each([
    ['https://host/index/demo/index.bin', 'index.bin'],
    ['https://host/index/demo/models.json?v=3#frag', 'models.json'],
    ['https://host/a/b.bin#x/y', 'b.bin'],
    ['relative/path/manifest.json', 'manifest.json'],
    ['manifest.json', 'manifest.json'],
    ['https://host/index/demo/', 'https://host/index/demo/'],
    ['https://host/', 'https://host/'],
  ])('%s → %s', (url, expected) => {
    expect(fileName(url)).toBe(expected);
  });
});
