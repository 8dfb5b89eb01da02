"""A table-driven, GNU-as-compatible assembler and linker for RV32IMC + Zicsr + Zifencei + XpulpV2.

Everything about real instructions comes from the tables in ``isa.tables.ALL``: the mnemonic and
``syntax`` of each :class:`~isa.spec.Instr` decide how its operands are parsed (when a mnemonic
has several encodings, the one whose syntax matches the operand shapes wins), and its
``Operand`` segments decide the encoding.  Hand-written code exists only for directives,
pseudo-instructions and the choice of RVC compression, which mirrors GNU as 2.40
(``-march=rv32imc_zicsr_zifencei``, ``.option norelax``):

* with ``.option rvc`` (the default) an instruction is emitted compressed when a 16-bit
  encoding ``expands`` to it and the operands fit, trying candidates in GNU's order and
  refusing HINT encodings, as GNU as does (``mv``/``li``/``nop``/``ret``/``jr``/``jalr rs``/
  ``jal label`` only compress to their own aliases; ``la``/``call``/``tail`` never compress);
* conditional branches and jumps to labels are relaxed like GNU as: the 16-bit form if the
  final distance fits, else the 32-bit one, else an inverted branch over a ``jal``; the
  layout is iterated until stable, using GAS's own sizing rule and update order;
* ``.balign``/``.p2align`` in code sections pad with ``c.nop``/``nop`` (GNU's
  ``riscv_make_nops``); alignments not larger than the instruction alignment are ignored in
  code sections, as GNU does.

``.option relax`` is accepted but behaves like ``norelax`` (there is no linker relaxation).

After assembly the input sections are placed by a :class:`Layout` (a small linker-script
equivalent; :data:`CV32E40P` reproduces the calibration suite's ``link.ld``) and the result is
an :class:`~isa.image.Image`.  Every error is an :class:`AsmError` whose message is
``file:line: message``.

Entry points: :func:`assemble` (returns the :class:`~isa.image.Image`) and
:func:`assemble_full` (returns an :class:`AsmResult` with sections, symbols and a listing).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import tables
from .csr import CSR_NUMBERS
from .image import Image, Segment
from .registers import ABI_NAMES, REGISTERS  # noqa: F401  (re-exported)
from .spec import IMM_B, IMM_I, IMM_J, IMM_S, IMM_U, REGISTER_SLOTS, EncodingError, Instr, Operand


class AsmError(ValueError):
    """An assembly or link error; ``str(err)`` is ``file:line: message``."""


class _NoMatch(Exception):
    """An operand list does not fit one candidate encoding (internal)."""



MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1


def _s32(v: int) -> int:
    v &= MASK32
    return v - (1 << 32) if v & 0x80000000 else v


def _s64(v: int) -> int:
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def _sext12(v: int) -> int:
    v &= 0xFFF
    return v - 0x1000 if v & 0x800 else v


# =============================================================================================
# Layout (a small linker-script equivalent)
# =============================================================================================


@dataclass(frozen=True)
class Region:
    """A memory region (``MEMORY { name : ORIGIN = origin, LENGTH = length }``)."""

    name: str
    origin: int
    length: int

    @property
    def end(self) -> int:
        """One past the last address of the region."""
        return self.origin + self.length


@dataclass(frozen=True)
class OutputSection:
    """One output section of a :class:`Layout`.

    ``inputs`` are groups of input-section name patterns (``fnmatch``): every section matching
    the first group comes first, then the second group, ... (within a group, in creation
    order) -- ``((".text.init",), (".text", ".text.*"))`` is ``KEEP(*(.text.init))
    *(.text .text.*)``.  ``addr`` fixes the start address; otherwise the section follows the
    previous section of its ``region``, aligned to ``align`` and to its inputs' alignment.
    ``kind`` is ``"load"`` (loaded contents), ``"nobits"`` (allocated, zero-filled, like
    ``.bss``) or ``"noload"`` (addresses only, not part of the image, like ``.tohost``).
    """

    name: str
    inputs: tuple[tuple[str, ...], ...]
    addr: int | None = None
    align: int = 1
    region: str = "ram"
    kind: str = "load"


@dataclass(frozen=True)
class Layout:
    """Output sections in order, memory regions, absolute symbols and the entry symbol.

    Allocated input sections that match no output section ("orphans") are appended after the
    last placed section of the first region, each aligned to its own alignment.  Input
    sections matching ``discard`` are dropped.  With ``section_symbols``, every non-empty
    output section ``.name`` also defines ``__name_start`` and ``__name_end``.
    """

    sections: tuple[OutputSection, ...]
    regions: tuple[Region, ...]
    symbols: tuple[tuple[str, int], ...] = ()
    entry: str = "_start"
    discard: tuple[str, ...] = (".riscv.attributes", ".comment", ".note*")
    section_symbols: bool = False

    def region(self, name: str) -> Region:
        """The region called ``name``."""
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(f"layout has no memory region {name!r}")


_TEXT_IN = ((".text.init",), (".text", ".text.*"))
_RODATA_IN = ((".rodata", ".rodata.*", ".srodata", ".srodata.*"),)
_DATA_IN = ((".data", ".data.*", ".sdata", ".sdata.*"),)
_BSS_IN = ((".bss", ".bss.*", ".sbss", ".sbss.*", "COMMON"),)


def cv32e40p_layout(stack_top: int = 0x000FFFF0) -> Layout:
    """The calibration suite's ``link.ld``: ``.vectors`` at 0, ``.text`` (``.text.init``
    first) at 0x80, then ``.rodata``/``.data``/``.bss`` 16-byte aligned, ``.tohost`` (not
    loaded) at 0x20000004, ``_stack_top`` = 0xFFFF0, entry ``_start``."""
    return Layout(
        sections=(
            OutputSection(".vectors", ((".vectors",),), addr=0x0),
            OutputSection(".text", _TEXT_IN, addr=0x80),
            OutputSection(".rodata", _RODATA_IN, align=16),
            OutputSection(".data", _DATA_IN, align=16),
            OutputSection(".bss", _BSS_IN, align=16, kind="nobits"),
            OutputSection(".tohost", ((".tohost",),), addr=0x20000004, region="hostif",
                          kind="noload"),
        ),
        regions=(Region("ram", 0x0, 0x00100000), Region("hostif", 0x20000000, 0x1000)),
        symbols=(("_stack_top", stack_top),),
    )


#: The preset equal to ``/work/shared/calibration/cv32e40p/link.ld``.
CV32E40P: Layout = cv32e40p_layout()


def cluster_layout(code_addr: int = 0x1C000000, code_size: int = 0x00080000,
                   data_addr: int = 0x10000000, data_size: int = 0x00020000,
                   stack_top: int | None = None, entry: str = "_start") -> Layout:
    """Code and read-only data in L2 from ``code_addr`` (``.vectors`` first), data and bss in
    the TCDM from ``data_addr``; ``_stack_top`` defaults to the end of the data region.
    Defines ``__<section>_start``/``__<section>_end`` symbols."""
    if stack_top is None:
        stack_top = (data_addr + data_size) & ~0xF
    return Layout(
        sections=(
            OutputSection(".vectors", ((".vectors",),), addr=code_addr, region="l2"),
            OutputSection(".text", _TEXT_IN, align=4, region="l2"),
            OutputSection(".rodata", _RODATA_IN, align=16, region="l2"),
            OutputSection(".data", _DATA_IN, addr=data_addr, align=16, region="tcdm"),
            OutputSection(".bss", _BSS_IN, align=16, region="tcdm", kind="nobits"),
        ),
        regions=(Region("l2", code_addr, code_size), Region("tcdm", data_addr, data_size)),
        symbols=(("_stack_top", stack_top),),
        entry=entry,
        section_symbols=True,
    )


def flat_layout(base: int = 0) -> Layout:
    """Everything contiguous from ``base``: ``.vectors``/``.text``, ``.rodata``, ``.data``,
    ``.bss`` (for tests and snippets)."""
    return Layout(
        sections=(
            OutputSection(".text", ((".vectors",),) + _TEXT_IN, addr=base),
            OutputSection(".rodata", _RODATA_IN, align=4),
            OutputSection(".data", _DATA_IN, align=4),
            OutputSection(".bss", _BSS_IN, align=4, kind="nobits"),
        ),
        regions=(Region("ram", base, (1 << 32) - base),),
    )


# =============================================================================================
# Results
# =============================================================================================


@dataclass
class SectionInfo:
    """One input section after linking (``data`` is empty for NOBITS sections)."""

    name: str
    flags: str
    nobits: bool
    addr: int
    size: int
    align: int
    data: bytes
    output: str | None


@dataclass
class AsmResult:
    """Everything the assembler knows: the image plus sections, symbols and a listing.

    ``listing`` holds ``(address, bytes, line, source)`` for every instruction and data item.
    ``output_sections`` holds ``(name, address, size, kind)`` of the placed output sections.
    """

    image: Image
    sections: list[SectionInfo]
    output_sections: list[tuple[str, int, int, str]]
    symbols: dict[str, int]
    globals: set[str]
    listing: list[tuple[int, bytes, int, str]] = field(default_factory=list)


# =============================================================================================
# Source scanning and tokens
# =============================================================================================


def _split_statements(source: str, filename: str) -> list[tuple[int, str]]:
    """Split ``source`` into ``(line, statement)``: comments removed, split at ``\\n`` / ``;``."""
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    line = start = 1
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == '"':
            j = i + 1
            while j < n and source[j] != '"' and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            buf.append(source[i:j + 1])
            i = j + 1
        elif c == "'":
            j = i + 1
            if j < n and source[j] == "\\":
                j += 1
            j += 1
            if j < n and source[j] == "'":
                j += 1
            buf.append(source[i:j])
            i = j
        elif c == "/" and source.startswith("/*", i):
            j = source.find("*/", i + 2)
            if j < 0:
                raise AsmError(f"{filename}:{line}: unterminated /* comment")
            line += source.count("\n", i, j)
            buf.append(" ")
            i = j + 2
        elif c == "#":
            j = source.find("\n", i)
            i = n if j < 0 else j
        elif c == "\n" or c == ";":
            out.append((start, "".join(buf)))
            buf = []
            if c == "\n":
                line += 1
            start = line
            i += 1
        else:
            buf.append(c)
            i += 1
    if buf:
        out.append((start, "".join(buf)))
    return out


_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<hex>0[xX][0-9a-fA-F]+)
  | (?P<lref>\d+[bf](?![0-9A-Za-z_.$]))
  | (?P<bin>0[bB][01]+)
  | (?P<dec>\d+)
  | (?P<chr>'(?:\\(?:x[0-9a-fA-F]+|[0-7]{1,3}|.)|[^\\])'?)
  | (?P<pct>%[A-Za-z_]+)
  | (?P<id>[A-Za-z_.$][A-Za-z0-9_.$]*)
  | (?P<op><<|>>|<=|>=|==|!=|<>|&&|\|\||[-+*/%&|^~!<>(),=])
""", re.X)

_ESCAPES = {"n": 10, "t": 9, "r": 13, "b": 8, "f": 12, "v": 11, "a": 7, "e": 27, "\\": 92,
            "'": 39, '"': 34, "0": 0}
RELOC_OPERATORS = ("hi", "lo", "pcrel_hi", "pcrel_lo")


def _char_value(text: str) -> int:
    body = text[1:-1] if text.endswith("'") and len(text) > 2 else text[1:]
    if body.startswith("\\"):
        esc = body[1:]
        if esc.startswith("x"):
            return int(esc[1:], 16) & 0xFF
        if esc[:1].isdigit() and esc[:1] not in "89":
            return int(esc, 8) & 0xFF
        return _ESCAPES.get(esc, ord(esc[:1]))
    return ord(body[0])


