import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { formatBytes } from '../../src/lib/format.ts';
import { startStaticServer, type StaticServer } from '../../tools/lib/staticServer.ts';
import { COLOURS, searchBox, shot, waitReady, watchPageErrors } from '../support/page.ts';

/**
 * The first visit (issue 13): one list of every large download with its bytes and a total, a query
 * typed before the app is ready runs once it is, and a warm visit reads everything from this device.
 * The built app is served by a server the test owns, so the network can be slow where a person
 * would watch the bytes arrive.
 */
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'downloads and start-up do not depend on the backend'));

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const PORT = 4179;

/** Bytes per second for the slow files; the rest at full speed. */
const SLOW: Record<string, number> = { '.wasm': 3_000_000, 'text_model.onnx': 120_000 };

async function serve(slow: boolean): Promise<StaticServer> {
  return startStaticServer({
    root: DIST,
    port: PORT,
    throttle: (path) => (slow ? Object.entries(SLOW).find(([end]) => path.endsWith(end))?.[1] : undefined),
  });
}

/** The size of onnxruntime-web's WASM-only binary in dist/ (the build without WebGPU; the other one is the asyncify build). */
async function wasmOnlyBinaryBytes(): Promise<number> {
  const wasm = (await readdir(join(DIST, 'assets'))).filter((f) => /^ort-wasm-simd-threaded-[\w-]+\.wasm$/.test(f));
  expect(wasm).toHaveLength(1);
  return (await stat(join(DIST, 'assets', wasm[0]))).size;
}

/** The sizes of the start-up's files in dist/ (this project runs without WebGPU). */
async function startupBytes(): Promise<number> {
  const files = ['index/colours/index.bin', 'index/colours/models.json', 'tokenizers/clip-vit-b32/tokenizer.json', 'tokenizers/clip-vit-b32/tokenizer_config.json', 'encoders/test-encoder/text_model.onnx'];
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(DIST, f))).size));
  return sizes.reduce((a, b) => a + b, 0) + (await wasmOnlyBinaryBytes());
}

const pattern = (text: string) => text.replace(/[.()]/g, '\\$&');

/** How many files of the test encoder's offline-storage group are committed (workers/storage/fileStore.ts). */
function encoderFilesSaved(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('model-search-files');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('files')) return resolve(0);
          const get = db.transaction('files').objectStore('files').get('group:encoder:test-encoder');
          get.onsuccess = () => {
            db.close();
            resolve((get.result as { files: string[] } | undefined)?.files.length ?? 0);
          };
        };
      }),
  );
}

const rows = (page: Page) => page.getByRole('list', { name: 'Downloads' }).locator('li');

