#!/usr/bin/env python3
"""Learns the fine-tuned 1st-moment projection W (paper: "Content-Based Search for Deep Generative Models").

    /usr/bin/python3 tools/zoo-encoder/train_projection.py --data <dir> --structure full --out projection.json

Input (<dir>, little-endian raw arrays, row-major):
    meta.json         {"Q": queries, "M": models, "D": dimension}
    queries.f32       float32 [Q, D]  query embeddings (text, image, sketch ... any mix)
    query_models.i32  int32   [Q]     the ground-truth model index of each query
    means.f32         float32 [M, D]  each model's mean embedding (as in the index)

Model: score(q, m) = cos(W q, W mu_m), with W of structure `diagonal`, `triangular` (lower) or `full`,
initialised to the identity; InfoNCE over the M models with a learnable temperature, plus weight decay
that pulls W towards the identity (cosine is scale-invariant, so decaying towards 0 would only shrink W).
A seeded 20 % of the queries is held out; train and validation top-1 are printed before and after.

Output: {"structure": "...", "matrix": [[...], ...]} -- the index builder's `--projection` format
((W x)_i = sum_j matrix[i][j] x_j; entries outside the structure are exactly 0).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

STRUCTURES = ("diagonal", "triangular", "full")


def structure_mask(structure: str, d: int) -> torch.Tensor:
    if structure == "diagonal":
        return torch.eye(d)
    if structure == "triangular":
        return torch.tril(torch.ones(d, d))
    if structure == "full":
        return torch.ones(d, d)
    raise ValueError(f"unknown structure {structure!r} (expected one of {', '.join(STRUCTURES)})")


def load_projection_data(data_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = Path(data_dir)
    meta = json.loads((d / "meta.json").read_text())
    q, m, dim = int(meta["Q"]), int(meta["M"]), int(meta["D"])

    def read(name: str, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = np.fromfile(d / name, dtype=dtype)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"{d / name}: {arr.size} values, expected {int(np.prod(shape))} for {shape}")
        return arr.reshape(shape)

    queries = read("queries.f32", "<f4", (q, dim)).astype(np.float32)
    labels = read("query_models.i32", "<i4", (q,)).astype(np.int64)
    means = read("means.f32", "<f4", (m, dim)).astype(np.float32)
    if labels.min() < 0 or labels.max() >= m:
        raise ValueError("query_models.i32 has model indices outside [0, M)")
    if not (np.isfinite(queries).all() and np.isfinite(means).all()):
        raise ValueError("non-finite embeddings")
    return queries, labels, means


def top1(w: torch.Tensor, q: torch.Tensor, labels: torch.Tensor, means: torch.Tensor) -> float:
    if len(q) == 0:
        return float("nan")
    with torch.no_grad():
        s = F.normalize(q @ w.t(), dim=1) @ F.normalize(means @ w.t(), dim=1).t()
        return float((s.argmax(dim=1) == labels).float().mean())


def train_projection(
    queries: np.ndarray, labels: np.ndarray, means: np.ndarray, structure: str, *, steps: int = 500, lr: float = 1e-2,
    wd: float = 1e-3, val_fraction: float = 0.2, batch: int = 1024, seed: int = 0, log=print,
) -> tuple[np.ndarray, dict[str, float]]:
    """Returns (W [D, D] float64 with exact zeros outside the structure, metrics)."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    n, d = queries.shape
    perm = rng.permutation(n)
    n_val = int(round(val_fraction * n))
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    q = torch.from_numpy(queries)
    y = torch.from_numpy(labels)
    mu = torch.from_numpy(means)
    mask = structure_mask(structure, d)
    eye = torch.eye(d)
    w = torch.nn.Parameter(eye.clone())
    log_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    opt = torch.optim.Adam([w, log_scale], lr=lr)
    q_tr, y_tr, q_va, y_va = q[tr_idx], y[tr_idx], q[val_idx], y[val_idx]
    metrics = {"train_top1_before": top1(eye, q_tr, y_tr, mu), "val_top1_before": top1(eye, q_va, y_va, mu)}
    log(f"{structure}: {len(tr_idx)} train / {len(val_idx)} val queries, {len(means)} models, D={d}")
    log(f"  before (identity): train top-1 {metrics['train_top1_before']:.4f}  val top-1 {metrics['val_top1_before']:.4f}")
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(len(tr_idx), (min(batch, len(tr_idx)),), generator=g) if len(tr_idx) > batch else torch.arange(len(tr_idx))
        wm = w * mask
        qs = F.normalize(q_tr[idx] @ wm.t(), dim=1)
        ms = F.normalize(mu @ wm.t(), dim=1)
        logits = log_scale.clamp(max=math.log(100)).exp() * qs @ ms.t()
        loss = F.cross_entropy(logits, y_tr[idx]) + wd * ((wm - eye) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % max(1, steps // 5) == 0:
            log(f"  step {step + 1}: loss {float(loss):.4f}  train top-1 {top1((w * mask).detach(), q_tr, y_tr, mu):.4f}  "
                f"val top-1 {top1((w * mask).detach(), q_va, y_va, mu):.4f}")
    final = (w * mask).detach()
    metrics["train_top1_after"] = top1(final, q_tr, y_tr, mu)
    metrics["val_top1_after"] = top1(final, q_va, y_va, mu)
    log(f"  after: train top-1 {metrics['train_top1_after']:.4f}  val top-1 {metrics['val_top1_after']:.4f}")
    return np.where(mask.numpy() > 0, final.double().numpy(), 0.0), metrics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--structure", choices=STRUCTURES, default="full")
    ap.add_argument("--out", required=True, help="projection JSON to write")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--wd", type=float, default=1e-3, help="L2 weight of (W - I)")
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    queries, labels, means = load_projection_data(args.data)
    w, _ = train_projection(queries, labels, means, args.structure, steps=args.steps, lr=args.lr, wd=args.wd,
                            val_fraction=args.val_fraction, batch=args.batch, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"structure": args.structure, "matrix": [[float(f"{v:.8g}") for v in row] for row in w]}) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
