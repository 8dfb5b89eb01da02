/*
 * hal_dw.S -- programming the depthwise (DW) accelerator from RISC-V code (linked after
 * crt0.S and hal_ima.S by soc.runtime.cluster_program).  Register map: soc/dw_device.py and
 * docs/dw_accel.md.
 *
 *     dw_acquire() -> register window address, once the register file is ours (spins on
 *                     ACQUIRE)
 *     dw_run(job)     acquire, copy the 14 job words at `job` (the order of the job registers
 *                     IN, OUT, WEIGHTS, BIAS, H, W, C, KSIZE, STRIDE, PAD, SHIFT, RELU,
 *                     IN_ROW_STRIDE, OUT_ROW_STRIDE; offsets 0x20..0x54) and TRIGGER
 *     dw_wait()       sleep until a DW job finishes (event EVT_DW)
 * Standard calling convention; they clobber t0-t2 and a0-a1 only.
 */
    .equ DW_BASE,         PERIPH_BASE + 0x1000
    .equ DW_TRIGGER,      0x00
    .equ DW_ACQUIRE,      0x04
    .equ DW_FINISHED,     0x08
    .equ DW_STATUS,       0x0C
    .equ DW_JOB,          0x20
    .equ DW_JOB_WORDS,    14
    .equ EVT_DW,          8

    .text
    .globl dw_acquire
dw_acquire:
    li    a0, DW_BASE
1:  lw    t0, DW_ACQUIRE(a0)
    bnez  t0, 1b
    ret

    .globl dw_run
dw_run:
    mv    a1, a0
    li    a0, DW_BASE
1:  lw    t0, DW_ACQUIRE(a0)
    bnez  t0, 1b
    addi  t1, a0, DW_JOB
    li    t2, DW_JOB_WORDS
2:  lw    t0, 0(a1)
    sw    t0, 0(t1)
    addi  a1, a1, 4
    addi  t1, t1, 4
    addi  t2, t2, -1
    bnez  t2, 2b
    sw    zero, DW_TRIGGER(a0)
    ret

    .globl dw_wait
dw_wait:
    li    t0, EU_BASE
    li    a0, EVT_DW
    sw    a0, EU_MASK(t0)
    p.elw a0, EU_WAIT(t0)
    ret
