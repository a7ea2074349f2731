import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

export interface RangeServerOptions {
  /**
   * Answer as a CORS-enabled object store would (docs/hosting.md): `Access-Control-Allow-Origin: *`,
   * `Range` allowed in preflights (OPTIONS → 204), `Content-Range`, `Content-Length` and
   * `Accept-Ranges` exposed, and `Cross-Origin-Resource-Policy: cross-origin` so a cross-origin
   * isolated page (COEP require-corp) may read it. Default off: same-origin tests see a plain host.
   */
  cors?: boolean;
}

/**
 * A static server with real HTTP Range support (sirv, what `vite preview` serves with) on a free
 * localhost port. `front` sees every request first and calls `serve` to hand it to the files, or
 * answers it itself: how the tests play hosts that ignore, shift or mangle ranges.
 */
export async function startRangeServer(
  dir: string,
  front: (req: IncomingMessage, res: ServerResponse, serve: () => void) => void = (_req, _res, serve) => serve(),
  opts: RangeServerOptions = {},
): Promise<{ base: string; close: () => void }> {
  const statics = sirv(dir, { dev: true });
  const server = createServer((req, res) => {
    if (opts.cors) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      res.setHeader('Timing-Allow-Origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Max-Age': '86400' }).end();
        return;
      }
    }
    front(req, res, () =>
      statics(req, res, () => {
        res.writeHead(404).end();
      }),
    );
  });
  // Keep-alive connections would hold close() open; a bench's server goes away with its last request.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.close();
      server.closeAllConnections?.();
    },
  };
}
