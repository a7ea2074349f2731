import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { afterSearch, readResults, searchBox, shot, waitReady, watchPageErrors } from '../support/page.ts';

/*
 * Results first (issue 13): after a text, an image and a sketch search the first result card is
 * fully on the first screen at desktop, laptop and phone sizes, with the ranking's workings
 * ("How this ranking works") folded away until asked for, and remembered in the address.
 */

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'laptop', width: 1024, height: 768 },
  { name: 'phone', width: 375, height: 812 },
] as const;

/** The first result card lies wholly inside the viewport (no scrolling needed to see it). */
async function expectFirstCardInView(page: Page, viewport: { width: number; height: number }) {
  const card = page.getByTestId('results').locator('li').first();
  await expect(card).toBeVisible();
  await expect
    .poll(async () => {
      const box = (await card.boundingBox())!;
      return box.y >= 0 && box.y + box.height <= viewport.height && box.x >= 0 && box.x + box.width <= viewport.width;
    })
    .toBe(true);
}

async function demoPng(): Promise<Buffer> {
  const dir = join(PUBLIC_DIR, 'index/demo');
  const models = JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')) as { thumbnails: string[] }[];
  return sharp(join(dir, models[40].thumbnails[0])).png().toBuffer();
}

for (const vp of VIEWPORTS) {
  test(`${vp.name} ${vp.width}×${vp.height}: the first result is in view after a text, an image and a sketch search`, async ({ page }, info) => {
    test.skip(info.project.name !== 'wasm', 'layout does not depend on the backend');
    test.setTimeout(120_000);
    const errors = watchPageErrors(page);
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await page.goto('./');
    await waitReady(page);

    // Text.
    await afterSearch(page, async () => {
      await searchBox(page).fill('red flowers');
      await searchBox(page).press('Enter');
    });
    await expectFirstCardInView(page, vp);
    const panel = page.getByTestId('ranking-panel');
    await expect(panel).not.toHaveAttribute('open');
    await expect(page.getByLabel('Method')).toBeHidden();
    await page.screenshot({ path: shot(`layout-${vp.name}-text`, info.project.name) });

    // Image: picked from a file.
    const png = await demoPng();
    await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'query.png', mimeType: 'image/png', buffer: png }));
    await expectFirstCardInView(page, vp);
    await page.screenshot({ path: shot(`layout-${vp.name}-image`, info.project.name) });
    await page.getByRole('button', { name: /remove image/i }).click();

    // Sketch: the pad pushes the results down; after "Search with sketch" they are brought into view.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByRole('button', { name: 'Sketch' }).click();
    const canvas = page.getByTestId('sketch-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.7);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2, { steps: 6 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.7, { steps: 6 });
    await page.mouse.up();
    await afterSearch(page, () => page.getByRole('button', { name: 'Search with sketch' }).click());
    await expectFirstCardInView(page, vp);
    await page.screenshot({ path: shot(`layout-${vp.name}-sketch`, info.project.name) });
    expect(errors).toEqual([]);
  });
}

test('"How this ranking works" opens on request, and the address remembers it', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'layout does not depend on the backend');
  await page.goto('./?q=red+flowers');
  await waitReady(page);
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  const panel = page.getByTestId('ranking-panel');
  await expect(panel.locator('summary')).toContainText('Auto');
  await panel.locator('summary').click();
  await expect(page.getByLabel('Method')).toBeVisible();
  await expect(page.getByTestId('score-plot')).toBeVisible();
  await expect(page.getByTestId('timings')).toBeVisible();
  await expect(page).toHaveURL(/[?&]how=1/);
  await page.screenshot({ path: shot('layout-ranking-open', info.project.name) });
  await page.reload();
  await waitReady(page);
  await expect(page.getByLabel('Method')).toBeVisible();
  await page.getByTestId('ranking-panel').locator('summary').click();
  await expect(page.getByLabel('Method')).toBeHidden();
  await expect(page).not.toHaveURL(/[?&]how=/);
});

test('browsing: "Show more" adds the next 24, cards sort by name, the title follows the query, a skip link reaches the results', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'layout does not depend on the backend');
  await page.goto('./?q=red+flowers');
  await waitReady(page);
  const cards = page.getByTestId('results').locator('li');
  await expect(cards).toHaveCount(24);
  await expect(page).toHaveTitle('“red flowers” — Model Search');
  const first = await readResults(page);
  await afterSearch(page, () => page.getByRole('button', { name: 'Show more' }).click());
  await expect(cards).toHaveCount(48);
  expect((await readResults(page)).slice(0, 24)).toEqual(first);
  await expect(page.getByRole('heading', { level: 2 })).toContainText('Top 48 of 300');

  await page.getByLabel('Sort by').selectOption('name');
  const names = await cards.locator('h3').allTextContents();
  const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
  expect(names).toEqual([...names].sort(collator.compare));
  await page.getByLabel('Sort by').selectOption('relevance');
  expect((await readResults(page)).map((r) => r.rank)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));

  // A new query starts at 24 again.
  await afterSearch(page, async () => {
    await searchBox(page).fill('blue boat');
    await searchBox(page).press('Enter');
  });
  await expect(cards).toHaveCount(24);
  await expect(page).toHaveTitle('“blue boat” — Model Search');

  // On a fresh page, the first Tab stop skips the query tools.
  await page.reload();
  await waitReady(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to results' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#results-heading')).toBeFocused();
});

for (const vp of [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const) {
  test(`${vp.name} ${vp.width}×${vp.height}: "Add your model" sits in the header, not the query row; results stay on the first screen; not in embeds`, async ({ page }, info) => {
    test.skip(info.project.name !== 'wasm', 'layout does not depend on the backend');
    const errors = watchPageErrors(page);
    await page.setViewportSize({ width: vp.width, height: vp.height });
    await page.goto('./');
    await waitReady(page);
    const add = page.getByRole('button', { name: 'Add your model' });
    await expect(add).toBeVisible();
    expect(await add.evaluate((el) => !!el.closest('header') && !el.closest('.query-row'))).toBe(true);
    // The button is beside the title: it must not push the query row down past the title block.
    const addBox = (await add.boundingBox())!;
    const title = (await page.locator('header h1').boundingBox())!;
    expect(addBox.y).toBeLessThan(title.y + title.height + 8);
    await afterSearch(page, async () => {
      await searchBox(page).fill('red flowers');
      await searchBox(page).press('Enter');
    });
    await expectFirstCardInView(page, vp);
    await page.screenshot({ path: shot(`layout-${vp.name}-add-model-button`, info.project.name) });
    // The dialog fits the screen, and closing it gives the results back where they were.
    await add.click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toBeVisible();
    const box = (await dialog.boundingBox())!;
    expect(box.x >= 0 && box.x + box.width <= vp.width).toBe(true);
    await page.screenshot({ path: shot(`layout-${vp.name}-add-model-dialog`, info.project.name) });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(dialog).toBeHidden();
    await expectFirstCardInView(page, vp);

    // Embedded (in a host's iframe): neither the button nor "Your models".
    await page.evaluate(() => {
      const frame = document.createElement('iframe');
      frame.src = './?embed=1&box=1';
      frame.style.cssText = 'width: 600px; height: 400px';
      document.body.append(frame);
    });
    const embed = page.frameLocator('iframe');
    await expect(embed.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
    await expect(embed.getByRole('button', { name: /add your model/i })).toHaveCount(0);
    await expect(embed.getByTestId('local-models')).toHaveCount(0);
    expect(errors).toEqual([]);
  });
}
