import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { startStaticServer } from '../../tools/lib/staticServer.ts';
import { afterSearch, COLOURS, readResults, searchBox, shot, typeQuery, waitReady, watchPageErrors } from '../support/page.ts';

// "Say when nothing matches" (issue 12): the worker's verdict (src/core/scoring/matchQuality.ts)
// becomes a notice above the results, which stay listed. Browser-independent UI over the same
// worker: run once, on WASM.
test.beforeEach(({}, info) => test.skip(info.project.name !== 'wasm', 'the no-match notice runs in the wasm project'));

// The same sentences as tools/search.ts prints (test/unit/matchNotice.test.ts keeps them equal).
const NO_INFORMATION = 'No model matches this: the encoder knows none of these words. Try other words for what the images show.';
const WEAK_MATCH = 'No model matches this well: the best score is no better than queries without content get. Try other words, or an image.';

const notice = (page: Page) => page.getByTestId('no-match');

/** Whether an index's manifest carries the calibration the verdicts need (the builders add it). */
function calibrated(index: string): boolean {
  const manifest = JSON.parse(readFileSync(join(PUBLIC_DIR, index, 'manifest.json'), 'utf8')) as { calibration?: { nullText?: unknown[] } };
  return !!manifest.calibration?.nullText?.length;
}

async function expectNotice(page: Page, kind: 'weak' | 'no-information', sentence: string) {
  await expect(notice(page)).toBeVisible();
  await expect(notice(page)).toHaveAttribute('role', 'status');
  await expect(notice(page)).toHaveAttribute('data-kind', kind);
  await expect(notice(page)).toContainText(sentence);
  // The closest models are still there to look at, under a heading that does not call them the top.
  const shown = await readResults(page);
  expect(shown.length).toBeGreaterThan(0);
  await expect(page.locator('#results-heading')).toHaveText(/^Closest \d+ of /);
  // The notice sits right above the results.
  const [n, r] = await Promise.all([notice(page).boundingBox(), page.getByTestId('results').boundingBox()]);
  expect(n!.y + n!.height).toBeLessThanOrEqual(r!.y);
}

async function expectNoNotice(page: Page) {
  await expect(notice(page)).toBeHidden();
  await expect(notice(page)).toHaveText('');
  expect((await readResults(page)).length).toBeGreaterThan(0);
  await expect(page.locator('#results-heading')).toHaveText(/^Top \d+ of /);
}

test('colours index: words the encoder cannot place get a notice, and the closest models stay listed', async ({ page }, info) => {
  test.skip(!calibrated('index/colours'), 'public/index/colours/manifest.json has no calibration yet (npm run build-colours-index)');
  const errors = watchPageErrors(page);
  await page.goto(`./?${COLOURS}`);
  await waitReady(page);

  // The test encoder knows colour words only: "kitty images" scores no better than content-free queries.
  await typeQuery(page, 'kitty images');
  await expectNotice(page, 'weak', WEAK_MATCH);
  await page.screenshot({ path: shot('no-match-weak', info.project.name), fullPage: true });

  // The next search that matches drops the notice.
  await typeQuery(page, 'red flowers');
  await expectNoNotice(page);

  // And a weak one brings it back (also after back/forward, which searches again).
  await typeQuery(page, 'kitty images');
  await expectNotice(page, 'weak', WEAK_MATCH);
  await afterSearch(page, () => page.goBack());
  await expect(searchBox(page)).toHaveValue('red flowers');
  await expectNoNotice(page);
  expect(errors).toEqual([]);
});

test('demo index: a query with no word the zoo encoder knows says so; one it knows does not', async ({ page }, info) => {
  test.skip(!calibrated('index/demo'), 'public/index/demo/manifest.json has no calibration yet (npm run build-demo-index)');
  const errors = watchPageErrors(page);
  await page.goto('./');
  await waitReady(page);

  await typeQuery(page, '???');
  await expectNotice(page, 'no-information', NO_INFORMATION);
  await page.screenshot({ path: shot('no-match-no-information', info.project.name), fullPage: true });

  // v1 knew neither word; v2 has "yellow" for the gold palette.
  await typeQuery(page, 'everything yellow');
  await expectNoNotice(page);
  await typeQuery(page, 'red flowers');
  await expectNoNotice(page);
  expect(errors).toEqual([]);
});

test('embedded: the results message tells the host page when nothing matches (noMatch)', async ({ page }) => {
  test.skip(!calibrated('index/colours'), 'public/index/colours/manifest.json has no calibration yet (npm run build-colours-index)');
  // A host page on an origin public/embed.json allows, served by the test itself.
  const HOST = 'http://127.0.0.1:4180';
  const app = new URL(`./?embed=1&parentOrigin=${encodeURIComponent(HOST)}&${COLOURS}&q=kitty+images`, 'http://127.0.0.1:4173/').href;
  const html = `<!doctype html><title>host</title>
<iframe id="app" src="${app}" style="width: 100%; height: 600px"></iframe>
<script>
  window.received = [];
  addEventListener('message', (e) => {
    if (e.origin === 'http://127.0.0.1:4173' && e.data && e.data.type === 'results') window.received.push(e.data);
  });
</script>`;
  const dir = await mkdtemp(join(tmpdir(), 'no-match-host-'));
  await writeFile(join(dir, 'index.html'), html);
  const host = await startStaticServer({ root: dir, port: 4180 });
  try {
    await embeddedChecks(page, HOST);
  } finally {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** The host page of the test above: the first results say noMatch, a query that matches does not. */
async function embeddedChecks(page: Page, HOST: string) {
  await page.goto(`${HOST}/`);
  const received = () => page.evaluate(() => (window as unknown as { received: { query: string; noMatch?: boolean; results: unknown[] }[] }).received);

  await expect.poll(async () => (await received()).map((m) => [m.query, m.noMatch])).toEqual([['“kitty images”', true]]);
  expect((await received())[0].results.length).toBeGreaterThan(0);
  const frame = page.frameLocator('#app');
  await expect(frame.getByTestId('no-match')).toContainText(WEAK_MATCH);

  await page.evaluate(() => {
    const target = (document.getElementById('app') as HTMLIFrameElement).contentWindow!;
    target.postMessage({ protocol: 'model-search', version: 1, type: 'query', text: 'red flowers' }, 'http://127.0.0.1:4173');
  });
  await expect.poll(async () => (await received()).map((m) => [m.query, m.noMatch])).toEqual([
    ['“kitty images”', true],
    ['“red flowers”', false],
  ]);
  await expect(frame.getByTestId('no-match')).toBeHidden();
}
