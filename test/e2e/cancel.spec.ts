import { expect, test, type Page } from '@playwright/test';
import type { ModelSearchDebug } from '../../src/lib/debugHooks.ts';
import type { AbortStage, WorkerCounts } from '../../src/shared/protocol.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { COLOURS, expectMatchesReference, ranking, readResults, searchBox, waitReady, watchPageErrors } from '../support/page.ts';

/**
 * Superseded queries are cancelled in the worker, not only dropped on the page: the worker's own
 * counters (through ?debug) show what it encoded and scored. Holding searches at a checkpoint makes
 * "cancelled while encoding" and "cancelled before encoding" exact rather than a matter of timing.
 */

type Debug = { modelSearchDebug: ModelSearchDebug };

const counts = (page: Page): Promise<WorkerCounts> => page.evaluate(() => (window as unknown as Debug).modelSearchDebug.workerCounts());
const hold = (page: Page, stage: AbortStage | null) => page.evaluate((s) => (window as unknown as Debug).modelSearchDebug.holdSearches(s), stage);
const searchesSent = (page: Page) => page.evaluate(() => (window as unknown as Debug).modelSearchDebug.searchesSent());
const workerStarts = (page: Page) => page.evaluate(() => (window as unknown as Debug).modelSearchDebug.workerStarts());

async function openColours(page: Page) {
  await page.goto(`./?${COLOURS}&debug=1`);
  await waitReady(page);
}

/** The 300-model demo index: its zoo encoder takes long enough that a query can be cancelled mid-way. */
async function openDemo(page: Page) {
  await page.goto('./?debug=1');
  await waitReady(page);
}

/** Submits a query from the search box without waiting for its results. */
async function submit(page: Page, text: string) {
  await searchBox(page).fill(text);
  await searchBox(page).press('Enter');
}

/**
 * Submits `queries` through the search form from inside the page, `perTask` at a time, each group in
 * its own task (a script or a held key, faster than anyone types). Within a task the older queries are
 * superseded before they leave the page; across tasks, the worker may have started them.
 */
async function fire(page: Page, queries: string[], perTask: number) {
  await page.evaluate(
    async ({ queries, perTask }) => {
      const box = document.querySelector<HTMLInputElement>('input[type="search"]')!;
      for (const [i, q] of queries.entries()) {
        box.value = q;
        box.dispatchEvent(new Event('input', { bubbles: true }));
        box.form!.requestSubmit();
        if ((i + 1) % perTask === 0) await new Promise((r) => setTimeout(r, 0));
      }
    },
    { queries, perTask },
  );
}

/** Waits until the results shown are those of `text`, and checks them against onnxruntime-node. */
async function expectResultsFor(page: Page, text: string, indexDir = 'index/colours') {
  const reference = await nodeTextScores(indexDir, text, 'first-moment');
  await expect(page.getByRole('heading', { name: new RegExp(`for “${text}”`) })).toBeVisible();
  await expect(page.getByTestId('status')).toHaveAttribute('data-searching', 'false');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', ranking(reference.ids, reference.scores)[0]);
  expectMatchesReference(await readResults(page), reference.ids, reference.scores);
}

/**
 * Every one-word search the worker received was encoded once unless stopped before encoding, and
 * scored unless stopped before that: nothing was encoded or scored that was not accounted for.
 */
function expectAccounted(c: WorkerCounts) {
  expect(c.encodes).toBe(c.searches - c.aborted['before-encode']);
  expect(c.scorings).toBe(c.searches - c.aborted['before-encode'] - c.aborted['before-score']);
}

const WORDS = ['teal', 'crimson', 'green forest', 'deep blue water', 'white snow'];

