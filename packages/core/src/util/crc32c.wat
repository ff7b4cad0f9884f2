;; CRC-32C (Castagnoli), slicing-by-8, as a WebAssembly function: the same loop as crc32c.ts's,
;; compiled by V8's baseline wasm compiler when the module is made, so the first metadata
;; blocks a one-shot command checks do not run in the JavaScript interpreter.
;; Memory: bytes 0..8191 hold the 8 x 256 u32 tables T[k][b] (filled by crc32c.ts), the data
;; to checksum is copied from byte 8192 on. scripts/gen-crc32c-wasm.mjs turns this file into
;; crc32c-wasm.ts (wat2wasm, from Debian's wabt).
(module
  (memory (export "memory") 1)
  ;; Kernel-style crc32c_le over n bytes at p: no pre- or post-inversion.
  (func (export "crc") (param $crc i32) (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $lo i32) (local $hi i32)
    ;; Byte-wise until the remainder is a multiple of 8.
    (block $aligned
      (loop $bytes
        (br_if $aligned (i32.eqz (i32.and (local.get $n) (i32.const 7))))
        (local.set $crc
          (i32.xor
            (i32.load (i32.shl (i32.and (i32.xor (local.get $crc) (i32.load8_u (local.get $p))) (i32.const 0xff)) (i32.const 2)))
            (i32.shr_u (local.get $crc) (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $bytes)))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $words
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $lo (i32.xor (local.get $crc) (i32.load (local.get $p))))
        (local.set $hi (i32.load offset=4 (local.get $p)))
        (local.set $crc
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.load offset=7168 (i32.shl (i32.and (local.get $lo) (i32.const 0xff)) (i32.const 2)))
                (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 8)) (i32.const 0xff)) (i32.const 2))))
              (i32.xor
                (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 16)) (i32.const 0xff)) (i32.const 2)))
                (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $lo) (i32.const 24)) (i32.const 2)))))
            (i32.xor
              (i32.xor
                (i32.load offset=3072 (i32.shl (i32.and (local.get $hi) (i32.const 0xff)) (i32.const 2)))
                (i32.load offset=2048 (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 8)) (i32.const 0xff)) (i32.const 2))))
              (i32.xor
                (i32.load offset=1024 (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 16)) (i32.const 0xff)) (i32.const 2)))
                (i32.load (i32.shl (i32.shr_u (local.get $hi) (i32.const 24)) (i32.const 2)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $words)))
    (local.get $crc)))
