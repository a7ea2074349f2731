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

export async function runBrowser(root: string, timeoutMs = 240_000): Promise<BrowserResult> {
  const port = await freePort();
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    // Only the bench's own modules are loaded: no dependency scan / pre-bundling of the app.
    optimizeDeps: { noDiscovery: true, include: [], entries: [] },
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
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[bench]')) process.stderr.write(`  [browser] ${m.text().slice(8)}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`  [browser] page error: ${e.message}\n`));
    await page.goto(`http://127.0.0.1:${port}/tools/bench/browser/bench.html`);
    await page.waitForFunction(() => (window as unknown as { __benchResult?: unknown }).__benchResult !== undefined, null, {
      timeout: timeoutMs,
      polling: 500,
    });
    const r = (await page.evaluate(() => (window as unknown as { __benchResult: unknown }).__benchResult)) as BrowserResult | { error: string };
    if ('error' in r) throw new Error(r.error);
    return r;
  } finally {
    await browser.close();
    await server.close();
  }
}
