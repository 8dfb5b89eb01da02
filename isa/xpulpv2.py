"""XpulpV2: the PULP (RI5CY) extensions in their original encodings (format: ``isa.spec``).

Sources: the RI5CY user manual (mnemonics), gvsoc-core ``isa_pulpv2`` (encoding table) and the
pulp-platform/cv32e40p ``astral-v1.0`` decoder and ALU (what the calibration RTL executes; it wins
where the other two disagree).  Mnemonics of the calibration suite are used as written there
(``pv.sdotsp.sc.b``, ``p.clipi`` for the immediate clip, ``p.extracti`` for the immediate bit
field, ...).  Encoding choices that follow the RTL rather than gvsoc:

* SIMD register and ``.sc`` forms require bit 25 = 0, ``pv.abs`` requires bits 25:20 = 0;
* ``lp.*`` require bits 11:8 = 0, ``lp.starti/endi/counti`` rs1 = 0, ``lp.count`` imm12 = 0;
* ``p.avgu`` (gvsoc: funct7 0000010 funct3 001 on OP) is not decoded by the RTL and is left out;
* the multiply family on opcode 0x5B has both the ``Is3 = 0`` aliases (``p.muls``, ``p.macu``,
  ...) and the ``N`` forms; the ``N`` forms carry ``nonzero=("imm",)`` so that each word decodes
  to exactly one entry.

The register-offset stores keep the documented funct7 = 0000000 although the RTL ignores those
bits.  Left out as not part of PULP V2 (GAP8 / later additions the astral RTL also decodes):
``pv.pack.h.h`` (funct7 1101001), ``p.bitrev``, the complex and ``.div2/4/8`` SIMD ops.

Operand conventions: pc-relative hardware-loop and branch targets are stored in bytes (the
half-word fields are described with ``value_lsb = 1``), so snippets add ``imm``/``imm2`` to ``pc``
directly.  Bit-field instructions hold ``Is3`` (field size - 1, bits 29:25) in ``imm`` and
``Is2`` (offset, bits 24:20) in ``imm2``; syntax ``rd, rs1, Is3, Is2`` as in the manual.  SIMD
``.sci`` immediates are 6 bits: bit 25 is bit 0, bits 24:20 are bits 5:1.
"""
from __future__ import annotations

from .spec import FMT_R, IMM_B, IMM_I, IMM_S, RD, RS1, RS2, RS3_RD, Instr, Operand

EXT = "xpulpv2"

# --- operand layouts -------------------------------------------------------------------------
LOOP_L = Operand("rd", ((7, 1, 0),))                    # hardware-loop index (bit 7)
LOOP_OFF12 = Operand("imm", ((20, 12, 1),))             # uimm12 half-words -> bytes
LOOP_UIMM12 = Operand("imm", ((20, 12, 0),))            # count (lp.counti, lp.setupi)
LOOP_OFF5 = Operand("imm2", ((15, 5, 1),))              # lp.setupi end offset, half-words
BR_IMM5 = Operand("imm2", ((20, 5, 0),), signed=True)   # p.beqimm/p.bneimm comparand
UIMM5_RS2 = Operand("imm", ((20, 5, 0),))               # p.clipi/p.clipui Is2
IS3 = Operand("imm", ((25, 5, 0),))                     # bit-field size-1 / 0x5B shift
IS2 = Operand("imm2", ((20, 5, 0),))                    # bit-field offset
VIMM_S = Operand("imm", ((25, 1, 0), (20, 5, 1)), signed=True)
VIMM_U = Operand("imm", ((25, 1, 0), (20, 5, 1)))

R12 = ("rs1", "rs2")
RD_R12 = ("rd", "rs1", "rs2")
W_RD = ("rd",)

OP = "0110011"
LOAD = "0000011"
LOAD_POST = "0001011"
STORE = "0100011"
STORE_POST = "0101011"
BRANCH = "1100011"
HWLOOP = "1111011"
PULP_OP = "1011011"
VECOP = "1010111"


