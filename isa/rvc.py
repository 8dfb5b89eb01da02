"""RV32C compressed instructions as instruction tables (format: ``isa.spec``).

Every entry is a 16-bit encoding that ``expands`` to a 32-bit instruction of ``isa.rv32i``: the
mapping gives, for each operand slot of the 32-bit instruction, either the slot of the
compressed encoding that supplies it or a constant.  Compressed encodings have no ``sem`` of
their own (the decoder hands the simulator the expanded instruction); ``iclass`` mirrors the
base instruction for documentation only.

Operand conventions
-------------------
* The 3-bit register fields (``rd'``, ``rs1'``, ``rs2'``) are :class:`Operand` with
  ``offset=8`` (they name x8..x15).
* Two-address forms (``c.addi``, ``c.sub``, ``c.slli``, ...) carry the shared register in
  the ``rd`` slot and map the base ``rs1`` to it.
* ``syntax`` may name a fixed register (``sp``) where GNU as writes one (``c.lwsp rd, imm(sp)``);
  such literal registers are not operand slots.
* U-type immediates (``c.lui``) hold the shifted value (``imm`` = nzimm << 12), like ``lui``.

``nonzero`` lists slots whose zero value makes the encoding reserved (or belong to another
instruction, which the decoder then tries).  HINT encodings (``c.addi`` with imm 0, ``c.li``,
``c.lui``, ``c.mv``, ``c.add``, ``c.slli`` with rd = x0, shifts by 0) stay legal: the
CV32E40P compressed decoder executes them as their expansion, which has no architectural
effect.
"""
from __future__ import annotations

from .spec import Instr, Operand

# --- operand layouts (bit positions from the RISC-V unprivileged spec, chapter "C") ---------

RD_FULL = Operand("rd", ((7, 5, 0),))                 # rd / rs1 in bits 11:7
RS1_FULL = Operand("rs1", ((7, 5, 0),))               # c.jr / c.jalr: rs1 in bits 11:7
RS2_FULL = Operand("rs2", ((2, 5, 0),))               # bits 6:2
RD_P_LOW = Operand("rd", ((2, 3, 0),), offset=8)      # rd' in bits 4:2 (CIW, CL)
RS2_P_LOW = Operand("rs2", ((2, 3, 0),), offset=8)    # rs2' in bits 4:2 (CS, CA)
RS1_P_HIGH = Operand("rs1", ((7, 3, 0),), offset=8)   # rs1' in bits 9:7 (CL, CS, CB)
RD_P_HIGH = Operand("rd", ((7, 3, 0),), offset=8)     # rd'/rs1' in bits 9:7 (CA, CB-alu)

IMM_CI = Operand("imm", ((2, 5, 0), (12, 1, 5)), signed=True)          # c.addi, c.li, c.andi
SHAMT_CI = Operand("imm", ((2, 5, 0),))                                 # shamt[5] must be 0
IMM_LUI = Operand("imm", ((2, 5, 12), (12, 1, 17)), signed=True)       # nzimm[17:12]
IMM_ADDI16SP = Operand("imm", ((6, 1, 4), (2, 1, 5), (5, 1, 6), (3, 2, 7), (12, 1, 9)),
                       signed=True)
IMM_ADDI4SPN = Operand("imm", ((6, 1, 2), (5, 1, 3), (11, 2, 4), (7, 4, 6)))
IMM_CLW = Operand("imm", ((6, 1, 2), (10, 3, 3), (5, 1, 6)))            # c.lw / c.sw
IMM_LWSP = Operand("imm", ((4, 3, 2), (12, 1, 5), (2, 2, 6)))
IMM_SWSP = Operand("imm", ((9, 4, 2), (7, 2, 6)))
IMM_CJ = Operand("imm", ((3, 3, 1), (11, 1, 4), (2, 1, 5), (7, 1, 6), (6, 1, 7), (9, 2, 8),
                         (8, 1, 10), (12, 1, 11)), signed=True)
IMM_CB = Operand("imm", ((3, 2, 1), (10, 2, 3), (2, 1, 5), (5, 2, 6), (12, 1, 8)), signed=True)


def _c(name: str, pattern: str, operands: tuple[Operand, ...], syntax: str, base: str,
       mapping: tuple[tuple[str, str | int], ...], iclass: str = "alu",
       nonzero: tuple[str, ...] = ()) -> Instr:
    """One compressed encoding expanding to ``base`` with slot ``mapping``."""
    return Instr(name, "rvc", pattern, operands, syntax, iclass, expands=(base, mapping),
                 nonzero=nonzero)


def _two_addr(base: str) -> tuple[tuple[str, str | int], ...]:
    """Mapping of a CA/CB two-address ALU form ``op rd', rd', x``."""
    imm_or_reg = "rs2" if base in ("sub", "xor", "or", "and") else "imm"
    return (("rd", "rd"), ("rs1", "rd"), (imm_or_reg, imm_or_reg))


