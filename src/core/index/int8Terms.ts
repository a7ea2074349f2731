import type { Int8Means } from '../scoring/prefilter.ts';

/**
 * The one check of a model's int8 prefilter terms, wherever they are read from: the int8 head's
 * sections (tieredHead.ts) or a block of codes.bin (codeBlocks.ts). Values an index must not carry:
 * a scale that is not finite and positive, a norm outside [0, 1] (embeddings are unit vectors) or
 * one that disagrees with its codes (a tiny norm would make that model's cosine huge), a mean
 * precision that is not finite and positive, a log-determinant that is not finite.
 */
export interface Int8TermNames {
  /** What the codes are called in the message, e.g. 'prefilter codes'. */
  codes: string;
  /** e.g. 'mean precision (ProxyPrecision)'. */
  precision: string;
  /** e.g. 'log-determinant (ProxyLogDet)'. */
  logDet: string;
}

/** What is wrong with row `i` (“mean norm is 7 …”), or undefined when nothing is. */
export function int8TermsProblem(means: Int8Means, precision: Float32Array, logDet: Float32Array, i: number, names: Int8TermNames): string | undefined {
  const { dim, codes } = means;
  const scale = means.scale[i]!;
  const norm = means.norms[i]!;
  if (!(Number.isFinite(norm) && norm >= 0 && norm <= 1.001)) return `mean norm is ${Number.isFinite(norm) ? norm : 'not a finite number'} (embeddings are unit vectors: it must lie in [0, 1])`;
  if (!(Number.isFinite(scale) && scale > 0)) return 'quantisation scale is not a finite positive number';
  let s = 0;
  for (let j = 0; j < dim; j++) s += codes[i * dim + j]! ** 2;
  const coded = Math.sqrt(s) * scale;
  // Within int8 rounding: each code is off by at most half a step.
  if (Math.abs(coded - norm) > 0.5 * scale * Math.sqrt(dim) + 1e-6) return `norm ${norm} does not match its ${names.codes} (${coded.toFixed(4)})`;
  if (!(Number.isFinite(precision[i]!) && precision[i]! > 0)) return `${names.precision} is not a finite positive number`;
  if (!Number.isFinite(logDet[i]!)) return `${names.logDet} is not a finite number`;
  return undefined;
}
