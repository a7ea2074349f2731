/**
 * The held-out text of the robustness suites (docs/eval.md "Robustness suites"): what the zoo's
 * text generators can say, the held-out side of the WordNet split that never says it
 * (tools/zoo/lexicon.ts), sentence frames the generators do not have, one-typo edits on the
 * held-out side of the typo split (tools/zoo/captions.ts `typoSide`) and attribute-only queries.
 * test/unit/evalHeldout.test.ts proves the held-out parts never occur in anything the training
 * export can produce.
 */
import { BACKGROUNDS, COMPOSITIONS, PALETTES, STYLES, SUBJECTS, combineSeeds, evalTextQueries, prng, type ZooModelSpec } from '../zoo/spec.ts';
import { heldOutSynonyms, zooWords, type Concept, type Lexicon, type SynonymEntry } from '../zoo/lexicon.ts';
import { typoSide } from '../zoo/captions.ts';

export type { Concept, SynonymEntry } from '../zoo/lexicon.ts';

/** Words as the vocabulary checks see them: lower case, split on anything but letters and digits (CLIP's tokenizer also lower-cases and splits punctuation). */
export function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/**
 * Specs that together exercise every subject × composition and every palette, style and
 * background value: enough to enumerate the eval's clean text frames with every slot value.
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
 * Every word the zoo's text generators can emit: every word a training caption can say
 * (tools/zoo/captions.ts `captionVocabulary` of the training lexicon; typos aside, which have
 * their own split), the zoo's own words (`zooWords`) and the eval's clean text queries
 * (`evalTextQueries`, every slot value).
 */
export function generatorVocabulary(lex: Lexicon): Set<string> {
  const vocab = new Set([...lex.trainVocabulary, ...zooWords()]);
  for (const spec of coveringSpecs()) for (const q of evalTextQueries(spec)) words(q).forEach((w) => vocab.add(w));
  return vocab;
}

/**
 * The held-out synonym map: the held-out side of the lexicon's WordNet split (tools/zoo/lexicon.ts),
 * minus every lemma with a word any generator can emit (`generatorVocabulary`).
 */
export function synonymMap(lex: Lexicon, vocab: ReadonlySet<string> = generatorVocabulary(lex)): SynonymEntry[] {
  return heldOutSynonyms(lex.candidates, vocab);
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

/** The eval's one-typo query for its `i`-th clean text query (`npm run eval` and `eval:no-match` alike). */
export function evalTypo(text: string, i: number, content: ReadonlySet<string>, vocab: ReadonlySet<string>): ReturnType<typeof oneTypo> {
  return oneTypo(text, 0x7970 + i * 7919, content, vocab);
}

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
  for (let attempt = 0; attempt < 64; attempt++) {
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
    if (low === word.toLowerCase() || content.has(low) || vocab?.has(low) || typoSide(low) !== 'heldout') continue;
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