def _i(name: str, pattern: str, operands, syntax: str, sem: str, reads=(), writes=(),
       iclass: str = "alu", nonzero=()) -> Instr:
    return Instr(name, EXT, pattern, tuple(operands), syntax, iclass, sem, tuple(reads),
                 tuple(writes), nonzero=tuple(nonzero))


# --- loads and stores ------------------------------------------------------------------------
# name, funct3 of the immediate forms, funct7 of the register-offset forms, size, signed
_LOADS = (("p.lb", "000", "0000000", 1, True), ("p.lh", "001", "0001000", 2, True),
          ("p.lw", "010", "0010000", 4, True), ("p.lbu", "100", "0100000", 1, False),
          ("p.lhu", "101", "0101000", 2, False))
_STORES = (("p.sb", "00", 1), ("p.sh", "01", 2), ("p.sw", "10", 4))


def _memory() -> list[Instr]:
    out = []
    for name, f3, f7, size, sgn in _LOADS:
        out.append(_i(name, f"------- ----- ----- {f3} ----- {LOAD_POST}", (RD, RS1, IMM_I),
                      "rd, imm(rs1!)", f"res = LOAD(rs1v, {size}, {sgn})\nres2 = rs1v + imm",
                      ("rs1",), ("rd", "rs1"), "load"))
        out.append(_i(name, f"{f7} ----- ----- 111 ----- {LOAD}", (RD, RS1, RS2),
                      "rd, rs2(rs1)", f"res = LOAD(rs1v + rs2v, {size}, {sgn})",
                      R12, W_RD, "load"))
        out.append(_i(name, f"{f7} ----- ----- 111 ----- {LOAD_POST}", (RD, RS1, RS2),
                      "rd, rs2(rs1!)", f"res = LOAD(rs1v, {size}, {sgn})\nres2 = rs1v + rs2v",
                      R12, ("rd", "rs1"), "load"))
    for name, f2, size in _STORES:
        out.append(_i(name, f"------- ----- ----- 0{f2} ----- {STORE_POST}", (RS1, RS2, IMM_S),
                      "rs2, imm(rs1!)", f"STORE(rs1v, {size}, rs2v)\nres2 = rs1v + imm",
                      R12, ("rs1",), "store"))
        out.append(_i(name, f"0000000 ----- ----- 1{f2} ----- {STORE}", (RS1, RS2, RS3_RD),
                      "rs2, rs3(rs1)", f"STORE(rs1v + rs3v, {size}, rs2v)",
                      ("rs1", "rs2", "rs3"), (), "store"))
        out.append(_i(name, f"0000000 ----- ----- 1{f2} ----- {STORE_POST}", (RS1, RS2, RS3_RD),
                      "rs2, rs3(rs1!)", f"STORE(rs1v, {size}, rs2v)\nres2 = rs1v + rs3v",
                      ("rs1", "rs2", "rs3"), ("rs1",), "store"))
    # Event load: a word load from the event unit; the core sleeps until it answers.
    out.append(_i("p.elw", f"------- ----- ----- 110 ----- {LOAD}", (RD, RS1, IMM_I),
                  "rd, imm(rs1)", "res = LOAD(rs1v + imm, 4, True)", ("rs1",), W_RD, "elw"))
    return out


