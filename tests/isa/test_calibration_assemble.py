"""The strongest check: every calibration program assembles byte-identically to the shipped ELF.

The shipped ELFs were built with GNU as/ld 2.40 (``-march=rv32imc_zicsr_zifencei``) and
``link.ld``; :data:`isa.assembler.CV32E40P` is that linker script.  For every
``programs/*.S`` the loadable bytes (every ``PT_LOAD`` segment of the shipped ELF, gaps
zero-filled) and the symbols ``begin_signature``, ``end_signature``, ``tohost`` and ``_start``
must match.  The ELF written by ``isa.elf_writer`` must load to the same bytes.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from isa.assembler import CV32E40P, assemble_full
from isa.elf import parse_elf
from isa.elf_writer import elf_bytes
from isa.image import Image

SUITE = Path("/work/shared/calibration/cv32e40p")
PROGRAMS = sorted(SUITE.glob("programs/*.S"))
SYMBOLS = ("begin_signature", "end_signature", "tohost", "_start")

pytestmark = pytest.mark.skipif(not PROGRAMS, reason="calibration suite not available")


def _reference(elf_path: Path) -> tuple[list[tuple[int, bytes, int]], dict[str, int], int]:
    elf = ELFFile(io.BytesIO(elf_path.read_bytes()))
    segs = [(s["p_vaddr"], s.data(), s["p_memsz"]) for s in elf.iter_segments()
            if s["p_type"] == "PT_LOAD"]
    syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
    return segs, syms, elf.header["e_entry"]


def _memory(image: Image, addr: int, size: int) -> bytes:
    """``size`` bytes of ``image`` from ``addr`` (zero where no segment has data)."""
    out = bytearray(size)
    for seg in image.segments:
        lo, hi = max(addr, seg.addr), min(addr + size, seg.addr + len(seg.data))
        if lo < hi:
            out[lo - addr:hi - addr] = seg.data[lo - seg.addr:hi - seg.addr]
    return bytes(out)


def _first_difference(a: bytes, b: bytes) -> int:
    return next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)


@pytest.mark.parametrize("source", PROGRAMS, ids=lambda p: p.stem)
def test_program_is_byte_identical(source: Path) -> None:
    result = assemble_full(source.read_text(), source.name, CV32E40P)
    segs, syms, entry = _reference(source.with_suffix(".elf"))
    assert result.image.entry == entry
    for name in SYMBOLS:
        assert result.symbols.get(name) == syms.get(name), name
    covered = 0
    for addr, data, _ in segs:
        mine = _memory(result.image, addr, len(data))
        if mine != data:
            off = _first_difference(mine, data)
            pytest.fail(f"{source.name}: first difference at 0x{addr + off:x}: "
                        f"0x{mine[off]:02x} != 0x{data[off]:02x}")
        covered += len(data)
    # nothing loadable outside the reference segments
    for seg in result.image.segments:
        assert any(a <= seg.addr and seg.addr + len(seg.data) <= a + len(d)
                   for a, d, _ in segs), f"extra segment at 0x{seg.addr:x}"
    # and the written ELF loads to the same image
    back = parse_elf(elf_bytes(result), source.name)
    assert back.segments == result.image.segments
    assert all(back.symbols[n] == syms[n] for n in SYMBOLS)
    assert covered > 0


@pytest.mark.parametrize("elf_path", [p.with_suffix(".elf") for p in PROGRAMS],
                         ids=lambda p: p.stem)
def test_shipped_code_disassembles_and_reassembles(elf_path: Path) -> None:
    """Disassembling the shipped ``.text`` and assembling the listing gives the same bytes."""
    from isa.assembler import flat_layout
    from isa.disassembler import disassemble

    elf = ELFFile(io.BytesIO(elf_path.read_bytes()))
    text = elf.get_section_by_name(".text")
    data, addr = text.data(), text["sh_addr"]
    lines = [(".option rvc\n" if n == 2 else ".option norvc\n") + t
             for _, n, _, t in disassemble(data, addr)]
    result = assemble_full("\n".join(lines) + "\n", "listing.S", flat_layout(addr))
    mine = next(s.data for s in result.sections if s.name == ".text")
    assert mine[:len(data)] == data
