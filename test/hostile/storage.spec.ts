import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page, Route } from '@playwright/test';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { nodeTextScores } from '../support/nodeSearch.ts';
import { ranking, shot } from '../support/page.ts';
import { clearError, crash, dataLost, handled, judgeError, oneLine, silentWrong, type HostileCase, type HostileContext, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Storage faults in a real page: IndexedDB missing, refusing, hanging or full (the search worker
 * keeps the offline copies there: workers/storage/fileStore.ts), saved copies damaged, a stale or
 * half-replaced saved index. The worker's IndexedDB is broken by prepending a line to its script
 * (page init scripts do not run in workers). Whatever storage does, search answers correctly, the
 * app says what it could not save, damaged copies are never used and a saved index is never lost.
 */

const INDEX = 'index/colours/';
const COLOURS = join(PUBLIC_DIR, 'index/colours');
const STYLES = join(PUBLIC_DIR, 'index/styles');

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const references = new Map<string, ReturnType<typeof nodeTextScores>>();
function reference(dir: 'index/colours' | 'index/styles', text: string) {
  const key = `${dir} ${text}`;
  let r = references.get(key);
  if (!r) references.set(key, (r = nodeTextScores(dir, text, 'first-moment')));
  return r;
}

/** Prepends `code` to the search worker's script (it runs before the worker opens storage). */
async function patchWorker(context: BrowserContext, code: string): Promise<void> {
  await context.route(/search\.worker[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ status: 200, contentType: 'text/javascript', body: `${code}\n${await response.text()}` });
  });
}

interface Page2 {
  page: Page;
  /** The banner's message, or '' once results show. */
  banner(ms?: number): Promise<string>;
  /** '' when the results are the reference first-moment ranking of `text` on `dir`, else what differs. */
  wrongResults(dir?: 'index/colours' | 'index/styles', text?: string): Promise<string>;
  notice(ms?: number): Promise<string>;
}

async function open(context: BrowserContext, baseURL: string, text = 'teal', reuse?: Page): Promise<Page2> {
  const page = reuse ?? (await context.newPage());
  await page.goto(`${baseURL}?index=${INDEX}&q=${encodeURIComponent(text)}&method=first-moment`);
  const results = page.getByTestId('results').locator('li');
  return {
    page,
    async banner(ms = 25_000) {
      const banner = page.getByTestId('error-banner').locator('.message');
      await banner.or(results.first()).first().waitFor({ timeout: ms });
      return (await banner.count()) ? ((await banner.textContent()) ?? '') : '';
    },
    async wrongResults(dir = 'index/colours', q = text) {
      await results.first().waitFor({ timeout: 25_000 });
      const shown = await results.evaluateAll((items) => items.map((li) => ({ id: li.getAttribute('data-model-id')!, score: Number(li.getAttribute('data-score')) })));
      const ref = await reference(dir, q);
      const expected = ranking(ref.ids, ref.scores);
      if (shown.map((s) => s.id).join() !== expected.slice(0, shown.length).join()) return `shown ${shown.map((s) => s.id).join(',')}, expected ${expected.slice(0, shown.length).join(',')}`;
      for (const s of shown) {
        const want = ref.scores[ref.ids.indexOf(s.id)];
        if (Math.abs(s.score - want) > 1e-4 * Math.max(1, Math.abs(want))) return `score of ${s.id}: ${s.score}, expected ${want}`;
      }
      return '';
    },
    /** The storage notice line: what it says within `ms` (saving goes on after the results show). */
    async notice(ms = 0) {
      const line = page.getByTestId('storage-notice-line');
      if (ms) await line.waitFor({ timeout: ms }).catch(() => {});
      return (await line.count()) ? ((await line.textContent()) ?? '') : '';
    },
  };
}

interface Saved {
  /** group key → its version and files. */
  groups: Record<string, { version: string; files: string[] }>;
  /** SHA-256 of each stored file's bytes, by its key's hash ('' when its data is not bytes). */
  files: Record<string, string>;
}

