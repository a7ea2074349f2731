import { expect, test } from '@playwright/test';
import { makeZoo, evalTextQueries } from '../../tools/zoo/spec.ts';
import { DEMO_MODELS } from '../../tools/build-demo-index.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';

/** The app's default index: the 300-model evaluation zoo embedded with the trained zoo encoder. */
test('the default demo index answers a paraphrased text query with the right model, as Node ranks it', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const zoo = makeZoo('eval', DEMO_MODELS);
  const target = zoo[17];
  const query = evalTextQueries(target)[0];
  // Text queries sit far from image statistics (CLIP's modality gap): the 1st moment ranks them best.
  await page.goto(`./?q=${encodeURIComponent(query)}&method=first-moment`);
  const status = page.getByTestId('status');
  await expect(status).toHaveAttribute('data-phase', 'ready');
  // The runtime line is in "How this ranking works" (folded; its text is there all the same).
  await expect(page.getByTestId('runtime')).toContainText(`${DEMO_MODELS} models`);
  await expect(page.getByTestId('runtime')).toContainText('Zoo encoder');
  const items = page.getByTestId('results').locator('li');
  await expect(items.first()).toBeVisible();
  const shown = await items.evaluateAll((els) => els.map((li) => ({ id: li.getAttribute('data-model-id')!, score: Number(li.getAttribute('data-score')) })));
  const method = (await page.getByTestId('results').getAttribute('data-method'))!;
  expect(shown.slice(0, 5).map((r) => r.id)).toContain(target.id);

  const reference = await nodeTextScores('index/demo', query, method as Parameters<typeof nodeTextScores>[2]);
  const order = [...reference.scores.keys()].sort((a, b) => reference.scores[b] - reference.scores[a] || a - b).map((i) => reference.ids[i]);
  expect(shown.map((r) => r.id)).toEqual(order.slice(0, shown.length));
  // Thumbnails load (no broken images).
  const firstThumb = items.first().locator('img').first();
  await expect(firstThumb).toHaveJSProperty('complete', true);
  expect(await firstThumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await page.screenshot({ path: `test-results/screenshots/${info.project.name}-demo.png` });
  expect(errors).toEqual([]);
});
