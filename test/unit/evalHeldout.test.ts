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
  frameLiterals,
  generatorVocabulary,
  oneTypo,
  synonymMap,
  synonymQueries,
  words,
  type SynonymEntry,
} from '../../tools/eval/heldout.ts';
import { precisionAtK } from '../../tools/eval/metrics.ts';
import { importClosure } from '../support/importClosure.ts';
import { PALETTES, STYLES, SUBJECTS, evalTextQueries, makeZoo, prng } from '../../tools/zoo/spec.ts';
import { baseLexicon, captionWords, trainingCaptions, trainingTypo, typoSide } from '../../tools/zoo/captions.ts';
import { lemmaSide, loadLexicon, type Lexicon } from '../../tools/zoo/lexicon.ts';
import { captionContext } from '../../tools/zoo/export-training-data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let lex: Lexicon;
let vocab: Set<string>;
let map: SynonymEntry[];
let exported: ReturnType<typeof captionContext>;
beforeAll(() => {
  lex = loadLexicon();
  vocab = generatorVocabulary(lex);
  map = synonymMap(lex, vocab);
  exported = captionContext();
});

/** Every word of many captions the training export writes (its own lexicon and typo rule), typos included. */
function trainingWords(specs = makeZoo('train', 400, 0)): Set<string> {
  const out = new Set<string>();
  const real = exported.context.realWords;
  for (const spec of specs) for (const c of trainingCaptions(spec, exported.context.lexicon, prng(spec.seed), 24, { avoidTypo: (w) => real.has(w) })) for (const w of captionWords(c)) out.add(w);
  return out;
}

describe('the generator vocabulary', () => {
  it('holds every word of the training captions (typos aside) and of the eval text queries', () => {
    const train = trainingWords();
    for (const w of train) if (!vocab.has(w)) expect(typoSide(w), `${w}: neither a vocabulary word nor a training-side typo`).toBe('train');
    for (const spec of makeZoo('eval', 300, 0)) for (const q of evalTextQueries(spec)) for (const w of words(q)) expect(vocab.has(w), `${w} in “${q}”`).toBe(true);
  });

  it('the training export captions with the lexicon the held-out split was made against', () => {
    expect(exported.context.lexicon).toEqual(lex.train);
    const src = readFileSync(join(ROOT, 'tools/zoo/export-training-data.ts'), 'utf8');
    expect(src).toMatch(/trainingCaptions\(/);
    expect(src).not.toMatch(/heldOutSynonyms|synonymMap|evalTextQueries/);
  });

  it('the training lexicon holds no held-out-side WordNet lemma', () => {
    const cands = new Set(lex.candidates.flatMap((c) => [...c.direct, ...c.hypernyms]));
    const said = [...Object.values(lex.train.subject).flatMap((s) => s.singular), ...Object.values(lex.train.palette).flat(), ...Object.values(lex.train.style).flat()];
    const base = baseLexicon();
    const curated = new Set([...Object.values(base.subject).flatMap((s) => s.singular), ...Object.values(base.palette).flat(), ...Object.values(base.style).flat()]);
    // What WordNet added (a curated word may also be a candidate: it is said anyway, and never held out, as the vocabulary test shows).
    const fromWordNet = said.filter((l) => cands.has(l) && !curated.has(l));
    expect(fromWordNet.length).toBeGreaterThan(10);
    for (const l of fromWordNet) expect(lemmaSide(l), l).toBe('train');
  });
});

describe('held-out synonyms and frames', () => {
  it('no synonym has a word the generators can emit, or a word of any training caption', () => {
    const train = trainingWords();
    const all = map.flatMap((e) => e.synonyms);
    expect(all.length).toBeGreaterThan(40);
    for (const s of all) {
      expect(lemmaSide(s), s).toBe('heldout');
      for (const w of words(s)) {
        expect(vocab.has(w), s).toBe(false);
        expect(train.has(w), s).toBe(false);
      }
    }
  });

  it('a synonym names one concept only, and most subjects and palettes have one', () => {
    const seen = new Map<string, string>();
    for (const e of map) for (const s of e.synonyms) {
      expect(seen.get(s), s).toBeUndefined();
      seen.set(s, `${e.kind} ${e.id}`);
    }
    expect(map.filter((e) => e.kind === 'subject' && e.synonyms.length).length).toBeGreaterThanOrEqual(14);
    expect(map.filter((e) => e.kind === 'palette' && e.synonyms.length).length).toBeGreaterThanOrEqual(9);
  });

  it('every frame has a literal word the generators never emit; no frame is a generator template', () => {
    for (const f of HELD_OUT_FRAMES) {
      const lit = words(frameLiterals(f).replace(/\u0000/g, ' '));
      expect(lit.some((w) => !vocab.has(w)), frameLiterals(f)).toBe(true);
    }
  });

  it('held-out queries name no zoo word of their concepts and carry a held-out word per named attribute', () => {
    const specs = makeZoo('eval', 300, 0);
    const qs = synonymQueries(specs, map);
    expect(qs.length).toBeGreaterThan(120);
    const byId = new Map(specs.map((s) => [s.id, s]));
    const held = new Set(map.flatMap((e) => e.synonyms.flatMap(words)));
    for (const q of qs) {
      const spec = byId.get(q.model)!;
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

  it('the lexical prior reaches held-out synonyms only as WordNet relatives of caption words (it is the whole neighbourhood, not the eval list)', () => {
    const lemmas = new Set(exported.prior.lemmas);
    const all = map.flatMap((e) => e.synonyms);
    expect(all.filter((s) => lemmas.has(s)).length / all.length).toBeGreaterThan(0.9);
    // Thousands of lemmas: the held-out words are a small part of it.
    expect(exported.prior.lemmas.length).toBeGreaterThan(20 * all.length);
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
        expect(src, `${dir}/${f}`).not.toMatch(/eval\/(perturb|heldout|heldoutSketch|robustness)|HELD_OUT_FRAMES|heldOutSketch|synonymMap|PERTURBATIONS/);
      }
    }
  });
});

describe('the typo split', () => {
  it('the eval\'s typos are held-out-side and no training typo of the same words ever equals one', () => {
    const texts = makeZoo('eval', 100, 0).flatMap(evalTextQueries);
    const content = contentWords();
    const evalTypos = new Set<string>();
    for (const [i, t] of texts.entries()) {
      const r = oneTypo(t, i, content, vocab);
      if (!r) continue;
      expect(typoSide(r.typo), r.typo).toBe('heldout');
      evalTypos.add(r.typo.toLowerCase());
    }
    expect(evalTypos.size).toBeGreaterThan(100);
    const rand = prng(11);
    for (const w of content) for (let k = 0; k < 40; k++) {
      const t = trainingTypo(w, rand);
      if (t) expect(evalTypos.has(t), t).toBe(false);
    }
  });
});

describe('oneTypo', () => {
  const content = contentWords();
  it('edits one content word by one swap, drop or replacement, deterministically', () => {
    const texts = makeZoo('eval', 60, 0).flatMap(evalTextQueries);
    for (const [i, t] of texts.entries()) {
      const r = oneTypo(t, i, content, vocab)!;
      expect(typoSide(r.typo)).toBe('heldout');
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
