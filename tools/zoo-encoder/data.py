"""Loading the zoo exporter's training data (format in README.md) and the train/validation split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model import CONTEXT_LENGTH, SOT

# Model-level attributes in meta.json used as auxiliary classification targets (when present and varied).
ATTRIBUTE_KEYS = ("subject", "palette", "style", "background", "composition")


@dataclass
class ZooData:
    meta: dict
    images: torch.Tensor  # uint8 [N, S, S, 3]
    sketches: torch.Tensor  # uint8 [N, S, S, 3]
    labels: np.ndarray  # int64 [N] model index
    captions: torch.Tensor  # int64 [N, C, 77] CLIP ids
    attributes: dict[str, np.ndarray]  # key -> int64 [M] class index per model
    attribute_names: dict[str, list[str]]

    @property
    def n_models(self) -> int:
        return len(self.meta["models"])


def _read(path: Path, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.fromfile(path, dtype=dtype)
    expected = int(np.prod(shape))
    if arr.size != expected:
        raise ValueError(f"{path}: {arr.size} values, expected {expected} for shape {shape}")
    return arr.reshape(shape)


def load_zoo(data_dir: str | Path) -> ZooData:
    d = Path(data_dir)
    meta = json.loads((d / "meta.json").read_text())
    n, s, c = int(meta["count"]), int(meta["size"]), int(meta["captionsPerImage"])
    images = _read(d / "images.u8", "u1", (n, s, s, 3))
    sketches = _read(d / "sketch.u8", "u1", (n, s, s, 3))
    labels = _read(d / "labels.i32", "<i4", (n,)).astype(np.int64)
    captions = _read(d / "captions.i32", "<i4", (n, c, CONTEXT_LENGTH))
    m = len(meta["models"])
    if labels.min() < 0 or labels.max() >= m:
        raise ValueError(f"labels.i32 has model indices outside [0, {m})")
    if captions.min() < 0 or captions.max() > 49407:
        raise ValueError("captions.i32 has ids outside the CLIP vocabulary")
    attributes, names = {}, {}
    for key in ATTRIBUTE_KEYS:
        values = [str(mm.get(key, "")) for mm in meta["models"]]
        distinct = sorted(set(values))
        if len(distinct) > 1:
            names[key] = distinct
            attributes[key] = np.array([distinct.index(v) for v in values], np.int64)
    return ZooData(
        meta=meta,
        images=torch.from_numpy(np.ascontiguousarray(images)),
        sketches=torch.from_numpy(np.ascontiguousarray(sketches)),
        labels=labels,
        captions=torch.from_numpy(captions.astype(np.int64)),
        attributes=attributes,
        attribute_names=names,
    )


def split_models(n_models: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic model-level split: (train model indices, validation model indices), both sorted."""
    perm = np.random.RandomState(seed + 7919).permutation(n_models)
    n_val = max(1, int(round(val_fraction * n_models))) if val_fraction > 0 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def caption_vocabulary(captions: torch.Tensor, images: np.ndarray) -> list[int]:
    """Sorted CLIP ids (excluding start/end/pad) that occur in the captions of the given images."""
    ids = torch.unique(captions[torch.from_numpy(images)])
    return [int(i) for i in ids.tolist() if i < SOT]
