/** Euclidean norm of each row of a row-major [count, dim] matrix. */
export function rowNorms(rows: Float32Array, count: number, dim: number): Float32Array {
  const norms = new Float32Array(count);
  for (let m = 0; m < count; m++) {
    const row = rows.subarray(m * dim, (m + 1) * dim);
    let s = 0;
    for (let j = 0; j < dim; j++) s += row[j] * row[j];
    norms[m] = Math.sqrt(s);
  }
  return norms;
}

/** Scales a vector to unit length in place (zero vectors stay zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}
