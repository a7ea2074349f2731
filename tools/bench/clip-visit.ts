/**
 * `npm run bench:clip-visit` — first and return visit of the built app with a CLIP-sized encoder
 * (issue 16, deliverable 3): the CLIP-shaped twin (`npm run clip-twin`, tools/clip-twin/) served by
 * a local stand-in for the hub (tools/clip-twin/hub.ts: Xenova/clip-vit-base-patch32's paths, the
 * quantized towers padded to the sizes CLIP_VIT_B32 pins), and the twin's 12-model index
 * (tools/clip-twin/index.ts) copied into the build under index/clip-twin/:
 *
 *   npm run bench:clip-visit [-- --no-build] [--mbit 100] [--reloads 3] [--query "red flowers"] [--quota-mb 50]
 *                              [--no-localhost] [--isolated] [--ref-runs 10] [--json tools/bench/results/clip-visit.json]
 *
 * The app is built into .cache/clip-visit/dist (not dist/, which the browser tests serve) with
 * MODEL_SEARCH_CONNECT_SRC naming the hub's port, because the worker fetches only from model hosts
 * the build admits; `--no-build` reuses that build and its port (.cache/clip-visit/build.json).
 * Two counting static servers (tools/lib/staticServer.ts) serve the app (no COOP/COEP, as a plain
 * static host: onnxruntime-web runs single-threaded; `--isolated` adds them) and the hub, whose
 * towers go out at `--mbit` Mbit/s (everything else at full speed). Headless Debian Chromium with
 * WebGPU off (the app loads onnxruntime-web's WASM-only bundle, as without WebGPU):
 *
 * 1. First visit (fresh on-disk profile) of `?index=index/clip-twin/&modelHost=<hub>&q=<query>`:
 *    bytes by kind; time to the first text result card; when each tower's request reached the hub,
 *    when its last byte left the hub and when the browser had it (Resource Timing's responseEnd);
 *    whether the first text result came before the browser had the vision tower (the target). Right
 *    after the first text result the search box is cleared and a held-out query image goes in
 *    through the app's own file input (#image-file): time to its results (they wait for the vision
 *    tower). Then until both towers are saved (the app's IndexedDB group record lists two files).
 * 2. Warm return visits (`--reloads` × a new tab in the same profile, the previous one closed; a new
 *    tab rather than a reload, because the image query stays in the tab's session storage and would
 *    come back): time to the first text result, the status line's stages, bytes per visit (the
 *    towers should come from IndexedDB: no hub request). A diagnostic then reads each saved file
 *    back from IndexedDB and hashes it (SHA-256), on a page of the app's origin, to show what those
 *    reads cost alone.
 * 3. The reference, in the same browser (new tabs of the same profile, the app's tabs closed): the
 *    text tower's own session creation + first run. tools/bench/encoder/app.worker.ts drives the
 *    search worker's EncoderRuntime and startOrtRuntime (as `npm run bench:encoder` does) on the
 *    same padded files, served from memory, at the thread count the app reported (status
 *    `data-threads`); its ortRuntime import goes through a small module here that times
 *    onnxruntime-web's InferenceSession.create and every run() (the first run is EncoderRuntime's
 *    warm-up, before anything else starts in that worker). Rounds before, among and after the return
 *    visits; medians. Target: warm return visit ≤ 2 × (create + first run).
 * 4. The same first visit without throttling (fresh profile; `--no-localhost` skips it).
 * 5. Quota short: a fresh off-the-record context (Chromium 156 does not enforce the override on an
 *    on-disk profile; see launchOffTheRecord) whose origin quota is lowered through CDP
 *    (Storage.overrideQuotaForOrigin, `--quota-mb`, below the text tower's 64.5 MB): the storage
 *    notices shown, the time to the first text result, and the bytes a reload downloads again.
 *
 * Times are ms from just before navigation (Node's Date.now()) to in-page stamps (a MutationObserver
 * on the status line and the results, converted with performance.timeOrigin), on the same clock as
 * the servers' stamps. Nothing here is a timed test: it prints the numbers and the targets met or
 * missed, writes `--json`, and exits 1 only when something fails to load.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page, type Request } from '@playwright/test';
import type { Plugin } from 'vite';
import { CLIP_VIT_B32 } from '../../src/core/encode/encoders.ts';
import { flag, integer, number, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { padOnnx } from '../lib/padOnnx.ts';
import { startStaticServer, type StaticServer } from '../lib/staticServer.ts';
import { HUB_PREFIX, modelHostOf, PINNED_TOWERS, startTwinHub, TWIN_DIR, twinBuilt } from '../clip-twin/hub.ts';
import { ensureTwinIndex } from '../clip-twin/index.ts';
import { CHROMIUM_ARGS, freePort, settle } from './browser.ts';
import { startEncoderPageServer } from './encoder/server.ts';
import { stats, type BrowserConfig, type PageResult } from './encoder/shared.ts';

const USAGE =
  'usage: npm run bench:clip-visit -- [--no-build] [--mbit 100] [--reloads 3] [--query <text>] [--quota-mb 50] [--no-localhost] [--isolated] [--ref-runs 10] [--json <file>]';
const OPTIONS = {
  'no-build': flag(),
  mbit: number({ min: 0.1, default: 100 }),
  reloads: integer({ min: 1, default: 3 }),
  query: text({ default: 'red flowers' }),
  'quota-mb': number({ min: 1, max: 64, default: 50 }),
  'no-localhost': flag(),
  isolated: flag(),
  'ref-runs': integer({ min: 3, default: 10 }),
  json: text(),
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_DIR = path.join(ROOT, '.cache/clip-visit/dist');
const BUILD_INFO = path.join(ROOT, '.cache/clip-visit/build.json');
const INDEX_PATH = 'index/clip-twin/';
const TEXT_FILE = 'onnx/text_model_quantized.onnx';
const VISION_FILE = 'onnx/vision_model_quantized.onnx';
/** Issue 16's target for the warm return visit. */
const MAX_RETURN_RATIO = 2;
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
/** The search worker's modules, by URL path (tools may not import worker code: tools/check-boundaries.ts). */
const APP_MODULES = { encoderRuntime: '/workers/encoderRuntime.ts', ortRuntime: '/@clip-visit/ortRuntime.js' };
const TWIN_BASE = '/twin/';
const LONG = 300_000;

// ---------------------------------------------------------------------------------------------
// In-page stamps

