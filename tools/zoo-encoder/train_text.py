#!/usr/bin/env python3
"""The zoo encoder's text stage: retrains the text tower against the locked vision tower (LiT).

    /usr/bin/python3 tools/zoo-encoder/train_text.py --data .cache/zoo-train --init .cache/zoo-encoder/model.pt

Why a second stage: the joint stage (train.py) shares its capacity between images, sketches and
captions, and its caption targets are single images. Here the vision tower is frozen (locked-image
tuning, Zhai et al. 2022), so the image embedding space, the indexes built with it and every image
result stay exactly as they are, and the text tower is trained for what a text query is scored
against: a model's mean image embedding (the 1st moment).

- Targets: the mean (L2-normalised) clean-image embedding of every training model.
- Captions: tools/zoo/export-text-data.ts (256 per model, with the attributes each one names). A
  caption is positive for every training model that has all the attributes it names ("in teal tones"
  for every teal model; "two cats in watercolour" for the watercolour cat pairs), uniform over them:
  multi-positive InfoNCE over all training models' means, with this stage's own temperature.
- Compositional targets: full descriptions of train-split attribute tuples that no rendered model
  has, aimed at what a ridge decoder (attribute one-hots and their pairs -> mean embedding, fit on
  the training models) predicts for them. Eval tuples never appear (tupleSplit).
- Content-free texts (made-up words) trained towards one more class, the empty text's embedding.
- The lexical prior's tie loss as in train.py, on the concept prior (prior-text.json: only the senses
  the zoo's concepts have, tools/zoo/lexicon.ts conceptPriorGraph), so words no caption says still
  land near their WordNet relatives and remote senses of caption words ("key" -> lawyer) do not.
- The vocabulary is what this stage trains; a word only the joint stage's wider prior knew is unknown
  (it embeds as nothing), and off-topic real words in the content-free class say nothing.
- The tower pools over words (model.py, TextTower word_pool); the joint stage's rows and head are
  the starting point, and ids only the text-stage captions use get new rows.
- Known words (known-words.json, tools/zoo/export-text-data.ts knownPhrases, plus punctuation): a
  word outside them weighs --unknown-weight. Ids are pieces: a made-up word ("greck" = "gre" +
  "ck") or a typo is made of known pieces, so only a word-level table can tell it from a real word.
  Training captions' typos are unknown too, so the tower learns to read a caption around them.

Validation each epoch: top-1 of the held-out models' captions (the joint stage's split) against
the held-out models' means, with the same named-attribute relevance.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from data import ATTRIBUTE_KEYS, load_zoo, split_models  # noqa: E402
from export import load_checkpoint  # noqa: E402
from model import CLIP_VOCAB, CONTEXT_LENGTH, SOT, TextTower, ZooEncoder, clip_word_ends, split_words  # noqa: E402
from train import add_run_args, embed_images, load_prior, multi_positive_nce, param_groups, start_run, take  # noqa: E402

MAX_LOGIT_SCALE = math.log(100.0)


def load_text_data(d: Path, model_ids: list[str]) -> tuple[torch.Tensor, np.ndarray, dict]:
    """Captions [M, K, 77], their named-attribute bits [M, K] and text-meta.json."""
    meta = json.loads((d / "text-meta.json").read_text())
    if meta["models"] != model_ids:
        raise ValueError("text-meta.json lists other models than meta.json: export both with the same --models and --seed")
    m, k = len(model_ids), int(meta["captionsPerModel"])
    ids = np.fromfile(d / "text-captions.i32", dtype="<i4")
    named = np.fromfile(d / "text-named.u8", dtype="u1")
    if ids.size != m * k * CONTEXT_LENGTH or named.size != m * k:
        raise ValueError(f"text-captions.i32 / text-named.u8 do not hold {m} x {k} captions")
    return torch.from_numpy(ids.reshape(m, k, CONTEXT_LENGTH).astype(np.int64)), named.reshape(m, k), meta


def known_words(path: Path, tokenizer_json: Path, word_end: torch.Tensor) -> list[tuple[int, ...]]:
    """The BPE words of known-words.json's phrases, and every punctuation-only whole-word token
    ("-" of "8-bit", "," and "!"): they carry no meaning, but a query's punctuation must not read
    as an unknown word."""
    words = {w for p in json.loads(path.read_text())["phrases"] for w in split_words(p["ids"], word_end)}
    vocab = json.loads(tokenizer_json.read_text())["model"]["vocab"]
    for token, i in vocab.items():
        if i < SOT and token.endswith("</w>") and not any(ch.isalnum() for ch in token[:-4]):
            words.add((i,))
    return sorted(words)


@torch.no_grad()
def word_weights(text: TextTower, ids: torch.Tensor, chunk: int = 4096) -> torch.Tensor | None:
    """TextTower.word_weight of [..., 77] ids, in chunks (its one-hot is [chunk, 77, 77])."""
    if not text.known_gate:
        return None
    flat = ids.reshape(-1, ids.shape[-1])
    return torch.cat([text.word_weight(flat[i : i + chunk]) for i in range(0, len(flat), chunk)]).reshape(ids.shape)


def relevance(attrs: np.ndarray, named_bits: dict[str, int], keys: list[str]) -> dict[int, np.ndarray]:
    """For every named-attribute mask: [M, M] bool, row m = models sharing m's named attributes."""
    out = {}
    for mask in range(32):
        same = np.ones((len(attrs), len(attrs)), dtype=bool)
        for j, key in enumerate(keys):
            if mask & named_bits.get(key, 0):
                same &= attrs[:, j][:, None] == attrs[:, j][None, :]
        out[mask] = same
    return out


