import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { crash, judgeError, oneLine, silentWrong, type Verdict } from './harness.ts';

/**
 * The real command-line tools as child processes (what `npm run search` / `npm run build-index`
 * run), and how their refusals are judged: a non-zero exit with a clear "error: …" line is a clear
 * error; exit 0 is silent acceptance; a stack trace, a raw internal message or no words is a crash.
 */

const ROOT = join(import.meta.dirname, '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(script: 'search' | 'build-index', args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    // tsx by path: the working directory (a temp folder) has no node_modules to resolve it from.
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'tools', `${script}.ts`), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
