import { AppError } from '../src/core/errors.ts';
import { fetchBytes } from '../src/core/fetchBytes.ts';
import { readIndex } from '../src/core/indexFormat.ts';
import { parseManifest, parseModels, type IndexManifest, type ModelMeta } from '../src/core/manifest.ts';
import { rowNorms } from '../src/core/scoring.ts';
import type { LoadProgress } from '../src/core/searchTypes.ts';

export interface LoadedIndex {
  manifest: IndexManifest;
  models: ModelMeta[];
  dim: number;
  count: number;
  means: Float32Array;
  norms: Float32Array;
}

/** Fetches the manifest, then the binary index and metadata it lists, verifying every checksum. */
export async function loadIndex(indexUrl: string, onProgress: (p: LoadProgress) => void): Promise<LoadedIndex> {
  const manifestUrl = new URL('manifest.json', indexUrl).href;
  const manifestBytes = await fetchBytes(manifestUrl, { fetchImpl: (u, init) => fetch(u, { ...init, cache: 'no-cache' }) });
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch {
    throw new AppError('index-format', 'The index manifest is not valid JSON.', manifestUrl);
  }
  const manifest = parseManifest(manifestJson);

  const download = (file: 'index.bin' | 'models.json') => {
    const entry = manifest.files[file];
    onProgress({ status: 'initiate', file, label: `Index ${file}` });
    return fetchBytes(new URL(file, indexUrl).href, {
      bytes: entry.bytes,
      sha256: entry.sha256,
      onProgress: (loaded, total) => onProgress({ status: 'download', file, loaded, total }),
    }).then((bytes) => {
      onProgress({ status: 'done', file });
      return bytes;
    });
  };
  const [binary, modelsBytes] = await Promise.all([download('index.bin'), download('models.json')]);
  const parsed = readIndex(binary);
  if (parsed.count !== manifest.count || parsed.dim !== manifest.encoder.dim) {
    throw new AppError('index-format', 'The index file does not match its manifest (count or dimension).', 'index.bin');
  }
  let modelsJson: unknown;
  try {
    modelsJson = JSON.parse(new TextDecoder().decode(modelsBytes));
  } catch {
    throw new AppError('index-format', 'models.json is not valid JSON.', 'models.json');
  }
  const models = parseModels(modelsJson, parsed.count);
  return {
    manifest,
    models,
    dim: parsed.dim,
    count: parsed.count,
    means: parsed.means,
    norms: rowNorms(parsed.means, parsed.count, parsed.dim),
  };
}
