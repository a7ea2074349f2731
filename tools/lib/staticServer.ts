import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** A minimal static file server (browser tests, the first-visit bench): another origin, a sub-path, chosen headers. */
export interface StaticServerOptions {
  root: string;
  port: number;
  /** URL prefix the files live under, e.g. '/search/' (default '/'). */
  prefix?: string;
  /** Extra response headers (e.g. CORS). */
  headers?: Record<string, string>;
  /** Replaces a file's bytes before serving (path relative to root, '/'-separated). */
  transform?: (path: string, body: Buffer) => Buffer;
  /**
   * Bytes per second for a file (path relative to root), or undefined for full speed: a slow network
   * for the files a test watches download. Read per request, so a test can change it between visits.
   */
  throttle?: (path: string) => number | undefined;
  /**
   * Waited on before a file's bytes are sent (path relative to root): a test holds one file back
   * (the headers are not sent either) until it has checked what the page does without it.
   */
  gate?: (path: string) => Promise<void> | undefined;
}

const THROTTLE_CHUNK = 64 * 1024;

/** Writes `body` at `bytesPerSecond`, in chunks; stops when the client goes away. */
async function writeSlowly(res: ServerResponse, body: Buffer, bytesPerSecond: number): Promise<void> {
  for (let i = 0; i < body.length && !res.destroyed; i += THROTTLE_CHUNK) {
    const chunk = body.subarray(i, i + THROTTLE_CHUNK);
    if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    await new Promise((r) => setTimeout(r, (chunk.length / bytesPerSecond) * 1000));
  }
  res.end();
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain',
};

export interface StaticServer {
  url: string;
  close: () => Promise<void>;
  /** Every request's path, in order. */
  requests: string[];
  /** Every file served: its path, the bytes sent and when its last byte was written (Date.now()). */
  served: { path: string; bytes: number; finishedAt: number }[];
}

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const root = resolve(opts.root);
  const prefix = opts.prefix ?? '/';
  const requests: string[] = [];
  const served: StaticServer['served'] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const headers = { ...opts.headers };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, headers).end();
      return;
    }
    if (!path.startsWith(prefix)) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    let rel = path.slice(prefix.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403, headers).end('forbidden');
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      let body: Buffer = await readFile(file);
      if (opts.transform) body = opts.transform(rel, body);
      await opts.gate?.(rel);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.byteLength, ...headers });
      const rate = opts.throttle?.(rel);
      if (rate) await writeSlowly(res, body, rate);
      else res.end(body);
      served.push({ path, bytes: body.byteLength, finishedAt: Date.now() });
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, '127.0.0.1', ok);
  });
  // Port 0 asks the system for a free port: the URL names the one it gave.
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    served,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
