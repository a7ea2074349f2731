import { gaussianTerms, SectionKind } from '../../src/core/index/indexFormat.ts';
import type { OpenedIndex } from '../../src/core/index/openIndex.ts';
import { packedRowOffset, packedSize } from '../../src/core/math/linalg.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { rank } from '../../src/core/scoring/rank.ts';
import { appBannerFor, cosineReference, editF32, editRaw, header, manifestOf, modelsOf, openFiles, relayout, section, shippedIndex, withBinary, withManifest, withModels, writeFolder, type IndexFiles } from './craft.ts';
import { errorText, expectRefusal, handled, judgeError, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { judgeRefusal, runTool } from './cliRun.ts';
import { defineHostileCases } from './runner.ts';

/**
 * Index files with crafted values and recomputed checksums, opened through openIndex (the worker's
 * and the CLIs' one way in), then ranked. A refusal must name the file and, for a value of one
 * model, that model's id; an accepted file must rank exactly like an independent float64 reference.
 */

const colours = () => shippedIndex('colours'); // 12 models, dim 32, f32 Gaussians, samples
const demo = () => shippedIndex('demo'); // 300 models, dim 64, f16 Gaussians, samples

const idOf = (f: IndexFiles, m: number) => String(modelsOf(f)[m].id);

/** A fixed unit query of the index's dimension. */
function queryFor(dim: number, seed = 11): Float32Array {
  const next = mulberry32(seed);
  const q = Float64Array.from({ length: dim }, () => next() - 0.5);
  const n = Math.hypot(...q);
  return Float32Array.from(q, (v) => v / n);
}

/** Ranks with a fixed query embedding under `method`; returns the ids of the top 10. */
async function top10(opened: OpenedIndex, method: 'first-moment' | 'gaussian' | 'first-second-moment' = 'first-moment', seed = 11): Promise<string[]> {
  const q = queryFor(opened.index.dim, seed);
  const r = await rank(opened, { parts: [{ part: { kind: 'text', text: 'probe' }, weight: 1 }], method, hybridWeight: 0, topK: 10 }, async () => q);
  return r.results.map((x) => opened.models[x.index].id);
}

/** Reference: cosine of the query with each mean in float64, ties by position, from the raw files. */
function referenceTop10(f: IndexFiles, seed = 11): string[] {
  const bin = f['index.bin'];
  const { dim } = header(bin);
  const s = section(bin, SectionKind.Means);
  const means = new Float32Array(bin.buffer.slice(bin.byteOffset + s.offset, bin.byteOffset + s.offset + s.byteLength));
  return cosineReference(means, dim, queryFor(dim, seed), modelsOf(f).map((m) => String(m.id)), 10);
}

/** Opens and ranks crafted files: a refusal naming `names` is clear; ranking anyway is silent wrong. */
function refused(make: () => Promise<IndexFiles>, names: (string | RegExp)[], method?: 'first-moment' | 'gaussian' | 'first-second-moment'): () => Promise<Verdict> {
  return async () => {
    const files = await make();
    return expectRefusal(
      async () => top10(await openFiles(files), method),
      names,
      (ids) => silentWrong(`opened and ranked: ${ids.slice(0, 3).join(', ')}…`),
    );
  };
}

/** Opens and ranks crafted files that are still honest: the ranking must equal the reference. */
function sameRanking(make: () => Promise<IndexFiles>): () => Promise<Verdict> {
  return async () => {
    const files = await make();
    let got: string[];
    try {
      got = await top10(await openFiles(files));
    } catch (err) {
      return judgeError(errorText(err));
    }
    const want = referenceTop10(files);
    return got.join() === want.join() ? handled(`ranked as the float64 reference (${got.slice(0, 3).join(', ')}…)`) : silentWrong(`ranked ${got.join(', ')}, reference ${want.join(', ')}`);
  };
}

/** Patches model m's f32 precision factor with `edit`, then re-derives b and the log-determinant so they agree. */
function withFactor(f: IndexFiles, m: number, edit: (w: Float32Array, P: number) => void): Uint8Array {
  const { dim } = header(f['index.bin']);
  const P = packedSize(dim);
  let bin = editF32(f['index.bin'], SectionKind.Precision, (w) => edit(w.subarray(m * P, (m + 1) * P), P));
  const ms = section(bin, SectionKind.Means);
  const means = new Float32Array(bin.buffer.slice(ms.offset, ms.offset + ms.byteLength));
  const ps = section(bin, SectionKind.Precision);
  const precision = new Float32Array(bin.buffer.slice(ps.offset, ps.offset + ps.byteLength));
  const { bias, logDet } = gaussianTerms(dim, means, { dtype: 'f32', data: precision });
  bin = editF32(bin, SectionKind.PrecisionBias, (b) => b.set(bias));
  return editF32(bin, SectionKind.LogDet, (l) => l.set(logDet));
}

const INDEX = 'index.bin';

const cases: HostileCase[] = [
  // --- The probe's findings ---------------------------------------------------------------------
  {
    group: 'index file',
    finding: true,
    name: 'a model with |μ| = 1e-5 and a stored norm of 1e-45 (ranked first with +∞ before)',
    run: async () => {
      const f = demo();
      const { dim } = header(f['index.bin']);
      let bin = editF32(f['index.bin'], SectionKind.Means, (mu) => {
        for (let j = 0; j < dim; j++) mu[5 * dim + j] = j === 0 ? 1e-5 : 0;
      });
      bin = editF32(bin, SectionKind.Norms, (n) => (n[5] = 1e-45));
      return refused(() => withBinary(f, bin), [INDEX, idOf(f, 5), 'Norms'])();
    },
  },
  {
    group: 'index file',
    finding: true,
    name: 'a precision factor with ε = 1e-12 and off-diagonals 6e4, b and log-det consistent (1st+2nd moment NaN before)',
    run: async () => {
      const f = colours();
      const { dim } = header(f['index.bin']);
      let bin = withFactor(f, 3, (w) => {
        for (let i = 0; i < dim; i++) for (let j = 0; j <= i; j++) w[packedRowOffset(i) + j] = i === j ? 1 : 6e4;
      });
      bin = editF32(bin, SectionKind.Epsilon, (e) => (e[3] = 1e-12));
      return refused(() => withBinary(f, bin), [INDEX, idOf(f, 3), 'Precision'], 'first-second-moment')();
    },
  },
  {
    group: 'index file',
    finding: true,
    name: 'a NaN in the first model’s mean (blocked the top-k heap before)',
    run: refused(async () => {
      const f = demo();
      return withBinary(f, editF32(f['index.bin'], SectionKind.Means, (mu) => (mu[0] = NaN)));
    }, [INDEX, 'Means']),
  },
  {
    group: 'index file',
    finding: true,
    name: 'duplicate ids in models.json (“more like this” on one searched the other before)',
    run: async () => {
      const f = colours();
      const models = modelsOf(f);
      models[7].id = models[3].id;
      return refused(() => withModels(f, models), ['models.json', String(models[3].id)])();
    },
  },
  {
    group: 'index file',
    name: 'an empty id in models.json',
    run: async () => {
      const f = colours();
      const models = modelsOf(f);
      models[2].id = '   ';
      return refused(() => withModels(f, models), ['models.json', 'empty id'])();
    },
  },
  // --- Values inside the bounds that honest statistics never take ----------------------------------
  ...(
    [
      ['a NaN in model 7’s mean', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Means, (mu) => (mu[7 * header(f['index.bin']).dim + 3] = NaN)), ['Means']],
      ['+∞ in the Norms section', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Norms, (n) => (n[4] = Infinity)), ['Norms']],
      ['a stored norm twice |μ|', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Norms, (n) => (n[6] *= 2)), ['Norms', 6]],
      [
        'a mean 1.5× longer (norm stored to match)',
        (f: IndexFiles) => {
          const { dim } = header(f['index.bin']);
          const bin = editF32(f['index.bin'], SectionKind.Means, (mu) => {
            for (let j = 0; j < dim; j++) mu[2 * dim + j] *= 1.5 / Math.hypot(...mu.subarray(2 * dim, 3 * dim));
          });
          return editF32(bin, SectionKind.Norms, (n) => (n[2] = 1.5));
        },
        ['Means', 2],
      ],
      ['a precision bias (b) off by 0.5', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.PrecisionBias, (b) => (b[40] += 0.5)), ['PrecisionBias', 1]],
      ['a log-determinant off by 10', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.LogDet, (l) => (l[9] += 10)), ['LogDet', 9]],
      ['ε = 0', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Epsilon, (e) => (e[1] = 0)), ['Epsilon', 1]],
      ['ε = −0.001', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Epsilon, (e) => (e[1] = -0.001)), ['Epsilon', 1]],
      ['ε = 1e7', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Epsilon, (e) => (e[8] = 1e7)), ['Epsilon', 8]],
      ['ε raised to 10 (the factor no longer fits it)', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Epsilon, (e) => (e[8] = 10)), ['Precision', 8]],
      ['a precision entry of 1e6 (beyond 1/√ε), b and log-det consistent', (f: IndexFiles) => withFactor(f, 4, (w) => (w[packedRowOffset(5) + 2] = 1e6)), ['Precision', 4]],
      ['a precision diagonal of 0.1, b and log-det consistent', (f: IndexFiles) => withFactor(f, 10, (w) => (w[packedRowOffset(7) + 7] = 0.1)), ['Precision', 10]],
      [
        // log of a negative diagonal: the writer's log-determinant is NaN, and the reader names it.
        'a negative precision diagonal, b and log-det derived from it',
        (f: IndexFiles) => withFactor(f, 0, (w) => (w[0] = -1)),
        [/Precision|LogDet/, 0],
      ],
      [
        'a factor 30× too large everywhere (consistent b and log-det)',
        (f: IndexFiles) => withFactor(f, 6, (w) => w.forEach((v, i) => (w[i] = v * 30))),
        ['Precision', 6],
      ],
      [
        'a factor whose inverse is 3× too large (each row scaled by 1/3, diagonal kept ≥ 0.5)',
        (f: IndexFiles) => {
          const { dim } = header(f['index.bin']);
          return withFactor(f, 11, (w) => {
            for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) w[packedRowOffset(i) + j] *= 40;
          });
        },
        ['Precision', 11],
      ],
      ['a kept sample 3× longer than a unit vector', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Samples, (x) => x.subarray(0, 32).forEach((v, i, a) => (a[i] = v * 3))), ['sample']],
      ['a NaN in a kept sample', (f: IndexFiles) => editF32(f['index.bin'], SectionKind.Samples, (x) => (x[100] = NaN)), ['Samples']],
      [
        'decreasing sample offsets',
        (f: IndexFiles) => editRaw(f['index.bin'], (v) => v.setUint32(section(f['index.bin'], SectionKind.SampleOffsets).offset + 8, 1, true)),
        ['offsets'],
      ],
      [
        'sample offsets claiming 2³² − 1 samples',
        (f: IndexFiles) => editRaw(f['index.bin'], (v) => v.setUint32(section(f['index.bin'], SectionKind.SampleOffsets).offset + 4 * 12, 0xffffffff, true)),
        [INDEX],
      ],
    ] as [string, (f: IndexFiles) => Uint8Array, (string | number | RegExp)[]][]
  ).map(
    ([name, make, names]): HostileCase => ({
      group: 'index file',
      name: `colours index: ${name}`,
      run: async () => {
        const f = colours();
        const bin = make(f);
        const wanted = names.map((n) => (typeof n === 'number' ? idOf(f, n) : n));
        return refused(() => withBinary(f, bin), [INDEX, ...wanted], name.includes('Precision') || name.includes('factor') ? 'first-second-moment' : 'gaussian')();
      },
    }),
  ),
  // --- Structure -------------------------------------------------------------------------------------
  ...(
    [
      ['wrong magic number', (b: Uint8Array) => editRaw(b, (_v, x) => x.set([0x50, 0x4b, 0x03, 0x04], 0)), /magic/],
      ['format version 2', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(4, 2, true)), /version 2/],
      ['dimension 0 in the header', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(8, 0, true)), /dimension/],
      ['dimension 33 in the header (manifest says 32)', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(8, 33, true)), /Means|dimension/],
      ['count 13 in the header (manifest says 12)', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(12, 13, true)), /bytes|count/],
      ['1 000 sections in the header', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(16, 1000, true)), /sections/],
      ['truncated by 1 000 bytes', (b: Uint8Array) => b.slice(0, b.byteLength - 1000), /past the end|truncated/],
      ['zero bytes', () => new Uint8Array(0), /0 bytes/],
      ['a section offset that is not 64-byte aligned', (b: Uint8Array) => editRaw(b, (v) => v.setBigUint64(64 + 32 + 8, v.getBigUint64(64 + 32 + 8, true) + 4n, true)), /aligned/],
      [
        'the Precision section pointed at the Means',
        (b: Uint8Array) => editRaw(b, (v) => v.setBigUint64(64 + 32 * section(b, SectionKind.Precision).slot + 8, BigInt(section(b, SectionKind.Means).offset), true)),
        /overlap|bytes/,
      ],
      ['the Means section listed twice', (b: Uint8Array) => relayout(b, (s) => [...s, s[0]]), /twice/],
      ['the Means section stored as fp16', (b: Uint8Array) => editRaw(b, (v) => v.setUint32(64 + 32 * section(b, SectionKind.Means).slot + 4, 2, true)), /data type|bytes/],
      ['the Norms section missing', (b: Uint8Array) => relayout(b, (s) => s.filter((x) => x.kind !== SectionKind.Norms)), /Norms/],
    ] as [string, (b: Uint8Array) => Uint8Array, RegExp][]
  ).map(
    ([name, make, pattern]): HostileCase => ({
      group: 'index file',
      name: `structure: ${name}`,
      run: async () => {
        const f = colours();
        return refused(() => withBinary(f, make(f['index.bin'])), [INDEX, pattern])();
      },
    }),
  ),
  {
    group: 'index file',
    name: 'an unknown extra section (a newer writer’s) is skipped: same ranking',
    run: sameRanking(async () => {
      const f = colours();
      return withBinary(f, relayout(f['index.bin'], (s) => [...s, { kind: 99, dtype: 1, data: new Uint8Array(256).fill(7) }]));
    }),
  },
  {
    group: 'index file',
    name: 'sections stored in reverse order: same ranking',
    run: sameRanking(async () => {
      const f = colours();
      return withBinary(f, relayout(f['index.bin'], (s) => [...s].reverse()));
    }),
  },
  {
    group: 'index file',
    name: 'every model with the same mean (ties): ranked by position, as the reference',
    run: sameRanking(async () => {
      const f = colours();
      const { dim } = header(f['index.bin']);
      // Gaussians dropped: a shared mean with each model's own factor would fail the b = Wμ check.
      let bin = relayout(f['index.bin'], (s) => s.filter((x) => x.kind === SectionKind.Means || x.kind === SectionKind.Norms));
      bin = editF32(bin, SectionKind.Means, (mu) => {
        for (let m = 1; m < 12; m++) mu.copyWithin(m * dim, 0, dim);
      });
      bin = editF32(bin, SectionKind.Norms, (n) => n.fill(n[0]));
      return withBinary(f, bin);
    }),
  },
  // --- models.json ---------------------------------------------------------------------------------
  { group: 'index file', name: 'models.json that is not JSON', run: refused(async () => withModels(colours(), '[{"id": "a",'), ['models.json', 'JSON']) },
  { group: 'index file', name: 'models.json served as an HTML page', run: refused(async () => withModels(colours(), '<!doctype html><title>Not found</title>'), ['models.json', 'web page']) },
  { group: 'index file', name: 'models.json listing 11 models for 12', run: refused(async () => withModels(colours(), modelsOf(colours()).slice(1)), ['models.json', '11']) },
  { group: 'index file', name: 'models.json that is an object, not a list', run: refused(async () => withModels(colours(), { models: modelsOf(colours()) }), ['models.json', 'list']) },
  {
    group: 'index file',
    finding: true,
    name: 'a 10 MB description in models.json',
    run: async () => {
      const f = colours();
      const models = modelsOf(f);
      models[4].description = 'x'.repeat(10_000_000);
      return refused(() => withModels(f, models), ['models.json', 'description', String(models[4].id)])();
    },
  },
  {
    group: 'index file',
    name: 'a "__proto__" key in a model does not reach Object.prototype',
    run: async () => {
      const f = colours();
      const raw = new TextDecoder().decode(f['models.json']).replace('{', '{"__proto__": {"polluted": "yes"}, ');
      const files = await withModels(f, raw);
      const opened = await openFiles(files);
      const polluted = ({} as Record<string, unknown>).polluted !== undefined || (opened.models[0] as unknown as Record<string, unknown>).polluted !== undefined;
      if (polluted) return silentWrong('the key reached an object prototype');
      const got = await top10(opened);
      const want = referenceTop10(files);
      return got.join() === want.join() ? handled('no prototype touched; ranked as the reference') : silentWrong(`ranked ${got.join(', ')}, reference ${want.join(', ')}`);
    },
  },
  // --- The manifest --------------------------------------------------------------------------------
  {
    group: 'manifest',
    name: 'index.bin changed but the manifest’s SHA-256 not',
    run: refused(async () => {
      const f = colours();
      return { ...f, 'index.bin': editF32(f['index.bin'], SectionKind.Means, (mu) => (mu[0] += 1e-3)) };
    }, [INDEX, /SHA-256|checksum|damaged|integrity/i]),
  },
  {
    group: 'manifest',
    name: 'a manifest declaring index.bin 64 bytes shorter',
    run: refused(() => withManifest(colours(), (m) => ((m.files as Record<string, { bytes: number }>)['index.bin'].bytes -= 64), true), [INDEX]),
  },
  {
    group: 'manifest',
    name: 'an unknown encoder id (CLI text search)',
    run: async ({ tmp }) => cliRefuses(await withManifest(colours(), (m) => ((m.encoder as { id: string }).id = 'evil-encoder')), tmp, ['--text', 'red'], ['evil-encoder']),
  },
  { group: 'manifest', name: 'an encoder dimension of 64 for a 32-dimensional file', run: refused(() => withManifest(colours(), (m) => ((m.encoder as { dim: number }).dim = 64)), [/dimension|64 values/]) },
  { group: 'manifest', name: 'formatVersion 2', run: refused(() => withManifest(colours(), (m) => (m.formatVersion = 2)), [/version/i]) },
  { group: 'manifest', name: 'a count of −1', run: refused(() => withManifest(colours(), (m) => (m.count = -1)), [/count/]) },
  { group: 'manifest', name: 'no files listed', run: refused(() => withManifest(colours(), (m) => delete m.files, true), [/files|checksums/]) },
  {
    group: 'manifest',
    name: 'a calibration with nullWeight 5',
    run: refused(() => withManifest(colours(), (m) => (((m.calibration as { kinds: Record<string, Record<string, unknown>> }).kinds.text.nullWeight = 5))), ['calibration']),
  },
  {
    group: 'manifest',
    name: 'a calibration threshold given as the string "NaN"',
    run: refused(() => withManifest(colours(), (m) => (((m.calibration as { kinds: Record<string, Record<string, unknown>> }).kinds.text.threshold = 'NaN'))), ['calibration']),
  },
  { group: 'manifest', name: 'a temperature of −100', run: refused(() => withManifest(colours(), (m) => (((m.params as Record<string, unknown>).temperature = -100))), [/temperature/i]) },
  {
    group: 'manifest',
    name: 'a manifest that is an HTML page',
    run: refused(async () => ({ ...colours(), 'manifest.json': new TextEncoder().encode('<!DOCTYPE html><html><body>SPA</body></html>') }), ['manifest', 'web page']),
  },
  {
    group: 'manifest',
    name: 'a manifest of 3 bytes of binary',
    run: refused(async () => ({ ...colours(), 'manifest.json': Uint8Array.of(0xff, 0xfe, 0x00) }), ['manifest', 'JSON']),
  },
  {
    group: 'manifest',
    name: 'a manifest of the right shape with examples of 100 000 characters',
    run: async () => {
      const files = await withManifest(colours(), (m) => (m.examples = ['y'.repeat(100_000)]));
      return expectRefusal(
        () => openFiles(files),
        ['example'],
        (o) => (o.manifest.examples?.every((e) => e.length <= 1000) ? handled('examples shortened') : silentWrong(`an example of ${o.manifest.examples?.[0]?.length} characters kept`)),
      );
    },
  },
];

