"""Human-readable descriptions of simulator state for one-line error messages."""
from __future__ import annotations

from .memory import Memory, read_bytes


def describe_pc(mem: Memory, pc: int) -> str:
    """``pc 0x... (disassembly)`` of the instruction at ``pc`` (just the pc if unmapped)."""
    from isa.disassembler import disassemble_word

    for n in (4, 2):
        try:
            word = int.from_bytes(read_bytes(mem, pc, n), "little")
        except ValueError:
            continue
        return f"pc 0x{pc:08x} ({disassemble_word(word, pc)})"
    return f"pc 0x{pc:08x}"
