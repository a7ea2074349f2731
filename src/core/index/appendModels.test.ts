import { describe, expect, it } from 'vitest';
import { AppError } from '../io/errors.ts';
import { mulberry32 } from '../math/prng.ts';
import { l2normalize } from '../math/vectors.ts';
import type { Method } from '../scoring/methods.ts';
import { rank, type RankableIndex, type RankQuery } from '../scoring/rank.ts';
import { appendIndex, withLocalModels } from './appendModels.ts';
import { readIndex, writeIndex, type IndexInput, type Precision, type SearchIndex } from './indexFormat.ts';
import type { ModelMeta } from './manifest.ts';
import { gaussianFactors, MomentAccumulator } from './modelStats.ts';

const DIM = 8;
const BASE = 10;
const LOCAL = 3;
const S = 2;

interface Stats {
  mean: Float32Array;
  precision: Float64Array;
  epsilon: number;
  samples: Float32Array;
}

function modelStats(seed: number): Stats {
  const next = mulberry32(seed);
  const centre = l2normalize(Float32Array.from({ length: DIM }, () => next() - 0.5));
  const acc = new MomentAccumulator(DIM);
  const samples = new Float32Array(5 * DIM);
  for (let s = 0; s < 5; s++) {
    const x = l2normalize(centre.map((v) => v + 0.3 * (next() - 0.5)));
    samples.set(x, s * DIM);
    acc.add(x);
  }
  const mean = acc.mean();
  const g = gaussianFactors(mean, acc.covariance(), 1e-3);
  return { mean: Float32Array.from(mean), precision: Float64Array.from(g.precision), epsilon: g.epsilon, samples };
}

const projection = (() => {
  const next = mulberry32(99);
  return Float32Array.from({ length: DIM * DIM }, (_, i) => (i % (DIM + 1) === 0 ? 1 : 0) + 0.2 * (next() - 0.5));
})();

interface Opts {
  precision: Precision;
  samples: Precision;
  projection: boolean;
}

/** An index of `stats`; `styleFor` gives style refs (unit rows, all kept) to the first n models, zero refs with none kept to the rest. */
function build(stats: Stats[], o: Opts, styleFor?: number): SearchIndex {
  const P = stats[0].precision.length;
  const input: IndexInput = {
    dim: DIM,
    means: new Float32Array(stats.length * DIM),
    gaussian: { precision: new Float64Array(stats.length * P), epsilon: Float32Array.from(stats.map((s) => s.epsilon)), dtype: o.precision },
    samples: { perModel: stats.map((s) => s.samples), dtype: o.samples },
    ...(o.projection ? { projection } : {}),
  };
  stats.forEach((s, m) => {
    input.means.set(s.mean, m * DIM);
    (input.gaussian!.precision as Float64Array).set(s.precision, m * P);
  });
  if (styleFor !== undefined) {
    const refs = new Float32Array(stats.length * S * DIM);
    const keep = new Uint8Array(stats.length * S);
    for (let r = 0; r < styleFor * S; r++) {
      refs.set(stats[Math.floor(r / S)].samples.subarray((r % S) * DIM, (r % S + 1) * DIM), r * DIM);
      keep[r] = 1;
    }
    input.style = { refs, keep, refsPerModel: S, dtype: o.precision };
  }
  return readIndex(writeIndex(input));
}

function meta(i: number, local: boolean): ModelMeta {
  return {
    id: local ? `yours-${i}` : `m${i}`,
    name: i % 2 ? `Red rose ${i}` : `Blue boat ${i}`,
    description: local ? 'roses in the garden' : '',
    family: i % 3 ? 'odd' : 'even',
    creator: local ? 'me' : 'ann',
    licence: 'CC0-1.0',
    resolution: '',
    links: [],
    thumbnails: [],
  };
}

const baseStats = Array.from({ length: BASE }, (_, i) => modelStats(i + 1));
const localStats = Array.from({ length: LOCAL }, (_, i) => modelStats(100 + i));
const baseMeta = baseStats.map((_, i) => meta(i, false));
const localMeta = localStats.map((_, i) => meta(i, true));

function rankable(index: SearchIndex, models: ModelMeta[]): RankableIndex {
  return { index, models, ids: new Map(models.map((m, i) => [m.id, i])), temperature: 20 };
}

function pair(o: Opts, style: boolean) {
  const base = rankable(build(baseStats, o, style ? BASE : undefined), baseMeta);
  const local = { index: build(localStats, o), models: localMeta };
  const merged = rankable(build([...baseStats, ...localStats], o, style ? BASE : undefined), [...baseMeta, ...localMeta]);
  return { base, local, merged, appended: withLocalModels(base, local) };
}

const query = l2normalize(Float32Array.from(localStats[1].mean));
const embed = async () => query;

async function same(a: RankableIndex, b: RankableIndex, q: RankQuery<never>) {
  const [x, y] = await Promise.all([rank(a, q, embed), rank(b, q, embed)]);
  expect(Array.from(x.scores)).toEqual(Array.from(y.scores));
  expect(x.results).toEqual(y.results);
  expect(x.facets).toEqual(y.facets);
  expect(x.matched).toBe(y.matched);
  expect(x.hybrid).toBe(y.hybrid);
  expect(x.queryModel).toBe(y.queryModel);
  return x;
}

