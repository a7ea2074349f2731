import { writeIndex } from '../../src/core/index/indexFormat.ts';
import { MANIFEST_FORMAT, type IndexManifest, type ModelMeta } from '../../src/core/index/manifest.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';

/** An in-memory index folder (manifest.json, index.bin, models.json) for serving from a test route. */
export async function makeFixtureIndex(
  encoder: { id: string; dim: number },
  models: ModelMeta[],
  means: Float32Array,
): Promise<Record<string, Buffer>> {
  const bin = writeIndex({ dim: encoder.dim, means });
  const modelsJson = new TextEncoder().encode(JSON.stringify(models));
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: 'fixture',
    createdWith: 'test/support/fixtureIndex.ts',
    encoder,
    count: models.length,
    licence: 'CC0-1.0',
    files: {
      'index.bin': { bytes: bin.byteLength, sha256: await sha256Hex(bin) },
      'models.json': { bytes: modelsJson.byteLength, sha256: await sha256Hex(modelsJson) },
    },
  };
  return {
    'manifest.json': Buffer.from(JSON.stringify(manifest)),
    'index.bin': Buffer.from(bin),
    'models.json': Buffer.from(modelsJson),
  };
}

/** Simple metadata for `n` fixture models. */
export function fixtureModels(n: number): ModelMeta[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `fixture-${i}`,
    name: `Fixture model ${i}`,
    description: '',
    family: 'fixture',
    creator: 'tests',
    licence: 'CC0-1.0',
    resolution: '',
    links: [],
    thumbnails: [],
  }));
}
