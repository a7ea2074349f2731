import { AppError } from '../src/core/io/errors.ts';
import type { HostRangeError } from '../src/core/io/fetchBytes.ts';
import type { ModelMeta, TieredManifest } from '../src/core/index/manifest.ts';
import { metaOfModels, openTieredHead, parseMetaShard } from '../src/core/index/openTiered.ts';
import type { TieredHead } from '../src/core/index/tieredHead.ts';
import { indexTemperature } from '../src/core/index/openIndex.ts';
import { blockFetcher, type BlockSource } from '../src/core/index/blockFetcher.ts';
import type { BlockCache } from '../src/core/index/tieredQuery.ts';
import { decodeVectors } from '../src/core/scoring/matchQuality.ts';
import type { MatchCalibration } from '../src/core/index/manifest.ts';
import { sha256Hex } from '../src/core/io/sha256.ts';
import { prefilterKernel } from '../src/core/scoring/tieredKernels.ts';
import { kernelScorer, type TieredScorer } from '../src/core/index/tieredRank.ts';
import { GpuScorerError, probeGpuTieredScorer, type GpuTieredScorer } from './gpu/tieredScorer.ts';

/** Who computes a tiered index's scores: a real GPU (WGSL kernels), the WASM SIMD kernels, or JS. */
export type ScoringEngine = 'webgpu' | 'wasm' | 'js';
import type { LoadProgress } from '../src/shared/protocol.ts';
import { cachedFetchBytes } from './storage/cachedFetch.ts';
import { downloadFile, withinPolicy, type FileStorage } from './download.ts';

/**
 * A tiered (version 2) index as the worker keeps it: the head (loaded before the first query), and
 * on demand the blocks of records the rerank needs and the metadata shards of the models shown.
 * Blocks and shards are checked against the SHA-256 the head lists, kept decoded in memory for this
 * session and saved in offline storage (IndexedDB, the index's group), so a repeated query fetches
 * nothing and an offline one works for every block it has seen.
 */
export interface TieredLoaded {
  kind: 'tiered';
  manifest: TieredManifest;
  manifestBytes: Uint8Array;
  head: TieredHead;
  temperature: number;
  calibration?: MatchCalibration;
  nullText: Float32Array[];
  /** Raw blocks by number: verified saved copies first, then the network (Range reads, or per-block files). */
  fetchBlocks(blocks: number[]): Promise<Map<number, Uint8Array>>;
  /** Decoded blocks of this session. */
  cache: BlockCache;
  /** The scorer queries use now (see `engine`). */
  scorer(): TieredScorer;
  /** Who scores now, and why not the GPU when it is not. */
  engine(): { engine: ScoringEngine; reason?: string };
  /**
   * Scores on the GPU from now on when a real adapter exists (WGSL kernels, workers/gpu), or with
   * `force` on any adapter (tests run the kernels on SwiftShader this way). A GPU error later (a lost
   * device) puts the scores back on the WASM kernels for good, with the reason in `engine()`.
   */
  useGpu(opts?: { force?: boolean }): Promise<{ engine: ScoringEngine; reason?: string }>;
  /** Diagnostics: destroys the scoring GPU device (as a driver reset would); the next query falls back. */
  loseGpu(): boolean;
  /** Metadata of these models (their shards fetched once, verified, saved). */
  meta(models: readonly number[]): Promise<ModelMeta[]>;
  /** Position of a model whose metadata was seen this session ("more like this" on a shown card). */
  idOf(modelId: string): number | undefined;
  /** How blocks arrive now: 'ranges', or 'block-files' after the host's Range answers failed. */
  source(): BlockSource;
  /** What this session fetched (diagnostics and the tests' byte counts). */
  stats: { blockRequests: number; blocksFetched: number; blocksFromStorage: number; bytesFetched: number; metaShards: number };
}

export interface TieredLoadOptions extends FileStorage {
  group: string;
  /** Told once when the host's Range answers fail and blocks come from per-block files. */
  onFallback?: (reason: HostRangeError) => void;
}

