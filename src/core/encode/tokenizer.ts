/**
 * CLIP (ViT-B/32) text tokenizer.
 *
 * Pure TypeScript on top of `@huggingface/tokenizers`: no DOM and no Node APIs, so it runs in a Web
 * Worker as well as in Node. The caller loads `tokenizer.json` / `tokenizer_config.json` (see
 * `public/tokenizers/clip-vit-b32/`) and passes the parsed JSON in.
 *
 * Output follows `clip.tokenize(text, truncate=True)` with the padding convention of the Hugging
 * Face / Xenova ONNX export: `[SOT, ...content (≤ 75), EOT]`, padded to 77 with EOT (49407).
 * Normalisation (NFC, whitespace runs → one space, lower-casing), pre-tokenisation and byte-level
 * BPE are those defined by tokenizer.json and done by the library.
 */
import { Tokenizer } from '@huggingface/tokenizers';

/** Sequence length the CLIP text encoder expects. */
export const CLIP_CONTEXT_LENGTH = 77;
/** `<|startoftext|>` id. */
export const CLIP_SOT = 49406;
/** `<|endoftext|>` id; also the padding id of the HF/Xenova ONNX export. */
export const CLIP_EOT = 49407;

const SOT_TOKEN = '<|startoftext|>';
const EOT_TOKEN = '<|endoftext|>';
/** Room for content tokens between SOT and EOT. */
const MAX_CONTENT_TOKENS = CLIP_CONTEXT_LENGTH - 2;

export interface ClipTokenizer {
  /** Exactly 77 ids: SOT, up to 75 content tokens, EOT, then EOT padding. */
  encode(text: string): number[];
  /** Row-major `[texts.length, 77]` int64 ids, ready for an ORT `int64` tensor. */
  encodeBatch(texts: string[]): BigInt64Array;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Builds a CLIP tokenizer from the parsed contents of `tokenizer.json` and `tokenizer_config.json`.
 * Throws if the files are not objects or do not describe the CLIP vocabulary (special-token ids).
 */
export function createClipTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown): ClipTokenizer {
  if (!isPlainObject(tokenizerJson) || !isPlainObject(tokenizerJson.model)) {
    throw new TypeError(
      `createClipTokenizer: tokenizerJson must be the parsed tokenizer.json object (with a "model"), got ${describe(tokenizerJson)}`,
    );
  }
  if (!isPlainObject(tokenizerConfig)) {
    throw new TypeError(
      `createClipTokenizer: tokenizerConfig must be the parsed tokenizer_config.json object, got ${describe(tokenizerConfig)}`,
    );
  }

  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

  // The ONNX model was trained with these exact ids; refuse a tokenizer that disagrees.
  const vocab = tokenizer.get_vocab(true);
  const sot = vocab.get(SOT_TOKEN);
  const eot = vocab.get(EOT_TOKEN);
  if (sot !== CLIP_SOT || eot !== CLIP_EOT) {
    throw new Error(
      `createClipTokenizer: not a CLIP tokenizer: ${SOT_TOKEN}=${String(sot)}, ${EOT_TOKEN}=${String(eot)} ` +
        `(expected ${CLIP_SOT}, ${CLIP_EOT})`,
    );
  }

  const encodeInto = (text: unknown, out: { set(index: number, id: number): void }, where: string): void => {
    if (typeof text !== 'string') {
      throw new TypeError(`ClipTokenizer.${where}: text must be a string, got ${describe(text)}`);
    }
    // add_special_tokens: false -> content tokens only. The tokenizer.json post-processor
    // (RobertaProcessing) would add SOT/EOT itself, but the library does not truncate, and a
    // truncation must keep EOT as the last id, so we wrap and truncate here instead.
    const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const n = Math.min(content.length, MAX_CONTENT_TOKENS);
    out.set(0, CLIP_SOT);
    for (let i = 0; i < n; i++) out.set(i + 1, content[i]);
    for (let i = n + 1; i < CLIP_CONTEXT_LENGTH; i++) out.set(i, CLIP_EOT); // EOT, then EOT padding
  };

  return {
    encode(text: string): number[] {
      const ids = new Array<number>(CLIP_CONTEXT_LENGTH);
      encodeInto(text, { set: (i, id) => void (ids[i] = id) }, 'encode');
      return ids;
    },
    encodeBatch(texts: string[]): BigInt64Array {
      if (!Array.isArray(texts)) {
        throw new TypeError(`ClipTokenizer.encodeBatch: texts must be an array of strings, got ${describe(texts)}`);
      }
      const out = new BigInt64Array(texts.length * CLIP_CONTEXT_LENGTH);
      // Indexed loop, not forEach: a hole in a sparse array must fail validation, not stay zeros.
      for (let row = 0; row < texts.length; row++) {
        const base = row * CLIP_CONTEXT_LENGTH;
        encodeInto(texts[row], { set: (i, id) => void (out[base + i] = BigInt(id)) }, `encodeBatch[${row}]`);
      }
      return out;
    },
  };
}
