import { describe, expect, it } from 'vitest';
import { describeRange, escapeControls, imageFault, IMAGE_FAULTS, listWords, mustBe, quote } from './messages.ts';

describe('shared messages', () => {
  it('describe ranges and word lists', () => {
    expect(describeRange('an integer', { min: 1, max: 64 })).toBe('an integer from 1 to 64');
    expect(describeRange('a number', { positive: true })).toBe('a positive number');
    expect(describeRange('an integer', { min: 0 })).toBe('an integer ≥ 0');
    expect(listWords(['f16', 'f32'])).toBe('f16 or f32');
    expect(listWords(['a', 'b', 'c'])).toBe('one of a, b, c');
  });

  it('quote input on one line: control characters escaped, long values shortened', () => {
    expect(escapeControls('a\nb\u001b[31m\u2028')).toBe('a\\u000ab\\u001b[31m\\u2028');
    expect(quote('x'.repeat(200))).toHaveLength(82);
    expect(quote('<img src=x>')).toBe('"<img src=x>"');
  });

  it('one sentence for a bad value, whoever names it', () => {
    expect(mustBe('--k', 'an integer from 1 to 64', '0')).toBe('--k must be an integer from 1 to 64, not "0"');
    expect(mustBe('?k=', 'an integer from 1 to 64', '0')).toBe('?k= must be an integer from 1 to 64, not "0"');
  });

  it('name images', () => {
    expect(imageFault('cat.png', IMAGE_FAULTS.empty)).toBe('“cat.png” is empty.');
    expect(imageFault(null, IMAGE_FAULTS.unreadable)).toBe('This file could not be read as an image (unsupported format or damaged file).');
  });
});
