import { runTool, type CliRun } from '../support/cliRun.ts';
import { crash, judgeError, oneLine, silentWrong, type Verdict } from './harness.ts';

/**
 * How refusals of the real command-line tools (test/support/cliRun.ts) are judged: a non-zero exit
 * with a clear "error: …" line is a clear error; exit 0 is silent acceptance; a stack trace, a raw
 * internal message or no words is a crash.
 */

export { runTool, type CliRun };

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

/** The run's "error: …" line (the message a person reads), or null. */
export function errorLine(r: CliRun): string | null {
  return r.stderr.split('\n').find((l) => l.startsWith('error: '))?.slice('error: '.length) ?? null;
}

/**
 * Judges a run that should have been refused: non-zero exit, one "error: …" line naming `names`, no
 * stack trace. `echoed` is the person's own input quoted back ("not "NaN""): it is set aside before
 * the message is checked for leaked internal words, which it could otherwise contain.
 */
export function judgeRefusal(r: CliRun, names: (string | RegExp)[], echoed?: string): Verdict {
  if (r.code === 0) return silentWrong(`exit 0: ${oneLine(r.stdout)}`);
  if (STACK_FRAME.test(r.stderr)) return crash(`a stack trace: ${oneLine(r.stderr)}`);
  const line = errorLine(r);
  if (r.code === null) return crash('killed (no exit code)');
  if (!line) return crash(`exit ${r.code} without an "error:" line: ${oneLine(r.stderr)}`);
  const shown = echoed === undefined ? line : line.split(echoed).join('…');
  const v = judgeError(shown, names);
  return v.outcome === 'clear error' ? { ...v, detail: `exit ${r.code}: ${oneLine(line)}` } : v;
}
