"""ELF writer: readable by pyelftools and by isa.elf, symbols and NOBITS preserved."""
from __future__ import annotations

import io

from elftools.elf.elffile import ELFFile

from isa.assembler import assemble_full, cluster_layout
from isa.elf import load_elf, parse_elf
from isa.elf_writer import elf_bytes, write_elf
from isa.image import Image, Segment

SRC = """
    .section .vectors, "ax"
    j .
    .section .text.init, "ax"
    .globl _start
_start:
    la sp, _stack_top
    li t0, 1
    la t1, tohost
    sw t0, 0(t1)
1:  j 1b
    .data
    .balign 16
    .globl begin_signature
begin_signature:
    .fill 3, 4, 0xdeadbeef
    .globl end_signature
end_signature:
    .bss
scratch: .space 32
    .section .tohost, "aw", @nobits
    .globl tohost
tohost: .space 4
"""


def test_roundtrip_through_isa_elf(tmp_path) -> None:
    r = assemble_full(SRC, "prog.S")
    path = tmp_path / "prog.elf"
    write_elf(r, path)
    img = load_elf(path)
    assert img.entry == r.image.entry == 0x80
    assert img.segments == r.image.segments
    for name in ("begin_signature", "end_signature", "tohost", "_start", "scratch"):
        assert img.symbols[name] == r.symbols[name]


def test_pyelftools_view() -> None:
    r = assemble_full(SRC, "prog.S")
    elf = ELFFile(io.BytesIO(elf_bytes(r)))
    assert elf.header["e_machine"] == "EM_RISCV" and elf.header["e_type"] == "ET_EXEC"
    assert elf.elfclass == 32 and elf.little_endian
    secs = {s.name: s for s in elf.iter_sections()}
    assert secs[".text"]["sh_type"] == "SHT_PROGBITS" and secs[".text"]["sh_addr"] == 0x80
    assert secs[".bss"]["sh_type"] == "SHT_NOBITS" and secs[".bss"]["sh_size"] == 32
    assert secs[".tohost"]["sh_type"] == "SHT_NOBITS"
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    assert all(s["p_vaddr"] != 0x20000004 for s in loads)          # .tohost is not loaded
    bss = next(s for s in loads if s["p_vaddr"] == r.symbols["scratch"])
    assert bss["p_filesz"] == 0 and bss["p_memsz"] == 32
    syms = {s.name: s for s in elf.get_section_by_name(".symtab").iter_symbols()}
    assert syms["tohost"]["st_value"] == 0x20000004
    assert syms["tohost"]["st_info"]["bind"] == "STB_GLOBAL"
    assert syms["scratch"]["st_info"]["bind"] == "STB_LOCAL"
    assert syms["_stack_top"]["st_shndx"] == "SHN_ABS"
    text = next(s for s in loads if s["p_vaddr"] == 0x80)
    assert text.data() == next(s.data for s in r.image.segments if s.addr == 0x80)


def test_plain_image_and_odd_addresses() -> None:
    img = Image(entry=0x1C000002, segments=[
        Segment(0x1C000002, b"\x01\x00\x01\x00", 4, executable=True, writable=False),
        Segment(0x10000000, b"\xaa", 16)], symbols={"x": 0x10000000, "far": 0x5})
    back = parse_elf(elf_bytes(img))
    assert back.entry == img.entry and back.segments == img.segments
    assert back.symbols == img.symbols


def test_cluster_layout_elf() -> None:
    r = assemble_full("_start: la a0, v\n .data\nv: .word 7\n", "c.S", cluster_layout())
    back = parse_elf(elf_bytes(r))
    assert {s.addr for s in back.segments} == {0x1C000000, 0x10000000}
    assert back.symbols["v"] == 0x10000000
