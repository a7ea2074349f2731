/**
 * `npm run bench:first-visit` — what a first visit downloads and how fast a return visit shows
 * results (issue 13's first-visit target), measured on the built app in headless Chromium:
 *
 *   npm run bench:first-visit [-- --no-build] [--query "red flowers"] [--reloads 3] [--webgpu] [--json tools/bench/results/first-visit.json]
 *
 * The built site (dist/) is served by a local static server that counts every byte it sends, so
 * the page, its Web Worker and the service worker's precache are all counted, and a file fetched
 * twice shows up twice. A fresh browser profile makes the first visit; the same profile then
 * reloads (`--reloads` times) and the median time from navigation to the first result card is the
 * warm start. The 20 Mbit/s figure is the transfer time alone (bytes × 8 / 20 Mbit/s), a lower bound.
 * Headless Chromium has no GPU here, so the app runs on WASM (and loads onnxruntime-web's WASM-only
 * build); `--webgpu` gives it WebGPU through SwiftShader (a CPU Vulkan: bytes are what a WebGPU
 * visitor downloads, timings are not a GPU's).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { flag, integer, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { startStaticServer } from '../lib/staticServer.ts';
import { CHROMIUM_ARGS, freePort, settle } from './browser.ts';

const USAGE = `usage: npm run bench:first-visit -- [--no-build] [--query <text>] [--reloads N] [--webgpu] [--json <file>]`;
const OPTIONS = { 'no-build': flag(), query: text(), reloads: integer({ min: 1, default: 3 }), webgpu: flag(), json: text() };

/** WebGPU through SwiftShader, as the browser tests' webgpu project runs it (playwright.config.ts). */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];

/** What kind of download a served path is. */
export function category(path: string): string {
  if (path.endsWith('.wasm') || /\/ort[^/]*\.m?js$/.test(path)) return 'runtime (onnxruntime-web)';
  if (path.includes('/encoders/')) return 'encoder';
  if (path.includes('/index/')) return 'index';
  if (path.includes('/tokenizers/')) return 'tokenizer';
  if (/\.(m?js|css|html)$/.test(path) || path.endsWith('/')) return 'app';
  return 'other';
}


async function firstCard(page: Page): Promise<void> {
  await page.locator('[data-testid="results"] li').first().waitFor({ state: 'visible', timeout: 300_000 });
}

const mb = (b: number) => (b / 1e6).toFixed(2);

process.exitCode = await runCommand(USAGE, async () => {
  const { values: o } = parseCommandLine(process.argv.slice(2), OPTIONS);
  if (!o['no-build']) {
    const r = spawnSync('npx', ['vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  const query = o.query ?? 'red flowers';
  const server = await startStaticServer({ root: 'dist', port: await freePort() });
  const profile = await mkdtemp(join(tmpdir(), 'first-visit-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: o.webgpu ? [...CHROMIUM_ARGS, ...WEBGPU_ARGS] : CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const url = `${server.url}?q=${encodeURIComponent(query)}`;
    const t0 = performance.now();
    await page.goto(url);
    await firstCard(page);
    const firstResultMs = performance.now() - t0;
    const backend = await page.getByTestId('status').getAttribute('data-backend');
    const atFirstResult = server.served.length;
    await settle(() => server.served.length);
    const first = server.served.slice();

    const warm: number[] = [];
    const warmBytes: number[] = [];
    for (let i = 0; i < o.reloads; i++) {
      const from = server.served.length;
      const t = performance.now();
      await page.reload();
      await firstCard(page);
      warm.push(performance.now() - t);
      await settle(() => server.served.length, 1000);
      warmBytes.push(server.served.slice(from).reduce((a, s) => a + s.bytes, 0));
    }
    warm.sort((a, b) => a - b);

    const total = first.reduce((a, s) => a + s.bytes, 0);
    const beforeResult = first.slice(0, atFirstResult).reduce((a, s) => a + s.bytes, 0);
    const byCategory = new Map<string, { bytes: number; files: number }>();
    for (const s of first) {
      const c = byCategory.get(category(s.path)) ?? { bytes: 0, files: 0 };
      c.bytes += s.bytes;
      c.files++;
      byCategory.set(category(s.path), c);
    }
    const times = new Map<string, { count: number; bytes: number }>();
    for (const s of first) times.set(s.path, { count: (times.get(s.path)?.count ?? 0) + 1, bytes: s.bytes });
    const twice = [...times].filter(([, v]) => v.count > 1).sort((a, b) => b[1].bytes - a[1].bytes);
    const duplicateBytes = twice.reduce((a, [, v]) => a + v.bytes * (v.count - 1), 0);
    const warmMedian = warm[Math.floor(warm.length / 2)];

    console.log(`First visit of the built app (dist/), query “${query}”, fresh profile, headless Chromium, backend ${backend}:`);
    console.log(`  transferred ${mb(total)} MB in ${first.length} files (${mb(beforeResult)} MB before the first result); at 20 Mbit/s the transfer alone takes ${((total * 8) / 20e6).toFixed(1)} s`);
    console.log(`  first result after ${(firstResultMs / 1000).toFixed(1)} s on this machine (local server, no throttling)`);
    for (const [c, v] of [...byCategory].sort((a, b) => b[1].bytes - a[1].bytes)) console.log(`  ${c.padEnd(28)} ${mb(v.bytes).padStart(7)} MB  ${String(v.files).padStart(3)} files`);
    console.log(`  downloaded more than once: ${twice.length} files, ${mb(duplicateBytes)} MB extra${twice.length ? `: ${twice.slice(0, 6).map(([p, v]) => `${p.split('/').pop()} ×${v.count}`).join(', ')}` : ''}`);
    console.log(`Warm start (same profile, ${o.reloads} reloads): median ${(warmMedian / 1000).toFixed(2)} s to the first result (all: ${warm.map((w) => (w / 1000).toFixed(2)).join(', ')} s); ${mb(Math.max(...warmBytes))} MB fetched at most per reload`);
    if (o.json) {
      await mkdir(dirname(o.json), { recursive: true });
      const report = {
        query,
        backend,
        total,
        files: first.length,
        beforeFirstResult: beforeResult,
        firstResultMs: Math.round(firstResultMs),
        byCategory: Object.fromEntries(byCategory),
        duplicates: twice.map(([path, v]) => ({ path, count: v.count, bytes: v.bytes })),
        duplicateBytes,
        warmMs: warm.map(Math.round),
        warmBytes,
      };
      await writeFile(o.json, JSON.stringify(report, null, 1) + '\n');
    }
  } finally {
    await context.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
});