def decoder_features(values: np.ndarray, named: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Features of attribute tuples for the compositional decoder: one-hot per attribute and the
    one-hot of every pair of attributes. An attribute a description does not name enters as the
    uniform distribution over its values (so the decoder predicts the average over it).
    values: int [n, 5] value indices; named: bool [n, 5]."""
    n = len(values)
    parts = []
    for j, size in enumerate(sizes):
        oh = np.zeros((n, size))
        oh[np.arange(n), values[:, j]] = 1.0
        parts.append(np.where(named[:, j : j + 1], oh, 1.0 / size))
    pairs = [(a, b) for a in range(len(sizes)) for b in range(a + 1, len(sizes))]
    feats = parts + [(parts[a][:, :, None] * parts[b][:, None, :]).reshape(n, -1) for a, b in pairs]
    return np.concatenate([np.ones((n, 1))] + feats, axis=1)


def fit_decoder(feats: np.ndarray, means: np.ndarray, val: np.ndarray, log) -> np.ndarray:
    """Ridge regression from tuple features to mean image embeddings, fit on every model but the
    held-out ones (`val`). The penalty is the smallest with the best MRR of the held-out models'
    predicted means ranked, as a search would, against all models' real means."""
    train = np.setdiff1d(np.arange(len(means)), val)
    best = None
    for lam in (0.1, 0.3, 1.0, 3.0, 10.0):
        w = np.linalg.solve(feats[train].T @ feats[train] + lam * np.eye(feats.shape[1]), feats[train].T @ means[train])
        pred = feats[val] @ w
        pred /= np.linalg.norm(pred, axis=1, keepdims=True)
        scores = pred @ means.T
        rank = (scores > scores[np.arange(len(val)), val][:, None]).sum(axis=1)
        mrr = float((1.0 / (rank + 1)).mean())
        cos = float((pred * means[val]).sum(axis=1).mean())
        log(f"decoder ridge {lam:g}: held-out models' predicted means among all {len(means)}: MRR {mrr:.4f}, top-1 {float((rank == 0).mean()):.3f}, mean cosine {cos:.4f}")
        if best is None or mrr > best[0]:
            best = (mrr, lam, w)
    log(f"decoder: ridge {best[1]:g}")
    return best[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=".cache/zoo-train")
    ap.add_argument("--init", default=".cache/zoo-encoder/model.pt", help="the joint stage's checkpoint (vision tower and vocabulary)")
    ap.add_argument("--checkpoint", default=".cache/zoo-encoder/model-text.pt")
    ap.add_argument("--log", default="tools/zoo-encoder/train-text-log.txt")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--token-drop", type=float, default=0.3)
    ap.add_argument("--prior-weight", type=float, default=50.0, help="weight of the lexical prior's tie loss (the joint stage uses 1)")
    ap.add_argument("--prior-edges", type=int, default=2048)
    ap.add_argument("--prior", default="prior-text.json", help="the prior's file in --data (prior-text.json: the concept prior; prior.json: the joint stage's)")
    ap.add_argument("--null-weight", type=float, default=1.0, help="weight of the content-free texts' loss (text-null.i32; 0: none)")
    ap.add_argument("--null-batch", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=256, help="width of the text head's hidden layers")
    ap.add_argument("--depth", type=int, default=1, help="hidden layers in the text head (1: the joint stage's head, fine-tuned)")
    ap.add_argument("--token-pool", action="store_true", help="mean over tokens (the joint stage's pooling) instead of over words")
    ap.add_argument("--synth-weight", type=float, default=1.0, help="weight of the synthetic tuples' loss (text-synth.*; 0: none)")
    ap.add_argument("--synth-batch", type=int, default=512)
    ap.add_argument("--reinit", action="store_true", help="start the text tower from scratch instead of the joint stage's")
    ap.add_argument("--known-words", default="known-words.json", help="the known words' file in --data ('' : no known-word table, every word counts)")
    ap.add_argument("--unknown-weight", type=float, default=0.0, help="weight of a word outside the known words (0: it says nothing)")
    ap.add_argument("--val-fraction", type=float, default=0.05)
    add_run_args(ap)
    args = ap.parse_args()
    t0, log = start_run(args)

    data = load_zoo(args.data)
    caps, named, tmeta = load_text_data(Path(args.data), [m["id"] for m in data.meta["models"]])
    named_bits = tmeta["named"]
    joint, init = load_checkpoint(Path(args.init))
    if init["args"].get("val_fraction") != args.val_fraction or init["args"].get("seed") != args.seed:
        raise ValueError("--val-fraction and --seed must match the joint stage's, so validation models stay unseen")
    train_models, val_models = split_models(data.n_models, args.val_fraction, args.seed)

    prior = load_prior(Path(args.data) / args.prior) if args.prior_weight > 0 else None
    # The vocabulary is what this stage trains: its captions, the joint stage's training captions, the
    # synthetic descriptions, the content-free texts and the concept prior. Words the joint stage knew
    # only through its wider prior ("lawyer", tied to "key") are dropped: unknown, they say nothing.
    def ids_of(t) -> set[int]:
        return {int(i) for i in np.unique(np.asarray(t)).tolist() if i < SOT}

    train_images = torch.from_numpy(np.isin(data.labels, train_models))
    text_files = [np.fromfile(Path(args.data) / f, dtype="<i4") for f in ("text-synth.i32", "text-null.i32") if (Path(args.data) / f).exists()]
    trained_ids = ids_of(caps[torch.from_numpy(train_models)]) | ids_of(data.captions[train_images]) | set().union(*map(ids_of, text_files))
    vocab = sorted(trained_ids | (prior.token_ids if prior else set()))
    tokenizer_json = REPO_ROOT / "public/tokenizers/clip-vit-b32/tokenizer.json"
    word_end = None if args.token_pool else clip_word_ends(tokenizer_json)
    known_list = known_words(Path(args.data) / args.known_words, tokenizer_json, word_end) if args.known_words and word_end is not None else None
    model = ZooEncoder(vocab, word_end=word_end, text_hidden=args.hidden, text_depth=args.depth, known_words=known_list, unknown_weight=args.unknown_weight)
    same_head = args.hidden == joint.text.mlp1.out_features and args.depth == 1
    model.vision.load_state_dict(joint.vision.state_dict())
    # The image-text temperature stays the joint stage's (the encoder's logit scale, used by the
    # Monte-Carlo score); the text stage learns its own, for text against model means.
    model.logit_scale.data.copy_(joint.logit_scale.data)
    model.logit_scale_ii.data.copy_(joint.logit_scale_ii.data)
    text_scale = torch.nn.Parameter(joint.logit_scale.data.clone())
    if not args.reinit:
        text: TextTower = model.text
        with torch.no_grad():
            if same_head:
                text.mlp1.load_state_dict(joint.text.mlp1.state_dict())
                text.mlp2.load_state_dict(joint.text.mlp2.state_dict())
            old_rows = joint.text.remap[torch.tensor(vocab)].long()
            known = old_rows > 0
            text.embed.weight[1:][known] = joint.text.embed.weight[old_rows[known]]
    for p in model.vision.parameters():
        p.requires_grad_(False)
    if prior is not None:
        prior.bind(model)

    # Targets: every model's mean clean-image embedding under the locked vision tower.
    emb = embed_images(model, data.images)
    means = np.stack([emb[data.labels == m].mean(axis=0) for m in range(data.n_models)])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    means_t = torch.from_numpy(means).float()
    keys = [k for k in ATTRIBUTE_KEYS if k in named_bits]
    attrs = np.stack([[str(m.get(k, "")) for k in keys] for m in data.meta["models"]])
    rel = relevance(attrs, named_bits, keys)
    rel_train = {mask: torch.from_numpy(r[np.ix_(train_models, train_models)]).float() for mask, r in rel.items()}
    rel_val = {mask: r[np.ix_(val_models, val_models)] for mask, r in rel.items()}
    # Compositional targets: descriptions of train-split tuples no rendered model has, aimed at what a
    # decoder fit on the training models' means predicts for them.
    synth_rows = synth_ends = synth_weight = synth_targets = None
    if args.synth_weight > 0 and (Path(args.data) / "text-synth.i32").exists():
        columns = tmeta["synthColumns"]
        sizes = [len(tmeta["values"][k]) for k in columns]
        model_values = np.array([[tmeta["values"][k].index(m[k]) for k in columns] for m in data.meta["models"]])
        all_named = np.ones_like(model_values, dtype=bool)
        feats = decoder_features(model_values, all_named, sizes)
        w = fit_decoder(feats, means, val_models, log)
        s_ids = np.fromfile(Path(args.data) / "text-synth.i32", dtype="<i4").reshape(-1, CONTEXT_LENGTH)
        s_attr = np.fromfile(Path(args.data) / "text-synth.u8", dtype="u1").reshape(-1, len(columns) + 1)
        s_named = np.stack([(s_attr[:, -1] & named_bits[k]) > 0 for k in columns], axis=1)
        pred = decoder_features(s_attr[:, :-1].astype(np.int64), s_named, sizes) @ w
        synth_targets = torch.from_numpy(pred / np.linalg.norm(pred, axis=1, keepdims=True)).float()
        st = torch.from_numpy(s_ids.astype(np.int64))
        synth_rows, synth_ends, synth_weight = model.text.rows(st), model.text.ends(st), word_weights(model.text, st)
        log(f"synthetic descriptions: {len(s_ids)} of train-split tuples")
    rows_all = model.text.rows(caps)  # [M, K, 77]
    ends_all = model.text.ends(caps)
    weight_all = word_weights(model.text, caps)
    null_path = Path(args.data) / "text-null.i32"
    null_rows = None
    if args.null_weight > 0 and null_path.exists():
        null_ids = np.fromfile(null_path, dtype="<i4").reshape(-1, CONTEXT_LENGTH)
        null_t = torch.from_numpy(null_ids.astype(np.int64))
        null_rows, null_ends, null_weight = model.text.rows(null_t), model.text.ends(null_t), word_weights(model.text, null_t)
        said = (null_rows > 0).float() * (1.0 if null_weight is None else null_weight)
        some = (said > 0).any(dim=1)  # texts with no known id, or only unknown words at weight 0, are the empty text already
        null_rows, null_ends, null_weight = null_rows[some], take(null_ends, some), take(null_weight, some)
    k_caps = caps.shape[1]
    log(f"zoo-encoder text stage  data={args.data}  init={args.init} (epoch {init['epoch']})  models train {len(train_models)} val {len(val_models)}  "
        f"captions/model={k_caps}  vocabulary {len(init['vocab'])} -> {len(vocab)} ids  known words {len(known_list) if known_list is not None else 'all'}  text params={sum(p.numel() for p in model.text.parameters()):,}")
    if weight_all is not None:
        log(f"words outside the known words: {float((weight_all < 1).float().mul((rows_all > 0).float()).sum() / (rows_all > 0).float().sum()):.4f} of caption pieces; "
            f"content-free texts left with something to say: {len(null_rows) if null_rows is not None else 0}")
    log("args: " + " ".join(f"{k}={v}" for k, v in vars(args).items()))

    @torch.no_grad()
    def validate() -> dict[str, float]:
        model.eval()
        vm = torch.from_numpy(val_models)
        r = rows_all[vm].reshape(-1, CONTEXT_LENGTH)
        e = take(ends_all, vm)
        w = take(weight_all, vm)
        t = model.text.forward_rows(r, ends=e.reshape(-1, CONTEXT_LENGTH) if e is not None else None, weight=w.reshape(-1, CONTEXT_LENGTH) if w is not None else None).numpy()
        s = t @ means[val_models].T
        best = s.argmax(axis=1)
        own = np.repeat(np.arange(len(val_models)), k_caps)
        masks = named[val_models].reshape(-1)
        full = masks & (named_bits["subject"] | named_bits["palette"] | named_bits["style"]) == (named_bits["subject"] | named_bits["palette"] | named_bits["style"])
        hit = np.array([rel_val[int(mk)][o, b] for o, b, mk in zip(own, best, masks)])
        return {"text": float(hit.mean()), "text_full": float(hit[full].mean())}

    opt = torch.optim.AdamW(param_groups(model.text, args.wd) + [{"params": [text_scale], "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    pairs = np.array([(i, k) for i in range(len(train_models)) for k in range(k_caps)])
    steps_per_epoch = len(pairs) // args.batch
    total = args.epochs * steps_per_epoch
    rng = np.random.RandomState(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    train_means = means_t[train_models]
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.text.train()
        order = pairs[rng.permutation(len(pairs))]
        sums = {"nce": 0.0, "prior": 0.0, "null": 0.0, "synth": 0.0}
        for b in range(steps_per_epoch):
            lr = args.lr * (step + 1) / steps_per_epoch if step < steps_per_epoch else args.lr * 0.5 * (1 + math.cos(math.pi * (step - steps_per_epoch) / max(1, total - steps_per_epoch)))
            for group in opt.param_groups:
                group["lr"] = lr
            batch = order[b * args.batch : (b + 1) * args.batch]
            mi, ki = batch[:, 0], batch[:, 1]
            rows = rows_all[train_models[mi], ki]
            ends = take(ends_all, (train_models[mi], ki))
            drop = torch.rand(len(batch), 1, generator=g) * args.token_drop
            keep = (torch.rand(rows.shape, generator=g) >= drop).float()
            keep = torch.where(((rows > 0).float() * keep).sum(1, keepdim=True) > 0, keep, torch.ones_like(keep))
            t = model.text.forward_rows(rows, keep, ends, take(weight_all, (train_models[mi], ki)))
            masks = named[train_models[mi], ki]
            pos = torch.stack([rel_train[int(mk)][i] for i, mk in zip(mi, masks)])
            scale = text_scale.clamp(max=MAX_LOGIT_SCALE).exp()
            targets = train_means
            l_null = torch.zeros(())
            if null_rows is not None:
                # One more class: the empty text's embedding (what text with no known word gets). Captions
                # are pushed away from it, content-free texts towards it, so they score low on every model.
                null_vec = model.text.head(torch.zeros(1, model.text.embed.embedding_dim))
                targets = torch.cat([targets, null_vec])
                pos = torch.cat([pos, torch.zeros(len(pos), 1)], dim=1)
                pick = torch.randint(len(null_rows), (args.null_batch,), generator=g)
                tn = model.text.forward_rows(null_rows[pick], ends=take(null_ends, pick), weight=take(null_weight, pick))
                l_null = F.cross_entropy(scale * tn @ targets.t(), torch.full((args.null_batch,), len(targets) - 1))
            l_nce = multi_positive_nce(scale * t @ targets.t(), pos)
            l_synth = torch.zeros(())
            if synth_rows is not None:
                pick = torch.randint(len(synth_rows), (args.synth_batch,), generator=g)
                ts = model.text.forward_rows(synth_rows[pick], ends=take(synth_ends, pick), weight=take(synth_weight, pick))
                cand = torch.cat([targets, synth_targets[pick]])
                l_synth = F.cross_entropy(scale * ts @ cand.t(), len(targets) + torch.arange(args.synth_batch))
            l_prior = prior.loss(model, args.prior_edges, g) if prior is not None else torch.zeros(())
            loss = l_nce + args.prior_weight * l_prior + args.null_weight * l_null + args.synth_weight * l_synth
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            sums["nce"] += float(l_nce)
            sums["prior"] += float(l_prior)
            sums["null"] += float(l_null)
            sums["synth"] += float(l_synth)
        v = validate()
        log(f"epoch {epoch:3d}  nce {sums['nce'] / steps_per_epoch:.4f} prior {sums['prior'] / steps_per_epoch:.4f} null {sums['null'] / steps_per_epoch:.4f} synth {sums['synth'] / steps_per_epoch:.4f}  T {text_scale.exp().item():.1f}  lr {lr:.2e}  "
            + "  ".join(f"val_{k} {x:.3f}" for k, x in v.items()) + f"  elapsed {(time.time() - t0) / 60:.1f} min")
    ckpt = Path(args.checkpoint)
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    state = {"state_dict": model.state_dict(), "vocab": vocab, "known_words": len(known_list) if known_list is not None else None, "text_logit_scale": float(text_scale.exp()), "text_head": {"hidden": args.hidden, "depth": args.depth}, "epoch": init["epoch"], "text_epochs": args.epochs, "args": {**init["args"], "text_stage": vars(args)}, "val": v}
    torch.save(state, ckpt)
    log(f"text stage done in {(time.time() - t0) / 60:.1f} min; final val: " + json.dumps({k: round(x, 4) for k, x in v.items()}))
    if not args.no_export:
        from export import export_all

        export_all(ckpt, Path(args.export_dir), Path(args.fixture), log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
