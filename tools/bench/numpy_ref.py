#!/usr/bin/python3
"""numpy (and torch CPU, where `import torch` works) reference for `npm run bench`.

Reads the synthetic data that tools/bench/case.ts wrote to DATA_DIR, times the same scores and
checks them against the TS scores of query 0.

    /usr/bin/python3 tools/bench/numpy_ref.py DATA_DIR OUT_JSON [--rss-budget-gb 11] [--no-dense-above N]

1st moment: means[:N] @ q / norms[:N]  (one sgemv).
GD, ‖W q − b‖² per model, from the same fp16 packed lower triangles:
  packed-f32   fp16 → f32 once at load (outside the timing); per query one strided sgemv per
               triangle row i over all models: s[:, i] = A[:, off_i : off_i+i+1] @ q[:i+1]
               (lda = d(d+1)/2: no copies), then r = s − b, Σ r². Reads exactly the packed bytes.
  packed-f16   the same row sweep straight from the fp16 bits, decoding to f32 inside the timing
               (A16[:, row].astype(f32) @ q): what the TS f16 kernel does.
  dense-f32    the triangles unpacked once (outside the timing) to dense [n, d, d] f32, and
               np.matmul(W, q) batched: 2× the bytes of packed, but one BLAS call.
torch: the same packed-f32 row sweep (torch.mv on strided views) and dense torch.matmul, on
tensors that share numpy's memory (torch.from_numpy).
"""
import json
import os
import sys
import time

import numpy as np

GB = 1e9


def log(msg):
    sys.stderr.write(f"  [numpy] {msg}\n")
    sys.stderr.flush()


def time_calls(fn, warmup, reps, budget_s, min_reps=3):
    for k in range(warmup):
        fn(k)
    times = []
    k = warmup
    spent = 0.0
    while len(times) < reps and (len(times) < min_reps or spent < budget_s):
        t0 = time.perf_counter()
        fn(k)
        dt = time.perf_counter() - t0
        times.append(dt * 1e3)
        spent += dt
        k += 1
    return {"medianMs": float(np.median(times)), "minMs": float(min(times)), "n": len(times)}


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def blas_threads():
    try:
        import ctypes

        for name in ("libblas.so.3", "libopenblas.so.0"):
            try:
                lib = ctypes.CDLL(name)
                return int(lib.openblas_get_num_threads())
            except (OSError, AttributeError):
                continue
    except Exception:  # noqa: BLE001
        pass
    return None


