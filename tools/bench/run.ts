/**
 * `npm run bench` — scoring-kernel benchmark: src/core 1st moment and Gaussian density (GD) in
 * Node and in a Chromium Web Worker, against a JS memory-bandwidth roofline and against numpy /
 * torch CPU on the same data. See docs/benchmarks.md.
 *
 *   npm run bench                 N = 259, 10 000, 100 000 (≈ 10 min on 2 cores)
 *   npm run bench -- --quick      N = 259 and 10 000 only
 *   flags: --no-browser  --no-python
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseArgs, CaseResult, GdResult } from './case.ts';
import type { Roofline } from './measure.ts';
import { flag, parseCommandLine, runCommand } from '../lib/args.ts';
import { runBrowser, type BrowserResult } from './browser.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const USAGE = `usage: npm run bench -- [--quick] [--no-browser] [--no-python]
  --quick        N = 259 and 10 000 only (default: also 100 000, ≈ 10 min on 2 cores)
  --no-browser   skip the Chromium Web Worker run
  --no-python    skip the numpy / torch reference
  -h, --help     this text`;
const OPTIONS = { quick: flag(), 'no-browser': flag(), 'no-python': flag() };
const DIM = 512;
const GB = 1e9;
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'; // Debian's, with python3-numpy (+ optional python3-torch)

// ------------------------------------------------------------------------------------------------
// Types of the python side (numpy_ref.py's JSON)

interface PyTiming {
  medianMs: number;
  minMs: number;
  n: number;
}
interface PyGd {
  engine: 'numpy' | 'torch';
  variant: string;
  distinct: number;
  timing: PyTiming;
  bytesPerQuery: number;
  note?: string;
  /** "js-f16" | "gs-f16" | "js-f32" | "gs-f32" → max rel diff of ‖Wq − b‖² (query 0). */
  relDiffVsTs?: Record<string, number>;
}
interface PySize {
  n: number;
  firstMoment: { numpy: PyTiming; torch?: PyTiming; relDiffVsTs?: number };
  gd: PyGd[];
  notes: string[];
}
interface PyResult {
  numpy: string;
  blasThreads: number | null;
  torch: string;
  torchThreads: number | null;
  loadSeconds: number;
  plan: string[];
  sizes: PySize[];
  peakRssBytes: number;
}

// ------------------------------------------------------------------------------------------------

function log(msg: string) {
  process.stderr.write(`${msg}\n`);
}

