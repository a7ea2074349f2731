#!/usr/bin/env python3
"""Reference for CLIP image preprocessing; writes test/fixtures/preprocess-case.json.

What Hugging Face's CLIPImageProcessor (and OpenAI's torchvision pipeline) does:

  1. resize so the shortest edge is `size`; the long edge becomes int(size * long / short)
     (truncated, as in transformers' get_resize_output_image_size and torchvision's Resize),
     with PIL ``Image.resize((w, h), BICUBIC)`` on the 8-bit RGB image;
  2. centre-crop size×size at ((W - size) // 2, (H - size) // 2);
  3. scale by 1/255, normalise with the CLIP mean/std, lay out as CHW.

Two expectations are stored per case:

* ``pil``: the pipeline above with Pillow, i.e. what HF produces. Pillow's 8-bit resampler uses
  fixed-point weights and rounds (and clips) to uint8 after the horizontal pass and again after
  the vertical pass; src/core/encode/preprocess.ts keeps floats, so it differs by rounding only.
* ``float``: the same separable PIL bicubic filter (a = -0.5, support scaled by the reduction
  factor, weights normalised per output pixel, intermediate clipped to [0, 255]) evaluated in
  float64 without any rounding: an independent numpy re-implementation of Pillow's
  ``precompute_coeffs``/``ImagingResample`` used to check the TS code tightly.

Inputs are small deterministic RGB images (gradients + noise + a few hard, saturated edges),
stored as base64 of the raw RGB bytes (row-major, 3 bytes per pixel). Outputs are stored at a
deterministic sample of positions of the flat CHW array (all positions for small outputs),
rounded to 5 decimals.

Run from anywhere:  /usr/bin/python3 tools/reference/make_preprocess_fixture.py
Needs numpy and Pillow (Debian: python3-numpy python3-pil).
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent.parent / "test" / "fixtures" / "preprocess-case.json"
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SAMPLES = 3000
BICUBIC = getattr(Image, "Resampling", Image).BICUBIC


def make_image(width: int, height: int, seed: int, saturated_edges: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / max(width - 1, 1)
    g = 255 * y / max(height - 1, 1)
    b = 127.5 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 18, size=(height, width, 3))
    if saturated_edges:
        # A white box with a black bar inside: hard 0/255 steps make the bicubic filter overshoot.
        img[height // 4 : height // 2, width // 3 : width // 2] = 255
        img[height // 3 : height // 3 + 3, width // 3 : width // 2] = 0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def output_size(width: int, height: int, size: int) -> tuple[int, int]:
    short, long = (width, height) if width <= height else (height, width)
    if short == size:
        return width, height
    new_long = int(size * long / short)
    return (size, new_long) if width <= height else (new_long, size)


def normalise_chw(rgb: np.ndarray) -> np.ndarray:
    x = rgb.astype(np.float64) / 255.0
    x = (x - np.array(MEAN)) / np.array(STD)
    return x.transpose(2, 0, 1)


def pil_pipeline(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    rw, rh = output_size(w, h, size)
    resized = np.asarray(Image.fromarray(img, "RGB").resize((rw, rh), BICUBIC))
    top, left = (rh - size) // 2, (rw - size) // 2
    return normalise_chw(resized[top : top + size, left : left + size])


def cubic(x: np.ndarray) -> np.ndarray:
    a = -0.5
    x = np.abs(x)
    return np.where(
        x < 1,
        ((a + 2) * x - (a + 3)) * x * x + 1,
        np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0),
    )


def coeffs(in_size: int, out_size: int) -> np.ndarray:
    """Dense [out_size, in_size] resampling matrix, as Pillow's precompute_coeffs builds it."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = (i + 0.5) * scale
        lo = max(int(math.floor(center - support + 0.5)), 0)
        hi = min(int(math.floor(center + support + 0.5)), in_size)
        taps = np.arange(lo, hi)
        w = cubic((taps - center + 0.5) / filterscale)
        total = w.sum()
        if total != 0:
            w = w / total
        m[i, lo:hi] = w
    return m


def float_pipeline(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    rw, rh = output_size(w, h, size)
    src = img.astype(np.float64)
    horiz = np.clip(np.einsum("xi,yic->yxc", coeffs(w, rw), src), 0, 255)
    full = np.clip(np.einsum("yj,jxc->yxc", coeffs(h, rh), horiz), 0, 255)
    top, left = (rh - size) // 2, (rw - size) // 2
    return normalise_chw(full[top : top + size, left : left + size])


def make_case(name: str, img: np.ndarray, size: int, rng: np.random.Generator) -> dict:
    h, w = img.shape[:2]
    pil = pil_pipeline(img, size).ravel()
    flt = float_pipeline(img, size).ravel()
    n = pil.size
    positions = np.arange(n) if n <= SAMPLES else np.sort(rng.choice(n, size=SAMPLES, replace=False))
    rw, rh = output_size(w, h, size)
    print(
        f"{name}: {w}x{h} -> resize {rw}x{rh} -> crop {size}; "
        f"max |pil - float| = {np.abs(pil - flt).max():.5f}"
    )
    return {
        "name": name,
        "width": w,
        "height": h,
        "size": size,
        "resized": [rw, rh],
        "rgbBase64": base64.b64encode(img.tobytes()).decode("ascii"),
        "positions": positions.tolist(),
        "pil": [round(float(v), 5) for v in pil[positions]],
        "float": [round(float(v), 5) for v in flt[positions]],
    }


def main() -> None:
    rng = np.random.default_rng(7)
    landscape = make_image(97, 61, seed=1, saturated_edges=False)
    cases = [
        # Upscale 61 -> 224, horizontal centre crop of 356 -> 224.
        make_case("97x61-to-224", landscape, 224, rng),
        # Portrait: vertical crop.
        make_case("61x97-to-224", make_image(61, 97, seed=2, saturated_edges=False), 224, rng),
        # Downscale by 1.9 with antialiasing; int(32 * 97 / 61) = 50 (rounding would give 51).
        make_case("97x61-to-32", landscape, 32, rng),
        # Mild downscale with saturated edges; int(224 * 301 / 251) = 268 (rounding would give 269).
        make_case("301x251-to-224-saturated", make_image(301, 251, seed=3, saturated_edges=True), 224, rng),
    ]
    doc = {
        "generator": "tools/reference/make_preprocess_fixture.py",
        "mean": MEAN,
        "std": STD,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"))
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(cases)} cases, {len(text)} bytes")


if __name__ == "__main__":
    main()
