import type { BrowserContext, Page, Route } from '@playwright/test';
import type { AbortStage, WorkerCounts } from '../../src/shared/protocol.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { callDebug, fireQueries as fire, ranking, submitQuery as submit } from '../support/page.ts';
import { crash, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * The search worker fails in every way a worker can: its script is missing, it crashes (during a
 * search, during loading, between queries), it stops answering, a message from it cannot be read, and
 * queries arrive faster than it can answer. Nothing may hang: each failure is a banner that names the
 * search engine and offers Retry, and what is shown afterwards is checked against onnxruntime-node.
 * The faults come from ?debug hooks (src/lib/debugHooks.ts) and from routes that hold or refuse files;
 * deadlines are shortened through the same hooks, so a stuck worker fails in seconds, not minutes.
 */

const COLOURS = 'index=index/colours/';
const WAIT = 20_000;

const hang = (detail: string): Verdict => ({ outcome: 'hang', detail });

/** Opens the app in a context of its own (closed afterwards) and runs `fn` on the page. */
async function withApp(ctx: HostileContext, fn: (page: Page, context: BrowserContext) => Promise<Verdict>): Promise<Verdict> {
  const context = await ctx.browser.newContext({ baseURL: ctx.baseURL, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const verdict = await fn(page, context);
    // An uncaught error on the page is a crash whatever the page showed.
    return errors.length && verdict.outcome !== 'crash' ? crash(`uncaught on the page: ${oneLine(errors.join(' | '))}`) : verdict;
  } finally {
    await context.close();
  }
}

async function open(page: Page, query = ''): Promise<boolean> {
  await page.goto(`./?${COLOURS}&debug=1${query ? `&q=${encodeURIComponent(query)}` : ''}`);
  return page
    .locator('[data-testid="status"][data-phase="ready"]')
    .waitFor({ timeout: WAIT })
    .then(() => true, () => false);
}

const counts = (page: Page): Promise<WorkerCounts> => callDebug(page, 'workerCounts');
const starts = (page: Page): Promise<number> => callDebug(page, 'workerStarts');
const sent = (page: Page): Promise<number> => callDebug(page, 'searchesSent');
const holdAt = (page: Page, stage: AbortStage | null) => callDebug(page, 'holdSearches', stage);
const setDeadlines = (page: Page, d: { callMs?: number; stallMs?: number }) => callDebug(page, 'setDeadlines', d);
const crashWorker = (page: Page) => callDebug(page, 'crashWorker');

async function heldCount(page: Page, held: number): Promise<boolean> {
  const until = Date.now() + WAIT;
  while (Date.now() < until) {
    if ((await counts(page)).held === held) return true;
    await page.waitForTimeout(50);
  }
  return false;
}

type Settled = { kind: 'banner'; message: string; code: string } | { kind: 'results' } | { kind: 'nothing'; status: string };

/** Waits for the error banner or the finished results of `text`, whichever comes first. */
async function settle(page: Page, text: string, timeout = WAIT): Promise<Settled> {
  const banner = page.getByTestId('error-banner');
  const done = page.getByRole('heading', { name: new RegExp(`for “${text}”`) });
  const idle = page.locator('[data-testid="status"][data-searching="false"]');
  await Promise.race([
    banner.waitFor({ timeout }),
    done.waitFor({ timeout }).then(() => idle.waitFor({ timeout })),
  ]).catch(() => {});
  if (await banner.isVisible()) {
    return { kind: 'banner', message: (await banner.locator('.message').innerText()).trim(), code: (await banner.getAttribute('data-code')) ?? '' };
  }
  if ((await done.isVisible()) && (await idle.count())) return { kind: 'results' };
  const status = page.getByTestId('status');
  return { kind: 'nothing', status: `phase ${await status.getAttribute('data-phase')}, searching ${await status.getAttribute('data-searching')}: “${oneLine(await status.innerText(), 80)}”` };
}

const references = new Map<string, Promise<string[]>>();
/** The colours index's first-moment ranking of `text` by onnxruntime-node (the independent expectation). */
function reference(text: string): Promise<string[]> {
  let r = references.get(text);
  if (!r) references.set(text, (r = nodeTextScores('index/colours', text, 'first-moment').then(({ ids, scores }) => ranking(ids, scores))));
  return r;
}

/** Null when the results shown are those of `text` in the reference order, else what differs. */
async function wrongResults(page: Page, text: string): Promise<string | null> {
  const shown = await page.getByTestId('results').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-model-id') ?? ''));
  const want = (await reference(text)).slice(0, shown.length);
  if (!shown.length) return `no results for “${text}”`;
  return shown.join() === want.join() ? null : `for “${text}” shown ${shown.slice(0, 4).join(', ')}…; reference ${want.slice(0, 4).join(', ')}…`;
}

/** The results of `text` are on the page and correct: handled (with `note`), else the verdict that says why not. */
async function expectResults(page: Page, text: string, note: string): Promise<Verdict> {
  const s = await settle(page, text);
  if (s.kind === 'banner') return crash(`a banner instead of the results of “${text}”: ${s.message}`);
  if (s.kind === 'nothing') return hang(`neither results nor a banner for “${text}”: ${s.status}`);
  const wrong = await wrongResults(page, text);
  return wrong ? silentWrong(wrong) : handled(note);
}

/**
 * The fault must show a banner that names the search engine and offers Retry (judged as a message);
 * Retry must then bring the correct results of `text` back, from a new worker.
 */
async function bannerThenRetry(page: Page, text: string, names: (string | RegExp)[], beforeRetry?: () => Promise<unknown>): Promise<Verdict> {
  const s = await settle(page, text);
  if (s.kind === 'nothing') return hang(`no banner and no results: ${s.status}`);
  if (s.kind === 'results') return crash(`no banner: the fault went unnoticed (results of “${text}” shown)`);
  const judged = judgeError(s.message, names);
  if (judged.outcome !== 'clear error') return judged;
  if (s.code !== 'worker') return crash(`banner code ${s.code}, not "worker": ${s.message}`);
  await beforeRetry?.();
  const startsBefore = await starts(page);
  await page.getByTestId('error-banner').getByRole('button', { name: 'Retry' }).click();
  const after = await expectResults(page, text, '');
  if (after.outcome !== 'handled') return { ...after, detail: `after Retry: ${after.detail}` };
  const startsAfter = await starts(page);
  if (startsAfter <= startsBefore) return crash(`Retry answered without a new worker (starts ${startsBefore} → ${startsAfter})`);
  return { outcome: 'clear error', detail: `${judged.detail} → Retry: correct results from worker #${startsAfter}` };
}

/** Holds every request whose URL matches `pattern` until `release()`, then lets them through. */
async function holdRequests(context: BrowserContext, pattern: RegExp) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let seen = 0;
  await context.route(pattern, async (route: Route) => {
    seen++;
    await released;
    await route.fallback().catch(() => {}); // the worker that asked may be gone
  });
  return { release, seen: () => seen };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeout = WAIT): Promise<boolean> {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const RETRY = [/search engine/i, /retry/i];

const cases: HostileCase[] = [
  {
    group: 'worker fault',
    finding: true,
    name: 'the worker script answers 404 (a cached page pointing at a deleted chunk): a banner, not "Loading…" forever; Retry once it is back',
    timeoutMs: 60_000,
    run: (ctx) =>
      withApp(ctx, async (page, context) => {
        let missing = true;
        await context.route(/search\.worker[^/]*\.js(\?.*)?$/, (route) => (missing ? route.fulfill({ status: 404, body: 'not found' }) : route.fallback()));
        await page.goto(`./?${COLOURS}&debug=1&q=teal`);
        const s = await settle(page, 'teal');
        if (s.kind !== 'banner') return s.kind === 'nothing' ? hang(`no banner: ${s.status}`) : silentWrong('results shown although the worker script is missing');
        const judged = judgeError(s.message, [/search engine/i, /could not start/i, /reload/i]);
        if (judged.outcome !== 'clear error') return judged;
        missing = false;
        await page.getByTestId('error-banner').getByRole('button', { name: 'Retry' }).click();
        const after = await expectResults(page, 'teal', '');
        return after.outcome === 'handled' ? { outcome: 'clear error', detail: `${judged.detail} → Retry: correct results` } : { ...after, detail: `after Retry: ${after.detail}` };
      }),
  },
  {
    group: 'worker fault',
    finding: true,
    name: 'the worker dies after a query; the next query runs in a new worker (never "searching…" forever)',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page, 'teal'))) return hang('the app did not become ready');
        const first = await expectResults(page, 'teal', '');
        if (first.outcome !== 'handled') return first;
        await crashWorker(page);
        await page.waitForTimeout(200); // the crash is an uncaught error a moment later, as a real one would be
        await submit(page, 'crimson');
        const s = await settle(page, 'crimson');
        // The query may reach the dying worker before its error event: then a banner and Retry.
        if (s.kind === 'banner') return bannerThenRetry(page, 'crimson', RETRY);
        const v = await expectResults(page, 'crimson', 'correct results from a new worker, no banner');
        if (v.outcome === 'handled' && (await starts(page)) !== 2) return crash(`expected 2 worker starts, saw ${await starts(page)}`);
        return v;
      }),
  },
  {
    group: 'worker fault',
    name: 'the worker crashes in the middle of a search: the search fails with a clear message, Retry gives the right answer',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await holdAt(page, 'before-score');
        await submit(page, 'teal');
        if (!(await heldCount(page, 1))) return hang('the search never reached the worker');
        await crashWorker(page);
        return bannerThenRetry(page, 'teal', RETRY);
      }),
  },
  {
    group: 'worker fault',
    name: 'the worker crashes while the index is loading: a banner, and Retry loads again and answers',
    timeoutMs: 45_000,
    run: (ctx) =>
      withApp(ctx, async (page, context) => {
        const held = await holdRequests(context, /index\/colours\/index\.bin$/);
        await page.goto(`./?${COLOURS}&debug=1&q=teal`);
        if (!(await waitFor(() => held.seen() > 0))) return hang('index.bin was never requested');
        await crashWorker(page);
        const s = await settle(page, 'teal');
        held.release();
        if (s.kind !== 'banner') return s.kind === 'nothing' ? hang(`no banner: ${s.status}`) : crash('results although the worker crashed while loading');
        const judged = judgeError(s.message, RETRY);
        if (judged.outcome !== 'clear error') return judged;
        await page.getByTestId('error-banner').getByRole('button', { name: 'Retry' }).click();
        const after = await expectResults(page, 'teal', '');
        if (after.outcome !== 'handled') return { ...after, detail: `after Retry: ${after.detail}` };
        return { outcome: 'clear error', detail: `${judged.detail} → Retry: correct results from worker #${await starts(page)}` };
      }),
  },
  {
    group: 'worker fault',
    name: 'a crash, then 20 queries one task apart: one restart, one search sent to the new worker, the last query shown',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page, 'teal'))) return hang('the app did not become ready');
        const first = await expectResults(page, 'teal', '');
        if (first.outcome !== 'handled') return first;
        await crashWorker(page);
        const queries = Array.from({ length: 19 }, (_, i) => ['teal', 'crimson', 'white snow', 'green forest'][i % 4]).concat('deep blue water');
        await fire(page, queries, 1);
        const s = await settle(page, 'deep blue water');
        if (s.kind === 'banner') return bannerThenRetry(page, 'deep blue water', RETRY);
        const v = await expectResults(page, 'deep blue water', '');
        if (v.outcome !== 'handled') return v;
        const [n, c] = [await starts(page), await counts(page)];
        if (n !== 2) return crash(`${n} worker starts for one crash`);
        // Queries superseded while the new worker loaded were never sent to it.
        if (c.searches >= queries.length) return silentWrong(`the new worker received ${c.searches} of ${queries.length} superseded queries`);
        return handled(`1 restart; the new worker received ${c.searches} search(es), scored ${c.scorings}; last query correct, no banner`);
      }),
  },
  {
    group: 'worker fault',
    name: 'the worker stops answering (a busy loop): the search deadline (2 s here) ends it with a banner; Retry answers',
    timeoutMs: 45_000,
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await setDeadlines(page, { callMs: 2000 });
        await callDebug(page, 'hangWorker');
        await submit(page, 'crimson');
        // The usual deadline again for the new worker (a loaded machine may take seconds to load it).
        return bannerThenRetry(page, 'crimson', [...RETRY, /2 s/], () => setDeadlines(page, { callMs: 120_000 }));
      }),
  },
  {
    group: 'worker fault',
    name: 'a restarted worker whose index never arrives: the loading deadline (2 s here) gives a banner; Retry answers',
    timeoutMs: 45_000,
    run: (ctx) =>
      withApp(ctx, async (page, context) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await setDeadlines(page, { stallMs: 2000 });
        const held = await holdRequests(context, /index\/colours\/manifest\.json$/);
        await crashWorker(page);
        await page.waitForTimeout(200);
        await submit(page, 'crimson');
        const s = await settle(page, 'crimson');
        held.release();
        if (s.kind !== 'banner') return s.kind === 'nothing' ? hang(`no banner: ${s.status}`) : crash('results although the manifest never arrived');
        const judged = judgeError(s.message, [/loading/i, /retry/i, /2 s/]);
        if (judged.outcome !== 'clear error') return judged;
        await setDeadlines(page, { stallMs: 120_000 });
        await page.getByTestId('error-banner').getByRole('button', { name: 'Retry' }).click();
        const after = await expectResults(page, 'crimson', '');
        return after.outcome === 'handled' ? { outcome: 'clear error', detail: `${judged.detail} → Retry: correct results` } : { ...after, detail: `after Retry: ${after.detail}` };
      }),
  },
  {
    group: 'worker fault',
    name: 'a message from the worker cannot be read (messageerror, simulated) during a search: a clear banner; Retry answers',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await holdAt(page, 'before-score');
        await submit(page, 'teal');
        if (!(await heldCount(page, 1))) return hang('the search never reached the worker');
        await callDebug(page, 'breakWorkerMessages');
        return bannerThenRetry(page, 'teal', [...RETRY, /message/i]);
      }),
  },
  {
    group: 'worker fault',
    name: '50 queries in bursts of 5: the last one is shown, and the worker encoded and scored far fewer than 50',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page))) return hang('the app did not become ready');
        const words = ['teal', 'crimson', 'green forest', 'deep blue water', 'white snow'];
        const queries = Array.from({ length: 49 }, (_, i) => words[(i * 3) % words.length]).concat('white snow');
        await fire(page, queries, 5);
        const v = await expectResults(page, 'white snow', '');
        if (v.outcome !== 'handled') return v;
        const c = await counts(page);
        const accounted = c.encodes === c.searches - c.aborted['before-encode'] && c.scorings === c.searches - c.aborted['before-encode'] - c.aborted['before-score'];
        if (!accounted) return silentWrong(`counts do not add up: ${JSON.stringify(c)}`);
        if (c.encodes >= queries.length || c.scorings >= queries.length) return silentWrong(`superseded queries were all encoded/scored: ${JSON.stringify(c)}`);
        if ((await page.getByTestId('error-banner').count()) > 0) return crash('a banner for cancelled queries');
        return handled(`50 issued, ${await sent(page)} sent, ${c.encodes} encoded, ${c.scorings} scored; last query correct, no banner`);
      }),
  },
  {
    group: 'worker fault',
    name: 'queries typed while the worker is still loading: only the last is ever encoded',
    timeoutMs: 45_000,
    run: (ctx) =>
      withApp(ctx, async (page, context) => {
        const held = await holdRequests(context, /index\/colours\/manifest\.json$/);
        await page.goto(`./?${COLOURS}&debug=1`);
        if (!(await waitFor(() => held.seen() > 0))) return hang('manifest.json was never requested');
        for (const q of ['teal', 'crimson', 'green forest']) await submit(page, q);
        held.release();
        const v = await expectResults(page, 'green forest', '');
        if (v.outcome !== 'handled') return v;
        const c = await counts(page);
        if (c.searches !== 1 || c.encodes !== 1 || c.scorings !== 1) return silentWrong(`superseded queries reached the worker: ${JSON.stringify(c)}`);
        return handled('3 queries while loading: 1 sent, encoded and scored; the last one shown');
      }),
  },
  {
    group: 'worker fault',
    name: 'a query cancelled mid-search, then the same query again: the answer is correct and counted once',
    run: (ctx) =>
      withApp(ctx, async (page) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await holdAt(page, 'before-score');
        await submit(page, 'teal');
        if (!(await heldCount(page, 1))) return hang('the search never reached the worker');
        await submit(page, 'teal');
        if (!(await heldCount(page, 2))) return hang('the repeated search never reached the worker');
        await holdAt(page, null);
        const v = await expectResults(page, 'teal', '');
        if (v.outcome !== 'handled') return v;
        const c = await counts(page);
        const seq = await page.getByTestId('status').getAttribute('data-seq');
        if (c.scorings !== 1 || c.aborted['before-score'] !== 1) return silentWrong(`the cancelled copy was scored too: ${JSON.stringify(c)}`);
        if (seq !== '1') return silentWrong(`${seq} results rendered for one wanted search`);
        return handled('the first copy stopped before scoring, the second answered correctly, rendered once');
      }),
  },
  {
    group: 'worker fault',
    name: 'queries wait while a crashed worker restarts: the superseded one is never sent, the last one answers',
    timeoutMs: 45_000,
    run: (ctx) =>
      withApp(ctx, async (page, context) => {
        if (!(await open(page))) return hang('the app did not become ready');
        await crashWorker(page);
        await page.waitForTimeout(200);
        const held = await holdRequests(context, /index\/colours\/manifest\.json$/);
        await submit(page, 'teal'); // waits for the new worker to load
        if (!(await waitFor(() => held.seen() > 0))) return hang('the new worker never asked for the manifest');
        await submit(page, 'crimson');
        held.release();
        const v = await expectResults(page, 'crimson', '');
        if (v.outcome !== 'handled') return v;
        const [n, c] = [await starts(page), await counts(page)];
        if (n !== 2) return crash(`${n} worker starts for one crash`);
        if (c.searches !== 1) return silentWrong(`the new worker received ${c.searches} searches; the superseded one should not have been sent`);
        return handled('one restart; only the last query was sent, and it answered correctly');
      }),
  },
];

defineHostileCases(cases);
