/**
 * The procedural model zoo: parameter vocabularies, zoo construction, metadata and text.
 *
 * A zoo "generative model" is a seeded stochastic image program: a subject (drawn with Canvas
 * paths), a colour palette, a background, a composition (count / scale / placement) and an
 * image-space style. `render.ts` turns a `ZooModelSpec` plus a sample seed into pixels.
 *
 * Pure TypeScript: no canvas, no Node APIs (runs in a browser worker as well as in Node).
 */
import { mulberry32 } from '../../src/core/math/prng.ts';

// ---------------------------------------------------------------------------------------------
// Random numbers and hashing
// ---------------------------------------------------------------------------------------------

/** The zoo's seeded PRNG: mulberry32, shared with the painted models and the tests. */
export const prng = mulberry32;

/** FNV-1a 32-bit hash of a string, then a murmur3 finaliser (good avalanche). Unsigned. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3 fmix32. Unsigned. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines two integers into one well-mixed unsigned 32-bit seed. */
export function combineSeeds(a: number, b: number): number {
  return mix32((mix32(a) ^ Math.imul((b >>> 0) + 0x9e3779b9, 0x85ebca6b)) >>> 0);
}

/** "a" or "an" before `word` (by first letter; good enough for this vocabulary). */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length) % items.length]!;
}

// ---------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------

export interface SubjectDef {
  id: string;
  /** Singular words/phrases used in text (first = canonical). */
  words: string[];
  /** Plural of each word (same order). */
  plurals: string[];
  /** Words used in model names ("Koi", "Cottage"). */
  nameWords: string[];
}

export const SUBJECTS: readonly SubjectDef[] = [
  { id: 'star', words: ['star', 'five-pointed star'], plurals: ['stars', 'five-pointed stars'], nameWords: ['Star', 'Starlight', 'Stellar'] },
  { id: 'heart', words: ['heart', 'love heart'], plurals: ['hearts', 'love hearts'], nameWords: ['Heart', 'Valentine', 'Sweetheart'] },
  { id: 'house', words: ['house', 'cottage', 'little house'], plurals: ['houses', 'cottages', 'little houses'], nameWords: ['Cottage', 'House', 'Homestead'] },
  { id: 'tree', words: ['tree', 'oak tree'], plurals: ['trees', 'oak trees'], nameWords: ['Tree', 'Oak', 'Grove'] },
  { id: 'fish', words: ['fish', 'koi fish', 'goldfish'], plurals: ['fish', 'koi fish', 'goldfish'], nameWords: ['Koi', 'Fish', 'Minnow'] },
  { id: 'flower', words: ['flower', 'daisy', 'blossom'], plurals: ['flowers', 'daisies', 'blossoms'], nameWords: ['Blossom', 'Daisy', 'Flower'] },
  { id: 'moon', words: ['moon', 'crescent moon'], plurals: ['moons', 'crescent moons'], nameWords: ['Moon', 'Crescent', 'Lunar'] },
  { id: 'sun', words: ['sun', 'shining sun'], plurals: ['suns', 'shining suns'], nameWords: ['Sun', 'Sunshine', 'Solar'] },
  { id: 'mountain', words: ['mountain', 'snowy peak'], plurals: ['mountains', 'snowy peaks'], nameWords: ['Mountain', 'Peak', 'Summit'] },
  { id: 'car', words: ['car', 'little car'], plurals: ['cars', 'little cars'], nameWords: ['Car', 'Roadster', 'Motor'] },
  { id: 'boat', words: ['boat', 'sailboat'], plurals: ['boats', 'sailboats'], nameWords: ['Sailboat', 'Boat', 'Regatta'] },
  { id: 'cat', words: ['cat', 'kitten'], plurals: ['cats', 'kittens'], nameWords: ['Cat', 'Kitty', 'Feline'] },
  { id: 'bird', words: ['bird', 'songbird'], plurals: ['birds', 'songbirds'], nameWords: ['Bird', 'Songbird', 'Sparrow'] },
  { id: 'butterfly', words: ['butterfly', 'moth'], plurals: ['butterflies', 'moths'], nameWords: ['Butterfly', 'Monarch', 'Wings'] },
  { id: 'key', words: ['key', 'old key'], plurals: ['keys', 'old keys'], nameWords: ['Key', 'Skeleton Key', 'Lock'] },
  { id: 'cup', words: ['cup', 'mug', 'teacup'], plurals: ['cups', 'mugs', 'teacups'], nameWords: ['Teacup', 'Mug', 'Cuppa'] },
  { id: 'umbrella', words: ['umbrella', 'parasol'], plurals: ['umbrellas', 'parasols'], nameWords: ['Umbrella', 'Parasol', 'Brolly'] },
  { id: 'cloud', words: ['cloud', 'fluffy cloud'], plurals: ['clouds', 'fluffy clouds'], nameWords: ['Cloud', 'Cumulus', 'Nimbus'] },
  { id: 'leaf', words: ['leaf', 'green leaf'], plurals: ['leaves', 'green leaves'], nameWords: ['Leaf', 'Foliage', 'Frond'] },
  { id: 'rocket', words: ['rocket', 'spaceship'], plurals: ['rockets', 'spaceships'], nameWords: ['Rocket', 'Spaceship', 'Launch'] },
];

