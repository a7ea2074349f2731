/**
 * Query sets of the evaluation (the zoo's `queries.json`) and their embeddings through the real
 * pipeline: PNG → sharp decode (tools/lib/indexBuilder/imageDecode.ts) → CLIP preprocessing
 * (src/core/encode/preprocess.ts) → NodeEncoder; text → CLIP tokenizer → NodeEncoder.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { decodeImage } from '../lib/indexBuilder/imageDecode.ts';
import type { NodeEncoder } from '../lib/nodeEncoder.ts';

/** `queries.json` as written by `tools/zoo/cli.ts queries` (file paths relative to the file). */
export interface QueryFile {
  image: { file: string; model: string }[];
  sketch: { file: string; model: string; kind: string }[];
  text: { text: string; model: string }[];
  model: { model: string; family: string }[];
}

export type QueryType = 'image' | 'sketch' | 'text' | 'model';
export const QUERY_TYPES: readonly QueryType[] = ['image', 'sketch', 'text', 'model'];

export function parseQueryFile(json: unknown, where = 'queries.json'): QueryFile {
  const bad = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null) bad('not a JSON object');
  const o = json as Record<string, unknown>;
  const list = (key: string, fields: string[]) => {
    const v = o[key] ?? [];
    if (!Array.isArray(v)) bad(`"${key}" must be an array`);
    (v as unknown[]).forEach((e, i) => {
      for (const f of fields) {
        if (typeof (e as Record<string, unknown>)?.[f] !== 'string') bad(`${key}[${i}].${f} must be a string`);
      }
    });
    return v as never;
  };
  return {
    image: list('image', ['file', 'model']),
    sketch: list('sketch', ['file', 'model', 'kind']),
    text: list('text', ['text', 'model']),
    model: list('model', ['model', 'family']),
  };
}

export async function readQueryFile(dir: string): Promise<QueryFile> {
  const path = join(dir, 'queries.json');
  return parseQueryFile(JSON.parse(await readFile(path, 'utf8')), path);
}

/** Embeds image files in batches: decode + preprocess run a batch ahead on sharp's threads. */
export async function embedImageFiles(encoder: NodeEncoder, files: string[], batch = 32): Promise<Float32Array[]> {
  const { image } = encoder.desc;
  const plane = 3 * image.size * image.size;
  const prepare = async (chunk: string[]) => {
    const pixels = new Float32Array(chunk.length * plane);
    const decoded = await Promise.all(
      chunk.map(async (f) => {
        const r = await decodeImage(new Uint8Array(await readFile(f)));
        if (!r.ok) throw new Error(`${f}: ${r.reason}`);
        return r.image;
      }),
    );
    decoded.forEach((img, i) => pixels.set(preprocessRgba(img, image), i * plane));
    return pixels;
  };
  const out: Float32Array[] = [];
  let next = files.length ? prepare(files.slice(0, batch)) : undefined;
  for (let start = 0; start < files.length; start += batch) {
    const pixels = await next!;
    const n = Math.min(batch, files.length - start);
    next = start + batch < files.length ? prepare(files.slice(start + batch, start + 2 * batch)) : undefined;
    out.push(...(await encoder.encodeImages(pixels, n)));
  }
  return out;
}

export async function embedTexts(encoder: NodeEncoder, texts: string[], batch = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batch) out.push(...(await encoder.encodeTexts(texts.slice(start, start + batch))));
  return out;
}
