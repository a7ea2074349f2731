import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, TarError, writeTar, type TarFile } from './tar.ts';

const enc = new TextEncoder();
const file = (path: string, text: string): TarFile => ({ path, bytes: enc.encode(text) });
const longId = 'm'.repeat(128);
const FILES: TarFile[] = [
  file('models.json', '[]\n'),
  file('manifest.json', '{"a": 1}\n'),
  { path: 'index.bin', bytes: Uint8Array.from({ length: 1500 }, (_, i) => i % 251) },
  file(`thumbs/${longId}/0.webp`, 'webp'),
  file('thumbs/a/0.webp', ''),
];

const dirs: string[] = [];
const tempFolder = () => {
  const d = mkdtempSync(join(tmpdir(), 'tar-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A header block edited by `edit` (its checksum fixed afterwards unless `keepSum`). */
function patchHeader(tar: Uint8Array, at: number, edit: (h: Uint8Array) => void, keepSum = false): Uint8Array {
  const out = tar.slice();
  const h = out.subarray(at, at + 512);
  edit(h);
  if (!keepSum) {
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  }
  return out;
}
const setName = (name: string) => (h: Uint8Array) => {
  h.fill(0, 0, 100);
  h.set(enc.encode(name), 0);
};

describe('writeTar / readTar', () => {
  it('round-trips files in sorted order, long paths included', () => {
    const back = readTar(writeTar(FILES));
    expect(back.map((f) => f.path)).toEqual(['index.bin', 'manifest.json', 'models.json', 'thumbs/a/0.webp', `thumbs/${longId}/0.webp`]);
    for (const f of FILES) expect(back.find((b) => b.path === f.path)!.bytes).toEqual(f.bytes);
  });

  it('is deterministic: the same files in any order give the same bytes', () => {
    const a = writeTar(FILES);
    const b = writeTar([...FILES].reverse());
    expect(b).toEqual(a);
    expect(a.length % 512).toBe(0);
  });

  it('GNU tar lists and extracts it, with mode 0644, owner 0 and mtime 0', () => {
    const dir = tempFolder();
    const archive = join(dir, 'shard.tar');
    writeFileSync(archive, writeTar(FILES));
    const list = execFileSync('tar', ['-tvf', archive, '--numeric-owner', '--utc'], { encoding: 'utf8' });
    const lines = list.trim().split('\n');
    expect(lines).toHaveLength(FILES.length);
    for (const line of lines) expect(line).toMatch(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 /);
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    for (const f of FILES) expect(new Uint8Array(readFileSync(join(dir, f.path)))).toEqual(f.bytes);
  });

  it('reads what GNU tar writes (directories, "./", GNU long names, pax paths)', () => {
    const src = tempFolder();
    const archiveDir = tempFolder();
    execFileSync('tar', ['-xf', '-', '-C', src], { input: writeTar(FILES) });
    for (const format of ['gnu', 'posix']) {
      const archive = join(archiveDir, `${format}.tar`);
      execFileSync('tar', ['-cf', archive, `--format=${format}`, '-C', src, '.']);
      const back = readTar(new Uint8Array(readFileSync(archive)));
      expect(back.map((f) => f.path).sort()).toEqual(FILES.map((f) => f.path).sort());
      for (const f of FILES) expect(back.find((b) => b.path === f.path)!.bytes).toEqual(f.bytes);
    }
  });

  it('refuses unsafe paths when writing', () => {
    for (const path of ['/etc/x', '../x', 'a/../x', 'a\\b', '', 'a//b', './a']) {
      expect(() => writeTar([file(path, 'x')]), path).toThrow(TarError);
    }
    expect(() => writeTar([file('a', 'x'), file('a', 'y')])).toThrow(/given twice/);
    expect(() => writeTar([file(`${'d'.repeat(160)}/x`, 'x')])).toThrow(/too long/);
  });

  describe('refuses, naming the entry', () => {
    const one = writeTar([file('models.json', 'hello')]);
    const cases: [string, Uint8Array, RegExp][] = [
      ['an absolute path', patchHeader(one, 0, setName('/etc/passwd')), /"\/etc\/passwd": the path is absolute/],
      ['".."', patchHeader(one, 0, setName('a/../../x')), /"a\/..\/..\/x": the path contains "\.\."/],
      ['a backslash', patchHeader(one, 0, setName('a\\x')), /"a\\x": the path contains a backslash/],
      ['a symbolic link', patchHeader(one, 0, (h) => (h[156] = 0x32)), /"models.json": a symbolic link/],
      ['a hard link', patchHeader(one, 0, (h) => (h[156] = 0x31)), /"models.json": a hard link/],
      ['a pax global header', patchHeader(one, 0, (h) => (h[156] = 0x67)), /"models.json": a pax global header/],
      ['a bad checksum', patchHeader(one, 0, (h) => (h[0] = 0x4e), true), /bad header checksum/],
      ['a truncated archive', one.subarray(0, 512 + 3), /"models.json": the archive is truncated/],
      ['no end marker', one.subarray(0, 1024), /truncated \(no end marker/],
      ['an empty archive', new Uint8Array(0), /empty/],
      // Names come from the archive: quoted with control characters escaped (they must not drive a terminal).
      ['a name with an escape sequence', patchHeader(one, 0, setName('\u001b[2Jx\ny')), /^tar entry "\\u001b\[2Jx\\u000ay": the path contains a control character$/],
      ['a bad checksum in a name with a control character', patchHeader(one, 0, (h) => (h[0] = 0x07), true), /^tar entry "\\u0007odels\.json": bad header checksum/],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => expect(() => readTar(bytes)).toThrow(message));
    }

    it('duplicate paths', () => {
      const a = writeTar([file('x', '1')]);
      const twice = new Uint8Array(a.length + 1024);
      twice.set(a.subarray(0, 1024), 0);
      twice.set(a.subarray(0, 1024), 1024);
      expect(() => readTar(twice)).toThrow(/"x": the path occurs twice/);
    });

    it('more entries or bytes than the limits', () => {
      const many = writeTar(Array.from({ length: 5 }, (_, i) => file(`f${i}`, 'abc')));
      expect(() => readTar(many, { maxEntries: 4 })).toThrow(/more than 4 entries/);
      expect(readTar(many, { maxEntries: 5 })).toHaveLength(5);
      expect(() => readTar(many, { maxBytes: 14 })).toThrow(/larger than 14 bytes/);
    });

    it('a file that is also a folder', () => {
      expect(() => readTar(writeTar([file('a', '1'), file('a/b', '2')]))).toThrow(/"a" is both a file and a folder/);
    });
  });
});