export type Rgb = [number, number, number];

export interface PaletteDef {
  id: string;
  /** Words/phrases used in text (first = canonical name). */
  words: string[];
  nameWords: string[];
  /** Background colours (light-ish then dark-ish). */
  bg: [Rgb, Rgb];
  /** Subject colours: main body, secondary, accent. */
  fg: [Rgb, Rgb, Rgb];
  /** Outline / dark detail colour. */
  ink: Rgb;
}

export const PALETTES: readonly PaletteDef[] = [
  { id: 'crimson', words: ['crimson', 'deep red', 'scarlet'], nameWords: ['Crimson', 'Scarlet', 'Ruby'], bg: [[246, 214, 210], [120, 12, 24]], fg: [[200, 20, 45], [150, 10, 30], [240, 90, 80]], ink: [60, 0, 10] },
  { id: 'ocean-blue', words: ['ocean blue', 'deep blue', 'navy and sky blue'], nameWords: ['Ocean', 'Azure', 'Tidal'], bg: [[200, 226, 250], [10, 40, 110]], fg: [[20, 90, 200], [60, 150, 230], [0, 50, 140]], ink: [5, 20, 60] },
  { id: 'forest-green', words: ['forest green', 'deep green', 'emerald'], nameWords: ['Forest', 'Emerald', 'Verdant'], bg: [[214, 236, 206], [20, 70, 30]], fg: [[30, 130, 50], [90, 170, 60], [10, 90, 40]], ink: [10, 40, 15] },
  { id: 'sunset-orange', words: ['sunset orange', 'warm orange', 'tangerine'], nameWords: ['Sunset', 'Tangerine', 'Amber'], bg: [[255, 224, 180], [170, 60, 20]], fg: [[245, 120, 20], [250, 170, 50], [220, 70, 40]], ink: [90, 30, 5] },
  { id: 'lavender', words: ['lavender', 'soft purple', 'lilac'], nameWords: ['Lavender', 'Lilac', 'Violet'], bg: [[236, 226, 248], [90, 60, 140]], fg: [[160, 120, 210], [200, 170, 235], [120, 80, 180]], ink: [50, 30, 80] },
  { id: 'monochrome', words: ['monochrome', 'black and white', 'greyscale'], nameWords: ['Mono', 'Noir', 'Greyscale'], bg: [[236, 236, 236], [40, 40, 40]], fg: [[90, 90, 90], [170, 170, 170], [20, 20, 20]], ink: [0, 0, 0] },
  { id: 'pastel', words: ['pastel', 'soft pastel', 'candy pastel'], nameWords: ['Pastel', 'Candy', 'Sorbet'], bg: [[252, 240, 232], [190, 220, 235]], fg: [[250, 180, 200], [170, 220, 200], [255, 230, 160]], ink: [130, 110, 130] },
  { id: 'neon', words: ['neon', 'electric neon', 'glowing neon'], nameWords: ['Neon', 'Electric', 'Glow'], bg: [[20, 10, 40], [5, 5, 15]], fg: [[255, 20, 200], [20, 255, 240], [200, 255, 0]], ink: [255, 255, 255] },
  { id: 'earth-tones', words: ['earth tones', 'earthy brown', 'muted earthy'], nameWords: ['Terra', 'Clay', 'Umber'], bg: [[226, 210, 180], [90, 60, 35]], fg: [[140, 90, 50], [110, 120, 60], [190, 140, 80]], ink: [50, 30, 15] },
  { id: 'gold', words: ['gold', 'golden', 'gilded gold'], nameWords: ['Golden', 'Gilded', 'Aurum'], bg: [[250, 240, 200], [60, 40, 10]], fg: [[220, 170, 30], [250, 210, 80], [170, 120, 10]], ink: [80, 50, 0] },
  { id: 'candy-pink', words: ['pink', 'hot pink', 'bubblegum pink'], nameWords: ['Bubblegum', 'Rose', 'Flamingo'], bg: [[255, 220, 235], [170, 30, 100]], fg: [[250, 80, 160], [255, 150, 200], [210, 30, 120]], ink: [90, 10, 50] },
  { id: 'teal', words: ['teal', 'turquoise', 'aqua'], nameWords: ['Teal', 'Lagoon', 'Aqua'], bg: [[210, 245, 240], [0, 80, 85]], fg: [[0, 150, 150], [60, 210, 200], [0, 100, 110]], ink: [0, 40, 45] },
];

