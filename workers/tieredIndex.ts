import { AppError } from '../src/core/io/errors.ts';
import type { HostRangeError } from '../src/core/io/fetchBytes.ts';
import type { ModelMeta, TieredManifest } from '../src/core/index/manifest.ts';
import { metaOfModels, openTieredHead, parseMetaShard } from '../src/core/index/openTiered.ts';
import type { TieredHead } from '../src/core/index/tieredHead.ts';
import { indexTemperature } from '../src/core/index/openIndex.ts';
import { blockFetcher, codesLayout, recordsLayout, type BlockLayout, type BlockSource } from '../src/core/index/blockFetcher.ts';
import type { BlockCache, CodeCache } from '../src/core/index/tieredQuery.ts';
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
import type { VerifiedFileStore } from './storage/fileStore.ts';
import type { CacheEvent } from './storage/cachedFetch.ts';

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
  /**
   * A sign-coded head (its int8 means in codes.bin): raw code blocks by number, as `fetchBlocks`
   * (verified saved copies first, then Range reads of codes.bin or per-block files in codes/).
   */
  fetchCodeBlocks?: (blocks: number[]) => Promise<Map<number, Uint8Array>>;
  /** A sign-coded head: decoded code blocks of this session. */
  codeCache?: CodeCache;
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
  /** What this session fetched (diagnostics and the tests' byte counts): records.bin's blocks, codes.bin's (sign-coded heads), metadata shards. */
  stats: { records: BlockCounts; codes: BlockCounts; metaShards: number };
}

/** What one blocked file (records.bin or codes.bin) cost this session. */
export interface BlockCounts {
  /** HTTP requests made for its blocks (coalesced Range reads, or per-block files). */
  requests: number;
  /** Blocks received over the network, and their bytes. */
  fetched: number;
  bytes: number;
  /** Blocks read from offline storage (verified) instead. */
  fromStorage: number;
}

/** What a file's blocks cost between two readings of its counts (one search's share). */
export function countsSince(before: BlockCounts, now: BlockCounts): BlockCounts {
  return { requests: now.requests - before.requests, fetched: now.fetched - before.fetched, bytes: now.bytes - before.bytes, fromStorage: now.fromStorage - before.fromStorage };
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

  const stats = { records: blockCounts(), codes: blockCounts(), metaShards: 0 };
  // Told once for the index: when one file's Range reads fail, the other's usually fail too.
  let fellBack = false;
  const onFallback = (reason: HostRangeError) => {
    if (!fellBack) opts.onFallback?.(reason);
    fellBack = true;
  };
  const blocksOf = (layout: BlockLayout, label: string, counts: BlockCounts) =>
    storedBlocks(layout, label, counts, { indexUrl, group, version, store, onCacheEvent, onFallback });
  const records = blocksOf(recordsLayout(head), 'Index block', stats.records);
  // A sign-coded head: the int8 means and proxy terms of the sign shortlist's blocks, from codes.bin.
  const codes = head.codeBlocks ? blocksOf(codesLayout(head), 'Index code block', stats.codes) : undefined;

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
  // The stage that scores every model: the int8 prefilter, or a sign-coded head's sign agreement.
  const cpuEngine: ScoringEngine = (head.prefilter ? kernel.engines.int8 : kernel.engines.signs) === 'wasm' ? 'wasm' : 'js';
  let current: { engine: ScoringEngine; reason?: string } = { engine: cpuEngine, reason: kernel.fallbacks[0] };
  let scorer = cpu;
  let gpu: GpuTieredScorer | undefined;
  const useGpu = async (o: { force?: boolean } = {}) => {
    // The WGSL prefilter scores every model's int8 mean, which a sign-coded head does not hold.
    if (!head.prefilter || !head.proxy) {
      current = { engine: cpuEngine, reason: `GPU scoring unavailable: sign-coded head: its int8 means are fetched per query from codes.bin, and the GPU kernels score int8 means held in the head; the ${cpuEngine === 'wasm' ? 'WASM' : 'JS'} kernels score` };
      return current;
    }
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
    fetchBlocks: records.fetchBlocks,
    cache: new Map(),
    ...(codes ? { fetchCodeBlocks: codes.fetchBlocks, codeCache: new Map() } : {}),
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
    // Per-block files as soon as either file's Range reads failed.
    source: () => (records.source() === 'block-files' || codes?.source() === 'block-files' ? 'block-files' : 'ranges'),
    stats,
  };
}

