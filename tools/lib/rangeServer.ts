import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

/**
 * A static server with real HTTP Range support (sirv, what `vite preview` serves with) on a free
 * localhost port. `front` sees every request first and calls `serve` to hand it to the files, or
 * answers it itself: how the tests play hosts that ignore, shift or mangle ranges.
 */
export async function startRangeServer(
  dir: string,
  front: (req: IncomingMessage, res: ServerResponse, serve: () => void) => void = (_req, _res, serve) => serve(),
): Promise<{ base: string; close: () => void }> {
  const statics = sirv(dir, { dev: true });
  const server = createServer((req, res) =>
    front(req, res, () =>
      statics(req, res, () => {
        res.writeHead(404).end();
      }),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
