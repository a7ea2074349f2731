import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { hugePngHeader } from '../support/build/fixtures.ts';
import { afterSearch, callDebug, COLOURS, searchBox, shot, waitReady, watchPageErrors } from '../support/page.ts';

/*
 * "Add your model" (issue 17) on the small colours index (test encoder, 32-d, fast): adding a model
 * from a few PNGs, which then ranks with the index's models marked "Yours"; bad input (a text file
 * named .png, the same image twice, a single image, the same set again); Cancel while embedding;
 * rename and remove from "Your models".
 */

type FilePayload = { name: string; mimeType: string; buffer: Buffer };

/** A 64×64 PNG of `rgb` with a little deterministic noise (seed), so that no two are the same bytes. */
async function png(name: string, rgb: [number, number, number], seed: number): Promise<FilePayload> {
  const size = 64;
  const raw = Buffer.alloc(size * size * 3);
  let s = seed * 7919 + 1;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((s >> 16) % 41) - 20));
  }
  return { name, mimeType: 'image/png', buffer: await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer() };
}

async function reds(n: number, prefix = 'red'): Promise<FilePayload[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => png(`${prefix}-${String(i).padStart(2, '0')}.png`, [200, 20 + i * 3, 30], i + 1)));
}

/** Serious and critical WCAG 2.x A/AA violations on the page as it is now (as quality.spec checks). */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

async function openColours(page: Page) {
  await page.goto(`./?${COLOURS}&debug=1`);
  await waitReady(page);
}

