/**
 * Encoder descriptors: everything needed to fetch, verify and run a CLIP-compatible
 * two-tower encoder. An index names its encoder by id; the worker refuses a mismatch.
 */
export interface EncoderFile {
  /** Relative to the app's base URL, or absolute (`{modelHost}` is replaced). */
  url: string;
  /** Known size in bytes (checked after download when given). */
  bytes?: number;
  /**
   * Known SHA-256 hex, checked after download and on every read of the saved copy. Without it the
   * worker trusts the first download: its hash is recorded and every later read must match it
   * (workers/storage/trustOnFirstUse.ts, docs/security.md).
   */
  sha256?: string;
}

/** A file's exact size and SHA-256 (lower-case hex). */
export interface FilePin {
  bytes: number;
  sha256: string;
}

export interface EncoderDescriptor {
  id: string;
  label: string;
  dim: number;
  text: EncoderFile;
  vision: EncoderFile;
  inputs: { text: string; vision: string };
  outputs: { text: string; vision: string };
  /** Tokenizer files, relative to the app's base URL. */
  tokenizer: {
    json: string;
    config: string;
    /**
     * Size and SHA-256 of both files, so the worker verifies them and keeps them in offline storage
     * (a unit test checks them against public/tokenizers). Without pins they come from the network.
     */
    pinned?: { json: FilePin; config: FilePin };
  };
  contextLength: number;
  image: { size: number; mean: [number, number, number]; std: [number, number, number] };
  /**
   * The encoder's learned logit scale T (CLIP's exp(logit_scale)): the temperature of the
   * Monte-Carlo and 1st+2nd-moment scores. It belongs to the encoder: 100 for OpenAI CLIP,
   * whatever another encoder learned for its own.
   */
  logitScale: number;
}

const DEFAULT_MODEL_HOST = 'https://huggingface.co';

const CLIP_IMAGE = {
  size: 224,
  mean: [0.48145466, 0.4578275, 0.40821073] as [number, number, number],
  std: [0.26862954, 0.26130258, 0.27577711] as [number, number, number],
};
const CLIP_IO = {
  inputs: { text: 'input_ids', vision: 'pixel_values' },
  outputs: { text: 'text_embeds', vision: 'image_embeds' },
  tokenizer: {
    json: 'tokenizers/clip-vit-b32/tokenizer.json',
    config: 'tokenizers/clip-vit-b32/tokenizer_config.json',
    pinned: {
      json: { bytes: 3_887_151, sha256: 'eafd713b5c621447fa92db4d23139c0bc3edf326c890d95470e758f054ec147d' },
      config: { bytes: 806, sha256: '2c343c3610f51fe223f10982ed043fc9599b8dc509c7b19af625ff0f7965dc1d' },
    },
  },
  contextLength: 77,
  image: CLIP_IMAGE,
};

/**
 * OpenAI CLIP ViT-B/32 as exported by Xenova (quantized), fetched from the model host at run time.
 * Sizes pinned; the hub's SHA-256s could not be fetched on our build machines, so the towers' hashes
 * are trusted on first use (set `sha256` here to pin them).
 */
export const CLIP_VIT_B32: EncoderDescriptor = {
  id: 'clip-vit-b32',
  label: 'CLIP ViT-B/32 (quantized)',
  dim: 512,
  logitScale: 100,
  text: { url: '{modelHost}/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model_quantized.onnx', bytes: 64_504_507 },
  vision: { url: '{modelHost}/Xenova/clip-vit-base-patch32/resolve/main/onnx/vision_model_quantized.onnx', bytes: 89_117_001 },
  ...CLIP_IO,
};

/**
 * A tiny deterministic encoder with CLIP's exact I/O (tools/test-encoder): colour-aware,
 * used as the test fixture and by the skeleton's demo index.
 */
export const TEST_ENCODER: EncoderDescriptor = {
  id: 'test-encoder',
  label: 'Test encoder (colour, 32-d)',
  dim: 32,
  // Hand-made, never trained: it takes CLIP's value, so its indexes score like CLIP's.
  logitScale: 100,
  text: { url: 'encoders/test-encoder/text_model.onnx', bytes: 525_309, sha256: 'cd5d062f17e40b51989d946886eba6d06a4c143b61b16bf0783847326687885c' },
  vision: { url: 'encoders/test-encoder/vision_model.onnx', bytes: 6_894, sha256: '57185c9c0d5c17cfca73086ea8caef119115b058fe695899abdff9b8caeb7465' },
  ...CLIP_IO,
};

/**
 * A small CLIP-compatible two-tower encoder trained by this project on its procedural training
 * zoo (tools/zoo-encoder): CLIP's exact I/O and preprocessing, 64-d embeddings. The demo index
 * is built with it.
 */
export const ZOO_ENCODER: EncoderDescriptor = {
  id: 'zoo-encoder',
  label: 'Zoo encoder (64-d, trained on the procedural zoo)',
  dim: 64,
  // exp(logit_scale) the encoder learned (tools/zoo-encoder/train-log.txt, last epoch "T_it";
  // export.py writes it to test/fixtures/zoo-encoder-parity.json, checked by a unit test).
  logitScale: 22.481,
  text: { url: 'encoders/zoo-encoder/text_model.onnx', bytes: 7_637_931, sha256: '71e97db8d9024f404a4a18a6d3b9f3f6f31b6f99f73f82151af4f41c3777c0e1' },
  vision: { url: 'encoders/zoo-encoder/vision_model.onnx', bytes: 1_554_493, sha256: 'de6255493ff307d2ed14e659dfd28a9b8c480f7def240fd58ec42a643bd25313' },
  ...CLIP_IO,
};

export const ENCODERS: Record<string, EncoderDescriptor> = {
  [CLIP_VIT_B32.id]: CLIP_VIT_B32,
  [TEST_ENCODER.id]: TEST_ENCODER,
  [ZOO_ENCODER.id]: ZOO_ENCODER,
};

/** Resolves a descriptor file URL against the app base and the configured model host. */
export function resolveEncoderUrl(file: EncoderFile, appBase: string, modelHost = DEFAULT_MODEL_HOST): string {
  const url = file.url.replace('{modelHost}', modelHost.replace(/\/+$/, ''));
  return new URL(url, appBase).href;
}

/**
 * The temperature of an index: the one it recorded at build time, else its encoder's logit scale;
 * undefined for an unknown encoder that recorded none.
 */
export function indexTemperatureFor(encoderId: string, recorded?: number): number | undefined {
  return recorded ?? ENCODERS[encoderId]?.logitScale;
}
