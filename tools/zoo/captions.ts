/**
 * Training captions v2 of the zoo encoder: what people type, not one template per model.
 *
 * A caption names a random subset of the model's attributes (all of them, two, or only one: a
 * subject, a palette or a style), each said with a word drawn from a wide synonym set (the zoo's
 * own words, hand-written colloquial synonyms, and the training side of the WordNet split in
 * tools/zoo/lexicon.ts), with counts and plurals, in a random sentence frame with filler words,
 * and sometimes with one typo.
 *
 * Pure TypeScript (no Node APIs): the lexicon is passed in. Held out from everything here, by
 * construction (test/unit/evalHeldout.test.ts): the eval's sentence frames (spec.ts EVAL_TEMPLATES
 * and the robustness suites' own), the held-out side of the WordNet split and of the typo split.
 */
import { BACKGROUNDS, PALETTES, STYLES, SUBJECTS, type ZooModelSpec } from './spec.ts';

export type Concept = 'subject' | 'palette' | 'style';

/** The words a caption may use for each attribute value (singular and plural for subjects). */
export interface TrainLexicon {
  subject: Record<string, { singular: string[]; plural: string[] }>;
  palette: Record<string, string[]>;
  style: Record<string, string[]>;
}

/**
 * Hand-written colloquial synonyms (training side). Subjects as [singular, plural] pairs. Wide on
 * purpose: these are words people type that WordNet files under other senses or not at all.
 */
export const CURATED: { subject: Record<string, [string, string][]>; palette: Record<string, string[]>; style: Record<string, string[]> } = {
  subject: {
    star: [['starburst', 'starbursts'], ['twinkling star', 'twinkling stars']],
    heart: [['valentine heart', 'valentine hearts'], ['love symbol', 'love symbols']],
    house: [['home', 'homes'], ['hut', 'huts'], ['cabin', 'cabins']],
    tree: [['oak', 'oaks'], ['leafy tree', 'leafy trees']],
    fish: [['koi', 'koi'], ['carp', 'carp'], ['guppy', 'guppies']],
    flower: [['bloom', 'blooms'], ['petals', 'petals']],
    moon: [['crescent', 'crescents'], ['half moon', 'half moons']],
    sun: [['sunshine', 'sunshine'], ['sunny sky', 'sunny skies']],
    mountain: [['peak', 'peaks'], ['alp', 'alps'], ['hill', 'hills']],
    car: [['auto', 'autos'], ['automobile', 'automobiles'], ['vehicle', 'vehicles']],
    boat: [['sailing boat', 'sailing boats'], ['yacht', 'yachts'], ['ship', 'ships']],
    cat: [['kitty', 'kitties'], ['tabby', 'tabbies'], ['feline', 'felines']],
    bird: [['sparrow', 'sparrows'], ['robin', 'robins'], ['birdie', 'birdies']],
    butterfly: [['monarch butterfly', 'monarch butterflies'], ['winged insect', 'winged insects']],
    key: [['skeleton key', 'skeleton keys'], ['door key', 'door keys']],
    cup: [['coffee cup', 'coffee cups'], ['tea cup', 'tea cups'], ['beaker', 'beakers']],
    umbrella: [['brolly', 'brollies'], ['rain umbrella', 'rain umbrellas']],
    cloud: [['cumulus', 'cumulus clouds'], ['puffy cloud', 'puffy clouds']],
    leaf: [['foliage', 'foliage'], ['frond', 'fronds']],
    rocket: [['space rocket', 'space rockets'], ['rocketship', 'rocketships']],
  },
  palette: {
    crimson: ['red', 'cherry red', 'ruby', 'blood red', 'wine red'],
    'ocean-blue': ['blue', 'navy', 'cobalt', 'sapphire', 'royal blue'],
    'forest-green': ['green', 'jade', 'leaf green', 'pine green'],
    'sunset-orange': ['orange', 'amber', 'burnt orange', 'pumpkin orange'],
    lavender: ['purple', 'violet', 'mauve', 'light purple'],
    monochrome: ['grey', 'gray', 'grayscale', 'b&w', 'black-and-white'],
    pastel: ['pale colours', 'pastel colors', 'soft colours', 'baby colours'],
    neon: ['fluorescent', 'neon glow', 'cyberpunk', 'synthwave'],
    'earth-tones': ['brown', 'beige', 'tan', 'ochre', 'earthy'],
    gold: ['yellow', 'golden yellow', 'brass', 'honey'],
    'candy-pink': ['rose pink', 'magenta', 'fuchsia', 'rosy'],
    teal: ['cyan', 'blue-green', 'aquamarine', 'sea green'],
  },
  style: {
    flat: ['vector art', 'minimalist', 'clip art', 'flat design', 'icon style'],
    posterise: ['posterized look', 'screen print', 'banded colours', 'pop poster'],
    pixel: ['8-bit', '16-bit', 'pixels', 'sprite', 'retro game'],
    halftone: ['ben-day dots', 'newsprint', 'pop art', 'dotted print'],
    ink: ['cartoon', 'comic', 'bold outlines', 'cel shaded'],
    blur: ['out of focus', 'hazy', 'fuzzy', 'bokeh'],
    grain: ['grainy', 'analog film', 'film photo', 'noisy photo'],
    vignette: ['dark corners', 'vignetted', 'moody'],
    watercolour: ['watercolors', 'aquarelle', 'painted', 'wet paint'],
    outline: ['outlines', 'contour lines', 'lineart', 'line drawing'],
    invert: ['inverted colours', 'negative image', 'inverted colors'],
    scanlines: ['crt', 'old tv', 'vhs', 'retro monitor'],
  },
};

