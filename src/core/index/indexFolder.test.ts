import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../io/sha256.ts';
import { entryShardFiles, serialiseIndexFolder } from './indexFolder.ts';
import { readIndex } from './indexFormat.ts';
import { parseManifest, parseModels } from './manifest.ts';
import { finaliseModel, metadataDefaults, type FinalisedModel } from './modelEntry.ts';

const DIM = 4;
function unit(seed: number): Float32Array {
  const v = Float32Array.from({ length: DIM }, (_, i) => Math.cos(seed * 3.7 + i * 0.9) + 0.2 * i);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function model(id: string, licence?: string): FinalisedModel {
  const r = finaliseModel(
    {
      source: { id, label: id, meta: metadataDefaults({ licence }, id), missingFields: [] },
      embeddings: [unit(id.charCodeAt(0)), unit(id.charCodeAt(0) + 1), unit(id.charCodeAt(0) + 2)],
      thumbs: [Uint8Array.of(1, 2, 3)],
    },
    { dim: DIM, epsilon: 1e-3, precision: 'f16', keepSamples: 2 },
  );
  if (!r.ok) throw new Error(r.reason);
  return r.model;
}

const SETTINGS = { encoder: { id: 'test-encoder', dim: DIM }, epsilon: 1e-3, precision: 'f16', samplesKept: 2, samplesPrecision: 'f32' } as const;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('entryShardFiles', () => {
  it('writes a valid version 1 folder in id order, without calibration', async () => {
    const files = await entryShardFiles([model('b', 'CC0-1.0'), model('a', 'CC0-1.0')], SETTINGS, { name: 'my-models' });
    expect(files.map((f) => f.path)).toEqual(['manifest.json', 'index.bin', 'models.json', 'thumbs/a/0.webp', 'thumbs/b/0.webp']);
    const get = (p: string) => files.find((f) => f.path === p)!.bytes;
    const manifest = parseManifest(JSON.parse(text(get('manifest.json'))));
    expect(manifest).toMatchObject({ name: 'my-models', licence: 'CC0-1.0', count: 2, createdWith: 'Model Search in the browser' });
    expect(manifest.calibration).toBeUndefined();
    expect(manifest.params).toEqual({ epsilon: 1e-3, precision: 'f16', samplesKept: 2, samplesPrecision: 'f32', temperature: expect.any(Number) });
    expect(manifest.files['index.bin'].sha256).toBe(await sha256Hex(get('index.bin')));
    expect(manifest.files['models.json'].sha256).toBe(await sha256Hex(get('models.json')));
    const index = readIndex(get('index.bin'));
    expect(parseModels(JSON.parse(text(get('models.json'))), index.count).map((m) => m.id)).toEqual(['a', 'b']);
  });

  it('licence: the common one, else "unspecified", else the given one; extra thumbnails by path', async () => {
    const mixed = await entryShardFiles([model('a', 'CC0-1.0'), model('b')], SETTINGS, { name: 'n', thumbnails: new Map([['thumbs/a/0.webp', Uint8Array.of(9)]]) });
    expect(JSON.parse(text(mixed[0].bytes)).licence).toBe('unspecified');
    expect(mixed.find((f) => f.path === 'thumbs/a/0.webp')!.bytes).toEqual(Uint8Array.of(9));
    const given = await entryShardFiles([model('a')], SETTINGS, { name: 'n', licence: 'MIT', createdWith: 'x' });
    expect(JSON.parse(text(given[0].bytes))).toMatchObject({ licence: 'MIT', createdWith: 'x' });
  });

  it('serialiseIndexFolder refuses models and means that disagree', async () => {
    await expect(
      serialiseIndexFolder({ name: 'n', createdWith: 'c', encoder: { id: 'test-encoder', dim: DIM }, licence: 'l', models: [], index: { dim: DIM, means: new Float32Array(DIM) } }),
    ).rejects.toThrow(/disagree/);
  });
});
