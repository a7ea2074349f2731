import { AppError } from './errors.ts';

export const MANIFEST_FORMAT = 'model-search-index';

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface IndexManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  name: string;
  createdWith: string;
  encoder: { id: string; dim: number };
  count: number;
  licence: string;
  files: { 'index.bin': FileEntry; 'models.json': FileEntry };
}

/** Untrusted metadata of one model, in index order. Render as text only. */
export interface ModelMeta {
  id: string;
  name: string;
  description: string;
  family: string;
  creator: string;
  licence: string;
}

function bad(message: string): never {
  throw new AppError('index-format', `The index manifest is invalid: ${message}.`, 'manifest.json');
}

function badModels(message: string): never {
  throw new AppError('index-format', `The model list is invalid: ${message}.`, 'models.json');
}

function isFileEntry(v: unknown): v is FileEntry {
  const e = v as FileEntry;
  return (
    typeof e === 'object' && e !== null && Number.isSafeInteger(e.bytes) && e.bytes >= 0 &&
    typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256)
  );
}

export function parseManifest(json: unknown): IndexManifest {
  const m = json as IndexManifest;
  if (typeof m !== 'object' || m === null) bad('not a JSON object');
  if (m.format !== MANIFEST_FORMAT) bad(`format is "${String(m.format)}", expected "${MANIFEST_FORMAT}"`);
  if (m.formatVersion !== 1) bad(`format version ${String(m.formatVersion)} is not supported`);
  for (const key of ['name', 'createdWith', 'licence'] as const) {
    if (typeof m[key] !== 'string') bad(`${key} must be a string`);
  }
  if (typeof m.encoder?.id !== 'string' || !Number.isInteger(m.encoder?.dim) || m.encoder.dim < 1) bad('encoder id/dim missing');
  if (!Number.isInteger(m.count) || m.count < 1) bad('model count missing');
  if (!isFileEntry(m.files?.['index.bin']) || !isFileEntry(m.files?.['models.json'])) bad('file sizes/checksums missing');
  return m;
}

export function parseModels(json: unknown, count: number): ModelMeta[] {
  if (!Array.isArray(json)) badModels('models.json is not a list');
  if (json.length !== count) badModels(`models.json lists ${json.length} models, the index has ${count}`);
  return json.map((raw, i) => {
    const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const text = (k: string, fallback: string) => (typeof r[k] === 'string' ? (r[k] as string) : fallback);
    return {
      id: text('id', `model-${i}`),
      name: text('name', `Model ${i + 1}`),
      description: text('description', ''),
      family: text('family', ''),
      creator: text('creator', ''),
      licence: text('licence', ''),
    };
  });
}
