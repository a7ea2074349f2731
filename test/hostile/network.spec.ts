import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Page } from '@playwright/test';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { ranking } from '../support/page.ts';
import { crash, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Hosts that lie: the built app and the colours index, served by a server of each case's own (a free
 * port) that misbehaves for one file as the case says. Nothing may hang; what goes wrong is said in
 * the banner, naming the file; what is only odd (a gzipped body) loads and searches correctly.
 */

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const INDEX = 'index/colours/';
const QUERY = 'teal';
const CHUNK = 16 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json',
};

/** What a case does with a request for a file under the index folder: true when it answered it. */
type Misbehave = (file: string, req: IncomingMessage, res: ServerResponse, body: Buffer | null, host: LyingHost) => boolean | Promise<boolean>;

interface LyingHost {
  url: string;
  /** Bytes written for each file, as the server counted them (an endless stream stops when the client goes). */
  written: Map<string, number>;
  /** Whether the client closed each file's connection before the server finished. */
  cutOff: Set<string>;
  /** The misbehaviour of the next requests (null: an honest host). */
  misbehave: Misbehave | null;
  close(): Promise<void>;
}

async function lyingHost(misbehave: Misbehave | null): Promise<LyingHost> {
  const sockets = new Set<Socket>();
  const host: LyingHost = { url: '', written: new Map(), cutOff: new Set(), misbehave, close: async () => {} };
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const rel = normalize(path === '/' ? 'index.html' : path.slice(1));
      const body = rel.startsWith('..') ? null : await readFile(join(DIST, rel)).catch(() => null);
      if (rel.startsWith(INDEX) && host.misbehave) {
        res.on('close', () => {
          if (!res.writableFinished) host.cutOff.add(rel.slice(INDEX.length));
        });
        if (await host.misbehave(rel.slice(INDEX.length), req, res, body, host)) return;
      }
      if (!body) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', 'content-length': body.byteLength }).end(body);
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  host.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return host;
}