test.describe('superseded queries are cancelled in the worker', () => {
  test('a burst of queries in one go: only the last reaches the worker, and it is what is shown', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openColours(page);
    const queries = Array.from({ length: 12 }, (_, i) => WORDS[i % WORDS.length]).concat('crimson');
    await fire(page, queries, queries.length);
    await expectResultsFor(page, 'crimson');
    const c = await counts(page);
    expect(await searchesSent(page)).toBe(1);
    expect([c.searches, c.encodes, c.scorings]).toEqual([1, 1, 1]);
    await expect(page.getByTestId('status')).toHaveAttribute('data-seq', '1');
    await expect(page.getByTestId('error-banner')).toBeHidden();
    expect(errors).toEqual([]);
  });

  test('pairs of queries one task apart on the demo index: the worker encodes and scores fewer than were issued, and the last one wins', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openDemo(page);
    const words = ['pixel art cats', 'neon hearts on stripes', 'watercolour umbrellas in sunset orange', 'red flowers', 'teal'];
    const queries = Array.from({ length: 25 }, (_, i) => words[i % words.length]).concat('pixel art cats');
    await fire(page, queries, 2);
    await expectResultsFor(page, 'pixel art cats', 'index/demo');
    const c = await counts(page);
    // The first of each pair never left the page; the second reached the worker, which stopped those
    // superseded in time (how many depends on timing: recorded, not asserted).
    expect(await searchesSent(page)).toBe(queries.length / 2);
    expect(c.searches).toBe(queries.length / 2);
    test.info().annotations.push({ type: 'counts', description: JSON.stringify({ issued: queries.length, ...c }) });
    expect(c.encodes).toBeLessThan(queries.length);
    expect(c.scorings).toBeLessThan(queries.length);
    expectAccounted(c);
    await expect(page.getByTestId('error-banner')).toBeHidden();
    expect(await workerStarts(page)).toBe(1); // cancelling never replaced the worker
    expect(errors).toEqual([]);
  });

  test('a query superseded before its encode starts is never encoded', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openColours(page);
    await hold(page, 'before-encode');
    await submit(page, 'teal');
    await expect.poll(async () => (await counts(page)).held).toBe(1);
    await submit(page, 'crimson');
    await expect.poll(async () => (await counts(page)).held).toBe(2);
    await hold(page, null);
    await expectResultsFor(page, 'crimson');
    const c = await counts(page);
    expect({ encodes: c.encodes, scorings: c.scorings, aborted: c.aborted }).toEqual({
      encodes: 1,
      scorings: 1,
      aborted: { 'before-encode': 1, 'before-score': 0, 'before-return': 0 },
    });
    await expect(page.getByTestId('error-banner')).toBeHidden();
    expect(errors).toEqual([]);
  });

  test('a query superseded while it is being encoded is never scored', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openColours(page);
    await hold(page, 'before-score');
    await submit(page, 'teal');
    await expect.poll(async () => (await counts(page)).held).toBe(1);
    await submit(page, 'crimson');
    await expect.poll(async () => (await counts(page)).held).toBe(2);
    await hold(page, null);
    await expectResultsFor(page, 'crimson');
    const c = await counts(page);
    expect({ encodes: c.encodes, scorings: c.scorings, aborted: c.aborted }).toEqual({
      encodes: 2,
      scorings: 1,
      aborted: { 'before-encode': 0, 'before-score': 1, 'before-return': 0 },
    });
    await expect(page.getByTestId('error-banner')).toBeHidden();
    expect(errors).toEqual([]);
  });

  test('a query superseded after scoring is not sent back, and its answer never replaces the newer one', async ({ page }) => {
    const errors = watchPageErrors(page);
    await openColours(page);
    await hold(page, 'before-return');
    await submit(page, 'teal');
    await expect.poll(async () => (await counts(page)).held).toBe(1);
    await submit(page, 'crimson');
    await expect.poll(async () => (await counts(page)).held).toBe(2);
    await hold(page, null);
    await expectResultsFor(page, 'crimson');
    const c = await counts(page);
    expect({ scorings: c.scorings, aborted: c.aborted }).toEqual({ scorings: 2, aborted: { 'before-encode': 0, 'before-score': 0, 'before-return': 1 } });
    await expect(page.getByTestId('status')).toHaveAttribute('data-seq', '1');
    await expect(page.getByTestId('error-banner')).toBeHidden();
    expect(errors).toEqual([]);
  });
});
