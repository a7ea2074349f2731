/**
 * A browser-run subset of `npm run eval`: text queries from the eval query set, run by the app on
 * the eval index, must rank the models as the Node evaluation does (onnxruntime-node + src/core).
 *
 * The eval index lives in the eval cache (`.cache/eval/`, written by `npm run eval`), not in
 * public/: the test serves it to the page under `eval-index/` with a Playwright route. Without a
 * built eval index the test is skipped, saying so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { scoreMethod, type Method } from '../../src/core/scoring/methods.ts';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = resolve(ROOT, process.env.EVAL_CACHE ?? join('.cache', 'eval'));
const QUERIES = 5;

interface Latest {
  key: string;
  encoder: string;
  indexDir: string;
  queriesDir: string;
  defaultMethod: Method;
}

/** The eval index written by the last `npm run eval`, or why there is none. */
function findEvalIndex(): { latest: Latest; indexDir: string; texts: string[] } | { skip: string } {
  const latestPath = join(CACHE, 'latest.json');
  if (!existsSync(latestPath)) return { skip: `no eval index: ${latestPath} is missing (run \`npm run eval\` first)` };
  const latest = JSON.parse(readFileSync(latestPath, 'utf8')) as Latest;
  const indexDir = resolve(CACHE, latest.indexDir);
  if (!existsSync(join(indexDir, 'manifest.json'))) return { skip: `no eval index at ${indexDir} (run \`npm run eval\` again)` };
  if (!ENCODERS[latest.encoder]) return { skip: `the eval index was built with "${latest.encoder}", which src/core/encode/encoders.ts does not know` };
  const queries = JSON.parse(readFileSync(join(resolve(CACHE, latest.queriesDir), 'queries.json'), 'utf8')) as { text: { text: string }[] };
  return { latest, indexDir, texts: queries.text.slice(0, QUERIES).map((q) => q.text) };
}

test.describe('eval subset in the browser', () => {
  test('text queries of the eval set rank the eval index as the Node evaluation does', async ({ page }, info) => {
    test.skip(info.project.name !== 'wasm', 'runs in the wasm project only (one backend is enough for a ranking check)');
    const found = findEvalIndex();
    test.skip('skip' in found, 'skip' in found ? found.skip : '');
    if ('skip' in found) return;
    const { latest, indexDir, texts } = found;
    test.setTimeout(60_000 + texts.length * 60_000);

    // Serve the eval index from the cache folder at <app>/eval-index/….
    await page.context().route('**/eval-index/**', async (route) => {
      const rel = decodeURIComponent(new URL(route.request().url()).pathname.split('/eval-index/')[1] ?? '');
      const path = resolve(indexDir, rel);
      if (!path.startsWith(indexDir + sep) || !existsSync(path)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ path });
    });

    const local = await openLocalIndex(indexDir);
    const ids = local.models.map((m) => m.id);
    const encoder = await NodeEncoder.load(ENCODERS[local.manifest.encoder.id], undefined, { towers: ['text'] });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    for (const text of texts) {
      const [q] = await encoder.encodeTexts([text]);
      const scores = scoreMethod(local.index, latest.defaultMethod, q);
      const nodeOrder = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);

      await page.goto(`./?index=eval-index/&method=${latest.defaultMethod}&q=${encodeURIComponent(text)}`);
      const results = page.getByTestId('results');
      // Wait for this query's search to have rendered (not a placeholder or an earlier state).
      await expect(page.getByTestId('status')).toHaveAttribute('data-seq', /^[1-9]\d*$/);
      await expect(page.getByRole('heading', { name: new RegExp(`for “${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”`) })).toBeVisible();
      await expect(results.locator('li').first()).toBeVisible();
      await expect(results).toHaveAttribute('data-method', latest.defaultMethod);
      const shown = await results.locator('li').evaluateAll((items) =>
        items.map((li) => ({ id: li.getAttribute('data-model-id')!, score: Number(li.getAttribute('data-score')), rank: Number(li.getAttribute('data-rank')) })),
      );
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.map((r) => r.rank)).toEqual(shown.map((_, i) => i + 1));
      // Same ranks as Node. Browser (onnxruntime-web) and Node embeddings differ by float rounding,
      // so two models whose Node scores are within the tolerance may appear in either order; any
      // other difference fails.
      const tol = (s: number) => 1e-4 * Math.max(1, Math.abs(s));
      shown.forEach((r, i) => {
        const mine = scores[ids.indexOf(r.id)];
        const atRank = scores[nodeOrder[i]];
        expect(Math.abs(mine - atRank), `“${text}”: rank ${i + 1} is ${r.id} in the browser, ${ids[nodeOrder[i]]} in Node`).toBeLessThanOrEqual(tol(atRank));
        expect(Math.abs(r.score - mine), `“${text}”: score of ${r.id}`).toBeLessThanOrEqual(tol(mine));
      });
      const exact = shown.every((r, i) => r.id === ids[nodeOrder[i]]);
      info.annotations.push({ type: 'eval-query', description: `“${text}”: top ${shown.length} ${exact ? 'identical' : 'equal up to near-ties'}` });
    }
    expect(errors).toEqual([]);
  });
});
