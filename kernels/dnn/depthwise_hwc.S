/*
 * depthwise_hwc.S -- dw_conv_hwc(a0): int8 3x3 depthwise convolution, HWC in, HWC out.
 *
 *   y[oy][ox][c] = clip((bias[c] + sum_{ky,kx} x[oy*s-pad+ky][ox*s-pad+kx][c] * w[c][ky][kx])
 *                       >> shift, relu ? 0 : -128, 127)          (zero padding; = soc.qnn.depthwise)
 *
 * Called by every core with the same argument block (a0, 32-bit words, built by
 * soc.kernels_dw.dw_hwc_args; the same layout as dw_conv_chw):
 *   word  0 in      x   int8 [H][W][C]      word  1 out    y   int8 [Ho][Wo][C]
 *   word  2 w       int8 [C][3][3]          word  3 bias   int32 [C] (4-byte aligned)
 *   word  4 H       word  5 W               word  6 C
 *   word  7 stride (1 or 2)                 word  8 pad (0 or 1; W >= 2 when pad = 1)
 *   word  9 shift (0..31)                   word 10 relu (0 or 1)
 *   word 11 ncores (cores taking part; core ids 0..ncores-1, others only meet the barrier)
 *   word 12 Ho      word 13 Wo              word 14 right (1: the last output column's window
 *   word 15 n_int = Wo - pad - right         passes the right edge)
 *   word 16 H*W     word 17 Ho*Wo           word 18 W*C   word 19 Wo*C   word 20 stride*C
 *
 * Parallelisation: output rows are dealt round-robin (core k: rows k, k+ncores, ...).  For one
 * output row a core walks the channels (core k starts at channel k*C/ncores and wraps, so that
 * cores on rows whose start addresses share TCDM banks do not hit the same bank in lock-step);
 * per channel it keeps the 9 weights in registers and runs hardware loop 0 along the row.
 *
 * Inner loop (one output pixel of one channel per iteration, 23 instructions): 9 byte loads
 * (register offsets C and 2C, the third one post-increments the row pointer by stride*C), 9
 * p.mac into the bias, sra + p.clipi + p.max (ReLU floor), p.sb with post-increment C; scheduled
 * without load-use stalls.  Borders: rows above/below the image use weights and'ed with a zero
 * mask (pointer clamped to row 0); the left-border pixel runs the same loop once at x = 0
 * with the weights shifted one column (w1 w2 0), a right-border pixel at x = W-2 with the
 * kx = 2 weights zeroed.  Loads may read up to C bytes past the end of the input tensor
 * (multiplied by 0; the packer checks they are inside the TCDM).
 * Callee-saved registers are preserved; ends with rt_barrier.
 */
    .text
    .option push
    .option norvc
    .globl dw_conv_hwc
dw_conv_hwc:
    addi  sp, sp, -112
    sw    ra, 44(sp)
    sw    s0, 48(sp)
    sw    s1, 52(sp)
    sw    s2, 56(sp)
    sw    s3, 60(sp)
    sw    s4, 64(sp)
    sw    s5, 68(sp)
    sw    s6, 72(sp)
    sw    s7, 76(sp)
    sw    s8, 80(sp)
    sw    s9, 84(sp)
    sw    s10, 88(sp)
    sw    s11, 92(sp)
    # frame: 0 oy, 4/8/12 row bases, 16/20/24 row masks, 28 all rows valid, 32 output row,
    #        36 c, 40 channels left, 96 first channel, 100..108 saved weights (left border)
    csrr  t0, mhartid
    sw    t0, 0(sp)               # oy = core id
    lw    t1, 44(a0)              # ncores
    lw    t2, 24(a0)              # C
    mul   t3, t0, t2
    divu  t3, t3, t1
    sw    t3, 96(sp)              # first channel = core * C / ncores
    lw    a4, 24(a0)              # C
    slli  a5, a4, 1               # 2C
    lw    a6, 80(a0)              # stride * C
    lw    s10, 36(a0)             # shift
    lw    s11, 40(a0)             # lo = relu ? 0 : -128
    addi  s11, s11, -1
    andi  s11, s11, -128

.Ldwh_row:
    lw    t0, 0(sp)               # oy
    lw    t1, 48(a0)              # Ho
    bge   t0, t1, .Ldwh_done
    lw    t1, 76(a0)              # output row = out + oy*Wo*C
    mul   t1, t0, t1
    lw    t2, 4(a0)
    add   t1, t1, t2
    sw    t1, 32(sp)
    lw    t1, 28(a0)
    mul   t0, t0, t1
    lw    t1, 32(a0)
    sub   t0, t0, t1              # iy = oy*stride - pad
    lw    t3, 16(a0)              # H
    lw    t4, 72(a0)              # W*C
    lw    t5, 0(a0)               # in
    li    t6, -1                  # all rows valid
    sltu  t1, t0, t3              # ky = 0
    sub   t1, zero, t1
    sw    t1, 16(sp)
    and   t6, t6, t1
    and   t2, t0, t1
    mul   t2, t2, t4
    add   t2, t2, t5
    sw    t2, 4(sp)
    addi  t0, t0, 1
    sltu  t1, t0, t3              # ky = 1
    sub   t1, zero, t1
    sw    t1, 20(sp)
    and   t6, t6, t1
    and   t2, t0, t1
    mul   t2, t2, t4
    add   t2, t2, t5
    sw    t2, 8(sp)
    addi  t0, t0, 1
    sltu  t1, t0, t3              # ky = 2
    sub   t1, zero, t1
    sw    t1, 24(sp)
    and   t6, t6, t1
    and   t2, t0, t1
    mul   t2, t2, t4
    add   t2, t2, t5
    sw    t2, 12(sp)
    sw    t6, 28(sp)
    lw    t0, 96(sp)
    sw    t0, 36(sp)              # c = first channel
    lw    t0, 24(a0)
    sw    t0, 40(sp)              # channels left = C

