"""XpulpV2 table (``isa.xpulpv2``) and helpers (``isa.xpulp_semantics``).

* every encoding decodes back to itself (Python and Numba decoders) and the table is
  self-consistent (operands cover all non-fixed bits, reads/writes match the snippets);
* no two encodings overlap, neither within XpulpV2 nor with RV32I/M/Zicsr/Zifencei/priv;
* every ALU snippet agrees with an independent numpy / plain-Python re-implementation on edge
  cases and random operands; memory, branch and hardware-loop snippets are checked for their
  addresses, base updates, targets and loop registers;
* the XpulpV2 words of the RTL calibration ELFs decode, in order, to the mnemonics and operands
  written in the comments of their sources.
"""
from __future__ import annotations

import random
import re
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from isa import semantics, xpulp_semantics
from isa.decoder import decode, decode_expanded
from isa.rv32i import PRIV, RV32I, RV32M, ZICSR, ZIFENCEI
from isa.spec import SLOTS, Instr, Operand
from isa.tables import op_of
from isa.xpulpv2 import XPULPV2
from tests.conftest import CALIBRATION

M32 = 0xFFFFFFFF
XP_IDS = {id(i) for i in XPULPV2}
BASE = RV32I + RV32M + ZICSR + ZIFENCEI + PRIV
NON_ALU = ("load", "store", "branch", "hwloop", "elw")


def s32(x: int) -> int:
    """Wrap to signed 32 bits (test-local, independent of ``isa.semantics``)."""
    x &= M32
    return x - (1 << 32) if x >> 31 else x


# ================================================================================================
# Table structure and decoding
# ================================================================================================

def _random_value(op: Operand, rng: random.Random, nonzero: bool) -> int:
    """A random value that ``op`` can encode (non-zero if required)."""
    lo_bit, n = op.lowest_value_bit, op.nbits
    while True:
        if op.signed:
            v = rng.randrange(-(1 << (n - 1)), 1 << (n - 1))
        else:
            v = rng.randrange(0, 1 << n)
        v = (v >> lo_bit) << lo_bit
        v += op.offset
        if op.fits(v) and not (nonzero and v == 0):
            return v


def _encode(ins: Instr, values: dict[str, int]) -> int:
    word = ins.match
    for op in ins.operands:
        word |= op.insert(values[op.slot])
    return word


def test_table_size_and_names() -> None:
    names = {i.name for i in XPULPV2}
    assert len(XPULPV2) >= 300
    assert all(i.ext == "xpulpv2" and i.length == 4 for i in XPULPV2)
    assert all(i.name.startswith(("p.", "pv.", "lp.")) for i in XPULPV2)
    # loads: imm(rs1!), rs2(rs1), rs2(rs1!); stores: imm(rs1!), rs3(rs1), rs3(rs1!)
    assert sum(i.name == "p.lw" for i in XPULPV2) == 3
    assert sum(i.name == "p.sw" for i in XPULPV2) == 3
    for required in ("lp.setup", "lp.setupi", "p.elw", "p.beqimm", "pv.sdotusp.sci.b",
                     "pv.shuffleI3.sci.b", "pv.pack.h", "p.extracti", "p.clipui", "p.addRNr"):
        assert required in names


def test_operands_cover_every_free_bit() -> None:
    """No silent don't-care bits: each bit is fixed by the pattern or belongs to an operand."""
    for ins in XPULPV2:
        cover = ins.mask
        for op in ins.operands:
            assert not (cover & op.field_mask()), f"{ins.name}: operand {op.slot} overlaps"
            cover |= op.field_mask()
        assert cover == M32, f"{ins.name} {ins.syntax}: bits {~cover & M32:#010x} uncovered"


