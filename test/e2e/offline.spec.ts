import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { COLOURS, afterSearch, readResults, savedGroups, typeQuery, waitReady, watchPageErrors } from '../support/page.ts';
import { startStaticServer, type StaticServer } from '../../tools/lib/staticServer.ts';

// The service worker is what these tests are about (other specs block it).
test.use({ serviceWorkers: 'allow' });
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'offline checks run in the wasm project'));

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
/** The app served by a server the test owns: "offline" = that server is gone and the browser is offline. */
const OWN_PORT = 4178;

const manifest = async () => JSON.parse(await readFile(join(PUBLIC_DIR, 'index/colours/manifest.json'), 'utf8'));


/**
 * One online visit: the app shell is precached; the index, onnxruntime-web's binary, the tokenizer
 * and both encoder towers are saved (by the search worker, which downloaded them).
 */
async function visitOnline(page: Page, appUrl: string) {
  await page.goto(`${appUrl}?${COLOURS}`);
  await waitReady(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect
    .poll(async () => {
      const groups = await savedGroups(page);
      return Object.entries(groups)
        .map(([k, n]) => `${k.replace(/index:.*/, 'index')}=${n}`)
        .sort();
    })
    .toEqual(['encoder:test-encoder=2', 'index=2', 'runtime:onnxruntime-web-wasm=1', 'tokenizer:tokenizers/clip-vit-b32/tokenizer.json=2']);
}

/** How often the server sent each large file (the precache and the search worker both count). */
function largeDownloads(server: StaticServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { path } of server.served) if (/\.(wasm|onnx|bin)$|\/tokenizers\/|models\.json$/.test(path)) counts[path] = (counts[path] ?? 0) + 1;
  return counts;
}

async function thumbPng(model: string) {
  return sharp(await readFile(join(PUBLIC_DIR, 'index/colours/thumbs', model, '0.webp'))).png().toBuffer();
}

test('after one online visit the app reloads and answers text, image and sketch queries offline', async ({ page, context }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const server = await startStaticServer({ root: DIST, port: OWN_PORT });
  await visitOnline(page, server.url);
  // Nothing large was downloaded twice: the service worker precaches none of it.
  const large = largeDownloads(server);
  expect(Object.keys(large).some((p) => p.endsWith('.wasm'))).toBe(true);
  expect(Object.keys(large).some((p) => p.endsWith('/tokenizer.json'))).toBe(true);
  expect(Object.entries(large).filter(([, n]) => n !== 1)).toEqual([]);

  await server.close();
  await context.setOffline(true);
  await page.reload();
  await waitReady(page);
  await expect(page.getByTestId('storage-notice-line')).toContainText('Offline');
  await typeQuery(page, 'teal');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');

  const png = await thumbPng('deep-sea');
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'deep.png', mimeType: 'image/png', buffer: png }));
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'deep-sea');

  await page.getByRole('button', { name: 'Sketch' }).click();
  const canvas = page.getByTestId('sketch-canvas');
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.7, { steps: 8 });
  await page.mouse.up();
  await afterSearch(page, () => page.getByRole('button', { name: 'Search with sketch' }).click());
  await expect(page.getByTestId('image-query')).toHaveAttribute('data-source', 'sketch');
  expect((await readResults(page)).length).toBe(12);
  await page.screenshot({ path: `test-results/screenshots/${info.project.name}-offline.png`, fullPage: true });
  expect(errors).toEqual([]);
});

test('offline right after the first search: the reload answers from what that search loaded', async ({ page, context }) => {
  const errors = watchPageErrors(page);
  const server = await startStaticServer({ root: DIST, port: OWN_PORT });
  await page.goto(`${server.url}?${COLOURS}&q=teal`);
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
  // The app shell (not the large files) comes from the service worker's precache.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });

  await server.close();
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
  await typeQuery(page, 'green forest');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'forest-canopy');
  expect(errors).toEqual([]);
});

