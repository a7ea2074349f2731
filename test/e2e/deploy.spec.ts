import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { afterSearch, expectMatchesReference, readResults, searchBox, waitReady, watchPageErrors } from '../support/page.ts';
import { startStaticServer } from '../../tools/lib/staticServer.ts';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const PUBLIC_INDEX = fileURLToPath(new URL('../../public/index/', import.meta.url));
/** Ports of the extra origins; the CSP's connect-src of the test build lists the index hosts. */
const SUBPATH_PORT = 4175;
const CORS_PORT = 4176;
const NO_CORS_PORT = 4177;

test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'deployment checks run in the wasm project'));

test('the built site works from a sub-path of a static host', async ({ page }) => {
  const errors = watchPageErrors(page);
  const server = await startStaticServer({ root: DIST, port: SUBPATH_PORT, prefix: '/search/' });
  try {
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${server.url}?q=${encodeURIComponent('red flowers')}`);
    await waitReady(page);
    const first = page.getByTestId('results').locator('li').first();
    await expect(first).toBeVisible();
    await expect(first.locator('img').first()).toHaveJSProperty('complete', true);
    expect(await first.locator('img').first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    const reference = await nodeTextScores('index/demo', 'red flowers', 'first-moment');
    expectMatchesReference(await readResults(page), reference.ids, reference.scores);
    // Every file came from under /search/.
    expect(server.requests.every((p) => p.startsWith('/search/'))).toBe(true);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await server.close();
  }
});

test('an index on another origin loads when CORS allows it and its checksums match, and fails clearly otherwise', async ({ page, browser }) => {
  const cors = { 'access-control-allow-origin': '*' };
  const allowed = await startStaticServer({ root: PUBLIC_INDEX, port: CORS_PORT, headers: cors });
  const closed = await startStaticServer({ root: PUBLIC_INDEX, port: NO_CORS_PORT });
  try {
    await page.goto(`./?index=${encodeURIComponent(`${allowed.url}colours/`)}`);
    await waitReady(page);
    await afterSearch(page, async () => {
      await searchBox(page).fill('teal');
      await searchBox(page).press('Enter');
    });
    const reference = await nodeTextScores('index/colours', 'teal', 'first-moment');
    expectMatchesReference(await readResults(page), reference.ids, reference.scores);
    expect(allowed.requests).toContain('/colours/index.bin');

    // Same files, but the host sends no CORS header: the browser refuses, the app says why.
    await page.goto(`./?index=${encodeURIComponent(`${closed.url}colours/`)}`);
    const banner = page.getByTestId('error-banner');
    await expect(banner).toContainText('manifest.json');
    await expect(banner).toContainText('cross-origin');
  } finally {
    await allowed.close();
    await closed.close();
  }

  // CORS allowed, but a byte of index.bin differs from the manifest's checksum.
  const tampered = await startStaticServer({
    root: PUBLIC_INDEX,
    port: CORS_PORT,
    headers: cors,
    transform: (path, body) => {
      if (path !== 'colours/index.bin') return body;
      const copy = Buffer.from(body);
      copy[300] ^= 0x01;
      return copy;
    },
  });
  // A fresh profile: the verified copy saved above would (rightly) be used instead of the download.
  const fresh = await browser.newContext();
  try {
    const other = await fresh.newPage();
    await other.goto(`http://127.0.0.1:4173/?index=${encodeURIComponent(`${tampered.url}colours/`)}`);
    await expect(other.getByTestId('error-banner')).toContainText('index.bin failed its checksum');
  } finally {
    await fresh.close();
    await tampered.close();
  }
});

test('the app runs under its strict Content-Security-Policy: no violations, and injected inline script is refused', async ({ page }) => {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  await page.goto('./?index=index/colours/');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toContain('unsafe-inline');
  await waitReady(page);
  await afterSearch(page, async () => {
    await searchBox(page).fill('teal');
    await searchBox(page).press('Enter');
  });
  await page.getByTestId('results').locator('li').first().getByRole('button', { name: /details/i }).click();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sketch' }).click();
  const box = (await page.getByTestId('sketch-canvas').boundingBox())!;
  await page.mouse.move(box.x + 40, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + 200, box.y + 160, { steps: 6 });
  await page.mouse.up();
  await afterSearch(page, () => page.getByRole('button', { name: 'Search with sketch' }).click());
  expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);

  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.inlineRan = true';
    document.head.append(s);
  });
  await expect.poll(() => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual(['script-src-elem inline']);
  expect(await page.evaluate(() => (window as unknown as { inlineRan?: boolean }).inlineRan)).toBeUndefined();
});

test('WASM runs single-threaded by default and uses threads when the host makes the page cross-origin isolated', async ({ page }) => {
  await page.goto('./?index=index/colours/&q=teal');
  await waitReady(page);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await expect(page.getByTestId('status')).toHaveAttribute('data-threads', '1');
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  const single = await readResults(page);

  const isolated = await startStaticServer({
    root: DIST,
    port: SUBPATH_PORT,
    headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
  });
  try {
    await page.goto(`${isolated.url}?index=index/colours/&q=teal`);
    await waitReady(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Math.min(4, cores);
    await expect(page.getByTestId('status')).toHaveAttribute('data-threads', String(threads));
    if (threads > 1) await expect(page.getByTestId('runtime')).toContainText(`${threads} threads`);
    await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
    // Same ranking either way.
    expect((await readResults(page)).map((r) => r.id)).toEqual(single.map((r) => r.id));
  } finally {
    await isolated.close();
  }
});
