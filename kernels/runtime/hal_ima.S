/*
 * hal_ima.S -- programming the IMA from RISC-V code (linked after crt0.S by
 * soc.runtime.cluster_program).  Register map: soc/ima_device.py and docs/ima.md.
 *
 *     ima_regs(array) -> address of crossbar `array`'s register window
 *     ima_acquire(array) -> window address, once the register file is ours (spins on ACQUIRE)
 *     ima_run(array, job)   acquire, copy the 19 job words at `job` (the order of the job
 *                           registers SRC .. DST_ROW_STRIDE, offsets 0x20..0x68) and TRIGGER
 *     ima_wait()            sleep until an IMA chain finishes (event EVT_HWPE)
 *     ima_write_weights(array, row, col, ncols, words, n)   program a weight block: W_COL =
 *                           col, W_NCOLS = ncols, W_ROW = row, then n W_DATA writes from
 *                           `words` (each: 8 signed 4-bit weights, weight k in bits 4k..4k+3;
 *                           a row of the block takes ceil(ncols / 8) words)
 * Standard calling convention; they clobber t0-t2 and a0-a5 only.
 */
    .equ IMA_BASE,        PERIPH_BASE + 0x4000
    .equ IMA_STRIDE,      0x100
    .equ IMA_TRIGGER,     0x00
    .equ IMA_ACQUIRE,     0x04
    .equ IMA_FINISHED,    0x08
    .equ IMA_STATUS,      0x0C
    .equ IMA_JOB,         0x20
    .equ IMA_JOB_WORDS,   19
    .equ IMA_W_ROW,       0x70
    .equ IMA_W_COL,       0x74
    .equ IMA_W_DATA,      0x78
    .equ IMA_W_NCOLS,     0x7C
    .equ EVT_HWPE,        4

    .text
    .globl ima_regs
ima_regs:
    slli  a0, a0, 8
    li    t0, IMA_BASE
    add   a0, a0, t0
    ret

    .globl ima_acquire
ima_acquire:
    slli  a0, a0, 8
    li    t0, IMA_BASE
    add   a0, a0, t0
1:  lw    t0, IMA_ACQUIRE(a0)
    bnez  t0, 1b
    ret

    .globl ima_run
ima_run:
    slli  a0, a0, 8
    li    t0, IMA_BASE
    add   a0, a0, t0
1:  lw    t0, IMA_ACQUIRE(a0)
    bnez  t0, 1b
    addi  t1, a0, IMA_JOB
    li    t2, IMA_JOB_WORDS
2:  lw    t0, 0(a1)
    sw    t0, 0(t1)
    addi  a1, a1, 4
    addi  t1, t1, 4
    addi  t2, t2, -1
    bnez  t2, 2b
    sw    zero, IMA_TRIGGER(a0)
    ret

    .globl ima_wait
ima_wait:
    li    t0, EU_BASE
    li    a0, EVT_HWPE
    sw    a0, EU_MASK(t0)
    p.elw a0, EU_WAIT(t0)
    ret

    .globl ima_write_weights
ima_write_weights:
    slli  a0, a0, 8
    li    t0, IMA_BASE
    add   a0, a0, t0
    sw    a2, IMA_W_COL(a0)
    sw    a3, IMA_W_NCOLS(a0)
    sw    a1, IMA_W_ROW(a0)
    beqz  a5, 2f
1:  lw    t0, 0(a4)
    sw    t0, IMA_W_DATA(a0)
    addi  a4, a4, 4
    addi  a5, a5, -1
    bnez  a5, 1b
2:  ret
