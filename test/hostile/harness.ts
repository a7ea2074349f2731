import type { Browser } from '@playwright/test';

/**
 * The hostile-input suite: every case feeds the product something a careless or malicious party
 * could hand it, and says what happened, in one of the outcomes the table counts.
 *
 * - clear error: refused, with a message a person can act on (it names what was wrong);
 * - handled: accepted, and the result was checked against what it should be;
 * - crash: an unexpected exception, a raw internal message, a stack trace, a non-zero exit without words;
 * - hang: no answer within the case's time limit (the runner decides this, not the case);
 * - silent wrong: accepted, but the result differs from the truth with no word to the user;
 * - data lost: something that was stored or published before is gone or damaged afterwards.
 */
export type Outcome = 'clear error' | 'handled' | 'crash' | 'hang' | 'silent wrong' | 'data lost';
export const OUTCOMES: readonly Outcome[] = ['clear error', 'handled', 'crash', 'hang', 'silent wrong', 'data lost'];
/** Outcomes that fail the suite. */
export const BAD_OUTCOMES: ReadonlySet<Outcome> = new Set(['crash', 'hang', 'silent wrong', 'data lost']);

export type Group =
  | 'index file'
  | 'manifest'
  | 'builder input'
  | 'CLI argument'
  | 'URL parameter'
  | 'embed message'
  | 'storage fault'
  | 'worker fault'
  | 'network'
  | 'policy'
  | 'query'
  | 'image';

export interface Verdict {
  outcome: Outcome;
  /** What was seen: the message shown, or what was checked. */
  detail: string;
}

export interface HostileContext {
  /** The shared Chromium (wasm project); cases that need a page open their own context and close it. */
  browser: Browser;
  /** The preview server's address of the built app, ending in '/'. */
  baseURL: string;
  /** A fresh empty folder for this case's files. */
  tmp: string;
}

export interface HostileCase {
  group: Group;
  /** One line: what is fed in. */
  name: string;
  /** Set when the case reproduces a finding of the probe quoted in issue 14. */
  finding?: boolean;
  /** Past this, the runner records a hang (default 30 s). */
  timeoutMs?: number;
  run(ctx: HostileContext): Promise<Verdict>;
}

export const clearError = (detail: string): Verdict => ({ outcome: 'clear error', detail });
export const handled = (detail: string): Verdict => ({ outcome: 'handled', detail });
export const crash = (detail: string): Verdict => ({ outcome: 'crash', detail });
export const silentWrong = (detail: string): Verdict => ({ outcome: 'silent wrong', detail });
export const dataLost = (detail: string): Verdict => ({ outcome: 'data lost', detail });

/** Words that betray an internal failure leaking to the user instead of an explanation. */
const RAW = [
  /\bSyntaxError\b/,
  /\bTypeError\b/,
  /\bRangeError\b/,
  /\bReferenceError\b/,
  /Cannot read propert/i,
  /is not a function/,
  /\bundefined\b/,
  /\bNaN\b/,
  /Unexpected token/,
  /^\s+at .+:\d+:\d+\)?$/m, // a stack frame
  /Failed to construct/,
];

/** Whether a message reads as an explanation rather than a leaked internal error. */
export function isClearMessage(message: string): boolean {
  return message.trim().length >= 12 && !RAW.some((r) => r.test(message));
}

/**
 * Classifies a refusal: clear when the message has no internal words and mentions every `names`
 * item (the file, model, parameter or field at fault, case-insensitive), else a crash.
 */
export function judgeError(message: string, names: (string | RegExp)[] = []): Verdict {
  const missing = names.filter((n) => (typeof n === 'string' ? !message.toLowerCase().includes(n.toLowerCase()) : !n.test(message)));
  if (!isClearMessage(message)) return crash(`unclear message: ${oneLine(message)}`);
  if (missing.length) return crash(`message does not name ${missing.map(String).join(', ')}: ${oneLine(message)}`);
  return clearError(oneLine(message));
}

/**
 * Runs `fn`, expecting a refusal: a thrown error judged by judgeError. If `fn` returns instead, its
 * value goes to `accepted`, which decides between handled and silent wrong (default: silent wrong).
 */
export async function expectRefusal<T>(
  fn: () => T | Promise<T>,
  names: (string | RegExp)[] = [],
  accepted: (value: T) => Verdict = () => silentWrong('accepted without a word'),
): Promise<Verdict> {
  let value: T;
  try {
    value = await fn();
  } catch (err) {
    return judgeError(errorText(err), names);
  }
  return accepted(value);
}

export function oneLine(s: string, max = 200): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/**
 * An error as the app shows it: the message, and the subject (the file or URL at fault) that the
 * banner and the CLI print beside it.
 */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const subject = (err as { subject?: unknown }).subject;
  return typeof subject === 'string' && subject ? `${err.message} [${subject}]` : err.message;
}
