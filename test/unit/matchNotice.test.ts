/**
 * The CLI (tools/search.ts) prints the same "nothing matches" sentences as the app's notice
 * (src/lib/matchNotice.ts). Tools may not import src/lib (`npm run check`), and tools/search.ts runs
 * its command on import, so its source text is read and its two string constants compared.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { describeMatch, NO_INFORMATION, WEAK_MATCH } from '../../src/lib/matchNotice.ts';

const CLI = new URL('../../tools/search.ts', import.meta.url);

/** The value of `const NAME = '…';` in a source text (a plain single-quoted literal). */
function constant(source: string, name: string): string | undefined {
  const m = source.match(new RegExp(`\\bconst ${name}\\s*=\\s*'((?:[^'\\\\\\n]|\\\\.)*)';`));
  return m ? JSON.parse(`"${m[1].replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) : undefined;
}

describe('the "nothing matches" sentences', () => {
  it('are the same in the CLI and the app', async () => {
    const source = await readFile(CLI, 'utf8');
    expect(constant(source, 'NO_INFORMATION')).toBe(NO_INFORMATION);
    expect(constant(source, 'WEAK_MATCH')).toBe(WEAK_MATCH);
  });

  it('the app picks them by verdict, and says nothing when the results match', () => {
    expect(describeMatch({ kind: 'no-information', best: 0 })).toBe(NO_INFORMATION);
    expect(describeMatch({ kind: 'weak', best: 0.1, threshold: 0.2 })).toBe(WEAK_MATCH);
    expect(describeMatch({ kind: 'ok', best: 0.9, threshold: 0.2 })).toBe('');
    expect(describeMatch(null)).toBe('');
  });
});