async function openDialog(page: Page) {
  await page.getByRole('button', { name: 'Add your model' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  return dialog;
}

async function search(page: Page, text: string) {
  await afterSearch(page, async () => {
    await searchBox(page).fill(text);
    await searchBox(page).press('Enter');
  });
}

test.describe('add your model', () => {
  test.beforeEach(({}, info) => {
    test.skip(info.project.name !== 'wasm', 'the add pipeline does not depend on the backend');
  });

  test('a few PNGs become a model that ranks, marked "Yours"; bad files are skipped with reasons; the same set again is refused; rename and remove', async ({ page }, info) => {
    test.setTimeout(180_000);
    const errors = watchPageErrors(page);
    await openColours(page);
    const dialog = await openDialog(page);
    await expect(dialog).toContainText('Nothing is uploaded: the images are embedded on this device');
    await expect(dialog).toContainText('about 100 are advisable');

    const good = await reds(6);
    const notImage: FilePayload = { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('these are notes, not pixels\n') };
    const twice: FilePayload = { ...good[0], name: 'red-copy.png' };
    const huge: FilePayload = { name: 'huge.png', mimeType: 'image/png', buffer: hugePngHeader() };
    await dialog.locator('#add-model-files').setInputFiles([...good, notImage, twice, huge]);
    await expect(dialog.getByTestId('add-model-chosen')).toContainText('9 files chosen');
    await expect(dialog).toContainText('about 100 are advisable for stable statistics'); // the hint under 100 images
    await dialog.getByLabel(/^name/i).fill('My reds <b>bold</b>');
    await dialog.getByLabel(/licen[cs]e/i).fill('CC0-1.0');
    await page.screenshot({ path: shot('add-model-dialog', info.project.name) });
    await dialog.getByRole('button', { name: 'Add model' }).click();

    const status = page.getByTestId('add-model-status');
    await expect(status).toContainText('Saved', { timeout: 120_000 });
    const localId = (await status.getAttribute('data-local-id'))!;
    expect(localId).toMatch(/^[a-z0-9-]+-[0-9a-f]{8}$/);
    await expect(status).toContainText('from 6 images');
    const skipped = dialog.getByTestId('add-model-skipped');
    await expect(skipped).toContainText(/notes\.png: could not be read as an image/);
    await expect(skipped).toContainText(/red-copy\.png: duplicate of “red-00\.png”/);
    await expect(skipped).toContainText(/huge\.png: too large \(20000×20000/);
    await page.screenshot({ path: shot('add-model-saved', info.project.name) });

    // The same images again: refused, nothing new.
    await dialog.locator('#add-model-files').setInputFiles(good);
    await dialog.getByRole('button', { name: 'Add model' }).click();
    await expect(status).toHaveAttribute('data-phase', 'refused', { timeout: 60_000 });
    await expect(status).toContainText('already added as');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(dialog).toBeHidden();

    // It ranks with the index's 12 models, marked as yours; its name is text, never HTML.
    await search(page, 'crimson');
    await expect(page.getByTestId('results').locator('li')).toHaveCount(13);
    const card = page.locator(`[data-testid="results"] li[data-model-id="${localId}"]`);
    await expect(card).toHaveAttribute('data-local', 'true');
    await expect(card).toContainText('Yours');
    await expect(card.locator('h3')).toHaveText('My reds <b>bold</b>');
    await expect(card.locator('b')).toHaveCount(0);
    // Its thumbnails come from this browser (object URLs), and they load.
    const img = card.locator('img').first();
    await expect(img).toHaveAttribute('src', /^blob:/);
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0)).toBe(true);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot('add-model-yours-card', info.project.name) });
    await expect(page.getByRole('heading', { level: 2 })).toContainText('13');

    // Details show it as yours.
    await card.getByRole('button', { name: /^Details/ }).click();
    const details = page.getByTestId('model-details');
    await expect(details).toContainText('Yours');
    await expect(details.getByTestId('details-local')).toContainText('6 images');
    await details.getByRole('button', { name: 'Close' }).click();

    // "Your models": listed; rename, then remove (asked first).
    const panel = page.getByTestId('local-models');
    await panel.locator('summary').click();
    const row = panel.locator(`li[data-local-id="${localId}"]`);
    await expect(row).toContainText('My reds <b>bold</b>');
    await expect(row).toContainText('6 images');
    // Exports: one model as JSON, the ticked ones as an index shard (.tar).
    const json = page.waitForEvent('download');
    await row.getByRole('button', { name: /^Export JSON/ }).click();
    expect((await json).suggestedFilename()).toMatch(/\.json$/);
    await row.getByRole('checkbox').check();
    const shard = page.waitForEvent('download');
    await panel.getByRole('button', { name: /export as index shard/i }).click();
    expect((await shard).suggestedFilename()).toMatch(/\.shard\.tar$/);

    await row.getByRole('button', { name: /^Rename/ }).click();
    await row.getByTestId('rename-input').fill('Crimson things');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(row.locator('.name')).toHaveText('Crimson things');
    expect(await seriousViolations(page)).toEqual([]);
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot('add-model-your-models-panel', info.project.name) });
    expect((await callDebug(page, 'listLocalModels')).map((m) => m.name)).toEqual(['Crimson things']);

    // Offline storage lists it, and "Clear saved files" keeps it.
    const storage = page.getByTestId('storage-panel');
    await storage.locator('summary').click();
    await expect(storage.getByTestId('storage-local-models')).toContainText('Crimson things');
    await expect(storage).toContainText('your own models are kept');
    await storage.getByRole('button', { name: 'Clear saved files' }).click();
    await expect(storage.getByTestId('storage-status')).toHaveText('Cleared');
    expect((await callDebug(page, 'listLocalModels')).map((m) => m.name)).toEqual(['Crimson things']);

    await row.getByRole('button', { name: /^Remove/ }).click();
    await expect(row).toContainText('Remove “Crimson things” from this browser?');
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(panel.getByTestId('local-models-empty')).toBeVisible();
    expect(await callDebug(page, 'listLocalModels')).toEqual([]);
    await expect(page.getByTestId('results').locator('li')).toHaveCount(12);
    await expect(page.locator('[data-testid="results"] li[data-local]')).toHaveCount(0);
    expect(errors).toEqual([]);
  });

  test('a single image is refused before any work, and nothing is listed', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openColours(page);
    const dialog = await openDialog(page);
    await dialog.locator('#add-model-files').setInputFiles((await reds(1))[0]);
    await expect(dialog.getByTestId('add-model-refusal')).toContainText('at least 2');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Add model' }).click();
    await expect(page.getByTestId('add-model-status')).toHaveAttribute('data-phase', 'refused');
    await expect(page.getByTestId('add-model-status')).toContainText('at least 2');
    await dialog.getByRole('button', { name: 'Done' }).click();
    const panel = page.getByTestId('local-models');
    await panel.locator('summary').click();
    await expect(panel.getByTestId('local-models-empty')).toBeVisible();
    expect(errors).toEqual([]);
  });

  test('storage full while adding: a clear message, nothing saved (after a reload too); with room again the same images save', async ({ page, baseURL }) => {
    test.setTimeout(180_000);
    const errors = watchPageErrors(page);
    // A tiny quota for the app's origin in this context, set before anything is stored (Chromium
    // keeps the quota it has checked once): every IndexedDB write is refused, as on a full disk.
    // navigator.storage.estimate() does not show this override, so the save's own pre-check passes
    // and the browser's QuotaExceededError is what the worker meets.
    const cdp = await page.context().newCDPSession(page);
    const origin = new URL(baseURL!).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 });
    await openColours(page);
    const dialog = await openDialog(page);
    const images = await reds(5, 'full');
    await dialog.locator('#add-model-files').setInputFiles(images);
    await dialog.getByRole('button', { name: 'Add model' }).click();
    const status = page.getByTestId('add-model-status');
    await expect(status).toHaveAttribute('data-phase', 'refused', { timeout: 120_000 });
    await expect(status).toHaveText(/^Not added: Not enough storage to keep this model \(needs ≈ [\d.]+ MB; the browser refused to store it\)\. Remove one of your models, or clear saved files under Offline storage\./);
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(await callDebug(page, 'listLocalModels')).toEqual([]);
    await search(page, 'crimson');
    await expect(page.getByTestId('results').locator('li')).toHaveCount(12);
    await page.reload();
    await waitReady(page);
    expect(await callDebug(page, 'listLocalModels')).toEqual([]);

    // Room again: the same images are not "already added" (nothing was half-saved); they save.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    const again = await openDialog(page);
    await again.locator('#add-model-files').setInputFiles(images);
    await again.getByRole('button', { name: 'Add model' }).click();
    await expect(status).toContainText('Saved', { timeout: 120_000 });
    expect((await callDebug(page, 'listLocalModels')).map((m) => m.images)).toEqual([5]);
    expect(errors).toEqual([]);
  });

  test('Cancel while embedding saves nothing, and the search still works', async ({ page }) => {
    test.setTimeout(120_000);
    const errors = watchPageErrors(page);
    await openColours(page);
    await callDebug(page, 'holdAdd', 'before-save');
    const dialog = await openDialog(page);
    await dialog.locator('#add-model-files').setInputFiles(await reds(4, 'held'));
    await dialog.getByRole('button', { name: 'Add model' }).click();
    const status = page.getByTestId('add-model-status');
    await expect(status).toHaveAttribute('data-phase', /embedding|saving/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // "Cancelling…" until the worker stops at a checkpoint (it may stop before the held stage);
    // released, it sees the cancel and writes nothing.
    await expect(status).toHaveText(/^Cancel(ling…|led: nothing was saved\.)$/);
    await callDebug(page, 'holdAdd', null);
    await expect(status).toContainText('Cancelled: nothing was saved.');
    expect(await callDebug(page, 'listLocalModels')).toEqual([]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await search(page, 'crimson');
    await expect(page.getByTestId('results').locator('li')).toHaveCount(12);
    expect(errors).toEqual([]);
  });

  test('the tab closed while an add waits to save: nothing is saved', async ({ page, context }) => {
    test.setTimeout(120_000);
    await openColours(page);
    await callDebug(page, 'holdAdd', 'before-save');
    const dialog = await openDialog(page);
    await dialog.locator('#add-model-files').setInputFiles(await reds(3, 'closed'));
    await dialog.getByRole('button', { name: 'Add model' }).click();
    // Every image embedded: the worker now waits before its one write.
    await expect(page.getByTestId('add-model-status')).toContainText(/Embedding 3 of 3|Saving/);
    await page.close();
    const next = await context.newPage();
    await openColours(next);
    expect(await callDebug(next, 'listLocalModels')).toEqual([]);
    const panel = next.getByTestId('local-models');
    await panel.locator('summary').click();
    await expect(panel.getByTestId('local-models-empty')).toBeVisible();
  });
});
