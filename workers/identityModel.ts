/**
 * The smallest useful ONNX model: one Identity node on a float tensor of shape [1] (input `x`,
 * output `y`, opset 13), written out as protobuf bytes. onnxruntime-web has no call that only starts
 * its WebAssembly runtime; creating a session of this model does, so the runtime can start while the
 * encoder's files are still being read (workers/ortRuntime.ts).
 */
export function identityModel(): Uint8Array {
  return concat(
    int(1, 8), // ModelProto.ir_version
    message(8, int(2, 13)), // ModelProto.opset_import: the default domain, version 13
    message(
      7, // ModelProto.graph
      message(1, text(1, 'x'), text(2, 'y'), text(4, 'Identity')), // GraphProto.node
      text(2, 'start'), // GraphProto.name
      message(11, ...valueInfo('x')), // GraphProto.input
      message(12, ...valueInfo('y')), // GraphProto.output
    ),
  );
}

/** ValueInfoProto of a float tensor of shape [1]. */
function valueInfo(name: string): Uint8Array[] {
  const shape = message(2, message(1, int(1, 1))); // TensorShapeProto.dim { dim_value: 1 }
  const tensor = message(1, int(1, 1), shape); // TypeProto.tensor_type { elem_type: FLOAT, shape }
  return [text(1, name), message(2, tensor)];
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A varint field (wire type 0). */
function int(field: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(field << 3), ...varint(value)]);
}

/** A length-delimited field (wire type 2) holding `parts`. */
function message(field: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(...parts);
  return concat(Uint8Array.from([...varint((field << 3) | 2), ...varint(body.length)]), body);
}

function text(field: number, value: string): Uint8Array {
  return message(field, new TextEncoder().encode(value));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