/** The probe's three findings again, through the CLI and through the app (what a person sees). */
const tinyMean = async () => {
  const f = demo();
  const { dim } = header(f['index.bin']);
  let bin = editF32(f['index.bin'], SectionKind.Means, (mu) => {
    for (let j = 0; j < dim; j++) mu[5 * dim + j] = j === 0 ? 1e-5 : 0;
  });
  bin = editF32(bin, SectionKind.Norms, (n) => (n[5] = 1e-45));
  return { files: await withBinary(f, bin), id: idOf(f, 5) };
};
const explodingFactor = async () => {
  const f = colours();
  const { dim } = header(f['index.bin']);
  let bin = withFactor(f, 3, (w) => {
    for (let i = 0; i < dim; i++) for (let j = 0; j <= i; j++) w[packedRowOffset(i) + j] = i === j ? 1 : 6e4;
  });
  bin = editF32(bin, SectionKind.Epsilon, (e) => (e[3] = 1e-12));
  return { files: await withBinary(f, bin), id: idOf(f, 3) };
};
const duplicateIds = async () => {
  const f = colours();
  const models = modelsOf(f);
  models[7].id = models[3].id;
  return { files: await withModels(f, models), id: String(models[3].id) };
};

/** The CLI must exit non-zero with a clear "error: …" line naming `names`, and no stack trace. */
async function cliRefuses(files: IndexFiles, tmp: string, args: string[], names: (string | RegExp)[]): Promise<Verdict> {
  const dir = writeFolder(`${tmp}/crafted`, files);
  return judgeRefusal(await runTool('search', ['--index', dir, ...args, '--json']), names);
}

