;; SIMD kernels for scoring, loaded by src/core/scoring/simdKernels.ts (assembled by `npm run build-wasm`).
;; Pointers are byte offsets into the module's memory.
;;
;;   mahalanobis_f32 / mahalanobis_f16: for each model m, out[m] = ‖W_m q − b_m‖² (f64), with W_m a
;;     packed lower triangle (row i holds i+1 entries) stored as f32, or as fp16 bit patterns.
;;   dot_rows: out[m] = Σ_j rows[m][j] · q[j] (f32), for the 1st-moment cosine.
;;   int8_dots: out[m] = f32(scale[m] · Σ_j codes[m][j] · q[j]) from int8 codes, with the query given
;;     as three int16 limbs (tieredKernels.ts): the integer dots are exact, so the result is the
;;     exactly rounded dot of the codes with the limb-encoded query.
;;   sign_agree: out[m] = dim − popcount(bits[m] xor q) (f32), the sign-code prefilter.
;;   lowrank_proj: ‖Bδ‖² of the low-rank Gaussian rerank (f32 rows, f64 δ and sums).
;;
;; fp16 decode (3 integer ops per 4 lanes): sign-extend the 16-bit pattern to 32 bits, shift left
;; 13 and clear the smeared sign copies (bits 28–30) with 0x8FFFE000. That is the f32 whose
;; exponent is 112 too small; instead of multiplying every factor by 2^112, the caller stores
;; q · 2^112 (an exact power-of-two scale), so products come out right. Exact for normal and
;; subnormal fp16 values and zeros; Inf/NaN patterns never occur (readIndex rejects them).
;;
;; Ragged row ends are one masked 8-lane step: the lanes past the row read the next row (or the
;; ≥ 16 bytes of padding the caller leaves after the factors), and `mask` (9 entries × 32 bytes,
;; entry k = k lanes of all-ones) zeroes their q lanes, so they add exactly 0.
(module
  (memory (export "memory") 1)

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func (export "mahalanobis_f16")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32) (param $mask i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $h v128) (local $wp i32) (local $qp i32) (local $mp i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        ;; 16 lanes per step, four accumulators to hide the add latency.
        (block $done16 (loop $by16
          (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $len)))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
          (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $h (v128.load (local.get $wp)))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
            (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
            (v128.load (local.get $qp)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul
            (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
            (v128.load offset=16 (local.get $qp)))))
          (local.set $h (v128.load offset=16 (local.get $wp)))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul
            (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
            (v128.load offset=32 (local.get $qp)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul
            (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
            (v128.load offset=48 (local.get $qp)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $by16)))
        ;; One 8-lane step, then the masked remainder (0–7 lanes).
        (if (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $h (v128.load (local.get $wp)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
              (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
              (v128.load (local.get $qp)))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul
              (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
              (v128.load offset=16 (local.get $qp)))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))))
        (if (i32.lt_u (local.get $j) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $mp (i32.add (local.get $mask) (i32.shl (i32.sub (local.get $len) (local.get $j)) (i32.const 5))))
            (local.set $h (v128.load (local.get $wp)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul
              (v128.and (i32x4.shl (i32x4.extend_low_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
              (v128.and (v128.load (local.get $qp)) (v128.load (local.get $mp))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul
              (v128.and (i32x4.shl (i32x4.extend_high_i16x8_s (local.get $h)) (i32.const 13)) (v128.const i32x4 0x8FFFE000 0x8FFFE000 0x8FFFE000 0x8FFFE000))
              (v128.and (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $mp))))))))
        (local.set $r (f32.sub
          (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
          (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 1))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  (func (export "mahalanobis_f32")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32) (param $mask i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $wp i32) (local $qp i32) (local $mp i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $done16 (loop $by16
          (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $len)))
          (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $wp)) (v128.load (local.get $qp)))))
          (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $wp)) (v128.load offset=16 (local.get $qp)))))
          (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $wp)) (v128.load offset=32 (local.get $qp)))))
          (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $wp)) (v128.load offset=48 (local.get $qp)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $by16)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $wp)) (v128.load (local.get $qp)))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $wp)) (v128.load offset=16 (local.get $qp)))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))))
        (if (i32.lt_u (local.get $j) (local.get $len))
          (then
            (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $mp (i32.add (local.get $mask) (i32.shl (i32.sub (local.get $len) (local.get $j)) (i32.const 5))))
            ;; Masked lanes read finite f32 factors (or zero padding) times 0: they add exactly 0.
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $wp))
              (v128.and (v128.load (local.get $qp)) (v128.load (local.get $mp))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $wp))
              (v128.and (v128.load offset=16 (local.get $qp)) (v128.load offset=16 (local.get $mp))))))))
        (local.set $r (f32.sub
          (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
          (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 2))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  ;; out[m] = rows[m] · q for `count` rows of `dim` f32 values; the caller pads q and each row to a
  ;; multiple of 16 lanes with zeros (rows are stored with a padded stride `stride` ≥ dim).
  (func (export "dot_rows")
    (param $rows i32) (param $q i32) (param $dim16 i32) (param $stride i32) (param $count i32) (param $out i32)
    (local $m i32) (local $j i32) (local $rp i32) (local $qp i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (local.set $s1 (v128.const i32x4 0 0 0 0))
      (local.set $s2 (v128.const i32x4 0 0 0 0))
      (local.set $s3 (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $done16 (loop $by16
        (br_if $done16 (i32.ge_u (local.get $j) (local.get $dim16)))
        (local.set $rp (i32.add (local.get $rows) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $rp)) (v128.load (local.get $qp)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $rp)) (v128.load offset=16 (local.get $qp)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $rp)) (v128.load offset=32 (local.get $qp)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $rp)) (v128.load offset=48 (local.get $qp)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $by16)))
      (f32.store (local.get $out)
        (call $hsum (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3)))))
      (local.set $rows (i32.add (local.get $rows) (i32.shl (local.get $stride) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  ;; Σ of an i32x4's lanes as i64 (no overflow: each lane fits i32, four of them fit i64).
  (func $hsum_i64 (param $v v128) (result i64)
    (local $w v128)
    (local.set $w (i64x2.add (i64x2.extend_low_i32x4_s (local.get $v)) (i64x2.extend_high_i32x4_s (local.get $v))))
    (i64.add (i64x2.extract_lane 0 (local.get $w)) (i64x2.extract_lane 1 (local.get $w))))

  ;; out[m] = f32(f64(S0 + 2^15 S1 + 2^30 S2) · inv_k · scale[m]) with S_l = Σ_j codes[m][j] · limb_l[j].
  ;; codes: [count, stride] int8 (stride a multiple of 16, zero-padded); limbs: three int16 arrays of
  ;; `stride` entries, back to back (limb l at limbs + 2·l·stride), zero-padded; the query is
  ;; q ≈ inv_k · (limb0 + 2^15 limb1 + 2^30 limb2). |limb0|, |limb1| ≤ 2^14 and |limb2| ≤ 2^13 + 1, so each
  ;; i32 lane (stride/4 products of ≤ 2^21) cannot overflow for stride ≤ 4000, and S2·2^30 fits i64.
  (func (export "int8_dots")
    (param $codes i32) (param $limbs i32) (param $stride i32) (param $count i32) (param $scale i32) (param $inv_k f64) (param $out i32)
    (local $m i32) (local $j i32) (local $cp i32) (local $l0 i32) (local $l1 i32) (local $l2 i32)
    (local $c v128) (local $lo v128) (local $hi v128) (local $a0 v128) (local $a1 v128) (local $a2 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128)
    (local $total i64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $b0 (v128.const i32x4 0 0 0 0))
      (local.set $b1 (v128.const i32x4 0 0 0 0))
      (local.set $b2 (v128.const i32x4 0 0 0 0))
      (local.set $cp (local.get $codes))
      (local.set $l0 (local.get $limbs))
      (local.set $l1 (i32.add (local.get $limbs) (i32.shl (local.get $stride) (i32.const 1))))
      (local.set $l2 (i32.add (local.get $limbs) (i32.shl (local.get $stride) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $done16 (loop $by16
        (br_if $done16 (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $c (v128.load (local.get $cp)))
        (local.set $lo (i16x8.extend_low_i8x16_s (local.get $c)))
        (local.set $hi (i16x8.extend_high_i8x16_s (local.get $c)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $lo) (v128.load (local.get $l0)))))
        (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (local.get $hi) (v128.load offset=16 (local.get $l0)))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $lo) (v128.load (local.get $l1)))))
        (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (local.get $hi) (v128.load offset=16 (local.get $l1)))))
        (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $lo) (v128.load (local.get $l2)))))
        (local.set $b2 (i32x4.add (local.get $b2) (i32x4.dot_i16x8_s (local.get $hi) (v128.load offset=16 (local.get $l2)))))
        (local.set $cp (i32.add (local.get $cp) (i32.const 16)))
        (local.set $l0 (i32.add (local.get $l0) (i32.const 32)))
        (local.set $l1 (i32.add (local.get $l1) (i32.const 32)))
        (local.set $l2 (i32.add (local.get $l2) (i32.const 32)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $by16)))
      ;; a_l + b_l: each lane holds stride/4 products, as bounded above.
      (local.set $total (i64.add
        (call $hsum_i64 (i32x4.add (local.get $a0) (local.get $b0)))
        (i64.add
          (i64.shl (call $hsum_i64 (i32x4.add (local.get $a1) (local.get $b1))) (i64.const 15))
          (i64.shl (call $hsum_i64 (i32x4.add (local.get $a2) (local.get $b2))) (i64.const 30)))))
      (f32.store (local.get $out) (f32.demote_f64 (f64.mul
        (f64.mul (f64.convert_i64_s (local.get $total)) (local.get $inv_k))
        (f64.promote_f32 (f32.load (local.get $scale))))))
      (local.set $codes (i32.add (local.get $codes) (local.get $stride)))
      (local.set $scale (i32.add (local.get $scale) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  ;; out[m] = f32(dim − Σ popcount(bits[m] xor q)) for `count` sign codes of `vecs` v128 each (the
  ;; caller pads each model's words and the query's to a multiple of 4 with zeros: 0 xor 0 adds
  ;; nothing). Byte counts are summed in u8 lanes for up to 31 vectors (≤ 248 a lane), then widened.
  (func (export "sign_agree")
    (param $bits i32) (param $q i32) (param $vecs i32) (param $count i32) (param $dim i32) (param $out i32)
    (local $m i32) (local $v i32) (local $run i32) (local $qp i32) (local $acc8 v128) (local $acc16 v128) (local $s v128)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc16 (v128.const i32x4 0 0 0 0))
      (local.set $qp (local.get $q))
      (local.set $v (i32.const 0))
      (block $done_v (loop $each_chunk
        (br_if $done_v (i32.ge_u (local.get $v) (local.get $vecs)))
        (local.set $acc8 (v128.const i32x4 0 0 0 0))
        (local.set $run (i32.const 0))
        (block $done_run (loop $each_v
          (br_if $done_run (i32.or (i32.ge_u (local.get $v) (local.get $vecs)) (i32.ge_u (local.get $run) (i32.const 31))))
          (local.set $acc8 (i8x16.add (local.get $acc8)
            (i8x16.popcnt (v128.xor (v128.load (local.get $bits)) (v128.load (local.get $qp))))))
          (local.set $bits (i32.add (local.get $bits) (i32.const 16)))
          (local.set $qp (i32.add (local.get $qp) (i32.const 16)))
          (local.set $v (i32.add (local.get $v) (i32.const 1)))
          (local.set $run (i32.add (local.get $run) (i32.const 1)))
          (br $each_v)))
        (local.set $acc16 (i16x8.add (local.get $acc16) (i16x8.extadd_pairwise_i8x16_u (local.get $acc8))))
        (br $each_chunk)))
      (local.set $s (i32x4.extadd_pairwise_i16x8_u (local.get $acc16)))
      (local.set $s (i32x4.add (local.get $s) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s))))
      (f32.store (local.get $out) (f32.convert_i32_s (i32.sub (local.get $dim)
        (i32.add (i32x4.extract_lane 0 (local.get $s)) (i32x4.extract_lane 1 (local.get $s))))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  ;; Σ_k (Σ_j rows[k][j] · delta[j])² in f64 over `rank` f32 rows of `stride` entries (a multiple of
  ;; 4, zero-padded) and an f64 delta of `stride` entries (zero-padded): ‖Bδ‖² of the low-rank
  ;; Gaussian rerank (lowRankLogDensity), each row promoted to f64 exactly as the JS loop does.
  (func (export "lowrank_proj")
    (param $rows i32) (param $delta i32) (param $stride i32) (param $rank i32) (result f64)
    (local $k i32) (local $j i32) (local $rp i32) (local $dp i32) (local $b v128)
    (local $s0 v128) (local $s1 v128) (local $t f64) (local $acc f64)
    (block $done_k (loop $each_k
      (br_if $done_k (i32.ge_u (local.get $k) (local.get $rank)))
      (local.set $s0 (v128.const i32x4 0 0 0 0))
      (local.set $s1 (v128.const i32x4 0 0 0 0))
      (local.set $rp (local.get $rows))
      (local.set $dp (local.get $delta))
      (local.set $j (i32.const 0))
      (block $done4 (loop $by4
        (br_if $done4 (i32.ge_u (local.get $j) (local.get $stride)))
        (local.set $b (v128.load (local.get $rp)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $b)) (v128.load (local.get $dp)))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b)))
          (v128.load offset=16 (local.get $dp)))))
        (local.set $rp (i32.add (local.get $rp) (i32.const 16)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 32)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $by4)))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
      (local.set $t (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
      (local.set $acc (f64.add (local.get $acc) (f64.mul (local.get $t) (local.get $t))))
      (local.set $rows (i32.add (local.get $rows) (i32.shl (local.get $stride) (i32.const 2))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $each_k)))
    (local.get $acc))

  ;; sign_agree with scalar i64.popcnt (one x86 POPCNT per 8 bytes; i8x16.popcnt has no single
  ;; instruction before AVX-512): `pairs` = 16-byte groups per model, as for sign_agree.
  (func (export "sign_agree64")
    (param $bits i32) (param $q i32) (param $pairs i32) (param $count i32) (param $dim i32) (param $out i32)
    (local $m i32) (local $qp i32) (local $end i32) (local $acc i64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (i64.const 0))
      (local.set $qp (local.get $q))
      (local.set $end (i32.add (local.get $bits) (i32.shl (local.get $pairs) (i32.const 4))))
      (block $done_v (loop $each_v
        (br_if $done_v (i32.ge_u (local.get $bits) (local.get $end)))
        (local.set $acc (i64.add (local.get $acc) (i64.add
          (i64.popcnt (i64.xor (i64.load (local.get $bits)) (i64.load (local.get $qp))))
          (i64.popcnt (i64.xor (i64.load offset=8 (local.get $bits)) (i64.load offset=8 (local.get $qp)))))))
        (local.set $bits (i32.add (local.get $bits) (i32.const 16)))
        (local.set $qp (i32.add (local.get $qp) (i32.const 16)))
        (br $each_v)))
      (f32.store (local.get $out) (f32.convert_i32_s (i32.sub (local.get $dim) (i32.wrap_i64 (local.get $acc)))))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))
)
