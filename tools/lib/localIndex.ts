import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../src/core/io/errors.ts';
import { fetchBytes } from '../../src/core/io/fetchBytes.ts';
import { readIndex, type SearchIndex } from '../../src/core/index/indexFormat.ts';
import { parseManifest, parseModels, type IndexManifest, type ModelMeta } from '../../src/core/index/manifest.ts';

export interface LocalIndex {
  dir: string;
  manifest: IndexManifest;
  models: ModelMeta[];
  index: SearchIndex;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new AppError('http', `${what} not found at ${path}.`, path);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('index-format', `${what} is not valid JSON.`, path);
  }
}

/** Reads an index folder from disk with the same checks as the browser: sizes, SHA-256, format. */
export async function openLocalIndex(dir: string): Promise<LocalIndex> {
  const manifest = parseManifest(await readJson(join(dir, 'manifest.json'), 'The index manifest'));
  const verified = async (file: 'index.bin' | 'models.json') => {
    const path = join(dir, file);
    const bytes = await readFile(path).catch(() => {
      throw new AppError('http', `${file} is missing from ${dir}.`, path);
    });
    const entry = manifest.files[file];
    return fetchBytes(path, { bytes: entry.bytes, sha256: entry.sha256, fetchImpl: async () => new Response(bytes) });
  };
  const [bin, modelsBytes] = await Promise.all([verified('index.bin'), verified('models.json')]);
  const index = readIndex(bin);
  if (index.count !== manifest.count || index.dim !== manifest.encoder.dim) {
    throw new AppError('index-format', 'The index file does not match its manifest (count or dimension).', join(dir, 'index.bin'));
  }
  const models = parseModels(JSON.parse(new TextDecoder().decode(modelsBytes)), index.count);
  return { dir, manifest, models, index };
}
