import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { createStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIP_VIT_B32, type EncoderDescriptor } from '../src/core/encode/encoders.ts';
import { EncoderRuntime } from './encoderRuntime.ts';
import type { Ort } from './ortRuntime.ts';
import { VerifiedFileStore } from './storage/fileStore.ts';
import { forgetMemoryTrust } from './storage/trustOnFirstUse.ts';

/*
 * The CLIP path's order and memory (issue 16): the text tower first, the image tower fetched in the
 * background only once the text tower runs, both saved for offline use although CLIP's hashes are
 * not pinned (trust on first use), and a tower's file bytes let go once its WASM session holds the model.
 */

const TEXT = new Uint8Array(4000).map((_, i) => (i * 7) & 0xff);
const VISION = new Uint8Array(6000).map((_, i) => (i * 13) & 0xff);
/** CLIP's descriptor with the stand-in files' sizes: same URLs, no pinned hashes. */
const CLIP: EncoderDescriptor = { ...CLIP_VIT_B32, text: { ...CLIP_VIT_B32.text, bytes: TEXT.length }, vision: { ...CLIP_VIT_B32.vision, bytes: VISION.length } };
const publicFile = (path: string) => new Uint8Array(readFileSync(new URL(`../public/${path}`, import.meta.url)));

let log: string[];
let n = 0;

/** Serves the app's tokenizer files and the two stand-in towers, logging each request. */
function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const url = String(input);
      const name = url.split('/').pop()!;
      log.push(`fetch ${name}`);
      if (url.endsWith('text_model_quantized.onnx')) return new Response(TEXT.slice());
      if (url.endsWith('vision_model_quantized.onnx')) return new Response(VISION.slice());
      if (url.includes('/tokenizers/')) return new Response(publicFile(new URL(url).pathname.replace('/search/', '')));
      return new Response('not found', { status: 404 });
    }),
  );
}

/** A fake onnxruntime: sessions log which file they were made from and return a unit 512-d row. */
function fakeOrt(): Ort {
  class Tensor {
    constructor(
      readonly type: string,
      readonly data: unknown,
      readonly dims: number[],
    ) {}
  }
  const InferenceSession = {
    create: async (bytes: Uint8Array) => {
      const tower = bytes.length === TEXT.length ? 'text' : 'vision';
      log.push(`session ${tower}`);
      const output = tower === 'text' ? CLIP.outputs.text : CLIP.outputs.vision;
      return {
        run: async () => ({ [output]: { getData: async () => new Float32Array(CLIP.dim).fill(1), dispose: () => {} } }),
        release: async () => {},
      };
    },
  };
  return { Tensor, InferenceSession, env: {} } as unknown as Ort;
}

const heldBytes = (r: EncoderRuntime) => (r as unknown as { bytes: Partial<Record<'text' | 'vision', unknown>> }).bytes;

async function until(done: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 5));
  expect(await done()).toBe(true);
}

beforeEach(() => {
  log = [];
  vi.stubGlobal('location', { origin: 'https://app.test', href: 'https://app.test/search/' });
  serve();
});
afterEach(() => {
  vi.unstubAllGlobals();
  forgetMemoryTrust();
});

describe('EncoderRuntime with CLIP (unpinned towers from the model host)', () => {
  const make = (store: VerifiedFileStore | null) => {
    const ort = fakeOrt();
    return new EncoderRuntime(CLIP, 'wasm', undefined, 'https://app.test/search/', undefined, () => {}, { store }, async () => ort);
  };

  it('starts the image tower only once the text tower runs, and saves both for offline use', async () => {
    const store = new VerifiedFileStore(createStore(`encoder-runtime-${++n}`, 'files'));
    await make(store).ready();
    await until(async () => (await store.list()).filter((f) => f.group === 'encoder:clip-vit-b32').length === 2);
    const towers = log.filter((l) => /onnx|session/.test(l));
    expect(towers).toEqual(['fetch text_model_quantized.onnx', 'session text', 'fetch vision_model_quantized.onnx']);
    const saved = (await store.list()).filter((f) => f.group === 'encoder:clip-vit-b32').map((f) => [f.label, f.bytes]);
    expect(saved.sort()).toEqual([
      ['CLIP ViT-B/32 (quantized) image encoder', VISION.length],
      ['CLIP ViT-B/32 (quantized) text encoder', TEXT.length],
    ]);

    // A return visit (a new worker on the same storage) downloads neither tower.
    log = [];
    const again = make(store);
    await again.ready();
    await again.encodeImage({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) });
    expect(log.filter((l) => l.startsWith('fetch') && l.endsWith('.onnx'))).toEqual([]);
    expect(log.filter((l) => l.startsWith('session'))).toEqual(['session text', 'session vision']);
  });

  it('without offline storage, or with the text tower turned away by the quota, the image tower waits for the first image query', async () => {
    class FullStore extends VerifiedFileStore {
      override async put(): Promise<'quota'> {
        return 'quota';
      }
    }
    for (const store of [null, new FullStore(createStore(`encoder-runtime-${++n}`, 'files'))]) {
      log = [];
      const runtime = make(store);
      await runtime.ready();
      await new Promise((r) => setTimeout(r, 50));
      expect(log.filter((l) => l.endsWith('.onnx'))).toEqual(['fetch text_model_quantized.onnx']);
      await runtime.encodeImage({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) });
      expect(log.filter((l) => l.endsWith('.onnx'))).toEqual(['fetch text_model_quantized.onnx', 'fetch vision_model_quantized.onnx']);
    }
  });

  it("lets go of a tower's file bytes once its WASM session holds the model", async () => {
    const runtime = make(new VerifiedFileStore(createStore(`encoder-runtime-${++n}`, 'files')));
    await runtime.ready();
    expect(heldBytes(runtime).text).toBeUndefined();
    await until(() => heldBytes(runtime).vision !== undefined);
    await runtime.encodeImage({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(255) });
    expect(heldBytes(runtime).vision).toBeUndefined();
    // Both sessions are kept: more queries fetch nothing and make no session.
    const before = log.length;
    await runtime.encodeText('a red flower');
    await runtime.encodeImage({ width: 2, height: 2, data: new Uint8ClampedArray(16).fill(0) });
    expect(log.slice(before)).toEqual([]);
  });
});
