"""An independent reader for index.bin (docs/index-format.md, version 1), numpy only.

It parses the header, the section table and every known section straight from the bytes, the way
the format document describes them; it shares no code with src/core/index/indexFormat.ts. Float
sections come back as float64 arrays of the stored values (fp16 bit patterns decoded by numpy),
so everything computed from them is computed from exactly what a reader of the file sees.

Used by make_index_reference.py; also runnable to print a summary and the self-consistency of
the Gaussian sections (b against W·μ, LogDet against −2 Σ log W_ii):

    /usr/bin/python3 tools/reference/index_reader.py public/index/demo/index.bin
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"MSIX"
HEADER = 64
ENTRY = 32

KINDS = {
    1: "Means",
    2: "Norms",
    3: "Precision",
    4: "PrecisionBias",
    5: "LogDet",
    6: "Epsilon",
    7: "SampleOffsets",
    8: "Samples",
    9: "Projection",
    10: "ProjectedMeans",
    11: "StyleRefs",
    12: "StyleKeep",
    13: "StyleProjection",
}
DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f2"), 3: np.dtype("<u4")}
DTYPE_NAMES = {1: "f32", 2: "f16", 3: "u32"}


@dataclass
class Index:
    dim: int
    count: int
    dtypes: dict[str, str] = field(default_factory=dict)
    raw: dict[str, np.ndarray] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.raw

    def f64(self, name: str) -> np.ndarray:
        """A section's stored values as float64 (fp16 decoded exactly)."""
        return self.raw[name].astype(np.float64)

    # --- convenient shapes ----------------------------------------------------------------
    @property
    def means(self) -> np.ndarray:
        return self.f64("Means").reshape(self.count, self.dim)

    @property
    def packed(self) -> int:
        return self.dim * (self.dim + 1) // 2

    def factor(self, m: int) -> np.ndarray:
        """Model m's stored precision factor W as a dense lower-triangular float64 matrix."""
        p = self.packed
        w = np.zeros((self.dim, self.dim))
        w[np.tril_indices(self.dim)] = self.f64("Precision")[m * p : (m + 1) * p]
        return w

    def samples(self, m: int) -> np.ndarray:
        off = self.raw["SampleOffsets"]
        x = self.f64("Samples").reshape(-1, self.dim)
        return x[int(off[m]) : int(off[m + 1])]


def read_index(path: str | Path) -> Index:
    data = Path(path).read_bytes()
    if len(data) < HEADER or data[:4] != MAGIC:
        raise ValueError(f"{path}: not a model-search index")
    version, dim, count, nsec = struct.unpack_from("<4I", data, 4)
    if version != 1:
        raise ValueError(f"{path}: version {version}")
    idx = Index(dim=dim, count=count)
    for i in range(nsec):
        kind, dtype, offset, length, _ = struct.unpack_from("<IIQQQ", data, HEADER + i * ENTRY)
        name = KINDS.get(kind)
        if name is None:
            continue
        if offset % 64 or offset + length > len(data):
            raise ValueError(f"{path}: section {name} is misplaced")
        arr = np.frombuffer(data, dtype=DTYPES[dtype], count=length // DTYPES[dtype].itemsize, offset=offset)
        idx.raw[name] = arr
        idx.dtypes[name] = DTYPE_NAMES[dtype]
    return idx


def gaussian_consistency(idx: Index) -> dict:
    """max |b − W μ| and max |LogDet + 2 Σ log W_ii| over the models, from the stored bytes."""
    if not idx.has("Precision"):
        return {}
    mu = idx.means
    b = idx.f64("PrecisionBias").reshape(idx.count, idx.dim)
    ld = idx.f64("LogDet")
    worst_b = worst_ld = 0.0
    for m in range(idx.count):
        w = idx.factor(m)
        worst_b = max(worst_b, float(np.max(np.abs(b[m] - w @ mu[m]))))
        worst_ld = max(worst_ld, abs(float(ld[m] + 2 * np.sum(np.log(np.diag(w))))))
    return {"max |b - W mu|": worst_b, "max |logdet + 2 sum log W_ii|": worst_ld}


if __name__ == "__main__":
    for p in sys.argv[1:]:
        idx = read_index(p)
        print(p, f"dim={idx.dim} count={idx.count}", {k: idx.dtypes[k] for k in idx.raw})
        for k, v in gaussian_consistency(idx).items():
            print(f"  {k} = {v:.3g}")
