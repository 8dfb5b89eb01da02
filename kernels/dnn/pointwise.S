/*
 * pointwise.S -- int8 pointwise convolution / matrix multiply on the cluster cores (PULP-NN style).
 *
 *   out[m][n] = clip((sum_k in[m][k] * w[n][k] + bias[n]) >> shift, lo, 127)   (int8)
 *   lo = 0 with ReLU, -128 without;  m < M (pixels of an HWC tensor), n < N (Cout), k < K (Cin)
 *
 * void pw_conv(const uint32_t *args)   -- called by EVERY core with the same argument block;
 * work is split by core id (mhartid) over the pixels; returns after rt_barrier.
 * Argument block (32-bit words, byte offset = 4 * word):
 *   word 0  in      int8  [M][K]  (HWC input, row m = pixel m)
 *   word 1  w       int8  [N][K]  (weights [Cout][1][1][Cin])
 *   word 2  bias    int32 [N]     (4-byte aligned)
 *   word 3  out     int8  [M][N]  (HWC output)
 *   word 4  M       pixels (>= 1)
 *   word 5  N       output channels (>= 1)
 *   word 6  K       input channels (>= 1)
 *   word 7  shift   arithmetic right shift, 0..31
 *   word 8  relu    0: clip to [-128, 127]; nonzero: clip to [0, 127]
 *   word 9  ncores  cores sharing the work (cores with id >= ncores only meet at the barrier)
 *
 * Split: core c computes pixels [c * P, min((c + 1) * P, M)) with P = ceil(M / ncores) rounded
 * up to even.  Fast path (K % 4 == 0, K >= 8): 4 pixels x 4 output channels per block (16 int32
 * accumulators, .Lpw4_* / .Lpw4r_*), inner hardware loop over K/4 with 8 post-increment word
 * loads through two pointers (pixel rows and weight rows, both with register strides
 * K, K, K, 4 - 3K) and 16 pv.sdotsp.b = 64 MAC in 24 cycles, no load-use stalls; the first K
 * word is peeled with pv.dotsp.b, the bias added by p.addNr ((acc + bias) >>> shift), then
 * p.clipi 8 (or p.clipui 8 with ReLU: one routine per flavour), pv.packlo/packhi.b of the 4
 * channels of a pixel, one word store per pixel.  Pixels left over (M per core not a multiple
 * of 4), and all pixels when K % 4 != 0 or K < 8: 4 channels x 2 pixels (8 accumulators,
 * initialised with the bias; 6 loads + 8 pv.sdotsp.b per iteration), requantised by sra,
 * p.clipi 8, pack, pv.max.sc.b with 0 (ReLU) or -128.
 * Ragged edges: K % 4 -> one extra masked iteration (the pixel words are ANDed with a lane
 * mask; it reads up to 3 bytes past the end of every row, so up to 3 bytes past the in and w
 * buffers, which must still be memory); N % 4 -> a 1 channel x 2 pixel loop; an odd last pixel
 * -> the 4x2 block with both pixel rows (and both output rows) aliased to the same pixel.
 * Rows of length K (or N) that are not multiples of 4 make the word accesses misaligned
 * (2 cycles each): correct but slower.
 */
    .equ  PW_ROT_K, 64
    .text
    .globl pw_conv
pw_conv:
    addi  sp, sp, -208
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
    # locals: 52 m (next pixel), 56 m_end, 60 in, 64 w, 68 bias, 72 out, 76 N, 80 N/4 - q0,
    # 84 N%4, 88 q0 (first channel quad of this core), 92 w + 4K*q0, 96 bias + 16*q0, 100 4*q0,
    # 104 4*(N/4), 108 w + 4K*(N/4), 112 bias + 16*(N/4), 116 the channel-quad routine,
    # 120 saved ra, 124 kc, 128 K/4 - kc, 132 4 kc, 136 4K (K rotation),
    # 4x4 path: 140 saved gp, 144 saved tp, 148 K/4 - 1, 152 4 - 3N, 156 saved ra,
    # 160 m4 (pixels below it had their channel quads done by the 4x4 path), 164 the 4x4
    # routine (0: none), 168 &out[m][0], 172 &in[m][0], 176..192 saved t1, t2, t3, t4, t6,
    # 196 K/4 - kc - 1
    lw    t0, 0(a0)
    sw    t0, 60(sp)
    lw    s1, 4(a0)               # s1 = w
    sw    s1, 64(sp)
    lw    s2, 8(a0)               # s2 = bias
    sw    s2, 68(sp)
    lw    t0, 12(a0)
    sw    t0, 72(sp)
    lw    t1, 16(a0)              # M
    lw    t2, 20(a0)              # N
    sw    t2, 76(sp)
    andi  t3, t2, 3
    sw    t3, 84(sp)
    lw    a7, 24(a0)              # a7 = K (register stride of the weight loads)
    lw    t5, 28(a0)              # t5 = shift
    lw    t6, 32(a0)              # relu
    lw    t4, 36(a0)              # ncores
    li    t0, -128
    beqz  t6, 1f
    li    t0, 0
