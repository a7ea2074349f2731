/**
 * `npx tsx tools/bench/prefilter-kernels.ts` — the tiered index's prefilters and rerank (issue 15)
 * in JS (src/core/scoring/prefilter.ts, src/core/index/lowRankGaussian.ts) against the WASM SIMD
 * kernels (src/core/scoring/tieredKernels.ts), in Node and in a Chromium Web Worker, on synthetic
 * heads: sign codes of 1M models, int8 means of 100K models, d = 512, and a rerank of K low-rank
 * records. Prints ms a query (median), the speed-up over JS, and the share of a memory roofline
 * measured in the same run (bytes / the WASM SIMD streaming GB/s over the same buffer), and writes
 * tools/bench/results/prefilter-kernels-latest.json.
 *
 *   flags: --sign-n 1000000  --int8-n 100000  --dim 512  --rerank-k 200  --rerank-rank 99  --no-browser  --no-node
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, integer, parseCommandLine, runCommand } from '../lib/args.ts';
import { runBrowser } from './browser.ts';
import { runPrefilterBench, type KernelRow, type PrefilterBenchOptions, type PrefilterBenchResult } from './browser/prefilterRows.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const USAGE = `usage: npx tsx tools/bench/prefilter-kernels.ts [options]
  --sign-n N        models for the sign-code prefilter (default 1000000)
  --int8-n N        models for the int8 proxy / cosine prefilters (default 100000)
  --dim D           dimensions (default 512)
  --rerank-k K      candidates reranked with low-rank records (default 200)
  --rerank-rank R   rank of each record (default 99)
  --no-node         skip the Node run
  --no-browser      skip the Chromium Web Worker run
  -h, --help        this text`;
const OPTIONS = {
  'sign-n': integer({ min: 1, default: 1_000_000 }),
  'int8-n': integer({ min: 1, default: 100_000 }),
  dim: integer({ min: 1, max: 4000, default: 512 }),
  'rerank-k': integer({ min: 1, default: 200 }),
  'rerank-rank': integer({ min: 0, default: 99 }),
  'no-node': flag(),
  'no-browser': flag(),
};

const log = (s: string) => process.stderr.write(`${s}\n`);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function table(where: string, r: PrefilterBenchResult): string {
  const head = ['kernel', 'N', 'engine', 'ms/query', 'min ms', 'GB/s', '× JS', 'roofline ms', '% of roofline', 'note'];
  const lines = [head, head.map(() => '---')];
  for (const row of r.rows) {
    const js = r.rows.find((x) => x.kernel === row.kernel && x.engine === 'js')!;
    const t = row.timing.medianMs;
    lines.push([
      row.kernel,
      row.n.toLocaleString('en'),
      row.engine,
      ms(t),
      ms(row.timing.minMs),
      (row.bytesPerQuery / t / 1e6).toFixed(1),
      row.engine === 'js' ? '1' : (js.timing.medianMs / t).toFixed(1),
      ms(row.roofMs),
      `${((row.roofMs / t) * 100).toFixed(1)} %`,
      row.note ?? '',
    ]);
  }
  const roof = (x: PrefilterBenchResult['roof']['sign']) => `WASM ${x.wasm?.toFixed(1) ?? '—'} GB/s, JS ${x.js.toFixed(1)} GB/s`;
  return [
    `\n${where} (d = ${r.dim})`,
    ...lines.map((l) => `| ${l.join(' | ')} |`),
    `roofline (streaming reduce over the same bytes): sign bits ${roof(r.roof.sign)}; int8 codes ${roof(r.roof.int8)}`,
    `one-time copy into kernel memory: sign codes ${ms(r.setupMs.sign)} ms, int8 head ${ms(r.setupMs.int8)} ms`,
    `max |WASM − JS| / |JS| over 2 queries: sign ${r.maxRelDiff.sign}, proxy ${r.maxRelDiff.proxy.toExponential(2)}, cosine ${r.maxRelDiff.cosine.toExponential(2)}, rerank ${r.maxRelDiff.rerank.toExponential(2)}`,
    ...(r.fallbacks.length ? [`fallbacks: ${r.fallbacks.join(' ')}`] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values: v } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const options: Omit<PrefilterBenchOptions, 'progress'> = { signN: v['sign-n'], int8N: v['int8-n'], dim: v.dim, rerankK: v['rerank-k'], rerankRank: v['rerank-rank'] };
  const out: { options: typeof options; machine: unknown; node?: PrefilterBenchResult; browser?: PrefilterBenchResult & { userAgent: string; crossOriginIsolated: boolean }; browserError?: string } = {
    options,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadavgBefore: loadavg(), node: process.version, date: new Date().toISOString() },
  };
  if (!v['no-node']) {
    log('▶ Node');
    out.node = runPrefilterBench({ ...options, progress: (t) => log(`  ${t}`) });
    log(table('Node', out.node));
  }
  if (!v['no-browser']) {
    log('▶ Chromium Web Worker');
    try {
      const br = await runBrowser<NonNullable<typeof out.browser>>(root, 300_000, `tools/bench/browser/prefilter.html?options=${encodeURIComponent(JSON.stringify(options))}`, ['ml-matrix']);
      out.browser = br;
      log(table(`Chromium worker (${br.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? ''}, cross-origin isolated: ${br.crossOriginIsolated})`, br));
    } catch (e) {
      out.browserError = e instanceof Error ? e.message : String(e);
      log(`browser run failed: ${out.browserError}`);
    }
  }
  (out.machine as Record<string, unknown>).loadavgAfter = loadavg();
  const file = join(here, 'results', 'prefilter-kernels-latest.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 1));
  const sign = (r?: PrefilterBenchResult) => r?.rows.find((x: KernelRow) => x.kernel === 'sign' && x.engine === 'wasm');
  const proxy = (r?: PrefilterBenchResult) => r?.rows.find((x: KernelRow) => x.kernel === 'proxy' && x.engine === 'wasm');
  const b = sign(out.browser);
  const p = proxy(out.browser);
  if (b && p) log(`\ntarget: 1M sign prefilter ≤ 60 ms in the worker — ${ms(b.timing.medianMs)} ms (N = ${b.n.toLocaleString('en')}): ${b.timing.medianMs <= 60 && b.n >= 1_000_000 ? 'met' : 'not met'}; proxy (N = ${p.n.toLocaleString('en')}) ${ms(p.timing.medianMs)} ms`);
  log(`wrote ${file}; load average before/after ${JSON.stringify(out.machine)}`);
}

process.exitCode = await runCommand(USAGE, main);
