/**
 * Every search default, in one place: the app, the embed, the CLI and the eval read these.
 * (The temperature T is not here: it belongs to the encoder — EncoderDescriptor.logitScale — and
 * each index records the value it was built for.)
 */
export const SEARCH_DEFAULTS: Readonly<{ k: number; maxK: number; imageWeight: number; hybridWeight: number; topK: number }> = {
  /** k of best-k: the mean of the 3 closest samples is steadier than the single closest. */
  k: 3,
  /** Largest k a query may ask for. */
  maxK: 64,
  /** Weight of the image in a text + image query (the text gets 1 − this). */
  imageWeight: 0.5,
  /** Weight of metadata text relevance in hybrid mode; 0 = content only. */
  hybridWeight: 0,
  /** Results returned per query. */
  topK: 24,
};

/**
 * The entries of `o` that are not undefined, so `{ ...defaults, ...definedOnly(given) }` keeps a
 * default where the caller passed `{ k: undefined }` (optional flags, URL fields).
 */
export function definedOnly<T extends object>(o: T): DefinedOnly<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as DefinedOnly<T>;
}

/** `T` with its possibly-undefined fields made optional and never undefined; the others as they are. */
export type DefinedOnly<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};
