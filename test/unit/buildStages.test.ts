/**
 * The pure stages of the index builder on small synthetic embeddings: finalise (one model's
 * embeddings → mean, Gaussian factor, kept samples, metadata, report numbers) and assemble
 * (finalised models → index sections, manifest params, models.json metadata, thumbnails).
 * The stages run end to end, with images and the encoder, in buildIndex.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readIndex, writeIndex } from '../../src/core/index/indexFormat.ts';
import { packedRowOffset } from '../../src/core/math/linalg.ts';
import { assembleIndex, type IndexSettings } from '../../tools/lib/indexBuilder/assemble.ts';
import { fewSamplesWarning, finaliseModel, samplesSummary, type FinalisedModel, type ModelEmbeddings } from '../../tools/lib/indexBuilder/finalise.ts';
import { METADATA_FIELDS } from '../../tools/lib/indexBuilder/scan.ts';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

function model(id: string, embeddings: Float32Array[], extra: Partial<ModelEmbeddings> = {}): ModelEmbeddings {
  return {
    folder: {
      id,
      folder: `${id}-folder`,
      meta: { name: `Model ${id}`, description: 'd', family: 'f', creator: 'c', licence: 'CC0-1.0', resolution: '64×64', links: [] },
      missingFields: [],
    },
    embeddings,
    thumbs: [],
    ...extra,
  };
}

/** Row i, column j of the lower-triangular factor stored packed. */
const at = (packed: ArrayLike<number>, i: number, j: number) => (j <= i ? packed[packedRowOffset(i) + j] : 0);

describe('finalise', () => {
  const embs = [unit(1, 0.2, 0), unit(0.9, 0.1, 0.3), unit(0.8, 0.4, 0.1), unit(1, 0, 0.2)];
  const settings = { dim: 3, epsilon: 1e-3, precision: 'f32' as const, keepSamples: 2 };

  it('stores the mean, a factor W with W (Σ + εI) Wᵀ = I and the first samples; reports the numbers', () => {
    const r = finaliseModel(model('a', embs, { thumbs: [Uint8Array.of(1), Uint8Array.of(2)] }), settings);
    if (!r.ok) throw new Error(r.reason);
    const d = 3;
    const mean = [0, 1, 2].map((j) => embs.reduce((s, e) => s + e[j], 0) / embs.length);
    for (let j = 0; j < d; j++) expect(r.model.mean[j]).toBeCloseTo(mean[j], 12);
    // Σ + εI from scratch (unbiased), then W Σ′ Wᵀ
    const cov = (i: number, j: number) => embs.reduce((s, e) => s + (e[i] - mean[i]) * (e[j] - mean[j]), 0) / (embs.length - 1) + (i === j ? 1e-3 : 0);
    const w = r.model.gaussian!.precision;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) s += at(w, i, k) * cov(k, l) * at(w, j, l);
        expect(s).toBeCloseTo(i === j ? 1 : 0, 8);
      }
    }
    expect(r.model.gaussian!.epsilon).toBe(1e-3);
    expect(Array.from(r.model.samples!)).toEqual([...embs[0], ...embs[1]]);
    expect(r.stats).toEqual({ images: 4, epsilon: 1e-3, jitterSteps: 0, samplesKept: 2, thumbnails: 2 });
    expect(r.model.meta).toEqual({
      id: 'a',
      name: 'Model a',
      description: 'd',
      family: 'f',
      creator: 'c',
      licence: 'CC0-1.0',
      resolution: '64×64',
      links: [],
      thumbnails: ['thumbs/a/0.webp', 'thumbs/a/1.webp'],
    });
    expect(r.model.thumbs).toHaveLength(2);
    expect(r.warnings).toEqual([]);
  });

  it('keeps no samples with keepSamples 0, and at most the images there are', () => {
    const none = finaliseModel(model('a', embs), { ...settings, keepSamples: 0 });
    const all = finaliseModel(model('a', embs), { ...settings, keepSamples: 10 });
    expect(none.ok && none.model.samples).toBeUndefined();
    expect(all.ok && all.stats.samplesKept).toBe(4);
  });

  it('takes a missing resolution from the images and warns about missing metadata', () => {
    const m = model('b', embs, { commonSize: '32×16' });
    m.folder.meta.resolution = undefined;
    m.folder.missingFields = ['creator', 'resolution'];
    const r = finaliseModel(m, settings);
    expect(r.ok && r.model.meta.resolution).toBe('32×16');
    expect(r.ok && r.warnings).toEqual(['model "b": model.json lacks creator, resolution (using "32×16" from the images); using defaults']);
    m.folder.missingFields = [...METADATA_FIELDS];
    const bare = finaliseModel(m, settings);
    expect(bare.ok && bare.warnings[0]).toMatch(/^model "b": no model\.json metadata; using defaults for name, /);
  });

  it('refuses fewer than 2 images, a covariance that never turns positive definite, and (f16) a factor beyond its range', () => {
    expect(finaliseModel(model('c', [embs[0]]), settings)).toEqual({
      ok: false,
      reason: 'only 1 valid image(s) in "c-folder" (at least 2 are needed for a covariance)',
    });
    const broken = finaliseModel(model('c', [unit(1, 0, 0), Float32Array.of(NaN, 0, 0)]), settings);
    expect(broken.ok || broken.reason).toMatch(/not positive definite/);
    // identical images: Σ = 0, W = I/√ε = 10⁶ I
    const same = [unit(1, 0, 0), unit(1, 0, 0)];
    const f16 = finaliseModel(model('c', same), { ...settings, epsilon: 1e-12, precision: 'f16' });
    expect(f16.ok || f16.reason).toMatch(/^its precision factor has entries up to 1\.00e\+6, beyond the f16 range/);
    expect(finaliseModel(model('c', same), { ...settings, epsilon: 1e-12 }).ok).toBe(true);
  });

  it('raises ε where Σ + εI is singular and says so', () => {
    // two images in 3-d: Σ has rank 1, and ε = 0 adds nothing
    const r = finaliseModel(model('d', [unit(1, 0, 0), unit(0, 1, 0)]), { ...settings, epsilon: 0 });
    if (!r.ok) throw new Error(r.reason);
    expect(r.stats.jitterSteps).toBeGreaterThan(0);
    expect(r.stats.epsilon).toBeGreaterThan(0);
    expect(r.warnings).toEqual([`model "d": the covariance + εI was not positive definite; ε raised ${r.stats.jitterSteps} time(s) to ${r.stats.epsilon}`]);
  });

  it('summarises images per model and warns when models have fewer images than dimensions', () => {
    expect(samplesSummary([3, 5, 4])).toEqual({ min: 3, mean: 4, max: 5 });
    expect(fewSamplesWarning([{ id: 'a', images: 40 }], { dim: 32, epsilon: 1e-3 })).toBeUndefined();
    expect(fewSamplesWarning([{ id: 'a', images: 40 }, { id: 'b', images: 3 }], { dim: 32, epsilon: 1e-3 })).toBe(
      '1 model(s) have fewer valid images than the 32 dimensions, so their sample covariance is singular; ε = 0.001 keeps Σ + εI positive definite: b (3)',
    );
  });
});