RVC: list[Instr] = [
    # ---- quadrant 0 -------------------------------------------------------------------------
    _c("c.addi4spn", "000 -------- --- 00", (RD_P_LOW, IMM_ADDI4SPN), "rd, sp, imm", "addi",
       (("rd", "rd"), ("rs1", 2), ("imm", "imm")), nonzero=("imm",)),
    _c("c.lw", "010 --- --- -- --- 00", (RS1_P_HIGH, RD_P_LOW, IMM_CLW), "rd, imm(rs1)", "lw",
       (("rd", "rd"), ("rs1", "rs1"), ("imm", "imm")), "load"),
    _c("c.sw", "110 --- --- -- --- 00", (RS1_P_HIGH, RS2_P_LOW, IMM_CLW), "rs2, imm(rs1)", "sw",
       (("rs1", "rs1"), ("rs2", "rs2"), ("imm", "imm")), "store"),
    # ---- quadrant 1 -------------------------------------------------------------------------
    _c("c.nop", "000 0 00000 00000 01", (), "", "addi", (("rd", 0), ("rs1", 0), ("imm", 0))),
    _c("c.addi", "000 - ----- ----- 01", (RD_FULL, IMM_CI), "rd, imm", "addi",
       (("rd", "rd"), ("rs1", "rd"), ("imm", "imm"))),
    _c("c.jal", "001 ----------- 01", (IMM_CJ,), "off", "jal", (("rd", 1), ("imm", "imm")), "jal"),
    _c("c.li", "010 - ----- ----- 01", (RD_FULL, IMM_CI), "rd, imm", "addi",
       (("rd", "rd"), ("rs1", 0), ("imm", "imm"))),
    _c("c.addi16sp", "011 - 00010 ----- 01", (IMM_ADDI16SP,), "sp, imm", "addi",
       (("rd", 2), ("rs1", 2), ("imm", "imm")), nonzero=("imm",)),
    _c("c.lui", "011 - ----- ----- 01", (RD_FULL, IMM_LUI), "rd, imm", "lui",
       (("rd", "rd"), ("imm", "imm")), nonzero=("imm",)),
    _c("c.srli", "100 0 00 --- ----- 01", (RD_P_HIGH, SHAMT_CI), "rd, imm", "srli",
       _two_addr("srli")),
    _c("c.srai", "100 0 01 --- ----- 01", (RD_P_HIGH, SHAMT_CI), "rd, imm", "srai",
       _two_addr("srai")),
    _c("c.andi", "100 - 10 --- ----- 01", (RD_P_HIGH, IMM_CI), "rd, imm", "andi",
       _two_addr("andi")),
    _c("c.sub", "100 0 11 --- 00 --- 01", (RD_P_HIGH, RS2_P_LOW), "rd, rs2", "sub",
       _two_addr("sub")),
    _c("c.xor", "100 0 11 --- 01 --- 01", (RD_P_HIGH, RS2_P_LOW), "rd, rs2", "xor",
       _two_addr("xor")),
    _c("c.or", "100 0 11 --- 10 --- 01", (RD_P_HIGH, RS2_P_LOW), "rd, rs2", "or",
       _two_addr("or")),
    _c("c.and", "100 0 11 --- 11 --- 01", (RD_P_HIGH, RS2_P_LOW), "rd, rs2", "and",
       _two_addr("and")),
    _c("c.j", "101 ----------- 01", (IMM_CJ,), "off", "jal", (("rd", 0), ("imm", "imm")), "jal"),
    _c("c.beqz", "110 --- --- ----- 01", (RS1_P_HIGH, IMM_CB), "rs1, off", "beq",
       (("rs1", "rs1"), ("rs2", 0), ("imm", "imm")), "branch"),
    _c("c.bnez", "111 --- --- ----- 01", (RS1_P_HIGH, IMM_CB), "rs1, off", "bne",
       (("rs1", "rs1"), ("rs2", 0), ("imm", "imm")), "branch"),
    # ---- quadrant 2 -------------------------------------------------------------------------
    _c("c.slli", "000 0 ----- ----- 10", (RD_FULL, SHAMT_CI), "rd, imm", "slli",
       (("rd", "rd"), ("rs1", "rd"), ("imm", "imm"))),
    _c("c.lwsp", "010 - ----- ----- 10", (RD_FULL, IMM_LWSP), "rd, imm(sp)", "lw",
       (("rd", "rd"), ("rs1", 2), ("imm", "imm")), "load", nonzero=("rd",)),
    _c("c.jr", "100 0 ----- 00000 10", (RS1_FULL,), "rs1", "jalr",
       (("rd", 0), ("rs1", "rs1"), ("imm", 0)), "jalr", nonzero=("rs1",)),
    _c("c.mv", "100 0 ----- ----- 10", (RD_FULL, RS2_FULL), "rd, rs2", "add",
       (("rd", "rd"), ("rs1", 0), ("rs2", "rs2")), nonzero=("rs2",)),
    _c("c.ebreak", "100 1 00000 00000 10", (), "", "ebreak", (), "system"),
    _c("c.jalr", "100 1 ----- 00000 10", (RS1_FULL,), "rs1", "jalr",
       (("rd", 1), ("rs1", "rs1"), ("imm", 0)), "jalr", nonzero=("rs1",)),
    _c("c.add", "100 1 ----- ----- 10", (RD_FULL, RS2_FULL), "rd, rs2", "add",
       (("rd", "rd"), ("rs1", "rd"), ("rs2", "rs2")), nonzero=("rs2",)),
    _c("c.swsp", "110 ------ ----- 10", (RS2_FULL, IMM_SWSP), "rs2, imm(sp)", "sw",
       (("rs1", 2), ("rs2", "rs2"), ("imm", "imm")), "store"),
]
