"""CV32E40P (RI5CY, pulp-platform astral-v1.0) instruction timing, keyed by timing class.

Cycle-exact against the RTL-measured calibration suite (``shared/calibration/cv32e40p``) for
zero-wait-state memory.  An instruction costs ``base + stalls`` cycles, where

* ``base`` depends on its class (``isa.spec.ICLASSES``) and dynamic facts: taken branch 3
  (+1 to a 32-bit target at 4n+2), jal/jalr 2 (+1 likewise), mulh* 5, div/rem
  3 + clz(divisor) (negative divisor of a signed division 2 + clz(~d); divisor 0: 35),
  misaligned word / word-crossing half-word 2, CSR 4 for the "status" CSRs (``isa.csr``) else 1,
  fence / fence.i 4 (+1 if the next instruction is 32-bit at 4n+2), p.elw 4;
* ``stalls`` come from the previous instructions (hazard state in ``CoreState.hz``):
  load-use +1 (the loaded register read in any operand, incl. store data and accumulators);
  load write-after-write +1 (the next instruction writes the loaded register through the ALU
  port: any ALU/mul/CSR result, a jal/jalr link, a post-increment base update); jalr whose rs1
  was written by the previous instruction +1 (not when written by the link of a jal/jalr; when
  it was loaded, on top of the load-use stall), loaded two instructions earlier +1, or equal to
  its rd +1; a jal/jalr directly
  after a multi-cycle instruction or after a load whose destination is its link register costs
  one cycle less (the jump bubble hides behind the stall) unless the jalr reads that result.

Approximated (not covered by the RTL calibration): trap entry (ecall, ebreak, illegal
instruction with a handler) costs 4 cycles like a pipeline flush to mtvec; mret costs as a jump.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from isa.csr import SLOW_CSRS
from isa.spec import ICLASSES
from isa.semantics import clz32

IC = {name: i for i, name in enumerate(ICLASSES)}
IC_ALU = IC["alu"]
IC_MUL = IC["mul"]
IC_MULH = IC["mulh"]
IC_DIV = IC["div"]
IC_LOAD = IC["load"]
IC_STORE = IC["store"]
IC_BRANCH = IC["branch"]
IC_JAL = IC["jal"]
IC_JALR = IC["jalr"]
IC_CSR = IC["csr"]
IC_FENCE = IC["fence"]
IC_HWLOOP = IC["hwloop"]
IC_ELW = IC["elw"]
IC_SYSTEM = IC["system"]

#: Base cost of each class when nothing dynamic applies (see module docstring).
BASE_CYCLES = {
    "alu": 1, "mul": 1, "mulh": 5, "div": 3, "load": 1, "store": 1, "branch": 1, "jal": 2,
    "jalr": 2, "csr": 1, "fence": 4, "hwloop": 1, "elw": 4, "system": 1,
}
assert set(BASE_CYCLES) == set(ICLASSES), "timing table must cover every instruction class"
BASE_CYCLES_ARRAY = np.array([BASE_CYCLES[n] for n in ICLASSES], np.int64)

TAKEN_BRANCH_CYCLES = 3
SLOW_CSR_CYCLES = 4
DIV_BY_ZERO_CYCLES = 35
TRAP_ENTRY_CYCLES = 4      # approximated, see module docstring
MRET_CYCLES = 2            # approximated as a jump

#: 1 for CSR numbers whose access takes ``SLOW_CSR_CYCLES``.
SLOW_CSR_TABLE = np.zeros(4096, np.int64)
for _n in SLOW_CSRS:
    SLOW_CSR_TABLE[_n] = 1


@njit(cache=True)
def div_cycles(divisor: int, signed: bool) -> int:
    """Cycles of a div/rem (``signed``) or divu/remu with the given divisor."""
    d = divisor & 0xFFFFFFFF
    if d == 0:
        return DIV_BY_ZERO_CYCLES
    if signed and d >= 0x80000000:
        return 2 + clz32(~d)
    return 3 + clz32(d)


@njit(cache=True)
def is_misaligned(addr: int, size: int) -> int:
    """1 if the access needs two bus transactions (word not word-aligned, half-word crossing)."""
    if size == 4:
        return 1 if addr & 3 else 0
    if size == 2:
        return 1 if (addr & 3) == 3 else 0
    return 0


@njit(cache=True)
def load_stall(loaded: int, ic: int, rmask: int, wmask: int, rd: int, rs1: int, rs2: int,
               rs3: int) -> int:
    """Stall of an instruction right after a load into register ``loaded`` (0: none).

    Returns 1 for a load-use stall (the loaded register is read in any operand), 2 for a
    write-after-write stall (it is written through the ALU port: not by another load), else 0.
    ``rmask``/``wmask`` are the instruction's read/write slot masks (``isa.tables.exec_info``).
    """
    if loaded == 0:
        return 0
    if (((rmask & 1) != 0 and rd == loaded) or ((rmask & 2) != 0 and rs1 == loaded)
            or ((rmask & 4) != 0 and rs2 == loaded) or ((rmask & 8) != 0 and rs3 == loaded)):
        return 1
    if (((wmask & 1) != 0 and rd == loaded and ic != IC_LOAD and ic != IC_ELW)
            or ((wmask & 2) != 0 and rs1 == loaded)):
        return 2
    return 0
