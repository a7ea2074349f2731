#!/usr/bin/env python3
"""Independent numpy/scipy reference for every retrieval method, on real index files.

For each index below, this script parses index.bin from its bytes (index_reader.py, written from
docs/index-format.md; no TypeScript involved), draws 12 fixed query vectors and computes, in
float64 from the values stored in the file, the score of every model under every method the index
supports:

  first-moment         cos(q, μ/‖μ‖)                                         (μ: Means)
  gaussian             scipy.stats.multivariate_normal(μ, Σ').logpdf(q),      Σ' = (WᵀW)⁻¹
                       with W the stored precision factor (fp16 or f32) and μ the stored means:
                       the Gaussian the file's bytes define. PrecisionBias and LogDet are NOT
                       used: they are what the TS side must agree with.
  monte-carlo          logsumexp(T qᵀx_i) − log N over the kept samples x_i (scipy.special)
  best-k (k = 1, 3)    mean of the k largest qᵀx_i
  first-second-moment  ½T² qᵀΣq + T qᵀμ, Σ = (WᵀW)⁻¹ − εI: the unregularised sample covariance
                       (design.md §2; ε from the Epsilon section)
  fine-tuned           cos(Pq, Pμ) with P the Projection section (not ProjectedMeans)
  style                −mean_{s kept} ‖f(q) − f(r_{m,s})‖₂, f = identity or the StyleProjection

The temperature T is explicit per index: 18 for zoo-encoder indexes (the zoo encoder's learned
logit scale), 100 for test-encoder / CLIP indexes; the TS test passes it as params.temperature.

Queries (stored as float32; everything is computed from those float32 values): 4 random unit
vectors, 4 model directions μ_m/‖μ_m‖ with noise, 4 stored sample (or style reference) rows with a
little noise, so rankings are meaningful. Fixtures keep only the top 50 ids and scores per query
and method, highest first, ties by lower id, plus the 51st score (`next`) so a TS ranking that
differs at the boundary by a near-tie can be judged.

None of the shipped indexes has a fine-tuned projection, so the script also writes a small f32
index of its own (test/fixtures/reference-projection.bin: the colours index's means with a random
near-identity projection P and ProjectedMeans = Pμ/‖Pμ‖) and a reference for it.

Writes test/fixtures/index-reference-<name>.json. Run from the repository root:

    /usr/bin/python3 tools/reference/make_index_reference.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_reader import Index, read_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "test" / "fixtures"
TOP = 50
QUERIES = 12

# name → (index.bin, temperature, seed)
INDEXES = {
    "demo": ("public/index/demo/index.bin", 18.0, 11),
    "colours": ("public/index/colours/index.bin", 100.0, 12),
    "styles": ("public/index/styles/index.bin", 18.0, 13),
    "projection": ("test/fixtures/reference-projection.bin", 100.0, 14),
}


def f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def make_queries(idx: Index, rng: np.random.Generator) -> np.ndarray:
    d = idx.dim
    mu = idx.means
    if idx.has("Samples"):
        rows = idx.f64("Samples").reshape(-1, d)
    elif idx.has("StyleRefs"):
        rows = idx.f64("StyleRefs").reshape(-1, d)
        rows = rows[np.linalg.norm(rows, axis=1) > 0.5]
    else:
        rows = mu / np.linalg.norm(mu, axis=1, keepdims=True)
    qs = []
    for _ in range(4):
        qs.append(unit(rng.standard_normal(d)))
    for _ in range(4):
        m = int(rng.integers(idx.count))
        qs.append(unit(unit(mu[m]) + 0.3 * rng.standard_normal(d) / np.sqrt(d)))
    for _ in range(4):
        r = int(rng.integers(len(rows)))
        qs.append(unit(unit(rows[r]) + 0.1 * rng.standard_normal(d) / np.sqrt(d)))
    # The queries the TS side sees are float32: every score below uses exactly those values.
    return f32(qs).astype(np.float64)


# --- the methods, float64 from the stored values ------------------------------------------------


def first_moment(idx: Index, q: np.ndarray) -> np.ndarray:
    mu = idx.means
    return (mu @ q) / np.linalg.norm(mu, axis=1)


def covariances(idx: Index):
    """Per model: (μ, Σ' = (WᵀW)⁻¹) from the stored factor, in float64."""
    for m in range(idx.count):
        w = idx.factor(m)
        sigma = np.linalg.inv(w.T @ w)
        yield idx.means[m], 0.5 * (sigma + sigma.T)


def gaussian(idx: Index, qs: np.ndarray) -> np.ndarray:
    out = np.empty((len(qs), idx.count))
    for m, (mu, sigma) in enumerate(covariances(idx)):
        out[:, m] = multivariate_normal(mean=mu, cov=sigma).logpdf(qs)
    return out


def first_second(idx: Index, qs: np.ndarray, t: float) -> np.ndarray:
    eps = idx.f64("Epsilon")
    out = np.empty((len(qs), idx.count))
    for m, (mu, sigma) in enumerate(covariances(idx)):
        s = sigma - eps[m] * np.eye(idx.dim)  # the unregularised sample covariance
        out[:, m] = 0.5 * t * t * np.einsum("qi,ij,qj->q", qs, s, qs) + t * (qs @ mu)
    return out


def monte_carlo(idx: Index, q: np.ndarray, t: float) -> np.ndarray:
    out = np.empty(idx.count)
    for m in range(idx.count):
        x = idx.samples(m)
        out[m] = logsumexp(t * (x @ q)) - np.log(len(x)) if len(x) else -np.inf
    return out


def best_k(idx: Index, q: np.ndarray, k: int) -> np.ndarray:
    out = np.empty(idx.count)
    for m in range(idx.count):
        dots = np.sort(idx.samples(m) @ q)[::-1]
        out[m] = dots[: min(k, len(dots))].mean() if len(dots) else -np.inf
    return out


def fine_tuned(idx: Index, q: np.ndarray) -> np.ndarray:
    p = idx.f64("Projection").reshape(idx.dim, idx.dim)
    pm = idx.means @ p.T
    pq = p @ q
    return (pm @ pq) / (np.linalg.norm(pm, axis=1) * np.linalg.norm(pq))


def style(idx: Index, q: np.ndarray) -> np.ndarray:
    d = idx.dim
    refs = idx.f64("StyleRefs").reshape(-1, d)
    keep = idx.raw["StyleKeep"].astype(bool)
    s = len(refs) // idx.count
    if idx.has("StyleProjection"):
        p = idx.f64("StyleProjection").reshape(-1, d)
        refs, q = refs @ p.T, p @ q
    dist = np.linalg.norm(refs - q, axis=1).reshape(idx.count, s)
    keep = keep.reshape(idx.count, s)
    out = np.full(idx.count, -np.inf)
    has = keep.any(axis=1)
    out[has] = -(np.where(keep, dist, 0).sum(axis=1)[has] / keep.sum(axis=1)[has])
    return out


def methods_of(idx: Index, t: float):
    """(method, params, scores(qs) → [queries, count]) for every method the index supports."""
    per_query = lambda f: (lambda qs: np.array([f(q) for q in qs]))  # noqa: E731
    out = [("first-moment", {}, per_query(lambda q: first_moment(idx, q)))]
    if idx.has("Precision"):
        out.append(("gaussian", {}, lambda qs: gaussian(idx, qs)))
        out.append(("first-second-moment", {"temperature": t}, lambda qs: first_second(idx, qs, t)))
    if idx.has("Samples"):
        out.append(("monte-carlo", {"temperature": t}, per_query(lambda q: monte_carlo(idx, q, t))))
        out.append(("best-k", {"k": 1}, per_query(lambda q: best_k(idx, q, 1))))
        out.append(("best-k", {"k": 3}, per_query(lambda q: best_k(idx, q, 3))))
    if idx.has("Projection"):
        out.append(("fine-tuned", {}, per_query(lambda q: fine_tuned(idx, q))))
    if idx.has("StyleRefs"):
        out.append(("style", {}, per_query(lambda q: style(idx, q))))
    return out


def top(scores: np.ndarray, n: int):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    ids = order[: min(n, len(order))]
    nxt = float(scores[order[n]]) if len(order) > n else None
    return ids, [float(scores[i]) for i in ids], nxt


def num(x):
    """JSON number (float64, round-trips exactly); ±inf as strings."""
    if x is None:
        return None
    if np.isinf(x):
        return "-Infinity" if x < 0 else "Infinity"
    return float(x)


# --- the projection fixture index ---------------------------------------------------------------


def write_projection_index(src: Path, out: Path, seed: int) -> None:
    """Means + Norms of `src` and a random near-identity projection: a small f32 index with kinds 9–10."""
    idx = read_index(src)
    d, c = idx.dim, idx.count
    rng = np.random.default_rng(seed)
    means = f32(idx.raw["Means"]).reshape(c, d)
    p = f32(np.eye(d) + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d))
    pm = means.astype(np.float64) @ p.astype(np.float64).T
    pm = f32(pm / np.linalg.norm(pm, axis=1, keepdims=True))
    norms = f32(np.linalg.norm(means.astype(np.float64), axis=1))
    sections = [(1, 1, means.tobytes()), (2, 1, norms.tobytes()), (9, 1, p.tobytes()), (10, 1, pm.tobytes())]
    align = lambda n: (n + 63) // 64 * 64  # noqa: E731
    offset = align(64 + 32 * len(sections))
    header = bytearray(b"MSIX" + struct.pack("<4I", 1, d, c, len(sections)) + bytes(44))
    body = bytearray()
    for kind, dtype, data in sections:
        header += struct.pack("<IIQQQ", kind, dtype, offset + len(body), len(data), 0)
        body += data + bytes(align(len(data)) - len(data))
    header += bytes(align(len(header)) - len(header))
    out.write_bytes(bytes(header + body))


