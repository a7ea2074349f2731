import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type Page, type Route } from '@playwright/test';
import sharp from 'sharp';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { afterSearch, callDebug, readResults, shot, submitQuery, waitReady, watchPageErrors, type ShownResult } from '../support/page.ts';
import { buildSignCodedFixture, SIGN_CODED_DIR } from '../support/signCodedFixture.ts';

/**
 * A sign-coded tiered index in the app (the 1M-model layout, docs/index-format.md): the head holds
 * one sign bit per dimension, the int8 means live in codes.bin and are fetched per query for the
 * sign shortlist's blocks, verified, kept in memory and saved offline like records. The fixture is
 * the tiered demo re-packed by `build-index merge --prefilter sign --block-files`
 * (test/support/signCodedFixture.ts), so with every model shortlisted and reranked it must rank
 * exactly as the tiered demo.
 */
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'tiered-index checks run in the wasm project'));

test.beforeAll(async ({}, info) => {
  if (info.project.name !== 'wasm') return;
  info.setTimeout(120_000);
  await buildSignCodedFixture();
});

const SIGNS = `index=${SIGN_CODED_DIR}/`;
const TIERED = 'index=index/demo-tiered/';
const QUERY = 'watercolor lighthouse at sunset';
/** codes.bin and records.bin of the fixture (300 models of d = 64: 80 and 4 240 bytes each). */
const CODES_BYTES = 300 * 80;
const RECORDS_BYTES = 1_272_000;
const BLOCKS = 19;

interface Stats {
  engine: string;
  source: string;
  candidates: number;
  blocksFetched: number;
  bytesFetched: number;
  requests: number;
  fromStorage: number;
  shortlist: number;
  codeBlocksFetched: number;
  codeBytesFetched: number;
  codeRequests: number;
  codeFromStorage: number;
}

async function stats(page: Page): Promise<Stats> {
  await openHow(page);
  const el = page.getByTestId('tiered-stats');
  const n = async (a: string) => Number(await el.getAttribute(a));
  return {
    engine: (await el.getAttribute('data-engine')) ?? '',
    source: (await el.getAttribute('data-source')) ?? '',
    candidates: await n('data-candidates'),
    blocksFetched: await n('data-blocks-fetched'),
    bytesFetched: await n('data-bytes-fetched'),
    requests: await n('data-requests'),
    fromStorage: await n('data-from-storage'),
    shortlist: await n('data-shortlist'),
    codeBlocksFetched: await n('data-code-blocks-fetched'),
    codeBytesFetched: await n('data-code-bytes-fetched'),
    codeRequests: await n('data-code-requests'),
    codeFromStorage: await n('data-code-from-storage'),
  };
}

/** Opens "How this ranking works" (it holds the stage numbers) unless it is open already. */
async function openHow(page: Page) {
  const panel = page.getByTestId('ranking-panel');
  if (!(await panel.evaluate((d) => (d as HTMLDetailsElement).open))) await panel.locator('summary').click();
}

async function search(page: Page, params: string, text = QUERY): Promise<ShownResult[]> {
  await page.goto(`/?${params}`);
  await waitReady(page);
  await afterSearch(page, () => submitQuery(page, text));
  return readResults(page);
}

/** A lossless PNG of one of the demo's thumbnails (its pixels are the same in every browser). */
async function thumbPng(model: string): Promise<Buffer> {
  return sharp(await readFile(join(PUBLIC_DIR, 'index/demo/thumbs', model, '0.webp'))).png().toBuffer();
}

async function searchImage(page: Page, params: string, png: Buffer): Promise<ShownResult[]> {
  await page.goto(`/?${params}`);
  await waitReady(page);
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'query.png', mimeType: 'image/png', buffer: png }));
  return readResults(page);
}

function expectSameTop10(signs: ShownResult[], tiered: ShownResult[]) {
  expect(signs.slice(0, 10).map((r) => r.id)).toEqual(tiered.slice(0, 10).map((r) => r.id));
  for (const [i, r] of signs.slice(0, 10).entries()) {
    const ref = tiered[i]!.score;
    expect(Number.isFinite(r.score)).toBe(true);
    expect(Math.abs(r.score - ref)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(ref), 1e-6));
  }
}

