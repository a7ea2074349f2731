import { join } from 'node:path';
import { ENCODERS } from '../../src/core/encode/encoders.ts';
import { scoreMethod, type Method, type MethodParams } from '../../src/core/scoring/methods.ts';
import { openLocalIndex } from '../../tools/lib/localIndex.ts';
import { NodeEncoder, PUBLIC_DIR } from '../../tools/lib/nodeEncoder.ts';
import { decodeImage } from '../../tools/lib/indexBuilder/imageDecode.ts';
import { preprocessRgba } from '../../src/core/encode/preprocess.ts';

/** Scores a text query against an index folder in Node (onnxruntime-node), for comparison with the browser. */
export async function nodeTextScores(
  indexDir: string,
  text: string,
  method: Method = 'first-moment',
  params?: MethodParams,
): Promise<{ ids: string[]; scores: Float32Array }> {
  const local = await openLocalIndex(join(PUBLIC_DIR, indexDir));
  const encoder = await NodeEncoder.load(ENCODERS[local.manifest.encoder.id]);
  const [query] = await encoder.encodeTexts([text]);
  // The index's own temperature, as rank() uses it (the encoder's logit scale).
  return { ids: local.models.map((m) => m.id), scores: scoreMethod(local.index, method, query, { temperature: local.temperature, ...params }) };
}

/** The loaded index and its encoder, for building reference scores of any query in Node. */
export async function nodeIndex(indexDir: string) {
  const local = await openLocalIndex(join(PUBLIC_DIR, indexDir));
  const encoder = await NodeEncoder.load(ENCODERS[local.manifest.encoder.id]);
  const desc = ENCODERS[local.manifest.encoder.id];
  return {
    ...local,
    ids: local.models.map((m) => m.id),
    encodeText: async (text: string) => (await encoder.encodeTexts([text]))[0],
    /** Decoded and preprocessed like the index builder (sharp, EXIF applied), then the vision tower. */
    encodeImage: async (bytes: Uint8Array) => {
      const decoded = await decodeImage(bytes);
      if (!decoded.ok) throw new Error(decoded.reason);
      return (await encoder.encodeImages(preprocessRgba(decoded.image, desc.image), 1))[0];
    },
  };
}
