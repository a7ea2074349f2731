import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import { CLIP_VIT_B32 } from '../../src/core/encode/encoders.ts';
import { DEFAULT_MODEL_HOSTS } from '../../src/shared/policy.ts';
import { startStaticServer } from '../../tools/lib/staticServer.ts';
import { trustKey, type TrustRecord } from '../../workers/storage/fileStore.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { fixtureModels, makeFixtureIndex } from '../support/fixtureIndex.ts';
import { ranking } from '../support/page.ts';
import { clearError, crash, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';
import { padOnnx } from '../../tools/lib/padOnnx.ts';

/*
 * The policy applies everywhere (issue 14, point 5). The app's Content-Security-Policy is a meta
 * tag, which a worker does not inherit, so the search worker checks every URL it fetches against
 * the build's host list itself (src/shared/policy.ts), and holds the CLIP files, which have no
 * pinned hash, to the SHA-256 of their first download (workers/storage/trustOnFirstUse.ts).
 *
 * Hosts: the test build admits one extra host, http://127.0.0.1:4176 (MODEL_SEARCH_CONNECT_SRC in
 * playwright.config.ts), where these cases start an "allowed" server; "disallowed" hosts are local
 * servers on free ports (real CORS, a real other origin) or https://evil.example, answered by a route.
 */

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const PUBLIC_INDEX = fileURLToPath(new URL('../../public/index/', import.meta.url));
const ALLOWED_PORT = 4176;
const ALLOWED = `http://127.0.0.1:${ALLOWED_PORT}`;
const EVIL = 'https://evil.example';
/** The app served by a plain static server that sends the CSP header (no other spec uses this port). */
const HEADER_PORT = 4185;
const CORS = { 'access-control-allow-origin': '*' };
const TEXT_PATH = '/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model_quantized.onnx';
const CLIP_TEXT_URL = `${ALLOWED}${TEXT_PATH}`;
const CLIP_SIZE = CLIP_VIT_B32.text.bytes!;

// ---------------------------------------------------------------------------------------------
// Servers

interface Host {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** A local HTTP server (any origin but the app's); `port` 0 = a free port, which the build does not list. */
async function startHost(port: number, handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<Host> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.method === 'OPTIONS') return void res.writeHead(204, { ...CORS, 'access-control-allow-headers': '*' }).end();
    void handle(req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** Serves public/index/ with CORS: the colours index, a real one, from a host the build does not list. */
function serveIndexes(port = 0): Promise<Host> {
  return startHost(port, async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      const body = await readFile(`${PUBLIC_INDEX}${path.replace(/^\/+/, '').replace(/\.\./g, '')}`);
      res.writeHead(200, { ...CORS, 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404, CORS).end('not found');
    }
  });
}

/** The CLIP text tower's stand-in: the 32-d test graph padded to CLIP's exact size (it loads; the app then refuses its 32 dimensions). */
const STAND_IN = padOnnx(readFileSync(new URL('../../public/encoders/test-encoder/text_model.onnx', import.meta.url)), CLIP_SIZE);
/** The same size, one padding byte different: what a host that swapped the file serves. Size checks cannot tell. */
const CHANGED = Buffer.from(STAND_IN);
CHANGED[CHANGED.length - 10] ^= 0xff;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const STAND_IN_SHA = sha(STAND_IN);
/** What the app says once the stand-in's session has run: the file was accepted and used. */
const USED = 'returned 32 dimensions, expected 512';

/** The allowed model host (127.0.0.1:4176) serving `file.body` at the CLIP text path. */
function modelHost(file: { body: Buffer }, port = ALLOWED_PORT): Promise<Host> {
  return startHost(port, (req, res) => {
    if (req.url !== TEXT_PATH) return void res.writeHead(404, CORS).end();
    res.writeHead(200, { ...CORS, 'content-type': 'application/octet-stream', 'content-length': file.body.length }).end(file.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Pages

/** A fresh browser profile (its own IndexedDB) with a 512-d "CLIP" index at ./clip-fixture/ and https://evil.example answered by a route. */
async function openContext(ctx: HostileContext): Promise<{ context: BrowserContext; page: Page; evil: string[] }> {
  const context = await ctx.browser.newContext({ baseURL: ctx.baseURL, serviceWorkers: 'block' });
  const files = await makeFixtureIndex({ id: CLIP_VIT_B32.id, dim: 512 }, fixtureModels(3), new Float32Array(3 * 512).fill(0.01));
  await context.route('**/clip-fixture/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    return files[name] ? route.fulfill({ body: files[name] }) : route.fulfill({ status: 404 });
  });
  // evil.example would serve anything asked of it: the colours index, or the CLIP stand-in.
  const evil: string[] = [];
  const colours = (name: string) => readFileSync(`${PUBLIC_INDEX}colours/${name}`);
  await context.route(`${EVIL}/**`, (route) => {
    const url = new URL(route.request().url());
    evil.push(url.pathname);
    const name = url.pathname.split('/').pop()!;
    const body = url.pathname === TEXT_PATH ? STAND_IN : ['manifest.json', 'index.bin', 'models.json'].includes(name) ? colours(name) : undefined;
    return body ? route.fulfill({ body, headers: CORS }) : route.fulfill({ status: 404, headers: CORS });
  });
  return { context, page: await context.newPage(), evil };
}

/** How a visit ended: the error banner, or ready; `notice`: the page's notes on address parameters it did not use. */
type Settled = ({ kind: 'error'; message: string; code: string } | { kind: 'ready' }) & { notice: string };

/** Opens the app at `query` and waits for its banner or its ready state. */
async function visit(page: Page, query: string): Promise<Settled> {
  await page.goto(`./${query}`);
  const banner = page.getByTestId('error-banner');
  const ready = page.getByTestId('status').and(page.locator('[data-phase="ready"]'));
  await Promise.race([banner.waitFor({ state: 'visible', timeout: 90_000 }), ready.waitFor({ timeout: 90_000 })]);
  const notes = page.getByTestId('url-problems');
  const notice = (await notes.count()) ? (await notes.innerText()).trim() : '';
  if (!(await banner.isVisible())) return { kind: 'ready', notice };
  return { kind: 'error', message: (await banner.locator('.message').innerText()).trim(), code: (await banner.getAttribute('data-code')) ?? '', notice };
}

/**
 * A refusal of an address outside the policy: clear when the app says so naming `names` and nothing
 * was asked of the refused host; an app that loaded, or a host that was asked, is silently wrong. A
 * value the page itself ignores (not an address at all), with a note naming `param`, is refused
 * clearly too, as long as nothing came of it.
 */
function refused(s: Settled, names: (string | RegExp)[], asked: string[], what: string, param?: string): Verdict {
  if (asked.length) return silentWrong(`the refused host was asked for ${asked.join(', ')}`);
  if (s.kind === 'error' && names.every((n) => (typeof n === 'string' ? s.message.includes(n) : n.test(s.message)))) return judgeError(s.message, names);
  if (param && s.notice.includes(param)) return judgeError(s.notice, [param]);
  if (s.kind === 'ready') return silentWrong(`${what} loaded from a host outside the policy`);
  return judgeError(s.message, names);
}

/** The offline-storage database the worker keeps (workers/storage/fileStore.ts), read and edited from the page (same origin). */
type StorageOp =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: unknown }
  | { op: 'sha'; key: string }
  | { op: 'flip'; key: string; at: number }
  | { op: 'evict-files' }
  | { op: 'keys' };

function storage<T = unknown>(page: Page, op: StorageOp): Promise<T> {
  return page.evaluate(async (o) => {
    const db = await new Promise<IDBDatabase>((ok, fail) => {
      const open = indexedDB.open('model-search-files');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    const tx = db.transaction('files', 'readwrite');
    const done = new Promise((ok) => (tx.oncomplete = ok));
    const store = tx.objectStore('files');
    const req = <R>(r: IDBRequest<R>) => new Promise<R>((ok, fail) => ((r.onsuccess = () => ok(r.result)), (r.onerror = () => fail(r.error))));
    let out: unknown;
    if (o.op === 'get') out = await req(store.get(o.key));
    else if (o.op === 'put') await req(store.put(o.value, o.key));
    else if (o.op === 'keys') out = (await req(store.getAllKeys())).map(String);
    else if (o.op === 'evict-files') {
      for (const k of await req(store.getAllKeys())) if (/^(file|meta):/.test(String(k))) store.delete(k);
    } else {
      const entry = (await req(store.get(o.key))) as { data: ArrayBuffer } | undefined;
      if (entry && o.op === 'flip') {
        const bytes = new Uint8Array(entry.data);
        bytes[o.at] ^= 1;
        await req(store.put({ ...entry, data: bytes.buffer }, o.key));
      }
      out = entry?.data;
    }
    await done;
    db.close();
    if (o.op === 'sha') {
      const data = out as ArrayBuffer | undefined;
      return data ? Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('') : null;
    }
    return o.op === 'flip' ? null : out;
  }, op) as Promise<T>;
}

const TRUST_KEY = trustKey(CLIP_TEXT_URL, CLIP_SIZE);
const CLIP_QUERY = `?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(ALLOWED)}`;

/**
 * A trust-on-first-use scenario: a first visit downloads the stand-in (its hash recorded, the file
 * saved), then `between` changes the host's file or the device's storage, then a second visit.
 */
async function tofuScenario(ctx: HostileContext, between: (page: Page, file: { body: Buffer }) => Promise<void>, judge: (s: Settled, page: Page, host: Host) => Promise<Verdict>): Promise<Verdict> {
  const file = { body: STAND_IN };
  const host = await modelHost(file);
  const { context, page } = await openContext(ctx);
  try {
    const first = await visit(page, CLIP_QUERY);
    if (first.kind !== 'error' || !first.message.includes(USED)) return crash(`the first use did not run the stand-in: ${first.kind === 'error' ? oneLine(first.message) : 'ready'}`);
    const record = await storage<TrustRecord | undefined>(page, { op: 'get', key: TRUST_KEY });
    if (record?.sha256 !== STAND_IN_SHA) return silentWrong(`the first download's hash was not recorded (record: ${JSON.stringify(record)})`);
    await between(page, file);
    return await judge(await visit(page, CLIP_QUERY), page, host);
  } finally {
    await context.close();
    await host.close();
  }
}

/** The comlink messages the app's client sends, hand-written: the built worker driven with no page code in between. */
async function driveWorkerDirectly(page: Page, config: Record<string, unknown>): Promise<{ type: string; name?: string; value?: unknown }> {
  const worker = readdirSync(`${DIST}assets`).find((f) => /^search\.worker-.*\.js$/.test(f));
  if (!worker) throw new Error('no search worker in dist/assets');
  return page.evaluate(
    async ([url, cfg]) => {
      const w = new Worker(url, { type: 'module' });
      let n = 0;
      const call = (path: string[], args: unknown[]) =>
        new Promise<{ type: string; name?: string; value?: unknown }>((ok) => {
          const id = `policy-${++n}`;
          const on = (e: MessageEvent) => {
            if (e.data?.id !== id) return;
            w.removeEventListener('message', on);
            ok(e.data);
          };
          w.addEventListener('message', on);
          w.postMessage({ id, type: 'APPLY', path, argumentList: args.map((value) => ({ type: 'RAW', value })) });
        });
      await call(['configure'], [cfg]);
      const answer = await call(['ready'], []);
      w.terminate();
      return answer;
    },
    [`assets/${worker}`, config] as const,
  );
}

// ---------------------------------------------------------------------------------------------
// Cases

const cases: HostileCase[] = [
  {
    group: 'policy',
    name: '?index=//other-host/ (a real index, served with CORS, on a host the build does not list)',
    finding: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const other = await serveIndexes();
      const { context, page } = await openContext(ctx);
      try {
        const settled = await visit(page, `?index=${encodeURIComponent(`//${new URL(other.url).host}/colours/`)}&backend=wasm`);
        return refused(settled, ['?index=', new URL(other.url).host, 'MODEL_SEARCH_CONNECT_SRC'], other.requests, 'the index');
      } finally {
        await context.close();
        await other.close();
      }
    },
  },
  {
    group: 'policy',
    name: 'the built search worker, driven directly (no page-side check), told to load an index from a host outside the policy',
    finding: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const other = await serveIndexes();
      const { context, page } = await openContext(ctx);
      try {
        await page.goto('./?index=index/colours/&backend=wasm');
        const answer = await driveWorkerDirectly(page, { appBase: ctx.baseURL, indexUrl: `${other.url}/colours/`, backend: 'wasm' });
        if (answer.type !== 'HANDLER' || answer.name !== 'throw') return silentWrong(`the worker loaded it (answer ${oneLine(JSON.stringify(answer))})`);
        if (other.requests.length) return silentWrong(`the worker asked the refused host for ${other.requests.join(', ')}`);
        const info = (answer.value as { value?: { message?: string } }).value;
        return judgeError(info?.message ?? '', ['?index=', 'MODEL_SEARCH_CONNECT_SRC']);
      } finally {
        await context.close();
        await other.close();
      }
    },
  },
  {
    group: 'policy',
    name: '?index=https://evil.example/colours/ (a valid index, with CORS)',
    finding: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const { context, page, evil } = await openContext(ctx);
      try {
        return refused(await visit(page, `?index=${encodeURIComponent(`${EVIL}/colours/`)}&backend=wasm`), ['?index=', 'evil.example'], evil, 'the index');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'policy',
    name: '?index= with a user name and password in the address (the app\'s own host)',
    timeoutMs: 120_000,
    async run(ctx) {
      const { context, page } = await openContext(ctx);
      try {
        const own = new URL(ctx.baseURL);
        const settled = await visit(page, `?index=${encodeURIComponent(`${own.protocol}//user:secret@${own.host}/index/colours/`)}&backend=wasm`);
        return refused(settled, ['?index=', /user name or password/], [], 'the index');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'policy',
    name: 'an allowed index host redirects manifest.json to a host outside the policy (fetch follows redirects)',
    timeoutMs: 120_000,
    async run(ctx) {
      const other = await serveIndexes();
      const allowed = await startHost(ALLOWED_PORT, (req, res) => void res.writeHead(302, { ...CORS, location: `${other.url}${req.url}` }).end());
      const { context, page } = await openContext(ctx);
      try {
        const settled = await visit(page, `?index=${encodeURIComponent(`${ALLOWED}/colours/`)}&backend=wasm`);
        if (settled.kind === 'ready') return silentWrong('the redirected index loaded');
        // The redirect's target is seen only when its response arrives (a real CSP header would stop it
        // earlier): the manifest may have been asked for, but nothing else, and nothing was used.
        const beyond = other.requests.filter((r) => !r.endsWith('/manifest.json'));
        if (beyond.length) return silentWrong(`the refused host was asked for ${beyond.join(', ')}`);
        return judgeError(settled.message, ['manifest.json', 'redirected', `127.0.0.1:${new URL(other.url).port}`, '?index=']);
      } finally {
        await context.close();
        await allowed.close();
        await other.close();
      }
    },
  },
  {
    group: 'policy',
    name: '?modelHost=https://evil.example for a CLIP index',
    finding: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const { context, page, evil } = await openContext(ctx);
      try {
        return refused(await visit(page, `?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(EVIL)}`), ['?modelHost=', 'evil.example'], evil, 'the encoder');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'policy',
    name: '?modelHost= a local server on a port the build does not list, serving a loadable CLIP stand-in',
    finding: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const other = await modelHost({ body: STAND_IN }, 0);
      const { context, page } = await openContext(ctx);
      try {
        return refused(await visit(page, `?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(other.url)}`), ['?modelHost=', other.url.replace('http://', '')], other.requests, 'the encoder');
      } finally {
        await context.close();
        await other.close();
      }
    },
  },
  ...(
    [
      ['https://user:secret@huggingface.co', /user name or password/],
      ['https://huggingface.co@evil.example', /user name or password/],
      ['https://huggingface.co.evil.example', /does not allow/],
      ['javascript:alert(document.domain)', /not an http\(s\) address/],
      ['data:text/html,<script>alert(1)</script>', /not an http\(s\) address/],
      ['https://huggingface.co/?redirect=https://evil.example', /without “\?” or “#”/],
    ] as const
  ).map(
    ([value, why]): HostileCase => ({
      group: 'policy',
      name: `?modelHost=${value}`,
      timeoutMs: 120_000,
      async run(ctx) {
        const { context, page, evil } = await openContext(ctx);
        try {
          return refused(await visit(page, `?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(value)}`), ['?modelHost=', why], evil, 'the encoder', 'modelHost');
        } finally {
          await context.close();
        }
      },
    }),
  ),
  {
    group: 'policy',
    name: 'the allowed model host redirects the CLIP file to a host outside the policy',
    timeoutMs: 120_000,
    async run(ctx) {
      const other = await modelHost({ body: STAND_IN }, 0);
      const allowed = await startHost(ALLOWED_PORT, (req, res) => void res.writeHead(302, { ...CORS, location: `${other.url}${req.url}` }).end());
      const { context, page } = await openContext(ctx);
      try {
        const settled = await visit(page, CLIP_QUERY);
        if (settled.kind === 'ready' || settled.message.includes(USED)) return silentWrong('the redirected file was used');
        return judgeError(settled.message, ['text_model_quantized.onnx', 'redirected', `127.0.0.1:${new URL(other.url).port}`, '?modelHost=']);
      } finally {
        await context.close();
        await allowed.close();
        await other.close();
      }
    },
  },
  {
    group: 'policy',
    name: 'the CLIP file changes on the model host after first use (same size; the saved copy was evicted)',
    finding: true,
    timeoutMs: 180_000,
    run: (ctx) =>
      tofuScenario(
        ctx,
        async (page, file) => {
          await storage(page, { op: 'evict-files' });
          file.body = CHANGED;
        },
        async (s, page, host) => {
          if (s.kind === 'ready' || s.message.includes(USED)) return silentWrong('the changed file was used (only its size was checked)');
          if (host.requests.length !== 2) return crash(`expected a second download, the host saw ${host.requests.length} requests`);
          const record = await storage<TrustRecord | undefined>(page, { op: 'get', key: TRUST_KEY });
          if (record?.sha256 !== STAND_IN_SHA) return silentWrong(`the recorded hash was replaced (${JSON.stringify(record)})`);
          if ((await storage<string[]>(page, { op: 'keys' })).includes(`file:${sha(CHANGED)}`)) return silentWrong('the changed file was saved');
          if (s.code !== 'integrity') return crash(`refused with code ${s.code}`);
          return judgeError(s.message, ['text_model_quantized.onnx', 'first downloaded']);
        },
      ),
  },
  {
    group: 'policy',
    name: 'the CLIP file changes on the model host after first use, the saved copy still there',
    timeoutMs: 180_000,
    run: (ctx) =>
      tofuScenario(
        ctx,
        async (_page, file) => {
          file.body = CHANGED;
        },
        async (s, page, host) => {
          if (s.kind === 'ready' || !s.message.includes(USED)) return crash(`the trusted copy was not used: ${s.kind === 'error' ? oneLine(s.message) : 'ready'}`);
          if (host.requests.length !== 1) return silentWrong(`the host was asked again (${host.requests.length} requests)`);
          const used = await storage<string | null>(page, { op: 'sha', key: `file:${STAND_IN_SHA}` });
          return used === STAND_IN_SHA ? handled('the saved copy of the first download was used, verified against the recorded SHA-256; nothing from the host') : silentWrong(`saved copy hash ${used}`);
        },
      ),
  },
  {
    group: 'policy',
    name: 'the saved CLIP file is tampered with in IndexedDB (one byte)',
    timeoutMs: 180_000,
    run: (ctx) =>
      tofuScenario(
        ctx,
        async (page) => {
          await storage(page, { op: 'flip', key: `file:${STAND_IN_SHA}`, at: 1_000_000 });
        },
        async (s, page, host) => {
          if (s.kind === 'ready' || !s.message.includes(USED)) return crash(`the file was not recovered: ${s.kind === 'error' ? oneLine(s.message) : 'ready'}`);
          if (host.requests.length !== 2) return silentWrong(`the tampered copy was used (the host saw ${host.requests.length} requests)`);
          const saved = await storage<string | null>(page, { op: 'sha', key: `file:${STAND_IN_SHA}` });
          const record = await storage<TrustRecord | undefined>(page, { op: 'get', key: TRUST_KEY });
          if (saved !== STAND_IN_SHA || record?.sha256 !== STAND_IN_SHA) return silentWrong(`saved copy ${saved}, record ${record?.sha256}`);
          return handled('the damaged copy was detected and deleted, the file downloaded again and checked against the recorded hash, and saved again intact');
        },
      ),
  },
  {
    group: 'policy',
    name: 'the recorded hash of the CLIP file is tampered with in IndexedDB',
    timeoutMs: 180_000,
    run: (ctx) =>
      tofuScenario(
        ctx,
        async (page) => {
          const record = await storage<TrustRecord>(page, { op: 'get', key: TRUST_KEY });
          await storage(page, { op: 'put', key: TRUST_KEY, value: { ...record, sha256: 'ab'.repeat(32) } });
        },
        async (s, page) => {
          if (s.kind === 'ready' || s.message.includes(USED)) return silentWrong('a file that does not match the recorded hash was used');
          const record = await storage<TrustRecord | undefined>(page, { op: 'get', key: TRUST_KEY });
          if (record?.sha256 !== 'ab'.repeat(32)) return silentWrong(`the record was silently rewritten to ${record?.sha256}`);
          if ((await storage<string | null>(page, { op: 'sha', key: `file:${STAND_IN_SHA}` })) !== STAND_IN_SHA) return crash('the saved copy of another hash was damaged');
          return judgeError(s.message, ['text_model_quantized.onnx']);
        },
      ),
  },
  {
    group: 'policy',
    name: 'the recorded hash of the CLIP file is damaged (not a hash)',
    timeoutMs: 180_000,
    run: (ctx) =>
      tofuScenario(
        ctx,
        async (page) => {
          await storage(page, { op: 'put', key: TRUST_KEY, value: { url: CLIP_TEXT_URL, sha256: '<script>', bytes: -1 } });
        },
        async (s, page) => {
          if (s.kind === 'ready' || s.message.includes(USED)) return silentWrong('the file was used without a usable record');
          const record = await storage<{ sha256?: string } | undefined>(page, { op: 'get', key: TRUST_KEY });
          if (record?.sha256 !== '<script>') return silentWrong('the damaged record was silently replaced (the next download trusted anew)');
          return judgeError(s.message, ['text_model_quantized.onnx', 'damaged']);
        },
      ),
  },
  {
    group: 'policy',
    name: "the build's meta tag, dist/_headers and the search worker carry one host list",
    async run() {
      const html = readFileSync(`${DIST}index.html`, 'utf8');
      const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1]?.replaceAll('&#39;', "'");
      const header = /^\s*Content-Security-Policy: (.+)$/m.exec(readFileSync(`${DIST}_headers`, 'utf8'))?.[1];
      if (!meta || !header) return silentWrong(`missing policy: meta ${!!meta}, _headers ${!!header}`);
      if (meta !== header) return silentWrong(`the meta tag and _headers differ:\n${meta}\n${header}`);
      const connect = /connect-src ([^;]+)/.exec(meta)![1].split(' ').filter((s) => s !== "'self'" && s !== 'blob:');
      const workerFile = readdirSync(`${DIST}assets`).find((f) => /^search\.worker-.*\.js$/.test(f))!;
      const worker = readFileSync(`${DIST}assets/${workerFile}`, 'utf8');
      // Every array literal of strings in the minified worker (the define becomes one).
      const arrays = [...worker.matchAll(/\[((?:(["'`])[^"'`\\]*\2,?)+)\]/g)].map((m) => [...m[1].matchAll(/(["'`])([^"'`\\]*)\1/g)].map((x) => x[2]));
      if (!arrays.some((a) => a.join(' ') === connect.join(' '))) return silentWrong(`the worker does not carry the CSP's list ${connect.join(' ')}`);
      if (!DEFAULT_MODEL_HOSTS.every((h) => connect.includes(h)) || !connect.includes(ALLOWED)) return silentWrong(`unexpected list ${connect.join(' ')}`);
      return handled(`one list in all three: ${connect.join(' ')}`);
    },
  },
  {
    group: 'policy',
    name: 'the app served with dist/_headers\' policy as a real header on every file (the worker included)',
    timeoutMs: 120_000,
    async run(ctx) {
      const csp = /^\s*Content-Security-Policy: (.+)$/m.exec(readFileSync(`${DIST}_headers`, 'utf8'))![1];
      const app = await startStaticServer({ root: DIST, port: HEADER_PORT, headers: { 'content-security-policy': csp } });
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      const violations: string[] = [];
      try {
        const page = await context.newPage();
        page.on('console', (m) => {
          if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
        });
        await page.goto(`${app.url}?index=index/colours/&backend=wasm&q=teal&method=first-moment`);
        const status = page.getByTestId('status').and(page.locator('[data-phase="ready"][data-searching="false"][data-seq="1"]'));
        const banner = page.getByTestId('error-banner');
        await Promise.race([status.waitFor({ timeout: 90_000 }), banner.waitFor({ state: 'visible', timeout: 90_000 })]);
        if (await banner.isVisible()) return crash(`under the header policy: ${oneLine(await banner.innerText())}`);
        if (violations.length) return crash(`policy violations: ${oneLine(violations.join(' | '))}`);
        const shown = await page.getByTestId('results').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-model-id') ?? ''));
        const ref = await nodeTextScores('index/colours', 'teal', 'first-moment');
        const expected = ranking(ref.ids, ref.scores).slice(0, shown.length);
        return shown.length && shown.join() === expected.join() ? handled(`searched under the header policy; ranking equals Node's (${shown.slice(0, 3).join(', ')}, …)`) : silentWrong(`ranking ${shown.join(',')} ≠ ${expected.join(',')}`);
      } finally {
        await context.close();
        await app.close();
      }
    },
  },
];

defineHostileCases(cases);