/** Requests for the fixture's codes.bin and records.bin (Range reads) and their per-block files. */
function countRequests(page: Page) {
  const seen = { codes: 0, records: 0, codeFiles: 0, blockFiles: 0 };
  const count = (key: keyof typeof seen) => (route: Route) => {
    seen[key]++;
    return route.continue();
  };
  return Promise.all([
    page.route(`**/${SIGN_CODED_DIR}/codes.bin`, count('codes')),
    page.route(`**/${SIGN_CODED_DIR}/records.bin`, count('records')),
    page.route(`**/${SIGN_CODED_DIR}/codes/*.bin`, count('codeFiles')),
    page.route(`**/${SIGN_CODED_DIR}/blocks/*.bin`, count('blockFiles')),
  ]).then(() => seen);
}

test('with every model shortlisted and reranked, the sign-coded index ranks as the tiered demo (text and image)', async ({ page }) => {
  const errors = watchPageErrors(page);
  const all = 'shortlist=300&candidates=300';
  const tieredText = await search(page, `${TIERED}&candidates=300`);
  const signsText = await search(page, `${SIGNS}&${all}`);
  expectSameTop10(signsText, tieredText);
  const s = await stats(page);
  expect(s).toMatchObject({ shortlist: 300, candidates: 300, engine: 'wasm' });
  // The whole codes.bin: every block of a shortlist of every model.
  expect(s.codeBlocksFetched).toBe(BLOCKS);
  expect(s.codeBytesFetched).toBe(CODES_BYTES);

  const png = await thumbPng('grain-aqua-oak-e0081');
  const tieredImage = await searchImage(page, `${TIERED}&candidates=300`, png);
  const signsImage = await searchImage(page, `${SIGNS}&${all}`, png);
  expect(await page.getByTestId('results').getAttribute('data-method')).toBe('gaussian');
  expectSameTop10(signsImage, tieredImage);
  expect(signsImage[0]!.id).toBe('grain-aqua-oak-e0081');
  expect(errors).toEqual([]);
});

test('a cold query fetches some code blocks and record blocks; a repeat fetches nothing; a reload reads them from offline storage', async ({ page }, info) => {
  const errors = watchPageErrors(page);
  const seen = await countRequests(page);
  // A shortlist of 60 of the 300 models (the default, 1000, keeps every model of so small an index).
  const params = `${SIGNS}&shortlist=60`;
  await search(page, params);
  const cold = await stats(page);
  expect(cold).toMatchObject({ shortlist: 60, candidates: 50, source: 'ranges', fromStorage: 0, codeFromStorage: 0, engine: 'wasm' });
  expect(cold.codeBlocksFetched).toBeGreaterThan(0);
  expect(cold.codeBlocksFetched).toBeLessThan(BLOCKS);
  expect(cold.codeBytesFetched).toBeGreaterThan(0);
  expect(cold.codeBytesFetched).toBeLessThan(CODES_BYTES);
  expect(cold.codeRequests).toBeGreaterThan(0);
  expect(cold.codeRequests).toBeLessThanOrEqual(cold.codeBlocksFetched);
  expect(cold.blocksFetched).toBeGreaterThan(0);
  expect(cold.blocksFetched).toBeLessThan(BLOCKS);
  expect(cold.bytesFetched).toBeGreaterThan(0);
  expect(cold.bytesFetched).toBeLessThan(RECORDS_BYTES);
  expect(seen.codes).toBe(cold.codeRequests);
  expect(seen.records).toBe(cold.requests);
  // Only the shortlist is scored: the plot says so, counted from the scores themselves.
  await expect(page.getByTestId('plot-estimates')).toHaveText('Exact scores for the top 50 candidates; 10 more were estimated from their int8 means; the other 240 models were only sign-screened (not scored, not in the plot).');
  await expect(page.getByTestId('tiered-stats')).toContainText('sign codes kept 60 of 300 models');
  await page.screenshot({ path: shot('sign-coded-shortlist', info.project.name), fullPage: true });
  const shown = await readResults(page);

  // The same query again: code blocks and records are in memory.
  await afterSearch(page, () => page.getByRole('button', { name: /^search$/i }).click());
  expect(await stats(page)).toMatchObject({ codeBlocksFetched: 0, codeBytesFetched: 0, codeRequests: 0, blocksFetched: 0, bytesFetched: 0, requests: 0 });

  // A reload: both come from IndexedDB (verified), not the network.
  for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] = 0;
  await page.reload();
  await waitReady(page);
  const status = page.getByTestId('status');
  await expect(status).toHaveAttribute('data-seq', '1');
  await expect(status).toHaveAttribute('data-searching', 'false');
  const warm = await stats(page);
  expect(warm).toMatchObject({ codeBlocksFetched: 0, codeBytesFetched: 0, blocksFetched: 0, bytesFetched: 0, codeFromStorage: cold.codeBlocksFetched, fromStorage: cold.blocksFetched });
  expect(seen).toEqual({ codes: 0, records: 0, codeFiles: 0, blockFiles: 0 });
  expect(await readResults(page)).toEqual(shown);
  expect(errors).toEqual([]);
});