/** What the worker saved (read from the page: same origin, same database). */
function saved(page: Page): Promise<Saved> {
  return page.evaluate(
    () =>
      new Promise<Saved>((resolve, reject) => {
        const req = indexedDB.open('model-search-files');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const out: Saved = { groups: {}, files: {} };
          if (!db.objectStoreNames.contains('files')) return resolve(out);
          const pending: Promise<void>[] = [];
          const cursor = db.transaction('files').objectStore('files').openCursor();
          cursor.onsuccess = async () => {
            const c = cursor.result;
            if (c) {
              const key = String(c.key);
              const value = c.value as { version?: string; files?: string[]; data?: unknown };
              if (key.startsWith('group:')) out.groups[key] = { version: value.version!, files: value.files! };
              if (key.startsWith('file:')) {
                const data = value.data;
                pending.push(
                  data instanceof ArrayBuffer
                    ? crypto.subtle.digest('SHA-256', data).then((d) => void (out.files[key.slice(5)] = [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('')))
                    : Promise.resolve(void (out.files[key.slice(5)] = '')),
                );
              }
              c.continue();
              return;
            }
            await Promise.all(pending);
            db.close();
            resolve(out);
          };
        };
      }),
  );
}

const indexGroup = (baseURL: string) => `group:index:${new URL(INDEX, baseURL).href}`;

/** Waits until the index's two files are saved and committed. */
async function savedIndex(page: Page, baseURL: string): Promise<Saved> {
  for (let i = 0; i < 100; i++) {
    const s = await saved(page);
    if (s.groups[indexGroup(baseURL)]?.files.length === 2) return s;
    await page.waitForTimeout(200);
  }
  throw new Error('the index was never saved');
}

/** Damages a saved file in place: cut to half, one byte flipped, or its bytes replaced by a string. */
function damage(page: Page, sha: string, how: 'truncate' | 'flip' | 'string'): Promise<void> {
  return page.evaluate(
    ([key, mode]) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('model-search-files');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const store = db.transaction('files', 'readwrite').objectStore('files');
          const get = store.get(key);
          get.onsuccess = () => {
            const value = get.result as { data: ArrayBuffer };
            const bytes = new Uint8Array(value.data.slice(0));
            const data = mode === 'truncate' ? bytes.slice(0, bytes.length >> 1).buffer : mode === 'flip' ? ((bytes[bytes.length >> 1] ^= 0x01), bytes.buffer) : 'not bytes at all';
            store.put({ ...value, data }, key);
          };
          store.transaction.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      }),
    [`file:${sha}`, how] as const,
  );
}

async function manifestOf(dir: string): Promise<{ files: Record<string, { sha256: string; bytes: number }> }> {
  return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
}

/**
 * Storage broken in the worker as `code` says: search must still answer correctly, and the app must
 * say that nothing is saved (the notice, and the storage panel).
 */
function brokenStorage(name: string, code: string, expectNotice: RegExp, opts: { timeoutMs?: number } = {}): HostileCase {
  return {
    group: 'storage fault',
    name,
    timeoutMs: opts.timeoutMs,
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        await patchWorker(context, code);
        const p = await open(context, ctx.baseURL);
        const banner = await p.banner();
        if (banner) return crash(`storage trouble stopped the app: ${oneLine(banner)}`);
        const wrong = await p.wrongResults();
        if (wrong) return silentWrong(wrong);
        const notice = await p.notice(15_000);
        if (!expectNotice.test(notice)) return silentWrong(`storage failed without the expected word (notice: “${notice}”)`);
        const words = judgeError(notice);
        if (words.outcome !== 'clear error') return words;
        // The storage panel says the same, in words.
        const panel = p.page.getByTestId('storage-panel');
        await panel.locator('summary').click();
        await panel.getByTestId('storage-unavailable').or(panel.getByTestId('storage-total')).or(panel.getByTestId('storage-status').filter({ hasText: /./ })).first().waitFor({ timeout: 10_000 });
        const panelText = (await panel.textContent()) ?? '';
        if (!judgeError(panelText).outcome.startsWith('clear')) return crash(`the storage panel shows: ${oneLine(panelText)}`);
        return handled(`results correct; notice: ${oneLine(notice)}`);
      } finally {
        await context.close();
      }
    },
  };
}

