/**
 * The sentences a person reads about adding and keeping their own models (in the style of
 * storageNotice.ts): progress, outcomes, and the marks on a saved model. Pure.
 */
import { AppError } from '../core/io/errors.ts';
import type { AddModelOutcome, AddModelProgress, AddModelSkip, LocalModelSummary } from '../shared/protocol.ts';

/** The browser did not grant persistent storage after the first saved model. */
export const PERSIST_DENIED = 'Your browser may delete your models when space runs low: export them to keep a copy.';
/** IndexedDB is unavailable (private mode): the model lives in the worker's memory only. */
export const SESSION_ONLY = 'It will be gone when you close this tab.';
/** What the dialog promises: nothing leaves the device. */
export const NOT_UPLOADED = 'Nothing is uploaded: the images are embedded on this device.';
/** The badge's tooltip. */
export const LOCAL_TOOLTIP = 'Added in this browser; not uploaded';

/** One line of progress: "Embedding 37 of 100…". */
export function progressText(p: AddModelProgress): string {
  switch (p.stage) {
    case 'reading':
      return `Reading ${p.done} of ${p.total}…`;
    case 'embedding':
      return `Embedding ${p.done} of ${p.total}…${p.skipped ? ` (${p.skipped} skipped)` : ''}`;
    case 'saving':
      return 'Saving…';
    case 'load':
      return 'Loading the image encoder…';
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The status line after an add: "Saved", why it was refused, or that cancelling saved nothing. */
export function outcomeText(outcome: AddModelOutcome): string {
  switch (outcome.status) {
    case 'saved': {
      const m = outcome.model;
      const skipped = outcome.skipped.length ? `; ${plural(outcome.skipped.length, 'file')} skipped` : '';
      return `Saved “${m.name}” from ${plural(m.images, 'image')}${skipped}.${m.sessionOnly ? ` ${SESSION_ONLY}` : ''}`;
    }
    case 'refused':
      return `Not added: ${outcome.reasons.join(' ') || 'the worker gave no reason.'}`;
    case 'aborted':
      return 'Cancelled: nothing was saved.';
  }
}

/** One skipped file, as a line of the report: "notes.png: could not be read as an image". */
export function skipLine(s: AddModelSkip): string {
  return `${s.name}: ${s.reason}`;
}

/** Marks of a saved model that does not rank as added (empty when it does). */
export function modelMarks(m: Pick<LocalModelSummary, 'usable' | 'shadowed' | 'sessionOnly' | 'unusableReason'>): string[] {
  const marks: string[] = [];
  if (m.shadowed) marks.push('now in this index');
  else if (!m.usable) marks.push(m.unusableReason ? `not usable with this index: ${m.unusableReason}` : 'not usable with this index');
  if (m.sessionOnly) marks.push('kept for this tab only');
  return marks;
}

/** "Remove “name”? …" for the confirmation. */
export function removeQuestion(name: string): string {
  return `Remove “${name}” from this browser? Its images are not kept anywhere else; export it first to keep a copy.`;
}

/** A failed call's words for the panel's status line. */
export function failureText(what: string, err: unknown): string {
  const message = err instanceof AppError ? err.message : '';
  return message ? `${what}: ${message}` : `${what}: the browser reported an unexpected error (details in the console).`;
}

/** Saved models whose records are damaged: left out of searches, kept in storage (never deleted silently). */
export function damagedText(count: number): string {
  return count === 1
    ? 'One of your saved models is damaged and was left out (it is still in storage).'
    : `${count} of your saved models are damaged and were left out (they are still in storage).`;
}

/**
 * The storage panel's line about damaged records: how many, or — when the store itself could not be
 * read (the worker reports that under the key "*") — that, with the browser's reason.
 */
export function damagedNotice(damaged: readonly { key: string; reason: string }[]): string {
  const unreadable = damaged.find((d) => d.key === '*');
  if (unreadable) return `Your saved models could not be read, so none joins searches now (they are read again next time): ${unreadable.reason}.`;
  return damagedText(damaged.length);
}

/** A damaged record's key as a person reads it: the model's id (its records are keyed "entry:<id>", "data:<id>"). */
export function damagedName(key: string): string {
  if (key === '*') return 'Your models';
  const m = /^(?:entry|data):(.*)$/s.exec(key);
  return m ? m[1] : key;
}

/** The confirmation before damaged records are deleted. */
export const REMOVE_DAMAGED_QUESTION = 'Remove the damaged models from this browser? They cannot be searched or exported, and their images are not kept anywhere else.';
