import { AppError } from '../io/errors.ts';
import { parseModelMetaList, type ModelMeta, type TieredManifest } from './manifest.ts';
import { readTieredHead, type TieredHead } from './tieredHead.ts';
import { codeBytesPerModel } from './codeBlocks.ts';

/**
 * What opening a tiered (version 2) index has in common wherever its files come from (the worker
 * over HTTP, workers/tieredIndex.ts; the CLI from disk, tools/lib/localIndex.ts): the head read and
 * held to its manifest, metadata shards parsed, and models' metadata looked up by shard.
 * `subject` names the file in errors (a path on disk, the file name in the browser).
 */

/** head.bin's bytes (already checked against the manifest's size and SHA-256) as a head that agrees with the manifest. */
export function openTieredHead(bytes: Uint8Array, manifest: TieredManifest, subject = 'head.bin'): TieredHead {
  let head: TieredHead;
  try {
    head = readTieredHead(bytes);
  } catch (err) {
    throw new AppError('index-format', err instanceof Error ? err.message : String(err), subject);
  }
  if (head.dim !== manifest.encoder.dim || head.count !== manifest.count) {
    throw new AppError('index-format', `head.bin holds ${head.count} models of dimension ${head.dim}; the manifest says ${manifest.count} of ${manifest.encoder.dim}.`, subject);
  }
  // A sign-coded head and codes.bin come together, and codes.bin is exactly its blocks.
  const codes = manifest.files['codes.bin'];
  if (head.codeBlocks && !codes) throw new AppError('index-format', 'head.bin is sign-coded (its int8 means are in codes.bin), but the manifest lists no codes.bin.', subject);
  if (!head.codeBlocks && codes) throw new AppError('index-format', 'The manifest lists codes.bin, but head.bin holds its int8 means itself (not a sign-coded head).', subject);
  if (codes && codes.bytes !== head.count * codeBytesPerModel(head.dim)) {
    throw new AppError('index-format', `The manifest says codes.bin has ${codes.bytes} bytes; ${head.count} models of dimension ${head.dim} take ${head.count * codeBytesPerModel(head.dim)}.`, subject);
  }
  return head;
}

/** Block `b`'s metadata shard (meta/<b>.json, already checked against the head's MetaTable), parsed. */
export function parseMetaShard(bytes: Uint8Array, head: TieredHead, b: number, subject = `meta/${b}.json`): ModelMeta[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new AppError('index-format', `meta/${b}.json is not valid JSON.`, subject);
  }
  return parseModelMetaList(json, head.blocks[b]!.models, `meta/${b}.json`);
}

/** The metadata of `models`, each shard loaded once (`shard`, in parallel). */
export async function metaOfModels(head: TieredHead, models: readonly number[], shard: (b: number) => Promise<ModelMeta[]>): Promise<ModelMeta[]> {
  const blocks = [...new Set(models.map((m) => head.directory[m]!.block))];
  const lists = new Map(await Promise.all(blocks.map(async (b) => [b, await shard(b)] as const)));
  return models.map((m) => {
    const b = head.directory[m]!.block;
    return lists.get(b)![m - head.blocks[b]!.firstModel]!;
  });
}
