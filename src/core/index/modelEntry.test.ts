import { describe, expect, it } from 'vitest';
import { writeIndex, readIndex } from './indexFormat.ts';
import type { IndexManifest } from './manifest.ts';
import {
  embeddingProblem,
  entrySettingsFor,
  finaliseModel,
  invalidIdReason,
  metadataDefaults,
  missingMetadataFields,
  modelMeta,
  mostCommonSize,
  sampleMean,
  sizeLabel,
  type ModelEmbeddings,
} from './modelEntry.ts';
import { MomentAccumulator } from './modelStats.ts';

const DIM = 4;
function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) + 0.1 * i);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const entry = (id: string, n: number, extra: Partial<ModelEmbeddings> = {}): ModelEmbeddings => ({
  source: { id, label: 'your model', meta: metadataDefaults({}, id), missingFields: missingMetadataFields({}) },
  embeddings: Array.from({ length: n }, (_, i) => unit(i + id.length)),
  thumbs: [],
  ...extra,
});

describe('modelEntry', () => {
  it('metadataDefaults fills what is missing, and missingMetadataFields names it', () => {
    expect(metadataDefaults({ creator: 'me' }, 'x')).toEqual({
      name: 'x', description: '', family: '', creator: 'me', licence: 'unspecified', resolution: undefined, links: [],
    });
    expect(missingMetadataFields({ creator: 'me', name: 'n' })).toEqual(['description', 'family', 'licence', 'resolution', 'links']);
  });

  it('modelMeta keeps the key order and writes thumbnail paths with the given extension', () => {
    const warnings: string[] = [];
    const meta = modelMeta({ ...entry('m-1', 2), commonSize: sizeLabel(640, 480), thumbs: [new Uint8Array(1)], thumbExtension: 'png' }, warnings);
    expect(Object.keys(meta)).toEqual(['id', 'name', 'description', 'family', 'creator', 'licence', 'resolution', 'links', 'thumbnails']);
    expect(meta.resolution).toBe('640×480');
    expect(meta.thumbnails).toEqual(['thumbs/m-1/0.png']);
    expect(warnings[0]).toMatch(/^model "m-1": no model.json metadata/);
  });

  it('finaliseModel names the source in its refusal', () => {
    expect(finaliseModel(entry('a', 1), { dim: DIM, epsilon: 1e-3, precision: 'f16', keepSamples: 2 })).toEqual({
      ok: false,
      reason: 'only 1 valid image(s) in "your model" (at least 2 are needed for a covariance)',
    });
  });

  it('ids, sizes and embeddings', () => {
    expect(invalidIdReason('ok-id_1.2')).toBeUndefined();
    expect(invalidIdReason('a/b')).toMatch(/path separator/);
    expect(invalidIdReason('a..b')).toMatch(/\.\./);
    expect(invalidIdReason('x'.repeat(129))).toMatch(/longer than 128/);
    expect(mostCommonSize(new Map([['1×1', 2], ['2×2', 3], ['3×3', 3]]))).toBe('2×2');
    expect(mostCommonSize(new Map())).toBeUndefined();
    expect(embeddingProblem(unit(1), DIM)).toBeUndefined();
    expect(embeddingProblem(new Float32Array(DIM), DIM)).toMatch(/zero embedding/);
    expect(embeddingProblem(new Float32Array(3), DIM)).toMatch(/3 dimensions/);
  });

  it('sampleMean is MomentAccumulator.mean rounded to f32', () => {
    const rows = Array.from({ length: 7 }, (_, i) => unit(i));
    const flat = new Float32Array(7 * DIM);
    rows.forEach((r, i) => flat.set(r, i * DIM));
    const acc = new MomentAccumulator(DIM);
    rows.forEach((r) => acc.add(r));
    expect(Array.from(sampleMean(flat, 7, DIM))).toEqual(Array.from(Float32Array.from(acc.mean())));
    expect(() => sampleMean(flat, 0, DIM)).toThrow();
  });

  it('entrySettingsFor copies the index settings verbatim', () => {
    const r = finaliseModel(entry('a', 3), { dim: DIM, epsilon: 1e-3, precision: 'f32', keepSamples: 2 });
    if (!r.ok) throw new Error(r.reason);
    const projection = Float32Array.from({ length: DIM * DIM }, (_, i) => (i % (DIM + 1) === 0 ? 2 : 0));
    const bin = writeIndex({
      dim: DIM,
      means: Float32Array.from(r.model.mean),
      gaussian: { precision: r.model.gaussian!.precision, epsilon: Float32Array.of(r.model.gaussian!.epsilon), dtype: 'f16' },
      samples: { perModel: [r.model.samples!], dtype: 'f16' },
      projection,
    });
    const manifest = {
      encoder: { id: 'test-encoder', dim: DIM },
      params: { epsilon: 0.001, precision: 'f16', samplesKept: 32, samplesPrecision: 'f16', projection: 'diagonal', temperature: 22.481 },
    } as IndexManifest;
    const s = entrySettingsFor(manifest, readIndex(bin));
    expect(s.finalise).toEqual({ dim: DIM, epsilon: 0.001, precision: 'f16', keepSamples: 32 });
    expect(s.index).toEqual({
      encoder: { id: 'test-encoder', dim: DIM },
      epsilon: 0.001,
      precision: 'f16',
      samplesKept: 32,
      samplesPrecision: 'f16',
      projection: { structure: 'diagonal', matrix: projection },
      temperature: 22.481,
    });
    // without params: the builder's ε for finalising, nothing recorded; kept = the largest count
    const bare = entrySettingsFor({ ...manifest, params: undefined }, readIndex(bin));
    expect(bare.finalise).toEqual({ dim: DIM, epsilon: 1e-3, precision: 'f16', keepSamples: 2 });
    expect(bare.index.epsilon).toBeUndefined();
    expect(bare.index.temperature).toBeUndefined();
  });
});
