"""RV32C table: every entry decodes to itself, expansions match the RISC-V spec."""
from __future__ import annotations

import random

import numpy as np
import pytest

from isa.decoder import decode, decode_expanded
from isa.rvc import RVC
from isa.spec import SLOTS
from isa.tables import EXEC

ALL_RVC_NAMES = {
    "c.addi4spn", "c.lw", "c.sw", "c.nop", "c.addi", "c.jal", "c.li", "c.addi16sp", "c.lui",
    "c.srli", "c.srai", "c.andi", "c.sub", "c.xor", "c.or", "c.and", "c.j", "c.beqz", "c.bnez",
    "c.slli", "c.lwsp", "c.jr", "c.mv", "c.ebreak", "c.jalr", "c.add", "c.swsp",
}


def test_table_is_complete() -> None:
    assert {i.name for i in RVC} == ALL_RVC_NAMES
    assert all(i.length == 2 and i.ext == "rvc" and not i.sem for i in RVC)


@pytest.mark.parametrize("ins", RVC, ids=lambda i: i.name)
def test_entry_decodes_to_itself_and_expands(ins) -> None:
    base_name, mapping = ins.expands
    base = next(i for i in EXEC if i.name == base_name)
    assert ins.iclass == base.iclass
    rng = random.Random(ins.match)
    hits = 0
    for _ in range(200):
        word = ins.match | (rng.getrandbits(16) & ~ins.mask & 0xFFFF)
        ops = {o.slot: o.extract(word) for o in ins.operands}
        if any(ops.get(s, 0) == 0 for s in ins.nonzero):
            assert decode(word) is None or decode(word)[0] is not ins
            continue
        found = decode(word)
        assert found is not None
        if found[0] is not ins:     # a more specific encoding (c.nop in c.addi, ...)
            assert found[0].mask & ins.mask == ins.mask and found[0].mask != ins.mask
            continue
        hits += 1
        expected = dict.fromkeys(SLOTS, 0)
        for dst, src in mapping:
            expected[dst] = ops[src] if isinstance(src, str) else src
        out = decode_expanded(word)
        assert EXEC[out[0] - 1] is base
        assert [int(v) for v in out[1:7]] == [expected[s] for s in SLOTS]
        assert out[7] == 2
    assert hits > 0


