#!/usr/bin/env python3
"""Reference for the 1st-moment score; writes test/fixtures/first-moment-cases.json.

For each case: random per-model means (float32 values, like the index stores them) and a few
random unit queries (float32). Expected values are computed in float64 with numpy, independently
of src/core/scoring/topK.ts (topK) and src/core/math/vectors.ts:

    score[m] = <q, mu_m> / |mu_m|       (0 when |mu_m| == 0)
    top10    = indices sorted by (-score, index), first 10

Means include rows with tiny norms (down to ~1e-12), one all-zero row and, in some cases, exact
duplicate rows so that the top 10 contains exact ties (the TS ranking must keep index order).
Queries are redrawn until every gap between neighbouring top-11 scores is either exactly 0 (a
duplicate row) or above 1e-5, so float32 rounding in the TS code cannot flip the expected order.

Numbers are written with 9 significant digits, which round-trips float32 exactly: the TS test
rebuilds bit-identical Float32Arrays from the JSON.

Run from anywhere:  /usr/bin/python3 tools/reference/make_scoring_fixtures.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent.parent / "test" / "fixtures" / "first-moment-cases.json"
TOP = 10
MIN_GAP = 1e-5


def f9(x: float) -> float:
    return float(f"{float(x):.9g}")


def make_case(rng: np.random.Generator, name: str, dim: int, count: int, n_queries: int, duplicates: bool) -> dict:
    # Means of unit vectors have norm <= 1; mimic that with a spread of norms.
    means = rng.standard_normal((count, dim))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    means *= rng.uniform(0.05, 1.0, size=(count, 1))
    zero_row = int(rng.integers(0, count))
    means[zero_row] = 0.0
    others = np.array([i for i in range(count) if i != zero_row])
    tiny_rows = rng.choice(others, size=min(3, count - 1), replace=False)
    for r, scale in zip(tiny_rows, (1e-6, 1e-9, 1e-12)):
        means[r] *= scale
    dup_pairs: list[tuple[int, int]] = []
    if duplicates and count >= 6:
        candidates = [i for i in range(count) if i != zero_row and i not in tiny_rows]
        a, b = sorted(rng.choice(candidates, size=2, replace=False).tolist())
        means[b] = means[a]
        dup_pairs.append((a, b))
    means32 = means.astype(np.float32)
    m64 = means32.astype(np.float64)
    norms = np.linalg.norm(m64, axis=1)

    queries = []
    for qi in range(n_queries):
        for _attempt in range(10_000):
            if dup_pairs and qi == 0:
                # Aim at the duplicated row so the exact tie lands inside the top 10.
                a = dup_pairs[0][0]
                q = m64[a] / norms[a] + 0.3 * rng.standard_normal(dim) / np.sqrt(dim)
            else:
                q = rng.standard_normal(dim)
            q /= np.linalg.norm(q)
            q32 = q.astype(np.float32)
            qv = q32.astype(np.float64)
            dots = m64 @ qv
            scores = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
            order = sorted(range(count), key=lambda i: (-scores[i], i))
            head = order[: TOP + 1]
            ok = True
            for i, j in zip(head, head[1:]):
                gap = scores[i] - scores[j]
                if gap == 0.0:
                    if not np.array_equal(means32[i], means32[j]) and not (norms[i] == 0 and norms[j] == 0):
                        ok = False
                elif gap < MIN_GAP:
                    ok = False
            if ok:
                break
        else:
            raise RuntimeError(f"{name}: could not draw a well-separated query")
        queries.append(
            {
                "query": [f9(v) for v in q32],
                "scores": [f9(v) for v in scores],
                "top10": order[:TOP],
            }
        )

    return {
        "name": name,
        "dim": dim,
        "count": count,
        "zeroRow": zero_row,
        "tinyRows": sorted(int(r) for r in tiny_rows),
        "duplicateRows": [list(p) for p in dup_pairs],
        "means": [f9(v) for v in means32.ravel()],
        "queries": queries,
    }


def main() -> None:
    rng = np.random.default_rng(20240611)
    cases = [
        make_case(rng, "dim8-count5", 8, 5, 3, duplicates=False),
        make_case(rng, "dim32-count50", 32, 50, 3, duplicates=True),
        make_case(rng, "dim32-count300", 32, 300, 3, duplicates=True),
        make_case(rng, "dim512-count50", 512, 50, 2, duplicates=True),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"generator": "tools/reference/make_scoring_fixtures.py", "cases": cases}, separators=(",", ":"))
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(cases)} cases, {len(text)} bytes")


if __name__ == "__main__":
    main()
