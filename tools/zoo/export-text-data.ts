/**
 * Exports the text stage's captions (tools/zoo-encoder/train_text.py): many captions per TRAIN-split
 * model, each with the attributes it names, so the trainer can make "only a palette" captions
 * positive for every model with that palette instead of for the one model that was described.
 *
 *   npx tsx tools/zoo/export-text-data.ts --out .cache/zoo-train --models 800 --captions 256 [--nulls 20000] [--off-topic 20000] [--frames 10000] [--synth 100000] [--seed 0]
 *
 * Writes (little-endian, row-major), beside export-training-data.ts's files:
 *   text-meta.json     { models: [ids], captionsPerModel, named: bit of each attribute, zooSeed }
 *   text-captions.i32  int32 [M, K, 77]  CLIP token ids of describedCaption (SOT … EOT, EOT padding)
 *   text-named.u8      uint8 [M, K]      bit mask of the attributes each caption names
 *   text-null.i32      int32 [J, 77]     content-free texts (nullTexts, offTopicTexts, frameTexts): what the encoder should say nothing about
 *   prior-text.json    the concept prior (tools/zoo/lexicon.ts conceptPriorGraph), as prior.json
 *   known-words.json   { phrases: [{ text, ids }] }: every phrase whose words the text tower knows
 *                      (knownPhrases: the captions' vocabulary and the concept prior's lemmas); the
 *                      trainer hashes their BPE words into the tower's known-word table
 *   text-synth.i32     int32 [S, 77]     full descriptions of attribute tuples no rendered model has
 *                                        (train-split tuples only: tupleSplit), for the trainer's
 *                                        compositional targets
 *   text-synth.u8      uint8 [S, 6]      per description: the `synthColumns` of text-meta.json (subject,
 *                                        palette, style, background, composition: indices into its
 *                                        `values`), then the named bits
 * Same generator, lexicon split and typo split as the image-stage captions (tools/zoo/captions.ts),
 * on another random stream (TEXT_SALT); eval models and held-out words never reach it.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_CONTEXT_LENGTH, CLIP_SOT } from '../../src/core/encode/tokenizer.ts';
import { integer, parseCommandLine, required, runCommand, text } from '../lib/args.ts';
import { OFF_TOPIC_PHRASES } from '../eval/noMatchQueries.ts';
import { captionWords, CLOSERS, COUNT_FRAMES, describedCaption, frameWords, lexiconEntries, MODES, OPENERS, pluralise, type CaptionMode, type NamedAttribute } from './captions.ts';
import { conceptPriorGraph, conceptSenses, offTopicLemmas, type Lexicon } from './lexicon.ts';
import { cachedEncoder, captionContext, clipWholeWords, priorJson, type CaptionContext } from './export-training-data.ts';
import { BACKGROUNDS, combineSeeds, COMPOSITIONS, makeZoo, PALETTES, prng, STYLES, SUBJECTS, tupleSplit, type ZooModelSpec } from './spec.ts';

/** Salt of the text stage's caption stream: prng(combineSeeds(spec.seed, TEXT_SALT)). */
export const TEXT_SALT = 0x7e47;
/** The image stage's caption modes plus full descriptions with the background: one in four captions names everything. */
export const TEXT_MODES: readonly CaptionMode[] = [...MODES, ...Array.from({ length: 2 }, () => MODES[0]!)];
export const NAMED_BITS: Record<NamedAttribute, number> = { subject: 1, palette: 2, style: 4, background: 8, composition: 16 };

/** The bit mask of the attributes a caption names (text-named.u8, text-synth.u8's last column). */
export function namedBits(named: readonly NamedAttribute[]): number {
  return named.reduce((bits, a) => bits | NAMED_BITS[a], 0);
}

/** Salt of the content-free text stream. */
export const NULL_SALT = 0x4e11;

/**
 * Content-free training texts: 1–4 made-up "words" of 2–10 letters, each with a vowel and none a
 * word of CLIP's vocabulary or one the captions and the prior know (`isWord`). The evaluation's
 * content-free queries are other sets (tools/eval/noMatchQueries.ts: vowel-free letter strings,
 * digits and punctuation, a list of real off-topic phrases), so they stay held out by construction.
 */
export function nullTexts(count: number, seed: number, isWord: (w: string) => boolean): string[] {
  const rand = prng(seed);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const word = (): string => {
    for (;;) {
      const w = Array.from({ length: 2 + Math.floor(rand() * 9) }, () => letters[Math.floor(rand() * 26)]!).join('');
      if (/[aeiou]/.test(w) && !isWord(w)) return w;
    }
  };
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, word).join(' '));
}