# --- hardware loops (L in the rd slot; st.hwl[c, L] = start, end (last body insn), count) ----
def _hwloops() -> list[Instr]:
    hw = "hwloop"
    return [
        _i("lp.starti", f"------------ 00000 000 0000- {HWLOOP}", (LOOP_L, LOOP_OFF12), "L, off",
           "st.hwl[c, rd, 0] = pc + imm", iclass=hw),
        _i("lp.endi", f"------------ 00000 001 0000- {HWLOOP}", (LOOP_L, LOOP_OFF12), "L, off",
           "st.hwl[c, rd, 1] = pc + imm", iclass=hw),
        _i("lp.count", f"000000000000 ----- 010 0000- {HWLOOP}", (LOOP_L, RS1), "L, rs1",
           "st.hwl[c, rd, 2] = u32(rs1v)", ("rs1",), iclass=hw),
        _i("lp.counti", f"------------ 00000 011 0000- {HWLOOP}", (LOOP_L, LOOP_UIMM12),
           "L, imm", "st.hwl[c, rd, 2] = imm", iclass=hw),
        _i("lp.setup", f"------------ ----- 100 0000- {HWLOOP}", (LOOP_L, RS1, LOOP_OFF12),
           "L, rs1, off",
           "st.hwl[c, rd, 0] = npc\nst.hwl[c, rd, 1] = pc + imm\nst.hwl[c, rd, 2] = u32(rs1v)",
           ("rs1",), iclass=hw),
        _i("lp.setupi", f"------------ ----- 101 0000- {HWLOOP}", (LOOP_L, LOOP_UIMM12, LOOP_OFF5),
           "L, imm, off2",
           "st.hwl[c, rd, 0] = npc\nst.hwl[c, rd, 1] = pc + imm2\nst.hwl[c, rd, 2] = imm",
           iclass=hw),
    ]


# --- branches with an immediate comparand ----------------------------------------------------
def _branches() -> list[Instr]:
    return [
        _i(name, f"------- ----- ----- {f3} ----- {BRANCH}", (RS1, IMM_B, BR_IMM5),
           "rs1, imm2, off", f"if rs1v {cmp} imm2:\n    npc = pc + imm", ("rs1",),
           iclass="branch")
        for name, f3, cmp in (("p.beqimm", "010", "=="), ("p.bneimm", "011", "!="))
    ]


# --- scalar ALU on OP (0x33) -----------------------------------------------------------------
def _rr(name: str, f7: str, f3: str, expr: str, reads=R12) -> Instr:
    return _i(name, f"{f7} ----- ----- {f3} ----- {OP}", FMT_R, "rd, rs1, rs2", f"res = {expr}",
              reads, W_RD)


def _r1(name: str, f7: str, f3: str, expr: str) -> Instr:
    return _i(name, f"{f7} 00000 ----- {f3} ----- {OP}", (RD, RS1), "rd, rs1", f"res = {expr}",
              ("rs1",), W_RD)


def _scalar() -> list[Instr]:
    out = [
        _rr("p.mac", "0100001", "000", "rdv + rs1v * rs2v", RD_R12),
        _rr("p.msu", "0100001", "001", "rdv - rs1v * rs2v", RD_R12),
        _r1("p.abs", "0000010", "000", "rs1v if rs1v >= 0 else -rs1v"),
        _rr("p.slet", "0000010", "010", "1 if rs1v <= rs2v else 0"),
        _rr("p.sletu", "0000010", "011", "1 if u32(rs1v) <= u32(rs2v) else 0"),
        _rr("p.min", "0000010", "100", "rs1v if rs1v < rs2v else rs2v"),
        _rr("p.minu", "0000010", "101", "rs1v if u32(rs1v) < u32(rs2v) else rs2v"),
        _rr("p.max", "0000010", "110", "rs1v if rs1v > rs2v else rs2v"),
        _rr("p.maxu", "0000010", "111", "rs1v if u32(rs1v) > u32(rs2v) else rs2v"),
        _rr("p.ror", "0000100", "101", "xp_ror(rs1v, rs2v)"),
        _r1("p.ff1", "0001000", "000", "xp_ff1(rs1v)"),
        _r1("p.fl1", "0001000", "001", "xp_fl1(rs1v)"),
        _r1("p.clb", "0001000", "010", "xp_clb(rs1v)"),
        _r1("p.cnt", "0001000", "011", "xp_cnt(rs1v)"),
        _r1("p.exths", "0001000", "100", "sext(rs1v, 16)"),
        _r1("p.exthz", "0001000", "101", "rs1v & 0xFFFF"),
        _r1("p.extbs", "0001000", "110", "sext(rs1v, 8)"),
        _r1("p.extbz", "0001000", "111", "rs1v & 0xFF"),
        _i("p.clipi", f"0001010 ----- ----- 001 ----- {OP}", (RD, RS1, UIMM5_RS2), "rd, rs1, imm",
           "res = xp_clip(rs1v, xp_clip_bound(imm))", ("rs1",), W_RD),
        _i("p.clipui", f"0001010 ----- ----- 010 ----- {OP}", (RD, RS1, UIMM5_RS2),
           "rd, rs1, imm", "res = xp_clipu(rs1v, xp_clip_bound(imm))", ("rs1",), W_RD),
        _rr("p.clip", "0001010", "101", "xp_clip(rs1v, rs2v)"),
        _rr("p.clipu", "0001010", "110", "xp_clipu(rs1v, rs2v)"),
    ]
    # Bit fields: immediate forms (prefix 11, Is3 in 29:25, Is2 in 24:20) and register forms
    # (funct7 1000000, Is3 = rs2[9:5], Is2 = rs2[4:0]).
    bitfield = (("extract", "000", "xp_bextract({a}, {s3}, {s2})", False),
                ("extractu", "001", "xp_bextractu({a}, {s3}, {s2})", False),
                ("insert", "010", "xp_binsert(rdv, {a}, {s3}, {s2})", True),
                ("bclr", "011", "xp_bclr({a}, {s3}, {s2})", False),
                ("bset", "100", "xp_bset({a}, {s3}, {s2})", False))
    for op, f3, expr, reads_rd in bitfield:
        rd_read = ("rd",) if reads_rd else ()
        out.append(_i(f"p.{op}i", f"11----- ----- ----- {f3} ----- {OP}", (RD, RS1, IS3, IS2),
                      "rd, rs1, imm, imm2",
                      "res = " + expr.format(a="rs1v", s3="imm", s2="imm2"),
                      rd_read + ("rs1",), W_RD))
        out.append(_rr(f"p.{op}", "1000000", f3,
                       expr.format(a="rs1v", s3="(rs2v >> 5)", s2="rs2v"), rd_read + R12))
    return out


