import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-web';
import { encodePixelValues, encodeTokenIds } from '../../src/core/encode/encode.ts';
import { resolveEncoderUrl, type EncoderDescriptor, type EncoderFile } from '../../src/core/encode/encoders.ts';
import { fetchBytes, verifyBytes } from '../../src/core/io/fetchBytes.ts';
import { createClipTokenizer, type ClipTokenizer } from '../../src/core/encode/tokenizer.ts';

/** The repo's public/ folder: what the app serves at its base URL. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const PUBLIC_BASE = new URL('../../public/', import.meta.url).href;

/** Reads a descriptor file: local paths from public/, absolute URLs with the same verified download as the browser. */
async function loadFile(file: EncoderFile, modelHost?: string): Promise<Uint8Array> {
  const url = resolveEncoderUrl(file, PUBLIC_BASE, modelHost);
  if (url.startsWith('file:')) {
    const bytes = new Uint8Array(await readFile(fileURLToPath(url)));
    // Same integrity rule as the browser: size and checksum must match the descriptor.
    return verifyBytes(bytes, file, url);
  }
  return fetchBytes(url, { bytes: file.bytes, sha256: file.sha256 });
}

/** A CLIP-compatible encoder running in Node with onnxruntime-node, via the same src/core code as the worker. */
export class NodeEncoder {
  private constructor(
    readonly desc: EncoderDescriptor,
    private readonly tokenizer: ClipTokenizer,
    private readonly text: InferenceSession | null,
    private readonly vision: InferenceSession | null,
  ) {}

  /** Loads the towers asked for (both by default): an index build needs only the vision tower. */
  static async load(
    desc: EncoderDescriptor,
    modelHost?: string,
    opts: { towers?: ('text' | 'vision')[] } = {},
  ): Promise<NodeEncoder> {
    const towers = opts.towers ?? ['text', 'vision'];
    const readJson = async (p: string) => JSON.parse(await readFile(new URL(p, PUBLIC_BASE), 'utf8')) as unknown;
    const sessionOpts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const };
    const session = async (tower: 'text' | 'vision') =>
      towers.includes(tower)
        ? ((await ort.InferenceSession.create(await loadFile(desc[tower], modelHost), sessionOpts)) as unknown as InferenceSession)
        : null;
    const [tokJson, tokConfig, text, vision] = await Promise.all([
      readJson(desc.tokenizer.json),
      readJson(desc.tokenizer.config),
      session('text'),
      session('vision'),
    ]);
    return new NodeEncoder(desc, createClipTokenizer(tokJson, tokConfig), text, vision);
  }

  encodeTexts(texts: string[]): Promise<Float32Array[]> {
    if (!this.text) throw new Error('This encoder was loaded without its text tower.');
    const ortWeb = ort as unknown as Parameters<typeof encodeTokenIds>[0];
    return encodeTokenIds(ortWeb, this.text, this.desc, this.tokenizer.encodeBatch(texts), texts.length);
  }

  /** `pixels` holds `n` preprocessed images, [n, 3, size, size]. */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array[]> {
    if (!this.vision) throw new Error('This encoder was loaded without its vision tower.');
    const ortWeb = ort as unknown as Parameters<typeof encodePixelValues>[0];
    return encodePixelValues(ortWeb, this.vision, this.desc, pixels, n);
  }
}