/** Count phrases per composition, beyond the zoo's own (spec.ts COMPOSITIONS). `{}` = the subject. */
export const COUNT_FRAMES: Record<string, { singular: string[]; plural: string[] }> = {
  single: { singular: ['a {}', 'one {}', 'a single {}', 'a lone {}'], plural: [] },
  closeup: { singular: ['a close-up of a {}', 'a big {}', 'a {} close up', 'a macro {}'], plural: ['close-ups of {}'] },
  pair: { singular: [], plural: ['two {}', 'a pair of {}', '2 {}', 'a couple of {}'] },
  trio: { singular: [], plural: ['three {}', 'a few {}', '3 {}', 'a trio of {}'] },
  scattered: { singular: [], plural: ['many {}', 'lots of {}', 'several {}', 'a bunch of {}', 'scattered {}'] },
  row: { singular: [], plural: ['a row of {}', 'a line of {}', '{} in a row', '{} lined up'] },
};

/** Ways to say a palette, a style and a background inside a caption. `{}` = the word. */
const PALETTE_FRAMES = ['in {}', '{} colours', '{} colors', '{} coloured', 'with a {} palette', 'in {} tones', '{}'];
const STYLE_FRAMES = ['{} style', 'in {} style', '{}', 'as {}', 'done in {}', '{} look'];
const BACKGROUND_FRAMES = ['on {}', 'with {}', 'against {}'];

/** Opening and closing filler (never a word of the eval's frames: see the held-out test). */
export const OPENERS = ['', '', '', 'a picture of', 'an image of', 'art of', 'pictures of', 'show me', 'i want', 'find', 'generate', 'some', 'a model that makes', 'photos of', 'drawings of', 'an illustration of', 'images with', 'give me', 'can i get', 'i would like'];
export const CLOSERS = ['', '', '', 'images', 'art', 'pictures', 'artwork', 'render', 'thanks', 'thx', 'pics', 'wallpaper'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length) % items.length]!;
}

const fill = (frame: string, word: string) => frame.replace('{}', word);

function subjectWords(lex: TrainLexicon, id: string): { singular: string[]; plural: string[] } {
  const s = lex.subject[id];
  if (!s) throw new Error(`captions: no lexicon entry for subject "${id}"`);
  return s;
}

/** The subject said with its count (composition), or bare (singular or plural). */
/** The subject said with a synonym; `counted` when a count frame also says the composition. */
function subjectPhrase(spec: ZooModelSpec, lex: TrainLexicon, rand: () => number): { text: string; counted: boolean } {
  const words = subjectWords(lex, spec.subject);
  const i = Math.floor(rand() * words.singular.length);
  const comp = COUNT_FRAMES[spec.composition] ?? { singular: ['a {}'], plural: [] };
  const r = rand();
  if (r < 0.15) return { text: words.singular[i]!, counted: false };
  if (r < 0.3) return { text: words.plural[i]!, counted: false };
  const frames = [...comp.singular.map((f) => [f, words.singular[i]!] as const), ...comp.plural.map((f) => [f, words.plural[i]!] as const)];
  const [frame, word] = pick(rand, frames);
  return { text: fill(frame, word).replace(/^a ([aeiou])/, 'an $1'), counted: true };
}

/** Which attributes a caption names: all (with or without background), two, or one. */
export type CaptionMode = readonly ('subject' | 'palette' | 'style' | 'background')[];
export const MODES: readonly CaptionMode[] = [
  ['subject', 'palette', 'style', 'background'],
  ['subject', 'palette', 'style'],
  ['subject', 'palette', 'style'],
  ['subject', 'palette', 'style'],
  ['subject', 'palette'],
  ['subject', 'style'],
  ['palette', 'style'],
  ['subject'],
  ['palette'],
  ['style'],
];

