import { AppError } from '../io/errors.ts';

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
  encoder: { id: string; dim: number; files?: Record<string, FileEntry> };
  count: number;
  licence: string;
  files: { 'index.bin': FileEntry; 'models.json': FileEntry };
  /** How the statistics were built (informational). */
  params?: BuildParams;
  /** Example text queries the app offers for this index (untrusted text). */
  examples?: string[];
  /** What "nothing matches" means for this index, measured at build time (scoring/matchQuality.ts). */
  calibration?: MatchCalibration;
}

/** The query kinds a build calibrates: text, photos, sketches. */
export const CALIBRATED_KINDS = ['text', 'image', 'sketch'] as const;
export type CalibratedKind = (typeof CALIBRATED_KINDS)[number];

/**
 * Measured by the builder from the index's own models and its encoder: content-free text embeddings
 * (the encoder's output for text with no usable words), and per query kind the best score that
 * queries without content reach (random vocabulary phrases, noise images) under the method Auto
 * uses for that kind. A query that does no better is "no match", not a confident ranking.
 */
export interface MatchCalibration {
  version: 1;
  /** Embeddings of content-free text ("" and the like), base64 little-endian float32, `dim` each. */
  nullText: string[];
  kinds: Partial<Record<CalibratedKind, KindCalibration>>;
}

export interface KindCalibration {
  /** The method the threshold was measured with (Auto's choice for this kind on this index). */
  method: string;
  /**
   * A best score (less nullWeight × the cosine to the content-free text, see matchStatistic) at or
   * below this is inside what content-free queries reach.
   */
  threshold: number;
  /** Text only: how much closeness to the content-free embedding counts against a query (0 when absent). */
  nullWeight?: number;
  /** Which quantile of the content-free queries' best scores the threshold is, and over how many. */
  quantile: number;
  nullQueries: number;
}

export interface BuildParams {
  /** Requested ε added to every covariance diagonal. */
  epsilon?: number;
  /** Storage of the precision factors. */
  precision?: 'f16' | 'f32';
  /** Sample embeddings kept per model (for Monte-Carlo / best-k), 0 if none. */
  samplesKept?: number;
  /** Storage of the kept samples. */
  samplesPrecision?: 'f16' | 'f32';
  /** Sample images embedded per model: min / mean / max. */
  samplesPerModel?: { min: number; mean: number; max: number };
  /** The structure of the fine-tuned projection, when one ships. */
  projection?: 'diagonal' | 'triangular' | 'full';
  /** Tiered indexes: the rank of the PPCA records of models with more images than dimensions (--ppca-rank). */
  ppcaRank?: number;
  /**
   * The temperature T (the encoder's logit scale) the index was built for: Monte-Carlo and
   * 1st+2nd moment use it. Absent in older indexes: then the encoder descriptor's value applies.
   */
  temperature?: number;
}

export interface ModelLink {
  label: string;
  url: string;
}

/** Untrusted metadata of one model, in index order. Render as text only. */
export interface ModelMeta {
  id: string;
  name: string;
  description: string;
  family: string;
  creator: string;
  licence: string;
  /** e.g. "512×512"; free text. */
  resolution: string;
  /** Only http(s) links survive parsing. */
  links: ModelLink[];
  /** Thumbnail paths relative to the index folder. */
  thumbnails: string[];
}

function bad(message: string): never {
  throw new AppError('index-format', `The index manifest is invalid: ${message}.`, 'manifest.json');
}

function badModelsIn(message: string, file = 'models.json'): never {
  throw new AppError('index-format', `The model list${file === 'models.json' ? '' : ` ${file}`} is invalid: ${message}.`, file);
}

function isFileEntry(v: unknown): v is FileEntry {
  const e = v as FileEntry;
  return (
    typeof e === 'object' && e !== null && Number.isSafeInteger(e.bytes) && e.bytes >= 0 &&
    typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256)
  );
}

/**
 * The manifest of a tiered (version 2) index (docs/index-format.md, "Version 2"): the same fields as
 * version 1, with head.bin and records.bin instead of index.bin and models.json. Metadata lives in
 * meta/<block>.json shards whose sizes and SHA-256 the head's MetaTable lists.
 */
