import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { join } from 'node:path';
import { HEADER_BYTES, SECTION_ENTRY_BYTES, layoutIndex, SectionKind } from '../../src/core/index/indexFormat.ts';
import { openIndex, type OpenedIndex } from '../../src/core/index/openIndex.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';

/**
 * Crafting hostile index folders from the real shipped ones: patch a value, then recompute every
 * checksum the manifest holds, so that only the reader's value checks stand between the file and a
 * ranking (the probe's setting: "indexes whose checksums pass").
 */

export type IndexFiles = { 'manifest.json': Uint8Array; 'index.bin': Uint8Array; 'models.json': Uint8Array };

const PUBLIC = join(import.meta.dirname, '..', '..', 'public');

/** A shipped index folder's three files (public/index/<name>/). */
export function shippedIndex(name: 'colours' | 'demo' | 'styles'): IndexFiles {
  const dir = join(PUBLIC, 'index', name);
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  return { 'manifest.json': read('manifest.json'), 'index.bin': read('index.bin'), 'models.json': read('models.json') };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

export const manifestOf = (f: IndexFiles) => JSON.parse(text(f['manifest.json'])) as Record<string, unknown> & { files: Record<string, { bytes: number; sha256: string }> };
export const modelsOf = (f: IndexFiles) => JSON.parse(text(f['models.json'])) as Record<string, unknown>[];

/** New files with the manifest's sizes and SHA-256 recomputed for index.bin and models.json. */
export async function withChecksums(f: { 'index.bin': Uint8Array; 'models.json': Uint8Array; manifest: Record<string, unknown> }): Promise<IndexFiles> {
  const manifest = structuredClone(f.manifest) as Record<string, unknown> & { files: Record<string, { bytes: number; sha256: string }> };
  for (const name of ['index.bin', 'models.json'] as const) manifest.files[name] = { bytes: f[name].byteLength, sha256: await sha256Hex(f[name]) };
  return { 'manifest.json': bytes(JSON.stringify(manifest)), 'index.bin': f['index.bin'], 'models.json': f['models.json'] };
}

/** The files with index.bin replaced (checksums recomputed). */
export const withBinary = (f: IndexFiles, bin: Uint8Array) => withChecksums({ 'index.bin': bin, 'models.json': f['models.json'], manifest: manifestOf(f) });
/** The files with models.json replaced by `models` (serialised; checksums recomputed). */
export const withModels = (f: IndexFiles, models: unknown) =>
  withChecksums({ 'index.bin': f['index.bin'], 'models.json': typeof models === 'string' ? bytes(models) : bytes(JSON.stringify(models)), manifest: manifestOf(f) });
/** The files with the manifest edited (checksums recomputed after the edit, unless `keepFiles`). */
export async function withManifest(f: IndexFiles, edit: (m: Record<string, unknown>) => void, keepFiles = false): Promise<IndexFiles> {
  const m = manifestOf(f);
  edit(m);
  if (keepFiles) return { ...f, 'manifest.json': bytes(JSON.stringify(m)) };
  return withChecksums({ 'index.bin': f['index.bin'], 'models.json': f['models.json'], manifest: m });
}

export interface SectionEntry {
  slot: number;
  kind: number;
  dtype: number;
  offset: number;
  byteLength: number;
}

export function sections(bin: Uint8Array): SectionEntry[] {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const n = view.getUint32(16, true);
  return Array.from({ length: n }, (_, slot) => {
    const e = HEADER_BYTES + slot * SECTION_ENTRY_BYTES;
    return { slot, kind: view.getUint32(e, true), dtype: view.getUint32(e + 4, true), offset: Number(view.getBigUint64(e + 8, true)), byteLength: Number(view.getBigUint64(e + 16, true)) };
  });
}

export function section(bin: Uint8Array, kind: number): SectionEntry {
  const s = sections(bin).find((e) => e.kind === kind);
  if (!s) throw new Error(`the crafted index has no section ${kind}`);
  return s;
}

export const header = (bin: Uint8Array) => {
  const v = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  return { dim: v.getUint32(8, true), count: v.getUint32(12, true) };
};

/** A copy of `bin` with the float32 section `kind` edited in place (values as a Float32Array view). */
export function editF32(bin: Uint8Array, kind: number, edit: (values: Float32Array) => void): Uint8Array {
  const copy = bin.slice();
  const s = section(copy, kind);
  edit(new Float32Array(copy.buffer, copy.byteOffset + s.offset, s.byteLength / 4));
  return copy;
}

/** A copy of `bin` with raw header/table bytes edited. */
export function editRaw(bin: Uint8Array, edit: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = bin.slice();
  edit(new DataView(copy.buffer, copy.byteOffset, copy.byteLength), copy);
  return copy;
}

/** The file re-laid out from its sections after `edit` (add, drop, reorder, change kinds or dtypes). */
export function relayout(bin: Uint8Array, edit: (s: { kind: number; dtype: number; data: Uint8Array }[]) => { kind: number; dtype: number; data: Uint8Array }[]): Uint8Array {
  const { dim, count } = header(bin);
  const raw = sections(bin).map((e) => ({ kind: e.kind, dtype: e.dtype, data: bin.slice(e.offset, e.offset + e.byteLength) }));
  return layoutIndex(dim, count, edit(raw));
}

/** Opens files in memory through the one openIndex the worker and CLIs use (nothing trusted). */
export function openFiles(f: IndexFiles): Promise<OpenedIndex> {
  return openIndex({
    where: 'crafted/',
    manifest: async () => f['manifest.json'],
    read: async (name) => f[name],
  });
}

export { SectionKind };

/** Writes the files as an index folder on disk (for the CLIs). */
export function writeFolder(dir: string, f: IndexFiles): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(f)) writeFileSync(join(dir, name), data);
  return dir;
}

