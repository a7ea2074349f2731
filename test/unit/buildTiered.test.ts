/**
 * The tiered (version 2) index builder: `--format tiered` builds and `merge --format tiered`, with
 * the test encoder on tiny model folders. The index is read back with the readers the app uses
 * (parseTieredManifest, readTieredHead, openBlock, parseModelMetaList); the records' densities are
 * checked against version 1's full-triangle Gaussian of the same models; shard + merge against a
 * single build, byte for byte; and the refusals.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { blockOrder } from '../../src/core/index/blockOrder.ts';
import { lowRankLogDensity } from '../../src/core/index/lowRankGaussian.ts';
import { parseModelMetaList, parseTieredManifest, type TieredManifest } from '../../src/core/index/manifest.ts';
import { readTieredHead, type TieredHead } from '../../src/core/index/tieredHead.ts';
import { openBlock, RecordKind, type TieredRecord } from '../../src/core/index/tieredRecords.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { fromHalfArray } from '../../src/core/math/linalg.ts';
import { gaussianScores } from '../../src/core/scoring/methods.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { runCli } from '../../tools/lib/indexBuilder/cli.ts';
import { InputError } from '../../tools/lib/indexBuilder/errors.ts';
import { mergeShards } from '../../tools/lib/indexBuilder/mergeShards.ts';
import { mergeTieredShards } from '../../tools/lib/indexBuilder/tieredMerge.ts';
import { tieredCalibrationMethod } from '../../tools/lib/indexBuilder/tieredCalibrate.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { readIndexDir, tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';

const DIM = TEST_ENCODER.dim;
let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
let caseNo = 0;

beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('build-tiered-test-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

async function caseDir(): Promise<string> {
  const dir = join(tmp.path, `case${caseNo++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function build(opts: Partial<BuildOptions> & Pick<BuildOptions, 'modelsDir' | 'outDir'>) {
  return buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, ...opts }, { encoder });
}

const merge = (opts: Omit<Parameters<typeof mergeTieredShards>[0], 'encoder'>) => mergeTieredShards({ ...opts, encoder });

const RED: ModelSpec = { folder: 'red', colour: [220, 30, 30], images: 6, seed: 1, modelJson: { name: 'Red model', creator: 'tests', links: [{ label: 'home', url: 'https://example.com/red' }] } };
const GREEN: ModelSpec = { folder: 'green', colour: [30, 170, 40], images: 5, seed: 2 };
const BLUE: ModelSpec = { folder: 'blue', colour: [20, 40, 220], images: 4, seed: 3 };
const YELLOW: ModelSpec = { folder: 'yellow', colour: [230, 220, 30], images: 3, seed: 4 };
/** More images than the test encoder's 32 dimensions: a PPCA record (or exact, when the rank covers every direction). */
const MANY: ModelSpec = { folder: 'many', colour: [120, 60, 200], images: 40, seed: 5 };

interface ReadBack {
  manifest: TieredManifest;
  head: TieredHead;
  records: Map<number, TieredRecord>;
  meta: ReturnType<typeof parseModelMetaList>;
  files: Map<string, Buffer>;
}

/** Every file of a folder, by relative path. */
async function allFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(dir, path), await readFile(path));
  }
  return out;
}