describe('assemble', () => {
  const DIM = 2;
  const meta = (id: string, thumbs: number) => ({
    id,
    name: id,
    description: '',
    family: '',
    creator: '',
    licence: '',
    resolution: '',
    links: [],
    thumbnails: Array.from({ length: thumbs }, (_, i) => `thumbs/${id}/${i}.webp`),
  });
  const models: FinalisedModel[] = [
    {
      meta: meta('a', 1),
      mean: Float64Array.of(0.6, 0.8),
      gaussian: { precision: Float64Array.of(2, 0.5, 3), epsilon: 1e-3 },
      samples: Float32Array.of(0.6, 0.8, 1, 0),
      thumbs: [Uint8Array.of(7)],
    },
    { meta: meta('b', 0), mean: Float32Array.of(1, 0), gaussian: { precision: Float32Array.of(4, 0, 5), epsilon: 1e-2 }, samples: Float32Array.of(1, 0), thumbs: [] },
  ];
  const settings: IndexSettings = {
    name: 'tiny',
    licence: 'CC0-1.0',
    encoder: { id: 'test-encoder', dim: DIM },
    epsilon: 1e-3,
    precision: 'f32',
    samplesKept: 2,
    samplesPrecision: 'f32',
    samplesPerModel: { min: 2, mean: 2.5, max: 3 },
  };

  it('concatenates the models into the index sections, in the order given', () => {
    const out = assembleIndex(models, settings);
    expect(Array.from(out.index.means)).toEqual(Array.from(Float32Array.of(0.6, 0.8, 1, 0)));
    expect(Array.from(out.index.gaussian!.precision)).toEqual([2, 0.5, 3, 4, 0, 5]);
    expect(Array.from(out.index.gaussian!.epsilon)).toEqual(Array.from(Float32Array.of(1e-3, 1e-2)));
    expect(out.index.gaussian!.dtype).toBe('f32');
    expect(out.index.samples!.perModel.map((s) => s.length / DIM)).toEqual([2, 1]);
    expect(out.index.projection).toBeUndefined();
    expect(out.models.map((m) => m.id)).toEqual(['a', 'b']);
    expect([...out.extraFiles!]).toEqual([['thumbs/a/0.webp', Uint8Array.of(7)]]);
    expect(out).toMatchObject({ name: 'tiny', licence: 'CC0-1.0', createdWith: 'tools/build-index.ts', encoder: { id: 'test-encoder', dim: DIM } });
    // the sections make a valid index
    const index = readIndex(writeIndex(out.index));
    expect(index.count).toBe(2);
    expect(Array.from(index.samples!.offsets)).toEqual([0, 2, 3]);
  });

  it('records the settings as manifest params in one key order, leaving out what is not set', () => {
    const matrix = Float32Array.of(1, 0, 0, 2);
    const out = assembleIndex(models, { ...settings, projection: { structure: 'diagonal', matrix } });
    expect(JSON.stringify(out.params)).toBe(
      '{"epsilon":0.001,"precision":"f32","samplesKept":2,"samplesPrecision":"f32","samplesPerModel":{"min":2,"mean":2.5,"max":3},"projection":"diagonal"}',
    );
    expect(out.index.projection).toBe(matrix);
    const bare = assembleIndex(models, { name: 'x', licence: 'l', encoder: settings.encoder });
    expect(bare.params).toEqual({});
    expect(bare.index.gaussian).toBeUndefined();
    expect(bare.index.samples).toBeUndefined();
  });

  it('refuses models that lack what the settings ask for', () => {
    const { gaussian: _g, ...noGaussian } = models[1];
    expect(() => assembleIndex([models[0], noGaussian], settings)).toThrow(/model "b" has no Gaussian factor/);
    const { samples: _s, ...noSamples } = models[1];
    expect(() => assembleIndex([models[0], noSamples], settings)).toThrow(/model "b" has no samples/);
    expect(() => assembleIndex([{ ...models[0], thumbs: [] }], settings)).toThrow(/thumbnails and their paths disagree/);
  });
});
