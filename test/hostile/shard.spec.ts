import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeTar } from '../../src/core/io/tar.ts';
import { PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { modelsOf, shippedIndex, withModels, type IndexFiles } from './craft.ts';
import { judgeRefusal, runTool } from './cliRun.ts';
import { crash, dataLost, handled, oneLine, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Shard archives handed to `build-index merge` (a shard exported by "Add your model" is a .tar of an
 * index folder; tools/lib/indexBuilder/shardArchive.ts, src/core/io/tar.ts). A hostile archive must
 * be refused with one "error:" line naming the archive and what is wrong, and must leave no trace:
 * nothing written outside the output, no output folder, no temporary folder, the base shard intact.
 */

/** A valid second shard: the colours index with every id renamed (the same settings, no clash). */
async function renamedColours(): Promise<IndexFiles> {
  const f = shippedIndex('colours');
  return withModels(f, modelsOf(f).map((m) => ({ ...m, id: `other-${String(m.id)}` })));
}

const COLOURS = join(PUBLIC_DIR, 'index', 'colours');

/** The colours index's thumbnails (thumbs/…), which a shard carries with its three files. */
function thumbs(): { path: string; bytes: Uint8Array }[] {
  const out: { path: string; bytes: Uint8Array }[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(COLOURS, rel)).sort()) {
      const path = `${rel}/${name}`;
      if (statSync(join(COLOURS, path)).isDirectory()) walk(path);
      else out.push({ path, bytes: new Uint8Array(readFileSync(join(COLOURS, path))) });
    }
  };
  walk('thumbs');
  return out;
}

/** A shard's entries: its three files and the thumbnails. */
const files = (f: IndexFiles) => [...Object.entries(f).map(([path, bytes]) => ({ path, bytes })), ...thumbs()];

/** The shipped colours index as the base shard folder. */
const writeBase = (tmp: string) => {
  const base = join(tmp, 'base');
  cpSync(COLOURS, base, { recursive: true });
  return base;
};

const BLOCK = 512;

/** Rewrites header field bytes of the entry named `name` and recomputes its checksum (what a hostile writer controls). */
function patchHeader(tar: Uint8Array, name: string, edit: (h: Uint8Array) => void): Uint8Array {
  const out = tar.slice();
  const field = (at: number, len: number) => new TextDecoder().decode(out.subarray(at, at + len)).replace(/\0.*$/s, '');
  let at = 0;
  while (field(at, 100) !== name) {
    if (at >= out.length || out[at] === 0) throw new Error(`no tar entry ${name}`);
    at += BLOCK + Math.ceil(parseInt(field(at + 124, 12).trim() || '0', 8) / BLOCK) * BLOCK;
  }
  const h = out.subarray(at, at + BLOCK);
  edit(h);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((s, b) => s + b, 0);
  h.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return out;
}

/** Sets the name field (100 bytes, NUL-padded). */
const setName = (name: string) => (h: Uint8Array) => {
  h.fill(0, 0, 100);
  h.set(new TextEncoder().encode(name), 0);
};

/** Every file under `dir` with its SHA-256, as one string (to see that nothing changed). */
function tree(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out.join('\n');
}

/**
 * Merges the shipped colours index (written to tmp/base) with the archive `make` returns: refused
 * naming `names`, and nothing left behind (no output, no temporary folder, no file outside, base intact).
 */
function refusesArchive(make: () => Uint8Array | Promise<Uint8Array>, names: (string | RegExp)[], namesArchive = true) {
  return async ({ tmp }: { tmp: string }): Promise<Verdict> => {
    const base = writeBase(tmp);
    const before = tree(base);
    const archive = join(tmp, 'theirs.shard.tar');
    writeFileSync(archive, await make());
    const out = join(tmp, 'site', 'merged');
    const r = await runTool('build-index', ['merge', '--quiet', '--out', out, base, archive], { cwd: tmp });
    // Entry names come from the archive: none of their control characters may reach the terminal.
    const raw = r.stderr.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    if (raw) return crash(`a raw control character (U+${raw[0].charCodeAt(0).toString(16).padStart(4, '0')}) reached the terminal`);
    const v = judgeRefusal({ ...r, stderr: r.stderr.replace(/\n {2}/g, ' · ') }, namesArchive ? ['theirs.shard.tar', ...names] : names);
    if (v.outcome !== 'clear error') return v;
    if (tree(base) !== before) return dataLost('the base shard changed');
    if (existsSync(out)) return silentWrong('an output folder was written although the merge was refused');
    const left = readdirSync(tmp).filter((n) => !['base', 'theirs.shard.tar'].includes(n));
    if (left.length) return silentWrong(`left behind beside the output: ${left.join(', ')}`);
    if (existsSync(join(tmp, 'escaped.bin')) || existsSync(join(tmp, 'site', 'escaped.bin'))) return dataLost('a file was written outside the output');
    return v;
  };
}

