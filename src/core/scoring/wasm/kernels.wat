;; SIMD kernels for scoring, loaded by src/core/scoring/simdKernels.ts (assembled by `npm run build-wasm`).
;; Pointers are byte offsets into the module's memory.
;;
;;   mahalanobis_f32 / mahalanobis_f16: for each model m, out[m] = ‖W_m q − b_m‖² (f64), with W_m a
;;     packed lower triangle (row i holds i+1 entries) stored as f32, or as fp16 bit patterns.
;;   dot_rows: out[m] = Σ_j rows[m][j] · q[j] (f32), for the 1st-moment cosine.
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
)
