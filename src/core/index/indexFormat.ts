import { AppError } from '../io/errors.ts';
import { halfToFloatTable, inverseQuadForm, packedRowOffset, packedSize, toHalfArray } from '../math/linalg.ts';
import { rowNorms } from '../math/vectors.ts';

/**
 * Binary index layout (little-endian), version 1 — see docs/index-format.md.
 *
 *   0  magic "MSIX" · 4 u32 version · 8 u32 dim · 12 u32 count · 16 u32 sectionCount · 20..63 zero
 *   64 section table: sectionCount × 32 bytes { u32 kind, u32 dtype, u64 offset, u64 byteLength, u64 reserved }
 *   sections: each starts at a multiple of 64 so typed arrays / GPU buffers can view them without copies.
 */
export const INDEX_MAGIC = 'MSIX';
export const INDEX_VERSION = 1;
export const HEADER_BYTES = 64;
export const SECTION_ENTRY_BYTES = 32;
export const SECTION_ALIGN = 64;

export const SectionKind = {
  /** f32 [count, dim]: mean μ of the model's L2-normalised sample embeddings (not renormalised). */
  Means: 1,
  /** f32 [count]: |μ|. */
  Norms: 2,
  /** f16|f32 [count, dim(dim+1)/2]: packed lower triangle (row by row) of W = L⁻¹, Σ + εI = L Lᵀ. */
  Precision: 3,
  /** f32 [count, dim]: b = W μ. */
  PrecisionBias: 4,
  /** f32 [count]: log |Σ + εI|. */
  LogDet: 5,
  /** f32 [count]: the ε used for each model (raised where Cholesky needed jitter). */
  Epsilon: 6,
  /** u32 [count + 1]: row offsets of each model's samples in the Samples section. */
  SampleOffsets: 7,
  /** f16|f32 [total, dim]: kept L2-normalised sample embeddings, model by model. */
  Samples: 8,
  /** f32 [dim, dim]: fine-tuned projection P (row-major); queries and means are compared as P x. */
  Projection: 9,
  /** f32 [count, dim]: P μ / |P μ|, precomputed by the builder. */
  ProjectedMeans: 10,
  /**
   * f16|f32 [count·S, dim]: features of model m's outputs for the S shared reference inputs, model
   * by model (rows m·S … m·S + S − 1), L2-normalised. S = rows / count.
   */
  StyleRefs: 11,
  /** u32 [count·S]: 1 = reference pair kept, 0 = dropped by the cleansing rule. */
  StyleKeep: 12,
  /** f32 [P, dim] (optional, row-major): projection applied to query and references before the distances. */
  StyleProjection: 13,
} as const;
export type SectionKind = (typeof SectionKind)[keyof typeof SectionKind];

export const DType = { F32: 1, F16: 2, U32: 3 } as const;
export type DType = (typeof DType)[keyof typeof DType];

export type Precision = 'f32' | 'f16';

/** A float section either as float32 values or as raw fp16 bit patterns. */
export type FloatData = { dtype: 'f32'; data: Float32Array } | { dtype: 'f16'; data: Uint16Array };

export interface GaussianSections {
  precision: FloatData;
  bias: Float32Array;
  logDet: Float32Array;
  epsilon: Float32Array;
}

interface SampleSections {
  offsets: Uint32Array;
  data: FloatData;
}

interface ProjectionSections {
  matrix: Float32Array;
  projectedMeans: Float32Array;
}

/** Style-distance data (kinds 11–13): see styleDistanceScores in styleDistance.ts. */
interface StyleSections {
  /** [count·S, dim]: reference features, model by model. */
  refs: FloatData;
  /** [count·S]: 1 = kept pair, 0 = dropped (converted from the file's u32). */
  keep: Uint8Array;
  /** S, the size of the shared reference set. */
  refsPerModel: number;
  /** [P, dim], row-major. */
  projection?: Float32Array;
}

/** A parsed, validated index. Arrays view the file's bytes where alignment allows. */
export interface SearchIndex {
  version: number;
  dim: number;
  count: number;
  means: Float32Array;
  norms: Float32Array;
  gaussian?: GaussianSections;
  samples?: SampleSections;
  projection?: ProjectionSections;
  style?: StyleSections;
}

