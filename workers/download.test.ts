import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { createStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIP_VIT_B32, type EncoderDescriptor } from '../src/core/encode/encoders.ts';
import { AppError } from '../src/core/io/errors.ts';
import type { LoadProgress } from '../src/shared/protocol.ts';
import { downloadVerified, workerPolicy } from './download.ts';
import { EncoderRuntime } from './encoderRuntime.ts';
import { VerifiedFileStore } from './storage/fileStore.ts';
import { forgetMemoryTrust } from './storage/trustOnFirstUse.ts';

const BODY = new Uint8Array(3000).map((_, i) => i & 0xff);
const SHA = createHash('sha256').update(BODY).digest('hex');
let n = 0;
const freshStore = () => new VerifiedFileStore(createStore(`download-test-${++n}`, 'files'));

/** A fetch serving BODY everywhere, recording the URLs; `finalUrl` makes a response claim it came from elsewhere (a followed redirect). */
function serve(finalUrl?: (url: string) => string | undefined) {
  const calls: string[] = [];
  const impl = vi.fn(async (input: RequestInfo | URL) => {
    const url = String(input);
    calls.push(url);
    const response = new Response(BODY.slice());
    const to = finalUrl?.(url);
    if (to) Object.defineProperty(response, 'url', { value: to });
    return response;
  });
  vi.stubGlobal('fetch', impl);
  return calls;
}

beforeEach(() => vi.stubGlobal('location', { origin: 'https://app.test', href: 'https://app.test/search/' }));
afterEach(() => {
  vi.unstubAllGlobals();
  forgetMemoryTrust();
});

describe('downloadVerified: every fetch of the worker stays inside its policy', () => {
  it("is compiled with the build's list (vite.config.ts define) and the worker's own origin", () => {
    const policy = workerPolicy();
    expect(policy.self).toBe('https://app.test');
    expect(policy.hosts).toContain('https://huggingface.co');
    expect(policy.hosts).toContain('https://*.hf.co');
  });

  it('refuses a file on a host outside the policy before the download list or storage hear of it', async () => {
    const calls = serve();
    const events: LoadProgress[] = [];
    const err = await downloadVerified({ url: 'https://evil.example/tok.json', label: 'Tokenizer tok.json', kind: 'tokenizer' }, { store: freshStore() }, (p) => events.push(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as Error).message).toMatch(/^Tokenizer tok\.json \(https:\/\/evil\.example\/tok\.json\) is on https:\/\/evil\.example, a host this site does not allow/);
    expect(calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('refuses a pinned file that a redirect brought from a disallowed host (not "network error", nothing stored)', async () => {
    serve(() => 'https://evil.example/elsewhere.bin');
    const store = freshStore();
    const spec = { url: 'https://app.test/index/demo/index.bin', label: 'Index index.bin', kind: 'index' as const, bytes: BODY.length, sha256: SHA, group: 'index:x' };
    await expect(downloadVerified(spec, { store }, () => {})).rejects.toThrow('Index index.bin was redirected from https://app.test to https://evil.example');
    expect((await store.get(SHA, BODY.length)).status).toBe('miss');
    // Followed to an allowed host, it is used.
    serve(() => 'https://cdn-lfs.hf.co/x.bin');
    expect((await downloadVerified(spec, { store }, () => {})).data).toEqual(BODY);
  });

  it('holds an unpinned file to its first download (trust on first use) and stores it', async () => {
    serve();
    const store = freshStore();
    const spec = { url: 'https://huggingface.co/r/resolve/main/m.onnx', label: 'CLIP text encoder', kind: 'encoder' as const, bytes: BODY.length, trustOnFirstUse: true, group: 'encoder:clip' };
    expect(await downloadVerified(spec, { store }, () => {})).toEqual({ data: BODY, sha256: SHA });
    const events: LoadProgress[] = [];
    const calls = serve();
    expect((await downloadVerified(spec, { store }, (p) => events.push(p))).sha256).toBe(SHA);
    expect(calls).toEqual([]);
    expect(events.map((e) => e.status)).toEqual(['initiate', 'cached', 'done']);
  });
});

describe('EncoderRuntime: ?modelHost= is checked in the worker', () => {
  const runtime = (modelHost: string | undefined, desc: EncoderDescriptor = CLIP_VIT_B32) =>
    new EncoderRuntime(desc, 'wasm', undefined, 'https://app.test/search/', modelHost, () => {}, { store: null }, () => new Promise(() => {}));
  const getBytes = (r: EncoderRuntime) => (r as unknown as { getBytes(t: 'text'): Promise<Uint8Array> }).getBytes('text');

  it('refuses a model host outside the policy, or not plain http(s), naming the parameter; nothing is fetched', async () => {
    const calls = serve();
    for (const [host, words] of [
      ['https://evil.example', 'a host this site does not allow'],
      ['https://user:pw@huggingface.co', 'contains a user name or password'],
      ['javascript:alert(1)', 'is not an http(s) address'],
      ['https://huggingface.co/?next=https://evil.example', 'without “?” or “#”'],
    ]) {
      const err = await getBytes(runtime(host)).catch((e: unknown) => e);
      expect(err, host).toBeInstanceOf(AppError);
      expect((err as Error).message, host).toContain('?modelHost=');
      expect((err as Error).message, host).toContain(words);
    }
    expect(calls).toEqual([]);
  });

  it('fetches the CLIP file from an allowed model host (or the default) and names ?modelHost= when it redirects away', async () => {
    const sized = { ...CLIP_VIT_B32, text: { ...CLIP_VIT_B32.text, bytes: BODY.length } };
    let calls = serve();
    expect(await getBytes(runtime(undefined, sized))).toEqual(BODY);
    expect(calls).toEqual(['https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model_quantized.onnx']);
    calls = serve();
    expect(await getBytes(runtime('https://mirror.hf.co/hub', sized))).toEqual(BODY);
    expect(calls).toEqual(['https://mirror.hf.co/hub/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model_quantized.onnx']);
    serve(() => 'https://evil.example/file.onnx');
    await expect(getBytes(runtime('https://huggingface.co', sized))).rejects.toThrow('text_model_quantized.onnx (from ?modelHost=) was redirected from https://huggingface.co to https://evil.example');
  });
});
