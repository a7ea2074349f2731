import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rankTiered } from '../../src/core/index/tieredRank.ts';
import { codeBytesPerModel, codeStride } from '../../src/core/index/codeBlocks.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { openLocalTiered } from '../../tools/lib/localIndex.ts';
import { runCli } from '../../tools/lib/indexBuilder/cli.ts';
import { judgeRefusal, runTool } from './cliRun.ts';
import { header, section, sections } from './craft.ts';
import { expectRefusal, handled, silentWrong, type HostileCase } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/*
 * Sign-coded tiered indexes (docs/index-format.md, "Sign-coded heads") that lie: the tiered demo
 * re-packed with `merge --prefilter sign` (what a site does for ~1M models), with one thing about
 * codes.bin or its table broken and every checksum that covers it recomputed (the CodesTable's hash
 * of a code block, the manifest's hashes), so only the readers' own checks stand in the way. Ranked
 * in Node as `npm run search` ranks (openLocalTiered + rankTiered) and through the CLI itself.
 * Each case must end in a clear message naming the file, or in the honest index's exact ranking.
 */

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'index', 'demo-tiered');
/** Head sections (docs/index-format.md, "Version 2"). */
const SIGN_CODES = 34;
const CODES_TABLE = 40;

type Files = Map<string, Uint8Array>;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

let built: Promise<Files> | undefined;
/** A fresh copy of the sign-coded demo's files (re-packed once per run, in a temporary folder). */
async function signFiles(): Promise<Files> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-signs-'));
    try {
      const out = join(dir, 'index');
      const code = await runCli(['merge', '--format', 'tiered', '--prefilter', 'sign', '--thumbnail-base', '../demo/', '--quiet', '--out', out, DEMO]);
      if (code !== 0) throw new Error(`re-packing the tiered demo as sign-coded failed (exit ${code})`);
      const files: Files = new Map();
      for (const e of readdirSync(out, { recursive: true, withFileTypes: true })) {
        if (e.isFile()) files.set(join(e.parentPath, e.name).slice(out.length + 1), new Uint8Array(readFileSync(join(e.parentPath, e.name))));
      }
      return files;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return new Map([...(await built)].map(([k, v]) => [k, v.slice()]));
}

const manifestOf = (f: Files) => JSON.parse(text(f.get('manifest.json')!)) as { files: Record<string, { bytes: number; sha256: string }> } & Record<string, unknown>;
const setManifest = (f: Files, m: unknown) => f.set('manifest.json', utf8(JSON.stringify(m, null, 1)));

/** Replaces a listed file and records its new size and SHA-256 in the manifest. */
async function replaceListed(f: Files, file: 'head.bin' | 'codes.bin', bytes: Uint8Array): Promise<Files> {
  f.set(file, bytes);
  const m = manifestOf(f);
  m.files[file] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  setManifest(f, m);
  return f;
}

/**
 * Code block `b` of codes.bin edited in place; with `rehash`, its CodesTable entry, head.bin's and
 * codes.bin's manifest hashes are recomputed, so only the block's content is wrong.
 */
async function editCodeBlock(f: Files, b: number, edit: (view: DataView, models: number, stride: number) => void, rehash: boolean): Promise<Files> {
  const head = f.get('head.bin')!.slice();
  const { dim } = header(head);
  const perBlock = (manifestOf(f).tiered as { modelsPerBlock: number }).modelsPerBlock;
  const per = codeBytesPerModel(dim);
  const codes = f.get('codes.bin')!.slice();
  const start = b * perBlock * per;
  const models = Math.min(perBlock, codes.byteLength / per - b * perBlock);
  edit(new DataView(codes.buffer, start, models * per), models, codeStride(dim));
  if (rehash) {
    const sha = await sha256Hex(codes.subarray(start, start + models * per));
    const at = section(head, CODES_TABLE).offset + b * 32;
    for (let i = 0; i < 32; i++) head[at + i] = parseInt(sha.slice(2 * i, 2 * i + 2), 16);
    await replaceListed(f, 'head.bin', head);
  }
  return replaceListed(f, 'codes.bin', codes);
}

const nanNorm = (f: Files) => editCodeBlock(f, 2, (v, models, stride) => v.setFloat32(models * stride + 4, NaN, true), true);
/** Model 0 of block 1: its norm says 0.01 while its codes say ≈ 1: a cosine 100× too large if believed. */
const normDisagrees = (f: Files) => editCodeBlock(f, 1, (v, models, stride) => v.setFloat32(models * stride + 4, 0.01, true), true);
const zeroPrecision = (f: Files) => editCodeBlock(f, 3, (v, models, stride) => v.setFloat32(models * stride + 8, 0, true), true);
/** One int8 code flipped without a new hash: the block fails its SHA-256. */
const flippedCode = (f: Files) => editCodeBlock(f, 0, (v) => v.setInt8(5, -v.getInt8(5) - 1), false);
const codesTruncated = (f: Files) => replaceListed(f, 'codes.bin', f.get('codes.bin')!.slice(0, -528));
const codesSizeLie = (f: Files) => {
  const m = manifestOf(f);
  m.files['codes.bin']!.bytes += 4;
  setManifest(f, m);
  return f;
};
const codesUnlisted = (f: Files) => {
  const m = manifestOf(f);
  delete m.files['codes.bin'];
  setManifest(f, m);
  return f;
};
/** The head's SignCodes section renamed to an unknown kind: a CodesTable without sign codes to rank by. */
const noSignCodes = (f: Files) => {
  const head = f.get('head.bin')!.slice();
  const slot = sections(head).find((s) => s.kind === SIGN_CODES)!.slot;
  new DataView(head.buffer).setUint32(64 + slot * 32, 99, true);
  return replaceListed(f, 'head.bin', head);
};
/** The CodesTable cut by one entry (its section length shortened). */
const shortCodesTable = (f: Files) => {
  const head = f.get('head.bin')!.slice();
  const slot = sections(head).find((s) => s.kind === CODES_TABLE)!.slot;
  const v = new DataView(head.buffer);
  v.setBigUint64(64 + slot * 32 + 16, v.getBigUint64(64 + slot * 32 + 16, true) - 32n, true);
  return replaceListed(f, 'head.bin', head);
};

