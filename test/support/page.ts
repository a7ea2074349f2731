import { expect, type Page } from '@playwright/test';
import type { ModelSearchDebug } from '../../src/lib/debugHooks.ts';

/** Browser-test helpers shared by the e2e specs. */

export const COLOURS = 'index=index/colours/';

export const shot = (name: string, project: string) => `test-results/screenshots/${project}-${name}.png`;

/** Collects uncaught errors and unhandled rejections in the page. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

export async function waitReady(page: Page) {
  await expect(page.getByTestId('status')).toHaveAttribute('data-phase', 'ready');
}

export async function searchSeq(page: Page): Promise<number> {
  return Number(await page.getByTestId('status').getAttribute('data-seq'));
}

/** Runs `action` and waits until the search it starts (not an earlier one) has rendered. */
export async function afterSearch(page: Page, action: () => Promise<unknown>, searches = 1) {
  const before = await searchSeq(page);
  await action();
  await expect(page.getByTestId('status')).toHaveAttribute('data-seq', String(before + searches));
  await expect(page.getByTestId('status')).toHaveAttribute('data-searching', 'false');
}

export function searchBox(page: Page) {
  return page.getByRole('searchbox', { name: /describe the images/i });
}

/** Submits a query from the search box without waiting for its results. */
export async function submitQuery(page: Page, text: string) {
  await searchBox(page).fill(text);
  await searchBox(page).press('Enter');
}

/**
 * Submits `queries` through the search form from inside the page, `perTask` at a time, each group in
 * its own task (a script or a held key, faster than anyone types). Within a task the older queries are
 * superseded before they leave the page; across tasks, the worker may have started them.
 */
export async function fireQueries(page: Page, queries: string[], perTask: number) {
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

type DebugHook = keyof ModelSearchDebug;

/** Calls a ?debug hook (src/lib/debugHooks.ts) in the page; the page must have been opened with debug=1. */
export function callDebug<K extends DebugHook>(page: Page, name: K, ...args: Parameters<ModelSearchDebug[K]>): Promise<Awaited<ReturnType<ModelSearchDebug[K]>>> {
  return page.evaluate(
    ({ name, args }) => {
      const hooks = (window as unknown as { modelSearchDebug: Record<string, (...a: unknown[]) => unknown> }).modelSearchDebug;
      return hooks[name](...args);
    },
    { name, args: args as unknown[] },
  ) as Promise<Awaited<ReturnType<ModelSearchDebug[K]>>>;
}

export async function typeQuery(page: Page, text: string) {
  await afterSearch(page, async () => {
    await searchBox(page).fill(text);
    await searchBox(page).press('Enter');
  });
}

export interface ShownResult {
  id: string;
  score: number;
  rank: number;
}

export async function readResults(page: Page): Promise<ShownResult[]> {
  return page.getByTestId('results').locator('li').evaluateAll((items) =>
    items.map((li) => ({
      id: li.getAttribute('data-model-id')!,
      score: Number(li.getAttribute('data-score')),
      rank: Number(li.getAttribute('data-rank')),
    })),
  );
}

/** Model ids by descending score, ties by index (the app's order). */
export function ranking(ids: string[], scores: ArrayLike<number>, exclude: number[] = []): string[] {
  return [...Array(scores.length).keys()]
    .filter((i) => !exclude.includes(i))
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .map((i) => ids[i]);
}

/** The shown results equal the reference ranking and scores (float32 tolerance). */
export function expectMatchesReference(shown: ShownResult[], ids: string[], scores: ArrayLike<number>, exclude: number[] = []) {
  const expected = ranking(ids, scores, exclude).slice(0, shown.length);
  expect(shown.map((r) => r.id)).toEqual(expected);
  for (const r of shown) {
    const ref = scores[ids.indexOf(r.id)];
    expect(Math.abs(r.score - ref)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref)));
  }
}

/** The offline-storage group records the worker commits once every file of a version is saved (workers/storage/fileStore.ts): group name → how many files. */
export function savedGroups(p: Page): Promise<Record<string, number>> {
  return p.evaluate(
    () =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const open = indexedDB.open('model-search-files');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const out: Record<string, number> = {};
          if (!db.objectStoreNames.contains('files')) return resolve(out);
          const cursor = db.transaction('files').objectStore('files').openCursor();
          cursor.onsuccess = () => {
            const c = cursor.result;
            if (!c) {
              db.close();
              return resolve(out);
            }
            if (String(c.key).startsWith('group:')) out[String(c.key).slice('group:'.length)] = (c.value as { files: string[] }).files.length;
            c.continue();
          };
        };
      }),
  );
}