test('a corrupted code block fails the query naming it; nothing of it is kept, and a retry from a good host works', async ({ page }) => {
  let corrupt = true;
  await page.route(`**/${SIGN_CODED_DIR}/codes.bin`, async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    if (corrupt) body[Math.floor(body.length / 2)] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await page.goto(`/?${SIGNS}`);
  await waitReady(page);
  await submitQuery(page, QUERY);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(/Code block \d+ failed its SHA-256 check/);
  await expect(alert).toContainText('codes.bin');
  corrupt = false;
  await page.unrouteAll({ behavior: 'wait' });
  await afterSearch(page, () => alert.getByRole('button', { name: 'Retry' }).click());
  const results = await readResults(page);
  expect(results).toHaveLength(24);
  expect(results.every((r) => Number.isFinite(r.score))).toBe(true);
  // The corrupt block was never saved: this query fetched it again.
  expect((await stats(page)).codeBlocksFetched).toBeGreaterThan(0);
});

test('a host that answers Range requests with the whole file: code blocks and records come from codes/ and blocks/, with a notice', async ({ page }) => {
  const errors = watchPageErrors(page);
  const params = `${SIGNS}&shortlist=60`;
  const reference = await search(page, params);
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const r = indexedDB.deleteDatabase('model-search-files');
        r.onsuccess = r.onerror = r.onblocked = () => resolve();
      }),
  );
  const files = { codes: [] as string[], blocks: [] as string[] };
  // Like a static host without Range support: 200 and the whole file.
  for (const file of ['codes.bin', 'records.bin']) {
    await page.route(`**/${SIGN_CODED_DIR}/${file}`, async (route) => {
      const response = await route.fetch({ headers: { ...route.request().headers(), range: '' } });
      await route.fulfill({ status: 200, body: await response.body(), headers: { 'content-type': 'application/octet-stream' } });
    });
  }
  await page.route(`**/${SIGN_CODED_DIR}/codes/*.bin`, (route) => (files.codes.push(route.request().url()), route.continue()));
  await page.route(`**/${SIGN_CODED_DIR}/blocks/*.bin`, (route) => (files.blocks.push(route.request().url()), route.continue()));
  const results = await search(page, params);
  expect(results).toEqual(reference);
  await expect(page.getByText(/does not answer partial \(Range\) requests correctly/)).toBeVisible();
  const s = await stats(page);
  expect(s.source).toBe('block-files');
  expect(files.codes.length).toBe(s.codeBlocksFetched);
  expect(files.blocks.length).toBe(s.blocksFetched);
  expect(s.codeBlocksFetched).toBeGreaterThan(0);
  expect(s.blocksFetched).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('the results page of a sign-coded index: cards, the stages in "How this ranking works", and the GPU honestly unavailable', async ({ page }, info) => {
  const errors = watchPageErrors(page);
  await page.goto(`/?${SIGNS}&how=1&debug`);
  await waitReady(page);
  await afterSearch(page, () => submitQuery(page, 'red flowers'));
  const cards = page.getByTestId('results').locator('li');
  await expect(cards).toHaveCount(24);
  expect((await readResults(page)).every((r) => Number.isFinite(r.score))).toBe(true);
  // The default shortlist (1000) keeps all 300 models here: nothing is left unscored.
  const s = await stats(page);
  expect(s).toMatchObject({ shortlist: 300, candidates: 50, engine: 'wasm' });
  await expect(page.getByTestId('plot-estimates')).toHaveText('Exact scores for the top 50 candidates; the other models’ scores are the prefilter’s estimates.');
  await expect(page.getByTestId('tiered-stats')).toContainText('three stages');
  // The WGSL prefilter scores int8 means held in the head, which a sign-coded head does not have.
  const gpu = await callDebug(page, 'gpuScoring', 'force');
  expect(gpu.engine).toBe('wasm');
  expect(gpu.reason).toMatch(/sign-coded head/);
  await page.screenshot({ path: shot('sign-coded-results', info.project.name), fullPage: true });
  expect(errors).toEqual([]);
});
