#!/usr/bin/env python3
"""Exports a trained zoo encoder checkpoint to ONNX and writes the parity fixture.

    /usr/bin/python3 tools/zoo-encoder/export.py [--checkpoint .cache/zoo-encoder/model-text.pt]

Writes public/encoders/zoo-encoder/{text_model,vision_model}.onnx (eval mode, BatchNorm folded into the
convolutions, opset 17, dynamic batch axis, onnx.checker full check) and
test/fixtures/zoo-encoder-parity.json (fixed inputs and the PyTorch model's outputs, checked by
test/unit/zooEncoderParity.test.ts). Prints each file's byte size and SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from model import CLIP_MEAN, CLIP_STD, CLIP_VOCAB, CONTEXT_LENGTH, EMBED_DIM, EOT, IMAGE_SIZE, SOT, TEXT_HIDDEN, TextTower, VisionTower, ZooEncoder  # noqa: E402

OPSET = 17
PARITY_TEXTS = (
    "a watercolour image of a koi fish in teal",
    "pink",
    "show me zzqx glorp",  # mostly words outside the training vocabulary
    "a watercolr greck of a fish",  # a typo and a made-up word of known pieces: the known-word table
)
# Recomputed by the TypeScript parity test: keep the two in sync.
PIXEL_FORMULA = (
    "v[b][c][y][x] = floor(127.5 + 127 * sin(0.045*x*(1+b) + 0.021*y*(1+c) + 0.9*c + 1.7*b) * cos(0.013*(x - y) + 0.4*b)); "
    "pixel = (v/255 - mean[c]) / std[c] in float64, stored as float32; x, y in 0..223, b in 0..1, c in 0..2"
)


def parity_pixels(batch: int = 2) -> np.ndarray:
    x = np.arange(IMAGE_SIZE, dtype=np.float64)[None, None, None, :]
    y = np.arange(IMAGE_SIZE, dtype=np.float64)[None, None, :, None]
    c = np.arange(3, dtype=np.float64)[None, :, None, None]
    b = np.arange(batch, dtype=np.float64)[:, None, None, None]
    v = np.floor(127.5 + 127 * np.sin(0.045 * x * (1 + b) + 0.021 * y * (1 + c) + 0.9 * c + 1.7 * b) * np.cos(0.013 * (x - y) + 0.4 * b))
    mean = np.array(CLIP_MEAN, np.float64)[None, :, None, None]
    std = np.array(CLIP_STD, np.float64)[None, :, None, None]
    return ((v / 255.0 - mean) / std).astype(np.float32)


def parity_ids() -> np.ndarray:
    spec = importlib.util.spec_from_file_location("clip_ref_tok", REPO_ROOT / "tools" / "reference" / "clip_reference_tokenizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tok = mod.SimpleTokenizer(mod.load_merges(mod.TOKENIZER_JSON))
    return np.array([tok.tokenize(t) for t in PARITY_TEXTS], np.int64)


def load_checkpoint(path: Path) -> tuple[ZooEncoder, dict]:
    ckpt = torch.load(path, map_location="cpu")
    # A word-pooling text tower's table comes with the state dict.
    word_end = torch.zeros(CLIP_VOCAB) if "text.word_end" in ckpt["state_dict"] else None
    head = ckpt.get("text_head", {})
    # So does a known-word table (its hash tables and the unknown words' weight are buffers).
    known = [] if "text.known_table" in ckpt["state_dict"] else None
    model = ZooEncoder(ckpt["vocab"], word_end=word_end, text_hidden=head.get("hidden", TEXT_HIDDEN), text_depth=head.get("depth", 1), known_words=known)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt


def onnx_bytes(module: torch.nn.Module, dummy: torch.Tensor, in_name: str, out_name: str, dyn: dict) -> bytes:
    buf = io.BytesIO()
    torch.onnx.export(
        module, (dummy,), buf, input_names=[in_name], output_names=[out_name], dynamic_axes={in_name: dyn, out_name: {0: "batch_size"}},
        opset_version=OPSET, do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
    )
    model = onnx.load_from_string(buf.getvalue())
    model.doc_string = "zoo-encoder (tools/zoo-encoder): CLIP-compatible two-tower encoder trained on the procedural zoo. CC0-1.0."
    onnx.checker.check_model(model, full_check=True)
    ops = {n.op_type for n in model.graph.node}
    if "BatchNormalization" in ops:
        raise RuntimeError("BatchNormalization left in the exported graph")
    return model.SerializeToString()


def export_all(checkpoint: Path, out_dir: Path, fixture: Path, log=print) -> dict:
    torch.set_num_threads(2)
    model, ckpt = load_checkpoint(checkpoint)
    text = model.text.eval()
    vision_ref = VisionTower(model.vision).eval()  # the trained model, BatchNorm in eval mode
    vision = VisionTower(model.vision.fused()).eval()  # what is exported
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "text_model.onnx": onnx_bytes(text, torch.tensor(parity_ids()), "input_ids", "text_embeds", {0: "batch_size", 1: "sequence_length"}),
        "vision_model.onnx": onnx_bytes(vision, torch.from_numpy(parity_pixels()), "pixel_values", "image_embeds", {0: "batch_size"}),
    }
    info = {}
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
        info[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        log(f"{out_dir.as_posix()}/{name}: {len(data):,} bytes  sha256 {info[name]['sha256']}")
    total = sum(v["bytes"] for v in info.values())
    log(f"total {total / 1e6:.2f} MB")
    if total > 10_000_000:
        raise RuntimeError("ONNX files exceed the 10 MB budget")

    ids = parity_ids()
    pixels = parity_pixels()
    with torch.no_grad():
        t_out = text(torch.from_numpy(ids)).numpy()
        v_out = vision_ref(torch.from_numpy(pixels)).numpy()
        v_fused = vision(torch.from_numpy(pixels)).numpy()
    log(f"BatchNorm folding changes image embeddings by at most {np.abs(v_out - v_fused).max():.2e}")
    rnd = lambda a: [[float(f"{v:.8g}") for v in row] for row in a]  # noqa: E731
    # The learned image-text temperature (CLIP's exp(logit_scale), clamped at 100 as in training):
    # src/core/encode/encoders.ts ZOO_ENCODER.logitScale must equal it (test/unit/zooEncoderParity.test.ts).
    logit_scale = float(model.logit_scale.detach().clamp(max=float(np.log(100.0))).exp())
    log(f"logit scale T = {logit_scale:.4f} (set ZOO_ENCODER.logitScale in src/core/encode/encoders.ts)")
    doc = {
        "about": "Parity fixture for the zoo encoder ONNX files: inputs and the PyTorch model's outputs (tools/zoo-encoder/export.py).",
        "dim": EMBED_DIM,
        "logitScale": round(logit_scale, 4),
        "epoch": ckpt.get("epoch"),
        "files": info,
        "text": {"texts": list(PARITY_TEXTS), "input_ids": ids.tolist(), "text_embeds": rnd(t_out)},
        "vision": {"formula": PIXEL_FORMULA, "batch": int(pixels.shape[0]), "image_embeds": rnd(v_out)},
    }
    fixture.parent.mkdir(parents=True, exist_ok=True)
    text_out = json.dumps(doc, indent=1)
    # One line per number row: the fixture stays short and diffable.
    text_out = re.sub(r"\[\s+(-?[0-9][^\[\]]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text_out)
    fixture.write_text(text_out + "\n")
    log(f"wrote {fixture.as_posix()}")
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=".cache/zoo-encoder/model-text.pt", help="the text stage's checkpoint (train_text.py); the joint stage's model.pt exports too")
    ap.add_argument("--out-dir", default="public/encoders/zoo-encoder")
    ap.add_argument("--fixture", default="test/fixtures/zoo-encoder-parity.json")
    args = ap.parse_args()
    import os

    os.chdir(REPO_ROOT)
    export_all(Path(args.checkpoint), Path(args.out_dir), Path(args.fixture))
    return 0


if __name__ == "__main__":
    sys.exit(main())