# --- 16-bit multiply / MAC / add / sub with normalisation and rounding (opcode 0x5B) -------
def _pulp_op() -> list[Instr]:
    out = []
    fmt4 = (RD, RS1, RS2, IS3)
    # bits 31:30 = {signed, high halves}; funct3 = {round, 0, mac}
    for sgn, hh, tag in ((True, False, "s"), (True, True, "hhs"), (False, False, "u"),
                         (False, True, "hhu")):
        b31, b30 = "1" if sgn else "0", "1" if hh else "0"
        prod = f"xp_half(rs1v, {hh}, {sgn}) * xp_half(rs2v, {hh}, {sgn})"
        for mac in (False, True):
            base = ("p.mac" if mac else "p.mul") + tag
            val = f"rdv + {prod}" if mac else prod
            reads = RD_R12 if mac else R12
            m = "1" if mac else "0"
            out.append(_i(base, f"{b31}{b30}00000 ----- ----- 00{m} ----- {PULP_OP}", FMT_R,
                          "rd, rs1, rs2", f"res = xp_norm({val}, 0, {sgn}, False)", reads, W_RD))
            for rnd in (False, True):
                out.append(_i(f"{base}{'RN' if rnd else 'N'}",
                              f"{b31}{b30}----- ----- ----- {'1' if rnd else '0'}0{m} ----- "
                              f"{PULP_OP}", fmt4, "rd, rs1, rs2, imm",
                              f"res = xp_norm({val}, imm, {sgn}, {rnd})", reads, W_RD,
                              nonzero=() if rnd else ("imm",)))
    # add/sub: bits 31:30 = {unsigned, register variant}; funct3 = {round, 1, sub}
    for sub in (False, True):
        opname, sign = ("sub", "-") if sub else ("add", "+")
        for uns in (False, True):
            for rnd in (False, True):
                stem = f"p.{opname}{'u' if uns else ''}{'RN' if rnd else 'N'}"
                f3 = f"{'1' if rnd else '0'}1{'1' if sub else '0'}"
                b31 = "1" if uns else "0"
                out.append(_i(stem, f"{b31}0----- ----- ----- {f3} ----- {PULP_OP}", fmt4,
                              "rd, rs1, rs2, imm",
                              f"res = xp_norm(rs1v {sign} rs2v, imm, {not uns}, {rnd})", R12,
                              W_RD))
                out.append(_i(stem + "r", f"{b31}100000 ----- ----- {f3} ----- {PULP_OP}",
                              FMT_R, "rd, rs1, rs2",
                              f"res = xp_norm(rdv {sign} rs1v, rs2v & 31, {not uns}, {rnd})",
                              RD_R12, W_RD))
    return out


