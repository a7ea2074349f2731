;; SIMD kernels for Gaussian-density scoring (see src/core/gaussianKernel.ts).
;; For each model m: out[m] = ‖W_m q − b_m‖², with W_m a packed lower triangle (row i has i+1
;; entries), stored as f32 or as fp16 bit patterns. Pointers are byte offsets into memory.
(module
  (memory (export "memory") 1)

  ;; Horizontal sum of an f32x4.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; fp16 → f32 (used inline below for 4 lanes at a time): exact for normals, subnormals and zero:
  ;; (h & 0x7fff) << 13 reinterpreted as f32 and scaled by 2^112, then the sign bit restored.
  (func $half1 (param $h i32) (result f32)
    (f32.reinterpret_i32
      (i32.or
        (i32.reinterpret_f32
          (f32.mul (f32.reinterpret_i32 (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)))
                   (f32.const 0x1p112)))
        (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16)))))

  (func (export "mahalanobis_f32")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $row i32)
    (local $s0 v128) (local $s1 v128) (local $tail f32) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        ;; 8 at a time, two accumulators to hide add latency.
        (block $done8 (loop $by8
          (br_if $done8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $len)))
          (local.set $s0 (f32x4.add (local.get $s0)
            (f32x4.mul (v128.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
                       (v128.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $s1 (f32x4.add (local.get $s1)
            (f32x4.mul (v128.load offset=16 (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
                       (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $by8)))
        (local.set $tail (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))
        (block $done1 (loop $by1
          (br_if $done1 (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $tail (f32.add (local.get $tail)
            (f32.mul (f32.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 2))))
                     (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $by1)))
        (local.set $r (f32.sub (local.get $tail) (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 2))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))

  (func (export "mahalanobis_f16")
    (param $w i32) (param $bias i32) (param $q i32) (param $dim i32) (param $count i32) (param $out i32)
    (local $m i32) (local $i i32) (local $j i32) (local $len i32) (local $h v128) (local $lo v128) (local $hi v128) (local $qp i32)
    (local $s0 v128) (local $s1 v128) (local $tail f32) (local $r f32) (local $acc f64)
    (block $done_m (loop $each_m
      (br_if $done_m (i32.ge_u (local.get $m) (local.get $count)))
      (local.set $acc (f64.const 0))
      (local.set $i (i32.const 0))
      (block $done_i (loop $each_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $dim)))
        (local.set $len (i32.add (local.get $i) (i32.const 1)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $done8 (loop $by8
          (br_if $done8 (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $len)))
          (local.set $h (v128.load (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1)))))
          (local.set $qp (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $lo (i32x4.extend_low_i16x8_u (local.get $h)))
          (local.set $hi (i32x4.extend_high_i16x8_u (local.get $h)))
          (local.set $s0 (f32x4.add (local.get $s0)
            (f32x4.mul (v128.or
              (f32x4.mul
                (i32x4.shl (v128.and (local.get $lo) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
                (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
              (i32x4.shl (v128.and (local.get $lo) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))) (v128.load (local.get $qp)))))
          (local.set $s1 (f32x4.add (local.get $s1)
            (f32x4.mul (v128.or
              (f32x4.mul
                (i32x4.shl (v128.and (local.get $hi) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
                (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
              (i32x4.shl (v128.and (local.get $hi) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))) (v128.load offset=16 (local.get $qp)))))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $by8)))
        (local.set $tail (call $hsum (f32x4.add (local.get $s0) (local.get $s1))))
        (block $done1 (loop $by1
          (br_if $done1 (i32.ge_u (local.get $j) (local.get $len)))
          (local.set $tail (f32.add (local.get $tail)
            (f32.mul (call $half1 (i32.load16_u (i32.add (local.get $w) (i32.shl (local.get $j) (i32.const 1)))))
                     (f32.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $by1)))
        (local.set $r (f32.sub (local.get $tail) (f32.load (local.get $bias))))
        (local.set $acc (f64.add (local.get $acc) (f64.promote_f32 (f32.mul (local.get $r) (local.get $r)))))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $len) (i32.const 1))))
        (local.set $bias (i32.add (local.get $bias) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each_i)))
      (f64.store (local.get $out) (local.get $acc))
      (local.set $out (i32.add (local.get $out) (i32.const 8)))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br $each_m))))
)