const MAX_DIM = 4096;
const MAX_COUNT = 10_000_000;

// ---------------------------------------------------------------------------------------------
// Writing

export interface IndexInput {
  dim: number;
  means: Float32Array; // [count, dim]
  gaussian?: {
    /** [count, packedSize(dim)]: packed W per model, stored rounded to `dtype`. */
    precision: Float64Array | Float32Array;
    /** [count]: the ε each model's factor was built with. */
    epsilon: Float32Array;
    dtype: Precision;
    // No b or log-determinant here: the writer derives both from the factor and the means exactly
    // as stored (gaussianTerms), so the sections always agree with each other.
  };
  samples?: { perModel: Float32Array[]; dtype: Precision }; // each [n_m, dim]
  projection?: Float32Array; // [dim, dim]
  style?: {
    refs: Float32Array; // [count·S·dim], rows L2-normalised
    keep: Uint8Array; // [count·S], 0 or 1
    refsPerModel: number; // S ≥ 1
    dtype: Precision; // of refs
    projection?: Float32Array; // [P, dim], row-major
  };
}

/** Largest |value| accepted in a style projection: far beyond any learned projection, far below overflow. */
const MAX_STYLE_PROJECTION_VALUE = 1e9;

interface SectionBytes {
  kind: SectionKind;
  dtype: DType;
  data: Uint8Array;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Values rounded to the stored precision: fp16 bit patterns or float32. */
function storedFloats(values: Float32Array | Float64Array, dtype: Precision): FloatData {
  return dtype === 'f16'
    ? { dtype, data: toHalfArray(values) }
    : { dtype, data: values instanceof Float32Array ? values : Float32Array.from(values) };
}

function storedSection(kind: SectionKind, stored: FloatData): SectionBytes {
  return { kind, dtype: stored.dtype === 'f16' ? DType.F16 : DType.F32, data: bytesOf(stored.data) };
}

function floatSection(kind: SectionKind, values: Float32Array | Float64Array, dtype: Precision): SectionBytes {
  return storedSection(kind, storedFloats(values, dtype));
}

/**
 * The Gaussian terms that follow from a stored factor: b = W μ and log |Σ + εI| = −2 Σᵢ log Wᵢᵢ,
 * with W the packed factor exactly as stored (fp16 decoded with halfToFloatTable, like every
 * reader) and μ the float32 means, accumulated in float64 and rounded once to float32. The
 * writer stores these rather than values from the unrounded factor, so the Gaussian density a
 * reader computes is log N(q; μ, (WᵀW)⁻¹) of the stored bytes, to float32 rounding.
 */
export function gaussianTerms(dim: number, means: Float32Array, precision: FloatData): { bias: Float32Array; logDet: Float32Array } {
  const P = packedSize(dim);
  const count = means.length / dim;
  if (!Number.isInteger(count) || precision.data.length !== count * P) {
    throw new Error(`gaussian.precision must hold count × dim(dim+1)/2 = ${count * P} values, got ${precision.data.length}`);
  }
  const t = halfToFloatTable();
  const f16 = precision.dtype === 'f16';
  const w = precision.data;
  const bias = new Float32Array(count * dim);
  const logDet = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const mu = m * dim;
    let sumLog = 0;
    for (let i = 0; i < dim; i++) {
      const off = m * P + packedRowOffset(i);
      let s = 0;
      for (let j = 0; j <= i; j++) s += (f16 ? t[w[off + j]] : w[off + j]) * means[mu + j];
      bias[mu + i] = s;
      sumLog += Math.log(f16 ? t[w[off + i]] : w[off + i]);
    }
    logDet[m] = -2 * sumLog;
  }
  return { bias, logDet };
}

function align(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}