interface PageStamps {
  /** Status line changes: performance.now(), phase, searching, seq, text. */
  status: { t: number; phase: string; searching: string; seq: number; text: string }[];
  /** Each distinct storage notice line, when it first appeared. */
  notices: { t: number; text: string }[];
  /** When the first result card appeared. */
  firstCard: number | null;
}

/**
 * Installed before the app's scripts (context.addInitScript): records what the page shows, when.
 * A string, not a function: tsx's transform would add helper calls (`__name`) the page lacks.
 */
const STAMPS_SCRIPT = `(() => {
  const s = { status: [], notices: [], firstCard: null };
  window.__clipVisit = s;
  let last = '';
  const seen = new Set();
  const check = () => {
    const t = performance.now();
    const el = document.querySelector('[data-testid="status"]');
    if (el) {
      const row = { t, phase: el.getAttribute('data-phase') || '', searching: el.getAttribute('data-searching') || '', seq: Number(el.getAttribute('data-seq') || 0), text: (el.textContent || '').trim().replace(/\\s+/g, ' ') };
      const key = row.phase + '|' + row.searching + '|' + row.seq + '|' + row.text;
      if (key !== last) {
        last = key;
        s.status.push(row);
      }
    }
    const line = document.querySelector('[data-testid="storage-notice-line"]');
    const notice = line && line.textContent ? line.textContent.trim() : '';
    if (notice && !seen.has(notice)) {
      seen.add(notice);
      s.notices.push({ t, text: notice });
    }
    if (s.firstCard === null && document.querySelector('[data-testid="results"] li')) s.firstCard = t;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})();`;

/** The page's stamps, with times converted to Unix ms (the servers' clock). */
async function readStamps(page: Page): Promise<PageStamps> {
  return page.evaluate(() => {
    const s = (window as unknown as { __clipVisit: PageStamps }).__clipVisit;
    const o = performance.timeOrigin;
    return {
      status: s.status.map((r) => ({ ...r, t: r.t + o })),
      notices: s.notices.map((n) => ({ ...n, t: n.t + o })),
      firstCard: s.firstCard === null ? null : s.firstCard + o,
    };
  });
}

/** Waits for the first result card; an error banner ends the wait with its text. */
async function firstCard(page: Page): Promise<void> {
  const card = page.locator('[data-testid="results"] li').first();
  const banner = page.getByTestId('error-banner');
  await Promise.race([
    card.waitFor({ state: 'visible', timeout: LONG }),
    banner.waitFor({ state: 'visible', timeout: LONG }).then(async () => {
      throw new Error(`the app showed an error: ${(await banner.textContent())?.trim()}`);
    }),
  ]);
}

/** Waits until the status line's search counter passes `seq` with no search running; an error banner ends the wait. */
async function resultAfter(page: Page, seq: number): Promise<void> {
  const banner = page.getByTestId('error-banner');
  await Promise.race([
    page.waitForFunction(
      (n) => {
        const el = document.querySelector('[data-testid="status"]');
        return !!el && Number(el.getAttribute('data-seq')) > n && el.getAttribute('data-searching') === 'false' && !!document.querySelector('[data-testid="results"] li');
      },
      seq,
      { timeout: LONG, polling: 50 },
    ),
    banner.waitFor({ state: 'visible', timeout: LONG }).then(async () => {
      throw new Error(`the app showed an error: ${(await banner.textContent())?.trim()}`);
    }),
  ]);
}

const statusAttr = async (page: Page, name: string) => (await page.getByTestId('status').getAttribute(name)) ?? '';

/** The app's offline-storage record of the CLIP encoder group: how many tower files it lists. */
async function storedTowers(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('model-search-files');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    try {
      if (!db.objectStoreNames.contains('files')) return 0;
      const rec = await new Promise<unknown>((resolve) => {
        const get = db.transaction('files', 'readonly').objectStore('files').get('group:encoder:clip-vit-b32');
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => resolve(undefined);
      });
      return Array.isArray((rec as { files?: unknown } | undefined)?.files) ? (rec as { files: unknown[] }).files.length : 0;
    } finally {
      db.close();
    }
  });
}


// ---------------------------------------------------------------------------------------------
// Bytes

type Served = StaticServer['served'][number];

/** What kind of download a served path is; `hub`: served by the model host. */
function kind(p: string, hub: boolean): string {
  if (hub) return p.endsWith(TEXT_FILE) ? 'text tower' : p.endsWith(VISION_FILE) ? 'vision tower' : 'hub, other';
  if (p.endsWith('.wasm')) return 'runtime wasm';
  if (p.includes('/tokenizers/')) return 'tokenizer';
  if (p.includes('/thumbs/')) return 'index thumbnails';
  if (p.includes('/index/')) return 'index';
  return 'app';
}
const KINDS = ['app', 'runtime wasm', 'tokenizer', 'index', 'index thumbnails', 'text tower', 'vision tower', 'hub, other'];

/** Bytes and files by kind. */
function byKind(app: Served[], hub: Served[]): Record<string, { bytes: number; files: number }> {
  const out: Record<string, { bytes: number; files: number }> = {};
  for (const [list, isHub] of [
    [app, false],
    [hub, true],
  ] as const) {
    for (const s of list) {
      const k = kind(s.path, isHub);
      out[k] ??= { bytes: 0, files: 0 };
      out[k].bytes += s.bytes;
      out[k].files++;
    }
  }
  return out;
}
const total = (k: Record<string, { bytes: number }>) => Object.values(k).reduce((a, v) => a + v.bytes, 0);

// ---------------------------------------------------------------------------------------------
// The reference: the text tower's own session creation + one run (tools/bench/encoder's pieces)

/**
 * The reference's one addition to tools/bench/encoder's app.worker.ts: it loads the search worker's
 * ortRuntime through this module, which hands over the very onnxruntime-web that startOrtRuntime
 * started, with InferenceSession.create and each session's run() timed (onnxruntime-web alone: no
 * tokenizer, no read-back), reported as progress messages that encoder.html logs to the console.
 * Sessions are numbered in creation order: app.worker.ts makes the text tower's first, then the vision tower's.
 */
