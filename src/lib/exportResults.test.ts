import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Papa from 'papaparse';
import type { ModelMeta } from '../core/index/manifest.ts';
import type { RankedModel } from '../shared/protocol.ts';
import { CSV_COLUMNS, exportFilename, resultsToCsv, resultsToJson } from './exportResults.ts';

function model(over: Partial<ModelMeta> = {}): ModelMeta {
  return {
    id: 'm',
    name: 'Model',
    description: '',
    family: 'GAN',
    creator: 'Ada',
    licence: 'MIT',
    resolution: '512×512',
    links: [],
    thumbnails: ['t/0.jpg'],
    ...over,
  };
}

const results: RankedModel[] = [
  {
    rank: 1,
    index: 7,
    score: 0.3125,
    contentScore: 0.3125,
    model: model({
      id: 'flowers-v2',
      name: 'Flowers, "v2"',
      description: 'Line one,\nline "two"\r\nand a trailing space ',
      links: [{ label: 'Paper', url: 'https://example.org/p' }],
    }),
  },
  { rank: 2, index: 3, score: -1234.5, contentScore: -1234.5, model: model({ id: 'neg', name: 'Négative ünïcode ✿', description: '' }) },
  {
    rank: 3,
    index: 0,
    score: -0.25,
    contentScore: -0.25,
    model: model({
      id: '=HYPERLINK("http://evil","x")',
      name: '+1+2',
      family: '-2+3',
      creator: '@SUM(A1)',
      licence: '\tTAB',
      resolution: '\rCR',
      description: '=cmd|"/c calc"!A0\nsecond line',
    }),
  },
];

function parseCsv(csv: string): string[][] {
  const parsed = Papa.parse<string[]>(csv, { skipEmptyLines: false });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

describe('resultsToCsv', () => {
  it('round-trips quotes, commas and newlines through papaparse', () => {
    const rows = parseCsv(resultsToCsv(results));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + results.length);
    expect(rows[1]).toEqual([
      '1',
      'flowers-v2',
      'Flowers, "v2"',
      '0.3125',
      'GAN',
      'Ada',
      'MIT',
      '512×512',
      'Line one,\nline "two"\r\nand a trailing space ',
    ]);
    expect(rows[2][2]).toBe('Négative ünïcode ✿');
  });

  it('keeps numbers as numbers, negative scores included', () => {
    const rows = parseCsv(resultsToCsv(results));
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual([1, 2, 3]);
    expect(rows.slice(1).map((r) => Number(r[3]))).toEqual([0.3125, -1234.5, -0.25]);
  });

  it('escapes cells that a spreadsheet would run as formulas', () => {
    const row = parseCsv(resultsToCsv(results))[3];
    const text = row.filter((_, i) => CSV_COLUMNS[i] !== 'rank' && CSV_COLUMNS[i] !== 'score');
    for (const cell of text) expect(cell).toMatch(/^'/);
    expect(row[1]).toBe(`'=HYPERLINK("http://evil","x")`);
    // A formula followed by a newline is escaped too (papaparse's built-in pattern misses it).
    expect(row[8]).toBe(`'=cmd|"/c calc"!A0\nsecond line`);
  });

  it('never lets a text cell start with a formula character (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ',', '"', 'a', ' ') });
    fc.assert(
      fc.property(text, text, (name, description) => {
        const row = parseCsv(resultsToCsv([{ rank: 1, index: 0, score: 0.5, contentScore: 0.5, model: model({ name, description }) }]))[1];
        for (const [i, original] of [name, description].entries()) {
          const cell = row[i === 0 ? 2 : 8];
          expect(cell.replace(/^'/, '')).toBe(original);
          expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('writes only the header without results', () => {
    expect(parseCsv(resultsToCsv([])).filter((r) => r.join('') !== '')).toEqual([[...CSV_COLUMNS]]);
  });
});

describe('resultsToJson', () => {
  it('parses back with the same ranks, scores and metadata', () => {
    const json = resultsToJson({ query: 'red flowers', method: 'gaussian', indexName: 'demo', results, exportedAt: '2024-01-02T03:04:05.000Z' });
    const doc = JSON.parse(json);
    expect(doc).toMatchObject({ query: 'red flowers', method: 'gaussian', indexName: 'demo', exportedAt: '2024-01-02T03:04:05.000Z', count: 3 });
    expect(doc.results.map((r: { rank: number }) => r.rank)).toEqual([1, 2, 3]);
    expect(doc.results.map((r: { score: number }) => r.score)).toEqual([0.3125, -1234.5, -0.25]);
    expect(doc.results[0]).toEqual({
      rank: 1,
      id: 'flowers-v2',
      name: 'Flowers, "v2"',
      score: 0.3125,
      family: 'GAN',
      creator: 'Ada',
      licence: 'MIT',
      resolution: '512×512',
      description: 'Line one,\nline "two"\r\nand a trailing space ',
      links: [{ label: 'Paper', url: 'https://example.org/p' }],
    });
    expect(doc.results[0]).not.toHaveProperty('thumbnails');
    expect(json).toContain('\n  "query"');
  });

  it('stamps the export time by default and writes non-finite scores as null', () => {
    const doc = JSON.parse(resultsToJson({ query: '', method: 'monte-carlo', indexName: 'x', results: [{ ...results[1], score: -Infinity }] }));
    expect(Number.isNaN(Date.parse(doc.exportedAt))).toBe(false);
    expect(doc.results[0].score).toBeNull();
  });
});

describe('exportFilename', () => {
  it('slugs the query', () => {
    expect(exportFilename('Red flowers', 'csv')).toBe('model-search-red-flowers.csv');
    expect(exportFilename('  Crème brûlée — 𝔽ancy!! ', 'json')).toBe('model-search-creme-brulee-fancy.json');
    expect(exportFilename('../../etc/passwd', 'csv')).toBe('model-search-etc-passwd.csv');
  });

  it('falls back to "results"', () => {
    expect(exportFilename('', 'csv')).toBe('model-search-results.csv');
    expect(exportFilename('日本語 🌸', 'json')).toBe('model-search-results.json');
  });

  it('stays ASCII and at most 60 characters', () => {
    const long = exportFilename('a very long query about red flowers in a sunny field at dawn with mist', 'json');
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long).toMatch(/^model-search-[a-z0-9-]*[a-z0-9]\.json$/);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('csv', 'json'), (q, ext) => {
        const name = exportFilename(q, ext);
        expect(name.length).toBeLessThanOrEqual(60);
        expect(name).toMatch(/^model-search-[a-z0-9]+(-[a-z0-9]+)*\.(csv|json)$/);
      }),
    );
  });
});