# --- main -----------------------------------------------------------------------------------------


def reference(name: str, path: Path, t: float, seed: int) -> dict:
    data = path.read_bytes()
    idx = read_index(path)
    qs = make_queries(idx, np.random.default_rng(seed))
    methods = []
    for method, params, fn in methods_of(idx, t):
        scores = fn(qs)
        results = []
        for qi in range(len(qs)):
            ids, s, nxt = top(scores[qi], TOP)
            results.append({"ids": ids, "scores": [num(x) for x in s], "next": num(nxt)})
        methods.append({"method": method, "params": params, "results": results})
    try:
        rel = str(path.resolve().relative_to(ROOT))
    except ValueError:
        rel = str(path)
    return {
        "name": name,
        "index": rel,
        "sha256": hashlib.sha256(data).hexdigest(),
        "dim": idx.dim,
        "count": idx.count,
        "precision": idx.dtypes.get("Precision"),
        "temperature": t,
        "top": TOP,
        "queries": [[float(f"{v:.9g}") for v in q] for q in f32(qs)],
        "methods": methods,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="index names to (re)write (default: all)")
    ap.add_argument("--index", help="any index.bin instead (with --out and --temperature)")
    ap.add_argument("--out")
    ap.add_argument("--temperature", type=float, default=100.0)
    args = ap.parse_args()
    if args.index:
        ref = reference(Path(args.index).parent.name, Path(args.index), args.temperature, 11)
        Path(args.out).write_text(json.dumps(ref, separators=(",", ":")) + "\n")
        return
    write_projection_index(ROOT / INDEXES["colours"][0], ROOT / INDEXES["projection"][0], INDEXES["projection"][2])
    for name, (rel, t, seed) in INDEXES.items():
        if args.only and name not in args.only:
            continue
        ref = reference(name, ROOT / rel, t, seed)
        out = FIXTURES / f"index-reference-{name}.json"
        out.write_text(json.dumps(ref, separators=(",", ":")) + "\n")
        print(f"{out.relative_to(ROOT)}: {len(ref['methods'])} methods × {len(ref['queries'])} queries ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
