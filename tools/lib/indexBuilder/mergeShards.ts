/**
 * `build-index merge --out <dir> <shard>...`: joins shard indexes (built with --shard i/n, or any
 * indexes built with the same settings; folders, or .tar archives of them: shardArchive.ts) into one. Each shard is verified like the browser
 * verifies an index (sizes, SHA-256, readIndex validation), the settings must agree, ids must be
 * unique, and the models are concatenated in sorted id order — the order a single build uses —
 * so shard-then-merge reproduces a single build's index.bin and models.json.
 */
import { ENCODERS } from '../../../src/core/encode/encoders.ts';
import { NodeEncoder } from '../nodeEncoder.ts';
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { FloatData, SearchIndex } from '../../../src/core/index/indexFormat.ts';
import { fromHalfArray, packedSize } from '../../../src/core/math/linalg.ts';
import type { BuildParams, IndexManifest, ModelMeta } from '../../../src/core/index/manifest.ts';
import { openLocalIndex } from '../localIndex.ts';
import { writeAssembledIndex } from './assemble.ts';
import { InputError } from './errors.ts';
import type { FinalisedModel } from './finalise.ts';
import { checkOutputDir, defaultIndexName } from './output.ts';
import { completeReport, emptyReport, type BuildReport } from './report.ts';
import { byCodePoint } from './scan.ts';
import { withShardFolders } from './shardArchive.ts';

export interface MergeOptions {
  outDir: string;
  shardDirs: string[];
  force?: boolean;
  name?: string;
  /** Overrides the shards' data licence (required when they disagree). */
  licence?: string;
  /** The shards' encoder, loaded (tests); otherwise loaded from its descriptor to calibrate the merged index. */
  encoder?: NodeEncoder;
}

interface Shard {
  dir: string;
  manifest: IndexManifest;
  index: SearchIndex;
  models: ModelMeta[];
}

/** A shard is an index folder: opened with the same checks as any index (openIndex). */
async function readShard(dir: string): Promise<Shard> {
  try {
    const { manifest, index, models } = await openLocalIndex(dir);
    return { dir, manifest, index, models };
  } catch (err) {
    const message = (err as Error).message;
    const hint = /tiered \(version 2\) index/.test(message) ? ' (merge tiered shards with --format tiered)' : '';
    throw new InputError(`shard ${dir}: ${message}${hint}`);
  }
}

const toF32 = (d: FloatData): Float32Array => (d.dtype === 'f16' ? fromHalfArray(d.data) : d.data);