const cases: HostileCase[] = [
  {
    group: 'builder input',
    name: 'a valid shard archive (control): merged, with both shards’ models',
    timeoutMs: 90_000,
    run: async ({ tmp }) => {
      const base = writeBase(tmp);
      const archive = join(tmp, 'theirs.shard.tar');
      writeFileSync(archive, writeTar(files(await renamedColours())));
      const out = join(tmp, 'merged');
      const r = await runTool('build-index', ['merge', '--quiet', '--out', out, base, archive], { cwd: tmp });
      if (r.code !== 0) return crash(`exit ${r.code}: ${oneLine(r.stderr)}`);
      const ids = (JSON.parse(readFileSync(join(out, 'models.json'), 'utf8')) as { id: string }[]).map((m) => m.id);
      return ids.length === 24 && ids.filter((id) => id.startsWith('other-')).length === 12
        ? handled('exit 0; the merged index holds the 12 + 12 models')
        : silentWrong(`merged ids: ${ids.join(', ')}`);
    },
  },
  {
    group: 'builder input',
    name: 'a shard archive with an entry "../escaped.bin"',
    timeoutMs: 90_000,
    run: refusesArchive(async () => patchHeader(writeTar([...files(await renamedColours()), { path: 'zzzzzzzzzzzzzz', bytes: new Uint8Array([1]) }]), 'zzzzzzzzzzzzzz', setName('../escaped.bin')), ['..']),
  },
  {
    group: 'builder input',
    name: 'a shard archive with an absolute path entry',
    timeoutMs: 90_000,
    run: refusesArchive(async () => patchHeader(writeTar([...files(await renamedColours()), { path: 'zzzzzzzzzzzzzzzzzz', bytes: new Uint8Array([1]) }]), 'zzzzzzzzzzzzzzzzzz', setName('/tmp/escaped.bin')), ['absolute']),
  },
  {
    group: 'builder input',
    name: 'a shard archive with an entry named with a terminal escape sequence (was printed raw before)',
    timeoutMs: 90_000,
    run: refusesArchive(async () => patchHeader(writeTar([...files(await renamedColours()), { path: 'zzzzzzzzzzzzzz', bytes: new Uint8Array([1]) }]), 'zzzzzzzzzzzzzz', setName('\u001b[31mred\u0007')), ['\\u001b[31mred\\u0007', 'control character']),
  },
  {
    group: 'builder input',
    name: 'a shard archive with a symbolic link entry (index.bin → /etc/passwd)',
    timeoutMs: 90_000,
    run: refusesArchive(
      async () =>
        patchHeader(writeTar(files(await renamedColours())), 'index.bin', (h) => {
          h[156] = '2'.charCodeAt(0);
          h.set(new TextEncoder().encode('/etc/passwd'), 157);
        }),
      [/link/i],
    ),
  },
  {
    group: 'builder input',
    name: 'a shard archive with a damaged header checksum',
    timeoutMs: 90_000,
    run: refusesArchive(async () => {
      const tar = writeTar(files(await renamedColours()));
      tar[5] ^= 0x20; // a byte of the first name, checksum left as it was
      return tar;
    }, ['checksum']),
  },
  {
    group: 'builder input',
    name: 'a shard archive cut off inside index.bin',
    timeoutMs: 90_000,
    run: refusesArchive(async () => writeTar(files(await renamedColours())).slice(0, 2000), [/truncated|cut off|ends/i]),
  },
  {
    group: 'builder input',
    name: 'a shard archive whose index.bin does not match its manifest',
    timeoutMs: 90_000,
    run: refusesArchive(async () => {
      const f = await renamedColours();
      const bin = f['index.bin'].slice();
      bin[bin.length - 1] ^= 0xff;
      return writeTar(files({ ...f, 'index.bin': bin }));
    }, ['index.bin']),
  },
  {
    group: 'builder input',
    name: 'a shard archive whose model ids clash with the base',
    timeoutMs: 90_000,
    run: refusesArchive(() => writeTar(files(shippedIndex('colours'))), ['duplicate model ids', 'theirs.shard.tar'], false),
  },
  {
    group: 'builder input',
    name: 'a PNG named .shard.tar',
    timeoutMs: 90_000,
    run: refusesArchive(() => readFileSync(join(import.meta.dirname, '..', '..', 'public', 'icons', 'icon-192.png')), [/tar|archive|checksum/i]),
  },
  {
    group: 'builder input',
    name: 'a shard archive of 20 000 empty entries (more than the 10 000 allowed)',
    timeoutMs: 90_000,
    run: refusesArchive(async () => writeTar([...files(await renamedColours()), ...Array.from({ length: 20_000 }, (_, i) => ({ path: `pad/${i}`, bytes: new Uint8Array(0) }))]), ['10000']),
  },
];

defineHostileCases(cases);
