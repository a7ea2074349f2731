import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { CLIP_VIT_B32 } from '../../src/core/encode/encoders.ts';
import { fixtureModels, makeFixtureIndex } from '../support/fixtureIndex.ts';
import { padOnnx } from '../../tools/lib/padOnnx.ts';

/**
 * The real CLIP ViT-B/32 weights cannot be downloaded here, so this drives the production loading
 * path (configurable model host → the worker's policy check → hub-style URL → streamed download with
 * byte progress → size check → SHA-256 trusted on first use → ORT session) against a local HTTP
 * server standing in for the model hub.
 *
 * The stand-in listens on 127.0.0.1:4176, the one extra host the test build admits
 * (MODEL_SEARCH_CONNECT_SRC in playwright.config.ts): the worker refuses model hosts outside the
 * build's list, so a server on a random port would be refused (test/hostile/policy.spec.ts checks that).
 */
const MODEL_HOST_PORT = 4176;
const TEXT_PATH = '/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model_quantized.onnx';

let server: Server;
let host: string;
const requests: string[] = [];
let body: Buffer;

test.beforeAll(async () => {
  const testModel = await readFile(new URL('../../public/encoders/test-encoder/text_model.onnx', import.meta.url));
  const padded = padOnnx(testModel, CLIP_VIT_B32.text.bytes!);
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.url !== TEXT_PATH) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    // Stream slowly enough that a person (and the test) sees the byte progress.
    const chunk = 1 << 20;
    for (let i = 0; i < body.length; i += chunk) {
      if (!res.write(body.subarray(i, i + chunk))) await new Promise((r) => res.once('drain', r));
      await new Promise((r) => setTimeout(r, 25));
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(MODEL_HOST_PORT, '127.0.0.1', r));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  body = padded;
});

test.afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function serveClipIndex(page: import('@playwright/test').Page) {
  const files = await makeFixtureIndex({ id: CLIP_VIT_B32.id, dim: 512 }, fixtureModels(3), new Float32Array(3 * 512).fill(0.01));
  await page.context().route('**/clip-fixture/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    return files[name] ? route.fulfill({ body: files[name] }) : route.fulfill({ status: 404 });
  });
}

test('a CLIP index downloads the encoder from the configured model host with byte progress', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'the download path is backend-independent');
  await serveClipIndex(page);
  requests.length = 0;
  await page.goto(`./?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(host)}`);

  const progress = page.getByRole('list', { name: 'Downloads' });
  await expect(progress).toContainText('CLIP ViT-B/32 (quantized) text encoder');
  await expect(progress.locator('li[data-kind="encoder"] .bytes')).toHaveText(/^\d+\.\d of 61\.5 MB$/);
  await page.screenshot({ path: `test-results/screenshots/${info.project.name}-clip-download.png`, fullPage: true });

  // The stand-in file is the 32-d test graph padded to CLIP's exact size: it downloads, passes the
  // size check and starts a session, and then the app refuses its output shape with a clear error.
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('returned 32 dimensions, expected 512');
  expect(requests).toEqual([TEXT_PATH]);
});

test('a model host serving a file of the wrong size is rejected before use', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'the download path is backend-independent');
  await serveClipIndex(page);
  const original = body;
  body = original.subarray(0, 5_000_000);
  try {
    await page.goto(`./?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(host)}`);
    await expect(page.getByTestId('error-banner')).toContainText(
      'text_model_quantized.onnx has 5000000 bytes, expected 64504507',
    );
    await expect(page.getByTestId('error-banner')).toHaveAttribute('data-code', 'integrity');
  } finally {
    body = original;
  }
});

test('the first download of a CLIP file is trusted and saved; a later one that differs is refused until storage is cleared', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'the download path is backend-independent');
  await serveClipIndex(page);
  requests.length = 0;
  const address = `./?index=clip-fixture/&backend=wasm&modelHost=${encodeURIComponent(host)}`;
  const banner = page.getByTestId('error-banner');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const savedFiles = async () => {
    const panel = page.getByTestId('storage-panel');
    if (!(await panel.evaluate((d: HTMLDetailsElement) => d.open))) await panel.locator('summary').click();
    await expect(page.getByTestId('storage-total')).toBeVisible();
    return page.getByTestId('storage-files').locator('li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-sha256')} ${li.querySelector('.label')?.textContent}`));
  };

  // First visit: downloaded, its SHA-256 recorded and the file saved (the stand-in then fails its
  // dimension check: the session ran on it).
  await page.goto(address);
  await expect(banner).toContainText('returned 32 dimensions, expected 512');
  expect(requests).toEqual([TEXT_PATH]);
  expect(await savedFiles()).toContain(`${sha(body)} CLIP ViT-B/32 (quantized) text encoder`);

  // Second visit: the saved copy, verified against the recorded hash; nothing is downloaded.
  await page.goto(address);
  await expect(banner).toContainText('returned 32 dimensions, expected 512');
  expect(requests).toEqual([TEXT_PATH]);

  // The saved copy is evicted and the host now serves another file of the same size: refused, named,
  // and not saved.
  await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('model-search-files');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('files', 'readwrite');
    const done = new Promise((resolve) => (tx.oncomplete = resolve));
    const store = tx.objectStore('files');
    const keys = await new Promise<IDBValidKey[]>((resolve) => {
      const all = store.getAllKeys();
      all.onsuccess = () => resolve(all.result);
    });
    for (const key of keys) if (/^(file|meta):/.test(String(key))) store.delete(key);
    await done;
    db.close();
  });
  const original = body;
  const changed = Buffer.from(original);
  changed[changed.length - 10] ^= 0xff; // inside the padding: still a loadable model, but not the same file
  body = changed;
  try {
    await page.goto(address);
    await expect(banner).toContainText('text_model_quantized.onnx is not the file this device first downloaded from');
    await expect(banner).toHaveAttribute('data-code', 'integrity');
    expect(requests).toEqual([TEXT_PATH, TEXT_PATH]);
    expect((await savedFiles()).some((f) => f.startsWith(sha(changed)))).toBe(false);

    // "Clear saved files" forgets the recorded hash too: the next download is trusted anew.
    await page.getByRole('button', { name: 'Clear saved files' }).click();
    await expect(page.getByTestId('storage-empty')).toBeVisible();
    await page.goto(address);
    await expect(banner).toContainText('returned 32 dimensions, expected 512');
    expect(await savedFiles()).toContain(`${sha(changed)} CLIP ViT-B/32 (quantized) text encoder`);
  } finally {
    body = original;
  }
});
