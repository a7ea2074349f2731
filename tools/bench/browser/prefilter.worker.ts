/**
 * Browser half of `tools/bench/prefilter-kernels.ts`: the tiered prefilter and rerank kernels (JS
 * and WASM SIMD) timed in a dedicated Web Worker, the app's search-worker setting.
 */
import { runPrefilterBench, type PrefilterBenchOptions } from './prefilterRows.ts';

const ctx = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null };

ctx.onmessage = (e: MessageEvent) => {
  const m = e.data as { type?: string; options?: Omit<PrefilterBenchOptions, 'progress'> };
  if (m?.type !== 'run' || !m.options) return;
  try {
    const result = runPrefilterBench({ ...m.options, progress: (text) => ctx.postMessage({ type: 'progress', text }) });
    ctx.postMessage({ type: 'done', result });
  } catch (err) {
    ctx.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
