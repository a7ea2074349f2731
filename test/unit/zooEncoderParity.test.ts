/**
 * The zoo encoder's ONNX files (public/encoders/zoo-encoder/, from tools/zoo-encoder/export.py)
 * against the PyTorch model's outputs stored in test/fixtures/zoo-encoder-parity.json.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ZOO_ENCODER } from '../../src/core/encode/encoders.ts';
import { createClipTokenizer } from '../../src/core/encode/tokenizer.ts';

const ROOT = new URL('../../', import.meta.url);
const ENCODER_DIR = new URL('public/encoders/zoo-encoder/', ROOT);
const SIZE = 224;
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];
const TOL = 1e-4;

interface Fixture {
  dim: number;
  files: Record<string, { bytes: number; sha256: string }>;
  text: { texts: string[]; input_ids: number[][]; text_embeds: number[][] };
  vision: { formula: string; batch: number; image_embeds: number[][] };
}

/** The fixture's pixel formula (tools/zoo-encoder/export.py `parity_pixels`), [batch, 3, 224, 224]. */
function parityPixels(batch: number): Float32Array {
  const out = new Float32Array(batch * 3 * SIZE * SIZE);
  let i = 0;
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++) {
          const v = Math.floor(
            127.5 + 127 * Math.sin(0.045 * x * (1 + b) + 0.021 * y * (1 + c) + 0.9 * c + 1.7 * b) * Math.cos(0.013 * (x - y) + 0.4 * b),
          );
          out[i++] = (v / 255 - MEAN[c]!) / STD[c]!;
        }
  return out;
}

function idsTensor(rows: number[][]): ort.Tensor {
  const len = rows[0]!.length;
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, len]);
}

function rowsOf(data: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < data.length / dim; i++) out.push(data.subarray(i * dim, (i + 1) * dim));
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

let fixture: Fixture;
let text: ort.InferenceSession;
let vision: ort.InferenceSession;

async function runText(rows: number[][]): Promise<Float32Array[]> {
  const out = await text.run({ input_ids: idsTensor(rows) });
  const t = out.text_embeds!;
  expect(t.dims).toEqual([rows.length, fixture.dim]);
  return rowsOf(t.data as Float32Array, fixture.dim);
}

async function runVision(pixels: Float32Array, n: number): Promise<Float32Array[]> {
  const out = await vision.run({ pixel_values: new ort.Tensor('float32', pixels, [n, 3, SIZE, SIZE]) });
  const t = out.image_embeds!;
  expect(t.dims).toEqual([n, fixture.dim]);
  return rowsOf(t.data as Float32Array, fixture.dim);
}

beforeAll(async () => {
  fixture = JSON.parse(await readFile(new URL('test/fixtures/zoo-encoder-parity.json', ROOT), 'utf8')) as Fixture;
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const };
  text = await ort.InferenceSession.create(fileURLToPath(new URL('text_model.onnx', ENCODER_DIR)), opts);
  vision = await ort.InferenceSession.create(fileURLToPath(new URL('vision_model.onnx', ENCODER_DIR)), opts);
});