def rel_diff(a, b):
    """max |a − b| / max(|b|, 1e-3 · max|b|): elementwise relative, floored near zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    floor = 1e-3 * np.max(np.abs(b))
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def main():
    data_dir, out_path = sys.argv[1], sys.argv[2]
    rss_budget = 11 * GB
    no_dense_above = 10_000
    argv = sys.argv[3:]
    for i, a in enumerate(argv):
        if a == "--rss-budget-gb":
            rss_budget = float(argv[i + 1]) * GB
        if a == "--no-dense-above":
            no_dense_above = int(argv[i + 1])
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    d = meta["dim"]
    P = d * (d + 1) // 2
    nq = meta["queries"]
    distinct = meta["distinct"]
    rd = lambda name, dt: np.fromfile(os.path.join(data_dir, name), dtype=dt)  # noqa: E731
    Q = rd("queries.f32", np.float32).reshape(nq, d)
    means = rd("means.f32", np.float32).reshape(-1, d)
    norms = rd("norms.f32", np.float32)
    bias = rd("bias.f32", np.float32).reshape(-1, d)
    A16 = np.memmap(os.path.join(data_dir, "factors.f16"), dtype=np.float16, mode="r", shape=(distinct, P))
    plan = []

    def avail():
        return min(rss_budget - rss(), mem_available() - 2 * GB)

    t0 = time.perf_counter()
    # fp16 → f32 once, in chunks (exact: every fp16 value is a float32).
    n32 = distinct if distinct * P * 4 <= avail() else 0
    if n32 == 0:
        plan.append(f"packed f32: n/a (memory: {distinct * P * 4 / GB:.1f} GB needed)")
        A32 = None
    else:
        A32 = np.empty((distinct, P), dtype=np.float32)
        for s in range(0, distinct, 500):
            A32[s : s + 500] = A16[s : s + 500]
    load_s = time.perf_counter() - t0
    offs = [i * (i + 1) // 2 for i in range(d)]

    # Dense [n, d, d] f32 for batched matmul: at most 2000 distinct (2.1 GB), cycled, if it fits.
    def dense_of(count):
        W = np.zeros((count, d, d), dtype=np.float32)
        src = A32 if A32 is not None else A16
        for i in range(d):
            W[:, i, : i + 1] = src[:count, offs[i] : offs[i] + i + 1]
        return W

    try:
        import torch

        torch_version = torch.__version__
        torch_threads = torch.get_num_threads()
    except Exception as e:  # noqa: BLE001
        torch = None
        torch_version = f"n/a (import torch failed: {type(e).__name__}: {e})"
        torch_threads = None
        log(torch_version)

    def row_sweep(A, q, count, s, mv):
        for i in range(d):
            o = offs[i]
            s[:, i] = mv(A[:count, o : o + i + 1], q[: i + 1])
        return s

    sizes = []
    dense_cache = {}
    for n in meta["sizes"]:
        res = {"n": n, "firstMoment": {}, "gd": [], "notes": []}
        mN = means[:n]
        nN = norms[:n]
        log(f"N={n}: 1st moment…")
        fm = lambda k: (mN @ Q[k % nq]) / nN  # noqa: E731
        res["firstMoment"]["numpy"] = time_calls(fm, 5, 41, 3.0)
        ts_fm = os.path.join(data_dir, f"ts_fm_{n}.f32")
        if os.path.exists(ts_fm):
            res["firstMoment"]["relDiffVsTs"] = rel_diff(np.fromfile(ts_fm, dtype=np.float32), fm(0))
        if torch is not None:
            mt, nt = torch.from_numpy(mN), torch.from_numpy(nN)
            Qt = torch.from_numpy(Q)
            res["firstMoment"]["torch"] = time_calls(lambda k: torch.mv(mt, Qt[k % nq]) / nt, 5, 41, 3.0)

        nd = min(n, distinct)
        cycles = n // nd
        big = n * P >= 1e9
        warm, reps, budget = (0, 3, 0.0) if big else ((1, 5, 8.0) if n >= 5000 else (2, 9, 8.0))
        s = np.empty((nd, d), dtype=np.float32)
        b = bias[:nd]

        def maha_of(svals, bb):
            r = svals - bb
            return np.einsum("ij,ij->i", r, r, dtype=np.float64)

        # TS ‖Wq − b‖² of query 0: "js-f16" = mahalanobis() JS loop, "gs-f16" = gaussianScores' dispatch.
        ts_maha = {
            f"{eng}-{dt}": os.path.join(data_dir, f"ts_{'maha' if eng == 'js' else 'gs'}_{dt}_{n}.f64")
            for eng in ("js", "gs")
            for dt in ("f16", "f32")
        }

        def check(entry, values):
            diffs = {}
            for key, p in ts_maha.items():
                if os.path.exists(p):
                    diffs[key] = rel_diff(np.fromfile(p, dtype=np.float64), values)
            entry["relDiffVsTs"] = diffs

        def add(engine, variant, fn, bytes_per_query, distinct_used, note=None):
            log(f"N={n}: GD {engine} {variant}…")
            entry = {
                "engine": engine,
                "variant": variant,
                "distinct": distinct_used,
                "timing": time_calls(fn, warm, reps, budget),
                "bytesPerQuery": bytes_per_query,
            }
            if note:
                entry["note"] = note
            if distinct_used == n:
                check(entry, fn(0))
            res["gd"].append(entry)

        cyc_note = f"{nd} distinct factors × {cycles}" if cycles > 1 else None
        if A32 is not None:

            def np_packed(k):
                q = Q[k % nq]
                for _ in range(cycles):
                    out = maha_of(row_sweep(A32, q, nd, s, np.dot), b)
                return out

            add("numpy", "packed-f32", np_packed, n * (P * 4 + d * 4), nd, cyc_note)
        if not big:

            def np_packed16(k):
                q = Q[k % nq]
                mv = lambda a, x: a.astype(np.float32) @ x  # noqa: E731
                for _ in range(cycles):
                    out = maha_of(row_sweep(A16, q, nd, s, mv), b)
                return out

            add("numpy", "packed-f16", np_packed16, n * (P * 2 + d * 4), nd, cyc_note)
        else:
            res["notes"].append("numpy packed-f16: not run at this size (time)")

        # Dense: up to 2000 distinct (2.1 GB f32), cycled to n.
        dn = 0
        if n <= no_dense_above:
            want = min(n, 2000)
            for c in range(want, 0, -1):
                if n % c == 0 and (c in dense_cache or c * d * d * 4 <= avail()):
                    dn = c
                    break
            if dn:
                if dn not in dense_cache:
                    dense_cache.clear()
                    dense_cache[dn] = dense_of(dn)
                W = dense_cache[dn]
                dcyc = n // dn
                bd = bias[:dn]
                dnote = f"{dn} distinct dense factors × {dcyc}" if dcyc > 1 else None

                def np_dense(k):
                    q = Q[k % nq]
                    for _ in range(dcyc):
                        out = maha_of(np.matmul(W, q), bd)
                    return out

                add("numpy", "dense-f32", np_dense, n * (d * d * 4 + d * 4), dn, dnote)
                if torch is not None:
                    Wt, bt = torch.from_numpy(W), torch.from_numpy(bd)
                    Qt = torch.from_numpy(Q)

                    def torch_dense(k):
                        q = Qt[k % nq]
                        for _ in range(dcyc):
                            r = torch.matmul(Wt, q) - bt
                            out = (r.double() * r.double()).sum(1)
                        return out.numpy()

                    add("torch", "dense-f32", torch_dense, n * (d * d * 4 + d * 4), dn, dnote)
            else:
                res["notes"].append("dense-f32: n/a (memory)")
        else:
            res["notes"].append(f"dense-f32: not run above N={no_dense_above} (time: {n * d * d * 4 / GB:.0f} GB per query)")

        if torch is not None and A32 is not None:
            At, bt = torch.from_numpy(A32), torch.from_numpy(b)
            Qt = torch.from_numpy(Q)
            st = torch.empty((nd, d), dtype=torch.float32)

            def torch_packed(k):
                q = Qt[k % nq]
                for _ in range(cycles):
                    r = row_sweep(At, q, nd, st, torch.mv) - bt
                    out = (r.double() * r.double()).sum(1)
                return out.numpy()

            add("torch", "packed-f32", torch_packed, n * (P * 4 + d * 4), nd, cyc_note)
        sizes.append(res)

    out = {
        "numpy": np.__version__,
        "blasThreads": blas_threads(),
        "torch": torch_version,
        "torchThreads": torch_threads,
        "loadSeconds": load_s,
        "plan": plan,
        "sizes": sizes,
        "peakRssBytes": peak_rss(),
    }
    json.dump(out, open(out_path, "w"), indent=1)


if __name__ == "__main__":
    main()