# =============================================================================================
# Expressions
# =============================================================================================
#
# AST nodes are tuples: ("num", v), ("sym", name), ("dot", section, item_index),
# ("un", op, a), ("bin", op, a, b), ("reloc", name, a) (only at the top of an operand).

# GAS precedence, lowest first: || && / + - comparisons / | & ^ / * / % << >>
_LEVELS = (frozenset({"||", "&&"}),
           frozenset({"+", "-", "==", "!=", "<>", "<", ">", "<=", ">="}),
           frozenset({"|", "&", "^"}),
           frozenset({"*", "/", "%", "<<", ">>"}))


def _binop(op: str, a: int, b: int) -> int:
    """GAS arithmetic on 64-bit values (``>>`` is a logical shift of the unsigned value)."""
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op in ("/", "%"):
        if b == 0:
            raise ValueError("division by zero")
        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
        r = q if op == "/" else a - q * b
    elif op == "<<":
        r = a << b if 0 <= b < 64 else 0
    elif op == ">>":
        r = (a & MASK64) >> b if 0 <= b < 64 else 0
    elif op == "&":
        r = a & b
    elif op == "|":
        r = a | b
    elif op == "^":
        r = a ^ b
    elif op == "&&":
        r = int(bool(a) and bool(b))
    elif op == "||":
        r = int(bool(a) or bool(b))
    else:
        r = -int({"==": a == b, "!=": a != b, "<>": a != b, "<": a < b, ">": a > b,
                  "<=": a <= b, ">=": a >= b}[op])
    return _s64(r)


def _unop(op: str, a: int) -> int:
    if op == "-":
        return _s64(-a)
    if op == "~":
        return _s64(~a)
    if op == "!":
        return int(a == 0)
    return a


class _Parser:
    """Recursive-descent parser over a token list (``(kind, value)`` pairs)."""

    def __init__(self, toks: list[tuple[str, object]], asm: "_Assembler") -> None:
        self.toks = toks
        self.pos = 0
        self.asm = asm

    def peek(self) -> tuple[str, object] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def at_end(self) -> bool:
        return self.pos >= len(self.toks)

    def accept(self, op: str) -> bool:
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] == op:
            self.pos += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.accept(op):
            raise _NoMatch(f"expected '{op}'")

    def register(self) -> int | None:
        """Consume a register name if one comes next."""
        t = self.peek()
        if t is not None and t[0] == "id" and t[1] in REGISTERS:
            self.pos += 1
            return REGISTERS[t[1]]
        return None

    def operand_expr(self) -> tuple:
        """An operand expression, possibly under a relocation operator (``%lo(x)``)."""
        t = self.peek()
        if t is not None and t[0] == "pct":
            name = t[1]
            if name not in RELOC_OPERATORS:
                raise _NoMatch(f"unknown relocation operator %{name}")
            self.pos += 1
            if not (self.peek() == ("op", "(")):
                raise _NoMatch(f"expected '(' after %{name}")
            return ("reloc", name, self.expr())
        return self.expr()

    def expr(self, level: int = 0) -> tuple:
        if level == len(_LEVELS):
            return self.unary()
        left = self.expr(level + 1)
        while True:
            t = self.peek()
            if t is None or t[0] != "op" or t[1] not in _LEVELS[level]:
                return left
            self.pos += 1
            left = ("bin", t[1], left, self.expr(level + 1))

    def unary(self) -> tuple:
        t = self.peek()
        if t is None:
            raise _NoMatch("missing expression")
        kind, val = t
        self.pos += 1
        if kind == "op" and val in ("-", "+", "~", "!"):
            return ("un", val, self.unary())
        if kind == "op" and val == "(":
            e = self.expr()
            self.expect(")")
            return e
        if kind == "num":
            return ("num", val)
        if kind == "sym":
            return ("sym", val)
        if kind == "id":
            if val == ".":
                return self.asm.dot()
            return self.asm.symbol_ref(val)
        self.pos -= 1
        raise _NoMatch(f"unexpected '{val}' in expression")


def _const(ast: tuple) -> int | None:
    """Value of ``ast`` if it is a constant (no symbols), else ``None``."""
    kind = ast[0]
    if kind == "num":
        return ast[1]
    if kind == "un":
        a = _const(ast[2])
        return None if a is None else _unop(ast[1], a)
    if kind == "bin":
        a = _const(ast[2])
        if a is None:
            return None
        b = _const(ast[3])
        if b is None:
            return None
        try:
            return _binop(ast[1], a, b)
        except ValueError:
            return None
    return None


# =============================================================================================
# Instruction tables
# =============================================================================================

_TEMPLATE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[(),!]")
_IMM_TOKENS = ("imm", "imm2", "L")
_OFF_TOKENS = {"off": "imm", "off2": "imm2"}


@lru_cache(maxsize=None)
def _template(syntax: str) -> tuple[str, ...]:
    return tuple(_TEMPLATE_RE.findall(syntax))


@lru_cache(maxsize=None)
def _by_name() -> dict[str, list[Instr]]:
    out: dict[str, list[Instr]] = {}
    for ins in tables.ALL:
        out.setdefault(ins.name.lower(), []).append(ins)   # mnemonics are case-insensitive
    return out


@lru_cache(maxsize=None)
def _decode_lists() -> tuple[tuple[Instr, ...], tuple[Instr, ...]]:
    order = tables.decode_order()
    return (tuple(i for i in order if i.length == 4), tuple(i for i in order if i.length == 2))


def decodes_to(word: int, length: int) -> Instr | None:
    """The table entry ``word`` decodes to (plain Python, same rules as ``isa.decoder``)."""
    for ins in _decode_lists()[0 if length == 4 else 1]:
        if (word & ins.mask) != ins.match:
            continue
        if any(ins.operand(s).extract(word) == 0 for s in ins.nonzero):
            continue
        return ins
    return None


def is_upper(op: Operand) -> bool:
    """U-type immediates (``lui``, ``auipc``, ``c.lui``) are written shifted right by 12."""
    return op.lowest_value_bit >= 12


def asm_to_slot(op: Operand, v: int) -> int:
    """Slot value of the assembly immediate ``v`` (U-type: ``v`` is the upper 20 bits)."""
    if is_upper(op):
        n = 32 - op.lowest_value_bit
        if not 0 <= v < (1 << n):
            raise _NoMatch(f"lui expression not in range 0..{(1 << n) - 1}")
        return _s32(v << op.lowest_value_bit)
    if op.signed and 0x80000000 <= v <= MASK32:
        v -= 1 << 32
    return v


def slot_to_asm(op: Operand, v: int) -> int:
    """Inverse of :func:`asm_to_slot` (used by the disassembler)."""
    if is_upper(op):
        return (v >> op.lowest_value_bit) & ((1 << (32 - op.lowest_value_bit)) - 1)
    return v


def encode(ins: Instr, slots: dict[str, int]) -> int:
    """Encode ``ins`` with operand slot values ``slots`` (raises ``_NoMatch`` if one does not
    fit)."""
    try:
        return ins.encode(**slots)
    except EncodingError as e:
        if e.reason == "range":
            raise _NoMatch(_range_message(e.operand, e.value)) from None
        raise _NoMatch(str(e)) from None


def _range_message(op: Operand, v: int) -> str:
    lo_bit = op.lowest_value_bit
    if op.slot in REGISTER_SLOTS:
        return f"register x{v} not allowed here"
    if v & ((1 << lo_bit) - 1):
        return f"immediate {v} is not a multiple of {1 << lo_bit}"
    n = op.nbits
    lo, hi = (-(1 << (n - 1)), (1 << (n - 1)) - 1) if op.signed else (0, (1 << n) - 1)
    return f"immediate {v} out of range [{lo + op.offset}, {hi + op.offset}]"


# --- RVC compression choice (mirrors GNU as 2.40's opcode table order and match functions) ---

#: Preference when several compressed encodings of one base instruction fit (GNU table order).
GNU_RVC_ORDER = ("c.addi4spn", "c.addi", "c.nop", "c.addi16sp", "c.li", "c.lui", "c.lwsp",
                 "c.lw", "c.swsp", "c.sw", "c.add", "c.mv")
#: Slots that GNU as requires to be non-zero when it compresses implicitly (it never emits a
#: HINT encoding for a plain instruction).
GNU_RVC_NONZERO = {"c.addi": ("rd", "imm"), "c.li": ("rd",), "c.lui": ("rd",),
                   "c.slli": ("rd", "imm"), "c.srli": ("imm",), "c.srai": ("imm",),
                   "c.mv": ("rd",), "c.add": ("rd",), "c.jr": ("rs1",), "c.jalr": ("rs1",)}
#: Base instructions whose two source registers GNU as also tries swapped (``and a0,a1,a0``).
COMMUTATIVE = frozenset({"add", "and", "or", "xor"})
#: Base instructions GNU as never compresses when written with all their operands
#: (``jal ra, f`` and ``jalr ra, 0(t0)`` stay 32-bit; the short aliases compress).
NO_IMPLICIT_RVC = frozenset({"jal", "jalr"})


@lru_cache(maxsize=None)
def rvc_candidates(base_name: str) -> tuple[Instr, ...]:
    """Compressed encodings that expand to ``base_name``, in GNU preference order."""
    found = [i for i in tables.ALL if i.length == 2 and i.expands and i.expands[0] == base_name]
    rank = {n: k for k, n in enumerate(GNU_RVC_ORDER)}
    return tuple(sorted(found, key=lambda i: rank.get(i.name, len(rank))))


def compress_slots(c: Instr, base_slots: dict[str, int]) -> dict[str, int] | None:
    """Slot values of compressed ``c`` equivalent to ``base_slots``, or ``None``."""
    out: dict[str, int] = {}
    mapped = set()
    for dst, src in c.expands[1]:
        mapped.add(dst)
        v = base_slots.get(dst, 0)
        if isinstance(src, int):
            if v != src:
                return None
        elif src in out:
            if out[src] != v:
                return None
        else:
            out[src] = v
    if any(v != 0 for s, v in base_slots.items() if s not in mapped):
        return None
    for op in c.operands:
        if not op.fits(out.get(op.slot, 0)):
            return None
    if any(out.get(s, 0) == 0 for s in c.nonzero):
        return None
    return out


def try_compress(base: Instr, slots: dict[str, int],
                 allowed: frozenset[str] | None = None) -> tuple[Instr, dict[str, int]] | None:
    """The compressed form GNU as would pick for ``base`` with ``slots`` (``allowed`` limits
    the candidates by name), or ``None``."""
    variants = [slots]
    if base.name in COMMUTATIVE:
        variants.append(dict(slots, rs1=slots.get("rs2", 0), rs2=slots.get("rs1", 0)))
    candidates = [(c, v) for c in rvc_candidates(base.name) for v in
                  (variants if dict(c.expands[1]).get("rs1") == "rd" else variants[:1])]
    if base.name == "addi" and slots.get("imm") == 0:          # GNU: addi rd, rs, 0 -> c.mv
        candidates += [(c, {"rd": slots.get("rd", 0), "rs1": 0, "rs2": slots.get("rs1", 0)})
                       for c in rvc_candidates("add") if c.name == "c.mv"]
    for c, v in candidates:
        if allowed is not None and c.name not in allowed:
            continue
        cs = compress_slots(c, v)
        if cs is None or any(cs.get(s, 0) == 0 for s in GNU_RVC_NONZERO.get(c.name, ())):
            continue
        if decodes_to(encode(c, cs), 2) is c:
            return c, cs
    return None


def _relaxable(ins: Instr) -> bool:
    """32-bit branches/jumps with a standard B/J offset are relaxed like GNU as does."""
    op = ins.operand("imm")
    return ins.length == 4 and "off" in _template(ins.syntax) and op in (IMM_B, IMM_J)


# =============================================================================================
# Sections and items
# =============================================================================================


