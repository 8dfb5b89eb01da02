/*
 * avgpool.S -- avgpool(a0): k x k average pooling of an HWC int8 tensor, no padding.
 *
 *   y[oy][ox][c] = clip((sum_{ky,kx < k} x[oy*s+ky][ox*s+kx][c]) * mul >> shift,
 *                       relu ? 0 : -128, 127)                   (= soc.qnn.avgpool)
 * Called by every core with the same argument block (a0, 32-bit words, built by
 * soc.kernels_dw.avgpool_args):
 *   word  0 in (int8 [H][W][C])   word  1 out (int8 [Ho][Wo][C])   word 2 H   word 3 W
 *   word  4 C    word  5 k (1..16)    word  6 stride    word  7 mul (k*k*128*|mul| < 2^31)
 *   word  8 shift (0..31)   word  9 relu (0 or 1)   word 10 ncores (core ids 0..ncores-1 work)
 *   word 11 Ho   word 12 Wo   word 13 W*C   word 14 Ho*Wo
 *
 * Parallelisation: the Ho*Wo output pixels are split into ncores contiguous chunks.  Per output
 * pixel and channel: nested hardware loops (1 over the k window rows, 0 over the k columns; the
 * column loop is software-pipelined: load, add the previous value, move) sum the window,
 * then mul, sra, p.clipi, p.max (ReLU floor), p.sb.  About 3 cycles per window element.
 * Callee-saved registers are preserved; ends with rt_barrier.
 */
    .text
    .option push
    .option norvc
    .globl avgpool
avgpool:
    addi  sp, sp, -32
    sw    ra, 28(sp)
    sw    s0, 24(sp)
    sw    s1, 20(sp)
    sw    s2, 16(sp)
    sw    s3, 12(sp)
    sw    s4, 8(sp)
    sw    s5, 4(sp)
    sw    s6, 0(sp)
    csrr  t0, mhartid
    lw    t1, 40(a0)              # ncores
    lw    t2, 56(a0)              # Ho*Wo
    add   t3, t2, t1
    addi  t3, t3, -1
    divu  t3, t3, t1              # chunk
    mul   t4, t0, t3              # first output pixel q
    add   t5, t4, t3
    ble   t5, t2, .Lavg_cend
    mv    t5, t2
.Lavg_cend:
    bge   t4, t5, .Lavg_done
    sub   s0, t5, t4              # output pixels left
    lw    t1, 48(a0)              # Wo
    divu  s1, t4, t1              # oy
    remu  s2, t4, t1              # ox
    lw    t0, 16(a0)              # C
    mul   t1, t4, t0
    lw    a6, 4(a0)
    add   a6, a6, t1              # output pointer (advances by 1 per channel)
    mv    a4, t0                  # C: column step
    lw    a5, 20(a0)              # k
    mul   t1, a5, t0
    lw    a7, 52(a0)              # W*C
    sub   s3, a7, t1              # row step: W*C - k*C
    lw    s4, 28(a0)              # mul
    lw    s5, 32(a0)              # shift
    lw    s6, 36(a0)              # ReLU floor
    addi  s6, s6, -1
    andi  s6, s6, -128
.Lavg_pix:
    lw    t0, 24(a0)              # window origin: in + (oy*s*W + ox*s)*C
    mul   t1, s1, t0
    mul   t1, t1, a7
    mul   t2, s2, t0
    mul   t2, t2, a4
    add   t1, t1, t2
    lw    t2, 0(a0)
    add   a1, t1, t2              # channel 0 of the window origin
    mv    a2, a4                  # channels left
.Lavg_chan:
    mv    a3, a1
    li    t3, 0                   # sum
    li    t1, 0                   # value loaded in the previous iteration
    lp.setup 1, a5, .Lavg_ky_end
    lp.setup 0, a5, .Lavg_kx_end
    p.lb  t0, a4(a3!)
    add   t3, t3, t1
.Lavg_kx_end:
    mv    t1, t0
    add   a3, a3, s3
.Lavg_ky_end:
    nop
    add   t3, t3, t1
    mul   t3, t3, s4
    sra   t3, t3, s5
    p.clipi t3, t3, 8
    p.max t3, t3, s6
    p.sb  t3, 1(a6!)
    addi  a1, a1, 1
    addi  a2, a2, -1
    bnez  a2, .Lavg_chan
    addi  s2, s2, 1               # next output pixel
    lw    t0, 48(a0)
    blt   s2, t0, .Lavg_nowrap
    li    s2, 0
    addi  s1, s1, 1
.Lavg_nowrap:
    addi  s0, s0, -1
    bnez  s0, .Lavg_pix
.Lavg_done:
    call  rt_barrier
    lw    ra, 28(sp)
    lw    s0, 24(sp)
    lw    s1, 20(sp)
    lw    s2, 16(sp)
    lw    s3, 12(sp)
    lw    s4, 8(sp)
    lw    s5, 4(sp)
    lw    s6, 0(sp)
    addi  sp, sp, 32
    ret
    .option pop