def test_syntax_reads_writes_and_snippets_are_consistent() -> None:
    for ins in XPULPV2:
        slots = {o.slot for o in ins.operands}
        toks = ins.syntax_tokens()
        mapped = {"L": "rd", "off": "imm", "off2": "imm2"}
        assert sorted(mapped.get(t, t) for t in toks) == sorted(slots), (ins.name, ins.syntax)
        assert ins.iclass in ("alu",) + NON_ALU, ins.name
        sem = ins.sem
        for slot in ("rd", "rs1", "rs2", "rs3"):
            used = re.search(rf"\b{slot}v\b", sem) is not None
            assert used == (slot in ins.reads), f"{ins.name} {ins.syntax}: {slot} read mismatch"
        for slot in ins.reads + ins.writes:
            assert slot in slots, (ins.name, slot)
        assert ("rd" in ins.writes) == (re.search(r"\bres\s*=", sem) is not None), ins.name
        assert ("rs1" in ins.writes) == (re.search(r"\bres2\s*=", sem) is not None), ins.name
        if ins.iclass == "hwloop":
            assert "L" in toks and not ins.writes
        if ins.iclass in ("load", "elw"):
            assert "LOAD(" in sem
        if ins.iclass == "store":
            assert "STORE(" in sem


def test_every_encoding_decodes_to_itself() -> None:
    rng = random.Random(1)
    for ins in XPULPV2:
        for k in range(24):
            vals = {o.slot: _random_value(o, rng, o.slot in ins.nonzero) for o in ins.operands}
            word = _encode(ins, vals)
            got = decode(word)
            assert got is not None, f"{ins.name}: {word:#010x} illegal"
            dins, dvals = got
            assert dins is ins, (f"{word:#010x}: {ins.name} {ins.syntax} -> "
                                 f"{dins.name} {dins.syntax}")
            assert dvals == vals
            if k == 0:  # the Numba decoder agrees (op id and every slot)
                out = decode_expanded(word)
                assert out[0] == op_of(ins) and out[7] == 4
                for s, slot in enumerate(SLOTS):
                    assert out[1 + s] == vals.get(slot, 0), (ins.name, slot)


def _intersect(a: Instr, b: Instr) -> bool:
    """Whether some word matches both patterns, honouring ``nonzero`` operand constraints."""
    if (a.mask & b.mask) & (a.match ^ b.match):
        return False
    for x, y in ((a, b), (b, a)):
        for slot in x.nonzero:  # x needs slot != 0; y fixing all those bits to 0 separates them
            fm = x.operand(slot).field_mask()
            if (y.mask & fm) == fm and (y.match & fm) == 0:
                return False
    return True


def test_no_overlapping_encodings() -> None:
    clashes = []
    for n, a in enumerate(XPULPV2):
        for b in XPULPV2[n + 1:] + BASE:
            if _intersect(a, b):
                clashes.append(f"{a.name} [{a.syntax}] / {b.name} [{b.syntax}]")
    assert not clashes, clashes[:10]


def test_nonzero_aliases() -> None:
    """The N multiply forms with Is3 = 0 decode to the plain aliases (p.muls, p.macu, ...)."""
    for ins in XPULPV2:
        if ins.nonzero:
            vals = {o.slot: 1 for o in ins.operands}
            vals["imm"] = 0
            alias, _ = decode(_encode(ins, vals))
            assert alias is not ins and alias.name == ins.name[:-1] and alias.iclass == ins.iclass


# ================================================================================================
# Snippet evaluation (plain Python, with the Numba helpers)
# ================================================================================================

NAMESPACE = {n: getattr(semantics, n) for n in dir(semantics) if not n.startswith("_")}
NAMESPACE.update({n: getattr(xpulp_semantics, n) for n in xpulp_semantics.__all__})
_CODE: dict[int, object] = {}


class FakeMemory:
    """Records accesses; loads return a fixed 32-bit pattern cut to size."""

    PATTERN = 0x89ABCDEF

    def __init__(self) -> None:
        self.loads: list[tuple[int, int, bool]] = []
        self.stores: list[tuple[int, int, int]] = []

    def load(self, addr: int, size: int, signed: bool) -> int:
        self.loads.append((addr, size, signed))
        v = self.PATTERN & ((1 << (8 * size)) - 1)
        if signed and v >> (8 * size - 1):
            v -= 1 << (8 * size)
        return v

    def store(self, addr: int, size: int, value: int) -> None:
        self.stores.append((addr, size, value))


