/**
 * Stage 1 of a build, scan: the input `<models>/<model-folder>/` with sample images and an
 * optional `model.json`. Finds the model folders, reads and validates the metadata and the ids
 * (invalid, empty or duplicate ids are an InputError naming the folders), lists the candidate
 * image files in a deterministic order and returns the models sorted by id (the order of the
 * built index), or the share of them one shard builds.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { metadataOverLimit, safeLinks } from '../../../src/core/index/manifest.ts';
import {
  byCodePoint,
  IGNORED_EXTENSIONS,
  invalidIdReason,
  listSome,
  metadataDefaults,
  missingMetadataFields,
  type EntryMeta,
  type MetadataField,
} from '../../../src/core/index/modelEntry.ts';
import { InputError, readJsonFile } from './errors.ts';

export { byCodePoint, invalidIdReason, listSome, METADATA_FIELDS } from '../../../src/core/index/modelEntry.ts';

/**
 * A model.json larger than this is refused unread (a 2 GB file would exhaust memory); below it,
 * METADATA_LIMITS names the field that is too long, which says more.
 */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

type ModelFolderMeta = EntryMeta;

export interface ModelFolder {
  id: string;
  /** The folder's name inside the models directory. */
  folder: string;
  /** The folder's path. */
  dir: string;
  meta: ModelFolderMeta;
  /** Fields model.json lacked (defaults used); empty when it had them all. */
  missingFields: MetadataField[];
  /** Candidate image file names, sorted by code point. */
  files: string[];
}

export interface ScanResult {
  models: ModelFolder[];
  warnings: string[];
}

export interface Shard {
  index: number;
  count: number;
}

/**
 * Lists the model folders of `modelsDir` (hidden entries skipped), reads each model.json and
 * validates the ids. Throws InputError for a missing/empty folder, invalid model.json, invalid or
 * duplicate ids — everything found, not just the first problem.
 */
export async function scanModelFolders(modelsDir: string): Promise<ScanResult> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code ?? 'error'})`;
    throw new InputError(`the models folder ${modelsDir} ${why}`);
  }
  const warnings: string[] = [];
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  const isDir = await Promise.all(visible.map((e) => isDirectory(join(modelsDir, e.name), e)));
  const folders = visible.filter((_, i) => isDir[i]).map((e) => e.name).sort(byCodePoint);
  const stray = visible.filter((_, i) => !isDir[i]).map((e) => e.name).sort(byCodePoint);
  if (stray.length) {
    warnings.push(`ignored ${stray.length} file(s) directly in the models folder (models are sub-folders): ${listSome(stray)}`);
  }
  if (folders.length === 0) throw new InputError(`no model folders in ${modelsDir} (expected <models>/<model-folder>/<images>)`);

  const problems: string[] = [];
  const models: ModelFolder[] = [];
  for (const folder of folders) {
    const dir = join(modelsDir, folder);
    const files: string[] = [];
    const subfolders: string[] = [];
    let json: unknown;
    let hasJson = false;
    let badJson = false;
    let listing: Dirent[];
    try {
      listing = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push(`the model folder "${folder}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    for (const e of listing) {
      if (e.name.startsWith('.')) continue;
      if (await isDirectory(join(dir, e.name), e)) {
        subfolders.push(e.name);
      } else if (e.name === 'model.json') {
        const read = await readJsonFile(join(dir, e.name), MAX_MODEL_JSON_BYTES);
        if (read.ok) {
          json = read.value;
          hasJson = true;
        } else {
          problems.push(`${folder}/model.json: ${read.problem}`);
          badJson = true;
        }
      } else if (!IGNORED_EXTENSIONS.has(extname(e.name).toLowerCase())) {
        files.push(e.name);
      }
    }
    files.sort(byCodePoint);
    if (subfolders.length) warnings.push(`model folder "${folder}": ignored sub-folder(s) ${listSome(subfolders.sort(byCodePoint))}`);

    if (badJson) continue;
    const parsed = hasJson ? parseModelJson(json, folder, problems, warnings) : undefined;
    if (hasJson && !parsed) continue;
    const id = parsed?.id ?? folder;
    const bad = invalidIdReason(id);
    if (bad) {
      problems.push(
        parsed?.id !== undefined
          ? `${folder}/model.json: the id "${id}" is not valid: ${bad}`
          : `the folder name "${folder}" is not a valid model id (${bad}); rename it or set "id" in its model.json`,
      );
      continue;
    }
    const meta = parsed?.meta ?? {};
    const missingFields = missingMetadataFields(meta);
    models.push({
      id,
      folder,
      dir,
      missingFields,
      files,
      meta: metadataDefaults(meta, id),
    });
  }

  const byId = new Map<string, string[]>();
  for (const m of models) byId.set(m.id, [...(byId.get(m.id) ?? []), m.folder]);
  for (const [id, fs] of byId) {
    if (fs.length > 1) problems.push(`duplicate model id "${id}" (folders ${fs.map((f) => `"${f}"`).join(', ')})`);
  }
  if (problems.length) throw new InputError(`invalid model folders in ${modelsDir}`, problems);
  models.sort((a, b) => byCodePoint(a.id, b.id));
  return { models, warnings };
}

/**
 * The models shard `index` of `count` builds: those at sorted positions ≡ index (mod count), so
 * that merging the shards in id order gives back the single build.
 */
export function selectShard(models: ModelFolder[], shard: Shard | undefined): ModelFolder[] {
  if (!shard) return models;
  const { index, count } = shard;
  const selected = models.filter((_, pos) => pos % count === index);
  if (selected.length === 0) throw new InputError(`shard ${index}/${count} holds no models (${models.length} model folder(s) in total)`);
  return selected;
}

/** A directory, or a symbolic link to one (zoos are often assembled from links). */
async function isDirectory(path: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

const STRING_FIELDS = ['id', 'name', 'description', 'family', 'creator', 'licence', 'resolution'] as const;

function parseModelJson(
  json: unknown,
  folder: string,
  problems: string[],
  warnings: string[],
): { id?: string; meta: Partial<ModelFolderMeta> } | undefined {
  const where = `${folder}/model.json`;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${where}: must be a JSON object`);
    return undefined;
  }
  const r = json as Record<string, unknown>;
  let ok = true;
  const meta: Partial<ModelFolderMeta> = {};
  let id: string | undefined;
  for (const key of STRING_FIELDS) {
    const v = r[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      problems.push(`${where}: "${key}" must be a string`);
      ok = false;
    } else if (key === 'id') {
      id = v;
    } else {
      meta[key] = v;
    }
  }
  if (r.links !== undefined && r.links !== null) {
    if (!Array.isArray(r.links)) {
      problems.push(`${where}: "links" must be a list of {"label", "url"}`);
      ok = false;
    } else {
      meta.links = safeLinks(r.links);
      const dropped = r.links.length - meta.links.length;
      if (dropped) warnings.push(`model folder "${folder}": dropped ${dropped} link(s) without an http(s) url`);
    }
  }
  const over = metadataOverLimit(r);
  if (over) {
    problems.push(`${where}: a ${over}; shorten it`);
    ok = false;
  }
  const unknown = Object.keys(r).filter((k) => !(STRING_FIELDS as readonly string[]).includes(k) && k !== 'links');
  if (unknown.length) warnings.push(`${where}: ignored unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return ok ? { id, meta } : undefined;
}
