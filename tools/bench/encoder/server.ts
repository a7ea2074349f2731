import { fileURLToPath } from 'node:url';
import type { Plugin, ViteDevServer } from 'vite';
import { ortWasmPlugin } from '../../vite/ortWasm.ts';
import { startBenchServer } from '../browser.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The dev server of the encoder benchmark's page (tools/bench/encoder/encoder.html), shared by
 * bench:encoder and bench:clip-visit's reference: virtual:ort-wasm as the app's build gives it to
 * the worker (vite.config.ts), and `files`, the plugin that serves the models, in the page (and,
 * with `inWorker`, in the workers too).
 */
export function startEncoderPageServer(files: Plugin, opts: { inWorker?: boolean } = {}): Promise<{ server: ViteDevServer; origin: string }> {
  return startBenchServer({
    root: ROOT,
    plugins: [ortWasmPlugin(), files],
    workerPlugins: () => (opts.inWorker ? [ortWasmPlugin(), files] : [ortWasmPlugin()]),
    exclude: ['onnxruntime-web', '@huggingface/transformers'],
  });
}
