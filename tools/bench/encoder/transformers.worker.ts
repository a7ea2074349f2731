/**
 * Browser half of `npm run bench:encoder` for **transformers.js** (`@huggingface/transformers`):
 * CLIPTextModelWithProjection / CLIPVisionModelWithProjection loaded from the twin's local files
 * (served under `config.twinBase`, hub layout), in this dedicated worker, device 'wasm' (or
 * 'webgpu'), dtype 'q8' (→ onnx/*_quantized.onnx) or 'fp32', remote models off, no Cache API.
 *
 * Its onnxruntime-web is the app's 1.30.0 (package.json `overrides`), imported as transformers.js
 * imports it (`onnxruntime-web/webgpu`, whose binary is ort-wasm-simd-threaded.asyncify.wasm);
 * its default `wasmPaths` (a CDN) are pointed at the same files served locally. Importing the same
 * module here gives this worker the instance transformers.js uses (checked: the `env.wasm` objects
 * are one), so InferenceSession.create can be timed on its own, without the files' download.
 *
 * Timed runs use the same inputs as the app's: the app's tokenizer and preprocessRgba (part of
 * every timed run, as in the app's rows), then the model call and the output's data.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { CLIP_VIT_B32 } from '../../../src/core/encode/encoders.ts';
import { preprocessRgba, type RgbaImage } from '../../../src/core/encode/preprocess.ts';
import { createClipTokenizer } from '../../../src/core/encode/tokenizer.ts';
import { benchImage, median, type BrowserConfig, type Tower, type TowerResult, type WorkerResult } from './shared.ts';

const ctx = self as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null; crossOriginIsolated: boolean };
const log = (text: string) => ctx.postMessage({ type: 'progress', text });

/** Times every InferenceSession.create of this onnxruntime-web instance (transformers.js calls it through the class). */
const createTimes: number[] = [];
/** The sessions transformers.js created, with the options it passed (for the raw session.run timing and the notes). */
const created: { session: ort.InferenceSession; options: unknown }[] = [];
const factory = ort.InferenceSession as unknown as { create: (...args: unknown[]) => Promise<ort.InferenceSession> };
const realCreate = factory.create;
factory.create = async function (this: unknown, ...args: unknown[]) {
  const t0 = performance.now();
  const session = await realCreate.apply(this, args);
  createTimes.push(performance.now() - t0);
  created.push({ session, options: args[1] });
  return session;
};