export interface WordDef {
  id: string;
  words: string[];
  nameWords: string[];
}

export const BACKGROUNDS: readonly WordDef[] = [
  { id: 'plain', words: ['a plain background', 'a flat background', 'a solid background'], nameWords: ['Plain', 'Flat'] },
  { id: 'gradient', words: ['a gradient background', 'a smooth gradient', 'a colour gradient'], nameWords: ['Gradient', 'Fade'] },
  { id: 'noise', words: ['a noisy texture', 'a grainy textured background', 'a speckled texture'], nameWords: ['Speckle', 'Texture'] },
  { id: 'stripes', words: ['a striped background', 'stripes', 'a background of stripes'], nameWords: ['Stripes', 'Striped'] },
  { id: 'landscape', words: ['a landscape', 'a sky and hills', 'a scenic landscape'], nameWords: ['Landscape', 'Vista'] },
  { id: 'dots', words: ['a polka dot background', 'polka dots', 'a dotted background'], nameWords: ['Polka', 'Dotty'] },
];

export const STYLES: readonly WordDef[] = [
  { id: 'flat', words: ['flat vector', 'clean vector', 'flat illustration'], nameWords: ['Vector', 'Flat'] },
  { id: 'posterise', words: ['posterised', 'poster style', 'posterized'], nameWords: ['Posterised', 'Poster'] },
  { id: 'pixel', words: ['pixel art', 'pixelated', 'retro pixel'], nameWords: ['Pixel', '8-Bit'] },
  { id: 'halftone', words: ['halftone', 'halftone dots', 'comic print'], nameWords: ['Halftone', 'Print'] },
  { id: 'ink', words: ['ink outlined', 'inked cartoon', 'bold ink lines'], nameWords: ['Inked', 'Cartoon'] },
  { id: 'blur', words: ['blurry', 'soft focus', 'dreamy blurred'], nameWords: ['Dreamy', 'Soft'] },
  { id: 'grain', words: ['film grain', 'grainy photo', 'noisy film'], nameWords: ['Film', 'Grain'] },
  { id: 'vignette', words: ['vignette', 'dark vignette', 'moody vignetted'], nameWords: ['Vignette', 'Moody'] },
  { id: 'watercolour', words: ['watercolour', 'watercolor painting', 'painted watercolour'], nameWords: ['Watercolour', 'Aquarelle'] },
  { id: 'outline', words: ['line art', 'outline only', 'coloured line drawing'], nameWords: ['Lineart', 'Outline'] },
  { id: 'invert', words: ['inverted', 'negative', 'colour negative'], nameWords: ['Negative', 'Inverted'] },
  { id: 'scanlines', words: ['retro scanlines', 'CRT screen', 'scanline'], nameWords: ['CRT', 'Scanline'] },
];

export interface CompositionDef {
  id: string;
  /** Phrase placed before a singular subject word, or `null` to use the plural form. */
  singular: string | null;
  /** Phrases placed before the plural form (when `singular` is null). */
  pluralPhrases: string[];
  minCount: number;
  maxCount: number;
  /** Subject size as a fraction of the image side. */
  minScale: number;
  maxScale: number;
  /** Max |rotation| in radians. */
  rotation: number;
}