def run_sem(ins: Instr, rs1v: int = 0, rs2v: int = 0, rs3v: int = 0, rdv: int = 0,
            imm: int = 0, imm2: int = 0, rd: int = 0, pc: int = 0x1000,
            mem: FakeMemory | None = None) -> dict:
    """Execute ``ins.sem`` in Python; returns the resulting variables."""
    code = _CODE.get(id(ins))
    if code is None:
        code = _CODE[id(ins)] = compile(ins.sem, ins.name, "exec")
    mem = mem or FakeMemory()
    env = dict(NAMESPACE, rs1v=rs1v, rs2v=rs2v, rs3v=rs3v, rdv=rdv, imm=imm, imm2=imm2,
               rd=rd, rs1=1, rs2=2, rs3=3, pc=pc, npc=pc + 4, res=0, res2=0, c=0,
               st=SimpleNamespace(hwl=np.zeros((1, 2, 3), np.int64)),
               LOAD=mem.load, STORE=mem.store)
    exec(code, env)
    env["mem"] = mem
    return env


# ---- independent reference model (numpy lanes) ----------------------------------------------

assert sys.byteorder == "little"
_DT = {(16, True): np.int16, (16, False): np.uint16, (8, True): np.int8, (8, False): np.uint8}


def lanes(x: int, w: int, signed: bool) -> np.ndarray:
    """The lanes of a 32-bit value, lane 0 first."""
    return np.array([x & M32], dtype=np.uint32).view(_DT[(w, signed)]).copy()


def pack(lanes_: np.ndarray, w: int) -> int:
    """32-bit signed word from lane values (wrapped to the lane width)."""
    arr = np.asarray(lanes_).astype(np.int64) & ((1 << w) - 1)
    return s32(int(arr.astype(_DT[(w, False)]).view(np.uint32)[0]))


def ref_simd(op: str, a: int, b: int, d: int, w: int) -> int:
    """Reference result of ``pv.<op>`` on words a (rs1), b (operand b), d (old rd)."""
    sa, sb, ua, ub = lanes(a, w, True), lanes(b, w, True), lanes(a, w, False), lanes(b, w, False)
    n = 32 // w
    ones = np.full(n, -1)
    if op in ("or", "xor", "and"):
        return s32({"or": a | b, "xor": a ^ b, "and": a & b}[op])
    if op.startswith("cmp"):
        cond = {"cmpeq": ua == ub, "cmpne": ua != ub, "cmpgt": sa > sb, "cmpge": sa >= sb,
                "cmplt": sa < sb, "cmple": sa <= sb, "cmpgtu": ua > ub, "cmpgeu": ua >= ub,
                "cmpltu": ua < ub, "cmpleu": ua <= ub}[op]
        return pack(np.where(cond, ones, 0), w)
    if "dot" in op:
        x = (ua if op in ("dotup", "dotusp", "sdotup", "sdotusp") else sa).astype(np.int64)
        y = (ub if op in ("dotup", "sdotup") else sb).astype(np.int64)
        acc = d if op.startswith("s") else 0
        return s32(int((x * y).sum()) + acc)
    sh = (ub & (w - 1)).astype(np.int64)
    lane_res = {
        "add": lambda: sa + sb,                       # numpy wraps in the lane type
        "sub": lambda: sa - sb,
        "avg": lambda: (sa + sb) >> 1,                # wrapped sum, arithmetic shift
        "avgu": lambda: (ua + ub) >> 1,               # wrapped sum, logical shift
        "min": lambda: np.minimum(sa, sb),
        "minu": lambda: np.minimum(ua, ub),
        "max": lambda: np.maximum(sa, sb),
        "maxu": lambda: np.maximum(ua, ub),
        "srl": lambda: ua.astype(np.int64) >> sh,
        "sra": lambda: sa.astype(np.int64) >> sh,
        "sll": lambda: ua.astype(np.int64) << sh,
    }[op]()
    return pack(lane_res, w)


