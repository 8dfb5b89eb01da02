/*
 * crt0.S -- start-up code of cluster programs (prepended by soc.runtime.cluster_program).
 *
 * Every core boots at _start (PULP boot), takes its id from mhartid, gets its own stack
 * (STACK_BYTES each, downwards from _stack_top), enables its performance counters and calls
 *     int main(int core_id, int n_cores)
 * Core 0 then reports main's return value through the end-of-computation register; the other
 * cores sleep on the event unit (they are expected to have met core 0 at a barrier first).
 *
 * Runtime routines (standard calling convention; they clobber t0 and a0 only):
 *     rt_barrier()             all cores of the team meet (hardware barrier, p.elw)
 *     rt_wait_event(mask)      sleep until one of the events in mask, return and clear them
 *     rt_dma_start(dst, src, bytes)   start a 1-D DMA transfer (completion event to this core)
 *     rt_dma_wait()            sleep until a DMA transfer of this core completes
 *     rt_dma_copy(dst, src, bytes)    rt_dma_start + rt_dma_wait
 */
    .equ PERIPH_BASE,   0x10200000
    .equ EOC_REG,       PERIPH_BASE + 0x0000
    .equ TIMER_BASE,    PERIPH_BASE + 0x0400
    .equ EU_BASE,       PERIPH_BASE + 0x0800
    .equ DMA_BASE,      PERIPH_BASE + 0x1800
    .equ EU_MASK,       0x00
    .equ EU_BUFFER,     0x04
    .equ EU_CLEAR,      0x08
    .equ EU_WAIT,       0x0C
    .equ EU_SW_EVENT,   0x10
    .equ EU_BARRIER,    0x14
    .equ EU_TEAM,       0x18
    .equ EVT_SW,        1
    .equ EVT_DMA,       2
    .equ EVT_TIMER,     32
    .equ STACK_BYTES,   2048

    .section .text.init, "ax"
    .globl _start
_start:
    csrr  a0, mhartid
    la    sp, _stack_top
    li    t0, STACK_BYTES
    mul   t0, t0, a0
    sub   sp, sp, t0
    csrw  mcountinhibit, zero
    li    a1, NCORES
    call  main
    csrr  t0, mhartid
    bnez  t0, 1f
    li    t0, EOC_REG
    sw    a0, 0(t0)
1:  li    t0, EU_BASE
    sw    zero, EU_MASK(t0)
2:  p.elw zero, EU_WAIT(t0)
    j     2b

    .text
    .globl rt_barrier
rt_barrier:
    li    t0, EU_BASE
    p.elw zero, EU_BARRIER(t0)
    ret

    .globl rt_wait_event
rt_wait_event:
    li    t0, EU_BASE
    sw    a0, EU_MASK(t0)
    p.elw a0, EU_WAIT(t0)
    ret

    .globl rt_dma_start
rt_dma_start:
    li    t0, DMA_BASE
    sw    a1, 0x00(t0)            # SRC
    sw    a0, 0x04(t0)            # DST
    sw    a2, 0x08(t0)            # LEN
    sw    zero, 0x0C(t0)          # strides: LEN (1-D)
    sw    zero, 0x10(t0)
    li    a0, 1
    sw    a0, 0x14(t0)            # ROWS
    sw    zero, 0x18(t0)          # START, completion event to this core
    ret

    .globl rt_dma_wait
rt_dma_wait:
    li    t0, EU_BASE
    li    a0, EVT_DMA
    sw    a0, EU_MASK(t0)
    p.elw a0, EU_WAIT(t0)
    ret

    .globl rt_dma_copy
rt_dma_copy:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    call  rt_dma_start
    call  rt_dma_wait
    lw    ra, 12(sp)
    addi  sp, sp, 16
    ret