# --- SIMD (opcode 0x57) ----------------------------------------------------------------------
# op: (funct6 = bits 31:26, result expression in a = rs1v, b = operand b, w = lane width,
#      .sci immediate signed?, reads rd?)
_VEC_OPS = {
    "add": ("000000", "xp_vadd(rs1v, {b}, {w})", True, False),
    "sub": ("000010", "xp_vsub(rs1v, {b}, {w})", True, False),
    "avg": ("000100", "xp_vavg(rs1v, {b}, {w})", True, False),
    "avgu": ("000110", "xp_vavgu(rs1v, {b}, {w})", False, False),
    "min": ("001000", "xp_vmin(rs1v, {b}, {w})", True, False),
    "minu": ("001010", "xp_vminu(rs1v, {b}, {w})", False, False),
    "max": ("001100", "xp_vmax(rs1v, {b}, {w})", True, False),
    "maxu": ("001110", "xp_vmaxu(rs1v, {b}, {w})", False, False),
    "srl": ("010000", "xp_vsrl(rs1v, {b}, {w})", False, False),
    "sra": ("010010", "xp_vsra(rs1v, {b}, {w})", True, False),
    "sll": ("010100", "xp_vsll(rs1v, {b}, {w})", False, False),
    "or": ("010110", "rs1v | {b}", True, False),
    "xor": ("011000", "rs1v ^ {b}", True, False),
    "and": ("011010", "rs1v & {b}", True, False),
    "dotup": ("100000", "xp_vdot(rs1v, {b}, {w}, False, False)", False, False),
    "dotusp": ("100010", "xp_vdot(rs1v, {b}, {w}, False, True)", True, False),
    "dotsp": ("100110", "xp_vdot(rs1v, {b}, {w}, True, True)", True, False),
    "sdotup": ("101000", "rdv + xp_vdot(rs1v, {b}, {w}, False, False)", False, True),
    "sdotusp": ("101010", "rdv + xp_vdot(rs1v, {b}, {w}, False, True)", True, True),
    "sdotsp": ("101110", "rdv + xp_vdot(rs1v, {b}, {w}, True, True)", True, True),
    "cmpeq": ("000001", "xp_vcmpeq(rs1v, {b}, {w})", True, False),
    "cmpne": ("000011", "xp_vcmpne(rs1v, {b}, {w})", True, False),
    "cmpgt": ("000101", "xp_vcmpgt(rs1v, {b}, {w})", True, False),
    "cmpge": ("000111", "xp_vcmpge(rs1v, {b}, {w})", True, False),
    "cmplt": ("001001", "xp_vcmplt(rs1v, {b}, {w})", True, False),
    "cmple": ("001011", "xp_vcmple(rs1v, {b}, {w})", True, False),
    "cmpgtu": ("001101", "xp_vcmpgtu(rs1v, {b}, {w})", False, False),
    "cmpgeu": ("001111", "xp_vcmpgeu(rs1v, {b}, {w})", False, False),
    "cmpltu": ("010001", "xp_vcmpltu(rs1v, {b}, {w})", False, False),
    "cmpleu": ("010011", "xp_vcmpleu(rs1v, {b}, {w})", False, False),
}
_SIZES = (("h", "0", 16), ("b", "1", 8))


def _vec(name: str, f6: str, bit25: str, f3: str, operands, syntax: str, expr: str,
         reads) -> Instr:
    return _i(name, f"{f6}{bit25} ----- ----- {f3} ----- {VECOP}", operands, syntax,
              f"res = {expr}", reads, W_RD)


