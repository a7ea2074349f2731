import { describe, it, expect } from 'vitest';
import { bibtexEscape, citationKey, modelCitation } from './citation.ts';
import type { ModelMeta } from '../core/index/manifest.ts';

function model(edit: Partial<ModelMeta> = {}): ModelMeta {
  return {
    id: 'sd-flowers-v1',
    name: 'Flowers Diffusion',
    description: 'Paints red flowers.',
    family: 'Stable Diffusion',
    creator: 'Petal Lab',
    licence: 'CC-BY-4.0',
    resolution: '512×512',
    links: [{ label: 'Home', url: 'https://example.org/flowers' }],
    thumbnails: ['thumbs/0.webp'],
    ...edit,
  };
}

const opts = { url: 'https://example.org/flowers', accessed: '2025-01-31' };

/**
 * Reads an entry the way BibTeX does: `@type{key,` then `name = {value}` fields, braces counted
 * (a backslash does not protect a brace from BibTeX's counting). Throws on anything else.
 */
function parseEntry(entry: string): { type: string; key: string; fields: Map<string, string> } {
  const head = /^@(\w+)\{([^,\s{}]+),\n/.exec(entry);
  if (!head) throw new Error(`bad head: ${entry.slice(0, 40)}`);
  const fields = new Map<string, string>();
  let i = head[0].length;
  for (;;) {
    const m = /^\s*(\w+) = \{/.exec(entry.slice(i));
    if (!m) break;
    i += m[0].length;
    let depth = 1;
    const start = i;
    for (; depth > 0; i++) {
      if (i >= entry.length) throw new Error('unbalanced braces');
      if (entry[i] === '{') depth++;
      else if (entry[i] === '}') depth--;
    }
    if (fields.has(m[1])) throw new Error(`duplicate field ${m[1]}`);
    fields.set(m[1], entry.slice(start, i - 1));
    if (entry[i] === ',') i++;
  }
  if (entry.slice(i) !== '\n}\n') throw new Error(`trailing text: ${JSON.stringify(entry.slice(i))}`);
  return { type: head[1], key: head[2], fields };
}

/** True when the text has no LaTeX special character outside the escapes bibtexEscape writes. */
function onlyEscapedSpecials(text: string): boolean {
  const stripped = text
    .replace(/\\text(backslash|braceleft|braceright|asciicircum|asciitilde)\{\}/g, '')
    .replace(/\\[%&#$_]/g, '');
  return !/[\\{}%&#$_^~]/.test(stripped);
}

describe('modelCitation', () => {
  it('writes a @misc entry with title, author, howpublished and note', () => {
    const entry = modelCitation(model(), opts);
    const { type, key, fields } = parseEntry(entry);
    expect(type).toBe('misc');
    expect(key).toBe('sd-flowers-v1');
    expect([...fields.keys()]).toEqual(['title', 'author', 'howpublished', 'note']);
    expect(fields.get('title')).toBe('{Flowers Diffusion}');
    expect(fields.get('author')).toBe('{Petal Lab}');
    expect(fields.get('howpublished')).toBe('\\url{https://example.org/flowers}');
    const note = fields.get('note')!;
    for (const part of ['family: Stable Diffusion', 'resolution: 512×512', 'licence: CC-BY-4.0', 'id: sd-flowers-v1', 'Accessed: 2025-01-31']) {
      expect(note).toContain(part);
    }
  });

  it('escapes hostile braces, backslashes and newlines so the entry stays intact', () => {
    const hostile = model({
      id: 'evil}, title={pwned',
      name: 'Evil} ,\n  author = {Mallory',
      creator: '\\input{/etc/passwd} }}}{{{',
      family: 'a\\\\b\r\nc',
      licence: '100% & #1 $x$ a_b ^ ~',
      resolution: '}\n}\n@misc{x,',
    });
    const entry = modelCitation(hostile, { url: 'https://example.org/a?x={}&y=\\', accessed: '2025}\n{' });
    const { key, fields } = parseEntry(entry);
    expect(key).toMatch(/^[A-Za-z0-9_:-]+$/);
    expect([...fields.keys()]).toEqual(['title', 'author', 'howpublished', 'note']);
    // Only the lines the entry writes itself: nothing from the metadata starts a new line.
    expect(entry.split('\n')).toHaveLength(7);
    expect(entry.match(/@/g)).toHaveLength(2); // `@misc` and the one inside the escaped resolution text
    expect(fields.get('title')).toBe('{Evil\\textbraceright{} , author = \\textbraceleft{}Mallory}');
    expect(fields.get('author')).toBe(
      '{\\textbackslash{}input\\textbraceleft{}/etc/passwd\\textbraceright{} \\textbraceright{}\\textbraceright{}\\textbraceright{}\\textbraceleft{}\\textbraceleft{}\\textbraceleft{}}',
    );
    for (const k of ['title', 'author', 'note']) {
      const v = fields.get(k)!;
      const inner = k === 'note' ? v : v.slice(1, -1);
      expect(onlyEscapedSpecials(inner), `${k}: ${v}`).toBe(true);
      expect(v).not.toMatch(/[\r\n]/);
    }
    expect(fields.get('howpublished')).toBe('\\url{https://example.org/a?x=%7B%7D&y=%5C}');
    expect(fields.get('note')).toContain('licence: 100\\% \\& \\#1 \\$x\\$ a\\_b \\textasciicircum{} \\textasciitilde{}');
    expect(fields.get('note')).toContain('family: a\\textbackslash{}\\textbackslash{}b c');
  });

  it('leaves out a URL that is not http(s), and empty creator', () => {
    for (const url of ['javascript:alert(1)', 'data:text/html,x', 'not a url', '']) {
      const { fields } = parseEntry(modelCitation(model({ creator: ' \n ' }), { url, accessed: '' }));
      expect([...fields.keys()]).toEqual(['title', 'note']);
      expect(fields.get('note')).not.toContain('Accessed');
    }
  });

  it('falls back to the id, then a placeholder, when the name is blank', () => {
    expect(parseEntry(modelCitation(model({ name: '  ' }), opts)).fields.get('title')).toBe('{sd-flowers-v1}');
    expect(parseEntry(modelCitation(model({ name: '', id: '' }), opts)).fields.get('title')).toBe('{Unnamed model}');
  });

  it('cuts very long metadata', () => {
    const { fields } = parseEntry(modelCitation(model({ name: 'x'.repeat(10_000) }), opts));
    expect(fields.get('title')!.length).toBeLessThan(600);
  });
});

describe('citationKey', () => {
  it('keeps only [A-Za-z0-9_:-]', () => {
    expect(citationKey('sd-flowers-v1')).toBe('sd-flowers-v1');
    expect(citationKey('org/model name@v2')).toBe('org_model_name_v2');
    expect(citationKey('a}, b={c')).toBe('a_b_c');
    expect(citationKey('ns:model_1')).toBe('ns:model_1');
    expect(citationKey('Ünïcødé ✓')).toBe('n_c_d');
  });

  it('is never empty and at most 64 characters', () => {
    expect(citationKey('')).toBe('model');
    expect(citationKey('{}{}\\%')).toBe('model');
    expect(citationKey('x'.repeat(200))).toHaveLength(64);
  });
});

describe('bibtexEscape', () => {
  it('escapes every special character once', () => {
    expect(bibtexEscape('{}\\%&#$_^~')).toBe(
      '\\textbraceleft{}\\textbraceright{}\\textbackslash{}\\%\\&\\#\\$\\_\\textasciicircum{}\\textasciitilde{}',
    );
    expect(bibtexEscape('plain text, 512×512')).toBe('plain text, 512×512');
  });

  it('turns line breaks and control characters into single spaces', () => {
    expect(bibtexEscape(' a\n\r\tb\u0000c\u2028d ')).toBe('a b c d');
  });
});
