import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DType, SectionKind, writeIndex } from '../../src/core/indexFormat.ts';
import { MANIFEST_FORMAT, type IndexManifest, type ModelMeta } from '../../src/core/manifest.ts';
import { sha256Hex } from '../../src/core/sha256.ts';

export interface IndexDirInput {
  name: string;
  createdWith: string;
  encoder: { id: string; dim: number };
  licence: string;
  models: ModelMeta[];
  /** Row-major [count, dim]. */
  means: Float32Array;
}

/** Writes manifest.json + index.bin + models.json into `outDir` atomically (temp dir, then rename). */
export async function writeIndexDir(outDir: string, input: IndexDirInput): Promise<IndexManifest> {
  const count = input.models.length;
  const bin = writeIndex(input.encoder.dim, count, [
    { kind: SectionKind.Means, dtype: DType.F32, data: new Uint8Array(input.means.buffer, input.means.byteOffset, input.means.byteLength) },
  ]);
  const modelsJson = new TextEncoder().encode(JSON.stringify(input.models, null, 1) + '\n');
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: input.name,
    createdWith: input.createdWith,
    encoder: input.encoder,
    count,
    licence: input.licence,
    files: {
      'index.bin': { bytes: bin.byteLength, sha256: await sha256Hex(bin) },
      'models.json': { bytes: modelsJson.byteLength, sha256: await sha256Hex(modelsJson) },
    },
  };
  const tmp = join(dirname(outDir), `.${input.name}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'index.bin'), bin);
  await writeFile(join(tmp, 'models.json'), modelsJson);
  await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await rm(outDir, { recursive: true, force: true });
  await rename(tmp, outDir);
  return manifest;
}
