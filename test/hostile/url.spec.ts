import type { BrowserContext, Page } from '@playwright/test';
import { autoMethod, supportedMethods, type Method, type MethodParams } from '../../src/core/scoring/methods.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { ranking, readResults } from '../support/page.ts';
import { clearError, crash, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { join } from 'node:path';

/*
 * URL parameters: the app opened with each parameter it reads set to garbage, huge, unicode or
 * markup. A bad value must be named in a notice (or, for ?index=, a banner) with the values it
 * takes, and the page must go on as if it were absent — checked against the ranking Node computes
 * for the same query. Markup must show as text: no dialog, no element, no script.
 */

const INDEX = 'index=index/colours/';

interface Opened {
  context: BrowserContext;
  page: Page;
  /** The notice about the address, or ''. */
  problems: string;
  /** The error banner's text and code, or null. */
  banner: { text: string; code: string } | null;
  /** Dialogs opened and `window.__pwned` set by injected markup. */
  injected: string[];
}

/**
 * Opens the app at `?<search>` and waits for it to settle (ready with no search running, or an
 * error); with `searches`, until the address's query has run (or failed).
 */
async function open(ctx: HostileContext, search: string, searches: boolean): Promise<Opened> {
  const context = await ctx.browser.newContext({ baseURL: ctx.baseURL, serviceWorkers: 'block' });
  const page = await context.newPage();
  const injected: string[] = [];
  page.on('dialog', (d) => {
    injected.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(`./?${search}`);
  const status = page.getByTestId('status');
  await page.locator('[data-testid="status"][data-phase="error"], [data-testid="status"][data-phase="ready"][data-searching="false"]').first().waitFor({ timeout: 60_000 });
  // A query in the address runs once the index is ready: wait for its result (or its error).
  if (searches && (await status.getAttribute('data-phase')) === 'ready') {
    await page.locator('[data-testid="status"]:not([data-seq="0"]), [data-testid="error-banner"]').first().waitFor({ timeout: 60_000 });
  }
  const notice = page.getByTestId('url-problems');
  const problems = (await notice.count()) ? (await notice.innerText()).trim() : '';
  const bannerEl = page.getByTestId('error-banner');
  const banner = (await bannerEl.count()) ? { text: (await bannerEl.innerText()).trim(), code: (await bannerEl.getAttribute('data-code')) ?? '' } : null;
  if (await page.evaluate(() => (window as { __pwned?: unknown }).__pwned !== undefined)) injected.push('window.__pwned was set');
  return { context, page, problems, banner, injected };
}

/** Runs `check` on an opened page and always closes it. */
const withPage = (search: string, check: (o: Opened) => Promise<Verdict> | Verdict, searches = true) => async (ctx: HostileContext) => {
  const o = await open(ctx, search, searches);
  try {
    if (o.injected.length) return crash(`markup ran: ${o.injected.join('; ')}`);
    return await check(o);
  } finally {
    await o.context.close();
  }
};

/** The sentence of the notice about `param`, judged: it must name the parameter and what it takes. */
function noticeAbout(o: Opened, param: string, takes: (string | RegExp)[], echoed?: string): Verdict {
  if (o.banner && o.banner.code === 'internal') return crash(`an internal banner: ${o.banner.text}`);
  const line = o.problems.split('\n').find((l) => l.includes(`?${param}=`));
  if (!line) return silentWrong(`no notice names ?${param}= (notice: “${oneLine(o.problems)}”)`);
  return judgeError(echoed ? line.split(echoed).join('…') : line, [`?${param}=`, ...takes]);
}

/** The ranking Node computes for `text` (first `n`), with the method Auto picks when `method` is 'auto'. */
async function reference(text: string, method: Method | 'auto', params?: MethodParams): Promise<{ ids: string[]; scores: Float32Array; method: Method }> {
  let m: Method;
  if (method === 'auto') {
    const local = await openLocalIndex(join(PUBLIC_DIR, 'index', 'colours'));
    m = autoMethod(supportedMethods(local.index), ['text']);
  } else m = method;
  const ref = await nodeTextScores('index/colours', text, m, params);
  return { ...ref, method: m };
}

/** '' when the shown results are Node's ranking of `text` (ids in order, scores within float32), else what differs. */
async function differs(page: Page, text: string, method: Method | 'auto', params?: MethodParams): Promise<string> {
  const shown = await readResults(page);
  const ref = await reference(text, method, params);
  const expected = ranking(ref.ids, ref.scores).slice(0, shown.length);
  if (!shown.length) return 'no results';
  if (shown.map((r) => r.id).join() !== expected.join()) return `${shown.map((r) => r.id).join()} ≠ ${expected.join()} (${ref.method})`;
  for (const r of shown) {
    const s = ref.scores[ref.ids.indexOf(r.id)];
    if (Math.abs(r.score - s) > 1e-3 * Math.max(1, Math.abs(s))) return `score of ${r.id}: ${r.score} ≠ ${s}`;
  }
  return '';
}

/** A bad value of `param` named in a notice, and the search run as if it were absent (Node's ranking). */
function ignoredValue(
  param: string,
  value: string,
  takes: (string | RegExp)[],
  base: { q: string; method: Method | 'auto'; params?: MethodParams; before?: string },
  echoed?: string,
) {
  const methodPart = base.method === 'auto' || param === 'method' ? '' : `&method=${base.method}`;
  return withPage(`${INDEX}&q=${encodeURIComponent(base.q)}${methodPart}${base.before ? `&${base.before}` : ''}&${param}=${encodeURIComponent(value)}`, async (o) => {
    const v = noticeAbout(o, param, takes, echoed);
    if (v.outcome !== 'clear error') return v;
    if (o.banner) return crash(`a banner as well: ${o.banner.text}`);
    const wrong = await differs(o.page, base.q, base.method, base.params);
    return wrong ? silentWrong(`the notice says the value was ignored, but the ranking is not the default one: ${wrong}`) : clearError(`${v.detail} · ranking as without it`);
  });
}

/** A bad ?index=: refused with a banner naming ?index= (not an "internal" one), nothing loaded. */
const refusedIndex = (value: string) =>
  withPage(`index=${encodeURIComponent(value)}&q=red`, (o) => {
    if (!o.banner) return silentWrong(`no banner (notice: “${o.problems}”)`);
    if (o.banner.code === 'internal') return crash(`an internal banner: ${o.banner.text}`);
    return judgeError(o.banner.text.split('\n')[0], ['?index=', 'http(s)']);
  });

const RED = { q: 'red', method: 'first-moment' as const };

const cases: HostileCase[] = [
  // --- ?index= (refused: continuing on another index would be wrong) ---
  { group: 'URL parameter', finding: true, name: '?index=javascript:alert(1) (an “internal” banner before)', timeoutMs: 60_000, run: refusedIndex('javascript:alert(1)') },
  { group: 'URL parameter', finding: true, name: '?index=data:text/html,<script>…', timeoutMs: 60_000, run: refusedIndex('data:text/html,<script>alert(1)</script>') },
  { group: 'URL parameter', name: '?index=http://[::1 (an address that does not parse)', timeoutMs: 60_000, run: refusedIndex('http://[::1') },

  // --- values ignored with a notice, the search as without them ---
  { group: 'URL parameter', name: '?k=0 with best-k', timeoutMs: 60_000, run: ignoredValue('k', '0', ['1 to 64'], { q: 'red', method: 'best-k', params: { k: 3 } }) },
  { group: 'URL parameter', name: '?k=1e9 with best-k', timeoutMs: 60_000, run: ignoredValue('k', '1e9', ['1 to 64'], { q: 'red', method: 'best-k', params: { k: 3 } }) },
  { group: 'URL parameter', name: '?k=NaN with best-k', timeoutMs: 60_000, run: ignoredValue('k', 'NaN', ['1 to 64'], { q: 'red', method: 'best-k', params: { k: 3 } }, '"NaN"') },
  { group: 'URL parameter', name: '?w=1e308 (the image weight)', timeoutMs: 60_000, run: ignoredValue('w', '1e308', ['0 to 1'], RED) },
  { group: 'URL parameter', name: '?hw=-5 (the metadata weight)', timeoutMs: 60_000, run: ignoredValue('hw', '-5', ['0 to 1'], RED) },
  { group: 'URL parameter', name: '?method=__proto__', timeoutMs: 60_000, run: ignoredValue('method', '__proto__', ['gaussian', 'auto'], { q: 'red', method: 'auto' }) },
  { group: 'URL parameter', name: '?method=<img src=x onerror=…> shows as text', timeoutMs: 60_000, run: ignoredValue('method', '<img src=x onerror="window.__pwned=1">', ['gaussian', '<img src=x onerror'], { q: 'red', method: 'auto' }) },
  { group: 'URL parameter', name: '?backend=cuda', timeoutMs: 60_000, run: ignoredValue('backend', 'cuda', ['wasm', 'webgpu'], RED) },
  { group: 'URL parameter', name: '?modelHost=javascript:alert(1)', timeoutMs: 60_000, run: ignoredValue('modelHost', 'javascript:alert(1)', ['http(s)'], RED) },
  { group: 'URL parameter', name: '?how=<script>alert(1)</script> shows as text', timeoutMs: 60_000, run: ignoredValue('how', '<script>window.__pwned=1</script>', ['<script>'], RED) },
  { group: 'URL parameter', name: '?sw=off', timeoutMs: 60_000, run: ignoredValue('sw', 'off', ['0'], RED) },
  { group: 'URL parameter', name: '?embed=1&parentOrigin=javascript:… outside a frame', timeoutMs: 60_000, run: ignoredValue('parentOrigin', 'javascript:alert(1)', ['origin'], { ...RED, before: 'embed=1' }) },
  { group: 'URL parameter', name: '?k=3&k=5 (a repeated parameter)', timeoutMs: 60_000, run: ignoredValue('k', '5', ['first', '"3"'], { q: 'red', method: 'best-k', params: { k: 3 }, before: 'k=3' }) },
  { group: 'URL parameter', name: '?methd=gd (a misspelt parameter)', timeoutMs: 60_000, run: ignoredValue('methd', 'gd', ['does not know', 'method'], RED) },
  {
    group: 'URL parameter',
    name: '?like= of 300 characters',
    timeoutMs: 60_000,
    run: withPage(
      `${INDEX}&like=${'a'.repeat(300)}`,
      async (o) => {
        const v = noticeAbout(o, 'like', ['model id', '200']);
        if (v.outcome !== 'clear error') return v;
        if (o.banner) return crash(`a banner as well: ${o.banner.text}`);
        // Ignored: no "more like this" query is shown or run.
        if (await o.page.getByTestId('like-query').count()) return silentWrong('the notice says it was ignored, but a "more like this" query is shown');
        return v;
      },
      false,
    ),
  },
  {
    group: 'URL parameter',
    name: '?like= an id not in the index',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&like=no-such-model`, (o) => {
      if (!o.banner) return silentWrong('no banner: the "more like this" query was dropped without a word');
      return judgeError(o.banner.text.split('\n')[0], [/model/]);
    }),
  },

  // --- accepted as given: shown as text, searched exactly ---
  {
    group: 'URL parameter',
    name: '?q=<img src=x onerror=…> is searched as words, shown as text',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&method=first-moment&q=${encodeURIComponent('<img src=x onerror="window.__pwned=1">')}`, async (o) => {
      const value = await o.page.getByRole('searchbox').inputValue();
      if (value !== '<img src=x onerror="window.__pwned=1">') return silentWrong(`the search box shows “${value}”`);
      if (await o.page.locator('img[src="x"]').count()) return crash('an <img src="x"> element was created');
      const wrong = await differs(o.page, value, 'first-moment');
      return wrong ? silentWrong(wrong) : handled('the text is in the box as typed, and ranked as Node ranks it');
    }),
  },
  {
    group: 'URL parameter',
    name: '?q= in several scripts, an emoji and a right-to-left mark',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&method=first-moment&q=${encodeURIComponent('rouge 🌹 \u202e zéro 红色')}`, async (o) => {
      const wrong = await differs(o.page, 'rouge 🌹 \u202e zéro 红色', 'first-moment');
      return wrong ? silentWrong(wrong) : handled('ranked as Node ranks the same text');
    }),
  },
  {
    group: 'URL parameter',
    name: '?q= with a broken percent escape (%E0%A4%A)',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&method=first-moment&q=red%E0%A4%A`, async (o) => {
      const text = new URLSearchParams('q=red%E0%A4%A').get('q')!;
      const wrong = await differs(o.page, text, 'first-moment');
      return wrong ? silentWrong(wrong) : handled(`searched as the browser decodes it (${JSON.stringify(text)}), as Node ranks it`);
    }),
  },
  {
    group: 'URL parameter',
    // 5000 characters: longer addresses meet the web server's own limit (vite preview: 16 kB of headers).
    name: '?q= of 5000 characters',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&method=first-moment&q=${'red+'.repeat(1250)}`, async (o) => {
      const v = noticeAbout(o, 'q', ['2000']);
      if (v.outcome !== 'clear error') return v;
      const wrong = await differs(o.page, 'red '.repeat(500), 'first-moment');
      return wrong ? silentWrong(`the notice says the first 2000 characters are searched, but: ${wrong}`) : clearError(`${v.detail} · ranked as the first 2000 characters`);
    }),
  },
  {
    group: 'URL parameter',
    name: '?q=family:"<script>…</script>" (a filter no model matches)',
    timeoutMs: 60_000,
    run: withPage(`${INDEX}&q=${encodeURIComponent('family:"<script>window.__pwned=1</script>"')}`, async (o) => {
      if (o.banner) return crash(`a banner: ${o.banner.text}`);
      const shown = await readResults(o.page);
      if (shown.length) return silentWrong(`${shown.length} results for a family no model has`);
      const hint = await o.page.getByText('No model matches these filters').count();
      return hint ? handled('no results, and the page says no model matches the filter') : silentWrong('no results and no word why');
    }),
  },
];

defineHostileCases(cases);
