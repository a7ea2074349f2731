import { indexTemperatureFor } from '../encode/encoders.ts';
import { AppError } from '../io/errors.ts';
import { verifyBytes } from '../io/fetchBytes.ts';
import { IndexModelError, readIndex, type SearchIndex } from './indexFormat.ts';
import { decodeVectors } from '../scoring/matchQuality.ts';
import { parseManifest, parseModels, type FileEntry, type IndexManifest, type MatchCalibration, type ModelMeta } from './manifest.ts';

/** The files an index folder lists in its manifest. */
export type IndexFileName = 'index.bin' | 'models.json';

/**
 * Where an index's files come from: the network (the worker, with offline storage), a folder on
 * disk (the CLIs), or a shard being merged. `read` may verify on its own; openIndex checks again.
 */
export interface IndexSource {
  /** Names the index in error messages (a URL or a folder path). */
  where: string;
  manifest(): Promise<Uint8Array>;
  read(file: IndexFileName, entry: FileEntry): Promise<Uint8Array>;
  /** `read` itself checks size and SHA-256 against the entry (the worker's verified download): not hashed again. */
  verifiesReads?: boolean;
}

/** A verified, parsed index: everything ranking needs. */
export interface OpenedIndex {
  manifest: IndexManifest;
  /** The manifest's exact bytes (its SHA-256 is the version offline storage records). */
  manifestBytes: Uint8Array;
  models: ModelMeta[];
  index: SearchIndex;
  /** Model id → position (ids are unique: parseModels rejects duplicates). */
  ids: Map<string, number>;
  /** T for Monte-Carlo and 1st+2nd moment: the manifest's, else the encoder's logit scale. */
  temperature: number;
  /** The build's "nothing matches" calibration, when the index has one, and its content-free text embeddings. */
  calibration?: MatchCalibration;
  nullText: Float32Array[];
}

function parseJson(bytes: Uint8Array, what: string, subject: string): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    // Static hosts and dev servers answer a missing file with their HTML page (often with status 200).
    if (/^\s*</.test(text)) throw new AppError('http', `${what} was not found: the server sent a web page instead (is there an index at this address?).`, subject);
    throw new AppError('index-format', `${what} is not valid JSON.`, subject);
  }
}

/** The temperature an index's scores use (see BuildParams.temperature and EncoderDescriptor.logitScale). */
export function indexTemperature(manifest: Pick<IndexManifest, 'encoder' | 'params'>): number {
  const t = indexTemperatureFor(manifest.encoder.id, manifest.params?.temperature);
  if (t === undefined) {
    throw new AppError('encoder-unknown', `The index was built with an unknown encoder "${manifest.encoder.id}" and records no temperature.`);
  }
  return t;
}

/**
 * The one way to open an index: parses the manifest, reads index.bin and models.json, checks each
 * file's size and SHA-256 against the manifest, validates the binary, checks it agrees with the
 * manifest, and parses the metadata (unique ids). Any failure is an AppError naming the file.
 */
export async function openIndex(source: IndexSource): Promise<OpenedIndex> {
  const manifestBytes = await source.manifest();
  const manifest = parseManifest(parseJson(manifestBytes, 'The index manifest', `${source.where}manifest.json`));
  const verified = async (file: IndexFileName) => {
    const entry = manifest.files[file];
    const bytes = await source.read(file, entry);
    return verifyBytes(bytes, source.verifiesReads ? { bytes: entry.bytes } : entry, `${source.where}${file}`);
  };
  const [binary, modelsBytes] = await Promise.all([verified('index.bin'), verified('models.json')]);
  const index = readIndexNamingModels(binary, modelsBytes);
  if (index.count !== manifest.count || index.dim !== manifest.encoder.dim) {
    throw new AppError('index-format', 'The index file does not match its manifest (count or dimension).', 'index.bin');
  }
  const models = parseModels(parseJson(modelsBytes, 'models.json', 'models.json'), index.count);
  const ids = new Map(models.map((m, i) => [m.id, i]));
  const calibration = manifest.calibration;
  return { manifest, manifestBytes, models, index, ids, temperature: indexTemperature(manifest), calibration, nullText: decodeVectors(calibration?.nullText ?? []) };
}

/** readIndex, with a model the binary gets wrong named by its id and name from models.json when they parse. */
function readIndexNamingModels(binary: Uint8Array, modelsBytes: Uint8Array): SearchIndex {
  try {
    return readIndex(binary);
  } catch (err) {
    if (!(err instanceof IndexModelError)) throw err;
    let label = '';
    try {
      const meta = (JSON.parse(new TextDecoder().decode(modelsBytes)) as unknown[])[err.model] as { id?: unknown; name?: unknown } | undefined;
      if (typeof meta?.id === 'string') label = ` “${String(meta.name ?? '').slice(0, 80)}” (id ${meta.id.slice(0, 80)})`;
    } catch {
      // models.json is checked next, with its own message; the model number alone still names it.
    }
    throw new AppError('index-format', `The index file is invalid: model #${err.model}${label} ${err.problem}.`, err.subject);
  }
}
