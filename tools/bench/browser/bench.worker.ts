/**
 * Browser half of `npm run bench`: the same src/core kernels, timed in a dedicated Web Worker
 * (the JS path the app's search worker uses when scoring). Builds the same synthetic data as the
 * Node side (tools/bench/synth.ts) and posts the timings back to bench.html.
 */
import { firstMomentScores, gaussianScores, mahalanobis } from '../../../src/core/scoring/methods.ts';
import { packedSize } from '../../../src/core/math/linalg.ts';
import type { FloatData } from '../../../src/core/index/indexFormat.ts';
import { roofline, timeCalls, type Roofline, type Timing } from '../measure.ts';
import { benchIndex, halfToF32, makeGaussianExtras, makeHalfFactors, makeMeans, makeQueries } from '../synth.ts';

export interface BrowserRow {
  kernel: 'fm' | 'gd';
  n: number;
  /** GD only: gaussianScores (src/core's dispatch, WASM SIMD where it has it) or the mahalanobis JS loop. */
  engine?: 'gaussianScores' | 'mahalanobis-js';
  dtype?: 'f16' | 'f32';
  timing: Timing;
  bytesPerQuery: number;
  roof: Roofline;
}

const ctx = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };
const progress = (text: string) => ctx.postMessage({ type: 'progress', text });

function run(): { results: BrowserRow[] } {
  const d = 512;
  const P = packedSize(d);
  const qs = makeQueries(7, d);
  const results: BrowserRow[] = [];

  const { means, norms } = makeMeans(10_000, d);
  for (const n of [259, 10_000]) {
    const m = means.subarray(0, n * d);
    const nn = norms.subarray(0, n);
    progress(`1st moment N=${n}`);
    const roof = roofline(m, 5);
    const timing = timeCalls((k) => firstMomentScores(m, nn, d, qs[k % qs.length]), { warmup: 5, reps: 41, budgetMs: 3000 });
    results.push({ kernel: 'fm', n, timing, bytesPerQuery: n * d * 4, roof });
  }

  const nMax = 2000;
  const f16 = makeHalfFactors(nMax, d);
  const extras = makeGaussianExtras(nMax, d);
  let f32: Float32Array | undefined;
  try {
    f32 = halfToF32(f16);
  } catch (e) {
    progress(`no f32 factors: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const n of [259, nMax]) {
    const variants: FloatData[] = [{ dtype: 'f16', data: f16.subarray(0, n * P) }];
    if (f32) variants.push({ dtype: 'f32', data: f32.subarray(0, n * P) });
    for (const precision of variants) {
      const index = benchIndex({ means, norms, extras }, d, n, precision);
      const roof = roofline(precision.data, 3);
      const width = precision.dtype === 'f16' ? 2 : 4;
      const bias = extras.bias.subarray(0, n * d);
      const engines = [
        ['gaussianScores', (q: Float32Array) => gaussianScores(index, q)],
        ['mahalanobis-js', (q: Float32Array) => mahalanobis(precision, bias, d, n, q)],
      ] as const;
      for (const [engine, call] of engines) {
        progress(`GD ${engine} ${precision.dtype} N=${n}`);
        // Warm-up ≥ 1: gaussianScores may copy the factors into a WASM kernel on first use.
        const timing = timeCalls((k) => call(qs[k % qs.length]), { warmup: n >= 1000 ? 1 : 2, reps: 7, budgetMs: 6000 });
        results.push({ kernel: 'gd', engine, n, dtype: precision.dtype, timing, bytesPerQuery: n * (P * width + d * 4), roof });
      }
    }
  }
  return { results };
}

ctx.onmessage = (e: MessageEvent) => {
  if ((e.data as { type?: string })?.type !== 'run') return;
  try {
    ctx.postMessage({ type: 'done', result: run() });
  } catch (err) {
    ctx.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