/** The export's made-up-word texts: nullTexts leaving out every CLIP whole word and every word the captions or the prior know. */
export function madeUpTexts(count: number, seed: number, context: CaptionContext, clipWords: ReadonlySet<string>): string[] {
  return nullTexts(count, combineSeeds(seed, NULL_SALT), (w) => clipWords.has(w) || context.realWords.has(w));
}

/** How many made-up-word texts the export writes unless told otherwise (--nulls). */
export const DEFAULT_NULL_TEXTS = 20000;

/**
 * Every made-up word of the content-free texts `npm run train-zoo-encoder` trains on (the export's
 * defaults: DEFAULT_NULL_TEXTS texts, seed 0). The eval's made-up words leave these out, so they
 * are held out from training whatever syllables they share.
 */
export function trainedMadeUpWords(): Set<string> {
  return new Set(madeUpTexts(DEFAULT_NULL_TEXTS, 0, captionContext().context, clipWholeWords()).flatMap((t) => t.split(' ')));
}

/**
 * Content-free training texts of real words: 1–2 off-topic lemmas (offTopicLemmas), said the way
 * captions say a subject, with the captions' openers, closers and count frames ("a picture of two
 * lawyers"), so neither the words nor the frames around them point at any model.
 */
export function offTopicTexts(count: number, seed: number, lemmas: readonly string[]): string[] {
  if (!lemmas.length) return [];
  const rand = prng(seed);
  const pickOf = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const frames = Object.values(COUNT_FRAMES).flatMap((f) => [...f.singular.map((x) => [x, false] as const), ...f.plural.map((x) => [x, true] as const)]);
  return Array.from({ length: count }, () => {
    let body = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pickOf(lemmas)).join(' ');
    if (rand() < 0.3) {
      const [frame, plural] = pickOf(frames);
      body = frame.replace('{}', plural ? pluralise(body) : body);
    }
    return [pickOf(OPENERS), body, pickOf(CLOSERS)].filter(Boolean).join(' ');
  });
}

/** Content-free training texts of caption frame words only (frameWords: "show me a few", "2 images thanks"). */
export function frameTexts(count: number, seed: number, words: readonly string[]): string[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(rand() * 5) }, () => words[Math.floor(rand() * words.length)]!).join(' '));
}

/**
 * Words of the evaluation's content-free phrases (tools/eval/noMatchQueries.ts): never in a training
 * text, so the "nothing matches" evaluation measures words the encoder was not taught to ignore.
 */
export function heldOutWords(): Set<string> {
  return new Set(OFF_TOPIC_PHRASES.flatMap(captionWords));
}

/**
 * The phrases whose words the text tower knows (model.py TextTower known-word table): every word a
 * training caption can emit (typos aside), every training lexicon phrase, and every lemma of the
 * concept prior (where held-out synonyms get their meaning). A word outside them (a typo, a made-up
 * word, an off-topic word) is unknown and says nothing, whatever BPE pieces it shares with known words.
 */
export function knownPhrases(lexicon: Lexicon, conceptLemmas: readonly string[]): string[] {
  return [...new Set([...lexicon.trainVocabulary, ...lexiconEntries(lexicon.train), ...conceptLemmas])].sort();
}

/** Every word of knownPhrases for the export's lexicon (lower case, as captionWords splits them). */
export function knownWordSet(): Set<string> {
  const { lexicon } = captionContext();
  const concept = conceptPriorGraph(lexicon.wordnet, conceptSenses(lexicon.wordnet), lexiconEntries(lexicon.train));
  return new Set(knownPhrases(lexicon, concept.lemmas).flatMap(captionWords));
}

function knownWordsJson(phrases: readonly string[], encode: (text: string) => Int32Array): string {
  const rows = phrases.map((text) => ({ text, ids: [...encode(text)].filter((id) => id < CLIP_SOT) }));
  return JSON.stringify({ about: 'Phrases whose BPE words the zoo encoder text tower knows (tools/zoo/export-text-data.ts knownPhrases).', phrases: rows }) + '\n';
}