export interface TieredManifest extends Omit<IndexManifest, 'files' | 'formatVersion'> {
  formatVersion: 2;
  /** codes.bin: only with a sign-coded head (its int8 means and proxy terms, fetched for the sign shortlist). */
  files: { 'head.bin': FileEntry; 'records.bin': FileEntry; 'codes.bin'?: FileEntry };
  tiered: {
    /** Models per block (the last block may hold fewer). */
    modelsPerBlock: number;
    /** Blocks of records.bin: ⌈count / modelsPerBlock⌉. */
    blocks: number;
    /** Whether blocks/<n>.bin (one file per block, for hosts without working Range requests) were written. */
    blockFiles: boolean;
  };
  /**
   * Where the thumbnail paths of ModelMeta resolve, relative to the index folder (e.g. "../demo/" for
   * an index that shares another index's thumbnails). Absent: the index folder itself.
   */
  thumbnailBase?: string;
}

/** What a manifest's formatVersion says it is: 1, 2 (tiered), or undefined when it is not a model-search manifest of a known version. */
export function manifestVersion(json: unknown): 1 | 2 | undefined {
  const m = json as Partial<IndexManifest> | null;
  if (typeof m !== 'object' || m === null || m.format !== MANIFEST_FORMAT) return undefined;
  return m.formatVersion === 1 || m.formatVersion === 2 ? m.formatVersion : undefined;
}

/** The fields versions 1 and 2 share; `files` and the version are each parser's own. */
function checkCommon(m: IndexManifest | TieredManifest): void {
  for (const key of ['name', 'createdWith', 'licence'] as const) {
    if (typeof m[key] !== 'string') bad(`${key} must be a string`);
  }
  if (typeof m.encoder?.id !== 'string' || !Number.isInteger(m.encoder?.dim) || m.encoder.dim < 1) bad('encoder id/dim missing');
  if (!Number.isInteger(m.count) || m.count < 1) bad('model count missing');
}

/** The fields after `files`, shared by both versions. */
function checkRest(m: IndexManifest | TieredManifest): void {
  if (m.examples !== undefined && !(Array.isArray(m.examples) && m.examples.every((e) => typeof e === 'string'))) {
    bad('examples must be a list of strings');
  }
  if (m.calibration !== undefined) checkCalibration(m.calibration, m.encoder.dim);
  const t = m.params?.temperature;
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= 1e4)) {
    bad('params.temperature must be a positive number (at most 10 000)');
  }
}

export function parseManifest(json: unknown): IndexManifest {
  const m = json as IndexManifest;
  if (typeof m !== 'object' || m === null) bad('not a JSON object');
  if (m.format !== MANIFEST_FORMAT) bad(`format is "${String(m.format)}", expected "${MANIFEST_FORMAT}"`);
  if (m.formatVersion === 2) bad('this is a tiered (version 2) index (head.bin + records.bin), not a version 1 index; open it with the tiered reader');
  if (m.formatVersion !== 1) bad(`format version ${String(m.formatVersion)} is not supported`);
  checkCommon(m);
  if (!isFileEntry(m.files?.['index.bin']) || !isFileEntry(m.files?.['models.json'])) bad('file sizes/checksums missing');
  checkRest(m);
  return { ...m, examples: m.examples ? exampleQueries(m.examples) : undefined };
}

/** A relative folder such as "../demo/" or "shared/thumbs/": no scheme, no leading "/", ".." only as leading steps. */
const THUMBNAIL_BASE = /^(\.\.\/){0,8}([A-Za-z0-9_][\w.-]*\/){0,8}$/;

