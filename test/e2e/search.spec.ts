import { expect, test, type Page } from '@playwright/test';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { afterSearch, COLOURS, expectMatchesReference, readResults, searchBox, shot, typeQuery, waitReady, watchPageErrors } from '../support/page.ts';

/** Types a query, presses Enter and waits until that search (not an earlier one) has rendered. */
async function runQuery(page: Page, text: string) {
  await typeQuery(page, text);
  await expect(page.getByRole('heading', { name: new RegExp(`for “${text}”`) })).toBeVisible();
  const results = page.getByTestId('results').locator('li');
  await expect(results.first()).toBeVisible();
  return results;
}

test.describe('text search through the whole stack', () => {
  test('ranks models for a text query on the expected backend, matching onnxruntime-node', async ({ page }, info) => {
    const errors = watchPageErrors(page);
    await page.goto(`./?${COLOURS}&how=1`);
    const status = page.getByTestId('status');
    await expect(status).toHaveAttribute('data-phase', 'ready');
    const expectedBackend = info.project.name === 'webgpu' ? 'webgpu' : 'wasm';
    await expect(status).toHaveAttribute('data-backend', expectedBackend);
    await expect(page.getByTestId('backend')).toHaveText(expectedBackend === 'webgpu' ? 'WebGPU' : 'WASM');

    for (const [query, top] of [
      ['green forest', 'forest-canopy'],
      ['teal', 'teal-lagoon'],
      ['white snow', 'snowfield'],
    ] as const) {
      await runQuery(page, query);
      // Auto picks the 1st moment for text (the best text method in docs/eval/results.md).
      await expect(page.getByTestId('results')).toHaveAttribute('data-method', 'first-moment');
      const shown = await readResults(page);
      const reference = await nodeTextScores('index/colours', query, 'first-moment');
      expect(shown[0].id).toBe(top);
      expectMatchesReference(shown, reference.ids, reference.scores);
      expect(shown.map((r) => r.rank)).toEqual(shown.map((_, i) => i + 1));
    }
    await expect(page.getByTestId('timings')).toContainText(/encode \d+\.\d ms · score \d+\.\d\d ms/);
    await page.screenshot({ path: shot('results', info.project.name), fullPage: true });
    expect(errors).toEqual([]);
  });

  test('?backend=wasm forces WASM and gives the same ranking', async ({ page }) => {
    await page.goto(`./?${COLOURS}&how=1&backend=wasm&q=deep%20blue%20water`);
    await expect(page.getByTestId('status')).toHaveAttribute('data-backend', 'wasm');
    await expect(page.getByText('WASM was requested')).toBeVisible();
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'deep-sea');
    const reference = await nodeTextScores('index/colours', 'deep blue water', 'first-moment');
    expectMatchesReference(await readResults(page), reference.ids, reference.scores);
  });

  test('every method of the index ranks like the Node reference, and the choice is kept in the URL', async ({ page }, info) => {
    await page.goto(`./?${COLOURS}&how=1&q=green%20forest`);
    await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
    const picker = page.getByLabel('Method');
    await expect(picker.locator('option')).toHaveText(['Auto (1st moment)', 'Gaussian density', '1st moment', 'Monte-Carlo', 'Best-k', '1st+2nd moment']);
    for (const [label, method] of [
      ['1st moment', 'first-moment'],
      ['Monte-Carlo', 'monte-carlo'],
      ['Best-k', 'best-k'],
      ['1st+2nd moment', 'first-second-moment'],
      ['Gaussian density', 'gaussian'],
    ] as const) {
      const status = page.getByTestId('status');
      const before = Number(await status.getAttribute('data-seq'));
      await picker.selectOption({ label });
      await expect(status).toHaveAttribute('data-seq', String(before + 1));
      await expect(page.getByTestId('results')).toHaveAttribute('data-method', method);
      expect(new URL(page.url()).searchParams.get('method')).toBe(method);
      // The app's default k for best-k is 3 (the best k in docs/eval/results.md).
      const reference = await nodeTextScores('index/colours', 'green forest', method, method === 'best-k' ? { k: 3 } : undefined);
      expectMatchesReference(await readResults(page), reference.ids, reference.scores);
    }
    await page.screenshot({ path: shot('methods', info.project.name), fullPage: true });
    await page.reload();
    await expect(page.getByTestId('results')).toHaveAttribute('data-method', 'gaussian');
  });
});

