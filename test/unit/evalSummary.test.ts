import { describe, expect, it } from 'vitest';
import type { RowResult, SetResult } from '../../tools/eval/evaluate.ts';
import type { QueryType } from '../../tools/eval/queries.ts';
import { markdownReport, type EvalResults } from '../../tools/eval/report.ts';
import { autoNote, bestByMrrNote, bestContent, evalTargets, fineTunedGains, methodLabels, previousRun } from '../../tools/eval/summary.ts';

const row = (top1: number, top5: number, mrr: number): RowResult => ({ queries: 10, top1, top5, mrr, meanRank: 1 / mrr, msPerQuery: 0.1 });

function set(type: QueryType, rows: Record<string, RowResult>, auto?: string): SetResult {
  return { type, queries: 10, skipped: 0, rows, ...(auto ? { ranMethod: { auto } as SetResult['ranMethod'] } : {}) };
}

const SETS: Record<QueryType, SetResult> = {
  image: set(
    'image',
    { 'first-moment': row(0.8, 0.9, 0.85), gaussian: row(0.9, 1, 0.95), 'monte-carlo': row(0.85, 1, 0.9), auto: row(0.9, 1, 0.95), 'fine-tuned-full': row(0.7, 0.9, 0.8), metadata: row(0.1, 0.3, 0.2) },
    'gaussian',
  ),
  sketch: set('sketch', { 'first-moment': row(0.3, 0.6, 0.4), gaussian: row(0.2, 0.6, 0.35), auto: row(0.3, 0.6, 0.4), 'fine-tuned-full': row(0.3, 0.5, 0.4), metadata: row(0.9, 0.9, 0.9) }, 'first-moment'),
  text: set('text', { 'first-moment': row(0.7, 0.9, 0.8), gaussian: row(0.5, 0.8, 0.6), auto: row(0.7, 0.9, 0.8), 'fine-tuned-full': row(0.4, 0.8, 0.6), metadata: row(0.9, 1, 0.95) }, 'first-moment'),
  model: set('model', { 'first-moment': row(0.6, 0.9, 0.7), 'fine-tuned-full': row(0.65, 0.9, 0.75), metadata: row(0.5, 0.8, 0.6) }),
};