def ref_vector_instr(ins: Instr, rs1v: int, rs2v: int, rdv: int, imm: int) -> int:
    """Reference for every ``pv.*`` entry."""
    parts = ins.name.split(".")
    w = 16 if parts[-1] == "h" else 8
    n = 32 // w
    op = parts[1]
    ua, ud = lanes(rs1v, w, False), lanes(rdv, w, False)
    if op == "abs":
        return pack(np.abs(lanes(rs1v, w, True)), w)   # -2**(w-1) stays (numpy wraps too)
    if op in ("extract", "extractu"):
        return int(lanes(rs1v, w, op == "extract")[imm % n])
    if op == "insert":
        out = ud.copy()
        out[imm % n] = ua[0]
        return pack(out, w)
    if op == "pack":
        return pack([lanes(rs2v, 16, False)[0], ua[0]], 16)
    if op == "packhi":
        return pack([ud[0], ud[1], lanes(rs2v, 8, False)[0], ua[0]], 8)
    if op == "packlo":
        return pack([lanes(rs2v, 8, False)[0], ua[0], ud[2], ud[3]], 8)
    if op == "shuffle2":
        sel = lanes(rs2v, w, False).astype(np.int64)
        return pack(np.where(sel & n, ua[sel & (n - 1)], ud[sel & (n - 1)]), w)
    if op.startswith("shuffle"):
        if "sci" not in parts:
            sel = lanes(rs2v, w, False).astype(np.int64) & (n - 1)
        elif w == 16:
            sel = np.array([imm & 1, (imm >> 1) & 1])
        else:
            sel = np.array([imm & 3, (imm >> 2) & 3, (imm >> 4) & 3, int(op[-1])])
        return pack(ua[sel], w)
    if "sci" in parts:
        b = pack(np.full(n, imm), w)
    elif "sc" in parts:
        b = pack(np.full(n, lanes(rs2v, w, False)[0]), w)
    else:
        b = rs2v
    return ref_simd(op, rs1v, b, rdv, w)


# ---- scalar references ------------------------------------------------------------------------

def ref_ff1(x: int) -> int:
    x &= M32
    return 32 if x == 0 else (x & -x).bit_length() - 1


def ref_fl1(x: int) -> int:
    x &= M32
    return 32 if x == 0 else x.bit_length() - 1


def ref_clb(x: int) -> int:
    """Leading bits equal to the sign bit, minus one; 0 for 0 (RI5CY manual / RTL)."""
    bits = format(x & M32, "032b")
    return 0 if (x & M32) == 0 else len(bits) - len(bits.lstrip(bits[0])) - 1


def ref_clip(a: int, lo: int, hi: int) -> int:
    return max(lo, min(a, hi))


def _field_mask(s3: int, s2: int) -> int:
    return (((1 << (s3 + 1)) - 1) << s2) & M32


def ref_bitfield(op: str, a: int, d: int, s3: int, s2: int) -> int:
    s3, s2 = s3 & 31, s2 & 31
    size = s3 + 1
    if op == "extract":
        v = (a >> s2) & ((1 << size) - 1)       # a is signed: high bits are sign copies
        return v - (1 << size) if v >> s3 else v
    if op == "extractu":
        return ((a & M32) >> s2) & ((1 << size) - 1)
    m = _field_mask(s3, s2)
    if op == "insert":
        return s32(((a << s2) & m) | (d & ~m))
    if op == "bclr":
        return s32(a & ~m)
    return s32(a | m)                            # bset


def _half(x: int, hi: bool, signed: bool) -> int:
    return int(lanes(x, 16, signed)[1 if hi else 0])


def ref_pulp_op(name: str, rs1v: int, rs2v: int, rdv: int, imm: int) -> int:
    """Reference of the opcode-0x5B family (RI5CY manual formulas, 32-bit wrap before shift)."""
    m = re.fullmatch(r"p\.(mul|mac)(s|hhs|u|hhu)(N|RN)?", name)
    if m:
        kind, tag, norm = m.groups()
        signed, hi = "s" in tag, "hh" in tag
        val = _half(rs1v, hi, signed) * _half(rs2v, hi, signed)
        if kind == "mac":
            val += rdv
        n, rnd = (imm, norm == "RN") if norm else (0, False)
    else:
        m = re.fullmatch(r"p\.(add|sub)(u?)(N|RN)(r?)", name)
        kind, u, norm, reg = m.groups()
        signed, rnd = not u, norm == "RN"
        x, y, n = (rdv, rs1v, rs2v & 31) if reg else (rs1v, rs2v, imm)
        val = x + y if kind == "add" else x - y
    if rnd and n:
        val += 1 << (n - 1)
    if signed:
        return int(np.array([val & M32], np.uint32).view(np.int32)[0] >> n)
    return s32((val & M32) >> n)


