import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readIndex, writeIndex, type IndexInput, type SearchIndex } from '../../src/core/index/indexFormat.ts';
import { MANIFEST_FORMAT, type BuildParams, type IndexManifest, type MatchCalibration, type ModelMeta } from '../../src/core/index/manifest.ts';
import { indexTemperatureFor } from '../../src/core/encode/encoders.ts';
import { sha256Hex } from '../../src/core/io/sha256.ts';

export interface IndexDirInput {
  name: string;
  createdWith: string;
  encoder: { id: string; dim: number };
  licence: string;
  models: ModelMeta[];
  index: IndexInput;
  params?: BuildParams;
  examples?: string[];
  /** Extra files (e.g. thumbnails), by path relative to the index folder. */
  extraFiles?: Map<string, Uint8Array>;
  /**
   * Measures the index's "nothing matches" calibration from the written bytes (tools/lib/calibrate.ts
   * with the index's encoder); without it the manifest has no calibration.
   */
  calibrate?: (index: SearchIndex, temperature: number) => Promise<MatchCalibration>;
}

class OutputExistsError extends Error {}

/** Every index records the temperature (its encoder's logit scale) its Monte-Carlo and 1st+2nd-moment scores use. */
function withTemperature(encoderId: string, params: BuildParams = {}): BuildParams {
  const temperature = indexTemperatureFor(encoderId, params.temperature);
  if (temperature === undefined) throw new Error(`Unknown encoder "${encoderId}": give params.temperature for its logit scale.`);
  return { ...params, temperature };
}

/**
 * Writes manifest.json + index.bin + models.json (+ extra files) into `outDir` atomically:
 * everything goes into a temp folder beside it, which is renamed into place only when complete,
 * so a crash never leaves a half-written index. Refuses to replace an existing folder unless `force`.
 */
export async function writeIndexDir(outDir: string, input: IndexDirInput, opts: { force?: boolean } = {}): Promise<IndexManifest> {
  const exists = await access(outDir).then(() => true, () => false);
  if (exists && !opts.force) throw new OutputExistsError(`${outDir} already exists (use --force to replace it).`);
  if (input.models.length * input.encoder.dim !== input.index.means.length) {
    throw new Error('models and means disagree on the model count');
  }
  const bin = writeIndex(input.index);
  const params = withTemperature(input.encoder.id, input.params);
  const calibration = input.calibrate ? await input.calibrate(readIndex(bin), params.temperature!) : undefined;
  const modelsJson = new TextEncoder().encode(JSON.stringify(input.models, null, 1) + '\n');
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    name: input.name,
    createdWith: input.createdWith,
    encoder: input.encoder,
    count: input.models.length,
    licence: input.licence,
    files: {
      'index.bin': { bytes: bin.byteLength, sha256: await sha256Hex(bin) },
      'models.json': { bytes: modelsJson.byteLength, sha256: await sha256Hex(modelsJson) },
    },
    params,
    ...(input.examples?.length ? { examples: input.examples } : {}),
    ...(calibration ? { calibration } : {}),
  };
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    await writeFile(join(tmp, 'index.bin'), bin);
    await writeFile(join(tmp, 'models.json'), modelsJson);
    for (const [path, bytes] of input.extraFiles ?? []) {
      await mkdir(dirname(join(tmp, path)), { recursive: true });
      await writeFile(join(tmp, path), bytes);
    }
    // The manifest goes last: a folder without one is never mistaken for an index.
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    if (exists) {
      const old = `${tmp}.old`;
      await rename(outDir, old);
      await rename(tmp, outDir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, outDir);
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
