"""RV32I base integer ISA, the M extension, Zicsr, Zifencei and the machine-mode system
instructions (``mret``, ``wfi``) as instruction tables (format: ``isa.spec``)."""
from __future__ import annotations

from .spec import (
    CSR_NUM, FMT_B, FMT_I, FMT_J, FMT_R, FMT_S, FMT_SHIFT, FMT_U, RD, RS1, UIMM5_RS1, Instr,
)

R12 = ("rs1", "rs2")


def _alu_r(name: str, pattern: str, expr: str) -> Instr:
    return Instr(name, "rv32i", pattern, FMT_R, "rd, rs1, rs2", "alu", f"res = {expr}",
                 reads=R12, writes=("rd",))


def _alu_i(name: str, pattern: str, expr: str, fmt=FMT_I) -> Instr:
    return Instr(name, "rv32i", pattern, fmt, "rd, rs1, imm", "alu", f"res = {expr}",
                 reads=("rs1",), writes=("rd",))


def _branch(name: str, funct3: str, cond: str) -> Instr:
    return Instr(name, "rv32i", f"------- ----- ----- {funct3} ----- 1100011", FMT_B,
                 "rs1, rs2, off", "branch", f"if {cond}:\n    npc = pc + imm", reads=R12)


def _load(name: str, funct3: str, size: int, signed: bool) -> Instr:
    return Instr(name, "rv32i", f"------- ----- ----- {funct3} ----- 0000011", FMT_I,
                 "rd, imm(rs1)", "load", f"res = LOAD(rs1v + imm, {size}, {signed})",
                 reads=("rs1",), writes=("rd",))


def _store(name: str, funct3: str, size: int) -> Instr:
    return Instr(name, "rv32i", f"------- ----- ----- {funct3} ----- 0100011", FMT_S,
                 "rs2, imm(rs1)", "store", f"STORE(rs1v + imm, {size}, rs2v)", reads=R12)


RV32I: list[Instr] = [
    Instr("lui", "rv32i", "------- ----- ----- --- ----- 0110111", FMT_U, "rd, imm", "alu",
          "res = imm", writes=("rd",)),
    Instr("auipc", "rv32i", "------- ----- ----- --- ----- 0010111", FMT_U, "rd, imm", "alu",
          "res = pc + imm", writes=("rd",)),
    Instr("jal", "rv32i", "------- ----- ----- --- ----- 1101111", FMT_J, "rd, off", "jal",
          "res = npc\nnpc = pc + imm", writes=("rd",)),
    Instr("jalr", "rv32i", "------- ----- ----- 000 ----- 1100111", FMT_I, "rd, imm(rs1)", "jalr",
          "res = npc\nnpc = (rs1v + imm) & -2", reads=("rs1",), writes=("rd",)),
    _branch("beq", "000", "rs1v == rs2v"),
    _branch("bne", "001", "rs1v != rs2v"),
    _branch("blt", "100", "rs1v < rs2v"),
    _branch("bge", "101", "rs1v >= rs2v"),
    _branch("bltu", "110", "u32(rs1v) < u32(rs2v)"),
    _branch("bgeu", "111", "u32(rs1v) >= u32(rs2v)"),
    _load("lb", "000", 1, True),
    _load("lh", "001", 2, True),
    _load("lw", "010", 4, True),
    _load("lbu", "100", 1, False),
    _load("lhu", "101", 2, False),
    _store("sb", "000", 1),
    _store("sh", "001", 2),
    _store("sw", "010", 4),
    _alu_i("addi", "------- ----- ----- 000 ----- 0010011", "rs1v + imm"),
    _alu_i("slti", "------- ----- ----- 010 ----- 0010011", "1 if rs1v < imm else 0"),
    _alu_i("sltiu", "------- ----- ----- 011 ----- 0010011", "1 if u32(rs1v) < u32(imm) else 0"),
    _alu_i("xori", "------- ----- ----- 100 ----- 0010011", "rs1v ^ imm"),
    _alu_i("ori", "------- ----- ----- 110 ----- 0010011", "rs1v | imm"),
    _alu_i("andi", "------- ----- ----- 111 ----- 0010011", "rs1v & imm"),
    _alu_i("slli", "0000000 ----- ----- 001 ----- 0010011", "rs1v << imm", FMT_SHIFT),
    _alu_i("srli", "0000000 ----- ----- 101 ----- 0010011", "u32(rs1v) >> imm", FMT_SHIFT),
    _alu_i("srai", "0100000 ----- ----- 101 ----- 0010011", "rs1v >> imm", FMT_SHIFT),
    _alu_r("add", "0000000 ----- ----- 000 ----- 0110011", "rs1v + rs2v"),
    _alu_r("sub", "0100000 ----- ----- 000 ----- 0110011", "rs1v - rs2v"),
    _alu_r("sll", "0000000 ----- ----- 001 ----- 0110011", "rs1v << (rs2v & 31)"),
    _alu_r("slt", "0000000 ----- ----- 010 ----- 0110011", "1 if rs1v < rs2v else 0"),
    _alu_r("sltu", "0000000 ----- ----- 011 ----- 0110011", "1 if u32(rs1v) < u32(rs2v) else 0"),
    _alu_r("xor", "0000000 ----- ----- 100 ----- 0110011", "rs1v ^ rs2v"),
    _alu_r("srl", "0000000 ----- ----- 101 ----- 0110011", "u32(rs1v) >> (rs2v & 31)"),
    _alu_r("sra", "0100000 ----- ----- 101 ----- 0110011", "rs1v >> (rs2v & 31)"),
    _alu_r("or", "0000000 ----- ----- 110 ----- 0110011", "rs1v | rs2v"),
    _alu_r("and", "0000000 ----- ----- 111 ----- 0110011", "rs1v & rs2v"),
    # fence: fm/pred/succ are decoded but ignored (in-order core, no caches to order).
    Instr("fence", "rv32i", "---- -------- 00000 000 00000 0001111", (), "", "fence", "pass"),
    Instr("ecall", "rv32i", "000000000000 00000 000 00000 1110011", (), "", "system",
          "TRAP(11)"),
    Instr("ebreak", "rv32i", "000000000001 00000 000 00000 1110011", (), "", "system",
          "TRAP(3)"),
]