1:  mv    t6, t0                  # t6 = lower clip bound (0 or -128)
    csrr  s0, mhartid
    # Every core starts its channel loop at its own quad q0 = id * (N/4) / ncores (and wraps
    # around), so that the cores do not all stream the same weight words in lock-step.
    srli  t3, t2, 2               # N/4
    mul   s3, s0, t3
    divu  s3, s3, t4              # q0
    sub   s4, t3, s3
    sw    s4, 80(sp)
    sw    s3, 88(sp)
    slli  s5, a7, 2               # 4K: weight bytes of a channel quad
    mul   s4, s3, s5
    add   s4, s4, s1
    sw    s4, 92(sp)
    slli  s4, s3, 4
    add   s4, s4, s2
    sw    s4, 96(sp)
    slli  s4, s3, 2
    sw    s4, 100(sp)
    slli  s4, t3, 2
    sw    s4, 104(sp)
    mul   s4, t3, s5
    add   s4, s4, s1
    sw    s4, 108(sp)
    slli  s4, t3, 4
    add   s4, s4, s2
    sw    s4, 112(sp)
    # pixel range
    add   t3, t1, t4
    addi  t3, t3, -1
    divu  t3, t3, t4              # ceil(M / ncores)
    addi  t3, t3, 1
    andi  t3, t3, -2              # ... rounded up to even
    mul   t0, s0, t3              # first pixel of this core
    add   t3, t0, t3
    p.min t3, t3, t1              # end pixel
    sw    t0, 52(sp)
    sw    t3, 56(sp)
    srli  t3, a7, 2               # t3 = K / 4 (inner loop count)
    andi  t4, a7, 3
    slli  t2, t3, 2               # t2 = bytes a pixel/weight pointer advances over one row
    beqz  t4, 1f
    addi  t2, t2, 4
    slli  t4, t4, 3
    li    t0, 1
    sll   t4, t0, t4
    addi  t4, t4, -1              # t4 = lane mask of the K % 4 tail (0: no tail)
1:  slli  t1, a7, 2
    sub   t1, t1, t2              # t1 = 4K - t2: weight pointer to the next channel quad
    slli  t0, a7, 1
    add   t0, t0, a7
    li    ra, 4
    sub   t0, ra, t0              # t0 = 4 - 3K: weight stride back to channel 0, next word
    la    s0, .Lpw_quads          # general channel-quad loop (K % 4 != 0 or K < 4) ...
    bnez  t4, 1f
    beqz  t3, 1f
    la    s0, .Lpw_quads_fast     # ... or the all-hardware-loop one
    # K rotation (K a multiple of ROT_K bytes): the weight rows and the pixel rows of all cores
    # then start in the same bank, so core c starts its dot products at word
    # kc = 4 (c + 1) mod K/4 (2 instead of 0) and wraps around (.Lpw_quads_rot, .Lpw4r_*: two
    # inner loops), else the cores, all at the same k, pile up on one bank.  No core may take
    # the unrotated path: its blocks are a few cycles shorter, it drifts in time against the
    # others until it reads the same bank as a neighbour, and two cores in the same bank stay
    # there (each conflict delays the loser by one cycle, which keeps them in step).
    andi  s1, a7, PW_ROT_K - 1
    bnez  s1, 1f
    csrr  s1, mhartid
    addi  s1, s1, 1
    slli  s1, s1, 2
    remu  s1, s1, t3              # kc = 4 (id + 1) mod K/4 ...
    bnez  s1, 2f
    li    s1, 2                   # ... never 0: every core takes the same (rotated) path
2:
    sw    s1, 124(sp)
    sub   s2, t3, s1
    sw    s2, 128(sp)             # K/4 - kc
    slli  s1, s1, 2
    sw    s1, 132(sp)             # 4 kc
    slli  s1, a7, 2
    sw    s1, 136(sp)             # 4K
    la    s0, .Lpw_quads_rot
1:  sw    s0, 116(sp)
    # 4 pixel x 4 channel path (K % 4 == 0, K >= 8): one routine per clip flavour (ReLU or not)
    li    s0, 0
    andi  s1, a7, 3
    bnez  s1, 2f
    li    s1, 8
    blt   a7, s1, 2f
    lw    s2, 116(sp)
    la    s3, .Lpw_quads_rot
    beq   s2, s3, 4f
    la    s0, .Lpw4_i             # clip to [-128, 127]
    bnez  t6, 3f
    la    s0, .Lpw4_ui            # ReLU: clip to [0, 127]
    j     3f
4:  la    s0, .Lpw4r_i            # the same with the K rotation
    bnez  t6, 5f
    la    s0, .Lpw4r_ui
