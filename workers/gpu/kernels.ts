/**
 * WGSL for the tiered index's scoring (docs/webgpu-kernels.md). Kept as TypeScript strings so every
 * bundler (Vite, esbuild in the tests and the bench) takes them without a `?raw` plugin.
 *
 * Shared shape of the "row · vector" kernels: a workgroup of 256 invocations scores ROWS = 8 rows
 * with LANES = 32 invocations each; lane l reads words l, l + 32, … of its row (adjacent lanes read
 * adjacent words: coalesced), and the 32 partial sums are added by a tree in workgroup memory. The
 * dispatch is 2-D (x = min(groups, 65535)) so more than 65 535 × 8 rows fit one dispatch; the
 * linear group is y · num_workgroups.x + x. Every accumulation is f32.
 */

export const ROWS_PER_GROUP = 8;
export const GROUP_SIZE = 256;

const REDUCE = /* wgsl */ `
const LANES: u32 = 32u;
const ROWS: u32 = 8u;
var<workgroup> partial: array<f32, 256>;

// Sums the 32 lanes of each row in place; the row's total ends in partial[row * LANES].
fn reduceLanes(lid: u32, lane: u32) {
  for (var stride = 16u; stride > 0u; stride = stride >> 1u) {
    if (lane < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
}
`;

/**
 * The int8 prefilters. codes: [count, words] u32, 4 int8 codes a word, little-endian (code j of a
 * model is byte j % 4 of word j / 4; rows padded with zero codes to a whole word). model: per model
 * (scale, ‖μ‖, proxy precision h, proxy log|Σ'|). query: [words] vec4, zero-padded.
 *
 *   mode 0 (cosine): ⟨q, μ⟩ / ‖μ‖, 0 for a zero mean                      (int8CosineScores)
 *   mode 1 (proxy):  −½ h max(0, ‖q‖² − 2⟨q, μ⟩ + ‖μ‖²) − ½ log|Σ'|       (gaussianProxyScores)
 *
 * with ⟨q, μ⟩ = scale · Σ codes · q, as prefilter.ts's int8Dots.
 */
export const PREFILTER_WGSL = /* wgsl */ `
struct Params {
  count: u32,
  words: u32,
  mode: u32,
  qq: f32,
};
@group(0) @binding(0) var<storage, read> codes: array<u32>;
@group(0) @binding(1) var<storage, read> model: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> query: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
${REDUCE}
// Sign-extends the four int8 codes of a word (byte 0 first).
fn unpackCodes(w: u32) -> vec4<f32> {
  let shifted = bitcast<vec4<i32>>(vec4<u32>(w << 24u, w << 16u, w << 8u, w));
  return vec4<f32>(shifted >> vec4<u32>(24u, 24u, 24u, 24u));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wg.y * nwg.x + wg.x;
  let row = lid / LANES;
  let lane = lid % LANES;
  let m = group * ROWS + row;
  var s = 0.0;
  if (m < params.count) {
    let base = m * params.words;
    for (var w = lane; w < params.words; w = w + LANES) {
      s = s + dot(unpackCodes(codes[base + w]), query[w]);
    }
  }
  partial[lid] = s;
  workgroupBarrier();
  reduceLanes(lid, lane);
  if (lane == 0u && m < params.count) {
    let p = model[m];
    let qm = partial[lid] * p.x;
    if (params.mode == 0u) {
      scores[m] = select(0.0, qm / p.y, p.y > 0.0);
    } else {
      let dd = max(0.0, params.qq - 2.0 * qm + p.y * p.y);
      scores[m] = -0.5 * p.z * dd - 0.5 * p.w;
    }
  }
}
`;