const text = (t: string) => ({ part: { kind: 'text' as const, text: t }, weight: 1 });

describe('withLocalModels: the appended index ranks as the merged one', () => {
  const settings: Opts[] = [
    { precision: 'f32', samples: 'f32', projection: false },
    { precision: 'f16', samples: 'f16', projection: true },
  ];
  for (const o of settings) {
    it(`every method, ${o.precision} factors, ${o.samples} samples${o.projection ? ', projection' : ''}`, async () => {
      const { merged, appended } = pair(o, false);
      expect(appended.baseCount).toBe(BASE);
      const methods: Method[] = ['first-moment', 'gaussian', 'monte-carlo', 'best-k', 'first-second-moment', ...(o.projection ? (['fine-tuned'] as const) : [])];
      for (const method of methods) {
        const r = await same(appended, merged, { parts: [text('red roses')], method, hybridWeight: 0, topK: 20 });
        // The query is a local model's mean: the local model is first.
        if (method !== 'monte-carlo' && method !== 'best-k') expect(r.results[0].index).toBe(BASE + 1);
      }
    });
  }

  it('hybrid fusion, field filters, facets and counts', async () => {
    const { merged, appended } = pair(settings[0], false);
    await same(appended, merged, { parts: [text('roses garden')], hybridWeight: 0.5, topK: 20 });
    await same(appended, merged, { parts: [text('roses')], filters: { creator: ['me'] }, topK: 20 });
    await same(appended, merged, { parts: [text('roses')], filters: { family: ['odd'] }, hybridWeight: 0.3, topK: 5 });
    // Filters alone: a listing.
    await same(appended, merged, { parts: [], filters: { family: ['even'] } });
  });

  it('"more like this" from a local model and to one', async () => {
    const { merged, appended } = pair(settings[1], false);
    const from = await same(appended, merged, { parts: [{ part: { kind: 'model', modelId: 'yours-0' }, weight: 1 }], topK: 20 });
    expect(from.queryModel).toBe(BASE);
    await same(appended, merged, { parts: [{ part: { kind: 'model', modelId: 'yours-0' }, weight: 1 }], method: 'fine-tuned', topK: 20 });
    const to = await same(appended, merged, { parts: [{ part: { kind: 'model', modelId: 'm3' }, weight: 1 }], topK: 20 });
    expect(to.results.some((r) => r.index >= BASE)).toBe(true);
  });

  it('style: local models have no kept pair and score −∞', async () => {
    const { merged, appended } = pair(settings[1], true);
    const r = await same(appended, merged, { parts: [{ part: { kind: 'image', image: undefined as never }, weight: 1 }], method: 'style', topK: 20 });
    for (let m = BASE; m < BASE + LOCAL; m++) expect(r.scores[m]).toBe(-Infinity);
    expect(r.results.every((x) => x.index < BASE)).toBe(true);
  });

  it('is memoised per (base, local set), and a local id the index has is left out (shadowed)', () => {
    const { base, local } = pair(settings[0], false);
    const a = withLocalModels(base, local);
    expect(withLocalModels(base, local)).toBe(a);
    const changed = { index: local.index, models: [...local.models] };
    expect(withLocalModels(base, changed)).not.toBe(a);
    const clash = { index: local.index, models: local.models.map((m, i) => (i === 1 ? { ...m, id: 'm4' } : m)) };
    const w = withLocalModels(base, clash);
    expect(w.shadowed).toEqual(['m4']);
    expect(w.index.count).toBe(BASE + LOCAL - 1);
    expect(w.models.map((m) => m.id).slice(BASE)).toEqual(['yours-0', 'yours-2']);
    expect(Array.from(w.index.means.subarray(BASE * DIM + DIM))).toEqual(Array.from(local.index.means.subarray(2 * DIM)));
    expect(w.ids.get('m4')).toBe(4);
    // No local set: the base as it is.
    expect(withLocalModels(base, undefined).index).toBe(base.index);
  });
});

describe('appendIndex refuses what cannot be merged', () => {
  const o: Opts = { precision: 'f16', samples: 'f32', projection: true };
  const base = build(baseStats, o);
  const refusal = (extra: SearchIndex) => {
    try {
      appendIndex(base, extra);
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      return (err as AppError).message;
    }
    return 'accepted';
  };

  it('names the setting that differs', () => {
    expect(refusal(build(localStats, { ...o, precision: 'f32' }))).toMatch(/precision factors as f16, your models as f32/);
    expect(refusal(build(localStats, { ...o, samples: 'f16' }))).toMatch(/kept samples as f32, your models as f16/);
    expect(refusal(build(localStats, { ...o, projection: false }))).toMatch(/has projection sections, your models have none/);
    const other = build(localStats, o);
    other.projection = { ...other.projection!, matrix: other.projection!.matrix.map((v, i) => (i === 0 ? v + 1e-6 : v)) };
    expect(refusal(other)).toMatch(/projection differs/);
    const wide = { ...build(localStats, o), dim: DIM * 2 };
    expect(refusal(wide)).toMatch(/8-d embeddings, your models 16-d/);
    const noSamples = { ...build(localStats, o), samples: undefined };
    expect(refusal(noSamples)).toMatch(/has samples sections, your models have none/);
    expect(refusal(build(localStats, o))).toBe('accepted');
  });
});
