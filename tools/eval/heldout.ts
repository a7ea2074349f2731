/**
 * The held-out text of the robustness suites (docs/eval.md "Robustness suites"): what the zoo's
 * caption generator can say, a WordNet synonym map that never says it, sentence frames the
 * generator does not have, one-typo edits and attribute-only queries. Pure functions of the zoo's
 * vocabulary (tools/zoo/spec.ts) and WordNet (tools/eval/wordnet.ts); test/unit/evalHeldout.test.ts
 * proves the held-out parts never occur in anything the training export can produce.
 */
import {
  BACKGROUNDS,
  COMPOSITIONS,
  PALETTES,
  STYLES,
  SUBJECTS,
  allTrainingCaptions,
  combineSeeds,
  evalTextQueries,
  prng,
  type ZooModelSpec,
} from '../zoo/spec.ts';
import type { Synset, WordNet, WordNetPos } from './wordnet.ts';

/** Words as the vocabulary checks see them: lower case, split on anything but letters and digits (CLIP's tokenizer also lower-cases and splits punctuation). */
export function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/**
 * Specs that together exercise every subject × composition and every palette, style and
 * background value (the caption generator's slots): enough to enumerate its whole vocabulary.
 */
export function coveringSpecs(): ZooModelSpec[] {
  const out: ZooModelSpec[] = [];
  let i = 0;
  for (const subject of SUBJECTS)
    for (const comp of COMPOSITIONS) {
      out.push({
        id: `cover-${i}`,
        split: 'train',
        family: subject.id,
        subject: subject.id,
        composition: comp.id,
        palette: PALETTES[i % PALETTES.length].id,
        style: STYLES[i % STYLES.length].id,
        background: BACKGROUNDS[i % BACKGROUNDS.length].id,
        seed: i,
      });
      i++;
    }
  return out;
}

/**
 * Every word the zoo's caption generator can emit: the training captions (`allTrainingCaptions`,
 * every template × every slot value; what tools/zoo/export-training-data.ts writes) and the eval
 * text queries' frames (`evalTextQueries`, the clean text set), with every value of every slot.
 */
export function generatorVocabulary(): Set<string> {
  const vocab = new Set<string>();
  const add = (t: string) => words(t).forEach((w) => vocab.add(w));
  for (const spec of coveringSpecs()) {
    for (const c of allTrainingCaptions(spec)) add(c);
    for (const q of evalTextQueries(spec)) add(q);
  }
  for (const defs of [SUBJECTS, PALETTES, STYLES, BACKGROUNDS]) for (const d of defs) d.words.forEach(add);
  for (const s of SUBJECTS) s.plurals.forEach(add);
  for (const c of COMPOSITIONS) [c.singular ?? '', ...c.pluralPhrases].forEach(add);
  return vocab;
}

export type Concept = 'subject' | 'palette' | 'style';

/**
 * Which WordNet senses stand for a concept kind: parts of speech, lexicographer files, a gloss
 * test, how many senses per word (WordNet lists the most frequent first), whether a multi-word
 * zoo phrase's last word is looked up too ("ocean blue" → "blue"), and whether the senses'
 * hyponyms count as synonyms (named shades of a colour: "blue" → "azure", "cerulean").
 */
const SENSE_FILTER: Record<Concept, { pos: WordNetPos[]; lexFiles: number[]; gloss?: RegExp; senses: number; headWord: boolean; hyponyms: boolean }> = {
  // noun.animal, noun.artifact, noun.object, noun.phenomenon, noun.plant, noun.shape
  subject: { pos: ['noun'], lexFiles: [5, 6, 17, 19, 20, 25], senses: 1, headWord: false, hyponyms: false },
  // adj.all and noun.attribute, when the gloss speaks of a colour
  palette: { pos: ['adj', 'noun'], lexFiles: [0, 7], gloss: /\b(colou?r|hue|shade|tinge)/, senses: 3, headWord: true, hyponyms: true },
  // noun.artifact, noun.communication, adj.all: pictures, prints, drawings and how they look
  style: { pos: ['noun', 'adj'], lexFiles: [0, 6, 10], gloss: /\b(picture|print|drawing|paint|image|photograph|indistinct|hazy|colou?r|style)/, senses: 2, headWord: false, hyponyms: false },
};

/**
 * Lemmas WordNet files under a right sense that still mean something else here (a reviewed,
 * short list; everything else is automatic): "upside-down" is another inversion than a colour
 * negative, "sketch" is the query kind of another set, the rest are too rare or too loose to be fair.
 */
export const WRONG_SENSE = new Set(['upside-down', 'sketch', 'delineation', 'limning', 'depiction', 'lineation', 'projectile', 'leafage', 'machine', 'pel', 'exposure', 'pic']);

export interface SynonymEntry {
  kind: Concept;
  id: string;
  /** Held-out synonyms (spaces, lower case), in WordNet order. */
  synonyms: string[];
  /** "synset": lemmas of the concept's own senses; "hypernym": none were left, broader terms instead. */
  source: 'synset' | 'hypernym' | 'none';
}

