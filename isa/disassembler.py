"""Table-driven disassembler producing GNU-objdump-like text (``-M no-aliases`` style).

Operands are printed in the order of each entry's ``syntax``: registers by ABI name, CSRs by
name (``isa.csr``), immediates in signed decimal except U-type ones (``lui``/``auipc``/
``c.lui``, in hex of the 20-bit field as objdump prints them), pc-relative targets as absolute
hex addresses.  Compressed instructions keep their ``c.*`` mnemonic.  Words that decode to
nothing are shown as ``.word 0x........`` (or ``.short 0x....``).  Every text re-assembles
(:mod:`isa.assembler`) to the same encoding.
"""
from __future__ import annotations

from .csr import csr_name
from .decoder import decode
from .spec import REGISTER_SLOTS, Instr
from .assembler import ABI_NAMES, REGISTERS, _template, is_upper, slot_to_asm

_FENCE_SET = "iorw"


def _fence_operand(bits: int) -> str:
    text = "".join(ch for k, ch in enumerate(_FENCE_SET) if bits & (8 >> k))
    return text or "0"


def _fence_text(word: int) -> str:
    fm, pred, succ = word >> 28, (word >> 24) & 0xF, (word >> 20) & 0xF
    if fm == 0 and pred == 0xF and succ == 0xF:
        return "fence"
    if fm == 0x8 and pred == 0x3 and succ == 0x3:
        return "fence.tso"
    if fm == 0:
        return f"fence {_fence_operand(pred)},{_fence_operand(succ)}"
    return f".word 0x{word:08x}"


def format_operands(ins: Instr, ops: dict[str, int], pc: int) -> str:
    """Operand text of ``ins`` with slot values ``ops`` at address ``pc``."""
    out = []
    for el in _template(ins.syntax):
        if el in ",()!":
            out.append(el)
        elif el in REGISTER_SLOTS:
            out.append(ABI_NAMES[ops.get(el, 0)])
        elif el in REGISTERS:
            out.append(el)
        elif el == "csr":
            out.append(csr_name(ops.get("imm", 0)))
        elif el in ("off", "off2"):
            slot = "imm" if el == "off" else "imm2"
            out.append(f"0x{(pc + ops.get(slot, 0)) & 0xFFFFFFFF:x}")
        elif el == "L":
            out.append(str(ops.get("rd", 0)))
        else:
            op = ins.operand(el)
            v = ops.get(el, 0)
            out.append(f"0x{slot_to_asm(op, v):x}" if op is not None and is_upper(op) else str(v))
    return "".join(out)


def disassemble_word(word: int, pc: int = 0) -> str:
    """Text of the instruction ``word`` at address ``pc`` (low 16 bits only if compressed)."""
    word &= 0xFFFFFFFF
    length = 4 if word & 3 == 3 else 2
    if length == 2:
        word &= 0xFFFF
    found = decode(word)
    if found is None:
        return f".word 0x{word:08x}" if length == 4 else f".short 0x{word:04x}"
    ins, ops = found
    if ins.name == "fence":
        return _fence_text(word)
    text = format_operands(ins, ops, pc)
    return f"{ins.name} {text}" if text else ins.name


def disassemble(data: bytes, addr: int) -> list[tuple[int, int, int, str]]:
    """Disassemble ``data`` loaded at ``addr``: ``(address, length, word, text)`` per item."""
    out = []
    i, n = 0, len(data)
    while i < n:
        if n - i < 2:
            out.append((addr + i, 1, data[i], f".byte 0x{data[i]:02x}"))
            i += 1
            continue
        half = int.from_bytes(data[i:i + 2], "little")
        if half & 3 == 3:
            if n - i < 4:
                out.append((addr + i, 2, half, f".short 0x{half:04x}"))
                i += 2
                continue
            word = int.from_bytes(data[i:i + 4], "little")
            out.append((addr + i, 4, word, disassemble_word(word, addr + i)))
            i += 4
        else:
            out.append((addr + i, 2, half, disassemble_word(half, addr + i)))
            i += 2
    return out
