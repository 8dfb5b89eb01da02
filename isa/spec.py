"""The instruction-table format: the single source of truth for every instruction.

Each extension module (``rv32i``, ``rv32m``, ``zicsr``, ``rvc``, ``xpulpv2``) defines a list of
:class:`Instr`.  From these tables the project derives:

* the decoder (``isa.decoder``: numpy arrays of mask/match/operand segments consumed by a Numba
  function),
* the assembler and the disassembler (``syntax`` + operand segments, used in both directions),
* the simulator's execution dispatch (``soc.core_codegen`` turns every ``sem`` snippet into one
  branch of a Numba-compiled dispatch), and
* the timing rules (``iclass`` keys the core's timing table in ``soc.core_timing``).

Operand slots
-------------
A decoded instruction is ``(op, rd, rs1, rs2, rs3, imm, imm2)``.  Every operand an encoding
carries is stored in one of these slots; :class:`Operand` says which instruction bits hold it.

Semantics snippets (``sem``)
----------------------------
Numba-compatible Python statements, executed with these names bound:

``rs1v, rs2v, rs3v, rdv``
    the signed 32-bit values (as int64) of the registers named by the rs1/rs2/rs3/rd slots
``rd, rs1, rs2, rs3, imm, imm2``
    the slot values themselves
``pc, npc``
    this instruction's address and the next sequential pc (``pc + length``)
``st, c``
    the core-state arrays and this core's index (for hardware-loop and CSR state)

A snippet communicates results through:

``res``      the value written to ``rd`` (if ``"rd"`` is in ``writes``)
``res2``     the value written to ``rs1`` (post-increment base update; ``"rs1"`` in ``writes``)
``npc``      reassigned by jumps and taken branches
``LOAD(addr, size, signed)`` / ``STORE(addr, size, value)``
             memory-access macros expanded by the code generator (faults and timing handled there)
``CSR(op, csr_number, value)``
             CSR access macro (op: 0 read-write, 1 set, 2 clear); evaluates to the old value
``TRAP(cause)``
             raise a synchronous exception (ends the snippet)
Helper functions (``s32``, ``u32``, SIMD lane helpers, ...) come from ``isa.semantics``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SLOTS = ("rd", "rs1", "rs2", "rs3", "imm", "imm2")
SLOT_INDEX = {name: i for i, name in enumerate(SLOTS)}
REGISTER_SLOTS = ("rd", "rs1", "rs2", "rs3")

#: Timing classes understood by the core model (``soc.core_timing``).
ICLASSES = (
    "alu",      # single-cycle integer, bit-manipulation and SIMD ops, lui/auipc, p.mac, dot products
    "mul",      # mul (1 cycle)
    "mulh",     # mulh, mulhsu, mulhu (5 cycles)
    "div",      # div, divu, rem, remu (3 + clz(divisor), see soc.core_timing)
    "load",     # every load, incl. post-increment and register-offset forms
    "store",    # every store
    "branch",   # conditional branches incl. p.beqimm / p.bneimm
    "jal",
    "jalr",
    "csr",      # Zicsr
    "fence",    # fence and fence.i
    "hwloop",   # lp.* setup instructions
    "elw",      # p.elw event load
    "system",   # ecall, ebreak, mret, wfi
)


class EncodingError(ValueError):
    """An operand value that an encoding cannot hold (``reason``: "range" or "nonzero")."""

    def __init__(self, message: str, operand: "Operand", value: int, reason: str) -> None:
        super().__init__(message)
        self.operand, self.value, self.reason = operand, value, reason


@dataclass(frozen=True)
class Operand:
    """Where one operand lives inside the instruction word.

    ``segments`` is a tuple of ``(word_lsb, width, value_lsb)``: ``width`` bits starting at bit
    ``word_lsb`` of the instruction word hold bits ``value_lsb .. value_lsb + width - 1`` of the
    operand value.  ``signed`` sign-extends the value from its top bit; ``offset`` is added after
    extraction (the RVC 3-bit register fields name x8..x15).
    """

    slot: str
    segments: tuple[tuple[int, int, int], ...]
    signed: bool = False
    offset: int = 0

    @property
    def nbits(self) -> int:
        """Number of value bits (position of the highest encoded bit + 1)."""
        return max(vlsb + width for (_, width, vlsb) in self.segments)

    @property
    def lowest_value_bit(self) -> int:
        """Lowest encoded value bit (values must be multiples of 2**this)."""
        return min(vlsb for (_, _, vlsb) in self.segments)

    def extract(self, word: int) -> int:
        """Return this operand's value from an instruction word."""
        v = 0
        for wlsb, width, vlsb in self.segments:
            v |= ((word >> wlsb) & ((1 << width) - 1)) << vlsb
        if self.signed and (v >> (self.nbits - 1)) & 1:
            v -= 1 << self.nbits
        return v + self.offset

    def fits(self, value: int) -> bool:
        """Whether ``value`` can be encoded in this operand."""
        v = value - self.offset
        lo = self.lowest_value_bit
        if v & ((1 << lo) - 1):
            return False
        n = self.nbits
        if self.signed:
            return -(1 << (n - 1)) <= v < (1 << (n - 1))
        return 0 <= v < (1 << n)

    def insert(self, value: int) -> int:
        """Return the instruction bits encoding ``value`` (caller checks :meth:`fits`)."""
        v = (value - self.offset) & ((1 << self.nbits) - 1)
        word = 0
        for wlsb, width, vlsb in self.segments:
            word |= ((v >> vlsb) & ((1 << width) - 1)) << wlsb
        return word

    def field_mask(self) -> int:
        """Instruction bits covered by this operand."""
        m = 0
        for wlsb, width, _ in self.segments:
            m |= ((1 << width) - 1) << wlsb
        return m