class _Item:
    """Something placed in a section; ``size`` may change during relaxation."""

    __slots__ = ("size", "line", "src")
    var = False         # variable size (ends a GAS frag)
    ends_frag = False   # GAS starts a new frag after it

    def __init__(self, size: int, line: int, src: str) -> None:
        self.size, self.line, self.src = size, line, src


class _Bytes(_Item):
    __slots__ = ("data",)

    def __init__(self, data: bytes, line: int, src: str) -> None:
        super().__init__(len(data), line, src)
        self.data = data


class _Fill(_Item):
    """``.space``/``.fill``: ``count`` copies of ``pattern``."""

    __slots__ = ("pattern",)
    ends_frag = True

    def __init__(self, pattern: bytes, count: int, line: int, src: str) -> None:
        super().__init__(len(pattern) * count, line, src)
        self.pattern = pattern


class _Value(_Item):
    """A data value resolved after layout (``.word label``)."""

    __slots__ = ("ast",)

    def __init__(self, size: int, ast: tuple, line: int, src: str) -> None:
        super().__init__(size, line, src)
        self.ast = ast


class _Ins(_Item):
    """A fixed-size instruction; ``deferred`` maps slots to ``(kind, ast)`` resolved later."""

    __slots__ = ("ins", "slots", "deferred", "raw", "_ends")

    def __init__(self, ins: Instr | None, slots: dict[str, int], deferred: dict, line: int,
                 src: str, raw: int | None = None, ends_frag: bool = False) -> None:
        super().__init__(4 if ins is None else ins.length, line, src)
        self.ins, self.slots, self.deferred, self.raw = ins, slots, deferred, raw
        self._ends = ends_frag

    @property
    def ends_frag(self) -> bool:  # type: ignore[override]
        return self._ends


class _Branch(_Item):
    """A relaxable branch or jump (GNU ``RELAX_BRANCH``): 2, 4, 6 or 8 bytes."""

    __slots__ = ("base", "slots", "c16", "target", "jump")
    var = True

    def __init__(self, base: Instr, slots: dict[str, int],
                 c16: tuple[Instr, dict[str, int]] | None, target: tuple, jump: bool,
                 line: int, src: str) -> None:
        super().__init__(2 if c16 else 4, line, src)
        self.base, self.slots, self.c16, self.target, self.jump = base, slots, c16, target, jump


class _Align(_Item):
    __slots__ = ("align", "fill", "max", "code")
    var = True

    def __init__(self, align: int, fill: int | None, max_skip: int, code: bool, line: int,
                 src: str) -> None:
        super().__init__(0, line, src)
        self.align, self.fill, self.max, self.code = align, fill, max_skip, code

    def pad(self, addr: int) -> int:
        p = -addr % self.align
        return 0 if self.max and p > self.max else p


class _Section:
    """An input section being assembled."""

    def __init__(self, name: str, flags: str, nobits: bool, index: int) -> None:
        self.name, self.flags, self.nobits, self.index = name, flags, nobits, index
        self.items: list[_Item] = []
        self.align = 1
        self.addr = 0
        self.offsets: list[int] = [0]
        self.output: str | None = None
        self.first_line = 0

    @property
    def code(self) -> bool:
        return "x" in self.flags

    @property
    def alloc(self) -> bool:
        return "a" in self.flags

    @property
    def size(self) -> int:
        return self.offsets[-1]

    def add(self, item: _Item) -> None:
        if not self.items:
            self.first_line = item.line
        self.items.append(item)


def _default_flags(name: str) -> tuple[str, bool]:
    """GAS's default flags and NOBITS-ness for a section name."""
    def has(*prefixes: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)
    if has(".text", ".init", ".fini", ".vectors"):
        return "ax", False
    if has(".bss", ".sbss", ".tbss"):
        return "aw", True
    if has(".data", ".sdata", ".tdata", ".tohost", ".init_array", ".fini_array"):
        return "aw", False
    if has(".rodata", ".srodata"):
        return "a", False
    return "", False


# =============================================================================================
# The assembler
# =============================================================================================


@dataclass
class _Options:
    rvc: bool = True
    relax: bool = True


