import { describe, expect, it } from 'vitest';
import { assembleTiered } from '../../../tools/lib/indexBuilder/tieredAssemble.ts';
import { TEST_ENCODER } from '../encode/encoders.ts';
import { mulberry32 } from '../math/prng.ts';
import type { RankQuery } from '../scoring/rank.ts';
import { prefilterKernel } from '../scoring/tieredKernels.ts';
import { finaliseTieredModel, tieredSettingsFor, type TieredFinaliseSettings, type TieredModel } from './tieredEntry.ts';
import { readTieredHead } from './tieredHead.ts';
import type { BlockCache, CodeCache } from './tieredQuery.ts';
import { kernelScorer, rankTiered, type TieredLocal, type TieredRankable } from './tieredRank.ts';
import { decodeRecord, RecordKind } from './tieredRecords.ts';

/*
 * A local model ranks with a tiered index as the index with it merged in ranks it: an index of N
 * models against an index of the other N − 1 plus that model as a local record, every model a
 * candidate (K ≥ N, so the prefilter, whose int8 scale depends on the set, decides nothing).
 * The local record is decoded from the bytes the merged index stores for it, and both sides score
 * with the same functions, so scores are equal exactly.
 */

const DIM = TEST_ENCODER.dim;
const N = 12;
const HELD = 5;
const settings: TieredFinaliseSettings = { dim: DIM, epsilon: 1e-3, precision: 'f16', ppcaRank: 8 };

const unit = (v: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(v));
  return Float32Array.from(v, (x) => x / n);
};

/** N models of unit embeddings around their own centres; some with more images than dimensions (PPCA records). */
function models(): TieredModel[] {
  const next = mulberry32(7);
  return Array.from({ length: N }, (_, m) => {
    const n = m % 4 === 3 ? DIM + 8 : 3 + (m % 5);
    const centre = Array.from({ length: DIM }, () => next() - 0.5);
    const embeddings = Array.from({ length: n }, () => unit(centre.map((c) => c + 0.5 * (next() - 0.5))));
    const id = `m${String(m).padStart(2, '0')}`;
    const meta = { name: id, description: '', family: '', creator: 'unknown', licence: 'unspecified', resolution: '', links: [] };
    const r = finaliseTieredModel({ source: { id, label: id, meta, missingFields: [] }, embeddings, thumbs: [] }, settings);
    if (!r.ok) throw new Error(r.reason);
    return r.model;
  });
}

async function tieredIndex(ms: readonly TieredModel[], prefilter: 'int8' | 'sign' = 'int8') {
  const a = await assembleTiered(ms, { name: 't', licence: 'x', encoder: { id: TEST_ENCODER.id, dim: DIM }, epsilon: settings.epsilon, precision: settings.precision, ppcaRank: settings.ppcaRank, modelsPerBlock: 4, blockFiles: false, prefilter });
  const head = readTieredHead(a.files.get('head.bin')!);
  const slice = (data: Uint8Array, e: { offset: number; bytes: number }) => data.slice(e.offset, e.offset + e.bytes);
  const ids = a.models.map((m) => m.meta.id);
  const fetchBlocks = async (blocks: number[]) => new Map(blocks.map((b) => [b, slice(a.files.get('records.bin')!, head.blocks[b]!)] as const));
  const signs = prefilter === 'sign' ? { fetchCodeBlocks: async (blocks: number[]) => new Map(blocks.map((b) => [b, slice(a.files.get('codes.bin')!, head.codeBlocks![b]!)] as const)), codeCache: new Map() as CodeCache, shortlist: N } : {};
  return { head, ids, fetchBlocks, signs, manifest: a.manifest };
}

const qText = unit(Array.from({ length: DIM }, (_, j) => Math.sin(j + 1)));
const qImage = unit(Array.from({ length: DIM }, (_, j) => Math.cos(2 * j)));
const embed = async (part: { kind: string }) => (part.kind === 'text' ? qText : qImage);

