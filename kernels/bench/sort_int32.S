/*
 * sort_int32.S -- quicksort of NELEM signed int32 values, plain RV32IM + C (compressed code).
 *
 * Every repetition fills sort_buf with NELEM fresh values from an LCG whose state carries
 * over from one repetition to the next (value = (int32)state >> VSHIFT, so the range is
 * [-2^(31-VSHIFT), 2^(31-VSHIFT)) and duplicates occur), sorts it in place in ascending signed
 * order with `qsort`, and folds the sorted array into a running hash.
 *
 * qsort(a0 = first, a1 = last), both pointers to elements, inclusive: recursive quicksort with
 * a median-of-three pivot and Hoare partitioning; it recurses into the smaller part and loops
 * on the larger one (stack depth O(log n)); parts of at most INS_MAX elements are finished by
 * insertion sort.  Callee-saved registers and ra are kept on the stack (standard ILP32 ABI).
 *
 * Signature (begin_signature .. end_signature), one 32-bit word each:
 *   word 0 : running hash over all repetitions: h = h * 31 + x for every element x of every
 *            sorted array, in order (h0 = 0)
 *   word 1 : number of adjacent pairs out of order in the final array (0 when sorted)
 *   word 2 : sum of the final array (mod 2^32)
 *   word 3 : final LCG state
 *   word 4 : repetitions done (REPS)
 *   word 5 : mcycle delta over the REPS repetitions (timing, not functional)
 *   word 6 : minstret delta over the REPS repetitions
 *   word 7 : 0
 * Conventions (entry, link.ld, tohost) as in /work/shared/calibration/cv32e40p/README.md.
 */
    .equ REPS, 250
    .equ NELEM, 300
    .equ VSHIFT, 20
    .equ INS_MAX, 12
    .equ SEED, 0x2545F491
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

    csrr s6, mcycle
    csrr s7, minstret
    .option push
    .option norvc                # 32-bit li: code layout independent of REPS
    li   s2, REPS
    .option pop
    li   s3, SEED                # LCG state
    li   s4, 0                   # running hash
    li   s5, 31
    li   s8, LCG_A
    li   s9, LCG_C
.Lsort_rep:
    # ---- fresh input ----
    la   a0, sort_buf
    li   a1, NELEM
1:  mul  s3, s3, s8
    add  s3, s3, s9
    srai a2, s3, VSHIFT
    sw   a2, 0(a0)
    addi a0, a0, 4
    addi a1, a1, -1
    bnez a1, 1b
    # ---- sort ----
    la   a0, sort_buf
    addi a1, a0, 4*(NELEM-1)
    call qsort
    # ---- fold into the hash ----
    la   a0, sort_buf
    li   a1, NELEM
1:  lw   a2, 0(a0)
    mul  s4, s4, s5
    add  s4, s4, a2
    addi a0, a0, 4
    addi a1, a1, -1
    bnez a1, 1b
    addi s2, s2, -1
    bnez s2, .Lsort_rep

    csrr t5, mcycle
    csrr t6, minstret
    sub  t5, t5, s6
    sub  t6, t6, s7

    # ---- checksums of the final array ----
    la   t4, begin_signature
    sw   s4, 0(t4)
    sw   t5, 20(t4)
    sw   t6, 24(t4)
    la   a0, sort_buf
    li   a1, NELEM-1
    lw   a2, 0(a0)               # previous element
    mv   a3, a2                  # sum
    li   a4, 0                   # inversions of adjacent pairs
1:  lw   a5, 4(a0)
    slt  t0, a5, a2
    add  a4, a4, t0
    add  a3, a3, a5
    mv   a2, a5
    addi a0, a0, 4
    addi a1, a1, -1
    bnez a1, 1b
    sw   a4, 4(t4)
    sw   a3, 8(t4)
    sw   s3, 12(t4)
    li   a0, REPS
    sw   a0, 16(t4)
    sw   zero, 28(t4)

    # ---- end of test: store 1 to tohost (pass) ----
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b

# ------------------------------------------------------------------------------------------
# void qsort(int32_t *first, int32_t *last)    -- sorts [first, last] inclusive, ascending
# ------------------------------------------------------------------------------------------
    .text
    .globl qsort
qsort:
    addi sp, sp, -16
    sw   ra, 12(sp)
    sw   s0, 8(sp)
    sw   s1, 4(sp)
    mv   s0, a0                  # lo
    mv   s1, a1                  # hi
.Lqs_loop:
    sub  t0, s1, s0              # 4 * (n - 1)
    li   t1, 4*INS_MAX
    blt  t0, t1, .Lqs_small      # n <= INS_MAX
    # median of three: order a[lo] <= a[mid] <= a[hi], the median becomes the pivot
    srli t0, t0, 3
    slli t0, t0, 2
    add  t2, s0, t0              # mid
    lw   a2, 0(s0)
    lw   a3, 0(t2)
    lw   a4, 0(s1)
    ble  a2, a3, 1f
    mv   t0, a2
    mv   a2, a3
    mv   a3, t0
1:  ble  a3, a4, 2f
    mv   t0, a3
    mv   a3, a4
    mv   a4, t0
    ble  a2, a3, 2f
    mv   t0, a2
    mv   a2, a3
    mv   a3, t0
2:  sw   a2, 0(s0)
    sw   a3, 0(t2)
    sw   a4, 0(s1)
    # Hoare partition around a3; a[lo] <= pivot <= a[hi] bound both scans
    mv   t3, s0                  # i
    mv   t4, s1                  # j
.Lqs_part:
3:  addi t3, t3, 4
    lw   t5, 0(t3)
    blt  t5, a3, 3b
4:  addi t4, t4, -4
    lw   t6, 0(t4)
    blt  a3, t6, 4b
    bgeu t3, t4, .Lqs_split
    sw   t6, 0(t3)
    sw   t5, 0(t4)
    j    .Lqs_part
.Lqs_split:
    # parts [lo, j] and [j + 1, hi]: recurse into the smaller one, loop on the larger one
    sub  t0, t4, s0
    sub  t1, s1, t4
    bgeu t0, t1, 5f
    mv   a0, s0                  # left part is smaller
    mv   a1, t4
    addi s0, t4, 4
    call qsort
    j    .Lqs_loop
5:  addi a0, t4, 4               # right part is smaller
    mv   a1, s1
    mv   s1, t4
    call qsort
    j    .Lqs_loop
.Lqs_small:
    # insertion sort of [lo, hi]
    addi t0, s0, 4
6:  bgtu t0, s1, .Lqs_ret
    lw   t1, 0(t0)               # key
    mv   t2, t0
7:  beq  t2, s0, 8f
    lw   t3, -4(t2)
    ble  t3, t1, 8f
    sw   t3, 0(t2)
    addi t2, t2, -4
    j    7b
8:  sw   t1, 0(t2)
    addi t0, t0, 4
    j    6b
.Lqs_ret:
    lw   ra, 12(sp)
    lw   s0, 8(sp)
    lw   s1, 4(sp)
    addi sp, sp, 16
    ret

    .data
    .balign 16
    .globl begin_signature
begin_signature:
    .fill 8, 4, 0xdeadbeef
    .globl end_signature
end_signature:

    .bss
    .balign 16
    .globl sort_buf
sort_buf:
    .space 4*NELEM

    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
