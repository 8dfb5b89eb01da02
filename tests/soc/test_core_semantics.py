"""RV32IM semantics edge cases executed on the core, with the values the ISA manual defines."""
from __future__ import annotations

import pytest

from isa.assembler import assemble
from soc.iss import Core

TAIL = """
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b
    .data
    .balign 4
word:
    .word 0x8081f0ff
    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
"""


def result_of(body: str) -> int:
    """Run ``body`` (which leaves its result in a0) and return a0 as unsigned 32-bit."""
    core = Core(assemble("    .text\n    .globl _start\n_start:\n" + body + TAIL, filename="s.S"))
    result = core.run(max_cycles=10_000)
    assert result.ok, result.message
    return int(core.state.x[0][10]) & 0xFFFFFFFF


M = 0xFFFFFFFF


@pytest.mark.parametrize("body,expected", [
    # division corner cases (RISC-V spec table 7.1)
    ("li a1, 0x80000000\n    li a2, -1\n    div a0, a1, a2", 0x80000000),   # overflow
    ("li a1, 0x80000000\n    li a2, -1\n    rem a0, a1, a2", 0),
    ("li a1, 7\n    div a0, a1, zero", M),                                  # / 0 -> -1
    ("li a1, 7\n    divu a0, a1, zero", M),
    ("li a1, -7\n    rem a0, a1, zero", (-7) & M),                          # % 0 -> dividend
    ("li a1, -7\n    remu a0, a1, zero", (-7) & M),
    ("li a1, -7\n    li a2, 2\n    div a0, a1, a2", (-3) & M),              # rounds toward 0
    ("li a1, -7\n    li a2, 2\n    rem a0, a1, a2", (-1) & M),              # sign of dividend
    # multiplication upper halves
    ("li a1, -1\n    li a2, -1\n    mulh a0, a1, a2", 0),
    ("li a1, -1\n    li a2, -1\n    mulhu a0, a1, a2", 0xFFFFFFFE),
    ("li a1, -1\n    li a2, -1\n    mulhsu a0, a1, a2", M),
    ("li a1, 0x80000000\n    li a2, 0x80000000\n    mulh a0, a1, a2", 0x40000000),
    # shifts use the low 5 bits of rs2
    ("li a1, 0x12345678\n    li a2, 32\n    sll a0, a1, a2", 0x12345678),
    ("li a1, 0x12345678\n    li a2, 33\n    sll a0, a1, a2", 0x2468ACF0),
    ("li a1, 0x80000000\n    li a2, 31\n    sra a0, a1, a2", M),
    ("li a1, 0x80000000\n    li a2, 63\n    srl a0, a1, a2", 1),
    ("li a1, 0x80000000\n    srai a0, a1, 4", 0xF8000000),
    # sign and zero extension of loads
    ("la a1, word\n    lb a0, 0(a1)", M),                 # 0xff
    ("la a1, word\n    lbu a0, 0(a1)", 0xFF),
    ("la a1, word\n    lh a0, 2(a1)", 0xFFFF8081),
    ("la a1, word\n    lhu a0, 2(a1)", 0x8081),
    ("la a1, word\n    lh a0, 1(a1)", 0xFFFF81F0),        # misaligned within the word
    # comparisons signed vs unsigned
    ("li a1, -1\n    li a2, 1\n    slt a0, a1, a2", 1),
    ("li a1, -1\n    li a2, 1\n    sltu a0, a1, a2", 0),
    ("li a1, 5\n    sltiu a0, a1, -1", 1),                 # imm sign-extended, compared unsigned
    # x0 stays zero
    ("li a0, 5\n    addi zero, a0, 1\n    mv a0, zero", 0),
    # auipc / lui wrap
    ("lui a0, 0xfffff\n    addi a0, a0, -1", 0xFFFFEFFF),
])
def test_rv32im_edge_cases(body, expected):
    assert result_of("    " + body) == expected
