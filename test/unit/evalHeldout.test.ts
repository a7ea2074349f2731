/**
 * The robustness suites' held-out parts (tools/eval/heldout.ts, perturb.ts) never reach training
 * data: the synonyms and the frames' own words are words the caption generator cannot emit, the
 * training export never imports the eval's perturbation or held-out code; and the pure logic of
 * the suites (typos, the synonym map, precision@k) does what it says.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HELD_OUT_FRAMES,
  attributeQueries,
  contentWords,
  coveringSpecs,
  frameLiterals,
  generatorVocabulary,
  oneTypo,
  synonymMap,
  synonymQueries,
  words,
  type SynonymEntry,
} from '../../tools/eval/heldout.ts';
import { precisionAtK } from '../../tools/eval/metrics.ts';
import { loadWordNet } from '../../tools/eval/wordnet.ts';
import { importClosure } from '../support/importClosure.ts';
import { PALETTES, STYLES, SUBJECTS, allTrainingCaptions, evalTextQueries, makeZoo, prng, trainingCaptions } from '../../tools/zoo/spec.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let vocab: Set<string>;
let map: SynonymEntry[];
beforeAll(() => {
  vocab = generatorVocabulary();
  map = synonymMap(loadWordNet(), vocab);
});

/** Every word of everything `trainingCaptions` (what export-training-data.ts writes) can produce for these specs. */
function trainingWords(specs = makeZoo('train', 400, 0)): Set<string> {
  const out = new Set<string>();
  for (const spec of specs) for (const c of allTrainingCaptions(spec)) for (const w of words(c)) out.add(w);
  return out;
}

