"""Traps through mtvec, mret, and the CSR file's functional behaviour."""
from __future__ import annotations

from isa.assembler import assemble
from soc.iss import Core

PROLOGUE = """
    .text
    .globl _start
_start:
    la   t0, handler
    csrw mtvec, t0
"""
EPILOGUE = """
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b
    .balign 256
handler:                      # count traps, record cause/epc, skip the trapping instruction
    addi s0, s0, 1
    csrr s1, mcause
    csrr s2, mepc
    csrr s3, mstatus
    addi t6, s2, 4
    csrw mepc, t6
    mret
    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
"""


def _run(body: str) -> Core:
    core = Core(assemble(PROLOGUE + body + EPILOGUE, filename="trap.S"))
    result = core.run(max_cycles=100_000)
    assert result.ok, result.message
    return core


def _reg(core: Core, n: int) -> int:
    return int(core.state.x[0][n]) & 0xFFFFFFFF


def test_ecall_traps_to_handler_and_mret_returns():
    core = _run("    .option norvc\nlabel:\n    ecall\n    addi a0, zero, 42\n")
    assert _reg(core, 8) == 1                    # s0: one trap
    assert _reg(core, 9) == 11                   # s1: mcause = environment call from M-mode
    assert _reg(core, 18) == core.image.symbols["label"]  # s2: mepc = the ecall
    assert _reg(core, 19) & 0x1880 == 0x1800     # in the handler: MPP = M, MPIE = old MIE (0)
    assert _reg(core, 10) == 42                  # execution resumed after the ecall
    assert core.state.cnt[0].sum() > 0


def test_illegal_instruction_and_ebreak_causes():
    core = _run("    .option norvc\n    .word 0xffffffff\n    mv a1, s1\n    ebreak\n")
    assert _reg(core, 8) == 2
    assert _reg(core, 11) == 2                   # a1: mcause of the illegal instruction
    assert _reg(core, 9) == 3                    # s1: mcause of ebreak (breakpoint)


def test_unknown_csr_is_illegal():
    core = _run("    .option norvc\n    csrr a0, 0x7ff\n")
    assert _reg(core, 9) == 2


def test_write_to_read_only_csr_is_illegal():
    core = _run("    .option norvc\n    csrw mhartid, a0\n")
    assert _reg(core, 9) == 2


def test_csr_functional_values():
    body = """
    csrr a0, misa
    csrr a1, mhartid
    li   t0, 0xffffffff
    csrw mstatus, t0
    csrr a2, mstatus
    csrw mepc, t0
    csrr a3, mepc
    csrw mscratch, t0
    csrrc a4, mscratch, t0
    csrr a5, mscratch
"""
    core = _run(body)
    assert _reg(core, 10) == 0x40801104          # RV32 + I M C X
    assert _reg(core, 11) == 0
    assert _reg(core, 12) == 0x21899             # only MIE/UIE/MPIE/UPIE/MPP/MPRV are kept
    assert _reg(core, 13) == 0xFFFFFFFE          # mepc bit 0 reads 0
    assert _reg(core, 14) == 0xFFFFFFFF and _reg(core, 15) == 0


def test_hardware_loop_csrs_read_back():
    body = """
    .option norvc
    lp.counti 1, 9
    csrr a0, 0x806
    lp.starti 0, lstart
    csrr a1, 0x800
lstart:
    nop
"""
    core = _run(body)
    assert _reg(core, 10) == 9
    assert _reg(core, 11) == core.image.symbols["lstart"]
