#!/usr/bin/python3
"""Dynamic int8 weight quantization of an ONNX model, written with the onnx package only.

    /usr/bin/python3 tools/clip-twin/quantize.py in.onnx out.onnx int8|uint8

Produces the node pattern of onnxruntime's `quantize_dynamic` (QuantFormat.QOperator / IntegerOps) as
Xenova ran it for `*_quantized.onnx` (transformers.js `scripts/convert.py`: `per_channel=True,
reduce_range=True, optimize_model=False`, weight type QUInt8 for models with a Conv, else QInt8).
onnxruntime's Python package is not installable here, so the same rules are written out below:

* MatMul whose B input is a 2-D float initializer (every Linear layer and the projections):
      x --DynamicQuantizeLinear--> (x_q uint8, x_s, x_zp)      one per activation tensor, shared (q/k/v)
      MatMulInteger(x_q, W_q, x_zp, W_zp) -> Cast(float) -> Mul(., x_s * W_s)
  W per output column (axis 1), reduce_range (7 bits):
      int8:  symmetric, zero point 0, q in [-64, 64]      (text tower)
      uint8: asymmetric, q in [0, 127]                     (vision tower)
  MatMuls of two activations (attention scores and weighted values) stay fp32, as with
  quantize_dynamic's default MatMulConstBOnly.
* Conv with an initializer weight (the vision patch embedding):
      DynamicQuantizeLinear(x) -> ConvInteger(x_q, W_q, x_zp, W_zp) -> Cast -> Mul(., x_s * W_s) [-> Add(bias)]
  W uint8, reduce_range, **per tensor**: quantize_dynamic asks for per-channel weights only for
  MatMul, and ConvInteger with a per-channel weight zero point fails in onnxruntime 1.30 (node and web):
  "Non per-tensor quantization is not supported now".
* Gather whose data is a 2-D float initializer (token and position embeddings of the text tower):
      Gather(W_q uint8, ids) -> DequantizeLinear(., W_s, W_zp)
  W uint8, asymmetric, per tensor, full range (quantize_dynamic quantizes it as an activation).

Everything else (LayerNorm, biases, constant Adds, the vision position embedding folded into an
initializer) stays fp32. The result passes onnx.checker; the node order stays topological because a
DynamicQuantizeLinear is emitted right before its first consumer.
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WEIGHT_TYPES = ("int8", "uint8")


def quantize_weight(w: np.ndarray, wtype: str, axis: int | None, reduce_range: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """onnxruntime's weight quantization (quant_utils.compute_scale_zp / quantize_nparray).

    `axis` is the channel axis for per-channel scales, or None for one scale per tensor.
    Returns (quantized weights, float32 scales, zero points), scales and zero points 1-D per channel
    or 0-D per tensor.
    """
    w = w.astype(np.float32)
    other = tuple(i for i in range(w.ndim) if i != axis) if axis is not None else None
    rmin = np.minimum(w.min(axis=other), 0).astype(np.float32)
    rmax = np.maximum(w.max(axis=other), 0).astype(np.float32)
    if wtype == "int8":
        qmin, qmax = (-64, 64) if reduce_range else (-127, 127)
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -absmax, absmax
        dtype = np.int8
    elif wtype == "uint8":
        qmin, qmax = (0, 127) if reduce_range else (0, 255)
        dtype = np.uint8
    else:
        raise ValueError(f"weight type must be one of {WEIGHT_TYPES}, got {wtype!r}")
    scale = ((rmax - rmin) / np.float32(qmax - qmin)).astype(np.float32)
    tiny = scale < np.finfo(np.float32).tiny
    scale = np.where(tiny, np.float32(1.0), scale).astype(np.float32)
    zp = np.where(tiny, 0, np.round(qmin - rmin / scale)).astype(np.float32)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)) + zp.reshape(shape), qmin, qmax).astype(dtype)
    return q, scale, zp.astype(dtype)


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def quantize(model: onnx.ModelProto, wtype: str) -> onnx.ModelProto:
    """Quantizes `model` in place (see the module docstring) and returns it."""
    if wtype not in WEIGHT_TYPES:
        raise ValueError(f"weight type must be one of {WEIGHT_TYPES}, got {wtype!r}")
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    # Initializers may be shared by several nodes; quantize each once.
    done: dict[str, tuple[str, str, str]] = {}
    new_inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    dql: dict[str, tuple[str, str, str]] = {}

    def is_float_init(name: str, ndim: int | None = None) -> bool:
        t = inits.get(name)
        return t is not None and t.data_type == TensorProto.FLOAT and (ndim is None or len(t.dims) == ndim)

    def weight(name: str, kind: str, axis: int | None, reduce_range: bool) -> tuple[str, str, str]:
        if name not in done:
            q, s, zp = quantize_weight(numpy_helper.to_array(inits[name]), kind, axis, reduce_range)
            names = (f"{name}_quantized", f"{name}_scale", f"{name}_zero_point")
            new_inits.extend(numpy_helper.from_array(a, n) for a, n in zip((q, s, zp), names))
            done[name] = names
        return done[name]

    def dyn_quant(x: str) -> tuple[str, str, str]:
        if x not in dql:
            dql[x] = (f"{x}_quantized", f"{x}_scale", f"{x}_zero_point")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(dql[x]), name=f"{x}_QuantizeLinear"))
        return dql[x]

    def integer_op(n: onnx.NodeProto, op: str, w: tuple[str, str, str], attrs: dict, bias: str | None) -> None:
        xq, xs, xzp = dyn_quant(n.input[0])
        wq, ws, wzp = w
        o = n.output[0]
        raw = f"{o}_output_quantized"
        nodes.extend([
            helper.make_node(op, [xq, wq, xzp, wzp], [raw], name=f"{n.name or o}_quant", **attrs),
            helper.make_node("Cast", [raw], [f"{raw}_cast_output"], name=f"{raw}_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [xs, ws], [f"{raw}_scales_mul"], name=f"{raw}_scales_mul"),
        ])
        scaled = o if bias is None else f"{o}_no_bias"
        nodes.append(helper.make_node("Mul", [f"{raw}_cast_output", f"{raw}_scales_mul"], [scaled], name=f"{raw}_scales_mul_quant_output"))
        if bias is not None:
            nodes.append(helper.make_node("Add", [scaled, bias], [o], name=f"{o}_bias_add"))

    for n in g.node:
        if n.op_type == "MatMul" and is_float_init(n.input[1], 2) and not is_float_init(n.input[0]):
            integer_op(n, "MatMulInteger", weight(n.input[1], wtype, axis=1, reduce_range=True), {}, None)
        elif n.op_type == "Conv" and is_float_init(n.input[1]):
            if len(n.input) > 2 and n.input[2]:
                # ConvInteger has no bias input: bias is added after rescaling (ViT-B/32 has none).
                bias: str | None = n.input[2]
            else:
                bias = None
            # Per tensor: see the module docstring. Conv models use uint8 weights (ORT-web had no int8 ConvInteger).
            integer_op(n, "ConvInteger", weight(n.input[1], "uint8", axis=None, reduce_range=True), _attrs(n), bias)
        elif n.op_type == "Gather" and is_float_init(n.input[0], 2):
            wq, ws, wzp = weight(n.input[0], "uint8", axis=None, reduce_range=False)
            o = n.output[0]
            nodes.extend([
                helper.make_node("Gather", [wq, n.input[1]], [f"{o}_quantized"], name=f"{n.name or o}_quant", **_attrs(n)),
                helper.make_node("DequantizeLinear", [f"{o}_quantized", ws, wzp], [o], name=f"{o}_DequantizeLinear"),
            ])
        else:
            nodes.append(n)

    # Drop the float weights that are no longer used.
    used = {i for n in nodes for i in n.input}
    kept = [t for name, t in inits.items() if name in used or name in {o.name for o in g.output}]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    onnx.checker.check_model(model)
    return model


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[2] not in WEIGHT_TYPES:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, dst, wtype = argv
    model = quantize(onnx.load(src), wtype)
    onnx.save(model, dst)
    counts = op_counts(model)
    print(dst, {k: counts[k] for k in ("DynamicQuantizeLinear", "MatMulInteger", "ConvInteger", "DequantizeLinear", "MatMul") if k in counts})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