describe('zoo encoder ONNX', () => {
  it('files are the ones the fixture was made from (size and SHA-256)', async () => {
    for (const [name, want] of Object.entries(fixture.files)) {
      const bytes = await readFile(new URL(name, ENCODER_DIR));
      expect(bytes.byteLength, name).toBe(want.bytes);
      expect(createHash('sha256').update(bytes).digest('hex'), name).toBe(want.sha256);
    }
  });

  it('descriptor temperature is the logit scale the encoder learned (export fixture, else the last training epoch)', () => {
    const fromFixture = (fixture as { logitScale?: number }).logitScale;
    // The checkpoint that made these files predates export.py writing logitScale: its training log
    // records T_it per epoch (1 decimal). The next export writes the exact value into the fixture.
    const log = readFileSync(new URL('../../tools/zoo-encoder/train-log.txt', import.meta.url), 'utf8');
    const epochs = [...log.matchAll(/T_it ([0-9.]+)/g)].map((m) => Number(m[1]));
    const learned = fromFixture ?? epochs.at(-1);
    expect(learned).toBeDefined();
    expect(ZOO_ENCODER.logitScale).toBeCloseTo(learned!, fromFixture === undefined ? 1 : 3);
    expect(ZOO_ENCODER.logitScale).not.toBe(100);
  });

  it("has CLIP's input and output names", () => {
    expect(text.inputNames).toEqual(['input_ids']);
    expect(text.outputNames).toEqual(['text_embeds']);
    expect(vision.inputNames).toEqual(['pixel_values']);
    expect(vision.outputNames).toEqual(['image_embeds']);
  });

  it('fixture token ids are what the app tokenizer produces', async () => {
    const dir = new URL('public/tokenizers/clip-vit-b32/', ROOT);
    const tok = createClipTokenizer(
      JSON.parse(await readFile(new URL('tokenizer.json', dir), 'utf8')),
      JSON.parse(await readFile(new URL('tokenizer_config.json', dir), 'utf8')),
    );
    fixture.text.texts.forEach((t, i) => expect(tok.encode(t)).toEqual(fixture.text.input_ids[i]));
  });

  it('text tower matches PyTorch to 1e-4, unit norm', async () => {
    const got = await runText(fixture.text.input_ids);
    got.forEach((row, i) => {
      expect(maxAbsDiff(row, fixture.text.text_embeds[i]!), `row ${i}`).toBeLessThan(TOL);
      expect(norm(row)).toBeCloseTo(1, 5);
    });
  });

  it('vision tower matches PyTorch to 1e-4, unit norm', async () => {
    const n = fixture.vision.batch;
    const got = await runVision(parityPixels(n), n);
    got.forEach((row, i) => {
      expect(maxAbsDiff(row, fixture.vision.image_embeds[i]!), `image ${i}`).toBeLessThan(TOL);
      expect(norm(row)).toBeCloseTo(1, 5);
    });
  });

  it('text: batch = single, and unpadded = padded to 77', async () => {
    const rows = fixture.text.input_ids;
    const batch = await runText(rows);
    for (const [i, row] of rows.entries()) {
      const [single] = await runText([row]);
      expect(maxAbsDiff(single!, batch[i]!)).toBeLessThan(1e-6);
      const end = row.indexOf(49407) + 1; // [SOT, ...content, EOT] without the padding
      const [short] = await runText([row.slice(0, end)]);
      expect(maxAbsDiff(short!, batch[i]!)).toBeLessThan(1e-6);
    }
    // A larger batch of repeated rows gives the same answers.
    const many = await runText([...rows, ...rows, ...rows]);
    many.forEach((r, i) => expect(maxAbsDiff(r, batch[i % rows.length]!)).toBeLessThan(1e-6));
  });

  it('words outside the known-word table say nothing, even when BPE builds them from known pieces', async () => {
    const dir = new URL('public/tokenizers/clip-vit-b32/', ROOT);
    const tok = createClipTokenizer(
      JSON.parse(await readFile(new URL('tokenizer.json', dir), 'utf8')),
      JSON.parse(await readFile(new URL('tokenizer_config.json', dir), 'utf8')),
    );
    const texts = ['', 'greck zipweb', 'watercolr', 'tazz brell greck', 'cat', 'a watercolour cat'];
    const [empty, madeUp, typo, more, cat, caption] = await runText(texts.map((t) => [...tok.encode(t)]));
    // "greck" is "gre" + "ck", pieces of real words the tower has rows for: only the word table tells.
    for (const [i, row] of [madeUp, typo, more].entries()) expect(maxAbsDiff(row!, empty!), texts[i + 1]).toBeLessThan(1e-6);
    expect(maxAbsDiff(cat!, empty!)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(caption!, cat!)).toBeGreaterThan(1e-3);
  });

  it('vision: batch = single', async () => {
    const n = fixture.vision.batch;
    const pixels = parityPixels(n);
    const batch = await runVision(pixels, n);
    const plane = 3 * SIZE * SIZE;
    for (let i = 0; i < n; i++) {
      const [single] = await runVision(pixels.slice(i * plane, (i + 1) * plane), 1);
      expect(maxAbsDiff(single!, batch[i]!)).toBeLessThan(1e-5);
    }
  });
});