@dataclass(frozen=True)
class Instr:
    """One instruction encoding.

    ``syntax`` lists the assembly operands, e.g. ``"rd, rs1, rs2"``, ``"rd, imm(rs1)"``,
    ``"rd, imm(rs1!)"`` (post-increment), ``"rs2, rs3(rs1!)"``, ``"rs1, rs2, off"``.  Tokens:
    register slot names; ``imm``/``imm2`` plain immediates; ``off`` a pc-relative target held in
    ``imm`` (``off2`` in ``imm2``); ``csr`` a CSR number held in ``imm``; ``L`` a hardware-loop
    index held in ``rd``.  For compressed instructions ``expands`` names the 32-bit instruction
    it is equivalent to and maps each of that instruction's slots to a slot of this encoding or
    to a constant; compressed instructions have no ``sem`` of their own.
    """

    name: str
    ext: str
    pattern: str
    operands: tuple[Operand, ...]
    syntax: str
    iclass: str = "alu"
    sem: str = ""
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    expands: tuple[str, tuple[tuple[str, str | int], ...]] | None = None
    nonzero: tuple[str, ...] = ()
    length: int = field(init=False)
    mask: int = field(init=False)
    match: int = field(init=False)

    def __post_init__(self) -> None:
        bits = self.pattern.replace(" ", "").replace("_", "")
        if len(bits) not in (16, 32) or set(bits) - set("01-"):
            raise ValueError(f"{self.name}: bad pattern {self.pattern!r}")
        object.__setattr__(self, "length", len(bits) // 8)
        mask = match = 0
        for ch in bits:
            mask = (mask << 1) | (ch != "-")
            match = (match << 1) | (ch == "1")
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "match", match)
        if self.iclass not in ICLASSES:
            raise ValueError(f"{self.name}: unknown timing class {self.iclass!r}")
        for op in self.operands:
            if op.slot not in SLOTS:
                raise ValueError(f"{self.name}: unknown slot {op.slot!r}")
            if op.field_mask() & mask:
                raise ValueError(f"{self.name}: operand {op.slot} overlaps fixed bits")

    def operand(self, slot: str) -> Operand | None:
        """The operand stored in ``slot``, if this encoding has one."""
        for op in self.operands:
            if op.slot == slot:
                return op
        return None

    def encode(self, **operands: int) -> int:
        """Instruction word for the given operand values (slot name -> value).

        Raises :class:`EncodingError` naming the operand when a value does not fit its field or
        is zero where the encoding reserves zero (``nonzero``).
        """
        word = self.match
        for op in self.operands:
            value = operands.get(op.slot, 0)
            if not op.fits(value):
                raise EncodingError(f"{self.name}: {op.slot} = {value} does not fit its field",
                                    op, value, "range")
            if op.slot in self.nonzero and value == 0:
                raise EncodingError(f"{self.name}: {op.slot} must be non-zero", op, value,
                                    "nonzero")
            word |= op.insert(value)
        return word

    def syntax_tokens(self) -> list[str]:
        """Operand tokens of the assembly syntax, in order (``"imm(rs1!)"`` -> imm, rs1)."""
        import re

        return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.syntax)


def bits(pattern: str) -> str:
    """Identity helper that documents a bit pattern (MSB first, '-' = operand bit)."""
    return pattern


# --- common operand layouts -----------------------------------------------------------------

RD = Operand("rd", ((7, 5, 0),))
RS1 = Operand("rs1", ((15, 5, 0),))
RS2 = Operand("rs2", ((20, 5, 0),))
RS3_RD = Operand("rs3", ((7, 5, 0),))       # XpulpV2 register-offset stores: rs3 in bits 11:7
IMM_I = Operand("imm", ((20, 12, 0),), signed=True)
IMM_S = Operand("imm", ((7, 5, 0), (25, 7, 5)), signed=True)
IMM_B = Operand("imm", ((8, 4, 1), (25, 6, 5), (7, 1, 11), (31, 1, 12)), signed=True)
IMM_U = Operand("imm", ((12, 20, 12),), signed=True)
IMM_J = Operand("imm", ((21, 10, 1), (20, 1, 11), (12, 8, 12), (31, 1, 20)), signed=True)
SHAMT = Operand("imm", ((20, 5, 0),))
CSR_NUM = Operand("imm", ((20, 12, 0),))
UIMM5_RS1 = Operand("imm2", ((15, 5, 0),))  # Zicsr immediate forms: zimm in the rs1 field

FMT_R = (RD, RS1, RS2)
FMT_I = (RD, RS1, IMM_I)
FMT_S = (RS1, RS2, IMM_S)
FMT_B = (RS1, RS2, IMM_B)
FMT_U = (RD, IMM_U)
FMT_J = (RD, IMM_J)
FMT_SHIFT = (RD, RS1, SHAMT)
