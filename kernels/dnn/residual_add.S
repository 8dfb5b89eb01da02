/*
 * residual_add.S -- residual_add(a0): element-wise requantised sum of two int8 tensors.
 *
 *   out[i] = clip((a[i] * mul_a + b[i] * mul_b) >> shift, relu ? 0 : -128, 127),  0 <= i < n
 *                                                               (= soc.qnn.residual_add)
 * Called by every core with the same argument block (a0, 32-bit words, built by
 * soc.kernels_dw.add_args):
 *   word 0 a (int8 [n])   word 1 b (int8 [n])   word 2 out (int8 [n])   word 3 n (>= 1)
 *   word 4 mul_a   word 5 mul_b   (0..255: unsigned 8-bit operands of pv.dotusp.b)
 *   word 6 shift (0..31)   word 7 relu (0 or 1)   word 8 ncores (core ids 0..ncores-1 work)
 * No alignment is required (misaligned buffers only cost the extra cycle of each access).
 *
 * Parallelisation: the elements are split into ncores contiguous chunks whose length is a
 * multiple of 4 (the last chunks may be shorter or empty).
 * Bulk (hardware loop 0, 4 elements per iteration, 21 instructions): two word loads, two
 * pv.shuffle2.b interleave them into [a0 b0 a1 b1] and [a2 b2 a3 b3], four pv.dotusp.b with
 * [mul_a mul_b 0 0] / [0 0 mul_a mul_b] give a_i*mul_a + b_i*mul_b, then sra + p.clipi per
 * element, pv.packlo.b/pv.packhi.b into one word, pv.max.b applies the ReLU floor to the 4
 * lanes, one word store.  Tail (n mod 4 of the last chunk): scalar lb/mul/add/sra/clip/sb.
 * Callee-saved registers are preserved; ends with rt_barrier.
 */
    .text
    .option push
    .option norvc
    .globl residual_add
residual_add:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    sw    s2, 0(sp)
    csrr  t0, mhartid
    lw    t1, 32(a0)              # ncores
    lw    t2, 12(a0)              # n
    addi  t3, t2, 3
    srli  t3, t3, 2               # groups of 4
    add   t3, t3, t1
    addi  t3, t3, -1
    divu  t3, t3, t1
    slli  t3, t3, 2               # chunk (multiple of 4)
    mul   t4, t0, t3              # first element
    add   t5, t4, t3
    ble   t5, t2, .Lradd_cend
    mv    t5, t2
.Lradd_cend:
    bge   t4, t5, .Lradd_done
    sub   t5, t5, t4              # elements of this core
    lw    a1, 0(a0)
    add   a1, a1, t4
    lw    a2, 4(a0)
    add   a2, a2, t4
    lw    a6, 8(a0)
    add   a6, a6, t4
    lw    t0, 16(a0)
    lw    t1, 20(a0)
    slli  t1, t1, 8
    or    a3, t0, t1              # [mul_a mul_b 0 0]
    slli  a4, a3, 16              # [0 0 mul_a mul_b]
    lw    a5, 24(a0)              # shift
    lw    t0, 28(a0)              # ReLU floor per lane: 0 or -128
    addi  t0, t0, -1
    li    t1, 0x80808080
    and   a7, t0, t1
    li    s0, 0x05010400          # lanes a0 b0 a1 b1
    li    s1, 0x07030602          # lanes a2 b2 a3 b3
    andi  ra, t5, 3               # tail
    srli  s2, t5, 2               # groups
    beqz  s2, .Lradd_tail
    lp.setup 0, s2, .Lradd_end
    p.lw  t0, 4(a1!)
    p.lw  t1, 4(a2!)
    mv    t2, t0
    pv.shuffle2.b t2, t1, s0
    pv.shuffle2.b t0, t1, s1
    pv.dotusp.b t3, a3, t2
    pv.dotusp.b t4, a4, t2
    pv.dotusp.b t5, a3, t0
    pv.dotusp.b t6, a4, t0
    sra   t3, t3, a5
    sra   t4, t4, a5
    sra   t5, t5, a5
    sra   t6, t6, a5
    p.clipi t3, t3, 8
    p.clipi t4, t4, 8
    p.clipi t5, t5, 8
    p.clipi t6, t6, 8
    pv.packlo.b t2, t4, t3
    pv.packhi.b t2, t6, t5
    pv.max.b t2, t2, a7
.Lradd_end:
    p.sw  t2, 4(a6!)
.Lradd_tail:
    beqz  ra, .Lradd_done
    slli  t6, a7, 24              # scalar ReLU floor
    srai  t6, t6, 24
    lw    s0, 16(a0)
    lw    s1, 20(a0)
.Lradd_tl:
    p.lb  t0, 1(a1!)
    p.lb  t1, 1(a2!)
    mul   t0, t0, s0
    mul   t1, t1, s1
    add   t0, t0, t1
    sra   t0, t0, a5
    p.clipi t0, t0, 8
    p.max t0, t0, t6
    p.sb  t0, 1(a6!)
    addi  ra, ra, -1
    bnez  ra, .Lradd_tl
.Lradd_done:
    call  rt_barrier
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    lw    s2, 0(sp)
    addi  sp, sp, 16
    ret
    .option pop
