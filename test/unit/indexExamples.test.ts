/**
 * Examples that work (issue 12, item 4).
 *
 * 1. Every example query a shipped index offers (public/index/<name>/manifest.json `examples`) has,
 *    in its top 5 — ranked exactly as the app ranks it: parseQuery for field filters, rank() with
 *    the Auto method and the search defaults, the index's encoder through onnxruntime-node as the
 *    search CLI uses it — a model with every attribute the example names.
 * 2. Every field-filter example in README.md and docs/ matches at least one model of the demo index.
 *
 * Which attributes an example names, and which a model has, come from each index's own vocabulary
 * (never from a list per example):
 *
 * - demo: the procedural eval zoo (tools/zoo/spec.ts). Attributes are subject, palette, background,
 *   style and composition; their phrases are the zoo's text vocabulary (SUBJECTS words and plurals,
 *   PALETTES / BACKGROUNDS / STYLES words, COMPOSITIONS phrases). A model's attributes are its spec,
 *   rebuilt with makeZoo('eval', DEMO_MODELS) and checked against models.json.
 * - colours: the painted models (tools/lib/paintedModels.ts) and the test encoder, which knows only
 *   colour words (its table in tools/test-encoder/make_test_encoder.py). Attributes: colour (a
 *   colour word of that table that the model's name or description uses), family, and every other
 *   word of the model's name or description.
 * - styles: the style zoo's eval styles (tools/style-zoo/transforms.ts). Attributes: family and the
 *   words of the style's name.
 *
 * The matching rule (`namedAttributes`): the example is lower-cased and split into words. Vocabulary
 * phrases are matched whole, longest first, each word used once; a phrase shared by several
 * attribute values names any of them. A word left over that is part of some phrase ("blue" of
 * "deep blue") names any attribute with such a phrase. Filler words (English function words and the
 * generic picture words of the zoo's caption templates) name nothing. Any other word is one the
 * index has no attribute for: the example promises something the index cannot deliver, and fails.
 * A model matches the example when it has, for every named attribute, one of its values.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import type { ModelMeta } from '../../src/core/index/manifest.ts';
import { countMatching, hasFilters, parseQuery, type FieldFilters } from '../../src/core/scoring/queryFilters.ts';
import { rank } from '../../src/core/scoring/rank.ts';
import { DEMO_MODELS } from '../../tools/build-demo-index.ts';
import { openLocalIndex, type LocalIndex } from '../../tools/lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { PAINTED_MODELS } from '../../tools/lib/paintedModels.ts';
import { stylesOf } from '../../tools/style-zoo/transforms.ts';
import { BACKGROUNDS, COMPOSITIONS, makeZoo, modelMetadata, PALETTES, STYLES, SUBJECTS } from '../../tools/zoo/spec.ts';

const ROOT = new URL('../../', import.meta.url);
const TOP = 5;

// ---------------------------------------------------------------------------------------------
// Vocabularies and the matching rule
// ---------------------------------------------------------------------------------------------

/** An attribute value, `kind=value` (e.g. `palette=crimson`). */
type Attr = string;

interface Vocabulary {
  /** Where the vocabulary comes from (for messages). */
  source: string;
  /** Phrases (as words) and the attribute each names. */
  phrases: { words: string[]; attr: Attr }[];
  /** Each model's attributes, by model id. */
  models: Map<string, Set<Attr>>;
}

/** English function words and the zoo caption templates' generic picture words: they name nothing. */
const FILLER = new Set(
  (
    'a an the of and or in on at with without over under by for from to into onto as its their this that these those some ' +
    'i me my show want find looking which who what where any is are be it made makes make using uses drawn painted rendered ' +
    'image images picture pictures photo photos art artwork artworks illustration illustrations drawing drawings painting paintings ' +
    'style styled look colour colours color colors palette background backgrounds texture generator model models'
  ).split(' '),
);
/** Words trimmed from the ends of a vocabulary phrase ("a plain background" → "plain background"). */
const EDGE = new Set(['a', 'an', 'the', 'of']);

function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

