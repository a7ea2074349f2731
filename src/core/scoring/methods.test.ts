import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../io/errors.ts';
import { readIndex, writeIndex, type IndexInput, type SearchIndex } from '../index/indexFormat.ts';
import { packedSize } from '../math/linalg.ts';
import {
  METHOD_INFO,
  autoMethod,
  mahalanobis,
  modelSimilarityScores,
  productOfExperts,
  scoreMethod,
  supportedMethods,
  validateParams,
  type Method,
  type MethodParams,
} from './methods.ts';
import { MomentAccumulator, gaussianFactors } from '../index/modelStats.ts';
import { topK } from './topK.ts';
import { styleDistanceScores } from './styleDistance.ts';
import { mulberry32 as rng } from '../math/prng.ts';

// Expectations come from tools/reference/make_method_fixtures.py (numpy / scipy, float64).
// Regenerate with: /usr/bin/python3 tools/reference/make_method_fixtures.py
// The test builds every statistic itself from the stored sample embeddings, through the whole
// chain MomentAccumulator → gaussianFactors → writeIndex → readIndex → scoreMethod.

interface Expected {
  gaussian: number[];
  firstMoment: number[];
  monteCarlo: number[];
  best1: number[];
  best3: number[];
  firstSecond: number[];
  fsVar: number[];
  fsMean: number[];
  fineTuned: number[];
}
interface Config {
  name: string;
  dim: number;
  count: number;
  degenerate: number[];
  sampleCounts: number[];
  samples: string[];
  queries: string;
  queryKinds: string[];
  projection: string;
  means: number[][];
  covModels: number[];
  covariances: number[][];
  logDet: number[];
  rank: number[];
  modelQuery: number[][];
  expected: Expected[];
  poe: { a: number; b: number; scores: number[] }[];
}
interface Fixture {
  epsilon: number;
  temperature: number;
  poeWeights: [number, number];
  gdMinGap: number;
  configs: Config[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/methods-cases.json', import.meta.url), 'utf8'),
) as Fixture;

function f32FromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function gaussianNoise(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** Reference ranking: stable sort by score descending, ties by lower index. */
function expectedTop(scores: number[], k: number): number[] {
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k)
    .map((r) => r.index);
}

// Largest error seen per method, printed once at the end (the numbers quoted in reviews).
const measured = new Map<string, number>();
function record(label: string, err: number): void {
  measured.set(label, Math.max(measured.get(label) ?? 0, err));
}
afterAll(() => {
  const lines = [...measured].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
  console.log(`max errors vs numpy/scipy:\n${lines.join('\n')}`);
});

interface Built {
  cfg: Config;
  perModel: Float32Array[];
  queries: Float32Array[];
  projection: Float32Array;
  means: Float32Array;
  meansF64: Float64Array[];
  covariances: Float64Array[];
  precision: Float64Array;
  logDet: Float64Array;
  epsilon: Float32Array;
  jitterSteps: number[];
}

function build(cfg: Config): Built {
  const { dim, count } = cfg;
  const P = packedSize(dim);
  const perModel = cfg.samples.map(f32FromBase64);
  const allQ = f32FromBase64(cfg.queries);
  const queries = cfg.expected.map((_, i) => allQ.slice(i * dim, (i + 1) * dim));
  const means = new Float32Array(count * dim);
  const precision = new Float64Array(count * P);
  const logDet = new Float64Array(count);
  const epsilon = new Float32Array(count);
  const meansF64: Float64Array[] = [];
  const covariances: Float64Array[] = [];
  const jitterSteps: number[] = [];
  for (let m = 0; m < count; m++) {
    const acc = new MomentAccumulator(dim);
    const x = perModel[m];
    for (let s = 0; s < x.length / dim; s++) acc.add(x.subarray(s * dim, (s + 1) * dim));
    const mean = acc.mean();
    const cov = acc.covariance();
    const f = gaussianFactors(mean, cov, fixture.epsilon);
    meansF64.push(mean);
    covariances.push(cov);
    means.set(mean, m * dim);
    precision.set(f.precision, m * P);
    logDet[m] = f.logDet;
    epsilon[m] = f.epsilon;
    jitterSteps.push(f.jitterSteps);
  }
  return { cfg, perModel, queries, projection: f32FromBase64(cfg.projection), means, meansF64, covariances, precision, logDet, epsilon, jitterSteps };
}

interface IndexOptions {
  precision?: 'f32' | 'f16' | false;
  samples?: 'f32' | 'f16' | false;
  projection?: boolean;
}

function makeIndex(b: Built, o: IndexOptions): SearchIndex {
  const input: IndexInput = { dim: b.cfg.dim, means: b.means };
  if (o.precision)
    input.gaussian = { precision: b.precision, epsilon: b.epsilon, dtype: o.precision };
  if (o.samples) input.samples = { perModel: b.perModel, dtype: o.samples };
  if (o.projection) input.projection = b.projection;
  return readIndex(writeIndex(input));
}

const ALL_METHODS = Object.keys(METHOD_INFO) as Method[];

/** `fn` must throw AppError('bad-query') with a message matching `pattern`. */
function expectBadQuery(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an AppError').toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('bad-query');
  expect((caught as AppError).message).toMatch(pattern);
}

for (const cfg of fixture.configs) {
  describe(`${cfg.name} (d=${cfg.dim}, ${cfg.count} models)`, () => {
    const b = build(cfg);
    const { dim, count } = cfg;
    const full32 = makeIndex(b, { precision: 'f32', samples: 'f32', projection: true });
    const full16 = makeIndex(b, { precision: 'f16', samples: 'f16', projection: true });
    const T = fixture.temperature;

    it('has models with N < d, N > d and a rank-deficient covariance', () => {
      expect(cfg.sampleCounts.some((n) => n < dim)).toBe(true);
      expect(cfg.sampleCounts.some((n) => n > dim)).toBe(true);
      for (const m of cfg.degenerate) {
        expect(cfg.sampleCounts[m]).toBeGreaterThan(dim);
        expect(cfg.rank[m]).toBeLessThan(dim / 2);
      }
      expect(b.queries.every((q) => q.length === dim)).toBe(true);
      expect(cfg.queryKinds.filter((k) => k === 'random').length).toBeGreaterThan(0);
    });

    it('MomentAccumulator mean and unbiased covariance match numpy (np.cov)', () => {
      let errMean = 0;
      for (let m = 0; m < count; m++) for (let j = 0; j < dim; j++) errMean = Math.max(errMean, Math.abs(b.meansF64[m][j] - cfg.means[m][j]));
      let errCov = 0;
      cfg.covModels.forEach((m, i) => {
        for (let j = 0; j < dim * dim; j++) errCov = Math.max(errCov, Math.abs(b.covariances[m][j] - cfg.covariances[i][j]));
      });
      record('mean (abs)', errMean);
      record('covariance (abs)', errCov);
      expect(errMean).toBeLessThan(1e-14);
      expect(errCov).toBeLessThan(1e-14);
    });

    it('gaussianFactors: log|Σ+εI| matches slogdet, ε = 1e-3 with no jitter (also for the degenerate model)', () => {
      let err = 0;
      for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(b.logDet[m] - cfg.logDet[m]) / Math.abs(cfg.logDet[m]));
      record('logDet (rel)', err);
      expect(err).toBeLessThan(1e-10);
      expect(b.jitterSteps.every((s) => s === 0)).toBe(true);
      expect(Array.from(b.epsilon)).toEqual(new Array(count).fill(Math.fround(fixture.epsilon)));
    });

    it('Gaussian density with fp32 factors matches scipy logpdf to 1e-4 relative', () => {
      let err = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full32, 'gaussian', b.queries[qi]);
        for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(s[m] - e.gaussian[m]) / Math.abs(e.gaussian[m]));
        expect(topK(s, 10).map((r) => r.index)).toEqual(expectedTop(e.gaussian, 10));
      });
      record('gaussian fp32 factors (rel)', err);
      expect(err).toBeLessThan(1e-4);
    });

    it('Gaussian density with fp16 factors gives the same top 10 as scipy', () => {
      // The fixture's queries keep neighbouring top-11 scores ≥ gdMinGap apart. scipy scores the
      // unrounded Gaussian; the fp16 index scores the Gaussian its rounded factor defines (b and the
      // log-determinant are derived from the stored factor: docs/index-format.md), which moves the
      // Mahalanobis term by up to ~2⁻¹¹ relative (0.065 nats on these top 10s). The top 10 must
      // equal scipy's (checked per query) and the shift stay below the gap. Exactness against the
      // stored Gaussian itself is test/unit/methodsReference.test.ts.
      let err = 0;
      let errTop = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full16, 'gaussian', b.queries[qi]);
        const top = expectedTop(e.gaussian, 10);
        for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(s[m] - e.gaussian[m]) / Math.abs(e.gaussian[m]));
        for (const m of top) errTop = Math.max(errTop, Math.abs(s[m] - e.gaussian[m]));
        expect(topK(s, 10).map((r) => r.index), `query ${qi} (${cfg.queryKinds[qi]})`).toEqual(top);
      });
      record('gaussian fp16 factors (rel, informative)', err);
      record('gaussian fp16 factors, top 10 (abs nats)', errTop);
      expect(errTop).toBeLessThan(fixture.gdMinGap);
    });

    it('the portable JS Mahalanobis loop (the fallback without WASM SIMD) agrees with scipy and with scoreMethod', () => {
      const c = 0.5 * dim * Math.log(2 * Math.PI);
      let err = 0;
      let diff = 0;
      for (const index of [full32, full16]) {
        const g = index.gaussian!;
        cfg.expected.forEach((e, qi) => {
          const maha = mahalanobis(g.precision, g.bias, dim, count, b.queries[qi]);
          const s = Float32Array.from(maha, (v, m) => -0.5 * v - 0.5 * g.logDet[m] - c);
          const fast = scoreMethod(index, 'gaussian', b.queries[qi]);
          for (let m = 0; m < count; m++) {
            diff = Math.max(diff, Math.abs(s[m] - fast[m]) / Math.abs(fast[m]));
            if (index === full32) err = Math.max(err, Math.abs(s[m] - e.gaussian[m]) / Math.abs(e.gaussian[m]));
          }
          expect(topK(s, 10).map((r) => r.index)).toEqual(expectedTop(e.gaussian, 10));
        });
      }
      record('gaussian JS loop fp32 (rel)', err);
      record('gaussian JS loop vs scoreMethod path (rel)', diff);
      expect(err).toBeLessThan(1e-4);
      expect(diff).toBeLessThan(1e-4);
    });

    it('Monte-Carlo with f32 samples matches numpy logsumexp to 1e-4 absolute', () => {
      let err = 0;
      let err16 = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full32, 'monte-carlo', b.queries[qi], { temperature: 100 });
        const s16 = scoreMethod(full16, 'monte-carlo', b.queries[qi], { temperature: T });
        for (let m = 0; m < count; m++) {
          err = Math.max(err, Math.abs(s[m] - e.monteCarlo[m]));
          err16 = Math.max(err16, Math.abs(s16[m] - e.monteCarlo[m]));
        }
      });
      record('monte-carlo f32 samples (abs)', err);
      record('monte-carlo f16 samples (abs, informative)', err16);
      expect(err).toBeLessThan(1e-4);
      // fp16 samples: |Δx| ≤ 2^-11 per coordinate → |Δ(T qᵀx)| ≤ T·2^-11·‖q‖₁.
      expect(err16).toBeLessThan((T * Math.sqrt(dim)) / 2048);
    });

    it('Monte-Carlo honours a custom temperature', () => {
      const q = b.queries[0];
      const s = scoreMethod(full32, 'monte-carlo', q, { temperature: 7 });
      for (let m = 0; m < count; m++) {
        const x = b.perModel[m];
        const n = x.length / dim;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          let d = 0;
          for (let j = 0; j < dim; j++) d += x[i * dim + j] * q[j];
          sum += Math.exp(7 * d);
        }
        expect(Math.abs(s[m] - Math.log(sum / n))).toBeLessThan(1e-5);
      }
    });

    it('best-k (k = 1 and 3) matches numpy', () => {
      let err = 0;
      cfg.expected.forEach((e, qi) => {
        const q = b.queries[qi];
        const s1 = scoreMethod(full32, 'best-k', q, { k: 1 });
        const s3 = scoreMethod(full32, 'best-k', q, { k: 3 });
        // The default k is SEARCH_DEFAULTS.k = 3, as in the app and the CLI.
        expect(scoreMethod(full32, 'best-k', q)).toEqual(s3);
        for (let m = 0; m < count; m++) {
          err = Math.max(err, Math.abs(s1[m] - e.best1[m]), Math.abs(s3[m] - e.best3[m]));
          expect(s3[m]).toBeLessThanOrEqual(s1[m]);
        }
      });
      record('best-k k=1,3 (abs)', err);
      expect(err).toBeLessThan(1e-6);
    });

    it('best-k clamps k to the sample count (k ≥ N is the mean of all qᵀx_i) and rejects k < 1 and a fractional k', () => {
      const q = b.queries[1];
      const all = scoreMethod(full32, 'best-k', q, { k: 1e6 });
      // A fractional k is refused as the message says (it used to be floored silently).
      for (const k of [0, 0.5, 0.999, -1, 1.5, 2.7]) expectBadQuery(() => scoreMethod(full32, 'best-k', q, { k }), /k must be a whole number of at least 1/);
      const k2 = scoreMethod(full32, 'best-k', q, { k: 2 });
      expect(k2).not.toEqual(scoreMethod(full32, 'best-k', q, { k: 3 }));
      const fm = scoreMethod(full32, 'first-moment', q);
      for (let m = 0; m < count; m++) {
        // mean_i qᵀx_i = qᵀμ = |μ| cos(q, μ)
        expect(all[m]).toBeCloseTo(fm[m] * full32.norms[m], 5);
      }
    });

    it('1st moment matches numpy cos(q, μ/|μ|)', () => {
      let err = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full32, 'first-moment', b.queries[qi]);
        for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(s[m] - e.firstMoment[m]));
      });
      record('first-moment (abs)', err);
      expect(err).toBeLessThan(1e-6);
    });

    it('1st+2nd moment matches ½T²qᵀΣq + T qᵀμ (Σ without ε) to 1e-4 relative', () => {
      let err = 0;
      let err16 = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full32, 'first-second-moment', b.queries[qi], { temperature: 100 });
        const s16 = scoreMethod(full16, 'first-second-moment', b.queries[qi], { temperature: 100 });
        for (let m = 0; m < count; m++) {
          // The two terms can have opposite signs: measure against their magnitudes.
          const scale = Math.abs(e.fsVar[m]) + Math.abs(e.fsMean[m]);
          err = Math.max(err, Math.abs(s[m] - e.firstSecond[m]) / scale);
          err16 = Math.max(err16, Math.abs(s16[m] - e.firstSecond[m]) / scale);
        }
      });
      record('first-second-moment fp32 (rel)', err);
      record('first-second-moment fp16 (rel, informative)', err16);
      expect(err).toBeLessThan(1e-4);
    });

    it('model as query matches numpy cos(μ_a, μ_b)', () => {
      let err = 0;
      for (let a = 0; a < count; a++) {
        const s = modelSimilarityScores(full32, a);
        for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(s[m] - cfg.modelQuery[a][m]));
        expect(topK(s, 1)[0].index).toBe(a);
      }
      record('model-as-query (abs)', err);
      expect(err).toBeLessThan(1e-6);
      for (const bad of [-1, count, NaN]) expect(() => modelSimilarityScores(full32, bad)).toThrow(/no model number/);
    });

    // A non-integer model number would mix two models' means (slice(a·dim, (a+1)·dim)).
    it('model as query rejects a non-integer model number', () => {
      for (const a of [0.5, 1e-9, count - 0.5]) expectBadQuery(() => modelSimilarityScores(full32, a), /no model number/);
    });

    it('fine-tuned 1st moment matches numpy cos(Pq, Pμ)', () => {
      let err = 0;
      cfg.expected.forEach((e, qi) => {
        const s = scoreMethod(full32, 'fine-tuned', b.queries[qi]);
        for (let m = 0; m < count; m++) err = Math.max(err, Math.abs(s[m] - e.fineTuned[m]));
      });
      record('fine-tuned (abs)', err);
      expect(err).toBeLessThan(1e-5);
    });

    it('product of experts = 0.7·GD(q_a) + 0.3·GD(q_b)', () => {
      let err = 0;
      for (const p of cfg.poe) {
        const sa = scoreMethod(full32, 'gaussian', b.queries[p.a]);
        const sb = scoreMethod(full32, 'gaussian', b.queries[p.b]);
        const s = productOfExperts([
          { scores: sa, weight: fixture.poeWeights[0] },
          { scores: sb, weight: fixture.poeWeights[1] },
        ]);
        // GD scores can have either sign, so the sum can cancel: measure against 0.7|a| + 0.3|b|.
        const ea = cfg.expected[p.a].gaussian;
        const eb = cfg.expected[p.b].gaussian;
        for (let m = 0; m < count; m++) {
          const scale = fixture.poeWeights[0] * Math.abs(ea[m]) + fixture.poeWeights[1] * Math.abs(eb[m]);
          err = Math.max(err, Math.abs(s[m] - p.scores[m]) / scale);
        }
      }
      record('product of experts (rel)', err);
      expect(err).toBeLessThan(1e-4);
    });

    it('supportedMethods lists exactly what the index has', () => {
      expect(supportedMethods(full32)).toEqual(['fine-tuned', 'gaussian', 'first-moment', 'monte-carlo', 'best-k', 'first-second-moment']);
      expect(supportedMethods(makeIndex(b, {}))).toEqual(['first-moment']);
      expect(supportedMethods(makeIndex(b, { precision: 'f16' }))).toEqual(['gaussian', 'first-moment', 'first-second-moment']);
      expect(supportedMethods(makeIndex(b, { samples: 'f16' }))).toEqual(['first-moment', 'monte-carlo', 'best-k']);
      expect(supportedMethods(makeIndex(b, { projection: true }))).toEqual(['fine-tuned', 'first-moment']);
      // Every listed method scores; every other one throws.
      for (const opts of [{}, { precision: 'f32' as const }, { samples: 'f32' as const }, { projection: true }]) {
        const idx = makeIndex(b, opts);
        const ok = supportedMethods(idx);
        for (const method of ALL_METHODS) {
          if (ok.includes(method)) expect(scoreMethod(idx, method, b.queries[0], { temperature: 100 })).toHaveLength(count);
          else expect(() => scoreMethod(idx, method, b.queries[0], { temperature: 100 })).toThrow(Error);
        }
      }
    });

    it('a method whose section is missing throws a clear Error', () => {
      const meansOnly = makeIndex(b, {});
      const q = b.queries[0];
      expect(() => scoreMethod(meansOnly, 'gaussian', q)).toThrow(/no Gaussian statistics/);
      expect(() => scoreMethod(meansOnly, 'first-second-moment', q, { temperature: 100 })).toThrow(/no Gaussian statistics/);
      expect(() => scoreMethod(meansOnly, 'monte-carlo', q, { temperature: 100 })).toThrow(/keeps no sample embeddings/);
      expect(() => scoreMethod(meansOnly, 'best-k', q)).toThrow(/keeps no sample embeddings/);
      expect(() => scoreMethod(meansOnly, 'fine-tuned', q)).toThrow(/no fine-tuned projection/);
      expect(() => scoreMethod(full32, 'gaussian', q.subarray(1))).toThrow(/query has \d+ dimensions, the index \d+/);
    });

    it('is NaN-free and finite for random, zero and huge-magnitude queries', () => {
      const next = rng(cfg.dim * 7919 + count);
      const queries: [string, Float32Array][] = [['zero', new Float32Array(dim)]];
      for (let i = 0; i < 12; i++) {
        const q = Float32Array.from({ length: dim }, () => gaussianNoise(next));
        let n = 0;
        for (const v of q) n += v * v;
        const unit = q.map((v) => v / Math.sqrt(n));
        queries.push([`unit ${i}`, unit], [`raw ${i}`, q], [`unit×1e3 ${i}`, unit.map((v) => v * 1e3)]);
      }
      queries.push(['one-hot', Float32Array.from({ length: dim }, (_, j) => (j === 0 ? 1 : 0))]);
      for (const index of [full32, full16]) {
        for (const [label, q] of queries) {
          for (const method of supportedMethods(index)) {
            for (const params of [{ temperature: 100 }, { k: 3, temperature: 100 }, { temperature: 1 }]) {
              const s = scoreMethod(index, method, q, params);
              const bad = Array.from(s).findIndex((v) => !Number.isFinite(v));
              expect(bad, `${method} ${JSON.stringify(params)} on ${label}: score[${bad}] = ${s[bad]}`).toBe(-1);
            }
          }
        }
      }
      // The zero query has well-defined limits.
      const z = new Float32Array(dim);
      expect(Array.from(scoreMethod(full32, 'first-moment', z))).toEqual(new Array(count).fill(0));
      expect(Array.from(scoreMethod(full32, 'fine-tuned', z))).toEqual(new Array(count).fill(0));
      expect(Array.from(scoreMethod(full32, 'monte-carlo', z, { temperature: 100 }))).toEqual(new Array(count).fill(0));
      expect(Array.from(scoreMethod(full32, 'first-second-moment', z, { temperature: 100 }))).toEqual(new Array(count).fill(0));
    });

    // Unvalidated parameters used to poison every score: k = NaN → NaN best-k scores; temperature NaN
    // or ±Infinity → NaN Monte-Carlo (Inf·0) and 1st+2nd-moment scores. The worker passes `req.params`
    // straight from the UI, so scoreMethod now rejects them with AppError('bad-query').
    it('non-finite or out-of-range k / temperature throw AppError("bad-query")', () => {
      const q = b.queries[0];
      const cases: [Method, MethodParams, RegExp][] = [
        ['best-k', { k: NaN }, /k must be/],
        ['best-k', { k: Infinity }, /k must be/],
        ['best-k', { k: -Infinity }, /k must be/],
        ['monte-carlo', { temperature: NaN }, /temperature must be/],
        ['monte-carlo', { temperature: Infinity }, /temperature must be/],
        ['monte-carlo', { temperature: -Infinity }, /temperature must be/],
        ['monte-carlo', { temperature: 0 }, /temperature must be/],
        ['monte-carlo', { temperature: -1 }, /temperature must be/],
        ['monte-carlo', { temperature: 10_000.001 }, /temperature must be/],
        ['first-second-moment', { temperature: NaN }, /temperature must be/],
        ['first-second-moment', { temperature: 1e5 }, /temperature must be/],
        // Validated for every method, also those that ignore the parameter.
        ['first-moment', { k: NaN }, /k must be/],
        ['gaussian', { temperature: -5 }, /temperature must be/],
      ];
      for (const [method, params, pattern] of cases) {
        expectBadQuery(() => scoreMethod(full32, method, q, params), pattern);
        expectBadQuery(() => validateParams(params), pattern);
      }
    });

    it('accepts k ≥ 1 and temperatures in (0, 10 000]', () => {
      const q = b.queries[0];
      for (const params of [{ temperature: 100 }, { k: 1, temperature: 100 }, { k: 1e9, temperature: 100 }, { temperature: 1e-6 }, { temperature: 10_000 }, { k: 3, temperature: 1 }]) {
        expect(() => validateParams(params)).not.toThrow();
        for (const method of ['monte-carlo', 'best-k', 'first-second-moment'] as Method[]) {
          const s = scoreMethod(full32, method, q, params);
          expect(s).toHaveLength(count);
          expect(Array.from(s).every(Number.isFinite), `${method} ${JSON.stringify(params)}`).toBe(true);
        }
      }
    });

    it('never NaN even for absurd query magnitudes (1e30) or subnormal queries', () => {
      const next = rng(42 + dim);
      for (const scale of [1e30, 1e-40]) {
        const q = Float32Array.from({ length: dim }, () => gaussianNoise(next) * scale);
        for (const index of [full32, full16]) {
          for (const method of supportedMethods(index)) {
            const s = scoreMethod(index, method, q, { temperature: 100 });
            expect(Array.from(s).some(Number.isNaN), `${method} at scale ${scale}`).toBe(false);
          }
        }
      }
    });
  });
}

