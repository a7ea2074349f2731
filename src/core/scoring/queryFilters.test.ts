import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelMeta } from '../index/manifest.ts';
import {
  facetCounts,
  formatQuery,
  hasFilters,
  matchesFilters,
  parseQuery,
  toggleFilter,
  type FieldFilters,
} from './queryFilters.ts';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20240612;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 300;

function model(name: string, family: string, creator: string, licence: string): ModelMeta {
  return { id: name.toLowerCase().replace(/\s+/g, '-'), name, description: '', family, creator, licence, resolution: '', links: [], thumbnails: [] };
}

const MODELS: ModelMeta[] = [
  model('Red Star', 'star', 'alice', 'CC0-1.0'),
  model('Blue Star', 'star', 'bob', 'MIT'),
  model('Green Tree', 'tree', 'alice', 'CC0-1.0'),
  model('Tall Tree', 'Tree', 'carol', 'CC-BY-4.0'),
  model('Car Sketch', 'car', 'alice', 'MIT'),
  model('No Family', '', 'bob', 'CC0-1.0'),
];

describe('parseQuery', () => {
  it('leaves plain text alone, collapsing whitespace', () => {
    expect(parseQuery('  red   car\tsketch ')).toEqual({ text: 'red car sketch', filters: {} });
    expect(parseQuery('')).toEqual({ text: '', filters: {} });
  });

  it('takes field:value tokens anywhere', () => {
    expect(parseQuery('family:star red creator:alice car')).toEqual({
      text: 'red car',
      filters: { family: ['star'], creator: ['alice'] },
    });
  });

  it('reads quoted values with escapes', () => {
    expect(parseQuery('creator:"Jane Doe" x')).toEqual({ text: 'x', filters: { creator: ['Jane Doe'] } });
    expect(parseQuery('name:"say \\"hi\\" \\\\ now"')).toEqual({ text: '', filters: { name: ['say "hi" \\ now'] } });
    // An unclosed quote runs to the end (the user is still typing).
    expect(parseQuery('red family:"big tree')).toEqual({ text: 'red', filters: { family: ['big tree'] } });
    // The next token may follow a closing quote directly.
    expect(parseQuery('family:"a"family:b')).toEqual({ text: '', filters: { family: ['a', 'b'] } });
  });

  it('is case-insensitive in field names and maps license: to licence', () => {
    expect(parseQuery('FAMILY:Star License:MIT licence:CC0-1.0')).toEqual({
      text: '',
      filters: { family: ['Star'], licence: ['MIT', 'CC0-1.0'] },
    });
  });

  it('accumulates values of one field, without case-insensitive duplicates', () => {
    expect(parseQuery('family:star family:tree family:STAR')).toEqual({ text: '', filters: { family: ['star', 'tree'] } });
  });

  it('keeps unknown prefixes and URL-like text in the text', () => {
    expect(parseQuery('foo:bar http://x.org/a:b family:car')).toEqual({
      text: 'foo:bar http://x.org/a:b',
      filters: { family: ['car'] },
    });
    expect(parseQuery('xfamily:star see:family:star')).toEqual({ text: 'xfamily:star see:family:star', filters: {} });
    expect(parseQuery('name:https://example.com/m')).toEqual({ text: '', filters: { name: ['https://example.com/m'] } });
  });

  it('drops empty values but still removes the token', () => {
    expect(parseQuery('red family: creator:"" name:"  " car')).toEqual({ text: 'red car', filters: {} });
    expect(parseQuery('family:')).toEqual({ text: '', filters: {} });
  });
});

