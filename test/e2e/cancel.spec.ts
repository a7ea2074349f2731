import { expect, test, type Page } from '@playwright/test';
import type { AbortStage, WorkerCounts } from '../../src/shared/protocol.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { callDebug, COLOURS, expectMatchesReference, fireQueries as fire, ranking, readResults, submitQuery as submit, waitReady, watchPageErrors } from '../support/page.ts';

/**
 * Superseded queries are cancelled in the worker, not only dropped on the page: the worker's own
 * counters (through ?debug) show what it encoded and scored. Holding searches at a checkpoint makes
 * "cancelled while encoding" and "cancelled before encoding" exact rather than a matter of timing.
 */

const counts = (page: Page): Promise<WorkerCounts> => callDebug(page, 'workerCounts');
const hold = (page: Page, stage: AbortStage | null) => callDebug(page, 'holdSearches', stage);
const searchesSent = (page: Page) => callDebug(page, 'searchesSent');
const workerStarts = (page: Page) => callDebug(page, 'workerStarts');

async function openColours(page: Page) {
  await page.goto(`./?${COLOURS}&debug=1`);
  await waitReady(page);
}

/** The 300-model demo index: its zoo encoder takes long enough that a query can be cancelled mid-way. */
async function openDemo(page: Page) {
  await page.goto('./?debug=1');
  await waitReady(page);
}

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

  // Each row holds the worker at one stage of the first query, sends a second, and checks which
  // work was done and what was aborted where.
  for (const { stage, title, expected, seq } of [
    { stage: 'before-encode', title: 'a query superseded before its encode starts is never encoded', expected: { encodes: 1, scorings: 1, aborted: { 'before-encode': 1, 'before-score': 0, 'before-return': 0 } }, seq: undefined },
    { stage: 'before-score', title: 'a query superseded while it is being encoded is never scored', expected: { encodes: 2, scorings: 1, aborted: { 'before-encode': 0, 'before-score': 1, 'before-return': 0 } }, seq: undefined },
    { stage: 'before-return', title: 'a query superseded after scoring is not sent back, and its answer never replaces the newer one', expected: { scorings: 2, aborted: { 'before-encode': 0, 'before-score': 0, 'before-return': 1 } }, seq: '1' },
  ] as const) {
    test(title, async ({ page }) => {
      const errors = watchPageErrors(page);
      await openColours(page);
      await hold(page, stage);
      await submit(page, 'teal');
      await expect.poll(async () => (await counts(page)).held).toBe(1);
      await submit(page, 'crimson');
      await expect.poll(async () => (await counts(page)).held).toBe(2);
      await hold(page, null);
      await expectResultsFor(page, 'crimson');
      const c = await counts(page);
      expect(Object.fromEntries(Object.keys(expected).map((k) => [k, c[k as keyof typeof expected]]))).toEqual(expected);
      if (seq) await expect(page.getByTestId('status')).toHaveAttribute('data-seq', seq);
      await expect(page.getByTestId('error-banner')).toBeHidden();
      expect(errors).toEqual([]);
    });
  }
});
