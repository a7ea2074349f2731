/**
 * Times the WebGPU scoring kernels (workers/gpu, docs/webgpu-kernels.md) against the JS CPU path in
 * the same headless Chromium page: the Gaussian proxy prefilter over N models (default 100K and 1M)
 * at d = 512, and the exact rerank of K = 50 / 200 records of rank 99 (resident on the GPU, and
 * uploaded per query). Prints a table and writes tools/bench/results/gpu-scale-latest.json.
 *
 *   npx tsx tools/bench/gpu-scale.ts [--sizes 100000,1000000] [--ks 50,200] [--rank 99] [--reps 20]
 *                                    [--force] [--swiftshader] [--chromium-arg=--flag …] [--out file.json]
 *
 * Needs a real GPU that Chromium's WebGPU can use (Vulkan on Linux). With only a software adapter
 * (SwiftShader, llvmpipe) it stops, unless --force: then it runs for correctness only, on smaller
 * sizes unless --sizes is given, says loudly that its timings mean nothing, and writes
 * tools/bench/results/gpu-scale-software.json instead (never over a GPU's results). --swiftshader
 * launches Chromium with CI's SwiftShader flags (implies --force).
 *
 * The harness (workers/gpu/harness.ts) is bundled with esbuild by path (tools may not import worker
 * code) and served from a local server on 127.0.0.1 (a secure context, which WebGPU needs).
 */
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';
import { CHROMIUM_ARGS, freePort } from './browser.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_OUT = join(ROOT, 'tools/bench/results/gpu-scale-latest.json');
/** A forced software run never overwrites a real GPU's results. */
const SOFTWARE_OUT = join(ROOT, 'tools/bench/results/gpu-scale-software.json');

/** Chromium on a Linux GPU machine: WebGPU over Vulkan, blocklist ignored (headless servers are often on it). */
const HARDWARE_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan,VulkanFromANGLE', '--use-angle=vulkan', '--ignore-gpu-blocklist', '--enable-gpu'];
const SWIFTSHADER_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'];

interface Args {
  sizes: number[] | null;
  ks: number[];
  rank: number;
  reps: number;
  dim: number;
  force: boolean;
  swiftshader: boolean;
  extra: string[];
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { sizes: null, ks: [50, 200], rank: 99, reps: 20, dim: 512, force: false, swiftshader: false, extra: [], out: null };
  const list = (s: string | undefined, what: string) => {
    const v = (s ?? '').split(',').map((x) => Number(x.trim()));
    if (!v.length || v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${what} must be a comma-separated list of positive integers, got "${s}".`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value.`);
      return v;
    };
    if (arg === '--sizes') a.sizes = list(next(), '--sizes');
    else if (arg === '--ks') a.ks = list(next(), '--ks');
    else if (arg === '--rank') a.rank = list(next(), '--rank')[0]!;
    else if (arg === '--reps') a.reps = list(next(), '--reps')[0]!;
    else if (arg === '--dim') a.dim = list(next(), '--dim')[0]!;
    else if (arg === '--force') a.force = true;
    else if (arg === '--swiftshader') a.swiftshader = a.force = true;
    else if (arg.startsWith('--chromium-arg=')) a.extra.push(arg.slice('--chromium-arg='.length));
    else if (arg === '--out') a.out = next();
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: npx tsx tools/bench/gpu-scale.ts [--sizes 100000,1000000] [--ks 50,200] [--rank 99] [--reps 20] [--force] [--swiftshader] [--chromium-arg=--flag] [--out file]');
      process.exit(0);
    } else throw new Error(`Unknown argument ${arg} (see --help).`);
  }
  if (a.rank > a.dim) throw new Error(`--rank ${a.rank} exceeds the dimension ${a.dim}.`);
  return a;
}

interface Row {
  what: string;
  n: number;
  gpuMs: number;
  gpuFirstMs: number;
  uploadMs: number;
  cpuMs: number;
  speedup: number;
  maxScaled: number;
  top10Same: boolean;
}

const LOUD = [
  '',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!! SOFTWARE ADAPTER (forced): the GPU timings below are SwiftShader/llvmpipe on the CPU and are   !!',
  '!! NOT MEANINGFUL. This run checks correctness only. Time on a machine with a real GPU.          !!',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '',
];

