import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { BAD_OUTCOMES, crash, oneLine, type HostileCase, type Verdict } from './harness.ts';

export const HOSTILE_ANNOTATION = 'hostile';

/** What the table reporter reads from each case's annotation. */
export interface CaseRecord extends Verdict {
  group: string;
  name: string;
  finding: boolean;
}

/**
 * Declares one Playwright test per case. The case runs against a time limit of its own (a hang is an
 * outcome, not a test-runner timeout); whatever it throws is a crash. The verdict is attached to the
 * test for the table reporter, and a bad outcome fails the test.
 */
export function defineHostileCases(cases: HostileCase[]): void {
  for (const c of cases) {
    test(`${c.group} · ${c.name}`, async ({ browser, baseURL }, info) => {
      const limit = c.timeoutMs ?? 30_000;
      test.setTimeout(limit + 30_000);
      const tmp = mkdtempSync(join(tmpdir(), 'hostile-'));
      let timer: ReturnType<typeof setTimeout> | undefined;
      let verdict: Verdict;
      try {
        verdict = await Promise.race([
          c.run({ browser, baseURL: baseURL ?? 'http://127.0.0.1:4173/', tmp }),
          new Promise<Verdict>((resolve) => {
            timer = setTimeout(() => resolve({ outcome: 'hang', detail: `no answer within ${limit / 1000} s` }), limit);
          }),
        ]);
      } catch (err) {
        verdict = crash(`the case threw: ${oneLine(err instanceof Error ? err.message : String(err))}`);
      } finally {
        clearTimeout(timer);
        rmSync(tmp, { recursive: true, force: true });
      }
      const record: CaseRecord = { group: c.group, name: c.name, finding: c.finding ?? false, ...verdict };
      info.annotations.push({ type: HOSTILE_ANNOTATION, description: JSON.stringify(record) });
      expect(BAD_OUTCOMES.has(verdict.outcome), `${verdict.outcome}: ${verdict.detail}`).toBe(false);
    });
  }
}
