#!/usr/bin/env python3
"""Trains the zoo encoder (model.py) on the zoo exporter's data, then exports both ONNX towers.

    /usr/bin/python3 tools/zoo-encoder/train.py --data .cache/zoo-train            # ~25 min on 2 cores
    /usr/bin/python3 tools/zoo-encoder/train.py --data .cache/zoo-synth --epochs 1 --val-fraction 0.2 \
        --log .cache/zoo-encoder/synth-log.txt                                      # smoke test

Losses (README.md): multi-positive symmetric image-text InfoNCE, image-image InfoNCE over two samples
of each model, auxiliary attribute classification; sketch views and light augmentation on images.
Paths are relative to the repository root.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from data import ZooData, caption_vocabulary, load_zoo, split_models  # noqa: E402
from model import CLIP_MEAN, CLIP_STD, ZooEncoder  # noqa: E402

MAX_LOGIT_SCALE = math.log(100.0)
EPS_GD = 1e-3


def rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Logger:
    def __init__(self, path: Path | None):
        self.path = path
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")


# ---------------------------------------------------------------------------------------------
# Augmentation (batched, driven by an explicit torch.Generator for determinism)

MEAN = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(CLIP_STD).view(1, 3, 1, 1)


def affine_views(x: torch.Tensor, theta: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Resamples [B, 3, S, S] images in [0, 1] by affine maps; outside the image: 0 white, 1 black, 2 edge pixels."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    black = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    white = 1.0 - F.grid_sample(1.0 - x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    edge = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    f = fill[:, None, None, None]
    return torch.where(f == 0, white, torch.where(f == 1, black, edge))


def window_frame(img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One [3, S, S] image in a screenshot-like window (title bar with buttons, side borders), then
    CLIP's preprocessing of the whole: shortest side resized to S, centre crop. Training-only chrome
    drawn here (a random layout each time), not the evaluation's frame."""
    s = img.shape[-1]
    r = lambda: float(torch.rand((), generator=g))  # noqa: E731
    dark = r() < 0.3
    base = torch.tensor([0.15, 0.16, 0.18]) if dark else torch.tensor([0.86, 0.87, 0.9])
    base = (base + (torch.rand(3, generator=g) - 0.5) * 0.08).clamp(0, 1)
    top, side, bottom = 3 + int(r() * 9), int(r() * 4), int(r() * 5)
    canvas = base[:, None, None].expand(3, s + top + bottom, s + 2 * side).clone()
    bar = (base + (0.08 if dark else -0.08)).clamp(0, 1)
    canvas[:, : max(2, top // 2), :] = bar[:, None, None]
    x = 2 + int(r() * 4)
    for _ in range(2 + int(r() * 5)):  # buttons / icons / address field
        w = 1 + int(r() * (6 if r() < 0.8 else 20))
        if x + w >= canvas.shape[2]:
            break
        y0 = int(r() * max(1, top - 2))
        colour = torch.rand(3, generator=g) if r() < 0.5 else bar * (0.6 + 0.4 * r())
        canvas[:, y0 : y0 + max(1, min(top - y0, 1 + int(r() * 3))), x : x + w] = colour[:, None, None]
        x += w + 1 + int(r() * 4)
    canvas[:, top : top + s, side : side + s] = img
    h, w = canvas.shape[1:]
    scale = s / min(h, w)
    nh, nw = max(s, round(h * scale)), max(s, round(w * scale))
    out = F.interpolate(canvas[None], size=(nh, nw), mode="bilinear", align_corners=False)[0]
    y, x = (nh - s) // 2, (nw - s) // 2
    return out[:, y : y + s, x : x + s]


def augment(images_u8: torch.Tensor, sketches_u8: torch.Tensor, g: torch.Generator, sketch_prob: float, upload: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 [B, S, S, 3] image and sketch views -> CLIP-normalised float [B, 3, S, S], plus the sketch mask.

    Upload-like augmentation (``upload``): rotations up to 15 degrees with white, black or edge fill;
    crops keeping 55-100 % of the side; screenshot-like window chrome; downscale-and-upscale; small
    colour shifts. All drawn here, at training resolution, with their own parameters: the evaluation's
    perturbations are other code (they are not imported or mirrored)."""
    b = images_u8.shape[0]
    s = images_u8.shape[1]
    use_sketch = torch.rand(b, generator=g) < sketch_prob
    x = torch.where(use_sketch[:, None, None, None], sketches_u8, images_u8)
    x = x.permute(0, 3, 1, 2).float() / 255.0
    # Colour jitter, small enough to keep the palette's meaning: brightness and contrast +-8 %, tiny hue-free tint.
    bright = 1.0 + (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.16
    contrast = 1.0 + (torch.rand(b, 1, 1, 1, generator=g) - 0.5) * 0.16
    tint = 1.0 + (torch.rand(b, 3, 1, 1, generator=g) - 0.5) * 0.06
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean) * bright * tint
    x = x.clamp(0.0, 1.0)
    # Geometry: flip; zoom-in crops (70 % of the batch: keep 85-100 %, or with `upload` 55-100 %) anywhere
    # inside the image; rotations (with `upload`, 35 %: up to 15 degrees).
    flip = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    geo = torch.rand(b, generator=g) < 0.7
    min_keep = 0.55 if upload else 0.85
    keep = torch.where(geo, 1.0 - (1.0 - min_keep) * torch.rand(b, generator=g), torch.ones(b))
    slack = (1.0 - keep) + 0.05
    tx = torch.where(geo, (torch.rand(b, generator=g) * 2 - 1) * slack, torch.zeros(b))
    ty = torch.where(geo, (torch.rand(b, generator=g) * 2 - 1) * slack, torch.zeros(b))
    rot = (torch.rand(b, generator=g) < (0.35 if upload else 0.0)).float()
    angle = rot * (torch.rand(b, generator=g) * 2 - 1) * math.radians(15.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = keep * cos * flip
    theta[:, 0, 1] = -keep * sin
    theta[:, 1, 0] = keep * sin * flip
    theta[:, 1, 1] = keep * cos
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    fill = torch.randint(3, (b,), generator=g)
    x = affine_views(x, theta, fill)
    if upload:
        framed = torch.rand(b, generator=g) < 0.15
        for i in torch.nonzero(framed).flatten().tolist():
            x[i] = window_frame(x[i], g)
        down = torch.nonzero(torch.rand(b, generator=g) < 0.12).flatten()
        if len(down):
            k = 14 + int(torch.randint(24, (), generator=g))
            small = F.interpolate(x[down], size=(k, k), mode="bilinear", align_corners=False, antialias=True)
            x[down] = F.interpolate(small, size=(s, s), mode="bilinear", align_corners=False)
    x = (x.clamp(0.0, 1.0) - MEAN) / STD
    return x.contiguous(memory_format=torch.channels_last), use_sketch


def normalise(images_u8: torch.Tensor) -> torch.Tensor:
    x = images_u8.permute(0, 3, 1, 2).float() / 255.0
    return ((x - MEAN) / STD).contiguous(memory_format=torch.channels_last)


# ---------------------------------------------------------------------------------------------
# Losses


def multi_positive_nce(logits: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row's softmax against the uniform distribution over its positives."""
    target = pos / pos.sum(dim=1, keepdim=True)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def contrastive_losses(model: ZooEncoder, img: torch.Tensor, txt: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pos = (labels[:, None] == labels[None, :]).float()
    s_it = model.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
    logits = s_it * img @ txt.t()
    l_it = 0.5 * (multi_positive_nce(logits, pos) + multi_positive_nce(logits.t(), pos))
    s_ii = model.logit_scale_ii.clamp(max=MAX_LOGIT_SCALE).exp()
    eye = torch.eye(len(labels), dtype=torch.bool)
    logits_ii = (s_ii * img @ img.t()).masked_fill(eye, -1e4)
    l_ii = multi_positive_nce(logits_ii, pos.masked_fill(eye, 0.0))
    return l_it, l_ii


# ---------------------------------------------------------------------------------------------
# Validation: held-out models, index = first 2/3 of each model's samples, queries = the rest


@torch.no_grad()
def embed_images(model: ZooEncoder, images_u8: torch.Tensor, batch: int = 512) -> np.ndarray:
    model.eval()
    out = [model.vision(normalise(images_u8[i : i + batch])) for i in range(0, len(images_u8), batch)]
    return torch.cat(out).numpy().astype(np.float64)


@torch.no_grad()
def embed_captions(model: ZooEncoder, ids: torch.Tensor, batch: int = 2048) -> np.ndarray:
    model.eval()
    out = [model.text(ids[i : i + batch]) for i in range(0, len(ids), batch)]
    return torch.cat(out).numpy().astype(np.float64)


def gaussian_scores(q: np.ndarray, samples: list[np.ndarray]) -> np.ndarray:
    """log N(q; mu_m, Sigma_m + eps I) for every model (the app's Gaussian density, design.md 2)."""
    scores = np.empty((len(q), len(samples)))
    for m, x in enumerate(samples):
        mu = x.mean(axis=0)
        cov = np.cov(x, rowvar=False) + EPS_GD * np.eye(x.shape[1])
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, (q - mu).T)
        scores[:, m] = -0.5 * (z * z).sum(axis=0) - np.log(np.diag(chol)).sum()
    return scores


def validate(model: ZooEncoder, data: ZooData, val_models: np.ndarray) -> dict[str, float]:
    index_imgs, query_imgs, index_of, query_of = [], [], [], []
    for k, m in enumerate(val_models):
        idx = np.flatnonzero(data.labels == m)
        cut = max(1, (2 * len(idx)) // 3)
        index_imgs.append(idx[:cut])
        query_imgs.append(idx[cut:])
        index_of += [k] * cut
        query_of += [k] * (len(idx) - cut)
    index_imgs_all, query_imgs_all = np.concatenate(index_imgs), np.concatenate(query_imgs)
    index_of, query_of = np.array(index_of), np.array(query_of)
    emb_index = embed_images(model, data.images[index_imgs_all])
    samples = [emb_index[index_of == k] for k in range(len(val_models))]
    means = np.stack([s.mean(axis=0) for s in samples])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    q_img = embed_images(model, data.images[query_imgs_all])
    q_sk = embed_images(model, data.sketches[query_imgs_all])
    caps = data.captions[query_imgs_all]
    c = caps.shape[1]
    q_txt = embed_captions(model, caps.reshape(-1, caps.shape[2]))
    txt_of = np.repeat(query_of, c)

    def top1(q, truth, method="1st"):
        s = q @ means.T if method == "1st" else gaussian_scores(q, samples)
        return float((s.argmax(axis=1) == truth).mean())

    return {
        "img": top1(q_img, query_of),
        "sketch": top1(q_sk, query_of),
        "text": top1(q_txt, txt_of),
        "img_gd": top1(q_img, query_of, "gd"),
        "text_gd": top1(q_txt, txt_of, "gd"),
    }


# ---------------------------------------------------------------------------------------------


def epoch_batches(data: ZooData, train_models: np.ndarray, pairs_per_batch: int, rng: np.random.RandomState) -> list[np.ndarray]:
    """Pairs of different samples of one model, shuffled into batches of [P, 2] image indices."""
    pairs = []
    for m in train_models:
        idx = rng.permutation(np.flatnonzero(data.labels == m))
        k = len(idx) // 2
        if k:
            pairs.append(idx[: 2 * k].reshape(k, 2))
    allp = np.concatenate(pairs)[rng.permutation(sum(len(p) for p in pairs))]
    n_batches = max(1, len(allp) // pairs_per_batch)
    return [allp[i * pairs_per_batch : (i + 1) * pairs_per_batch] if i < n_batches - 1 else allp[i * pairs_per_batch :] for i in range(n_batches)]


def take(t: torch.Tensor | None, index) -> torch.Tensor | None:
    """t[index], or None for an absent tensor (the word ends of a token-pooling tower)."""
    return None if t is None else t[index]


class LexicalPrior:
    """The WordNet prior of tools/zoo/lexicon.ts (prior.json): lemmas as CLIP token ids and edges a -> b.

    Tie loss: for sampled edges, w * mean((pool(b) - stopgrad(pool(a)))^2) on the token-mean (the text
    tower's pooled vector before its MLP): lemma b moves towards lemma a, a caption word. Tokens that
    no caption uses get gradient only from here, so a word never seen in a caption embeds like its
    WordNet relatives."""

    def __init__(self, lemmas: list[dict], edges: list[list[float]]):
        self.lemmas = lemmas
        self.edges = edges
        self.token_ids = {int(t) for lemma in lemmas for t in lemma["ids"] if int(t) < 49406}
        longest = max(1, max(len(lemma["ids"]) for lemma in lemmas))
        ids = torch.full((len(lemmas), longest), 49407, dtype=torch.long)
        for i, lemma in enumerate(lemmas):
            if lemma["ids"]:
                ids[i, : len(lemma["ids"])] = torch.tensor(lemma["ids"], dtype=torch.long)
        self.ids = ids
        e = torch.tensor(edges, dtype=torch.float64) if edges else torch.zeros((0, 3), dtype=torch.float64)
        self.a, self.b, self.w = e[:, 0].long(), e[:, 1].long(), e[:, 2].float()
        self.rows: torch.Tensor | None = None
        self.ends: torch.Tensor | None = None

    def bind(self, model: ZooEncoder) -> None:
        self.rows = model.text.rows(self.ids)
        self.ends = model.text.ends(self.ids)
        # Edges whose lemmas have no known token carry nothing.
        known = (self.rows > 0).any(dim=1)
        ok = known[self.a] & known[self.b]
        self.a, self.b, self.w = self.a[ok], self.b[ok], self.w[ok]

    def loss(self, model: ZooEncoder, n: int, g: torch.Generator) -> torch.Tensor:
        if self.rows is None or len(self.a) == 0:
            return torch.zeros(())
        pick = torch.randint(len(self.a), (n,), generator=g)
        a, b = self.a[pick], self.b[pick]
        pa = model.text.pooled(self.rows[a], ends=take(self.ends, a)).detach()
        pb = model.text.pooled(self.rows[b], ends=take(self.ends, b))
        return (self.w[pick] * ((pb - pa) ** 2).mean(dim=1)).mean()


def load_prior(path: Path) -> LexicalPrior | None:
    if not path.exists():
        return None
    d = json.loads(path.read_text())
    return LexicalPrior(d["lemmas"], d["edges"])


def add_run_args(ap: argparse.ArgumentParser) -> None:
    """The options both training stages share: seed, threads and where the export goes."""
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--export-dir", default="public/encoders/zoo-encoder")
    ap.add_argument("--fixture", default="test/fixtures/zoo-encoder-parity.json")


def start_run(args: argparse.Namespace) -> tuple[float, Logger]:
    """Working directory, threads, seeds and the log of a training stage: (start time, logger)."""
    os.chdir(REPO_ROOT)
    t0 = time.time()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    return t0, Logger(Path(args.log) if args.log else None)


def param_groups(model: nn.Module, wd: float) -> list[dict]:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim >= 2 and "embed" not in name:
            decay.append(p)
        else:
            no_decay.append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=".cache/zoo-train")
    ap.add_argument("--checkpoint", default=".cache/zoo-encoder/model.pt")
    ap.add_argument("--log", default="tools/zoo-encoder/train-log.txt")
    ap.add_argument("--minutes", type=float, default=25.0, help="wall-clock cap: stop after the epoch that passes it")
    ap.add_argument("--epochs", default="auto",
                    help="length of the learning-rate schedule; 'auto': as many as fit in --minutes, estimated from the "
                         "epochs so far (only ever shortened; the log says what was planned, to reproduce pass that number)")
    ap.add_argument("--pairs", type=int, default=128, help="model-sample pairs per batch (batch = 2x images)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--val-fraction", type=float, default=0.05)
    ap.add_argument("--sketch-prob", type=float, default=0.3)
    ap.add_argument("--token-drop", type=float, default=0.3, help="max per-caption token dropout rate")
    ap.add_argument("--ii-weight", type=float, default=1.0)
    ap.add_argument("--attr-weight", type=float, default=0.3)
    ap.add_argument("--prior-weight", type=float, default=1.0, help="weight of the lexical-prior tie loss (0: no prior)")
    ap.add_argument("--prior-edges", type=int, default=2048, help="prior edges sampled per step")
    ap.add_argument("--subject-weight", type=float, default=2.0, help="weight of the subject head in the attribute loss (others 1)")
    ap.add_argument("--no-upload-aug", action="store_true", help="only v1's light augmentation (no rotations, frames, big crops, down-up)")
    add_run_args(ap)
    args = ap.parse_args()
    t0, log = start_run(args)

    data = load_zoo(args.data)
    train_models, val_models = split_models(data.n_models, args.val_fraction, args.seed)
    train_imgs = np.flatnonzero(np.isin(data.labels, train_models))
    vocab = caption_vocabulary(data.captions, train_imgs)
    prior = load_prior(Path(args.data) / "prior.json") if args.prior_weight > 0 else None
    if prior is not None:
        vocab = sorted(set(vocab) | prior.token_ids)
    model = ZooEncoder(vocab)
    model.vision.to(memory_format=torch.channels_last)
    heads = nn.ModuleDict({k: nn.Linear(model.text.mlp2.out_features, len(v)) for k, v in data.attribute_names.items()})
    attr_targets = {k: torch.from_numpy(v) for k, v in data.attributes.items()}
    rows_all = model.text.rows(data.captions)  # [N, C, 77] embedding rows (0 = start/end/pad/unknown)
    if prior is not None:
        prior.bind(model)
    attr_weight = {k: (args.subject_weight if k == "subject" else 1.0) for k in data.attribute_names}

    n_params = {"vision": sum(p.numel() for p in model.vision.parameters()), "text": sum(p.numel() for p in model.text.parameters())}
    log(f"zoo-encoder training  data={args.data}  images={len(data.labels)}  models={data.n_models} "
        f"(train {len(train_models)}, val {len(val_models)})  captions/image={data.captions.shape[1]}")
    if prior is not None:
        log(f"lexical prior: {len(prior.lemmas)} lemmas, {len(prior.edges)} edges, {len(prior.token_ids)} token ids")
    log(f"vocabulary={len(vocab)} ids  params vision={n_params['vision']:,} text={n_params['text']:,}  "
        f"attributes={ {k: len(v) for k, v in data.attribute_names.items()} }")
    log("args: " + " ".join(f"{k}={v}" for k, v in vars(args).items()))
    log(f"data loaded in {time.time() - t0:.1f}s")

    opt = torch.optim.AdamW(param_groups(model, args.wd) + [{"params": heads.parameters(), "weight_decay": args.wd}], lr=args.lr, betas=(0.9, 0.98))
    rng = np.random.RandomState(args.seed)
    steps_per_epoch = len(epoch_batches(data, train_models, args.pairs, np.random.RandomState(0)))
    auto = args.epochs == "auto"
    planned = 1000 if auto else int(args.epochs)
    warmup = steps_per_epoch if (auto or planned >= 3) else max(1, steps_per_epoch // 2)
    step = 0
    best = None
    t_train = time.time()
    epoch = 0
    while epoch < planned:
        epoch += 1
        total_steps = planned * steps_per_epoch
        model.train()
        heads.train()
        g = torch.Generator().manual_seed(args.seed * 100003 + epoch)
        sums = {"loss": 0.0, "it": 0.0, "ii": 0.0, "attr": 0.0, "prior": 0.0}
        batches = epoch_batches(data, train_models, args.pairs, rng)
        for pairs in batches:
            lr = args.lr * (step + 1) / warmup if step < warmup else args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))
            for group in opt.param_groups:
                group["lr"] = lr
            idx = torch.from_numpy(pairs.reshape(-1))
            labels = torch.from_numpy(data.labels[pairs.reshape(-1)])
            x, _ = augment(data.images[idx], data.sketches[idx], g, args.sketch_prob, upload=not args.no_upload_aug)
            cap_choice = torch.randint(rows_all.shape[1], (len(idx),), generator=g)
            rows = rows_all[idx, cap_choice]
            drop = torch.rand(len(idx), 1, generator=g) * args.token_drop
            keep = (torch.rand(rows.shape, generator=g) >= drop).float()
            keep = torch.where(((rows > 0).float() * keep).sum(1, keepdim=True) > 0, keep, torch.ones_like(keep))
            img = model.vision(x)
            txt = model.text.forward_rows(rows, keep)
            l_it, l_ii = contrastive_losses(model, img, txt, labels)
            l_attr = torch.zeros(())
            for k, head in heads.items():
                tgt = attr_targets[k][labels]
                l_attr = l_attr + attr_weight[k] * 0.5 * (F.cross_entropy(head(img) * 10, tgt) + F.cross_entropy(head(txt) * 10, tgt))
            l_prior = prior.loss(model, args.prior_edges, g) if prior is not None else torch.zeros(())
            loss = l_it + args.ii_weight * l_ii + args.attr_weight * l_attr + args.prior_weight * l_prior
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            sums["loss"] += float(loss)
            sums["it"] += float(l_it)
            sums["ii"] += float(l_ii)
            sums["attr"] += float(l_attr)
            sums["prior"] += float(l_prior)
        n = len(batches)
        metrics = validate(model, data, val_models) if len(val_models) else {}
        elapsed = time.time() - t0
        log(f"epoch {epoch:3d}  loss {sums['loss'] / n:.4f} (it {sums['it'] / n:.3f} ii {sums['ii'] / n:.3f} attr {sums['attr'] / n:.3f} prior {sums['prior'] / n:.4f})  "
            f"T_it {model.logit_scale.exp().item():.1f} T_ii {model.logit_scale_ii.exp().item():.1f}  lr {lr:.2e}  "
            + "  ".join(f"val_{k} {v:.3f}" for k, v in metrics.items())
            + f"  elapsed {elapsed / 60:.1f} min")
        best = metrics
        if auto:
            per_epoch = (time.time() - t_train) / epoch
            fit = epoch + int((args.minutes * 60 - elapsed) // per_epoch)
            if max(fit, epoch) < planned:
                planned = max(fit, epoch)
                log(f"plan: {planned} epochs ({per_epoch / 60:.2f} min per epoch so far)")
        ckpt = Path(args.checkpoint)
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "vocab": vocab, "epoch": epoch, "args": vars(args), "val": metrics}, ckpt)
        if elapsed > args.minutes * 60 and epoch < planned:
            log(f"stopping: wall-clock cap of {args.minutes} min passed after epoch {epoch}")
            break
    log(f"training done in {(time.time() - t0) / 60:.1f} min; final val: " + json.dumps({k: round(v, 4) for k, v in (best or {}).items()}))

    if not args.no_export:
        from export import export_all

        export_all(Path(args.checkpoint), Path(args.export_dir), Path(args.fixture), log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
