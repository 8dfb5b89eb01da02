/*
 * depthwise_chw.S -- dw_conv_chw(a0): int8 3x3 depthwise convolution, CHW in, CHW out.
 *
 *   y[c][oy][ox] = clip((bias[c] + sum_{ky,kx} x[c][oy*s-pad+ky][ox*s-pad+kx] * w[c][ky][kx])
 *                       >> shift, relu ? 0 : -128, 127)          (zero padding; = soc.qnn.depthwise)
 *
 * Called by every core with the same argument block (a0, 32-bit words, built by
 * soc.kernels_dw.dw_chw_args; the same layout as dw_conv_hwc):
 *   word  0 in      x   int8 [C][H][W]      word  1 out    y   int8 [C][Ho][Wo]
 *   word  2 w       int8 [C][3][3]          word  3 bias   int32 [C] (4-byte aligned)
 *   word  4 H       word  5 W               word  6 C
 *   word  7 stride (1 or 2)                 word  8 pad (0 or 1; W >= 2 when pad = 1)
 *   word  9 shift (0..31)                   word 10 relu (0 or 1)
 *   word 11 ncores (cores taking part; core ids 0..ncores-1, others only meet the barrier)
 *   word 12 Ho      word 13 Wo              word 14 right (1: the last output column's window
 *   word 15 n_int = Wo - pad - right         passes the right edge)
 *   word 16 H*W     word 17 Ho*Wo           words 18-20 W*C, Wo*C, stride*C (HWC kernel only)
 *
 * Parallelisation (PULP-NN style): the channels are split into ncores contiguous chunks of
 * ceil(C / ncores); core k computes whole output planes of its chunk.  Inside a plane core k
 * starts at row k*Ho/ncores and wraps around, so that cores whose planes sit in the same TCDM
 * banks (plane sizes that are multiples of 128 B) do not walk the same banks in lock-step.
 *
 * Inner loop (hardware loop 0, one output pixel per iteration, 11 instructions): one 32-bit
 * load per kernel row (p.lw with post-increment by the stride, usually misaligned: +1 cycle),
 * the row's 4 bytes times a weight word [w0 w1 w2 0] with pv.sdotsp.b (the 4th byte is
 * multiplied by 0), bias as the initial accumulator, sra + p.clipi + p.max (ReLU floor), p.sb.
 * Borders: rows above/below the image use weight words and'ed with a zero mask (the load
 * pointer is clamped to row 0); the left-border pixel (pad = 1) loads at x = 0 with weights
 * [w1 w2 0 0]; a right-border pixel loads at x = W-2 with [w0 w1 0 0].  The same loop runs with
 * count 1 for the border pixels.  Loads may read up to 3 bytes past the end of the input
 * (multiplied by 0; the packer checks they are inside the TCDM).
 * Callee-saved registers are preserved; ends with rt_barrier.
 */
    .text
    .option push
    .option norvc
    .globl dw_conv_chw
dw_conv_chw:
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
    # frame: 0..35 weight words (ky*12 + 0 N, 4 L, 8 R), 36 c, 40 c_end, 96 first row
    csrr  t0, mhartid
    lw    t1, 44(a0)              # ncores
    lw    t2, 24(a0)              # C
    add   t3, t2, t1
    addi  t3, t3, -1
    divu  t3, t3, t1              # chunk = ceil(C / ncores)
    mul   t4, t0, t3              # c_begin
    add   t5, t4, t3              # c_end = min(C, c_begin + chunk)
    ble   t5, t2, .Ldwc_cend
    mv    t5, t2
.Ldwc_cend:
    bge   t4, t5, .Ldwc_done
    sw    t4, 36(sp)
    sw    t5, 40(sp)
    lw    t2, 48(a0)              # Ho
    mul   t3, t0, t2
    divu  t3, t3, t1              # first row = core * Ho / ncores
    sw    t3, 96(sp)
    lw    a4, 28(a0)              # stride (post-increment of the row pointers)
    lw    a7, 36(a0)              # shift
    lw    t3, 40(a0)              # lo = relu ? 0 : -128
    addi  t3, t3, -1
    andi  t3, t3, -128
    lw    s5, 20(a0)              # W
    lw    s7, 16(a0)              # H