describe('the caption generator vocabulary', () => {
  it('holds every word of every training caption and eval text query, on the train zoo and on the covering specs', () => {
    const train = trainingWords();
    for (const w of train) expect(vocab.has(w), w).toBe(true);
    for (const spec of [...makeZoo('train', 400, 0), ...makeZoo('eval', 300, 0)]) {
      const rand = prng(spec.seed);
      for (const c of [...trainingCaptions(spec, rand, 8), ...evalTextQueries(spec)]) for (const w of words(c)) expect(vocab.has(w), `${w} in “${c}”`).toBe(true);
    }
  });

  it('is enumerated from every subject × composition and every palette, style and background', () => {
    const specs = coveringSpecs();
    expect(new Set(specs.map((s) => s.subject)).size).toBe(SUBJECTS.length);
    expect(new Set(specs.map((s) => s.palette)).size).toBe(PALETTES.length);
    expect(new Set(specs.map((s) => s.style)).size).toBe(STYLES.length);
  });

  it('the training export writes captions only through trainingCaptions of tools/zoo/spec.ts', () => {
    const src = readFileSync(join(ROOT, 'tools/zoo/export-training-data.ts'), 'utf8');
    expect(src).toMatch(/trainingCaptions\(/);
    expect(src).not.toMatch(/evalTextQueries|allTrainingCaptions/);
  });
});

describe('held-out synonyms and frames', () => {
  it('no synonym has a word the generator can emit, or a word of any training caption', () => {
    const train = trainingWords();
    const all = map.flatMap((e) => e.synonyms);
    expect(all.length).toBeGreaterThan(40);
    for (const s of all) for (const w of words(s)) {
      expect(vocab.has(w), s).toBe(false);
      expect(train.has(w), s).toBe(false);
    }
  });

  it('a synonym names one concept only, and most subjects and palettes have one', () => {
    const seen = new Map<string, string>();
    for (const e of map) for (const s of e.synonyms) {
      expect(seen.get(s), s).toBeUndefined();
      seen.set(s, `${e.kind} ${e.id}`);
    }
    expect(map.filter((e) => e.kind === 'subject' && e.synonyms.length).length).toBeGreaterThanOrEqual(15);
    expect(map.filter((e) => e.kind === 'palette' && e.synonyms.length).length).toBeGreaterThanOrEqual(9);
  });

  it('every frame has a literal word the generator never emits; no frame is a generator template', () => {
    for (const f of HELD_OUT_FRAMES) {
      const lit = words(frameLiterals(f).replace(/\u0000/g, ' '));
      expect(lit.some((w) => !vocab.has(w)), frameLiterals(f)).toBe(true);
    }
  });

  it('held-out queries never equal a training caption, name no zoo word of their concepts and carry a held-out word per named attribute', () => {
    const specs = makeZoo('eval', 300, 0);
    const qs = synonymQueries(specs, map);
    expect(qs.length).toBeGreaterThan(150);
    const byId = new Map(specs.map((s) => [s.id, s]));
    const held = new Set(map.flatMap((e) => e.synonyms.flatMap(words)));
    for (const q of qs) {
      const spec = byId.get(q.model)!;
      expect(allTrainingCaptions(spec).has(q.text)).toBe(false);
      const ws = words(q.text);
      expect(ws.some((w) => held.has(w))).toBe(true);
      const zooWords = new Set([...SUBJECTS.find((s) => s.id === spec.subject)!.words, ...PALETTES.find((p) => p.id === spec.palette)!.words].flatMap(words));
      for (const w of ws) expect(zooWords.has(w), `${w} in “${q.text}”`).toBe(false);
      const syn = (kind: string, id: string) => map.find((e) => e.kind === kind && e.id === id)!.synonyms;
      expect(syn('subject', spec.subject).some((s) => q.text.includes(s))).toBe(true);
      expect(syn('palette', spec.palette).some((s) => q.text.includes(s))).toBe(true);
      if (q.named.style) expect(syn('style', spec.style).some((s) => q.text.includes(s))).toBe(true);
    }
    // Deterministic.
    expect(synonymQueries(specs, map)).toEqual(qs);
  });
});

describe('the perturbation and held-out code stay out of the training export', () => {
  it('export-training-data.ts (and its worker) never import tools/eval/', () => {
    for (const entry of ['tools/zoo/export-training-data.ts', 'tools/zoo/export-worker.ts']) {
      const closure = importClosure(entry);
      expect(closure.length).toBeGreaterThan(3);
      expect(closure.filter((f) => f.startsWith('tools/eval/')), entry).toEqual([]);
    }
  });

  it('no file of tools/zoo/ or tools/zoo-encoder/ mentions the perturbations or the held-out text', () => {
    for (const dir of ['tools/zoo', 'tools/zoo-encoder']) {
      for (const f of readdirSync(join(ROOT, dir))) {
        if (!/\.(ts|py)$/.test(f)) continue;
        const src = readFileSync(join(ROOT, dir, f), 'utf8');
        expect(src, `${dir}/${f}`).not.toMatch(/eval\/(perturb|heldout|heldoutSketch|robustness|wordnet)|HELD_OUT_FRAMES|heldOutSketch|synonymMap|wordnet/i);
      }
    }
  });
});

describe('oneTypo', () => {
  const content = contentWords();
  it('edits one content word by one swap, drop or replacement, deterministically', () => {
    const texts = makeZoo('eval', 60, 0).flatMap(evalTextQueries);
    for (const [i, t] of texts.entries()) {
      const r = oneTypo(t, i, content, vocab)!;
      expect(r).toBeDefined();
      expect(oneTypo(t, i, content, vocab)).toEqual(r);
      expect(content.has(r.word.toLowerCase())).toBe(true);
      expect(vocab.has(r.typo.toLowerCase())).toBe(false);
      expect(r.typo[0]).toBe(r.word[0]);
      const a = t.split(' ');
      const b = r.text.split(' ');
      expect(b.length).toBe(a.length);
      const changed = a.map((w, j) => (w === b[j] ? -1 : j)).filter((j) => j >= 0);
      expect(changed.length).toBe(1);
      const [w, v] = [a[changed[0]], b[changed[0]]];
      if (r.op === 'drop') expect(v.length).toBe(w.length - 1);
      else {
        expect(v.length).toBe(w.length);
        expect([...v].sort().join('') === [...w].sort().join('') || r.op === 'replace').toBe(true);
        const diff = [...w].filter((c, j) => c !== v[j]).length;
        expect(diff).toBe(r.op === 'swap' ? 2 : 1);
      }
    }
  });

  it('leaves a text without content words alone', () => {
    expect(oneTypo('show me something nice', 1, content)).toBeUndefined();
  });
});

describe('attribute-only queries', () => {
  it('name exactly one attribute each, with every word of every subject, palette and style', () => {
    const qs = attributeQueries();
    expect(qs.filter((q) => q.kind === 'palette').length).toBe(PALETTES.reduce((n, p) => n + p.words.length, 0));
    for (const q of qs.filter((x) => x.kind === 'style')) {
      // no subject or palette word
      const ws = new Set(words(q.text));
      for (const s of SUBJECTS) for (const w of s.plurals) expect(ws.has(w)).toBe(false);
    }
  });
});

describe('precisionAtK', () => {
  /** Brute force over every tie-respecting ordering. */
  function brute(scores: number[], rel: number[], k: number, exclude: number[] = []): number {
    const cands = scores.map((_, i) => i).filter((i) => !exclude.includes(i));
    const perms: number[][] = [];
    const permute = (rest: number[], acc: number[]) => {
      if (!rest.length) return void perms.push(acc);
      rest.forEach((x, j) => permute([...rest.slice(0, j), ...rest.slice(j + 1)], [...acc, x]));
    };
    permute(cands, []);
    const ok = perms.filter((p) => p.every((x, j) => j === 0 || scores[p[j - 1]] >= scores[x]));
    return ok.reduce((s, p) => s + p.slice(0, k).filter((x) => rel.includes(x)).length / k, 0) / ok.length;
  }

  it('matches the brute-force expectation over ties', () => {
    const rand = prng(5);
    for (let trial = 0; trial < 60; trial++) {
      const n = 3 + Math.floor(rand() * 4);
      const scores = Array.from({ length: n }, () => Math.floor(rand() * 3));
      const rel = scores.map((_, i) => i).filter(() => rand() < 0.4);
      const k = 1 + Math.floor(rand() * 3);
      const exclude = rand() < 0.3 ? [0] : [];
      expect(precisionAtK(scores, rel, k, exclude)).toBeCloseTo(brute(scores, rel, k, exclude), 12);
    }
  });

  it('counts the relevant share of the first k', () => {
    expect(precisionAtK([5, 4, 3, 2, 1, 0], [0, 2], 5)).toBeCloseTo(0.4, 12);
    expect(precisionAtK([5, 4, 3], [2], 5)).toBeCloseTo(0.2, 12);
    expect(precisionAtK([1, 1, 1, 1], [0, 1], 2)).toBeCloseTo(0.5, 12);
  });
});
