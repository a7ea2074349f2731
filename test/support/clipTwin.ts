import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { twinBuilt } from '../../tools/clip-twin/hub.ts';
import { ensureTwinIndex, type TwinIndex } from '../../tools/clip-twin/index.ts';

/**
 * The CLIP-shaped twin (tools/clip-twin: ViT-B/32-sized towers with random weights) and its
 * 12-model index, for the browser tests of the real CLIP path at real size.
 *
 * The twin is built by `/usr/bin/python3 tools/clip-twin/twin.py` (about 35 s and 2 GB of memory;
 * Debian's python3-torch, python3-onnx and python3-regex) when it is missing; the index by the real
 * `build-index --encoder clip-vit-b32` path against the twin served as the hub (about 25 s, only
 * when it is missing or stale). Where those packages are missing the tests are skipped with the
 * reason, except on CI (`CI` set), which installs them: there it is an error. A build that fails
 * with its packages present is an error everywhere.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = '/usr/bin/python3';

export async function ensureClipTwin(): Promise<{ skip?: string; index?: TwinIndex }> {
  if (!twinBuilt()) {
    const why = buildTwin();
    if (why) {
      if (process.env.CI) throw new Error(`The CLIP twin could not be built on CI: ${why}`);
      return { skip: `the CLIP twin is not built and cannot be built here: ${why}` };
    }
  }
  // The index is built with the product's own CLI path: a failure here is a failure, not a skip.
  return { index: await ensureTwinIndex({ log: () => {} }) };
}

/** Builds the twin; returns why it cannot be built here (its packages are missing), or undefined once it is built. */
function buildTwin(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, regex'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} cannot be run (${probe.error.message})`;
  if (probe.status !== 0) {
    const missing = /No module named '?([\w.]+)'?/.exec(probe.stderr)?.[1];
    return `${PYTHON} lacks ${missing ? `the module ${missing}` : 'torch, onnx or regex'} (apt-get install python3-torch python3-onnx python3-regex)`;
  }
  // With its packages present, a failing build is a bug of the build: an error, not a skip.
  const build = spawnSync(PYTHON, ['tools/clip-twin/twin.py'], { cwd: ROOT, stdio: 'inherit' });
  if (build.error || build.status !== 0) throw new Error(`tools/clip-twin/twin.py failed: ${build.error?.message ?? `exit ${build.status ?? build.signal}`}`);
  if (!twinBuilt()) throw new Error('tools/clip-twin/twin.py finished but the twin is incomplete');
  return undefined;
}