describe('productOfExperts', () => {
  const a = Float32Array.from([1, -2, 3]);
  const b = Float32Array.from([-4, 5, 0.5]);
  it('is the weighted sum; weights need not sum to 1; zero weight drops a part', () => {
    expect(Array.from(productOfExperts([{ scores: a, weight: 2 }, { scores: b, weight: 0.5 }]))).toEqual([0, -1.5, 6.25]);
    expect(Array.from(productOfExperts([{ scores: a, weight: 1 }, { scores: Float32Array.from([-Infinity, 0, 0]), weight: 0 }]))).toEqual([1, -2, 3]);
  });
  it('rejects empty, mismatched and invalid weights', () => {
    expect(() => productOfExperts([])).toThrow(/at least one part/);
    expect(() => productOfExperts([{ scores: a, weight: 1 }, { scores: b.subarray(1), weight: 1 }])).toThrow(/same models/);
    for (const w of [-1, NaN, Infinity]) expect(() => productOfExperts([{ scores: a, weight: w }])).toThrow(/finite and non-negative/);
  });
});

describe('autoMethod', () => {
  const all: Method[] = ['fine-tuned', 'gaussian', 'first-moment', 'monte-carlo', 'best-k', 'first-second-moment'];
  it('picks Gaussian density for photos and the 1st moment for text, sketches, mixes and models', () => {
    expect(autoMethod(all, ['image'])).toBe('gaussian');
    expect(autoMethod(all, ['text'])).toBe('first-moment');
    expect(autoMethod(all, ['sketch'])).toBe('first-moment');
    expect(autoMethod(all, ['text', 'image'])).toBe('first-moment');
    expect(autoMethod(all, ['model'])).toBe('first-moment');
  });
  it('falls back to what the index has', () => {
    expect(autoMethod(['first-moment'], ['image'])).toBe('first-moment');
    expect(autoMethod([], [])).toBe('first-moment');
  });
});

