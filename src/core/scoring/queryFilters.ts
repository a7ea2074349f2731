import type { ModelMeta } from '../index/manifest.ts';

// Field-prefix filters in the query text (`family:star creator:"Jane Doe" red car`), facet counts,
// and their URL form. Pure and DOM-free: the worker, the CLI and the UI share it. Metadata values are
// untrusted text; nothing here interprets them beyond comparing strings.

export const FILTER_FIELDS = ['creator', 'family', 'licence', 'name'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
/** Values per field: AND across fields, OR within one field. A field with no values is absent. */
export type FieldFilters = Partial<Record<FilterField, string[]>>;

/** The fields shown as facets by default (name is free text, not a facet). */
const FACET_FIELDS = ['family', 'creator', 'licence'] as const satisfies readonly FilterField[];
export type FacetField = (typeof FACET_FIELDS)[number];

export interface FacetValue {
  value: string;
  count: number;
}

/** Facet values per field, as `facetCounts` gives them; fields may be absent. */
export type FacetCounts = Partial<Record<FilterField, FacetValue[]>>;

/** Most values listed per facet (creators are nearly unique per model). */
const FACET_LIMIT = 50;

const ALIASES: Record<string, FilterField> = { license: 'licence' };

function fieldOf(prefix: string): FilterField | null {
  const p = prefix.toLowerCase();
  if ((FILTER_FIELDS as readonly string[]).includes(p)) return p as FilterField;
  return ALIASES[p] ?? null;
}

/** Case- and surrounding-space-insensitive form used for every comparison. */
function norm(value: string): string {
  return value.trim().toLowerCase();
}

/** Adds a value unless empty or already present (case-insensitively). */
function addValue(filters: FieldFilters, field: FilterField, raw: string): void {
  const value = raw.trim();
  if (!value) return;
  const list = (filters[field] ??= []);
  const key = norm(value);
  if (!list.some((v) => norm(v) === key)) list.push(value);
}

const SPACE = /\s/;
/** A known field name and its colon at the start of a token, e.g. `Family:` or `license:`. */
const PREFIX = /([A-Za-z]+):/y;

/**
 * Splits a query into free text and field filters.
 *
 * A filter is a token (start of input or after whitespace) `field:value` or `field:"quoted value"`;
 * field names are case-insensitive and `license:` means `licence:`. Inside quotes `\"` is a quote and
 * `\\` a backslash; an unclosed quote runs to the end. Unquoted values end at whitespace. Values are
 * trimmed; empty ones are dropped (the token still leaves the text). Unknown prefixes (`http://x`,
 * `foo:bar`) stay in the text, whose whitespace is collapsed.
 */
export function parseQuery(input: string): { text: string; filters: FieldFilters } {
  const filters: FieldFilters = {};
  const words: string[] = [];
  const n = input.length;
  let i = 0;
  while (i < n) {
    while (i < n && SPACE.test(input[i])) i++;
    if (i >= n) break;
    PREFIX.lastIndex = i;
    const m = PREFIX.exec(input);
    const field = m ? fieldOf(m[1]) : null;
    if (m && field) {
      i = PREFIX.lastIndex;
      if (input[i] === '"') {
        // Quoted: read to the next unescaped quote. The next token may start right after it.
        let value = '';
        i++;
        while (i < n && input[i] !== '"') {
          if (input[i] === '\\' && (input[i + 1] === '"' || input[i + 1] === '\\')) i++;
          value += input[i++];
        }
        i++;
        addValue(filters, field, value);
      } else {
        const start = i;
        while (i < n && !SPACE.test(input[i])) i++;
        addValue(filters, field, input.slice(start, i));
      }
    } else {
      const start = i;
      while (i < n && !SPACE.test(input[i])) i++;
      words.push(input.slice(start, i));
    }
  }
  return { text: words.join(' '), filters };
}

function formatValue(value: string): string {
  if (!/[\s"]/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The query text for free text plus filters; `parseQuery(formatQuery(t, f))` gives back `t` and `f`. */
export function formatQuery(text: string, filters: FieldFilters): string {
  const parts: string[] = [];
  const t = text.trim();
  if (t) parts.push(t);
  for (const field of FILTER_FIELDS) {
    for (const v of filters[field] ?? []) {
      if (v.trim()) parts.push(`${field}:${formatValue(v.trim())}`);
    }
  }
  return parts.join(' ');
}

function fieldValue(model: ModelMeta, field: FilterField): string {
  const v = model[field];
  return typeof v === 'string' ? v : '';
}

function matchesField(model: ModelMeta, field: FilterField, values: readonly string[]): boolean {
  const have = norm(fieldValue(model, field));
  if (field === 'name') return values.some((v) => have.includes(norm(v)));
  return values.some((v) => have === norm(v));
}

/** Whether a model passes every filtered field (AND), matching any value of each (OR). */
export function matchesFilters(model: ModelMeta, filters: FieldFilters): boolean {
  for (const field of FILTER_FIELDS) {
    const values = filters[field];
    if (values && values.length > 0 && !matchesField(model, field, values)) return false;
  }
  return true;
}

/** How many models pass the filters. */
export function countMatching(models: readonly ModelMeta[], filters: FieldFilters): number {
  if (!hasFilters(filters)) return models.length;
  let n = 0;
  for (const m of models) if (matchesFilters(m, filters)) n++;
  return n;
}

/** Whether any field has a value. */
export function hasFilters(filters: FieldFilters): boolean {
  return FILTER_FIELDS.some((f) => (filters[f]?.length ?? 0) > 0);
}

/**
 * Disjunctive facet counts: each field's values are counted over the models that match the filters
 * of all *other* fields, so ticking a second family widens rather than empties the family list.
 * Values are grouped case-insensitively (first spelling seen is shown), sorted by count then value,
 * and capped at `limit` per field. Empty values are skipped.
 */
export function facetCounts<F extends FilterField = FacetField>(
  models: readonly ModelMeta[],
  filters: FieldFilters,
  fields: readonly F[] = FACET_FIELDS as unknown as readonly F[],
  limit: number = FACET_LIMIT,
): Record<F, FacetValue[]> {
  const out = {} as Record<F, FacetValue[]>;
  for (const field of fields) {
    const others: FieldFilters = { ...filters };
    delete others[field];
    const counts = new Map<string, FacetValue>();
    for (const model of models) {
      if (!matchesFilters(model, others)) continue;
      const value = fieldValue(model, field).trim();
      if (!value) continue;
      const key = value.toLowerCase();
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { value, count: 1 });
    }
    out[field] = [...counts.values()]
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, Math.max(0, limit));
  }
  return out;
}

/** Adds the value to the field, or removes it (case-insensitively) when present; a new object. */
export function toggleFilter(filters: FieldFilters, field: FilterField, value: string): FieldFilters {
  const out: FieldFilters = {};
  for (const f of FILTER_FIELDS) if (filters[f]?.length) out[f] = [...filters[f]];
  const list = out[field] ?? [];
  const key = norm(value);
  if (list.some((v) => norm(v) === key)) {
    const rest = list.filter((v) => norm(v) !== key);
    if (rest.length) out[field] = rest;
    else delete out[field];
  } else {
    addValue(out, field, value);
  }
  return out;
}