async function appRefuses(ctx: { browser: import('@playwright/test').Browser; baseURL: string }, files: IndexFiles, names: string[]): Promise<Verdict> {
  const seen = await appBannerFor(ctx.browser, ctx.baseURL, files, 'red');
  if (seen.banner === null) return silentWrong(`the app ranked ${seen.results.slice(0, 3).join(', ')}…`);
  return judgeError(seen.banner, names);
}

cases.push(
  { group: 'index file', finding: true, name: 'CLI: the tiny-mean model', timeoutMs: 60_000, run: async ({ tmp }) => { const c = await tinyMean(); return cliRefuses(c.files, tmp, ['--text', 'red flowers'], ['index.bin', c.id]); } },
  { group: 'index file', finding: true, name: 'CLI: the exploding factor, 1st+2nd moment', timeoutMs: 60_000, run: async ({ tmp }) => { const c = await explodingFactor(); return cliRefuses(c.files, tmp, ['--text', 'red', '--method', 'first-second-moment'], ['index.bin', c.id]); } },
  { group: 'index file', finding: true, name: 'CLI: duplicate ids, "more like this"', timeoutMs: 60_000, run: async ({ tmp }) => { const c = await duplicateIds(); return cliRefuses(c.files, tmp, ['--like', c.id], ['models.json', c.id]); } },
  { group: 'index file', finding: true, name: 'app: the tiny-mean model', timeoutMs: 90_000, run: async (ctx) => { const c = await tinyMean(); return appRefuses(ctx, c.files, ['index.bin', c.id]); } },
  { group: 'index file', finding: true, name: 'app: the exploding factor', timeoutMs: 90_000, run: async (ctx) => { const c = await explodingFactor(); return appRefuses(ctx, c.files, ['index.bin', c.id]); } },
  { group: 'index file', finding: true, name: 'app: duplicate ids', timeoutMs: 90_000, run: async (ctx) => { const c = await duplicateIds(); return appRefuses(ctx, c.files, ['models.json', c.id]); } },
);

defineHostileCases(cases);