/** Salt of the synthetic-tuple stream. */
export const SYNTH_SALT = 0x5e7;
/** The attribute values in the order text-synth.u8 indexes them. */
export const ATTRIBUTE_VALUES = {
  subject: SUBJECTS.map((d) => d.id),
  palette: PALETTES.map((d) => d.id),
  style: STYLES.map((d) => d.id),
  background: BACKGROUNDS.map((d) => d.id),
  composition: COMPOSITIONS.map((d) => d.id),
} as const;
/** The columns of text-synth.u8 before the named bits (recorded in text-meta.json as `synthColumns`). */
export const SYNTH_KEYS = ['subject', 'palette', 'style', 'background', 'composition'] as const;
/** Full descriptions (subject, palette, style, with or without the background). */
const SYNTH_MODES: readonly CaptionMode[] = [MODES[0]!, MODES[1]!];

/** `count` random train-split attribute tuples (never an eval tuple: tupleSplit). */
export function synthTuples(count: number, seed: number): Pick<ZooModelSpec, (typeof SYNTH_KEYS)[number]>[] {
  const rand = prng(seed);
  const pickOf = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const out: Pick<ZooModelSpec, (typeof SYNTH_KEYS)[number]>[] = [];
  while (out.length < count) {
    const t = { subject: pickOf(ATTRIBUTE_VALUES.subject), palette: pickOf(ATTRIBUTE_VALUES.palette), style: pickOf(ATTRIBUTE_VALUES.style), background: pickOf(ATTRIBUTE_VALUES.background), composition: pickOf(ATTRIBUTE_VALUES.composition) };
    if (tupleSplit(t) === 'train') out.push(t);
  }
  return out;
}

/** `k` text-stage captions of a rendered training model, on its own stream (TEXT_SALT). */
export function modelCaptions(spec: ZooModelSpec, context: CaptionContext, k: number): ReturnType<typeof describedCaption>[] {
  const rand = prng(combineSeeds(spec.seed, TEXT_SALT));
  return Array.from({ length: k }, () => describedCaption(spec, context.lexicon, rand, { avoidTypo: (w) => context.realWords.has(w), modes: TEXT_MODES }));
}

/** A full description of a synthetic tuple (no model renders it). */
export function synthDescription(t: Pick<ZooModelSpec, (typeof SYNTH_KEYS)[number]>, context: CaptionContext, rand: () => number): ReturnType<typeof describedCaption> {
  return describedCaption({ ...t, id: 'synthetic', split: 'train', family: t.subject, seed: 0 }, context.lexicon, rand, { avoidTypo: (w) => context.realWords.has(w), modes: SYNTH_MODES });
}

export interface TextExportOptions {
  out: string;
  models: number;
  captions: number;
  /** Content-free texts of made-up words (nullTexts). */
  nulls: number;
  /** Content-free texts of off-topic real words (offTopicTexts). */
  offTopic: number;
  /** Content-free texts of caption frame words (frameTexts). */
  frames: number;
  /** Descriptions of synthetic train-split tuples. */
  synth: number;
  seed: number;
  log?: (msg: string) => void;
}