.Ldwc_chan:
    lw    t0, 36(sp)              # c
    lw    t1, 8(a0)
    slli  t2, t0, 3
    add   t2, t2, t0
    add   t1, t1, t2              # &w[c][0][0]
    # weight words per kernel row: N = [w0 w1 w2 0], L = [w1 w2 0 0], R = [w0 w1 0 0]
    lbu   t4, 0(t1)
    lbu   t5, 1(t1)
    lbu   t6, 2(t1)
    slli  t5, t5, 8
    or    t4, t4, t5
    sw    t4, 8(sp)
    slli  t2, t6, 16
    or    t2, t4, t2
    sw    t2, 0(sp)
    srli  t5, t5, 8
    slli  t6, t6, 8
    or    t5, t5, t6
    sw    t5, 4(sp)
    lbu   t4, 3(t1)
    lbu   t5, 4(t1)
    lbu   t6, 5(t1)
    slli  t5, t5, 8
    or    t4, t4, t5
    sw    t4, 20(sp)
    slli  t2, t6, 16
    or    t2, t4, t2
    sw    t2, 12(sp)
    srli  t5, t5, 8
    slli  t6, t6, 8
    or    t5, t5, t6
    sw    t5, 16(sp)
    lbu   t4, 6(t1)
    lbu   t5, 7(t1)
    lbu   t6, 8(t1)
    slli  t5, t5, 8
    or    t4, t4, t5
    sw    t4, 32(sp)
    slli  t2, t6, 16
    or    t2, t4, t2
    sw    t2, 24(sp)
    srli  t5, t5, 8
    slli  t6, t6, 8
    or    t5, t5, t6
    sw    t5, 28(sp)
    lw    t1, 12(a0)              # bias[c]
    slli  t2, t0, 2
    add   t1, t1, t2
    lw    a6, 0(t1)
    lw    t1, 64(a0)              # input plane: in + c*H*W
    mul   t2, t0, t1
    lw    t1, 0(a0)
    add   s6, t1, t2
    lw    t1, 68(a0)              # output plane: out + c*Ho*Wo
    mul   t2, t0, t1
    lw    t1, 4(a0)
    add   s11, t1, t2
    lw    s3, 96(sp)              # oy
    lw    s4, 48(a0)              # rows left

.Ldwc_row:
    lw    t1, 52(a0)              # out pointer = plane + oy*Wo
    mul   t1, s3, t1
    add   a5, s11, t1
    mul   t0, s3, a4
    lw    t1, 32(a0)
    sub   t0, t0, t1              # iy = oy*stride - pad
    sltu  t1, t0, s7              # row ky=0 inside?  (unsigned: iy < 0 fails too)
    sub   s8, zero, t1            # mask
    and   t2, t0, s8
    mul   t2, t2, s5
    add   a1, s6, t2
    addi  t0, t0, 1
    sltu  t1, t0, s7              # ky = 1
    sub   s9, zero, t1
    and   t2, t0, s9
    mul   t2, t2, s5
    add   a2, s6, t2
    addi  t0, t0, 1
    sltu  t1, t0, s7              # ky = 2
    sub   s10, zero, t1
    and   t2, t0, s10
    mul   t2, t2, s5
    add   a3, s6, t2
    lw    t1, 32(a0)
    beqz  t1, .Ldwc_noleft
    lw    s0, 4(sp)               # left border pixel: x = 0 with [w1 w2 0 0]
    lw    s1, 16(sp)
    lw    s2, 28(sp)
    and   s0, s0, s8
    and   s1, s1, s9
    and   s2, s2, s10
    li    t5, 1
    jal   t6, .Ldwc_px
    addi  a1, a1, -1              # next window starts at x = stride - 1
    addi  a2, a2, -1
    addi  a3, a3, -1
.Ldwc_noleft:
    lw    t5, 60(a0)              # interior pixels
    beqz  t5, .Ldwc_noint
    lw    s0, 0(sp)
    lw    s1, 12(sp)
    lw    s2, 24(sp)
    and   s0, s0, s8
    and   s1, s1, s9
    and   s2, s2, s10
    jal   t6, .Ldwc_px
.Ldwc_noint:
    lw    t1, 56(a0)
    beqz  t1, .Ldwc_rowend
    lw    s0, 8(sp)               # right border pixel: x = W-2 with [w0 w1 0 0]
    lw    s1, 20(sp)
    lw    s2, 32(sp)
    and   s0, s0, s8
    and   s1, s1, s9
    and   s2, s2, s10
    li    t5, 1
    jal   t6, .Ldwc_px
.Ldwc_rowend:
    addi  s3, s3, 1
    lw    t1, 48(a0)
    blt   s3, t1, .Ldwc_nowrap
    li    s3, 0
.Ldwc_nowrap:
    addi  s4, s4, -1
    bnez  s4, .Ldwc_row
    lw    t0, 36(sp)
    addi  t0, t0, 1
    sw    t0, 36(sp)
    lw    t1, 40(sp)
    blt   t0, t1, .Ldwc_chan

.Ldwc_done:
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

    # t5 (> 0) output pixels: row pointers a1..a3 (advance by a4 = stride), weight words
    # s0..s2, bias a6, shift a7, ReLU floor t3, output a5; returns through t6.
.Ldwc_px:
    lp.setup 0, t5, .Ldwc_px_end
    p.lw  t0, a4(a1!)
    p.lw  t1, a4(a2!)
    p.lw  t2, a4(a3!)
    mv    t4, a6
    pv.sdotsp.b t4, t0, s0
    pv.sdotsp.b t4, t1, s1
    pv.sdotsp.b t4, t2, s2
    sra   t4, t4, a7
    p.clipi t4, t4, 8
    p.max t4, t4, t3
.Ldwc_px_end:
    p.sb  t4, 1(a5!)
    jr    t6
    .option pop
