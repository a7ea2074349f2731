/**
 * Content images for the style zoo, rendered by the procedural zoo (tools/zoo). Only zoo models
 * whose own image-space style is `flat` are used, so the content carries no style of its own.
 *
 * - reference set S: the first flat models of the EVAL zoo, one image each, sample seeds from
 *   REFERENCE_SEED_BASE (reserved for the reference set);
 * - query content: the next flat EVAL models (never in S), sample seeds from QUERY_SEED_BASE;
 * - training content (for the learned projection): flat models of the TRAIN zoo, sample seeds
 *   from TRAIN_SEED_BASE — disjoint from both (train and eval zoos never share a parameter tuple).
 *
 * Smaller sets are prefixes of larger ones, and the query models always start after the largest
 * reference set, so quick and full runs share their cache and never mix S with queries.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeCanvasFactory } from '../zoo/node.ts';
import { renderSample } from '../zoo/render.ts';
import { makeZoo, type Split, type ZooModelSpec } from '../zoo/spec.ts';
import type { RgbaPixels } from './transforms.ts';

export const CONTENT_SIZE = 224;
const REFERENCE_SEED_BASE = 0x5e700000;
const QUERY_SEED_BASE = 0x5e710000;
const TRAIN_SEED_BASE = 0x5e720000;
/** The largest reference set: query models start after it. */
export const MAX_REFERENCE = 32;

export interface ContentImage {
  /** Unique, file-name safe: `<spec id>@<sample seed>`. */
  key: string;
  spec: ZooModelSpec;
  sampleSeed: number;
  role: 'reference' | 'query' | 'train';
}

export interface ContentSets {
  reference: ContentImage[];
  query: ContentImage[];
  train: ContentImage[];
}

/** The first `n` models of `split` whose style is flat. */
function flatSpecs(split: Split, n: number): ZooModelSpec[] {
  for (let size = 4 * n + 40; ; size *= 2) {
    const flat = makeZoo(split, size).filter((s) => s.style === 'flat');
    if (flat.length >= n) return flat.slice(0, n);
    if (size > 100_000) throw new Error(`The ${split} zoo has fewer than ${n} flat models.`);
  }
}

export function contentSets(sizes: { reference: number; query: number; train: number }): ContentSets {
  if (sizes.reference > MAX_REFERENCE) throw new Error(`At most ${MAX_REFERENCE} reference images.`);
  const evalFlat = flatSpecs('eval', MAX_REFERENCE + sizes.query);
  const trainFlat = flatSpecs('train', sizes.train);
  const img = (spec: ZooModelSpec, sampleSeed: number, role: ContentImage['role']): ContentImage => ({
    key: `${spec.id}@${sampleSeed}`,
    spec,
    sampleSeed,
    role,
  });
  const sets: ContentSets = {
    reference: evalFlat.slice(0, sizes.reference).map((s, k) => img(s, REFERENCE_SEED_BASE + k, 'reference')),
    query: evalFlat.slice(MAX_REFERENCE, MAX_REFERENCE + sizes.query).map((s, k) => img(s, QUERY_SEED_BASE + k, 'query')),
    train: trainFlat.map((s, k) => img(s, TRAIN_SEED_BASE + k, 'train')),
  };
  // Disjointness is a property the evaluation relies on: check it rather than assume it.
  const ids = [...sets.reference, ...sets.query, ...sets.train].map((c) => c.spec.id);
  if (new Set(ids).size !== ids.length) throw new Error('Content sets share a zoo model.');
  return sets;
}

/** Renders (or reads from `cacheDir`) one content image as RGBA. */
export async function renderContent(c: ContentImage, cacheDir: string): Promise<RgbaPixels> {
  const bytes = CONTENT_SIZE * CONTENT_SIZE * 4;
  const path = join(cacheDir, `${c.key}.rgba`);
  try {
    const buf = await readFile(path);
    if (buf.byteLength === bytes) return { data: new Uint8ClampedArray(buf.buffer, buf.byteOffset, bytes), width: CONTENT_SIZE, height: CONTENT_SIZE };
  } catch {
    // not cached yet
  }
  const data = renderSample(c.spec, c.sampleSeed, nodeCanvasFactory, CONTENT_SIZE);
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
  return { data, width: CONTENT_SIZE, height: CONTENT_SIZE };
}