test('the first visit lists every large download with bytes and a total; a query typed meanwhile runs once ready', async ({ page }, info) => {
  const errors = watchPageErrors(page);
  const server = await serve(true);
  try {
    await page.goto(`${server.url}?${COLOURS}`);
    const status = page.getByTestId('status');
    const list = page.getByRole('list', { name: 'Downloads' });
    await expect(list.locator('li[data-kind="runtime"]')).toHaveCount(1);
    await expect(status).toHaveAttribute('data-phase', 'loading');

    // Typed and submitted before the app is ready: it says so, and the button too.
    await searchBox(page).fill('teal');
    await searchBox(page).press('Enter');
    await expect(status).toHaveAttribute('data-queued', 'true');
    await expect(page.getByTestId('queued-query')).toHaveText('Searching for “teal” once ready.');
    await expect(page.getByRole('button', { name: 'Search queued' })).toBeVisible();
    await expect(page.getByText('press Enter')).toHaveCount(0);

    // One row per large file: onnxruntime-web, the index, the tokenizer, the text encoder.
    const runtime = list.locator('li[data-kind="runtime"]');
    const encoder = list.locator('li[data-kind="encoder"]');
    await expect(list.locator('li[data-kind="index"]')).toHaveCount(2);
    await expect(list.locator('li[data-kind="tokenizer"]')).toHaveCount(2);
    await expect(encoder).toHaveCount(1);
    // Without WebGPU, the WASM-only build of onnxruntime-web (about half the size of the WebGPU one).
    await expect(runtime).toContainText('Runtime (onnxruntime-web, WASM)');
    await expect(runtime.locator('.bytes')).toHaveText(new RegExp(`^\\d+\\.\\d of ${pattern(formatBytes(await wasmOnlyBinaryBytes()))}$`));
    await expect(encoder).toContainText('Test encoder (colour, 32-d) text encoder');
    await expect(encoder.locator('.bytes')).toHaveText(/^\d+\.\d of 513\.0 kB$/);
    await expect(list.locator('li[data-kind="tokenizer"]').first().locator('.bytes')).toHaveText('3.7 of 3.7 MB');
    for (const row of await rows(page).all()) await expect(row).toHaveAttribute('data-source', 'network');
    // The total: every row's size once all are known, while the slow ones are still arriving.
    const total = page.getByTestId('downloads-total');
    await expect(total).toHaveText(new RegExp(`^Downloaded \\d+\\.\\d of ${pattern(formatBytes(await startupBytes()))}$`));
    await expect(status).toContainText(/Downloading/);
    await page.screenshot({ path: shot('first-visit-loading', info.project.name), fullPage: true });

    // Ready: the waiting query runs by itself, once, and the list goes.
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon', { timeout: 120_000 });
    await expect(status).toHaveAttribute('data-seq', '1');
    await expect(status).toHaveAttribute('data-queued', 'false');
    await expect(page.getByTestId('queued-query')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Search', exact: true })).toBeVisible();
    await expect(list).toHaveCount(0);
    expect(new URL(page.url()).searchParams.get('q')).toBe('teal');
    expect(errors).toEqual([]);
  } finally {
    await server.close();
  }
});

test('a warm visit reads every file from this device: nothing downloaded, never "Downloading"', async ({ page }) => {
  const errors = watchPageErrors(page);
  const server = await serve(false);
  try {
    await page.goto(`${server.url}?${COLOURS}`);
    await waitReady(page);
    // The image tower follows in the background; the warm visit should find it saved too.
    await expect.poll(() => encoderFilesSaved(page)).toBe(2);

    // Everything the page shows while it starts, recorded as it happens (it is quick).
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const record = () => {
        const status = document.querySelector('[data-testid="status"]')?.textContent ?? '';
        const rows = Array.from(document.querySelectorAll('[data-testid="downloads"] li')).map((li) => `${li.getAttribute('data-kind')}:${li.getAttribute('data-source')}:${li.querySelector('.bytes')?.textContent}`);
        const total = document.querySelector('[data-testid="downloads-total"]')?.textContent ?? '';
        seen.push(JSON.stringify({ status, rows, total }));
      };
      new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const from = server.served.length;
    await page.reload();
    await waitReady(page);
    const seen = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).map((s) => JSON.parse(s) as { status: string; rows: string[]; total: string });

    expect(seen.some((s) => s.rows.length > 0)).toBe(true);
    expect(seen.filter((s) => /Downloading|Downloaded/.test(s.status + s.total))).toEqual([]);
    const rowsSeen = new Set(seen.flatMap((s) => s.rows));
    expect([...rowsSeen].filter((r) => r.includes(':network:'))).toEqual([]);
    for (const kind of ['runtime', 'index', 'tokenizer', 'encoder']) expect([...rowsSeen].some((r) => r.startsWith(`${kind}:storage:`) && r.endsWith(' from this device'))).toBe(true);
    expect(seen.some((s) => /^Nothing to download · [\d.]+ MB from this device$/.test(s.total))).toBe(true);

    // Only the page and the index manifest (always revalidated) came over the network.
    const fetched = server.served.slice(from).map((s) => s.path);
    expect(fetched.filter((p) => /\.(wasm|onnx|bin)$|tokenizer|models\.json/.test(p))).toEqual([]);
    expect(fetched).toContain('/index/colours/manifest.json');
    expect(errors).toEqual([]);
  } finally {
    await server.close();
  }
});
