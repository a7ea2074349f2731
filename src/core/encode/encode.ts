import type { InferenceSession, Tensor } from 'onnxruntime-web';
import type { EncoderDescriptor } from './encoders.ts';
import { l2normalize } from '../math/vectors.ts';

/** The part of an onnxruntime module we need; satisfied by onnxruntime-web and onnxruntime-node. */
export interface OrtTensorFactory {
  Tensor: typeof Tensor;
}

/** Splits a row-major [n, dim] output into unit-length rows (CLIP projections are not normalised). */
function normalizedRows(data: Float32Array, n: number, dim: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let i = 0; i < n; i++) rows.push(l2normalize(data.slice(i * dim, (i + 1) * dim)));
  return rows;
}

async function runTower(
  ort: OrtTensorFactory,
  session: InferenceSession,
  input: string,
  output: string,
  tensor: Tensor,
  n: number,
  dim: number,
): Promise<Float32Array[]> {
  const results = await session.run({ [input]: tensor });
  const out = results[output];
  if (!out) throw new Error(`The encoder has no output named "${output}".`);
  const data = (await out.getData()) as Float32Array;
  if (data.length !== n * dim) {
    throw new Error(`The encoder returned ${data.length / Math.max(n, 1)} dimensions, expected ${dim}.`);
  }
  for (const t of Object.values(results)) t.dispose();
  return normalizedRows(data, n, dim);
}

/** Runs the text tower on `n` rows of token ids ([n, contextLength] int64). */
export function encodeTokenIds(
  ort: OrtTensorFactory,
  session: InferenceSession,
  desc: EncoderDescriptor,
  ids: BigInt64Array,
  n: number,
): Promise<Float32Array[]> {
  const tensor = new ort.Tensor('int64', ids, [n, desc.contextLength]);
  return runTower(ort, session, desc.inputs.text, desc.outputs.text, tensor, n, desc.dim);
}

/** Runs the vision tower on `n` preprocessed images ([n, 3, size, size] float32). */
export function encodePixelValues(
  ort: OrtTensorFactory,
  session: InferenceSession,
  desc: EncoderDescriptor,
  pixels: Float32Array,
  n: number,
): Promise<Float32Array[]> {
  const s = desc.image.size;
  const tensor = new ort.Tensor('float32', pixels, [n, 3, s, s]);
  return runTower(ort, session, desc.inputs.vision, desc.outputs.vision, tensor, n, desc.dim);
}
