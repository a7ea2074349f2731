/** Every failure the app can explain to a person carries a stable code and a human message. */
export type AppErrorCode =
  | 'network'
  | 'http'
  | 'integrity'
  | 'index-format'
  | 'encoder-mismatch'
  | 'encoder-unknown'
  | 'backend'
  | 'bad-query'
  /** The search worker failed to start, crashed or stopped answering (the client restarts it). */
  | 'worker';

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** What failed, e.g. a URL or a file name; shown to the user next to the message. */
  readonly subject?: string;

  constructor(code: AppErrorCode, message: string, subject?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.subject = subject;
  }
}

/** A plain, structured-clone-safe view of an error for crossing the worker boundary. */
export interface ErrorInfo {
  code: AppErrorCode | 'internal';
  message: string;
  subject?: string;
}

/**
 * Whether trying again can help: a network or server failure, a damaged download, a lost GPU or an
 * unexpected error can pass; a bad query, a malformed index or a wrong encoder stays what it is.
 */
export function isRetryable(code: ErrorInfo['code']): boolean {
  return code === 'network' || code === 'http' || code === 'integrity' || code === 'backend' || code === 'internal' || code === 'worker';
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof AppError) return { code: err.code, message: err.message, subject: err.subject };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}