test('a damaged saved file is detected: a clear error offline, downloaded again online', async ({ page, context }) => {
  let server = await startStaticServer({ root: DIST, port: OWN_PORT });
  await visitOnline(page, server.url);
  const sha = (await manifest()).files['index.bin'].sha256 as string;
  await page.evaluate(
    (key) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('model-search-files');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const store = db.transaction('files', 'readwrite').objectStore('files');
          const get = store.get(key);
          get.onsuccess = () => {
            const value = get.result as { data: ArrayBuffer };
            const bytes = new Uint8Array(value.data.slice(0));
            bytes[100] ^= 0xff;
            store.put({ ...value, data: bytes.buffer }, key);
          };
          store.transaction.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      }),
    `file:${sha}`,
  );

  await server.close();
  await context.setOffline(true);
  await page.reload();
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('saved copy of index.bin was damaged');
  await expect(banner).toContainText('reconnect');

  server = await startStaticServer({ root: DIST, port: OWN_PORT });
  await context.setOffline(false);
  await banner.getByRole('button', { name: 'Retry' }).click();
  await waitReady(page);
  await typeQuery(page, 'teal');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
  // The fresh copy was saved and verifies.
  const stored = await page.evaluate(
    (key) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('model-search-files');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('files').objectStore('files').get(key);
          get.onsuccess = async () => {
            const digest = await crypto.subtle.digest('SHA-256', (get.result as { data: ArrayBuffer }).data);
            resolve([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''));
          };
        };
      }),
    `file:${sha}`,
  );
  expect(stored).toBe(sha);
  await server.close();
});

test('the storage panel lists what is saved, with sizes, and clears it', async ({ page }, info) => {
  await visitOnline(page, './');
  const panel = page.getByTestId('storage-panel');
  await panel.locator('summary').click();
  const files = panel.getByTestId('storage-files').locator('li');
  await expect(files).toHaveCount(7);
  await expect(panel).toContainText('index.bin');
  await expect(panel).toContainText('models.json');
  await expect(panel).toContainText('Runtime (onnxruntime-web, WASM)');
  await expect(panel).toContainText('Tokenizer tokenizer.json');
  await expect(panel.getByTestId('storage-total')).toContainText(/\d/);
  await page.screenshot({ path: `test-results/screenshots/${info.project.name}-storage.png`, fullPage: true });
  await panel.getByRole('button', { name: 'Clear saved files' }).click();
  await expect(panel.getByTestId('storage-status')).toContainText('Cleared');
  await expect(panel.getByTestId('storage-empty')).toBeVisible();
  expect(await savedGroups(page)).toEqual({});
});

test('storage that cannot be opened (private mode) leaves the app working from the network, with a notice', async ({ page }) => {
  // A version-1 database without the object store: the worker's store cannot open (see fileStore.ts).
  await page.addInitScript(() => {
    indexedDB.open('model-search-files', 1);
  });
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);
  await expect(page.getByTestId('storage-notice-line')).toContainText(/unavailable|private/i);
  await typeQuery(page, 'teal');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
});

test('a new deploy shows "update available"; accepting reloads into the new version', async ({ page }) => {
  // A copy of the site the test can redeploy.
  const dir = await mkdtemp(join(tmpdir(), 'site-'));
  await cp(DIST, dir, { recursive: true });
  const server = await startStaticServer({ root: dir, port: OWN_PORT });
  try {
    await page.goto(`${server.url}?${COLOURS}`);
    await waitReady(page);
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    await expect(page.getByTestId('update-prompt')).toHaveCount(0);
    expect(await page.title()).toBe('Model Search');

    // Deploy v2: a changed page, and a service worker whose precache lists its new revision.
    const html = (await readFile(join(dir, 'index.html'), 'utf8')).replace('<title>Model Search</title>', '<title>Model Search v2</title>');
    await writeFile(join(dir, 'index.html'), html);
    const sw = await readFile(join(dir, 'sw.js'), 'utf8');
    const bumped = sw.replace(/(url:"index\.html",revision:")[0-9a-f]+"/, '$1v2"');
    expect(bumped).not.toBe(sw);
    await writeFile(join(dir, 'sw.js'), bumped);

    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const prompt = page.getByTestId('update-prompt');
    await expect(prompt).toBeVisible();
    await expect(prompt).toContainText('A new version of Model Search is available');
    await expect(page).toHaveTitle('Model Search'); // nothing changes until the person accepts
    await prompt.getByRole('button', { name: 'Reload' }).click();
    await expect(page).toHaveTitle('Model Search v2');
    await waitReady(page);
    await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
