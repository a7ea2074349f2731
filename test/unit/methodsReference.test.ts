/**
 * Every retrieval method, on real index files, against an independent numpy/scipy reference
 * (tools/reference/make_index_reference.py: parses index.bin from its bytes and computes each
 * method in float64 from the stored values — the Gaussian density with scipy's
 * multivariate_normal.logpdf on Σ' = (WᵀW)⁻¹ of the stored factor, not from the stored b and
 * log-determinant). Fixtures: test/fixtures/index-reference-<name>.json, top 50 per query and method.
 *
 *   the fp16 demo index (zoo encoder, T = 18), the f32 colours index (test encoder, T = 100), the
 *   styles index (style distance) and a small f32 index with a fine-tuned projection.
 *
 * The temperature is passed explicitly from the fixture, so the test does not depend on defaults.
 * Regenerate the fixtures after rebuilding an index: npm run reference-fixtures.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readIndex } from '../../src/core/index/indexFormat.ts';
import { scoreMethod, supportedMethods, type Method, type MethodParams } from '../../src/core/scoring/methods.ts';
import { topK } from '../../src/core/scoring/topK.ts';

type Num = number | 'Infinity' | '-Infinity';

interface Fixture {
  name: string;
  index: string;
  sha256: string;
  dim: number;
  count: number;
  precision: 'f16' | 'f32' | null;
  temperature: number;
  top: number;
  queries: number[][];
  methods: { method: Method; params: MethodParams; results: { ids: number[]; scores: Num[]; next: Num | null }[] }[];
}

/** Relative tolerance on each top-50 score; the Gaussian density (the stored Gaussian, exactly) is held tighter. */
const TOLERANCE = 1e-4;
const GAUSSIAN_TOLERANCE = 1e-5;
/**
 * Log-domain scores (log-densities, log-sum-exps, ½T²qᵀΣq + Tqᵀμ) can cross 0 although their terms
 * are hundreds of nats; there the error is measured against max(|score|, 1 nat): relative above
 * 1 nat, absolute below. Cosines and distances are held to plain relative error.
 */
const LOG_DOMAIN: ReadonlySet<Method> = new Set(['gaussian', 'monte-carlo', 'first-second-moment']);

const root = new URL('../../', import.meta.url);
const num = (x: Num): number => (x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : x);
const label = (m: Fixture['methods'][number]) => (m.method === 'best-k' ? `best-k (k=${m.params.k})` : m.method);

const worst: Record<string, Record<string, number>> = {};
afterAll(() => {
  const lines = Object.entries(worst).flatMap(([idx, byMethod]) =>
    Object.entries(byMethod).map(([m, e]) => `  ${idx.padEnd(11)} ${m.padEnd(20)} max relative error ${e.toExponential(2)}${LOG_DOMAIN.has(m as Method) ? ' (of max(|score|, 1))' : ''}`),
  );
  console.log(`Methods vs the numpy/scipy reference (top 50 per query):\n${lines.join('\n')}`);
});

for (const name of ['demo', 'colours', 'styles', 'projection']) {
  const fixture = JSON.parse(readFileSync(new URL(`test/fixtures/index-reference-${name}.json`, root), 'utf8')) as Fixture;

  describe(`${name} index (${fixture.index}, ${fixture.precision ?? 'no'} factors, T = ${fixture.temperature})`, () => {
    const bytes = new Uint8Array(readFileSync(new URL(fixture.index, root)));
    const index = readIndex(bytes);
    const queries = fixture.queries.map((q) => Float32Array.from(q));

    it('is the index the reference was computed from', () => {
      const sha = createHash('sha256').update(bytes).digest('hex');
      expect(sha, `${fixture.index} changed since its reference was made: run npm run reference-fixtures`).toBe(fixture.sha256);
      expect([index.dim, index.count]).toEqual([fixture.dim, fixture.count]);
      expect(queries.every((q) => q.length === index.dim)).toBe(true);
    });

    it('the reference covers every method the index supports', () => {
      expect([...new Set(fixture.methods.map((m) => m.method))].sort()).toEqual([...supportedMethods(index)].sort());
    });

    for (const entry of fixture.methods) {
      const tol = entry.method === 'gaussian' ? GAUSSIAN_TOLERANCE : TOLERANCE;
      it(`${label(entry)}: top ${fixture.top} ids and scores match the reference to ${tol} relative`, () => {
        let maxRel = 0;
        entry.results.forEach((want, qi) => {
          const params: MethodParams = { ...entry.params, temperature: fixture.temperature };
          const s = scoreMethod(index, entry.method, queries[qi], params);
          const ref = new Map(want.ids.map((id, r) => [id, num(want.scores[r])]));
          // Scores: the TS score of each of the reference's top 50.
          want.ids.forEach((id, r) => {
            const expected = num(want.scores[r]);
            if (!Number.isFinite(expected)) {
              expect(s[id], `query ${qi}, model ${id}`).toBe(expected);
              return;
            }
            const rel = Math.abs(s[id] - expected) / Math.max(Math.abs(expected), LOG_DOMAIN.has(entry.method) ? 1 : 0);
            maxRel = Math.max(maxRel, rel);
            expect(rel, `query ${qi}, rank ${r}, model ${id}: ${s[id]} vs ${expected}`).toBeLessThanOrEqual(tol);
          });
          // Order: where the TS top 50 differs from the reference's, the two must be tied within
          // the tolerance (a model outside the reference's top 50 scores at most `next` there).
          const got = topK(s, fixture.top);
          expect(got).toHaveLength(want.ids.length);
          got.forEach(({ index: id }, r) => {
            if (id === want.ids[r]) return;
            const expected = num(want.scores[r]);
            const theirs = ref.get(id) ?? (want.next === null ? -Infinity : num(want.next));
            const gap = Math.abs(expected - theirs);
            const scale = Math.max(Math.abs(expected), LOG_DOMAIN.has(entry.method) ? 1 : 0);
            expect(gap <= tol * scale || expected === theirs, `query ${qi}, rank ${r}: model ${id} instead of ${want.ids[r]}`).toBe(true);
          });
        });
        worst[name] ??= {};
        worst[name][label(entry)] = maxRel;
      });
    }
  });
}
