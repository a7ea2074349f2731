import { join } from 'node:path';
import { ENCODERS } from '../../src/core/encoders.ts';
import { scoreMethod, type Method } from '../../src/core/methods.ts';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';

/** Scores a text query against an index folder in Node (onnxruntime-node), for comparison with the browser. */
export async function nodeTextScores(
  indexDir: string,
  text: string,
  method: Method = 'first-moment',
): Promise<{ ids: string[]; scores: Float32Array }> {
  const local = await openLocalIndex(join(PUBLIC_DIR, indexDir));
  const encoder = await NodeEncoder.load(ENCODERS[local.manifest.encoder.id]);
  const [query] = await encoder.encodeTexts([text]);
  return { ids: local.models.map((m) => m.id), scores: scoreMethod(local.index, method, query) };
}