export const COMPOSITIONS: readonly CompositionDef[] = [
  { id: 'single', singular: 'a', pluralPhrases: [], minCount: 1, maxCount: 1, minScale: 0.55, maxScale: 0.72, rotation: 0.15 },
  { id: 'closeup', singular: 'a close-up of a', pluralPhrases: [], minCount: 1, maxCount: 1, minScale: 0.9, maxScale: 1.15, rotation: 0.25 },
  { id: 'pair', singular: null, pluralPhrases: ['two', 'a pair of'], minCount: 2, maxCount: 2, minScale: 0.38, maxScale: 0.46, rotation: 0.25 },
  { id: 'trio', singular: null, pluralPhrases: ['three', 'a few'], minCount: 3, maxCount: 3, minScale: 0.3, maxScale: 0.38, rotation: 0.3 },
  { id: 'scattered', singular: null, pluralPhrases: ['many', 'a scattered group of', 'lots of little'], minCount: 4, maxCount: 5, minScale: 0.2, maxScale: 0.28, rotation: 0.9 },
  { id: 'row', singular: null, pluralPhrases: ['a row of', 'a line of'], minCount: 3, maxCount: 4, minScale: 0.22, maxScale: 0.27, rotation: 0.1 },
];

export function subjectDef(id: string): SubjectDef {
  return byId(SUBJECTS, id, 'subject');
}
export function paletteDef(id: string): PaletteDef {
  return byId(PALETTES, id, 'palette');
}
export function backgroundDef(id: string): WordDef {
  return byId(BACKGROUNDS, id, 'background');
}
export function styleDef(id: string): WordDef {
  return byId(STYLES, id, 'style');
}
export function compositionDef(id: string): CompositionDef {
  return byId(COMPOSITIONS, id, 'composition');
}