const blockCounts = (): BlockCounts => ({ requests: 0, fetched: 0, bytes: 0, fromStorage: 0 });

interface StoredBlocksContext {
  indexUrl: string;
  group: string;
  /** The index version (the manifest's SHA-256) saved blocks are committed to. */
  version: string;
  store: VerifiedFileStore | null;
  onCacheEvent?: (e: CacheEvent) => void;
  onFallback: (reason: HostRangeError) => void;
}

/**
 * Raw blocks of one blocked file of a tiered index (records.bin, or a sign-coded head's codes.bin)
 * by number: verified saved copies first (IndexedDB, by SHA-256), then the network (coalesced Range
 * reads, or the per-block files once the host's Range answers failed), every request checked
 * against the worker's policy. Downloaded blocks are saved and committed to the index's version;
 * storage trouble never fails a query. `label` names a block in storage notices ("Index block 3").
 * The caller verifies what it gets (ensureBlocks, ensureCodeBlocks).
 */
function storedBlocks(layout: BlockLayout, label: string, counts: BlockCounts, ctx: StoredBlocksContext) {
  const { indexUrl, group, version, store, onCacheEvent } = ctx;
  let network: ReturnType<typeof blockFetcher> | undefined;
  // Every block request is checked against the worker's policy (redirects included), as every other download.
  const fromNetwork = (blocks: number[]) =>
    withinPolicy(new URL(layout.file, indexUrl).href, { file: layout.file }, (fetchImpl) => {
      network ??= blockFetcher(indexUrl, layout, {
        fetchImpl: (u, init) => {
          counts.requests++;
          return fetchImpl(u, init);
        },
        onFallback: ctx.onFallback,
      });
      return network.fetchBlocks(blocks);
    });

  /** Saves verified blocks to offline storage and adds them to this version. */
  const save = async (blocks: Map<number, Uint8Array>) => {
    if (!store) return;
    const saved: string[] = [];
    for (const [b, bytes] of blocks) {
      const e = layout.entries[b]!;
      const result = await store.put({ sha256: e.sha256, bytes: e.bytes, url: new URL(`${layout.file}#block=${b}`, indexUrl).href, label: `${label} ${b}`, group }, bytes);
      if (result === 'stored') saved.push(e.sha256);
      else if (result === 'quota') onCacheEvent?.({ kind: 'quota', url: indexUrl, label: `${label} ${b}` });
      else if (result === 'unavailable') onCacheEvent?.({ kind: 'unavailable', url: indexUrl, label: `${label} ${b}` });
      // 'mismatch': a block that fails its hash is not kept; openBlock / openCodeBlock refuse it with the reason.
    }
    if (saved.length) await store.commitGroup(group, version, saved);
  };

  const fetchBlocks = async (blocks: number[]): Promise<Map<number, Uint8Array>> => {
    const out = new Map<number, Uint8Array>();
    const missing: number[] = [];
    for (const b of blocks) {
      const e = layout.entries[b];
      if (!e) throw new AppError('index-format', `The index has no block ${b} in ${layout.file}.`, indexUrl);
      const got = store ? await store.get(e.sha256, e.bytes) : { status: 'miss' as const };
      if (got.status === 'hit') {
        out.set(b, got.data);
        counts.fromStorage++;
      } else {
        if (got.status === 'corrupt') onCacheEvent?.({ kind: 'corrupt', url: indexUrl, label: `${label} ${b}` });
        missing.push(b);
      }
    }
    if (missing.length) {
      const fetched = await fromNetwork(missing);
      for (const [b, bytes] of fetched) {
        out.set(b, bytes);
        counts.fetched++;
        counts.bytes += bytes.byteLength;
      }
      await save(fetched);
    }
    return out;
  };
  return { fetchBlocks, source: (): BlockSource => network?.source() ?? 'ranges' };
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
