"""All instruction tables gathered in one registry, with the numeric ids the simulator uses.

Execution ops are the 32-bit encodings, numbered from 1 in table order (0 means "not decoded
yet" in the decode cache, -1 "illegal").  Compressed encodings do not get execution ops of
their own: they decode to the op of the 32-bit instruction they expand to (as the CV32E40P
compressed decoder does in hardware), so every behaviour is written exactly once.
"""
from __future__ import annotations

from collections import namedtuple
from functools import lru_cache

import numpy as np

from .rv32i import PRIV, RV32I, RV32M, ZICSR, ZIFENCEI
from .rvc import RVC
from .spec import ICLASSES, SLOT_INDEX, SLOTS, Instr
from .xpulpv2 import XPULPV2

#: Every extension table, in decode-priority-neutral order (priority is by specificity).
EXTENSIONS: dict[str, list[Instr]] = {
    "rv32i": RV32I,
    "rv32m": RV32M,
    "zicsr": ZICSR,
    "zifencei": ZIFENCEI,
    "priv": PRIV,
    "xpulpv2": XPULPV2,
    "rvc": RVC,
}

ALL: list[Instr] = [i for table in EXTENSIONS.values() for i in table]
#: 32-bit (executable) instructions; op id = index + 1.
EXEC: list[Instr] = [i for i in ALL if i.length == 4]
OP_ID: dict[int, int] = {id(i): n + 1 for n, i in enumerate(EXEC)}
ICLASS_ID: dict[str, int] = {name: n for n, name in enumerate(ICLASSES)}

MAX_SEGS = 8
NSLOTS = len(SLOTS)


def by_name(name: str) -> list[Instr]:
    """Every encoding with mnemonic ``name`` (XpulpV2 reuses mnemonics across addressing modes)."""
    return [i for i in ALL if i.name == name]


def exec_instr(name: str) -> Instr:
    """The unique 32-bit instruction called ``name``."""
    found = [i for i in EXEC if i.name == name]
    if len(found) != 1:
        raise KeyError(f"{name!r} names {len(found)} 32-bit encodings, expected exactly one")
    return found[0]


def op_of(instr: Instr) -> int:
    """Execution op id of a 32-bit instruction, or of the instruction a compressed one expands to."""
    if instr.length == 4:
        return OP_ID[id(instr)]
    assert instr.expands is not None, instr.name
    return OP_ID[id(exec_instr(instr.expands[0]))]


def _priority(i: Instr) -> tuple[int, int]:
    # More fixed bits first; ties keep table order (Python's sort is stable).
    return (-bin(i.mask).count("1"), 0)


DecodeTables = namedtuple(
    "DecodeTables",
    "mask match length op seg_lsb seg_width seg_vlsb signed offset present nonzero "
    "exp_src exp_const n32 n16",
)

ExecInfo = namedtuple("ExecInfo", "iclass reads writes")


@lru_cache(maxsize=None)
def decode_order() -> tuple[Instr, ...]:
    """Instructions in the order the decoder tries them: 32-bit then 16-bit, most specific first."""
    w32 = sorted([i for i in ALL if i.length == 4], key=_priority)
    w16 = sorted([i for i in ALL if i.length == 2], key=_priority)
    return tuple(w32 + w16)


@lru_cache(maxsize=None)
def decode_tables() -> DecodeTables:
    """Numpy arrays describing every encoding, consumed by ``isa.decoder.decode_word``."""
    order = decode_order()
    k = len(order)
    mask = np.zeros(k, np.int64)
    match = np.zeros(k, np.int64)
    length = np.zeros(k, np.int64)
    op = np.zeros(k, np.int64)
    seg_lsb = np.zeros((k, NSLOTS, MAX_SEGS), np.int64)
    seg_width = np.zeros((k, NSLOTS, MAX_SEGS), np.int64)
    seg_vlsb = np.zeros((k, NSLOTS, MAX_SEGS), np.int64)
    signed = np.zeros((k, NSLOTS), np.int64)
    offset = np.zeros((k, NSLOTS), np.int64)
    present = np.zeros((k, NSLOTS), np.int64)
    nonzero = np.zeros((k, NSLOTS), np.int64)
    exp_src = np.full((k, NSLOTS), -1, np.int64)  # slot of the compressed encoding, or -1
    exp_const = np.zeros((k, NSLOTS), np.int64)   # constant used when exp_src == -1
    for n, ins in enumerate(order):
        mask[n], match[n], length[n], op[n] = ins.mask, ins.match, ins.length, op_of(ins)
        for o in ins.operands:
            s = SLOT_INDEX[o.slot]
            if len(o.segments) > MAX_SEGS:
                raise ValueError(f"{ins.name}: too many operand segments")
            present[n, s] = 1
            signed[n, s] = o.signed
            offset[n, s] = o.offset
            for j, (wl, w, vl) in enumerate(o.segments):
                seg_lsb[n, s, j], seg_width[n, s, j], seg_vlsb[n, s, j] = wl, w, vl
        for slot in ins.nonzero:
            nonzero[n, SLOT_INDEX[slot]] = 1
        if ins.length == 2:
            base, mapping = ins.expands
            for slot in SLOTS:
                exp_src[n, SLOT_INDEX[slot]] = -2  # slot unused by the base instruction
            for dst, src in mapping:
                if isinstance(src, str):
                    exp_src[n, SLOT_INDEX[dst]] = SLOT_INDEX[src]
                else:
                    exp_src[n, SLOT_INDEX[dst]] = -1
                    exp_const[n, SLOT_INDEX[dst]] = src
    n32 = sum(1 for i in order if i.length == 4)
    return DecodeTables(mask, match, length, op, seg_lsb, seg_width, seg_vlsb, signed, offset,
                        present, nonzero, exp_src, exp_const, n32, k)


@lru_cache(maxsize=None)
def exec_info() -> ExecInfo:
    """Per execution op: timing class id and bit masks of register slots read / written.

    Slot bits: 1 rd, 2 rs1, 4 rs2, 8 rs3 (``reads``); ``writes`` uses 1 for rd and 2 for rs1.
    Index 0 is unused (ops start at 1).
    """
    n = len(EXEC) + 1
    iclass = np.zeros(n, np.int64)
    reads = np.zeros(n, np.int64)
    writes = np.zeros(n, np.int64)
    bit = {"rd": 1, "rs1": 2, "rs2": 4, "rs3": 8}
    for ins in EXEC:
        o = OP_ID[id(ins)]
        iclass[o] = ICLASS_ID[ins.iclass]
        reads[o] = sum(bit[s] for s in ins.reads)
        writes[o] = sum(bit[s] for s in ins.writes)
    return ExecInfo(iclass, reads, writes)