/** Reads a tiered index folder with the app's readers, checking every hash on the way. */
async function readTiered(dir: string): Promise<ReadBack> {
  const files = await allFiles(dir);
  const manifest = parseTieredManifest(JSON.parse(files.get('manifest.json')!.toString('utf8')));
  const headBytes = new Uint8Array(files.get('head.bin')!);
  const recordsBytes = new Uint8Array(files.get('records.bin')!);
  expect(manifest.files['head.bin']).toEqual({ bytes: headBytes.byteLength, sha256: await sha256Hex(headBytes) });
  expect(manifest.files['records.bin']).toEqual({ bytes: recordsBytes.byteLength, sha256: await sha256Hex(recordsBytes) });
  const head = readTieredHead(headBytes);
  expect(head.count).toBe(manifest.count);
  expect(head.blocks.length).toBe(manifest.tiered.blocks);
  expect(head.recordsBytes).toBe(recordsBytes.byteLength);
  const records = new Map<number, TieredRecord>();
  const meta: ReadBack['meta'] = [];
  for (const [b, e] of head.blocks.entries()) {
    const block = recordsBytes.subarray(e.offset, e.offset + e.bytes);
    for (const [m, r] of await openBlock(block, e, head.directory, head.dim, b)) records.set(m, r);
    if (manifest.tiered.blockFiles) expect(Buffer.compare(files.get(join('blocks', `${b}.bin`))!, Buffer.from(block))).toBe(0);
    else expect(files.has(join('blocks', `${b}.bin`))).toBe(false);
    // Each metadata shard matches its MetaTable entry and parses as the block's models.
    const shard = files.get(join('meta', `${b}.json`))!;
    expect(head.meta![b]).toEqual({ bytes: shard.byteLength, sha256: await sha256Hex(new Uint8Array(shard)) });
    meta.push(...parseModelMetaList(JSON.parse(shard.toString('utf8')), e.models, `meta/${b}.json`));
  }
  return { manifest, head, records, meta, files };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('tiered build', () => {
  let dir: string;
  let models: string;

  beforeAll(async () => {
    dir = await caseDir();
    models = join(dir, 'models');
    await writeModels(models, [RED, GREEN, BLUE, YELLOW, MANY]);
  });

  it('writes a version 2 folder the readers accept: manifest, head, blocks, block files, meta shards, thumbnails, calibration', async () => {
    const out = join(dir, 'tiered');
    const report = await build({ modelsDir: models, outDir: out, format: 'tiered', modelsPerBlock: 2, blockFiles: true, ppcaRank: 4, thumbnails: 2, name: 'tiny', examples: ['red'] });
    expect(report.ok).toBe(true);
    const t = await readTiered(out);
    expect(t.manifest).toMatchObject({
      formatVersion: 2,
      name: 'tiny',
      createdWith: 'tools/build-index.ts',
      encoder: { id: TEST_ENCODER.id, dim: DIM },
      count: 5,
      licence: 'unspecified',
      tiered: { modelsPerBlock: 2, blocks: 3, blockFiles: true },
      params: { epsilon: 1e-3, precision: 'f16', ppcaRank: 4, samplesPerModel: { min: 3, mean: 58 / 5, max: 40 }, temperature: TEST_ENCODER.logitScale },
      examples: ['red'],
    });
    expect(Object.keys(t.manifest)).toEqual(['format', 'formatVersion', 'name', 'createdWith', 'encoder', 'count', 'licence', 'files', 'tiered', 'params', 'examples', 'calibration']);
    // Calibrated over all records, each kind with the method Auto picks for it on a tiered index.
    expect(t.manifest.calibration!.kinds.text!.method).toBe(tieredCalibrationMethod('text')); // Auto's choice on a tiered index: the 1st moment
    expect(tieredCalibrationMethod('text')).toBe('first-moment');
    expect(t.manifest.calibration!.kinds.image!.method).toBe('gaussian');
    expect(Number.isFinite(t.manifest.calibration!.kinds.image!.threshold)).toBe(true);
    // The clustered storage order (blockOrder of the models sorted by id, from the stored means); metadata as version 1 writes it; thumbnails under thumbs/.
    const sortedIds = ['blue', 'green', 'many', 'red', 'yellow'];
    const ids = t.meta.map((m) => m.id);
    expect([...ids].sort()).toEqual(sortedIds);
    const idMeans = new Float32Array(5 * DIM);
    sortedIds.forEach((id, i) => idMeans.set(t.records.get(ids.indexOf(id))!.mean, i * DIM));
    expect(ids).toEqual(Array.from(blockOrder(idMeans, DIM, { modelsPerBlock: 2 }).order, (i) => sortedIds[i]));
    expect(t.meta[ids.indexOf('red')]).toMatchObject({ name: 'Red model', creator: 'tests', links: [{ label: 'home', url: 'https://example.com/red' }], thumbnails: ['thumbs/red/0.webp', 'thumbs/red/1.webp'] });
    for (const m of t.meta) for (const th of m.thumbnails) expect(t.files.has(th)).toBe(true);
    // The record kind the builder chose: exact low-rank (rank n − 1) for n ≤ d, PPCA at --ppca-rank for n > d.
    const imagesOf: Record<string, number> = { blue: 4, green: 5, many: 40, red: 6, yellow: 3 };
    const images = ids.map((id) => imagesOf[id]!);
    for (const [m, r] of t.records) {
      if (images[m]! <= DIM) {
        expect(r.kind, t.meta[m]!.id).toBe(RecordKind.ExactLowRank);
        expect(r.rank).toBeLessThanOrEqual(images[m]! - 1);
      } else {
        expect(r.kind).toBe(RecordKind.Ppca);
        expect(r.rank).toBe(4);
      }
    }
    expect(report.models.map((m) => [m.id, m.record, m.rank])).toEqual(sortedIds.map((id) => [id, t.records.get(ids.indexOf(id))!.kind === 1 ? 'exact' : 'ppca', t.records.get(ids.indexOf(id))!.rank]));
    // The head's prefilter terms are the records'.
    for (const [m, r] of t.records) expect(t.head.proxy!.logDet[m]).toBe(r.logDet);
  });

  it('its exact records give version 1\'s full-triangle Gaussian density to ≤ 1e-4 relative (f32; f16 measured)', async () => {
    const v1 = join(dir, 'v1');
    const f32 = join(dir, 'tiered-f32');
    const f16 = join(dir, 'tiered-f16');
    // --ppca-rank ≥ d keeps every direction of the 40-image model: exact too, so all five compare.
    await build({ modelsDir: models, outDir: v1, precision: 'f32', thumbnails: 0 });
    await build({ modelsDir: models, outDir: f32, format: 'tiered', precision: 'f32', modelsPerBlock: 3, ppcaRank: 64, thumbnails: 0 });
    await build({ modelsDir: models, outDir: f16, format: 'tiered', precision: 'f16', modelsPerBlock: 3, thumbnails: 0 });
    const a = await readIndexDir(v1);
    const b32 = await readTiered(f32);
    const b16 = await readTiered(f16);
    expect(a.index.gaussian!.epsilon.every((e) => e === Math.fround(1e-3))).toBe(true); // no ε raised: same Σ̂ + εI on both sides
    // Queries: every kept sample of every model (each model's own and the others'), and their mean directions.
    const samples = a.index.samples!.data;
    const flat = samples.dtype === 'f16' ? fromHalfArray(samples.data) : samples.data;
    const queries = Array.from({ length: flat.length / DIM }, (_, i) => flat.slice(i * DIM, (i + 1) * DIM));
    let worst32 = 0;
    let worst16 = 0;
    for (const q of queries) {
      const full = gaussianScores(a.index, q);
      for (let m = 0; m < 5; m++) {
        expect(b32.records.get(m)!.kind).toBe(RecordKind.ExactLowRank);
        worst32 = Math.max(worst32, rel(lowRankLogDensity(b32.records.get(m)!, q), full[m]!));
        worst16 = Math.max(worst16, rel(lowRankLogDensity(b16.records.get(m)!, q), full[m]!));
      }
    }
    expect(worst32).toBeLessThan(1e-4);
    // f16 rounds the basis (the version 1 triangle here is f32); the log-determinant follows the rounded rows.
    expect(worst16).toBeLessThan(1e-4);
    console.log(`tiered vs v1 full-triangle GD, ${queries.length} queries × 5 models: worst relative difference ${worst32.toExponential(2)} (f32 basis), ${worst16.toExponential(2)} (f16 basis)`);
  });

  it('shard 0/2 + shard 1/2 merged (and re-blocked) equals a single build, every file byte for byte', async () => {
    const opts = { modelsDir: models, format: 'tiered' as const, modelsPerBlock: 2, blockFiles: true, ppcaRank: 4, thumbnails: 1, name: 'zoo', examples: ['red', 'blue'] };
    const single = join(dir, 'single');
    await build({ ...opts, outDir: single });
    // Shards with another block size: the merge re-blocks to --models-per-block.
    const s0 = await build({ ...opts, modelsPerBlock: 1, outDir: join(dir, 's0'), shard: { index: 0, count: 2 } });
    const s1 = await build({ ...opts, modelsPerBlock: 1, outDir: join(dir, 's1'), shard: { index: 1, count: 2 } });
    expect(s0.models.map((m) => m.id)).toEqual(['blue', 'many', 'yellow']);
    expect(s1.models.map((m) => m.id)).toEqual(['green', 'red']);
    await readTiered(join(dir, 's0')); // each shard is a valid index on its own
    const merged = join(dir, 'merged');
    const report = await merge({ outDir: merged, shardDirs: [join(dir, 's1'), join(dir, 's0')], name: 'zoo', modelsPerBlock: 2 });
    expect(report.ok).toBe(true);
    const a = await allFiles(single);
    const b = await allFiles(merged);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [path, bytes] of a) expect(Buffer.compare(b.get(path)!, bytes), path).toBe(0);
    expect(report.models.map((m) => m.id)).toEqual(['blue', 'green', 'many', 'red', 'yellow']);
  });

  it('sign-coded: shards merged (sign-coded, or one int8 and one sign-coded with --prefilter sign) equal a single sign-coded build, every file byte for byte', async () => {
    const opts = { modelsDir: models, format: 'tiered' as const, modelsPerBlock: 2, blockFiles: true, ppcaRank: 4, thumbnails: 1, name: 'zoo', examples: ['red', 'blue'], prefilter: 'sign' as const };
    const single = join(dir, 'sign-single');
    await build({ ...opts, outDir: single });
    await build({ ...opts, modelsPerBlock: 1, outDir: join(dir, 'sign-s0'), shard: { index: 0, count: 2 } });
    await build({ ...opts, modelsPerBlock: 1, outDir: join(dir, 'sign-s1'), shard: { index: 1, count: 2 } });
    await build({ ...opts, modelsPerBlock: 1, prefilter: 'int8', outDir: join(dir, 'int8-s1'), shard: { index: 1, count: 2 } });
    const a = await allFiles(single);
    expect(a.has('codes.bin') && a.has(join('codes', '0.bin'))).toBe(true);
    expect(readTieredHead(new Uint8Array(a.get('head.bin')!)).prefilter).toBeUndefined();
    const cases = [
      { out: 'sign-merged', shards: ['sign-s1', 'sign-s0'], prefilter: 'sign' as const },
      { out: 'sign-merged-default', shards: ['sign-s0', 'sign-s1'], prefilter: undefined }, // every shard sign-coded: stays so
      { out: 'mixed-merged', shards: ['int8-s1', 'sign-s0'], prefilter: 'sign' as const },
    ];
    for (const c of cases) {
      const merged = join(dir, c.out);
      const report = await merge({ outDir: merged, shardDirs: c.shards.map((s) => join(dir, s)), name: 'zoo', modelsPerBlock: 2, prefilter: c.prefilter });
      expect(report.ok).toBe(true);
      const b = await allFiles(merged);
      expect([...b.keys()].sort(), c.out).toEqual([...a.keys()].sort());
      for (const [path, bytes] of a) expect(Buffer.compare(b.get(path)!, bytes), `${c.out}: ${path}`).toBe(0);
    }
  });

  it('refuses shards with different settings, overlapping ids, the other format, or tampered blocks and meta shards', async () => {
    const base = { modelsDir: models, format: 'tiered' as const, thumbnails: 0 };
    const s0 = join(dir, 'r0');
    const s1 = join(dir, 'r1');
    await build({ ...base, outDir: s0, shard: { index: 0, count: 2 } });
    await build({ ...base, outDir: s1, shard: { index: 1, count: 2 }, epsilon: 1e-2, ppcaRank: 8, modelsPerBlock: 4 });
    const err = (await merge({ outDir: join(dir, 'm'), shardDirs: [s0, s1] }).then(
      () => undefined,
      (e: unknown) => e,
    )) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('the shards were built with different settings');
    expect(err.details).toEqual([
      expect.stringMatching(/^epsilon: .*r0 has 0\.001, .*r1 has 0\.01$/),
      expect.stringMatching(/^ppcaRank: .*r0 has 128, .*r1 has 8$/),
      expect.stringMatching(/^modelsPerBlock: .*r0 has 16 \(or pass --models-per-block\), .*r1 has 4 \(or pass --models-per-block\)$/),
    ]);
    // Another encoder/dimension is named the same way (a shard's manifest edited and re-hashed is still a shard).
    await cp(s0, join(dir, 'r0-enc'), { recursive: true });
    const mPath = join(dir, 'r0-enc', 'manifest.json');
    const m = JSON.parse(await readFile(mPath, 'utf8'));
    m.encoder.id = 'zoo-encoder';
    await writeFile(mPath, JSON.stringify(m));
    await expect(merge({ outDir: join(dir, 'm'), shardDirs: [s0, join(dir, 'r0-enc')] })).rejects.toMatchObject({ details: [expect.stringMatching(/^encoder: .*r0 has test-encoder \(32-d\), .*r0-enc has zoo-encoder \(32-d\)$/)] });
    // Overlapping ids.
    await cp(s0, join(dir, 'r0-copy'), { recursive: true });
    await expect(merge({ outDir: join(dir, 'm'), shardDirs: [s0, join(dir, 'r0-copy')] })).rejects.toMatchObject({ message: 'duplicate model ids across the shards' });
    // The other format, named, with the way out.
    const v1 = join(dir, 'r-v1');
    await build({ modelsDir: models, outDir: v1, thumbnails: 0, shard: { index: 1, count: 2 } });
    await expect(merge({ outDir: join(dir, 'm'), shardDirs: [s0, v1] })).rejects.toThrow(/r-v1 is a version 1 index \(index\.bin \+ models\.json\); merge version 1 shards without --format tiered/);
    await expect(mergeShards({ outDir: join(dir, 'm'), shardDirs: [v1, s0], encoder })).rejects.toThrow(/r0: .*this is a tiered \(version 2\) index.*\(merge tiered shards with --format tiered\)/);
    // A tampered block (the records file re-hashed in the manifest, so only the block hash catches it).
    const bad = join(dir, 'r0-bad');
    await cp(s0, bad, { recursive: true });
    const rec = await readFile(join(bad, 'records.bin'));
    rec[rec.length - 8] ^= 1;
    await writeFile(join(bad, 'records.bin'), rec);
    const man = JSON.parse(await readFile(join(bad, 'manifest.json'), 'utf8'));
    man.files['records.bin'].sha256 = await sha256Hex(new Uint8Array(rec));
    await writeFile(join(bad, 'manifest.json'), JSON.stringify(man));
    await expect(merge({ outDir: join(dir, 'm'), shardDirs: [bad] })).rejects.toThrow(/r0-bad: Block 0 failed its SHA-256 check/);
    // A tampered metadata shard.
    const badMeta = join(dir, 'r0-meta');
    await cp(s0, badMeta, { recursive: true });
    const metaFile = join(badMeta, 'meta', '0.json');
    await writeFile(metaFile, (await readFile(metaFile, 'utf8')).replace('"blue"', '"bluf"'));
    await expect(merge({ outDir: join(dir, 'm'), shardDirs: [badMeta] })).rejects.toThrow(/r0-meta: meta\/0\.json failed its SHA-256 check/);
    await rm(join(dir, 'm'), { recursive: true, force: true });
  });
});