function sameArray(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The thumbnails of a shard's model, read from the shard folder (paths may not leave it). Shared with tieredMerge.ts. */
export async function readThumbnails(shard: { dir: string }, meta: ModelMeta): Promise<Uint8Array[]> {
  const thumbs: Uint8Array[] = [];
  for (const thumb of meta.thumbnails) {
    const src = resolve(shard.dir, thumb);
    if (!src.startsWith(resolve(shard.dir) + sep)) throw new InputError(`shard ${shard.dir}: thumbnail path ${thumb} leaves the folder`);
    try {
      thumbs.push(new Uint8Array(await readFile(src)));
    } catch (err) {
      throw new InputError(`shard ${shard.dir}: thumbnail ${thumb} of "${meta.id}" is missing (${(err as Error).message})`);
    }
  }
  return thumbs;
}

/**
 * Valid images per model over all shards (each shard's params and model count): min and max of
 * theirs, and the mean from the totals, recovered exactly (each shard's mean is a whole total over
 * its model count). Undefined when a shard does not record its own. Shared with tieredMerge.ts.
 */
export function mergedSamplesPerModel(shards: readonly { params?: BuildParams; count: number }[], count: number): BuildParams['samplesPerModel'] {
  const spms = shards.map((s) => s.params?.samplesPerModel);
  if (!spms.every((x) => x !== undefined)) return undefined;
  const total = shards.reduce((a, s, i) => a + Math.round(spms[i]!.mean * s.count), 0);
  return { min: Math.min(...spms.map((x) => x!.min)), mean: total / count, max: Math.max(...spms.map((x) => x!.max)) };
}

/** Refuses an empty list of shard folders and a folder given twice. Shared with tieredMerge.ts. */
export function checkShardDirs(shardDirs: readonly string[]): void {
  if (shardDirs.length === 0) throw new InputError('merge needs at least one shard folder');
  const dupDirs = shardDirs.filter((d, i) => shardDirs.findIndex((e) => resolve(e) === resolve(d)) !== i);
  if (dupDirs.length) throw new InputError(`shard folder(s) given twice: ${dupDirs.join(', ')}`);
}

/**
 * Throws when the shards' settings disagree: `describe` gives each shard's settings as strings,
 * compared with the first shard's; `extra` may add one more mismatch per later shard (after its
 * settings'). Shared with tieredMerge.ts.
 */
export function checkSameSettings<S extends { dir: string }>(
  shards: readonly S[],
  describe: (s: S) => Record<string, string>,
  extra?: (first: S, s: S) => string | undefined,
): void {
  const first = shards[0]!;
  const ref = describe(first);
  const mismatches: string[] = [];
  for (const s of shards.slice(1)) {
    const d = describe(s);
    for (const key of Object.keys(ref)) {
      if (d[key] !== ref[key]) mismatches.push(`${key}: ${first.dir} has ${ref[key]}, ${s.dir} has ${d[key]}`);
    }
    const more = extra?.(first, s);
    if (more !== undefined) mismatches.push(more);
  }
  if (mismatches.length) throw new InputError('the shards were built with different settings', mismatches);
}

/** The merged index's data licence: `given`, else the shards' one (they must agree). Shared with tieredMerge.ts. */
export function mergedLicence(shards: readonly { manifest: { licence: string } }[], given: string | undefined): string {
  if (given !== undefined) return given;
  const licences = [...new Set(shards.map((s) => s.manifest.licence))];
  if (licences.length > 1) throw new InputError(`the shards have different data licences (${licences.map((l) => JSON.stringify(l)).join(', ')}); pass --licence`);
  return licences[0]!;
}

/**
 * Every shard's models (`metas(s)`) as { shard index, model index, meta } in the merged order (by
 * id, code point); an id in two shards is refused. Shared with tieredMerge.ts.
 */
export function mergedOrder<S extends { dir: string }>(shards: readonly S[], metas: (s: S) => readonly ModelMeta[]): { si: number; m: number; meta: ModelMeta }[] {
  const entries = shards.flatMap((s, si) => metas(s).map((meta, m) => ({ si, m, meta })));
  const owners = new Map<string, string[]>();
  for (const e of entries) owners.set(e.meta.id, [...(owners.get(e.meta.id) ?? []), shards[e.si]!.dir]);
  const dups = [...owners].filter(([, dirs]) => dirs.length > 1).map(([id, dirs]) => `"${id}" in ${dirs.join(', ')}`);
  if (dups.length) throw new InputError('duplicate model ids across the shards', dups);
  entries.sort((a, b) => byCodePoint(a.meta.id, b.meta.id));
  return entries;
}

/**
 * A merge's frame, shared with tieredMerge.ts: its report, the checks on the shard list and the
 * output, then `merge` over the shards as folders (a .tar shard — such as the app's export of your
 * models — is extracted beside the output for the merge and removed after: shardArchive.ts).
 */
export function runMerge(
  opts: { outDir: string; shardDirs: string[]; force?: boolean; name?: string },
  merge: (shardDirs: string[], name: string, report: BuildReport) => Promise<void>,
): Promise<BuildReport> {
  const name = opts.name ?? defaultIndexName(opts.outDir);
  const report = emptyReport('merge', opts.outDir, name, { id: '', dim: 0 });
  report.shards = opts.shardDirs;
  return completeReport(report, async () => {
    checkShardDirs(opts.shardDirs);
    await checkOutputDir(opts.outDir, !!opts.force, opts.shardDirs);
    await withShardFolders(opts.outDir, opts.shardDirs, (sources) => merge(sources.map((s) => s.dir), name, report));
  });
}

export function mergeShards(opts: MergeOptions): Promise<BuildReport> {
  return runMerge(opts, (shardDirs, name, report) => mergeFolders(shardDirs, name, opts, report));
}

/** The merge proper, from shard folders. */
async function mergeFolders(shardDirs: string[], name: string, opts: MergeOptions, report: BuildReport): Promise<void> {
  const shards: Shard[] = [];
  for (const dir of shardDirs) shards.push(await readShard(dir));

  // --- the settings must agree ---
  const first = shards[0];
  const describe = (s: Shard) => {
    const p: BuildParams = s.manifest.params ?? {};
    return {
      encoder: `${s.manifest.encoder.id} (${s.manifest.encoder.dim}-d)`,
      precision: s.index.gaussian ? s.index.gaussian.precision.dtype : 'none',
      epsilon: String(p.epsilon ?? 'unknown'),
      temperature: String(p.temperature ?? 'unknown'),
      samples: s.index.samples ? `${s.index.samples.data.dtype}, ${p.samplesKept ?? '?'} kept` : 'none',
      projection: s.index.projection ? (p.projection ?? 'unknown') : 'none',
    };
  };
  checkSameSettings(shards, describe, (a, s) =>
    a.index.projection && s.index.projection && !sameArray(a.index.projection.matrix, s.index.projection.matrix)
      ? `projection: ${a.dir} and ${s.dir} ship different matrices`
      : undefined,
  );
  const { id: encoderId, dim } = first.manifest.encoder;
  report.encoder = { id: encoderId, dim };

  const licence = mergedLicence(shards, opts.licence);

  // --- unique ids, sorted order ---
  const entries = mergedOrder(shards, (s) => s.models);

  // --- the shards' models, as finalised models in the merged order ---
  const precision = first.index.gaussian?.precision.dtype;
  const samplesPrecision = first.index.samples?.data.dtype;
  const perShard = await Promise.all(shards.map((s) => shardModels(s)));
  const models: FinalisedModel[] = [];
  for (const { si, m, meta } of entries) {
    const model = perShard[si][m];
    models.push(model);
    report.models.push({
      id: meta.id,
      images: 0,
      embedded: 0,
      fromCache: 0,
      skipped: 0,
      epsilon: model.gaussian?.epsilon ?? 0,
      jitterSteps: 0,
      samplesKept: model.samples ? model.samples.length / dim : 0,
      thumbnails: meta.thumbnails.length,
    });
  }

  // The settings are the shards' (checked equal above); the images per model are recovered.
  const p0: BuildParams = first.manifest.params ?? {};
  await writeAssembledIndex(
    opts.outDir,
    models,
    {
      name,
      licence,
      encoder: { id: encoderId, dim },
      epsilon: p0.epsilon,
      precision,
      samplesKept: p0.samplesKept,
      samplesPrecision,
      samplesPerModel: mergedSamplesPerModel(shards.map((s) => ({ params: s.manifest.params, count: s.index.count })), models.length),
      projection: first.index.projection ? { structure: p0.projection, matrix: first.index.projection.matrix } : undefined,
      temperature: p0.temperature,
    },
    // The merged index has other models than any shard: its calibration is measured again.
    { force: opts.force, encoder: opts.encoder ?? (await loadMergeEncoder(encoderId)) },
  );
}

/**
 * An opened index folder's models as finalised models, in its order (sections decoded to f32,
 * thumbnails read from the folder): what merge assembles again. Also how a test drops a model
 * from an index (test/support/heldOutIndex.ts).
 */
export async function shardModels(shard: { dir: string; index: SearchIndex; models: ModelMeta[] }): Promise<FinalisedModel[]> {
  const { index: s, models: metas } = shard;
  const { dim, gaussian, samples } = s;
  const packed = packedSize(dim);
  const precision = gaussian ? toF32(gaussian.precision) : undefined;
  const sampleData = samples ? toF32(samples.data) : undefined;
  const models: FinalisedModel[] = [];
  for (const [m, meta] of metas.entries()) {
    models.push({
      meta,
      mean: s.means.subarray(m * dim, (m + 1) * dim),
      ...(gaussian ? { gaussian: { precision: precision!.subarray(m * packed, (m + 1) * packed), epsilon: gaussian.epsilon[m] } } : {}),
      ...(samples ? { samples: sampleData!.subarray(samples.offsets[m] * dim, samples.offsets[m + 1] * dim) } : {}),
      thumbs: await readThumbnails(shard, meta),
    });
  }
  return models;
}

/** The shards' encoder, loaded to calibrate the merged index. Shared with tieredMerge.ts. */
export async function loadMergeEncoder(id: string): Promise<NodeEncoder> {
  const desc = ENCODERS[id];
  if (!desc) throw new InputError(`the shards were built with an unknown encoder "${id}"`);
  try {
    return await NodeEncoder.load(desc);
  } catch (err) {
    throw new InputError(`cannot load the encoder ${id} to calibrate the merged index: ${(err as Error).message}`);
  }
}
