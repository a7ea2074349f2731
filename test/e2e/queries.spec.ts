import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import sharp from 'sharp';
import { modelSimilarityScores, productOfExperts, scoreMethod, type Method } from '../../src/core/scoring/methods.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { nodeIndex } from '../support/nodeSearch.ts';
import { COLOURS, afterSearch, expectMatchesReference, ranking, readResults, searchBox, shot, waitReady, watchPageErrors } from '../support/page.ts';

// Query-type features are browser-independent UI over the same worker: run them once, on WASM
// (search.spec covers both backends).
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'query features run in the wasm project'));

/** A lossless PNG of one of the colours index's thumbnails: the same pixels in the browser and in Node. */
async function thumbPng(model: string): Promise<Buffer> {
  const webp = await readFile(join(PUBLIC_DIR, 'index/colours/thumbs', model, '0.webp'));
  return sharp(webp).png().toBuffer();
}

async function method(page: Page): Promise<Method> {
  return (await page.getByTestId('results').getAttribute('data-method')) as Method;
}

/** Bytes of the query image the app sent (the preview's object URL is the same Blob). */
async function queryImageBytes(page: Page): Promise<Uint8Array> {
  const src = await page.getByTestId('image-query').locator('img').getAttribute('src');
  const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url!)).arrayBuffer())), src);
  return new Uint8Array(bytes);
}

test('an image from the file picker ranks models like the Node encoder, and survives a reload', async ({ page }, info) => {
  const errors = watchPageErrors(page);
  const ref = await nodeIndex('index/colours');
  const png = await thumbPng('deep-sea');
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'deep.png', mimeType: 'image/png', buffer: png }));
  await expect(page.getByTestId('image-query')).toContainText('deep.png');
  expect(await method(page)).toBe('gaussian'); // Auto: Gaussian density for photos
  const shown = await readResults(page);
  expect(shown[0].id).toBe('deep-sea');
  const scores = scoreMethod(ref.index, 'gaussian', await ref.encodeImage(png));
  expectMatchesReference(shown, ref.ids, scores);
  await expect(page.getByRole('heading', { name: /image “deep\.png”/ })).toBeVisible();
  await page.screenshot({ path: shot('image-query', info.project.name), fullPage: true });

  // The image stays in the session, not in the URL: a reload restores it and its results.
  expect(page.url()).not.toContain('deep');
  await page.reload();
  await waitReady(page);
  await expect(page.getByTestId('image-query')).toContainText('deep.png');
  await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', 'deep-sea');
  expect(await readResults(page)).toEqual(shown);

  // Removing it clears the query and the stored copy.
  await page.getByRole('button', { name: /remove image deep\.png/i }).click();
  await expect(page.getByTestId('image-query')).toHaveCount(0);
  await page.reload();
  await waitReady(page);
  await expect(page.getByTestId('image-query')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('dropping a file anywhere on the page and pasting one both start an image search', async ({ page }) => {
  const errors = watchPageErrors(page);
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);
  const send = async (kind: 'drop' | 'paste', model: string) => {
    const b64 = (await thumbPng(model)).toString('base64');
    await afterSearch(page, () =>
      page.evaluate(
        ({ kind, b64, name }) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], name, { type: 'image/png' }));
          if (kind === 'paste') {
            document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
            return;
          }
          const target = document.querySelector('h1')!;
          target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
          target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
          target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        { kind, b64, name: `${model}.png` },
      ),
    );
    await expect(page.getByTestId('image-query')).toContainText(`${model}.png`);
    await expect(page.getByTestId('results').locator('li').first()).toHaveAttribute('data-model-id', model);
  };
  await send('drop', 'sunflower-fields');
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);
  await send('paste', 'violet-hour');

  // A drag shows the drop overlay until it leaves the window.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'x.png', { type: 'image/png' }));
    document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('drop-overlay')).toBeVisible();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'x.png', { type: 'image/png' }));
    document.body.dispatchEvent(new DragEvent('dragleave', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a sketch drawn with the mouse becomes an image query scored like Node, with undo and clear', async ({ page }, info) => {
  const errors = watchPageErrors(page);
  const ref = await nodeIndex('index/colours');
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);
  await page.getByRole('button', { name: 'Sketch' }).click();
  const canvas = page.getByTestId('sketch-canvas');
  await expect(canvas).toBeVisible();
  const searchWithSketch = page.getByRole('button', { name: 'Search with sketch' });
  await expect(searchWithSketch).toBeDisabled();

  const box = (await canvas.boundingBox())!;
  const draw = async (points: [number, number][]) => {
    await page.mouse.move(box.x + points[0][0] * box.width, box.y + points[0][1] * box.height);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 4 });
    await page.mouse.up();
  };
  // A house: walls, then a roof.
  await draw([[0.25, 0.85], [0.25, 0.45], [0.75, 0.45], [0.75, 0.85], [0.25, 0.85]]);
  await draw([[0.2, 0.47], [0.5, 0.15], [0.8, 0.47]]);
  await draw([[0.1, 0.1], [0.12, 0.12]]);
  const inked = () =>
    canvas.evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
      return dark;
    });
  await expect.poll(inked).toBeGreaterThan(500);
  const beforeUndo = await inked();
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect.poll(inked).toBeLessThan(beforeUndo);
  await page.screenshot({ path: shot('sketch', info.project.name), fullPage: true });

  await afterSearch(page, () => searchWithSketch.click());
  await expect(page.getByTestId('image-query')).toHaveAttribute('data-source', 'sketch');
  expect(await method(page)).toBe('first-moment'); // Auto: 1st moment for sketches
  const png = await queryImageBytes(page);
  const scores = scoreMethod(ref.index, 'first-moment', await ref.encodeImage(png));
  expectMatchesReference(await readResults(page), ref.ids, scores);

  await page.getByRole('button', { name: 'Clear' }).click();
  await expect.poll(inked).toBe(0);
  await expect(searchWithSketch).toBeDisabled();
  expect(errors).toEqual([]);
});

