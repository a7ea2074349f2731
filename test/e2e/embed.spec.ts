import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Frame, type Page } from '@playwright/test';
import { modelSimilarityScores } from '../../src/core/scoring/methods.ts';
import { nodeIndex, nodeTextScores } from '../support/nodeSearch.ts';
import { ranking } from '../support/page.ts';
import { startStaticServer } from '../../tools/lib/staticServer.ts';
import { writeDemoSamples } from '../support/zooSamples.ts';

const HOST_DIR = fileURLToPath(new URL('../../examples/host/', import.meta.url));
const APP = 'http://127.0.0.1:4173/';
/** public/embed.json allows this origin; 4181 is not listed. */
const HOST_PORT = 4180;
const UNLISTED_PORT = 4181;
const SCARLET = 'scarlet-blossom-pixel-v1-e0234';

test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'embedding runs in the wasm project'));

function appFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(APP));
  if (!frame) throw new Error('the app iframe is missing');
  return frame;
}

const loggedIds = (page: Page) => page.locator('#log-results li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.modelId!));

test('a host page on another origin embeds the search: query in, results and selection out', async ({ page }, info) => {
  const host = await startStaticServer({ root: HOST_DIR, port: HOST_PORT });
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${host.url}?app=${encodeURIComponent(APP)}`);
    await expect(page.locator('html')).toHaveAttribute('data-host-state', 'ready');
    const frame = appFrame(page);
    await expect(frame.locator('html')).toHaveAttribute('data-embed-bridge', 'on');

    // Text query typed on the host page → results event with the app's ranking.
    await page.locator('#search-text').fill('red flowers');
    await page.locator('#search-text').press('Enter');
    await expect(page.locator('#log-query')).toContainText('red flowers');
    await expect(page.locator('#log-results li').first()).toBeVisible();
    const reference = await nodeTextScores('index/demo', 'red flowers', 'first-moment');
    const logged = await loggedIds(page);
    expect(logged).toEqual(ranking(reference.ids, reference.scores).slice(0, logged.length));
    const shownInFrame = await frame.locator('[data-testid="results"] li').evaluateAll((items) => items.map((li) => li.getAttribute('data-model-id')));
    expect(shownInFrame).toEqual(logged);

    // Compact: the host drives the query, so the frame shows results only, with a way out to the full app.
    await expect(frame.getByRole('searchbox')).toHaveCount(0);
    await expect(frame.getByRole('button', { name: 'Sketch' })).toHaveCount(0);
    await expect(frame.getByText('How this ranking works')).toHaveCount(0);
    const out = frame.getByRole('link', { name: /open this search in model search/i });
    const href = new URL((await out.getAttribute('href'))!);
    expect(href.origin + href.pathname).toBe(APP);
    expect(href.searchParams.get('q')).toBe('red flowers');
    for (const p of ['embed', 'parentOrigin', 'box']) expect(href.searchParams.has(p), p).toBe(false);
    // The frame is as tall as its page (the app reports its height): no inner scrollbar.
    const iframe = page.locator('model-search iframe');
    await expect
      .poll(async () => {
        const inner = await frame.evaluate(() => Math.ceil(document.body.getBoundingClientRect().height));
        const outer = await iframe.evaluate((f) => f.getBoundingClientRect().height);
        return Math.abs(inner - outer);
      })
      .toBeLessThanOrEqual(2);
    expect(await frame.evaluate(() => document.scrollingElement!.scrollHeight <= innerHeight + 1)).toBe(true);
    await page.screenshot({ path: `test-results/screenshots/${info.project.name}-embed-host.png`, fullPage: true });

    // "Find similar models" on the host's model card → more-like-this in the embed.
    await page.locator('#find-similar').click();
    await expect(page.locator('#log-results li').first()).not.toHaveAttribute('data-model-id', logged[0]);
    const ref = await nodeIndex('index/demo');
    const self = ref.ids.indexOf(SCARLET);
    const similar = await loggedIds(page);
    expect(similar).toEqual(ranking(ref.ids, modelSimilarityScores(ref.index, self), [self]).slice(0, similar.length));

    // Opening a result's details inside the embed tells the host which model was selected.
    const card = frame.locator('[data-testid="results"] li').nth(2);
    const id = await card.getAttribute('data-model-id');
    await card.getByRole('button', { name: /details/i }).click();
    await expect(page.locator('#log-selected')).toHaveAttribute('data-model-id', id!);
    expect(errors).toEqual([]);
  } finally {
    await host.close();
  }
});

/** Posts a like-images message straight into the app's frame (as a host without the element would), with `count` buffers of `bytes`. */
function postRawImages(page: Page, count: number, bytes: number): Promise<void> {
  return page.evaluate(
    ([count, bytes]) => {
      const frame = document.querySelector('model-search')!.shadowRoot!.querySelector('iframe')!;
      const images = Array.from({ length: count }, () => new ArrayBuffer(bytes));
      frame.contentWindow!.postMessage({ protocol: 'model-search', version: 1, type: 'like-images', images }, new URL(frame.src).origin, images);
    },
    [count, bytes] as const,
  );
}

test('the host page uploads sample images of a model: the model comes first; over-limit messages are refused, naming the limit', async ({ page }) => {
  test.setTimeout(240_000);
  const dir = await mkdtemp(join(tmpdir(), 'samples-'));
  const host = await startStaticServer({ root: HOST_DIR, port: HOST_PORT });
  try {
    // The demo model's own samples 0…7, rendered as the demo index's build did (plan §7 "Samples").
    const files = await writeDemoSamples(SCARLET, 8, dir);
    expect(files).toHaveLength(8);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The element's events on the host page (they bubble out of the shadow root), kept for the test.
    await page.addInitScript(() => {
      if (window !== window.top) return;
      const w = window as unknown as { appErrors: { code: string; message: string }[]; accepts: unknown };
      w.appErrors = [];
      document.addEventListener('model-search:error', (e) => w.appErrors.push((e as CustomEvent).detail));
      document.addEventListener('model-search:ready', (e) => (w.accepts = (e as CustomEvent).detail.accepts));
    });
    await page.goto(`${host.url}?app=${encodeURIComponent(APP)}`);
    await expect(page.locator('html')).toHaveAttribute('data-host-state', 'ready');
    expect(await page.evaluate(() => (window as unknown as { accepts: unknown }).accepts)).toEqual(['query', 'like-images']);

    await page.locator('#upload-files').setInputFiles(files);
    await page.locator('#upload-name').fill('My scarlet blossom');
    await page.getByRole('button', { name: 'Find models like these' }).click();
    await expect(page.locator('#log-query')).toContainText('models like “My scarlet blossom”', { timeout: 120_000 });
    await expect(page.locator('#log-results li').first()).toHaveAttribute('data-model-id', SCARLET);
    expect(Number(await page.locator('html').getAttribute('data-host-results'))).toBeGreaterThan(0);
    // Never in the frame's address: the images stay in the visitor's browser, in memory.
    expect(new URL(appFrame(page).url()).search).not.toMatch(/samples|blob|like-images/);

    // The element refuses over-limit calls itself, naming the limit.
    const refused = await page.evaluate(async () => {
      const el = document.querySelector('model-search') as unknown as { likeImages(i: ArrayBuffer[]): Promise<void> };
      return el.likeImages(Array.from({ length: 65 }, () => new ArrayBuffer(1))).then(
        () => 'sent',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    });
    expect(refused).toMatch(/^RangeError: .*65 images \(limit 64/);

    // A host without the element: the app answers bad-message naming the limit, and runs nothing.
    const seq = await appFrame(page).getByTestId('status').getAttribute('data-seq');
    const appErrors = () => page.evaluate(() => (window as unknown as { appErrors: { code: string; message: string }[] }).appErrors);
    await postRawImages(page, 65, 16);
    await expect.poll(appErrors).toContainEqual(expect.objectContaining({ code: 'bad-message', message: expect.stringContaining('has 65 entries (limit 64)') }));
    await postRawImages(page, 1, 17_000_000);
    await expect.poll(appErrors).toContainEqual(expect.objectContaining({ code: 'bad-message', message: expect.stringContaining('(limit 16.0 MiB)') }));
    await page.waitForTimeout(300);
    expect(await appFrame(page).getByTestId('status').getAttribute('data-seq')).toBe(seq);
    await expect(page.locator('#log-results li').first()).toHaveAttribute('data-model-id', SCARLET);
    expect(errors).toEqual([]);
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('messages from origins that are not on the allowlist are ignored', async ({ page }) => {
  // An unlisted site frames the app directly and claims to be the listed host.
  const dir = await mkdtemp(join(tmpdir(), 'attacker-'));
  const spoofed = `${APP}?embed=1&parentOrigin=${encodeURIComponent(`http://127.0.0.1:${HOST_PORT}`)}`;
  await writeFile(join(dir, 'index.html'), `<!doctype html><title>elsewhere</title><iframe src="${spoofed}" width="1000" height="800"></iframe>`);
  const attacker = await startStaticServer({ root: dir, port: UNLISTED_PORT });
  const unlistedHost = await startStaticServer({ root: HOST_DIR, port: UNLISTED_PORT + 1 });
  try {
    const received: unknown[] = [];
    await page.exposeFunction('recordMessage', (m: unknown) => received.push(m));
    await page.addInitScript(() => {
      // The attacker's own window only (init scripts also run in frames).
      if (window === window.top) addEventListener('message', (e) => (window as unknown as { recordMessage(m: unknown): void }).recordMessage(e.data));
    });
    await page.goto(attacker.url);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith(APP))).toBe(true);
    const app = appFrame(page);
    await expect(app.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
    await expect(app.locator('html')).toHaveAttribute('data-embed-bridge', 'on');
    const seqBefore = await app.getByTestId('status').getAttribute('data-seq');
    await page.evaluate(() => {
      window.frames[0].postMessage({ protocol: 'model-search', version: 1, type: 'query', text: 'evil query' }, '*');
    });
    await expect(app.locator('html')).toHaveAttribute('data-embed-ignored', '1');
    // Images too: a like-images message from the unlisted parent is ignored like a query.
    await page.evaluate(() => {
      const images = [new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer];
      window.frames[0].postMessage({ protocol: 'model-search', version: 1, type: 'like-images', images }, '*', images);
    });
    await expect(app.locator('html')).toHaveAttribute('data-embed-ignored', '2');
    await page.waitForTimeout(500);
    await expect(app.getByText(/evil query/)).toHaveCount(0);
    await expect(app.getByText(/models like your/)).toHaveCount(0);
    expect(await app.getByTestId('status').getAttribute('data-seq')).toBe(seqBefore);
    // Whatever the app posts goes to the listed origin only: the unlisted parent never hears it.
    expect(received).toEqual([]);

    // A host page on an unlisted origin gets no bridge at all: no ready event, nothing answered.
    await page.goto(`${unlistedHost.url}?app=${encodeURIComponent(APP)}`);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith(APP))).toBe(true);
    const refused = appFrame(page);
    await expect(refused.locator('html')).toHaveAttribute('data-embed-bridge', 'refused');
    await expect(refused.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
    await page.locator('#search-text').fill('red flowers');
    await page.locator('#search-text').press('Enter');
    await page.waitForTimeout(1000);
    await expect(page.locator('html')).not.toHaveAttribute('data-host-state', 'ready');
    expect(await page.locator('#log-results li').count()).toBe(0);
  } finally {
    await attacker.close();
    await unlistedHost.close();
    await rm(dir, { recursive: true, force: true });
  }
});
