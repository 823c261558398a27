;; The histogram kernels of the GBDT grower in WebAssembly (tools/build-wasm.js compiles this file
;; into kernels-wasm.ts; run `npm run wasm` after changing it). They compute what buildHistogram
;; in grower.ts computes, in the same order, so the sums are the same numbers: for each row
;; s = idx[t] of t in [start, end), for each feature j, the slot of bin b = bins[s][j] in feature
;; j's block gets g[s] added to its first value, h[s] to its second and 1 to its third (its
;; count). Every argument is a byte address in the imported memory, or a count.
;;
;;   hist         the histogram: per feature a block of `block` bytes (W slots of 3 f64)
;;   words        the row-major bins, four per u32 (byte j of a word is bits 8j..8j+7)
;;   words_per_row
;;   idx          the u32 row indices; start and end are positions in it
;;   grad, hess   the f64 gradients and hessians, by row
;;
;; The caller zeroes the histogram. `histogram_counts` leaves the hessian sums alone: for losses
;; with a constant hessian the caller sets them from the counts afterwards.
;;
;; `partition` is grower.ts partitionRange: the rows idx[start..end) whose bin of `feature` (read
;; from the column-major bins, n per column) the 256-byte table marks with 1 are packed in order
;; from idx[start], the others from scratch[start]; it returns how many went left.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $histogram (export "histogram")
    (param $hist i32) (param $words i32) (param $words_per_row i32) (param $block i32)
    (param $idx i32) (param $start i32) (param $end i32) (param $grad i32) (param $hess i32)
    (local $t i32) (local $s i32) (local $g f64) (local $h f64) (local $q i32) (local $at i32)
    (local $o i32) (local $w i32) (local $k i32) (local $block4 i32)
    (local.set $block4 (i32.shl (local.get $block) (i32.const 2)))
    (local.set $t (local.get $start))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $s (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $g (f64.load (i32.add (local.get $grad) (i32.shl (local.get $s) (i32.const 3)))))
        (local.set $h (f64.load (i32.add (local.get $hess) (i32.shl (local.get $s) (i32.const 3)))))
        (local.set $at (i32.add (local.get $words) (i32.shl (i32.mul (local.get $s) (local.get $words_per_row)) (i32.const 2))))
        (local.set $o (local.get $hist))
        (local.set $q (i32.const 0))
        (block $words_done
          (loop $row_words
            (br_if $words_done (i32.ge_u (local.get $q) (local.get $words_per_row)))
            (local.set $w (i32.load (local.get $at)))
            ;; feature 4q: bits 0..7
            (local.set $k (i32.add (local.get $o)
              (i32.mul (i32.and (local.get $w) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $h)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature 4q + 1: bits 8..15
            (local.set $k (i32.add (i32.add (local.get $o) (local.get $block))
              (i32.mul (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $h)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature 4q + 2: bits 16..23
            (local.set $k (i32.add (i32.add (local.get $o) (i32.shl (local.get $block) (i32.const 1)))
              (i32.mul (i32.and (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $h)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            ;; feature 4q + 3: bits 24..31
            (local.set $k (i32.add (i32.add (local.get $o) (i32.mul (local.get $block) (i32.const 3)))
              (i32.mul (i32.shr_u (local.get $w) (i32.const 24)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=8 (local.get $k) (f64.add (f64.load offset=8 (local.get $k)) (local.get $h)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (local.get $block4)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $row_words)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $rows))))

  (func $histogram_counts (export "histogram_counts")
    (param $hist i32) (param $words i32) (param $words_per_row i32) (param $block i32)
    (param $idx i32) (param $start i32) (param $end i32) (param $grad i32)
    (local $t i32) (local $s i32) (local $g f64) (local $q i32) (local $at i32)
    (local $o i32) (local $w i32) (local $k i32) (local $block4 i32)
    (local.set $block4 (i32.shl (local.get $block) (i32.const 2)))
    (local.set $t (local.get $start))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $s (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $g (f64.load (i32.add (local.get $grad) (i32.shl (local.get $s) (i32.const 3)))))
        (local.set $at (i32.add (local.get $words) (i32.shl (i32.mul (local.get $s) (local.get $words_per_row)) (i32.const 2))))
        (local.set $o (local.get $hist))
        (local.set $q (i32.const 0))
        (block $words_done
          (loop $row_words
            (br_if $words_done (i32.ge_u (local.get $q) (local.get $words_per_row)))
            (local.set $w (i32.load (local.get $at)))
            (local.set $k (i32.add (local.get $o)
              (i32.mul (i32.and (local.get $w) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $k (i32.add (i32.add (local.get $o) (local.get $block))
              (i32.mul (i32.and (i32.shr_u (local.get $w) (i32.const 8)) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $k (i32.add (i32.add (local.get $o) (i32.shl (local.get $block) (i32.const 1)))
              (i32.mul (i32.and (i32.shr_u (local.get $w) (i32.const 16)) (i32.const 255)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $k (i32.add (i32.add (local.get $o) (i32.mul (local.get $block) (i32.const 3)))
              (i32.mul (i32.shr_u (local.get $w) (i32.const 24)) (i32.const 24))))
            (f64.store (local.get $k) (f64.add (f64.load (local.get $k)) (local.get $g)))
            (f64.store offset=16 (local.get $k) (f64.add (f64.load offset=16 (local.get $k)) (f64.const 1)))
            (local.set $at (i32.add (local.get $at) (i32.const 4)))
            (local.set $o (i32.add (local.get $o) (local.get $block4)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $row_words)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $rows))))

  (func $partition (export "partition")
    (param $columns i32) (param $n i32) (param $feature i32) (param $idx i32) (param $scratch i32)
    (param $table i32) (param $start i32) (param $end i32) (result i32)
    (local $col i32) (local $t i32) (local $l i32) (local $r i32) (local $row i32) (local $left i32)
    (local.set $col (i32.add (local.get $columns) (i32.mul (local.get $feature) (local.get $n))))
    (local.set $t (local.get $start))
    (local.set $l (local.get $start))
    (local.set $r (local.get $start))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $row (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $left (i32.load8_u (i32.add (local.get $table)
          (i32.load8_u (i32.add (local.get $col) (local.get $row))))))
        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $l) (i32.const 2))) (local.get $row))
        (i32.store (i32.add (local.get $scratch) (i32.shl (local.get $r) (i32.const 2))) (local.get $row))
        (local.set $l (i32.add (local.get $l) (local.get $left)))
        (local.set $r (i32.sub (i32.add (local.get $r) (i32.const 1)) (local.get $left)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $rows)))
    (i32.sub (local.get $l) (local.get $start))))