function table(rows: Row[]): string {
  const head = ['what', 'N / K', 'GPU ms', 'GPU 1st ms', 'upload ms', 'CPU (JS) ms', 'CPU / GPU', 'max err / mag', 'top-10'];
  const body = rows.map((r) => [r.what, r.n.toLocaleString('en-US'), r.gpuMs.toFixed(2), r.gpuFirstMs.toFixed(1), r.uploadMs.toFixed(1), r.cpuMs.toFixed(2), `${r.speedup.toFixed(2)}×`, r.maxScaled.toExponential(1), r.top10Same ? 'same' : 'DIFFERENT']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const bundle = (
    await build({ entryPoints: [join(ROOT, 'workers/gpu/harness.ts')], bundle: true, format: 'iife', globalName: 'gpuKernels', platform: 'browser', target: 'es2022', write: false })
  ).outputFiles[0]!.text;
  const port = await freePort();
  const server = createServer((req, res) => {
    if (req.url === '/harness.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>gpu-scale</title><script src="/harness.js"></script>');
    }
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const launchArgs = [...CHROMIUM_ARGS, ...(args.swiftshader ? SWIFTSHADER_ARGS : HARDWARE_ARGS), ...args.extra];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: launchArgs });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`  [page error] ${e.message}\n`));
    page.on('console', (m) => {
      if (m.text().startsWith('[gpu-scale]')) process.stderr.write(`  ${m.text()}\n`);
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'gpuKernels' in globalThis);
    type Harness = { probe: (f: boolean) => Promise<{ available: boolean; reason?: { kind: string; detail: string }; adapter?: Record<string, unknown>; decision?: { software: boolean; reason: string } }>; bench: (o: unknown, log: (s: string) => void) => Promise<unknown> };
    const probe = await page.evaluate((f) => (globalThis as unknown as { gpuKernels: Harness }).gpuKernels.probe(f), args.force);
    if (!probe.available) {
      const plain = await page.evaluate(() => (globalThis as unknown as { gpuKernels: Harness }).gpuKernels.probe(true));
      console.error(`No usable GPU: ${probe.reason?.kind}: ${probe.reason?.detail}`);
      if (plain.available) console.error('A software adapter exists: rerun with --force for a correctness-only run (timings not meaningful).');
      console.error(`Chromium flags: ${launchArgs.join(' ')}`);
      process.exitCode = 2;
      return;
    }
    const software = probe.decision?.software ?? true;
    const sizes = args.sizes ?? (software ? [20_000, 100_000] : [100_000, 1_000_000]);
    if (software) console.error(LOUD.join('\n'));
    console.error(`adapter: ${JSON.stringify(probe.adapter)} (${probe.decision?.reason})`);
    const opts = { dim: args.dim, sizes, ks: args.ks, rank: args.rank, reps: software ? Math.min(args.reps, 3) : args.reps, force: args.force };
    const result = (await page.evaluate(
      (o) => (globalThis as unknown as { gpuKernels: Harness }).gpuKernels.bench(o, (s) => console.log(`[gpu-scale] ${s}`)),
      opts,
    )) as { rows: Row[]; adapter: unknown; decision: unknown } | { error: string };
    if ('error' in result) throw new Error(result.error);
    const userAgent = await page.evaluate(() => navigator.userAgent);
    console.log(`\nWebGPU kernels vs the JS CPU path, d = ${args.dim}, ${userAgent}`);
    console.log(`GPU ms: median of ${opts.reps} calls (query upload, dispatch, read-back of every score); CPU: gaussianProxyScores / lowRankLogDensity in the same page.`);
    console.log(table(result.rows));
    if (software) console.error(LOUD.join('\n'));
    const bad = result.rows.filter((r) => !r.top10Same || r.maxScaled > 1e-4);
    if (bad.length) {
      console.error(`ACCURACY FAILURE in ${bad.map((r) => `${r.what} ${r.n}`).join(', ')}`);
      process.exitCode = 1;
    }
    const out = args.out ?? (software ? SOFTWARE_OUT : DEFAULT_OUT);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify({ date: new Date().toISOString(), meaningful: !software, note: software ? 'software adapter (forced): correctness only, timings not meaningful' : 'hardware adapter', userAgent, chromiumArgs: launchArgs, options: opts, adapter: result.adapter, decision: result.decision, rows: result.rows }, null, 1) + '\n',
    );
    console.log(`\nwrote ${out}`);
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