5:  lw    s1, 128(sp)
    addi  s1, s1, -1
    sw    s1, 196(sp)             # K/4 - kc - 1
3:  addi  s1, t3, -1
    sw    s1, 148(sp)             # K/4 - 1 (first iteration peeled)
    lw    s1, 76(sp)
    slli  s2, s1, 1
    add   s2, s2, s1
    li    s3, 4
    sub   s2, s3, s2
    sw    s2, 152(sp)             # 4 - 3N: output pointer back to pixel 0, next quad
2:  sw    s0, 164(sp)
    sw    zero, 160(sp)
    sw    t1, 176(sp)
    sw    t2, 180(sp)
    sw    t3, 184(sp)
    sw    t4, 188(sp)
    sw    t6, 192(sp)

.Lpw_pair:
    lw    ra, 52(sp)              # m
    lw    a6, 56(sp)
    bge   ra, a6, .Lpw_done
    sub   a6, a6, ra              # pixels left
    lw    s0, 164(sp)             # 4x4 path: pixels m .. m+3, all channel quads
    beqz  s0, .Lpw_p2
    lw    s1, 160(sp)
    blt   ra, s1, .Lpw_p2         # their quads are done, N % 4 channels left
    li    s1, 4
    blt   a6, s1, .Lpw_p2
    addi  s1, ra, 4
    sw    s1, 160(sp)
    lw    t4, 60(sp)
    mul   s1, ra, a7
    add   t4, t4, s1              # t4 = &in[m][0]
    sw    t4, 172(sp)
    lw    a3, 72(sp)
    lw    a5, 76(sp)
    mul   s1, ra, a5
    add   a3, a3, s1              # &out[m][0]
    sw    a3, 168(sp)
    lw    s1, 100(sp)
    add   a3, a3, s1              # quads q0 .. N/4 - 1
    lw    a0, 80(sp)
    lw    a1, 92(sp)
    lw    a2, 96(sp)
    jalr  ra, 0(s0)
    lw    t4, 172(sp)             # quads 0 .. q0 - 1
    lw    a3, 168(sp)
    lw    a0, 88(sp)
    lw    a1, 64(sp)
    lw    a2, 68(sp)
    lw    s0, 164(sp)
    jalr  ra, 0(s0)
    lw    s1, 84(sp)
    bnez  s1, .Lpw_pair           # N % 4 channels: as pairs (m < m4 skips the quads)
    lw    ra, 52(sp)
    addi  ra, ra, 4
    sw    ra, 52(sp)
    j     .Lpw_pair
.Lpw_p2:
    lw    a0, 60(sp)
    mul   a1, ra, a7
    add   a0, a0, a1              # a0 = &in[m][0]
    lw    a4, 72(sp)
    lw    a5, 76(sp)              # N
    mul   a1, ra, a5
    add   a4, a4, a1              # a4 = &out[m][0]
    addi  ra, ra, 2
    sw    ra, 52(sp)
    li    ra, 1
    beq   a6, ra, 1f
    add   a1, a0, a7              # a1 = &in[m+1][0]
    add   a5, a4, a5              # a5 = &out[m+1][0]
    j     2f
1:  mv    a1, a0                  # odd last pixel: the second pixel aliases the first
    mv    a5, a4
2:  lw    s0, 160(sp)
    lw    s1, 52(sp)
    addi  s1, s1, -2              # m
    bge   s1, s0, 3f
    lw    s0, 104(sp)             # quads done by the 4x4 path: leftover channels only
    add   a4, a4, s0
    add   a5, a5, s0
    lw    a2, 108(sp)
    lw    a3, 112(sp)
    j     .Lpw_chan
3:  lw    s0, 100(sp)             # quads q0 .. N/4 - 1
    add   a4, a4, s0
    add   a5, a5, s0
    lw    a2, 92(sp)
    lw    a3, 96(sp)
    lw    a6, 80(sp)
    lw    s0, 116(sp)
    jalr  ra, 0(s0)
    lw    s0, 104(sp)             # quads 0 .. q0 - 1
    sub   a4, a4, s0
    sub   a5, a5, s0
    lw    a2, 64(sp)
    lw    a3, 68(sp)
    lw    a6, 88(sp)
    lw    s0, 116(sp)
    jalr  ra, 0(s0)
    lw    s0, 104(sp)             # leftover channels 4 * (N/4) ..
    lw    s1, 100(sp)
    sub   s0, s0, s1
    add   a4, a4, s0
    add   a5, a5, s0
    lw    a2, 108(sp)
    lw    a3, 112(sp)
    j     .Lpw_chan

.Lpw_quads:                       # a6 channel quads from a2 (weights) / a3 (bias); returns to ra
    beqz  a6, .Lpw_q_ret
