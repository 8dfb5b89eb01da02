"""CV32E40P timing rules, one instruction class at a time, with hand-derived cycle counts.

Each case measures a code snippet with two ``csrr mcycle`` reads (as the RTL calibration
programs do): body cycles = delta - 4 (the first csrr is a 4-cycle status-CSR access).
"""
from __future__ import annotations

import pytest

from isa.assembler import assemble
from soc.iss import Core

TEMPLATE = """
    .text
    .globl _start
_start:
    csrw mcountinhibit, zero
    la   a0, buf
    li   a1, 7
    li   a2, -3
    li   a3, 1
{setup}
    .balign 4
    csrr s10, mcycle
{body}
    csrr t5, mcycle
    sub  t5, t5, s10
    la   t4, result
    sw   t5, 0(t4)
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b
{tail}
    .data
    .balign 16
buf:
    .word 0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00
result:
    .word 0
    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
"""


def body_cycles(body: str, setup: str = "", tail: str = "") -> int:
    """Cycles spent in ``body`` (assembled with ``.option norvc`` unless it says otherwise)."""
    src = TEMPLATE.format(setup=setup, tail=tail,
                          body="    .option push\n    .option norvc\n" + body
                          + "\n    .option pop")
    image = assemble(src, filename="timing.S")
    core = Core(image)
    result = core.run(max_cycles=100_000)
    assert result.ok, result.message
    delta = core.read_u32(image.symbols["result"])
    return delta - 4


@pytest.mark.parametrize("body,cycles", [
    ("    add t0, a1, a2\n    add t0, t0, t0\n    add t0, t0, t0", 3),     # dependent ALU: 1 each
    ("    lui t0, 0x12345\n    auipc t1, 0", 2),
    ("    mul t0, a1, a2", 1),
    ("    mulh t0, a1, a2", 5),
    ("    mulhsu t0, a1, a2", 5),
    ("    mulhu t0, a1, a2", 5),
    ("    div t0, a1, a1", 3 + 29),        # divisor 7: 3 + clz(7) = 3 + 29
    ("    divu t0, a1, a3", 3 + 31),       # divisor 1
    ("    rem t0, a1, zero", 35),          # divide by zero
    ("    div t0, a1, a2", 2 + 30),        # negative divisor -3: 2 + clz(~-3 = 2) = 2 + 30
    ("    divu t0, a1, a2", 3 + 0),        # unsigned 0xfffffffd: clz = 0
])
def test_alu_mul_div(body, cycles):
    assert body_cycles(body) == cycles


@pytest.mark.parametrize("body,cycles", [
    ("    lw t0, 0(a0)\n    addi t1, a1, 1", 2),            # no dependency
    ("    lw t0, 0(a0)\n    addi t1, t0, 1", 3),            # load-use on rs1
    ("    lw t0, 0(a0)\n    add t1, a1, t0", 3),            # load-use on rs2
    ("    lw t0, 0(a0)\n    sw t0, 4(a0)", 3),              # store data uses the load
    ("    lw t0, 0(a0)\n    addi t1, a1, 1\n    add t2, t0, t0", 3),  # one insn in between
    ("    lw t0, 0(a0)\n    addi t0, a1, 1", 3),            # write-after-write through the ALU
    ("    lw t0, 0(a0)\n    lw t0, 4(a0)", 2),              # WAW through the LSU: no stall
    ("    lw t0, 1(a0)", 2),                                # misaligned word: two transactions
    ("    lh t0, 3(a0)", 2),                                # half-word crossing a word
    ("    lh t0, 1(a0)", 1),                                # misaligned but inside a word
    ("    sw a1, 2(a0)", 2),
])
def test_loads_and_stores(body, cycles):
    assert body_cycles(body) == cycles


def test_post_increment_base_is_usable_at_once():
    body = "    p.lw t0, 4(a0!)\n    lw t1, 0(a0)"
    assert body_cycles(body) == 2


