import { describe, expect, it } from 'vitest';
import { AppError, isRetryable, toErrorInfo } from './errors.ts';

describe('isRetryable', () => {
  it('offers a retry only where trying again can help', () => {
    for (const code of ['network', 'http', 'integrity', 'backend', 'internal'] as const) expect(isRetryable(code), code).toBe(true);
    for (const code of ['bad-query', 'index-format', 'encoder-mismatch', 'encoder-unknown'] as const) expect(isRetryable(code), code).toBe(false);
  });

  it('keeps the code of an AppError and calls anything else internal', () => {
    expect(toErrorInfo(new AppError('bad-query', 'no', 'x.txt'))).toEqual({ code: 'bad-query', message: 'no', subject: 'x.txt' });
    expect(toErrorInfo(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
  });
});