.Lpw_quad:
    p.lw  s0, 4(a3!)              # accumulators start at the bias: s{2i} pixel 0, s{2i+1} pixel 1
    p.lw  s2, 4(a3!)
    p.lw  s4, 4(a3!)
    p.lw  s6, 4(a3!)
    mv    s1, s0
    mv    s3, s2
    mv    s5, s4
    mv    s7, s6
    beqz  t3, .Lpw_q_nok
    .option push
    .option norvc
    lp.setup 0, t3, .Lpw_q_end
    p.lw  s8, 4(a0!)              # pixel 0, 4 channels of input
    p.lw  s9, 4(a1!)              # pixel 1
    p.lw  s10, a7(a2!)            # weights of output channel n
    p.lw  s11, a7(a2!)            # n + 1
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
    p.lw  s10, a7(a2!)            # n + 2
    pv.sdotsp.b s2, s11, s8
    pv.sdotsp.b s3, s11, s9
    p.lw  s11, t0(a2!)            # n + 3, pointer back to channel n, next word
    pv.sdotsp.b s4, s10, s8
    pv.sdotsp.b s5, s10, s9
    pv.sdotsp.b s6, s11, s8
.Lpw_q_end:
    pv.sdotsp.b s7, s11, s9
    .option pop
.Lpw_q_nok:
    bnez  t4, .Lpw_q_tail
.Lpw_q_req:
    sra   s0, s0, t5
    sra   s1, s1, t5
    sra   s2, s2, t5
    sra   s3, s3, t5
    sra   s4, s4, t5
    sra   s5, s5, t5
    sra   s6, s6, t5
    sra   s7, s7, t5
    p.clipi s0, s0, 8
    p.clipi s1, s1, 8
    p.clipi s2, s2, 8
    p.clipi s3, s3, 8
    p.clipi s4, s4, 8
    p.clipi s5, s5, 8
    p.clipi s6, s6, 8
    p.clipi s7, s7, 8
    pv.packlo.b s8, s2, s0        # pixel 0: bytes n, n+1 ...
    pv.packlo.b s9, s3, s1
    pv.packhi.b s8, s6, s4        # ... n+2, n+3
    pv.packhi.b s9, s7, s5
    pv.max.sc.b s8, s8, t6        # ReLU (or no-op with -128)
    pv.max.sc.b s9, s9, t6
    p.sw  s8, 4(a4!)
    p.sw  s9, 4(a5!)
    sub   a0, a0, t2              # back to the start of the pixel rows
    sub   a1, a1, t2
    add   a2, a2, t1              # weights of channel n + 4
    addi  a6, a6, -1
    bnez  a6, .Lpw_quad
.Lpw_q_ret:
    ret

.Lpw_q_tail:                      # K % 4 leftover: one masked iteration
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    and   s8, s8, t4
    and   s9, s9, t4
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s2, s11, s8
    pv.sdotsp.b s3, s11, s9
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s4, s10, s8
    pv.sdotsp.b s5, s10, s9
    pv.sdotsp.b s6, s11, s8
    pv.sdotsp.b s7, s11, s9
    j     .Lpw_q_req

.Lpw_quads_fast:                  # as .Lpw_quads for K % 4 == 0, K >= 4: two hardware loops
    beqz  a6, .Lpw_f_ret
    .option push
    .option norvc
    lp.setup 1, a6, .Lpw_f_end
    p.lw  s0, 4(a3!)
    p.lw  s2, 4(a3!)
    p.lw  s4, 4(a3!)
    p.lw  s6, 4(a3!)
    mv    s1, s0
    mv    s3, s2
    mv    s5, s4
    mv    s7, s6
    lp.setup 0, t3, .Lpw_f_kend
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s2, s11, s8
    pv.sdotsp.b s3, s11, s9
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s4, s10, s8
    pv.sdotsp.b s5, s10, s9
    pv.sdotsp.b s6, s11, s8
.Lpw_f_kend:
    pv.sdotsp.b s7, s11, s9
    sra   s0, s0, t5
    sra   s1, s1, t5
    sra   s2, s2, t5
    sra   s3, s3, t5
    sra   s4, s4, t5
    sra   s5, s5, t5
    sra   s6, s6, t5
    sra   s7, s7, t5
    p.clipi s0, s0, 8
    p.clipi s1, s1, 8
    p.clipi s2, s2, 8
    p.clipi s3, s3, 8
    p.clipi s4, s4, 8
    p.clipi s5, s5, 8
    p.clipi s6, s6, 8
    p.clipi s7, s7, 8
    pv.packlo.b s8, s2, s0
    pv.packlo.b s9, s3, s1
    pv.packhi.b s8, s6, s4
    pv.packhi.b s9, s7, s5
    pv.max.sc.b s8, s8, t6
    pv.max.sc.b s9, s9, t6
    p.sw  s8, 4(a4!)
    p.sw  s9, 4(a5!)
    sub   a0, a0, t2
    sub   a1, a1, t2
.Lpw_f_end:
    add   a2, a2, t1
    .option pop
.Lpw_f_ret:
    ret