describe('eval summary', () => {
  it('labels every row once; the methods that use T carry it', () => {
    const labels = methodLabels(['full'], 18);
    expect(labels['first-moment']).toBe('1st moment');
    expect(labels['monte-carlo']).toBe('Monte-Carlo (T = 18)');
    expect(labels['first-second-moment']).toBe('1st+2nd moment (T = 18)');
    expect(labels['fine-tuned-full']).toBe('fine-tuned 1st moment (full)');
    expect(Object.keys(labels)).toContain('auto');
    expect(Object.keys(labels)).toContain('metadata');
  });

  it('the best content method ignores the baseline and the Auto copy; the first row wins a tie', () => {
    expect(bestContent(SETS.sketch, 'mrr')).toEqual({ key: 'first-moment', value: 0.4 });
    expect(bestContent(SETS.sketch, 'top5')).toEqual({ key: 'first-moment', value: 0.6 });
    expect(bestContent(SETS.image, 'top1')).toEqual({ key: 'gaussian', value: 0.9 });
    const labels = methodLabels(['full'], 18);
    expect(bestByMrrNote(SETS, labels)).toBe(
      'best method by MRR: image Gaussian density (GD) (0.950); sketch 1st moment (0.400); text 1st moment (0.800); model fine-tuned 1st moment (full) (0.750)',
    );
    expect(autoNote(SETS)).toMatch(/image → gaussian, sketch → first-moment, text → first-moment/);
  });

  it('fine-tuned gains are differences from the 1st moment, with the trainer’s held-out numbers when known', () => {
    const [g] = fineTunedGains(SETS, ['full'], new Map([['full', { before: 0.6, after: 0.5 }]]));
    expect(g.structure).toBe('full');
    expect(g.gain.text.top1).toBeCloseTo(-0.3, 12);
    expect(g.gain.model.mrr).toBeCloseTo(0.05, 12);
    expect(g.trainerValTop1).toEqual({ before: 0.6, after: 0.5 });
    expect(fineTunedGains(SETS, ['full'], new Map())[0]).not.toHaveProperty('trainerValTop1');
  });

  it('targets pass or miss by their thresholds and are n/a without a measurement', () => {
    const targets = evalTargets({ sets: SETS, methods: methodLabels(['full'], 18), style: { missing: 'skipped' }, wallSeconds: 700, budgetSeconds: 600, timeDetail: 'x' });
    expect(targets.map((t) => t.status)).toEqual(['PASS', 'PASS', 'PASS', 'PASS', 'n/a', 'MISS']);
    expect(targets[3].value).toBeCloseTo(9, 12); // GD 0.9 ÷ baseline 0.1
    expect(targets[4].detail).toBe('skipped');
  });

  it('keeps an earlier run’s numbers; its T is the recorded one, or the one in an old Monte-Carlo label', () => {
    const old = {
      createdAt: '2026-01-01T00:00:00Z',
      command: 'npm run eval',
      encoder: { id: 'zoo-encoder' },
      zoo: { key: 'k' },
      methods: { 'monte-carlo': 'Monte-Carlo (T=100)' },
      sets: { image: { rows: { 'monte-carlo': row(0.5, 0.6, 0.55) } } },
    };
    const p = previousRun(old)!;
    expect(p.temperature).toBe(100);
    expect(p.rows.image['monte-carlo']).toEqual({ top1: 0.5, top5: 0.6, mrr: 0.55 });
    expect(p.rows.text).toEqual({});
    expect(previousRun({ ...old, index: { temperature: 18 } })!.temperature).toBe(18);
    expect(previousRun({ ...old, methods: {} })!).not.toHaveProperty('temperature');
    expect(previousRun(null)).toBeUndefined();
    expect(previousRun({ createdAt: 'x' })).toBeUndefined();
    expect(p.suites).toBeUndefined();
    const withSuites = previousRun({
      ...old,
      robustness: { suites: [{ key: 'image-frame', label: 'image: frame', relevance: 'the model', group: 'image', result: { queries: 3, rows: { auto: row(0.5, 0.7, 0.6) } } }] },
    })!;
    expect(withSuites.suites).toEqual([{ key: 'image-frame', label: 'image: frame', relevance: 'the model', top1: 0.5, top5: 0.7 }]);
  });

  it('results.md shows the previous run beside this one', () => {
    const methods = methodLabels(['full'], 18);
    const results: EvalResults = {
      createdAt: 'now',
      command: 'npm run eval',
      encoder: { id: 'zoo-encoder', label: 'Zoo', dim: 64, requested: 'zoo-encoder' },
      zoo: { split: 'eval', models: 10, samplesPerModel: 4, seed: 0, key: 'k', families: 2 },
      index: { models: 10, epsilon: 1e-3, precision: 'f16', keepSamples: 32, samplesPrecision: 'f32', projections: ['full'], temperature: 18 },
      counts: { image: 10, sketch: 10, text: 10, model: 10 },
      methods,
      sets: SETS,
      targets: [],
      timing: {},
      wallSeconds: 1,
      notes: [],
      previous: {
        createdAt: 'then',
        command: 'npm run eval -- --train-projection',
        temperature: 100,
        encoder: 'zoo-encoder',
        zooKey: 'k',
        methods,
        rows: { image: { gaussian: { top1: 0.8, top5: 0.9, mrr: 0.85 }, 'monte-carlo': { top1: 0.1, top5: 0.3, mrr: 0.2 } }, sketch: {}, text: {}, model: {} },
      },
    };
    const md = markdownReport(results);
    expect(md).toContain('T = 18 for Monte-Carlo and 1st+2nd moment');
    expect(md).toContain('## Compared with the previous run');
    expect(md).toContain('T = 100; this run: T = 18');
    expect(md).toMatch(/\| Gaussian density \(GD\) \| 0\.800 → 0\.900 \| 0\.850 → 0\.950 \| — → 0\.200 \| — → 0\.350 \|/);
    expect(md).toMatch(/\| Monte-Carlo \| 0\.100 → 0\.850 \| 0\.200 → 0\.900 \|/); // the label without this run's T

    // The robustness suites: previous → this run on the Auto row; a changed relevance is said; a new suite is marked new.
    const suite = (key: string, label: string, relevance: string, top1: number) => ({
      key,
      label,
      group: 'sketch' as const,
      relevance,
      result: set('sketch', { auto: row(top1, 0.9, 0.5) }, 'first-moment'),
    });
    const withRobustness: EvalResults = {
      ...results,
      robustness: {
        suites: [suite('sketch-heldout', 'sketch, held-out', 'the subject', 0.7), suite('sketch-heldout-model', 'sketch, held-out, exact model', 'the model', 0.2)],
        targets: [],
        synonymMap: [],
        synonymCoverage: { queries: 0, models: 10, withStyle: 0 },
        seconds: 1,
      },
      previous: { ...results.previous!, suites: [{ key: 'sketch-heldout', label: 'sketch, held-out', relevance: 'the model', top1: 0.1, top5: 0.4 }] },
    };
    const md2 = markdownReport(withRobustness);
    expect(md2).toContain('### Compared with the previous run (Auto row)');
    expect(md2).toContain('| sketch, held-out | 0.100 → 0.700 | 0.400 → 0.900 | was: the model; now: the subject |');
    expect(md2).toContain('| sketch, held-out, exact model | new → 0.200 | new → 0.900 | the model |');

    // A pinned baseline (docs/eval/baseline.json) gets its own sections beside the previous run.
    const withBaseline: EvalResults = {
      ...withRobustness,
      baseline: { ...results.previous!, createdAt: 'long ago', about: 'encoder v1', suites: [{ key: 'sketch-heldout-model', label: 'sketch, held-out, exact model', relevance: 'the model', top1: 0.05, top5: 0.3 }] },
    };
    const md3 = markdownReport(withBaseline);
    expect(md3).toContain('## Compared with the previous run');
    expect(md3).toContain('## Compared with the baseline: encoder v1');
    expect(md3).toContain('The pinned baseline run (docs/eval/baseline.json): long ago');
    expect(md3).toContain('### Compared with the baseline (Auto row): encoder v1');
    expect(md3).toContain('| sketch, held-out, exact model | 0.050 → 0.200 | 0.300 → 0.900 | the model |');
    expect(md3.indexOf('## Compared with the previous run')).toBeLessThan(md3.indexOf('## Compared with the baseline'));
  });
});
