/**
 * The text stage's data (tools/zoo/export-text-data.ts, read by tools/zoo-encoder/train_text.py):
 * its captions are the image stage's generator (same lexicon, same typo split), its synthetic
 * descriptions cover train-split attribute tuples only, and its content-free texts never meet the
 * "nothing matches" evaluation's sets, so every held-out part of the evaluation stays held out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { gibberish, OFF_TOPIC_PHRASES, pseudoWords, SYMBOL_QUERIES } from '../../tools/eval/noMatchQueries.ts';
import { generatorVocabulary, synonymMap, words } from '../../tools/eval/heldout.ts';
import { captionWords, describedCaption, frameWords, lexiconEntries, pluralise, trainingCaption, typoSide } from '../../tools/zoo/captions.ts';
import { captionContext, clipWholeWords } from '../../tools/zoo/export-training-data.ts';
import { ATTRIBUTE_VALUES, frameTexts, heldOutWords, knownPhrases, knownWordSet, modelCaptions, NAMED_BITS, NULL_SALT, nullTexts, offTopicTexts, trainedMadeUpWords, synthDescription, synthTuples, TEXT_MODES } from '../../tools/zoo/export-text-data.ts';
import { conceptPriorGraph, conceptSenses, loadLexicon, nearConcept, offTopicLemmas } from '../../tools/zoo/lexicon.ts';
import { BACKGROUNDS, combineSeeds, makeZoo, prng, tupleKey, tupleSplit } from '../../tools/zoo/spec.ts';
import { importClosure } from '../support/importClosure.ts';

const CLIP_WORDS = clipWholeWords();

let ctx: ReturnType<typeof captionContext>['context'];
beforeAll(() => {
  ctx = captionContext().context;
});

describe('describedCaption', () => {
  it('is trainingCaption with the attributes it names: same text from the same random stream', () => {
    for (const spec of makeZoo('train', 40, 0)) {
      for (let s = 0; s < 8; s++) {
        const a = describedCaption(spec, ctx.lexicon, prng(spec.seed + s));
        expect(a.text).toBe(trainingCaption(spec, ctx.lexicon, prng(spec.seed + s)));
        expect(a.named.length).toBeGreaterThan(0);
      }
    }
  });

  it('names what it says: a caption that names only a palette has no subject or style word of the model', () => {
    const lex = ctx.lexicon;
    let onlyPalette = 0;
    for (const spec of makeZoo('train', 60, 0)) {
      const rand = prng(spec.seed);
      for (let k = 0; k < 20; k++) {
        const c = describedCaption(spec, lex, rand, { typoRate: 0, modes: TEXT_MODES });
        if (c.named.join() !== 'palette') continue;
        onlyPalette++;
        const said = new Set(captionWords(c.text));
        const subjectWords = lex.subject[spec.subject]!.singular.flatMap(captionWords).filter((w) => !lex.palette[spec.palette]!.flatMap(captionWords).includes(w));
        expect(subjectWords.some((w) => w.length > 3 && said.has(w)), c.text).toBe(false);
        expect(lex.palette[spec.palette]!.some((p) => c.text.toLowerCase().includes(p)), c.text).toBe(true);
      }
    }
    expect(onlyPalette).toBeGreaterThan(20);
  });
});

describe('synthetic descriptions', () => {
  it('cover train-split tuples only: never a tuple of the evaluation zoo', () => {
    const tuples = synthTuples(20000, 1);
    const evalKeys = new Set(makeZoo('eval', 300, 0).map(tupleKey));
    for (const t of tuples) {
      expect(tupleSplit(t)).toBe('train');
      expect(evalKeys.has(tupleKey(t))).toBe(false);
    }
    // Far more combinations than the 800 rendered training models.
    expect(new Set(tuples.map(tupleKey)).size).toBeGreaterThan(10000);
    for (const [k, values] of Object.entries(ATTRIBUTE_VALUES)) expect(new Set(tuples.map((t) => t[k as keyof typeof t])).size, k).toBe(values.length);
  });

  it('are worded with the training lexicon: no held-out synonym reaches them or the text-stage captions', () => {
    const lex = loadLexicon();
    const held = new Set(synonymMap(lex, generatorVocabulary(lex)).flatMap((e) => e.synonyms.flatMap(words)));
    expect(held.size).toBeGreaterThan(40);
    const rand = prng(3);
    const seen = new Set<string>();
    for (const t of synthTuples(3000, 2)) captionWords(synthDescription(t, ctx, rand).text).forEach((w) => seen.add(w));
    for (const spec of makeZoo('train', 200, 0)) for (const c of modelCaptions(spec, ctx, 16)) captionWords(c.text).forEach((w) => seen.add(w));
    for (const w of seen) {
      expect(held.has(w), w).toBe(false);
      if (!generatorVocabulary(lex).has(w)) expect(typoSide(w), `${w}: neither a vocabulary word nor a training-side typo`).toBe('train');
    }
  });

  it('record the named attributes as bits the trainer reads', () => {
    expect(Object.values(NAMED_BITS).sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16]);
  });
});

describe('content-free training texts', () => {
  let texts: string[];
  beforeAll(() => {
    // The set the export writes (npm run train-zoo-encoder: --nulls 20000, seed 0).
    texts = nullTexts(20000, combineSeeds(0, NULL_SALT), (w) => CLIP_WORDS.has(w) || ctx.realWords.has(w));
  });

  it('are made-up words: every word has a vowel and none is a CLIP or caption word', () => {
    expect(new Set(texts).size).toBeGreaterThan(19900);
    for (const t of texts) {
      for (const w of t.split(' ')) {
        expect(w).toMatch(/^[a-z]{2,10}$/);
        expect(w).toMatch(/[aeiou]/);
        expect(CLIP_WORDS.has(w) || ctx.realWords.has(w), w).toBe(false);
      }
    }
  });

  it("never meet the evaluation's content-free queries: its letter strings have no vowel, its phrases and symbols are none of these words", () => {
    const evalWords = new Set([...gibberish(100, 7), ...OFF_TOPIC_PHRASES, ...SYMBOL_QUERIES].flatMap((t) => t.split(/\s+/)));
    for (const w of gibberish(100, 7).flatMap((t) => t.split(' '))) expect(w).not.toMatch(/[aeiou]/);
    for (const t of texts) for (const w of t.split(' ')) expect(evalWords.has(w), w).toBe(false);
  });

  it("never meet the evaluation's made-up words, which leave out every trained made-up word", () => {
    const trained = trainedMadeUpWords();
    expect(trained).toEqual(new Set(texts.flatMap((t) => t.split(' '))));
    // What tools/eval/no-match.ts passes (CLIP words and the trained made-up words), for a few seeds.
    for (const seed of [1, 7, 99]) {
      const ws = pseudoWords(100, seed, (w) => CLIP_WORDS.has(w) || trained.has(w)).flatMap((t) => t.split(' '));
      expect(ws.filter((w) => trained.has(w) || CLIP_WORDS.has(w))).toEqual([]);
      expect(ws.every((w) => /^[a-z]{3,}$/.test(w))).toBe(true);
    }
    // Without the exclusion they would meet: short syllables are made-up training words too.
    const unfiltered = pseudoWords(300, 7, (w) => CLIP_WORDS.has(w)).flatMap((t) => t.split(' '));
    expect(unfiltered.some((w) => trained.has(w))).toBe(true);
  });

  it('are deterministic', () => {
    expect(nullTexts(50, 9, (w) => CLIP_WORDS.has(w))).toEqual(nullTexts(50, 9, (w) => CLIP_WORDS.has(w)));
  });
});

describe('off-topic content-free texts and the concept prior', () => {
  let lex: ReturnType<typeof loadLexicon>;
  let senses: ReturnType<typeof conceptSenses>;
  let concept: ReturnType<typeof conceptPriorGraph>;
  let lemmas: string[];
  beforeAll(() => {
    const all = captionContext();
    lex = all.lexicon;
    senses = conceptSenses(lex.wordnet);
    concept = conceptPriorGraph(lex.wordnet, senses, lexiconEntries(lex.train));
    lemmas = offTopicLemmas(lex.wordnet, all.prior, senses, lexiconEntries(lex.train), lex.trainVocabulary, heldOutWords());
  });

  it('ties every held-out synonym to its own concept in the concept prior (generalisation goes through the prior)', () => {
    const entries = synonymMap(lex, generatorVocabulary(lex)).filter((e) => e.synonyms.length);
    expect(entries.length).toBeGreaterThan(20);
    const index = new Map(concept.lemmas.map((l, i) => [l, i]));
    const tied = new Map<number, Set<number>>();
    for (const [a, b] of concept.edges) (tied.get(b) ?? tied.set(b, new Set()).get(b)!).add(a);
    for (const e of entries) {
      const own = new Set(senses.find((c) => c.kind === e.kind && c.id === e.id)!.words.map((w) => index.get(w)));
      for (const syn of e.synonyms) expect([...(tied.get(index.get(syn)!) ?? [])].some((a) => own.has(a)), `${syn} → ${e.id}`).toBe(true);
    }
  });

  it('leaves out the remote senses of caption words ("key" → lawyer, "line" → photography)', () => {
    const nodes = new Set(concept.lemmas);
    for (const w of ['lawyer', 'photography', 'hospital', 'traffic']) expect(nodes.has(w), w).toBe(false);
    for (const w of ['kitty', 'crimson', 'automobile', 'aquamarine']) expect(nodes.has(w), w).toBe(true);
  });

  it("are real words the captions, the concepts and the evaluation never use", () => {
    expect(lemmas.length).toBeGreaterThan(300);
    const held = new Set(synonymMap(lex, generatorVocabulary(lex)).flatMap((e) => e.synonyms.flatMap(words)));
    const evalWords = new Set([...OFF_TOPIC_PHRASES, ...SYMBOL_QUERIES].flatMap(words));
    const near = nearConcept(lex.wordnet, senses);
    const gen = generatorVocabulary(lex);
    for (const l of lemmas) {
      expect(near.has(l), l).toBe(false);
      for (const w of words(l)) {
        expect(gen.has(w) || held.has(w) || evalWords.has(w), `${l}: ${w}`).toBe(false);
        expect(concept.lemmas.some((c) => words(c).includes(w)), `${l}: ${w} is a concept prior word`).toBe(false);
      }
    }
  });

  it("the known words (the tower's known-word table) hold every held-out synonym and none of the evaluation's made-up or off-topic lemma words", () => {
    const known = new Set(knownPhrases(lex, concept.lemmas).flatMap(captionWords));
    expect(known).toEqual(knownWordSet());
    // Held-out synonyms are known through the concept prior (never through captions: see above).
    const held = synonymMap(lex, generatorVocabulary(lex)).flatMap((e) => e.synonyms.flatMap(words));
    expect(held.length).toBeGreaterThan(50);
    for (const w of held) expect(known.has(w), w).toBe(true);
    // Off-topic lemmas (trained towards nothing) are not known words.
    for (const l of lemmas) for (const w of words(l)) expect(known.has(w), `${l}: ${w}`).toBe(false);
    // The evaluation's made-up words leave out known words (tools/eval/no-match.ts).
    const trained = trainedMadeUpWords();
    const ws = pseudoWords(100, 7, (w) => CLIP_WORDS.has(w) || trained.has(w) || known.has(w)).flatMap((t) => t.split(' '));
    expect(ws.filter((w) => known.has(w))).toEqual([]);
  });

  it('say nothing but off-topic lemmas in the frames the captions use', () => {
    const texts = offTopicTexts(2000, combineSeeds(0, NULL_SALT + 1), lemmas);
    const lemmaWords = new Set(lemmas.flatMap((l) => [...words(l), ...words(pluralise(l))]));
    let offTopic = 0;
    for (const t of texts)
      for (const w of words(t)) {
        const frame = lex.trainVocabulary.has(w);
        expect(frame || lemmaWords.has(w), `${t}: ${w}`).toBe(true);
        if (!frame) offTopic++;
      }
    expect(offTopic).toBeGreaterThan(2000);
    expect(offTopicTexts(20, 5, lemmas)).toEqual(offTopicTexts(20, 5, lemmas));
  });
});

describe('frame-only content-free texts', () => {
  it('say only the words captions put around attributes, never an attribute word', () => {
    const lex = loadLexicon();
    const frames = frameWords(lex.train);
    expect(frames).toEqual(expect.arrayContaining(['show', 'me', 'pictures', 'two', 'few', 'a', 'of']));
    const attribute = new Set([...lexiconEntries(lex.train), ...BACKGROUNDS.flatMap((b) => b.words)].flatMap(words));
    for (const w of frames) {
      expect(lex.trainVocabulary.has(w), w).toBe(true);
      if (!['a', 'an', 'and', 'of', 'the'].includes(w)) expect(attribute.has(w), w).toBe(false);
    }
    const texts = frameTexts(500, 1, frames);
    for (const t of texts) for (const w of words(t)) expect(frames.includes(w), w).toBe(true);
    expect(new Set(texts).size).toBeGreaterThan(400);
  });
});

describe('the text export stays out of the evaluation', () => {
  it('export-text-data.ts imports from tools/eval/ only the content-free phrases it keeps out of training', () => {
    const closure = importClosure('tools/zoo/export-text-data.ts');
    expect(closure.length).toBeGreaterThan(3);
    expect(closure.filter((f) => f.startsWith('tools/eval/'))).toEqual(['tools/eval/noMatchQueries.ts']);
  });
});