# (word, base mnemonic, {slot: value}) from the RISC-V spec / GNU objdump
SPEC_WORDS = [
    (0x4501, "addi", {"rd": 10, "rs1": 0, "imm": 0}),            # c.li a0, 0
    (0x557D, "addi", {"rd": 10, "rs1": 0, "imm": -1}),           # c.li a0, -1
    (0x0001, "addi", {"rd": 0, "rs1": 0, "imm": 0}),             # c.nop
    (0x1141, "addi", {"rd": 2, "rs1": 2, "imm": -16}),           # c.addi sp, -16
    (0x6105, "addi", {"rd": 2, "rs1": 2, "imm": 32}),            # c.addi16sp sp, 32
    (0x7139, "addi", {"rd": 2, "rs1": 2, "imm": -64}),           # c.addi16sp sp, -64
    (0x0808, "addi", {"rd": 10, "rs1": 2, "imm": 16}),           # c.addi4spn a0, sp, 16
    (0x43D8, "lw", {"rd": 14, "rs1": 15, "imm": 4}),             # c.lw a4, 4(a5)
    (0xC188, "sw", {"rs1": 11, "rs2": 10, "imm": 0}),            # c.sw a0, 0(a1)
    (0x4522, "lw", {"rd": 10, "rs1": 2, "imm": 8}),              # c.lwsp a0, 8(sp)
    (0xC22A, "sw", {"rs1": 2, "rs2": 10, "imm": 4}),             # c.swsp a0, 4(sp)
    (0xA001, "jal", {"rd": 0, "imm": 0}),                        # c.j .
    (0x2001, "jal", {"rd": 1, "imm": 0}),                        # c.jal .
    (0xBFFD, "jal", {"rd": 0, "imm": -2}),                       # c.j .-2
    (0xC111, "beq", {"rs1": 10, "rs2": 0, "imm": 4}),            # c.beqz a0, .+4
    (0xE111, "bne", {"rs1": 10, "rs2": 0, "imm": 4}),            # c.bnez a0, .+4
    (0x8082, "jalr", {"rd": 0, "rs1": 1, "imm": 0}),             # c.jr ra (ret)
    (0x9582, "jalr", {"rd": 1, "rs1": 11, "imm": 0}),            # c.jalr a1
    (0x9002, "ebreak", {}),                                      # c.ebreak
    (0x852E, "add", {"rd": 10, "rs1": 0, "rs2": 11}),            # c.mv a0, a1
    (0x952E, "add", {"rd": 10, "rs1": 10, "rs2": 11}),           # c.add a0, a1
    (0x65FD, "lui", {"rd": 11, "imm": 0x1F000}),                 # c.lui a1, 0x1f
    (0x757D, "lui", {"rd": 10, "imm": -4096}),                   # c.lui a0, 0xfffff
    (0x0506, "slli", {"rd": 10, "rs1": 10, "imm": 1}),           # c.slli a0, 1
    (0x8105, "srli", {"rd": 10, "rs1": 10, "imm": 1}),           # c.srli a0, 1
    (0x8505, "srai", {"rd": 10, "rs1": 10, "imm": 1}),           # c.srai a0, 1
    (0x897D, "andi", {"rd": 10, "rs1": 10, "imm": 31}),          # c.andi a0, 31
    (0x9901, "andi", {"rd": 10, "rs1": 10, "imm": -32}),         # c.andi a0, -32
    (0x8D0D, "sub", {"rd": 10, "rs1": 10, "rs2": 11}),           # c.sub a0, a1
    (0x8D2D, "xor", {"rd": 10, "rs1": 10, "rs2": 11}),           # c.xor a0, a1
    (0x8D4D, "or", {"rd": 10, "rs1": 10, "rs2": 11}),            # c.or a0, a1
    (0x8D6D, "and", {"rd": 10, "rs1": 10, "rs2": 11}),           # c.and a0, a1
]


@pytest.mark.parametrize("word,base,slots", SPEC_WORDS, ids=lambda v: f"{v:#06x}"
                         if isinstance(v, int) else None)
def test_expansion_matches_spec(word: int, base: str, slots: dict) -> None:
    out = decode_expanded(word)
    assert out[0] > 0, f"{word:#06x} decoded as illegal"
    assert EXEC[out[0] - 1].name == base
    got = dict(zip(SLOTS, (int(v) for v in out[1:7])))
    for slot, value in slots.items():
        assert got[slot] == value, (slot, got)


@pytest.mark.parametrize("word", [
    0x0000,   # c.addi4spn with imm 0 (defined illegal instruction)
    0x6001,   # c.lui x0, 0 (imm 0 reserved)
    0x6101,   # c.addi16sp sp, 0 (reserved)
    0x4002,   # c.lwsp x0 (reserved)
    0x8002,   # c.jr x0 (reserved)
    0x9001,   # c.srli with shamt[5] = 1 (RV32 NSE)
    0x0082 | (1 << 12),   # c.slli with shamt[5] = 1 (RV32 NSE)
    0x2002,   # c.fldsp (no F/D)
])
def test_reserved_encodings_are_illegal(word: int) -> None:
    assert decode(word) is None
    assert decode_expanded(word)[0] == -1


def test_hints_execute_as_their_expansion() -> None:
    # c.li x0, 5 and c.addi a0, 0 are HINTs: legal, no architectural effect
    assert decode(0x4015)[0].name == "c.li"
    out = decode_expanded(0x0501)                                   # c.addi a0, 0
    assert EXEC[out[0] - 1].name == "addi" and list(out[1:6]) == [10, 10, 0, 0, 0]
    assert isinstance(out, np.ndarray)