.Lpw_quads_rot:                   # as .Lpw_quads_fast, dot products from word kc, wrapping
    beqz  a6, .Lpw_r_ret0
    sw    ra, 120(sp)
    lw    t4, 124(sp)             # t4 = kc (the K tail mask is 0 on this path)
    lw    t1, 128(sp)             # t1 = K/4 - kc
    lw    ra, 132(sp)
    add   a0, a0, ra              # all pointers to word kc
    add   a1, a1, ra
    add   a2, a2, ra
    lw    ra, 136(sp)             # ra = 4K
    .option push
    .option norvc
    lp.setup 1, a6, .Lpw_r_end
    p.lw  s0, 4(a3!)
    p.lw  s2, 4(a3!)
    p.lw  s4, 4(a3!)
    p.lw  s6, 4(a3!)
    mv    s1, s0
    mv    s3, s2
    mv    s5, s4
    mv    s7, s6
    lp.setup 0, t1, .Lpw_r_k1
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s2, s11, s8
    pv.sdotsp.b s3, s11, s9
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s4, s10, s8
    pv.sdotsp.b s5, s10, s9
    pv.sdotsp.b s6, s11, s8
.Lpw_r_k1:
    pv.sdotsp.b s7, s11, s9
    sub   a0, a0, t2              # words 0 .. kc - 1
    sub   a1, a1, t2
    sub   a2, a2, t2
    lp.setup 0, t4, .Lpw_r_k2
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    p.lw  s10, a7(a2!)
    p.lw  s11, a7(a2!)
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
    p.lw  s10, a7(a2!)
    pv.sdotsp.b s2, s11, s8
    pv.sdotsp.b s3, s11, s9
    p.lw  s11, t0(a2!)
    pv.sdotsp.b s4, s10, s8
    pv.sdotsp.b s5, s10, s9
    pv.sdotsp.b s6, s11, s8
.Lpw_r_k2:
    pv.sdotsp.b s7, s11, s9
    sra   s0, s0, t5
    sra   s1, s1, t5
    sra   s2, s2, t5
    sra   s3, s3, t5
    sra   s4, s4, t5
    sra   s5, s5, t5
    sra   s6, s6, t5
    sra   s7, s7, t5
    p.clipi s0, s0, 8
    p.clipi s1, s1, 8
    p.clipi s2, s2, 8
    p.clipi s3, s3, 8
    p.clipi s4, s4, 8
    p.clipi s5, s5, 8
    p.clipi s6, s6, 8
    p.clipi s7, s7, 8
    pv.packlo.b s8, s2, s0
    pv.packlo.b s9, s3, s1
    pv.packhi.b s8, s6, s4
    pv.packhi.b s9, s7, s5
    pv.max.sc.b s8, s8, t6
    pv.max.sc.b s9, s9, t6
    p.sw  s8, 4(a4!)
    p.sw  s9, 4(a5!)
.Lpw_r_end:
    add   a2, a2, ra              # next quad, word kc (the pixel pointers are at word kc)
    .option pop
    lw    ra, 132(sp)
    sub   a0, a0, ra              # back to word 0 of the pixel rows
    sub   a1, a1, ra
    lw    ra, 120(sp)
    li    t4, 0
    slli  t1, a7, 2
    sub   t1, t1, t2              # t1 = 4K - 4 K/4 as the other paths expect
.Lpw_r_ret0:
    ret

# 4 pixels x 4 channels: a0 channel quads from a1 (weights) / a2 (bias), outputs from a3 (pixel
# m, first channel of the quad), t4 = &in[m][0]; clobbers everything but sp, a7, t0, t5 (t1 .. t6
# reloaded for the other paths).  Accumulator of channel j, pixel i: s(4j+i) (j < 3), a(i) (j = 3).
# The first K word is peeled (pv.dotsp.b: no accumulator initialisation), the bias is added by
# p.addNr ((acc + bias) >>> shift), then one clip per output (p.clipi 8: [-128, 127], or
# p.clipui 8: [0, 127] for ReLU; one copy of each routine per flavour through .irp), pack, one
# word store per pixel.  Inner loop: 8 loads + 16 pv.sdotsp.b = 64 MAC in 24 cycles, no stalls.
    .irp V, i, ui
