/**
 * tools/build-index.ts as a child process (what `npm run build-index -- …` runs): exit codes,
 * messages, the report, --json-report, the default cache location, shard + merge (of folders and .tar shards).
 */
import { execFile, execFileSync } from 'node:child_process';
import { access, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { writeTar, type TarFile } from '../../src/core/io/tar.ts';
import { CMYK_REASON } from '../../tools/lib/indexBuilder/imageDecode.ts';
import { readIndexDir, tempDir, writeModels, type ModelSpec } from '../support/build/fixtures.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const CLI = join(REPO, 'tools', 'build-index.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `cwd` as working directory (so relative paths and the default cache land there). */
function cli(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, CLI, ...args], { cwd, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let tmp: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('build-index-cli-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

/** Every file under `dir`, by path relative to it. */
async function folderFiles(dir: string): Promise<TarFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(files.map(async (f) => ({ path: f.slice(dir.length + 1).split('\\').join('/'), bytes: new Uint8Array(await readFile(f)) })));
}

/** `tar` with its first entry renamed to `name` (the header checksum fixed). */
function renamedFirstEntry(tar: Uint8Array, name: string): Uint8Array {
  const out = tar.slice();
  out.fill(0, 0, 100);
  out.set(new TextEncoder().encode(name), 0);
  out.fill(0x20, 148, 156);
  const sum = out.subarray(0, 512).reduce((a, b) => a + b, 0);
  out.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return out;
}

const A: ModelSpec = { folder: 'alpha', colour: [200, 40, 40], images: 3, seed: 11, modelJson: { name: 'Alpha', creator: 'cli test' } };
const B: ModelSpec = { folder: 'beta', colour: [40, 200, 40], images: 3, seed: 12, formats: ['png', 'jpeg', 'webp'] };
const C: ModelSpec = { folder: 'gamma', colour: [40, 40, 200], images: 3, seed: 13, formats: ['avif', 'gif', 'tiff'] };

describe('build-index CLI', () => {
  it('usage errors exit with 2 and a usage text', async () => {
    const cwd = tmp.path;
    const [none, unknown, shard, encoder, merge] = await Promise.all([
      cli(cwd, []),
      cli(cwd, ['--models', 'm', '--out', 'o', '--encoder', 'test-encoder', '--bogus']),
      cli(cwd, ['--models', 'm', '--out', 'o', '--encoder', 'test-encoder', '--shard', '2/2']),
      cli(cwd, ['--models', 'm', '--out', 'o', '--encoder', 'nope']),
      cli(cwd, ['merge', '--out', 'o']),
    ]);
    for (const r of [none, unknown, shard, encoder, merge]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).toContain('usage:');
      expect(r.stdout).toBe('');
    }
    expect(none.stderr).toMatch(/--models is required/);
    expect(unknown.stderr).toMatch(/Unknown option '--bogus'/);
    expect(shard.stderr).toMatch(/--shard must be i\/n/);
    expect(encoder.stderr).toMatch(/unknown --encoder "nope" \(known: clip-vit-b32, test-encoder, zoo-encoder\)/);
    expect(merge.stderr).toMatch(/at least one shard/);
  });

  it('input errors exit with 1 and "error:"; a good build exits 0 with a report', async () => {
    const cwd = join(tmp.path, 'run');
    await mkdir(join(cwd, 'empty'), { recursive: true });
    const base = ['--encoder', TEST_ENCODER.id];
    const empty = await cli(cwd, ['--models', 'empty', '--out', 'out', ...base]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^error: no model folders in empty/);

    await writeModels(join(cwd, 'models'), [A, B, C, { folder: 'solo', colour: [9, 9, 9], images: 1 }]);
    await writeFile(join(cwd, 'models', 'beta', 'broken.jpg'), 'not a jpeg');
    const invalid = await cli(cwd, ['--models', 'models', '--out', 'out', ...base, '--quiet']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: 1 model\(s\) cannot be built/);
    expect(invalid.stderr).toMatch(/model "solo": only 1 valid image/);
    expect(invalid.stdout).toMatch(/FAILED, nothing written to out/);
    await expect(access(join(cwd, 'out'))).rejects.toThrow();

    const ok = await cli(cwd, ['--models', 'models', '--out', 'out', ...base, '--skip-invalid', '--json-report', 'report.json', '--licence', 'CC0-1.0']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^build-index: built 3 model\(s\) with test-encoder \(32-d\) → out/);
    // the failed run cached every embedding it computed: nothing is embedded again
    expect(ok.stdout).toMatch(/images: 11 found, 0 embedded, 10 from cache, 1 skipped/);
    expect(ok.stdout).toMatch(/beta\/broken\.jpg: not an image \(unsupported format\)/);
    expect(ok.stdout).toMatch(/total time/);
    expect(ok.stderr).not.toMatch(/error/);
    const report = JSON.parse(await readFile(join(cwd, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ ok: true, images: { embedded: 0, fromCache: 10, skipped: 1 }, invalidModels: [{ id: 'solo' }] });
    expect(report.models.map((m: { id: string }) => m.id)).toEqual(['alpha', 'beta', 'gamma']);
    // the default cache is .cache/embeddings under the working directory
    expect((await readdir(join(cwd, '.cache', 'embeddings', 'v2', TEST_ENCODER.id))).length).toBeGreaterThan(0);
    const { manifest, models } = await readIndexDir(join(cwd, 'out'));
    expect(manifest).toMatchObject({ name: 'out', licence: 'CC0-1.0', count: 3 });
    expect(models[0]).toMatchObject({ id: 'alpha', name: 'Alpha', creator: 'cli test' });

    const before = await readFile(join(cwd, 'out', 'index.bin'));
    const exists = await cli(cwd, ['--models', 'models', '--out', 'out', ...base, '--skip-invalid']);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/^error: the output out already exists \(use --force to replace it\)/);
    expect(await readFile(join(cwd, 'out', 'index.bin'))).toEqual(before);

    // shard + merge through the CLI reproduce the single build
    const [s0, s1] = await Promise.all(
      ['0/2', '1/2'].map((s, i) => cli(cwd, ['--models', 'models', '--out', `shard${i}`, ...base, '--skip-invalid', '--shard', s, '--licence', 'CC0-1.0', '--quiet'])),
    );
    expect([s0.code, s1.code], s0.stderr + s1.stderr).toEqual([0, 0]);
    const merged = await cli(cwd, ['merge', '--out', 'merged', '--name', 'out', 'shard0', 'shard1']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/merged 2 shard\(s\) into 3 model\(s\)/);
    expect(await readFile(join(cwd, 'merged', 'index.bin'))).toEqual(before);
    expect(await readFile(join(cwd, 'merged', 'models.json'), 'utf8')).toBe(await readFile(join(cwd, 'out', 'models.json'), 'utf8'));
  });

  it('names bad inputs in words, one line each: JSON errors by line and column, control characters escaped, CMYK skipped', async () => {
    const cwd = join(tmp.path, 'words');
    const base = ['--encoder', TEST_ENCODER.id, '--no-cache', '--thumbnails', '0', '--quiet'];
    await writeModels(join(cwd, 'models'), [A, B]);
    await writeFile(join(cwd, 'models', 'alpha', 'model.json'), '{\n  "name": "Alpha",\n}');
    await mkdir(join(cwd, 'models', 'bad\u001b[2Jname'));
    await writeFile(join(cwd, 'proj.json'), '{"structure": ');
    const bad = await cli(cwd, ['--models', 'models', '--out', 'out', ...base]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('  alpha/model.json: not valid JSON (line 3, column 1)\n');
    expect(bad.stderr).toContain('the folder name "bad\\u001b[2Jname" is not a valid model id');
    expect(bad.stderr).not.toMatch(/\u001b|SyntaxError|Unexpected token|^\s+at /m);
    const projection = await cli(cwd, ['--models', 'models', '--out', 'out', ...base, '--projection', 'proj.json']);
    expect(projection.stderr).toBe('error: the projection proj.json is not valid JSON (it ends too early)\n');

    await writeFile(join(cwd, 'models', 'alpha', 'model.json'), '{}');
    await rm(join(cwd, 'models', 'bad\u001b[2Jname'), { recursive: true });
    await writeFile(join(cwd, 'models', 'alpha', 'cmyk.jpg'), await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c04020' } }).toColourspace('cmyk').jpeg().toBuffer());
    const ok = await cli(cwd, ['--models', 'models', '--out', 'out', ...base]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`alpha/cmyk.jpg: ${CMYK_REASON}`);
  });

  it('merge takes .tar shards: the same bytes as the folders; bad archives are refused naming them, leaving nothing behind', async () => {
    const cwd = join(tmp.path, 'tar');
    const base = ['--encoder', TEST_ENCODER.id, '--quiet', '--licence', 'CC0-1.0'];
    await writeModels(join(cwd, 'models'), [A, B, C]);
    const shards = await Promise.all(['0/2', '1/2'].map((s, i) => cli(cwd, ['--models', 'models', '--out', `shard${i}`, ...base, '--shard', s])));
    expect(shards.map((r) => r.code), shards.map((r) => r.stderr).join('')).toEqual([0, 0]);
    const shard1 = await folderFiles(join(cwd, 'shard1'));
    await writeFile(join(cwd, 'shard1.tar'), writeTar(shard1));
    // GNU tar of the folder itself: entries under "shard1/", with directory entries
    execFileSync('tar', ['-cf', 'shard1-gnu.tar', 'shard1'], { cwd });

    const byFolders = await cli(cwd, ['merge', '--out', 'merged', '--name', 'm', 'shard0', 'shard1']);
    expect(byFolders.code, byFolders.stderr).toBe(0);
    const expected = await folderFiles(join(cwd, 'merged'));
    expect(expected.map((f) => f.path)).toContain('thumbs/alpha/0.webp');
    for (const archive of ['shard1.tar', 'shard1-gnu.tar']) {
      const out = `merged-${archive}`;
      const byTar = await cli(cwd, ['merge', '--out', out, '--name', 'm', 'shard0', archive]);
      expect(byTar.code, byTar.stderr).toBe(0);
      expect(byTar.stdout).toMatch(/merged 2 shard\(s\) into 3 model\(s\)/);
      const got = await folderFiles(join(cwd, out));
      expect(got.map((f) => f.path).sort()).toEqual(expected.map((f) => f.path).sort());
      for (const f of expected) expect(got.find((g) => g.path === f.path)!.bytes, f.path).toEqual(f.bytes);
    }

    // refusals: exit 1, a message naming the archive, no output and no temporary folder left
    const damaged = shard1.map((f) => (f.path === 'index.bin' ? { ...f, bytes: f.bytes.map((b, i) => (i === 100 ? b ^ 1 : b)) } : f));
    const bad: [string, Uint8Array, RegExp][] = [
      ['escape.tar', renamedFirstEntry(writeTar(shard1), '../manifest.json'), /^error: shard archive escape\.tar: tar entry "\.\.\/manifest\.json": the path contains "\.\."/],
      ['noindex.tar', writeTar([{ path: 'readme.txt', bytes: new Uint8Array(1) }]), /shard archive noindex\.tar: the archive has no manifest\.json/],
      ['truncated.tar', writeTar(shard1).subarray(0, 5000), /shard archive truncated\.tar: .*truncated/],
      ['damaged.tar', writeTar(damaged), /^error: shard damaged\.tar: .*index\.bin/],
    ];
    await Promise.all(bad.map(([name, bytes]) => writeFile(join(cwd, name), bytes)));
    const runs = await Promise.all(bad.map(([name]) => cli(cwd, ['merge', '--out', `refused-${name}`, 'shard0', name])));
    for (const [i, [name, , message]] of bad.entries()) {
      expect(runs[i].code, name).toBe(1);
      expect(runs[i].stderr, name).toMatch(message);
      expect(runs[i].stderr, name).not.toMatch(/\.tmp-/);
      await expect(access(join(cwd, `refused-${name}`)), name).rejects.toThrow();
    }
    expect((await readdir(cwd)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // an --out whose parent did not exist: the folders made for the temporary one go too
    const deep = await cli(cwd, ['merge', '--out', join('new-parent', 'sub', 'refused'), 'shard0', 'noindex.tar']);
    expect(deep.code).toBe(1);
    await expect(access(join(cwd, 'new-parent'))).rejects.toThrow();
  }, 240_000);
});
