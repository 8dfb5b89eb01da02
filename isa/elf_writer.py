"""Write an :class:`~isa.image.Image` as a little-endian ELF32 RISC-V executable.

The file has one ``PT_LOAD`` program header per image segment (``p_memsz`` > ``p_filesz`` for
zero-filled tails), section headers for the loaded contents (``SHT_PROGBITS``, plus
``SHT_NOBITS`` for zero-filled parts), and ``.symtab``/``.strtab``/``.shstrtab`` so that symbols
such as ``begin_signature``, ``end_signature`` and ``tohost`` survive.  It is readable by
pyelftools and by :mod:`isa.elf`.

Given an :class:`~isa.assembler.AsmResult` instead of a bare image, the writer uses the
linker's output-section names, adds the not-loaded sections (``.tohost``) as ``SHT_NOBITS``
without a program header, and marks ``.globl`` symbols ``STB_GLOBAL`` (others ``STB_LOCAL``).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from .image import Image

EM_RISCV = 243
ET_EXEC = 2
EF_RISCV_RVC = 0x1
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 1, 2, 4
SHN_ABS = 0xFFF1
STB_LOCAL, STB_GLOBAL = 0, 1
EHDR_SIZE, PHDR_SIZE, SHDR_SIZE, SYM_SIZE = 52, 32, 40, 16


@dataclass
class _Sec:
    name: str
    type: int
    flags: int
    addr: int
    data: bytes
    size: int
    align: int = 4
    link: int = 0
    info: int = 0
    entsize: int = 0
    offset: int = 0


class _StrTab:
    """An ELF string table being built."""

    def __init__(self) -> None:
        self.data = bytearray(b"\0")
        self.index: dict[str, int] = {"": 0}

    def add(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.data)
            self.data += s.encode() + b"\0"
        return self.index[s]


def _image_and_extras(obj) -> tuple[Image, list[tuple[str, int, int, str]] | None, set | None]:
    if isinstance(obj, Image):
        return obj, None, None
    return obj.image, list(obj.output_sections), set(obj.globals)


def _sections_from_image(image: Image, outputs) -> list[_Sec]:
    """Content sections: PROGBITS for file bytes, NOBITS for zero-filled tails / noload."""
    secs: list[_Sec] = []
    used: dict[str, int] = {}

    def name_for(seg, fallback: str) -> str:
        if outputs:
            for oname, addr, _, kind in outputs:
                if addr == seg.addr and kind != "noload":
                    return oname
        base = fallback
        used[base] = used.get(base, 0) + 1
        return base if used[base] == 1 else f"{base}.{used[base] - 1}"

    for seg in image.segments:
        flags = SHF_ALLOC | (SHF_WRITE if seg.writable else 0) | \
            (SHF_EXECINSTR if seg.executable else 0)
        name = name_for(seg, ".text" if seg.executable else ".data" if seg.data else ".bss")
        if seg.data:
            secs.append(_Sec(name, SHT_PROGBITS, flags, seg.addr, bytes(seg.data),
                             len(seg.data)))
        if seg.memsz > len(seg.data):
            secs.append(_Sec(name if not seg.data else name + ".bss", SHT_NOBITS,
                             flags | SHF_WRITE, seg.addr + len(seg.data), b"",
                             seg.memsz - len(seg.data)))
    for oname, addr, size, kind in outputs or ():
        if kind == "noload" and size:
            secs.append(_Sec(oname, SHT_NOBITS, SHF_ALLOC | SHF_WRITE, addr, b"", size, 1))
    return secs


def _section_index_for(value: int, secs: list[_Sec], first: int) -> int:
    best = SHN_ABS
    for k, s in enumerate(secs):
        if s.addr <= value < s.addr + s.size:
            return first + k
        if value == s.addr + s.size and best == SHN_ABS:
            best = first + k
    return best


def elf_bytes(obj, flags: int = EF_RISCV_RVC) -> bytes:
    """ELF file contents for an :class:`Image` or an ``AsmResult``."""
    image, outputs, globals_ = _image_and_extras(obj)
    content = _sections_from_image(image, outputs)
    nph = len(image.segments)
    # --- symbols (locals first, as ELF requires) ---------------------------------------
    strtab = _StrTab()
    syms = sorted(image.symbols.items(), key=lambda kv: (kv[1], kv[0]))
    is_global = (lambda n: True) if globals_ is None else (lambda n: n in globals_)
    ordered = [s for s in syms if not is_global(s[0])] + [s for s in syms if is_global(s[0])]
    first_content = 1
    symtab = bytearray(SYM_SIZE)                                     # the null symbol
    for name, value in ordered:
        bind = STB_GLOBAL if is_global(name) else STB_LOCAL
        shndx = _section_index_for(value, content, first_content)
        symtab += struct.pack("<IIIBBH", strtab.add(name), value & 0xFFFFFFFF, 0,
                              bind << 4, 0, shndx)
    first_global = 1 + sum(1 for n, _ in ordered if not is_global(n))
    # --- section list ----------------------------------------------------------------------
    shstr = _StrTab()
    n_content = len(content)
    symtab_idx = 1 + n_content
    secs = content + [
        _Sec(".symtab", SHT_SYMTAB, 0, 0, bytes(symtab), len(symtab), 4, symtab_idx + 1,
             first_global, SYM_SIZE),
        _Sec(".strtab", SHT_STRTAB, 0, 0, bytes(strtab.data), len(strtab.data), 1),
        _Sec(".shstrtab", SHT_STRTAB, 0, 0, b"", 0, 1),
    ]
    for s in secs:
        shstr.add(s.name)
    secs[-1].data = bytes(shstr.data)
    secs[-1].size = len(shstr.data)
    # --- file layout ----------------------------------------------------------------------
    out = bytearray(EHDR_SIZE + PHDR_SIZE * nph)
    seg_offsets = []
    for seg in image.segments:
        while len(out) % 4 != seg.addr % 4:
            out.append(0)
        seg_offsets.append(len(out))
        out += seg.data
    for s in content:
        if s.type == SHT_PROGBITS:
            for seg, off in zip(image.segments, seg_offsets):
                if seg.addr <= s.addr < seg.addr + max(len(seg.data), 1):
                    s.offset = off + (s.addr - seg.addr)
        else:
            s.offset = len(out)
    for s in secs[n_content:]:
        while len(out) % s.align:
            out.append(0)
        s.offset = len(out)
        out += s.data
    while len(out) % 4:
        out.append(0)
    shoff = len(out)
    out += bytes(SHDR_SIZE)                                          # null section
    for s in secs:
        out += struct.pack("<IIIIIIIIII", shstr.add(s.name), s.type, s.flags, s.addr, s.offset,
                           s.size, s.link, s.info, s.align, s.entsize)
    # --- headers --------------------------------------------------------------------------
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    out[0:EHDR_SIZE] = ident + struct.pack(
        "<HHIIIIIHHHHHH", ET_EXEC, EM_RISCV, 1, image.entry & 0xFFFFFFFF, EHDR_SIZE, shoff,
        flags, EHDR_SIZE, PHDR_SIZE, nph, SHDR_SIZE, len(secs) + 1, len(secs))
    for k, (seg, off) in enumerate(zip(image.segments, seg_offsets)):
        pflags = PF_R | (PF_W if seg.writable else 0) | (PF_X if seg.executable else 0)
        out[EHDR_SIZE + k * PHDR_SIZE:EHDR_SIZE + (k + 1) * PHDR_SIZE] = struct.pack(
            "<IIIIIIII", PT_LOAD, off, seg.addr, seg.addr, len(seg.data), seg.memsz, pflags, 4)
    return bytes(out)


def write_elf(obj, path: str | Path, flags: int = EF_RISCV_RVC) -> None:
    """Write an :class:`Image` (or ``AsmResult``) to ``path`` as an ELF32 executable."""
    Path(path).write_bytes(elf_bytes(obj, flags))
