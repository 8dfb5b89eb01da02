/*
 * crc32.S -- table-driven CRC-32 (IEEE 802.3 / zlib: reflected, polynomial 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF) over a MSG_BYTES message, plain RV32IM + C.
 *
 * Set-up (once): the 256-entry table is computed bitwise (8 shift / conditional-xor steps per
 * entry), the message is filled from an LCG (one step per word, the whole state is stored).
 * Kernel (REPS times): the message is read a word at a time and the four bytes are folded in
 * with the usual   crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8)   step.  The repetitions are
 * chained like zlib.crc32(msg, previous): repetition r continues from the CRC of repetition
 * r - 1, so the result equals the CRC of the message repeated REPS times.
 *
 * Signature (begin_signature .. end_signature), one 32-bit word each:
 *   word 0 : CRC-32 of the message after the first repetition  (== zlib.crc32(msg))
 *   word 1 : chained CRC after REPS repetitions                 (== zlib.crc32(msg * REPS))
 *   word 2 : bytes processed (REPS * MSG_BYTES, mod 2^32)
 *   word 3 : sum of the 256 table entries (mod 2^32)
 *   word 4 : repetitions done (REPS)
 *   word 5 : mcycle delta over the REPS repetitions (timing, not functional)
 *   word 6 : minstret delta over the REPS repetitions
 *   word 7 : 0
 * Conventions (entry, link.ld, tohost) as in /work/shared/calibration/cv32e40p/README.md.
 */
    .equ REPS, 120
    .equ MSG_BYTES, 4096
    .equ POLY, 0xEDB88320
    .equ SEED, 0x0BADC0DE
    .equ LCG_A, 1664525
    .equ LCG_C, 1013904223

    .option norelax
    .section .vectors, "ax"
    .option push
    .option norvc
    j .                          # 0x0: trap vector (mtvec = 0); any trap hangs here
    .option pop

    .section .text.init, "ax"
    .globl _start
_start:
    la   sp, _stack_top
    csrw mcountinhibit, zero     # enable mcycle / minstret (inhibited at reset)

    # ---- table: table[n] = CRC register after 8 bitwise steps starting from n ----
    la   a0, crc_table
    li   a1, 0                   # n
    li   a2, POLY
    li   a5, 256
    li   a6, 0                   # sum of the entries
1:  mv   a3, a1
    li   a4, 8
2:  andi t1, a3, 1
    neg  t1, t1                  # mask = -(crc & 1)
    and  t1, t1, a2
    srli a3, a3, 1
    xor  a3, a3, t1
    addi a4, a4, -1
    bnez a4, 2b
    sw   a3, 0(a0)
    add  a6, a6, a3
    addi a0, a0, 4
    addi a1, a1, 1
    bne  a1, a5, 1b
    la   t4, begin_signature
    sw   a6, 12(t4)

    # ---- message: MSG_BYTES / 4 LCG states, little-endian words ----
    la   a0, crc_msg
    li   a1, MSG_BYTES/4
    li   a2, SEED
    li   a3, LCG_A
    li   a4, LCG_C
1:  mul  a2, a2, a3
    add  a2, a2, a4
    sw   a2, 0(a0)
    addi a0, a0, 4
    addi a1, a1, -1
    bnez a1, 1b

    # ---- kernel ----
    csrr s6, mcycle
    csrr s7, minstret
    la   s0, crc_table
    .option push
    .option norvc                # 32-bit li: code layout independent of REPS
    li   s2, REPS
    .option pop
    li   s3, 0                   # chained CRC (zlib convention: value after the final xor)
    li   s4, 0                   # bytes processed
.Lcrc_rep:
    la   a0, crc_msg
    li   a1, MSG_BYTES/4
    not  a3, s3                  # internal register = ~crc
.Lcrc_word:
    lw   a2, 0(a0)
    addi a0, a0, 4
    xor  a3, a3, a2              # the word's 4 bytes enter the low 4 bytes of the register
    andi t0, a3, 0xff            # byte 0
    slli t0, t0, 2
    add  t0, t0, s0
    lw   t0, 0(t0)
    srli a3, a3, 8
    xor  a3, a3, t0
    andi t1, a3, 0xff            # byte 1
    slli t1, t1, 2
    add  t1, t1, s0
    lw   t1, 0(t1)
    srli a3, a3, 8
    xor  a3, a3, t1
    andi t0, a3, 0xff            # byte 2
    slli t0, t0, 2
    add  t0, t0, s0
    lw   t0, 0(t0)
    srli a3, a3, 8
    xor  a3, a3, t0
    andi t1, a3, 0xff            # byte 3
    slli t1, t1, 2
    add  t1, t1, s0
    lw   t1, 0(t1)
    srli a3, a3, 8
    xor  a3, a3, t1
    addi a1, a1, -1
    bnez a1, .Lcrc_word
    not  s3, a3
    li   t0, MSG_BYTES
    add  s4, s4, t0
    .option push
    .option norvc                # 32-bit li: code layout independent of REPS
    li   t0, REPS
    .option pop
    bne  s2, t0, 1f
    sw   s3, 0(t4)               # first repetition: plain CRC-32 of the message
1:  addi s2, s2, -1
    bnez s2, .Lcrc_rep

    csrr t5, mcycle
    csrr t6, minstret
    sub  t5, t5, s6
    sub  t6, t6, s7
    sw   s3, 4(t4)
    sw   s4, 8(t4)
    li   a0, REPS
    sw   a0, 16(t4)
    sw   t5, 20(t4)
    sw   t6, 24(t4)
    sw   zero, 28(t4)

    # ---- end of test: store 1 to tohost (pass) ----
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b

    .data
    .balign 16
    .globl begin_signature
begin_signature:
    .fill 8, 4, 0xdeadbeef
    .globl end_signature
end_signature:

    .bss
    .balign 16
    .globl crc_table, crc_msg
crc_table:
    .space 4*256
crc_msg:
    .space MSG_BYTES

    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
