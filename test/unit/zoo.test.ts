import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BACKGROUNDS,
  COMPOSITIONS,
  PALETTES,
  STYLES,
  SUBJECTS,
  combineSeeds,
  evalTextQueries,
  makeZoo,
  modelMetadata,
  paletteDef,
  prng,
  styleDef,
  subjectDef,
  tupleKey,
  type ZooModelSpec,
} from '../../tools/zoo/spec.ts';
import { renderSample } from '../../tools/zoo/render.ts';
import { lineDrawing, strokeSketch, trainingSketch } from '../../tools/zoo/sketch.ts';
import { nodeCanvasFactory } from '../../tools/zoo/node.ts';
import { captionVocabulary, captionWords, trainingCaptions, typoSide } from '../../tools/zoo/captions.ts';
import { CAPTION_SALT, captionContext, exportTrainingData, loadClipTokenizer, poolRgb } from '../../tools/zoo/export-training-data.ts';

const CAPTIONS = captionContext();
const REAL = CAPTIONS.context.realWords;

const TRAIN = makeZoo('train', 800);
const EVAL = makeZoo('eval', 300);

function meanAbsDiff(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe('zoo vocabularies', () => {
  it('has the promised sizes', () => {
    expect(SUBJECTS.length).toBeGreaterThanOrEqual(16);
    expect(PALETTES.length).toBeGreaterThanOrEqual(10);
    expect(BACKGROUNDS.length).toBeGreaterThanOrEqual(5);
    expect(STYLES.length).toBeGreaterThanOrEqual(10);
    expect(COMPOSITIONS.length).toBeGreaterThanOrEqual(4);
  });
});

describe('rendering', () => {
  it('is deterministic in (spec, sampleSeed) and varies with the sample seed', () => {
    for (const spec of [EVAL[0]!, EVAL[7]!, TRAIN[3]!]) {
      const a = renderSample(spec, 5, nodeCanvasFactory);
      const b = renderSample(spec, 5, nodeCanvasFactory);
      const c = renderSample(spec, 6, nodeCanvasFactory);
      expect(a.length).toBe(224 * 224 * 4);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(meanAbsDiff(a, c)).toBeGreaterThan(1);
      const s1 = strokeSketch(spec, 5, nodeCanvasFactory);
      const s2 = strokeSketch(spec, 5, nodeCanvasFactory);
      expect(Buffer.from(s1).equals(Buffer.from(s2))).toBe(true);
    }
  });

  it('renders every subject, palette, background, style and composition (20+ renders complete)', () => {
    const n = Math.max(SUBJECTS.length, STYLES.length, PALETTES.length);
    for (let i = 0; i < n; i++) {
      const spec: ZooModelSpec = {
        id: `t${i}`,
        split: 'train',
        family: SUBJECTS[i % SUBJECTS.length]!.id,
        subject: SUBJECTS[i % SUBJECTS.length]!.id,
        palette: PALETTES[i % PALETTES.length]!.id,
        background: BACKGROUNDS[i % BACKGROUNDS.length]!.id,
        style: STYLES[i % STYLES.length]!.id,
        composition: COMPOSITIONS[i % COMPOSITIONS.length]!.id,
        seed: 1234 + i,
      };
      const px = renderSample(spec, i, nodeCanvasFactory);
      expect(px.length).toBe(224 * 224 * 4);
      // not a blank image
      let min = 255;
      let max = 0;
      for (let j = 0; j < px.length; j += 4) {
        min = Math.min(min, px[j + 1]!);
        max = Math.max(max, px[j + 1]!);
      }
      expect(max - min, `${spec.subject}/${spec.style}`).toBeGreaterThan(10);
    }
  });

  it('line drawings and stroke sketches are dark strokes on white', () => {
    const spec = EVAL[10]!;
    for (const img of [lineDrawing(renderSample(spec, 1, nodeCanvasFactory), 224), strokeSketch(spec, 1, nodeCanvasFactory)]) {
      let white = 0;
      let dark = 0;
      let grey = true;
      for (let j = 0; j < img.length; j += 4) {
        if (img[j]! > 240) white++;
        if (img[j]! < 128) dark++;
        if (img[j] !== img[j + 1] || img[j] !== img[j + 2]) grey = false;
      }
      expect(grey).toBe(true);
      expect(white).toBeGreaterThan(224 * 224 * 0.5);
      expect(dark).toBeGreaterThan(100);
    }
  });
});

describe('zoo construction', () => {
  it('makes the requested counts with unique ids valid as index ids', () => {
    expect(TRAIN).toHaveLength(800);
    expect(EVAL).toHaveLength(300);
    const ids = new Set([...TRAIN, ...EVAL].map((z) => z.id));
    expect(ids.size).toBe(1100);
    for (const z of [...TRAIN, ...EVAL]) expect(z.id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(makeZoo('eval', 300)).toEqual(EVAL);
    expect(makeZoo('eval', 120)).toEqual(EVAL.slice(0, 120));
  });

  it('train and eval share no parameter tuple and no seed', () => {
    const trainKeys = new Set(TRAIN.map(tupleKey));
    const trainSeeds = new Set(TRAIN.map((z) => z.seed));
    for (const evalZoo of [EVAL, makeZoo('eval', 400, 7)]) {
      for (const z of evalZoo) {
        expect(trainKeys.has(tupleKey(z))).toBe(false);
        expect(trainSeeds.has(z.seed)).toBe(false);
        expect(z.split).toBe('eval');
      }
    }
    expect(new Set(EVAL.map(tupleKey)).size).toBe(EVAL.length);
    expect(new Set(TRAIN.map(tupleKey)).size).toBe(TRAIN.length);
  });

  it('eval families (subjects) have several members, with pairs differing only in style or palette', () => {
    const bySubject = new Map<string, ZooModelSpec[]>();
    for (const z of EVAL) {
      expect(z.family).toBe(z.subject);
      bySubject.set(z.family, [...(bySubject.get(z.family) ?? []), z]);
    }
    expect(bySubject.size).toBe(SUBJECTS.length);
    const differsIn = (a: ZooModelSpec, b: ZooModelSpec) =>
      (['palette', 'background', 'style', 'composition'] as const).filter((k) => a[k] !== b[k]);
    let styleOnly = 0;
    let paletteOnly = 0;
    for (const members of bySubject.values()) {
      expect(members.length).toBeGreaterThanOrEqual(2);
      let hasHardNegative = false;
      for (const a of members) {
        for (const b of members) {
          const d = differsIn(a, b);
          if (d.length === 1 && (d[0] === 'style' || d[0] === 'palette')) {
            hasHardNegative = true;
            if (d[0] === 'style') styleOnly++;
            else paletteOnly++;
          }
        }
      }
      expect(hasHardNegative).toBe(true);
    }
    expect(styleOnly).toBeGreaterThan(50);
    expect(paletteOnly).toBeGreaterThan(50);
  });
});

describe('metadata and text', () => {
  it('model metadata has every field and a description naming subject, palette and style', () => {
    for (const z of [...EVAL.slice(0, 60), ...TRAIN.slice(0, 60)]) {
      const m = modelMetadata(z);
      expect(m.id).toBe(z.id);
      expect(m.name.length).toBeGreaterThan(3);
      expect(m.family).toBe(z.family);
      expect(m.creator).toMatch(/^[a-z0-9._-]+$/);
      expect(m.licence).toBe('CC0-1.0');
      expect(m.resolution).toBe('224×224');
      expect(m.links).toEqual([]);
      const d = m.description.toLowerCase();
      expect(d).toContain(paletteDef(z.palette).words[0]!);
      expect(d).toContain(styleDef(z.style).words[0]!.toLowerCase());
      expect(subjectDef(z.subject).plurals.some((w) => d.includes(w)) || subjectDef(z.subject).words.some((w) => d.includes(w))).toBe(true);
      expect(modelMetadata(z)).toEqual(m);
    }
  });

  it('training captions are deterministic in the random stream and say only lexicon words (or one training-side typo)', () => {
    const lex = CAPTIONS.context.lexicon;
    const vocab = captionVocabulary(lex);
    let typos = 0;
    let attributeOnly = 0;
    for (const z of TRAIN.slice(0, 200)) {
      const a = trainingCaptions(z, lex, prng(z.seed), 8, { avoidTypo: (w) => REAL.has(w) });
      expect(trainingCaptions(z, lex, prng(z.seed), 8, { avoidTypo: (w) => REAL.has(w) })).toEqual(a);
      for (const c of a) {
        const unknown = captionWords(c).filter((w) => !vocab.has(w));
        expect(unknown.length, c).toBeLessThanOrEqual(1);
        if (unknown.length) {
          typos++;
          expect(typoSide(unknown[0]!), c).toBe('train');
          expect(REAL.has(unknown[0]!), c).toBe(false);
        }
        const subj = lex.subject[z.subject]!;
        if (![...subj.singular, ...subj.plural].some((w) => c.toLowerCase().includes(w))) attributeOnly++;
      }
    }
    // Some captions carry a typo, some name no subject at all (palette or style only).
    expect(typos).toBeGreaterThan(50);
    expect(attributeOnly).toBeGreaterThan(100);
  });

  it('eval text queries are never a training caption: each frame has a word no training caption can emit', () => {
    const vocab = captionVocabulary(CAPTIONS.context.lexicon);
    for (const z of EVAL) {
      const qs = evalTextQueries(z);
      expect(qs.length).toBeGreaterThanOrEqual(2);
      expect(new Set(qs).size).toBe(qs.length);
      for (const q of qs) {
        expect(captionWords(q).some((w) => !vocab.has(w)), q).toBe(true);
        expect(paletteDef(z.palette).words.some((w) => q.includes(w))).toBe(true);
        expect(styleDef(z.style).words.some((w) => q.includes(w))).toBe(true);
      }
    }
  });
});

describe('training-data export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoo-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a 2-model × 2-sample export', async () => {
    const { count } = await exportTrainingData({ out: dir, models: 2, samples: 2, captions: 3, seed: 0, log: () => {} });
    expect(count).toBe(4);
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    expect(meta.count).toBe(4);
    expect(meta.size).toBe(56);
    expect(meta.captionsPerImage).toBe(3);
    const zoo = makeZoo('train', 2);
    expect(meta.models).toEqual(zoo.map((z) => ({ id: z.id, family: z.family, subject: z.subject, palette: z.palette, style: z.style, background: z.background, composition: z.composition })));
    const images = readFileSync(join(dir, 'images.u8'));
    const sketch = readFileSync(join(dir, 'sketch.u8'));
    const labels = new Int32Array(new Uint8Array(readFileSync(join(dir, 'labels.i32'))).buffer);
    const caps = new Int32Array(new Uint8Array(readFileSync(join(dir, 'captions.i32'))).buffer);
    expect(images.length).toBe(4 * 56 * 56 * 3);
    expect(sketch.length).toBe(4 * 56 * 56 * 3);
    expect(Array.from(labels)).toEqual([0, 0, 1, 1]);
    expect(caps.length).toBe(4 * 3 * 77);
    const tok = loadClipTokenizer();
    // The lexical prior: WordNet lemmas as CLIP ids (no start/end), edges seed → lemma.
    const prior = JSON.parse(readFileSync(join(dir, 'prior.json'), 'utf8')) as { lemmas: { text: string; ids: number[] }[]; edges: [number, number, number][] };
    expect(prior.lemmas.length).toBeGreaterThan(1000);
    for (const l of prior.lemmas.slice(0, 50)) expect(l.ids).toEqual(tok.encode(l.text).filter((id: number) => id < 49406));
    const kitten = prior.lemmas.findIndex((l) => l.text === 'kitten');
    expect(prior.edges.some(([a, , w]) => a === kitten && w > 0)).toBe(true);
    for (let n = 0; n < 4; n++) {
      const spec = zoo[Math.floor(n / 2)]!;
      const s = n % 2;
      const rgba = renderSample(spec, s, nodeCanvasFactory);
      const pooled = new Uint8Array(56 * 56 * 3);
      poolRgb(rgba, 224, 4, pooled);
      expect(Buffer.from(pooled).equals(images.subarray(n * 9408, (n + 1) * 9408))).toBe(true);
      // exact 4×4 mean of one pixel, by hand
      let sum = 0;
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += rgba[((8 + y) * 224 + 12 + x) * 4]!;
      expect(images[n * 9408 + (2 * 56 + 3) * 3]).toBe(Math.round(sum / 16));
      const sk = trainingSketch(n, rgba, spec, s, nodeCanvasFactory, 224);
      poolRgb(sk, 224, 4, pooled);
      expect(Buffer.from(pooled).equals(sketch.subarray(n * 9408, (n + 1) * 9408))).toBe(true);
      const texts = trainingCaptions(spec, CAPTIONS.context.lexicon, prng(combineSeeds(spec.seed, s) ^ CAPTION_SALT), 3, { avoidTypo: (w) => REAL.has(w) });
      texts.forEach((t, c) => {
        const row = Array.from(caps.subarray((n * 3 + c) * 77, (n * 3 + c + 1) * 77));
        expect(row).toEqual(tok.encode(t));
        expect(row[0]).toBe(49406);
      });
    }
  });
});

describe('training-data export with worker threads', () => {
  const dir1 = mkdtempSync(join(tmpdir(), 'zoo-export-w1-'));
  const dir2 = mkdtempSync(join(tmpdir(), 'zoo-export-w2-'));
  afterAll(() => {
    rmSync(dir1, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  });

  it('writes byte-identical files with 2 workers', async () => {
    await exportTrainingData({ out: dir1, models: 3, samples: 2, captions: 2, seed: 0, workers: 1, log: () => {} });
    await exportTrainingData({ out: dir2, models: 3, samples: 2, captions: 2, seed: 0, workers: 2, log: () => {} });
    for (const f of ['images.u8', 'sketch.u8', 'labels.i32', 'captions.i32', 'meta.json']) {
      expect(readFileSync(join(dir2, f)).equals(readFileSync(join(dir1, f))), f).toBe(true);
    }
  });
});