function conceptWords(kind: Concept, id: string): string[] {
  const def = (kind === 'subject' ? SUBJECTS : kind === 'palette' ? PALETTES : STYLES).find((d) => d.id === id)!;
  return [...def.words];
}

/**
 * The held-out synonym map: for each subject, palette and style of the zoo, the lemmas of the
 * WordNet senses of its words (the first SENSES_PER_WORD senses, filtered by SENSE_FILTER), minus
 * every lemma with a word the caption generator can emit (`vocab`), proper names, WRONG_SENSE, and
 * lemmas claimed by two concepts. When nothing is left, the senses' hypernyms' lemmas stand in.
 */
export function synonymMap(wn: WordNet, vocab: ReadonlySet<string>): SynonymEntry[] {
  const entries: { kind: Concept; id: string; senses: Synset[] }[] = [];
  for (const kind of ['subject', 'palette', 'style'] as Concept[]) {
    const filter = SENSE_FILTER[kind];
    for (const def of kind === 'subject' ? SUBJECTS : kind === 'palette' ? PALETTES : STYLES) {
      const senses: Synset[] = [];
      const lookups = new Set<string>();
      for (const w of conceptWords(kind, def.id)) {
        lookups.add(w);
        // "ocean blue" → "blue"; not "black and white" → "white" (the last word is not the head there).
        if (filter.headWord && w.includes(' ') && !w.includes(' and ')) lookups.add(w.split(' ').pop()!);
      }
      for (const w of lookups)
        for (const pos of filter.pos)
          for (const s of wn.synsets(w, pos).slice(0, filter.senses))
            if (filter.lexFiles.includes(s.lexFile) && (!filter.gloss || filter.gloss.test(s.gloss) || isColour(s)) && !senses.includes(s)) senses.push(s);
      entries.push({ kind, id: def.id, senses });
    }
  }
  // A noun sense whose hypernym is a colour ("brown": "an orange of low brightness …" → chromatic_color).
  function isColour(s: Synset): boolean {
    return s.pos === 'noun' && s.pointers.some((p) => p.symbol === '@' && p.pos === 'noun' && wn.synset('noun', p.offset).lemmas.some((l) => /colou?r/.test(l)));
  }
  const clean = (lemma: string) => lemma.replace(/_/g, ' ');
  const usable = (lemma: string) =>
    /^[a-z][a-z -]*$/.test(lemma) && lemma.split(' ').length <= 3 && !words(lemma).some((w) => vocab.has(w) || w.length < 3) && !WRONG_SENSE.has(lemma);
  const lemmasOf = (senses: Synset[]) => [...new Set(senses.flatMap((s) => s.lemmas.map(clean)).filter(usable))];
  const linked = (s: Synset, symbols: string[]) => s.pointers.filter((p) => symbols.includes(p.symbol) && p.pos === s.pos).map((p) => wn.synset(s.pos, p.offset));
  const direct = entries.map((e) => lemmasOf([...e.senses, ...(SENSE_FILTER[e.kind].hyponyms ? e.senses.flatMap((s) => linked(s, ['~'])) : [])]));
  const hyper = entries.map((e) => lemmasOf(e.senses.flatMap((s) => linked(s, ['@', '@i']))));
  // A lemma two concepts claim names neither.
  const claims = new Map<string, number>();
  for (const list of [...direct, ...hyper]) for (const l of new Set(list)) claims.set(l, (claims.get(l) ?? 0) + 1);
  return entries.map((e, i) => {
    const d = direct[i].filter((l) => claims.get(l) === 1);
    const h = hyper[i].filter((l) => claims.get(l) === 1);
    return { kind: e.kind, id: e.id, synonyms: d.length ? d : h, source: d.length ? 'synset' : h.length ? 'hypernym' : 'none' };
  });
}

/** Slots of a held-out frame: `what` is the subject with its article ("a kitty"); `style` may be empty (no held-out synonym). */
export interface HeldOutSlots {
  what: string;
  subject: string;
  palette: string;
  style: string;
}

const opt = (s: string, before: string, after = '') => (s ? `${before}${s}${after}` : '');

/**
 * Sentence frames the generator does not have: each has a literal word the generator never
 * emits (checked by the test), and none is a training or eval template.
 */
export const HELD_OUT_FRAMES: readonly ((s: HeldOutSlots) => string)[] = [
  (s) => `any checkpoint that renders ${s.what} in ${s.palette}${opt(s.style, ', ')}`,
  (s) => `need a ${opt(s.style, '', ' ')}finetune depicting ${s.what}, mostly ${s.palette} hues`,
  (s) => `${s.palette} ${s.subject} please${opt(s.style, ', ', ' vibe')}`,
  (s) => `searching for ${opt(s.style, '', ' ')}outputs featuring ${s.what} tinted ${s.palette}`,
];

/** The literal text of a frame (slots blanked), for the tests. */
export function frameLiterals(frame: (s: HeldOutSlots) => string): string {
  return frame({ what: '\u0000', subject: '\u0000', palette: '\u0000', style: '\u0000' });
}

