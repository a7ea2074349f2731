/**
 * Runs tools/bench/browser/bench.html in headless Debian Chromium: a vite dev server started
 * programmatically (repo root as root, a free port, cross-origin isolated so performance.now()
 * has 5 µs resolution), Playwright opens the page, the page's Worker times the src/core kernels.
 */
import { createServer as createNetServer } from 'node:net';
import { chromium } from '@playwright/test';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import type { BrowserRow } from './browser/bench.worker.ts';

export interface BrowserResult {
  results: BrowserRow[];
  userAgent: string;
  crossOriginIsolated: boolean;
}

/** Flags for headless Debian Chromium in the benches (no background traffic to skew timings or bytes). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A free local TCP port. */
/**
 * Waits until `count` (say, files a server has sent, the service worker's precache included) has
 * not changed for `quietMs` while `busy` stayed false, or `maxMs` has passed.
 */
export async function settle(count: () => number, quietMs = 3000, busy: () => boolean = () => false, maxMs = 300_000): Promise<void> {
  const t0 = Date.now();
  let last = count();
  let since = Date.now();
  while (Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 200));
    const now = count();
    if (now !== last || busy()) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** What a benchmark page's dev server needs beyond the defaults. */
export interface BenchServerOptions {
  root: string;
  /** CommonJS packages the page's modules import, pre-bundled by vite (e.g. ml-matrix). */
  deps?: string[];
  /** Packages never pre-bundled (onnxruntime-web ships its own wasm loader). */
  exclude?: string[];
  plugins?: Plugin[];
  /** The workers' plugins (vite builds workers apart). */
  workerPlugins?: () => Plugin[];
}

/**
 * A vite dev server on a free port for a benchmark page: cross-origin isolated (COOP + COEP, so
 * SharedArrayBuffer and threaded WASM work), only the bench's own modules (no dependency scan of
 * the app), no HMR or file watching.
 */
export async function startBenchServer(o: BenchServerOptions): Promise<{ server: ViteDevServer; origin: string }> {
  const port = await freePort();
  const server = await createServer({
    root: o.root,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    plugins: o.plugins ?? [],
    ...(o.workerPlugins ? { worker: { format: 'es' as const, plugins: o.workerPlugins } } : {}),
    optimizeDeps: { noDiscovery: true, include: o.deps ?? [], exclude: o.exclude, entries: [] },
    server: {
      host: '127.0.0.1',
      port,
      strictPort: true,
      hmr: false,
      watch: null,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
  });
  await server.listen();
  return { server, origin: `http://127.0.0.1:${port}` };
}

/**
 * Opens `page` (default: the scoring bench; a path under root, with its query) and returns what it
 * leaves in window.__benchResult. `deps`: CommonJS packages the page's modules import, pre-bundled
 * by vite (ml-matrix for the low-rank records).
 */
export async function runBrowser<T = BrowserResult>(root: string, timeoutMs = 240_000, page = 'tools/bench/browser/bench.html', deps: string[] = []): Promise<T> {
  const { server, origin } = await startBenchServer({ root, deps });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const tab = await browser.newPage();
    tab.on('console', (m) => {
      if (m.text().startsWith('[bench]')) process.stderr.write(`  [browser] ${m.text().slice(8)}\n`);
    });
    tab.on('pageerror', (e) => process.stderr.write(`  [browser] page error: ${e.message}\n`));
    await tab.goto(`${origin}/${page}`);
    await tab.waitForFunction(() => (window as unknown as { __benchResult?: unknown }).__benchResult !== undefined, null, {
      timeout: timeoutMs,
      polling: 500,
    });
    const r = (await tab.evaluate(() => (window as unknown as { __benchResult: unknown }).__benchResult)) as T | { error: string };
    if (r && typeof r === 'object' && 'error' in r) throw new Error(r.error);
    return r as T;
  } finally {
    await browser.close();
    await server.close();
  }
}
