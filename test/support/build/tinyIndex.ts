import type { IndexDirInput } from '../../../tools/lib/writeIndexDir.ts';

/** A 3-model, 4-dimensional index input for writeIndexDir (no encoder needed), named `name`. */
export function tinyIndexInput(name: string): IndexDirInput {
  const dim = 4;
  const means = Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0);
  const models = [0, 1, 2].map((i) => ({ id: `m${i}`, name: `Model ${i}`, description: '', family: '', creator: '', licence: 'CC0-1.0', resolution: '', links: [], thumbnails: [] }));
  return { name, createdWith: 'test', encoder: { id: 'test-encoder', dim }, licence: 'CC0-1.0', models, index: { dim, means } };
}
