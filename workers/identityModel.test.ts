import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { identityModel } from './identityModel.ts';

describe('identityModel', () => {
  it('is a valid ONNX model that onnxruntime loads and runs: y = x', async () => {
    const session = await ort.InferenceSession.create(identityModel());
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.of(2.5), [1]) });
    expect(y.dims).toEqual([1]);
    expect(Array.from(y.data as Float32Array)).toEqual([2.5]);
    await session.release();
  });

  it('is tiny (it only exists to start the runtime)', () => {
    expect(identityModel().byteLength).toBeLessThan(100);
  });
});