const TIMED_ORT_MODULE = '/@clip-visit/ortRuntime.js';
const TIMED_ORT_SOURCE = `import { startOrtRuntime as start, WASM_THREADS } from '/workers/ortRuntime.ts';
export { WASM_THREADS };
let patched = false;
let sessions = 0;
const say = (text) => self.postMessage({ type: 'progress', text: '[clip-visit] ' + text });
export async function startOrtRuntime(backend, storage, progress) {
  const ort = await start(backend, storage, progress);
  if (!patched) {
    patched = true;
    const IS = ort.InferenceSession;
    const create = IS.create.bind(IS);
    IS.create = async (...args) => {
      const t0 = performance.now();
      const session = await create(...args);
      const id = ++sessions;
      say('create ' + id + ' ' + (performance.now() - t0));
      const run = session.run.bind(session);
      session.run = async (...a) => {
        const t = performance.now();
        const out = await run(...a);
        say('run ' + id + ' ' + (performance.now() - t));
        return out;
      };
      return session;
    };
  }
  return ort;
}
`;

/** Serves the padded towers (the hub's bytes) from memory under TWIN_BASE, same-origin for the bench worker, and the timed ortRuntime. */
function referencePlugin(files: Record<string, Buffer>): Plugin {
  return {
    name: 'bench-clip-visit-reference',
    resolveId: (id) => (id === TIMED_ORT_MODULE ? id : undefined),
    load: (id) => (id === TIMED_ORT_MODULE ? TIMED_ORT_SOURCE : undefined),
    configureServer(server) {
      server.middlewares.use(TWIN_BASE.slice(0, -1), (req, res) => {
        const rel = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
        const body = files[rel];
        if (!body) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('Content-Length', body.length);
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        res.end(body);
      });
    },
  };
}


/** One tower in one reference round. */
interface ReferenceTower {
  /** onnxruntime-web alone: InferenceSession.create, then every run() in order (the first: EncoderRuntime's warm-up). */
  ort: { createMs: number; runsMs: number[] };
  /** app.worker.ts's own figures: create between EncoderRuntime's progress events, its warm-up + first encode, the timed encodes. */
  worker: { createMs: number; firstRunMs: number; timesMs: number[] };
}

interface ReferenceRound {
  round: number;
  threads: number;
  crossOriginIsolated: boolean;
  numThreads: number | string | undefined;
  runtimeStartMs?: number;
  text: ReferenceTower;
  vision: ReferenceTower;
  notes: string[];
  userAgent: string;
}