/**
 * Serves the files under `<baseURL>crafted/` for one page (thumbnails answer 404), opens the app on
 * them and returns the error banner's text once it shows, or what the page shows instead.
 */
export async function appBannerFor(browser: Browser, baseURL: string, f: IndexFiles, query = ''): Promise<{ banner: string | null; results: string[] }> {
  const context = await browser.newContext({ baseURL, serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    await page.route('**/crafted/**', (route) => {
      const name = new URL(route.request().url()).pathname.split('/crafted/')[1] as keyof IndexFiles;
      const body = f[name];
      return body ? route.fulfill({ status: 200, body: Buffer.from(body), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }) : route.fulfill({ status: 404, body: 'not found' });
    });
    await page.goto(`./?index=crafted/&backend=wasm${query ? `&q=${encodeURIComponent(query)}` : ''}`);
    const banner = page.getByTestId('error-banner');
    const status = page.getByTestId('status');
    // Whichever comes first: the banner, or a finished search.
    await Promise.race([banner.waitFor({ state: 'visible', timeout: 60_000 }), status.and(page.locator('[data-phase="ready"][data-searching="false"][data-seq="1"]')).waitFor({ timeout: 60_000 })]);
    if (await banner.isVisible()) return { banner: (await banner.innerText()).trim(), results: [] };
    const results = await page.getByTestId('results').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-model-id') ?? ''));
    return { banner: null, results };
  } finally {
    await context.close();
  }
}

/**
 * The reference 1st-moment ranking: the cosine of `q` with every mean, in float64, ids best first,
 * ties by position — written apart from src/core's scoring so the suite can check it.
 */
export function cosineReference(means: Float32Array, dim: number, q: Float32Array, ids: string[], k: number): string[] {
  const count = means.length / dim;
  const score = (m: number) => {
    let dot = 0;
    let nn = 0;
    for (let j = 0; j < dim; j++) {
      dot += q[j] * means[m * dim + j];
      nn += means[m * dim + j] ** 2;
    }
    return dot / Math.sqrt(nn);
  };
  return [...Array(count).keys()].sort((a, b) => score(b) - score(a) || a - b).slice(0, k).map((m) => ids[m]);
}
