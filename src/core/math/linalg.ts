/**
 * Dense linear algebra in float64 for index building, and the packed-triangle / fp16 helpers
 * the scoring kernels read. Matrices are row-major Float64Arrays of n×n.
 */

/** Number of entries in a packed lower triangle of an n×n matrix (row i holds columns 0..i). */
export function packedSize(n: number): number {
  return (n * (n + 1)) / 2;
}

/** Offset of row i in a packed lower triangle. */
export function packedRowOffset(i: number): number {
  return (i * (i + 1)) / 2;
}

/**
 * In-place Cholesky factorisation A = L Lᵀ of a symmetric positive-definite matrix; the lower
 * triangle of `a` becomes L (the upper triangle is zeroed). Returns false if A is not PD.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s * inv;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/** Inverse of a lower-triangular matrix (returns a new lower-triangular matrix). */
export function invertLowerTriangular(l: Float64Array, n: number): Float64Array {
  const w = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    // Solve L x = e_j by forward substitution; x is column j of W (zero above the diagonal).
    w[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const ri = i * n;
      for (let k = j; k < i; k++) s += l[ri + k] * w[k * n + j];
      w[ri + j] = -s / l[ri + i];
    }
  }
  return w;
}

/** Packs the lower triangle of a dense n×n matrix row by row. */
export function packLower(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(packedSize(n));
  let o = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[o++] = a[i * n + j];
  return out;
}

// --- IEEE 754 half precision -------------------------------------------------------------

/** Rounds x to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Rounds a number to the nearest fp16 bit pattern (round half to even; overflow → ±Inf), in one
 * step from float64 — going through float32 first would double-round values next to a tie.
 * Scaling by powers of two is exact in float64, so the rounding is exact too.
 */
export function toHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00; // 65520 is halfway to 2^16 and rounds (to even) up to Inf
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal (1024 carries into the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const q = roundHalfEven(a * 2 ** (10 - e)); // in [1024, 2048]; 2048 carries into the exponent
  return sign | (((e + 15) << 10) + (q - 1024));
}

let halfTable: Float32Array | undefined;

/** A 65536-entry table from fp16 bit pattern to float32 value. */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else if (e === 0x1f) t[h] = m ? NaN : sign * Infinity;
    else t[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  halfTable = t;
  return t;
}

export function toHalfArray(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}

export function fromHalfArray(bits: Uint16Array): Float32Array {
  const t = halfToFloatTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/**
 * ‖W⁻ᵀ q‖² for the packed lower-triangular factor W starting at `base` in `w` (float32 values, or
 * fp16 bit patterns when `f16`): solves Wᵀ y = q from the last row up (row i of W is contiguous in
 * the packed layout). With W = L⁻¹ and L Lᵀ = Σ', this is qᵀ Σ' q. `r` is scratch of length ≥ dim.
 */
export function inverseQuadForm(w: Float32Array | Uint16Array, f16: boolean, base: number, dim: number, q: ArrayLike<number>, r: Float64Array): number {
  const t = halfToFloatTable();
  for (let j = 0; j < dim; j++) r[j] = q[j];
  let yy = 0;
  for (let i = dim - 1; i >= 0; i--) {
    const row = base + (i * (i + 1)) / 2;
    const wii = f16 ? t[w[row + i]] : w[row + i];
    const yi = r[i] / wii;
    yy += yi * yi;
    if (f16) for (let j = 0; j < i; j++) r[j] -= t[w[row + j]] * yi;
    else for (let j = 0; j < i; j++) r[j] -= w[row + j] * yi;
  }
  return yy;
}