/** A saved file damaged as `how` says, then a reload: the damage is noticed, the file downloaded again, never used. */
function damagedCopy(file: 'index.bin' | 'models.json', how: 'truncate' | 'flip' | 'string'): HostileCase {
  const what = { truncate: 'cut to half its length', flip: 'with one byte flipped', string: 'replaced by a string' }[how];
  return {
    group: 'storage fault',
    name: `saved ${file} ${what}, then a reload`,
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        const sha = (await manifestOf(COLOURS)).files[file].sha256;
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        await savedIndex(first.page, ctx.baseURL);
        await damage(first.page, sha, how);
        if ((await saved(first.page)).files[sha] === sha) return crash('the damage did not take: the case tests nothing');
        await first.page.close();

        const again = await open(context, ctx.baseURL);
        const banner = await again.banner();
        if (banner) return crash(`the reload failed: ${oneLine(banner)}`);
        const wrong = await again.wrongResults();
        if (wrong) return silentWrong(`results from the damaged copy: ${wrong}`);
        const notice = await again.notice(10_000);
        const verdict = judgeError(notice, [file, /damaged/]);
        if (verdict.outcome !== 'clear error') return silentWrong(`the damaged copy was replaced without the expected word (notice: “${notice}”)`);
        // The fresh download was saved in its place, and it verifies.
        const after = await savedIndex(again.page, ctx.baseURL);
        if (after.files[sha] !== sha) return dataLost(`after the reload the saved ${file} is ${after.files[sha] || 'missing'}`);
        return handled(`detected (“${oneLine(notice)}”), downloaded again, the new copy verifies; results correct`);
      } finally {
        await context.close();
      }
    },
  };
}

/** Serves the colours index folder from `dir` (another index published at the same address), or stalls files. */
async function publish(context: BrowserContext, dir: () => string, stall: (file: string) => boolean = () => false, offline = () => false): Promise<void> {
  await context.unroute(`**/${INDEX}**`);
  await context.route(`**/${INDEX}**`, async (route: Route) => {
    const rel = new URL(route.request().url()).pathname.split(`/${INDEX}`)[1];
    if (offline()) return route.abort('internetdisconnected');
    if (stall(rel)) return; // never answered: the request stays open until the page goes
    const body = await readFile(join(dir(), rel)).catch(() => null);
    return body ? route.fulfill({ body }) : route.fulfill({ status: 404, body: 'not found' });
  });
}

/** Four small distinct PNGs, as a creator's samples. */
async function samplePngs(): Promise<{ name: string; mimeType: string; buffer: Buffer }[]> {
  const sharp = (await import('sharp')).default;
  return Promise.all(
    [0, 1, 2, 3].map(async (i) => ({
      name: `sample-${i}.png`,
      mimeType: 'image/png',
      buffer: await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 200, g: 30 + 20 * i, b: 40 } } }).png().toBuffer(),
    })),
  );
}