describe('style distance (index sections 11–13)', () => {
  const dim = 8;
  const count = 4;
  const S = 6;
  const next = rng(31);
  const unit = (bias: number) => {
    const v = Float32Array.from({ length: dim }, (_, j) => (j === bias % dim ? 1 : 0) + next() - 0.5);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  // Means of unit samples (the reader's only requirement on them here).
  const means = new Float32Array(count * dim);
  for (let m = 0; m < count; m++) means.set(unit(m).map((x) => x * 0.6), m * dim);
  const refs = new Float32Array(count * S * dim);
  const keep = new Uint8Array(count * S);
  for (let r = 0; r < count * S; r++) {
    refs.set(unit(Math.floor(r / S) + 1), r * dim);
    // Model 3 keeps nothing (→ −Infinity); the others drop every fourth pair.
    keep[r] = r >= 3 * S || r % 4 === 3 ? 0 : 1;
  }
  const projection = Float32Array.from({ length: 5 * dim }, () => next() - 0.5);
  const queries = [unit(1), unit(2), unit(5)];
  const styleIndex = (dtype: 'f32' | 'f16', withProjection: boolean, extra: Partial<IndexInput> = {}) =>
    readIndex(writeIndex({ dim, means, ...extra, style: { refs, keep, refsPerModel: S, dtype, projection: withProjection ? projection : undefined } }));

  it('has its label and explanation', () => {
    expect(METHOD_INFO.style).toEqual({
      label: 'Style distance',
      explain: 'Mean distance from the query to the model’s outputs for a shared set of reference inputs (lower distance ranks higher).',
    });
  });

  for (const withProjection of [false, true]) {
    it(`scoreMethod('style') equals styleDistanceScores on the read-back index (f32 exactly, f16 within 1e-3)${withProjection ? ', with projection' : ''}`, () => {
      const p = withProjection ? projection : undefined;
      const i32 = styleIndex('f32', withProjection);
      const i16 = styleIndex('f16', withProjection);
      for (const q of queries) {
        const expected = styleDistanceScores(q, refs, keep, dim, S, p);
        expect(scoreMethod(i32, 'style', q)).toEqual(expected);
        const s16 = scoreMethod(i16, 'style', q);
        expect(s16).toHaveLength(count);
        expect(s16[3]).toBe(-Infinity);
        for (let m = 0; m < 3; m++) {
          expect(Number.isFinite(s16[m])).toBe(true);
          expect(Math.abs(s16[m] - expected[m])).toBeLessThan(1e-3);
        }
        // Again (from the cached float32 copy of the fp16 references): the same scores.
        expect(scoreMethod(i16, 'style', q)).toEqual(s16);
      }
      expect(scoreMethod(i32, 'style', queries[0])[3]).toBe(-Infinity);
    });
  }

  it('ranks the model whose references are closest to the query first (lower distance ranks higher)', () => {
    const index = styleIndex('f32', false);
    // queries[0] leans on axis 1, where model 0's references lean.
    expect(topK(scoreMethod(index, 'style', queries[0]), 1)[0].index).toBe(0);
    expect(topK(scoreMethod(index, 'style', queries[1]), 1)[0].index).toBe(1);
  });

  it('supportedMethods appends style last, and only when the index has it', () => {
    expect(supportedMethods(styleIndex('f32', false))).toEqual(['first-moment', 'style']);
    expect(supportedMethods(readIndex(writeIndex({ dim, means })))).toEqual(['first-moment']);
    const precision = new Float64Array(count * packedSize(dim));
    for (let m = 0; m < count; m++) {
      for (let i = 0; i < dim; i++) precision[m * packedSize(dim) + (i * (i + 1)) / 2 + i] = 1;
    }
    const gaussian = { precision, epsilon: new Float32Array(count).fill(1), dtype: 'f32' as const };
    expect(supportedMethods(styleIndex('f16', true, { gaussian }))).toEqual(['gaussian', 'first-moment', 'first-second-moment', 'style']);
  });

  it('throws a clear Error without style data, and checks the query length', () => {
    const plain = readIndex(writeIndex({ dim, means }));
    expect(() => scoreMethod(plain, 'style', queries[0])).toThrow(/no style-distance data/);
    expect(() => scoreMethod(styleIndex('f32', false), 'style', queries[0].subarray(1))).toThrow(/query has 7 dimensions, the index 8/);
  });

  it('autoMethod picks style for photos on a style index, and not for text, sketches or mixes', () => {
    const methods = supportedMethods(styleIndex('f32', false));
    expect(autoMethod(methods, ['image'])).toBe('style');
    expect(autoMethod(methods, ['text'])).toBe('first-moment');
    expect(autoMethod(methods, ['sketch'])).toBe('first-moment');
    expect(autoMethod(methods, ['text', 'image'])).toBe('first-moment');
    expect(autoMethod(methods, ['model'])).toBe('first-moment');
    const all: Method[] = ['fine-tuned', 'gaussian', 'first-moment', 'monte-carlo', 'best-k', 'first-second-moment', 'style'];
    expect(autoMethod(all, ['image'])).toBe('style');
    expect(autoMethod(all, ['image', 'image'])).toBe('style');
    expect(autoMethod(all, ['text'])).toBe('first-moment');
    expect(autoMethod(all.slice(0, -1), ['image'])).toBe('gaussian');
  });
});
