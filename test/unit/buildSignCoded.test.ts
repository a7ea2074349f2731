/**
 * Sign-coded tiered heads from the builder (`--format tiered --prefilter sign`): head.bin with sign
 * codes and no int8 means, codes.bin (and codes/<n>.bin) with the int8 means and proxy terms of the
 * same blocks, listed in the manifest; `npm run search`'s code path (openLocalTiered + rankTiered)
 * ranks it exactly as the int8 index of the same models when the shortlist keeps every model; merge
 * converts between the two heads; and the CLI's refusals. Merge byte-identity against a single
 * sign-coded build is in buildTiered.test.ts, next to the int8 one.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { codeBlockEntries, codeBytesPerModel, openCodeBlock } from '../../src/core/index/codeBlocks.ts';
import { parseTieredManifest } from '../../src/core/index/manifest.ts';
import { readTieredHead } from '../../src/core/index/tieredHead.ts';
import { openBlock } from '../../src/core/index/tieredRecords.ts';
import { rankTiered } from '../../src/core/index/tieredRank.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import type { Method } from '../../src/core/scoring/methods.ts';
import { buildIndex, type BuildOptions } from '../../tools/lib/indexBuilder/buildIndex.ts';
import { runCli } from '../../tools/lib/indexBuilder/cli.ts';
import { mergeTieredShards } from '../../tools/lib/indexBuilder/tieredMerge.ts';
import { openLocalTiered } from '../../tools/lib/localIndex.ts';
import { NodeEncoder } from '../../tools/lib/nodeEncoder.ts';
import { tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SEARCH = join(ROOT, 'tools', 'search.ts');
const DIM = TEST_ENCODER.dim;

const MODELS: ModelSpec[] = [
  { folder: 'red', colour: [220, 30, 30], images: 5, seed: 1 },
  { folder: 'green', colour: [30, 170, 40], images: 4, seed: 2 },
  { folder: 'blue', colour: [20, 40, 220], images: 4, seed: 3 },
  { folder: 'yellow', colour: [230, 220, 30], images: 3, seed: 4 },
  { folder: 'cyan', colour: [30, 210, 220], images: 3, seed: 5 },
  { folder: 'magenta', colour: [210, 30, 200], images: 4, seed: 6 },
  { folder: 'orange', colour: [240, 140, 20], images: 3, seed: 7 },
  { folder: 'purple', colour: [110, 40, 160], images: 5, seed: 8 },
];
const COUNT = MODELS.length;

let encoder: NodeEncoder;
let tmp: { path: string; cleanup: () => Promise<void> };
let models: string;
let int8Dir: string;
let signDir: string;

const build = (opts: Partial<BuildOptions> & Pick<BuildOptions, 'outDir'>) =>
  buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, modelsDir: models, format: 'tiered', modelsPerBlock: 2, thumbnails: 0, name: 'colours', ...opts }, { encoder });

/** Every file of a folder, by relative path. */
async function allFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

function search(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, SEARCH, ...args], { cwd: ROOT, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
  tmp = await tempDir('build-sign-coded-test-');
  models = join(tmp.path, 'models');
  await writeModels(models, MODELS);
  int8Dir = join(tmp.path, 'int8');
  signDir = join(tmp.path, 'sign');
  await build({ outDir: int8Dir, blockFiles: true });
  await build({ outDir: signDir, blockFiles: true, prefilter: 'sign' });
}, 120_000);
afterAll(async () => {
  await tmp?.cleanup();
});