/** Content words (≥ 4 letters) a training typo may hit. */
const TYPO_MIN = 4;

/**
 * The typo split: a one-edit misspelling is on the eval's side when its hash says so, on the
 * training side otherwise. Training captions use only training-side typos; the eval's typo suite
 * only eval-side ones, so the two never share a misspelling.
 */
export function typoSide(typo: string): 'train' | 'heldout' {
  let h = fnv1a(`typo-split-v1|${typo.toLowerCase()}`);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) % 4 === 0 ? 'heldout' : 'train';
}

/** FNV-1a 32-bit of a string (the splits' hashes add their own finalisers). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** One edit (swap of neighbours, drop, replace, double a letter) inside `word`, never its first letter. */
export function trainingTypo(word: string, rand: () => number, avoid: (w: string) => boolean = () => false): string | undefined {
  if (word.length < TYPO_MIN || !/^[a-z]+$/.test(word)) return undefined;
  for (let attempt = 0; attempt < 16; attempt++) {
    const op = Math.floor(rand() * 4);
    const i = 1 + Math.floor(rand() * (word.length - 1));
    let t: string;
    if (op === 0) {
      const j = Math.min(i, word.length - 2);
      t = word.slice(0, j) + word[j + 1] + word[j] + word.slice(j + 2);
    } else if (op === 1) t = word.slice(0, i) + word.slice(i + 1);
    else if (op === 2) t = word.slice(0, i) + 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 26)] + word.slice(i + 1);
    else t = word.slice(0, i) + word[i] + word.slice(i);
    if (t !== word && typoSide(t) === 'train' && !avoid(t)) return t;
  }
  return undefined;
}

export interface CaptionOptions {
  /** Probability of one typo in a caption. */
  typoRate?: number;
  /** Words a training typo must never produce (real words of other meanings, the held-out lexicon). */
  avoidTypo?: (w: string) => boolean;
  /** Which attribute sets a caption names, drawn uniformly (default MODES). */
  modes?: readonly CaptionMode[];
}

/** The model attributes a caption names. */
export type NamedAttribute = 'subject' | 'palette' | 'style' | 'background' | 'composition';

/** One training caption for an image of `spec`, with the attributes it names (the text-stage trainer's targets). */
export function describedCaption(spec: ZooModelSpec, lex: TrainLexicon, rand: () => number, opts: CaptionOptions = {}): { text: string; named: NamedAttribute[] } {
  const mode = pick(rand, opts.modes ?? MODES);
  const named: NamedAttribute[] = [...mode];
  const parts: string[] = [];
  let paletteAdj: string | null = null;
  for (const attr of mode) {
    if (attr === 'subject') {
      const phrase = subjectPhrase(spec, lex, rand);
      parts.push(phrase.text);
      if (phrase.counted) named.push('composition');
    } else if (attr === 'palette') {
      const w = pick(rand, lex.palette[spec.palette]!);
      const frame = pick(rand, PALETTE_FRAMES);
      if (frame === '{}' && mode.includes('subject')) paletteAdj = w;
      else parts.push(fill(frame, w));
    } else if (attr === 'style') parts.push(fill(pick(rand, STYLE_FRAMES), pick(rand, lex.style[spec.style]!)));
    else parts.push(fill(pick(rand, BACKGROUND_FRAMES), pick(rand, BACKGROUNDS.find((b) => b.id === spec.background)!.words)));
  }
  if (paletteAdj !== null) parts[0] = `${paletteAdj} ${parts[0]!.replace(/^(an?|one) /, '')}`;
  // Word order: subject first usually, attributes shuffled behind it (order carries no meaning).
  const head = parts[0]!;
  const rest = parts.slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const ordered = rand() < 0.8 ? [head, ...rest] : [...rest, head];
  const sep = pick(rand, [', ', ' ', ', ', ' and ']);
  let text = [pick(rand, OPENERS), ordered.join(sep), pick(rand, CLOSERS)].filter(Boolean).join(' ');
  if (rand() < 0.3) text = text.replace(/ +/g, ' ').trim();
  if (rand() < (opts.typoRate ?? 0.12)) {
    const tokens = [...text.matchAll(/[a-z]+/g)].filter((m) => m[0].length >= TYPO_MIN);
    if (tokens.length) {
      const m = pick(rand, tokens);
      const t = trainingTypo(m[0], rand, opts.avoidTypo);
      if (t) text = text.slice(0, m.index!) + t + text.slice(m.index! + m[0].length);
    }
  }
  return { text: rand() < 0.15 ? text.charAt(0).toUpperCase() + text.slice(1) : text, named };
}

