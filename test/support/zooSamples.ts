import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeModels } from '../../tools/zoo/cli.ts';
import { makeZoo } from '../../tools/zoo/spec.ts';
import { DEMO_MODELS } from '../../tools/build-demo-index.ts';

/**
 * Writes the first `samples` sample images of one demo model into `<out>/<id>/NN.png`: exactly the
 * files the demo index was built from (sample seeds 0…samples−1, 224 px), plus its model.json.
 * Returns the PNG paths in name order.
 */
export async function writeDemoSamples(id: string, samples: number, out: string): Promise<string[]> {
  const spec = makeZoo('eval', DEMO_MODELS).find((s) => s.id === id);
  if (!spec) throw new Error(`no demo model "${id}"`);
  await writeModels([spec], samples, out, () => {});
  const dir = join(out, id);
  return (await readdir(dir)).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, f));
}