/** Sign codes: agreeing signs = (words·32 − padding) − popcount(bits ⊕ query bits), one invocation a model (signAgreementScores). */
export const SIGN_WGSL = /* wgsl */ `
struct Params {
  count: u32,
  words: u32,
  agreeMax: u32,
  pad: u32,
};
@group(0) @binding(0) var<storage, read> bits: array<u32>;
@group(0) @binding(1) var<storage, read> qbits: array<u32>;
@group(0) @binding(2) var<storage, read_write> scores: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = (wg.y * nwg.x + wg.x) * 256u + lid;
  if (m >= params.count) {
    return;
  }
  var differ = 0u;
  let base = m * params.words;
  for (var w = 0u; w < params.words; w = w + 1u) {
    differ = differ + countOneBits(bits[base + w] ^ qbits[w]);
  }
  scores[m] = f32(params.agreeMax) - f32(differ);
}
`;

/**
 * The exact rerank (lowRankLogDensity of core/index/lowRankGaussian.ts) for a batch of records, in
 * three dispatches of one compute pass:
 *   delta:   one workgroup a record: δ = q − μ (kept for the next pass) and dd = ‖δ‖².
 *   project: the row kernel over every basis row of the batch: c_k = B_k · δ_(its record).
 *   finish:  one invocation a record: maha = max(0, dd/s − Σ_k c_k²),
 *            score = −½ maha − ½ log|Σ'| − (d/2) log 2π.
 * Records: (first row, rows, s, log|Σ'|); rows of a record are consecutive in basis / rowRecord.
 */
export const LOWRANK_WGSL = /* wgsl */ `
struct Params {
  records: u32,
  rows: u32,
  dim: u32,
  halfDimLog2Pi: f32,
};
struct Rec {
  firstRow: u32,
  rows: u32,
  isotropic: f32,
  logDet: f32,
};
@group(0) @binding(0) var<storage, read> means: array<f32>;
@group(0) @binding(1) var<storage, read> basis: array<f32>;
@group(0) @binding(2) var<storage, read> rowRecord: array<u32>;
@group(0) @binding(3) var<storage, read> recs: array<Rec>;
@group(0) @binding(4) var<storage, read> query: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> rowDot: array<f32>;
// [records] scores, then [records] ‖δ‖² (one binding: WebGPU guarantees only 8 storage buffers a stage).
@group(0) @binding(7) var<storage, read_write> perRecord: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;
${REDUCE}
var<workgroup> wide: array<f32, 256>;

@compute @workgroup_size(256)
fn deltaPass(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wg.y * nwg.x + wg.x;
  var s = 0.0;
  if (r < params.records) {
    let base = r * params.dim;
    for (var j = lid; j < params.dim; j = j + 256u) {
      let d = query[j] - means[base + j];
      delta[base + j] = d;
      s = s + d * d;
    }
  }
  wide[lid] = s;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) {
      wide[lid] = wide[lid] + wide[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u && r < params.records) {
    perRecord[params.records + r] = wide[0];
  }
}

@compute @workgroup_size(256)
fn projectPass(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wg.y * nwg.x + wg.x;
  let lane = lid % LANES;
  let row = group * ROWS + lid / LANES;
  var s = 0.0;
  if (row < params.rows) {
    let b = row * params.dim;
    let d = rowRecord[row] * params.dim;
    for (var j = lane; j < params.dim; j = j + LANES) {
      s = s + basis[b + j] * delta[d + j];
    }
  }
  partial[lid] = s;
  workgroupBarrier();
  reduceLanes(lid, lane);
  if (lane == 0u && row < params.rows) {
    rowDot[row] = partial[lid];
  }
}

@compute @workgroup_size(256)
fn finishPass(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = (wg.y * nwg.x + wg.x) * 256u + lid;
  if (r >= params.records) {
    return;
  }
  let rec = recs[r];
  var projected = 0.0;
  for (var k = 0u; k < rec.rows; k = k + 1u) {
    let c = rowDot[rec.firstRow + k];
    projected = projected + c * c;
  }
  let maha = max(0.0, perRecord[params.records + r] / rec.isotropic - projected);
  perRecord[r] = -0.5 * maha - 0.5 * rec.logDet - params.halfDimLog2Pi;
}
`;
