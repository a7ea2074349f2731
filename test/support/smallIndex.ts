import { readIndex, writeIndex, type SearchIndex } from '../../src/core/index/indexFormat.ts';
import { gaussianFactors, MomentAccumulator } from '../../src/core/index/modelStats.ts';
import { mulberry32 } from '../../src/core/math/prng.ts';
import { l2normalize } from '../../src/core/math/vectors.ts';

/**
 * A small index with every section ranking can use — means, f32 Gaussians (ε = 1e-3 requested), kept
 * samples — from clusters of unit vectors around random centres; reproducible from `seed`.
 */
export function smallIndex(opts: { seed: number; dim: number; count: number; samples: number }): { index: SearchIndex; samples: Float32Array[] } {
  const { dim, count } = opts;
  const next = mulberry32(opts.seed);
  const means = new Float32Array(count * dim);
  const precision = new Float64Array(count * ((dim * (dim + 1)) / 2));
  const epsilon = new Float32Array(count);
  const samples: Float32Array[] = [];
  for (let m = 0; m < count; m++) {
    const centre = l2normalize(Float32Array.from({ length: dim }, () => next() - 0.5));
    const acc = new MomentAccumulator(dim);
    const rows = new Float32Array(opts.samples * dim);
    for (let s = 0; s < opts.samples; s++) {
      const x = l2normalize(centre.map((v) => v + 0.3 * (next() - 0.5)));
      rows.set(x, s * dim);
      acc.add(x);
    }
    samples.push(rows);
    const mean = acc.mean();
    means.set(mean, m * dim);
    const g = gaussianFactors(mean, acc.covariance(), 1e-3);
    precision.set(g.precision, m * g.precision.length);
    epsilon[m] = g.epsilon;
  }
  const index = readIndex(writeIndex({ dim, means, gaussian: { precision, epsilon, dtype: 'f32' }, samples: { perModel: samples, dtype: 'f32' } }));
  return { index, samples };
}
