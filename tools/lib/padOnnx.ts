/** Pads an ONNX model to `size` bytes with an unknown protobuf field (999), which ONNX parsers skip. */
export function padOnnx(model: Buffer, size: number): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const key = varint((999 << 3) | 2); // field 999, length-delimited
  let fill = size - model.length - key.length - 4;
  while (model.length + key.length + varint(fill).length + fill !== size) fill += size - (model.length + key.length + varint(fill).length + fill);
  return Buffer.concat([model, key, varint(fill), Buffer.alloc(fill)]);
}
