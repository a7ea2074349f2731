/**
 * twin.py's PIXEL_FORMULA as 8-bit RGBA (opaque), one image per `b`: the deterministic images the
 * twin's check (check.ts) and the encoder benchmark (tools/bench/encoder/) feed the towers.
 */
export function referenceImage(b: number, size = 224): Uint8Array {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.floor(127.5 + 127 * Math.sin(0.045 * x * (1 + b) + 0.021 * y * (1 + c) + 0.9 * c + 1.7 * b) * Math.cos(0.013 * (x - y) + 0.4 * b));
        data[(y * size + x) * 4 + c] = v;
      }
      data[(y * size + x) * 4 + 3] = 255;
    }
  }
  return data;
}
