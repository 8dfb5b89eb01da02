/*
 * marshal.S -- layout transposes of an H x W x C int8 tensor (the marshaling between the
 * IMA's HWC output and the cores' CHW depthwise kernel):
 *   hwc_to_chw(a0): out[c][p] = in[p][c]        chw_to_hwc(a0): out[p][c] = in[c][p]
 * (p = y*W + x; = soc.qnn.hwc_to_chw / chw_to_hwc).  Same argument block for both (a0, 32-bit
 * words, built by soc.kernels_dw.marshal_args):
 *   word 0 in   word 1 out (must not overlap in)   word 2 H   word 3 W   word 4 C
 *   word 5 ncores (core ids 0..ncores-1 work)     word 6 H*W
 * No alignment is required (misaligned word stores cost one extra cycle).
 *
 * Parallelisation: the H*W pixels are split into ncores contiguous chunks of a multiple of 4
 * pixels; each core transposes all channels of its pixels.
 * hwc_to_chw: per channel, hardware loop 0 over groups of 4 pixels: 4 strided byte loads
 * (p.lb post-increment C), pv.packlo.b + pv.packhi.b, one word store into the CHW plane;
 * pixels left over (chunk mod 4) one by one.
 * chw_to_hwc: per group of 4 channels, hardware loop 0 over the pixels: one byte load from each
 * of the 4 planes (post-increment 1), pack, one word store (post-increment C) into the HWC
 * pixel; the C mod 4 remaining channels one byte at a time.
 * Callee-saved registers are preserved; both end with rt_barrier.
 */
    .text
    .option push
    .option norvc

    # Common prologue: a1 = first pixel, a2 = pixel count of this core (0: nothing to do).
.Lmsh_range:
    csrr  t0, mhartid
    lw    t1, 20(a0)              # ncores
    lw    t2, 24(a0)              # H*W
    addi  t3, t2, 3
    srli  t3, t3, 2
    add   t3, t3, t1
    addi  t3, t3, -1
    divu  t3, t3, t1
    slli  t3, t3, 2               # chunk (multiple of 4)
    mul   a1, t0, t3
    add   a2, a1, t3
    ble   a2, t2, .Lmsh_rend
    mv    a2, t2
.Lmsh_rend:
    sub   a2, a2, a1
    bgez  a2, .Lmsh_rpos
    li    a2, 0
.Lmsh_rpos:
    jr    t6

    .globl hwc_to_chw
hwc_to_chw:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    jal   t6, .Lmsh_range
    beqz  a2, .Lh2c_done
    lw    a4, 16(a0)              # C
    lw    a5, 24(a0)              # H*W
    lw    t0, 0(a0)
    mul   t1, a1, a4
    add   a3, t0, t1              # &in[p0][0]
    lw    t0, 4(a0)
    add   a6, t0, a1              # &out[0][p0]
    srli  s0, a2, 2               # groups of 4 pixels
    andi  s1, a2, 3               # left-over pixels
    mv    a7, a4                  # channels left
.Lh2c_chan:
    mv    t5, a3                  # source: channel c of pixel p0
    mv    t6, a6                  # destination: plane c at p0
    beqz  s0, .Lh2c_tail
    lp.setup 0, s0, .Lh2c_end
    p.lb  t0, a4(t5!)
    p.lb  t1, a4(t5!)
    p.lb  t2, a4(t5!)
    p.lb  t3, a4(t5!)
    pv.packlo.b t4, t1, t0
    pv.packhi.b t4, t3, t2
.Lh2c_end:
    p.sw  t4, 4(t6!)
.Lh2c_tail:
    mv    ra, s1
.Lh2c_tl:
    beqz  ra, .Lh2c_next
    p.lb  t0, a4(t5!)
    addi  ra, ra, -1
    p.sb  t0, 1(t6!)
    j     .Lh2c_tl
.Lh2c_next:
    addi  a3, a3, 1
    add   a6, a6, a5
    addi  a7, a7, -1
    bnez  a7, .Lh2c_chan
.Lh2c_done:
    call  rt_barrier
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    addi  sp, sp, 16
    ret

    .globl chw_to_hwc
chw_to_hwc:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    sw    s2, 0(sp)
    jal   t6, .Lmsh_range
    beqz  a2, .Lc2h_done
    lw    a4, 16(a0)              # C
    lw    a5, 24(a0)              # H*W
    lw    t0, 0(a0)
    add   a3, t0, a1              # &in[0][p0]
    lw    t0, 4(a0)
    mul   t1, a1, a4
    add   a6, t0, t1              # &out[p0][0]
    srli  a7, a4, 2               # groups of 4 channels
    beqz  a7, .Lc2h_tailc
.Lc2h_grp:
    mv    s0, a3                  # planes c .. c+3 at pixel p0
    add   s1, s0, a5
    add   s2, s1, a5
    add   t5, s2, a5
    mv    t6, a6                  # out[p0][c]
    lp.setup 0, a2, .Lc2h_end
    p.lb  t0, 1(s0!)
    p.lb  t1, 1(s1!)
    p.lb  t2, 1(s2!)
    p.lb  t3, 1(t5!)
    pv.packlo.b t4, t1, t0
    pv.packhi.b t4, t3, t2
.Lc2h_end:
    p.sw  t4, a4(t6!)
    slli  t0, a5, 2
    add   a3, a3, t0              # 4 planes on
    addi  a6, a6, 4
    addi  a7, a7, -1
    bnez  a7, .Lc2h_grp
.Lc2h_tailc:
    andi  a7, a4, 3               # remaining channels, one at a time
    beqz  a7, .Lc2h_done
.Lc2h_tc:
    mv    s0, a3
    mv    t6, a6
    lp.setup 0, a2, .Lc2h_tend
    p.lb  t0, 1(s0!)
    nop
.Lc2h_tend:
    p.sb  t0, a4(t6!)
    add   a3, a3, a5
    addi  a6, a6, 1
    addi  a7, a7, -1
    bnez  a7, .Lc2h_tc
.Lc2h_done:
    call  rt_barrier
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    lw    s2, 0(sp)
    addi  sp, sp, 16
    ret
    .option pop
