/*
 * im2col.S -- HWC int8 image -> patch matrix for a convolution as a matrix multiply.
 *
 *   out[oy * Wo + ox][(ky * Kw + kx) * C + c] = in[oy * s - pad + ky][ox * s - pad + kx][c]
 *                                               (0 outside the image)
 *
 * void im2col(const uint32_t *args)   -- called by EVERY core with the same argument block;
 * output pixels are split by core id (mhartid); returns after rt_barrier.
 * Argument block (32-bit words, byte offset = 4 * word):
 *   word 0  in      int8 [H][W][C]
 *   word 1  out     int8 [Ho * Wo][Kh * Kw * C]
 *   word 2  H       word 3  W       word 4  C
 *   word 5  Kh      word 6  Kw      word 7  stride (>= 1)
 *   word 8  pad     zeros on every side, pad < Kh and pad < Kw
 *   word 9  Ho = (H + 2 pad - Kh) / stride + 1      word 10 Wo = (W + 2 pad - Kw) / stride + 1
 *   word 11 ncores  cores sharing the work
 *
 * Split: core c writes output pixels [c * P, min((c + 1) * P, Ho * Wo)), P = ceil(Ho*Wo/ncores).
 * Per output pixel and kernel row ky: the in-image columns kx in [kxa, kxb) are one contiguous
 * run of (kxb - kxa) * C bytes in both the image and the patch row; it is copied word by word
 * (hardware loop, possibly misaligned words) plus a byte tail, the padded columns (and rows
 * outside the image) are zero-filled.
 */
    .text
    .globl im2col
im2col:
    addi  sp, sp, -96
    sw    ra, 0(sp)
    sw    s0, 4(sp)
    sw    s1, 8(sp)
    sw    s2, 12(sp)
    sw    s3, 16(sp)
    sw    s4, 20(sp)
    sw    s5, 24(sp)
    sw    s6, 28(sp)
    sw    s7, 32(sp)
    sw    s8, 36(sp)
    sw    s9, 40(sp)
    sw    s10, 44(sp)
    sw    s11, 48(sp)
    # locals: 52 in, 56 H, 60 W, 64 C, 68 Kh, 72 Kw, 76 stride, 80 pad, 84 Wo
    lw    t0, 0(a0)
    sw    t0, 52(sp)
    lw    s0, 4(a0)               # out
    lw    t0, 8(a0)
    sw    t0, 56(sp)
    lw    t1, 12(a0)              # W
    sw    t1, 60(sp)
    lw    t2, 16(a0)              # C
    sw    t2, 64(sp)
    mul   s11, t1, t2             # s11 = W * C: bytes of an image row
    lw    t3, 20(a0)              # Kh
    sw    t3, 68(sp)
    lw    t4, 24(a0)              # Kw
    sw    t4, 72(sp)
    mul   s10, t4, t2             # s10 = Kw * C: bytes of a kernel row of a patch
    lw    t0, 28(a0)
    sw    t0, 76(sp)
    lw    t0, 32(a0)
    sw    t0, 80(sp)
    lw    t5, 36(a0)              # Ho
    lw    t6, 40(a0)              # Wo
    sw    t6, 84(sp)
    lw    t1, 44(a0)              # ncores
    mul   t5, t5, t6              # output pixels
    add   t0, t5, t1
    addi  t0, t0, -1
    divu  t0, t0, t1              # P = ceil(Ho * Wo / ncores)
    csrr  t1, mhartid
    mul   t1, t1, t0              # first pixel p0
    add   t0, t1, t0
    p.min t0, t0, t5              # end pixel
    bge   t1, t0, .Lim_done
    sub   s1, t0, t1              # s1 = pixels left
    divu  s3, t1, t6              # s3 = oy
    remu  s2, t1, t6              # s2 = ox
    mul   t3, t3, s10             # Kh * Kw * C
    mul   t3, t3, t1
    add   s0, s0, t3              # s0 = &out[p0][0]