test('text and image together: product of experts weighted by the slider, weights in the URL', async ({ page }) => {
  const ref = await nodeIndex('index/colours');
  const png = await thumbPng('teal-lagoon');
  await page.goto(`./?${COLOURS}&q=red`);
  await waitReady(page);
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'teal.png', mimeType: 'image/png', buffer: png }));
  const slider = page.getByRole('slider', { name: /text ↔ image/i });
  await expect(slider).toHaveValue('0.5');
  expect(await method(page)).toBe('first-moment'); // Auto: one scale for both experts
  const text = scoreMethod(ref.index, 'first-moment', await ref.encodeText('red'));
  const image = scoreMethod(ref.index, 'first-moment', await ref.encodeImage(png));
  const poe = (w: number) => productOfExperts([{ scores: text, weight: 1 - w }, { scores: image, weight: w }]);
  expectMatchesReference(await readResults(page), ref.ids, poe(0.5));

  // The slider moves the ranking between the two experts.
  expect(ranking(ref.ids, poe(0.9))[0]).toBe('teal-lagoon');
  expect(ranking(ref.ids, poe(0.1))[0]).not.toBe('teal-lagoon');
  await afterSearch(page, () => slider.fill('0.9'));
  expect(new URL(page.url()).searchParams.get('w')).toBe('0.9');
  expectMatchesReference(await readResults(page), ref.ids, poe(0.9));
  await afterSearch(page, () => slider.fill('0.1'));
  expectMatchesReference(await readResults(page), ref.ids, poe(0.1));
  // Reload: text, image and weight all come back.
  await page.reload();
  await waitReady(page);
  await expect(page.getByRole('slider', { name: /text ↔ image/i })).toHaveValue('0.1');
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  expectMatchesReference(await readResults(page), ref.ids, poe(0.1));
});

test('"More like this" ranks the other models by similarity of means, from a card and from the details', async ({ page }) => {
  const ref = await nodeIndex('index/colours');
  await page.goto(`./?${COLOURS}&q=blue`);
  await waitReady(page);
  const first = page.getByTestId('results').locator('li').first();
  const id = (await first.getAttribute('data-model-id'))!;
  await afterSearch(page, () => first.getByRole('button', { name: /more like this/i }).click());
  expect(new URL(page.url()).searchParams.get('like')).toBe(id);
  // The model replaces the text query: the box and `q` are cleared.
  await expect(searchBox(page)).toHaveValue('');
  expect(new URL(page.url()).searchParams.get('q')).toBeNull();
  const modelIndex = ref.ids.indexOf(id);
  await expect(page.getByTestId('like-query')).toContainText(ref.models[modelIndex].name);
  const shown = await readResults(page);
  expect(shown.map((r) => r.id)).not.toContain(id);
  expect(await method(page)).toBe('first-moment');
  expectMatchesReference(shown, ref.ids, modelSimilarityScores(ref.index, modelIndex), [modelIndex]);

  // From the details dialog, for the new top result; the link alone reproduces it in a new page.
  const next = shown[0].id;
  await page.getByTestId('results').locator('li').first().getByRole('button', { name: /details/i }).click();
  await afterSearch(page, () => page.getByTestId('model-details').getByRole('button', { name: /more like this/i }).click());
  expect(new URL(page.url()).searchParams.get('like')).toBe(next);
  const again = await readResults(page);
  const fresh = await page.context().newPage();
  await fresh.goto(page.url());
  await waitReady(fresh);
  await expect(fresh.getByTestId('results').locator('li')).toHaveCount(again.length);
  expect(await readResults(fresh)).toEqual(again);
  await fresh.close();
});

test('non-images and damaged files get a clear message and leave the current query alone', async ({ page }) => {
  await page.goto(`./?${COLOURS}&q=green`);
  await waitReady(page);
  await expect(page.getByTestId('results').locator('li').first()).toBeVisible();
  const before = await readResults(page);
  await page.locator('#image-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByRole('alert')).toContainText('“notes.txt” is not an image');
  await page.getByRole('button', { name: 'Dismiss' }).click();
  const png = await thumbPng('lime-pop');
  await page.locator('#image-file').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: png.subarray(0, 60) });
  await expect(page.getByRole('alert')).toContainText('“broken.png” could not be read as an image');
  await expect(page.getByTestId('image-query')).toHaveCount(0);
  expect(await readResults(page)).toEqual(before);
});

test('a newer query cancels older ones: only the last of rapid submissions renders', async ({ page }) => {
  const ref = await nodeIndex('index/colours');
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);
  // Record every heading the page ever shows.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => seen.push(document.querySelector('#results-heading')?.textContent ?? '')).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
  const queries = ['teal', 'white snow', 'violet', 'brown', 'lime green'];
  // Five submissions in one task: the first four are cancelled before the worker answers them.
  await afterSearch(page, () =>
    page.evaluate((texts) => {
      const input = document.querySelector<HTMLInputElement>('#query')!;
      for (const text of texts) {
        input.value = text;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.form!.requestSubmit();
      }
    }, queries),
  );
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen.filter((h) => /for “/.test(h)).every((h) => h.includes('“lime green”'))).toBe(true);
  await expect(page.getByRole('heading', { name: /for “lime green”/ })).toBeVisible();
  expectMatchesReference(await readResults(page), ref.ids, scoreMethod(ref.index, 'first-moment', await ref.encodeText('lime green')));
  expect(new URL(page.url()).searchParams.get('q')).toBe('lime green');
});
