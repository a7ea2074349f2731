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
