"""No two encodings of the same length overlap, except explicitly allowed nestings.

Two encodings overlap when some word matches both.  That is allowed only when one pattern is
strictly contained in the other (every word of the inner one also matches the outer one; the
decoder tries more specific patterns first) *and* the pair is listed below with the reason.
"""
from __future__ import annotations

from isa.spec import Instr
from isa.tables import ALL, decode_order

#: (inner, outer) -> why the inner encoding lives inside the outer one's pattern.
ALLOWED: dict[tuple[str, str], str] = {
    ("c.nop", "c.addi"): "c.nop is c.addi x0, 0; other c.addi x0/imm-0 words are HINTs",
    ("c.addi16sp", "c.lui"): "rd == 2 selects c.addi16sp in the c.lui opcode space",
    ("c.jr", "c.mv"): "c.mv with rs2 == 0 is c.jr (c.mv requires rs2 != 0)",
    ("c.ebreak", "c.jalr"): "c.jalr with rs1 == 0 is c.ebreak (c.jalr requires rs1 != 0)",
    ("c.ebreak", "c.add"): "c.add with rs2 == 0 is c.jalr/c.ebreak (c.add requires rs2 != 0)",
    ("c.jalr", "c.add"): "c.add with rs2 == 0 is c.jalr (c.add requires rs2 != 0)",
    # XpulpV2 opcode 0x5B: the Is3 == 0 aliases inside the N (shift) forms, which require
    # imm != 0 so that each word decodes to exactly one entry.
    ("p.muls", "p.mulsN"): "p.mulsN with Is3 == 0 is p.muls (N form requires imm != 0)",
    ("p.macs", "p.macsN"): "p.macsN with Is3 == 0 is p.macs (N form requires imm != 0)",
    ("p.mulhhs", "p.mulhhsN"): "Is3 == 0 alias of the N form (imm != 0)",
    ("p.machhs", "p.machhsN"): "Is3 == 0 alias of the N form (imm != 0)",
    ("p.mulu", "p.muluN"): "Is3 == 0 alias of the N form (imm != 0)",
    ("p.macu", "p.macuN"): "Is3 == 0 alias of the N form (imm != 0)",
    ("p.mulhhu", "p.mulhhuN"): "Is3 == 0 alias of the N form (imm != 0)",
    ("p.machhu", "p.machhuN"): "Is3 == 0 alias of the N form (imm != 0)",
}


def _overlap(a: Instr, b: Instr) -> bool:
    return a.length == b.length and not ((a.match ^ b.match) & a.mask & b.mask)


def _inside(inner: Instr, outer: Instr) -> bool:
    """Every word matching ``inner`` also matches ``outer`` (and not the other way round)."""
    return (inner.mask & outer.mask) == outer.mask and inner.mask != outer.mask


def test_no_unexpected_overlaps() -> None:
    problems = []
    for k, a in enumerate(ALL):
        for b in ALL[k + 1:]:
            if not _overlap(a, b):
                continue
            inner, outer = (a, b) if _inside(a, b) else (b, a) if _inside(b, a) else (None, None)
            if inner is None:
                problems.append(f"{a.name} and {b.name} partially overlap")
            elif (inner.name, outer.name) not in ALLOWED:
                problems.append(f"{inner.name} is inside {outer.name} (not in the allow-list)")
    assert not problems, "\n".join(problems)


def test_allow_list_is_current() -> None:
    """Every allowed pair exists and still nests, and the inner one is decoded first."""
    by_name = {i.name: i for i in ALL}
    order = {id(i): n for n, i in enumerate(decode_order())}
    for inner_name, outer_name in ALLOWED:
        if inner_name.startswith("p.") and inner_name not in by_name:
            continue                          # XpulpV2 table not (yet) providing this pair
        inner, outer = by_name[inner_name], by_name[outer_name]
        assert _overlap(inner, outer) and _inside(inner, outer), (inner_name, outer_name)
        assert order[id(inner)] < order[id(outer)], f"{inner_name} must be decoded first"