@pytest.mark.parametrize("body,cycles", [
    ("    beq a1, a2, 1f\n1:  nop", 1 + 1),                           # not taken
    ("    bne a1, a2, 1f\n1:  nop", 3 + 1),                           # taken to the next insn
    ("    bne a1, a2, 1f\n    nop\n1:  nop", 3 + 1),                  # taken, aligned target
    ("    bne a1, a2, 1f\n    .option rvc\n    c.nop\n    .option norvc\n1:  nop",
     4 + 1),                                                          # 32-bit target at 4n+2
    ("    bne a1, a2, 1f\n    .option rvc\n    c.nop\n1:  c.nop\n    .option norvc", 3 + 1),
    ("    p.bneimm a1, 5, 1f\n    nop\n1:  nop", 3 + 1),              # XpulpV2 immediate branch
    ("    p.beqimm a1, 5, 1f\n    nop\n1:  nop", 1 + 1 + 1),
])
def test_branches(body, cycles):
    assert body_cycles(body) == cycles


@pytest.mark.parametrize("body,cycles", [
    ("    jal zero, 1f\n    nop\n1:  nop", 2 + 1),
    ("    jal zero, 1f\n    .option rvc\n    c.nop\n    .option norvc\n1:  nop", 3 + 1),
    ("    la t0, 1f\n    jalr zero, 0(t0)\n1:  nop", 2 + 3 + 1),        # rs1 written just before
    ("    la t0, 1f\n    nop\n    jalr zero, 0(t0)\n1:  nop", 3 + 2 + 1),
    ("    la t0, 1f\n    sw t0, 0(a0)\n    lw t1, 0(a0)\n    jalr zero, 0(t1)\n1:  nop",
     2 + 1 + 1 + (2 + 1 + 1) + 1),                                    # load-use + jalr hazard
    ("    la t0, 1f\n    sw t0, 0(a0)\n    lw t1, 0(a0)\n    nop\n    jalr zero, 0(t1)\n1:  nop",
     2 + 1 + 1 + 1 + (2 + 1) + 1),                                    # loaded two insns earlier
    ("    div t0, a1, a1\n    jal zero, 1f\n1:  nop", 32 + 1 + 1),     # jump hides behind div
])
def test_jumps(body, cycles):
    assert body_cycles(body) == cycles


@pytest.mark.parametrize("body,cycles", [
    ("    csrr t0, mscratch", 1),
    ("    csrr t0, mhartid", 1),
    ("    csrr t0, mstatus", 4),
    ("    csrw mepc, a1", 4),
    ("    fence.i", 4),
    ("    fence", 4),
])
def test_csr_and_fence(body, cycles):
    assert body_cycles(body) == cycles


def test_hardware_loop_has_zero_overhead():
    body = """
    lp.setupi 0, 10, 2f
    addi t0, t0, 1
    addi t1, t1, 1
2:  addi t2, t2, 1"""
    assert body_cycles(body) == 1 + 10 * 3


def test_nested_hardware_loops():
    body = """
    li   t3, 4
    lp.setup 1, t3, 3f
    lp.setupi 0, 5, 2f
    addi t0, t0, 1
    addi t1, t1, 1
2:  addi t2, t2, 1
    addi a4, a4, 1
    addi a5, a5, 1
3:  addi a6, a6, 1"""
    # li + outer setup, then per outer iteration: inner setup + 5 * 3 + 3
    assert body_cycles(body) == 2 + 4 * (1 + 15 + 3)


def test_mcycle_counts_only_when_enabled():
    """mcountinhibit resets to all ones on CV32E40P: mcycle stays 0 until software clears it."""
    src = TEMPLATE.format(setup="", tail="", body="    nop")
    src = src.replace("    csrw mcountinhibit, zero\n", "")
    src = src.replace("    csrr s10, mcycle", "    csrr s10, mcycle\n    csrr s11, minstret")
    core = Core(assemble(src, filename="t.S"))
    assert core.run().ok
    x = core.state.x[0]
    assert x[26] == 0 and x[27] == 0    # s10 = mcycle, s11 = minstret before enabling
