import { describe, expect, it } from 'vitest';
import { AppError } from '../core/io/errors.ts';
import type { LocalModelSummary } from '../shared/protocol.ts';
import { damagedName, damagedNotice, damagedText, failureText, modelMarks, outcomeText, progressText, skipLine } from './localModelNotice.ts';

const MODEL = { id: 'mine-1a2b3c4d', name: 'Mine', images: 31, sessionOnly: false, usable: true, shadowed: false } as LocalModelSummary;

describe('localModelNotice', () => {
  it('progress in words', () => {
    expect(progressText({ stage: 'embedding', done: 37, total: 100, skipped: 0 })).toBe('Embedding 37 of 100…');
    expect(progressText({ stage: 'embedding', done: 3, total: 10, skipped: 2 })).toBe('Embedding 3 of 10… (2 skipped)');
    expect(progressText({ stage: 'saving' })).toBe('Saving…');
  });

  it('outcomes: saved (with skips and the tab-only note), refused with reasons, cancelled', () => {
    expect(outcomeText({ status: 'saved', model: MODEL, skipped: [] })).toBe('Saved “Mine” from 31 images.');
    expect(outcomeText({ status: 'saved', model: { ...MODEL, images: 2, sessionOnly: true }, skipped: [{ name: 'a.png', reason: 'x' }] })).toBe(
      'Saved “Mine” from 2 images; 1 file skipped. It will be gone when you close this tab.',
    );
    expect(outcomeText({ status: 'refused', reasons: ['Add at least 2 images.'], skipped: [] })).toBe('Not added: Add at least 2 images.');
    expect(outcomeText({ status: 'aborted' })).toBe('Cancelled: nothing was saved.');
  });

  it('marks, skip lines and failures', () => {
    expect(modelMarks(MODEL)).toEqual([]);
    expect(modelMarks({ usable: false, shadowed: true, sessionOnly: true })).toEqual(['now in this index', 'kept for this tab only']);
    expect(modelMarks({ usable: false, shadowed: false, sessionOnly: false })).toEqual(['not usable with this index']);
    expect(modelMarks({ usable: false, shadowed: false, sessionOnly: false, unusableReason: 'made with another encoder' })).toEqual(['not usable with this index: made with another encoder']);
    expect(skipLine({ name: 'n.png', reason: 'could not be read as an image' })).toBe('n.png: could not be read as an image');
    expect(failureText('Could not rename', new AppError('backend', 'No such model.'))).toBe('Could not rename: No such model.');
    expect(failureText('Could not rename', new TypeError('x'))).toMatch(/unexpected error/);
    expect(damagedText(1)).toBe('One of your saved models is damaged and was left out (it is still in storage).');
    expect(damagedText(2)).toMatch(/^2 of your saved models are damaged/);
    expect(damagedNotice([{ key: 'entry:a', reason: 'x' }, { key: 'data:b', reason: 'y' }])).toBe(damagedText(2));
    expect(damagedNotice([{ key: '*', reason: "the browser's storage failed (UnknownError)" }])).toBe(
      "Your saved models could not be read, so none joins searches now (they are read again next time): the browser's storage failed (UnknownError).",
    );
    expect([damagedName('entry:mine-1a2b3c4d'), damagedName('data:x'), damagedName('stray'), damagedName('*')]).toEqual(['mine-1a2b3c4d', 'x', 'stray', 'Your models']);
  });
});
