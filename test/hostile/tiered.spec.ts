import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser, Route } from '@playwright/test';
import { rankTiered } from '../../src/core/index/tieredRank.ts';
import { openBlock } from '../../src/core/index/tieredRecords.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { openLocalTiered } from '../../tools/lib/localIndex.ts';
import { judgeRefusal, runTool } from './cliRun.ts';
import { section } from './craft.ts';
import { crash, expectRefusal, handled, judgeError, oneLine, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Tiered (version 2) indexes that lie: the shipped tiered demo (public/index/demo-tiered) with one
 * thing broken and every checksum that covers it recomputed (the manifest's hash of head.bin, the
 * head's MetaTable hash of a metadata shard), so only the readers' own checks stand in the way. In
 * Node through openLocalTiered + rankTiered (what `npm run search` runs) and the CLI itself; in the
 * app through `?index=crafted/`, served by a route that answers Range requests as a host would — or
 * as a broken one does. Each case must end in a clear message naming the file, or in the exact
 * ranking of the honest index.
 */

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'index', 'demo-tiered');
const QUERY = 'watercolor lighthouse at sunset';

/** Head sections (docs/index-format.md, "Version 2"). */
const BLOCK_TABLE = 36;
const DIRECTORY = 35;
const PROXY_PRECISION = 37;
const META_TABLE = 39;

type Files = Map<string, Uint8Array>;

let shipped: Files | undefined;
/** A fresh copy of the shipped tiered demo's files, by path relative to the folder. */
function demoFiles(): Files {
  if (!shipped) {
    shipped = new Map();
    for (const e of readdirSync(DEMO, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const path = join(e.parentPath, e.name);
      shipped.set(path.slice(DEMO.length + 1), new Uint8Array(readFileSync(path)));
    }
  }
  return new Map([...shipped].map(([k, v]) => [k, v.slice()]));
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const utf8 = (s: string) => new TextEncoder().encode(s);
const manifestOf = (f: Files) => JSON.parse(text(f.get('manifest.json')!)) as { count: number; files: Record<string, { bytes: number; sha256: string }> } & Record<string, unknown>;
const setManifest = (f: Files, m: unknown) => f.set('manifest.json', utf8(JSON.stringify(m, null, 1)));

/** Replaces `file` and records its new size and SHA-256 in the manifest (head.bin, records.bin). */
async function replaceListed(f: Files, file: 'head.bin' | 'records.bin', bytes: Uint8Array): Promise<Files> {
  f.set(file, bytes);
  const m = manifestOf(f);
  m.files[file] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  setManifest(f, m);
  return f;
}

/** head.bin edited in place (a DataView over a copy), the manifest's hash recomputed. */
function editHead(f: Files, edit: (view: DataView, bytes: Uint8Array) => void): Promise<Files> {
  const head = f.get('head.bin')!.slice();
  edit(new DataView(head.buffer, head.byteOffset, head.byteLength), head);
  return replaceListed(f, 'head.bin', head);
}

/** meta/<b>.json replaced, its MetaTable entry (size, SHA-256) and then the manifest's head hash recomputed: only the shard's content is wrong. */
async function replaceMeta(f: Files, b: number, bytes: Uint8Array): Promise<Files> {
  f.set(`meta/${b}.json`, bytes);
  const sha = await sha256Hex(bytes);
  return editHead(f, (view, head) => {
    const at = section(head, META_TABLE).offset + b * 40;
    view.setUint32(at, bytes.byteLength, true);
    for (let i = 0; i < 32; i++) head[at + 8 + i] = parseInt(sha.slice(2 * i, 2 * i + 2), 16);
  });
}

function writeFiles(dir: string, f: Files): string {
  for (const [path, bytes] of f) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

/** A fixed query vector: model 7's stored mean (read from the honest index), and the honest ranking for it. */
let reference: Promise<{ q: Float32Array; ids: string[] }> | undefined;
function honest(): Promise<{ q: Float32Array; ids: string[] }> {
  reference ??= (async () => {
    const t = await openLocalTiered(DEMO);
    const b = t.head.directory[7]!.block;
    const records = await openBlock((await t.fetchBlocks([b])).get(b)!, t.head.blocks[b]!, t.head.directory, t.head.dim, b);
    const q = Float32Array.from(records.get(7)!.mean);
    return { q, ids: (await rankOnce(DEMO, q)).ids };
  })();
  return reference;
}

/** The two-stage ranking of the folder for a query vector (Gaussian density, K = 50), as the CLI runs it; the model ids, best first. */
async function rankOnce(dir: string, q: Float32Array): Promise<{ ids: string[] }> {
  const t = await openLocalTiered(dir);
  const ranking = await rankTiered(
    { head: t.head, calibration: t.calibration, nullText: t.nullText },
    { parts: [{ part: { kind: 'text', text: 'fixed' }, weight: 1 }], method: 'gaussian', topK: 10 },
    async () => q,
    { fetchBlocks: t.fetchBlocks, cache: t.cache },
  );
  return { ids: (await t.meta(ranking.results.map((r) => r.index))).map((m) => m.id) };
}

/** A Node case: the crafted folder opened and ranked as the CLI does; a refusal must name `names`; acceptance must give the honest ranking. */
function nodeCase(name: string, craft: (f: Files) => Files | Promise<Files>, names: (string | RegExp)[], mustRefuse = false): HostileCase {
  return {
    group: 'index file',
    name: `tiered (Node): ${name}`,
    timeoutMs: 20_000,
    async run({ tmp }) {
      const { q, ids } = await honest();
      const dir = writeFiles(join(tmp, 'crafted'), await craft(demoFiles()));
      return expectRefusal(
        () => rankOnce(dir, q),
        names,
        (got) => (mustRefuse ? silentWrong(`an inconsistent index accepted without a word (ranked ${got.ids.slice(0, 3).join(', ')}…)`) : JSON.stringify(got.ids) === JSON.stringify(ids) ? handled(`ranked as the honest index: ${got.ids.slice(0, 3).join(', ')}…`) : silentWrong(`ranked ${got.ids.slice(0, 5).join(', ')} instead of ${ids.slice(0, 5).join(', ')}`)),
      );
    },
  };
}

/** A CLI case: `npm run search -- --index <crafted> --like <id> --json`; refusals judged as every CLI refusal. */
function cliCase(name: string, craft: (f: Files) => Files | Promise<Files>, names: (string | RegExp)[]): HostileCase {
  return {
    group: 'CLI argument',
    name: `tiered (npm run search): ${name}`,
    timeoutMs: 40_000,
    async run({ tmp }) {
      const dir = writeFiles(join(tmp, 'crafted'), await craft(demoFiles()));
      const like = (JSON.parse(text(demoFiles().get('meta/0.json')!)) as { id: string }[])[0]!.id;
      const r = await runTool('search', ['--index', dir, '--like', like, '--json'], { timeoutMs: 35_000 });
      return judgeRefusal(r, names);
    },
  };
}

const truncatedHead = (f: Files) => replaceListed(f, 'head.bin', f.get('head.bin')!.slice(0, 4000));
const wrongMagic = (f: Files) => editHead(f, (_v, b) => b.set(utf8('MSIZ'), 0));
/** Block 1 starts 4 bytes late: the blocks no longer tile records.bin. */
const untiled = (f: Files) =>
  editHead(f, (v, b) => {
    const at = section(b, BLOCK_TABLE).offset + 1 * 64;
    v.setUint32(at, v.getUint32(at, true) + 4, true);
  });
/** Model 3's record placed past the end of its block. */
const outsideBlock = (f: Files) =>
  editHead(f, (v, b) => {
    const at = section(b, DIRECTORY).offset + 3 * 12;
    v.setUint32(at + 4, 1_000_000, true);
  });
const nanPrecision = (f: Files) => editHead(f, (v, b) => v.setFloat32(section(b, PROXY_PRECISION).offset + 5 * 4, NaN, true));
const countDisagrees = (f: Files) => {
  const m = manifestOf(f);
  m.count = m.count - 1; // still 19 blocks of 16: only the count disagrees with the head
  setManifest(f, m);
  return f;
};
const metaNotJson = (f: Files) => replaceMeta(f, 0, utf8('{"models": [this is not json'));
const metaWrongCount = (f: Files) => {
  const list = JSON.parse(text(f.get('meta/0.json')!)) as unknown[];
  return replaceMeta(f, 0, utf8(JSON.stringify(list.slice(0, -1))));
};
const metaHashMismatch = (f: Files) => {
  const list = JSON.parse(text(f.get('meta/0.json')!)) as { name: string }[];
  list[0]!.name = 'Renamed without a new hash';
  f.set('meta/0.json', utf8(JSON.stringify(list)));
  return f;
};
const shortRecords = (f: Files) => replaceListed(f, 'records.bin', f.get('records.bin')!.slice(0, f.get('records.bin')!.byteLength - 5000));
const headSizeLie = (f: Files) => {
  const m = manifestOf(f);
  m.files['head.bin']!.bytes -= 64;
  setManifest(f, m);
  return f;
};

const nodeCases: HostileCase[] = [
  nodeCase('head.bin truncated (manifest re-hashed)', truncatedHead, ['head.bin']),
  nodeCase('head.bin with a wrong magic number', wrongMagic, ['head.bin']),
  nodeCase('a block table that does not tile records.bin', untiled, ['head.bin']),
  nodeCase('a directory entry outside its block', outsideBlock, ['head.bin']),
  nodeCase('a NaN Gaussian-prefilter precision', nanPrecision, ['head.bin']),
  nodeCase('a manifest count that disagrees with the head', countDisagrees, ['head.bin'], true),
  nodeCase('a metadata shard that is not JSON (hashes recomputed)', metaNotJson, ['meta/0.json']),
  nodeCase('a metadata shard with one model too few (hashes recomputed)', metaWrongCount, ['meta/0.json']),
  nodeCase('a metadata shard whose bytes do not match the MetaTable', metaHashMismatch, ['meta/0.json']),
  nodeCase('records.bin shorter than the head says (manifest re-hashed)', shortRecords, ['records.bin']),
  nodeCase('a manifest that lies about head.bin’s size', headSizeLie, ['head.bin']),
];

const cliCases: HostileCase[] = [
  cliCase('head.bin with a wrong magic number', wrongMagic, ['head.bin']),
  cliCase('records.bin shorter than the head says', shortRecords, ['records.bin']),
  cliCase('a metadata shard that is not JSON', metaNotJson, ['meta/0.json']),
];

// ---- the app: a host that serves the crafted folder, honouring (or breaking) Range requests ----

type RangeMode = 'honest' | 'shifted' | 'whole' | '416';

/** The honest index's ranking in the app, for the query (computed once, by the app itself). */
let appReference: Promise<string[]> | undefined;

async function appRun(browser: Browser, baseURL: string, f: Files, mode: RangeMode, opts: { blockFiles?: boolean } = {}): Promise<{ banner: string | null; notice: string | null; results: string[] }> {
  const context = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    await page.route('**/crafted/**', (route: Route) => {
      const path = decodeURIComponent(new URL(route.request().url()).pathname.split('/crafted/')[1] ?? '');
      if (path.startsWith('blocks/') && opts.blockFiles === false) return route.fulfill({ status: 404, body: 'not found' });
      const body = f.get(path);
      if (!body) return route.fulfill({ status: 404, body: 'not found' });
      const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      const range = /^bytes=(\d+)-(\d+)$/.exec(route.request().headers()['range'] ?? '');
      if (!range || path !== 'records.bin' || mode === 'whole') return route.fulfill({ status: 200, body: Buffer.from(body), contentType: type });
      if (mode === '416') return route.fulfill({ status: 416, headers: { 'content-range': `bytes */${body.byteLength}` }, body: '' });
      const shift = mode === 'shifted' ? 16 : 0;
      const start = Math.min(Number(range[1]) + shift, body.byteLength - 1);
      const end = Math.min(Number(range[2]) + shift, body.byteLength - 1);
      return route.fulfill({ status: 206, contentType: type, headers: { 'content-range': `bytes ${start}-${end}/${body.byteLength}` }, body: Buffer.from(body.subarray(start, end + 1)) });
    });
    await page.goto(`./?index=crafted/&backend=wasm&q=${encodeURIComponent(QUERY)}`);
    const banner = page.getByTestId('error-banner');
    const done = page.getByTestId('status').and(page.locator('[data-phase="ready"][data-searching="false"][data-refining="false"][data-seq="1"]'));
    await Promise.race([banner.waitFor({ state: 'visible', timeout: 40_000 }), done.waitFor({ timeout: 40_000 })]);
    const alert = page.getByRole('alert');
    const notice = (await page.getByText(/Range/).count()) ? ((await page.getByText(/Range/).first().innerText()) ?? null) : null;
    if (await banner.isVisible()) return { banner: (await banner.innerText()).trim(), notice, results: [] };
    if ((await alert.count()) && (await alert.first().isVisible())) return { banner: (await alert.first().innerText()).trim(), notice, results: [] };
    const results = await page.getByTestId('results').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-model-id') ?? ''));
    return { banner: null, notice, results };
  } finally {
    await context.close();
  }
}

function appCase(name: string, mode: RangeMode, craft: (f: Files) => Files | Promise<Files>, expect: { names?: (string | RegExp)[]; blockFiles?: boolean }): HostileCase {
  return {
    group: 'network',
    name: `tiered (app): ${name}`,
    timeoutMs: 45_000,
    async run({ browser, baseURL }): Promise<Verdict> {
      appReference ??= appRun(browser, baseURL, demoFiles(), 'honest').then((r) => {
        if (r.banner || r.results.length === 0) throw new Error(`the honest tiered demo did not rank: ${r.banner ?? 'no results'}`);
        return r.results;
      });
      const ref = await appReference;
      const got = await appRun(browser, baseURL, await craft(demoFiles()), mode, { blockFiles: expect.blockFiles });
      if (expect.names) {
        if (got.banner === null) return silentWrong(`no error: ranked ${got.results.slice(0, 3).join(', ')}…`);
        return judgeError(got.banner, expect.names);
      }
      if (got.banner !== null) return crash(`refused a legal index on a host the reader can work around: ${oneLine(got.banner)}`);
      if (JSON.stringify(got.results) !== JSON.stringify(ref)) return silentWrong(`ranked ${got.results.slice(0, 5).join(', ')} instead of ${ref.slice(0, 5).join(', ')}`);
      if (mode !== 'honest' && !got.notice) return silentWrong('the same ranking, but no notice that the host breaks Range requests');
      return handled(`the honest ranking (${got.results.length} results) from blocks/, with a notice: ${oneLine(got.notice ?? '', 120)}`);
    },
  };
}

const same = (f: Files) => f;
const appCases: HostileCase[] = [
  appCase('a host that shifts Range answers by 16 bytes', 'shifted', same, {}),
  appCase('a host that answers Range requests with 200 and the whole file', 'whole', same, {}),
  appCase('a host that answers Range requests with 416', '416', same, {}),
  appCase('a host that breaks Range requests, and no blocks/ folder', 'whole', same, { names: ['records.bin', /per-block files|blocks\//] , blockFiles: false }),
  appCase('a manifest that lies about head.bin’s size', 'honest', headSizeLie, { names: ['head.bin'] }),
  appCase('head.bin with a wrong magic number (manifest re-hashed)', 'honest', wrongMagic, { names: ['head.bin'] }),
  appCase('a metadata shard that is not JSON (hashes recomputed)', 'honest', metaNotJson, { names: ['meta/'] }),
];

defineHostileCases([...nodeCases, ...cliCases, ...appCases]);