describe('tiered build from the command line', () => {
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    return { code, stdout, stderr };
  };

  it('refuses tiered-only flags without --format tiered, and version 1-only flags with it (exit 2)', async () => {
    const common = ['--models', 'm', '--out', 'o', '--encoder', 'test-encoder'];
    const cases: [string[], RegExp][] = [
      [[...common, '--block-files'], /--block-files needs --format tiered/],
      [[...common, '--ppca-rank', '8'], /--ppca-rank needs --format tiered/],
      [[...common, '--format', 'v1', '--models-per-block', '8'], /--models-per-block needs --format tiered/],
      [[...common, '--format', 'tiered', '--keep-samples', '4'], /--keep-samples does not apply to --format tiered/],
      [[...common, '--format', 'tiered', '--projection', 'p.json'], /--projection does not apply to --format tiered/],
      [[...common, '--format', 'tiered', '--thumbnail-base', '/abs/'], /--thumbnail-base must be a relative folder/],
      [[...common, '--format', 'v2'], /--format/],
      [['merge', '--out', 'o', '--block-files', 'a'], /--block-files needs --format tiered/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('builds with --format tiered --block-files --thumbnail-base and reports the record kinds', async () => {
    const dir = await caseDir();
    await writeModels(join(dir, 'models'), [RED, MANY]);
    const r = await run(['--models', join(dir, 'models'), '--out', join(dir, 'out'), '--encoder', 'test-encoder', '--no-cache', '--quiet', '--format', 'tiered', '--block-files', '--ppca-rank', '3', '--thumbnail-base', '../elsewhere/', '--thumbnails', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/records: 1 exact low-rank \(rank 5–5\), 1 PPCA \(rank 3–3\)/);
    const t = await readTiered(join(dir, 'out'));
    expect(t.manifest.thumbnailBase).toBe('../elsewhere/');
    expect(t.meta.map((m) => m.thumbnails)).toEqual([['thumbs/many/0.webp'], ['thumbs/red/0.webp']]);
    expect([...t.files.keys()].some((f) => f.startsWith('thumbs'))).toBe(false); // hosted elsewhere: none written
    expect(t.manifest.tiered).toEqual({ modelsPerBlock: 16, blocks: 1, blockFiles: true });
  });
});
