/**
 * Runs tools/bench/browser/bench.html in headless Debian Chromium: a vite dev server started
 * programmatically (repo root as root, a free port, cross-origin isolated so performance.now()
 * has 5 µs resolution), Playwright opens the page, the page's Worker times the src/core kernels.
 */
import { createServer as createNetServer } from 'node:net';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BrowserRow } from './browser/bench.worker.ts';

export interface BrowserResult {
  results: BrowserRow[];
  userAgent: string;
  crossOriginIsolated: boolean;
}

/** Flags for headless Debian Chromium in the benches (no background traffic to skew timings or bytes). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A free local TCP port. */
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

/**
 * Opens `page` (default: the scoring bench; a path under root, with its query) and returns what it
 * leaves in window.__benchResult. `deps`: CommonJS packages the page's modules import, pre-bundled
 * by vite (ml-matrix for the low-rank records).
 */
export async function runBrowser<T = BrowserResult>(root: string, timeoutMs = 240_000, page = 'tools/bench/browser/bench.html', deps: string[] = []): Promise<T> {
  const port = await freePort();
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    // Only the bench's own modules are loaded: no dependency scan / pre-bundling of the app.
    optimizeDeps: { noDiscovery: true, include: deps, entries: [] },
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
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const tab = await browser.newPage();
    tab.on('console', (m) => {
      if (m.text().startsWith('[bench]')) process.stderr.write(`  [browser] ${m.text().slice(8)}\n`);
    });
    tab.on('pageerror', (e) => process.stderr.write(`  [browser] page error: ${e.message}\n`));
    await tab.goto(`http://127.0.0.1:${port}/${page}`);
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
