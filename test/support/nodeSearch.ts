import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENCODERS } from '../../src/core/encoders.ts';
import { readIndex } from '../../src/core/indexFormat.ts';
import { parseManifest, parseModels } from '../../src/core/manifest.ts';
import { firstMomentScores, rowNorms } from '../../src/core/scoring.ts';
import { NodeEncoder, PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';

/** Scores a text query against an index folder in Node (onnxruntime-node), for comparison with the browser. */
export async function nodeTextScores(indexDir: string, text: string): Promise<{ ids: string[]; scores: Float32Array }> {
  const dir = join(PUBLIC_DIR, indexDir);
  const manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  const index = readIndex(new Uint8Array(await readFile(join(dir, 'index.bin'))));
  const models = parseModels(JSON.parse(await readFile(join(dir, 'models.json'), 'utf8')), index.count);
  const encoder = await NodeEncoder.load(ENCODERS[manifest.encoder.id]);
  const [query] = await encoder.encodeTexts([text]);
  const scores = firstMomentScores(index.means, rowNorms(index.means, index.count, index.dim), index.dim, query);
  return { ids: models.map((m) => m.id), scores };
}
