import { AppError } from '../io/errors.ts';
import type { RankableIndex } from '../scoring/rank.ts';
import type { FloatData, SearchIndex } from './indexFormat.ts';
import type { ModelMeta } from './manifest.ts';

/*
 * The visitor's own models join a version 1 index by appending their sections after the index's
 * (docs/design/add-your-model.md §3.2): rank() then computes exactly what it computes on the merged
 * index — scores, BM25 and reciprocal-rank fusion, facets, counts, filters, "more like this" — with
 * only the calibration (the base index's) and exact-score ties (local models last) differing.
 */

function refuse(setting: string): never {
  throw new AppError('index-format', `Your models cannot join this index: ${setting}.`);
}

function concat<T extends Float32Array | Uint16Array | Uint32Array | Uint8Array>(a: T, b: T): T {
  const out = new (a.constructor as { new (n: number): T })(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function concatFloat(a: FloatData, b: FloatData, what: string): FloatData {
  if (a.dtype !== b.dtype) refuse(`the index stores ${what} as ${a.dtype}, your models as ${b.dtype}`);
  return a.dtype === 'f16' ? { dtype: 'f16', data: concat(a.data, b.data as Uint16Array) } : { dtype: 'f32', data: concat(a.data, b.data as Float32Array) };
}

function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * `base` followed by `extra`'s models, as one SearchIndex (copies: memory grows by about the base's
 * size). Both must have the same dimension, the same sections in the same dtypes and a bit-equal
 * projection; otherwise an AppError('index-format') names the setting that differs. Style sections
 * are never in `extra`: its models get zero references with no kept pair, so style scores them −∞.
 */
export function appendIndex(base: SearchIndex, extra: SearchIndex): SearchIndex {
  if (base.dim !== extra.dim) refuse(`the index has ${base.dim}-d embeddings, your models ${extra.dim}-d`);
  const has = (i: SearchIndex) => ({ gaussian: !!i.gaussian, samples: !!i.samples, projection: !!i.projection });
  const [hb, he] = [has(base), has(extra)];
  for (const k of ['gaussian', 'samples', 'projection'] as const) {
    if (hb[k] !== he[k]) refuse(`the index ${hb[k] ? 'has' : 'has no'} ${k} sections, your models ${he[k] ? 'have' : 'have none'}`);
  }
  if (extra.style) refuse('style sections cannot be added in the browser');
  const count = base.count + extra.count;
  const out: SearchIndex = {
    version: base.version,
    dim: base.dim,
    count,
    means: concat(base.means, extra.means),
    norms: concat(base.norms, extra.norms),
  };
  if (base.gaussian && extra.gaussian) {
    out.gaussian = {
      precision: concatFloat(base.gaussian.precision, extra.gaussian.precision, 'precision factors'),
      bias: concat(base.gaussian.bias, extra.gaussian.bias),
      logDet: concat(base.gaussian.logDet, extra.gaussian.logDet),
      epsilon: concat(base.gaussian.epsilon, extra.gaussian.epsilon),
    };
  }
  if (base.samples && extra.samples) {
    const shift = base.samples.offsets[base.count];
    const offsets = new Uint32Array(count + 1);
    offsets.set(base.samples.offsets);
    for (let m = 1; m <= extra.count; m++) offsets[base.count + m] = shift + extra.samples.offsets[m];
    out.samples = { offsets, data: concatFloat(base.samples.data, extra.samples.data, 'kept samples') };
  }
  if (base.projection && extra.projection) {
    if (!bitEqual(base.projection.matrix, extra.projection.matrix)) refuse('its fine-tuned projection differs from the one your models were derived with');
    out.projection = { matrix: base.projection.matrix, projectedMeans: concat(base.projection.projectedMeans, extra.projection.projectedMeans) };
  }
  if (base.style) {
    const { refs, keep, refsPerModel: S } = base.style;
    const rows = extra.count * S;
    const zeros: FloatData = refs.dtype === 'f16' ? { dtype: 'f16', data: new Uint16Array(rows * base.dim) } : { dtype: 'f32', data: new Float32Array(rows * base.dim) };
    out.style = { refs: concatFloat(refs, zeros, 'style references'), keep: concat(keep, new Uint8Array(rows)), refsPerModel: S, ...(base.style.projection ? { projection: base.style.projection } : {}) };
  }
  return out;
}

/** The local models as a mini-index (readIndex of the bytes an exported shard holds) and their metadata. */
export interface LocalSet {
  index: SearchIndex;
  models: ModelMeta[];
}

export interface WithLocal extends RankableIndex {
  /** Positions below this are the index's models; from it on, the visitor's. */
  baseCount: number;
  /** Local ids the index already has (its copy is ranked; the local one is left out). */
  shadowed: string[];
}

const memo = new WeakMap<RankableIndex, { local: LocalSet; result: WithLocal }>();

/** Keeps only the local models whose ids are not in `baseIds` (their positions, in order). */
function unshadowed(local: LocalSet, baseIds: Map<string, number>): { keep: number[]; shadowed: string[] } {
  const keep: number[] = [];
  const shadowed: string[] = [];
  local.models.forEach((m, i) => (baseIds.has(m.id) ? shadowed.push(m.id) : keep.push(i)));
  return { keep, shadowed };
}

/** The rows `keep` of a local mini-index (all of it when nothing is shadowed). */
function pickModels(index: SearchIndex, keep: number[]): SearchIndex {
  if (keep.length === index.count) return index;
  const { dim } = index;
  const rows = (a: Float32Array, w: number) => {
    const out = new Float32Array(keep.length * w);
    keep.forEach((m, j) => out.set(a.subarray(m * w, (m + 1) * w), j * w));
    return out;
  };
  const out: SearchIndex = { version: index.version, dim, count: keep.length, means: rows(index.means, dim), norms: rows(index.norms, 1) };
  if (index.gaussian) {
    const g = index.gaussian;
    const P = g.precision.data.length / index.count;
    const picked = g.precision.dtype === 'f16'
      ? { dtype: 'f16' as const, data: pickRows(g.precision.data, keep, P) }
      : { dtype: 'f32' as const, data: pickRows(g.precision.data, keep, P) };
    out.gaussian = { precision: picked, bias: rows(g.bias, dim), logDet: rows(g.logDet, 1), epsilon: rows(g.epsilon, 1) };
  }
  if (index.samples) {
    const { offsets, data } = index.samples;
    const newOffsets = new Uint32Array(keep.length + 1);
    const spans: [number, number][] = [];
    keep.forEach((m, j) => {
      newOffsets[j + 1] = newOffsets[j] + offsets[m + 1] - offsets[m];
      spans.push([offsets[m] * dim, offsets[m + 1] * dim]);
    });
    const take = <T extends Float32Array | Uint16Array>(a: T): T => {
      const o = new (a.constructor as { new (n: number): T })(newOffsets[keep.length] * dim);
      let at = 0;
      for (const [s, e] of spans) {
        o.set(a.subarray(s, e), at);
        at += e - s;
      }
      return o;
    };
    out.samples = { offsets: newOffsets, data: data.dtype === 'f16' ? { dtype: 'f16', data: take(data.data) } : { dtype: 'f32', data: take(data.data) } };
  }
  if (index.projection) out.projection = { matrix: index.projection.matrix, projectedMeans: rows(index.projection.projectedMeans, dim) };
  return out;
}

function pickRows<T extends Float32Array | Uint16Array>(a: T, keep: number[], w: number): T {
  const out = new (a.constructor as { new (n: number): T })(keep.length * w);
  keep.forEach((m, j) => out.set(a.subarray(m * w, (m + 1) * w), j * w));
  return out;
}

/**
 * The index with the visitor's models appended (those whose id the index already has are left out:
 * the index's copy is ranked). Temperature, calibration and content-free texts stay the base's.
 * Memoised per (base, local): rank's per-section caches (kernels, BM25) are rebuilt once per change,
 * not per query. Pass the same `local` object until the local set changes.
 */
export function withLocalModels(base: RankableIndex, local: LocalSet | undefined): WithLocal {
  const hit = memo.get(base);
  if (hit && hit.local === local) return hit.result;
  let result: WithLocal;
  const { keep, shadowed } = local ? unshadowed(local, base.ids) : { keep: [], shadowed: [] };
  if (!local || !keep.length) {
    result = { ...base, baseCount: base.index.count, shadowed };
  } else {
    const extra = pickModels(local.index, keep);
    const models = [...base.models, ...keep.map((i) => local.models[i])];
    result = {
      index: appendIndex(base.index, extra),
      models,
      ids: new Map(models.map((m, i) => [m.id, i])),
      temperature: base.temperature,
      calibration: base.calibration,
      nullText: base.nullText,
      baseCount: base.index.count,
      shadowed,
    };
  }
  if (local) memo.set(base, { local, result });
  return result;
}
