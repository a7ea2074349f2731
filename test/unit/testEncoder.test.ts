import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENCODER } from '../../src/core/encode/encoders.ts';
import { readIndex } from '../../src/core/index/indexFormat.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';
import { NodeEncoder, PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { COLOURS_SAMPLES_PER_MODEL } from '../../tools/build-colours-index.ts';
import { IMAGE_SIZE, PAINTED_MODELS, paintSample } from '../../tools/lib/paintedModels.ts';

const COLOURS: Record<string, [number, number, number]> = {
  red: [255, 0, 0],
  green: [0, 160, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  black: [0, 0, 0],
  white: [255, 255, 255],
  orange: [255, 165, 0],
  purple: [128, 0, 128],
};

function solid(rgb: [number, number, number]): Float32Array {
  const px = new Uint8ClampedArray(IMAGE_SIZE * IMAGE_SIZE * 4);
  for (let i = 0; i < px.length; i += 4) px.set([...rgb, 255], i);
  return preprocessRgba({ data: px, width: IMAGE_SIZE, height: IMAGE_SIZE }, TEST_ENCODER.image);
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

let encoder: NodeEncoder;
beforeAll(async () => {
  encoder = await NodeEncoder.load(TEST_ENCODER);
});

describe('test encoder fixture', () => {
  it('files match the sizes and SHA-256 in its descriptor', async () => {
    for (const file of [TEST_ENCODER.text, TEST_ENCODER.vision]) {
      const bytes = new Uint8Array(await readFile(join(PUBLIC_DIR, file.url)));
      expect(bytes.byteLength).toBe(file.bytes);
      expect(await sha256Hex(bytes)).toBe(file.sha256);
    }
  });

  it('has CLIP I/O: unit-length embeddings of the descriptor dimension, batch = single', async () => {
    const texts = ['a photo of a cat', 'red', 'deep blue water'];
    const batch = await encoder.encodeTexts(texts);
    for (const [i, t] of texts.entries()) {
      const [single] = await encoder.encodeTexts([t]);
      expect(batch[i].length).toBe(TEST_ENCODER.dim);
      expect(Math.hypot(...batch[i])).toBeCloseTo(1, 5);
      batch[i].forEach((v, j) => expect(v).toBeCloseTo(single[j], 6));
    }
  });

  it('ranks the solid image of a colour first for that colour word', async () => {
    const names = Object.keys(COLOURS);
    const plane = 3 * IMAGE_SIZE * IMAGE_SIZE;
    const pixels = new Float32Array(names.length * plane);
    names.forEach((n, i) => pixels.set(solid(COLOURS[n]), i * plane));
    const images = await encoder.encodeImages(pixels, names.length);
    const texts = await encoder.encodeTexts(names);
    names.forEach((name, i) => {
      const sims = images.map((img) => dot(texts[i], img));
      expect(sims.indexOf(Math.max(...sims)), name).toBe(i);
    });
  });
});

describe('colours index', () => {
  it('is reproducible: re-encoding the painted samples gives the committed means', async () => {
    const dir = join(PUBLIC_DIR, 'index/colours');
    const index = readIndex(new Uint8Array(await readFile(join(dir, 'index.bin'))));
    const ids = (JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')) as { id: string }[]).map((m) => m.id);
    expect(index.count).toBe(PAINTED_MODELS.length);
    const model = PAINTED_MODELS[3];
    const at = ids.indexOf(model.id);
    expect(at).toBeGreaterThanOrEqual(0);
    const plane = 3 * IMAGE_SIZE * IMAGE_SIZE;
    const samples = COLOURS_SAMPLES_PER_MODEL;
    const pixels = new Float32Array(samples * plane);
    for (let s = 0; s < samples; s++) {
      preprocessRgba({ data: paintSample(model, s), width: IMAGE_SIZE, height: IMAGE_SIZE }, TEST_ENCODER.image, pixels.subarray(s * plane, (s + 1) * plane));
    }
    const emb = await encoder.encodeImages(pixels, samples);
    const mean = new Float32Array(index.dim);
    for (const e of emb) e.forEach((v, j) => (mean[j] += v / samples));
    const committed = index.means.subarray(at * index.dim, (at + 1) * index.dim);
    mean.forEach((v, j) => expect(v).toBeCloseTo(committed[j], 5));
    expect(index.gaussian?.precision.dtype).toBe('f32');
    expect(index.samples?.offsets[index.count]).toBe(samples * index.count);
  });
});
