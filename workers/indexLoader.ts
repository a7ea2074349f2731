import { AppError } from '../src/core/errors.ts';
import { fetchBytes } from '../src/core/fetchBytes.ts';
import { readIndex, type SearchIndex } from '../src/core/indexFormat.ts';
import { parseManifest, parseModels, type IndexManifest, type ModelMeta } from '../src/core/manifest.ts';
import type { LoadProgress } from '../src/core/searchTypes.ts';

export interface LoadedIndex {
  manifest: IndexManifest;
  models: ModelMeta[];
  index: SearchIndex;
}

function parseJson(bytes: Uint8Array, what: string, subject: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new AppError('index-format', `${what} is not valid JSON.`, subject);
  }
}

/** Fetches the manifest, then the binary index and metadata it lists, verifying every checksum. */
export async function loadIndex(indexUrl: string, onProgress: (p: LoadProgress) => void): Promise<LoadedIndex> {
  const manifestUrl = new URL('manifest.json', indexUrl).href;
  // The manifest is the root of trust for every other file: always revalidate it.
  const manifestBytes = await fetchBytes(manifestUrl, { fetchImpl: (u, init) => fetch(u, { ...init, cache: 'no-cache' }) });
  const manifest = parseManifest(parseJson(manifestBytes, 'The index manifest', manifestUrl));

  const download = async (file: 'index.bin' | 'models.json') => {
    const entry = manifest.files[file];
    onProgress({ status: 'initiate', file, label: `Index ${file}` });
    const bytes = await fetchBytes(new URL(file, indexUrl).href, {
      bytes: entry.bytes,
      sha256: entry.sha256,
      onProgress: (loaded, total) => onProgress({ status: 'download', file, loaded, total }),
    });
    onProgress({ status: 'done', file });
    return bytes;
  };
  const [binary, modelsBytes] = await Promise.all([download('index.bin'), download('models.json')]);
  const index = readIndex(binary);
  if (index.count !== manifest.count || index.dim !== manifest.encoder.dim) {
    throw new AppError('index-format', 'The index file does not match its manifest (count or dimension).', 'index.bin');
  }
  const models = parseModels(parseJson(modelsBytes, 'models.json', 'models.json'), index.count);
  return { manifest, models, index };
}