.Lpw4_\V:
    sw    ra, 156(sp)
    sw    gp, 140(sp)
    sw    tp, 144(sp)
    beqz  a0, .Lpw4_out_\V
    mv    t6, a1
    mv    gp, a2
    mv    ra, a3
    lw    tp, 76(sp)              # N: output pixel stride
    .option push
    .option norvc
    lp.setup 1, a0, .Lpw4_end_\V
    p.lw  a4, a7(t4!)             # pixels m .. m+3, word k (one pointer, strides K, K, K, 4-3K)
    p.lw  a5, a7(t4!)
    p.lw  a6, a7(t4!)
    p.lw  t2, a7(t6!)             # weights of channel n, word k
    p.lw  t1, t0(t4!)
    pv.dotsp.b  s0, t2, a4
    p.lw  t3, a7(t6!)             # n + 1
    pv.dotsp.b  s1, t2, a5
    pv.dotsp.b  s2, t2, a6
    pv.dotsp.b  s3, t2, t1
    p.lw  t2, a7(t6!)             # n + 2
    pv.dotsp.b  s4, t3, a4
    pv.dotsp.b  s5, t3, a5
    pv.dotsp.b  s6, t3, a6
    pv.dotsp.b  s7, t3, t1
    p.lw  t3, t0(t6!)             # n + 3, pointer back to channel n, word k + 1
    pv.dotsp.b  s8, t2, a4
    pv.dotsp.b  s9, t2, a5
    pv.dotsp.b  s10, t2, a6
    pv.dotsp.b  s11, t2, t1
    pv.dotsp.b  a0, t3, a4
    lw    a4, 148(sp)             # K/4 - 1
    pv.dotsp.b  a1, t3, a5
    pv.dotsp.b  a2, t3, a6
    pv.dotsp.b  a3, t3, t1
    lp.setup 0, a4, .Lpw4_k_\V
    p.lw  a4, a7(t4!)             # pixels m .. m+3, word k (one pointer, strides K, K, K, 4-3K)
    p.lw  a5, a7(t4!)
    p.lw  a6, a7(t4!)
    p.lw  t2, a7(t6!)             # weights of channel n, word k
    p.lw  t1, t0(t4!)
    pv.sdotsp.b s0, t2, a4
    p.lw  t3, a7(t6!)             # n + 1
    pv.sdotsp.b s1, t2, a5
    pv.sdotsp.b s2, t2, a6
    pv.sdotsp.b s3, t2, t1
    p.lw  t2, a7(t6!)             # n + 2
    pv.sdotsp.b s4, t3, a4
    pv.sdotsp.b s5, t3, a5
    pv.sdotsp.b s6, t3, a6
    pv.sdotsp.b s7, t3, t1
    p.lw  t3, t0(t6!)             # n + 3, pointer back to channel n, word k + 1
    pv.sdotsp.b s8, t2, a4
    pv.sdotsp.b s9, t2, a5
    pv.sdotsp.b s10, t2, a6
    pv.sdotsp.b s11, t2, t1
    pv.sdotsp.b a0, t3, a4
    pv.sdotsp.b a1, t3, a5
    pv.sdotsp.b a2, t3, a6
.Lpw4_k_\V:
    pv.sdotsp.b a3, t3, t1
    p.lw  t2, 4(gp!)              # bias n .. n+3
    p.lw  t3, 4(gp!)
    p.lw  a4, 4(gp!)
    p.addNr s0, t2, t5
    p.lw  a5, 4(gp!)
    p.addNr s1, t2, t5
    p.addNr s2, t2, t5
    p.addNr s3, t2, t5
    p.addNr s4, t3, t5
    p.addNr s5, t3, t5
    p.addNr s6, t3, t5
    p.addNr s7, t3, t5
    p.addNr s8, a4, t5
    p.addNr s9, a4, t5
    p.addNr s10, a4, t5
    p.addNr s11, a4, t5
    p.addNr a0, a5, t5
    p.addNr a1, a5, t5
    p.addNr a2, a5, t5
    p.addNr a3, a5, t5
    p.clip\V s0, s0, 8
    p.clip\V s1, s1, 8
    p.clip\V s2, s2, 8
    p.clip\V s3, s3, 8
    p.clip\V s4, s4, 8
    lw    t2, 152(sp)             # 4 - 3N
    p.clip\V s5, s5, 8
    p.clip\V s6, s6, 8
    p.clip\V s7, s7, 8
    p.clip\V s8, s8, 8
    p.clip\V s9, s9, 8
    p.clip\V s10, s10, 8
    p.clip\V s11, s11, 8
    p.clip\V a0, a0, 8
    p.clip\V a1, a1, 8
    p.clip\V a2, a2, 8
    p.clip\V a3, a3, 8
    pv.packlo.b s0, s4, s0        # pixel i: bytes n, n+1 ...
    pv.packlo.b s1, s5, s1
    pv.packlo.b s2, s6, s2
    pv.packlo.b s3, s7, s3
    pv.packhi.b s0, a0, s8        # ... n+2, n+3
    pv.packhi.b s1, a1, s9
    pv.packhi.b s2, a2, s10
    pv.packhi.b s3, a3, s11
    sub   t4, t4, a7              # pixel pointer back to word 0
    sub   t6, t6, t0
    addi  t6, t6, 4               # weights: + 3K, next channel quad
    p.sw  s0, tp(ra!)
    p.sw  s1, tp(ra!)
    p.sw  s2, tp(ra!)
.Lpw4_end_\V:
    p.sw  s3, t2(ra!)
    .option pop