class _Assembler:
    """Pass 1 (parse into section items), relaxation, linking, pass 2 (encode)."""

    def __init__(self, filename: str, layout: Layout) -> None:
        self.filename = filename
        self.layout = layout
        self.sections: dict[str, _Section] = {}
        self.section_stack: list[_Section] = []
        self.previous: _Section | None = None
        self.opts = _Options()
        self.opts_stack: list[_Options] = []
        self.labels: dict[str, tuple[_Section, int]] = {}
        self.equs: dict[str, tuple] = {}
        self.globals: set[str] = set()
        self.local_counts: dict[str, int] = {}
        self.line = 0
        self.src = ""
        self.pcrel_hi: dict[int, int] = {}
        self.layout_symbols: dict[str, int] = dict(layout.symbols)
        for name in (".text", ".data", ".bss"):
            self.get_section(name)
        self.cur = self.sections[".text"]
        self.cur.align = 2  # GNU: text section alignment 2 with RVC

    # ---- errors -------------------------------------------------------------------------

    def error(self, msg: str, line: int | None = None) -> AsmError:
        return AsmError(f"{self.filename}:{self.line if line is None else line}: {msg}")

    # ---- sections and symbols -----------------------------------------------------------

    def get_section(self, name: str, flags: str | None = None, nobits: bool | None = None
                    ) -> _Section:
        sec = self.sections.get(name)
        if sec is None:
            dflags, dnobits = _default_flags(name)
            sec = _Section(name, dflags if flags is None else flags,
                           dnobits if nobits is None else nobits, len(self.sections))
            self.sections[name] = sec
        return sec

    def switch(self, sec: _Section) -> None:
        if sec is not self.cur:
            self.previous = self.cur
            self.cur = sec

    def dot(self) -> tuple:
        return ("dot", self.cur, len(self.cur.items))

    def symbol_ref(self, name: str) -> tuple:
        """AST for a symbol reference; ``.set`` symbols are substituted by their value now."""
        if name in self.equs:
            return self.equs[name]
        return ("sym", name)

    def static_value(self, ast: tuple) -> int | None:
        """Value of ``ast`` if known now: constants, and differences of two labels of one
        section with only fixed-size items between them (as GAS resolves them)."""
        kind = ast[0]
        if kind == "num":
            return ast[1]
        if kind == "un":
            a = self.static_value(ast[2])
            return None if a is None else _unop(ast[1], a)
        if kind != "bin":
            return None
        if ast[1] == "-":
            a, b = self._location(ast[2]), self._location(ast[3])
            if a is not None and b is not None:
                return self._distance(b, a)
        a = self.static_value(ast[2])
        b = None if a is None else self.static_value(ast[3])
        if b is None:
            return None
        try:
            return _binop(ast[1], a, b)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _location(self, ast: tuple) -> tuple[_Section, int] | None:
        if ast[0] == "dot":
            return ast[1], ast[2]
        if ast[0] == "sym" and ast[1] in self.labels:
            return self.labels[ast[1]]
        return None

    @staticmethod
    def _distance(a: tuple[_Section, int], b: tuple[_Section, int]) -> int | None:
        """``address(b) - address(a)`` if fixed already, else ``None``."""
        (sa, ia), (sb, ib) = a, b
        if sa is not sb:
            return None
        lo, hi = sorted((ia, ib))
        between = sa.items[lo:hi]
        if any(it.var for it in between):
            return None
        d = sum(it.size for it in between)
        return d if ib >= ia else -d

    def define_label(self, name: str) -> None:
        if re.fullmatch(r"\d+", name):
            n = self.local_counts.get(name, 0) + 1
            self.local_counts[name] = n
            name = f"{name}\x02{n}"
        if name in self.labels or name in self.equs:
            raise self.error(f"symbol `{name}' is already defined")
        self.labels[name] = (self.cur, len(self.cur.items))

    def local_ref(self, text: str) -> str:
        num, direction = text[:-1], text[-1]
        n = self.local_counts.get(num, 0)
        if direction == "b":
            if n == 0:
                raise self.error(f"undefined local label `{text}'")
            return f"{num}\x02{n}"
        return f"{num}\x02{n + 1}"

    # ---- tokens ---------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[tuple[str, object]]:
        toks: list[tuple[str, object]] = []
        pos, n = 0, len(text)
        while pos < n:
            m = _TOKEN_RE.match(text, pos)
            if m is None:
                raise self.error(f"unexpected character `{text[pos]}'")
            kind, val = m.lastgroup, m.group()
            pos = m.end()
            if kind == "ws":
                continue
            if kind == "hex":
                toks.append(("num", int(val, 16)))
            elif kind == "bin":
                toks.append(("num", int(val[2:], 2)))
            elif kind == "dec":
                if len(val) > 1 and val[0] == "0":
                    if set(val) & {"8", "9"}:
                        raise self.error(f"bad octal number `{val}'")
                    toks.append(("num", int(val, 8)))
                else:
                    toks.append(("num", int(val)))
            elif kind == "chr":
                toks.append(("num", _char_value(val)))
            elif kind == "lref":
                toks.append(("sym", self.local_ref(val)))
            elif kind == "pct":
                name = val[1:].lower()
                if name in RELOC_OPERATORS or name.endswith(("_hi", "_lo")):
                    toks.append(("pct", name))
                else:
                    toks.append(("op", "%"))
                    pos = m.start() + 1
            else:
                toks.append((kind, val))
        return toks

    def split_args(self, text: str) -> list[list[tuple[str, object]]]:
        """Comma-separated operands (commas inside parentheses do not split)."""
        toks = self.tokenize(text)
        args: list[list[tuple[str, object]]] = [[]]
        depth = 0
        for t in toks:
            if t == ("op", "(") :
                depth += 1
            elif t == ("op", ")"):
                depth -= 1
            if t == ("op", ",") and depth == 0:
                args.append([])
            else:
                args[-1].append(t)
        return [] if args == [[]] else args

    def parse_expr(self, toks: list[tuple[str, object]], what: str = "expression") -> tuple:
        p = _Parser(toks, self)
        try:
            e = p.expr()
        except _NoMatch as exc:
            raise self.error(f"bad {what}: {exc}") from None
        if not p.at_end():
            raise self.error(f"junk at end of {what}: `{self._text(toks[p.pos:])}'")
        return e

    def const_expr(self, toks: list[tuple[str, object]], what: str = "expression") -> int:
        e = self.parse_expr(toks, what)
        v = self.static_value(e)
        if v is None:
            raise self.error(f"{what} must be a constant")
        return v

    @staticmethod
    def _text(toks: list[tuple[str, object]]) -> str:
        return " ".join(str(v) for _, v in toks)

    # ---- driver ---------------------------------------------------------------------------

    def run(self, source: str) -> None:
        stmts = _split_statements(source, self.filename)
        i = 0
        while i < len(stmts):
            self.line, text = stmts[i]
            i += 1
            text = self.take_labels(text)
            if not text:
                continue
            m = re.match(r"([A-Za-z_.$][A-Za-z0-9_.$]*)\s*", text)
            if m is None:
                raise self.error(f"syntax error: `{text}'")
            word, rest = m.group(1), text[m.end():]
            self.src = text
            low = word.lower()
            if low in (".rept", ".irp", ".irpc"):
                i = self.expand_block(stmts, i, low, rest)
                continue
            if low == ".endr":
                raise self.error(".endr without .rept")
            if low == ".end":
                break
            if rest.startswith("=") and not rest.startswith("=="):
                self.set_symbol(word, rest[1:])
            elif low.startswith(".") and low not in _pseudo_table():
                self.directive(low, rest)
            else:
                self.instruction(low, rest)

    def take_labels(self, text: str) -> str:
        while True:
            m = re.match(r"\s*([A-Za-z_.$][A-Za-z0-9_.$]*|\d+)\s*:(?!=)", text)
            if m is None:
                return text.strip()
            self.define_label(m.group(1))
            text = text[m.end():]

    def expand_block(self, stmts: list[tuple[int, str]], i: int, kind: str, rest: str) -> int:
        depth, j = 1, i
        while j < len(stmts):
            w = stmts[j][1].strip().split(None, 1)
            w0 = w[0].lower() if w else ""
            if w0 in (".rept", ".irp", ".irpc"):
                depth += 1
            elif w0 == ".endr":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        else:
            raise self.error(f"{kind} without .endr")
        body = stmts[i:j]
        if kind == ".rept":
            count = self.const_expr(self.tokenize(rest), ".rept count")
            expansion = body * max(count, 0)
        else:
            name, _, values = rest.partition(",")
            name = name.strip()
            items = ([v.strip() for v in values.split(",")] if kind == ".irp"
                     else list(values.strip()))
            expansion = [(ln, re.sub(r"\\" + re.escape(name) + r"\b", v, t))
                         for v in items for ln, t in body]
        stmts[i - 1:j + 1] = expansion
        return i - 1

    # ---- directives -----------------------------------------------------------------------

    def directive(self, name: str, rest: str) -> None:
        handler = _DIRECTIVES.get(name)
        if handler is None:
            raise self.error(f"unknown directive `{name}'")
        handler(self, rest.strip())

    def set_symbol(self, name: str, expr_text: str) -> None:
        if name in self.labels:
            raise self.error(f"symbol `{name}' is already defined")
        e = self.parse_expr(self.tokenize(expr_text))
        v = self.static_value(e)
        self.equs[name] = ("num", v) if v is not None else e

    def emit_bytes(self, data: bytes) -> None:
        if self.cur.nobits and any(data):
            raise self.error(f"attempt to store non-zero value in section `{self.cur.name}'")
        self.cur.add(_Bytes(bytes(data), self.line, self.src))

    def emit_values(self, size: int, rest: str) -> None:
        for arg in self.split_args(rest):
            e = self.parse_expr(arg)
            v = self.static_value(e)
            if v is not None:
                self.emit_bytes((v & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
            else:
                if self.cur.nobits:
                    raise self.error(f"attempt to store a value in section `{self.cur.name}'")
                item = _Value(size, e, self.line, self.src)
                self.cur.add(item)

    def emit_fill(self, count: int, size: int, value: int) -> None:
        if count < 0:
            raise self.error("repeat count must not be negative")
        size = min(size, 8)
        pattern = (value & ((1 << (8 * min(size, 4))) - 1)).to_bytes(size, "little")
        if self.cur.nobits and any(pattern):
            raise self.error(f"attempt to store non-zero value in section `{self.cur.name}'")
        self.cur.add(_Fill(pattern, count, self.line, self.src))

    def align_to(self, nbytes: int, fill: int | None, max_skip: int) -> None:
        if nbytes & (nbytes - 1) or nbytes <= 0:
            raise self.error(f"alignment {nbytes} is not a power of 2")
        self.cur.align = max(self.cur.align, nbytes)
        if self.cur.code and fill is None:
            # GNU riscv_frag_align_code: nothing to do up to the instruction alignment.
            if nbytes <= (2 if self.opts.rvc else 4):
                return
            self.cur.add(_Align(nbytes, None, max_skip, True, self.line, self.src))
        elif nbytes > 1:
            self.cur.add(_Align(nbytes, fill or 0, max_skip, False, self.line, self.src))

    # ---- instructions ---------------------------------------------------------------------

    def instruction(self, name: str, rest: str) -> None:
        args = self.split_args(rest)
        pseudo = _pseudo_table().get(name)
        if pseudo is not None and pseudo(self, args) is not False:
            return
        self.real_instruction(name, args)

    def real_instruction(self, name: str, args: list, compress: object = "auto") -> None:
        """Assemble a table instruction ``name`` (trying every encoding of that name)."""
        cands = list(_by_name().get(name, ()))
        if name in _IMM_ALIASES:
            cands += _by_name().get(name + "i", [])
        if not cands:
            raise self.error(f"unrecognized opcode `{name}'")
        if cands[0].length == 2 and not self.opts.rvc:
            raise self.error(f"`{name}' requires RVC (.option rvc)")
        errors = []
        for ins in cands:
            try:
                vals = self.match_operands(ins, args)
                self.emit_matched(ins, vals, compress)
                return
            except _NoMatch as exc:
                errors.append(str(exc))
        msg = "; ".join(dict.fromkeys(errors))
        raise self.error(f"{msg}: `{self.src}'")

    def match_operands(self, ins: Instr, args: list) -> dict[str, tuple]:
        """Parse ``args`` against the syntax of ``ins``: slot -> (kind, value or AST)."""
        toks = [t for k, a in enumerate(args) for t in ([("op", ",")] if k else []) + a]
        tpl = _template(ins.syntax)
        p = _Parser(toks, self)
        vals: dict[str, tuple] = {}
        for k, el in enumerate(tpl):
            if el in ",()!":
                p.expect(el)
            elif el in REGISTER_SLOTS:
                r = p.register()
                if r is None:
                    raise _NoMatch(f"expected a register for {el}")
                vals[el] = ("reg", r)
            elif el in REGISTERS:
                if p.register() != REGISTERS[el]:
                    raise _NoMatch(f"expected `{el}'")
            elif el == "csr":
                t = p.peek()
                if t is not None and t[0] == "id" and t[1] in CSR_NUMBERS:
                    p.pos += 1
                    vals["imm"] = ("abs", ("num", CSR_NUMBERS[t[1]]))
                else:
                    e = self._imm_ast(p)
                    if e[0] == "sym" and t is not None and t[0] == "id":
                        raise _NoMatch(f"unknown CSR `{t[1]}'")
                    vals["imm"] = ("abs", e)
            elif el in _OFF_TOKENS:
                vals[_OFF_TOKENS[el]] = ("pcrel", self._imm_ast(p))
            elif el in _IMM_TOKENS:
                slot = "rd" if el == "L" else el
                nxt = tpl[k + 1] if k + 1 < len(tpl) else None
                if nxt == "(" and p.peek() == ("op", "(") and self._bare_paren(p):
                    vals[slot] = ("abs", ("num", 0))
                    continue
                e = self._imm_ast(p, allow_reloc=True)
                if e[0] == "reloc":
                    vals[slot] = (e[1], e[2])
                else:
                    vals[slot] = ("abs", e)
            else:
                raise _NoMatch(f"unknown syntax token {el!r} in table entry {ins.name}")
        if not p.at_end():
            raise _NoMatch("too many operands" if ("op", ",") in toks[p.pos:] else
                           "illegal operands")
        return vals

    @staticmethod
    def _bare_paren(p: _Parser) -> bool:
        """``(reg)`` follows: an implicit zero offset (``lw a0, (a1)``)."""
        toks = p.toks[p.pos:]
        return (len(toks) >= 3 and toks[1][0] == "id" and toks[1][1] in REGISTERS
                and toks[2] == ("op", ")"))

    def _imm_ast(self, p: _Parser, allow_reloc: bool = False) -> tuple:
        t = p.peek()
        if t is not None and t[0] == "id" and t[1] in REGISTERS:
            raise _NoMatch("expected an expression, found a register")
        if t is not None and t[0] == "pct" and not allow_reloc:
            raise _NoMatch("relocation operator not allowed here")
        return p.operand_expr()

    def emit_matched(self, ins: Instr, vals: dict[str, tuple], compress: object) -> None:
        """Turn matched operands into an item (fixed instruction or relaxable branch)."""
        slots: dict[str, int] = {}
        deferred: dict[str, tuple] = {}
        target = None
        for slot, (kind, v) in vals.items():
            op = ins.operand(slot)
            if op is None:
                raise _NoMatch(f"{ins.name} has no operand {slot}")
            raw = self.static_value(v) if kind == "abs" else None
            if kind == "reg":
                slots[slot] = v
            elif raw is not None:
                slots[slot] = asm_to_slot(op, raw)
                if 0x80000000 <= raw <= MASK32 and not is_upper(op):
                    compress = None        # GNU compresses only literally small immediates
            elif kind == "pcrel":
                target = (slot, v)
                deferred[slot] = (kind, v)
            else:
                deferred[slot] = (kind, v)
        for slot, v in slots.items():                       # range check now (GNU: try next)
            op = ins.operand(slot)
            if not op.fits(v):
                raise _NoMatch(_range_message(op, v))
            if slot in ins.nonzero and v == 0:
                raise _NoMatch(f"{ins.name}: {slot} must be non-zero")
        rvc_ok = self.opts.rvc and compress is not None and ins.length == 4
        allowed = compress if isinstance(compress, frozenset) else None
        if rvc_ok and compress == "auto" and ins.name in NO_IMPLICIT_RVC:
            rvc_ok = False
        if target is not None and len(deferred) == 1 and _const(target[1]) is None:
            if ins.length == 2:
                base_name, _ = ins.expands
                base = tables.exec_instr(base_name)
                c16 = (ins, slots)
                bslots = {d: (slots.get(s, 0) if isinstance(s, str) else s)
                          for d, s in ins.expands[1] if d != "imm"}
                if _relaxable(base):
                    self.cur.add(_Branch(base, bslots, c16, target[1], base.operand("imm")
                                         is IMM_J, self.line, self.src))
                    return
            elif _relaxable(ins):
                c16 = try_compress(ins, dict(slots, imm=0), allowed) if rvc_ok else None
                self.cur.add(_Branch(ins, slots, c16, target[1], ins.operand("imm") is IMM_J,
                                     self.line, self.src))
                return
        if not deferred and rvc_ok:
            c = try_compress(ins, slots, allowed)
            if c is not None:
                self.cur.add(_Ins(c[0], c[1], {}, self.line, self.src))
                return
        if ins.length == 2 or not deferred:
            encode(ins, slots)                               # validates non-zero rules etc.
            if ins.length == 2 and decodes_to(encode(ins, slots), 2) is not ins:
                raise _NoMatch(f"{ins.name}: operands select a reserved or different encoding")
        ends = any(k in ("hi", "pcrel_hi") for k, _ in deferred.values())
        self.cur.add(_Ins(ins, slots, deferred, self.line, self.src, ends_frag=ends))

    def emit(self, name: str, slots: dict[str, int], deferred: dict | None = None,
             compress: object = None, ends_frag: bool = False) -> None:
        """Emit table instruction ``name`` with slot values (used by pseudo-instructions)."""
        ins = tables.exec_instr(name)
        if compress is not None and self.opts.rvc and not deferred:
            c = try_compress(ins, slots, compress if isinstance(compress, frozenset) else None)
            if c is not None:
                self.cur.add(_Ins(c[0], c[1], {}, self.line, self.src))
                return
        if not deferred:
            try:
                encode(ins, slots)
            except _NoMatch as exc:
                raise self.error(f"{exc}: `{self.src}'") from None
        self.cur.add(_Ins(ins, slots, deferred or {}, self.line, self.src, ends_frag=ends_frag))

    def emit_branch(self, name: str, slots: dict[str, int], target: tuple,
                    c16_names: frozenset[str] | None) -> None:
        """Emit a (relaxable) branch/jump to ``target`` (pseudo-instructions)."""
        ins = tables.exec_instr(name)
        c16 = None
        if c16_names is not None and self.opts.rvc:
            c16 = try_compress(ins, dict(slots, imm=0), c16_names)
        if _const(target) is not None:
            self.add_fixed_pcrel(ins, slots, target)
            return
        self.cur.add(_Branch(ins, slots, c16, target, ins.operand("imm") is IMM_J, self.line,
                             self.src))

    def add_fixed_pcrel(self, ins: Instr, slots: dict[str, int], target: tuple) -> None:
        self.cur.add(_Ins(ins, slots, {"imm": ("pcrel", target)}, self.line, self.src))

    # ---- pass 2 helpers ---------------------------------------------------------------------

    def symbol_value(self, name: str, line: int) -> int:
        if name in self.labels:
            sec, idx = self.labels[name]
            return sec.addr + sec.offsets[idx]
        if name in self.equs:
            return self.eval(self.equs[name], line)
        if name in self.layout_symbols:
            return self.layout_symbols[name]
        shown = name.split("\x02")[0] + ("f" if "\x02" in name else "")
        raise self.error(f"undefined symbol `{shown}'", line)

    def eval(self, ast: tuple, line: int) -> int:
        kind = ast[0]
        if kind == "num":
            return ast[1]
        if kind == "sym":
            return self.symbol_value(ast[1], line)
        if kind == "dot":
            return ast[1].addr + ast[1].offsets[ast[2]]
        if kind == "un":
            return _unop(ast[1], self.eval(ast[2], line))
        if kind == "bin":
            try:
                return _binop(ast[1], self.eval(ast[2], line), self.eval(ast[3], line))
            except ValueError as exc:
                raise self.error(str(exc), line) from None
        raise self.error("relocation operator not allowed here", line)


# =============================================================================================
# Directives
# =============================================================================================


def _d_section(asm: _Assembler, rest: str) -> None:
    parts = [p.strip() for p in _split_commas(rest)]
    if not parts or not parts[0]:
        raise asm.error("missing section name")
    name = parts[0].strip('"')
    flags = nobits = None
    if len(parts) > 1:
        flags = "".join(ch for ch in parts[1].strip('"') if ch in "awxMSGTR")
    if len(parts) > 2:
        typ = parts[2].lstrip("@%").lower()
        nobits = typ == "nobits"
    sec = asm.sections.get(name)
    if sec is None:
        dflags, dnobits = _default_flags(name)
        sec = asm.get_section(name, flags if flags is not None else dflags,
                              nobits if nobits is not None else dnobits)
    asm.switch(sec)


def _split_commas(text: str) -> list[str]:
    out, buf, in_str = [], [], False
    for ch in text:
        if ch == '"':
            in_str = not in_str
        if ch == "," and not in_str:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return out


def _d_simple_section(name: str):
    def handler(asm: _Assembler, rest: str) -> None:
        asm.switch(asm.get_section(name))
    return handler


def _d_pushsection(asm: _Assembler, rest: str) -> None:
    asm.section_stack.append(asm.cur)
    _d_section(asm, rest)


def _d_popsection(asm: _Assembler, rest: str) -> None:
    if not asm.section_stack:
        raise asm.error(".popsection without .pushsection")
    asm.switch(asm.section_stack.pop())


def _d_previous(asm: _Assembler, rest: str) -> None:
    if asm.previous is not None:
        asm.switch(asm.previous)


def _d_data(size: int):
    def handler(asm: _Assembler, rest: str) -> None:
        asm.emit_values(size, rest)
    return handler


def _d_space(asm: _Assembler, rest: str) -> None:
    args = asm.split_args(rest)
    if not args:
        raise asm.error("missing size")
    n = asm.const_expr(args[0], "size")
    fill = asm.const_expr(args[1], "fill value") if len(args) > 1 else 0
    asm.emit_fill(n, 1, fill)


def _d_fill(asm: _Assembler, rest: str) -> None:
    args = asm.split_args(rest)
    if not args:
        raise asm.error("missing repeat count")
    count = asm.const_expr(args[0], "repeat count")
    size = asm.const_expr(args[1], "size") if len(args) > 1 and args[1] else 1
    value = asm.const_expr(args[2], "value") if len(args) > 2 and args[2] else 0
    asm.emit_fill(count, size, value)


def _align_args(asm: _Assembler, rest: str) -> tuple[int, int | None, int]:
    args = asm.split_args(rest)
    if not args:
        raise asm.error("missing alignment")
    n = asm.const_expr(args[0], "alignment")
    fill = asm.const_expr(args[1], "fill") if len(args) > 1 and args[1] else None
    mx = asm.const_expr(args[2], "maximum skip") if len(args) > 2 and args[2] else 0
    return n, fill, mx


def _d_p2align(asm: _Assembler, rest: str) -> None:
    n, fill, mx = _align_args(asm, rest)
    asm.align_to(1 << n, fill, mx)


def _d_balign(asm: _Assembler, rest: str) -> None:
    n, fill, mx = _align_args(asm, rest)
    asm.align_to(max(n, 1), fill, mx)


def _d_globl(asm: _Assembler, rest: str) -> None:
    for name in _split_commas(rest):
        if name.strip():
            asm.globals.add(name.strip())


def _d_local(asm: _Assembler, rest: str) -> None:
    for name in _split_commas(rest):
        asm.globals.discard(name.strip())


def _d_set(asm: _Assembler, rest: str) -> None:
    name, sep, expr = rest.partition(",")
    if not sep:
        raise asm.error("expected `symbol, expression'")
    asm.set_symbol(name.strip(), expr)


def _d_equiv(asm: _Assembler, rest: str) -> None:
    name = rest.partition(",")[0].strip()
    if name in asm.equs or name in asm.labels:
        raise asm.error(f"symbol `{name}' is already defined")
    _d_set(asm, rest)


def _d_option(asm: _Assembler, rest: str) -> None:
    opt = rest.strip().lower()
    if opt == "push":
        asm.opts_stack.append(_Options(asm.opts.rvc, asm.opts.relax))
    elif opt == "pop":
        if not asm.opts_stack:
            raise asm.error(".option pop with no .option push")
        asm.opts = asm.opts_stack.pop()
    elif opt in ("rvc", "norvc"):
        asm.opts.rvc = opt == "rvc"
    elif opt in ("relax", "norelax"):
        asm.opts.relax = opt == "relax"
    elif opt in ("pic", "nopic", "csr-check", "no-csr-check") or opt.startswith("arch"):
        pass
    else:
        raise asm.error(f"unknown option `{opt}'")


def _parse_string(asm: _Assembler, text: str) -> list[bytes]:
    out = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        if i >= n:
            break
        if text[i] != '"':
            raise asm.error("expected a string")
        i += 1
        buf = bytearray()
        while i < n and text[i] != '"':
            c = text[i]
            if c == "\\" and i + 1 < n:
                e = text[i + 1]
                if e in "01234567":
                    m = re.match(r"[0-7]{1,3}", text[i + 1:])
                    buf.append(int(m.group(), 8) & 0xFF)
                    i += 1 + len(m.group())
                    continue
                if e == "x":
                    m = re.match(r"[0-9a-fA-F]+", text[i + 2:])
                    if m is None:
                        raise asm.error("bad \\x escape")
                    buf.append(int(m.group(), 16) & 0xFF)
                    i += 2 + len(m.group())
                    continue
                buf.append(_ESCAPES.get(e, ord(e)))
                i += 2
                continue
            buf += c.encode("utf-8")
            i += 1
        if i >= n:
            raise asm.error("unterminated string")
        i += 1
        out.append(bytes(buf))
    return out


def _d_string(terminate: bool):
    def handler(asm: _Assembler, rest: str) -> None:
        for s in _parse_string(asm, rest):
            asm.emit_bytes(s + (b"\0" if terminate else b""))
    return handler


def _d_ignore(asm: _Assembler, rest: str) -> None:
    return None


def _d_insn(asm: _Assembler, rest: str) -> None:
    _insn_directive(asm, rest)


_DIRECTIVES = {
    ".text": _d_simple_section(".text"), ".data": _d_simple_section(".data"),
    ".bss": _d_simple_section(".bss"), ".rodata": _d_simple_section(".rodata"),
    ".section": _d_section, ".pushsection": _d_pushsection, ".popsection": _d_popsection,
    ".previous": _d_previous,
    ".byte": _d_data(1), ".half": _d_data(2), ".short": _d_data(2), ".2byte": _d_data(2),
    ".word": _d_data(4), ".long": _d_data(4), ".int": _d_data(4), ".4byte": _d_data(4),
    ".dword": _d_data(8), ".quad": _d_data(8), ".8byte": _d_data(8),
    ".space": _d_space, ".skip": _d_space, ".zero": _d_space, ".fill": _d_fill,
    ".align": _d_p2align, ".p2align": _d_p2align, ".balign": _d_balign,
    ".globl": _d_globl, ".global": _d_globl, ".local": _d_local, ".weak": _d_globl,
    ".equ": _d_set, ".set": _d_set, ".equiv": _d_equiv, ".option": _d_option,
    ".string": _d_string(True), ".asciz": _d_string(True), ".ascii": _d_string(False),
    ".insn": _d_insn,
    ".type": _d_ignore, ".size": _d_ignore, ".file": _d_ignore, ".ident": _d_ignore,
    ".attribute": _d_ignore, ".hidden": _d_ignore, ".protected": _d_ignore,
    ".internal": _d_ignore, ".loc": _d_ignore, ".loc_view": _d_ignore,
    ".cfi_startproc": _d_ignore, ".cfi_endproc": _d_ignore, ".cfi_sections": _d_ignore,
    ".addrsig": _d_ignore, ".addrsig_sym": _d_ignore,
}


# =============================================================================================
# .insn
# =============================================================================================

OPCODE_NAMES = {"LOAD": 0x03, "LOAD_FP": 0x07, "CUSTOM_0": 0x0B, "MISC_MEM": 0x0F,
                "OP_IMM": 0x13, "AUIPC": 0x17, "OP_IMM_32": 0x1B, "STORE": 0x23,
                "STORE_FP": 0x27, "CUSTOM_1": 0x2B, "AMO": 0x2F, "OP": 0x33, "LUI": 0x37,
                "OP_32": 0x3B, "MADD": 0x43, "MSUB": 0x47, "NMSUB": 0x4B, "NMADD": 0x4F,
                "OP_FP": 0x53, "OP_V": 0x57, "CUSTOM_2": 0x5B, "BRANCH": 0x63, "JALR": 0x67,
                "JAL": 0x6F, "SYSTEM": 0x73, "CUSTOM_3": 0x7B}

#: ``.insn`` formats: operand roles after the opcode (GNU ``riscv_insn_types``).
_INSN_FORMATS = {
    "r": ("f3", "f7", "rd", "rs1", "rs2"),
    "r4": ("f3", "f2", "rd", "rs1", "rs2", "rs3"),
    "i": ("f3", "rd", "rs1", "imm_i"),
    "s": ("f3", "rs2", "mem_s"),
    "b": ("f3", "rs1", "rs2", "off_b"),
    "sb": ("f3", "rs1", "rs2", "off_b"),
    "u": ("rd", "imm_u"),
    "j": ("rd", "off_j"),
    "uj": ("rd", "off_j"),
}
_REG_SHIFT = {"rd": 7, "rs1": 15, "rs2": 20, "rs3": 27}


def _insn_directive(asm: _Assembler, rest: str) -> None:
    m = re.match(r"([A-Za-z0-9]+)\s+", rest + " ")
    fmt = m.group(1).lower() if m else ""
    if fmt not in _INSN_FORMATS:
        args = asm.split_args(rest)
        if len(args) in (1, 2):                      # .insn value / .insn length, value
            value = asm.const_expr(args[-1], ".insn value")
            length = asm.const_expr(args[0], ".insn length") if len(args) == 2 else (
                4 if value & 3 == 3 else 2)
            asm.emit_bytes((value & ((1 << (8 * length)) - 1)).to_bytes(length, "little"))
            return
        raise asm.error(f"unknown .insn format `{fmt}'")
    args = asm.split_args(rest[m.end():])
    roles = _INSN_FORMATS[fmt]
    if fmt == "i" and len(args) == 4 and ("op", "(") in args[3]:   # .insn i op, f3, rd, imm(rs1)
        roles = ("f3", "rd", "mem_i")
    if len(args) != len(roles) + 1:
        raise asm.error(f".insn {fmt}: expected {len(roles) + 1} operands")
    opcode = _insn_opcode(asm, args[0])
    word = opcode
    target = None
    deferred: dict[str, tuple] = {}
    operands: list[Operand] = []
    for role, arg in zip(roles, args[1:]):
        word, target = _insn_operand(asm, role, arg, word, target, deferred, operands)
    _emit_insn_word(asm, fmt, word, target, deferred, operands)


def _insn_opcode(asm: _Assembler, toks: list) -> int:
    if len(toks) == 1 and toks[0][0] == "id" and toks[0][1] in OPCODE_NAMES:
        return OPCODE_NAMES[toks[0][1]]
    v = asm.const_expr(toks, ".insn opcode")
    if not 0 <= v < 128 or v & 3 != 3:
        raise asm.error("bad value for opcode field, value must be 0...127 and lower 2 bits "
                        "must be 0x3")
    return v


def _insn_operand(asm: _Assembler, role: str, arg: list, word: int, target, deferred: dict,
                  operands: list) -> tuple[int, object]:
    fields = {"f3": (12, 3), "f7": (25, 7), "f2": (25, 2)}
    if role in fields:
        lsb, width = fields[role]
        v = asm.const_expr(arg, f"funct{width}")
        if not 0 <= v < (1 << width):
            raise asm.error(f"bad value for funct{width} field, value must be "
                            f"0...{(1 << width) - 1}")
        return word | (v << lsb), target
    if role in _REG_SHIFT:
        p = _Parser(arg, asm)
        r = p.register()
        if r is None or not p.at_end():
            raise asm.error(f".insn: expected a register for {role}")
        return word | (r << _REG_SHIFT[role]), target
    if role in ("mem_s", "mem_i"):
        p = _Parser(arg, asm)
        if asm._bare_paren(p):
            imm: tuple = ("num", 0)
        else:
            e = p.operand_expr()
            imm = e
        p.expect("(")
        r = p.register()
        if r is None:
            raise asm.error(".insn: expected a base register")
        p.expect(")")
        word |= r << 15
        return _insn_imm(asm, IMM_S if role == "mem_s" else IMM_I, imm, word, deferred,
                         operands), target
    if role in ("imm_i", "imm_u"):
        e = _Parser(arg, asm).operand_expr()
        return _insn_imm(asm, IMM_I if role == "imm_i" else IMM_U, e, word, deferred,
                         operands), target
    op = IMM_B if role == "off_b" else IMM_J
    operands.append(op)
    return word, asm.parse_expr(arg, "branch target")


def _insn_imm(asm: _Assembler, op: Operand, e: tuple, word: int, deferred: dict,
              operands: list) -> int:
    if e[0] == "reloc":
        operands.append(op)
        deferred["imm"] = (e[1], e[2])
        return word
    v = asm.static_value(e)
    if v is None:
        operands.append(op)
        deferred["imm"] = ("abs", e)
        return word
    try:
        slot = asm_to_slot(op, v)
    except _NoMatch as exc:
        raise asm.error(str(exc)) from None
    if not op.fits(slot):
        raise asm.error(_range_message(op, slot))
    return word | op.insert(slot)


def _raw_instr(word: int, operands: list[Operand]) -> Instr:
    """A one-off table entry for a ``.insn`` word: all non-operand bits fixed."""
    free = 0
    for op in operands:
        free |= op.field_mask()
    pattern = "".join("-" if (free >> b) & 1 else str((word >> b) & 1) for b in range(31, -1, -1))
    return Instr(".insn", "insn", pattern, tuple(operands), "", "alu")


def _emit_insn_word(asm: _Assembler, fmt: str, word: int, target, deferred: dict,
                    operands: list) -> None:
    ins = _raw_instr(word, operands)
    if target is not None:
        jump = fmt in ("j", "uj")
        if _const(target) is None:
            asm.cur.add(_Branch(ins, {}, None, target, jump, asm.line, asm.src))
        else:
            asm.add_fixed_pcrel(ins, {}, target)
        return
    ends = any(k in ("hi", "pcrel_hi") for k, _ in deferred.values())
    asm.cur.add(_Ins(ins, {}, deferred, asm.line, asm.src, ends_frag=ends))


# =============================================================================================
# Pseudo-instructions (GNU as aliases and macros)
# =============================================================================================

#: Mnemonics that GNU also accepts with an immediate last operand (``and a0, a1, 3``).
_IMM_ALIASES = frozenset({"add", "and", "or", "xor", "sll", "srl", "sra", "slt", "sltu",
                          "csrrw", "csrrs", "csrrc"})
_ZERO = 0
_RA = 1
_SP = 2
_T1 = 6


def _reg(asm: _Assembler, arg: list) -> int | None:
    if len(arg) == 1 and arg[0][0] == "id" and arg[0][1] in REGISTERS:
        return REGISTERS[arg[0][1]]
    return None


def _regs(asm: _Assembler, args: list, n: int) -> list[int] | None:
    if len(args) != n:
        return None
    regs = [_reg(asm, a) for a in args]
    return None if any(r is None for r in regs) else regs


def _p_nop(asm: _Assembler, args: list):
    if args:
        return False
    asm.emit("addi", {"rd": 0, "rs1": 0, "imm": 0}, compress=frozenset({"c.nop"}))


def _p_li(asm: _Assembler, args: list):
    if len(args) != 2 or _reg(asm, args[0]) is None:
        return False
    rd = _reg(asm, args[0])
    raw = asm.const_expr(args[1], "li immediate")
    if not -(1 << 31) <= raw <= MASK32:
        raise asm.error("unsupported large constant (RV32)")
    v = _s32(raw)
    if asm.opts.rvc and v == raw:          # GNU: 0x80000000.. only normalised for 32-bit forms
        if v & 0xFFF == 0 and try_compress(tables.exec_instr("lui"), {"rd": rd, "imm": v},
                                           frozenset({"c.lui"})):
            asm.emit("lui", {"rd": rd, "imm": v}, compress=frozenset({"c.lui"}))
            return
        if -32 <= v < 32 and rd != 0:
            asm.emit("addi", {"rd": rd, "rs1": 0, "imm": v}, compress=frozenset({"c.li"}))
            return
    if -2048 <= v < 2048:
        asm.emit("addi", {"rd": rd, "rs1": 0, "imm": v})
        return
    _load_const(asm, rd, v)


def _load_const(asm: _Assembler, rd: int, v: int) -> None:
    """GNU ``load_const``: ``lui`` and/or ``addi``, each compressed where possible."""
    lo = _sext12(v)
    hi = _s32(v - lo)
    hi_reg = 0
    if hi != 0:
        asm.emit("lui", {"rd": rd, "imm": hi}, compress="auto")
        hi_reg = rd
    if lo != 0 or hi_reg == 0:
        asm.emit("addi", {"rd": rd, "rs1": hi_reg, "imm": lo}, compress="auto")


def _p_la(asm: _Assembler, args: list):
    if len(args) != 2 or _reg(asm, args[0]) is None:
        return False
    rd = _reg(asm, args[0])
    e = asm.parse_expr(args[1], "address")
    v = asm.static_value(e)
    if v is not None:
        _load_const(asm, rd, _s32(v))
        return
    _pcrel_pair(asm, rd, e, "addi", {"rd": rd, "rs1": rd})


def _pcrel_pair(asm: _Assembler, tmp: int, target: tuple, lo_name: str, lo_slots: dict) -> None:
    """``auipc tmp, %pcrel_hi(target)`` + ``lo_name ..., %pcrel_lo(that auipc)``."""
    here = asm.dot()
    asm.emit("auipc", {"rd": tmp}, {"imm": ("pcrel_hi", target)}, ends_frag=True)
    asm.emit(lo_name, dict(lo_slots), {"imm": ("pcrel_lo", here)})


def _p_call(asm: _Assembler, args: list):
    if len(args) == 1:
        rd, tmp, target = _RA, _RA, args[0]
    elif len(args) == 2 and _reg(asm, args[0]) is not None:
        rd = tmp = _reg(asm, args[0])
        target = args[1]
    else:
        return False
    _call(asm, rd, tmp, asm.parse_expr(target, "call target"))


def _call(asm: _Assembler, rd: int, tmp: int, target: tuple) -> None:
    here = asm.dot()
    asm.emit("auipc", {"rd": tmp}, {"imm": ("pcrel_hi", target)}, ends_frag=True)
    asm.emit("jalr", {"rd": rd, "rs1": tmp}, {"imm": ("pcrel_lo", here)}, ends_frag=True)


def _p_tail(asm: _Assembler, args: list):
    if len(args) != 1:
        return False
    _call(asm, _ZERO, _T1, asm.parse_expr(args[0], "tail target"))


def _p_jump(asm: _Assembler, args: list):
    if len(args) != 2 or _reg(asm, args[1]) is None:
        return False
    _call(asm, _ZERO, _reg(asm, args[1]), asm.parse_expr(args[0], "jump target"))


def _p_mv(asm: _Assembler, args: list):
    regs = _regs(asm, args, 2)
    if regs is None:
        return False
    rd, rs = regs
    if asm.opts.rvc:
        c = try_compress(tables.exec_instr("add"), {"rd": rd, "rs1": 0, "rs2": rs},
                         frozenset({"c.mv"}))
        if c is not None:
            asm.cur.add(_Ins(c[0], c[1], {}, asm.line, asm.src))
            return
    asm.emit("addi", {"rd": rd, "rs1": rs, "imm": 0})


def _alias(name: str, build):
    """A fixed-form alias of one table instruction: ``build(regs) -> slots``."""
    def handler(asm: _Assembler, args: list):
        regs = _regs(asm, args, build.__code__.co_argcount)
        if regs is None:
            return False
        asm.emit(name, build(*regs))
    return handler


def _p_jr(asm: _Assembler, args: list):
    """``jr rs`` (-> c.jr), ``jr imm(rs)``, ``jr rs, imm``."""
    return _jump_register(asm, args, _ZERO, frozenset({"c.jr"}))


def _p_jalr(asm: _Assembler, args: list):
    """``jalr rs`` (-> c.jalr), ``jalr imm(rs)``, ``jalr rs, imm``, ``jalr rd, rs``,
    ``jalr rd, rs, imm``; ``jalr rd, imm(rs)`` is the table form."""
    regs = [_reg(asm, a) for a in args]
    if len(args) == 2 and None not in regs:
        asm.emit("jalr", {"rd": regs[0], "rs1": regs[1], "imm": 0})
        return None
    if len(args) == 3 and regs[0] is not None and regs[1] is not None:
        asm.emit("jalr", {"rd": regs[0], "rs1": regs[1],
                          "imm": asm.const_expr(args[2], "offset")})
        return None
    return _jump_register(asm, args, _RA, frozenset({"c.jalr"}))


def _jump_register(asm: _Assembler, args: list, rd: int, c16: frozenset[str]):
    """The one-register forms shared by ``jr`` (rd = x0) and ``jalr`` (rd = ra)."""
    if len(args) == 1 and _reg(asm, args[0]) is not None:
        asm.emit("jalr", {"rd": rd, "rs1": _reg(asm, args[0]), "imm": 0}, compress=c16)
        return None
    if len(args) == 1:                                     # imm(rs)
        asm.real_instruction("jalr", [[("id", ABI_NAMES[rd])], args[0]], compress=None)
        return None
    if len(args) == 2 and _reg(asm, args[0]) is not None and ("op", "(") not in args[1]:
        asm.emit("jalr", {"rd": rd, "rs1": _reg(asm, args[0]),
                          "imm": asm.const_expr(args[1], "offset")})
        return None
    return False


def _p_ret(asm: _Assembler, args: list):
    if args:
        return False
    asm.emit("jalr", {"rd": 0, "rs1": _RA, "imm": 0}, compress=frozenset({"c.jr"}))


def _p_j(asm: _Assembler, args: list):
    if len(args) != 1:
        return False
    asm.emit_branch("jal", {"rd": 0}, asm.parse_expr(args[0], "jump target"),
                    frozenset({"c.j"}))


def _p_jal(asm: _Assembler, args: list):
    if len(args) != 1:
        return False
    asm.emit_branch("jal", {"rd": _RA}, asm.parse_expr(args[0], "jump target"),
                    frozenset({"c.jal"}))


def _branch_alias(name: str, order: str, c16: frozenset[str] | None = None):
    """``beqz rs, L`` style aliases: ``order`` gives, for rs1 then rs2, ``s`` (the register
    operand) or ``z`` (x0); e.g. ``bgtz rs, L`` = ``blt x0, rs, L`` is ``"zs"``."""
    def handler(asm: _Assembler, args: list):
        if len(args) != 2 or _reg(asm, args[0]) is None:
            return False
        r = _reg(asm, args[0])
        vals = {slot: (r if ch == "s" else 0) for slot, ch in zip(("rs1", "rs2"), order)}
        asm.emit_branch(name, vals, asm.parse_expr(args[1], "branch target"), c16)
    return handler


def _csr_alias(base: str, rd_zero: bool, rs_zero: bool):
    """``csrr rd, csr`` / ``csrw csr, rs`` / ``csrwi csr, imm`` ... (GNU aliases)."""
    def handler(asm: _Assembler, args: list):
        if rd_zero and not rs_zero:
            if len(args) != 2:
                return False
            new = [[("id", "zero")], args[0], args[1]]
        elif rs_zero:
            if len(args) != 2:
                return False
            new = [args[0], args[1], [("id", "zero")]]
        else:
            return False
        asm.real_instruction(base, new)
    return handler


def _p_rdcsr(csr: str):
    def handler(asm: _Assembler, args: list):
        if len(args) != 1 or _reg(asm, args[0]) is None:
            return False
        asm.emit("csrrs", {"rd": _reg(asm, args[0]), "imm": CSR_NUMBERS.get(csr, 0), "rs1": 0})
    return handler


_FENCE_BITS = {"i": 8, "o": 4, "r": 2, "w": 1}


def _fence_set(asm: _Assembler, arg: list) -> int:
    if len(arg) == 1 and arg[0][0] == "id" and set(arg[0][1]) <= set("iorw"):
        return sum(_FENCE_BITS[c] for c in set(arg[0][1]))
    if len(arg) == 1 and arg[0][0] == "num" and 0 <= arg[0][1] < 16:
        return arg[0][1]
    raise asm.error(f"bad fence operand `{asm._text(arg)}'")


def _p_fence(asm: _Assembler, args: list):
    if not args:
        pred = succ = 0xF
    elif len(args) == 2:
        pred, succ = _fence_set(asm, args[0]), _fence_set(asm, args[1])
    else:
        raise asm.error("fence takes no operands or `pred, succ'")
    _emit_raw(asm, "fence", (pred << 24) | (succ << 20))


def _p_fence_tso(asm: _Assembler, args: list):
    if args:
        return False
    _emit_raw(asm, "fence", (0x8 << 28) | (0x3 << 24) | (0x3 << 20))


def _emit_raw(asm: _Assembler, name: str, extra_bits: int) -> None:
    """Emit table instruction ``name`` with extra fixed bits set in its don't-care field."""
    ins = tables.exec_instr(name)
    asm.cur.add(_Ins(ins, {}, {}, asm.line, asm.src, raw=ins.match | extra_bits))


def _p_unimp(asm: _Assembler, args: list):
    if args:
        return False
    if asm.opts.rvc:
        asm.emit_bytes(b"\0\0")
    else:
        asm.emit("csrrw", {"rd": 0, "imm": 0xC00, "rs1": 0})


def _p_zext_b(asm: _Assembler, args: list):
    regs = _regs(asm, args, 2)
    if regs is None:
        return False
    asm.emit("andi", {"rd": regs[0], "rs1": regs[1], "imm": 255})


def _load_store_symbol(name: str, store: bool):
    """``lw rd, symbol`` / ``sw rs, symbol, rt``: auipc + access (GNU M_Lx / M_Sx)."""
    def handler(asm: _Assembler, args: list):
        if store:
            if len(args) != 3 or _reg(asm, args[0]) is None or _reg(asm, args[2]) is None:
                return False
            if ("op", "(") in args[1]:
                return False
            tmp = _reg(asm, args[2])
            _pcrel_pair(asm, tmp, asm.parse_expr(args[1], "address"), name,
                        {"rs2": _reg(asm, args[0]), "rs1": tmp})
            return
        if len(args) != 2 or _reg(asm, args[0]) is None or ("op", "(") in args[1]:
            return False
        rd = _reg(asm, args[0])
        _pcrel_pair(asm, rd, asm.parse_expr(args[1], "address"), name, {"rd": rd, "rs1": rd})
    return handler


@lru_cache(maxsize=None)
def _pseudo_table() -> dict:
    """Mnemonic -> handler; a handler returns ``False`` to fall back to the table forms."""
    beqz_c = frozenset({"c.beqz"})
    bnez_c = frozenset({"c.bnez"})
    table = {
        "nop": _p_nop, "li": _p_li, "la": _p_la, "lla": _p_la, "mv": _p_mv, "move": _p_mv,
        "not": _alias("xori", lambda rd, rs: {"rd": rd, "rs1": rs, "imm": -1}),
        "neg": _alias("sub", lambda rd, rs: {"rd": rd, "rs1": 0, "rs2": rs}),
        "seqz": _alias("sltiu", lambda rd, rs: {"rd": rd, "rs1": rs, "imm": 1}),
        "snez": _alias("sltu", lambda rd, rs: {"rd": rd, "rs1": 0, "rs2": rs}),
        "sltz": _alias("slt", lambda rd, rs: {"rd": rd, "rs1": rs, "rs2": 0}),
        "sgtz": _alias("slt", lambda rd, rs: {"rd": rd, "rs1": 0, "rs2": rs}),
        "sgt": _alias("slt", lambda rd, a, b: {"rd": rd, "rs1": b, "rs2": a}),
        "sgtu": _alias("sltu", lambda rd, a, b: {"rd": rd, "rs1": b, "rs2": a}),
        "zext.b": _p_zext_b,
        "j": _p_j, "jal": _p_jal, "jr": _p_jr, "jalr": _p_jalr, "ret": _p_ret,
        "call": _p_call, "tail": _p_tail, "jump": _p_jump,
        "beqz": _branch_alias("beq", "sz", beqz_c), "bnez": _branch_alias("bne", "sz", bnez_c),
        "blez": _branch_alias("bge", "zs"), "bgez": _branch_alias("bge", "sz"),
        "bltz": _branch_alias("blt", "sz"), "bgtz": _branch_alias("blt", "zs"),
        "bgt": _swapped_branch("blt"), "ble": _swapped_branch("bge"),
        "bgtu": _swapped_branch("bltu"), "bleu": _swapped_branch("bgeu"),
        "csrr": _csr_alias("csrrs", False, True), "csrw": _csr_alias("csrrw", True, False),
        "csrs": _csr_alias("csrrs", True, False), "csrc": _csr_alias("csrrc", True, False),
        "csrwi": _csr_alias("csrrwi", True, False), "csrsi": _csr_alias("csrrsi", True, False),
        "csrci": _csr_alias("csrrci", True, False),
        "rdcycle": _p_rdcsr("cycle"), "rdinstret": _p_rdcsr("instret"),
        "rdtime": _p_rdcsr("time"), "rdcycleh": _p_rdcsr("cycleh"),
        "rdinstreth": _p_rdcsr("instreth"), "rdtimeh": _p_rdcsr("timeh"),
        "fence": _p_fence, "fence.tso": _p_fence_tso, "unimp": _p_unimp,
    }
    for ld in ("lb", "lh", "lw", "lbu", "lhu"):
        table[ld] = _load_store_symbol(ld, False)
    for st in ("sb", "sh", "sw"):
        table[st] = _load_store_symbol(st, True)
    return table


def _swapped_branch(name: str):
    """``bgt a, b, L`` = ``blt b, a, L`` (and ble/bgtu/bleu)."""
    def handler(asm: _Assembler, args: list):
        if len(args) != 3 or _reg(asm, args[0]) is None or _reg(asm, args[1]) is None:
            return False
        asm.emit_branch(name, {"rs1": _reg(asm, args[1]), "rs2": _reg(asm, args[0])},
                        asm.parse_expr(args[2], "branch target"), None)
    return handler


# =============================================================================================
# Relaxation (GAS relax_segment + riscv relaxed_branch_length)
# =============================================================================================

RVC_JUMP_REACH = 1 << 12      # c.j / c.jal: +-2 KiB
RVC_BRANCH_REACH = 1 << 9     # c.beqz / c.bnez: +-256 B
BRANCH_REACH = 1 << 13        # beq & co.: +-4 KiB


def _branch_length(item: _Branch, addr: int, target: int | None) -> int:
    """GNU ``relaxed_branch_length``: 2, 4, 6 or 8 bytes for a branch at ``addr``."""
    length = 4 if item.jump else 8
    if target is not None:
        val = target - addr
        rvc_range = RVC_JUMP_REACH if item.jump else RVC_BRANCH_REACH
        if item.c16 is not None and -rvc_range // 2 <= val < rvc_range // 2:
            length = 2
        elif -BRANCH_REACH // 2 <= val < BRANCH_REACH // 2:
            length = 4
        elif not item.jump and item.c16 is not None:
            length = 6
    return length


def _local_target(asm: _Assembler, sec: _Section, ast: tuple) -> tuple[int, int] | None:
    """``(item_index, addend)`` if ``ast`` is a symbol (+ constant) defined in ``sec``."""
    addend = 0
    while ast[0] == "bin" and ast[1] in ("+", "-") and _const(ast[3]) is not None:
        addend += _const(ast[3]) if ast[1] == "+" else -_const(ast[3])
        ast = ast[2]
    if ast[0] == "bin" and ast[1] == "+" and _const(ast[2]) is not None:
        addend += _const(ast[2])
        ast = ast[3]
    if ast[0] == "dot":
        return (ast[2], addend) if ast[1] is sec else None
    if ast[0] == "sym":
        name = ast[1]
        if name in asm.labels and asm.labels[name][0] is sec:
            return asm.labels[name][1], addend
        if name in asm.equs and name not in asm.labels:
            inner = _local_target(asm, sec, asm.equs[name])
            if inner is not None:
                return inner[0], inner[1] + addend
    return None


def _relax(asm: _Assembler, sec: _Section) -> None:
    """Assign item sizes/offsets of ``sec`` the way GAS's ``relax_segment`` does."""
    items = sec.items
    n = len(items)
    targets = [(_local_target(asm, sec, it.target) if isinstance(it, _Branch) else None)
               for it in items]
    # offset of each item within its GAS frag (frags end after variable items and a few more)
    in_frag = [0] * (n + 1)
    off = 0
    for i, it in enumerate(items):
        in_frag[i] = off
        off = 0 if (it.var or it.ends_frag) else off + it.size
    in_frag[n] = off
    addr = [0] * (n + 1)
    # estimate pass: forward targets still have address 0 (+ their offset in the frag)
    a = 0
    for i, it in enumerate(items):
        addr[i] = a
        if isinstance(it, _Branch):
            t = targets[i]
            tv = None if t is None else (addr[t[0]] if t[0] <= i else in_frag[t[0]]) + t[1]
            it.size = _branch_length(it, a, tv)
        elif isinstance(it, _Align):
            it.size = it.pad(a)
        a += it.size
    addr[n] = a
    for _ in range(10000):
        stretch = 0
        changed = False
        for i, it in enumerate(items):
            was = addr[i]
            addr[i] = was + stretch
            if isinstance(it, _Branch):
                t = targets[i]
                tv = None if t is None else addr[t[0]] + t[1]
                new = _branch_length(it, addr[i], tv)
            elif isinstance(it, _Align):
                new = it.pad(addr[i])
            else:
                continue
            if new != it.size:
                changed = True
                stretch += new - it.size
                it.size = new
        addr[n] += stretch
        if not changed:
            break
    else:
        raise asm.error(f"branch relaxation of section {sec.name} does not converge")
    sec.offsets = addr


# =============================================================================================
# Linking
# =============================================================================================


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _align_up(v: int, a: int) -> int:
    return (v + a - 1) // a * a if a > 1 else v


def _link(asm: _Assembler) -> list[tuple[str, int, int, str]]:
    """Place input sections according to the layout; returns the output sections."""
    layout = asm.layout
    secs = [s for s in asm.sections.values()
            if s.alloc and not _matches(s.name, layout.discard)]
    loc = {r.name: r.origin for r in layout.regions}
    placed: list[tuple[str, int, int, str]] = []
    assigned: set[str] = set()
    for osec in layout.sections:
        members = []
        for group in osec.inputs:
            for s in secs:
                if s.name not in assigned and _matches(s.name, group):
                    members.append(s)
                    assigned.add(s.name)
        if not members:
            continue
        start = osec.addr
        if start is None:
            start = _align_up(loc[osec.region], max([osec.align] + [s.align for s in members]))
        pos = start
        for s in members:
            pos = _align_up(pos, s.align)
            s.addr, s.output = pos, osec.name
            pos += s.size
        loc[osec.region] = pos
        placed.append((osec.name, start, pos - start, osec.kind))
    first = layout.regions[0].name
    for s in secs:                                           # orphans
        if s.name not in assigned:
            pos = _align_up(loc[first], s.align)
            s.addr, s.output = pos, s.name
            loc[first] = pos + s.size
            placed.append((s.name, pos, s.size, "nobits" if s.nobits else "load"))
    _check_regions(asm, placed, secs)
    return placed


def _check_regions(asm: _Assembler, placed: list[tuple[str, int, int, str]],
                   secs: list[_Section]) -> None:
    def line_of(output: str) -> int:
        return min((s.first_line for s in secs if s.output == output and s.items), default=0)

    spans = sorted((a, a + size, name) for name, a, size, _ in placed if size)
    for (a0, e0, n0), (a1, _, n1) in zip(spans, spans[1:]):
        if a1 < e0:
            raise asm.error(f"section {n1} (0x{a1:x}) overlaps {n0} (0x{a0:x}..0x{e0:x})",
                            line_of(n1))
    for name, a, size, _ in placed:
        osec = next((o for o in asm.layout.sections if o.name == name), None)
        if osec is None or not size:
            continue
        r = asm.layout.region(osec.region)
        if a < r.origin or a + size > r.end:
            raise asm.error(f"section {name} (0x{a:x}, {size} bytes) does not fit memory "
                            f"region {r.name}", line_of(name))


# =============================================================================================
# Pass 2: encoding
# =============================================================================================


def _resolve_slot(asm: _Assembler, it: _Ins | _Branch, ins: Instr, slot: str, kind: str,
                  ast: tuple, pc: int) -> int:
    op = ins.operand(slot)
    if kind == "pcrel_lo":
        label_addr = asm.eval(ast, it.line)
        if label_addr not in asm.pcrel_hi:
            raise asm.error("%pcrel_lo: no matching %pcrel_hi (the operand must be the label "
                            "of an auipc)", it.line)
        return _sext12(asm.pcrel_hi[label_addr] - label_addr)
    v = asm.eval(ast, it.line)
    if kind == "pcrel":
        return _s32(v - pc)
    if kind == "lo":
        return _sext12(v)
    if kind == "hi":
        v = ((v + 0x800) >> 12) & 0xFFFFF
    elif kind == "pcrel_hi":
        v = ((v - pc + 0x800) >> 12) & 0xFFFFF
    try:
        return asm_to_slot(op, v)
    except _NoMatch as exc:
        raise asm.error(str(exc), it.line) from None


def _encode_ins(asm: _Assembler, it: _Ins, pc: int) -> bytes:
    if it.raw is not None:
        return it.raw.to_bytes(4, "little")
    slots = dict(it.slots)
    for slot, (kind, ast) in it.deferred.items():
        slots[slot] = _resolve_slot(asm, it, it.ins, slot, kind, ast, pc)
    try:
        word = encode(it.ins, slots)
    except _NoMatch as exc:
        raise asm.error(f"{exc}: `{it.src}'", it.line) from None
    return word.to_bytes(it.ins.length, "little")


def _encode_branch(asm: _Assembler, it: _Branch, pc: int) -> bytes:
    target = asm.eval(it.target, it.line)
    size = it.size
    try:
        if size == 2:
            c, cs = it.c16
            return encode(c, dict(cs, imm=_s32(target - pc))).to_bytes(2, "little")
        if size == 4:
            return encode(it.base, dict(it.slots, imm=_s32(target - pc))).to_bytes(4, "little")
        jal = tables.exec_instr("jal")
        if size == 6:
            c, cs = it.c16
            inv = encode(c, dict(cs, imm=6)) ^ (1 << 13)        # c.beqz <-> c.bnez
            far = encode(jal, {"rd": 0, "imm": _s32(target - pc - 2)})
            return inv.to_bytes(2, "little") + far.to_bytes(4, "little")
        inv = encode(it.base, dict(it.slots, imm=8)) ^ (1 << 12)  # beq <-> bne, blt <-> bge ...
        far = encode(jal, {"rd": 0, "imm": _s32(target - pc - 4)})
        return inv.to_bytes(4, "little") + far.to_bytes(4, "little")
    except _NoMatch as exc:
        raise asm.error(f"branch target out of range ({exc}): `{it.src}'", it.line) from None


def _nops(n: int) -> bytes:
    """GNU ``riscv_handle_align`` padding: zero byte if odd, at most one c.nop, then nops."""
    out = bytearray()
    excess = n % 4
    if excess % 2:
        out.append(0)
    if excess - len(out) == 2:
        out += (0x0001).to_bytes(2, "little")
    while len(out) < n:
        out += (0x00000013).to_bytes(4, "little")
    return bytes(out)


def _section_bytes(asm: _Assembler, sec: _Section, listing: list) -> bytes:
    out = bytearray()
    for i, it in enumerate(sec.items):
        pc = sec.addr + sec.offsets[i]
        if isinstance(it, _Bytes):
            data = it.data
        elif isinstance(it, _Fill):
            data = it.pattern * (it.size // max(len(it.pattern), 1))
        elif isinstance(it, _Value):
            v = asm.eval(it.ast, it.line)
            data = (v & ((1 << (8 * it.size)) - 1)).to_bytes(it.size, "little")
        elif isinstance(it, _Ins):
            data = _encode_ins(asm, it, pc)
        elif isinstance(it, _Branch):
            data = _encode_branch(asm, it, pc)
        else:
            data = _nops(it.size) if it.code else bytes([it.fill & 0xFF]) * it.size
        if len(data) != it.size:
            raise asm.error(f"internal: item size mismatch ({len(data)} != {it.size})", it.line)
        if isinstance(it, (_Ins, _Branch, _Value)) or (isinstance(it, _Bytes) and it.src):
            listing.append((pc, bytes(data), it.line, it.src))
        out += data
    return bytes(out)


def _collect_pcrel_hi(asm: _Assembler) -> None:
    for sec in asm.sections.values():
        for i, it in enumerate(sec.items):
            if isinstance(it, _Ins):
                for kind, ast in it.deferred.values():
                    if kind == "pcrel_hi":
                        asm.pcrel_hi[sec.addr + sec.offsets[i]] = asm.eval(ast, it.line)


# =============================================================================================
# Public API
# =============================================================================================


def assemble_full(source: str, filename: str = "<input>", layout: Layout | None = None
                  ) -> AsmResult:
    """Assemble and link ``source``; returns an :class:`AsmResult` (image, sections, symbols,
    listing).  ``layout`` defaults to :data:`CV32E40P`."""
    asm = _Assembler(filename, layout or CV32E40P)
    asm.run(source)
    for sec in asm.sections.values():
        if sec.code and sec.align > 1 and sec.items:
            # GAS pads code sections to their alignment (SUB_SEGMENT_ALIGN + HANDLE_ALIGN)
            sec.add(_Align(sec.align, None, 0, True, 0, ""))
        _relax(asm, sec)
    placed = _link(asm)
    if asm.layout.section_symbols:
        for name, a, size, _ in placed:
            base = name.lstrip(".").replace(".", "_")
            asm.layout_symbols.setdefault(f"__{base}_start", a)
            asm.layout_symbols.setdefault(f"__{base}_end", a + size)
    _collect_pcrel_hi(asm)
    listing: list = []
    infos: list[SectionInfo] = []
    for sec in asm.sections.values():
        data = b"" if sec.nobits else _section_bytes(asm, sec, listing)
        if sec.nobits:
            for it in sec.items:
                if isinstance(it, (_Ins, _Branch, _Value)):
                    raise asm.error(f"instructions or values in NOBITS section {sec.name}",
                                    it.line)
        infos.append(SectionInfo(sec.name, sec.flags, sec.nobits, sec.addr, sec.size, sec.align,
                                 data, sec.output))
    symbols = _symbol_table(asm)
    image = _build_image(asm, infos, placed, symbols)
    listing.sort(key=lambda r: r[0])
    globals_ = (set(asm.globals) | set(asm.layout_symbols)) & set(symbols)
    return AsmResult(image, infos, placed, symbols, globals_, listing)


def assemble(source: str, filename: str = "<input>", layout: Layout | None = None) -> Image:
    """Assemble and link ``source`` into an :class:`~isa.image.Image` (layout: :data:`CV32E40P`
    unless given)."""
    return assemble_full(source, filename, layout).image


def _symbol_table(asm: _Assembler) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, v in asm.layout_symbols.items():
        out[name] = v & MASK32
    for name, (sec, idx) in asm.labels.items():
        if "\x02" in name or name.startswith(".L") or not sec.alloc:
            continue
        out[name] = (sec.addr + sec.offsets[idx]) & MASK32
    for name, ast in asm.equs.items():
        if not name.startswith(".L"):
            try:
                out[name] = asm.eval(ast, asm.line) & MASK32
            except AsmError:
                pass
    return out


def _build_image(asm: _Assembler, infos: list[SectionInfo],
                 placed: list[tuple[str, int, int, str]], symbols: dict[str, int]) -> Image:
    segments: list[Segment] = []
    for oname, start, size, kind in placed:
        if kind == "noload" or size == 0:
            continue
        members = sorted((s for s in infos if s.output == oname), key=lambda s: s.addr)
        data = bytearray(size if kind == "load" else 0)
        if kind == "load":
            for s in members:
                if not s.nobits:
                    data[s.addr - start:s.addr - start + len(s.data)] = s.data
            end = max((s.addr - start + len(s.data) for s in members if not s.nobits),
                      default=0)
            data = data[:end]
        code = any("x" in s.flags for s in members)
        writable = any("w" in s.flags for s in members)
        segments.append(Segment(start, bytes(data), size, executable=code, writable=writable))
    entry = symbols.get(asm.layout.entry)
    if entry is None:
        code_segs = [s for s in segments if s.executable]
        entry = code_segs[0].addr if code_segs else (segments[0].addr if segments else 0)
    return Image(entry, segments, symbols, asm.filename)
