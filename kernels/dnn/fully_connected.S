/*
 * fully_connected.S -- int8 fully-connected layer on the cluster cores.
 *
 *   y[n] = clip((sum_k w[n][k] * x[k] + bias[n]) >> shift, lo, 127)   (int8), n < N, k < K
 *   lo = 0 with ReLU, -128 without
 *
 * void fc(const uint32_t *args)   -- called by EVERY core with the same argument block; the
 * outputs are split by core id (mhartid); returns after rt_barrier.
 * Argument block (32-bit words, byte offset = 4 * word):
 *   word 0  x       int8  [K]
 *   word 1  w       int8  [N][K]
 *   word 2  bias    int32 [N]     (4-byte aligned)
 *   word 3  y       int8  [N]
 *   word 4  N       outputs (>= 1)
 *   word 5  K       inputs (>= 1)
 *   word 6  shift   arithmetic right shift, 0..31
 *   word 7  relu    0: clip to [-128, 127]; nonzero: clip to [0, 127]
 *   word 8  ncores  cores sharing the work
 *
 * Split: core c computes outputs [c * P, min((c + 1) * P, N)), P = ceil(N / ncores) rounded up
 * to a multiple of 4.  Blocking: 4 outputs x 1 input word; inner hardware loop over K/4 with 5
 * post-increment word loads (x, then the 4 weight rows through one pointer with register
 * strides K, K, K, 4 - 3K) and 4 pv.sdotsp.b.  Core c starts the K loop at word 4c mod K/4
 * and wraps around (two hardware-loop passes): with K a multiple of 128 every weight row and x
 * start in the same bank, and cores in lock-step on the same k would conflict on every load.  Leftovers: K % 4 -> one masked iteration (reads
 * up to 3 bytes past the end of x and of w); the last N % 4 outputs of a core -> 1 x 1 loop.
 */
    .text
    .globl fc
fc:
    addi  sp, sp, -64
    sw    ra, 0(sp)
    sw    s0, 4(sp)
    sw    s1, 8(sp)
    sw    s2, 12(sp)
    sw    s3, 16(sp)
    sw    s8, 20(sp)
    sw    s10, 24(sp)
    sw    s11, 28(sp)
    sw    s4, 36(sp)
    sw    s5, 40(sp)
    sw    s6, 44(sp)
    sw    s7, 48(sp)
    sw    s9, 52(sp)
    lw    a1, 0(a0)               # a1 = x (start of the vector, kept)
    lw    a2, 4(a0)               # a2 = w
    lw    a3, 8(a0)               # a3 = bias
    lw    a4, 12(a0)              # a4 = y
    lw    t1, 16(a0)              # N
    lw    a7, 20(a0)              # a7 = K
    lw    t5, 24(a0)              # t5 = shift
    lw    t6, 28(a0)              # relu
    lw    t4, 32(a0)              # ncores
    li    t0, -128
    beqz  t6, 1f
    li    t0, 0
1:  mv    t6, t0                  # t6 = lower clip bound
    csrr  t0, mhartid
    add   t3, t1, t4
    addi  t3, t3, -1
    divu  t3, t3, t4              # ceil(N / ncores)
    addi  t3, t3, 3
    andi  t3, t3, -4              # ... rounded up to a multiple of 4
    mul   t0, t0, t3              # first output of this core
    add   t3, t0, t3
    p.min t3, t3, t1              # end output
    bge   t0, t3, .Lfc_done
    sub   s1, t3, t0              # outputs of this core
    mul   t1, t0, a7
    add   a2, a2, t1              # &w[n0][0]
    slli  t1, t0, 2
    add   a3, a3, t1              # &bias[n0]
    add   a4, a4, t0              # &y[n0]
    srli  t3, a7, 2               # t3 = K / 4
    andi  t4, a7, 3
    slli  t2, t3, 2               # t2 = bytes a pointer advances over one row
    beqz  t4, 1f
    addi  t2, t2, 4
    slli  t4, t4, 3
    li    t0, 1
    sll   t4, t0, t4
    addi  t4, t4, -1              # t4 = lane mask of the K % 4 tail (0: none)
1:  slli  t1, a7, 2
    sub   t1, t1, t2              # t1 = 4K - t2: to the next 4 weight rows
    slli  t0, a7, 1
    add   t0, t0, a7
    li    ra, 4
    sub   t0, ra, t0              # t0 = 4 - 3K
    # K rotation: core c starts its dot products at word kc = 4c mod K/4 and wraps around, so
    # that the cores (which all read x and weight rows with the same bank alignment) do not
    # hit the same banks in lock-step.
    li    s5, 0
    beqz  t3, 1f
    csrr  s5, mhartid
    slli  s5, s5, 2
    remu  s5, s5, t3              # s5 = kc (second pass count)