.Ldwh_chan:
    lw    t0, 36(sp)              # c
    lw    t1, 4(sp)
    add   a1, t1, t0              # row pointers at x = 0, channel c
    lw    t1, 8(sp)
    add   a2, t1, t0
    lw    t1, 12(sp)
    add   a3, t1, t0
    lw    t1, 32(sp)
    add   a7, t1, t0              # output pointer
    lw    t1, 12(a0)              # bias[c]
    slli  t2, t0, 2
    add   t1, t1, t2
    lw    s9, 0(t1)
    lw    t1, 8(a0)               # &w[c][0][0]
    slli  t2, t0, 3
    add   t2, t2, t0
    add   t1, t1, t2
    lb    s0, 0(t1)
    lb    s1, 1(t1)
    lb    s2, 2(t1)
    lb    s3, 3(t1)
    lb    s4, 4(t1)
    lb    s5, 5(t1)
    lb    s6, 6(t1)
    lb    s7, 7(t1)
    lb    s8, 8(t1)
    lw    t1, 28(sp)
    bnez  t1, .Ldwh_wok
    lw    t1, 16(sp)              # zero the weights of rows outside the image
    and   s0, s0, t1
    and   s1, s1, t1
    and   s2, s2, t1
    lw    t1, 20(sp)
    and   s3, s3, t1
    and   s4, s4, t1
    and   s5, s5, t1
    lw    t1, 24(sp)
    and   s6, s6, t1
    and   s7, s7, t1
    and   s8, s8, t1
.Ldwh_wok:
    lw    t1, 32(a0)
    beqz  t1, .Ldwh_noleft
    sw    s0, 100(sp)             # left border pixel: window at x = 0 with the weights
    sw    s3, 104(sp)             # shifted one column left (w1 w2 0), kx = 0 ones saved
    sw    s6, 108(sp)
    mv    s0, s1
    mv    s1, s2
    li    s2, 0
    mv    s3, s4
    mv    s4, s5
    li    s5, 0
    mv    s6, s7
    mv    s7, s8
    li    s8, 0
    li    t5, 1
    jal   t6, .Ldwh_px
    sub   a1, a1, a4              # next window starts at x = stride - 1
    sub   a2, a2, a4
    sub   a3, a3, a4
    mv    s2, s1
    mv    s1, s0
    lw    s0, 100(sp)
    mv    s5, s4
    mv    s4, s3
    lw    s3, 104(sp)
    mv    s8, s7
    mv    s7, s6
    lw    s6, 108(sp)
.Ldwh_noleft:
    lw    t5, 60(a0)              # interior pixels
    beqz  t5, .Ldwh_noint
    jal   t6, .Ldwh_px
.Ldwh_noint:
    lw    t1, 56(a0)
    beqz  t1, .Ldwh_chan_end
    li    s2, 0                   # right border pixel: kx = 2 weights zero
    li    s5, 0
    li    s8, 0
    li    t5, 1
    jal   t6, .Ldwh_px
.Ldwh_chan_end:
    lw    t0, 36(sp)              # next channel (wrapping at C)
    addi  t0, t0, 1
    lw    t1, 24(a0)
    blt   t0, t1, .Ldwh_cok
    li    t0, 0
.Ldwh_cok:
    sw    t0, 36(sp)
    lw    t1, 40(sp)
    addi  t1, t1, -1
    sw    t1, 40(sp)
    bnez  t1, .Ldwh_chan
    lw    t0, 0(sp)               # next row of this core
    lw    t1, 44(a0)
    add   t0, t0, t1
    sw    t0, 0(sp)
    j     .Ldwh_row

.Ldwh_done:
    call  rt_barrier
    lw    ra, 44(sp)
    lw    s0, 48(sp)
    lw    s1, 52(sp)
    lw    s2, 56(sp)
    lw    s3, 60(sp)
    lw    s4, 64(sp)
    lw    s5, 68(sp)
    lw    s6, 72(sp)
    lw    s7, 76(sp)
    lw    s8, 80(sp)
    lw    s9, 84(sp)
    lw    s10, 88(sp)
    lw    s11, 92(sp)
    addi  sp, sp, 112
    ret

    # t5 (> 0) output pixels of one channel: row pointers a1..a3 (window column kx = 0;
    # advance by a6 = stride*C), offsets a4 = C, a5 = 2C, weights s0..s8 (row-major), bias s9,
    # shift s10, ReLU floor s11, output a7 (advances by C); returns through t6.
.Ldwh_px:
    lp.setup 0, t5, .Ldwh_px_end
    p.lb  t1, a4(a1)
    p.lb  t2, a5(a1)
    p.lb  t0, a6(a1!)
    mv    t4, s9
    p.mac t4, t1, s1
    p.lb  t1, a4(a2)
    p.mac t4, t2, s2
    p.lb  t2, a5(a2)
    p.mac t4, t0, s0
    p.lb  t0, a6(a2!)
    p.mac t4, t1, s4
    p.lb  t1, a4(a3)
    p.mac t4, t2, s5
    p.lb  t2, a5(a3)
    p.mac t4, t0, s3
    p.lb  t0, a6(a3!)
    p.mac t4, t1, s7
    p.mac t4, t2, s8
    p.mac t4, t0, s6
    sra   t4, t4, s10
    p.clipi t4, t4, 8
    p.max t4, t4, s11
.Ldwh_px_end:
    p.sb  t4, a4(a7!)
    jr    t6
    .option pop
