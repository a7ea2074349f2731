import { describe, expect, it } from 'vitest';
import { formatBytes, formatBytesOf } from './format.ts';

describe('byte formats', () => {
  it('formatBytes picks the unit of the number', () => {
    expect([0, 1023, 1536, 5 * 1024 * 1024].map(formatBytes)).toEqual(['0 B', '1023 B', '1.5 kB', '5.0 MB']);
  });

  it('formatBytesOf writes both numbers in the unit of the whole', () => {
    const MB = 1024 * 1024;
    expect(formatBytesOf(12.3 * MB, 27 * MB)).toBe('12.3 of 27.0 MB');
    expect(formatBytesOf(0, 27 * MB)).toBe('0.0 of 27.0 MB');
    expect(formatBytesOf(200 * 1024, MB)).toBe('0.2 of 1.0 MB');
    expect(formatBytesOf(448 * 1024, 513 * 1024)).toBe('448.0 of 513.0 kB');
    expect(formatBytesOf(12, 806)).toBe('12 of 806 B');
  });
});