def reference(ins: Instr, rs1v: int, rs2v: int, rdv: int, imm: int, imm2: int) -> int:
    """Expected ``res`` of every ALU-class XpulpV2 entry."""
    name = ins.name
    if name.startswith("pv."):
        return ref_vector_instr(ins, rs1v, rs2v, rdv, imm)
    u1, u2 = rs1v & M32, rs2v & M32
    scalar = {
        "p.mac": lambda: rdv + rs1v * rs2v,
        "p.msu": lambda: rdv - rs1v * rs2v,
        "p.abs": lambda: abs(rs1v),
        "p.slet": lambda: int(rs1v <= rs2v),
        "p.sletu": lambda: int(u1 <= u2),
        "p.min": lambda: min(rs1v, rs2v),
        "p.minu": lambda: min(u1, u2),
        "p.max": lambda: max(rs1v, rs2v),
        "p.maxu": lambda: max(u1, u2),
        "p.ror": lambda: ((u1 >> (u2 & 31)) | (u1 << (32 - (u2 & 31)))) & M32,
        "p.ff1": lambda: ref_ff1(rs1v),
        "p.fl1": lambda: ref_fl1(rs1v),
        "p.clb": lambda: ref_clb(rs1v),
        "p.cnt": lambda: bin(u1).count("1"),
        "p.exths": lambda: int(lanes(rs1v, 16, True)[0]),
        "p.exthz": lambda: int(lanes(rs1v, 16, False)[0]),
        "p.extbs": lambda: int(lanes(rs1v, 8, True)[0]),
        "p.extbz": lambda: int(lanes(rs1v, 8, False)[0]),
        # README: bound 2^(Is2-1) - 1; the RTL gives bound 0 for Is2 = 0
        "p.clipi": lambda: ref_clip(rs1v, -(2 ** (imm - 1)) if imm else -1,
                                    2 ** (imm - 1) - 1 if imm else 0),
        "p.clipui": lambda: ref_clip(rs1v, 0, 2 ** (imm - 1) - 1 if imm else 0),
        "p.clip": lambda: ref_clip(rs1v, -rs2v - 1, rs2v),     # rs2v >= 0 in these draws
        "p.clipu": lambda: ref_clip(rs1v, 0, rs2v),
    }
    if name in scalar:
        return scalar[name]()
    m = re.fullmatch(r"p\.(extract|extractu|insert|bclr|bset)(i?)", name)
    if m:
        op, is_imm = m.groups()
        s3, s2 = (imm, imm2) if is_imm else ((rs2v >> 5) & 31, rs2v & 31)
        return ref_bitfield(op, rs1v, rdv, s3, s2)
    return ref_pulp_op(name, rs1v, rs2v, rdv, imm)


EDGE = [0, 1, -1, 2, 0x7FFFFFFF, -0x80000000, 0x7FFF7FFF, -0x7FFF8000, 0x7F7F7F7F,
        -0x7F7F7F80, 0x00FF00FF, -0x00FF0100, 0x0001FFFF, 0x00010001, 0x01010101, 0x80,
        0x8000, 0x12345678, -0x12345679, 0x00008000, 0x7FFF0000, 0x0F0F0F0F, 31, 32, 33]


def _operand_values(ins: Instr, slot: str, rng: random.Random) -> list[int]:
    """Values of an immediate slot: all of them for fields of up to 6 bits, else edges and
    random draws."""
    op = ins.operand(slot)
    if op is None:
        return [0]
    lo = -(1 << (op.nbits - 1)) if op.signed else 0
    hi = (1 << (op.nbits - 1)) - 1 if op.signed else (1 << op.nbits) - 1
    if hi - lo < 64:  # small fields: every value
        vals = set(range(lo, hi + 1))
    else:
        vals = {lo, hi, 0, 1, min(hi, 2), max(lo, -1)} | {rng.randint(lo, hi) for _ in range(8)}
    return sorted(v for v in vals if op.fits(v) and not (slot in ins.nonzero and v == 0))


ALU = [i for i in XPULPV2 if i.iclass == "alu"]