function phrase(text: string): string[] {
  const w = wordsOf(text);
  while (w.length && EDGE.has(w[0]!)) w.shift();
  while (w.length && EDGE.has(w[w.length - 1]!)) w.pop();
  return w;
}

interface Named {
  /** One entry per named attribute: the values that satisfy it (any one will do). */
  required: { said: string; options: Attr[] }[];
  /** Words that are neither vocabulary nor filler. */
  unknown: string[];
}

/** The attributes an example names (see the file comment for the rule). */
function namedAttributes(text: string, vocab: Vocabulary): Named {
  const words = wordsOf(text);
  const used = words.map(() => false);
  const required: Named['required'] = [];
  const byLength = [...new Set(vocab.phrases.map((p) => p.words.length))].sort((a, b) => b - a);
  for (const len of byLength) {
    for (let i = 0; i + len <= words.length; i++) {
      if (used.slice(i, i + len).some(Boolean)) continue;
      const said = words.slice(i, i + len).join(' ');
      const options = vocab.phrases.filter((p) => p.words.length === len && p.words.join(' ') === said).map((p) => p.attr);
      if (!options.length) continue;
      for (let j = i; j < i + len; j++) used[j] = true;
      required.push({ said, options: [...new Set(options)] });
    }
  }
  const unknown: string[] = [];
  words.forEach((w, i) => {
    if (used[i] || FILLER.has(w)) return;
    const options = [...new Set(vocab.phrases.filter((p) => p.words.includes(w)).map((p) => p.attr))];
    if (options.length) required.push({ said: w, options });
    else unknown.push(w);
  });
  return { required, unknown };
}

function matches(attrs: Set<Attr>, named: Named): boolean {
  return named.required.every((r) => r.options.some((a) => attrs.has(a)));
}

/** The demo index: the eval zoo's specs and the zoo's text vocabulary. */
function demoVocabulary(models: readonly ModelMeta[]): Vocabulary {
  const zoo = makeZoo('eval', DEMO_MODELS);
  // The shipped models are this zoo: same ids and the same model cards.
  expect(models.map((m) => m.id).sort()).toEqual(zoo.map((s) => s.id).sort());
  const meta = new Map(models.map((m) => [m.id, m]));
  for (const spec of zoo) expect(meta.get(spec.id)?.description).toBe(modelMetadata(spec).description);

  const phrases: Vocabulary['phrases'] = [];
  const add = (kind: string, id: string, texts: readonly string[]) => {
    for (const t of texts) {
      const words = phrase(t);
      if (words.length) phrases.push({ words, attr: `${kind}=${id}` });
    }
  };
  for (const s of SUBJECTS) add('subject', s.id, [...s.words, ...s.plurals]);
  for (const p of PALETTES) add('palette', p.id, p.words);
  for (const b of BACKGROUNDS) add('background', b.id, b.words);
  for (const s of STYLES) add('style', s.id, s.words);
  for (const c of COMPOSITIONS) add('composition', c.id, [...(c.singular ? [c.singular] : []), ...c.pluralPhrases]);
  const attrs = new Map(
    zoo.map((s) => [
      s.id,
      new Set([`subject=${s.subject}`, `palette=${s.palette}`, `background=${s.background}`, `style=${s.style}`, `composition=${s.composition}`]),
    ]),
  );
  return { source: 'tools/zoo/spec.ts (eval zoo)', phrases, models: attrs };
}

/** The test encoder's colour words, read from its generator's table (`("red", (255, 0, 0), [736]),`). */
function testEncoderColourWords(): string[] {
  const py = readFileSync(new URL('tools/test-encoder/make_test_encoder.py', ROOT), 'utf8');
  const table = py.slice(py.indexOf('COLOURS = ['), py.indexOf(']\n\n', py.indexOf('COLOURS = [')));
  const words = [...table.matchAll(/\(\s*"([a-z]+)",\s*\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)/g)].map((m) => m[1]!);
  expect(words.length).toBeGreaterThanOrEqual(8);
  return words;
}

/**
 * An index described by its models' metadata: family, colour words (when the encoder knows colours)
 * and every other non-filler word of the models' `text`.
 */
