#!/usr/bin/python3
"""Builds the CLIP ViT-B/32-shaped twin: random weights, the real architecture and sizes, the Xenova
ONNX export's file names and inputs/outputs, fp32 and int8-quantized.

    /usr/bin/python3 tools/clip-twin/twin.py [--force] [--out .cache/clip-twin] [--seed N] [--opset 14]
    npm run clip-twin                       # the same, with the defaults

Needs only Debian's python3-torch (1.13) and python3-onnx (1.12); downloads nothing.

The architecture follows Hugging Face's CLIPTextModelWithProjection / CLIPVisionModelWithProjection
(what Xenova/clip-vit-base-patch32 exports) with every size read from
public/tokenizers/clip-vit-b32/config.json: a 12-layer, 512-wide pre-LN text transformer (8 heads,
MLP 2048, quick_gelu, causal mask, final LayerNorm, pooled at the first end token = argmax of the
ids, projection 512->512 without bias) and a 12-layer, 768-wide ViT (32-px patch Conv without bias,
class token, learned positions, pre_layrnorm, post_layernorm on the class token, projection 768->512
without bias). Outputs are not L2-normalised (the app does that). Weights: torch.manual_seed(seed)
for the text tower and seed + 1 for the vision tower; Linear/Conv/Embedding weights normal(0, 0.02),
the class embedding normal(0, width^-0.5), biases 0, LayerNorm 1/0.

Output, laid out like the model's hub repository so that a static server can stand in for it:

    .cache/clip-twin/config.json, tokenizer.json, tokenizer_config.json   (copies of the repo's files;
                                                                            preprocessor_config.json too if the repo has one)
    .cache/clip-twin/onnx/text_model.onnx            input_ids int64 [batch_size, sequence_length] -> text_embeds float32 [batch_size, 512]
    .cache/clip-twin/onnx/vision_model.onnx          pixel_values float32 [batch_size, num_channels, height, width] -> image_embeds float32 [batch_size, 512]
    .cache/clip-twin/onnx/text_model_quantized.onnx  int8 weights   (quantize.py)
    .cache/clip-twin/onnx/vision_model_quantized.onnx uint8 weights (quantize.py)
    .cache/clip-twin/reference.json                  fixed inputs and the torch model's outputs (tools/clip-twin/check.ts)
    .cache/clip-twin/twin.json                       manifest: every file's bytes and SHA-256, the recipe, versions, build stats

Idempotent: when twin.json's recipe (seed, opset, config and script hashes, torch/onnx/numpy versions)
matches and every file it lists is there with its recorded size and SHA-256, nothing is rebuilt;
--force rebuilds anyway. The files are byte-identical from run to run on the same versions.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import io
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from quantize import op_counts, quantize  # noqa: E402

CLIP_DIR = REPO_ROOT / "public" / "tokenizers" / "clip-vit-b32"
DEFAULT_OUT = REPO_ROOT / ".cache" / "clip-twin"
HUB_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json")
OPTIONAL_HUB_FILES = {"preprocessor_config.json"}
SEED = 16
# optimum's default opset for CLIP, which the Xenova export used. torch 1.13 writes LayerNorm as
# primitive ops at this opset; onnxruntime fuses them back.
OPSET = 14
MANIFEST_VERSION = 1

# Fixed inputs whose torch outputs go to reference.json; tools/clip-twin/check.ts feeds the same ones.
REFERENCE_TEXTS = ("a photo of a cat", "a watercolour image of a koi fish in teal", "")
REFERENCE_IMAGES = 2
IMAGE_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# Recomputed by check.ts (as 8-bit RGBA, then the app's preprocessRgba): keep the two in sync.
PIXEL_FORMULA = (
    "v[b][c][y][x] = floor(127.5 + 127 * sin(0.045*x*(1+b) + 0.021*y*(1+c) + 0.9*c + 1.7*b) * cos(0.013*(x - y) + 0.4*b)); "
    "pixel = (v/255 - mean[c]) / std[c], stored as float32; x, y in 0..223, b in 0..1, c in 0..2"
)


# ----------------------------------------------------------------------------------------------
# The model (Hugging Face CLIP semantics, plain torch: transformers is not installed here)


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.scale = self.head_dim ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:  # [b, heads, n, head_dim]
            return t.view(b, n, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q_proj(x) * self.scale), split(self.k_proj(x)), split(self.v_proj(x))
        w = q @ k.transpose(-1, -2)
        if mask is not None:
            w = w + mask
        return self.out_proj((w.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))


class EncoderLayer(nn.Module):
    """Pre-LN: x += attn(LN1 x); x += fc2(quick_gelu(fc1(LN2 x)))."""

    def __init__(self, c: dict):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.self_attn = Attention(d, c["num_attention_heads"])
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.fc1, self.fc2 = nn.Linear(d, c["intermediate_size"]), nn.Linear(c["intermediate_size"], d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))


def check_act(c: dict) -> None:
    if c.get("hidden_act", "quick_gelu") != "quick_gelu":
        raise ValueError(f"only quick_gelu is implemented, the config asks for {c['hidden_act']!r}")


class TextTower(nn.Module):
    """input_ids int64 [b, n <= 77] -> text_embeds [b, projection_dim]."""

    def __init__(self, c: dict, proj: int):
        super().__init__()
        check_act(c)
        d, length = c["hidden_size"], c["max_position_embeddings"]
        self.token_embedding = nn.Embedding(c["vocab_size"], d)
        self.position_embedding = nn.Embedding(length, d)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c["num_hidden_layers"]))
        self.final_layer_norm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.text_projection = nn.Linear(d, proj, bias=False)
        # As HF: positions are a Gather of a constant id range (quantized like the token table), and
        # the causal mask is filled with finfo(float32).min, not -inf.
        self.register_buffer("position_ids", torch.arange(length).unsqueeze(0), persistent=False)
        self.register_buffer("causal", torch.full((length, length), torch.finfo(torch.float32).min).triu(1), persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        n = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:, :n])
        mask = self.causal[:n, :n]
        for layer in self.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        # config eos_token_id is 2, so HF takes its legacy path: the end token (49407) is the largest
        # id, and argmax finds the first one.
        eot = input_ids.argmax(dim=-1)
        pooled = x.gather(1, eot.view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return self.text_projection(pooled)


class VisionTower(nn.Module):
    """pixel_values float32 [b, 3, 224, 224] -> image_embeds [b, projection_dim]."""

    def __init__(self, c: dict, proj: int):
        super().__init__()
        check_act(c)
        d, p = c["hidden_size"], c["patch_size"]
        self.patch_embedding = nn.Conv2d(c["num_channels"], d, p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(d))
        self.position_embedding = nn.Embedding((c["image_size"] // p) ** 2 + 1, d)
        self.pre_layrnorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])  # (sic: HF's name)
        self.layers = nn.ModuleList(EncoderLayer(c) for _ in range(c["num_hidden_layers"]))
        self.post_layernorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.visual_projection = nn.Linear(d, proj, bias=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [b, 49, d]
        cls = self.class_embedding.view(1, 1, -1).expand(x.shape[0], -1, -1)
        x = self.pre_layrnorm(torch.cat([cls, x], 1) + self.position_embedding.weight.unsqueeze(0))
        for layer in self.layers:
            x = layer(x)
        return self.visual_projection(self.post_layernorm(x[:, 0]))  # post-LN on the class token only


def init_weights(m: nn.Module, std: float = 0.02) -> nn.Module:
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.Embedding)):
            nn.init.normal_(mod.weight, mean=0.0, std=std)
        if isinstance(mod, (nn.Linear, nn.Conv2d)) and mod.bias is not None:
            nn.init.zeros_(mod.bias)
        if isinstance(mod, nn.LayerNorm):
            nn.init.ones_(mod.weight)
            nn.init.zeros_(mod.bias)
        if isinstance(mod, VisionTower):
            nn.init.normal_(mod.class_embedding, mean=0.0, std=mod.class_embedding.shape[0] ** -0.5)
    return m.eval()


def build_tower(kind: str, cfg: dict, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    proj = cfg["projection_dim"]
    tower = TextTower(cfg["text_config"], proj) if kind == "text" else VisionTower(cfg["vision_config"], proj)
    return init_weights(tower)


# ----------------------------------------------------------------------------------------------
# Fixed inputs


def reference_ids() -> np.ndarray:
    """The reference texts through the repo's independent Python port of OpenAI's tokenizer."""
    spec = importlib.util.spec_from_file_location("clip_ref_tok", REPO_ROOT / "tools" / "reference" / "clip_reference_tokenizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tok = mod.SimpleTokenizer(mod.load_merges(mod.TOKENIZER_JSON))
    return np.array([tok.tokenize(t) for t in REFERENCE_TEXTS], np.int64)


def reference_pixels(batch: int = REFERENCE_IMAGES) -> np.ndarray:
    x = np.arange(IMAGE_SIZE, dtype=np.float64)[None, None, None, :]
    y = np.arange(IMAGE_SIZE, dtype=np.float64)[None, None, :, None]
    c = np.arange(3, dtype=np.float64)[None, :, None, None]
    b = np.arange(batch, dtype=np.float64)[:, None, None, None]
    v = np.floor(127.5 + 127 * np.sin(0.045 * x * (1 + b) + 0.021 * y * (1 + c) + 0.9 * c + 1.7 * b) * np.cos(0.013 * (x - y) + 0.4 * b))
    mean = np.array(CLIP_MEAN, np.float64)[None, :, None, None]
    std = np.array(CLIP_STD, np.float64)[None, :, None, None]
    return ((v / 255.0 - mean) / std).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Export


def export_onnx(tower: nn.Module, dummy: torch.Tensor, in_name: str, out_name: str, dyn: dict, opset: int) -> onnx.ModelProto:
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            tower, (dummy,), buf, input_names=[in_name], output_names=[out_name],
            dynamic_axes={in_name: dyn, out_name: {0: "batch_size"}}, opset_version=opset,
            do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
        )
    model = onnx.load_from_string(buf.getvalue())
    del buf
    ops = {n.op_type for n in model.graph.node}
    if "Gemm" in ops:  # would escape the MatMul quantization
        raise RuntimeError("the export contains Gemm nodes")
    onnx.checker.check_model(model)
    return model


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def recipe(seed: int, opset: int, cfg_path: Path) -> dict:
    return {
        "manifestVersion": MANIFEST_VERSION,
        "seed": {"text": seed, "vision": seed + 1},
        "opset": opset,
        "config": {"path": cfg_path.relative_to(REPO_ROOT).as_posix() if cfg_path.is_relative_to(REPO_ROOT) else str(cfg_path), "sha256": sha256_file(cfg_path)},
        "scripts": {name: sha256_file(HERE / name) for name in ("twin.py", "quantize.py")},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__},
    }


def up_to_date(out: Path, want: dict) -> bool:
    manifest_path = out / "twin.json"
    if not manifest_path.is_file():
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        return False
    if manifest.get("recipe") != want:
        print("clip-twin: recipe changed, rebuilding", file=sys.stderr)
        return False
    for rel, info in manifest.get("files", {}).items():
        p = out / rel
        if not p.is_file() or p.stat().st_size != info["bytes"] or sha256_file(p) != info["sha256"]:
            print(f"clip-twin: {rel} missing or changed, rebuilding", file=sys.stderr)
            return False
    return bool(manifest.get("files"))


def build(out: Path, seed: int, opset: int, cfg_path: Path, want: dict, log=print) -> dict:
    t_start = time.perf_counter()
    cfg = json.loads(cfg_path.read_text())
    onnx_dir = out / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    (out / "twin.json").unlink(missing_ok=True)  # a half-built folder never looks complete
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    ids, pixels = reference_ids(), reference_pixels()
    timings: dict[str, float] = {}
    reference: dict = {
        "about": "Fixed inputs and the outputs of the torch model the ONNX files were exported from (raw, not L2-normalised).",
        "texts": list(REFERENCE_TEXTS),
        "input_ids": ids.tolist(),
        "pixelFormula": PIXEL_FORMULA,
        "images": REFERENCE_IMAGES,
    }
    towers = {
        "text": ("input_ids", "text_embeds", {0: "batch_size", 1: "sequence_length"}, torch.from_numpy(ids), "int8"),
        "vision": ("pixel_values", "image_embeds", {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"}, torch.from_numpy(pixels), "uint8"),
    }
    params: dict[str, int] = {}
    ops: dict[str, dict[str, int]] = {}
    for i, (kind, (in_name, out_name, dyn, dummy, wtype)) in enumerate(towers.items()):
        t0 = time.perf_counter()
        tower = build_tower(kind, cfg, seed + i)
        params[kind] = sum(p.numel() for p in tower.parameters())
        with torch.no_grad():
            reference[out_name] = [[float(v) for v in row] for row in tower(dummy).numpy()]
        t1 = time.perf_counter()
        model = export_onnx(tower, dummy, in_name, out_name, dyn, opset)
        del tower
        gc.collect()
        model.doc_string = (
            f"clip-twin {kind} tower (tools/clip-twin/twin.py): CLIP ViT-B/32's architecture and sizes with random weights "
            f"(seed {seed + i}). Not a trained model."
        )
        write_atomic(onnx_dir / f"{kind}_model.onnx", model.SerializeToString())
        ops[f"{kind}_model"] = op_counts(model)
        t2 = time.perf_counter()
        model = quantize(model, wtype)
        write_atomic(onnx_dir / f"{kind}_model_quantized.onnx", model.SerializeToString())
        ops[f"{kind}_model_quantized"] = op_counts(model)
        del model
        gc.collect()
        t3 = time.perf_counter()
        timings[kind] = {"buildS": round(t1 - t0, 2), "exportS": round(t2 - t1, 2), "quantizeS": round(t3 - t2, 2)}
        log(f"clip-twin: {kind} tower {params[kind]:,} parameters; build {t1 - t0:.1f} s, export {t2 - t1:.1f} s, quantize {t3 - t2:.1f} s; peak RSS {peak_rss_mb():,.0f} MB")
    write_atomic(out / "reference.json", (json.dumps(reference) + "\n").encode())

    for name in HUB_FILES:
        src = CLIP_DIR / name
        if src.is_file():
            shutil.copyfile(src, out / name)
        elif name not in OPTIONAL_HUB_FILES:
            raise FileNotFoundError(src)

    listed = [name for name in HUB_FILES if (out / name).is_file() and (CLIP_DIR / name).is_file()]
    listed += [f"onnx/{kind}_model{suffix}.onnx" for kind in towers for suffix in ("", "_quantized")] + ["reference.json"]
    files = {rel: {"bytes": (out / rel).stat().st_size, "sha256": sha256_file(out / rel)} for rel in listed}
    manifest = {
        "about": "CLIP ViT-B/32-shaped twin with random weights (tools/clip-twin/twin.py). Not a trained model.",
        "recipe": want,
        "io": {
            "text": {"input": "input_ids int64 [batch_size, sequence_length]", "output": "text_embeds float32 [batch_size, 512]"},
            "vision": {"input": "pixel_values float32 [batch_size, num_channels, height, width]", "output": "image_embeds float32 [batch_size, 512]"},
        },
        "quantization": {"text": "int8 per-channel MatMulInteger weights", "vision": "uint8 per-channel MatMulInteger weights, uint8 per-tensor ConvInteger", "embeddings": "uint8 per-tensor Gather + DequantizeLinear", "script": "tools/clip-twin/quantize.py"},
        "parameters": params,
        "ops": ops,
        "build": {"seconds": round(time.perf_counter() - t_start, 1), "steps": timings, "peakRssMB": round(peak_rss_mb()), "machine": platform.machine(), "cpus": os.cpu_count()},
        "files": files,
    }
    write_atomic(out / "twin.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default .cache/clip-twin)")
    ap.add_argument("--config", type=Path, default=CLIP_DIR / "config.json", help="CLIP config.json giving the sizes")
    ap.add_argument("--seed", type=int, default=SEED, help=f"text tower seed; the vision tower uses seed + 1 (default {SEED})")
    ap.add_argument("--opset", type=int, default=OPSET, help=f"ONNX opset (default {OPSET})")
    ap.add_argument("--force", action="store_true", help="rebuild even if twin.json says the files are up to date")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    cfg_path = args.config.resolve()
    want = recipe(args.seed, args.opset, cfg_path)
    if not args.force and up_to_date(out, want):
        print(f"clip-twin: {out} is up to date (twin.json hashes match; --force to rebuild)")
        return 0
    manifest = build(out, args.seed, args.opset, cfg_path, want)
    for rel, info in manifest["files"].items():
        print(f"  {rel:36s} {info['bytes']:>12,} B  sha256 {info['sha256']}")
    print(f"clip-twin: built {out} in {manifest['build']['seconds']} s, peak RSS {manifest['build']['peakRssMB']:,} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
