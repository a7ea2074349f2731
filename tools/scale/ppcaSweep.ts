/**
 * What limits two-stage recall@10 on the synthetic scale zoo (issue 15): the PPCA records of the
 * many-sample models. Sweeps the PPCA rank and the isotropic residual of those records (the
 * low-sample models' records are exact and shared), and for each: exhaustive GD over the stored
 * records and the Gaussian-proxy two-stage query at several K, recall@10 against exhaustive exact
 * GD, by query kind, and the fp16 bytes of the candidates' records.
 *
 *   npx tsx tools/scale/ppcaSweep.ts [--n 10000] [--queries 300] [--json <file>]
 */
import { writeFileSync } from 'node:fs';
import { lowRankLogDensity, lowRankMeanPrecision } from '../../src/core/index/lowRankGaussian.ts';
import { recordBytes } from '../../src/core/index/tieredRecords.ts';
import { fromHalfArray, toHalfArray } from '../../src/core/math/linalg.ts';
import { gaussianProxyScores, quantiseMeansInt8, recallAtK } from '../../src/core/scoring/prefilter.ts';
import { topK } from '../../src/core/scoring/topK.ts';
import { integer, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { makeScaleZoo, scaleQueries, type PpcaResidual, type StoredRecord } from './synthZoo.ts';

const USAGE = 'usage: npx tsx tools/scale/ppcaSweep.ts [--n 10000] [--queries 300] [--structure-rank 128] [--json <file>]';
const OPTIONS = { n: integer({ min: 100, default: 10_000 }), queries: integer({ min: 3, default: 300 }), 'structure-rank': integer({ min: 1, default: 128 }), json: text() };
const KS = [20, 50, 100, 200];
const VARIANTS_128: { rank: number; residual: PpcaResidual; half?: boolean }[] = [
  { rank: 64, residual: 'mean' },
  { rank: 64, residual: 'geometric' },
  { rank: 64, residual: 'harmonic' },
  { rank: 96, residual: 'mean' },
  { rank: 96, residual: 'harmonic' },
  { rank: 128, residual: 'mean' },
  { rank: 128, residual: 'mean', half: true },
];
/** With a spectrum past 128 (--structure-rank 256): does PPCA-128 hold when it is not exact? */
const VARIANTS_LONG: { rank: number; residual: PpcaResidual; half?: boolean }[] = [
  { rank: 64, residual: 'mean' },
  { rank: 96, residual: 'mean' },
  { rank: 128, residual: 'mean' },
  { rank: 128, residual: 'geometric' },
  { rank: 128, residual: 'harmonic' },
  { rank: 128, residual: 'mean', half: true },
  { rank: 192, residual: 'mean' },
];

void runCommand(USAGE, async () => {
  const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
  const t0 = performance.now();
  const structureRank = values['structure-rank'];
  const zoo = makeScaleZoo({ count: values.n, structureRank });
  const VARIANTS = structureRank > 128 ? VARIANTS_LONG : VARIANTS_128;
  console.log(`zoo of ${values.n} built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const { dim, count } = zoo;
  const queries = scaleQueries(zoo, values.queries, 99);
  const many = zoo.models.flatMap((m, i) => (m.samples === 0 ? [i] : []));
  // Reference densities of every model for every query (low-sample: the stored record is the reference).
  const t1 = performance.now();
  const ref = queries.map((q) => Float32Array.from(zoo.models, (m) => lowRankLogDensity(m.reference, q)));
  const truth = ref.map((s) => topK(s, 10).map((x) => x.index));
  console.log(`reference densities in ${((performance.now() - t1) / 1000).toFixed(0)} s; ${many.length} many-sample models`);
  const q8 = quantiseMeansInt8(zoo.means, dim);
  const rows = [];
  for (const v of VARIANTS) {
    const recs = new Map<number, StoredRecord>();
    for (const m of many) {
      const r = zoo.ppcaOf(m, v.rank, v.residual);
      recs.set(m, v.half ? { ...r, basis: fromHalfArray(toHalfArray(r.basis)) } : r);
    }
    const precision = Float32Array.from(zoo.models, (m, i) => lowRankMeanPrecision(recs.get(i) ?? m.stored));
    const logDet = Float32Array.from(zoo.models, (m, i) => (recs.get(i) ?? m.stored).logDet);
    const bytes = Array.from(zoo.models, (m, i) => recordBytes(dim, (recs.get(i) ?? m.stored).rank, 'f16'));
    const kinds = [0, 0, 0];
    const byK = KS.map((k) => ({ k, recall: 0, byKind: [0, 0, 0], bytes: [] as number[] }));
    let exhaustive = 0;
    queries.forEach((q, qi) => {
      const stored = Float32Array.from(ref[qi]!);
      for (const [m, r] of recs) stored[m] = lowRankLogDensity(r, q);
      const e = recallAtK(truth[qi]!, topK(stored, 10).map((x) => x.index), 10);
      exhaustive += e / queries.length;
      kinds[qi % 3]! += e / queries.filter((_, i) => i % 3 === qi % 3).length;
      const pre = topK(gaussianProxyScores(q8, precision, logDet, q), Math.max(...KS));
      for (const b of byK) {
        const ids = pre.slice(0, b.k).map((x) => x.index);
        const top = topK(Float32Array.from(ids, (i) => stored[i]!), 10).map((x) => ids[x.index]!);
        const r = recallAtK(truth[qi]!, top, 10);
        b.recall += r / queries.length;
        b.byKind[qi % 3]! += r / queries.filter((_, i) => i % 3 === qi % 3).length;
        b.bytes.push(ids.reduce((s, i) => s + bytes[i]!, 0));
      }
    });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const row = { ...v, exhaustive, exhaustiveByKind: kinds, ppcaRecordBytes: recordBytes(dim, v.rank, 'f16'), byK: byK.map((b) => ({ k: b.k, recall: b.recall, byKind: b.byKind, recordBytesMedian: median(b.bytes) })) };
    rows.push(row);
    console.log(
      `rank ${v.rank} ${v.residual}${v.half ? ' (fp16 B)' : ''}: exhaustive ${exhaustive.toFixed(3)} [${kinds.map((x) => x.toFixed(3)).join(', ')}]; ` +
        row.byK.map((b) => `K=${b.k} ${b.recall.toFixed(3)} [${b.byKind.map((x) => x.toFixed(2)).join(',')}] ${(b.recordBytesMedian / 1e6).toFixed(2)} MB`).join('; '),
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ n: count, queries: values.queries, structureRank, rows }, null, 1) + '\n');
}).then((code) => (process.exitCode = code));