/** One reference round in a new tab of `context` (the app's browser), the app's tabs closed. */
async function referenceRound(context: BrowserContext, origin: string, config: BrowserConfig, round: number): Promise<ReferenceRound> {
  const page = await context.newPage();
  const ort = new Map<number, { createMs: number; runsMs: number[] }>();
  try {
    page.on('pageerror', (e) => process.stderr.write(`  [reference] page error: ${e.message}\n`));
    page.on('console', (m) => {
      const hit = /\[clip-visit\] (create|run) (\d+) ([\d.]+)/.exec(m.text());
      if (!hit) return;
      const id = Number(hit[2]);
      const entry = ort.get(id) ?? { createMs: NaN, runsMs: [] };
      if (hit[1] === 'create') entry.createMs = Number(hit[3]);
      else entry.runsMs.push(Number(hit[3]));
      ort.set(id, entry);
    });
    await page.goto(`${origin}/tools/bench/encoder/encoder.html`);
    await page.waitForFunction(() => (window as unknown as { __encoderReady?: boolean }).__encoderReady === true, null, { timeout: 120_000 });
    page.setDefaultTimeout(LONG);
    const r = (await page.evaluate((c) => (window as unknown as { __encoderRun: (c: unknown) => Promise<unknown> }).__encoderRun(c), config)) as PageResult & { error?: string };
    if (r.error) throw new Error(`reference: ${r.error}`);
    await new Promise((res) => setTimeout(res, 200)); // the last console messages
    const tower = (t: 'text' | 'vision', id: number): ReferenceTower => {
      const x = r.towers[t];
      const o = ort.get(id);
      if (!x || !o || !Number.isFinite(o.createMs) || o.runsMs.length === 0) throw new Error(`reference: no ${t} result or no onnxruntime-web timings (session ${id})`);
      return { ort: o, worker: { createMs: x.createMs, firstRunMs: x.firstRunMs, timesMs: x.timesMs } };
    };
    return { round, threads: config.threads, crossOriginIsolated: r.crossOriginIsolated, numThreads: r.ort.numThreads, runtimeStartMs: r.runtimeStartMs, text: tower('text', 1), vision: tower('vision', 2), notes: r.notes, userAgent: r.userAgent };
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Visits

interface Servers {
  app: StaticServer;
  hub: StaticServer;
  /** When each hub file's request reached the point of sending (Unix ms), in order. */
  hubStarts: { path: string; at: number }[];
  setRate(bytesPerSecond: number | undefined): void;
}

interface FirstVisit {
  label: string;
  mbit: number | null;
  backend: string;
  threads: number;
  crossOriginIsolated: boolean;
  bytes: Record<string, { bytes: number; files: number }>;
  totalBytes: number;
  bytesBeforeFirstText: number;
  firstTextMs: number;
  textTowerStartMs?: number;
  textTowerDoneMs?: number;
  visionTowerStartMs?: number;
  visionTowerDoneMs?: number;
  /**
   * When the browser had each tower's last byte (ms from navigation; Resource Timing's responseEnd).
   * Unthrottled, the hub's "done" is only when it handed the bytes to the socket, so the target
   * (text result before the vision tower finished downloading) is judged by these.
   */
  textTowerReceivedMs?: number;
  visionTowerReceivedMs?: number;
  textBeforeVision: boolean;
  /** App stages of the text tower on this visit (ms from navigation): session creation started, warm-up started, ready. */
  stages: Stages;
  /** The status line, as it changed (ms from navigation). */
  timeline: { ms: number; phase: string; text: string }[];
  /** The image query: issued and answered (ms from navigation), and its answer after the browser had the vision tower. */
  imageQuery?: { issuedMs: number; resultMs: number; afterIssueMs: number; afterVisionDoneMs?: number; file: string };
  visionSavedMs?: number;
  encodeNote?: string;
  notices: { ms: number; text: string }[];
}

interface Stages {
  sessionMs?: number;
  warmupMs?: number;
  readyMs?: number;
  firstCardMs?: number;
}

/** From the status stamps: when the text tower's session creation and warm-up started, and the app became ready. */
function stagesOf(s: PageStamps, t0: number): Stages {
  const at = (pred: (r: PageStamps['status'][number]) => boolean) => {
    const r = s.status.find(pred);
    return r ? r.t - t0 : undefined;
  };
  return {
    sessionMs: at((r) => r.text.includes('Starting the encoder')),
    warmupMs: at((r) => r.text.includes('Warming up')),
    readyMs: at((r) => r.phase !== 'loading' && r.phase !== ''),
    firstCardMs: s.firstCard === null ? undefined : s.firstCard - t0,
  };
}

/** Waits until neither server has sent or started anything for `ms` and no hub file is still on its way. */
function quiet(servers: Servers, ms: number): Promise<void> {
  return settle(
    () => servers.app.served.length + servers.app.requests.length + servers.hub.served.length + servers.hub.requests.length,
    ms,
    () => servers.hubStarts.length > servers.hub.served.length,
  );
}

function timelineOf(s: PageStamps, t0: number): { ms: number; phase: string; text: string }[] {
  return s.status.map((r) => ({ ms: Math.round(r.t - t0), phase: r.phase, text: r.text }));
}

function visitUrl(servers: Servers, query: string): string {
  return `${servers.app.url}?index=${encodeURIComponent(INDEX_PATH)}&modelHost=${encodeURIComponent(modelHostOf(servers.hub))}&q=${encodeURIComponent(query)}`;
}

function hubTimes(servers: Servers, from: { app: number; hub: number; starts: number }, t0: number) {
  const served = servers.hub.served.slice(from.hub);
  const starts = servers.hubStarts.slice(from.starts);
  const done = (f: string) => served.find((s) => s.path.endsWith(f))?.finishedAt;
  const start = (f: string) => starts.find((s) => s.path.endsWith(f))?.at;
  const rel = (x: number | undefined) => (x === undefined ? undefined : x - t0);
  return { textTowerStartMs: rel(start(TEXT_FILE)), textTowerDoneMs: rel(done(TEXT_FILE)), visionTowerStartMs: rel(start(VISION_FILE)), visionTowerDoneMs: rel(done(VISION_FILE)) };
}

/** A first visit in `page` (fresh profile): the text query from the URL, then an image query through the file input. */
async function firstVisit(page: Page, servers: Servers, label: string, mbit: number | null, query: string, queryImage: string): Promise<FirstVisit> {
  servers.setRate(mbit === null ? undefined : (mbit * 1e6) / 8);
  const from = { app: servers.app.served.length, hub: servers.hub.served.length, starts: servers.hubStarts.length };
  // When the browser had each tower's last byte (Playwright's network events, the worker's fetches included).
  const received: Record<string, number> = {};
  const onFinished = (r: Request) => {
    const p = new URL(r.url()).pathname;
    if (!p.endsWith(TEXT_FILE) && !p.endsWith(VISION_FILE)) return;
    // The browser's own clock for the last byte (Resource Timing's responseEnd), else the event's arrival.
    const t = r.timing();
    received[p.endsWith(TEXT_FILE) ? 'text' : 'vision'] ??= t.responseEnd >= 0 ? t.startTime + t.responseEnd : Date.now();
  };
  page.context().on('requestfinished', onFinished);
  const t0 = Date.now();
  await page.goto(visitUrl(servers, query));
  await firstCard(page);
  await resultAfter(page, 0);
  const seqText = Number(await statusAttr(page, 'data-seq'));
  const backend = await statusAttr(page, 'data-backend');
  const threads = Number(await statusAttr(page, 'data-threads'));
  const crossOriginIsolated = await page.evaluate(() => self.crossOriginIsolated);
  const encodeText = (await page.getByTestId('timings').textContent({ timeout: 1000 }).catch(() => null))?.trim().replace(/\s+/g, ' ');

  // The image query: the box cleared (so it is an image query alone), the file through #image-file.
  await page.locator('input[type="search"]').fill('');
  const issued = Date.now();
  await page.setInputFiles('#image-file', queryImage);
  await resultAfter(page, seqText);
  const stamps = await readStamps(page);
  const imageStamp = stamps.status.find((r) => r.seq > seqText && r.searching === 'false');
  const imageAt = imageStamp?.t ?? Date.now();

  // Everything the first visit downloads (the service worker's precache and the IndexedDB saves included).
  let visionSavedAt: number | undefined;
  for (const end = Date.now() + 120_000; Date.now() < end; ) {
    if ((await storedTowers(page)) >= 2) {
      visionSavedAt = Date.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await quiet(servers, 3000);
  page.context().off('requestfinished', onFinished);
  const app = servers.app.served.slice(from.app);
  const hub = servers.hub.served.slice(from.hub);
  const firstTextAt = stamps.firstCard ?? Date.now();
  const bytes = byKind(app, hub);
  const times = hubTimes(servers, from, t0);
  // A tower counts when the browser had it (unthrottled, the hub's finishedAt is when it handed the bytes to the socket).
  const arrived = (x: Served) => (x.path.endsWith(TEXT_FILE) ? (received.text ?? x.finishedAt) : x.path.endsWith(VISION_FILE) ? (received.vision ?? x.finishedAt) : x.finishedAt);
  const before = [...app, ...hub].filter((x) => arrived(x) <= firstTextAt).reduce((a, x) => a + x.bytes, 0);
  const visionDone = received.vision ?? (times.visionTowerDoneMs === undefined ? undefined : times.visionTowerDoneMs + t0);
  return {
    label,
    mbit,
    backend,
    threads,
    crossOriginIsolated,
    bytes,
    totalBytes: total(bytes),
    bytesBeforeFirstText: before,
    firstTextMs: firstTextAt - t0,
    ...times,
    textTowerReceivedMs: received.text === undefined ? undefined : received.text - t0,
    visionTowerReceivedMs: received.vision === undefined ? undefined : received.vision - t0,
    textBeforeVision: visionDone === undefined || firstTextAt < visionDone,
    stages: stagesOf(stamps, t0),
    timeline: timelineOf(stamps, t0),
    imageQuery: {
      issuedMs: issued - t0,
      resultMs: imageAt - t0,
      afterIssueMs: imageAt - issued,
      afterVisionDoneMs: visionDone === undefined ? undefined : imageAt - visionDone,
      file: path.relative(ROOT, queryImage),
    },
    visionSavedMs: visionSavedAt === undefined ? undefined : visionSavedAt - t0,
    encodeNote: encodeText ?? undefined,
    notices: stamps.notices.map((n) => ({ ms: n.t - t0, text: n.text })),
  };
}

interface ReturnVisit {
  firstTextMs: number;
  stages: Stages;
  /** The status line, as it changed (ms from navigation). */
  timeline: { ms: number; phase: string; text: string }[];
  bytes: Record<string, { bytes: number; files: number }>;
  totalBytes: number;
  hubRequests: number;
  encodeNote?: string;
}

/** A warm return visit: a new tab in the same profile (the previous tab closed), the same address. */
async function returnVisit(context: BrowserContext, servers: Servers, query: string): Promise<{ page: Page; visit: ReturnVisit }> {
  const page = await context.newPage();
  const from = { app: servers.app.served.length, hub: servers.hub.served.length, requests: servers.hub.requests.length };
  const t0 = Date.now();
  await page.goto(visitUrl(servers, query));
  await firstCard(page);
  await resultAfter(page, 0);
  const stamps = await readStamps(page);
  const encodeText = (await page.getByTestId('timings').textContent({ timeout: 1000 }).catch(() => null))?.trim().replace(/\s+/g, ' ');
  // The vision tower is read from IndexedDB in the background after the text tower: give it time to ask the hub, if it would.
  await new Promise((r) => setTimeout(r, 2000));
  await quiet(servers, 2000);
  const bytes = byKind(servers.app.served.slice(from.app), servers.hub.served.slice(from.hub));
  return {
    page,
    visit: {
      firstTextMs: (stamps.firstCard ?? Date.now()) - t0,
      stages: stagesOf(stamps, t0),
      timeline: timelineOf(stamps, t0),
      bytes,
      totalBytes: total(bytes),
      hubRequests: servers.hub.requests.length - from.requests,
      encodeNote: encodeText ?? undefined,
    },
  };
}

/** Reads of the app's saved files (over 1 MB) from IndexedDB and their SHA-256, as the worker does on every start. */
interface StorageRead {
  label: string;
  bytes: number;
  readMs: number[];
  hashMs: number[];
}

const STORAGE_READ_SCRIPT = `(async () => {
  const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const db = await new Promise((resolve, reject) => { const o = indexedDB.open('model-search-files'); o.onsuccess = () => resolve(o.result); o.onerror = () => reject(o.error); });
  const store = () => db.transaction('files', 'readonly').objectStore('files');
  const keys = (await req(store().getAllKeys())).map(String).filter((k) => k.startsWith('meta:'));
  const out = [];
  for (const k of keys) {
    const meta = await req(store().get(k));
    if (!meta || !(meta.bytes > 1e6)) continue;
    const row = { label: String(meta.label), bytes: meta.bytes, readMs: [], hashMs: [] };
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const entry = await req(store().get('file:' + k.slice(5)));
      const t1 = performance.now();
      await crypto.subtle.digest('SHA-256', entry.data);
      row.readMs.push(t1 - t0);
      row.hashMs.push(performance.now() - t1);
    }
    out.push(row);
  }
  db.close();
  return out;
})()`;

/**
 * A diagnostic of what limits the return visit: each saved file read back from IndexedDB and hashed
 * (3 times, on a page of the app's origin that does not start the app: one of its icons).
 */
async function storageReads(context: BrowserContext, servers: Servers): Promise<StorageRead[]> {
  const page = await context.newPage();
  try {
    await page.goto(`${servers.app.url}icons/icon-192.png`);
    return (await page.evaluate(STORAGE_READ_SCRIPT)) as StorageRead[];
  } finally {
    await page.close();
  }
}

interface QuotaVisit {
  firstTextMs: number;
  notices: { ms: number; text: string }[];
  bytes: Record<string, { bytes: number; files: number }>;
  totalBytes: number;
  stages: Stages;
  /** Paths the hub was asked for during the visit. */
  hubRequests: string[];
  timeline: { ms: number; phase: string; text: string }[];
}

interface QuotaRun {
  quotaBytes: number;
  overrideOk: boolean;
  overrideError?: string;
  estimate?: { usage?: number; quota?: number };
  first: QuotaVisit;
  reload: QuotaVisit;
  storedTowers: number;
}

async function quotaRun(context: BrowserContext, servers: Servers, mbit: number, quotaBytes: number, query: string): Promise<QuotaRun> {
  servers.setRate((mbit * 1e6) / 8);
  const page = context.pages()[0] ?? (await context.newPage());
  // The override lasts as long as the DevTools session that set it: kept open through the reload.
  const cdp = await context.newCDPSession(page);
  const origin = new URL(servers.app.url).origin;
  let overrideOk = true;
  let overrideError: string | undefined;
  try {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: quotaBytes });
  } catch (err) {
    overrideOk = false;
    overrideError = err instanceof Error ? err.message : String(err);
  }
  const visit = async (reload: boolean) => {
    const from = { app: servers.app.served.length, hub: servers.hub.served.length, requests: servers.hub.requests.length };
    const t0 = Date.now();
    if (reload) await page.reload();
    else await page.goto(visitUrl(servers, query));
    await firstCard(page);
    await resultAfter(page, 0);
    // The vision tower follows in the background (and fails to be saved too): wait for it.
    await new Promise((r) => setTimeout(r, 1000));
    await quiet(servers, 3000);
    const stamps = await readStamps(page);
    const bytes = byKind(servers.app.served.slice(from.app), servers.hub.served.slice(from.hub));
    return {
      firstTextMs: (stamps.firstCard ?? Date.now()) - t0,
      notices: stamps.notices.map((n) => ({ ms: n.t - t0, text: n.text })),
      bytes,
      totalBytes: total(bytes),
      stages: stagesOf(stamps, t0),
      hubRequests: servers.hub.requests.slice(from.requests),
      timeline: timelineOf(stamps, t0),
    };
  };
  try {
    const first = await visit(false);
    const estimate = await page.evaluate(async () => {
      const e = await navigator.storage.estimate();
      return { usage: e.usage, quota: e.quota };
    });
    const stored = await storedTowers(page);
    const reload = await visit(true);
    return { quotaBytes, overrideOk, overrideError, estimate, first, reload, storedTowers: stored };
  } finally {
    await cdp.detach().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------

const s1 = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? '—' : (ms / 1000).toFixed(2));
const mb = (b: number | undefined) => (b === undefined ? '—' : (b / 1e6).toFixed(2));
const fmtMs = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  // No GPU here: WebGPU off, so the app picks onnxruntime-web's WASM-only bundle, as a browser without WebGPU does.
  args: [...CHROMIUM_ARGS, '--disable-webgpu'],
};

async function prepare(context: BrowserContext): Promise<BrowserContext> {
  await context.addInitScript({ content: STAMPS_SCRIPT });
  context.on('weberror', (e) => process.stderr.write(`  [browser] page error: ${e.error().message}\n`));
  return context;
}

/** A fresh on-disk profile (IndexedDB and the service worker's caches survive between tabs, as for a person). */
async function launch(profile: string): Promise<BrowserContext> {
  return prepare(await chromium.launchPersistentContext(profile, { ...LAUNCH, viewport: { width: 1280, height: 800 } }));
}

/**
 * A fresh off-the-record context (storage in memory), for the quota part: Chromium 156 enforces
 * Storage.overrideQuotaForOrigin there, but not in a persistent profile (checked: a 65 MB IndexedDB
 * write succeeded under a 50 MB override on disk, and was refused with QuotaExceededError off the record).
 */
async function launchOffTheRecord(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const browser = await chromium.launch(LAUNCH);
  const context = await prepare(await browser.newContext({ viewport: { width: 1280, height: 800 } }));
  return { context, close: () => browser.close() };
}

process.exitCode = await runCommand(USAGE, async () => {
  const { values: o } = parseCommandLine(process.argv.slice(2), OPTIONS);
  if (!twinBuilt()) throw new Error('the CLIP twin is not built: run `npm run clip-twin` first (needs Debian python3-torch and python3-onnx)');
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memoryGB: +(os.totalmem() / 1e9).toFixed(1), loadavgStart: os.loadavg(), loadavgEnd: [] as number[] };
  const started = Date.now();
  // What is built: the commit and the files that differ from it (the bench builds the working tree).
  const git = {
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    changed: spawnSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter(Boolean),
    build: o['no-build'] ? 'an earlier build (--no-build)' : 'this run',
  };

  // The build, admitting the hub's port.
  let hubPort: number;
  if (o['no-build']) {
    if (!existsSync(BUILD_INFO) || !existsSync(path.join(BUILD_DIR, 'index.html'))) throw new Error('no earlier build in .cache/clip-visit: run without --no-build');
    hubPort = (JSON.parse(readFileSync(BUILD_INFO, 'utf8')) as { hubPort: number }).hubPort;
  } else {
    hubPort = await freePort();
    process.stderr.write(`  building the app into ${path.relative(ROOT, BUILD_DIR)} (MODEL_SEARCH_CONNECT_SRC=http://127.0.0.1:${hubPort})\n`);
    const r = spawnSync('npx', ['vite', 'build', '--outDir', BUILD_DIR, '--emptyOutDir'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, MODEL_SEARCH_CONNECT_SRC: `http://127.0.0.1:${hubPort}` },
    });
    if (r.status !== 0) throw new Error('vite build failed');
    await writeFile(BUILD_INFO, JSON.stringify({ hubPort, builtAt: new Date().toISOString() }) + '\n');
  }
  const twinIndex = await ensureTwinIndex({ log: (l) => process.stderr.write(`  [twin index] ${l}\n`) });
  await rm(path.join(BUILD_DIR, INDEX_PATH), { recursive: true, force: true });
  await cp(twinIndex.dir, path.join(BUILD_DIR, INDEX_PATH), { recursive: true });
  const queryImage = path.join(twinIndex.queries, 'image', `${twinIndex.modelIds[0]}.png`);
  if (!existsSync(queryImage)) throw new Error(`no held-out query image at ${queryImage}`);

  // The padded towers, as the hub serves them, for the reference.
  const padded: Record<string, Buffer> = {};
  for (const [rel, size] of Object.entries(PINNED_TOWERS)) padded[rel] = padOnnx(await readFile(path.join(TWIN_DIR, rel)), size);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  let rate: number | undefined;
  const hubStarts: Servers['hubStarts'] = [];
  const hub = await startTwinHub({
    port: hubPort,
    towerBytesPerSecond: () => rate,
    gate: (p) => {
      hubStarts.push({ path: HUB_PREFIX + p, at: Date.now() });
      return undefined;
    },
  });
  const app = await startStaticServer({ root: BUILD_DIR, port: await freePort(), headers: o.isolated ? ISOLATION_HEADERS : undefined });
  const servers: Servers = { app, hub, hubStarts, setRate: (r) => (rate = r) };
  const ref = await startEncoderPageServer(referencePlugin(padded), { inWorker: true });
  const profiles: string[] = [];
  const newProfile = async () => {
    const p = await mkdtemp(path.join(tmpdir(), 'clip-visit-'));
    profiles.push(p);
    return p;
  };
  const contexts: BrowserContext[] = [];
  try {
    console.log(`CLIP-sized first and return visit: twin hub at ${modelHostOf(hub)} (towers ${o.mbit} Mbit/s), app at ${app.url}${o.isolated ? ' (COOP+COEP)' : ''}, query “${o.query}”`);
    console.log(`  machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGB} GB; load average ${machine.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);

    // 1. First visit, throttled.
    process.stderr.write(`  [1] first visit, ${o.mbit} Mbit/s\n`);
    const main = await launch(await newProfile());
    contexts.push(main);
    const firstPage = main.pages()[0] ?? (await main.newPage());
    const first = await firstVisit(firstPage, servers, `${o.mbit} Mbit/s`, o.mbit, o.query, queryImage);
    await firstPage.close();

    // 3a. The reference, first round (same browser, the app's tab closed).
    const refConfig: BrowserConfig = {
      runner: 'app',
      backend: 'wasm',
      threads: Math.max(1, first.threads),
      models: 'quantized',
      files: {
        text: { url: TWIN_BASE + TEXT_FILE, bytes: padded[TEXT_FILE].length, sha256: sha(padded[TEXT_FILE]) },
        vision: { url: TWIN_BASE + VISION_FILE, bytes: padded[VISION_FILE].length, sha256: sha(padded[VISION_FILE]) },
      },
      twinBase: TWIN_BASE,
      warmup: 3,
      runs: o['ref-runs'],
      sentence: o.query,
      imageSize: CLIP_VIT_B32.image.size,
      uaMemory: false,
      appModules: APP_MODULES,
    };
    process.stderr.write(`  [3] reference round 1 (${refConfig.threads} thread(s))\n`);
    const refRounds: ReferenceRound[] = [await referenceRound(main, ref.origin, refConfig, 1)];

    // 2. Warm return visits.
    const returns: ReturnVisit[] = [];
    let last: Page | undefined;
    for (let i = 0; i < o.reloads; i++) {
      process.stderr.write(`  [2] return visit ${i + 1}/${o.reloads}\n`);
      await last?.close();
      await new Promise((r) => setTimeout(r, 1000));
      const r = await returnVisit(main, servers, o.query);
      last = r.page;
      returns.push(r.visit);
      // 3b. A reference round among the return visits (this VM drifts between slower and faster spells).
      if (o.reloads > 1 && i === Math.floor((o.reloads - 1) / 2)) {
        await last.close();
        last = undefined;
        process.stderr.write('  [3] reference round 2\n');
        refRounds.push(await referenceRound(main, ref.origin, refConfig, refRounds.length + 1));
      }
    }
    await last?.close();
    process.stderr.write('  [2] IndexedDB read + SHA-256 of the saved files (diagnostic)\n');
    const reads = await storageReads(main, servers);

    // 3c. The reference, last round.
    process.stderr.write(`  [3] reference round ${refRounds.length + 1}\n`);
    refRounds.push(await referenceRound(main, ref.origin, refConfig, refRounds.length + 1));
    await main.close();

    // 4. First visit without throttling.
    let localhost: FirstVisit | undefined;
    if (!o['no-localhost']) {
      process.stderr.write('  [4] first visit, unthrottled\n');
      const ctx = await launch(await newProfile());
      contexts.push(ctx);
      const page = ctx.pages()[0] ?? (await ctx.newPage());
      localhost = await firstVisit(page, servers, 'localhost, unthrottled', null, o.query, queryImage);
      await ctx.close();
    }

    // 5. Quota short.
    process.stderr.write(`  [5] quota ${o['quota-mb']} MB, ${o.mbit} Mbit/s\n`);
    const q = await launchOffTheRecord();
    contexts.push(q.context);
    const quota = await quotaRun(q.context, servers, o.mbit, Math.round(o['quota-mb'] * 1e6), o.query);
    await q.close();
    machine.loadavgEnd = os.loadavg();

    // The numbers.
    // The reference: onnxruntime-web's own InferenceSession.create and first run() of the text tower
    // (that first run is EncoderRuntime's warm-up, on the same [1, 77] input shape as a query).
    const towerRef = (t: 'text' | 'vision') => ({
      createMs: stats(refRounds.map((r) => r[t].ort.createMs)).medianMs,
      firstRunMs: stats(refRounds.map((r) => r[t].ort.runsMs[0])).medianMs,
      warmRunMs: stats(refRounds.flatMap((r) => r[t].ort.runsMs.slice(1))).medianMs,
      warmRuns: refRounds.reduce((a, r) => a + r[t].ort.runsMs.length - 1, 0),
      workerCreateMs: stats(refRounds.map((r) => r[t].worker.createMs)).medianMs,
      workerEncodeMs: stats(refRounds.flatMap((r) => r[t].worker.timesMs)).medianMs,
    });
    const refText = towerRef('text');
    const refVision = towerRef('vision');
    const reference = refText.createMs + refText.firstRunMs;
    const referenceWarm = refText.createMs + refText.warmRunMs;
    const warm = returns.map((r) => r.firstTextMs);
    const warmMedian = stats(warm).medianMs;
    const ratio = warmMedian / reference;
    const inAppCreate = stats(returns.flatMap((r) => (r.stages.sessionMs !== undefined && r.stages.warmupMs !== undefined ? [r.stages.warmupMs - r.stages.sessionMs] : []))).medianMs;

    const visits = [first, ...(localhost ? [localhost] : [])];
    console.log('');
    console.log(`First visit (fresh profile; backend ${first.backend}, ${first.threads} thread(s), crossOriginIsolated ${first.crossOriginIsolated}):`);
    console.log(`| | ${visits.map((v) => v.label).join(' | ')} |`);
    console.log(`|---|${visits.map(() => '---:').join('|')}|`);
    const row = (name: string, f: (v: FirstVisit) => string) => console.log(`| ${name} | ${visits.map(f).join(' | ')} |`);
    for (const k of KINDS) if (visits.some((v) => v.bytes[k])) row(`${k}, MB`, (v) => (v.bytes[k] ? `${mb(v.bytes[k].bytes)} (${v.bytes[k].files})` : '0'));
    row('total, MB', (v) => mb(v.totalBytes));
    row('downloaded before the first text result, MB', (v) => mb(v.bytesBeforeFirstText));
    row('text tower: last byte left the hub, s', (v) => s1(v.textTowerDoneMs));
    row('text tower: browser had the last byte, s', (v) => s1(v.textTowerReceivedMs));
    row('text session creation started (app), s', (v) => s1(v.stages.sessionMs));
    row('text warm-up started (app), s', (v) => s1(v.stages.warmupMs));
    row('app ready, s', (v) => s1(v.stages.readyMs));
    row('**first text result**, s', (v) => `**${s1(v.firstTextMs)}**`);
    row('vision tower: request reached the hub, s', (v) => s1(v.visionTowerStartMs));
    row('vision tower: last byte left the hub, s', (v) => s1(v.visionTowerDoneMs));
    row('vision tower: browser had the last byte, s', (v) => s1(v.visionTowerReceivedMs));
    row('text result before the browser had the vision tower (target)', (v) => (v.textBeforeVision ? 'met' : 'MISSED'));
    row('image query issued, s', (v) => s1(v.imageQuery?.issuedMs));
    row('**first image result**, s', (v) => `**${s1(v.imageQuery?.resultMs)}**`);
    row('  image result after the browser had the vision tower, s', (v) => s1(v.imageQuery?.afterVisionDoneMs));
    row('both towers saved in IndexedDB, s', (v) => s1(v.visionSavedMs));
    console.log('');
    console.log(`Warm return visits (${o.reloads} × a new tab, same profile):`);
    console.log('| visit | first text result, s | session started, s | warm-up started, s | ready, s | bytes from the app, MB | bytes from the hub, MB | hub requests |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    returns.forEach((r, i) => {
      const hubBytes = (r.bytes['text tower']?.bytes ?? 0) + (r.bytes['vision tower']?.bytes ?? 0) + (r.bytes['hub, other']?.bytes ?? 0);
      console.log(`| ${i + 1} | ${s1(r.firstTextMs)} | ${s1(r.stages.sessionMs)} | ${s1(r.stages.warmupMs)} | ${s1(r.stages.readyMs)} | ${mb(r.totalBytes - hubBytes)} | ${mb(hubBytes)} | ${r.hubRequests} |`);
    });
    const medianVisit = [...returns].sort((a, b) => a.firstTextMs - b.firstTextMs)[Math.floor(returns.length / 2)];
    console.log(`  the median visit's status line, s: ${medianVisit.timeline.map((r) => `${s1(r.ms)} ${r.text || `(${r.phase})`}`).join(' → ')} → ${s1(medianVisit.firstTextMs)} first card`);
    console.log('  saved files read back from IndexedDB + SHA-256 (diagnostic, page thread, median of 3):');
    for (const r of reads) console.log(`    ${r.label} (${mb(r.bytes)} MB): read ${fmtMs(stats(r.readMs).medianMs)} ms, SHA-256 ${fmtMs(stats(r.hashMs).medianMs)} ms`);
    console.log('');
    console.log(`Reference (same browser, the search worker's EncoderRuntime + startOrtRuntime via tools/bench/encoder/app.worker.ts, the padded towers in memory, ${refConfig.threads} thread(s), page cross-origin isolated ${refRounds.every((r) => r.crossOriginIsolated)}; ${refRounds.length} rounds, medians):`);
    console.log(`  text: InferenceSession.create ${fmtMs(refText.createMs)} ms (rounds ${refRounds.map((r) => fmtMs(r.text.ort.createMs)).join(', ')}); first run ${fmtMs(refText.firstRunMs)} ms (rounds ${refRounds.map((r) => fmtMs(r.text.ort.runsMs[0])).join(', ')}); later runs ${fmtMs(refText.warmRunMs)} ms (median of ${refText.warmRuns})`);
    console.log(`  vision: InferenceSession.create ${fmtMs(refVision.createMs)} ms; first run ${fmtMs(refVision.firstRunMs)} ms; later runs ${fmtMs(refVision.warmRunMs)} ms`);
    console.log(`  the app's own text session creation on the return visits (status “Starting the encoder” → “Warming up”): median ${fmtMs(inAppCreate)} ms`);
    console.log(`  reference = text session creation + its first run = ${fmtMs(reference)} ms (with a later, warm run instead: ${fmtMs(referenceWarm)} ms)`);
    console.log(`  warm return visit to the first text result: median ${s1(warmMedian)} s (all ${warm.map(s1).join(', ')} s) = ${ratio.toFixed(2)} × the reference (${(warmMedian / referenceWarm).toFixed(2)} × the warm-run one): target ≤ ${MAX_RETURN_RATIO}× ${ratio <= MAX_RETURN_RATIO ? 'met' : 'MISSED'}`);
    console.log('');
    console.log(`Quota short (fresh off-the-record context, Storage.overrideQuotaForOrigin ${mb(quota.quotaBytes)} MB: ${quota.overrideOk ? 'accepted' : `FAILED: ${quota.overrideError}`}; navigator.storage.estimate() said quota ${mb(quota.estimate?.quota)} MB, usage ${mb(quota.estimate?.usage)} MB; tower files in the app's storage record: ${quota.storedTowers}):`);
    for (const [name, v] of [
      ['first visit', quota.first],
      ['reload', quota.reload],
    ] as const) {
      const hubBytes = (v.bytes['text tower']?.bytes ?? 0) + (v.bytes['vision tower']?.bytes ?? 0);
      console.log(`  ${name}: first text result ${s1(v.firstTextMs)} s; ${mb(v.totalBytes)} MB downloaded, text tower ${mb(v.bytes['text tower']?.bytes ?? 0)} MB, vision tower ${mb(v.bytes['vision tower']?.bytes ?? 0)} MB (hub ${mb(hubBytes)} MB), runtime wasm ${mb(v.bytes['runtime wasm']?.bytes ?? 0)} MB`);
      console.log(`    the hub was asked for: ${v.hubRequests.map((r) => r.split('/').pop()).join(', ') || 'nothing'}`);
      for (const n of v.notices) console.log(`    notice at ${s1(n.ms)} s: “${n.text}”`);
      if (!v.notices.length) console.log('    no storage notice shown');
    }
    console.log('');
    console.log(`load average at the end ${machine.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);

    if (o.json) {
      const file = path.resolve(o.json);
      await mkdir(path.dirname(file), { recursive: true });
      const report = {
        date: new Date().toISOString(),
        machine,
        git,
        options: { mbit: o.mbit, reloads: o.reloads, query: o.query, quotaMb: o['quota-mb'], localhost: !o['no-localhost'], isolated: o.isolated, refRuns: o['ref-runs'] },
        browser: { userAgent: refRounds[0].userAgent, executable: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
        towers: { textBytes: padded[TEXT_FILE].length, visionBytes: padded[VISION_FILE].length },
        firstVisit: first,
        localhostFirstVisit: localhost,
        returnVisits: returns,
        storageReads: reads,
        warm: { medianMs: warmMedian, allMs: warm },
        reference: { rounds: refRounds, text: refText, vision: refVision, totalMs: reference, warmTotalMs: referenceWarm, inAppCreateMs: inAppCreate, definition: "onnxruntime-web's InferenceSession.create of the text tower (bytes in memory) + that session's first run(), medians over the rounds" },
        targets: {
          textBeforeVision: { met: first.textBeforeVision, firstTextMs: first.firstTextMs, visionTowerDoneMs: first.visionTowerDoneMs },
          textBeforeVisionLocalhost: localhost && { met: localhost.textBeforeVision, firstTextMs: localhost.firstTextMs, visionTowerDoneMs: localhost.visionTowerDoneMs },
          warmReturn: { met: ratio <= MAX_RETURN_RATIO, ratio, ratioToWarmRunReference: warmMedian / referenceWarm, warmMedianMs: warmMedian, referenceMs: reference, max: MAX_RETURN_RATIO },
        },
        quota,
      };
      await writeFile(file, JSON.stringify(report, null, 1) + '\n');
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    for (const c of contexts) await (c.browser() ?? c).close().catch(() => {});
    await ref.server.close();
    await app.close();
    await hub.close();
    for (const p of profiles) await rm(p, { recursive: true, force: true });
  }
});
