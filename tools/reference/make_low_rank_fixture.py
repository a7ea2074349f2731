#!/usr/bin/env python3
"""Reference for the low-rank Gaussian (src/core/index/lowRankGaussian.ts, issue 15); writes
test/fixtures/low-rank-gaussian.json.

Cases: clustered unit-vector samples (CLIP-like embeddings) with n <= d (the exact low-rank form)
and n > d, and unit queries near and far from each model. Expected values come from
scipy.stats.multivariate_normal.logpdf on the dense covariance, computed independently of the
TypeScript (no Woodbury, no Gram matrix):

    exact:  cov = np.cov(X, rowvar=False, ddof=1) + eps * I
    ppca:   eigh(np.cov(...)); keep the top r, sigma2 = mean of the rest;
            cov = V_r (L_r - sigma2) V_r^T + (sigma2 + eps) I

Samples and queries are written with 17 significant digits (float64 round trip).

    /usr/bin/python3 tools/reference/make_low_rank_fixture.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import multivariate_normal

OUT = Path(__file__).resolve().parent.parent.parent / "test" / "fixtures" / "low-rank-gaussian.json"
DIM = 48


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def main() -> None:
    rng = np.random.default_rng(15)
    cases = []
    for n, eps, spread in ((2, 1e-3, 0.3), (5, 1e-3, 0.3), (20, 1e-3, 0.5), (47, 1e-2, 0.5), (48, 1e-3, 0.2), (90, 1e-3, 0.4)):
        centre = unit(rng.normal(size=DIM))
        # A model's samples: the centre plus noise with a decaying spectrum, re-normalised.
        scales = spread * (np.arange(1, DIM + 1) ** -0.7)
        basis = np.linalg.qr(rng.normal(size=(DIM, DIM)))[0]
        x = unit(centre + (rng.normal(size=(n, DIM)) * scales) @ basis.T)
        near = unit(x[np.arange(3) % n] + 0.05 * rng.normal(size=(3, DIM)))
        far = unit(rng.normal(size=(2, DIM)))
        queries = np.concatenate([near, far])
        mean = x.mean(axis=0)
        cov = np.cov(x, rowvar=False, ddof=1)
        exact = multivariate_normal(mean, cov + eps * np.eye(DIM), allow_singular=False).logpdf(queries)
        case = {"n": n, "epsilon": eps, "samples": x.ravel().tolist(), "queries": queries.ravel().tolist(), "exact": np.atleast_1d(exact).tolist()}
        if n > DIM:
            lam, vec = np.linalg.eigh(cov)
            lam, vec = lam[::-1], vec[:, ::-1]
            ppca = {}
            for r in (8, 24):
                sigma2 = lam[r:].mean()
                c = (vec[:, :r] * (lam[:r] - sigma2)) @ vec[:, :r].T + (sigma2 + eps) * np.eye(DIM)
                ppca[str(r)] = np.atleast_1d(multivariate_normal(mean, c).logpdf(queries)).tolist()
            case["ppca"] = ppca
        cases.append(case)
    doc = {"about": "Low-rank / PPCA Gaussian log-densities from scipy (tools/reference/make_low_rank_fixture.py).", "dim": DIM, "cases": cases}
    text = json.dumps(doc, separators=(",", ":"), default=float)
    OUT.write_text(text + "\n")
    print(f"wrote {OUT} ({len(text):,} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()
