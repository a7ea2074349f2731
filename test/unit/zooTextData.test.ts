/**
 * The text stage's data (tools/zoo/export-text-data.ts, read by tools/zoo-encoder/train_text.py):
 * its captions are the image stage's generator (same lexicon, same typo split), its synthetic
 * descriptions cover train-split attribute tuples only, and its content-free texts never meet the
 * "nothing matches" evaluation's sets, so every held-out part of the evaluation stays held out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { gibberish, OFF_TOPIC_PHRASES, SYMBOL_QUERIES } from '../../tools/eval/noMatchQueries.ts';
import { generatorVocabulary, synonymMap, words } from '../../tools/eval/heldout.ts';
import { captionWords, describedCaption, trainingCaption, typoSide } from '../../tools/zoo/captions.ts';
import { captionContext, clipWholeWords } from '../../tools/zoo/export-training-data.ts';
import { ATTRIBUTE_VALUES, modelCaptions, NAMED_BITS, NULL_SALT, nullTexts, synthDescription, synthTuples, TEXT_MODES } from '../../tools/zoo/export-text-data.ts';
import { loadLexicon } from '../../tools/zoo/lexicon.ts';
import { combineSeeds, makeZoo, prng, tupleKey, tupleSplit } from '../../tools/zoo/spec.ts';
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

  it('are deterministic', () => {
    expect(nullTexts(50, 9, (w) => CLIP_WORDS.has(w))).toEqual(nullTexts(50, 9, (w) => CLIP_WORDS.has(w)));
  });
});

describe('the text export stays out of the evaluation', () => {
  it('export-text-data.ts never imports tools/eval/', () => {
    const closure = importClosure('tools/zoo/export-text-data.ts');
    expect(closure.length).toBeGreaterThan(3);
    expect(closure.filter((f) => f.startsWith('tools/eval/'))).toEqual([]);
  });
});
