import { mkdirSync, writeFileSync } from 'node:fs';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { OUTCOMES, type Outcome } from './harness.ts';
import { HOSTILE_ANNOTATION, type CaseRecord } from './runner.ts';

/**
 * Prints the hostile suite's table (tried / clear error / handled / crash / hang / silent wrong /
 * data lost, per group and in total) and writes it to test-results/hostile.{json,md}. Silent when
 * no hostile case ran. A case the runner could not judge (killed by the test timeout, or failing
 * before its verdict) counts as a hang or a crash.
 */
export default class HostileTableReporter implements Reporter {
  private records: CaseRecord[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    const note = result.annotations.find((a) => a.type === HOSTILE_ANNOTATION) ?? test.annotations.find((a) => a.type === HOSTILE_ANNOTATION);
    if (note?.description) {
      this.records.push(JSON.parse(note.description) as CaseRecord);
      return;
    }
    if (!test.location.file.includes('/test/hostile/')) return;
    const [group, name] = test.title.split(' · ');
    const outcome: Outcome = result.status === 'timedOut' ? 'hang' : 'crash';
    this.records.push({ group: group ?? '?', name: name ?? test.title, finding: false, outcome, detail: result.error?.message ?? result.status });
  }

  onEnd(_result: FullResult): void {
    if (this.records.length === 0) return;
    const groups = [...new Set(this.records.map((r) => r.group))];
    const header = ['group', 'tried', ...OUTCOMES];
    const row = (label: string, rs: CaseRecord[]) => [label, String(rs.length), ...OUTCOMES.map((o) => String(rs.filter((r) => r.outcome === o).length))];
    const rows = [...groups.map((g) => row(g, this.records.filter((r) => r.group === g))), row('total', this.records)];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    const lines = ['', 'Hostile-input suite', fmt(header), ...rows.map(fmt)];
    const bad = this.records.filter((r) => r.outcome !== 'clear error' && r.outcome !== 'handled');
    for (const r of bad) lines.push(`  ${r.outcome.toUpperCase()}: ${r.group} · ${r.name}: ${r.detail}`);
    const findings = this.records.filter((r) => r.finding);
    lines.push(`Probe findings of issue 14 among them: ${findings.length} (${findings.filter((r) => r.outcome === 'clear error' || r.outcome === 'handled').length} now refused clearly or handled).`);
    console.log(lines.join('\n'));

    const md = [
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      '| group | case | outcome | what was seen |',
      '|---|---|---|---|',
      ...this.records.map((r) => `| ${r.group} | ${r.finding ? '**probe** ' : ''}${esc(r.name)} | ${r.outcome} | ${esc(r.detail)} |`),
    ].join('\n');
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/hostile.json', JSON.stringify(this.records, null, 2));
    writeFileSync('test-results/hostile.md', `${md}\n`);
  }
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