.Lim_pix:
    lw    t0, 76(sp)              # stride
    lw    t1, 80(sp)              # pad
    lw    t2, 64(sp)              # C
    mul   t3, s2, t0
    sub   t3, t3, t1              # ix0 = ox * s - pad
    mul   s8, s3, t0
    sub   s8, s8, t1              # s8 = iy = oy * s - pad (ky = 0)
    neg   t4, t3
    p.max t4, t4, zero            # kxa = max(0, -ix0)
    lw    t5, 60(sp)              # W
    sub   t5, t5, t3
    lw    t6, 72(sp)              # Kw
    p.min t5, t5, t6              # kxb = min(Kw, W - ix0)
    mul   s4, t4, t2              # s4 = leading zero bytes
    sub   s5, t5, t4
    mul   s5, s5, t2              # s5 = bytes copied
    sub   s6, s10, s4
    sub   s6, s6, s5              # s6 = trailing zero bytes
    add   t3, t3, t4
    mul   t3, t3, t2              # (ix0 + kxa) * C
    mul   s7, s8, s11             # iy * W * C
    add   s7, s7, t3
    lw    t0, 52(sp)
    add   s7, s7, t0              # s7 = &in[iy][ix0 + kxa][0] (may point outside when iy is)
    lw    s9, 68(sp)              # s9 = kernel rows left
    lw    t5, 56(sp)              # t5 = H
.Lim_ky:
    mv    a0, s0
    bgeu  s8, t5, .Lim_pad_row    # iy < 0 or iy >= H (unsigned compare)
    mv    a2, s4
    jal   ra, .Lim_zero
    mv    a1, s7
    mv    a2, s5
    jal   ra, .Lim_copy
    mv    a2, s6
    jal   ra, .Lim_zero
    j     .Lim_row_done
.Lim_pad_row:
    mv    a2, s10
    jal   ra, .Lim_zero
.Lim_row_done:
    mv    s0, a0
    addi  s8, s8, 1
    add   s7, s7, s11
    addi  s9, s9, -1
    bnez  s9, .Lim_ky
    addi  s2, s2, 1               # next output pixel
    lw    t0, 84(sp)
    bne   s2, t0, 1f
    li    s2, 0
    addi  s3, s3, 1
1:  addi  s1, s1, -1
    bnez  s1, .Lim_pix

.Lim_done:
    call  rt_barrier
    lw    ra, 0(sp)
    lw    s0, 4(sp)
    lw    s1, 8(sp)
    lw    s2, 12(sp)
    lw    s3, 16(sp)
    lw    s4, 20(sp)
    lw    s5, 24(sp)
    lw    s6, 28(sp)
    lw    s7, 32(sp)
    lw    s8, 36(sp)
    lw    s9, 40(sp)
    lw    s10, 44(sp)
    lw    s11, 48(sp)
    addi  sp, sp, 96
    ret

# copy a2 bytes from a1 to a0 (both advanced); clobbers t0, t1, a2
.Lim_copy:
    srli  t1, a2, 2
    beqz  t1, .Lim_cp_bytes
    .option push
    .option norvc
    lp.setup 0, t1, .Lim_cp_end
    p.lw  t0, 4(a1!)
    nop
.Lim_cp_end:
    p.sw  t0, 4(a0!)
    .option pop
.Lim_cp_bytes:
    andi  a2, a2, 3
    beqz  a2, .Lim_cp_ret
.Lim_cp_b:
    p.lbu t0, 1(a1!)
    addi  a2, a2, -1
    p.sb  t0, 1(a0!)
    bnez  a2, .Lim_cp_b
.Lim_cp_ret:
    ret

# zero a2 bytes at a0 (advanced); clobbers t1, a2
.Lim_zero:
    srli  t1, a2, 2
    beqz  t1, .Lim_z_bytes
    .option push
    .option norvc
    lp.setup 0, t1, .Lim_z_end
    p.sw  zero, 4(a0!)
    nop
.Lim_z_end:
    nop
    .option pop
.Lim_z_bytes:
    andi  a2, a2, 3
    beqz  a2, .Lim_z_ret
.Lim_z_b:
    p.sb  zero, 1(a0!)
    addi  a2, a2, -1
    bnez  a2, .Lim_z_b
.Lim_z_ret:
    ret
