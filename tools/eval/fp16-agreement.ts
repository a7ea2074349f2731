/**
 * How often the Gaussian-density top 10 on an fp16 index equals the top 10 on an f32 index of the
 * same statistics, over the eval query sets (image, sketch, text) of the 300-model eval zoo.
 *
 *   npx tsx tools/eval/fp16-agreement.ts [--cache .cache/eval] [--out file.json]
 *
 * Reuses the eval zoo and the embedding cache that `npm run eval` leaves in <cache> (generating
 * the zoo when it is missing), builds one f32 index of the zoo (ε = 1e-3, like the eval index),
 * and derives from its factors:
 *   f16            the factor rounded to fp16 by writeIndex, b = Wμ and the log-determinant derived
 *                  from the rounded factor (what the builder writes now);
 *   f16-unmatched  the same fp16 factor with b and the log-determinant of the f32 factor, i.e. of
 *                  the factor before rounding (what the builder wrote before; the f32 factor
 *                  differs from the float64 one by 2⁻²⁴ relative, far below the fp16 rounding).
 * Each is compared with the f32 index: top 10 identical (same ids, same order), same set, same
 * top 1, and the ground-truth model's top-1 / top-10 hit rates of each.
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { DType, SectionKind, layoutIndex, readIndex, writeIndex, type SearchIndex } from '../../src/core/index/indexFormat.ts';
import { scoreMethod } from '../../src/core/scoring/methods.ts';
import { topK } from '../../src/core/scoring/topK.ts';
import { buildIndex } from '../lib/indexBuilder/buildIndex.ts';
import { NodeEncoder } from '../lib/nodeEncoder.ts';
import { embedImageFiles, embedTexts, readQueryFile } from './queries.ts';
import { ensureEvalZoo } from './zoo.ts';

const TOP = 10;
const { values } = parseArgs({ options: { cache: { type: 'string', default: '.cache/eval' }, out: { type: 'string' } } });
const cache = values.cache!;
const log = (s: string) => console.log(s);

const desc = ENCODERS['zoo-encoder'];
const zoo = await ensureEvalZoo(cache, { models: 300, samples: 32, seed: 0, textPerModel: 3 }, log);

// The embedding cache npm run eval keyed by the zoo encoder's weights (the newest such folder).
const embRoot = join(cache, 'embeddings');
const candidates = (await readdir(embRoot).catch(() => [] as string[])).filter((d) => d.startsWith(`${desc.id}-`));
const withTimes = await Promise.all(candidates.map(async (d) => ({ d, t: (await stat(join(embRoot, d))).mtimeMs })));
const cacheDir = withTimes.sort((a, b) => b.t - a.t)[0]?.d;
log(`zoo ${zoo.dir}; embedding cache ${cacheDir ?? '(none: every image is embedded)'}`);

const encoder = await NodeEncoder.load(desc);
const work = await mkdtemp(join(tmpdir(), 'fp16-agreement-'));
let f32: SearchIndex;
let ids: string[];
try {
  const out = join(work, 'f32');
  const report = await buildIndex(
    {
      modelsDir: zoo.modelsDir,
      outDir: out,
      encoderId: desc.id,
      name: 'eval-f32',
      licence: 'CC0-1.0',
      precision: 'f32',
      keepSamples: 0,
      epsilon: 1e-3,
      thumbnails: 0,
      cacheDir: cacheDir ? join(embRoot, cacheDir) : null,
      force: true,
    },
    { encoder },
  );
  if (!report.ok) throw new Error('the f32 eval index did not build');
  f32 = readIndex(new Uint8Array(await readFile(join(out, 'index.bin'))));
  ids = (JSON.parse(await readFile(join(out, 'models.json'), 'utf8')) as { id: string }[]).map((m) => m.id);
} finally {
  await rm(work, { recursive: true, force: true });
}

const g = f32.gaussian!;
const { dim, means } = f32;
const f16Bytes = writeIndex({ dim, means, gaussian: { precision: g.precision.data as Float32Array, epsilon: g.epsilon, dtype: 'f16' } });
const f16 = readIndex(f16Bytes);
// The same fp16 factor with b and log-det of the unrounded (f32) factor: the earlier writer's output.
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const unmatched = readIndex(
  layoutIndex(dim, f32.count, [
    { kind: SectionKind.Means, dtype: DType.F32, data: bytesOf(means) },
    { kind: SectionKind.Norms, dtype: DType.F32, data: bytesOf(f32.norms) },
    { kind: SectionKind.Precision, dtype: DType.F16, data: bytesOf(f16.gaussian!.precision.data) },
    { kind: SectionKind.PrecisionBias, dtype: DType.F32, data: bytesOf(g.bias) },
    { kind: SectionKind.LogDet, dtype: DType.F32, data: bytesOf(g.logDet) },
    { kind: SectionKind.Epsilon, dtype: DType.F32, data: bytesOf(g.epsilon) },
  ]),
);
let maxB = 0;
let maxLd = 0;
for (let i = 0; i < g.bias.length; i++) maxB = Math.max(maxB, Math.abs(g.bias[i] - f16.gaussian!.bias[i]));
for (let m = 0; m < f32.count; m++) maxLd = Math.max(maxLd, Math.abs(g.logDet[m] - f16.gaussian!.logDet[m]));
log(`fp16 rounding moves b = Wμ by up to ${maxB.toExponential(2)} and the log-determinant by up to ${maxLd.toExponential(2)}`);

const qf = await readQueryFile(zoo.queriesDir);
const truth = (id: string) => {
  const m = ids.indexOf(id);
  if (m < 0) throw new Error(`query ground truth "${id}" is not a model of the index`);
  return m;
};
const sets = {
  image: { emb: await embedImageFiles(encoder, qf.image.map((q) => join(zoo.queriesDir, q.file))), model: qf.image.map((q) => truth(q.model)) },
  sketch: { emb: await embedImageFiles(encoder, qf.sketch.map((q) => join(zoo.queriesDir, q.file))), model: qf.sketch.map((q) => truth(q.model)) },
  text: { emb: await embedTexts(encoder, qf.text.map((q) => q.text)), model: qf.text.map((q) => truth(q.model)) },
};

const variants = { f32, f16, 'f16-unmatched': unmatched } as const;
const results: Record<string, unknown> = {};
const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
for (const [set, { emb, model }] of Object.entries(sets)) {
  const tops = Object.fromEntries(Object.entries(variants).map(([k, idx]) => [k, emb.map((q) => topK(scoreMethod(idx, 'gaussian', q), TOP).map((r) => r.index))])) as Record<
    keyof typeof variants,
    number[][]
  >;
  const row: Record<string, unknown> = { queries: emb.length };
  for (const v of ['f16', 'f16-unmatched'] as const) {
    let same = 0;
    let sameSet = 0;
    let sameTop1 = 0;
    tops[v].forEach((t, i) => {
      const ref = tops.f32[i];
      if (t.every((x, r) => x === ref[r])) same++;
      if (new Set([...t, ...ref]).size === TOP) sameSet++;
      if (t[0] === ref[0]) sameTop1++;
    });
    row[v] = { identicalTop10: same / emb.length, sameTop10Set: sameSet / emb.length, sameTop1: sameTop1 / emb.length };
    log(`${set.padEnd(6)} ${v.padEnd(13)} top 10 identical to f32: ${pct(same, emb.length)}, same set ${pct(sameSet, emb.length)}, same top 1 ${pct(sameTop1, emb.length)} (${emb.length} queries)`);
  }
  for (const v of Object.keys(variants) as (keyof typeof variants)[]) {
    const hit1 = tops[v].filter((t, i) => t[0] === model[i]).length;
    const hit10 = tops[v].filter((t, i) => t.includes(model[i])).length;
    row[`${v} accuracy`] = { top1: hit1 / emb.length, top10: hit10 / emb.length };
    log(`${set.padEnd(6)} ${v.padEnd(13)} ground truth: top-1 ${pct(hit1, emb.length)}, in top 10 ${pct(hit10, emb.length)}`);
  }
  results[set] = row;
}
if (values.out) await writeFile(values.out, JSON.stringify({ zoo: zoo.key, maxBiasShift: maxB, maxLogDetShift: maxLd, results }, null, 1) + '\n');
