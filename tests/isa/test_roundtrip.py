"""encode -> decode -> disassemble -> assemble gives the same word, for every table entry.

For each instruction of ``isa.tables.ALL`` random legal operand values are encoded; the word
must decode to the same entry, its disassembly must re-assemble to the same word (32-bit
entries with ``.option norvc``, compressed entries with RVC on, keeping their 16-bit form).
"""
from __future__ import annotations

import random

import pytest

from isa.assembler import assemble_full, flat_layout
from isa.decoder import decode
from isa.disassembler import disassemble_word
from isa.spec import Instr, Operand
from isa.tables import ALL

SAMPLES = 12
BASE = 0x0001_0000


def _random_value(op: Operand, rng: random.Random) -> int:
    """A random encodable value of ``op`` (registers: any of the allowed ones)."""
    word = 0
    for wlsb, width, _ in op.segments:
        word |= rng.getrandbits(width) << wlsb
    return op.extract(word)


def _random_words(ins: Instr, rng: random.Random) -> list[int]:
    """Up to SAMPLES encodings of ``ins`` with random operands that decode back to ``ins``."""
    words = []
    for _ in range(SAMPLES * 20):
        vals = {op.slot: _random_value(op, rng) for op in ins.operands}
        if any(vals.get(s, 0) == 0 for s in ins.nonzero):
            continue
        word = ins.match
        for op in ins.operands:
            word |= op.insert(vals[op.slot])
        found = decode(word)
        if found is not None and found[0] is ins:
            words.append(word)
            if len(words) == SAMPLES:
                break
    return words


def _ids(ins: Instr) -> str:
    return f"{ins.name}@{ins.match:08x}"


@pytest.mark.parametrize("ins", ALL, ids=_ids)
def test_roundtrip(ins: Instr) -> None:
    rng = random.Random(ins.match ^ ins.mask)
    words = _random_words(ins, rng)
    assert words, f"{ins.name}: no random operands decode back to this entry"
    step = ins.length
    lines = [".option rvc" if step == 2 else ".option norvc"]
    texts = []
    for k, word in enumerate(words):
        text = disassemble_word(word, BASE + k * step)
        assert not text.startswith((".word", ".short")), (hex(word), text)
        texts.append(text)
        lines.append(text)
    result = assemble_full("\n".join(lines) + "\n", "roundtrip.S", flat_layout(BASE))
    text_bytes = next(s.data for s in result.sections if s.name == ".text")
    for k, (word, text) in enumerate(zip(words, texts)):
        got = int.from_bytes(text_bytes[k * step:(k + 1) * step], "little")
        assert got == word, (f"{text!r}: assembled 0x{got:0{2 * step}x}, "
                             f"expected 0x{word:0{2 * step}x}")