/** Serialises an index; the inverse of readIndex. */
export function writeIndex(input: IndexInput): Uint8Array {
  const { dim } = input;
  const count = input.means.length / dim;
  if (!Number.isInteger(count) || count < 1) throw new Error('means must hold count × dim values');
  const norms = rowNorms(input.means, count, dim);
  const sections: SectionBytes[] = [
    floatSection(SectionKind.Means, input.means, 'f32'),
    floatSection(SectionKind.Norms, norms, 'f32'),
  ];
  if (input.gaussian) {
    const g = input.gaussian;
    if (g.epsilon.length !== count) throw new Error(`gaussian.epsilon must hold count = ${count} values, got ${g.epsilon.length}`);
    const precision = storedFloats(g.precision, g.dtype);
    const { bias, logDet } = gaussianTerms(dim, input.means, precision);
    sections.push(
      storedSection(SectionKind.Precision, precision),
      floatSection(SectionKind.PrecisionBias, bias, 'f32'),
      floatSection(SectionKind.LogDet, logDet, 'f32'),
      floatSection(SectionKind.Epsilon, g.epsilon, 'f32'),
    );
  }
  if (input.samples) {
    const offsets = new Uint32Array(count + 1);
    input.samples.perModel.forEach((s, m) => (offsets[m + 1] = offsets[m] + s.length / dim));
    const all = new Float32Array(offsets[count] * dim);
    input.samples.perModel.forEach((s, m) => all.set(s, offsets[m] * dim));
    sections.push({ kind: SectionKind.SampleOffsets, dtype: DType.U32, data: bytesOf(offsets) });
    sections.push(floatSection(SectionKind.Samples, all, input.samples.dtype));
  }
  if (input.projection) {
    const p = input.projection;
    const projected = new Float32Array(count * dim);
    for (let m = 0; m < count; m++) {
      const mu = input.means.subarray(m * dim, (m + 1) * dim);
      const out = projected.subarray(m * dim, (m + 1) * dim);
      let s = 0;
      for (let i = 0; i < dim; i++) {
        let v = 0;
        for (let j = 0; j < dim; j++) v += p[i * dim + j] * mu[j];
        out[i] = v;
        s += v * v;
      }
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let i = 0; i < dim; i++) out[i] *= inv;
    }
    sections.push(floatSection(SectionKind.Projection, p, 'f32'), floatSection(SectionKind.ProjectedMeans, projected, 'f32'));
  }
  if (input.style) {
    const st = input.style;
    const S = st.refsPerModel;
    if (!(Number.isInteger(S) && S >= 1)) throw new Error(`style.refsPerModel must be a whole number ≥ 1, got ${S}`);
    if (st.keep.length !== count * S) throw new Error(`style.keep must hold count × S = ${count * S} values, got ${st.keep.length}`);
    if (st.refs.length !== count * S * dim) throw new Error(`style.refs must hold count × S × dim = ${count * S * dim} values, got ${st.refs.length}`);
    const keep = new Uint32Array(st.keep.length);
    for (let i = 0; i < keep.length; i++) {
      if (st.keep[i] > 1) throw new Error(`style.keep must hold only 0 and 1 (value ${st.keep[i]} at ${i})`);
      keep[i] = st.keep[i];
    }
    sections.push(floatSection(SectionKind.StyleRefs, st.refs, st.dtype), { kind: SectionKind.StyleKeep, dtype: DType.U32, data: bytesOf(keep) });
    if (st.projection) {
      if (st.projection.length === 0 || st.projection.length % dim !== 0) {
        throw new Error(`style.projection must hold a positive multiple of dim = ${dim} values, got ${st.projection.length}`);
      }
      sections.push(floatSection(SectionKind.StyleProjection, st.projection, 'f32'));
    }
  }

  return layoutIndex(dim, count, sections);
}

/**
 * Lays out header, section table and 64-byte aligned sections (the documented v1 layout). Takes any
 * kind and dtype numbers, so tests can also craft files the typed writer never produces.
 */