describe('local models on a tiered index rank as in the merged index', async () => {
  const all = models();
  const held = all[HELD]!;
  const merged = await tieredIndex(all);
  const rest = await tieredIndex(all.filter((m) => m !== held));
  const signed = { merged: await tieredIndex(all, 'sign'), rest: await tieredIndex(all.filter((m) => m !== held), 'sign') };
  const local: TieredLocal = { ids: [held.meta.id], records: [decodeRecord(held.record, DIM, 'local')] };
  const targetOf = (ix: typeof merged, withLocal?: TieredLocal): TieredRankable => ({ head: ix.head, idOf: (id) => (ix.ids.includes(id) ? ix.ids.indexOf(id) : undefined), ...(withLocal ? { local: withLocal } : {}) });
  const idAt = (ix: typeof merged) => (i: number) => (i < ix.head.count ? ix.ids[i]! : local.ids[i - ix.head.count]!);

  async function both(query: RankQuery<string>, wasm = false, pair = { merged, rest }) {
    const run = async (ix: typeof merged, withLocal?: TieredLocal) => {
      const scorer = wasm ? kernelScorer(prefilterKernel(ix.head)) : undefined;
      const r = await rankTiered(targetOf(ix, withLocal), query, embed, { fetchBlocks: ix.fetchBlocks, cache: new Map() as BlockCache, candidates: N, ...ix.signs, ...(scorer ? { scorer } : {}) });
      const id = idAt(ix);
      return { r, results: r.results.map((x) => ({ id: id(x.index), score: x.score })), query: r.queryModel >= 0 ? id(r.queryModel) : undefined };
    };
    return { merged: await run(pair.merged), local: await run(pair.rest, local) };
  }

  it('the set covers both record kinds, and the local model is not in the smaller index', () => {
    const kinds = new Set(all.map((m) => decodeRecord(m.record, DIM, 'm').kind));
    expect(kinds).toEqual(new Set([RecordKind.ExactLowRank, RecordKind.Ppca]));
    expect(rest.ids).not.toContain(held.meta.id);
    expect(tieredSettingsFor(merged.manifest)).toEqual(settings);
  });

  const text = { kind: 'text' as const, text: 'x' };
  const image = { kind: 'image' as const, image: 'i' };
  for (const method of ['gaussian', 'first-moment'] as const) {
    for (const [name, part] of [['text', text], ['image', image]] as const) {
      it(`${name}, ${method}: the same ranking and scores, exactly`, async () => {
        const { merged: m, local: l } = await both({ parts: [{ part, weight: 1 }], method, topK: N });
        expect(l.results).toEqual(m.results);
        expect(l.results.map((r) => r.id)).toContain(held.meta.id);
        expect(l.r.match).toEqual(m.r.match);
        // The local model's score joins the scores of every model, after the head's.
        const own = l.results.find((r) => r.id === held.meta.id)!.score;
        expect(l.r.prefilterScores).toHaveLength(N);
        expect(l.r.prefilterScores[N - 1]).toBe(own);
        expect(l.r.candidates.at(-1)).toEqual({ index: N - 1, score: own });
      });
    }
  }

  it('text + image with the WASM kernels: the same as the merged index with them', async () => {
    const query = { parts: [{ part: text, weight: 0.4 }, { part: image, weight: 0.6 }], method: 'gaussian' as const, topK: N };
    const { merged: m, local: l } = await both(query, true);
    expect(l.results).toEqual(m.results);
  });

  it('"more like this" from the local model: its record mean, itself left out', async () => {
    const { merged: m, local: l } = await both({ parts: [{ part: { kind: 'model', modelId: held.meta.id }, weight: 1 }], topK: N });
    expect(l.query).toBe(held.meta.id);
    expect(l.r.method).toBe('first-moment');
    expect(l.results).toHaveLength(N - 1);
    expect(l.results).toEqual(m.results);
    expect(l.r.prefilterScores[N - 1]).toBe(-Infinity);
  });

  it('"more like this" to the local model: it is ranked among the others', async () => {
    const from = all[HELD + 1]!.meta.id;
    const { merged: m, local: l } = await both({ parts: [{ part: { kind: 'model', modelId: from }, weight: 1 }], topK: 3 });
    expect(l.query).toBe(from);
    expect(l.results).toEqual(m.results);
    const full = await both({ parts: [{ part: { kind: 'model', modelId: from }, weight: 1 }], topK: N });
    expect(full.local.results).toEqual(full.merged.results);
    expect(full.local.results.map((r) => r.id)).toContain(held.meta.id);
  });

  it('a sign-coded head: the same, for text and for "more like this" from the local model', async () => {
    for (const query of [{ parts: [{ part: text, weight: 1 }], method: 'gaussian' as const, topK: N }, { parts: [{ part: { kind: 'model' as const, modelId: held.meta.id }, weight: 1 }], topK: N }]) {
      const { merged: m, local: l } = await both(query, false, signed);
      expect(l.r.signStage).toBeDefined();
      expect(l.results).toEqual(m.results);
      expect(l.results.length).toBeGreaterThanOrEqual(N - 1);
    }
  });

  it('the local model is a candidate whatever K; the prefilter (the early cards) stays the index’s', async () => {
    const seen: number[][] = [];
    const r = await rankTiered(targetOf(rest, local), { parts: [{ part: text, weight: 1 }], topK: N }, embed, { fetchBlocks: rest.fetchBlocks, cache: new Map(), candidates: 1, onPrefilter: (p) => void seen.push(p.map((x) => x.index)) });
    expect(r.candidates.map((c) => c.index)).toEqual([r.prefilter[0]!.index, N - 1]);
    expect(seen).toEqual([[r.prefilter[0]!.index]]);
    expect(r.results.map((x) => x.index).sort()).toEqual([r.prefilter[0]!.index, N - 1].sort());
  });

  it('a local id that is unknown is refused as for the index', async () => {
    await expect(rankTiered(targetOf(rest, local), { parts: [{ part: { kind: 'model', modelId: 'nope' }, weight: 1 }] }, embed, { fetchBlocks: rest.fetchBlocks, cache: new Map() })).rejects.toThrow(/not in this index/);
  });
});
