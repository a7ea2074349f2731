/**
 * The WebGPU scoring kernels (workers/gpu/tieredScorer.ts, docs/webgpu-kernels.md) against the CPU
 * functions of src/core, in SwiftShader (`force: true`: by default the scorer refuses a software
 * adapter). workers/gpu/harness.ts is bundled with esbuild and served with page.route on the
 * preview server's origin (http://127.0.0.1 is a secure context, which WebGPU needs; no page is
 * added to the app); it makes the data in the page and returns only summaries.
 *
 * Tolerance: every score is within 1e-4 of the CPU's, relative to the sum of the magnitudes of the
 * terms it adds up (a float sum's rounding error is bounded by that; a plain relative error is
 * meaningless for a cosine that cancels to ≈ 0), and the ten best are the same models in the same
 * order. Sign scores are integers and must be equal.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { makeScaleZoo, scaleQueries } from '../../tools/scale/synthZoo.ts';
import { writeTieredIndex } from '../../tools/scale/tiered.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BASE = 'http://127.0.0.1:4173/__gpu-kernels/';

interface Comparison {
  n: number;
  maxRel: number;
  maxScaled: number;
  maxAbs: number;
  top10Same: boolean;
  ok: boolean;
}
interface CheckReport {
  available: boolean;
  reason?: { kind: string; detail: string };
  adapter?: unknown;
  results: Record<string, Comparison>;
  timings: Record<string, number>;
  notes: string[];
  ok: boolean;
}

let bundle = '';
let files: Record<string, Buffer> = {};
let queries: number[][] = [];
let dir = '';

test.beforeAll(async ({}, info) => {
  if (info.project.name !== 'webgpu' && info.project.name !== 'wasm') return;
  const out = await build({
    entryPoints: [join(ROOT, 'workers/gpu/harness.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'gpuKernels',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  bundle = out.outputFiles[0]!.text;
  if (info.project.name === 'webgpu') {
    // A small real tiered index: the synthetic scale zoo at d = 512 (exact low-rank and PPCA records, f16 bases).
    const zoo = makeScaleZoo({ count: 160, seed: 15 });
    dir = mkdtempSync(join(tmpdir(), 'gpu-kernels-'));
    await writeTieredIndex(zoo, dir, Int32Array.from({ length: zoo.count }, (_, i) => i), 16);
    files = { 'head.bin': readFileSync(join(dir, 'head.bin')), 'records.bin': readFileSync(join(dir, 'records.bin')) };
    queries = scaleQueries(zoo, 3, 7).map((q) => Array.from(q));
  }
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(page: Page): Promise<void> {
  await page.route(`${BASE}**`, (route) => {
    const name = new URL(route.request().url()).pathname.slice('/__gpu-kernels/'.length);
    if (name === '' || name === 'index.html') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>gpu kernels</title><script src="harness.js"></script>' });
    if (name === 'harness.js') return route.fulfill({ contentType: 'text/javascript', body: bundle });
    const file = files[name];
    return file ? route.fulfill({ contentType: 'application/octet-stream', body: file }) : route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(BASE);
  await page.waitForFunction(() => 'gpuKernels' in globalThis);
}

function summary(r: CheckReport): string {
  const rows = Object.entries(r.results).map(([k, c]) => `${k.padEnd(22)} n=${String(c.n).padStart(5)} maxRel=${c.maxRel.toExponential(2)} maxScaled=${c.maxScaled.toExponential(2)} maxAbs=${c.maxAbs.toExponential(2)} top10=${c.top10Same ? 'same' : 'DIFFERENT'}`);
  return [...rows, ...r.notes, `timings (ms): ${JSON.stringify(r.timings)}`].join('\n');
}

function expectAllOk(r: CheckReport): void {
  for (const [name, c] of Object.entries(r.results)) {
    expect.soft(c.top10Same, `${name}: top-10 order`).toBe(true);
    expect.soft(c.maxScaled, `${name}: error / term magnitude`).toBeLessThanOrEqual(1e-4);
    expect.soft(c.ok, `${name}`).toBe(true);
  }
  expect(r.ok).toBe(true);
}

test.describe('WebGPU kernels (SwiftShader, forced)', () => {
  test.beforeEach(({}, info) => test.skip(info.project.name !== 'webgpu', 'runs in the webgpu project'));

  test('prefilters and rerank match the CPU on random data (d = 512, 2 000 models, K = 50), chunked too, and a lost device fails clearly', async ({ page }, info) => {
    await open(page);
    const r = (await page.evaluate((o) => (globalThis as unknown as { gpuKernels: { checkRandom: (o: unknown) => Promise<unknown> } }).gpuKernels.checkRandom(o), {
      seed: 15,
      count: 2000,
      dim: 512,
      k: 50,
      force: true,
      // 256 KiB bindings: the 1 MB of codes in 4 chunks, the records in ~30 batches.
      chunkBytes: 256 * 1024,
    })) as CheckReport;
    await info.attach('gpu-kernels-random.txt', { body: summary(r), contentType: 'text/plain' });
    console.log(summary(r));
    expect(r.available, JSON.stringify(r.reason)).toBe(true);
    expect(Object.keys(r.results)).toHaveLength(16);
    expect(r.notes.join('\n')).toMatch(/device loss: .*lost/);
    expectAllOk(r);
  });

  test('prefilters and rerank match the CPU on a tiered index (synthetic scale zoo, head + verified blocks)', async ({ page }, info) => {
    await open(page);
    const r = (await page.evaluate(
      (o) => (globalThis as unknown as { gpuKernels: { checkTiered: (o: unknown) => Promise<unknown> } }).gpuKernels.checkTiered(o),
      { headUrl: `${BASE}head.bin`, recordsUrl: `${BASE}records.bin`, k: 50, queries, force: true },
    )) as CheckReport;
    await info.attach('gpu-kernels-tiered.txt', { body: summary(r), contentType: 'text/plain' });
    console.log(summary(r));
    expect(r.available, JSON.stringify(r.reason)).toBe(true);
    expect(r.notes.join('\n')).not.toMatch(/differ/);
    expectAllOk(r);
  });

  test('without force, SwiftShader is refused: null with a reason (the CPU path is faster there)', async ({ page }) => {
    await open(page);
    const p = (await page.evaluate(() => (globalThis as unknown as { gpuKernels: { probe: (f: boolean) => Promise<unknown> } }).gpuKernels.probe(false))) as { available: boolean; reason?: { kind: string; detail: string } };
    expect(p.available).toBe(false);
    expect(p.reason?.kind).toBe('software-adapter');
    expect(p.reason?.detail).toMatch(/swiftshader/i);
  });
});

test('with WebGPU disabled, createGpuTieredScorer gives null with a reason, even forced', async ({ page }, info) => {
  test.skip(info.project.name !== 'wasm', 'runs in the wasm project (--disable-webgpu)');
  await open(page);
  const p = (await page.evaluate(() => (globalThis as unknown as { gpuKernels: { probe: (f: boolean) => Promise<unknown> } }).gpuKernels.probe(true))) as { available: boolean; reason?: { kind: string; detail: string } };
  expect(p.available).toBe(false);
  expect(['no-webgpu', 'no-adapter']).toContain(p.reason?.kind);
  expect(p.reason?.detail.length).toBeGreaterThan(0);
});
