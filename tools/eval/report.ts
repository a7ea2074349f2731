/**
 * Results of `npm run eval`: the console table, docs/eval/results.json and docs/eval/results.md,
 * and the PASS/MISS targets.
 */
import type { SetResult } from './evaluate.ts';
import type { QueryType } from './queries.ts';
import type { RobustnessResults } from './robustness.ts';

export interface Target {
  name: string;
  /** The measured value (NaN when it could not be measured). */
  value: number;
  threshold: number;
  /** '≥' or '>' or '≤'. */
  op: '≥' | '>' | '≤';
  /** pass / miss, or 'n/a' when the value is missing (e.g. no style zoo yet). */
  status: 'PASS' | 'MISS' | 'n/a';
  detail: string;
}

export function target(name: string, value: number | undefined, op: Target['op'], threshold: number, detail: string): Target {
  const v = value ?? NaN;
  let status: Target['status'] = 'n/a';
  if (Number.isFinite(v)) {
    const ok = op === '≥' ? v >= threshold : op === '>' ? v > threshold : v <= threshold;
    status = ok ? 'PASS' : 'MISS';
  }
  return { name, value: v, threshold, op, status, detail };
}

export interface StyleResult {
  /** MRR with the learned projection f. */
  learnedMrr: number;
  /** MRR with plain encoder features. */
  plainMrr: number;
  [key: string]: unknown;
}

export interface EvalResults {
  createdAt: string;
  command: string;
  encoder: { id: string; label: string; dim: number; requested: string; note?: string };
  zoo: { split: 'eval'; models: number; samplesPerModel: number; seed: number; key: string; families: number };
  index: {
    models: number;
    epsilon: number;
    precision: string;
    keepSamples: number;
    samplesPrecision: string;
    projections: string[];
    /** T of Monte-Carlo and 1st+2nd moment: the index's (its encoder's logit scale), as openIndex reports it. */
    temperature: number;
  };
  counts: Record<QueryType, number>;
  methods: Record<string, string>;
  sets: Record<QueryType, SetResult>;
  fineTuned?: {
    structure: string;
    gain: Record<QueryType, { top1: number; top5: number; mrr: number }>;
    /** The trainer's own held-out top-1 (training-zoo queries) before and after training. */
    trainerValTop1?: { before: number; after: number };
  }[];
  style?: StyleResult | { missing: string };
  targets: Target[];
  /** The held-out robustness suites (tools/eval/robustness.ts), or why they were not run. */
  robustness?: RobustnessResults | { missing: string };
  timing: Record<string, number>;
  wallSeconds: number;
  notes: string[];
  /** The headline numbers of the run these results replaced (from its results.json), for comparison. */
  previous?: PreviousRun;
  /** A pinned earlier run kept beside every new one (docs/eval/baseline.json), with what it was. */
  baseline?: PreviousRun & { about: string };
}

/** An earlier run's top-1 / top-5 / MRR per query type and row (tools/eval/summary.ts previousRun). */
export interface PreviousRun {
  createdAt: string;
  command: string;
  /** T it used (absent when it cannot be told). */
  temperature?: number;
  encoder: string;
  zooKey: string;
  methods: Record<string, string>;
  rows: Record<QueryType, Record<string, { top1: number; top5: number; mrr: number }>>;
  /** Its robustness suites' Auto row (absent for runs without them). */
  suites?: { key: string; label: string; relevance: string; top1: number; top5: number }[];
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));

