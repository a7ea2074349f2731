import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { afterSearch, readResults, searchBox, waitReady, watchPageErrors, type ShownResult } from '../support/page.ts';

// The app (worker, onnxruntime-web) and the search CLI (onnxruntime-node) rank through the same
// src/core/scoring/rank.ts: the same query must give the same ranks and scores in both. Runs once,
// on WASM, against the fp16 demo index the app opens by default.
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'CLI parity runs in the wasm project'));

const INDEX = join(PUBLIC_DIR, 'index/demo');
const run = promisify(execFile);

interface CliRanking {
  method: string;
  kinds: string[];
  hybrid: boolean;
  matched: number;
  queryModel?: { id: string };
  results: { rank: number; id: string; score: number }[];
}

async function cli(...args: string[]): Promise<CliRanking> {
  const { stdout } = await run('npx', ['tsx', 'tools/search.ts', '--index', INDEX, '--top', '24', '--json', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as CliRanking;
}

async function pageMethod(page: Page): Promise<string> {
  return (await page.getByTestId('results').getAttribute('data-method'))!;
}

/** Identical ranks and scores (float32 rounding of the two onnxruntime builds: 1e-5 relative). */
function expectSame(shown: ShownResult[], ref: CliRanking) {
  expect(shown.length).toBeGreaterThan(0);
  expect(shown.map((r) => r.id)).toEqual(ref.results.map((r) => r.id));
  expect(shown.map((r) => r.rank)).toEqual(ref.results.map((r) => r.rank));
  shown.forEach((r, i) => {
    const want = ref.results[i].score;
    expect(Math.abs(r.score - want), `${r.id}: page ${r.score}, CLI ${want}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
  });
}

/** A demo model's first thumbnail as PNG (lossless: the same pixels in the browser and in Node). */
async function demoThumbPng(): Promise<{ id: string; family: string; png: Buffer }> {
  const models = JSON.parse(await readFile(join(INDEX, 'models.json'), 'utf8')) as { id: string; family: string; thumbnails: string[] }[];
  const m = models[17];
  return { id: m.id, family: m.family, png: await sharp(join(INDEX, m.thumbnails[0])).png().toBuffer() };
}

/** Bytes of the query image the app sent (its preview's object URL is the same Blob). */
async function queryImageBytes(page: Page): Promise<Buffer> {
  const src = await page.getByTestId('image-query').locator('img').getAttribute('src');
  return Buffer.from(await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url!)).arrayBuffer())), src));
}

let tmp: string;
test.beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-parity-'));
});
test.afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('text, text with filters, and hybrid queries rank the same in the page and in the CLI', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = watchPageErrors(page);
  const cases: { q: string; hw?: number; args: string[] }[] = [
    { q: 'red flowers', args: ['--text', 'red flowers'] },
    { q: 'flower family:"flower"', args: ['--text', 'flower family:"flower"'] },
    { q: 'pixel rocket', hw: 0.5, args: ['--text', 'pixel rocket', '--hybrid', '0.5'] },
  ];
  for (const c of cases) {
    const params = new URLSearchParams({ q: c.q, ...(c.hw ? { hw: String(c.hw) } : {}) });
    await page.goto(`./?${params}`);
    await waitReady(page);
    await expect(page.getByTestId('status')).toHaveAttribute('data-searching', 'false');
    await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
    const ref = await cli(...c.args);
    expect(await pageMethod(page)).toBe(ref.method);
    expect(ref.method).toBe('first-moment'); // Auto for text, in both
    expect(ref.hybrid).toBe(!!c.hw);
    expectSame(await readResults(page), ref);
    if (c.q.includes('family:')) {
      expect(ref.matched).toBeLessThan(300);
      expect(ref.results.length).toBeLessThanOrEqual(ref.matched);
    }
  }
  // Typed into the box (not from the URL) gives the same, too; the hybrid weight stays as the URL set it.
  await afterSearch(page, async () => {
    await searchBox(page).fill('blue boat');
    await searchBox(page).press('Enter');
  });
  expectSame(await readResults(page), await cli('--text', 'blue boat', '--hybrid', '0.5'));
  expect(errors).toEqual([]);
});

test('an image, a sketch and "more like this" rank the same in the page and in the CLI', async ({ page, context }) => {
  test.setTimeout(120_000);
  const errors = watchPageErrors(page);
  await page.goto('./');
  await waitReady(page);

  // Image: Auto = Gaussian density on this index, in both.
  const { id, family, png } = await demoThumbPng();
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'model.png', mimeType: 'image/png', buffer: png }));
  const imageFile = join(tmp, 'image.png');
  await writeFile(imageFile, await queryImageBytes(page));
  const image = await cli('--image', imageFile);
  expect(image.method).toBe('gaussian');
  expect(await pageMethod(page)).toBe('gaussian');
  expect(image.results[0].id).toBe(id);
  expectSame(await readResults(page), image);
  await page.getByRole('button', { name: /remove image/i }).click();

  // Sketch: drawn with the mouse; the app's PNG goes to the CLI as --sketch (Auto: 1st moment).
  await page.getByRole('button', { name: 'Sketch' }).click();
  const canvas = page.getByTestId('sketch-canvas');
  const box = (await canvas.boundingBox())!;
  const stroke = async (points: [number, number][]) => {
    await page.mouse.move(box.x + points[0][0] * box.width, box.y + points[0][1] * box.height);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 4 });
    await page.mouse.up();
  };
  await stroke([[0.5, 0.2], [0.3, 0.7], [0.7, 0.7], [0.5, 0.2]]);
  await stroke([[0.45, 0.7], [0.45, 0.85], [0.55, 0.85], [0.55, 0.7]]);
  await afterSearch(page, () => page.getByRole('button', { name: 'Search with sketch' }).click());
  await expect(page.getByTestId('image-query')).toHaveAttribute('data-source', 'sketch');
  const sketchFile = join(tmp, 'sketch.png');
  await writeFile(sketchFile, await queryImageBytes(page));
  const sketch = await cli('--sketch', sketchFile);
  expect(sketch.kinds).toEqual(['sketch']);
  expect(sketch.method).toBe('first-moment');
  expect(await pageMethod(page)).toBe('first-moment');
  expectSame(await readResults(page), sketch);

  // More like this, from a link opened in a new tab (no sketch in its session): the query model is left out in both.
  const tab = await context.newPage();
  await tab.goto(`./?like=${encodeURIComponent(id)}`);
  await waitReady(tab);
  await expect(tab.getByTestId('status')).toHaveAttribute('data-searching', 'false');
  await expect(tab.getByTestId('results').locator('li').first()).toBeVisible();
  const like = await cli('--like', id);
  expect(like.queryModel?.id).toBe(id);
  expect(like.results.map((r) => r.id)).not.toContain(id);
  expectSame(await readResults(tab), like);

  // More like this within a family (the box's field filters stay on a model query, in both).
  const filtered = new URLSearchParams({ like: id, q: `family:"${family}"` });
  await tab.goto(`./?${filtered}`);
  await waitReady(tab);
  await expect(tab.getByTestId('status')).toHaveAttribute('data-searching', 'false');
  await expect(tab.getByTestId('results').locator('li').first()).toBeVisible();
  const likeInFamily = await cli('--like', id, '--text', `family:"${family}"`);
  expect(likeInFamily.matched).toBeLessThan(300);
  expectSame(await readResults(tab), likeInFamily);
  expect(errors).toEqual([]);
});

test('field filters alone list the same models, in the same order, in the page and in the CLI', async ({ page }) => {
  await page.goto(`./?${new URLSearchParams({ q: 'family:"star" creator:"dreamfox37"' })}`);
  await waitReady(page);
  await expect(page.getByTestId('status')).toHaveAttribute('data-searching', 'false');
  const ref = (await cli('--text', 'family:"star" creator:"dreamfox37"')) as CliRanking & { listing: boolean };
  expect(ref.listing).toBe(true);
  expect(ref.kinds).toEqual([]);
  expect(ref.results.every((r) => r.score === null)).toBe(true);
  const shown = await readResults(page);
  expect(shown.map((r) => r.id)).toEqual(ref.results.map((r) => r.id));
  expect(shown.length).toBe(ref.matched);
  // A family alone: the first page of a longer list.
  await page.goto(`./?${new URLSearchParams({ q: 'family:"house"' })}`);
  await waitReady(page);
  await expect(page.getByTestId('status')).toHaveAttribute('data-searching', 'false');
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  const houses = await cli('--text', 'family:"house"');
  expect((await readResults(page)).map((r) => r.id)).toEqual(houses.results.map((r) => r.id));
});
