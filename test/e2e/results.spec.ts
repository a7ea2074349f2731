import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import Papa from 'papaparse';
import { createMetadataSearch, hybridScores, metadataRelevance } from '../../src/core/scoring/hybrid.ts';
import { scoreMethod } from '../../src/core/scoring/methods.ts';
import { nodeIndex } from '../support/nodeSearch.ts';
import { COLOURS, afterSearch, expectMatchesReference, readResults, searchBox, shot, typeQuery, waitReady, watchPageErrors } from '../support/page.ts';

test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'result features run in the wasm project'));

test('cards open a details dialog by keyboard; it shows the metadata, copies a link, and closes back to its card', async ({ page, context }, info) => {
  const errors = watchPageErrors(page);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(`./?${COLOURS}&q=red`);
  await waitReady(page);
  const cards = page.getByTestId('results').locator('li');
  await expect(cards.first()).toBeVisible();
  await expect(cards).toHaveCount(12);
  const first = cards.first();
  await expect(first.locator('.rank')).toHaveText('#1');
  await expect(first.locator('img')).toHaveCount(3);
  await expect(first.locator('.family')).not.toBeEmpty();

  // Arrow keys move between cards; Enter opens the details.
  await first.getByRole('button', { name: /details/i }).focus();
  await page.keyboard.press('ArrowRight');
  const second = cards.nth(1);
  await expect(second.getByRole('button', { name: /details/i })).toBeFocused();
  const id = (await second.getAttribute('data-model-id'))!;
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('model-details');
  await expect(dialog).toBeVisible();
  const ref = await nodeIndex('index/colours');
  const meta = ref.models[ref.ids.indexOf(id)];
  await expect(dialog.getByRole('heading', { level: 2 })).toHaveText(meta.name);
  await expect(dialog).toContainText(meta.description);
  await expect(dialog).toContainText(meta.family);
  await expect(dialog).toContainText(meta.licence);
  await expect(dialog.locator('img')).toHaveCount(meta.thumbnails.length);
  await page.screenshot({ path: shot('details', info.project.name) });

  await dialog.getByRole('button', { name: 'Copy link' }).click();
  await expect(dialog.getByTestId('copy-status')).toContainText('Copied');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(new URL(link).searchParams.get('like')).toBe(id);
  expect(new URL(link).searchParams.get('index')).toBe('index/colours/');
  await dialog.getByRole('button', { name: 'Copy citation' }).click();
  const bib = await page.evaluate(() => navigator.clipboard.readText());
  expect(bib).toMatch(/^@misc\{/);
  expect(bib).toContain(meta.name);

  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(second.getByRole('button', { name: /details/i })).toBeFocused();
  expect(errors).toEqual([]);
});

test('the score-distribution plot shows every model and marks the shown results', async ({ page }, info) => {
  const ref = await nodeIndex('index/colours');
  await page.goto(`./?${COLOURS}&how=1&q=deep%20blue%20water`);
  await waitReady(page);
  const plot = page.getByTestId('score-plot');
  await expect(plot).toBeVisible();
  const shown = await readResults(page);
  await expect(plot).toHaveAttribute('data-marked', String(shown.length));
  // The top hit's standing (robust z: median and 1.4826 × MAD), recomputed here from Node's scores.
  const scores = Array.from(scoreMethod(ref.index, 'first-moment', await ref.encodeText('deep blue water')));
  const sorted = [...scores].sort((a, b) => a - b);
  const med = (xs: number[]) => (xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2);
  const centre = med(sorted);
  const spread = 1.4826 * med(sorted.map((v) => Math.abs(v - centre)).sort((a, b) => a - b));
  const z = (Math.max(...scores) - centre) / spread;
  expect(Number(await plot.getAttribute('data-top-z'))).toBeCloseTo(z, 1);
  const strength = z >= Math.max(3, Math.sqrt(2 * Math.log(scores.length))) ? 'strong' : z >= 2 ? 'good' : 'weak';
  const caption = plot.locator('figcaption');
  const topName = await page.getByTestId('results').locator('li').first().locator('h3').innerText();
  await expect(caption).toContainText(strength === 'weak' ? 'No model stands out' : `is a ${strength} match`);
  await expect(caption).toContainText(`“${topName}”`);
  await expect(caption).toContainText(`${z.toFixed(1)} robust standard deviations above the median 1st moment score of ${scores.length} models`);
  // The cards say the same strength in words; the first card's badge matches the caption.
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-strength', strength);
  // Hovering a line names its model; focusing the lines and using the arrow keys walks them.
  const marks = plot.locator('button.mark');
  await expect(marks).toHaveCount(shown.length);
  await marks.last().hover(); // the lines run from low to high score
  await expect(plot.getByTestId('plot-tip')).toContainText(topName);
  await marks.first().focus();
  await page.keyboard.press('End');
  await expect(plot.getByTestId('plot-tip')).toContainText(`#1 ${topName}`);
  await expect(marks.last()).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(marks.nth(shown.length - 2)).toBeFocused();
  // Something is drawn.
  const inked = await plot.locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  expect(inked).toBeGreaterThan(200);
  await plot.screenshot({ path: shot('score-plot', info.project.name) });
});

test('the result list exports as JSON and CSV with the shown ranks and scores', async ({ page }) => {
  await page.goto(`./?${COLOURS}&how=1&q=green`);
  await waitReady(page);
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  const shown = await readResults(page);

  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  expect(json.suggestedFilename()).toBe('model-search-green.json');
  const doc = JSON.parse(await readFile((await json.path())!, 'utf8'));
  expect(doc.method).toBe('first-moment');
  expect(doc.results.map((r: { id: string; rank: number; score: number }) => ({ id: r.id, rank: r.rank, score: r.score }))).toEqual(shown);

  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  expect(csv.suggestedFilename()).toBe('model-search-green.csv');
  const rows = Papa.parse<Record<string, string>>(await readFile((await csv.path())!, 'utf8'), { header: true, skipEmptyLines: true }).data;
  expect(rows.map((r) => ({ id: r.id, rank: Number(r.rank), score: Number(r.score) }))).toEqual(shown);
});

test('field filters and facets narrow the ranking; the hybrid toggle fuses metadata relevance', async ({ page }, info) => {
  const ref = await nodeIndex('index/colours');
  await page.goto(`./?${COLOURS}&how=1`);
  await waitReady(page);
  await typeQuery(page, 'green family:nature');
  const families = () => page.getByTestId('results').locator('li .family').allTextContents();
  expect(new Set(await families())).toEqual(new Set(['nature']));
  await expect(page.getByRole('heading', { name: /of 2 matching/ })).toBeVisible();
  const text = scoreMethod(ref.index, 'first-moment', await ref.encodeText('green'));
  const notNature = ref.models.flatMap((m, i) => (m.family === 'nature' ? [] : [i]));
  expectMatchesReference(await readResults(page), ref.ids, text, notNature);

  // Facet counts are disjunctive: the family counts ignore the family filter itself.
  const facets = page.getByTestId('facets');
  const water = facets.locator('[data-facet-field="family"][data-facet-value="water"]');
  await expect(facets.getByText(`water (${ref.models.filter((m) => m.family === 'water').length})`)).toBeVisible();
  await afterSearch(page, () => water.check());
  await expect(searchBox(page)).toHaveValue('green family:nature family:water');
  expect(new URL(page.url()).searchParams.get('q')).toBe('green family:nature family:water');
  expect(new Set(await families())).toEqual(new Set(['nature', 'water']));
  await page.screenshot({ path: shot('filters', info.project.name), fullPage: true });
  await afterSearch(page, () => facets.getByRole('button', { name: /clear filters/i }).click());
  await expect(searchBox(page)).toHaveValue('green');

  // Hybrid: names and descriptions count too (MiniSearch relevance fused by reciprocal rank).
  await typeQuery(page, 'ink');
  const contentOnly = await readResults(page);
  await afterSearch(page, () => page.getByRole('checkbox', { name: /hybrid/i }).check());
  expect(new URL(page.url()).searchParams.get('hw')).toBe('0.3');
  const fused = hybridScores(
    scoreMethod(ref.index, 'first-moment', await ref.encodeText('ink')),
    metadataRelevance(createMetadataSearch(ref.models), 'ink', ref.models.length),
    0.3,
  );
  const hybrid = await readResults(page);
  expectMatchesReference(hybrid, ref.ids, fused);
  expect(hybrid[0].id).toBe('midnight-ink');
  expect(hybrid.map((r) => r.id)).not.toEqual(contentOnly.map((r) => r.id));
  await expect(page.getByTestId('timings')).toContainText('hybrid');
});

test('the address bar holds the search: back/forward, reload and a new browser reproduce it', async ({ page, browser }) => {
  await page.goto(`./?${COLOURS}&how=1`);
  await waitReady(page);
  await typeQuery(page, 'green');
  await afterSearch(page, () => page.getByLabel('Method').selectOption({ label: 'Best-k' }));
  await afterSearch(page, () => page.getByRole('spinbutton', { name: 'k' }).fill('2').then(() => page.getByRole('spinbutton', { name: 'k' }).press('Enter')));
  expect(new URL(page.url()).searchParams.get('method')).toBe('best-k');
  expect(new URL(page.url()).searchParams.get('k')).toBe('2');
  const green = await readResults(page);
  const ref = await nodeIndex('index/colours');
  expectMatchesReference(green, ref.ids, scoreMethod(ref.index, 'best-k', await ref.encodeText('green'), { k: 2 }));
  const greenUrl = page.url();

  await typeQuery(page, 'violet');
  const violet = await readResults(page);
  await afterSearch(page, () => page.goBack());
  await expect(searchBox(page)).toHaveValue('green');
  await expect(page.getByLabel('Method')).toHaveValue('best-k');
  expect(await readResults(page)).toEqual(green);
  await afterSearch(page, () => page.goForward());
  await expect(searchBox(page)).toHaveValue('violet');
  expect(await readResults(page)).toEqual(violet);

  await page.goto(greenUrl);
  await waitReady(page);
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  expect(await readResults(page)).toEqual(green);

  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.goto(greenUrl);
  await waitReady(fresh);
  await expect(fresh.getByTestId('results').locator('li').first()).toBeVisible();
  expect(await readResults(fresh)).toEqual(green);
  await other.close();
});

test('field filters alone list the models they match by name; facets show their most common values first', async ({ page }, info) => {
  await page.goto('./');
  await waitReady(page);
  await typeQuery(page, 'family:flower');
  const ref = await nodeIndex('index/demo');
  const flowers = ref.models.filter((m) => m.family === 'flower').map((m) => m.name);
  const byName = [...flowers].sort(new Intl.Collator('en', { sensitivity: 'base', numeric: true }).compare);
  await expect(page.getByRole('heading', { level: 2, name: `${Math.min(24, flowers.length)} of ${flowers.length} models with family:flower, by name` })).toBeVisible();
  const names = await page.getByTestId('results').locator('li h3').allInnerTexts();
  expect(names).toEqual(byName.slice(0, 24));
  // A listing is not a ranking: no error, no strength words, no ranking panel.
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('results').locator('[data-strength]')).toHaveCount(0);
  await expect(page.getByText('How this ranking works')).toHaveCount(0);

  // Facets: the six most common values of a field, then "Show all".
  const creators = page.locator('fieldset').filter({ has: page.locator('legend', { hasText: 'Creator' }) });
  await expect(creators.locator('input[type=checkbox]')).toHaveCount(6);
  const more = creators.getByRole('button', { name: /^Show all \d+$/ });
  const total = Number((await more.innerText()).match(/\d+/)![0]);
  expect(total).toBeGreaterThan(6);
  await more.click();
  await expect(creators.locator('input[type=checkbox]')).toHaveCount(total);
  await expect(creators.getByRole('button', { name: 'Show fewer' })).toHaveAttribute('aria-expanded', 'true');
  await page.screenshot({ path: shot('listing', info.project.name) });
});