function metadataVocabulary(
  source: string,
  entries: readonly { id: string; family: string; text: string }[],
  colourWords: readonly string[] = [],
): Vocabulary {
  const colours = new Set(colourWords);
  const phrases: Vocabulary['phrases'] = [];
  const seen = new Set<Attr>();
  const add = (words: string[], attr: Attr) => {
    const key = `${words.join(' ')}|${attr}`;
    if (words.length && !seen.has(key)) {
      seen.add(key);
      phrases.push({ words, attr });
    }
  };
  for (const c of colours) add([c], `colour=${c}`);
  const models = new Map<string, Set<Attr>>();
  for (const e of entries) {
    const attrs = new Set<Attr>([`family=${e.family}`]);
    add(phrase(e.family), `family=${e.family}`);
    for (const w of wordsOf(e.text)) {
      if (colours.has(w)) attrs.add(`colour=${w}`);
      else if (!FILLER.has(w)) {
        attrs.add(`word=${w}`);
        add([w], `word=${w}`);
      }
    }
    models.set(e.id, attrs);
  }
  return { source, phrases, models };
}

function coloursVocabulary(models: readonly ModelMeta[]): Vocabulary {
  expect(models.map((m) => m.id).sort()).toEqual(PAINTED_MODELS.map((m) => m.id).sort());
  return metadataVocabulary(
    'tools/lib/paintedModels.ts + the test encoder’s colour words',
    PAINTED_MODELS.map((m) => ({ id: m.id, family: m.family, text: `${m.name} ${m.description}` })),
    testEncoderColourWords(),
  );
}

function stylesVocabulary(models: readonly ModelMeta[]): Vocabulary {
  const styles = stylesOf('eval');
  expect(models.map((m) => m.id).sort()).toEqual(styles.map((s) => s.id).sort());
  return metadataVocabulary(
    'tools/style-zoo/transforms.ts (eval styles)',
    styles.map((s) => ({ id: s.id, family: s.family, text: s.name })),
  );
}

const INDEXES: { name: string; vocabulary: (models: readonly ModelMeta[]) => Vocabulary }[] = [
  { name: 'demo', vocabulary: demoVocabulary },
  { name: 'colours', vocabulary: coloursVocabulary },
  { name: 'styles', vocabulary: stylesVocabulary },
];

function manifestExamples(name: string): string[] {
  const manifest = JSON.parse(readFileSync(join(PUBLIC_DIR, 'index', name, 'manifest.json'), 'utf8')) as { examples?: string[] };
  return manifest.examples ?? [];
}

// ---------------------------------------------------------------------------------------------
// The rule itself
// ---------------------------------------------------------------------------------------------