1:  sub   s4, t3, s5              # s4 = K/4 - kc (first pass count)
    slli  s6, s5, 2               # s6 = 4 kc
    slli  s7, t3, 2               # s7 = 4 (K/4)
    sub   s9, s7, s6              # s9 = 4 (K/4 - kc)
    mv    a0, a1
    andi  a6, s1, 3
    sw    a6, 32(sp)              # outputs left after the blocks of 4
    srli  a6, s1, 2
    beqz  a6, .Lfc_single

.Lfc_quad:
    p.lw  s0, 4(a3!)
    p.lw  s1, 4(a3!)
    p.lw  s2, 4(a3!)
    p.lw  s3, 4(a3!)
    add   a0, a1, s6              # x[kc], w[n][kc]
    add   a2, a2, s6
    beqz  s4, .Lfc_q_p2
    .option push
    .option norvc
    lp.setup 0, s4, .Lfc_q_end
    p.lw  s8, 4(a0!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    pv.sdotsp.b s0, s10, s8
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s1, s11, s8
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s2, s10, s8
.Lfc_q_end:
    pv.sdotsp.b s3, s11, s8
    .option pop
.Lfc_q_p2:
    mv    a0, a1                  # words 0 .. kc - 1
    sub   a2, a2, s7
    beqz  s5, .Lfc_q_p3
    .option push
    .option norvc
    lp.setup 0, s5, .Lfc_q_end2
    p.lw  s8, 4(a0!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    pv.sdotsp.b s0, s10, s8
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s1, s11, s8
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s2, s10, s8
.Lfc_q_end2:
    pv.sdotsp.b s3, s11, s8
    .option pop
.Lfc_q_p3:
    add   a0, a1, s7              # x[K/4 * 4], w[n][K/4 * 4]: the tail
    add   a2, a2, s9
.Lfc_q_nok:
    beqz  t4, 1f
    p.lw  s8, 4(a0!)              # K % 4 tail: masked x word
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    and   s8, s8, t4
    pv.sdotsp.b s0, s10, s8
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s1, s11, s8
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s2, s10, s8
    pv.sdotsp.b s3, s11, s8
1:  sra   s0, s0, t5
    sra   s1, s1, t5
    sra   s2, s2, t5
    sra   s3, s3, t5
    p.clipi s0, s0, 8
    p.clipi s1, s1, 8
    p.clipi s2, s2, 8
    p.clipi s3, s3, 8
    pv.packlo.b s8, s1, s0
    pv.packhi.b s8, s3, s2
    pv.max.sc.b s8, s8, t6
    p.sw  s8, 4(a4!)
    mv    a0, a1                  # x from the start
    add   a2, a2, t1
    addi  a6, a6, -1
    bnez  a6, .Lfc_quad

.Lfc_single:                      # the core's last (count % 4) outputs, one at a time
    lw    a6, 32(sp)
    beqz  a6, .Lfc_done
.Lfc_one:
    p.lw  s0, 4(a3!)
    beqz  t3, .Lfc_o_nok
    .option push
    .option norvc
    lp.setup 0, t3, .Lfc_o_end
    p.lw  s8, 4(a0!)
    p.lw  s10, 4(a2!)
    nop
.Lfc_o_end:
    pv.sdotsp.b s0, s10, s8
    .option pop
.Lfc_o_nok:
    beqz  t4, 1f
    p.lw  s8, 4(a0!)
    p.lw  s10, 4(a2!)
    and   s8, s8, t4
    pv.sdotsp.b s0, s10, s8
1:  sra   s0, s0, t5
    p.clipi s0, s0, 8
    p.max s0, s0, t6
    p.sb  s0, 1(a4!)
    mv    a0, a1
    sub   a2, a2, t2              # next weight row
    add   a2, a2, a7
    addi  a6, a6, -1
    bnez  a6, .Lfc_one

.Lfc_done:
    call  rt_barrier
    lw    s4, 36(sp)
    lw    s5, 40(sp)
    lw    s6, 44(sp)
    lw    s7, 48(sp)
    lw    s9, 52(sp)
    lw    ra, 0(sp)
    lw    s0, 4(sp)
    lw    s1, 8(sp)
    lw    s2, 12(sp)
    lw    s3, 16(sp)
    lw    s8, 20(sp)
    lw    s10, 24(sp)
    lw    s11, 28(sp)
    addi  sp, sp, 64
    ret
