import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { scoreMethod } from '../../src/core/scoring/methods.ts';
import { contentSets, renderContent } from '../../tools/style-zoo/content.ts';
import { styleById } from '../../tools/style-zoo/transforms.ts';
import { nodeIndex } from '../support/nodeSearch.ts';
import { afterSearch, expectMatchesReference, ranking, readResults, waitReady } from '../support/page.ts';

test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'style retrieval runs in the wasm project'));

/** A style applied to content that is not in the index's reference set: a "new image in that style". */
async function styledQuery(styleId: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'style-query-'));
  try {
    const [content] = contentSets({ reference: 8, query: 1, train: 0 }).query;
    const out = styleById(styleId).apply(await renderContent(content, dir));
    return sharp(Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength), { raw: { width: out.width, height: out.height, channels: 4 } })
      .png()
      .toBuffer();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a style index offers style distance, and an image in a style finds the style models as Node ranks them', async ({ page }, info) => {
  const ref = await nodeIndex('index/styles');
  await page.goto('./?index=index/styles/&how=1');
  await waitReady(page);
  await expect(page.getByLabel('Method').locator('option')).toContainText(['Style distance']);
  // One of the styles plain zoo-encoder features recognise (most need the learned projection, not shipped: see README).
  const style = 'halftone-6';
  const png = await styledQuery(style);
  await afterSearch(page, () => page.locator('#image-file').setInputFiles({ name: 'styled.png', mimeType: 'image/png', buffer: png }));
  // Auto: a style index is searched by style distance for images.
  await expect(page.getByTestId('results')).toHaveAttribute('data-method', 'style');
  await expect(page.getByTestId('method-explain')).toContainText('reference inputs');
  const scores = scoreMethod(ref.index, 'style', await ref.encodeImage(png));
  const shown = await readResults(page);
  expectMatchesReference(shown, ref.ids, scores);
  const rank = ranking(ref.ids, scores).indexOf(style) + 1;
  info.annotations.push({ type: 'style-rank', description: `${style} ranks #${rank} of ${ref.ids.length}` });
  expect(rank).toBeLessThanOrEqual(3);
  await page.screenshot({ path: `test-results/screenshots/${info.project.name}-style.png`, fullPage: true });

  // The other methods stay available on the same index, e.g. the 1st moment of the style outputs.
  await afterSearch(page, () => page.getByLabel('Method').selectOption({ label: '1st moment' }));
  expectMatchesReference(await readResults(page), ref.ids, scoreMethod(ref.index, 'first-moment', await ref.encodeImage(png)));
});
