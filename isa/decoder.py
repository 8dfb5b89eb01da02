"""Instruction decoding, derived entirely from the tables in ``isa.tables``.

Two entry points share the same data:

* :func:`decode_word` is Numba-compiled and used by the simulator's decode cache;
* :func:`decode` is plain Python and returns the matching :class:`~isa.spec.Instr` with its
  operand values (for the disassembler, traces and error messages).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .spec import SLOTS, Instr
from .tables import NSLOTS, decode_order, decode_tables

DECODED_FIELDS = 8  # op, rd, rs1, rs2, rs3, imm, imm2, length


@njit(cache=True)
def decode_word(t, word: int, out) -> None:
    """Decode ``word`` (low 16 bits only for compressed encodings) into ``out[0:8]``.

    ``out`` receives ``op, rd, rs1, rs2, rs3, imm, imm2, length``; ``op == -1`` marks an
    illegal encoding.  Compressed encodings are expanded to their 32-bit equivalent's op and
    operands.
    """
    word = word & 0xFFFFFFFF
    if (word & 3) == 3:
        lo, hi = 0, t.n32
    else:
        word = word & 0xFFFF
        lo, hi = t.n32, t.n16
    vals = np.zeros(NSLOTS, np.int64)
    for k in range(lo, hi):
        if (word & t.mask[k]) != t.match[k]:
            continue
        ok = True
        for s in range(NSLOTS):
            v = 0
            if t.present[k, s]:
                nb = 0
                for j in range(t.seg_lsb.shape[2]):
                    w = t.seg_width[k, s, j]
                    if w == 0:
                        break
                    v |= ((word >> t.seg_lsb[k, s, j]) & ((1 << w) - 1)) << t.seg_vlsb[k, s, j]
                    top = t.seg_vlsb[k, s, j] + w
                    if top > nb:
                        nb = top
                if t.signed[k, s] and (v >> (nb - 1)) & 1:
                    v -= 1 << nb
                v += t.offset[k, s]
                if t.nonzero[k, s] and v == 0:
                    ok = False
            vals[s] = v
        if not ok:
            continue
        out[0] = t.op[k]
        if t.length[k] == 2:
            for s in range(NSLOTS):
                src = t.exp_src[k, s]
                if src >= 0:
                    out[1 + s] = vals[src]
                elif src == -1:
                    out[1 + s] = t.exp_const[k, s]
                else:
                    out[1 + s] = 0
        else:
            for s in range(NSLOTS):
                out[1 + s] = vals[s]
        out[7] = t.length[k]
        return
    out[0] = -1
    for s in range(1, 7):
        out[s] = 0
    out[7] = 4 if (word & 3) == 3 else 2


def instruction_length(halfword: int) -> int:
    """Length in bytes of the instruction whose first half-word is ``halfword``."""
    return 4 if (halfword & 3) == 3 else 2


def decode(word: int) -> tuple[Instr, dict[str, int]] | None:
    """Decode ``word`` in Python: the matching encoding and its operands, or ``None`` if illegal.

    For compressed encodings the returned instruction is the compressed one (``c.*``) with its
    own operand slots; use :func:`decode_word` for the expanded form.
    """
    word &= 0xFFFFFFFF
    if (word & 3) != 3:
        word &= 0xFFFF
        length = 2
    else:
        length = 4
    for ins in decode_order():
        if ins.length != length or (word & ins.mask) != ins.match:
            continue
        ops = {o.slot: o.extract(word) for o in ins.operands}
        if any(ops.get(s, 0) == 0 for s in ins.nonzero):
            continue
        return ins, ops
    return None


def decode_expanded(word: int) -> np.ndarray:
    """Decode ``word`` with the Numba decoder; returns the 8 decoded fields."""
    out = np.zeros(DECODED_FIELDS, np.int64)
    decode_word(decode_tables(), word, out)
    return out


__all__ = ["DECODED_FIELDS", "SLOTS", "decode", "decode_expanded", "decode_word",
           "instruction_length"]
