import type { ModelMeta } from '../core/index/manifest.ts';

/** Where the cited model can be found and when it was looked at. */
export interface CitationOptions {
  /** Link to the model (its home page, or a link into this app). Only http(s) is printed. */
  url: string;
  /** Date of access, e.g. "2025-01-31". */
  accessed: string;
}

/** Longest run of text a field keeps (untrusted metadata can be arbitrarily long). */
const MAX_FIELD = 500;

/** Control characters and line breaks become spaces, runs of space one space, and long text is cut. */
function clean(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > MAX_FIELD ? `${flat.slice(0, MAX_FIELD - 1)}…` : flat;
}

/**
 * Text safe inside a brace-delimited BibTeX field. BibTeX balances braces even after a backslash,
 * so `{` and `}` become `\textbraceleft{}` / `\textbraceright{}` (their own braces balance) rather
 * than `\{`; every other LaTeX special character gets a command or a backslash.
 */
const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\textbraceleft{}',
  '}': '\\textbraceright{}',
  '%': '\\%',
  '&': '\\&',
  '#': '\\#',
  $: '\\$',
  _: '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
};

export function bibtexEscape(text: string): string {
  return clean(text).replace(/[\\{}%&#$_^~]/g, (c) => LATEX_SPECIAL[c]);
}

/** A citation key from the model id: only [A-Za-z0-9_:-], never empty, at most 64 characters. */
export function citationKey(id: string): string {
  const key = id
    .replace(/[^A-Za-z0-9_:-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[_:-]+|[_:-]+$/g, '')
    .slice(0, 64);
  return key || 'model';
}

/**
 * The URL if it is http(s), with the characters that could break out of `\url{…}` or the field
 * (braces, backslash, whitespace) percent-encoded; null otherwise.
 */
function safeUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return parsed.href.replace(/[{}\\\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Free-text facts about the model, in reading order; empty ones left out. */
function facts(model: ModelMeta): string[] {
  const out: string[] = [];
  if (model.family.trim()) out.push(`family: ${model.family}`);
  if (model.resolution.trim()) out.push(`resolution: ${model.resolution}`);
  if (model.licence.trim()) out.push(`licence: ${model.licence}`);
  out.push(`id: ${model.id}`);
  return out;
}

/** A BibTeX `@misc` entry for a model. Every field is escaped: the metadata is untrusted. */
export function modelCitation(model: ModelMeta, opts: CitationOptions): string {
  const url = safeUrl(opts.url);
  const name = clean(model.name) || clean(model.id) || 'Unnamed model';
  const fields: [string, string][] = [
    // Double braces keep the capitalisation of names and treat a creator as one (corporate) name.
    ['title', `{${bibtexEscape(name)}}`],
  ];
  if (clean(model.creator)) fields.push(['author', `{${bibtexEscape(model.creator)}}`]);
  if (url) fields.push(['howpublished', `\\url{${url}}`]);
  const note = [`Generative image model (${facts(model).map(bibtexEscape).join('; ')})`];
  if (clean(opts.accessed)) note.push(`Accessed: ${bibtexEscape(opts.accessed)}`);
  fields.push(['note', note.join('. ')]);
  const body = fields.map(([k, v]) => `  ${k} = {${v}}`).join(',\n');
  return `@misc{${citationKey(model.id)},\n${body}\n}\n`;
}
