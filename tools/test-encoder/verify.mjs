// Checks the test encoder in public/encoders/test-encoder/ with onnxruntime-node:
// I/O names and shapes, unit-norm outputs, batch == single runs, padding has no
// effect, and that every colour word ranks its own solid-colour image first
// (required for the 8 basic colours; near-synonyms may be confused).
// Prints the sha256 and byte size of each file. Exit code 1 on a failed check.
//
//   node tools/test-encoder/verify.mjs

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const DIR = new URL('../../public/encoders/test-encoder/', import.meta.url);
const D = 32;
const SOT = 49406;
const EOT = 49407;
const MAX_LEN = 77;
const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

// Same colours as make_test_encoder.py; ids = CLIP BPE token ids of the word.
const COLOURS = [
  ['red', [255, 0, 0], [736]],
  ['green', [0, 160, 0], [1901]],
  ['blue', [0, 0, 255], [1746]],
  ['yellow', [255, 255, 0], [4481]],
  ['orange', [255, 165, 0], [4287]],
  ['purple', [128, 0, 128], [5496]],
  ['pink', [255, 192, 203], [3360]],
  ['black', [0, 0, 0], [1449]],
  ['white', [255, 255, 255], [1579]],
  ['brown', [139, 69, 19], [2866]],
  ['cyan', [0, 255, 255], [1470, 550]], // "cy" + "an</w>"
  ['magenta', [255, 0, 255], [38091]],
  ['teal', [0, 128, 128], [22821]],
  ['navy', [0, 0, 128], [5598]],
  ['violet', [138, 43, 226], [16118]],
  ['crimson', [220, 20, 60], [19437]],
  ['gold', [255, 215, 0], [2209]],
  ['lime', [0, 255, 0], [11193]],
];
const BASIC = ['red', 'green', 'blue', 'yellow', 'black', 'white', 'orange', 'purple'];
// "a photo of W things" = [SOT, a, photo, of, ...W, things, EOT]
const PHOTO_OF = [320, 1125, 539];
const THINGS = 1739;

let failures = 0;
function check(ok, msg) {
  if (!ok) {
    failures++;
    console.log(`FAIL: ${msg}`);
  }
}

function idsTensor(seqs, padTo) {
  const len = padTo ?? Math.max(...seqs.map((s) => s.length));
  const data = new BigInt64Array(seqs.length * len).fill(BigInt(EOT));
  seqs.forEach((s, i) => s.forEach((t, j) => (data[i * len + j] = BigInt(t))));
  return new ort.Tensor('int64', data, [seqs.length, len]);
}

function imagesTensor(pixelFns) {
  const hw = 224 * 224;
  const data = new Float32Array(pixelFns.length * 3 * hw);
  pixelFns.forEach((fn, b) => {
    for (let y = 0; y < 224; y++)
      for (let x = 0; x < 224; x++) {
        const rgb = fn(x, y);
        for (let c = 0; c < 3; c++) data[b * 3 * hw + c * hw + y * 224 + x] = (rgb[c] / 255 - MEAN[c]) / STD[c];
      }
  });
  return new ort.Tensor('float32', data, [pixelFns.length, 3, 224, 224]);
}

const solid = (rgb) => () => rgb;
const rows = (t) => Array.from({ length: t.dims[0] }, (_, i) => Array.from(t.data.slice(i * D, (i + 1) * D)));
const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a) => Math.sqrt(dot(a, a));
const maxAbsDiff = (a, b) => Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])));

