/**
 * Runs tools/bench/scale-browser/scale.html in headless Debian Chromium for `npm run bench:scale`:
 * a vite dev server on a free port (repo root, cross-origin isolated like tools/bench/browser.ts),
 * Playwright opens the page, the page's Worker runs the two-stage queries against the Range server
 * (another origin: tools/lib/rangeServer.ts with `cors`).
 */
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, startBenchServer } from '../browser.ts';
import type { ScaleBrowserConfig, ScaleBrowserResult } from './scale.worker.ts';

export async function runScaleBrowser(config: ScaleBrowserConfig, timeoutMs = 1_200_000): Promise<ScaleBrowserResult & { userAgent: string; crossOriginIsolated: boolean; hardwareConcurrency: number }> {
  // ml-matrix (lowRankGaussian.ts) ships CommonJS and must be pre-bundled.
  const { server, origin } = await startBenchServer({ root: process.cwd(), deps: ['ml-matrix'] });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[scale]')) process.stderr.write(`  [browser] ${m.text().slice(8)}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`  [browser] page error: ${e.message}\n`));
    await page.goto(`${origin}/tools/bench/scale-browser/scale.html`);
    await page.waitForFunction(() => (window as unknown as { __scaleReady?: boolean }).__scaleReady === true, null, { timeout: 60_000 });
    page.setDefaultTimeout(timeoutMs);
    const r = (await page.evaluate((c) => (window as unknown as { __scaleRun: (c: unknown) => Promise<unknown> }).__scaleRun(c), config)) as ScaleBrowserResult & {
      userAgent: string;
      crossOriginIsolated: boolean;
      hardwareConcurrency: number;
    } & { error?: string };
    if (r.error) throw new Error(r.error);
    return r;
  } finally {
    await browser.close();
    await server.close();
  }
}