describe('a sign-coded tiered build', () => {
  it('writes a head without int8 means, and codes.bin with them, listed in the manifest', async () => {
    const files = await allFiles(signDir);
    const manifest = parseTieredManifest(JSON.parse(files.get('manifest.json')!.toString('utf8')));
    const head = readTieredHead(new Uint8Array(files.get('head.bin')!));
    expect(head.prefilter).toBeUndefined();
    expect(head.proxy).toBeUndefined();
    expect(head.signs?.count).toBe(COUNT);
    expect(head.codeBlocks?.length).toBe(head.blocks.length);
    expect(head.blocks.length).toBe(4);
    const codes = new Uint8Array(files.get('codes.bin')!);
    expect(codes.byteLength).toBe(COUNT * codeBytesPerModel(DIM));
    expect(manifest.files['codes.bin']).toEqual({ bytes: codes.byteLength, sha256: await sha256Hex(codes) });

    // The int8 build of the same models: the same records, meta shards and calibration; its head's
    // int8 means and proxy terms are exactly what codes.bin holds.
    const int8Files = await allFiles(int8Dir);
    const int8Manifest = parseTieredManifest(JSON.parse(int8Files.get('manifest.json')!.toString('utf8')));
    const int8Head = readTieredHead(new Uint8Array(int8Files.get('head.bin')!));
    expect(int8Manifest.files['codes.bin']).toBeUndefined();
    expect(int8Head.codeBlocks).toBeUndefined();
    const { 'head.bin': _h, 'codes.bin': _c, ...signRest } = manifest.files;
    const { 'head.bin': _h8, ...int8Rest } = int8Manifest.files;
    expect({ ...manifest, files: signRest }).toEqual({ ...int8Manifest, files: int8Rest });
    for (const [path, bytes] of int8Files) {
      if (path !== 'head.bin' && path !== 'manifest.json') expect(Buffer.compare(files.get(path)!, bytes), path).toBe(0);
    }
    expect(head.directory).toEqual(int8Head.directory);
    expect(head.blocks).toEqual(int8Head.blocks);
    for (const [b, e] of head.codeBlocks!.entries()) {
      const block = await openCodeBlock(codes.subarray(e.offset, e.offset + e.bytes), e, DIM, b);
      for (let i = 0; i < e.models; i++) {
        const m = e.firstModel + i;
        expect(Array.from(block.means.codes.subarray(i * DIM, (i + 1) * DIM))).toEqual(Array.from(int8Head.prefilter!.codes.subarray(m * DIM, (m + 1) * DIM)));
        expect([block.means.scale[i], block.means.norms[i], block.precision[i], block.logDet[i]]).toEqual([int8Head.prefilter!.scale[m], int8Head.prefilter!.norms[m], int8Head.proxy!.precision[m], int8Head.proxy!.logDet[m]]);
      }
    }
  });

  it('writes codes/<n>.bin equal to the slices of codes.bin with --block-files, none without', async () => {
    const files = await allFiles(signDir);
    const head = readTieredHead(new Uint8Array(files.get('head.bin')!));
    const codes = files.get('codes.bin')!;
    const entries = codeBlockEntries(head.blocks, DIM, head.codeBlocks!.map((e) => e.sha256));
    expect(entries).toEqual(head.codeBlocks);
    for (const [b, e] of entries.entries()) expect(Buffer.compare(files.get(join('codes', `${b}.bin`))!, codes.subarray(e.offset, e.offset + e.bytes)), `codes/${b}.bin`).toBe(0);
    expect([...files.keys()].filter((f) => f.startsWith('codes')).length).toBe(entries.length + 1);
    const plain = join(tmp.path, 'sign-plain');
    await build({ outDir: plain, prefilter: 'sign' });
    const plainFiles = await allFiles(plain);
    expect([...plainFiles.keys()].some((f) => f.startsWith('codes/') || f.startsWith('blocks/'))).toBe(false);
    expect(Buffer.compare(plainFiles.get('codes.bin')!, codes)).toBe(0);
  });

  it('ranks as the int8 index of the same models through the CLI\'s code path when the shortlist keeps every model', async () => {
    const int8 = await openLocalTiered(int8Dir);
    const sign = await openLocalTiered(signDir);
    expect(int8.fetchCodeBlocks).toBeUndefined();
    expect(sign.fetchCodeBlocks).toBeDefined();
    const queries: Float32Array[] = await encoder.encodeTexts(['red', 'blue', 'green', 'yellow', 'purple', 'orange']);
    // The models' own means as image-like queries.
    const raw = await sign.fetchBlocks(sign.head.blocks.map((_, b) => b));
    for (const [b, e] of sign.head.blocks.entries()) for (const r of (await openBlock(raw.get(b)!, e, sign.head.directory, DIM, b)).values()) queries.push(Float32Array.from(r.mean));
    expect(queries.length).toBe(6 + COUNT);
    const rank = async (t: typeof sign, q: Float32Array, method: Method, candidates?: number) => {
      const r = await rankTiered(
        { head: t.head, calibration: t.calibration, nullText: t.nullText },
        { parts: [{ part: { kind: 'text', text: 'fixed' }, weight: 1 }], method, topK: 10 },
        async () => q,
        { candidates, fetchBlocks: t.fetchBlocks, cache: t.cache, shortlist: COUNT, fetchCodeBlocks: t.fetchCodeBlocks, codeCache: t.codeCache },
      );
      return { results: r.results.map((x) => [x.index, x.score]), candidates: r.candidates.map((c) => c.index), sign: r.signStage };
    };
    for (const q of queries) {
      for (const method of ['gaussian', 'first-moment'] as const) {
        for (const k of [undefined, 3]) {
          const a = await rank(int8, q, method, k);
          const b = await rank(sign, q, method, k);
          expect(b.sign?.shortlist).toBe(COUNT);
          expect(a.sign).toBeUndefined();
          expect(b.results).toEqual(a.results);
          expect(b.candidates).toEqual(a.candidates);
        }
      }
    }
    // Every code block was verified and cached once.
    expect(sign.codeCache!.size).toBe(sign.head.blocks.length);
  });

  it('npm run search: the same top 10 ids and scores with --shortlist = count; --shortlist refused on version 1', async () => {
    const a = await search(['--index', int8Dir, '--text', 'red', '--json', '--top', '10']);
    const b = await search(['--index', signDir, '--text', 'red', '--json', '--top', '10', '--shortlist', String(COUNT)]);
    expect(a.stderr + b.stderr).not.toMatch(/error/);
    expect([a.code, b.code]).toEqual([0, 0]);
    const ja = JSON.parse(a.stdout);
    const jb = JSON.parse(b.stdout);
    expect(jb.results).toEqual(ja.results);
    expect(jb.results.length).toBe(COUNT);
    expect(jb.tiered).toMatchObject({ shortlist: COUNT, codeBlocksRead: 4 });
    expect(ja.tiered.shortlist).toBeUndefined();
    // A shorter shortlist still ranks (its first result is the best sign match's exact score).
    const c = await search(['--index', signDir, '--text', 'red', '--shortlist', '2', '--candidates', '2']);
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/sign-code shortlist of 2/);

    const v1 = join(tmp.path, 'v1');
    await buildIndex({ encoderId: TEST_ENCODER.id, cacheDir: null, modelsDir: models, outDir: v1, thumbnails: 0, keepSamples: 0 }, { encoder });
    const r = await search(['--index', v1, '--text', 'red', '--shortlist', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shortlist applies to a tiered \(version 2\) index only/);
    const bad = await search(['--index', signDir, '--text', 'red', '--shortlist', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shortlist/);
  }, 120_000);

  it('npm run search refuses a missing, short or tampered codes.bin with a message naming it (exit 1, no stack trace)', async () => {
    const broken = join(tmp.path, 'broken');
    await cp(signDir, broken, { recursive: true });
    const run = async () => {
      const r = await search(['--index', broken, '--text', 'red']);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      return r.stderr;
    };
    await rm(join(broken, 'codes.bin'));
    expect(await run()).toMatch(/^error: codes\.bin was not found at .*codes\.bin\.$/m);
    await cp(join(signDir, 'codes.bin'), join(broken, 'codes.bin'));
    await truncate(join(broken, 'codes.bin'), 100);
    expect(await run()).toMatch(/^error: codes\.bin has 100 bytes; 8 models of dimension 32 take 384 and the manifest says 384/m);
    const codes = await readFile(join(signDir, 'codes.bin'));
    codes[3] ^= 1;
    await writeFile(join(broken, 'codes.bin'), codes);
    expect(await run()).toMatch(/^error: Code block 0 failed its SHA-256 check.*codes\.bin/m);
    // The manifest no longer listing codes.bin (re-hashed nothing: head.bin is still sign-coded).
    await cp(join(signDir, 'codes.bin'), join(broken, 'codes.bin'));
    const manifest = JSON.parse(await readFile(join(broken, 'manifest.json'), 'utf8'));
    delete manifest.files['codes.bin'];
    await writeFile(join(broken, 'manifest.json'), JSON.stringify(manifest));
    expect(await run()).toMatch(/^error: head\.bin is sign-coded .*lists no codes\.bin/m);
  }, 120_000);
});

describe('sign-coded heads and merge', () => {
  it('converts either way: int8 → sign equals a sign build, sign → int8 equals an int8 build, sign shards stay sign by default', async () => {
    const toSign = join(tmp.path, 'to-sign');
    const toInt8 = join(tmp.path, 'to-int8');
    const kept = join(tmp.path, 'kept');
    await mergeTieredShards({ outDir: toSign, shardDirs: [int8Dir], name: 'colours', prefilter: 'sign', encoder });
    await mergeTieredShards({ outDir: toInt8, shardDirs: [signDir], name: 'colours', prefilter: 'int8', encoder });
    await mergeTieredShards({ outDir: kept, shardDirs: [signDir], name: 'colours', encoder });
    for (const [out, expected] of [[toSign, signDir], [toInt8, int8Dir], [kept, signDir]] as const) {
      const a = await allFiles(expected);
      const b = await allFiles(out);
      expect([...b.keys()].sort(), out).toEqual([...a.keys()].sort());
      for (const [path, bytes] of a) expect(Buffer.compare(b.get(path)!, bytes), `${out}: ${path}`).toBe(0);
    }
  }, 120_000);

  it('refuses a sign-coded shard whose codes.bin fails a block check', async () => {
    const bad = join(tmp.path, 'bad-shard');
    await cp(signDir, bad, { recursive: true });
    const codes = await readFile(join(bad, 'codes.bin'));
    codes[codes.length - 1] ^= 1;
    await writeFile(join(bad, 'codes.bin'), codes);
    const manifest = JSON.parse(await readFile(join(bad, 'manifest.json'), 'utf8'));
    manifest.files['codes.bin'].sha256 = await sha256Hex(new Uint8Array(codes));
    await writeFile(join(bad, 'manifest.json'), JSON.stringify(manifest));
    await expect(mergeTieredShards({ outDir: join(tmp.path, 'm'), shardDirs: [bad], encoder })).rejects.toThrow(/bad-shard: Code block 3 failed its SHA-256 check/);
    await rm(join(bad, 'codes.bin'));
    await expect(mergeTieredShards({ outDir: join(tmp.path, 'm'), shardDirs: [bad], encoder })).rejects.toThrow(/bad-shard: codes\.bin is missing/);
  });
});

describe('--prefilter on the command line', () => {
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
    return { code, stdout, stderr };
  };

  it('needs --format tiered and a known value (exit 2)', async () => {
    const common = ['--models', 'm', '--out', 'o', '--encoder', 'test-encoder'];
    for (const [args, pattern] of [
      [[...common, '--prefilter', 'sign'], /--prefilter needs --format tiered/],
      [[...common, '--format', 'tiered', '--prefilter', 'bits'], /--prefilter/],
      [['merge', '--out', 'o', '--prefilter', 'sign', 'a'], /--prefilter needs --format tiered/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('builds and merges sign-coded indexes', async () => {
    const dir = join(tmp.path, 'cli');
    await mkdir(dir, { recursive: true });
    const built = await run(['--models', models, '--out', join(dir, 'built'), '--encoder', 'test-encoder', '--no-cache', '--quiet', '--format', 'tiered', '--prefilter', 'sign', '--thumbnails', '0', '--models-per-block', '2', '--name', 'colours']);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    const merged = await run(['merge', '--format', 'tiered', '--prefilter', 'sign', '--out', join(dir, 'merged'), '--block-files', int8Dir]);
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    const a = await allFiles(join(dir, 'built'));
    const b = await allFiles(join(dir, 'merged'));
    expect(Buffer.compare(b.get('codes.bin')!, a.get('codes.bin')!)).toBe(0);
    expect(Buffer.compare(b.get('head.bin')!, a.get('head.bin')!)).toBe(0);
    expect(b.has(join('codes', '0.bin'))).toBe(true);
    expect(a.has(join('codes', '0.bin'))).toBe(false);
  }, 120_000);
});
