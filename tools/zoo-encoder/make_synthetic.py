#!/usr/bin/env python3
"""A tiny synthetic training set in the zoo exporter's format, for developing and testing the pipeline.

Writes <out>/meta.json, images.u8, sketch.u8, labels.i32, captions.i32 exactly like
``tools/zoo/export-training-data.ts`` (see README.md): every "model" paints blobs of one subject shape
in one palette on one background; captions are tokenised with the repo's reference CLIP tokenizer.

    /usr/bin/python3 tools/zoo-encoder/make_synthetic.py --out .cache/zoo-synth --models 10 --samples 8
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SIZE = 56

PALETTES = {
    "red": [(220, 30, 30), (150, 10, 10)],
    "green": [(30, 160, 40), (10, 90, 20)],
    "blue": [(30, 60, 220), (10, 20, 120)],
    "yellow": [(240, 220, 30), (200, 160, 0)],
    "purple": [(130, 30, 150), (80, 10, 100)],
    "orange": [(250, 150, 20), (200, 90, 0)],
}
SUBJECTS = ("circle", "square", "stripe", "cross")
BACKGROUNDS = {"white": (245, 245, 245), "black": (15, 15, 15), "grey": (128, 128, 128)}
STYLES = ("watercolour", "pixel art", "photo")


def load_tokenizer():
    spec = importlib.util.spec_from_file_location("clip_ref_tok", REPO_ROOT / "tools" / "reference" / "clip_reference_tokenizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SimpleTokenizer(mod.load_merges(mod.TOKENIZER_JSON))


def paint(rng: np.random.RandomState, subject: str, palette: str, background: str) -> np.ndarray:
    img = np.empty((SIZE, SIZE, 3), np.float32)
    img[:] = BACKGROUNDS[background]
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    for _ in range(rng.randint(1, 4)):
        colour = PALETTES[palette][rng.randint(len(PALETTES[palette]))]
        cx, cy, r = rng.uniform(10, 46), rng.uniform(10, 46), rng.uniform(5, 14)
        if subject == "circle":
            m = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        elif subject == "square":
            m = (abs(xx - cx) < r) & (abs(yy - cy) < r)
        elif subject == "stripe":
            m = abs((xx - cx) + 0.5 * (yy - cy)) < r / 3
        else:
            m = ((abs(xx - cx) < r / 4) & (abs(yy - cy) < r)) | ((abs(yy - cy) < r / 4) & (abs(xx - cx) < r))
        img[m] = colour
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def sketch_of(img: np.ndarray) -> np.ndarray:
    g = img.astype(np.float32).mean(axis=2)
    edge = np.zeros_like(g)
    edge[:, 1:] += abs(np.diff(g, axis=1))
    edge[1:, :] += abs(np.diff(g, axis=0))
    out = np.where(edge > 40, 0, 255).astype(np.uint8)
    return np.repeat(out[:, :, None], 3, axis=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--captions", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.RandomState(args.seed)
    tok = load_tokenizer()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models, images, sketches, labels, captions = [], [], [], [], []
    for m in range(args.models):
        subject = SUBJECTS[m % len(SUBJECTS)]
        palette = list(PALETTES)[(m // len(SUBJECTS) + m) % len(PALETTES)]
        background = list(BACKGROUNDS)[m % len(BACKGROUNDS)]
        style = STYLES[(m // 2) % len(STYLES)]
        models.append({"id": f"synth-{m:03d}", "family": "synthetic", "subject": subject, "palette": palette,
                       "style": style, "background": background})
        for _ in range(args.samples):
            img = paint(rng, subject, palette, background)
            images.append(img)
            sketches.append(sketch_of(img))
            labels.append(m)
            texts = [f"a {style} of {subject}s in {palette} on a {background} background",
                     f"{palette} {subject} shapes, {style}", f"{subject} {palette} {background}"]
            captions.append([tok.tokenize(texts[(i + rng.randint(3)) % 3]) for i in range(args.captions)])
    n = len(labels)
    np.asarray(images, np.uint8).tofile(out / "images.u8")
    np.asarray(sketches, np.uint8).tofile(out / "sketch.u8")
    np.asarray(labels, "<i4").tofile(out / "labels.i32")
    np.asarray(captions, "<i4").tofile(out / "captions.i32")
    meta = {"count": n, "size": SIZE, "models": models, "captionsPerImage": args.captions}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {n} images of {args.models} models to {out}")


if __name__ == "__main__":
    main()