/** Parses and checks a version 2 (tiered) manifest; a version 1 manifest is named as such. */
export function parseTieredManifest(json: unknown): TieredManifest {
  const m = json as TieredManifest;
  if (typeof m !== 'object' || m === null) bad('not a JSON object');
  if (m.format !== MANIFEST_FORMAT) bad(`format is "${String(m.format)}", expected "${MANIFEST_FORMAT}"`);
  if ((m.formatVersion as number) === 1) bad('this is a version 1 index (index.bin + models.json), not a tiered index');
  if (m.formatVersion !== 2) bad(`format version ${String(m.formatVersion)} is not a tiered index (expected 2)`);
  checkCommon(m);
  if (!isFileEntry(m.files?.['head.bin']) || !isFileEntry(m.files?.['records.bin'])) bad('file sizes/checksums of head.bin and records.bin missing');
  if (m.files['codes.bin'] !== undefined && !isFileEntry(m.files['codes.bin'])) bad('the size/checksum of codes.bin is malformed');
  const t = m.tiered;
  if (typeof t !== 'object' || t === null) bad('the tiered section is missing');
  if (!Number.isInteger(t.modelsPerBlock) || t.modelsPerBlock < 1 || t.modelsPerBlock > 1_000_000) bad(`tiered.modelsPerBlock must be a positive integer, not ${String(t.modelsPerBlock)}`);
  const blocks = Math.ceil(m.count / t.modelsPerBlock);
  if (t.blocks !== blocks) bad(`tiered.blocks is ${String(t.blocks)}; ${m.count} models at ${t.modelsPerBlock} a block make ${blocks}`);
  if (typeof t.blockFiles !== 'boolean') bad('tiered.blockFiles must be true or false');
  if (m.thumbnailBase !== undefined && !(typeof m.thumbnailBase === 'string' && THUMBNAIL_BASE.test(m.thumbnailBase))) {
    bad('thumbnailBase must be a relative folder ending in "/" (such as "../demo/"), without a scheme or a leading "/"');
  }
  checkRest(m);
  return { ...m, examples: m.examples ? exampleQueries(m.examples) : undefined };
}

