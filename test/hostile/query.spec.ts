import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenedIndex } from '../../src/core/index/openIndex.ts';
import { createClipTokenizer } from '../../src/core/encode/tokenizer.ts';
import { parseQuery } from '../../src/core/scoring/queryFilters.ts';
import { rank, type RankQuery } from '../../src/core/scoring/rank.ts';
import { cosineReference, openFiles, shippedIndex } from './craft.ts';
import { errorText, expectRefusal, handled, judgeError, silentWrong, type HostileCase, type Verdict } from './harness.ts';
import { defineHostileCases } from './runner.ts';

/**
 * Queries a person or an embedding page can send, straight into rank() (the worker's and the CLI's
 * one ranking) on the shipped colours index: refusals must say what to change; accepted queries
 * must rank as an independent float64 cosine reference.
 */

let opened: Promise<OpenedIndex> | undefined;
const colours = () => (opened ??= openFiles(shippedIndex('colours')));

function unit(dim: number, seed: number): Float32Array {
  let s = seed;
  const v = Float64Array.from({ length: dim }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
}

/** The float64 cosine reference on the opened index's means. */
const reference = (o: OpenedIndex, q: Float32Array, k = 10) => cosineReference(o.index.means, o.index.dim, q, o.models.map((m) => m.id), k);

type Q = RankQuery<string>;
const text = (t: string, weight = 1): Q['parts'][number] => ({ part: { kind: 'text', text: t }, weight });

/** Runs `query` with `embedding` for its text/image parts: must be refused, naming `names`. */
function refused(query: Q, names: (string | RegExp)[], embedding?: Float32Array): () => Promise<Verdict> {
  return async () => {
    const o = await colours();
    const q = embedding ?? unit(o.index.dim, 3);
    return expectRefusal(() => rank(o, query, async () => q), names, (r) => silentWrong(`ranked ${r.results.length} models (first ${o.models[r.results[0]?.index]?.id})`));
  };
}

/** Runs `query` with a fixed embedding: the 1st-moment ranking must equal the reference. */
function ranksAsReference(query: Q, k = 10): () => Promise<Verdict> {
  return async () => {
    const o = await colours();
    const q = unit(o.index.dim, 5);
    let got: string[];
    try {
      got = (await rank(o, { method: 'first-moment', hybridWeight: 0, ...query }, async () => q)).results.map((r) => o.models[r.index].id);
    } catch (err) {
      return judgeError(errorText(err));
    }
    const want = reference(o, q, Math.min(k, o.index.count));
    return got.join() === want.join() ? handled(`${got.length} results as the reference`) : silentWrong(`got ${got.join(', ')}; reference ${want.join(', ')}`);
  };
}

const cases: HostileCase[] = [
  { group: 'query', name: 'no parts at all', run: refused({ parts: [] }, [/text|image|model/]) },
  { group: 'query', name: 'text of only spaces', run: refused({ parts: [text('   \t\n ')] }, [/description|text/i]) },
  { group: 'query', name: 'a weight of NaN', run: refused({ parts: [text('red', NaN)] }, [/weight/i]) },
  { group: 'query', name: 'a weight of −1', run: refused({ parts: [text('red', -1)] }, [/weight/i]) },
  { group: 'query', finding: true, name: 'weights of 1e308 and 1e308 (−∞ scores in index order before)', run: refused({ parts: [text('red', 1e308), { part: { kind: 'image', image: 'x.png', source: 'file' }, weight: 1e308 }] }, [/weight/i]) },
  { group: 'query', name: 'every weight 0', run: refused({ parts: [text('red', 0)] }, [/text|image|model/]) },
  { group: 'query', name: 'a model id not in the index', run: refused({ parts: [{ part: { kind: 'model', modelId: 'no-such-model' }, weight: 1 }] }, [/model/]) },
  { group: 'query', name: 'a model id of "__proto__"', run: refused({ parts: [{ part: { kind: 'model', modelId: '__proto__' }, weight: 1 }] }, [/model/]) },
  { group: 'query', name: 'a model together with text', run: refused({ parts: [{ part: { kind: 'model', modelId: 'deep-sea' }, weight: 1 }, text('red')] }, [/model/]) },
  { group: 'query', name: 'an unknown method "evil"', run: refused({ parts: [text('red')], method: 'evil' as never }, ['evil']) },
  { group: 'query', name: 'a method the index lacks (fine-tuned)', run: refused({ parts: [text('red')], method: 'fine-tuned' }, [/fine-tuned/]) },
  { group: 'query', name: 'a method name from Object.prototype ("toString")', run: refused({ parts: [text('red')], method: 'toString' as never }, ['toString']) },
  { group: 'query', name: '0 results asked for', run: refused({ parts: [text('red')], topK: 0 }, [/number of results/]) },
  { group: 'query', name: '2.5 results asked for', run: refused({ parts: [text('red')], topK: 2.5 }, [/number of results/]) },
  { group: 'query', name: 'a hybrid weight of 2', run: refused({ parts: [text('red')], hybridWeight: 2 }, [/hybrid/i]) },
  { group: 'query', name: 'best-k with k = 0', run: refused({ parts: [text('red')], method: 'best-k', params: { k: 0 } }, [/\bk\b/]) },
  { group: 'query', name: 'best-k with k = 2.5', run: refused({ parts: [text('red')], method: 'best-k', params: { k: 2.5 } }, [/\bk\b/]) },
  { group: 'query', name: 'a temperature of −5', run: refused({ parts: [text('red')], method: 'monte-carlo', params: { temperature: -5 } }, [/temperature/i]) },
  {
    group: 'query',
    name: 'an encoder that returns NaN (a broken GPU kernel)',
    run: refused({ parts: [text('red')] }, [/embedding|encoder/i], new Float32Array(32).fill(NaN)),
  },
  {
    group: 'query',
    name: 'an encoder that returns a vector of the wrong length',
    run: refused({ parts: [text('red')] }, [/dimension|embedding|encoder/i], new Float32Array(31).fill(0.1)),
  },
  { group: 'query', name: '10 000 results asked of 12 models: all 12, as the reference', run: ranksAsReference({ parts: [text('red')], topK: 10_000 }, 10_000) },
  { group: 'query', name: '1 000 000 results asked for (no huge allocation)', run: ranksAsReference({ parts: [text('red')], topK: 1_000_000 }, 1_000_000) },
  {
    group: 'query',
    name: 'filters with 1 000 values of 1 000 characters each',
    run: async () => {
      const o = await colours();
      const q = unit(o.index.dim, 5);
      const values = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(1000, 'z'));
      const r = await rank(o, { parts: [text('red')], method: 'first-moment', hybridWeight: 0, filters: { family: values } }, async () => q);
      return r.results.length === 0 && r.matched === 0 ? handled('no model matches; nothing ranked') : silentWrong(`${r.results.length} results for filters no model has`);
    },
  },
  {
    group: 'query',
    name: 'a search box text of 1 MB with quotes and colons (filter parsing)',
    run: async () => {
      const input = 'creator:"'.repeat(20_000) + 'family:'.repeat(20_000) + 'x'.repeat(500_000);
      const t0 = performance.now();
      const parsed = parseQuery(input);
      const ms = performance.now() - t0;
      return ms < 2000 ? handled(`parsed in ${ms.toFixed(0)} ms (${parsed.text.length} characters of text)`) : silentWrong(`parsing took ${ms.toFixed(0)} ms`);
    },
  },
  {
    group: 'query',
    name: 'a text of 1 MB through the CLIP tokenizer: 77 tokens, SOT first, EOT last',
    run: async () => {
      const dir = join(import.meta.dirname, '..', '..', 'public', 'tokenizers', 'clip-vit-b32');
      let json: unknown;
      let config: unknown;
      try {
        json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
        config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
      } catch {
        return silentWrong(`no tokenizer files under ${dir}`);
      }
      const tok = createClipTokenizer(json, config);
      const t0 = performance.now();
      const ids = tok.encode('a red rose '.repeat(100_000));
      const ms = performance.now() - t0;
      const ok = ids.length === 77 && ids[0] === 49406 && ids[76] === 49407;
      return ok && ms < 10_000 ? handled(`77 ids in ${ms.toFixed(0)} ms`) : silentWrong(`${ids.length} ids, first ${ids[0]}, last ${ids[ids.length - 1]}, ${ms.toFixed(0)} ms`);
    },
  },
];

defineHostileCases(cases);