ZIFENCEI: list[Instr] = [
    # The decode cache is kept coherent by every store, so fence.i has no functional effect.
    Instr("fence.i", "zifencei", "000000000000 00000 001 00000 0001111", (), "", "fence", "pass"),
]

PRIV: list[Instr] = [
    Instr("mret", "priv", "0011000 00010 00000 000 00000 1110011", (), "", "system", "MRET()"),
    # wfi: the cluster's cores sleep through p.elw on the event unit; wfi is a hint (no-op).
    Instr("wfi", "priv", "0001000 00101 00000 000 00000 1110011", (), "", "system", "pass"),
]


def _mul(name: str, funct3: str, expr: str, iclass: str) -> Instr:
    return Instr(name, "rv32m", f"0000001 ----- ----- {funct3} ----- 0110011", FMT_R,
                 "rd, rs1, rs2", iclass, f"res = {expr}", reads=R12, writes=("rd",))


RV32M: list[Instr] = [
    _mul("mul", "000", "rs1v * rs2v", "mul"),
    _mul("mulh", "001", "mulh(rs1v, rs2v)", "mulh"),
    _mul("mulhsu", "010", "mulhsu(rs1v, rs2v)", "mulh"),
    _mul("mulhu", "011", "mulhu(rs1v, rs2v)", "mulh"),
    _mul("div", "100", "div(rs1v, rs2v)", "div"),
    _mul("divu", "101", "divu(rs1v, rs2v)", "div"),
    _mul("rem", "110", "rem(rs1v, rs2v)", "div"),
    _mul("remu", "111", "remu(rs1v, rs2v)", "div"),
]


def _csr(name: str, funct3: str, op: int, imm_form: bool) -> Instr:
    if imm_form:
        return Instr(name, "zicsr", f"------------ ----- {funct3} ----- 1110011",
                     (RD, CSR_NUM, UIMM5_RS1), "rd, csr, imm2", "csr",
                     f"res = CSR({op}, imm, imm2, {'True' if op == 0 else 'imm2 != 0'})",
                     writes=("rd",))
    return Instr(name, "zicsr", f"------------ ----- {funct3} ----- 1110011",
                 (RD, CSR_NUM, RS1), "rd, csr, rs1", "csr",
                 f"res = CSR({op}, imm, rs1v, {'True' if op == 0 else 'rs1 != 0'})",
                 reads=("rs1",), writes=("rd",))


ZICSR: list[Instr] = [
    _csr("csrrw", "001", 0, False),
    _csr("csrrs", "010", 1, False),
    _csr("csrrc", "011", 2, False),
    _csr("csrrwi", "101", 0, True),
    _csr("csrrsi", "110", 1, True),
    _csr("csrrci", "111", 2, True),
]