.Lpw4_out_\V:
    lw    ra, 156(sp)
    lw    gp, 140(sp)
    lw    tp, 144(sp)
    lw    t1, 176(sp)
    lw    t2, 180(sp)
    lw    t3, 184(sp)
    lw    t4, 188(sp)
    lw    t6, 192(sp)
    ret
    .endr

# The same with the K rotation (K a multiple of 64, kc != 0): dot products from word kc to K/4 - 1
# (first one peeled), then 0 .. kc - 1; the pixel pointer stays at word kc between quads.
    .irp V, i, ui
.Lpw4r_\V:
    sw    ra, 156(sp)
    sw    gp, 140(sp)
    sw    tp, 144(sp)
    beqz  a0, .Lpw4r_out_\V
    mv    t6, a1
    mv    gp, a2
    mv    ra, a3
    lw    tp, 76(sp)              # N: output pixel stride
    lw    a4, 132(sp)             # 4 kc: start at word kc
    add   t4, t4, a4
    add   t6, t6, a4
    .option push
    .option norvc
    lp.setup 1, a0, .Lpw4r_end_\V
    p.lw  a4, a7(t4!)             # pixels m .. m+3, word k (one pointer, strides K, K, K, 4-3K)
    p.lw  a5, a7(t4!)
    p.lw  a6, a7(t4!)
    p.lw  t2, a7(t6!)             # weights of channel n, word k
    p.lw  t1, t0(t4!)
    pv.dotsp.b  s0, t2, a4
    p.lw  t3, a7(t6!)             # n + 1
    pv.dotsp.b  s1, t2, a5
    pv.dotsp.b  s2, t2, a6
    pv.dotsp.b  s3, t2, t1
    p.lw  t2, a7(t6!)             # n + 2
    pv.dotsp.b  s4, t3, a4
    pv.dotsp.b  s5, t3, a5
    pv.dotsp.b  s6, t3, a6
    pv.dotsp.b  s7, t3, t1
    p.lw  t3, t0(t6!)             # n + 3, pointer back to channel n, word k + 1
    pv.dotsp.b  s8, t2, a4
    pv.dotsp.b  s9, t2, a5
    pv.dotsp.b  s10, t2, a6
    pv.dotsp.b  s11, t2, t1
    pv.dotsp.b  a0, t3, a4
    lw    a4, 196(sp)             # K/4 - kc - 1
    pv.dotsp.b  a1, t3, a5
    pv.dotsp.b  a2, t3, a6
    pv.dotsp.b  a3, t3, t1
    lp.setup 0, a4, .Lpw4r_k_\V
    p.lw  a4, a7(t4!)             # pixels m .. m+3, word k (one pointer, strides K, K, K, 4-3K)
    p.lw  a5, a7(t4!)
    p.lw  a6, a7(t4!)
    p.lw  t2, a7(t6!)             # weights of channel n, word k
    p.lw  t1, t0(t4!)
    pv.sdotsp.b s0, t2, a4
    p.lw  t3, a7(t6!)             # n + 1
    pv.sdotsp.b s1, t2, a5
    pv.sdotsp.b s2, t2, a6
    pv.sdotsp.b s3, t2, t1
    p.lw  t2, a7(t6!)             # n + 2
    pv.sdotsp.b s4, t3, a4
    pv.sdotsp.b s5, t3, a5
    pv.sdotsp.b s6, t3, a6
    pv.sdotsp.b s7, t3, t1
    p.lw  t3, t0(t6!)             # n + 3, pointer back to channel n, word k + 1
    pv.sdotsp.b s8, t2, a4
    pv.sdotsp.b s9, t2, a5
    pv.sdotsp.b s10, t2, a6
    pv.sdotsp.b s11, t2, t1
    pv.sdotsp.b a0, t3, a4
    pv.sdotsp.b a1, t3, a5
    pv.sdotsp.b a2, t3, a6
.Lpw4r_k_\V:
    pv.sdotsp.b a3, t3, t1
    lw    a4, 124(sp)             # kc
    sub   t4, t4, a7              # words 0 .. kc - 1
    sub   t6, t6, a7
    lp.setup 0, a4, .Lpw4r_k2_\V
    p.lw  a4, a7(t4!)             # pixels m .. m+3, word k (one pointer, strides K, K, K, 4-3K)
    p.lw  a5, a7(t4!)
    p.lw  a6, a7(t4!)
    p.lw  t2, a7(t6!)             # weights of channel n, word k
    p.lw  t1, t0(t4!)
    pv.sdotsp.b s0, t2, a4
    p.lw  t3, a7(t6!)             # n + 1
    pv.sdotsp.b s1, t2, a5
    pv.sdotsp.b s2, t2, a6
    pv.sdotsp.b s3, t2, t1
    p.lw  t2, a7(t6!)             # n + 2
    pv.sdotsp.b s4, t3, a4
    pv.sdotsp.b s5, t3, a5
    pv.sdotsp.b s6, t3, a6
    pv.sdotsp.b s7, t3, t1
    p.lw  t3, t0(t6!)             # n + 3, pointer back to channel n, word k + 1
    pv.sdotsp.b s8, t2, a4
    pv.sdotsp.b s9, t2, a5
    pv.sdotsp.b s10, t2, a6
    pv.sdotsp.b s11, t2, t1
    pv.sdotsp.b a0, t3, a4
    pv.sdotsp.b a1, t3, a5
    pv.sdotsp.b a2, t3, a6