/** Adds a model of yours through "Add your model" (the same four samples, named "Mine"): what the dialog said, and the id when saved. */
async function tryAddYourModel(page: Page): Promise<{ said: string; id: string | null }> {
  await page.getByRole('button', { name: 'Add your model' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('#add-model-files').setInputFiles(await samplePngs());
  await dialog.getByLabel(/^name/i).fill('Mine');
  await dialog.getByRole('button', { name: 'Add model' }).click();
  const status = page.getByTestId('add-model-status');
  await status.filter({ hasText: /Saved|Not added/ }).waitFor({ timeout: 60_000 });
  const said = (await status.textContent()) ?? '';
  const id = /Saved/.test(said) ? await status.getAttribute('data-local-id') : null;
  await dialog.getByRole('button', { name: 'Done' }).click();
  return { said, id };
}

/** Adds a model of yours through "Add your model"; its id. */
async function addYourModel(page: Page): Promise<string> {
  const { said, id } = await tryAddYourModel(page);
  if (!id) throw new Error(`not saved: ${said}`);
  return id;
}

/** Edits your model's stored records in the page's IndexedDB (model-search-local/models), or only looks; the keys present after. */
function editLocalRecords(page: Page, id: string, how: 'cut embeddings' | 'drop data' | 'look'): Promise<string[]> {
  return page.evaluate(
    ({ id, how }) =>
      new Promise<string[]>((resolve, reject) => {
        const req = indexedDB.open('model-search-local');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const store = db.transaction('models', 'readwrite').objectStore('models');
          if (how === 'drop data') store.delete(`data:${id}`);
          else if (how === 'cut embeddings') {
            const get = store.get(`data:${id}`);
            get.onsuccess = () => {
              const data = get.result as { embeddings: ArrayBuffer };
              store.put({ ...data, embeddings: data.embeddings.slice(0, data.embeddings.byteLength - 12) }, `data:${id}`);
            };
          }
          store.transaction.oncomplete = () => {
            const keys = db.transaction('models').objectStore('models').getAllKeys();
            keys.onsuccess = () => {
              db.close();
              resolve((keys.result as IDBValidKey[]).map(String));
            };
          };
        };
      }),
    { id, how },
  );
}

/**
 * One of your saved models damaged in storage (`how`), then a reload: the search is the index's own
 * ranking (the damaged model is left out, never scored from bad numbers), the storage panel says so,
 * and its records are kept (never deleted silently).
 */
function damagedLocalModel(how: 'cut embeddings' | 'drop data'): HostileCase {
  return {
    group: 'storage fault',
    name: how === 'cut embeddings' ? 'a saved model of yours with its embeddings cut short, then a reload' : 'a saved model of yours whose data record is gone, then a reload',
    timeoutMs: 90_000,
    async run(ctx): Promise<Verdict> {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        const id = await addYourModel(first.page);
        const kept = await editLocalRecords(first.page, id, how);
        await first.page.close();
        const again = await open(context, ctx.baseURL);
        if (await again.banner()) return crash(`the visit after the damage failed: ${await again.banner()}`);
        const wrong = await again.wrongResults();
        if (wrong) return silentWrong(`the ranking is not the index's own: ${wrong}`);
        const panel = again.page.getByTestId('storage-panel');
        await panel.locator('summary').click();
        const said = panel.getByTestId('storage-local-damaged');
        if (!(await said.waitFor({ timeout: 10_000 }).then(() => true, () => false))) return silentWrong('the damaged model was left out without a word');
        const after = await editLocalRecords(again.page, id, 'look');
        if (!after.includes(`entry:${id}`) || (kept.includes(`data:${id}`) && !after.includes(`data:${id}`))) return dataLost(`its records were deleted: ${after.join(', ')}`);
        const told = oneLine((await said.textContent()) ?? '');
        // "Your models", where a person looks for the model that vanished, says so too.
        const yours = again.page.getByTestId('local-models');
        await yours.locator('summary').click();
        const yoursSaid = yours.getByTestId('local-models-damaged');
        if (!(await yoursSaid.waitFor({ timeout: 10_000 }).then(() => true, () => false))) return silentWrong('“Your models” says nothing of the damaged model');
        if (!/Offline storage/.test((await yoursSaid.textContent()) ?? '')) return silentWrong(`“Your models” does not say where to remove it: ${await yoursSaid.textContent()}`);
        // The same images again: the damaged record holds their id, and the words must say what to do.
        const blocked = await tryAddYourModel(again.page);
        if (blocked.id) return silentWrong(`the same images were saved again beside the damaged record (${blocked.id})`);
        if (!/damaged saved model holds the id/.test(blocked.said) || !/Offline storage/.test(blocked.said)) return silentWrong(`adding them again said “${oneLine(blocked.said)}”`);
        // Removing the damaged records (asked, confirmed) frees the id; nothing else is deleted.
        await panel.getByRole('button', { name: /Remove damaged models/ }).click();
        await panel.getByRole('alert').scrollIntoViewIfNeeded();
        await again.page.screenshot({ path: shot(`damaged-model-${how.replace(' ', '-')}`, 'hostile') });
        await panel.getByRole('alert').getByRole('button', { name: 'Remove' }).click();
        await panel.getByTestId('storage-status').filter({ hasText: 'Removed the damaged models' }).waitFor({ timeout: 10_000 });
        if (await said.isVisible()) return silentWrong('the panel still reports a damaged model after removing it');
        if (!(await yoursSaid.waitFor({ state: 'detached', timeout: 10_000 }).then(() => true, () => false))) return silentWrong('“Your models” still reports a damaged model after removing it');
        const gone = await editLocalRecords(again.page, id, 'look');
        if (gone.length) return silentWrong(`records left after removing the damaged model: ${gone.join(', ')}`);
        const readded = await tryAddYourModel(again.page);
        if (readded.id !== id) return silentWrong(`after removing the damaged model the same images were not saved again: “${oneLine(readded.said)}”`);
        return handled(`left out of the ranking (which equals the index's own); the panel says “${told}”; its records are kept until the visitor removes them there (confirmed), which frees its id: the same images then save again`);
      } finally {
        await context.close();
      }
    },
  };
}