/** Writes chunks of `fill` until the client goes away or `cap` bytes were written (counted in host.written). */
async function stream(host: LyingHost, file: string, res: ServerResponse, fill: Buffer, cap: number): Promise<void> {
  let written = 0;
  while (!res.destroyed && written < cap) {
    const piece = fill.subarray(0, CHUNK);
    const more = res.write(piece);
    written += piece.byteLength;
    host.written.set(file, written);
    if (!more) {
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
  }
  res.end();
}

/** An HTTP response written by hand (headers that lie), then the connection closed. */
function raw(res: ServerResponse, head: string[], body: Buffer): true {
  const socket = res.socket!;
  socket.write(`${['HTTP/1.1 200 OK', ...head, 'Connection: close'].join('\r\n')}\r\n\r\n`);
  socket.end(body);
  return true;
}

const reference = (() => {
  let r: ReturnType<typeof nodeTextScores> | undefined;
  return () => (r ??= nodeTextScores('index/colours', QUERY, 'first-moment'));
})();

interface Visit {
  context: BrowserContext;
  page: Page;
  /** The banner's message once it shows ('' if the app got ready instead), within `ms`. */
  banner(ms?: number): Promise<string>;
  /** '' when the shown results are the reference ranking of QUERY, else what differs. */
  wrongResults(): Promise<string>;
}

async function visit(ctx: HostileContext, host: LyingHost): Promise<Visit> {
  const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.goto(`${host.url}?index=${INDEX}&q=${QUERY}&method=first-moment`);
  return {
    context,
    page,
    async banner(ms = 25_000) {
      const banner = page.getByTestId('error-banner').locator('.message');
      const ready = page.locator('[data-testid="results"] li').first();
      await banner.or(ready).first().waitFor({ timeout: ms });
      return (await banner.count()) ? (await banner.textContent()) ?? '' : '';
    },
    async wrongResults() {
      await page.locator('[data-testid="results"] li').first().waitFor({ timeout: 25_000 });
      const shown = await page.getByTestId('results').locator('li').evaluateAll((items) =>
        items.map((li) => ({ id: li.getAttribute('data-model-id')!, score: Number(li.getAttribute('data-score')) })),
      );
      const ref = await reference();
      const expected = ranking(ref.ids, ref.scores);
      if (shown.map((s) => s.id).join() !== expected.slice(0, shown.length).join()) return `shown ${shown.map((s) => s.id).join(',')}, expected ${expected.join(',')}`;
      for (const s of shown) {
        const want = ref.scores[ref.ids.indexOf(s.id)];
        if (Math.abs(s.score - want) > 1e-4 * Math.max(1, Math.abs(want))) return `score of ${s.id}: ${s.score}, expected ${want}`;
      }
      return '';
    },
  };
}

/**
 * Loads the app from a host misbehaving as `misbehave` says; the banner must name every `names`
 * item. With `retry`, the host then behaves and the banner's Retry must bring correct results.
 */
async function refusedLoad(ctx: HostileContext, misbehave: Misbehave, names: (string | RegExp)[], opts: { retry?: boolean; bannerMs?: number; check?: (host: LyingHost) => string } = {}): Promise<Verdict> {
  const host = await lyingHost(misbehave);
  const v = await visit(ctx, host);
  try {
    const message = await v.banner(opts.bannerMs);
    if (!message) {
      const wrong = await v.wrongResults();
      return wrong ? silentWrong(`loaded from a lying host: ${wrong}`) : silentWrong('the lying host was believed (the app loaded without a word)');
    }
    const verdict = judgeError(message, names);
    if (verdict.outcome !== 'clear error') return verdict;
    // The server hears the client go a moment after the banner shows.
    let extra = opts.check?.(host) ?? '';
    for (let i = 0; extra && i < 25; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      extra = opts.check!(host);
    }
    if (extra) return crash(extra);
    if (opts.retry) {
      const retry = v.page.getByTestId('error-banner').getByRole('button', { name: 'Retry' });
      if (!(await retry.count())) return crash(`no Retry for a failure a retry can fix: ${oneLine(message)}`);
      host.misbehave = null;
      await retry.click();
      const wrong = await v.wrongResults();
      if (wrong) return silentWrong(`after Retry: ${wrong}`);
      return { outcome: 'clear error', detail: `${verdict.detail} — Retry then loaded correct results` };
    }
    return verdict;
  } finally {
    await v.context.close();
    await host.close();
  }
}

/** A file under the index folder answering `status`, for each status in turn (a fresh page each). */
function statusCase(file: string): HostileCase {
  return {
    group: 'network',
    name: `${file} answers HTTP 500, 404 and 403`,
    timeoutMs: 90_000,
    async run(ctx) {
      const details: string[] = [];
      for (const status of [500, 404, 403]) {
        const verdict = await refusedLoad(
          ctx,
          (f, _req, res) => f === file && !!res.writeHead(status, { 'content-type': 'text/plain' }).end(`error ${status}`),
          [file, String(status)],
          { retry: status === 500 },
        );
        if (verdict.outcome !== 'clear error') return { ...verdict, detail: `HTTP ${status}: ${verdict.detail}` };
        details.push(verdict.detail);
      }
      return { outcome: 'clear error', detail: details.join(' | ') };
    },
  };
}

const cases: HostileCase[] = [
  {
    group: 'network',
    name: 'index.bin longer than its manifest declares (1 MB appended)',
    run: (ctx) =>
      refusedLoad(ctx, (f, _req, res, body) => {
        if (f !== 'index.bin' || !body) return false;
        const longer = Buffer.concat([body, Buffer.alloc(1024 * 1024, 7)]);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': longer.byteLength }).end(longer);
        return true;
      }, ['index.bin', /larger than/]),
  },
  {
    group: 'network',
    name: 'index.bin as an endless stream',
    finding: true,
    run: (ctx) =>
      refusedLoad(
        ctx,
        (f, _req, res, body, host) => {
          if (f !== 'index.bin' || !body) return false;
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          void stream(host, f, res, Buffer.concat([body, body]), 256 * 1024 * 1024);
          return true;
        },
        ['index.bin', /larger than/],
        // The server's count includes what the kernel and the browser buffer (several MB on
        // loopback); reading to the end would be the whole 256 MB.
        { check: (h) => (!h.cutOff.has('index.bin') || (h.written.get('index.bin') ?? 0) > 64 * 1024 * 1024 ? `the app went on reading: ${h.written.get('index.bin')} bytes sent` : '') },
      ),
  },
  {
    group: 'network',
    name: 'manifest.json (size not declared anywhere) as an endless stream',
    timeoutMs: 60_000,
    run: (ctx) =>
      refusedLoad(
        ctx,
        (f, _req, res, _body, host) => {
          if (f !== 'manifest.json') return false;
          res.writeHead(200, { 'content-type': 'application/json' });
          void stream(host, f, res, Buffer.alloc(CHUNK, 0x20), 1024 * 1024 * 1024);
          return true;
        },
        ['manifest.json', /larger than/],
        { bannerMs: 45_000, check: (h) => (!h.cutOff.has('manifest.json') || (h.written.get('manifest.json') ?? 0) > 256 * 1024 * 1024 ? `the app went on reading: ${h.written.get('manifest.json')} bytes of a manifest sent` : '') },
      ),
  },
  {
    group: 'network',
    name: 'index.bin shorter than declared (the second half missing)',
    run: (ctx) =>
      refusedLoad(ctx, (f, _req, res, body) => {
        if (f !== 'index.bin' || !body) return false;
        const half = body.subarray(0, body.byteLength >> 1);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': half.byteLength }).end(half);
        return true;
      }, ['index.bin', /incomplete|expected/]),
  },
  {
    group: 'network',
    name: 'models.json with a Content-Length larger than the body, then the connection closes',
    run: (ctx) => refusedLoad(ctx, (f, _req, res, body) => f === 'models.json' && !!body && raw(res, ['Content-Type: application/json', `Content-Length: ${body.byteLength + 5000}`], body), ['models.json']),
  },
  {
    group: 'network',
    name: 'index.bin with a Content-Length smaller than the body',
    run: (ctx) => refusedLoad(ctx, (f, _req, res, body) => f === 'index.bin' && !!body && raw(res, ['Content-Type: application/octet-stream', 'Content-Length: 1000'], body), ['index.bin']),
  },
  {
    group: 'network',
    name: 'index.bin sends 10 kB, then stalls with the connection open (Retry after the host recovers)',
    timeoutMs: 100_000,
    run: (ctx) =>
      refusedLoad(
        ctx,
        (f, _req, res, body) => {
          if (f !== 'index.bin' || !body) return false;
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength });
          res.write(body.subarray(0, 10_000));
          return true; // and nothing more, ever
        },
        ['index.bin', /stalled|nothing arrived/],
        { retry: true, bannerMs: 70_000 },
      ),
  },
  {
    group: 'network',
    name: 'manifest.json request accepted, no headers ever sent',
    timeoutMs: 100_000,
    run: (ctx) => refusedLoad(ctx, (f) => f === 'manifest.json', ['manifest.json', /stalled|nothing arrived/], { bannerMs: 70_000 }),
  },
  statusCase('manifest.json'),
  statusCase('index.bin'),
  statusCase('models.json'),
  {
    group: 'network',
    name: 'thumbnails answer HTTP 500, 404 and 403',
    timeoutMs: 90_000,
    async run(ctx) {
      const seen: string[] = [];
      for (const status of [500, 404, 403]) {
        const host = await lyingHost((f, _req, res) => {
          if (!f.startsWith('thumbs/')) return false;
          seen.push(f);
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`error ${status}`);
          return true;
        });
        const v = await visit(ctx, host);
        try {
          const banner = await v.banner();
          if (banner) return crash(`HTTP ${status} for thumbnails stopped the app: ${oneLine(banner)}`);
          const wrong = await v.wrongResults();
          if (wrong) return silentWrong(`HTTP ${status}: ${wrong}`);
          // The names are there to read; the broken pictures are decorative (alt="").
          const names = await v.page.getByTestId('results').locator('li').first().textContent();
          if (!names?.trim()) return crash('the cards show nothing without their thumbnails');
        } finally {
          await v.context.close();
          await host.close();
        }
      }
      return seen.length ? handled(`results correct and named without thumbnails (${seen.length} thumbnail requests refused)`) : crash('no thumbnail was requested: the case tested nothing');
    },
  },
  {
    group: 'network',
    name: 'manifest.json answered with the site’s HTML page (an SPA fallback, HTTP 200)',
    run: (ctx) =>
      refusedLoad(ctx, async (f, _req, res) => {
        if (f !== 'manifest.json') return false;
        res.writeHead(200, { 'content-type': 'text/html' }).end(await readFile(join(DIST, 'index.html')));
        return true;
        // "manifest.json" or "the index manifest": either names the file.
      }, [/manifest/i, /web page|HTML|not JSON/i]),
  },
  {
    group: 'network',
    name: 'manifest.json whose sha256 for models.json does not match the file',
    run: (ctx) =>
      refusedLoad(ctx, (f, _req, res, body) => {
        if (f !== 'manifest.json' || !body) return false;
        const m = JSON.parse(body.toString('utf8'));
        m.files['models.json'].sha256 = createHash('sha256').update('another version').digest('hex');
        const out = Buffer.from(JSON.stringify(m));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.byteLength }).end(out);
        return true;
      }, ['models.json', /checksum/]),
  },
  {
    group: 'network',
    name: 'manifest.json redirects to itself (a redirect loop)',
    run: (ctx) => refusedLoad(ctx, (f, req, res) => f === 'manifest.json' && !!res.writeHead(302, { location: req.url ?? '/' }).end(), ['manifest.json']),
  },
  {
    group: 'network',
    name: 'models.json connection reset halfway through',
    run: (ctx) =>
      refusedLoad(ctx, (f, _req, res, body) => {
        if (f !== 'models.json' || !body) return false;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.byteLength });
        res.write(body.subarray(0, body.byteLength >> 1), () => setTimeout(() => res.socket?.resetAndDestroy(), 50));
        return true;
      }, ['models.json', /interrupted/]),
  },
  {
    group: 'network',
    name: 'every index file gzip-encoded, Content-Length the compressed size',
    async run(ctx) {
      let gzipped = 0;
      const host = await lyingHost((_f, _req, res, body) => {
        if (!body) return false;
        const z = gzipSync(body);
        gzipped++;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': z.byteLength }).end(z);
        return true;
      });
      const v = await visit(ctx, host);
      try {
        const banner = await v.banner();
        if (banner) return crash(`a gzipped index was refused: ${oneLine(banner)}`);
        const wrong = await v.wrongResults();
        if (wrong) return silentWrong(wrong);
        return gzipped >= 3 ? handled(`${gzipped} gzipped files loaded; results equal the reference ranking`) : crash(`only ${gzipped} files went through the gzip path`);
      } finally {
        await v.context.close();
        await host.close();
      }
    },
  },
];

defineHostileCases(cases);