function writeFiles(dir: string, f: Files): string {
  for (const [path, bytes] of f) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  return dir;
}

/** A query over every code block: the shortlist is the whole demo, so any broken block is read. */
async function rankOnce(dir: string, q: Float32Array): Promise<string[]> {
  const t = await openLocalTiered(dir);
  const ranking = await rankTiered(
    { head: t.head, calibration: t.calibration, nullText: t.nullText },
    { parts: [{ part: { kind: 'text', text: 'fixed' }, weight: 1 }], method: 'first-moment', topK: 10 },
    async () => q,
    { fetchBlocks: t.fetchBlocks, cache: t.cache, fetchCodeBlocks: t.fetchCodeBlocks, codeCache: t.codeCache, shortlist: t.head.count },
  );
  return (await t.meta(ranking.results.map((r) => r.index))).map((m) => m.id);
}

let reference: Promise<{ q: Float32Array; ids: string[] }> | undefined;
function honest(tmp: string): Promise<{ q: Float32Array; ids: string[] }> {
  reference ??= (async () => {
    const dir = writeFiles(join(tmp, 'honest'), await signFiles());
    const q = Float32Array.from({ length: header((await signFiles()).get('head.bin')!).dim }, (_, j) => Math.sin(j + 1));
    const n = Math.hypot(...q);
    q.forEach((v, j) => (q[j] = v / n));
    return { q, ids: await rankOnce(dir, q) };
  })();
  return reference;
}

function nodeCase(name: string, craft: (f: Files) => Files | Promise<Files>, names: (string | RegExp)[]): HostileCase {
  return {
    group: 'index file',
    name: `sign-coded (Node): ${name}`,
    timeoutMs: 30_000,
    async run({ tmp }) {
      const { q, ids } = await honest(tmp);
      const dir = writeFiles(join(tmp, 'crafted'), await craft(await signFiles()));
      return expectRefusal(
        () => rankOnce(dir, q),
        names,
        (got) => (JSON.stringify(got) === JSON.stringify(ids) ? handled(`ranked as the honest index: ${got.slice(0, 3).join(', ')}…`) : silentWrong(`ranked ${got.slice(0, 5).join(', ')} instead of ${ids.slice(0, 5).join(', ')}`)),
      );
    },
  };
}

function cliCase(name: string, craft: (f: Files) => Files | Promise<Files>, names: (string | RegExp)[]): HostileCase {
  return {
    group: 'CLI argument',
    name: `sign-coded (npm run search): ${name}`,
    timeoutMs: 40_000,
    async run({ tmp }) {
      const files = await craft(await signFiles());
      const dir = writeFiles(join(tmp, 'crafted'), files);
      const like = (JSON.parse(text(files.get('meta/0.json')!)) as { id: string }[])[0]!.id;
      const r = await runTool('search', ['--index', dir, '--like', like, '--shortlist', '300', '--json'], { timeoutMs: 35_000 });
      return judgeRefusal(r, names);
    },
  };
}

defineHostileCases([
  nodeCase('a code block with a NaN norm (hashes recomputed)', nanNorm, ['codes.bin', /norm/]),
  nodeCase('a code block whose norm disagrees with its codes (hashes recomputed)', normDisagrees, ['codes.bin', /does not match its codes/]),
  nodeCase('a code block with a zero mean precision (hashes recomputed)', zeroPrecision, ['codes.bin', /precision/]),
  nodeCase('a code block whose bytes do not match the CodesTable', flippedCode, ['codes.bin', /SHA-256/]),
  nodeCase('codes.bin one model short (manifest re-hashed)', codesTruncated, ['codes.bin']),
  nodeCase('a manifest that lies about codes.bin’s size', codesSizeLie, ['codes.bin']),
  nodeCase('a sign-coded head whose manifest does not list codes.bin', codesUnlisted, ['codes.bin']),
  nodeCase('a CodesTable without sign codes to rank by', noSignCodes, ['head.bin', /SignCodes/]),
  nodeCase('a CodesTable one entry short', shortCodesTable, ['head.bin', /CodesTable/]),
  cliCase('a code block whose bytes do not match the CodesTable', flippedCode, ['codes.bin']),
  cliCase('codes.bin one model short', codesTruncated, ['codes.bin']),
]);