const cases: HostileCase[] = [
  brokenStorage('IndexedDB missing in the worker', `Object.defineProperty(self, 'indexedDB', { value: undefined, configurable: true });`, /unavailable/i),
  brokenStorage(
    'private mode: indexedDB.open throws (SecurityError)',
    `IDBFactory.prototype.open = function () { throw new DOMException('The user denied permission to access the database.', 'SecurityError'); };`,
    /unavailable/i,
  ),
  brokenStorage('indexedDB.open never answers (blocked by another tab)', `IDBFactory.prototype.open = function () { return {}; };`, /unavailable/i, { timeoutMs: 45_000 }),
  {
    ...brokenStorage('a database left without its object store (an older version, or Firefox private mode)', '', /unavailable/i),
    async run(ctx) {
      // The page creates a version-1 database with no store first: the worker cannot open its files.
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        await context.addInitScript(() => void indexedDB.open('model-search-files', 1));
        const p = await open(context, ctx.baseURL);
        const banner = await p.banner();
        if (banner) return crash(`storage trouble stopped the app: ${oneLine(banner)}`);
        const wrong = await p.wrongResults();
        if (wrong) return silentWrong(wrong);
        const notice = await p.notice(10_000);
        if (!/unavailable/i.test(notice)) return silentWrong(`no word about storage (notice: “${notice}”)`);
        return handled(`results correct; notice: ${oneLine(notice)}`);
      } finally {
        await context.close();
      }
    },
  },
  brokenStorage(
    'every write fails (a disk error)',
    `IDBObjectStore.prototype.put = function () { throw new DOMException('An internal error was encountered in the Indexed Database server', 'UnknownError'); };`,
    /Saving .+ failed/,
  ),
  {
    group: 'storage fault',
    name: 'every read of a saved file fails, then a reload',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        const before = await savedIndex(first.page, ctx.baseURL);
        await first.page.close();
        await patchWorker(context, `IDBObjectStore.prototype.get = function () { throw new DOMException('The operation failed for reasons unrelated to the database itself', 'UnknownError'); };`);
        const again = await open(context, ctx.baseURL);
        const banner = await again.banner();
        if (banner) return crash(`unreadable storage stopped the app: ${oneLine(banner)}`);
        const wrong = await again.wrongResults();
        if (wrong) return silentWrong(wrong);
        const after = await saved(again.page);
        for (const sha of before.groups[indexGroup(ctx.baseURL)].files) if (after.files[sha] !== sha) return dataLost(`saved file ${sha.slice(0, 12)} is gone or changed`);
        return handled('results correct from the network; the saved index is untouched');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'quota exceeded (the browser allows 300 kB), then a reload',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        // A real quota (the override lives as long as the DevTools session: the page stays open).
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(ctx.baseURL).origin, quotaSize: 300 * 1024 });
        for (const visit of ['first', 'second']) {
          const p = await open(context, ctx.baseURL, 'teal', page);
          const banner = await p.banner();
          if (banner) return crash(`a full storage stopped the ${visit} visit: ${oneLine(banner)}`);
          const wrong = await p.wrongResults();
          if (wrong) return silentWrong(`${visit} visit: ${wrong}`);
          const notice = await p.notice(15_000);
          const verdict = judgeError(notice, [/Not enough browser storage to save \S+/]);
          if (verdict.outcome !== 'clear error') return silentWrong(`${visit} visit: the full storage went without the expected word (notice: “${notice}”)`);
          if (visit === 'second') return handled(`results correct on both visits; notice: ${oneLine(notice)}`);
        }
        return crash('unreachable');
      } finally {
        await context.close();
      }
    },
  },
  damagedCopy('index.bin', 'truncate'),
  damagedCopy('models.json', 'flip'),
  damagedCopy('index.bin', 'string'),
  {
    group: 'storage fault',
    name: 'a saved index that is stale: the published one changed (new manifest hash)',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        // v2: the same index with one model renamed (models.json and the manifest change).
        const models = JSON.parse(await readFile(join(COLOURS, 'models.json'), 'utf8')) as { id: string; name: string }[];
        const renamed = models.map((m) => (m.id === 'teal-lagoon' ? { ...m, name: 'Teal Lagoon, second edition' } : m));
        const v2Models = Buffer.from(JSON.stringify(renamed));
        const v2Manifest = await manifestOf(COLOURS);
        const v1ModelsSha = v2Manifest.files['models.json'].sha256;
        v2Manifest.files['models.json'] = { bytes: v2Models.byteLength, sha256: sha256(v2Models) };
        const v2ManifestBytes = Buffer.from(JSON.stringify(v2Manifest));
        let version = 1;
        await context.route(`**/${INDEX}**`, async (route) => {
          const rel = new URL(route.request().url()).pathname.split(`/${INDEX}`)[1];
          if (version === 2 && rel === 'models.json') return route.fulfill({ body: v2Models });
          if (version === 2 && rel === 'manifest.json') return route.fulfill({ body: v2ManifestBytes });
          return route.fallback();
        });
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        await savedIndex(first.page, ctx.baseURL);
        await first.page.close();

        version = 2;
        const again = await open(context, ctx.baseURL);
        const banner = await again.banner();
        if (banner) return crash(`the new version failed: ${oneLine(banner)}`);
        const wrong = await again.wrongResults();
        if (wrong) return silentWrong(wrong);
        const shown = await again.page.locator('[data-model-id="teal-lagoon"]').first().textContent();
        if (!shown?.includes('Teal Lagoon, second edition')) return silentWrong(`the stale saved name is shown: ${oneLine(shown ?? '')}`);
        const s = await savedIndex(again.page, ctx.baseURL);
        const group = s.groups[indexGroup(ctx.baseURL)];
        if (group.version !== sha256(v2ManifestBytes)) return silentWrong('the saved index still records the old version');
        if (!group.files.includes(sha256(v2Models)) || s.files[sha256(v2Models)] !== sha256(v2Models)) return dataLost('the new models.json is not saved');
        if (v1ModelsSha in s.files) return silentWrong('the stale models.json is still kept');
        return handled('the new version is shown and saved in place of the old one; results correct');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'the page is closed while a new index downloads, then reloads offline and online',
    timeoutMs: 90_000,
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        // v1 = colours, saved on a first visit; v2 = the styles index (another encoder, 96 models)
        // published at the same address, whose index.bin never finishes on the second visit.
        let dir = COLOURS;
        let stallIndex = false;
        let offline = false;
        await publish(context, () => dir, (f) => stallIndex && f === 'index.bin', () => offline);
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        const v1 = await savedIndex(first.page, ctx.baseURL);
        await first.page.close();

        dir = STYLES;
        stallIndex = true;
        const v2Models = (await manifestOf(STYLES)).files['models.json'].sha256;
        const during = await open(context, ctx.baseURL, 'watercolour');
        // Wait until part of v2 (its models.json) is saved, then close the page mid-download.
        for (let i = 0; i < 100 && !((await saved(during.page)).files[v2Models] === v2Models); i++) await during.page.waitForTimeout(200);
        const partial = await saved(during.page);
        await during.page.close();
        const group = indexGroup(ctx.baseURL);
        const kept = await (async () => {
          const probe = await context.newPage();
          await probe.goto(`${ctx.baseURL}favicon.svg`);
          const s = await saved(probe);
          await probe.close();
          return s;
        })();
        if (kept.groups[group]?.version !== v1.groups[group].version) return dataLost('the saved index record changed after an interrupted download');
        for (const sha of v1.groups[group].files) if (kept.files[sha] !== sha) return dataLost(`saved file ${sha.slice(0, 12)} of the old index is gone or damaged`);

        // Offline: the complete old index is used, and said to be.
        offline = true;
        const off = await open(context, ctx.baseURL);
        const offBanner = await off.banner();
        if (offBanner) return dataLost(`offline, the saved index could not be used: ${oneLine(offBanner)}`);
        const offWrong = await off.wrongResults();
        if (offWrong) return silentWrong(`offline: ${offWrong}`);
        if (!/Offline/.test(await off.notice(10_000))) return silentWrong('offline start without a word');
        await off.page.close();

        // Online again: the new index, whole.
        offline = false;
        stallIndex = false;
        const on = await open(context, ctx.baseURL, 'watercolour');
        const onBanner = await on.banner(40_000);
        if (onBanner) return crash(`the new index failed: ${oneLine(onBanner)}`);
        const onWrong = await on.wrongResults('index/styles', 'watercolour');
        if (onWrong) return silentWrong(`the new index: ${onWrong}`);
        const partSaved = partial.files[v2Models] === v2Models ? 'part of the new index was saved before the close; ' : '';
        return handled(`${partSaved}the old index survived whole, served offline with a notice; online the new one loads correctly`);
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'Cache API unavailable in the page and the worker',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        const drop = `Object.defineProperty(self, 'caches', { value: undefined, configurable: true });`;
        await context.addInitScript(drop);
        await patchWorker(context, drop);
        const p = await open(context, ctx.baseURL);
        const banner = await p.banner();
        if (banner) return crash(`no Cache API stopped the app: ${oneLine(banner)}`);
        if (await p.page.evaluate(() => typeof caches !== 'undefined' && caches !== undefined)) return crash('caches is still there: the case tests nothing');
        const wrong = await p.wrongResults();
        return wrong ? silentWrong(wrong) : handled('results correct without the Cache API');
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'clearing saved files when IndexedDB refuses to delete',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        await savedIndex(first.page, ctx.baseURL);
        await first.page.close();
        await patchWorker(context, `IDBObjectStore.prototype.clear = function () { throw new DOMException('The transaction was aborted.', 'AbortError'); };`);
        const p = await open(context, ctx.baseURL);
        if (await p.banner()) return crash('the second visit failed');
        const panel = p.page.getByTestId('storage-panel');
        await panel.locator('summary').click();
        await panel.getByTestId('storage-files').waitFor({ timeout: 10_000 });
        await panel.getByRole('button', { name: 'Clear saved files' }).click();
        const status = panel.getByTestId('storage-status');
        await status.filter({ hasText: /./ }).waitFor({ timeout: 10_000 });
        const said = (await status.textContent()) ?? '';
        const left = (await saved(p.page)).files;
        if (Object.keys(left).length && /^Cleared/.test(said)) return silentWrong(`the panel says “${said}” while ${Object.keys(left).length} files are still saved`);
        if (!Object.keys(left).length) return crash('the files were deleted anyway: the case tests nothing');
        return judgeError(said, ['clear', /still saved/]);
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'the storage estimate throws in the worker (SecurityError) when the panel opens',
    async run(ctx) {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        await patchWorker(context, `StorageManager.prototype.estimate = function () { throw new DOMException('Access is denied for this document.', 'SecurityError'); };`);
        const p = await open(context, ctx.baseURL);
        if (await p.banner()) return crash('the visit failed');
        const wrong = await p.wrongResults();
        if (wrong) return silentWrong(wrong);
        const panel = p.page.getByTestId('storage-panel');
        await panel.locator('summary').click();
        await panel.getByTestId('storage-total').or(panel.getByTestId('storage-status').filter({ hasText: /./ })).first().waitFor({ timeout: 10_000 });
        if (await panel.getByTestId('storage-total').count()) return handled(`the panel lists what is saved without the estimate: ${oneLine((await panel.getByTestId('storage-total').textContent()) ?? '')}`);
        return judgeError((await panel.getByTestId('storage-status').textContent()) ?? '', ['offline storage']);
      } finally {
        await context.close();
      }
    },
  },
  {
    group: 'storage fault',
    name: 'offline, with the saved manifest damaged',
    async run(ctx): Promise<Verdict> {
      const context = await ctx.browser.newContext({ serviceWorkers: 'block' });
      try {
        let offline = false;
        await publish(context, () => COLOURS, () => false, () => offline);
        const first = await open(context, ctx.baseURL);
        if (await first.banner()) return crash('the first visit failed');
        await savedIndex(first.page, ctx.baseURL);
        // Flip a byte of the manifest kept in the group record.
        await first.page.evaluate(
          (key) =>
            new Promise<void>((resolve, reject) => {
              const req = indexedDB.open('model-search-files');
              req.onerror = () => reject(req.error);
              req.onsuccess = () => {
                const db = req.result;
                const store = db.transaction('files', 'readwrite').objectStore('files');
                const get = store.get(key);
                get.onsuccess = () => {
                  const record = get.result as { manifest: ArrayBuffer };
                  const bytes = new Uint8Array(record.manifest.slice(0));
                  bytes[10] ^= 0x01;
                  store.put({ ...record, manifest: bytes.buffer }, key);
                };
                store.transaction.oncomplete = () => {
                  db.close();
                  resolve();
                };
              };
            }),
          indexGroup(ctx.baseURL),
        );
        await first.page.close();
        offline = true;
        const off = await open(context, ctx.baseURL);
        const banner = await off.banner();
        if (!banner) return silentWrong('a damaged saved manifest was used');
        const verdict = judgeError(banner, ['manifest.json']);
        return verdict.outcome === 'clear error' ? clearError(`the damaged manifest is not used: ${verdict.detail}`) : verdict;
      } finally {
        await context.close();
      }
    },
  },
  damagedLocalModel('cut embeddings'),
  damagedLocalModel('drop data'),
];

defineHostileCases(cases);