const article = (w: string) => (/^[aeiou]/.test(w) ? 'an' : 'a');
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

export interface SynonymQuery {
  text: string;
  model: string;
  /** The attributes the query names (relevance: every model with all of them); style is absent when it has no held-out synonym. */
  named: { subject: string; palette: string; style?: string };
}

/**
 * One held-out query per spec: a held-out frame with a synonym for its subject and palette, and for
 * its style when the style has one. Specs whose subject or palette has no synonym are skipped
 * (reported as coverage).
 */
export function synonymQueries(specs: readonly ZooModelSpec[], map: readonly SynonymEntry[], seed = 0): SynonymQuery[] {
  const syn = (kind: Concept, id: string) => map.find((e) => e.kind === kind && e.id === id)?.synonyms ?? [];
  const out: SynonymQuery[] = [];
  for (const spec of specs) {
    const s = syn('subject', spec.subject);
    const p = syn('palette', spec.palette);
    const st = syn('style', spec.style);
    if (!s.length || !p.length) continue;
    const rand = prng(combineSeeds(spec.seed, 0x53594e ^ seed));
    const subject = pick(rand, s);
    const slots = { what: `${article(subject)} ${subject}`, subject, palette: pick(rand, p), style: st.length ? pick(rand, st) : '' };
    out.push({
      text: pick(rand, HELD_OUT_FRAMES)(slots),
      model: spec.id,
      named: { subject: spec.subject, palette: spec.palette, ...(st.length ? { style: spec.style } : {}) },
    });
  }
  return out;
}

/** Words of the zoo's concepts (subjects, palettes, styles, backgrounds) a typo may hit: content words of ≥ 4 letters. */
export function contentWords(): Set<string> {
  const out = new Set<string>();
  for (const defs of [SUBJECTS, PALETTES, STYLES, BACKGROUNDS]) for (const d of defs) for (const w of d.words.flatMap(words)) if (/^[a-z]{4,}$/.test(w)) out.add(w);
  for (const s of SUBJECTS) for (const w of s.plurals.flatMap(words)) if (/^[a-z]{4,}$/.test(w)) out.add(w);
  return out;
}

export type TypoOp = 'swap' | 'drop' | 'replace';

/**
 * One seeded character edit inside one content word of `text`: swap two neighbouring letters, drop
 * a letter or replace one (never the first letter). The edited word is never another vocabulary
 * word. Returns undefined when the text has no content word.
 */
export function oneTypo(text: string, seed: number, content: ReadonlySet<string> = contentWords(), vocab?: ReadonlySet<string>): { text: string; word: string; typo: string; op: TypoOp } | undefined {
  const rand = prng(seed >>> 0);
  const tokens = [...text.matchAll(/[A-Za-z]+/g)].filter((m) => content.has(m[0].toLowerCase()));
  if (!tokens.length) return undefined;
  const m = pick(rand, tokens);
  const word = m[0];
  const ops: TypoOp[] = ['swap', 'drop', 'replace'];
  const first = Math.floor(rand() * 3);
  for (let attempt = 0; attempt < 12; attempt++) {
    const op = ops[(first + attempt) % 3];
    const i = 1 + Math.floor(rand() * (word.length - 1)); // 1 … len−1
    let typo: string;
    if (op === 'swap') {
      const j = Math.min(i, word.length - 2);
      typo = word.slice(0, j) + word[j + 1] + word[j] + word.slice(j + 2);
    } else if (op === 'drop') typo = word.slice(0, i) + word.slice(i + 1);
    else {
      let c = word[i];
      while (c === word[i]) c = 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 26)];
      typo = word.slice(0, i) + c + word.slice(i + 1);
    }
    const low = typo.toLowerCase();
    if (low === word.toLowerCase() || content.has(low) || vocab?.has(low)) continue;
    return { text: text.slice(0, m.index!) + typo + text.slice(m.index! + word.length), word, typo, op };
  }
  return undefined;
}

export interface AttributeQuery {
  kind: Concept;
  /** The attribute value (a subject, palette or style id). */
  id: string;
  text: string;
}

/** Frames of the attribute-only queries (one attribute named, nothing else). */
const ATTRIBUTE_FRAMES: Record<Concept, (w: string) => string> = {
  subject: (w) => `pictures of ${w}`,
  palette: (w) => `everything in ${w}`,
  style: (w) => `${w} images`,
};

/** Attribute-only queries in the zoo's own words: one per word of every subject (plural), palette and style. */
export function attributeQueries(): AttributeQuery[] {
  const out: AttributeQuery[] = [];
  for (const s of SUBJECTS) for (const w of s.plurals) out.push({ kind: 'subject', id: s.id, text: ATTRIBUTE_FRAMES.subject(w) });
  for (const p of PALETTES) for (const w of p.words) out.push({ kind: 'palette', id: p.id, text: ATTRIBUTE_FRAMES.palette(w) });
  for (const s of STYLES) for (const w of s.words) out.push({ kind: 'style', id: s.id, text: ATTRIBUTE_FRAMES.style(w) });
  return out;
}
