import { describe, expect, it } from 'vitest';
import { describeStorageNotice } from './storageNotice.ts';

describe('describeStorageNotice: quota', () => {
  it('names every file the quota turned away, up to three, and counts the rest', () => {
    expect(describeStorageNotice({ kind: 'quota', labels: ['CLIP text encoder'] })).toBe('Not enough browser storage to save CLIP text encoder for offline use; it will be downloaded again next time.');
    expect(describeStorageNotice({ kind: 'quota', labels: ['CLIP text encoder', 'CLIP image encoder'] })).toBe(
      'Not enough browser storage to save CLIP text encoder and CLIP image encoder for offline use; they will be downloaded again next time.',
    );
    expect(describeStorageNotice({ kind: 'quota', labels: ['a', 'b', 'c', 'd', 'e'] })).toBe('Not enough browser storage to save a, b, c and 2 more files for offline use; they will be downloaded again next time.');
    expect(describeStorageNotice({ kind: 'quota', labels: ['a', 'b', 'c', 'd'] })).toContain('a, b, c and 1 more file for');
  });
});