test.describe('failures are shown, never a blank page', () => {
  test('a missing encoder file shows the error banner, and retry recovers', async ({ page }, info) => {
    const errors = watchPageErrors(page);
    let block = true;
    await page.context().route('**/encoders/test-encoder/text_model.onnx', (route) =>
      block ? route.fulfill({ status: 404, body: 'not found' }) : route.fallback(),
    );
    await page.goto(`./?${COLOURS}&q=teal`);
    const banner = page.getByTestId('error-banner');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('text_model.onnx could not be loaded: HTTP 404');
    await expect(banner).toHaveAttribute('data-code', 'http');
    await page.screenshot({ path: shot('missing-encoder', info.project.name), fullPage: true });

    block = false;
    await banner.getByRole('button', { name: 'Retry' }).click();
    await expect(banner).toBeHidden();
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
    expect(errors).toEqual([]);
  });

  test('an ?index= address the app cannot load is named in a banner with a way back to the demo index', async ({ page }) => {
    const errors = watchPageErrors(page);
    await page.goto(`./?index=${encodeURIComponent('javascript:alert(1)')}&q=teal`);
    const banner = page.getByTestId('error-banner');
    await expect(banner).toContainText('The index address in ?index= (“javascript:alert(1)/”) is not one the app can load');
    await expect(banner).toHaveAttribute('data-code', 'bad-query');
    await expect(banner.getByRole('button', { name: 'Retry' })).toHaveCount(0);
    await banner.getByRole('button', { name: /demo index/i }).click();
    await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
    expect(new URL(page.url()).searchParams.has('index')).toBe(false);
    expect(errors).toEqual([]);
  });

  test('a worker whose script does not load is a banner that says so, not "Loading…" forever', async ({ page }, info) => {
    await page.context().route(/search\.worker[^/]*\.js$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await page.goto(`./?${COLOURS}&q=teal`);
    const banner = page.getByTestId('error-banner');
    await expect(banner).toBeVisible();
    await expect(banner).toHaveAttribute('data-code', 'worker');
    await expect(banner).toContainText('could not start');
    await page.screenshot({ path: shot('worker-missing', info.project.name), fullPage: true });
  });

  test('a search worker that crashes is replaced: the next search answers, from a fresh worker', async ({ page }) => {
    const errors = watchPageErrors(page);
    await page.goto(`./?${COLOURS}&debug=1&q=teal`);
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'teal-lagoon');
    type Debug = { modelSearchDebug: { crashWorker(): Promise<void>; workerStarts(): number } };
    expect(await page.evaluate(() => (window as unknown as Debug).modelSearchDebug.workerStarts())).toBe(1);
    await page.evaluate(() => (window as unknown as Debug).modelSearchDebug.crashWorker());
    await afterSearch(page, async () => {
      await searchBox(page).fill('crimson');
      await searchBox(page).press('Enter');
    });
    await expect(page.getByTestId('error-banner')).toBeHidden();
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'crimson-bloom');
    expect(await page.evaluate(() => (window as unknown as Debug).modelSearchDebug.workerStarts())).toBe(2);
    expect(errors).toEqual([]);
  });

  test('a corrupted index file fails its checksum with a clear message', async ({ page }) => {
    const errors = watchPageErrors(page);
    await page.context().route('**/index/colours/index.bin', async (route) => {
      const response = await route.fetch();
      const body = await response.body();
      body[200] ^= 0xff;
      await route.fulfill({ response, body });
    });
    await page.goto(`./?${COLOURS}`);
    await expect(page.getByTestId('error-banner')).toContainText('index.bin failed its checksum');
    expect(errors).toEqual([]);
  });

  test('an index address with nothing there says so, and offers the demo index instead of a retry that cannot help', async ({ page }) => {
    // What the dev server (and many static hosts) answer for a missing file: its own HTML page, status 200.
    await page.context().route('**/index/nope/manifest.json', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body>app</body></html>' }));
    await page.goto('./?index=index/nope/&q=red+flowers');
    const banner = page.getByTestId('error-banner');
    await expect(banner).toContainText('The index manifest was not found: the server sent a web page instead');
    await expect(banner).toContainText('index/nope/manifest.json');
    await banner.getByRole('button', { name: 'Open the demo index' }).click();
    await waitReady(page);
    expect(new URL(page.url()).searchParams.get('index')).toBeNull();
    expect(new URL(page.url()).searchParams.get('q')).toBe('red flowers');
    await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  });

  test('a file that is not an image gets a message and no Retry (trying again cannot help)', async ({ page }) => {
    await page.goto(`./?${COLOURS}`);
    await waitReady(page);
    await page.locator('#image-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    const banner = page.getByTestId('error-banner');
    await expect(banner).toContainText('“notes.txt” is not an image');
    await expect(banner.getByRole('button', { name: 'Retry' })).toHaveCount(0);
    await expect(banner.getByRole('button', { name: 'Dismiss' })).toBeVisible();
  });

  test('an unreachable index (network error) shows the error banner', async ({ page }) => {
    await page.context().route('**/index/colours/manifest.json', (route) => route.abort('connectionrefused'));
    await page.goto(`./?${COLOURS}`);
    await expect(page.getByTestId('error-banner')).toContainText('network error');
  });
});

test('a lost WebGPU device falls back to WASM and the query still answers', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs WebGPU');
  await page.goto(`./?${COLOURS}&debug=1`);
  await expect(page.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
  await runQuery(page, 'teal');
  await expect(page.getByTestId('status')).toHaveAttribute('data-backend', 'webgpu');
  const before = await readResults(page);
  expect(await page.evaluate(() => (window as unknown as { modelSearchDebug: { loseDevice(): Promise<boolean> } }).modelSearchDebug.loseDevice())).toBe(true);
  await runQuery(page, 'teal');
  await expect(page.getByTestId('status')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('runtime')).toContainText('device lost');
  const after = await readResults(page);
  expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
  for (const [i, r] of after.entries()) expect(Math.abs(r.score - before[i].score)).toBeLessThan(1e-4);
  await page.screenshot({ path: shot('device-lost', info.project.name), fullPage: true });
});