export function layoutIndex(dim: number, count: number, sections: readonly { kind: number; dtype: number; data: Uint8Array }[], version: number = INDEX_VERSION): Uint8Array {
  let offset = align(HEADER_BYTES + sections.length * SECTION_ENTRY_BYTES);
  const placed = sections.map((s) => {
    const at = offset;
    offset = align(at + s.data.byteLength);
    return { ...s, offset: at };
  });
  const out = new Uint8Array(offset);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = INDEX_MAGIC.charCodeAt(i);
  view.setUint32(4, version, true);
  view.setUint32(8, dim, true);
  view.setUint32(12, count, true);
  view.setUint32(16, sections.length, true);
  placed.forEach((s, i) => {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    view.setUint32(e, s.kind, true);
    view.setUint32(e + 4, s.dtype, true);
    view.setBigUint64(e + 8, BigInt(s.offset), true);
    view.setBigUint64(e + 16, BigInt(s.data.byteLength), true);
    out.set(s.data, s.offset);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

function fail(message: string): never {
  throw new AppError('index-format', `The index file is invalid: ${message}.`, 'index.bin');
}

/** A value of one model is wrong: openIndex adds the model's name and id from models.json. */
export class IndexModelError extends AppError {
  constructor(
    readonly model: number,
    readonly problem: string,
  ) {
    super('index-format', `The index file is invalid: model #${model} ${problem}.`, 'index.bin');
  }
}

function failModel(model: number, problem: string): never {
  throw new IndexModelError(model, problem);
}

interface RawSection {
  kind: number;
  dtype: number;
  offset: number;
  length: number;
}

const KIND_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SectionKind).map(([k, v]) => [v, k]));

/** Parses and validates an index; every problem becomes an AppError('index-format'). */
export function readIndex(bytes: Uint8Array): SearchIndex {
  if (bytes.byteLength < HEADER_BYTES) fail(`it has only ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== INDEX_MAGIC) fail('wrong magic number (not a model-search index)');
  const version = view.getUint32(4, true);
  if (version !== INDEX_VERSION) fail(`format version ${version} is not supported (expected ${INDEX_VERSION})`);
  const dim = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  const sectionCount = view.getUint32(16, true);
  if (dim < 1 || dim > MAX_DIM) fail(`embedding dimension ${dim} is out of range`);
  if (count < 1 || count > MAX_COUNT) fail(`model count ${count} is out of range`);
  if (sectionCount > 64) fail(`${sectionCount} sections is too many`);
  if (HEADER_BYTES + sectionCount * SECTION_ENTRY_BYTES > bytes.byteLength) fail('the section table is truncated');

  const found = new Map<number, RawSection>();
  const tableEnd = align(HEADER_BYTES + sectionCount * SECTION_ENTRY_BYTES);
  for (let i = 0; i < sectionCount; i++) {
    const e = HEADER_BYTES + i * SECTION_ENTRY_BYTES;
    const kind = view.getUint32(e, true);
    const dtype = view.getUint32(e + 4, true);
    const offset = view.getBigUint64(e + 8, true);
    const length = view.getBigUint64(e + 16, true);
    if (offset % BigInt(SECTION_ALIGN) !== 0n) fail(`section ${i} is not 64-byte aligned`);
    if (offset + length > BigInt(bytes.byteLength)) fail(`section ${i} runs past the end of the file`);
    if (found.has(kind)) fail(`section ${KIND_NAMES[kind] ?? kind} appears twice`);
    if (length > 0n && offset < BigInt(tableEnd)) fail(`section ${i} starts inside the header or section table`);
    // Unknown kinds are skipped: newer writers may add optional sections.
    found.set(kind, { kind, dtype, offset: Number(offset), length: Number(length) });
  }

  // Known sections must not overlap: a corrupted offset could otherwise alias another section's data.
  const known = [...found.values()].filter((s) => s.kind in KIND_NAMES && s.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < known.length; i++) {
    if (known[i].offset < known[i - 1].offset + known[i - 1].length) {
      fail(`sections ${KIND_NAMES[known[i - 1].kind]} and ${KIND_NAMES[known[i].kind]} overlap`);
    }
  }

  const name = (kind: SectionKind) => KIND_NAMES[kind];
  const section = (kind: SectionKind, dtypes: DType[], elements: number): RawSection => {
    const s = found.get(kind);
    if (!s) fail(`the ${name(kind)} section is missing`);
    if (!dtypes.includes(s.dtype as DType)) fail(`the ${name(kind)} section has an unsupported data type ${s.dtype}`);
    const width = s.dtype === DType.F16 ? 2 : 4;
    if (s.length !== elements * width) fail(`the ${name(kind)} section has ${s.length} bytes, expected ${elements * width}`);
    return s;
  };
  // A non-finite value in a section laid out model by model names its model.
  const nonFinite = (kind: SectionKind, i: number, elements: number): never => {
    if (PER_MODEL_SECTIONS.has(kind)) failModel(Math.floor(i / (elements / count)), `has a non-finite value in the ${name(kind)} section (value ${i})`);
    return fail(`the ${name(kind)} section has a non-finite value at ${i}`);
  };
  const f32 = (kind: SectionKind, elements: number) => {
    const s = section(kind, [DType.F32], elements);
    const a = typedView(bytes, s, Float32Array, elements);
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) nonFinite(kind, i, elements);
    return a;
  };
  const float = (kind: SectionKind, elements: number): FloatData => {
    const s = section(kind, [DType.F32, DType.F16], elements);
    if (s.dtype === DType.F16) {
      const a = typedView(bytes, s, Uint16Array, elements);
      for (let i = 0; i < a.length; i++) if ((a[i] & 0x7c00) === 0x7c00) nonFinite(kind, i, elements);
      return { dtype: 'f16', data: a };
    }
    const a = typedView(bytes, s, Float32Array, elements);
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) nonFinite(kind, i, elements);
    return { dtype: 'f32', data: a };
  };

  const means = f32(SectionKind.Means, count * dim);
  const norms = f32(SectionKind.Norms, count);
  // Embeddings are unit vectors, so |μ| ≤ 1 and the stored norm must equal |μ| (checked in float64,
  // unlike rowNorms' float32 result, so the bounds below are exact).
  for (let m = 0; m < count; m++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += means[m * dim + j] ** 2;
    const n = Math.sqrt(s);
    if (n > 1 + 1e-3) failModel(m, `has a mean (Means section) longer than 1 (${n.toFixed(4)}); embeddings must be unit vectors`);
    // Relative: a tiny mean with a tinier stored norm would make every cosine huge (q·μ / |μ|).
    if (!(Math.abs(n - norms[m]) <= 1e-4 * n + 1e-12)) failModel(m, `has a norm (Norms section) that does not match its mean (stored ${norms[m].toExponential(3)}, |μ| = ${n.toExponential(3)})`);
  }
  const result: SearchIndex = { version, dim, count, means, norms };

  if (found.has(SectionKind.Precision)) {
    const precision = float(SectionKind.Precision, count * packedSize(dim));
    const gaussian: GaussianSections = {
      precision,
      bias: f32(SectionKind.PrecisionBias, count * dim),
      logDet: f32(SectionKind.LogDet, count),
      epsilon: f32(SectionKind.Epsilon, count),
    };
    checkPrecision(gaussian, means, dim, count);
    result.gaussian = gaussian;
  }
  if (found.has(SectionKind.SampleOffsets)) {
    const s = section(SectionKind.SampleOffsets, [DType.U32], count + 1);
    const offsets = typedView(bytes, s, Uint32Array, count + 1);
    if (offsets[0] !== 0) fail('sample offsets must start at 0');
    for (let m = 0; m < count; m++) if (offsets[m + 1] < offsets[m]) fail('sample offsets must not decrease');
    const total = offsets[count];
    if (total * dim > 2 ** 31) fail('too many samples');
    const data = float(SectionKind.Samples, total * dim);
    const t = halfToFloatTable();
    for (let r = 0; r < total; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = data.dtype === 'f16' ? t[data.data[r * dim + j]] : data.data[r * dim + j];
        s += v * v;
      }
      if (Math.abs(s - 1) > 1e-2) fail(`sample ${r} is not a unit vector (|x|² = ${s.toFixed(4)})`);
    }
    result.samples = { offsets, data };
  }
  if (found.has(SectionKind.Projection)) {
    const matrix = f32(SectionKind.Projection, dim * dim);
    const projectedMeans = f32(SectionKind.ProjectedMeans, count * dim);
    for (let m = 0; m < count; m++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += projectedMeans[m * dim + j] ** 2;
      if (s !== 0 && Math.abs(s - 1) > 1e-3) failModel(m, 'has a projected mean (ProjectedMeans section) that is not a unit vector');
    }
    result.projection = { matrix, projectedMeans };
  }
  const hasRefs = found.has(SectionKind.StyleRefs);
  if (hasRefs !== found.has(SectionKind.StyleKeep)) fail('the StyleRefs and StyleKeep sections must come together');
  if (found.has(SectionKind.StyleProjection) && !hasRefs) fail('the StyleProjection section needs the StyleRefs and StyleKeep sections');
  if (hasRefs) {
    const raw = found.get(SectionKind.StyleRefs)!;
    if (raw.dtype !== DType.F32 && raw.dtype !== DType.F16) fail(`the StyleRefs section has an unsupported data type ${raw.dtype}`);
    const rows = raw.length / (raw.dtype === DType.F16 ? 2 : 4) / dim;
    if (!Number.isInteger(rows) || rows < count || rows % count !== 0) {
      fail(`the StyleRefs section has ${raw.length} bytes, not count × S × dim values for a whole S ≥ 1`);
    }
    if (rows * dim > 2 ** 31) fail('too many style reference features');
    const S = rows / count;
    const refs = float(SectionKind.StyleRefs, rows * dim);
    const t = halfToFloatTable();
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = refs.dtype === 'f16' ? t[refs.data[r * dim + j]] : refs.data[r * dim + j];
        s += v * v;
      }
      const n = Math.sqrt(s);
      if (n > 1 + 1e-2) {
        failModel(Math.floor(r / S), `has a style reference (StyleRefs section, reference ${r % S}) longer than 1 (${n.toFixed(4)}); features must be unit vectors`);
      }
    }
    const keepRaw = typedView(bytes, section(SectionKind.StyleKeep, [DType.U32], rows), Uint32Array, rows);
    const keep = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      if (keepRaw[i] > 1) fail(`the StyleKeep section has the value ${keepRaw[i]} at ${i} (only 0 and 1 are allowed)`);
      keep[i] = keepRaw[i];
    }
    const style: StyleSections = { refs, keep, refsPerModel: S };
    const rawP = found.get(SectionKind.StyleProjection);
    if (rawP) {
      if (rawP.dtype !== DType.F32) fail(`the StyleProjection section has an unsupported data type ${rawP.dtype}`);
      const p = rawP.length / 4 / dim;
      if (!Number.isInteger(p) || p < 1 || p > MAX_DIM) {
        fail(`the StyleProjection section has ${rawP.length} bytes, not P × dim values with 1 ≤ P ≤ ${MAX_DIM}`);
      }
      const projection = f32(SectionKind.StyleProjection, p * dim);
      for (let i = 0; i < projection.length; i++) {
        if (Math.abs(projection[i]) > MAX_STYLE_PROJECTION_VALUE) fail(`the StyleProjection section has an implausible value at ${i}`);
      }
      style.projection = projection;
    }
    result.style = style;
  }
  return result;
}

/**
 * Bounds that hold for any honest factor of unit-vector statistics, so a corrupted value cannot
 * push a model to the top: Σ'_ii ≤ 2 + ε gives W_ii ≥ 1/√(2 + ε) > 0.5; ‖W‖₂ ≤ 1/√ε bounds every
 * entry; and the stored b and log-determinant must follow from the stored factor and means.
 *
 * The writer derives b and the log-determinant from the factor as stored (gaussianTerms), so they
 * agree to float32 rounding. The tolerances below also admit files whose b and log-determinant
 * were computed from the factor before fp16 rounding (the writer before that change; the same
 * format version): rounding changes each W_ij by at most 2⁻¹¹ |W_ij| (2⁻²⁵ for subnormals), so
 * |Δb_i| ≤ 2⁻¹¹ Σ_j |W_ij μ_j| + 2⁻²⁵ Σ_j |μ_j| and |ΔlogDet| ≤ 2 · dim · 2⁻¹¹ < 10⁻³ · dim.
 */
function checkPrecision(g: GaussianSections, means: Float32Array, dim: number, count: number): void {
  const t = halfToFloatTable();
  const P = packedSize(dim);
  const w = g.precision.data;
  const f16 = g.precision.dtype === 'f16';
  const probes = signProbes(2, dim);
  const scratch = new Float64Array(dim);
  for (let m = 0; m < count; m++) {
    const eps = g.epsilon[m];
    if (!(eps > 0 && eps < 1e6)) failModel(m, `has an invalid ε (Epsilon section: ${eps})`);
    const bound = (1 + 1e-2) / Math.sqrt(eps);
    const mu = m * dim;
    let sumLog = 0;
    let sumAbsMu = 0;
    for (let i = 0; i < dim; i++) {
      const row = m * P + packedRowOffset(i);
      sumAbsMu += Math.abs(means[mu + i]);
      let s = 0;
      let a = 0;
      for (let j = 0; j <= i; j++) {
        const v = f16 ? t[w[row + j] as number] : (w[row + j] as number);
        if (Math.abs(v) > bound) failModel(m, `has a precision value (Precision section) beyond 1/√ε = ${bound.toPrecision(3)}`);
        const p = v * means[mu + j];
        s += p;
        a += Math.abs(p);
      }
      const d = f16 ? t[w[row + i] as number] : (w[row + i] as number);
      if (!(d >= 0.5)) failModel(m, `has an implausible precision diagonal (Precision section: ${d})`);
      sumLog += Math.log(d);
      const b = g.bias[mu + i];
      if (!(Math.abs(b - s) <= 1e-3 * a + 1e-7 * sumAbsMu + 1e-6 * (1 + Math.abs(b)))) {
        failModel(m, 'has a precision bias (PrecisionBias section, b = Wμ) that does not match its factor and mean');
      }
    }
    const logDet = g.logDet[m];
    if (!(Math.abs(logDet + 2 * sumLog) <= 1e-3 * dim + 1e-5 * Math.abs(logDet))) {
      failModel(m, 'has a log-determinant (LogDet section) that does not match its factor');
    }
    // The inverse's scale: ‖W⁻ᵀq‖² = qᵀΣ'q ≤ (λmax(Σ) + ε)‖q‖² ≤ (1 + ε)‖q‖², since Σ of unit
    // vectors has trace ≤ 1. Entry bounds alone admit factors whose inverse explodes (huge
    // off-diagonals under a tiny ε), which turns 1st+2nd moment into ∞ or NaN. Random ±1 probes
    // (a new draw per load, so a file cannot be shaped around them) see any such blow-up; the
    // factor 4 covers fp16 rounding, amplified at most by W's condition number √((1 + ε)/ε).
    for (let p = 0; p < probes.length; p++) {
      const yy = inverseQuadForm(w, f16, m * P, dim, probes[p], scratch);
      if (!(yy <= 4 * (1 + eps) * dim)) {
        failModel(m, `has a precision factor (Precision section) out of scale for its ε = ${eps.toExponential(2)}: the covariance it implies is ${(yy / ((1 + eps) * dim)).toPrecision(2)} times more spread than unit-vector statistics allow`);
      }
    }
  }
}

/** `n` random ±1 vectors of length `dim`. */
function signProbes(n: number, dim: number): Float64Array[] {
  return Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => (Math.random() < 0.5 ? -1 : 1)));
}

/** Sections stored model by model, a fixed number of values each. */
const PER_MODEL_SECTIONS: ReadonlySet<number> = new Set([
  SectionKind.Means,
  SectionKind.Norms,
  SectionKind.Precision,
  SectionKind.PrecisionBias,
  SectionKind.LogDet,
  SectionKind.Epsilon,
  SectionKind.ProjectedMeans,
  SectionKind.StyleRefs,
]);

type TypedCtor<T> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number } & {
  new (length: number): T;
};

/** A zero-copy view when the section is aligned in memory, else an aligned copy. */
function typedView<T extends Float32Array | Uint16Array | Uint32Array>(
  bytes: Uint8Array,
  s: RawSection,
  ctor: TypedCtor<T>,
  elements: number,
): T {
  const start = bytes.byteOffset + s.offset;
  if (start % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer as ArrayBuffer, start, elements);
  const copy = new ctor(elements);
  new Uint8Array(copy.buffer).set(bytes.subarray(s.offset, s.offset + s.length));
  return copy;
}