async function run(config: BrowserConfig & { wasmPaths: { mjs: string; wasm: string } }): Promise<WorkerResult> {
  const notes: string[] = [];
  const tjs = await import('@huggingface/transformers');
  const { env } = tjs;
  const sameInstance = env.backends.onnx.wasm === ort.env.wasm;
  if (!sameInstance) notes.push('transformers.js runs on another onnxruntime-web instance than this worker imported: its session creation is not timed');
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = '/';
  env.useBrowserCache = false;
  env.useWasmCache = false;
  env.useFSCache = false;
  // transformers.js's default is the CDN copy of these two files; the same ones, served here.
  const wasm = env.backends.onnx.wasm!;
  wasm.wasmPaths = { mjs: config.wasmPaths.mjs, wasm: config.wasmPaths.wasm };
  wasm.numThreads = config.threads;
  const modelId = config.twinBase.replace(/^\/+|\/+$/g, '');
  const options = { device: config.backend, dtype: config.models === 'quantized' ? 'q8' : 'fp32' } as const;

  const appBase = new URL('/', self.location.href).href;
  const readJson = async (rel: string) => (await (await fetch(new URL(rel, appBase))).json()) as unknown;
  const tokenizer = createClipTokenizer(await readJson(CLIP_VIT_B32.tokenizer.json), await readJson(CLIP_VIT_B32.tokenizer.config));
  const s = config.imageSize;
  const rgba: RgbaImage = { data: benchImage(0, s), width: s, height: s };
  const inputTimes: Record<Tower, number[]> = { text: [], vision: [] };
  for (let i = 0; i < Math.max(5, config.runs); i++) {
    let t0 = performance.now();
    tokenizer.encodeBatch([config.sentence]);
    inputTimes.text.push(performance.now() - t0);
    t0 = performance.now();
    preprocessRgba(rgba, CLIP_VIT_B32.image);
    inputTimes.vision.push(performance.now() - t0);
  }

  const towers: Partial<Record<Tower, TowerResult>> = {};
  const kept: unknown[] = [];
  for (const tower of ['text', 'vision'] as const) {
    log(`${tower}: from_pretrained('${modelId}', ${JSON.stringify(options)})`);
    const before = createTimes.length;
    const t0 = performance.now();
    const model = tower === 'text' ? await tjs.CLIPTextModelWithProjection.from_pretrained(modelId, options) : await tjs.CLIPVisionModelWithProjection.from_pretrained(modelId, options);
    const loaded = performance.now();
    const encode = async (): Promise<Float32Array> => {
      if (tower === 'text') {
        const ids = tokenizer.encodeBatch([config.sentence]);
        const out = (await model({ input_ids: new tjs.Tensor('int64', ids, [1, CLIP_VIT_B32.contextLength]) })) as Record<string, { data: Float32Array }>;
        return out[CLIP_VIT_B32.outputs.text].data;
      }
      const pixels = preprocessRgba(rgba, CLIP_VIT_B32.image);
      const out = (await model({ pixel_values: new tjs.Tensor('float32', pixels, [1, 3, s, s]) })) as Record<string, { data: Float32Array }>;
      return out[CLIP_VIT_B32.outputs.vision].data;
    };
    const first = await encode();
    const t1 = performance.now();
    const creates = createTimes.slice(before);
    if (creates.length !== 1) notes.push(`${tower}: ${creates.length} InferenceSession.create calls seen`);
    log(`${tower}: session ${creates.length ? creates[creates.length - 1].toFixed(0) : '?'} ms; ${config.warmup} warm-up + ${config.runs} timed runs`);
    for (let i = 0; i < config.warmup; i++) await encode();
    const timesMs: number[] = [];
    let output = first;
    for (let i = 0; i < config.runs; i++) {
      const r0 = performance.now();
      output = await encode();
      timesMs.push(performance.now() - r0);
    }
    // Diagnostic: the same session's run() alone, called directly with the same input (no transformers.js in between).
    const session = created[created.length - 1]?.session;
    const rawRunMs: number[] = [];
    if (session) {
      const feed =
        tower === 'text'
          ? { [CLIP_VIT_B32.inputs.text]: new ort.Tensor('int64', tokenizer.encodeBatch([config.sentence]), [1, CLIP_VIT_B32.contextLength]) }
          : { [CLIP_VIT_B32.inputs.vision]: new ort.Tensor('float32', preprocessRgba(rgba, CLIP_VIT_B32.image), [1, 3, s, s]) };
      for (let i = 0; i < config.runs; i++) {
        const r0 = performance.now();
        const res = await session.run(feed);
        rawRunMs.push(performance.now() - r0);
        for (const t of Object.values(res)) t.dispose();
      }
    }
    towers[tower] = { createMs: creates.length ? creates[creates.length - 1] : NaN, firstRunMs: t1 - loaded, loadMs: loaded - t0, timesMs, output: Array.from(output), rawRunMs };
    // Both models stay loaded to the end, as the app keeps both sessions (the memory figures count them).
    kept.push(model);
  }

  const binaries = performance
    .getEntriesByType('resource')
    .map((e) => e.name)
    .filter((n) => new URL(n).pathname.endsWith('.wasm') && !/[?&](url|import)\b/.test(n)) // the binary, not vite's `?url` module
    .map((n) => new URL(n).pathname.split('/').pop()!);
  (self as unknown as { __kept?: unknown[] }).__kept = kept;
  notes.push(`session options transformers.js passed: ${JSON.stringify(created[0]?.options)}`);
  return {
    runner: 'transformers',
    library: `@huggingface/transformers ${env.version}`,
    ort: { version: ort.env.versions.web ?? '?', bundle: 'onnxruntime-web/webgpu (imported by transformers.js)', binary: [...new Set(binaries)].join(', ') || '?', numThreads: wasm.numThreads },
    backend: config.backend,
    crossOriginIsolated: ctx.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    inputMs: { text: median(inputTimes.text), vision: median(inputTimes.vision) },
    towers,
    notes,
  };
}

ctx.onmessage = (e: MessageEvent) => {
  run(e.data as BrowserConfig & { wasmPaths: { mjs: string; wasm: string } }).then(
    (result) => ctx.postMessage({ type: 'done', result }),
    (err: unknown) => ctx.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
