#!/usr/bin/python3
"""Generate the deterministic "test encoder": two tiny ONNX models with exactly
CLIP ViT-B/32's input/output names (but D = 32 output dims instead of 512).

    text_model.onnx    input_ids    int64   [batch_size, sequence_length] -> text_embeds  float32 [batch_size, 32]
    vision_model.onnx  pixel_values float32 [batch_size, 3, 224, 224]     -> image_embeds float32 [batch_size, 32]

The embeddings are about COLOUR: an image embeds to (its mean CLIP-normalised
colour) @ A, a colour word's token embeds to (that colour, CLIP-normalised) @ A,
for one fixed random matrix A [3, 32]. So a text query "red" ranks
red-looking images first. See README.md next to this file.

Run with Debian's python3 (python3-onnx + python3-numpy), from anywhere:

    /usr/bin/python3 tools/test-encoder/make_test_encoder.py     # or: npm run make-test-encoder

Output is byte-identical on every run (fixed seed, legacy numpy RandomState
whose stream is guaranteed stable across numpy versions, fixed producer fields,
no timestamps).
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# ----------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------

SEED = 20240607
D = 32  # embedding dims
OPSET = 17
IR_VERSION = 8  # loadable by onnxruntime >= 1.10 (incl. 1.30 node/web)

SOT = 49406  # <|startoftext|>
EOT = 49407  # <|endoftext|>, also the padding token of the HF CLIP export
EPS = 1e-12

# CLIP image normalisation (openai/clip-vit-base-patch32 preprocessor_config.json)
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float64)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float64)

# Colour words -> (sRGB, CLIP BPE token ids of the word).
# Token ids are from the CLIP ViT-B/32 vocabulary (`word</w>` entries of
# model.vocab in tokenizer.json). "cyan" has no single token: it is BPE'd to
# "cy" (1470) + "an</w>" (550); only "cy" carries the colour, because "an" is a
# common English word. Grey/gray is ~0 in CLIP-normalised space, so it is left out.
COLOURS = [
    # word,      rgb,              token ids carrying the colour
    ("red",      (255, 0, 0),      [736]),
    ("green",    (0, 160, 0),      [1901]),
    ("blue",     (0, 0, 255),      [1746]),
    ("yellow",   (255, 255, 0),    [4481]),
    ("orange",   (255, 165, 0),    [4287]),
    ("purple",   (128, 0, 128),    [5496]),
    ("pink",     (255, 192, 203),  [3360]),
    ("black",    (0, 0, 0),        [1449]),
    ("white",    (255, 255, 255),  [1579]),
    ("brown",    (139, 69, 19),    [2866]),
    ("cyan",     (0, 255, 255),    [1470]),  # "cy" ; full word = [1470, 550]
    ("magenta",  (255, 0, 255),    [38091]),
    ("teal",     (0, 128, 128),    [22821]),
    ("navy",     (0, 0, 128),      [5598]),
    ("violet",   (138, 43, 226),   [16118]),
    ("crimson",  (220, 20, 60),    [19437]),
    ("gold",     (255, 215, 0),    [2209]),
    ("lime",     (0, 255, 0),      [11193]),
]

# Token strings of the ids above, used only for an optional cross-check against
# the tokenizer shipped in public/ (skipped when that file is absent).
TOKEN_STRINGS = {1470: "cy", 550: "an</w>"}

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT_DIR = REPO / "public" / "encoders" / "test-encoder"
TOKENIZER_JSON = REPO / "public" / "tokenizers" / "clip-vit-b32" / "tokenizer.json"


def normalised(rgb):
    """sRGB 0..255 -> CLIP-normalised (rgb/255 - mean) / std, float64 [3]."""
    return (np.asarray(rgb, dtype=np.float64) / 255.0 - CLIP_MEAN) / CLIP_STD


def pick_table_size():
    """Smallest power of two in [4096, 8192] where no two colour token ids collide."""
    ids = [i for _, _, toks in COLOURS for i in toks]
    for n in (4096, 8192):
        rows = [i % n for i in ids]
        if len(set(rows)) == len(rows):
            return n
        clashes = sorted({r for r in rows if rows.count(r) > 1})
        print(f"table size {n}: colour token rows collide at {clashes}", file=sys.stderr)
    raise SystemExit("no collision-free table size <= 8192")


def cross_check_vocab():
    if not TOKENIZER_JSON.exists():
        print(f"note: {TOKENIZER_JSON.relative_to(REPO)} not present; token ids not cross-checked")
        return
    vocab = json.loads(TOKENIZER_JSON.read_text(encoding="utf-8"))["model"]["vocab"]
    expected = dict(TOKEN_STRINGS)
    for word, _, toks in COLOURS:
        if len(toks) == 1 and toks[0] not in expected:
            expected[toks[0]] = word + "</w>"
    for tid, tok in expected.items():
        if vocab.get(tok) != tid:
            raise SystemExit(f"token id mismatch: {tok!r} -> {vocab.get(tok)} (expected {tid})")
    if vocab.get("<|startoftext|>") != SOT or vocab.get("<|endoftext|>") != EOT:
        raise SystemExit("special token ids differ from 49406/49407")
    print(f"token ids cross-checked against {TOKENIZER_JSON.relative_to(REPO)}")


# ----------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------

def make_weights(table_size):
    rng = np.random.RandomState(SEED)  # legacy stream: stable across numpy versions
    A = rng.standard_normal((3, D))  # colour projection, float64

    # Vision: Flatten of [b, 3, 4, 4] is channel-major, index = c*16 + (row*4 + col).
    # Each of the 16 cells of channel c gets A[c]/16, so for an image whose cell
    # means are m[c, cell]:  emb = sum_c sum_cell m[c,cell] * A[c]/16 + noise
    #                            = (mean normalised colour) @ A + small spatial noise.
    V = np.repeat(A / 16.0, 16, axis=0)  # row c*16 + cell == A[c]/16
    V = V + 0.02 * rng.standard_normal((48, D))

    # Text: row (token_id mod table_size); colour tokens hold colour @ A, the rest noise.
    T = 0.05 * rng.standard_normal((table_size, D))
    for _, rgb, toks in COLOURS:
        for tid in toks:
            T[tid % table_size] = normalised(rgb) @ A
    return A, V.astype(np.float32), T.astype(np.float32)


# ----------------------------------------------------------------------------
# Graphs
# ----------------------------------------------------------------------------

def l2_normalise_nodes(x, out, inits, prefix):
    """Nodes computing out = x / sqrt(sum(x^2, axis=1) + EPS)."""
    inits += [
        numpy_helper.from_array(np.array([1], dtype=np.int64), f"{prefix}_axis1"),
        numpy_helper.from_array(np.array(EPS, dtype=np.float32), f"{prefix}_eps"),
    ]
    return [
        helper.make_node("Mul", [x, x], [f"{prefix}_sq"], name=f"{prefix}_Sq"),
        helper.make_node("ReduceSum", [f"{prefix}_sq", f"{prefix}_axis1"], [f"{prefix}_sumsq"],
                         keepdims=1, name=f"{prefix}_SumSq"),
        helper.make_node("Add", [f"{prefix}_sumsq", f"{prefix}_eps"], [f"{prefix}_sumsq_eps"],
                         name=f"{prefix}_AddEps"),
        helper.make_node("Sqrt", [f"{prefix}_sumsq_eps"], [f"{prefix}_norm"], name=f"{prefix}_Sqrt"),
        helper.make_node("Div", [x, f"{prefix}_norm"], [out], name=f"{prefix}_Div"),
    ]


def finish_model(graph, doc):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="model-search make_test_encoder.py",
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    model.model_version = 1
    onnx.checker.check_model(model, full_check=True)
    return model


def text_model(T, table_size):
    inits = [
        numpy_helper.from_array(T, "token_table"),
        numpy_helper.from_array(np.array(table_size, dtype=np.int64), "table_size"),
        numpy_helper.from_array(np.array(SOT, dtype=np.int64), "sot_id"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1_seq"),
    ]
    nodes = [
        helper.make_node("Mod", ["input_ids", "table_size"], ["rows"], fmod=0, name="RowIndex"),
        helper.make_node("Gather", ["token_table", "rows"], ["tok_emb"], axis=0, name="Lookup"),
        helper.make_node("Less", ["input_ids", "sot_id"], ["keep_bool"], name="NotSpecial"),
        helper.make_node("Cast", ["keep_bool"], ["keep"], to=TensorProto.FLOAT, name="MaskToFloat"),
        helper.make_node("Unsqueeze", ["keep", "axis2"], ["keep3"], name="MaskUnsqueeze"),
        helper.make_node("Mul", ["tok_emb", "keep3"], ["masked"], name="ApplyMask"),
        helper.make_node("ReduceSum", ["masked", "axis1_seq"], ["summed"], keepdims=0, name="SumTokens"),
    ]
    nodes += l2_normalise_nodes("summed", "text_embeds", inits, "l2")
    graph = helper.make_graph(
        nodes,
        "test_encoder_text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch_size", D])],
        initializer=inits,
    )
    return finish_model(graph, "Deterministic colour test encoder (text). Not CLIP; same I/O as CLIP.")


def vision_model(V):
    inits = [numpy_helper.from_array(V, "cell_projection")]
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["pooled"],
                         kernel_shape=[56, 56], strides=[56, 56], name="CellMeans"),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1, name="Flatten"),
        helper.make_node("MatMul", ["flat", "cell_projection"], ["projected"], name="Project"),
    ]
    nodes += l2_normalise_nodes("projected", "image_embeds", inits, "l2")
    graph = helper.make_graph(
        nodes,
        "test_encoder_vision",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch_size", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch_size", D])],
        initializer=inits,
    )
    return finish_model(graph, "Deterministic colour test encoder (vision). Not CLIP; same I/O as CLIP.")


def main():
    cross_check_vocab()
    table_size = pick_table_size()
    _, V, T = make_weights(table_size)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, model in (("text_model.onnx", text_model(T, table_size)),
                        ("vision_model.onnx", vision_model(V))):
        path = OUT_DIR / name
        data = model.SerializeToString()
        path.write_bytes(data)
        # Re-check what is on disk. Pass bytes, not the path: with a path and
        # full_check, onnx's checker rewrites the file in place with inferred
        # value_info (onnx 1.12), which would change the output bytes.
        written = path.read_bytes()
        if written != data:
            raise SystemExit(f"{path} does not hold the bytes just written")
        onnx.checker.check_model(written, full_check=True)
        print(f"wrote {path.relative_to(REPO)} ({len(data)} bytes)")
    print(f"table size {table_size}, D {D}, opset {OPSET}, ir_version {IR_VERSION}")


if __name__ == "__main__":
    main()