describe('which attributes an example names', () => {
  const vocab: Vocabulary = {
    source: 'inline',
    phrases: [
      { words: ['cat'], attr: 'subject=cat' },
      { words: ['cats'], attr: 'subject=cat' },
      { words: ['deep', 'blue'], attr: 'palette=ocean-blue' },
      { words: ['pixel', 'art'], attr: 'style=pixel' },
      { words: ['line', 'art'], attr: 'style=outline' },
      { words: ['dots'], attr: 'background=dots' },
      { words: ['halftone', 'dots'], attr: 'style=halftone' },
    ],
    models: new Map(),
  };
  it('matches whole phrases longest first, then leftover parts of phrases; filler names nothing', () => {
    expect(namedAttributes('pixel art cats', vocab)).toEqual({
      required: [
        { said: 'pixel art', options: ['style=pixel'] },
        { said: 'cats', options: ['subject=cat'] },
      ],
      unknown: [],
    });
    expect(namedAttributes('a cat with halftone dots', vocab).required.map((r) => r.options)).toEqual([['style=halftone'], ['subject=cat']]);
    expect(namedAttributes('a blue cat', vocab).required.map((r) => r.options)).toEqual([['subject=cat'], ['palette=ocean-blue']]);
    expect(namedAttributes('cat art', vocab).required.map((r) => r.options)).toEqual([['subject=cat']]);
  });
  it('reports words the index has no attribute for', () => {
    expect(namedAttributes('boat on a blue sea', vocab).unknown).toEqual(['boat', 'sea']);
  });
  it('a model matches when it has one of the values of every named attribute', () => {
    const named = namedAttributes('a cat on dots', vocab);
    expect(matches(new Set(['subject=cat', 'background=dots']), named)).toBe(true);
    expect(matches(new Set(['subject=cat', 'style=halftone']), named)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Manifest examples
// ---------------------------------------------------------------------------------------------

for (const { name, vocabulary } of INDEXES) {
  describe(`index "${name}": example queries`, () => {
    const examples = manifestExamples(name);
    if (!examples.length) {
      it(`the manifest lists no examples — nothing to check`, () => {
        expect(examples).toEqual([]);
      });
      return;
    }

    let local: LocalIndex;
    let encoder: NodeEncoder;
    let vocab: Vocabulary;
    beforeAll(async () => {
      local = await openLocalIndex(join(PUBLIC_DIR, 'index', name));
      encoder = await NodeEncoder.load(ENCODERS[local.manifest.encoder.id]!, undefined, { towers: ['text'] });
      vocab = vocabulary(local.models);
    });

    it.each(examples)(`"%s" names attributes of the index, and its top ${TOP} holds a model with all of them`, async (example) => {
      const named = namedAttributes(example, vocab);
      const said = named.required.map((r) => `${r.said} → ${r.options.join(' | ')}`).join('; ');
      expect(named.unknown, `"${example}": words the ${name} index (${vocab.source}) has no attribute for`).toEqual([]);
      expect(named.required.length, `"${example}" names no attribute of the ${name} index`).toBeGreaterThan(0);
      const holders = local.models.filter((m) => matches(vocab.models.get(m.id)!, named)).map((m) => m.id);
      expect(holders.length, `no model of the ${name} index has every attribute of "${example}" (${said})`).toBeGreaterThan(0);

      // As the app ranks it: the search box's parse, then rank() with Auto and the defaults.
      const { text, filters } = parseQuery(example);
      const ranking = await rank(
        local,
        { parts: [{ part: { kind: 'text', text }, weight: 1 }], method: 'auto', topK: TOP, filters },
        async (part) => {
          if (part.kind !== 'text') throw new Error('text examples only');
          return (await encoder.encodeTexts([part.text]))[0]!;
        },
      );
      const top = ranking.results.map((r) => local.models[r.index]!.id);
      expect(
        top.filter((id) => holders.includes(id)),
        `"${example}" (${said}): top ${TOP} is ${top.join(', ')}; models with every attribute: ${holders.join(', ')}`,
      ).not.toEqual([]);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Field-filter examples in the documentation
// ---------------------------------------------------------------------------------------------

/** Inline code spans outside fenced blocks, and `--text '…'` / `--text "…"` arguments inside them. */
function codeExamples(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) for (const m of line.matchAll(/--text\s+(?:'([^']*)'|"([^"]*)")/g)) out.push(m[1] ?? m[2]!);
    else for (const m of line.matchAll(/`([^`]+)`/g)) out.push(m[1]!);
  }
  return out;
}

function filterExamples(file: string): { example: string; filters: FieldFilters }[] {
  return codeExamples(readFileSync(new URL(file, ROOT), 'utf8'))
    .map((example) => ({ example, filters: parseQuery(example).filters }))
    .filter((e) => hasFilters(e.filters));
}

describe('field-filter examples in README.md and docs/ use values of the demo index', () => {
  const docs = readdirSync(new URL('docs/', ROOT), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`)
    .sort();
  const files = ['README.md', ...docs];
  const demoModels = JSON.parse(readFileSync(join(PUBLIC_DIR, 'index', 'demo', 'models.json'), 'utf8')) as ModelMeta[];

  it('README.md has field-filter examples', () => {
    expect(filterExamples('README.md').length).toBeGreaterThan(0);
  });

  for (const file of files) {
    const found = filterExamples(file);
    if (!found.length) continue;
    it.each(found.map((f) => [f.example, f.filters] as const))(`${file}: \`%s\` matches at least one demo model`, (example, filters) => {
      expect(countMatching(demoModels, filters), `${file}: \`${example}\` (${JSON.stringify(filters)})`).toBeGreaterThan(0);
    });
  }
});