/** One training caption for an image of `spec`. */
export function trainingCaption(spec: ZooModelSpec, lex: TrainLexicon, rand: () => number, opts: CaptionOptions = {}): string {
  return describedCaption(spec, lex, rand, opts).text;
}

/** `n` training captions for an image of `spec`. */
export function trainingCaptions(spec: ZooModelSpec, lex: TrainLexicon, rand: () => number, n: number, opts: CaptionOptions = {}): string[] {
  return Array.from({ length: n }, () => trainingCaption(spec, lex, rand, opts));
}

/** Words as the vocabulary checks see them (lower case, split on anything but letters and digits). */
export function captionWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/**
 * Every word `trainingCaption` can emit, typos aside (a typo is a training-side `typoSide` edit of
 * one of these words): frames, fillers, counts, and every word of every lexicon entry.
 */
export function captionVocabulary(lex: TrainLexicon): Set<string> {
  return new Set([...frameVocabulary(), ...attributeVocabulary(lex)]);
}

/** Every word of the frames and fillers captions put around the attributes. */
function frameVocabulary(): Set<string> {
  const out = new Set<string>();
  const add = (t: string) => captionWords(t.replace(/\{\}/g, ' ')).forEach((w) => out.add(w));
  for (const c of Object.values(COUNT_FRAMES)) [...c.singular, ...c.plural].forEach(add);
  [...PALETTE_FRAMES, ...STYLE_FRAMES, ...BACKGROUND_FRAMES, ...OPENERS, ...CLOSERS, 'and an a one'].forEach(add);
  return out;
}

/** Every word of the backgrounds and of the lexicon's subjects, palettes and styles. */
function attributeVocabulary(lex: TrainLexicon): Set<string> {
  return new Set([...BACKGROUNDS.flatMap((b) => b.words), ...lexiconEntries(lex)].flatMap(captionWords));
}

/** Every phrase of the training lexicon: subjects (singular and plural), palettes and styles, sorted. */
export function lexiconEntries(t: TrainLexicon): string[] {
  const out = new Set<string>();
  for (const s of Object.values(t.subject)) [...s.singular, ...s.plural].forEach((p) => out.add(p));
  for (const list of [...Object.values(t.palette), ...Object.values(t.style)]) list.forEach((p) => out.add(p));
  return [...out].sort();
}

/**
 * The words captions say around the attributes: openers, closers, count and palette/style/background
 * frames, fillers — minus every word of a lexicon entry or a background ("art" of "pop art" stays
 * out) but the function words. Alone they say nothing about what a model draws; the text stage's content-free class uses them.
 */
export function frameWords(lex: TrainLexicon): string[] {
  const attribute = attributeVocabulary(lex);
  return [...frameVocabulary()].filter((w) => FUNCTION_WORDS.has(w) || !attribute.has(w)).sort();
}

/** Words that mean nothing alone even inside an attribute phrase ("out of focus", "black and white"). */
const FUNCTION_WORDS = new Set(['a', 'an', 'and', 'of', 'the']);

/** The zoo's own words plus the curated synonyms: the lexicon before WordNet's training side is added. */
export function baseLexicon(): TrainLexicon {
  const lex: TrainLexicon = { subject: {}, palette: {}, style: {} };
  for (const s of SUBJECTS) {
    const cur = CURATED.subject[s.id] ?? [];
    lex.subject[s.id] = { singular: [...s.words, ...cur.map((c) => c[0])], plural: [...s.plurals, ...cur.map((c) => c[1])] };
  }
  for (const p of PALETTES) lex.palette[p.id] = [...p.words, ...(CURATED.palette[p.id] ?? [])];
  for (const s of STYLES) lex.style[s.id] = [...s.words, ...(CURATED.style[s.id] ?? [])];
  return lex;
}

/** Naive English plural of a (possibly multi-word) noun phrase: the last word takes it. */
export function pluralise(phrase: string): string {
  const m = /^(.*?)([a-z-]+)$/.exec(phrase);
  if (!m) return phrase;
  const [, head, w] = m as unknown as [string, string, string];
  let p: string;
  if (/(s|x|z|ch|sh)$/.test(w)) p = `${w}es`;
  else if (/[^aeiou]y$/.test(w)) p = `${w.slice(0, -1)}ies`;
  else if (/(fish|sheep|deer)$/.test(w)) p = w;
  else if (/leaf$/.test(w)) p = `${w.slice(0, -1)}ves`;
  else p = `${w}s`;
  return head + p;
}
