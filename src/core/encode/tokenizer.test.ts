import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll } from 'vitest';
import {
  CLIP_CONTEXT_LENGTH,
  CLIP_EOT,
  CLIP_SOT,
  createClipTokenizer,
  type ClipTokenizer,
} from './tokenizer.ts';

// Expectations come from tools/reference/clip_reference_tokenizer.py, an independent port of
// OpenAI's simple_tokenizer.py that rebuilds the vocabulary from the BPE merges only.
// Regenerate with: /usr/bin/python3 tools/reference/clip_reference_tokenizer.py
interface FixtureCase {
  note: string;
  text: string;
  contentTokens: number;
  ids: number[];
}

const readJson = (rel: string): unknown => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));

const tokenizerJson = readJson('../../../public/tokenizers/clip-vit-b32/tokenizer.json');
const tokenizerConfig = readJson('../../../public/tokenizers/clip-vit-b32/tokenizer_config.json');
const cases = readJson('../../../test/fixtures/tokenizer-cases.json') as FixtureCase[];

let tok: ClipTokenizer;
beforeAll(() => {
  tok = createClipTokenizer(tokenizerJson, tokenizerConfig);
});

describe('constants', () => {
  it('match the CLIP ViT-B/32 export', () => {
    expect(CLIP_CONTEXT_LENGTH).toBe(77);
    expect(CLIP_SOT).toBe(49406);
    expect(CLIP_EOT).toBe(49407);
  });
});

describe('fixture from the OpenAI reference algorithm', () => {
  it('has enough well-formed cases, including the boundary ones', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    for (const c of cases) {
      expect(typeof c.text).toBe('string');
      expect(c.ids).toHaveLength(77);
    }
    const counts = cases.map((c) => c.contentTokens);
    expect(counts).toContain(0);
    expect(counts).toContain(75);
    expect(counts).toContain(76);
    expect(Math.max(...counts)).toBeGreaterThan(200);
  });

  it.each(cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    expect(tok.encode(c.text)).toEqual(c.ids);
  });
});

describe('encode', () => {
  it('gives the known ids for "a photo of a cat"', () => {
    const ids = tok.encode('a photo of a cat');
    expect(ids.slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(ids.slice(7)).toEqual(new Array(70).fill(CLIP_EOT));
  });

  it('always returns 77 ids starting with SOT and containing EOT', () => {
    for (const text of ['', 'x', 'a photo of a cat', 'word '.repeat(1000)]) {
      const ids = tok.encode(text);
      expect(ids).toHaveLength(CLIP_CONTEXT_LENGTH);
      expect(ids[0]).toBe(CLIP_SOT);
      expect(ids).toContain(CLIP_EOT);
      for (const id of ids) expect(Number.isInteger(id)).toBe(true);
    }
  });

  it('encodes the empty string as SOT, EOT, then EOT padding', () => {
    expect(tok.encode('')).toEqual([CLIP_SOT, ...new Array(76).fill(CLIP_EOT)]);
  });

  it('truncates long text to 75 content tokens and keeps EOT last', () => {
    const ids = tok.encode('photo '.repeat(300));
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(CLIP_SOT);
    expect(ids[76]).toBe(CLIP_EOT);
    const content = ids.slice(1, 76);
    expect(content).not.toContain(CLIP_EOT);
    expect(new Set(content)).toEqual(new Set([1125])); // "photo</w>"
  });

  it('puts EOT right after 75 content tokens and directly pads shorter text', () => {
    const ids75 = tok.encode('cat '.repeat(75));
    expect(ids75.slice(1, 76)).toEqual(new Array(75).fill(2368));
    expect(ids75[76]).toBe(CLIP_EOT);
    const ids74 = tok.encode('cat '.repeat(74));
    expect(ids74.slice(1, 75)).toEqual(new Array(74).fill(2368));
    expect(ids74.slice(75)).toEqual([CLIP_EOT, CLIP_EOT]);
  });

  it('lower-cases and collapses whitespace', () => {
    expect(tok.encode('  A   PHOTO\tof\nA CAT  ')).toEqual(tok.encode('a photo of a cat'));
  });

  it('throws a TypeError for non-string input', () => {
    const bad: unknown[] = [undefined, null, 42, {}, ['a'], Symbol('s')];
    for (const value of bad) {
      expect(() => tok.encode(value as string)).toThrow(TypeError);
    }
    expect(() => tok.encode(42 as unknown as string)).toThrow(/must be a string, got number/);
  });
});

describe('encodeBatch', () => {
  it('lays rows out row-major as [n, 77] int64 matching encode', () => {
    const texts = ['a photo of a cat', '', 'Hello, world!!! ... what?!', 'dog '.repeat(200)];
    const batch = tok.encodeBatch(texts);
    expect(batch).toBeInstanceOf(BigInt64Array);
    expect(batch.length).toBe(texts.length * 77);
    texts.forEach((text, row) => {
      const expected = tok.encode(text).map((id) => BigInt(id));
      expect(Array.from(batch.subarray(row * 77, (row + 1) * 77))).toEqual(expected);
    });
    expect(batch[0]).toBe(49406n);
    expect(batch[1]).toBe(320n);
    expect(batch[77]).toBe(49406n);
    expect(batch[78]).toBe(49407n);
    expect(batch[4 * 77 - 1]).toBe(49407n);
  });

  it('returns an empty array for an empty batch', () => {
    const batch = tok.encodeBatch([]);
    expect(batch).toBeInstanceOf(BigInt64Array);
    expect(batch.length).toBe(0);
  });

  it('throws a TypeError for a non-string element, a hole, or a non-array', () => {
    expect(() => tok.encodeBatch(['ok', 7 as unknown as string])).toThrow(TypeError);
    expect(() => tok.encodeBatch(['ok', 7 as unknown as string])).toThrow(/encodeBatch\[1\]/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => tok.encodeBatch(['a', , 'b'] as string[])).toThrow(TypeError);
    expect(() => tok.encodeBatch('a photo' as unknown as string[])).toThrow(TypeError);
  });
});

describe('createClipTokenizer', () => {
  it('rejects inputs that are not parsed tokenizer files', () => {
    expect(() => createClipTokenizer(null, tokenizerConfig)).toThrow(TypeError);
    expect(() => createClipTokenizer('{}', tokenizerConfig)).toThrow(TypeError);
    expect(() => createClipTokenizer(tokenizerJson, undefined)).toThrow(TypeError);
  });
});