/** The rows in display order: the union over the sets, in the order first seen. */
function rowKeys(results: EvalResults): string[] {
  const keys: string[] = [];
  for (const set of Object.values(results.sets)) for (const k of Object.keys(set.rows)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

const TYPES: QueryType[] = ['image', 'sketch', 'text', 'model'];

/** A fixed-width table for the terminal: one row per method, top-1 / top-5 / MRR per query type. */
export function consoleTable(results: EvalResults): string {
  const keys = rowKeys(results);
  const labelW = Math.max(6, ...keys.map((k) => results.methods[k].length));
  const cell = (s: string) => s.padStart(6);
  const group = (s: string) => s.padEnd(20);
  const head1 = `${''.padEnd(labelW)}  ${TYPES.map((t) => group(`${t} (${results.sets[t]?.queries ?? 0})`)).join(' ')}`;
  const head2 = `${'method'.padEnd(labelW)}  ${TYPES.map(() => group(`${cell('top1')} ${cell('top5')} ${cell('MRR')}`)).join(' ')}`;
  const lines = [head1, head2, '-'.repeat(head2.length)];
  for (const k of keys) {
    const parts = TYPES.map((t) => {
      const r = results.sets[t]?.rows[k];
      return group(r ? `${cell(fmt(r.top1))} ${cell(fmt(r.top5))} ${cell(fmt(r.mrr))}` : `${cell('—')} ${cell('—')} ${cell('—')}`);
    });
    lines.push(`${results.methods[k].padEnd(labelW)}  ${parts.join(' ')}`);
  }
  return lines.join('\n');
}

export function targetLines(targets: Target[]): string {
  return targets
    .map((t) => {
      const v = Number.isFinite(t.value) ? t.value.toFixed(3) : 'n/a';
      return `${t.status.padEnd(4)}  ${t.name}: ${v} ${t.op} ${t.threshold.toFixed(3)}  (${t.detail})`;
    })
    .join('\n');
}

/** Markdown version of the results (docs/eval/results.md). */
export function markdownReport(results: EvalResults): string {
  const keys = rowKeys(results);
  const out: string[] = [];
  out.push('# Evaluation results', '');
  out.push(`Generated by \`npm run eval\` (${results.command}) on ${results.createdAt}. How to read it: [../eval.md](../eval.md).`, '');
  out.push(
    `- **Encoder:** ${results.encoder.label} (\`${results.encoder.id}\`, ${results.encoder.dim}-d)` +
      (results.encoder.note ? ` — ${results.encoder.note}` : ''),
  );
  out.push(
    `- **Eval zoo:** ${results.zoo.models} models × ${results.zoo.samplesPerModel} samples, ${results.zoo.families} families, zoo seed ${results.zoo.seed} (cache key \`${results.zoo.key}\`)`,
  );
  out.push(
    `- **Index:** ε = ${results.index.epsilon}, factors ${results.index.precision}, ${results.index.keepSamples} kept samples (${results.index.samplesPrecision})` +
      (results.index.projections.length ? `, fine-tuned projections: ${results.index.projections.join(', ')}` : ', no fine-tuned projection') +
      `; T = ${results.index.temperature} for Monte-Carlo and 1st+2nd moment (the encoder's logit scale, recorded in the index)`,
  );
  out.push(`- **Queries:** ${TYPES.map((t) => `${results.counts[t]} ${t}`).join(', ')}`);
  out.push(`- **Wall time:** ${results.wallSeconds.toFixed(1)} s (${Object.entries(results.timing).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`, '');
  out.push('## Retrieval', '');
  out.push(`| method | ${TYPES.map((t) => `${t} top-1 | ${t} top-5 | ${t} MRR`).join(' | ')} |`);
  out.push(`|---|${TYPES.map(() => '---:|---:|---:').join('|')}|`);
  for (const k of keys) {
    const cells = TYPES.flatMap((t) => {
      const r = results.sets[t]?.rows[k];
      return r ? [fmt(r.top1), fmt(r.top5), fmt(r.mrr)] : ['—', '—', '—'];
    });
    out.push(`| ${results.methods[k]} | ${cells.join(' | ')} |`);
  }
  out.push('', 'Model-as-query is scored over family membership (any other model of the same family is correct; the query model itself is not a candidate). "—": the method does not apply.', '');
  const sketch = results.sets.sketch;
  if (sketch?.byKind) {
    out.push('### Sketch queries by kind', '');
    const kinds = Object.keys(sketch.byKind);
    out.push(`| method | ${kinds.map((k) => `${k} top-1 | ${k} top-5 | ${k} MRR`).join(' | ')} |`);
    out.push(`|---|${kinds.map(() => '---:|---:|---:').join('|')}|`);
    for (const key of keys) {
      if (!sketch.rows[key]) continue;
      const cells = kinds.flatMap((k) => {
        const r = sketch.byKind![k][key];
        return r ? [fmt(r.top1), fmt(r.top5), fmt(r.mrr)] : ['—', '—', '—'];
      });
      out.push(`| ${results.methods[key]} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  if (results.fineTuned?.length) {
    out.push('## Fine-tuned projection: gain over 1st moment', '');
    out.push(`| structure | ${TYPES.map((t) => `${t} Δtop-1 | ${t} ΔMRR`).join(' | ')} | trainer held-out top-1 |`);
    out.push(`|---|${TYPES.map(() => '---:|---:').join('|')}|---|`);
    const sign = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : '—');
    for (const f of results.fineTuned) {
      const v = f.trainerValTop1 ? `${fmt(f.trainerValTop1.before)} → ${fmt(f.trainerValTop1.after)}` : '—';
      out.push(`| ${f.structure} | ${TYPES.map((t) => `${sign(f.gain[t].top1)} | ${sign(f.gain[t].mrr)}`).join(' | ')} | ${v} |`);
    }
    out.push('');
  }
  if (results.previous) out.push(...previousSection(results, keys, results.previous, 'Compared with the previous run', 'The run these results replaced'));
  if (results.baseline) out.push(...previousSection(results, keys, results.baseline, `Compared with the baseline: ${results.baseline.about}`, 'The pinned baseline run (docs/eval/baseline.json)'));
  if (results.robustness) out.push(...robustnessSection(results));
  out.push('## Style retrieval', '');
  if (results.style && 'learnedMrr' in results.style) {
    out.push(`MRR with the learned projection ${fmt(results.style.learnedMrr)}, with plain features ${fmt(results.style.plainMrr)}.`, '');
  } else {
    out.push(`Not measured: ${(results.style as { missing: string } | undefined)?.missing ?? 'no style evaluation'}.`, '');
  }
  out.push('## Targets', '');
  out.push('| status | target | value | threshold | detail |', '|---|---|---:|---:|---|');
  for (const t of results.targets) {
    out.push(`| ${t.status} | ${t.name} | ${Number.isFinite(t.value) ? t.value.toFixed(3) : 'n/a'} | ${t.op} ${t.threshold.toFixed(3)} | ${t.detail} |`);
  }
  if (results.notes.length) out.push('', '## Notes', '', ...results.notes.map((n) => `- ${n}`));
  out.push('');
  return out.join('\n');
}

/** "Compared with the previous run": old → new top-1 and MRR per query type, for the rows both runs have. */
function previousSection(results: EvalResults, keys: string[], prev: PreviousRun, title: string, what: string): string[] {
  const t = (v: number | undefined) => (v === undefined ? 'not recorded' : String(v));
  const out = [`## ${title}`, ''];
  out.push(
    `${what}: ${prev.createdAt} (\`${prev.command}\`), encoder \`${prev.encoder}\`, zoo \`${prev.zooKey}\`, ` +
      `T = ${t(prev.temperature)}; this run: T = ${results.index.temperature}. Cells are previous → this run; differences come from ` +
      'everything that changed between the two runs (code, index, temperature), not only the temperature.',
    '',
  );
  out.push(`| method | ${TYPES.map((ty) => `${ty} top-1 | ${ty} MRR`).join(' | ')} |`);
  out.push(`|---|${TYPES.map(() => '---:|---:').join('|')}|`);
  const pair = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? '—' : `${fmt(a)} → ${fmt(b)}`);
  for (const k of keys) {
    if (!TYPES.some((ty) => prev.rows[ty]?.[k])) continue;
    const cells = TYPES.flatMap((ty) => {
      const was = prev.rows[ty]?.[k];
      const now = results.sets[ty]?.rows[k];
      return was || now ? [pair(was?.top1, now?.top1), pair(was?.mrr, now?.mrr)] : ['—', '—'];
    });
    // T differs between the runs (see above): the label without it.
    out.push(`| ${results.methods[k].replace(/ \(T = [^)]*\)$/, '')} | ${cells.join(' | ')} |`);
  }
  out.push('');
  return out;
}

/** The rows of the robustness table: the clean sets (for reference) then every suite. */
function robustnessRows(results: EvalResults): { label: string; relevance: string; set: SetResult; clean: boolean }[] {
  const r = results.robustness;
  if (!r || !('suites' in r)) return [];
  return [
    { label: 'image: clean (reference)', relevance: 'the model', set: results.sets.image, clean: true },
    ...r.suites.filter((s) => s.group === 'image').map((s) => ({ label: s.label, relevance: s.relevance, set: s.result, clean: false })),
    { label: 'sketch: clean, the zoo\'s own sketch functions (reference)', relevance: 'the model', set: results.sets.sketch, clean: true },
    ...r.suites.filter((s) => s.group === 'sketch').map((s) => ({ label: s.label, relevance: s.relevance, set: s.result, clean: false })),
    { label: 'text: clean, zoo words in eval frames (reference)', relevance: 'the model', set: results.sets.text, clean: true },
    ...r.suites.filter((s) => s.group === 'text').map((s) => ({ label: s.label, relevance: s.relevance, set: s.result, clean: false })),
    { label: 'model as query, by family (reference)', relevance: 'every other model of the family', set: results.sets.model, clean: true },
    ...r.suites.filter((s) => s.group === 'model').map((s) => ({ label: s.label, relevance: s.relevance, set: s.result, clean: false })),
  ];
}

/** Which target names a suite row carries (robustnessTargets' names), by row label prefix. */
function targetsFor(label: string, targets: Target[]): Target[] {
  const names: Record<string, string[]> = {
    'image: clean (reference)': ['clean image top-1'],
    'text: clean, zoo words in eval frames (reference)': ["text in the zoo's words (clean text) top-1"],
    'text: held-out WordNet synonyms in held-out frames': ['held-out synonyms top-1', 'held-out synonyms top-5'],
    'text: one typo (clean text queries, one edit in one content word)': ['one typo top-1'],
  };
  const byPrefix: [string, string][] = [
    ['image: screenshot frame', 'screenshot frame top-1'],
    ['image: rotated 7°', 'rotation 7° top-1'],
    ['image: centre crop 70 %', 'centre crop 70 % top-1'],
    ['sketch, held-out renderer', 'held-out sketch renderer top-1'],
  ];
  const wanted = names[label] ?? byPrefix.filter(([p]) => label.startsWith(p)).map(([, n]) => n);
  return targets.filter((t) => wanted.includes(t.name));
}

const targetCell = (ts: Target[]) =>
  ts.length ? ts.map((t) => `${t.status} (${t.name.replace(/^.*(top-[15])$/, '$1')} ${t.op} ${t.threshold})`).join(', ') : '';

/** A fixed-width table of the robustness suites: top-1 per method, the Auto row's top-5 and MRR, the target. */
export function robustnessConsole(results: EvalResults): string {
  const rows = robustnessRows(results);
  const r = results.robustness as RobustnessResults;
  const keys = rowKeys(results);
  const labelW = Math.max(...rows.map((x) => x.label.length));
  const lines = [`robustness suites (held-out): top-1 per method${''}`, `${'suite'.padEnd(labelW)}  ${'n'.padStart(4)}  ${keys.map((k) => k.slice(0, 11).padStart(11)).join(' ')}  target`];
  for (const row of rows) {
    const cells = keys.map((k) => (row.set.rows[k] ? fmt(row.set.rows[k].top1) : '—').padStart(11));
    lines.push(`${row.label.padEnd(labelW)}  ${String(row.set.queries).padStart(4)}  ${cells.join(' ')}  ${targetCell(targetsFor(row.label, r.targets))}`);
  }
  return lines.join('\n');
}

/** results.md "Robustness suites (held-out)". */
function robustnessSection(results: EvalResults): string[] {
  const r = results.robustness!;
  const out = ['## Robustness suites (held-out)', ''];
  if (!('suites' in r)) return [...out, `Not measured: ${r.missing}.`, ''];
  const keys = rowKeys(results);
  const rows = robustnessRows(results);
  out.push(
    'Held-out queries next to the clean sets (reference rows), every method through rank() on the same index; how they are made and why they are held out: ' +
      '[../eval.md](../eval.md#robustness-suites-held-out). Targets (issue 12) on the Auto row. ' +
      `Held-out synonym queries: ${r.synonymCoverage.queries} of ${r.synonymCoverage.models} eval models (the others' subject or palette has no held-out WordNet synonym), ${r.synonymCoverage.withStyle} of them also name the style. ` +
      `Suites took ${r.seconds.toFixed(1)} s (perturbing, embedding, scoring).`,
    '',
  );
  out.push('### Top-1 per method', '');
  out.push(`| suite | queries | relevance | ${keys.map((k) => results.methods[k]).join(' | ')} | target |`);
  out.push(`|---|---:|---|${keys.map(() => '---:').join('|')}|---|`);
  for (const row of rows) {
    const cells = keys.map((k) => (row.set.rows[k] ? fmt(row.set.rows[k].top1) : '—'));
    out.push(`| ${row.clean ? `*${row.label}*` : row.label} | ${row.set.queries} | ${row.relevance} | ${cells.join(' | ')} | ${targetCell(targetsFor(row.label, r.targets))} |`);
  }
  out.push('', '### Top-5 / MRR / precision@5 per method', '');
  out.push('Cells: top-5 / MRR / P@5 (P@5: the share of the first five that are relevant; with one relevant model it is at most 0.2). Reference rows have no P@5.', '');
  out.push(`| suite | ${keys.map((k) => results.methods[k]).join(' | ')} |`);
  out.push(`|---|${keys.map(() => '---').join('|')}|`);
  for (const row of rows) {
    const cells = keys.map((k) => {
      const m = row.set.rows[k];
      return m ? `${fmt(m.top5)} / ${fmt(m.mrr)}${m.p5 !== undefined ? ` / ${fmt(m.p5)}` : ''}` : '—';
    });
    out.push(`| ${row.clean ? `*${row.label}*` : row.label} | ${cells.join(' | ')} |`);
  }
  for (const [prev, title, which] of [
    [results.previous, 'Compared with the previous run (Auto row)', 'Previous'],
    [results.baseline, `Compared with the baseline (Auto row): ${results.baseline?.about ?? ''}`, 'Baseline'],
  ] as const) {
    const prevSuites = prev?.suites ?? [];
    if (!prev || !prevSuites.length) continue;
    out.push('', `### ${title}`, '');
    out.push(
      `${which}: ${prev.createdAt}, encoder \`${prev.encoder}\`. Cells are then → this run; a suite whose relevance changed says so.`,
      '',
      '| suite | top-1 | top-5 | relevance |',
      '|---|---:|---:|---|',
    );
    for (const p of prevSuites) {
      const now = r.suites.find((x) => x.key === p.key);
      const auto = now?.result.rows.auto;
      const rel = now && now.relevance !== p.relevance ? `was: ${p.relevance}; now: ${now.relevance}` : p.relevance;
      out.push(`| ${now?.label ?? p.label} | ${fmt(p.top1)} → ${fmt(auto?.top1)} | ${fmt(p.top5)} → ${fmt(auto?.top5)} | ${rel} |`);
    }
    for (const s of r.suites.filter((x) => !prevSuites.some((p) => p.key === x.key)))
      out.push(`| ${s.label} | new → ${fmt(s.result.rows.auto?.top1)} | new → ${fmt(s.result.rows.auto?.top5)} | ${s.relevance} |`);
  }
  out.push('', '### Targets (issue 12)', '');
  out.push('| status | target | value | threshold | detail |', '|---|---|---:|---:|---|');
  for (const t of r.targets) out.push(`| ${t.status} | ${t.name} | ${Number.isFinite(t.value) ? t.value.toFixed(3) : 'n/a'} | ${t.op} ${t.threshold.toFixed(3)} | ${t.detail} |`);
  out.push('', '### Examples and the synonym map', '');
  for (const s of r.suites) if (s.examples?.length) out.push(`- ${s.label}: ${s.examples.map((e) => `“${e}”`).join(', ')}`);
  out.push('', '| concept | source | held-out synonyms (WordNet) |', '|---|---|---|');
  for (const e of r.synonymMap) out.push(`| ${e.kind} ${e.id} | ${e.source} | ${e.synonyms.join(', ') || '—'} |`);
  out.push('');
  return out;
}