/** The folder thumbnail paths of ModelMeta resolve against: the index folder, or the manifest's thumbnailBase there. */
export function thumbnailFolderUrl(indexUrl: string, thumbnailBase?: string): string {
  const base = new URL(indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`).href;
  return thumbnailBase ? new URL(thumbnailBase, base).href : base;
}

/** The URL of a thumbnail path of ModelMeta (see thumbnailFolderUrl). */
export function thumbnailUrl(indexUrl: string, path: string, thumbnailBase?: string): string {
  return new URL(path, thumbnailFolderUrl(indexUrl, thumbnailBase)).href;
}

function checkCalibration(c: MatchCalibration, dim: number): void {
  if (typeof c !== 'object' || c === null || c.version !== 1) bad('calibration must be an object with version 1');
  const b64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (!Array.isArray(c.nullText) || c.nullText.length > 64 || !c.nullText.every((v) => typeof v === 'string' && b64.test(v) && v.length === 4 * Math.ceil((dim * 4) / 3))) {
    bad(`calibration.nullText must be at most 64 base64 float32 vectors of ${dim} values`);
  }
  if (typeof c.kinds !== 'object' || c.kinds === null) bad('calibration.kinds must be an object');
  for (const [kind, k] of Object.entries(c.kinds)) {
    if (!(CALIBRATED_KINDS as readonly string[]).includes(kind)) bad(`calibration.kinds has an unknown kind "${kind}"`);
    const ok = typeof k === 'object' && k !== null && typeof k.method === 'string' && Number.isFinite(k.threshold) &&
      Number.isFinite(k.quantile) && k.quantile >= 0 && k.quantile <= 1 && Number.isInteger(k.nullQueries) && k.nullQueries > 0 &&
      (k.nullWeight === undefined || (Number.isFinite(k.nullWeight) && k.nullWeight >= 0 && k.nullWeight <= 1));
    if (!ok) bad(`calibration.kinds.${kind} needs a method, a finite threshold, a quantile in [0, 1], a query count and at most a nullWeight in [0, 1]`);
  }
}

/** At most 8 short, non-empty, distinct example queries. */
function exampleQueries(values: string[]): string[] {
  const seen = new Set<string>();
  for (const v of values) {
    const text = v.replace(/\s+/g, ' ').trim().slice(0, 80);
    if (text) seen.add(text);
    if (seen.size === 8) break;
  }
  return [...seen];
}

/**
 * Longest text per metadata field, in UTF-16 units, and the most links and thumbnails per model: the
 * builder refuses longer ones (tools/lib/indexBuilder/scan.ts) and the app refuses an index that has
 * them, so a model.json with a 10 MB description never reaches a page.
 */
export const METADATA_LIMITS = {
  id: 200,
  name: 300,
  description: 5000,
  family: 100,
  creator: 200,
  licence: 100,
  resolution: 50,
  links: 20,
  linkLabel: 200,
  linkUrl: 2000,
  thumbnails: 100,
} as const;

/** The first field of `meta` over its limit, as words ("description of 10485760 characters (limit 5000)"), or ''. */
export function metadataOverLimit(meta: object): string {
  const fields = meta as Partial<Record<string, unknown>>;
  for (const key of ['id', 'name', 'description', 'family', 'creator', 'licence', 'resolution'] as const) {
    const v = fields[key];
    if (typeof v === 'string' && v.length > METADATA_LIMITS[key]) return `${key} of ${v.length} characters (limit ${METADATA_LIMITS[key]})`;
  }
  const links = fields.links;
  if (Array.isArray(links)) {
    if (links.length > METADATA_LIMITS.links) return `${links.length} links (limit ${METADATA_LIMITS.links})`;
    for (const l of links as { label?: unknown; url?: unknown }[]) {
      if (typeof l?.url === 'string' && l.url.length > METADATA_LIMITS.linkUrl) return `a link of ${l.url.length} characters (limit ${METADATA_LIMITS.linkUrl})`;
      if (typeof l?.label === 'string' && l.label.length > METADATA_LIMITS.linkLabel) return `a link label of ${l.label.length} characters (limit ${METADATA_LIMITS.linkLabel})`;
    }
  }
  const thumbs = fields.thumbnails;
  if (Array.isArray(thumbs) && thumbs.length > METADATA_LIMITS.thumbnails) return `${thumbs.length} thumbnails (limit ${METADATA_LIMITS.thumbnails})`;
  return '';
}

/**
 * The metadata of a block of a tiered index (meta/<n>.json): the same entries and checks as
 * models.json (parseModels), `expectedCount` of them (the block's models); ids are unique within
 * the shard. `file` names it in messages.
 */
export function parseModelMetaList(json: unknown, expectedCount: number, file = 'meta shard'): ModelMeta[] {
  return parseModels(json, expectedCount, file);
}

export function parseModels(json: unknown, count: number, file = 'models.json'): ModelMeta[] {
  function badModels(message: string): never {
    badModelsIn(message, file);
  }
  if (!Array.isArray(json)) badModels(`${file} is not a list`);
  if (json.length !== count) badModels(`${file} lists ${json.length} models, ${file === 'models.json' ? 'the index has' : 'its block has'} ${count}`);
  // Ids name models in links ("more like this", ?like=): each must be present and unique.
  const seen = new Map<string, number>();
  return json.map((raw, i) => {
    const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const text = (k: string, fallback: string) => (typeof r[k] === 'string' ? (r[k] as string) : fallback);
    // A missing id falls back to the position; an empty one is a mistake worth naming.
    const id = text('id', `model-${i}`);
    if (!id.trim()) badModels(`model ${i + 1} has an empty id`);
    const first = seen.get(id);
    if (first !== undefined) badModels(`models ${first + 1} and ${i + 1} share the id "${id.slice(0, 80)}"`);
    seen.set(id, i);
    const over = metadataOverLimit(r);
    if (over) badModels(`model ${i + 1} ("${id.slice(0, 80)}") has a ${over}`);
    return {
      id,
      name: text('name', `Model ${i + 1}`),
      description: text('description', ''),
      family: text('family', ''),
      creator: text('creator', ''),
      licence: text('licence', ''),
      resolution: text('resolution', ''),
      links: safeLinks(r.links),
      thumbnails: safeThumbnails(r.thumbnails),
    };
  });
}

/** Keeps only links whose URL parses as http(s); anything else (javascript:, data:, junk) is dropped. */
export function safeLinks(value: unknown): ModelLink[] {
  if (!Array.isArray(value)) return [];
  const out: ModelLink[] = [];
  for (const v of value) {
    const l = v as Partial<ModelLink> | null;
    if (typeof l?.url !== 'string') continue;
    let url: URL;
    try {
      url = new URL(l.url);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    out.push({ label: typeof l.label === 'string' && l.label ? l.label : url.hostname, url: url.href });
  }
  return out;
}

/** Thumbnails must be plain relative paths inside the index folder (no scheme, no '..', no leading '/'). */
function safeThumbnails(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p): p is string =>
      typeof p === 'string' && /^[\w][\w./-]*$/.test(p) && !p.split('/').includes('..') && p.length < 300,
  );
}
