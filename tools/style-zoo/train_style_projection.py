#!/usr/bin/env python3
"""Learns the style-distance projection P (the seed's "learned projection f") with a triplet loss.

Inputs (a folder, written by tools/style-zoo/eval.ts):
  features.f32   raw little-endian float32, [N, D]: encoder features of t(c, m) for TRAINING styles m
                 and TRAINING content images c (both disjoint from the evaluation styles, the
                 reference set S and the query content); pairs removed by the cleansing rule are
                 not in the file.
  meta.json      {"n": N, "dim": D, "styles": [N ints], "contents": [N ints], ...}

Training: anchor t(a, m), positive t(b, m) (same style, other content), negative t(c, m') (another
style). A batch is `styles_per_batch` styles x the same `contents_per_batch` contents, so c = a —
same content, other style — is always among the negatives: that is what teaches P to ignore
content. Two forms of the triplet loss (margin 0.2 by default):
  --loss set (default)  relu(mean_b ‖Pa − Pb‖ − mean_c ‖Pa − Pc‖ + margin): the anchor's mean
                        distance to the other images of its style against its mean distance to the
                        images of another style (the anchor's k hardest negative styles) — the form
                        of the d_avg score itself; it generalised better to unseen styles.
  --loss pair           relu(‖Pa − Pb‖ − ‖Pa − Pc‖ + margin) over every (anchor, positive) pair and
                        the anchor's k hardest negative images.
Averaged over active triplets; AdamW with weight decay; P initialised to the identity (or the top
rows of a random orthogonal matrix when out_dim < D); fixed seed; CPU, 1 thread.

With --val-frac > 0 a fraction of the TRAINING styles is held out and a d_avg retrieval MRR on
them (their content split into a reference half and a query half) is printed before and after
training: a validation signal that never touches the evaluation styles. The final matrix is then
refitted on all training styles with the same settings.

Output: JSON {"matrix": [[...]] (out_dim × D, row-major), "dim", "outDim", "steps", "margin",
"loss", "weightDecay", "lr", "seed", "trainRows", "trainStyles", "finalLoss", "validation", "seconds"}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch


def load(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    n, d = int(meta["n"]), int(meta["dim"])
    x = np.fromfile(os.path.join(folder, "features.f32"), dtype="<f4")
    if x.size != n * d:
        raise SystemExit(f"features.f32 holds {x.size} values, expected {n} x {d}")
    styles = np.asarray(meta["styles"], dtype=np.int64)
    contents = np.asarray(meta["contents"], dtype=np.int64)
    if styles.shape != (n,) or contents.shape != (n,):
        raise SystemExit("meta.json styles/contents must have one entry per feature row")
    if not np.all(np.isfinite(x)):
        raise SystemExit("features.f32 contains non-finite values")
    return x.reshape(n, d), styles, contents, meta


def dense_index(x, styles, contents):
    """{(style, content): row}: lets a batch pick the same contents for every style."""
    table = {}
    for i, (s, c) in enumerate(zip(styles.tolist(), contents.tolist())):
        table[(s, c)] = i
    return table


def train(x, styles, contents, out_dim, margin, weight_decay, lr, steps, styles_per_batch, contents_per_batch, negatives, seed, log, set_distance=False, init=None, anchor_decay=0.0):
    g = np.random.default_rng(seed)
    torch.manual_seed(seed)
    d = x.shape[1]
    X = torch.from_numpy(x)
    if init is not None:
        P0 = torch.from_numpy(np.asarray(init, dtype=np.float32)).clone()
    elif out_dim == d:
        P0 = torch.eye(d)
    else:
        q, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(seed)))
        P0 = q[:out_dim].clone()
    P = torch.nn.Parameter(P0.clone())
    opt = torch.optim.AdamW([P], lr=lr, weight_decay=weight_decay)
    table = dense_index(x, styles, contents)
    style_ids = np.unique(styles)
    content_ids = np.unique(contents)
    spb = min(styles_per_batch, len(style_ids))
    cpb = min(contents_per_batch, len(content_ids))
    last = float("nan")
    for step in range(steps):
        bs = g.choice(style_ids, spb, replace=False)
        bc = g.choice(content_ids, cpb, replace=False)
        rows, lab = [], []
        for s in bs:
            for c in bc:
                r = table.get((int(s), int(c)))
                if r is not None:
                    rows.append(r)
                    lab.append(int(s))
        if len(rows) < 3:
            continue
        z = X[rows] @ P.t()
        lab_t = torch.tensor(lab)
        dist = torch.sqrt(torch.clamp(torch.cdist(z, z).pow(2), min=1e-12))
        same = lab_t[:, None] == lab_t[None, :]
        eye = torch.eye(len(rows), dtype=torch.bool)
        pos = same & ~eye
        neg = ~same
        if set_distance:
            # The scoring rule's own form: the anchor's mean distance to the other images of
            # its style vs its mean distance to the images of each other style in the batch.
            styles_b = torch.unique(lab_t)
            member = (lab_t[None, :] == styles_b[:, None]).float()  # [Sb, B]
            member_x = member[None, :, :] * (~eye)[:, None, :].float()  # exclude the anchor itself
            avg = (dist[:, None, :] * member_x).sum(-1) / torch.clamp(member_x.sum(-1), min=1)  # [B, Sb]
            own = lab_t[:, None] == styles_b[None, :]
            d_pos = (avg * own).sum(1, keepdim=True)
            k = min(negatives, len(styles_b) - 1)
            hard = torch.topk(avg.masked_fill(own, float("inf")), k, dim=1, largest=False).values
            t = torch.relu(d_pos - hard + margin)
        else:
            # For each anchor a: every positive p × its `negatives` closest negatives n (the
            # hardest ones; this keeps a step O(B²·k) instead of O(B³)).
            k = min(negatives, int(neg.sum(1).min()))
            dn = dist.masked_fill(~neg, float("inf"))
            hard = torch.topk(dn, k, dim=1, largest=False).values  # [B, k]
            t = torch.relu(dist[:, :, None] - hard[:, None, :] + margin) * pos[:, :, None]
        active = (t > 1e-9).sum()
        loss = t.sum() / torch.clamp(active, min=1)
        if anchor_decay > 0:
            loss = loss + anchor_decay * (P - P0).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        last = float(loss.item())
        if log and (step % max(1, steps // 5) == 0 or step == steps - 1):
            print(f"  step {step:5d}  loss {last:.4f}  active {int(active)}", file=sys.stderr)
    return P.detach().numpy().astype(np.float32), last


def d_avg_mrr(x, styles, contents, P):
    """Style retrieval on the given styles: even contents = reference set, odd = queries."""
    z = x @ P.T
    sids = np.unique(styles)
    refs = {s: z[(styles == s) & (contents % 2 == 0)] for s in sids}
    sids = [s for s in sids if len(refs[s]) > 0]
    rr = []
    for i in np.nonzero(contents % 2 == 1)[0]:
        if styles[i] not in refs or len(refs[styles[i]]) == 0:
            continue
        scores = np.array([-np.linalg.norm(refs[s] - z[i], axis=1).mean() for s in sids])
        true = scores[sids.index(styles[i])]
        rank = 1 + int(np.sum(scores > true))
        rr.append(1.0 / rank)
    return float(np.mean(rr)) if rr else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="folder with features.f32 + meta.json")
    ap.add_argument("output", help="output JSON path")
    ap.add_argument("--out-dim", type=int, default=0, help="rows of P (default: D)")
    ap.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--weight-decay", type=float, default=1e-3)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--styles-per-batch", type=int, default=24)
    ap.add_argument("--contents-per-batch", type=int, default=6)
    ap.add_argument("--negatives", type=int, default=8, help="hardest negatives per anchor in a batch")
    ap.add_argument("--loss", choices=["set", "pair"], default="set",
                    help="set: mean distance to the positive style's images vs to each negative style's (the d_avg form); pair: single images")
    ap.add_argument("--anchor-decay", type=float, default=0.0, help="L2 pull of P towards its initialisation")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--val-frac", type=float, default=0.0, help="hold out this fraction of training styles for a validation MRR")
    args = ap.parse_args()

    # One thread: the matrices are tiny (a batch is ~150 × D), and on a busy 2-core machine a
    # second intra-op thread made each step ~30× slower (thread hand-off, not arithmetic).
    torch.set_num_threads(1)
    t0 = time.time()
    x, styles, contents, meta = load(args.input)
    d = x.shape[1]
    out_dim = args.out_dim or d
    hp = dict(out_dim=out_dim, margin=args.margin, weight_decay=args.weight_decay, lr=args.lr, steps=args.steps,
              styles_per_batch=args.styles_per_batch, contents_per_batch=args.contents_per_batch,
              negatives=args.negatives, seed=args.seed, set_distance=args.loss == "set", anchor_decay=args.anchor_decay)

    validation = None
    if args.val_frac > 0:
        sids = np.unique(styles)
        rng = np.random.default_rng(args.seed + 1)
        held = set(rng.choice(sids, max(1, int(round(len(sids) * args.val_frac))), replace=False).tolist())
        tr = np.array([s not in held for s in styles])
        P_val, _ = train(x[tr], styles[tr], contents[tr], log=False, **hp)
        ident = np.eye(d, dtype=np.float32) if out_dim == d else None
        validation = {
            "heldOutStyles": len(held),
            "mrrPlain": d_avg_mrr(x[~tr], styles[~tr], contents[~tr], np.eye(d, dtype=np.float32)) if ident is not None else None,
            "mrrProjected": d_avg_mrr(x[~tr], styles[~tr], contents[~tr], P_val),
        }
        print(f"validation on {len(held)} held-out training styles: d_avg MRR plain {validation['mrrPlain']}, projected {validation['mrrProjected']:.4f}", file=sys.stderr)

    P, last = train(x, styles, contents, log=True, **hp)
    if not np.all(np.isfinite(P)):
        raise SystemExit("training diverged (non-finite projection)")
    out = {
        "matrix": P.astype(float).tolist(),
        "dim": d,
        "outDim": out_dim,
        "steps": args.steps,
        "margin": args.margin,
        "loss": args.loss,
        "weightDecay": args.weight_decay,
        "lr": args.lr,
        "seed": args.seed,
        "trainRows": int(x.shape[0]),
        "trainStyles": int(len(np.unique(styles))),
        "finalLoss": last,
        "validation": validation,
        "seconds": round(time.time() - t0, 2),
    }
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, args.output)
    print(f"wrote {out_dim}x{d} projection in {out['seconds']} s (final loss {last:.4f})", file=sys.stderr)


if __name__ == "__main__":
    main()
