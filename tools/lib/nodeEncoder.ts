import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-web';
import { encodePixelValues, encodeTokenIds } from '../../src/core/encode.ts';
import { resolveEncoderUrl, type EncoderDescriptor, type EncoderFile } from '../../src/core/encoders.ts';
import { fetchBytes } from '../../src/core/fetchBytes.ts';
import { createClipTokenizer, type ClipTokenizer } from '../../src/core/tokenizer.ts';

/** The repo's public/ folder: what the app serves at its base URL. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const PUBLIC_BASE = new URL('../../public/', import.meta.url).href;

/** Reads a descriptor file: local paths from public/, absolute URLs with the same verified download as the browser. */
async function loadFile(file: EncoderFile, modelHost?: string): Promise<Uint8Array> {
  const url = resolveEncoderUrl(file, PUBLIC_BASE, modelHost);
  if (url.startsWith('file:')) {
    const bytes = new Uint8Array(await readFile(fileURLToPath(url)));
    // Same integrity rule as the browser: size and checksum must match the descriptor.
    return fetchBytes(url, { bytes: file.bytes, sha256: file.sha256, fetchImpl: async () => new Response(bytes) });
  }
  return fetchBytes(url, { bytes: file.bytes, sha256: file.sha256 });
}

/** A CLIP-compatible encoder running in Node with onnxruntime-node, via the same src/core code as the worker. */
export class NodeEncoder {
  private constructor(
    readonly desc: EncoderDescriptor,
    private readonly tokenizer: ClipTokenizer,
    private readonly text: InferenceSession,
    private readonly vision: InferenceSession,
  ) {}

  static async load(desc: EncoderDescriptor, modelHost?: string): Promise<NodeEncoder> {
    const readJson = async (p: string) => JSON.parse(await readFile(new URL(p, PUBLIC_BASE), 'utf8')) as unknown;
    const [tokJson, tokConfig, textBytes, visionBytes] = await Promise.all([
      readJson(desc.tokenizer.json),
      readJson(desc.tokenizer.config),
      loadFile(desc.text, modelHost),
      loadFile(desc.vision, modelHost),
    ]);
    const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const };
    const [text, vision] = await Promise.all([
      ort.InferenceSession.create(textBytes, opts),
      ort.InferenceSession.create(visionBytes, opts),
    ]);
    return new NodeEncoder(
      desc,
      createClipTokenizer(tokJson, tokConfig),
      text as unknown as InferenceSession,
      vision as unknown as InferenceSession,
    );
  }

  encodeTexts(texts: string[]): Promise<Float32Array[]> {
    const ortWeb = ort as unknown as Parameters<typeof encodeTokenIds>[0];
    return encodeTokenIds(ortWeb, this.text, this.desc, this.tokenizer.encodeBatch(texts), texts.length);
  }

  /** `pixels` holds `n` preprocessed images, [n, 3, size, size]. */
  encodeImages(pixels: Float32Array, n: number): Promise<Float32Array[]> {
    const ortWeb = ort as unknown as Parameters<typeof encodePixelValues>[0];
    return encodePixelValues(ortWeb, this.vision, this.desc, pixels, n);
  }
}