function runCase(sizes: number[], distinct: number, noPython: boolean): { ts: CaseResult; py?: PyResult; pyError?: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'model-search-bench-'));
  try {
    const out = join(dataDir, 'case.json');
    const args: CaseArgs = {
      sizes,
      distinct,
      dim: DIM,
      queries: 7,
      dataDir,
      out,
      rssBudget: 11 * GB,
      // Where the factor buffer is cycled (N = 100 000), skip what only repeats the 10 000 row at 10× the time.
      skipAtCycles: {
        'mahalanobis-js/f32': 'time: ~30 s a query, the same GB/s as at N=10 000; a 100 000-model f32 index would be 52 GB',
      },
    };
    log(`\n▶ Node: N = ${sizes.join(', ')} (child process)`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'case.ts'), JSON.stringify(args)], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`case.ts failed (exit ${r.status}, signal ${r.signal})`);
    const ts = JSON.parse(readFileSync(out, 'utf8')) as CaseResult;
    if (noPython) return { ts };
    log(`▶ numpy/torch: N = ${sizes.join(', ')}`);
    const pyOut = join(dataDir, 'py.json');
    const p = spawnSync(PYTHON, [join(here, 'numpy_ref.py'), dataDir, pyOut, '--no-dense-above', '10000'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (p.status !== 0 || !existsSync(pyOut)) return { ts, pyError: `numpy_ref.py failed (exit ${p.status}, signal ${p.signal})` };
    return { ts, py: JSON.parse(readFileSync(pyOut, 'utf8')) as PyResult };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// Table

interface Row {
  n: string;
  kernel: string;
  engine: string;
  data: string;
  ms: string;
  gbs: string;
  roof: string;
  jsRoof: string;
  copy: string;
  vsTs: string;
  note: string;
}

const HEAD: Row = {
  n: 'N',
  kernel: 'kernel',
  engine: 'engine',
  data: 'data',
  ms: 'median ms/query',
  gbs: 'GB/s',
  roof: '% of roofline (GB/s)',
  jsRoof: '% of JS reduce',
  copy: '% of copy bw',
  vsTs: 'TS ms ÷ this ms',
  note: 'notes',
};

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const fmtN = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
const gbsOf = (bytes: number, ms: number) => (bytes / ms) * 1e-6;
/** The roofline a kernel is judged against: the faster of the JS and the WASM SIMD reduction. */
const roofOf = (r: Roofline) => Math.max(r.js, r.wasm ?? 0);

function table(rows: Row[]): string {
  const keys = Object.keys(HEAD) as (keyof Row)[];
  const all = [HEAD, ...rows];
  const w = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  const line = (r: Row) => `| ${keys.map((k, i) => r[k].padEnd(w[i])).join(' | ')} |`;
  return [line(HEAD), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function row(n: number, kernel: string, engine: string, data: string, ms: number, bytes: number, roof: Roofline | undefined, tsMs: number | undefined, note: string): Row {
  const g = gbsOf(bytes, ms);
  return {
    n: fmtN(n),
    kernel,
    engine,
    data,
    ms: fmtMs(ms),
    gbs: g >= 10 ? g.toFixed(1) : g.toFixed(2),
    roof: roof ? `${pct(g / roofOf(roof))} (${roofOf(roof).toFixed(1)})` : '',
    jsRoof: roof ? pct(g / roof.js) : '',
    copy: roof ? pct(g / roof.copy) : '',
    vsTs: tsMs !== undefined ? (tsMs / ms).toFixed(2) : '',
    note,
  };
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const { quick, 'no-browser': noBrowser, 'no-python': noPython } = values;
  const started = performance.now();
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`,
    memGB: +(totalmem() / GB).toFixed(1),
    freeGB: +(freemem() / GB).toFixed(1),
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    quick,
  };
  log(`Bench: ${env.cpu}, ${env.memGB} GB RAM (${env.freeGB} GB available), load ${env.loadavg.join(' ')}, Node ${env.node}${quick ? ', --quick' : ''}`);

  const groups: { sizes: number[]; distinct: number }[] = [
    { sizes: [259], distinct: 259 },
    { sizes: quick ? [10_000] : [10_000, 100_000], distinct: 10_000 },
  ];
  const cases: { ts: CaseResult; py?: PyResult; pyError?: string }[] = [];
  for (const g of groups) cases.push(runCase(g.sizes, g.distinct, noPython));

  let browser: BrowserResult | { error: string } | undefined;
  if (!noBrowser) {
    log('\n▶ Chromium Web Worker (vite dev server + Playwright)');
    try {
      browser = await runBrowser(root);
    } catch (e) {
      browser = { error: e instanceof Error ? e.message : String(e) };
      log(`browser bench failed: ${browser.error}`);
    }
  }

  const rows: Row[] = [];
  const targets: { name: string; pass: boolean | null; detail: string }[] = [];
  const notes: string[] = [];
  for (const c of cases) {
    notes.push(...c.ts.plan.map((p) => `node: ${p}`));
    if (c.py) notes.push(...c.py.plan.map((p) => `numpy: ${p}`));
    if (c.pyError) notes.push(c.pyError);
    for (const s of c.ts.sizes) {
      const py = c.py?.sizes.find((x) => x.n === s.n);
      const N = fmtN(s.n);
      notes.push(`N=${N}: 1-min load average ${s.load[0].toFixed(1)} before, ${s.load[1].toFixed(1)} after the Node timings`);

      // 1st moment
      const fm = s.firstMoment;
      const fmG = gbsOf(fm.bytesPerQuery, fm.timing.medianMs);
      const wasmNote = fm.roof.wasmBytes < fm.bytesPerQuery ? ` (WASM reduce over the first ${(fm.roof.wasmBytes / 2 ** 20).toFixed(0)} MiB)` : '';
      rows.push(
        row(s.n, '1st moment', 'TS firstMomentScores (Node)', 'f32 means', fm.timing.medianMs, fm.bytesPerQuery, fm.roof, fm.timing.medianMs,
          `${fm.timing.n} queries` + (py?.firstMoment.relDiffVsTs !== undefined ? `; max rel diff vs numpy ${py.firstMoment.relDiffVsTs.toExponential(1)}` : '') + wasmNote),
      );
      targets.push({
        name: `1st moment ≥ 50 % of the roofline, N=${N}`,
        pass: fmG / roofOf(fm.roof) >= 0.5,
        detail: `${pct(fmG / roofOf(fm.roof))} (${fmG.toFixed(1)} of ${roofOf(fm.roof).toFixed(1)} GB/s, WASM SIMD reduce; ${pct(fmG / fm.roof.js)} of the JS reduce's ${fm.roof.js.toFixed(1)} GB/s)`,
      });
      if (py) {
        rows.push(row(s.n, '1st moment', `numpy (${c.py!.blasThreads ?? '?'} BLAS thr)`, 'f32 means', py.firstMoment.numpy.medianMs, fm.bytesPerQuery, fm.roof, fm.timing.medianMs, `${py.firstMoment.numpy.n} queries`));
        if (py.firstMoment.torch)
          rows.push(row(s.n, '1st moment', `torch (${c.py!.torchThreads} thr)`, 'f32 means', py.firstMoment.torch.medianMs, fm.bytesPerQuery, fm.roof, fm.timing.medianMs, `${py.firstMoment.torch.n} queries`));
      }

      // GD. The reference "TS" for ratios and targets is gaussianScores on fp16 factors (the app's path).
      const tsRef = s.gd.find((g) => g.engine === 'gaussianScores' && g.dtype === 'f16') ?? s.gd.find((g) => g.dtype === 'f16');
      const engineName = (g: GdResult) => {
        if (g.engine === 'mahalanobis-js') return 'TS mahalanobis JS loop (Node)';
        const js = s.gd.find((x) => x.engine === 'mahalanobis-js' && x.dtype === g.dtype);
        const how = js ? (g.timing.medianMs < 0.7 * js.timing.medianMs ? 'WASM kernel' : 'JS-loop speed') : '';
        return `TS gaussianScores (Node${how ? `, ${how}` : ''})`;
      };
      for (const g of s.gd) {
        const cyc = g.distinct < s.n ? `CYCLIC: ${fmtN(g.distinct)} distinct factors × ${s.n / g.distinct} (model m reads factor m % ${g.distinct}); ` : '';
        const wn = g.roof.wasmBytes < g.bytesPerQuery ? `; WASM reduce over the buffer's first ${(g.roof.wasmBytes / 2 ** 20).toFixed(0)} MiB` : '';
        rows.push(row(s.n, 'GD exact', engineName(g), `${g.dtype} packed`, g.timing.medianMs, g.bytesPerQuery, g.roof, tsRef?.timing.medianMs, `${cyc}${g.timing.n} queries${wn}`));
      }
      for (const sk of s.skipped) notes.push(`N=${N}: ${sk}`);
      if (py) {
        for (const g of py.gd) {
          const ref = s.gd.find((x) => x.dtype === (g.variant.includes('f16') ? 'f16' : 'f32')) ?? tsRef;
          const diffs = Object.entries(g.relDiffVsTs ?? {})
            .map(([k, v]) => `${k} ${v.toExponential(1)}`)
            .join(', ');
          const engine = g.engine === 'numpy' ? `numpy (${c.py!.blasThreads ?? '?'} BLAS thr)` : `torch (${c.py!.torchThreads} thr)`;
          rows.push(
            row(s.n, 'GD exact', engine, g.variant, g.timing.medianMs, g.bytesPerQuery, g.variant.startsWith('dense') ? undefined : ref?.roof, tsRef?.timing.medianMs,
              [g.note ? `CYCLIC: ${g.note}` : '', `${g.timing.n} queries`, diffs ? `max rel diff of ‖Wq−b‖² vs TS: ${diffs}` : ''].filter(Boolean).join('; ')),
          );
        }
        for (const nn of py.notes) notes.push(`N=${N}: ${nn}`);
        if (s.n === 259 && tsRef) {
          const tsJs = s.gd.find((g) => g.engine === 'mahalanobis-js' && g.dtype === 'f16');
          for (const engine of ['numpy', 'torch'] as const) {
            const theirs = py.gd.filter((g) => g.engine === engine);
            if (!theirs.length) {
              targets.push({ name: `GD exact N=259 faster than ${engine}`, pass: null, detail: `${engine} not run (${engine === 'torch' ? c.py!.torch : 'n/a'})` });
              continue;
            }
            const best = theirs.reduce((a, b) => (a.timing.medianMs <= b.timing.medianMs ? a : b));
            targets.push({
              name: `GD exact N=259 faster than ${engine} (its fastest variant, same data)`,
              pass: tsRef.timing.medianMs < best.timing.medianMs,
              detail:
                `TS gaussianScores f16 ${fmtMs(tsRef.timing.medianMs)} ms vs ${engine} ${best.variant} ${fmtMs(best.timing.medianMs)} ms ` +
                `→ TS takes ${pct(tsRef.timing.medianMs / best.timing.medianMs)} of ${engine}'s time` +
                (tsJs ? `; the JS loop alone (f16) ${fmtMs(tsJs.timing.medianMs)} ms would ${tsJs.timing.medianMs < best.timing.medianMs ? 'pass' : 'miss'}` : ''),
            });
          }
        }
      } else if (s.n === 259) {
        targets.push({ name: 'GD exact N=259 faster than numpy/torch', pass: null, detail: c.pyError ?? 'python reference not run' });
      }
    }
  }

  if (browser && 'error' in browser) notes.push(`browser: FAILED — ${browser.error}`);
  else if (browser) {
    for (const r of browser.results) {
      const engine = r.kernel === 'fm' ? 'TS firstMomentScores (Chromium worker)' : r.engine === 'mahalanobis-js' ? 'TS mahalanobis JS loop (Chromium worker)' : 'TS gaussianScores (Chromium worker)';
      rows.push(row(r.n, r.kernel === 'fm' ? '1st moment' : 'GD exact', engine, r.kernel === 'fm' ? 'f32 means' : `${r.dtype} packed`, r.timing.medianMs, r.bytesPerQuery, r.roof, undefined, `${r.timing.n} queries`));
    }
    notes.push(`browser: ${browser.userAgent}; crossOriginIsolated=${browser.crossOriginIsolated} (performance.now() resolution 5 µs)`);
  }
  notes.push('WebGPU: not timed (no real GPU on this machine)');

  const kernelOrder = (k: string) => (k === '1st moment' ? 0 : 1);
  rows.sort((a, b) => +a.n.replace(/,/g, '') - +b.n.replace(/,/g, '') || kernelOrder(a.kernel) - kernelOrder(b.kernel));
  const text = table(rows);
  const elapsed = (performance.now() - started) / 1000;
  const out: string[] = [];
  out.push('');
  out.push(`Scoring-kernel bench — d = ${DIM}, ${env.cpu}, ${env.memGB} GB RAM, Node ${env.node}, load avg at start ${env.loadavg.join(' ')}`);
  out.push('GB/s = 10⁶ bytes per ms, counting the bytes a kernel must read per query: 1st moment N·d·4 (means);');
  out.push('GD N·(d(d+1)/2·{2 f16 | 4 f32} + d·4) (packed factors + bias; dense variants N·(d²·4 + d·4)).');
  out.push('Roofline over the same buffer (the means for 1st moment, the factor buffer for GD) = the faster of');
  out.push('  · JS reduce: best pass of a JS loop summing the buffer viewed as Float64Array with 8 accumulators;');
  out.push('  · WASM SIMD reduce: best pass of a v128.load/i32x4.add loop (4 accumulators) over a copy of the buffer\'s first ≤ 512 MiB;');
  out.push('copy bw = TypedArray.prototype.set of the same buffer in ≤ 64 MiB chunks (source bytes per ms).');
  out.push('"TS ms ÷ this ms" > 1: this row is faster than TS (1st moment: firstMomentScores; GD: gaussianScores on fp16).');
  out.push('');
  out.push(text);
  out.push('');
  out.push('Targets:');
  for (const t of targets) out.push(`  ${t.pass === null ? 'SKIP' : t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.detail}`);
  out.push('');
  out.push('Notes:');
  for (const n of notes) out.push(`  - ${n}`);
  const pyInfo = cases.find((c) => c.py)?.py;
  if (pyInfo) out.push(`  - numpy ${pyInfo.numpy} (OpenBLAS threads: ${pyInfo.blasThreads ?? '?'}), torch ${pyInfo.torch} (threads: ${pyInfo.torchThreads ?? '-'}); TS is single-threaded.`);
  out.push(`  - peak RSS: ${cases.map((c) => `node ${(c.ts.peakRssBytes / GB).toFixed(1)} GB` + (c.py ? ` / python ${(c.py.peakRssBytes / GB).toFixed(1)} GB` : '')).join('; ')}`);
  out.push(`  - total bench time ${elapsed.toFixed(0)} s`);
  console.log(out.join('\n'));

  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, 'latest.json');
  writeFileSync(jsonPath, JSON.stringify({ env, elapsedSeconds: elapsed, table: text, targets, notes, rows, cases, browser }, null, 1));
  log(`\nwrote ${relative(root, jsonPath)}`);
}

process.exitCode = await runCommand(USAGE, main, {
  onError: (e) => {
    console.error(e);
    return 1;
  },
});
