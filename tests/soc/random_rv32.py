"""Seeded random RV32IMC program generator for differential testing (not a test module).

:func:`generate` turns a seed into a :class:`Program`: GNU-as source for the calibration
``link.ld`` layout (:data:`isa.assembler.CV32E40P`) plus the initial values of the general
registers, which the test writes into both simulators before the first instruction.  The
programs are deterministic functions of the seed and always terminate:

* the register file starts from "interesting" constants (0, 1, -1, INT_MAX, INT_MIN, small
  numbers, bit patterns, random words);
* the body is a random mix of every RV32I ALU op (shift amounts 0 and 31 included, ``lui``,
  ``auipc``), every M op (with explicit divide-by-zero and INT_MIN / -1 cases), loads and
  stores of every width at aligned and misaligned addresses inside :data:`BUF_SIZE` bytes of
  ``.data`` (label ``buf``), forward branches of every kind (and the pseudo branches),
  ``jal``/``jalr`` (incl. ``rd == rs1`` and an odd target, whose bit 0 ``jalr`` clears), calls
  of out-of-line subroutines with varying link registers, backward loops with 1..8 trips,
  RVC code both from the assembler's automatic compression and from explicit ``c.*``
  mnemonics, ``.option norvc`` stretches, ``fence``, RVC HINT encodings, self-modifying code
  (with ``fence.i``) and the occasional branch relaxed over more than 4 KiB;
* control flow only moves forward except for the bounded loops and subroutine returns, so
  every program ends by storing 1 to ``tohost`` (followed by ``j .``).

Register conventions (never written by random code):

* ``sp`` (x2) = ``buf + SP_OFFSET``, the base of ``c.lwsp``/``c.swsp`` (``c.addi16sp`` moves
  it only in balanced pairs);
* ``s0`` (x8) = ``buf + S0_OFFSET``, the base of most loads and stores;
* ``s1`` (x9) is the loop counter;
* ``gp`` (x3) is a checksum: after most statements the registers they wrote are folded into
  it (``add``/``xor``/``sub gp, gp, rd``), so a wrong intermediate result that is overwritten
  later still shows in the final register file.

Every memory access stays inside ``buf``.  Unicorn (QEMU) models misaligned loads and stores
as byte-wise accesses, exactly as the CV32E40P splits them, so misaligned accesses are
generated freely (checked before relying on it: ``lw``/``sw`` at ``4k+1`` and across a page
boundary behave like byte accesses in unicorn 2.1.4).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

#: Size of the data buffer every load and store stays inside.
BUF_SIZE = 1024
#: ``s0`` points this many bytes into ``buf`` (negative offsets reach the first half).
S0_OFFSET = 512
#: ``sp`` points this many bytes into ``buf`` (``c.lwsp`` offsets 0..252 stay inside).
SP_OFFSET = 256
#: Bytes at the end of ``buf`` that receive the two registers the exit sequence clobbers.
SAVE_AREA = 8

SP, ACC, S0, S1 = 2, 3, 8, 9
RESERVED = frozenset({0, SP, ACC, S0, S1})
#: Registers random code may write.
FREE = tuple(r for r in range(32) if r not in RESERVED)
#: Free registers usable as the 3-bit ``rd'``/``rs1'``/``rs2'`` of RVC encodings.
FREE_C = tuple(r for r in range(8, 16) if r not in RESERVED)
#: Registers the exit sequence writes (their values are saved to the buffer first).
EXIT_REGS = (30, 31)

ABI = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
       "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
       "t3", "t4", "t5", "t6")

INT_MIN = 0x80000000
#: Register values that tend to expose corner cases.
INTERESTING = (
    0, 1, 2, 3, 0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, 0x80000000, 0x80000001, 0x7FFFFFFE,
    31, 32, 33, 0x7FF, 0x800, 0xFFFFF800, 0xFFFFF7FF, 0x7FFFF800, 0xFFFF, 0x10000, 0xFFFF0000,
    0x8000, 0x7FFF, 0xFFFF8000, 0x80, 0x7F, 0xFFFFFF80, 0xFF, 0x55555555, 0xAAAAAAAA,
    0x0F0F0F0F, 0x12345678, 0xDEADBEEF,
)
#: 12-bit immediates at the edges of their range.
IMM12_EDGES = (0, 1, -1, 2, -2, 31, 32, 2047, -2048, 2046, -2047, 0x7FF, 0x555, -0x556)

ALU_R = ("add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and")
ALU_I = ("addi", "slti", "sltiu", "xori", "ori", "andi")
SHIFT_I = ("slli", "srli", "srai")
MUL_OPS = ("mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")
DIV_OPS = ("div", "divu", "rem", "remu")
BRANCHES = ("beq", "bne", "blt", "bge", "bltu", "bgeu")
PSEUDO_BRANCH2 = ("bgt", "ble", "bgtu", "bleu")
PSEUDO_BRANCH1 = ("beqz", "bnez", "blez", "bgez", "bltz", "bgtz")
LOADS = (("lb", 1), ("lh", 2), ("lw", 4), ("lbu", 1), ("lhu", 2))
STORES = (("sb", 1), ("sh", 2), ("sw", 4))

#: Mnemonics (and pseudo-instructions) whose first operand is the register they write.
WRITES_FIRST_OPERAND = frozenset(
    ALU_R + ALU_I + SHIFT_I + MUL_OPS + tuple(n for n, _ in LOADS)
    + ("lui", "auipc", "li", "mv", "not", "neg", "seqz", "snez", "sltz", "sgtz", "sgt", "sgtu",
       "c.addi", "c.li", "c.lui", "c.mv", "c.add", "c.sub", "c.xor", "c.or", "c.and", "c.andi",
       "c.srli", "c.srai", "c.slli", "c.lw", "c.lwsp", "c.addi4spn"))
#: RV32I mnemonics the generator must produce (ecall/ebreak excluded: they trap).
RV32I_MNEMONICS = frozenset(
    ("lui", "auipc", "jal", "jalr", "fence") + BRANCHES + tuple(n for n, _ in LOADS)
    + tuple(n for n, _ in STORES) + ALU_I + SHIFT_I + ALU_R)
RV32M_MNEMONICS = frozenset(MUL_OPS)
#: RVC mnemonics the generator must produce (all but ``c.ebreak``).
RVC_MNEMONICS = frozenset((
    "c.addi4spn", "c.lw", "c.sw", "c.nop", "c.addi", "c.jal", "c.li", "c.addi16sp", "c.lui",
    "c.srli", "c.srai", "c.andi", "c.sub", "c.xor", "c.or", "c.and", "c.j", "c.beqz", "c.bnez",
    "c.slli", "c.lwsp", "c.jr", "c.mv", "c.jalr", "c.add", "c.swsp"))


@dataclass
class Program:
    """One generated program: source text and the initial register file."""

    seed: int
    source: str
    #: Initial value (unsigned 32-bit) of x0..x31; x0 is always 0.
    init_regs: list[int]
    #: Number of generated statements (a rough size measure).
    items: int = 0
    #: Subroutine labels, for information.
    subroutines: list[str] = field(default_factory=list)


class _Generator:
    """Builds one program; every choice comes from ``self.rng``."""

    def __init__(self, seed: int) -> None:
        """Start a program for ``seed``."""
        self.rng = random.Random(seed)
        self.seed = seed
        self.labels = 0
        self.items = 0
        self.far_jumps = 0
        self.loop_depth = 0       # > 0 while generating a loop body (s1 is in use)
        self.subs: list[tuple[str, int]] = []          # (label, link register)
        self.sub_bodies: list[list[str]] = []

    # ---- small helpers -----------------------------------------------------------------------
    def label(self, stem: str = "L") -> str:
        """A fresh local label."""
        self.labels += 1
        return f".{stem}{self.labels}"

    def value(self) -> int:
        """An interesting, small or random 32-bit value (unsigned)."""
        r = self.rng.random()
        if r < 0.45:
            return self.rng.choice(INTERESTING)
        if r < 0.7:
            return self.rng.randint(-40, 40) & 0xFFFFFFFF
        return self.rng.getrandbits(32)

    def imm12(self) -> int:
        """A signed 12-bit immediate (often at the edges of the range)."""
        if self.rng.random() < 0.4:
            return self.rng.choice(IMM12_EDGES)
        if self.rng.random() < 0.5:
            return self.rng.randint(-40, 40)
        return self.rng.randint(-2048, 2047)

    def shamt(self) -> int:
        """A shift amount, often 0 or 31."""
        return self.rng.choice((0, 31, 0, 31, 1, 30, 16, self.rng.randint(0, 31)))

    def rd(self, excl: frozenset[int], allow_zero: bool = True) -> str:
        """A destination register (x0 rarely: writes to it must be discarded)."""
        if allow_zero and self.rng.random() < 0.03:
            return "zero"
        return ABI[self.rng.choice([r for r in FREE if r not in excl])]

    def rs(self) -> str:
        """Any source register (mostly free ones, sometimes x0 or a base register)."""
        r = self.rng.random()
        if r < 0.05:
            return "zero"
        if r < 0.08:
            return ABI[self.rng.choice((SP, ACC, S0, S1))]
        return ABI[self.rng.choice(FREE)]

    def rd_c(self, excl: frozenset[int]) -> str | None:
        """A writable register among x8..x15, or ``None`` if all are excluded."""
        cands = [r for r in FREE_C if r not in excl]
        return ABI[self.rng.choice(cands)] if cands else None

    def tmp(self, excl: frozenset[int]) -> str:
        """A scratch register (never x0 or a reserved one)."""
        return ABI[self.rng.choice([r for r in FREE if r not in excl])]

    def tmp2(self, excl: frozenset[int]) -> tuple[str, str]:
        """Two different scratch registers."""
        a, b = self.rng.sample([r for r in FREE if r not in excl], 2)
        return ABI[a], ABI[b]

    def li(self, reg: str, v: int) -> str:
        """``li reg, v`` with ``v`` printed signed or unsigned at random."""
        v &= 0xFFFFFFFF
        if self.rng.random() < 0.5 and v & 0x80000000:
            return f"li {reg}, {v - (1 << 32)}"
        return f"li {reg}, {v:#x}" if self.rng.random() < 0.5 else f"li {reg}, {v}"

    # ---- memory addressing -------------------------------------------------------------------
    def target(self, width: int) -> int:
        """Offset inside ``buf`` of an access of ``width`` bytes, aligned ~60 % of the time."""
        t = self.rng.randint(0, BUF_SIZE - SAVE_AREA - width)
        if width > 1 and self.rng.random() < 0.6:
            t -= t % width
        return t

    def address(self, width: int, excl: frozenset[int]) -> tuple[list[str], str]:
        """Setup lines and an ``imm(base)`` operand addressing a random buffer location."""
        t = self.target(width)
        r = self.rng.random()
        if r < 0.5:
            return [], f"{t - S0_OFFSET}(s0)"
        if r < 0.65:
            return [], f"{t - SP_OFFSET}(sp)"
        tmp = self.tmp(excl)
        k = self.rng.randint(-700, 700)
        return [f"addi {tmp}, s0, {k}"], f"{t - S0_OFFSET - k}({tmp})"

    # ---- statement kinds (each returns a list of source lines) -------------------------------
    def alu_r(self, excl: frozenset[int]) -> list[str]:
        """A register-register ALU op (shift amounts sometimes >= 32 or negative)."""
        op = self.rng.choice(ALU_R)
        a, b = self.rs(), self.rs()
        if self.rng.random() < 0.15:
            b = a
        out = []
        if op in ("sll", "srl", "sra") and self.rng.random() < 0.3:
            b = self.tmp(excl)
            out.append(self.li(b, self.rng.choice((0, 31, 32, 33, 63, -1, -32, 0x80000000))))
        return out + [f"{op} {self.rd(excl)}, {a}, {b}"]

    def alu_i(self, excl: frozenset[int]) -> list[str]:
        """A register-immediate ALU op."""
        return [f"{self.rng.choice(ALU_I)} {self.rd(excl)}, {self.rs()}, {self.imm12()}"]

    def shift_i(self, excl: frozenset[int]) -> list[str]:
        """An immediate shift (amounts 0 and 31 favoured)."""
        return [f"{self.rng.choice(SHIFT_I)} {self.rd(excl)}, {self.rs()}, {self.shamt()}"]

    def upper(self, excl: frozenset[int]) -> list[str]:
        """``lui`` or ``auipc``."""
        imm = self.rng.choice((0, 1, 0xFFFFF, 0x80000, 0x7FFFF, self.rng.getrandbits(20)))
        return [f"{self.rng.choice(('lui', 'auipc'))} {self.rd(excl)}, {imm:#x}"]

    def pseudo(self, excl: frozenset[int]) -> list[str]:
        """A pseudo-instruction (``li``, ``mv``, ``not``, ``neg``, ``seqz``, ...)."""
        rd = self.rd(excl, allow_zero=False)
        k = self.rng.randrange(7)
        if k == 0:
            return [self.li(rd, self.value())]
        if k == 1:
            return [f"mv {rd}, {self.rs()}"]
        if k == 2:
            return [f"{self.rng.choice(('not', 'neg', 'seqz', 'snez', 'sltz', 'sgtz'))} "
                    f"{rd}, {self.rs()}"]
        if k == 3:
            return [f"{self.rng.choice(('sgt', 'sgtu'))} {rd}, {self.rs()}, {self.rs()}"]
        if k == 4:
            return [f"li {rd}, {self.rng.randint(-32, 31)}"]          # c.li when it fits
        if k == 5:
            return [f"addi {rd}, {rd}, {self.rng.choice((-32, -1, 1, 31, 5))}"]  # c.addi
        return ["nop"]

    def mul(self, excl: frozenset[int]) -> list[str]:
        """An M-extension op on random registers."""
        a, b = self.rs(), self.rs()
        if self.rng.random() < 0.1:
            b = a
        return [f"{self.rng.choice(MUL_OPS)} {self.rd(excl)}, {a}, {b}"]

    def mul_special(self, excl: frozenset[int]) -> list[str]:
        """Divide by zero, INT_MIN / -1 and extreme products with explicit operands."""
        a, b = self.tmp2(excl)
        out = []
        k = self.rng.randrange(4)
        if k == 0:      # divide by zero (register holding 0, or x0 itself)
            out.append(self.li(a, self.value()))
            if self.rng.random() < 0.5:
                b = "zero"
            else:
                out.append(f"li {b}, 0")
        elif k == 1:    # signed overflow
            out.append(self.li(a, INT_MIN))
            out.append(f"li {b}, -1")
        elif k == 2:    # extreme operands
            out.append(self.li(a, self.rng.choice((INT_MIN, 0x7FFFFFFF, 0xFFFFFFFF, 1))))
            out.append(self.li(b, self.rng.choice((INT_MIN, 0x7FFFFFFF, 0xFFFFFFFF, 1))))
        else:           # random dividend, small divisor of either sign
            out.append(self.li(a, self.value()))
            out.append(self.li(b, self.rng.choice((1, -1, 2, -2, 3, -3, 7, -7))))
        ops = DIV_OPS if k < 2 else MUL_OPS
        for _ in range(self.rng.randint(1, 3)):
            out.append(f"{self.rng.choice(ops)} {self.rd(excl)}, {a}, {b}")
        return out

    def load(self, excl: frozenset[int]) -> list[str]:
        """A load of any width from a random (possibly misaligned) buffer address."""
        op, w = self.rng.choice(LOADS)
        setup, addr = self.address(w, excl)
        return setup + [f"{op} {self.rd(excl)}, {addr}"]

    def store(self, excl: frozenset[int]) -> list[str]:
        """A store of any width to a random (possibly misaligned) buffer address."""
        op, w = self.rng.choice(STORES)
        setup, addr = self.address(w, excl)
        return setup + [f"{op} {self.rs()}, {addr}"]

    def mem_symbol(self, excl: frozenset[int]) -> list[str]:
        """``lw rd, buf+k`` / ``sw rs, buf+k, rt`` (auipc-relative pseudo forms)."""
        if self.rng.random() < 0.5:
            op, w = self.rng.choice(LOADS)
            return [f"{op} {self.rd(excl, allow_zero=False)}, buf+{self.target(w)}"]
        op, w = self.rng.choice(STORES)
        return [f"{op} {self.rs()}, buf+{self.target(w)}, {self.tmp(excl)}"]

    def rvc_alu(self, excl: frozenset[int]) -> list[str]:
        """An explicit ``c.*`` ALU instruction with legal (non-HINT) operands."""
        rd = self.rd(excl, allow_zero=False)
        rdc = self.rd_c(excl)
        k = self.rng.randrange(13 if rdc else 6)
        nz6 = self.rng.choice([v for v in range(-32, 32) if v])
        if k == 0:
            return [f"c.addi {rd}, {nz6}"]
        if k == 1:
            return [f"c.li {rd}, {self.rng.randint(-32, 31)}"]
        if k == 2:
            imm = self.rng.choice((self.rng.randint(1, 31), self.rng.randint(0xFFFE0, 0xFFFFF)))
            return [f"c.lui {rd}, {imm:#x}"]
        if k == 3:
            return [f"c.mv {rd}, {ABI[self.rng.choice(FREE + (SP, S0, S1))]}"]
        if k == 4:
            return [f"c.add {rd}, {ABI[self.rng.choice(FREE + (SP, S0, S1))]}"]
        if k == 5:
            return [f"c.slli {rd}, {self.rng.choice((1, 31, self.rng.randint(1, 31)))}"]
        if k in (6, 7):
            rs2 = ABI[self.rng.choice(range(8, 16))]
            return [f"{self.rng.choice(('c.sub', 'c.xor', 'c.or', 'c.and'))} {rdc}, {rs2}"]
        if k == 8:
            return [f"c.andi {rdc}, {self.rng.randint(-32, 31)}"]
        if k in (9, 10):
            return [f"{self.rng.choice(('c.srli', 'c.srai'))} {rdc}, "
                    f"{self.rng.choice((1, 31, self.rng.randint(1, 31)))}"]
        if k == 11:
            return [f"c.addi4spn {rdc}, sp, {4 * self.rng.randint(1, 255)}"]
        return ["c.nop"]

    def rvc_mem(self, excl: frozenset[int]) -> list[str]:
        """``c.lw``/``c.sw`` (through s0 or a possibly misaligned x8..x15 base) and
        ``c.lwsp``/``c.swsp``."""
        k = self.rng.randrange(4)
        off = 4 * self.rng.randint(0, 31)
        if k < 2:
            tmp = self.rd_c(excl) if self.rng.random() < 0.5 else None
            out, base = [], "s0"
            if tmp is not None:
                lo = -S0_OFFSET - off
                hi = BUF_SIZE - SAVE_AREA - 4 - S0_OFFSET - off
                out.append(f"addi {tmp}, s0, {self.rng.randint(lo, hi)}")
                base = tmp
            if k == 0:
                rdc = self.rd_c(excl)
                if rdc is None:
                    return []
                return out + [f"c.lw {rdc}, {off}({base})"]
            return out + [f"c.sw {ABI[self.rng.choice(range(8, 16))]}, {off}({base})"]
        off = 4 * self.rng.randint(0, 63)
        if k == 2:
            return [f"c.lwsp {self.rd(excl, allow_zero=False)}, {off}(sp)"]
        return [f"c.swsp {self.rs()}, {off}(sp)"]

    def sp_adjust(self, excl: frozenset[int]) -> list[str]:
        """A balanced ``c.addi16sp`` pair with an sp-relative access in between."""
        d = 16 * self.rng.choice([v for v in range(-16, 32) if v])
        off = 4 * self.rng.randint(0, 63)
        mid = (f"c.lwsp {self.rd(excl, allow_zero=False)}, {off}(sp)" if self.rng.random() < 0.5
               else f"c.swsp {self.rs()}, {off}(sp)")
        return [f"c.addi16sp sp, {d}", mid, f"addi sp, sp, {-d}"]

    def hint(self, excl: frozenset[int]) -> list[str]:
        """A 16-bit HINT encoding (architecturally a no-op), emitted with ``.2byte`` since the
        assembler, like GNU as, refuses to produce HINTs: ``c.addi rd, 0``, ``c.li``/``c.lui``/
        ``c.mv``/``c.add``/``c.slli``/``c.addi`` with rd = x0, and shifts by 0.  Unicorn runs
        them as no-ops too (checked).  The RV32-reserved ``c.slli`` with shamt[5] = 1 is left
        out: the core treats it as illegal while unicorn executes it."""
        rd = self.rng.randint(1, 31)
        lo5 = self.rng.randint(1, 31)
        b12 = self.rng.randint(0, 1)
        k = self.rng.randrange(8)
        if k == 0:      # c.addi rd, 0
            h = (rd << 7) | 1
        elif k == 1:    # c.li x0, imm
            h = (2 << 13) | (b12 << 12) | (lo5 << 2) | 1
        elif k == 2:    # c.lui x0, nzimm
            h = (3 << 13) | (b12 << 12) | (lo5 << 2) | 1
        elif k == 3:    # c.mv x0, rs2 / c.add x0, rs2
            h = (4 << 13) | (b12 << 12) | (lo5 << 2) | 2
        elif k == 4:    # c.slli rd, 0
            h = (rd << 7) | 2
        elif k == 5:    # c.slli x0, shamt
            h = (lo5 << 2) | 2
        elif k == 6:    # c.srli / c.srai rd', 0
            h = (4 << 13) | (b12 << 10) | ((rd & 7) << 7) | 1
        else:           # c.addi x0, nzimm (a c.nop with an immediate)
            h = (b12 << 12) | (lo5 << 2) | 1
        return [f".2byte {h:#06x}"]

    def fence(self, excl: frozenset[int]) -> list[str]:
        """A ``fence`` (a no-op for both models)."""
        return [self.rng.choice(("fence", "fence rw, rw", "fence iorw, iorw"))]

    def norvc(self, excl: frozenset[int]) -> list[str]:
        """A stretch assembled without compression."""
        body: list[str] = []
        for _ in range(self.rng.randint(1, 4)):
            body += self.rng.choice((self.alu_r, self.alu_i, self.load, self.store,
                                     self.shift_i, self.pseudo))(excl)
        return [".option push", ".option norvc"] + body + [".option pop"]

    # ---- control flow --------------------------------------------------------------------------
    def simple(self, excl: frozenset[int], n: int) -> list[str]:
        """``n`` straight-line ALU statements (each at most 8 bytes)."""
        out: list[str] = []
        for _ in range(n):
            out += self.fold(self.rng.choice((self.alu_r, self.alu_i, self.shift_i,
                                              self.rvc_alu, self.mul))(excl))
        return out

    def fold(self, lines: list[str], p: float = 0.75) -> list[str]:
        """``lines`` followed (with probability ``p``) by folding every register they write
        into the ``gp`` checksum."""
        if self.rng.random() >= p:
            return lines
        written: list[str] = []
        for ln in lines:
            parts = ln.split(None, 1)
            if len(parts) == 2 and parts[0] in WRITES_FIRST_OPERAND:
                rd = parts[1].split(",")[0].strip()
                if rd not in written and rd != "sp":
                    written.append(rd)
        return lines + [f"{self.rng.choice(('add', 'xor', 'sub'))} gp, gp, {rd}"
                        for rd in written]

    def condition(self, excl: frozenset[int]) -> tuple[list[str], str]:
        """Setup lines and a branch mnemonic with its register operands."""
        r = self.rng.random()
        setup: list[str] = []
        if r < 0.2:     # operands set to interesting values (signed vs unsigned order differs)
            a, b = self.tmp2(excl)
            setup = [self.li(a, self.rng.choice(INTERESTING)),
                     self.li(b, self.rng.choice(INTERESTING))]
        elif r < 0.35:
            a = b = self.rs()
        else:
            a, b = self.rs(), self.rs()
        k = self.rng.random()
        if k < 0.6:
            return setup, f"{self.rng.choice(BRANCHES)} {a}, {b}"
        if k < 0.8:
            return setup, f"{self.rng.choice(PSEUDO_BRANCH2)} {a}, {b}"
        return setup, f"{self.rng.choice(PSEUDO_BRANCH1)} {a}"

    def branch(self, excl: frozenset[int], depth: int) -> list[str]:
        """A forward conditional branch over a random sub-block."""
        end = self.label()
        r = self.rng.random()
        if r < 0.25:
            # explicit c.beqz/c.bnez over a short straight-line block (reach +-256 B)
            reg = ABI[self.rng.choice(range(8, 16))]
            op = self.rng.choice(("c.beqz", "c.bnez"))
            return [f"{op} {reg}, {end}"] + self.simple(excl, self.rng.randint(0, 4)) + [f"{end}:"]
        setup, cond = self.condition(excl)
        if r < 0.3 and self.far_jumps == 0:
            # more than 4 KiB away: relaxed to an inverted branch over a jal
            self.far_jumps += 1
            body = self.block(excl, self.rng.randint(0, 3), depth + 1)
            return setup + [f"{cond}, {end}"] + body + [f"j {end}", ".space 4200", f"{end}:"]
        body = self.block(excl, self.rng.randint(0, 6), depth + 1)
        if self.rng.random() < 0.15:     # long enough to exceed c.beqz / c.j reach
            body += self.simple(excl, 70)
        return setup + [f"{cond}, {end}"] + body + [f"{end}:"]

    def jal(self, excl: frozenset[int], depth: int) -> list[str]:
        """A forward ``jal``/``j``/``c.j``/``c.jal`` over code that is never executed."""
        end = self.label()
        k = self.rng.randrange(5)
        if k == 0:
            first = f"jal {self.rd(excl)}, {end}"
        elif k == 1:
            first = f"j {end}"
        elif k == 2 and 1 not in excl:
            first = f"jal {end}"             # rd = ra, c.jal when in reach
        elif k == 3:
            first = f"c.j {end}"
        elif 1 not in excl:
            first = f"c.jal {end}"
        else:
            first = f"j {end}"
        skipped = self.simple(excl, self.rng.randint(0, 3))
        return [first] + skipped + [f"{end}:"]

    def jalr(self, excl: frozenset[int], depth: int) -> list[str]:
        """A forward indirect jump through a register loaded with ``la``."""
        end = self.label()
        k = self.rng.randrange(7)
        tmp = self.tmp(excl)
        if k == 0:      # jalr rd, imm(rs1) with a non-zero offset
            off = self.rng.choice((-4, 4, -2048, 2047 & ~1, 12, -12))
            seq = [f"la {tmp}, {end}{-off:+d}", f"jalr {self.rd(excl)}, {off}({tmp})"]
        elif k == 1:    # rd == rs1: the target uses the old value
            seq = [f"la {tmp}, {end}", f"jalr {tmp}, 0({tmp})"]
        elif k == 2:    # odd target: bit 0 is cleared
            seq = [f"la {tmp}, {end}+1", f"jalr {self.rd(excl)}, 0({tmp})"]
        elif k == 3:
            seq = [f"la {tmp}, {end}", f"c.jr {tmp}"]
        elif k == 4 and 1 not in excl:
            if self.rng.random() < 0.5:   # c.jalr ra: target read before ra is written
                seq = ["la ra, " + end, "c.jalr ra"]
            else:
                seq = [f"la {tmp}, {end}", f"c.jalr {tmp}"]
        elif k == 5:
            seq = [f"la {tmp}, {end}", f"jr {tmp}"]
        else:
            seq = [f"la {tmp}, {end}", f"jalr {tmp}" if 1 not in excl else f"jr {tmp}"]
        skipped = self.simple(excl, self.rng.randint(0, 2))
        return seq + skipped + [f"{end}:"]

    def call(self, excl: frozenset[int], depth: int) -> list[str]:
        """Call an out-of-line subroutine (created on first use) and come back."""
        if not self.subs or (len(self.subs) < 4 and self.rng.random() < 0.4):
            link = self.rng.choice((1, 1, 5, self.rng.choice(FREE)))
            name = self.label("sub")
            self.subs.append((name, link))
            self.sub_bodies.append(self.subroutine(name, link))
        name, link = self.rng.choice(self.subs)
        if link in excl:
            return []
        ln = ABI[link]
        k = self.rng.randrange(4)
        if link == 1 and k == 0:
            return [f"call {name}"]
        if link == 1 and k == 1:
            return [f"jal {name}"]
        if k == 2:
            tmp = self.tmp(excl | {link})
            return [f"la {tmp}, {name}", f"jalr {ln}, 0({tmp})"]
        return [f"jal {ln}, {name}"]

    def subroutine(self, name: str, link: int) -> list[str]:
        """Body of a subroutine returning through ``link`` (which it never writes)."""
        excl = frozenset({link})
        body = self.block(excl, self.rng.randint(1, 8), depth=2, allow_loop=False)
        ln = ABI[link]
        ret = self.rng.choice((f"jalr zero, 0({ln})", f"jr {ln}", f"c.jr {ln}")
                              + (("ret",) if link == 1 else ()))
        return [f"{name}:"] + body + [ret]

    def loop(self, excl: frozenset[int], depth: int) -> list[str]:
        """A backward loop running 1..8 times on the reserved counter s1."""
        top = self.label("loop")
        trips = self.rng.randint(1, 8)
        self.loop_depth += 1
        body = self.block(excl, self.rng.randint(1, 12), depth + 1)
        dec = self.rng.choice(("addi s1, s1, -1", "c.addi s1, -1", "addi s1, s1, -1"))
        back = self.rng.choice((f"bnez s1, {top}", f"c.bnez s1, {top}", f"bne s1, zero, {top}",
                                f"bgtz s1, {top}", f"blt zero, s1, {top}",
                                f"bltu zero, s1, {top}"))
        if back.startswith("c.bnez"):
            body = self.simple(excl, self.rng.randint(1, 6))
        self.loop_depth -= 1
        return [f"li s1, {trips}", f"{top}:"] + body + [dec, back]

    def smc(self, excl: frozenset[int], depth: int) -> list[str]:
        """Self-modifying code in a 2..3-trip loop: a 32-bit slot executes, is overwritten
        (``sw``, two ``sh`` or four ``sb``) with a new 32-bit instruction or a pair of 16-bit
        ones, ``fence.i``, and executes again -- the core's decode cache must follow stores.
        The new words are encoded here by hand, independently of ``isa``."""
        top, slot = self.label("smc"), self.label("slot")
        rd_a = self.rng.choice(FREE)
        first = f"{self.rng.choice(ALU_R + MUL_OPS)} {ABI[rd_a]}, {self.rs()}, {self.rs()}"
        written = [rd_a]
        regs = list(range(32))
        if self.rng.random() < 0.6:
            rd, rs1, rs2 = self.rng.choice(FREE), self.rng.choice(regs), self.rng.choice(regs)
            written.append(rd)
            if self.rng.random() < 0.5:     # R-type ALU / M op
                f3 = self.rng.randrange(8)
                f7 = self.rng.choice((0, 1) if f3 not in (0, 5) else (0, 1, 0x20))
                word = (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33
            else:                           # I-type ALU op (no shifts: they constrain imm)
                f3 = self.rng.choice((0, 2, 3, 4, 6, 7))
                imm = self.imm12() & 0xFFF
                word = (imm << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x13
        else:                               # c.li rd, imm ; c.mv rd2, rs2
            rd, rd2 = self.rng.choice(FREE), self.rng.choice(FREE)
            imm = self.rng.randint(-32, 31) & 0x3F
            c_li = (2 << 13) | ((imm >> 5) << 12) | (rd << 7) | ((imm & 31) << 2) | 1
            c_mv = (4 << 13) | (rd2 << 7) | (self.rng.choice(FREE) << 2) | 2
            word = (c_mv << 16) | c_li
            written += [rd, rd2]
        t, v = self.tmp2(excl)
        k = self.rng.randrange(3)
        if k == 0:
            store = [f"sw {v}, 0({t})"]
        elif k == 1:
            store = [f"sh {v}, 0({t})", f"srli {v}, {v}, 16", f"sh {v}, 2({t})"]
        else:
            store = [f"sb {v}, 0({t})", f"srli {v}, {v}, 8", f"sb {v}, 1({t})",
                     f"srli {v}, {v}, 8", f"sb {v}, 2({t})", f"srli {v}, {v}, 8",
                     f"sb {v}, 3({t})"]
        folds = [f"xor gp, gp, {ABI[r]}" for r in dict.fromkeys(written)]
        return ([f"li s1, {self.rng.randint(2, 3)}", f"{top}:", ".option push", ".option norvc",
                 f"{slot}:", first, ".option pop"] + folds
                + [f"la {t}, {slot}", f"li {v}, {word:#010x}"] + store
                + ["fence.i", "addi s1, s1, -1", f"bnez s1, {top}"])

    # ---- blocks ------------------------------------------------------------------------------
    def block(self, excl: frozenset[int], n: int, depth: int = 0,
              allow_loop: bool = True) -> list[str]:
        """``n`` random statements; control-flow nesting stops at depth 2."""
        kinds: list[tuple[float, object]] = [
            (12, self.alu_r), (10, self.alu_i), (5, self.shift_i), (3, self.upper),
            (5, self.pseudo), (6, self.mul), (3, self.mul_special), (8, self.load),
            (7, self.store), (1, self.mem_symbol), (8, self.rvc_alu), (4, self.rvc_mem),
            (1.5, self.sp_adjust), (0.5, self.fence), (1, self.norvc), (0.7, self.hint),
        ]
        flow: list[tuple[float, object]] = []
        if depth < 2:
            flow = [(6, self.branch), (2, self.jal), (2, self.jalr), (2, self.call)]
            if allow_loop and self.loop_depth == 0:   # s1 is free: no nested loops
                flow += [(2.5, self.loop), (0.6, self.smc)]
        if depth >= 2:
            flow = [(1.5, self.jal), (1, self.jalr)]
        table = kinds + flow
        weights = [w for w, _ in table]
        out: list[str] = []
        for _ in range(n):
            fn = self.rng.choices([f for _, f in table], weights)[0]
            self.items += 1
            if fn in (self.branch, self.jal, self.jalr, self.call, self.loop, self.smc):
                if fn is self.call and depth >= 2:
                    continue
                out += fn(excl, depth)
            else:
                out += self.fold(fn(excl))
        return out

    # ---- whole program -------------------------------------------------------------------------
    def program(self) -> Program:
        """Generate the complete program."""
        regs = [0] + [self.value() for _ in range(31)]
        body = self.block(frozenset(), self.rng.randint(60, 160))
        data = bytes(self.rng.getrandbits(8) for _ in range(BUF_SIZE))
        save = BUF_SIZE - SAVE_AREA - S0_OFFSET
        lines = [
            f"# random RV32IMC program, seed {self.seed}",
            '.section .text.init, "ax"',
            ".globl _start",
            "_start:",
            "la s0, buf+%d" % S0_OFFSET,
            "la sp, buf+%d" % SP_OFFSET,
            *body,
            f"sw {ABI[EXIT_REGS[0]]}, {save}(s0)",
            f"sw {ABI[EXIT_REGS[1]]}, {save + 4}(s0)",
            f"li {ABI[EXIT_REGS[1]]}, 1",
            f"la {ABI[EXIT_REGS[0]]}, tohost",
            f"sw {ABI[EXIT_REGS[1]]}, 0({ABI[EXIT_REGS[0]]})",
            "_diff_end:",
            "j _diff_end",
        ]
        for sub in self.sub_bodies:
            lines += sub
        lines += [".data", ".balign 4096", ".globl buf", "buf:"]
        for i in range(0, BUF_SIZE, 16):
            lines.append(".byte " + ", ".join(f"{b:#04x}" for b in data[i:i + 16]))
        lines += ['.section .tohost, "aw", @nobits', ".globl tohost", "tohost: .space 4"]
        src = "\n".join(ln if ln.endswith(":") or ln.startswith("#") else "    " + ln
                        for ln in lines) + "\n"
        return Program(self.seed, src, regs, self.items, [n for n, _ in self.subs])


def generate(seed: int) -> Program:
    """The random program of ``seed`` (deterministic)."""
    return _Generator(seed).program()


__all__ = ["BUF_SIZE", "FREE", "INTERESTING", "Program", "RV32I_MNEMONICS", "RV32M_MNEMONICS",
           "RVC_MNEMONICS", "S0_OFFSET", "SP_OFFSET", "generate"]
