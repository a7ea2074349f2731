#!/usr/bin/env python3
"""Reference values for the retrieval methods and the linear algebra; writes
test/fixtures/methods-cases.json.

Independent of src/core: everything below is numpy / scipy in float64.

Per configuration (``configs``):
  * ``count`` models, each with N_m L2-normalised sample embeddings clustered around a
    model-specific direction (models come in families that share a direction, so rankings are
    competitive). Some models have N < d samples, some N > d. One model's samples lie on a
    4-dimensional subspace (rank-deficient covariance), listed in ``degenerate``.
  * ``queries``: L2-normalised; the first ones are near a model's samples, the rest random.
  * a random full projection P (fine-tuned 1st moment).
Samples, queries and P are stored as little-endian float32 (base64), and every expectation is
computed from those float32 values promoted to float64, so the TS side sees the same inputs.

Expectations (ε = 1e-3, T = 100):
  mean μ, unbiased covariance Σ (np.cov), logDet = log|Σ + εI| (slogdet),
  gaussian     scipy.stats.multivariate_normal(μ, Σ + εI).logpdf(q)
  firstMoment  cos(q, μ/|μ|)
  monteCarlo   logsumexp(T qᵀx_i) − log N
  best1/best3  mean of the k largest qᵀx_i
  firstSecond  ½T² qᵀΣq + T qᵀμ  (Σ without ε), with both terms stored for the error scale
  modelQuery   cos(μ_a, μ_b) for every pair
  fineTuned    cos(Pq, Pμ)
  poe          0.7·gaussian(q_a) + 0.3·gaussian(q_b) for a few (a, b) query pairs
Queries are redrawn until neighbouring scores in the Gaussian top 11 differ by at least
GD_MIN_GAP, so fp16 factor rounding cannot legitimately reorder the expected top 10.

Also ``linalg`` (Cholesky and triangular inverse of a few SPD matrices, numpy.linalg) and
``fp16`` (numpy.float16 rounding of float32 and float64 inputs, and float16 → float32 decoding).

Run from anywhere:  /usr/bin/python3 tools/reference/make_method_fixtures.py
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

OUT = Path(__file__).resolve().parent.parent.parent / "test" / "fixtures" / "methods-cases.json"
SEED = 20240612
EPSILON = 1e-3
T = 100.0
GD_MIN_GAP = 0.1
POE_WEIGHTS = (0.7, 0.3)


def b64_f32(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def f64list(a: np.ndarray) -> list:
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


def make_models(rng: np.random.Generator, dim: int, count: int, n_range: tuple[int, int], degenerate: int):
    families = max(2, count // 4)
    fam_dirs = unit(rng.standard_normal((families, dim)))
    samples = []
    for m in range(count):
        fam = fam_dirs[m % families]
        # Model direction: a perturbation of its family's direction.
        direction = unit(fam + 0.6 * rng.standard_normal(dim) / np.sqrt(dim))
        lo, hi = n_range
        # Alternate N < d and N > d.
        n = int(rng.integers(lo, dim)) if m % 2 == 0 else int(rng.integers(dim + 1, hi))
        if m == degenerate:
            basis = np.linalg.qr(rng.standard_normal((dim, 3)))[0]
            z = rng.standard_normal((max(n, 2 * dim), 3)) * 0.5
            x = unit(direction + z @ basis.T)  # on span{direction, basis}: a 4-dim subspace
        else:
            spread = rng.uniform(0.5, 1.4)
            x = unit(direction + spread * rng.standard_normal((n, dim)) / np.sqrt(dim))
        samples.append(x.astype(np.float32))
    return samples


def scores_for(q: np.ndarray, st: dict) -> dict:
    out = {k: [] for k in ("gaussian", "firstMoment", "monteCarlo", "best1", "best3", "firstSecond", "fsVar", "fsMean", "fineTuned")}
    pq = st["P"] @ q
    for m in range(st["count"]):
        mu, cov, x = st["mu"][m], st["cov"][m], st["x"][m]
        out["gaussian"].append(float(st["mvn"][m].logpdf(q)))
        out["firstMoment"].append(float(q @ mu / np.linalg.norm(mu)))
        dots = x @ q
        out["monteCarlo"].append(float(logsumexp(T * dots) - np.log(len(dots))))
        top = np.sort(dots)[::-1]
        out["best1"].append(float(top[0]))
        out["best3"].append(float(np.mean(top[:3])))
        var = 0.5 * T * T * float(q @ cov @ q)
        mean = T * float(q @ mu)
        out["firstSecond"].append(var + mean)
        out["fsVar"].append(var)
        out["fsMean"].append(mean)
        pmu = st["P"] @ mu
        out["fineTuned"].append(float(pq @ pmu / (np.linalg.norm(pq) * np.linalg.norm(pmu))))
    return out


def top_gap_ok(s: list[float]) -> bool:
    a = np.sort(np.asarray(s))[::-1][:11]
    return bool(np.all(-np.diff(a) >= GD_MIN_GAP))


def make_config(rng: np.random.Generator, name: str, dim: int, count: int, n_range, n_near: int, n_random: int) -> dict:
    degenerate = 3
    samples32 = make_models(rng, dim, count, n_range, degenerate)
    x64 = [s.astype(np.float64) for s in samples32]
    mu = [x.mean(axis=0) for x in x64]
    cov = [np.cov(x, rowvar=False, ddof=1) for x in x64]
    eye = np.eye(dim)
    mvn = [multivariate_normal(mu[m], cov[m] + EPSILON * eye) for m in range(count)]
    log_det = [float(np.linalg.slogdet(cov[m] + EPSILON * eye)[1]) for m in range(count)]
    P32 = (rng.standard_normal((dim, dim)) / np.sqrt(dim) + 0.5 * np.eye(dim)).astype(np.float32)
    st = {"count": count, "mu": mu, "cov": cov, "x": x64, "mvn": mvn, "P": P32.astype(np.float64)}

    queries32, kinds, per_query = [], [], []
    for qi in range(n_near + n_random):
        for _attempt in range(1000):
            if qi < n_near:
                m = int(rng.integers(count)) if qi else degenerate
                base = x64[m][int(rng.integers(len(x64[m])))]
                q = unit(base + 0.15 * rng.standard_normal(dim) / np.sqrt(dim))
                kind = f"near:{m}"
            else:
                q = unit(rng.standard_normal(dim))
                kind = "random"
            q32 = q.astype(np.float32)
            s = scores_for(q32.astype(np.float64), st)
            if top_gap_ok(s["gaussian"]):
                break
        else:
            raise RuntimeError(f"{name}: no query with a well-separated Gaussian top 11")
        queries32.append(q32)
        kinds.append(kind)
        per_query.append(s)

    mu_unit = np.array([m / np.linalg.norm(m) for m in mu])
    model_query = mu_unit @ mu_unit.T
    nq = len(queries32)
    poe_pairs = [(0, nq - 1), (1, 2), (n_near, 0)]
    poe = [
        {
            "a": a,
            "b": b,
            "scores": f64list(POE_WEIGHTS[0] * np.array(per_query[a]["gaussian"]) + POE_WEIGHTS[1] * np.array(per_query[b]["gaussian"])),
        }
        for a, b in poe_pairs
    ]
    # Covariances of a few models in full (the rest only through logDet and the scores).
    cov_models = sorted({degenerate, 0, 1})

    return {
        "name": name,
        "dim": dim,
        "count": count,
        "degenerate": [degenerate],
        "sampleCounts": [len(s) for s in samples32],
        "samples": [b64_f32(s) for s in samples32],
        "queries": b64_f32(np.array(queries32)),
        "queryKinds": kinds,
        "projection": b64_f32(P32),
        "means": [f64list(m) for m in mu],
        "covModels": cov_models,
        "covariances": [f64list(cov[m]) for m in cov_models],
        "logDet": log_det,
        "rank": [int(np.linalg.matrix_rank(c)) for c in cov],
        "modelQuery": [f64list(r) for r in model_query],
        "expected": per_query,
        "poe": poe,
    }


def linalg_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for n, cond in ((1, 1.0), (5, 10.0), (12, 1e3), (24, 1e8)):
        q = np.linalg.qr(rng.standard_normal((n, n)))[0]
        eig = np.geomspace(1.0, 1.0 / cond, n) if n > 1 else np.array([2.5])
        a = (q * eig) @ q.T
        a = 0.5 * (a + a.T)
        L = np.linalg.cholesky(a)
        W = np.linalg.inv(L)
        cases.append(
            {"n": n, "cond": float(np.linalg.cond(a)), "a": f64list(a), "L": f64list(L), "W": f64list(np.tril(W)), "logDet": float(np.linalg.slogdet(a)[1])}
        )
    return cases


def fp16_cases(rng: np.random.Generator) -> dict:
    v: list[np.ndarray] = []
    f32 = np.float32
    # Normals over the whole fp16 range and beyond, both signs.
    v.append((rng.uniform(-1, 1, 500) * 2.0 ** rng.uniform(-30, 18, 500)).astype(f32))
    # Subnormal range and the underflow boundary.
    v.append((rng.choice([-1, 1], 200) * 2.0 ** rng.uniform(-27, -14, 200)).astype(f32))
    # Exact halfway ties between neighbouring fp16 values (normal and subnormal), and ±1 ulp around them.
    h = rng.integers(0, 0x7BFF, 300).astype(np.uint16)
    lo = h.view(np.float16).astype(f32)
    hi = (h + 1).view(np.float16).astype(f32)
    mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(f32)
    v += [mid, -mid, np.nextafter(mid, f32(np.inf)), np.nextafter(mid, f32(0))]
    # Hand-picked edges.
    edges = [0.0, -0.0, 1.0, -1.0, 2.0**-24, 2.0**-25, 3 * 2.0**-25, 2.0**-26, 2.0**-25 + 2.0**-40, 2.0**-14, 2.0**-14 - 2.0**-25,
             65504.0, 65519.0, 65519.99, 65520.0, -65520.0, 65536.0, 1e5, -1e9, 3.4028234663852886e38, np.inf, -np.inf,
             1 + 2.0**-11, 1 + 3 * 2.0**-11, 2047.0, 2049.0, 2051.0, 4097.0, 0.1, 1 / 3, 1e-8, -1e-8, 6e-8, 5.9604645e-08]
    v.append(np.array(edges, dtype=f32))
    # Every one of the 8 boundary exponents with a mantissa whose rounding carries into the exponent.
    carry = np.array([(2.0 - 2.0**-11) * 2.0**e for e in range(-24, 16)], dtype=f32)
    v += [carry, -carry]
    vals = np.concatenate(v).astype(f32)
    bits32 = vals.view(np.uint32)
    with np.errstate(over="ignore"):
        half = vals.astype(np.float16).view(np.uint16)
    # float64 inputs just beside an fp16 tie: float32 rounding would make them exact ties (double rounding).
    ties = mid[:40].astype(np.float64)
    d64 = np.concatenate([ties + ties * 2.0**-40, ties - ties * 2.0**-40])
    d64 = d64[np.abs(d64) > 2.0**-14]  # keep normals: 2^-40 relative is below a float32 ulp there
    half64 = d64.astype(np.float16).view(np.uint16)
    # fp16 → float32 decoding for random bit patterns (excluding NaNs, which have no unique float32).
    hb = rng.integers(0, 65536, 2000).astype(np.uint16)
    hb = hb[~(((hb & 0x7C00) == 0x7C00) & ((hb & 0x3FF) != 0))]
    dec = hb.view(np.float16).astype(np.float32).view(np.uint32)
    return {
        "float32Bits": [int(b) for b in bits32],
        "halfBits": [int(b) for b in half],
        "float64Values": [float(x) for x in d64],
        "float64HalfBits": [int(b) for b in half64],
        "decodeHalfBits": [int(b) for b in hb],
        "decodeFloat32Bits": [int(b) for b in dec],
    }


def main() -> None:
    rng = np.random.default_rng(SEED)
    configs = [
        make_config(rng, "d16-m25", 16, 25, (4, 60), n_near=6, n_random=6),
        make_config(rng, "d64-m40", 64, 40, (10, 130), n_near=8, n_random=6),
    ]
    fixture = {
        "generator": "tools/reference/make_method_fixtures.py",
        "seed": SEED,
        "epsilon": EPSILON,
        "temperature": T,
        "poeWeights": list(POE_WEIGHTS),
        "gdMinGap": GD_MIN_GAP,
        "configs": configs,
        "linalg": linalg_cases(rng),
        "fp16": fp16_cases(rng),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(fixture, separators=(",", ":"), allow_nan=False)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(configs)} configs, {len(text)} bytes")


if __name__ == "__main__":
    main()