describe('formatQuery', () => {
  it('writes text then filters, quoting values with spaces or quotes', () => {
    expect(formatQuery('red car', { family: ['star'], creator: ['Jane Doe', 'a"b'] })).toBe(
      'red car creator:"Jane Doe" creator:"a\\"b" family:star',
    );
    expect(formatQuery('', {})).toBe('');
  });

  /** Text that parses to itself: what parseQuery can give back. */
  const freeText = fc
    .string({ unit: fc.oneof(fc.constantFrom('"', '\\', ' ', ':', ',', 'family:', 'License:', 'http://'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })) })
    .filter((s) => !/\p{Cc}/u.test(s))
    .map((s) => parseQuery(s).text);
  const value = fc
    .string({ unit: fc.oneof(fc.constantFrom('"', '\\', ' ', '\u00a0', ':', ',', 'é'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1 })
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !/\p{Cc}/u.test(s));
  const values = fc.uniqueArray(value, { minLength: 1, maxLength: 3, selector: (v) => v.toLowerCase() });
  const filters = fc.record(
    { creator: values, family: values, licence: values, name: values },
    { requiredKeys: [] },
  ) as fc.Arbitrary<FieldFilters>;

  it('round-trips: parseQuery(formatQuery(text, filters)) gives them back', () => {
    fc.assert(
      fc.property(freeText, filters, (text, f) => {
        expect(parseQuery(formatQuery(text, f))).toEqual({ text, filters: f });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('parsing is idempotent on its own text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const { text } = parseQuery(s);
        expect(parseQuery(text)).toEqual({ text, filters: {} });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe('matchesFilters', () => {
  it('ANDs fields and ORs values, case-insensitively', () => {
    const pick = (f: FieldFilters) => MODELS.filter((m) => matchesFilters(m, f)).map((m) => m.name);
    expect(pick({})).toHaveLength(MODELS.length);
    expect(pick({ family: ['TREE'] })).toEqual(['Green Tree', 'Tall Tree']);
    expect(pick({ family: ['star', 'car'], creator: ['alice'] })).toEqual(['Red Star', 'Car Sketch']);
    expect(pick({ licence: [' mit '] })).toEqual(['Blue Star', 'Car Sketch']);
    expect(pick({ family: [] })).toHaveLength(MODELS.length);
  });

  it('matches name as a substring and the others exactly', () => {
    const pick = (f: FieldFilters) => MODELS.filter((m) => matchesFilters(m, f)).map((m) => m.name);
    expect(pick({ name: ['tree'] })).toEqual(['Green Tree', 'Tall Tree']);
    expect(pick({ name: ['STAR', 'sketch'] })).toEqual(['Red Star', 'Blue Star', 'Car Sketch']);
    expect(pick({ family: ['tre'] })).toEqual([]);
    expect(pick({ creator: ['ali'] })).toEqual([]);
  });
});

describe('facetCounts', () => {
  it('counts every value without filters, by count then value, skipping empty ones', () => {
    expect(facetCounts(MODELS, {})).toEqual({
      family: [
        { value: 'star', count: 2 },
        { value: 'tree', count: 2 },
        { value: 'car', count: 1 },
      ],
      creator: [
        { value: 'alice', count: 3 },
        { value: 'bob', count: 2 },
        { value: 'carol', count: 1 },
      ],
      licence: [
        { value: 'CC0-1.0', count: 3 },
        { value: 'MIT', count: 2 },
        { value: 'CC-BY-4.0', count: 1 },
      ],
    });
  });

  it('is disjunctive: a field is counted under the other fields’ filters only', () => {
    const f = facetCounts(MODELS, { family: ['star'], creator: ['alice'] });
    // Families over creator=alice: Red Star, Green Tree, Car Sketch (the family filter itself is ignored).
    expect(f.family).toEqual([
      { value: 'car', count: 1 },
      { value: 'star', count: 1 },
      { value: 'tree', count: 1 },
    ]);
    // Creators over family=star: Red Star (alice), Blue Star (bob).
    expect(f.creator).toEqual([
      { value: 'alice', count: 1 },
      { value: 'bob', count: 1 },
    ]);
    // Licences over both: Red Star only.
    expect(f.licence).toEqual([{ value: 'CC0-1.0', count: 1 }]);
  });

  it('takes a field list and a limit', () => {
    expect(facetCounts(MODELS, { name: ['star'] }, ['creator'], 1)).toEqual({ creator: [{ value: 'alice', count: 1 }] });
  });
});

describe('filter sets', () => {
  it('toggles one value without touching the input', () => {
    const a: FieldFilters = { family: ['star'] };
    expect(toggleFilter(a, 'family', 'tree')).toEqual({ family: ['star', 'tree'] });
    expect(toggleFilter(a, 'family', 'Star')).toEqual({});
    expect(a).toEqual({ family: ['star'] });
    expect(hasFilters({ family: [] })).toBe(false);
    expect(hasFilters(a)).toBe(true);
  });
});