export function exportTextData(opts: TextExportOptions): { captions: number; seconds: number } {
  const log = opts.log ?? ((m: string) => console.log(m));
  const t0 = performance.now();
  const zoo = makeZoo('train', opts.models, opts.seed);
  const K = opts.captions;
  mkdirSync(opts.out, { recursive: true });
  const { context, prior, lexicon } = captionContext();
  const encode = cachedEncoder();
  const fCap = openSync(join(opts.out, 'text-captions.i32'), 'w');
  const fNamed = openSync(join(opts.out, 'text-named.u8'), 'w');
  try {
    for (const spec of zoo) {
      const ids = new Int32Array(K * CLIP_CONTEXT_LENGTH);
      const named = new Uint8Array(K);
      modelCaptions(spec, context, K).forEach((c, k) => {
        ids.set(encode(c.text), k * CLIP_CONTEXT_LENGTH);
        named[k] = namedBits(c.named);
      });
      writeSync(fCap, new Uint8Array(ids.buffer));
      writeSync(fNamed, named);
    }
  } finally {
    closeSync(fCap);
    closeSync(fNamed);
  }
  const clipWords = clipWholeWords();
  // The concept prior (prior-text.json, the text stage's) and the off-topic words it leaves out.
  const senses = conceptSenses(lexicon.wordnet);
  const entries = lexiconEntries(lexicon.train);
  const concept = conceptPriorGraph(lexicon.wordnet, senses, entries);
  writeFileSync(join(opts.out, 'prior-text.json'), priorJson(concept, encode));
  writeFileSync(join(opts.out, 'known-words.json'), knownWordsJson(knownPhrases(lexicon, concept.lemmas), encode));
  const offTopic = offTopicLemmas(lexicon.wordnet, prior, senses, entries, lexicon.trainVocabulary, heldOutWords());
  const nulls = [
    ...madeUpTexts(opts.nulls, opts.seed, context, clipWords),
    ...offTopicTexts(opts.offTopic, combineSeeds(opts.seed, NULL_SALT + 1), offTopic),
    ...frameTexts(opts.frames, combineSeeds(opts.seed, NULL_SALT + 2), frameWords(lexicon.train)),
  ];
  log(`concept prior: ${concept.lemmas.length} lemmas, ${concept.edges.length} edges; ${offTopic.length} off-topic lemmas, ${nulls.length} content-free texts`);
  const nullIds = new Int32Array(nulls.length * CLIP_CONTEXT_LENGTH);
  nulls.forEach((t, i) => nullIds.set(encode(t), i * CLIP_CONTEXT_LENGTH));
  writeFileSync(join(opts.out, 'text-null.i32'), new Uint8Array(nullIds.buffer));
  const tuples = synthTuples(opts.synth, combineSeeds(opts.seed, SYNTH_SALT));
  const synthIds = new Int32Array(tuples.length * CLIP_CONTEXT_LENGTH);
  const width = SYNTH_KEYS.length + 1;
  const synthAttrs = new Uint8Array(tuples.length * width);
  const synthRand = prng(combineSeeds(opts.seed, SYNTH_SALT + 1));
  tuples.forEach((t, i) => {
    const c = synthDescription(t, context, synthRand);
    synthIds.set(encode(c.text), i * CLIP_CONTEXT_LENGTH);
    SYNTH_KEYS.forEach((k, j) => (synthAttrs[i * width + j] = (ATTRIBUTE_VALUES[k] as readonly string[]).indexOf(t[k])));
    synthAttrs[i * width + SYNTH_KEYS.length] = namedBits(c.named);
  });
  writeFileSync(join(opts.out, 'text-synth.i32'), new Uint8Array(synthIds.buffer));
  writeFileSync(join(opts.out, 'text-synth.u8'), synthAttrs);
  writeFileSync(
    join(opts.out, 'text-meta.json'),
    JSON.stringify({ models: zoo.map((z) => z.id), captionsPerModel: K, named: NAMED_BITS, synth: tuples.length, synthColumns: SYNTH_KEYS, values: ATTRIBUTE_VALUES, nulls: nulls.length, nullExamples: [...nulls.slice(0, 5), ...nulls.slice(-5)], zooSeed: opts.seed, files: { 'text-captions.i32': `int32 [${zoo.length}, ${K}, ${CLIP_CONTEXT_LENGTH}]`, 'text-named.u8': `uint8 [${zoo.length}, ${K}]`, 'text-null.i32': `int32 [${nulls.length}, ${CLIP_CONTEXT_LENGTH}]`, 'text-synth.i32': `int32 [${tuples.length}, ${CLIP_CONTEXT_LENGTH}]`, 'text-synth.u8': `uint8 [${tuples.length}, ${width}]` } }, null, 1) + '\n',
  );
  const seconds = (performance.now() - t0) / 1000;
  log(`exported ${zoo.length * K} captions of ${zoo.length} train models to ${opts.out} in ${seconds.toFixed(1)} s`);
  return { captions: zoo.length * K, seconds };
}

const USAGE = 'usage: npx tsx tools/zoo/export-text-data.ts --out <dir> [--models 800] [--captions 256] [--nulls 20000] [--off-topic 20000] [--frames 10000] [--synth 100000] [--seed 0]';
const OPTIONS = { out: text(), models: integer({ min: 1, default: 800 }), captions: integer({ min: 1, default: 256 }), nulls: integer({ min: 0, default: DEFAULT_NULL_TEXTS }), 'off-topic': integer({ min: 0, default: 20000 }), frames: integer({ min: 0, default: 10000 }), synth: integer({ min: 0, default: 100000 }), seed: integer({ min: 0, default: 0 }) };

if (process.argv[1]?.endsWith('export-text-data.ts')) {
  void runCommand(USAGE, async () => {
    const { values } = parseCommandLine(process.argv.slice(2), OPTIONS);
    exportTextData({ ...values, offTopic: values['off-topic'], out: required(values.out, 'out') });
  }).then((code) => (process.exitCode = code));
}
