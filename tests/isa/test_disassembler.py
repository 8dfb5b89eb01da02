"""Disassembler: objdump-like text for known words."""
from __future__ import annotations

import pytest

from isa.disassembler import disassemble, disassemble_word

KNOWN = [
    (0x00150513, 0, "addi a0,a0,1"),
    (0xFFF00513, 0, "addi a0,zero,-1"),
    (0x00C58533, 0, "add a0,a1,a2"),
    (0x40B50533, 0, "sub a0,a0,a1"),
    (0x12345537, 0, "lui a0,0x12345"),
    (0xFFFFF537, 0, "lui a0,0xfffff"),
    (0x00000517, 0, "auipc a0,0x0"),
    (0x00812503, 0, "lw a0,8(sp)"),
    (0xFEA12E23, 0, "sw a0,-4(sp)"),
    (0x0000006F, 0x100, "jal zero,0x100"),
    (0xFFDFF0EF, 0x100, "jal ra,0xfc"),
    (0x00B50463, 0x80, "beq a0,a1,0x88"),
    (0x000080E7, 0, "jalr ra,0(ra)"),
    (0x30002573, 0, "csrrs a0,mstatus,zero"),
    (0x32001073, 0, "csrrw zero,mcountinhibit,zero"),
    (0x34045073, 0, "csrrwi zero,mscratch,8"),
    (0x7C002573, 0, "csrrs a0,0x7c0,zero"),
    (0x02B50533, 0, "mul a0,a0,a1"),
    (0x0FF0000F, 0, "fence"),
    (0x0330000F, 0, "fence rw,rw"),
    (0x0000100F, 0, "fence.i"),
    (0x00000073, 0, "ecall"),
    (0x00100073, 0, "ebreak"),
    (0x30200073, 0, "mret"),
    (0x10500073, 0, "wfi"),
    (0x4501, 0, "c.li a0,0"),
    (0x65FD, 0, "c.lui a1,0x1f"),
    (0x757D, 0, "c.lui a0,0xfffff"),
    (0x0808, 0, "c.addi4spn a0,sp,16"),
    (0x7139, 0, "c.addi16sp sp,-64"),
    (0x4522, 0, "c.lwsp a0,8(sp)"),
    (0xC22A, 0, "c.swsp a0,4(sp)"),
    (0x43D8, 0, "c.lw a4,4(a5)"),
    (0xA001, 0x200, "c.j 0x200"),
    (0xBFFD, 0x200, "c.j 0x1fe"),
    (0xC111, 0x10, "c.beqz a0,0x14"),
    (0x8082, 0, "c.jr ra"),
    (0x9582, 0, "c.jalr a1"),
    (0x852E, 0, "c.mv a0,a1"),
    (0x0001, 0, "c.nop"),
    (0x9002, 0, "c.ebreak"),
    (0x8D0D, 0, "c.sub a0,a1"),
    (0x0000, 0, ".short 0x0000"),
    (0xFFFFFFFF, 0, ".word 0xffffffff"),
    (0x0000007F, 0, ".word 0x0000007f"),
]


@pytest.mark.parametrize("word,pc,text", KNOWN, ids=[t for _, _, t in KNOWN])
def test_known_words(word: int, pc: int, text: str) -> None:
    assert disassemble_word(word, pc) == text


def test_disassemble_mixed_stream() -> None:
    data = bytes.fromhex("13051500" "0100" "0145" "2e85") + b"\x13"
    out = disassemble(data, 0x80)
    assert [(a, n, t) for a, n, _, t in out] == [
        (0x80, 4, "addi a0,a0,1"), (0x84, 2, "c.nop"), (0x86, 2, "c.li a0,0"),
        (0x88, 2, "c.mv a0,a1"), (0x8A, 1, ".byte 0x13")]


def test_truncated_32bit_word() -> None:
    out = disassemble(bytes.fromhex("13 05"), 0)
    assert out == [(0, 2, 0x0513, ".short 0x0513")]


def test_compressed_word_uses_low_half_only() -> None:
    assert disassemble_word(0xDEAD4501) == "c.li a0,0"
