/*
 * matmul_int8_par.S -- C[M][N] (int32) = A[M][K] (int8) x B[N][K]^T (int8), rows split over the
 * cluster's cores (core c computes rows c, c + NCORES, ...), then a barrier.
 * Inner product: hardware loop over K/4 with post-increment loads and pv.sdotsp.b.
 * Linked with kernels/runtime/crt0.S (soc.runtime.cluster_program); the including program
 * defines M, N, K (K a multiple of 4) and the arrays mat_a, mat_bt (int8) and mat_c (int32).
 */
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    sw    s0, 8(sp)
    sw    s1, 4(sp)
    mv    s0, a0                  # row i = core id
    mv    s1, a1                  # row step = number of cores
.Lrow:
    li    t0, M
    bge   s0, t0, .Ldone
    la    a2, mat_a               # a2 = &A[i][0]
    li    t0, K
    mul   t1, s0, t0
    add   a2, a2, t1
    la    a3, mat_c               # a3 = &C[i][0]
    li    t0, N * 4
    mul   t1, s0, t0
    add   a3, a3, t1
    la    a4, mat_bt              # a4 walks B^T row by row
    li    a5, N
.Lcol:
    mv    a6, a2
    li    a7, 0
    li    t2, K / 4
    lp.setup 0, t2, .Lk_end
    p.lw  t3, 4(a6!)
    p.lw  t4, 4(a4!)
.Lk_end:
    pv.sdotsp.b a7, t3, t4
    p.sw  a7, 4(a3!)
    addi  a5, a5, -1
    bnez  a5, .Lcol
    add   s0, s0, s1
    j     .Lrow
.Ldone:
    call  rt_barrier
    lw    ra, 12(sp)
    lw    s0, 8(sp)
    lw    s1, 4(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