async function fileInfo(name) {
  const buf = await readFile(new URL(name, DIR));
  return { name, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

const text = await ort.InferenceSession.create(fileURLToPath(new URL('text_model.onnx', DIR)));
const vision = await ort.InferenceSession.create(fileURLToPath(new URL('vision_model.onnx', DIR)));
console.log(`text:   inputs ${text.inputNames} -> outputs ${text.outputNames}`);
console.log(`vision: inputs ${vision.inputNames} -> outputs ${vision.outputNames}`);
check(text.inputNames.join() === 'input_ids' && text.outputNames.join() === 'text_embeds', 'text I/O names');
check(
  vision.inputNames.join() === 'pixel_values' && vision.outputNames.join() === 'image_embeds',
  'vision I/O names',
);

const embedText = async (seqs, padTo) => {
  const out = (await text.run({ input_ids: idsTensor(seqs, padTo) })).text_embeds;
  check(out.dims.join() === `${seqs.length},${D}`, `text_embeds dims ${out.dims}`);
  return rows(out);
};
const embedImages = async (fns) => {
  const out = (await vision.run({ pixel_values: imagesTensor(fns) })).image_embeds;
  check(out.dims.join() === `${fns.length},${D}`, `image_embeds dims ${out.dims}`);
  return rows(out);
};

// --- embeddings (batch = 18) ---
const names = COLOURS.map((c) => c[0]);
const imgs = await embedImages(COLOURS.map(([, rgb]) => solid(rgb)));
const wordTexts = await embedText(COLOURS.map(([, , ids]) => [SOT, ...ids, EOT]), MAX_LEN);
const photoTexts = await embedText(
  COLOURS.map(([, , ids]) => [SOT, ...PHOTO_OF, ...ids, THINGS, EOT]),
  MAX_LEN,
);

for (const [label, embs] of [
  ['image', imgs],
  ['text "w"', wordTexts],
  ['text "a photo of w things"', photoTexts],
]) {
  const norms = embs.map(norm);
  const worst = Math.max(...norms.map((n) => Math.abs(n - 1)));
  console.log(`${label}: max |norm - 1| = ${worst.toExponential(2)}`);
  check(worst < 1e-5, `${label} embeddings not unit-norm`);
}

// --- batch vs single, padding ---
const single = await embedImages([solid(COLOURS[0][1])]);
const dImg = maxAbsDiff(single, [imgs[0]]);
const singleText = await embedText([[SOT, 736, EOT]]); // unpadded, length 3
const dTxt = maxAbsDiff(singleText, [wordTexts[0]]);
console.log(`batch-1 vs batch-18: image max diff ${dImg.toExponential(2)}, text (len 3 vs padded 77) ${dTxt.toExponential(2)}`);
check(dImg < 1e-6 && dTxt < 1e-6, 'batch-1 / unpadded results differ from batched / padded');
const empty = await embedText([[SOT, EOT]], MAX_LEN);
console.log(`text of only SOT/EOT: norm ${norm(empty[0])} (all tokens masked -> zero vector)`);

// --- confusion: does text w rank image w first? ---
function confusion(label, texts) {
  console.log(`\n${label}: text -> best images (cosine)`);
  const confused = [];
  texts.forEach((t, i) => {
    const ranked = imgs.map((e, j) => [names[j], dot(t, e)]).sort((a, b) => b[1] - a[1]);
    const rank = ranked.findIndex(([n]) => n === names[i]) + 1;
    const top = ranked
      .slice(0, 3)
      .map(([n, s]) => `${n} ${s.toFixed(3)}`)
      .join(', ');
    console.log(`  ${names[i].padEnd(8)} own rank ${rank}  | ${top}`);
    if (rank !== 1) confused.push(`${names[i]}->${ranked[0][0]}`);
    if (BASIC.includes(names[i])) check(rank === 1, `${label}: basic colour "${names[i]}" ranks own image ${rank}`);
  });
  console.log(`  confused: ${confused.length ? confused.join(', ') : 'none'} (${texts.length - confused.length}/${texts.length} correct)`);
}
confusion('"w"', wordTexts);
confusion('"a photo of w things"', photoTexts);

// --- a less idealised image: mostly dark red with a white stripe and a noisy corner ---
const mixed = await embedImages([
  (x, y) => (y < 40 ? [255, 255, 255] : x < 50 && y > 170 ? [(x * 37) % 256, (y * 91) % 256, 120] : [170, 25, 30]),
]);
const mixedRank = wordTexts
  .map((t, i) => [names[i], dot(t, mixed[0])])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 4)
  .map(([n, s]) => `${n} ${s.toFixed(3)}`);
console.log(`\ndark-red image with white stripe: best words ${mixedRank.join(', ')}`);

// --- files ---
console.log('');
for (const f of [await fileInfo('text_model.onnx'), await fileInfo('vision_model.onnx')]) {
  console.log(`${f.name}: ${f.bytes} bytes  sha256 ${f.sha256}`);
}

console.log(failures ? `\n${failures} check(s) FAILED` : '\nall checks passed');
process.exit(failures ? 1 : 0);