.Lpw4r_k2_\V:
    pv.sdotsp.b a3, t3, t1
    p.lw  t2, 4(gp!)              # bias n .. n+3
    p.lw  t3, 4(gp!)
    p.lw  a4, 4(gp!)
    p.addNr s0, t2, t5
    p.lw  a5, 4(gp!)
    p.addNr s1, t2, t5
    p.addNr s2, t2, t5
    p.addNr s3, t2, t5
    p.addNr s4, t3, t5
    p.addNr s5, t3, t5
    p.addNr s6, t3, t5
    p.addNr s7, t3, t5
    p.addNr s8, a4, t5
    p.addNr s9, a4, t5
    p.addNr s10, a4, t5
    p.addNr s11, a4, t5
    p.addNr a0, a5, t5
    p.addNr a1, a5, t5
    p.addNr a2, a5, t5
    p.addNr a3, a5, t5
    p.clip\V s0, s0, 8
    p.clip\V s1, s1, 8
    p.clip\V s2, s2, 8
    p.clip\V s3, s3, 8
    p.clip\V s4, s4, 8
    lw    t2, 152(sp)             # 4 - 3N
    p.clip\V s5, s5, 8
    p.clip\V s6, s6, 8
    p.clip\V s7, s7, 8
    p.clip\V s8, s8, 8
    p.clip\V s9, s9, 8
    p.clip\V s10, s10, 8
    p.clip\V s11, s11, 8
    p.clip\V a0, a0, 8
    p.clip\V a1, a1, 8
    p.clip\V a2, a2, 8
    p.clip\V a3, a3, 8
    pv.packlo.b s0, s4, s0        # pixel i: bytes n, n+1 ...
    pv.packlo.b s1, s5, s1
    pv.packlo.b s2, s6, s2
    pv.packlo.b s3, s7, s3
    pv.packhi.b s0, a0, s8        # ... n+2, n+3
    pv.packhi.b s1, a1, s9
    pv.packhi.b s2, a2, s10
    pv.packhi.b s3, a3, s11
    sub   t6, t6, t0
    addi  t6, t6, 4
    add   t6, t6, a7              # weights: + 4K, next channel quad, word kc
    p.sw  s0, tp(ra!)
    p.sw  s1, tp(ra!)
    p.sw  s2, tp(ra!)
.Lpw4r_end_\V:
    p.sw  s3, t2(ra!)
    .option pop
.Lpw4r_out_\V:
    lw    ra, 156(sp)
    lw    gp, 140(sp)
    lw    tp, 144(sp)
    lw    t1, 176(sp)
    lw    t2, 180(sp)
    lw    t3, 184(sp)
    lw    t4, 188(sp)
    lw    t6, 192(sp)
    ret
    .endr

.Lpw_chan:                        # N % 4 leftover channels: 1 channel x 2 pixels
    lw    a6, 84(sp)
    beqz  a6, .Lpw_pair
.Lpw_ch:
    p.lw  s0, 4(a3!)
    mv    s1, s0
    beqz  t3, .Lpw_c_nok
    .option push
    .option norvc
    lp.setup 0, t3, .Lpw_c_end
    p.lw  s10, 4(a2!)
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    pv.sdotsp.b s0, s10, s8
.Lpw_c_end:
    pv.sdotsp.b s1, s10, s9
    .option pop
.Lpw_c_nok:
    beqz  t4, 1f
    p.lw  s10, 4(a2!)
    p.lw  s8, 4(a0!)
    p.lw  s9, 4(a1!)
    and   s8, s8, t4
    and   s9, s9, t4
    pv.sdotsp.b s0, s10, s8
    pv.sdotsp.b s1, s10, s9
1:  sra   s0, s0, t5
    sra   s1, s1, t5
    p.clipi s0, s0, 8
    p.clipi s1, s1, 8
    p.max s0, s0, t6
    p.max s1, s1, t6
    p.sb  s0, 1(a4!)
    p.sb  s1, 1(a5!)
    sub   a0, a0, t2
    sub   a1, a1, t2
    sub   a2, a2, t2              # weights of the next channel
    add   a2, a2, a7
    addi  a6, a6, -1
    bnez  a6, .Lpw_ch
    j     .Lpw_pair

.Lpw_done:
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
    addi  sp, sp, 208
    ret