export async function openTiered(indexUrl: string, manifest: TieredManifest, manifestBytes: Uint8Array, onProgress: (p: LoadProgress) => void, opts: TieredLoadOptions): Promise<TieredLoaded> {
  const { store, group, onCacheEvent } = opts;
  const entry = manifest.files['head.bin'];
  const headBytes = await downloadFile({ url: new URL('head.bin', indexUrl).href, file: 'head.bin', label: 'Index head.bin', kind: 'index', bytes: entry.bytes, sha256: entry.sha256, group }, opts, onProgress);
  const head = openTieredHead(headBytes, manifest);
  if (head.recordsBytes !== manifest.files['records.bin'].bytes) {
    throw new AppError('index-format', `head.bin's blocks end at byte ${head.recordsBytes}; the manifest says records.bin has ${manifest.files['records.bin'].bytes}.`, 'head.bin');
  }
  const temperature = indexTemperature(manifest);
  const version = await sha256Hex(manifestBytes);
  // The head is verified and usable: this version replaces the saved one (blocks of an older version go with it).
  await store?.commitGroup(group, version, [entry.sha256], manifestBytes);

  const stats = { blockRequests: 0, blocksFetched: 0, blocksFromStorage: 0, bytesFetched: 0, metaShards: 0 };
  let network: ReturnType<typeof blockFetcher> | undefined;
  // Every block request is checked against the worker's policy (redirects included), as every other download.
  const fromNetwork = (blocks: number[]) =>
    withinPolicy(new URL('records.bin', indexUrl).href, { file: 'records.bin' }, (fetchImpl) => {
      network ??= blockFetcher(indexUrl, head, {
        fetchImpl: (u, init) => {
          stats.blockRequests++;
          return fetchImpl(u, init);
        },
        onFallback: opts.onFallback,
      });
      return network.fetchBlocks(blocks);
    });

  /** Saves verified blocks to offline storage and adds them to this version; storage trouble never fails a query. */
  const save = async (blocks: Map<number, Uint8Array>) => {
    if (!store) return;
    const saved: string[] = [];
    for (const [b, bytes] of blocks) {
      const e = head.blocks[b]!;
      const result = await store.put({ sha256: e.sha256, bytes: e.bytes, url: new URL(`records.bin#block=${b}`, indexUrl).href, label: `Index block ${b}`, group }, bytes);
      if (result === 'stored') saved.push(e.sha256);
      else if (result === 'quota') onCacheEvent?.({ kind: 'quota', url: indexUrl, label: `Index block ${b}` });
      else if (result === 'unavailable') onCacheEvent?.({ kind: 'unavailable', url: indexUrl, label: `Index block ${b}` });
      // 'mismatch': a block that fails its hash is not kept; openBlock refuses it with the reason.
    }
    if (saved.length) await store.commitGroup(group, version, saved);
  };

  const fetchBlocks = async (blocks: number[]): Promise<Map<number, Uint8Array>> => {
    const out = new Map<number, Uint8Array>();
    const missing: number[] = [];
    for (const b of blocks) {
      const e = head.blocks[b];
      if (!e) throw new AppError('index-format', `The index has no block ${b}.`, indexUrl);
      const got = store ? await store.get(e.sha256, e.bytes) : { status: 'miss' as const };
      if (got.status === 'hit') {
        out.set(b, got.data);
        stats.blocksFromStorage++;
      } else {
        if (got.status === 'corrupt') onCacheEvent?.({ kind: 'corrupt', url: indexUrl, label: `Index block ${b}` });
        missing.push(b);
      }
    }
    if (missing.length) {
      const fetched = await fromNetwork(missing);
      for (const [b, bytes] of fetched) {
        out.set(b, bytes);
        stats.blocksFetched++;
        stats.bytesFetched += bytes.byteLength;
      }
      await save(fetched);
    }
    return out;
  };

  const shards = new Map<number, Promise<ModelMeta[]>>();
  const ids = new Map<string, number>();
  const shard = (b: number): Promise<ModelMeta[]> => {
    let p = shards.get(b);
    if (!p) {
      const e = head.meta?.[b];
      if (!e) throw new AppError('index-format', `The index lists no metadata for block ${b}.`, 'head.bin');
      const url = new URL(`meta/${b}.json`, indexUrl).href;
      p = withinPolicy(url, { file: `meta/${b}.json` }, (fetchImpl) => cachedFetchBytes(url, { sha256: e.sha256, bytes: e.bytes, label: `Index metadata ${b}`, group, store, onCacheEvent, fetchImpl }))
        .then(async (bytes) => {
          stats.metaShards++;
          await store?.commitGroup(group, version, [e.sha256]);
          const list = parseMetaShard(bytes, head, b);
          list.forEach((m, i) => ids.set(m.id, head.blocks[b]!.firstModel + i));
          return list;
        });
      p.catch(() => shards.delete(b));
      shards.set(b, p);
    }
    return p;
  };
  const meta = (models: readonly number[]) => metaOfModels(head, models, shard);

  // The head's arrays are copied into the WASM kernels' memory once, here, not on the first query.
  const kernel = prefilterKernel(head);
  // kernelScorer runs prefilter.ts's JS itself for any part the kernels cannot take (kernel.fallbacks says why).
  const cpu = kernelScorer(kernel);
  const cpuEngine: ScoringEngine = kernel.engines.int8 === 'wasm' ? 'wasm' : 'js';
  let current: { engine: ScoringEngine; reason?: string } = { engine: cpuEngine, reason: kernel.fallbacks[0] };
  let scorer = cpu;
  let gpu: GpuTieredScorer | undefined;
  const useGpu = async (o: { force?: boolean } = {}) => {
    const probe = await probeGpuTieredScorer({ force: o.force });
    if ('reason' in probe) {
      current = { engine: cpuEngine, reason: `GPU scoring unavailable: ${probe.reason.detail}` };
      return current;
    }
    gpu?.destroy();
    gpu = probe.scorer;
    await gpu.setPrefilter(head.prefilter, head.proxy);
    scorer = gpuScorer(gpu, cpu, (why) => {
      scorer = cpu;
      current = { engine: cpuEngine, reason: `GPU scoring stopped (${why}); the WASM kernels score from now on` };
    });
    current = { engine: 'webgpu', reason: undefined };
    return current;
  };
  // A real GPU scores when there is one (never a software adapter such as SwiftShader: slower than WASM).
  await useGpu().catch(() => undefined);

  const calibration = manifest.calibration;
  return {
    kind: 'tiered',
    manifest,
    manifestBytes,
    head,
    temperature,
    calibration,
    nullText: decodeVectors(calibration?.nullText ?? []),
    fetchBlocks,
    cache: new Map(),
    scorer: () => scorer,
    engine: () => current,
    useGpu,
    loseGpu: () => {
      if (!gpu || scorer === cpu) return false;
      gpu.loseDeviceForTesting();
      return true;
    },
    meta,
    idOf: (id) => ids.get(id),
    source: () => network?.source() ?? 'ranges',
    stats,
  };
}

/**
 * The GPU's scores (same as the CPU's to ~1e-7 relative: docs/webgpu-kernels.md), and the CPU's
 * from the first GPU error on: the query that met the error is scored on the CPU, nothing fails.
 */
function gpuScorer(gpu: GpuTieredScorer, cpu: TieredScorer, onFailure: (why: string) => void): TieredScorer {
  let failed = false;
  const fallback = (err: unknown) => {
    if (!(err instanceof GpuScorerError)) throw err;
    if (!failed) onFailure(err.message);
    failed = true;
  };
  return {
    async prefilter(method, q, out) {
      if (!failed) {
        try {
          out.set(method === 'gaussian' ? await gpu.proxyScores(q) : await gpu.cosineScores(q));
          return;
        } catch (err) {
          fallback(err);
        }
      }
      await cpu.prefilter(method, q, out);
    },
    async logDensities(records, q) {
      if (!failed) {
        try {
          return await gpu.lowRankScores(records, q);
        } catch (err) {
          fallback(err);
        }
      }
      return cpu.logDensities(records, q);
    },
  };
}