def _simd() -> list[Instr]:
    out = []
    for op, (f6, expr, sci_signed, acc) in _VEC_OPS.items():
        rdr = ("rd",) if acc else ()
        vimm = VIMM_S if sci_signed else VIMM_U
        for sz, bsz, w in _SIZES:
            out.append(_vec(f"pv.{op}.{sz}", f6, "0", f"00{bsz}", FMT_R, "rd, rs1, rs2",
                            expr.format(b="rs2v", w=w), rdr + R12))
            out.append(_vec(f"pv.{op}.sc.{sz}", f6, "0", f"10{bsz}", FMT_R, "rd, rs1, rs2",
                            expr.format(b=f"xp_splat(rs2v, {w})", w=w), rdr + R12))
            out.append(_vec(f"pv.{op}.sci.{sz}", f6, "-", f"11{bsz}", (RD, RS1, vimm),
                            "rd, rs1, imm", expr.format(b=f"xp_splat(imm, {w})", w=w),
                            rdr + ("rs1",)))
    for sz, bsz, w in _SIZES:
        out.append(_i(f"pv.abs.{sz}", f"0111000 00000 ----- 00{bsz} ----- {VECOP}", (RD, RS1),
                      "rd, rs1", f"res = xp_vabs(rs1v, {w})", ("rs1",), W_RD))
        r1i = (RD, RS1, VIMM_U)
        out.append(_vec(f"pv.extract.{sz}", "011110", "-", f"11{bsz}", r1i, "rd, rs1, imm",
                        f"xp_vextract(rs1v, imm, {w})", ("rs1",)))
        out.append(_vec(f"pv.extractu.{sz}", "100100", "-", f"11{bsz}", r1i, "rd, rs1, imm",
                        f"xp_vextractu(rs1v, imm, {w})", ("rs1",)))
        out.append(_vec(f"pv.insert.{sz}", "101100", "-", f"11{bsz}", r1i, "rd, rs1, imm",
                        f"xp_vinsert(rdv, rs1v, imm, {w})", ("rd", "rs1")))
        out.append(_vec(f"pv.shuffle.{sz}", "110000", "0", f"00{bsz}", FMT_R, "rd, rs1, rs2",
                        f"xp_vshuffle(rs1v, rs2v, {w})", R12))
        out.append(_vec(f"pv.shuffle2.{sz}", "110010", "0", f"00{bsz}", FMT_R, "rd, rs1, rs2",
                        f"xp_vshuffle2(rdv, rs1v, rs2v, {w})", RD_R12))
    out.append(_vec("pv.shuffle.sci.h", "110000", "-", "110", (RD, RS1, VIMM_U), "rd, rs1, imm",
                    "xp_vshuffle(rs1v, xp_shuffle_sel_h(imm), 16)", ("rs1",)))
    # pv.shuffleI<k>.sci.b: bits 28:27 = k select lane 3's source, the immediate lanes 0..2.
    for k, f6 in enumerate(("110000", "111010", "111100", "111110")):
        out.append(_vec(f"pv.shuffleI{k}.sci.b", f6, "-", "111", (RD, RS1, VIMM_U),
                        "rd, rs1, imm", f"xp_vshuffle(rs1v, xp_shuffle_sel_b(imm, {k}), 8)",
                        ("rs1",)))
    out.append(_vec("pv.pack.h", "110100", "0", "000", FMT_R, "rd, rs1, rs2",
                    "xp_pack_h(rs1v, rs2v)", R12))
    out.append(_vec("pv.packhi.b", "110110", "0", "001", FMT_R, "rd, rs1, rs2",
                    "xp_packhi_b(rdv, rs1v, rs2v)", RD_R12))
    out.append(_vec("pv.packlo.b", "111000", "0", "001", FMT_R, "rd, rs1, rs2",
                    "xp_packlo_b(rdv, rs1v, rs2v)", RD_R12))
    return out


XPULPV2: list[Instr] = _memory() + _hwloops() + _branches() + _scalar() + _pulp_op() + _simd()