@pytest.mark.parametrize("ins", ALU, ids=[f"{i.name}[{i.syntax}]" for i in ALU])
def test_alu_snippet_matches_reference(ins: Instr) -> None:
    rng = random.Random(zlib.crc32(f"{ins.name} {ins.syntax}".encode()))
    regs = EDGE + [s32(rng.getrandbits(32)) for _ in range(6)]
    samples = [(a, b) for a in regs[::2] for b in regs[1::2]]
    samples += [(s32(rng.getrandbits(32)), s32(rng.getrandbits(32))) for _ in range(60)]
    imms = _operand_values(ins, "imm", rng)
    imm2s = _operand_values(ins, "imm2", rng)
    register_clip = ins.name in ("p.clip", "p.clipu")
    for k, (a, b) in enumerate(samples):
        if register_clip:
            b &= 0x7FF if k % 2 else 0x7FFFFFFF  # non-negative bounds (RTL-specific below)
        d = s32(rng.getrandbits(32))
        imm, imm2 = imms[k % len(imms)], imm2s[(k // len(imms)) % len(imm2s)]
        got = run_sem(ins, rs1v=a, rs2v=b, rdv=d, imm=imm, imm2=imm2)["res"]
        want = reference(ins, a, b, d, imm, imm2)
        assert got & M32 == want & M32, (
            f"{ins.name} {ins.syntax}: rs1={a & M32:#010x} rs2={b & M32:#010x} "
            f"rd={d & M32:#010x} imm={imm} imm2={imm2}: got {got & M32:#010x}, "
            f"want {want & M32:#010x}")


def _by(name: str, syntax: str | None = None) -> Instr:
    found = [i for i in XPULPV2 if i.name == name and (syntax is None or i.syntax == syntax)]
    assert len(found) == 1, (name, syntax, found)
    return found[0]


def _res(name: str, **kw) -> int:
    return run_sem(_by(name), **kw)["res"] & M32


def test_documented_edge_cases() -> None:
    # pv.avg / pv.avgu drop the carry of the lane sum (calibration README)
    assert _res("pv.avg.h", rs1v=0x7FFF0001, rs2v=0x00010001) == 0xC0000001
    assert _res("pv.avgu.h", rs1v=0xFFFF0003 - (1 << 32), rs2v=0x00010001) == 0x00000002
    assert _res("pv.avgu.b", rs1v=0x000000FF, rs2v=0x00000003) == 0x00000001
    # lane overflow wraps; abs of the most negative lane stays
    assert _res("pv.add.b", rs1v=0x7F7FFF80, rs2v=0x01810180) == 0x80000000
    assert _res("pv.abs.h", rs1v=0x80000001 - (1 << 32)) == 0x80000001
    # SIMD shifts take the amount modulo the lane width
    assert _res("pv.sll.h", rs1v=0x00010001, rs2v=0x00110010) == 0x00020001
    assert _res("pv.srl.b", rs1v=0x80808080 - (1 << 32), rs2v=0x0F080901) == 0x01804040
    assert _res("pv.sra.sc.h", rs1v=0x80008000 - (1 << 32), rs2v=0x13) == 0xF000F000
    # bit counts
    assert [_res(f"p.{o}", rs1v=0) for o in ("ff1", "fl1", "clb", "cnt")] == [32, 32, 0, 0]
    assert [_res(f"p.{o}", rs1v=-1) for o in ("ff1", "fl1", "clb", "cnt")] == [0, 31, 31, 32]
    assert _res("p.clb", rs1v=0x00010000) == 14 and _res("p.clb", rs1v=-2) == 30
    # clip bounds: 2^(Is2-1)-1 and -2^(Is2-1); Is2 = 0 gives [-1, 0] on the RTL
    assert s32(_res("p.clipi", rs1v=1000, imm=8)) == 127
    assert s32(_res("p.clipi", rs1v=-1000, imm=8)) == -128
    assert s32(_res("p.clipi", rs1v=-5, imm=0)) == -1 and _res("p.clipi", rs1v=5, imm=0) == 0
    assert _res("p.clipui", rs1v=-5, imm=8) == 0 and _res("p.clipui", rs1v=300, imm=9) == 255
    # register clip with a negative bound follows the RTL: ~b if a <= ~b else min(a, b)
    assert _res("p.clip", rs1v=3, rs2v=-5) == 4 and s32(_res("p.clip", rs1v=9, rs2v=-5)) == -5
    # sign extension
    assert _res("p.exths", rs1v=0x12348000) == 0xFFFF8000
    assert _res("p.extbz", rs1v=-1) == 0xFF
    assert _res("pv.extract.b", rs1v=0x00800000, imm=2) == 0xFFFFFF80
    assert _res("pv.extractu.h", rs1v=-0x10000, imm=1) == 0xFFFF
    # bit fields: p.extracti rd, rs1, Is3 (size-1), Is2 (offset)
    assert _res("p.extracti", rs1v=0x00000F00, imm=3, imm2=8) == 0xFFFFFFFF
    assert _res("p.extractui", rs1v=0x00000F00, imm=3, imm2=8) == 0xF
    assert _res("p.inserti", rs1v=0x5, rdv=-1, imm=3, imm2=4) == 0xFFFFFF5F
    assert _res("p.bclri", rs1v=-1, imm=7, imm2=8) == 0xFFFF00FF
    assert _res("p.bset", rs1v=0, rs2v=(3 << 5) | 28) == 0xF0000000
    # dot products: signedness per operand, accumulator wraps
    assert s32(_res("pv.dotsp.b", rs1v=-1, rs2v=0x01010101)) == -4
    assert _res("pv.dotusp.b", rs1v=-1, rs2v=0x01010101) == 4 * 255
    want = (0x7FFFFFFF + 2 * 0xFFFF ** 2) & M32
    assert _res("pv.sdotup.h", rs1v=-1, rs2v=-1, rdv=0x7FFFFFFF) == want
    # p.mac / p.msu use the full 32-bit product
    assert _res("p.mac", rs1v=0x10000, rs2v=0x10000, rdv=5) == 5
    assert s32(_res("p.msu", rs1v=3, rs2v=4, rdv=2)) == -10
    # shuffles: shuffle2 picks rs1 when the selector's lane bit log2(n) is set
    assert _res("pv.shuffle2.h", rs1v=0x11112222, rs2v=0x00020001, rdv=0x33334444) == 0x22223333
    assert _res("pv.shuffleI3.sci.b", rs1v=0x44332211, imm=0b000110) == 0x44112233
    assert _res("pv.pack.h", rs1v=0x1234ABCD, rs2v=0x5678EF01) == 0xABCDEF01


# ---- memory, branch and hardware-loop snippets --------------------------------------------

def test_load_snippets() -> None:
    sizes = {"p.lb": (1, True), "p.lh": (2, True), "p.lw": (4, True), "p.lbu": (1, False),
             "p.lhu": (2, False), "p.elw": (4, True)}
    checked = 0
    for ins in XPULPV2:
        if ins.iclass not in ("load", "elw"):
            continue
        size, signed = sizes[ins.name]
        base, off = 0x1000, -12
        env = run_sem(ins, rs1v=base, rs2v=off, imm=off)
        post = "!" in ins.syntax
        assert env["mem"].loads == [(base if post else base + off, size, signed)], ins.syntax
        assert env["res"] == FakeMemory().load(0, size, signed)
        if post:
            assert "rs1" in ins.writes and env["res2"] == base + off
        checked += 1
    assert checked == 16


def test_store_snippets() -> None:
    sizes = {"p.sb": 1, "p.sh": 2, "p.sw": 4}
    checked = 0
    for ins in XPULPV2:
        if ins.iclass != "store":
            continue
        base, off, data = 0x2000, 24, 0x7EADBEEF
        env = run_sem(ins, rs1v=base, rs2v=data, rs3v=off, imm=off)
        post = "!" in ins.syntax
        assert env["mem"].stores == [(base if post else base + off, sizes[ins.name], data)]
        assert (env["res2"] == base + off) if post else ("rs1" not in ins.writes)
        checked += 1
    assert checked == 9


def test_branch_immediate_snippets() -> None:
    for name, eq in (("p.beqimm", True), ("p.bneimm", False)):
        ins = _by(name)
        for r, i in ((-3, -3), (5, 5), (5, -5), (0, 15), (-16, -16)):
            env = run_sem(ins, rs1v=r, imm=-40, imm2=i, pc=0x400)
            taken = (r == i) == eq
            assert env["npc"] == (0x400 - 40 if taken else 0x404), (name, r, i)


def test_hwloop_snippets() -> None:
    pc = 0x800

    def hwl(name: str, **kw) -> np.ndarray:
        return run_sem(_by(name), pc=pc, **kw)["st"].hwl[0]

    h = hwl("lp.setup", rd=1, rs1v=10, imm=24)
    assert list(h[1]) == [pc + 4, pc + 24, 10] and not h[0].any()
    h = hwl("lp.setupi", rd=0, imm=7, imm2=16)
    assert list(h[0]) == [pc + 4, pc + 16, 7]
    assert hwl("lp.starti", rd=1, imm=8)[1, 0] == pc + 8
    assert hwl("lp.endi", rd=0, imm=20)[0, 1] == pc + 20
    assert hwl("lp.count", rd=1, rs1v=-1)[1, 2] == M32
    assert hwl("lp.counti", rd=0, imm=4095)[0, 2] == 4095
    # the half-word fields are stored as byte offsets
    w = _encode(_by("lp.setup"), {"rd": 1, "rs1": 5, "imm": 24})
    assert (w >> 20) == 12 and (w >> 7) & 0x1F == 1
    w = _encode(_by("lp.setupi"), {"rd": 0, "imm": 100, "imm2": 30})
    assert (w >> 20) == 100 and (w >> 15) & 0x1F == 15


# ================================================================================================
# The calibration ELFs
# ================================================================================================

ABI = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
       "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
       "t3", "t4", "t5", "t6"]
REGNUM = {n: i for i, n in enumerate(ABI)} | {f"x{i}": i for i in range(32)} | {"fp": 8}
_XP_LINE = re.compile(r"^\s*(?:[\w.$]+:\s*)*\.(?:insn|word)\b[^#]*#\s*((?:p|pv|lp)\.[\w.]+)"
                      r"\s*(.*?)\s*(?:--.*)?$")
XP_OPCODES = (0x0B, 0x2B, 0x57, 0x5B, 0x7B)


def _expand_rept(lines: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"\s*\.rept\s+(\d+)", lines[i])
        if m:
            j = i + 1
            while not re.match(r"\s*\.endr\b", lines[j]):
                j += 1
            out += _expand_rept(lines[i + 1:j]) * int(m.group(1))
            i = j + 1
        else:
            out.append(lines[i])
            i += 1
    return out


def _source_xpulp(src: Path) -> list[tuple[str, list[str]]]:
    """(mnemonic, operand atoms) of every XpulpV2 line of a source, in emission order."""
    out = []
    for line in _expand_rept(src.read_text().splitlines()):
        m = _XP_LINE.match(line)
        if m:
            out.append((m.group(1), re.findall(r"-?[\w.$]+", m.group(2))))
    return out


def _text_words(elf: Path) -> list[tuple[int, int]]:
    """(address, word) of every 32-bit instruction in .text."""
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as fh:
        sec = ELFFile(fh).get_section_by_name(".text")
        data, addr = sec.data(), sec["sh_addr"]
    out, k = [], 0
    while k + 2 <= len(data):
        if data[k] & 3 == 3:
            out.append((addr + k, int.from_bytes(data[k:k + 4], "little")))
            k += 4
        else:
            k += 2
    return out


def _programs() -> list[Path]:
    return sorted((CALIBRATION / "programs").glob("*.S")) if CALIBRATION.exists() else []


@pytest.mark.parametrize("src", _programs(), ids=lambda p: p.stem)
def test_calibration_elf_xpulp_words(calibration_dir, src: Path) -> None:
    expected = _source_xpulp(src)
    comment_names = {n for n, _ in expected}
    found = []
    for addr, word in _text_words(src.with_suffix(".elf")):
        d = decode(word)
        is_xp = d is not None and id(d[0]) in XP_IDS
        if (word & 0x7F) in XP_OPCODES:
            assert is_xp, f"{src.name} {addr:#x}: {word:#010x} does not decode to XpulpV2"
        if is_xp:
            assert d[0].name in comment_names, f"{src.name} {addr:#x}: {d[0].name}"
            found.append((addr, word, d[0], d[1]))
    assert [f[2].name for f in found] == [n for n, _ in expected]
    # operands written in the comments (labels are not checked)
    for (addr, word, ins, vals), (name, atoms) in zip(found, expected):
        toks = ins.syntax_tokens()
        assert len(toks) == len(atoms), (src.name, hex(addr), name, atoms, ins.syntax)
        for tok, atom in zip(toks, atoms):
            slot = {"L": "rd", "off": "imm", "off2": "imm2"}.get(tok, tok)
            if tok in ("rd", "rs1", "rs2", "rs3"):
                want = REGNUM[atom]
            elif re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", atom):
                want = int(atom, 0)
            else:
                continue  # a label
            assert vals[slot] == want, f"{src.name} {addr:#x} {word:#010x} {name}: {tok}={atom}"