function byId<T extends { id: string }>(list: readonly T[], id: string, what: string): T {
  const found = list.find((x) => x.id === id);
  if (!found) throw new Error(`unknown ${what} "${id}"`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Zoo construction
// ---------------------------------------------------------------------------------------------

export type Split = 'train' | 'eval';

export interface ZooModelSpec {
  id: string;
  split: Split;
  /** Subject id: models sharing a subject form a family (like fine-tunes of one base model). */
  family: string;
  subject: string;
  palette: string;
  background: string;
  style: string;
  composition: string;
  seed: number;
}

type Tuple = Pick<ZooModelSpec, 'subject' | 'palette' | 'background' | 'style' | 'composition'>;

export function tupleKey(t: Tuple): string {
  return `${t.subject}|${t.palette}|${t.background}|${t.style}|${t.composition}`;
}

/**
 * Which split a parameter tuple belongs to: a fixed hash of the tuple, ~25% eval. Train and eval
 * zoos therefore never share a (subject, palette, background, style, composition) combination,
 * whatever their sizes or zoo seeds.
 */
export function tupleSplit(t: Tuple): Split {
  return hashString(`zoo-split-v1|${tupleKey(t)}`) % 4 === 0 ? 'eval' : 'train';
}

/** Model seeds: train seeds have the top bit clear, eval seeds have it set (disjoint). */
function modelSeed(split: Split, key: string, zooSeed: number): number {
  const h = hashString(`zoo-seed|${zooSeed}|${key}`) & 0x7fffffff;
  return split === 'eval' ? (h | 0x80000000) >>> 0 : h;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function specFrom(t: Tuple, split: Split, zooSeed: number, index: number): ZooModelSpec {
  const key = tupleKey(t);
  const seed = modelSeed(split, key, zooSeed);
  const base = { ...t, split, family: t.subject, seed, id: '' };
  const prefix = split === 'eval' ? 'e' : 't';
  base.id = `${slug(modelName(base))}-${prefix}${String(index).padStart(4, '0')}`;
  return base;
}

function randomTuple(rand: () => number, subject: string): Tuple {
  return {
    subject,
    palette: pick(rand, PALETTES).id,
    background: pick(rand, BACKGROUNDS).id,
    style: pick(rand, STYLES).id,
    composition: pick(rand, COMPOSITIONS).id,
  };
}

/**
 * Builds a deterministic zoo of `count` models of one split. Subjects are dealt round-robin, so
 * every subject (family) has ~count/20 models. The result for a smaller `count` is a prefix of the
 * result for a larger one (same zoo seed).
 *
 * - train: random tuples from the train side of `tupleSplit`, no duplicates; within a family a
 *   third of the models are palette/style variants of an earlier one.
 * - eval: groups of 3–4 models per subject: a base tuple plus variants that differ from it only in
 *   style or only in palette (hard negatives), all from the eval side of `tupleSplit`.
 */
export function makeZoo(split: Split, count: number, seed = 0): ZooModelSpec[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`makeZoo: bad count ${count}`);
  const rand = prng(combineSeeds(hashString(`zoo-${split}`), seed));
  const used = new Set<string>();
  const out: ZooModelSpec[] = [];
  const push = (t: Tuple): boolean => {
    const key = tupleKey(t);
    if (used.has(key) || tupleSplit(t) !== split) return false;
    used.add(key);
    out.push(specFrom(t, split, seed, out.length));
    return true;
  };
  /** A variant of `t` differing only in style or only in palette, on this split, unused. */
  const variant = (t: Tuple, which: 'style' | 'palette'): Tuple | null => {
    const options = which === 'style' ? STYLES : PALETTES;
    const start = Math.floor(rand() * options.length);
    for (let k = 0; k < options.length; k++) {
      const v = { ...t, [which]: options[(start + k) % options.length]!.id };
      if (!used.has(tupleKey(v)) && tupleSplit(v) === split) return v;
    }
    return null;
  };
  const baseTuple = (subject: string): Tuple => {
    for (;;) {
      const t = randomTuple(rand, subject);
      if (!used.has(tupleKey(t)) && tupleSplit(t) === split) return t;
    }
  };

  let round = 0;
  const lastBase = new Map<string, Tuple>();
  while (out.length < count) {
    for (const subject of SUBJECTS) {
      if (out.length >= count) break;
      if (split === 'eval') {
        const base = baseTuple(subject.id);
        push(base);
        const kinds: ('style' | 'palette')[] = round % 2 === 0 ? ['style', 'palette', 'style'] : ['palette', 'style', 'palette'];
        for (const kind of kinds) {
          if (out.length >= count) break;
          const v = variant(base, kind);
          if (v) push(v);
        }
      } else {
        const prev = lastBase.get(subject.id);
        let t: Tuple | null = null;
        if (prev && round % 3 === 1) t = variant(prev, rand() < 0.5 ? 'style' : 'palette');
        if (!t) t = baseTuple(subject.id);
        push(t);
        lastBase.set(subject.id, t);
      }
    }
    round++;
    if (round > 100_000) throw new Error(`makeZoo: cannot make ${count} ${split} models`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------------

export interface ZooModelMetadata {
  id: string;
  name: string;
  description: string;
  family: string;
  creator: string;
  licence: 'CC0-1.0';
  resolution: '224×224';
  links: { label: string; url: string }[];
}

type NameInput = Pick<ZooModelSpec, 'subject' | 'palette' | 'style' | 'seed'>;

/** Human model name such as "Neon Koi Halftone" (deterministic in the spec). */
function modelName(spec: NameInput): string {
  const rand = prng(combineSeeds(spec.seed, 0x4e414d45));
  const p = pick(rand, paletteDef(spec.palette).nameWords);
  const s = pick(rand, subjectDef(spec.subject).nameWords);
  const st = pick(rand, styleDef(spec.style).nameWords);
  const form = Math.floor(rand() * 4);
  if (form === 0) return `${st} ${p} ${s}`;
  if (form === 1) return `${p} ${s} ${st}`;
  if (form === 2) return `${p} ${s} ${st} v${1 + Math.floor(rand() * 3)}`;
  return `${p} ${s} ${st} XL`;
}

const HANDLE_A = ['pixel', 'neural', 'dream', 'latent', 'quiet', 'brave', 'lucky', 'cosmic', 'tiny', 'velvet', 'rusty', 'misty', 'amber', 'iron', 'paper', 'noisy'];
const HANDLE_B = ['fox', 'otter', 'forge', 'lab', 'studio', 'works', 'crow', 'moth', 'brush', 'owl', 'garden', 'diffuser', 'painter', 'sketch', 'loom', 'kiln'];

/** Deterministic invented creator handle, e.g. "velvet_otter42". */
function creatorHandle(seed: number): string {
  const rand = prng(combineSeeds(seed, 0x43524541));
  const sep = pick(rand, ['', '_', '-', '.']);
  return `${pick(rand, HANDLE_A)}${sep}${pick(rand, HANDLE_B)}${Math.floor(rand() * 100)}`;
}

function subjectPhrase(subject: SubjectDef, comp: CompositionDef, wordIndex: number, rand: () => number): string {
  const i = wordIndex % subject.words.length;
  if (comp.singular !== null) {
    const word = subject.words[i]!;
    const article = comp.singular.endsWith(' a') || comp.singular === 'a' ? comp.singular.replace(/a$/, /^[aeiou]/.test(word) ? 'an' : 'a') : comp.singular;
    return `${article} ${word}`;
  }
  return `${pick(rand, comp.pluralPhrases)} ${subject.plurals[i]!}`;
}

/** Model card metadata (the index builder's model.json). */
export function modelMetadata(spec: ZooModelSpec): ZooModelMetadata {
  const subject = subjectDef(spec.subject);
  const palette = paletteDef(spec.palette);
  const background = backgroundDef(spec.background);
  const style = styleDef(spec.style);
  const comp = compositionDef(spec.composition);
  const rand = prng(combineSeeds(spec.seed, 0x44455343));
  const what = subjectPhrase(subject, comp, 0, rand);
  const description =
    `Generates ${what} in ${palette.words[0]} colours (${palette.words.slice(1).join(', ')}) on ${background.words[0]}, ` +
    `rendered in ${article(style.words[0]!)} ${style.words[0]} style (${style.words.slice(1).join(', ')}). ` +
    `Procedural zoo model (${spec.split} split): subject "${spec.subject}", palette "${spec.palette}", ` +
    `background "${spec.background}", style "${spec.style}", composition "${spec.composition}".`;
  return {
    id: spec.id,
    name: modelName(spec),
    description,
    family: spec.family,
    creator: creatorHandle(spec.seed),
    licence: 'CC0-1.0',
    resolution: '224×224',
    links: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Text: evaluation queries (training captions: tools/zoo/captions.ts)
// ---------------------------------------------------------------------------------------------

interface Slots {
  /** "a koi fish" / "two cats" */
  what: string;
  /** bare subject word, singular */
  subject: string;
  palette: string;
  style: string;
  background: string;
}

/**
 * The clean evaluation text queries' sentence frames. Training captions (tools/zoo/captions.ts)
 * never use them: each has a word no training caption can emit ("drawn", "over", "generator",
 * "paints"; test/unit/evalHeldout.test.ts).
 */
const EVAL_TEMPLATES: readonly ((s: Slots) => string)[] = [
  (s) => `I want pictures of ${s.what} drawn ${s.style} with ${s.palette} colours`,
  (s) => `show me ${s.palette} ${s.style} art with ${s.what} over ${s.background}`,
  (s) => `looking for a generator that makes ${s.style} ${s.palette} images of ${s.what}`,
  (s) => `which model paints ${s.what} using ${s.palette} in ${article(s.style)} ${s.style} look?`,
];

function slotsFor(spec: ZooModelSpec, rand: () => number): Slots {
  const subject = subjectDef(spec.subject);
  const comp = compositionDef(spec.composition);
  const wi = Math.floor(rand() * subject.words.length);
  return {
    what: subjectPhrase(subject, comp, wi, rand),
    subject: subject.words[wi]!,
    palette: pick(rand, paletteDef(spec.palette).words),
    style: pick(rand, styleDef(spec.style).words),
    background: pick(rand, backgroundDef(spec.background).words),
  };
}

/** 3 evaluation text queries for `spec`: paraphrases from templates never used in training. */
export function evalTextQueries(spec: ZooModelSpec): string[] {
  const rand = prng(combineSeeds(spec.seed, 0x51554552));
  const start = Math.floor(rand() * EVAL_TEMPLATES.length);
  const out: string[] = [];
  for (let k = 0; k < 3; k++) out.push(EVAL_TEMPLATES[(start + k) % EVAL_TEMPLATES.length]!(slotsFor(spec, rand)));
  return out;
}
