import Papa from 'papaparse';
import type { RankedModel } from '../shared/protocol.ts';

/** Export of a result list as JSON or CSV. Pure: the caller makes the download. */

export interface ExportInput {
  query: string;
  method: string;
  indexName: string;
  results: RankedModel[];
  /** ISO time stamp; defaults to now. */
  exportedAt?: string;
}

export const CSV_COLUMNS = ['rank', 'id', 'name', 'score', 'family', 'creator', 'licence', 'resolution', 'description'] as const;

/**
 * Cells that spreadsheets would run as formulas (OWASP CSV injection: = + - @ tab CR). papaparse's
 * own `escapeFormulae: true` pattern ends in `.*$`, which misses a formula followed by a newline,
 * so this one only looks at the first character. Numbers (rank, score) are never escaped.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Pretty JSON: the query, method, index and one object per result (non-finite scores become null). */
export function resultsToJson(input: ExportInput): string {
  const { query, method, indexName, results, exportedAt = new Date().toISOString() } = input;
  return JSON.stringify(
    {
      query,
      method,
      indexName,
      exportedAt,
      count: results.length,
      results: results.map(({ rank, score, model: m }) => ({
        rank,
        id: m.id,
        name: m.name,
        score,
        family: m.family,
        creator: m.creator,
        licence: m.licence,
        resolution: m.resolution,
        description: m.description,
        links: m.links.map(({ label, url }) => ({ label, url })),
      })),
    },
    null,
    2,
  );
}

/** CSV with a header row (CSV_COLUMNS), CRLF line ends, formula-looking text cells escaped with '. */
export function resultsToCsv(results: RankedModel[]): string {
  const data = results.map(({ rank, score, model: m }) => [
    rank,
    m.id,
    m.name,
    score,
    m.family,
    m.creator,
    m.licence,
    m.resolution,
    m.description,
  ]);
  return Papa.unparse({ fields: [...CSV_COLUMNS], data }, { escapeFormulae: FORMULA_START, newline: '\r\n' });
}

const PREFIX = 'model-search-';
const MAX_NAME = 60;

/** A safe download name such as `model-search-red-flowers.csv`: ASCII, at most 60 characters. */
export function exportFilename(query: string, ext: string): string {
  const suffix = '.' + (ext.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 8) || 'txt');
  const room = MAX_NAME - PREFIX.length - suffix.length;
  const slug = query
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, room)
    .replace(/-+$/, '');
  return PREFIX + (slug || 'results') + suffix;
}
