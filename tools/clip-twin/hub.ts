/**
 * A local stand-in for huggingface.co serving the CLIP-shaped twin (`npm run clip-twin`) under the
 * hub path of Xenova/clip-vit-base-patch32, so the app's and the CLI's real CLIP path
 * (`CLIP_VIT_B32`: `{modelHost}/Xenova/clip-vit-base-patch32/resolve/main/onnx/*_quantized.onnx`)
 * runs unchanged against it:
 *
 *   npm run clip-twin:hub [-- --port 4176] [--mbit 100] [--dir .cache/clip-twin]
 *
 * The twin's quantized towers are about 0.6 MB smaller than Xenova's, and the descriptor pins
 * Xenova's exact sizes (checked after every download), so the hub serves them padded to those sizes
 * with an unknown protobuf field that ONNX parsers skip (tools/lib/padOnnx.ts): the graph and its
 * outputs are the twin's, the byte count is CLIP's. Nothing in the product is told about the twin.
 *
 * Port 4176 is the extra host the test build admits (playwright.config.ts); a dev server admits it
 * with MODEL_SEARCH_CONNECT_SRC=http://127.0.0.1:4176 (README, "Switching from the demo to real CLIP").
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIP_VIT_B32 } from '../../src/core/encode/encoders.ts';
import { integer, number, parseCommandLine, runCommand, text } from '../lib/args.ts';
import { padOnnx } from '../lib/padOnnx.ts';
import { startStaticServer, type StaticServer } from '../lib/staticServer.ts';

export const TWIN_DIR = fileURLToPath(new URL('../../.cache/clip-twin/', import.meta.url));
/** The hub repository's path prefix of the descriptor's files. */
export const HUB_PREFIX = '/Xenova/clip-vit-base-patch32/resolve/main/';
export const HUB_PORT = 4176;

/** The towers' paths under HUB_PREFIX, with the size the descriptor pins for each. */
export const PINNED_TOWERS: Record<string, number> = {
  [towerPath(CLIP_VIT_B32.text.url)]: CLIP_VIT_B32.text.bytes!,
  [towerPath(CLIP_VIT_B32.vision.url)]: CLIP_VIT_B32.vision.bytes!,
};

function towerPath(url: string): string {
  const at = url.indexOf(HUB_PREFIX);
  if (at < 0) throw new Error(`CLIP_VIT_B32 file ${url} is not under ${HUB_PREFIX}`);
  return url.slice(at + HUB_PREFIX.length);
}

/** Whether the twin has been built (its manifest is there). */
export function twinBuilt(dir = TWIN_DIR): boolean {
  return existsSync(join(dir, 'twin.json')) && Object.keys(PINNED_TOWERS).every((p) => existsSync(join(dir, p)));
}

export interface TwinHubOptions {
  port?: number;
  dir?: string;
  /** Bytes per second for the towers (undefined: full speed); read per request. */
  towerBytesPerSecond?: () => number | undefined;
  /** Held before a file's bytes are sent (path relative to the hub prefix, e.g. onnx/vision_model_quantized.onnx). */
  gate?: (path: string) => Promise<void> | undefined;
}

/** Serves the twin as the hub; the towers padded to the descriptor's pinned sizes (once, then kept). */
export async function startTwinHub(opts: TwinHubOptions = {}): Promise<StaticServer> {
  const dir = resolve(opts.dir ?? TWIN_DIR);
  if (!twinBuilt(dir)) throw new Error(`The CLIP twin is not built in ${dir}: run \`npm run clip-twin\` first (needs Debian's python3-torch and python3-onnx).`);
  const padded = new Map<string, Buffer>();
  for (const [path, size] of Object.entries(PINNED_TOWERS)) {
    const raw = readFileSync(join(dir, path));
    if (raw.length > size) throw new Error(`${path} has ${raw.length} bytes, more than the ${size} CLIP_VIT_B32 pins: it cannot be padded to it.`);
    padded.set(path, padOnnx(raw, size));
  }
  return startStaticServer({
    root: dir,
    port: opts.port ?? HUB_PORT,
    prefix: HUB_PREFIX,
    headers: { 'Access-Control-Allow-Origin': '*' },
    transform: (path, body) => padded.get(path) ?? body,
    throttle: (path) => (padded.has(path) ? opts.towerBytesPerSecond?.() : undefined),
    gate: opts.gate,
  });
}

/** The model host to give the app (`?modelHost=`) or the CLI (`--model-host`) for a hub served at `server.url`. */
export function modelHostOf(server: StaticServer): string {
  return server.url.slice(0, -HUB_PREFIX.length);
}

const USAGE = 'usage: npm run clip-twin:hub -- [--port 4176] [--mbit <Mbit/s for the towers>] [--dir .cache/clip-twin]';

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCommand(USAGE, async () => {
    const { values: args } = parseCommandLine(process.argv.slice(2), { port: integer({ min: 1, max: 65535, default: HUB_PORT }), mbit: number({ min: 0.1 }), dir: text() });
    const rate = args.mbit === undefined ? undefined : (args.mbit * 1e6) / 8;
    const server = await startTwinHub({ port: args.port, dir: args.dir, towerBytesPerSecond: () => rate });
    const host = modelHostOf(server);
    console.log(`CLIP twin hub at ${host} (towers padded to CLIP_VIT_B32's sizes${rate ? `, ${args.mbit} Mbit/s` : ''})`);
    console.log(`  app:  ?modelHost=${encodeURIComponent(host)}   (the build must admit it: MODEL_SEARCH_CONNECT_SRC=${host})`);
    console.log(`  CLI:  --model-host ${host}`);
    await new Promise(() => {}); // until Ctrl-C
  });
}
