import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { afterSearch, searchBox, shot, waitReady, watchPageErrors } from '../support/page.ts';

test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'layout and accessibility checks run in the wasm project'));

/** Serious and critical WCAG 2.x A/AA violations on the page as it is now. */
async function axeViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

async function demoSearch(page: Page, text: string) {
  await page.goto('./');
  await waitReady(page);
  await afterSearch(page, async () => {
    await searchBox(page).fill(text);
    await searchBox(page).press('Enter');
  });
  // Thumbnails settle before screenshots.
  // Thumbnails in view settle before screenshots (lazy ones below the fold never load).
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="results"] img')).every(
      (img) => img.complete || img.getBoundingClientRect().top > innerHeight,
    ),
  );
}

for (const scheme of ['light', 'dark'] as const) {
  test(`desktop 1280×800 (${scheme}): no serious accessibility violations, with results, sketch and details open`, async ({ page }, info) => {
    await page.emulateMedia({ colorScheme: scheme });
    await demoSearch(page, 'red flowers');
    await page.screenshot({ path: shot(`desktop-${scheme}`, info.project.name) });
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sketch' }).click();
    await expect(page.getByTestId('sketch-canvas')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByTestId('results').locator('li').first().getByRole('button', { name: /details/i }).click();
    await expect(page.getByTestId('model-details')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: shot(`desktop-details-${scheme}`, info.project.name) });
  });
}

test('phone 375×812: the layout fits the width, and there are no serious accessibility violations', async ({ page }, info) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await demoSearch(page, 'boat on a blue sea');
  await page.screenshot({ path: shot('phone', info.project.name) });
  await page.screenshot({ path: shot('phone-full', info.project.name), fullPage: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  expect(await axeViolations(page)).toEqual([]);
  await page.getByTestId('results').locator('li').first().getByRole('button', { name: /details/i }).click();
  const dialog = page.getByTestId('model-details');
  await expect(dialog).toBeVisible();
  const box = (await dialog.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(375);
  await page.screenshot({ path: shot('phone-details', info.project.name) });
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Sketch' }).click();
  await expect(page.getByTestId('sketch-canvas')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});

test('untrusted metadata is shown as text: nothing in names, descriptions or links executes', async ({ page, context }, info) => {
  const errors = watchPageErrors(page);
  const dir = join(PUBLIC_DIR, 'index/colours');
  const models = JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')) as Record<string, unknown>[];
  const hostileName = '<img src=x onerror="window.__xss=1">Crimson';
  models[0] = {
    ...models[0],
    name: hostileName,
    description: '<script>window.__xss=2</script><b>bold?</b>',
    creator: '"><svg onload="window.__xss=3">',
    family: '<iframe src="javascript:window.__xss=4">',
    links: [
      { label: 'evil', url: 'javascript:window.__xss=5' },
      { label: '<img src=x onerror="window.__xss=6">', url: 'https://example.org/model' },
    ],
  };
  const modelsJson = Buffer.from(JSON.stringify(models));
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
  manifest.name = '<img src=x onerror="window.__xss=7">';
  manifest.examples = ['<img src=x onerror="window.__xss=8">'];
  manifest.files['models.json'] = { bytes: modelsJson.byteLength, sha256: await sha256Hex(new Uint8Array(modelsJson)) };
  await context.route('**/index/hostile/**', async (route) => {
    const file = new URL(route.request().url()).pathname.split('/index/hostile/')[1];
    if (file === 'models.json') return route.fulfill({ body: modelsJson, contentType: 'application/json' });
    if (file === 'manifest.json') return route.fulfill({ body: JSON.stringify(manifest), contentType: 'application/json' });
    return route.fulfill({ body: await readFile(join(dir, file)) });
  });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto('./?index=index/hostile/');
  await waitReady(page);
  await expect(page.getByRole('button', { name: '<img src=x onerror="window.__xss=8">' })).toBeVisible();
  await afterSearch(page, async () => {
    await searchBox(page).fill('red');
    await searchBox(page).press('Enter');
  });
  const card = page.locator(`[data-model-id="${models[0].id as string}"]`);
  await expect(card.locator('.name')).toHaveText(hostileName);
  await card.getByRole('button', { name: /details/i }).click();
  const dialog = page.getByTestId('model-details');
  await expect(dialog).toContainText('<script>window.__xss=2</script><b>bold?</b>');
  await expect(dialog).toContainText('"><svg onload="window.__xss=3">');
  // Only the http(s) link survives, opened safely.
  const links = dialog.locator('a[href]');
  await expect(links).toHaveCount(1);
  await expect(links.first()).toHaveAttribute('href', 'https://example.org/model');
  await expect(links.first()).toHaveAttribute('rel', 'noopener noreferrer');
  await page.getByTestId('facets').locator('input').first().waitFor();
  await page.screenshot({ path: shot('hostile-metadata', info.project.name), fullPage: true });
  // No element was created from the strings, and nothing ran.
  expect(await page.locator('main script, main iframe, main svg[onload], [onerror]').count()).toBe(0);
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
});
