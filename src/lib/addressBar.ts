/**
 * Where the search state lives between reloads: the page's address. The search manager reads and
 * writes it only through this interface, so tests give it an address in memory instead.
 */

/** A changed search is a new history entry (`push`), or replaces the current one (`replace`: embedded pages). */
export type HistoryMode = 'push' | 'replace';

export interface AddressBar {
  /** The query string, `''` or `?…` (as `location.search`). */
  readonly search: string;
  /** The whole address (as `location.href`), for links made from the search. */
  readonly href: string;
  /** Replaces the query string, keeping the path. */
  write(search: string, mode: HistoryMode): void;
}

/** The browser's address bar (`location` and `history`). */
export function browserAddressBar(): AddressBar {
  return {
    get search() {
      return location.search;
    },
    get href() {
      return location.href;
    },
    write(search, mode) {
      history[mode === 'push' ? 'pushState' : 'replaceState'](null, '', `${location.pathname}${search}`);
    },
  };
}

export interface MemoryAddressBar extends AddressBar {
  /** Every write, oldest first. */
  readonly writes: { search: string; mode: HistoryMode }[];
  /** Simulates the person editing the address or going back/forward (no write is recorded). */
  navigate(search: string): void;
}

/** An address kept in memory: a manager's default before it is attached to a page, and the tests' fake. */
export function memoryAddressBar(initial = '', base = 'http://localhost/'): MemoryAddressBar {
  let current = initial;
  const writes: { search: string; mode: HistoryMode }[] = [];
  return {
    get search() {
      return current;
    },
    get href() {
      return new URL(current, base).href;
    },
    writes,
    write(search, mode) {
      current = search;
      writes.push({ search, mode });
    },
    navigate(search) {
      current = search;
    },
  };
}
