"""Reading RISC-V ELF executables with pyelftools into an :class:`~isa.image.Image`.

Only little-endian ELF32 files for EM_RISCV (243) are accepted; anything else raises
:class:`ElfError` with a one-line message naming the file and the problem.
"""
from __future__ import annotations

import io
from pathlib import Path

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .image import Image, Segment

EM_RISCV = 243
PF_X, PF_W = 1, 2


class ElfError(ValueError):
    """A file that cannot be loaded as an RV32 little-endian executable."""


def load_elf(path: str | Path) -> Image:
    """Load ``path``: its PT_LOAD segments, entry point and symbol table."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ElfError(f"{path}: cannot read: {e.strerror}") from None
    return parse_elf(raw, str(path))


def parse_elf(raw: bytes, name: str = "<elf>") -> Image:
    """Parse ELF bytes (see :func:`load_elf`)."""
    if raw[:4] != b"\x7fELF":
        raise ElfError(f"{name}: not an ELF file (bad magic)")
    if len(raw) < 52:
        raise ElfError(f"{name}: truncated ELF header")
    if raw[4] != 1:
        raise ElfError(f"{name}: ELF class {'64' if raw[4] == 2 else raw[4]}-bit; "
                       "only 32-bit (RV32) executables are supported")
    if raw[5] != 1:
        raise ElfError(f"{name}: big-endian ELF; RISC-V executables must be little-endian")
    try:
        elf = ELFFile(io.BytesIO(raw))
        machine = elf.header["e_machine"]
        if machine not in ("EM_RISCV", EM_RISCV):
            raise ElfError(f"{name}: ELF machine is {machine}, not RISC-V")
        if elf.header["e_type"] not in ("ET_EXEC", "ET_DYN"):
            raise ElfError(f"{name}: ELF type {elf.header['e_type']} is not an executable")
        segments: list[Segment] = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            data = seg.data()
            if len(data) != seg["p_filesz"]:
                raise ElfError(f"{name}: segment at 0x{seg['p_paddr']:08x} is truncated")
            segments.append(Segment(addr=seg["p_paddr"], data=bytes(data), memsz=seg["p_memsz"],
                                    executable=bool(seg["p_flags"] & PF_X),
                                    writable=bool(seg["p_flags"] & PF_W)))
        symbols: dict[str, int] = {}
        for sec in elf.iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    if sym.name and sym["st_shndx"] != "SHN_UNDEF":
                        symbols.setdefault(sym.name, sym["st_value"])
        entry = elf.header["e_entry"]
    except ElfError:
        raise
    except (_PyElfError, ValueError, KeyError, IndexError, OSError) as e:
        raise ElfError(f"{name}: malformed ELF: {e}") from None
    if not segments:
        raise ElfError(f"{name}: no loadable segment")
    return Image(entry=entry, segments=segments, symbols=symbols, source=name)
