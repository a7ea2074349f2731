import type { MatchVerdict } from '../core/scoring/matchQuality.ts';

/**
 * The sentences a person reads when nothing matches a search (the worker sends the verdict as
 * data, see src/core/scoring/matchQuality.ts). tools/search.ts prints the same sentences; it may not
 * import src/lib, so test/unit/matchNotice.test.ts keeps the two copies equal.
 */
export const NO_INFORMATION = 'No model matches this: the encoder knows none of these words. Try other words for what the images show.';
export const WEAK_MATCH = 'No model matches this well: the best score is no better than queries without content get. Try other words, or an image.';

/** The notice for a verdict, or '' when the results match. */
export function describeMatch(match: MatchVerdict | null | undefined): string {
  switch (match?.kind) {
    case 'no-information':
      return NO_INFORMATION;
    case 'weak':
      return WEAK_MATCH;
    default:
      return '';
  }
}
