"""Assembler: encodings, GNU-compatible RVC choice and relaxation, directives, errors, layout."""
from __future__ import annotations

import pytest

from isa.assembler import (CV32E40P, AsmError, Layout, OutputSection, Region, assemble,
                           assemble_full, cluster_layout, flat_layout)
from isa.decoder import decode

BASE = 0x1000


def text_of(src: str, base: int = BASE) -> bytes:
    """Bytes of the .text section of ``src`` assembled at ``base``."""
    r = assemble_full(src, "t.S", flat_layout(base))
    return next(s.data for s in r.sections if s.name == ".text")


def words(src: str) -> list[int]:
    """Instruction words (16 or 32 bit) of ``src``, in order."""
    data = text_of(src)
    out, i = [], 0
    while i < len(data):
        n = 4 if data[i] & 3 == 3 else 2
        out.append(int.from_bytes(data[i:i + n], "little"))
        i += n
    return out


def err(src: str) -> str:
    with pytest.raises(AsmError) as e:
        assemble(src, "bad.S", flat_layout(0))
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert msg.startswith("bad.S:") and "\n" not in msg
    return msg


# --- plain encodings ---

@pytest.mark.parametrize("src,word", [
    ("addi a0, a0, 1", 0x00150513),
    ("add a0, a1, a2", 0x00C58533),
    ("sub x10, x10, x11", 0x40B50533),
    ("lw a0, 8(sp)", 0x00812503),
    ("lw a0, (a1)", 0x0005A503),
    ("sw a0, -4(sp)", 0xFEA12E23),
    ("lui a0, 0x12345", 0x12345537),
    ("auipc a0, 0", 0x00000517),
    ("mul a0, a0, a1", 0x02B50533),
    ("csrrs a0, mstatus, zero", 0x30002573),
    ("csrrwi zero, mscratch, 8", 0x34045073),
    ("srai a0, a1, 31", 0x41F5D513),
    ("jalr ra, 0(t0)", 0x000280E7),
    ("fence", 0x0FF0000F),
    ("fence rw, rw", 0x0330000F),
    ("fence.i", 0x0000100F),
    ("ecall", 0x00000073),
    ("ebreak", 0x00100073),
    ("mret", 0x30200073),
    ("wfi", 0x10500073),
    ("nop", 0x00000013),
    ("ADDI a0, a0, 1", 0x00150513),                 # mnemonics are case-insensitive
])
def test_32bit_encodings(src: str, word: int) -> None:
    assert words(".option norvc\n" + src) == [word]


# --- pseudo-instructions ---

@pytest.mark.parametrize("src,expected", [
    ("li a0, 0x12345678", [0x12345537, 0x67850513]),
    ("li a0, 0x800", [0x00001537, 0x80050513]),
    ("li a0, 100", [0x06400513]),
    ("li a0, -2048", [0x80000513]),
    ("li a0, 0xffffffff", [0xFFF00513]),
    ("mv a0, a1", [0x00058513]),
    ("not a0, a1", [0xFFF5C513]),
    ("neg a0, a1", [0x40B00533]),
    ("seqz a0, a1", [0x0015B513]),
    ("snez a0, a1", [0x00B03533]),
    ("sltz a0, a1", [0x0005A533]),
    ("sgtz a0, a1", [0x00B02533]),
    ("jr t0", [0x00028067]),
    ("jalr t0", [0x000280E7]),
    ("ret", [0x00008067]),
    ("csrr a0, mcycle", [0xB0002573]),
    ("csrw mcountinhibit, zero", [0x32001073]),
    ("csrw mscratch, 5", [0x3402D073]),
    ("csrs mstatus, a0", [0x30052073]),
    ("csrc mstatus, a0", [0x30053073]),
    ("csrwi mstatus, 8", [0x30045073]),
    ("csrsi mie, 1", [0x3040E073]),
    ("csrci mie, 1", [0x3040F073]),
    ("rdcycle a0", [0xC0002573]),
    ("rdinstret a0", [0xC0202573]),
    ("and a0, a1, 3", [0x0035F513]),
    ("zext.b a0, a1", [0x0FF5F513]),
])
def test_pseudo_instructions_norvc(src: str, expected: list[int]) -> None:
    assert words(".option norvc\n" + src) == expected


# --- RVC compression as GNU as chooses it ---

@pytest.mark.parametrize("src,expected", [
    ("addi a0, a0, 1", [0x0505]),                   # c.addi
    ("addi sp, sp, 16", [0x0141]),                  # c.addi beats c.addi16sp (GNU order)
    ("addi sp, sp, -64", [0x7139]),                 # c.addi16sp
    ("addi a0, sp, 16", [0x0808]),                  # c.addi4spn
    ("addi a0, zero, 5", [0x4515]),                 # c.li
    ("addi a0, a1, 0", [0x852E]),                   # c.mv (GNU alias)
    ("addi a0, a0, 0", [0x852A]),                   # GNU's addi d,CV,z alias: c.mv a0, a0
    ("addi zero, zero, 0", [0x0001]),               # c.nop
    ("add a0, a0, a1", [0x952E]),                   # c.add
    ("add a0, a1, a0", [0x952E]),                   # c.add, operands swapped
    ("add a0, zero, a1", [0x852E]),                 # c.mv
    ("add a0, a1, zero", [0x00058533]),             # GNU does not swap into c.mv
    ("and s0, s1, s0", [0x8C65]),                   # c.and, swapped
    ("sub s0, s0, s1", [0x8C05]),                   # c.sub
    ("sub s0, s1, s0", [0x40848433]),               # sub is not commutative
    ("andi s0, s0, -1", [0x987D]),                  # c.andi
    ("slli a0, a0, 3", [0x050E]),                   # c.slli
    ("slli a0, a0, 0", [0x00051513]),               # shift by 0 is a HINT: refused
    ("srli s0, s0, 4", [0x8011]),                   # c.srli
    ("lui a0, 0x1f", [0x657D]),                     # c.lui
    ("lui sp, 1", [0x00001137]),                    # c.lui cannot target sp
    ("lw a0, 0(sp)", [0x4502]),                     # c.lwsp
    ("lw a0, 4(a1)", [0x41C8]),                     # c.lw
    ("lw a0, 2(a1)", [0x0025A503]),                 # offset not a multiple of 4
    ("sw a0, 0(sp)", [0xC02A]),                     # c.swsp
    ("mv a0, a1", [0x852E]),
    ("mv a0, zero", [0x00000513]),                  # mv only compresses to c.mv
    ("li a0, -1", [0x557D]),                        # c.li
    ("li a0, 0xffffffff", [0xFFF00513]),            # GNU: not a small literal -> addi
    ("li a1, 0x1f000", [0x65FD]),                   # li -> c.lui
    ("li a0, 0x12345678", [0x12345537, 0x67850513]),
    ("li a0, 0x12345001", [0x12345537, 0x0505]),    # lui + c.addi
    ("li sp, 0x1000", [0x00001137]),
    ("li a0, 100", [0x06400513]),                   # li's addi form is never compressed
    ("nop", [0x0001]),
    ("ebreak", [0x9002]),
    ("jr t0", [0x8282]),
    ("jalr t0", [0x9282]),
    ("jalr ra, 0(t0)", [0x000280E7]),               # full form stays 32-bit
    ("ret", [0x8082]),
])
def test_rvc_compression(src: str, expected: list[int]) -> None:
    assert words(src) == expected


def test_explicit_compressed_mnemonics() -> None:
    src = """
    c.li a0, 21
    c.lui a1, 0x1f
    c.addi a0, -7
    c.mv a2, a1
    c.addi16sp sp, 16
    c.addi4spn a5, sp, 16
    c.lwsp a4, 8(sp)
    c.swsp a5, 8(sp)
    c.nop
    """
    names = [decode(w)[0].name for w in words(src)]
    assert names == ["c.li", "c.lui", "c.addi", "c.mv", "c.addi16sp", "c.addi4spn", "c.lwsp",
                     "c.swsp", "c.nop"]


def test_la_call_tail_never_compress() -> None:
    r = assemble_full("""
    _start:
        la a0, target
        call target
        tail target
    target: nop
    """, "t.S", flat_layout(BASE))
    text = next(s.data for s in r.sections if s.name == ".text")
    assert len(text) == 8 * 3 + 2
    w = [int.from_bytes(text[i:i + 4], "little") for i in range(0, 24, 4)]
    assert w[0] & 0x7F == 0x17 and w[1] & 0x7F == 0x13          # auipc a0 / addi a0
    assert w[2] == 0x00000097 and w[3] == 0x010080E7            # auipc ra / jalr ra, 16(ra)
    assert w[4] == 0x00000317 and w[5] == 0x00830067            # auipc t1 / jr 8(t1)


def test_option_norvc_push_pop() -> None:
    src = """
    addi a0, a0, 1
    .option push
    .option norvc
    addi a0, a0, 1
    .option pop
    addi a0, a0, 1
    """
    assert words(src) == [0x0505, 0x00150513, 0x0505]


# --- branch relaxation ---

def _sizes(src: str) -> list[int]:
    r = assemble_full(src, "t.S", flat_layout(BASE))
    return [len(b) for _, b, _, s in r.listing if s.split()[0] in ("beqz", "bnez", "j", "jal",
                                                                   "beq", "blt", "bgt")]


def test_branch_relaxation_sizes() -> None:
    src = """
    _start: beqz a0, near
        .space 100
    near:  beqz a0, far
        .space 300
    far:   beqz a0, vfar
        .space 5000
    vfar:  beqz t0, vfar2
        .space 5000
    vfar2: j _start
        j vfar
        jal vfar2
        beq a0, zero, vfar2
        bgt a0, a1, vfar2
        bnez a0, other
        j other
        .section .text.other, "ax"
    other: nop
    """
    assert _sizes(src) == [2, 4, 6, 8, 4, 4, 2, 2, 4, 8, 4]


def test_relaxed_branch_encodings() -> None:
    src = """
    _start: beqz a0, far
        .space 5000
    far: beqz t0, _start
    """
    data = text_of(src)
    inv = int.from_bytes(data[0:2], "little")
    jal = int.from_bytes(data[2:6], "little")
    assert decode(inv)[0].name == "c.bnez" and decode(inv)[1] == {"rs1": 10, "imm": 6}
    assert decode(jal)[0].name == "jal" and decode(jal)[1] == {"rd": 0, "imm": 5004}
    bne = int.from_bytes(data[5006:5010], "little")
    jal2 = int.from_bytes(data[5010:5014], "little")
    assert decode(bne)[1] == {"rs1": 5, "rs2": 0, "imm": 8} and decode(bne)[0].name == "bne"
    assert decode(jal2)[1] == {"rd": 0, "imm": -5010}


def test_relaxation_reaches_fixed_point() -> None:
    # 120 forward branches over code that shrinks as they relax
    body = "\n".join(f"  beqz a0, L{k}\n  .space 10\nL{k}: nop" for k in range(120))
    body += "\n  beqz a0, _start\n"
    data = text_of("_start:\n" + body)
    assert len(data) % 2 == 0
    # every branch reaches its label
    assert decode(int.from_bytes(data[0:2], "little"))[1]["imm"] == 12


# --- alignment ---

def test_code_alignment_uses_nops() -> None:
    data = text_of("c.nop\n.balign 8\nnop\n")
    assert data[:8] == bytes.fromhex("0100" "0100" "13000000")


def test_code_alignment_ignored_below_instruction_alignment() -> None:
    # GNU: .balign 4 under norvc is a no-op in code sections (riscv_frag_align_code)
    data = text_of("c.nop\n.option norvc\n.balign 4\nnop\n")
    assert data[:6] == bytes.fromhex("0100" "13000000")


def test_code_section_padded_to_alignment() -> None:
    r = assemble_full(".balign 16\nc.nop\n", "t.S", flat_layout(0))
    text = next(s for s in r.sections if s.name == ".text")
    assert text.size == 16 and text.data == bytes.fromhex("0100" "0100") + bytes.fromhex(
        "13000000") * 3


def test_data_alignment_zero_fill() -> None:
    r = assemble_full(".data\n.byte 1\n.balign 4\n.byte 2\n.p2align 3, 0xaa\n.byte 3",
                      "t.S", flat_layout(0))
    data = next(s.data for s in r.sections if s.name == ".data")
    assert data == bytes([1, 0, 0, 0, 2]) + b"\xaa" * 3 + bytes([3])


# --- directives and expressions ---

def _data(src: str) -> bytes:
    r = assemble_full(".data\n" + src, "t.S", flat_layout(0))
    return next(s.data for s in r.sections if s.name == ".data")


@pytest.mark.parametrize("src,expected", [
    (".word 0x12345678", "78563412"),
    (".half 0x1234, 1\n.short 2", "341201000200"),
    (".byte 1, 2, 255, -1", "0102ffff"),
    (".2byte 7\n.4byte 8", "070008000000"),
    (".dword 1", "0100000000000000"),
    (".string \"ab\\n\"", "61620a00"),
    (".asciz \"a\", \"b\"", "61006200"),
    (".ascii \"x\\101\\x42\"", "784142"),
    (".fill 3, 2, 0x1234", "341234123412"),
    (".space 3\n.zero 2\n.skip 1, 7", "000000000007"),
    (".word (1 + 2) * 3", "09000000"),
    (".word 4 + 1 & 2", "04000000"),                       # GAS: & binds tighter than +
    (".word 1 << 4 | 1", "11000000"),
    (".word -8 >> 1", "fcffffff"),                         # logical shift of a 64-bit value
    (".word ~0, -(3), !0", "ffffffff" "fdffffff" "01000000"),
    (".word 7 / 2, -7 / 2, -7 % 2", "03000000" "fdffffff" "ffffffff"),
    (".word 010, 0b101, 'a'", "08000000" "05000000" "61000000"),
    (".word 1 == 1, 1 < 0", "ffffffff" "00000000"),
    (".set i, 0\n.rept 3\n.byte i\n.set i, i + 1\n.endr", "000102"),
    (".equ K, 5\nx = K * 2\n.byte K, x", "050a"),
    (".irp r, 1, 2, 3\n.byte \\r * 2\n.endr", "020406"),
    (".rept 2\n.rept 2\n.byte 9\n.endr\n.endr", "09090909"),
    ("a: .word b - a\nb:", "04000000"),
    (".word .", "00000000"),
    ("1: .byte 1\n1: .byte 2\n.word 1b, 1f\n1:", "0102" "01000000" "0a000000"),
    (".byte 1 ; .byte 2 # comment ; .byte 3\n/* .byte 4\n */ .byte 5", "010205"),
])
def test_data_directives(src: str, expected: str) -> None:
    assert _data(src).hex() == expected


def test_hi_lo_and_pcrel_relocations() -> None:
    src = """
    .equ sym, 0x12345800
    lui a1, %hi(sym)
    addi a1, a1, %lo(sym)
    lw a2, %lo(sym)(a1)
    1: auipc a0, %pcrel_hi(target)
    addi a0, a0, %pcrel_lo(1b)
    target:
    """
    w = words(".option norvc\n" + src)
    assert w[0] == 0x123465B7 and w[1] == 0x80058593 and w[2] == 0x8005A603
    assert decode(w[3])[1]["imm"] == 0 and decode(w[4])[1]["imm"] == 8


def test_load_store_symbol_pseudo() -> None:
    w = words(".option norvc\nlw a0, x\nsw a1, x, t0\nx: .word 0")
    assert decode(w[0])[0].name == "auipc" and decode(w[1])[1] == {"rd": 10, "rs1": 10,
                                                                   "imm": 16}
    assert decode(w[2])[0].name == "auipc" and decode(w[3])[1] == {"rs1": 5, "rs2": 11,
                                                                   "imm": 8}


def test_insn_directive() -> None:
    src = """
    .insn r 0x33, 0, 0, a0, a1, a2
    .insn r OP, 0, 32, a0, a0, a1
    .insn i 0x13, 0, a0, a1, -5
    .insn i LOAD, 2, a0, 8(sp)
    .insn s 0x23, 2, a0, 4(sp)
    .insn u 0x37, a0, 0x12345
    .insn b 0x63, 0, a0, a1, 1f
    .insn j 0x6f, ra, 1f
    1:
    .insn 0x00000013
    """
    w = words(src)
    assert w[:6] == [0x00C58533, 0x40B50533, 0xFFB58513, 0x00812503, 0x00A12223, 0x12345537]
    assert decode(w[6])[0].name == "beq" and decode(w[6])[1]["imm"] == 8
    assert decode(w[7])[0].name == "jal" and decode(w[7])[1] == {"rd": 1, "imm": 4}
    assert w[8] == 0x13


def test_sections_and_symbols() -> None:
    r = assemble_full("""
        .globl _start
    _start: nop
        .section .rodata
    ro: .word 1
        .data
    d:  .word ro
        .bss
    b:  .space 8
        .section .mydata, "aw", @progbits
    m:  .byte 7
        .section .note.junk
        .byte 1
    """, "t.S", flat_layout(0x100))
    s = r.symbols
    assert s["_start"] == 0x100 and s["ro"] == 0x104 and s["d"] == 0x108 and s["b"] == 0x10C
    assert s["m"] == 0x114                                     # orphan placed after the rest
    assert r.image.entry == 0x100
    assert "_start" in r.globals and "d" not in r.globals
    data = next(x for x in r.sections if x.name == ".data")
    assert data.data == (0x104).to_bytes(4, "little")
    bss = next(x for x in r.image.segments if x.addr == 0x10C)
    assert bss.data == b"" and bss.memsz == 8
    assert not any(seg.addr <= 0x115 < seg.end and seg.addr > 0x114 for seg in r.image.segments)


def test_push_pop_previous_section() -> None:
    r = assemble_full("""
        nop
        .pushsection .data
        .byte 1
        .popsection
        nop
        .data
        .byte 2
        .previous
        nop
    """, "t.S", flat_layout(0))
    text = next(x for x in r.sections if x.name == ".text")
    data = next(x for x in r.sections if x.name == ".data")
    assert text.size == 6 and data.data == bytes([1, 2])


# --- layouts ---

def test_default_layout_is_calibration_link_ld() -> None:
    r = assemble_full("""
        .section .vectors, "ax"
        j .
        .section .text.init, "ax"
        .globl _start
    _start: la sp, _stack_top
        .data
        .balign 16
    begin_signature: .word 1
        .section .tohost, "aw", @nobits
    tohost: .space 4
    """, "t.S")
    assert r.image.entry == 0x80
    assert r.symbols["_stack_top"] == 0xFFFF0 and r.symbols["tohost"] == 0x20000004
    assert r.symbols["begin_signature"] == 0x90
    assert [(s.addr, s.memsz) for s in r.image.segments] == [(0, 2), (0x80, 8), (0x90, 4)]
    assert CV32E40P.entry == "_start"


def test_cluster_layout() -> None:
    r = assemble_full("""
    _start: la a0, buf
        lw a1, 0(a0)
        .data
    buf: .word 42
        .bss
    zero: .space 16
    """, "t.S", cluster_layout())
    assert r.symbols["_start"] == 0x1C000000 and r.symbols["buf"] == 0x10000000
    assert r.symbols["zero"] == 0x10000010 and r.symbols["__bss_start"] == 0x10000010
    assert r.symbols["_stack_top"] == 0x10020000
    assert {s.addr for s in r.image.segments} == {0x1C000000, 0x10000000, 0x10000010}


def test_custom_layout_and_overlap_error() -> None:
    layout = Layout(sections=(OutputSection(".text", ((".text",),), addr=0x100),
                              OutputSection(".data", ((".data",),), addr=0x102)),
                    regions=(Region("ram", 0, 0x1000),))
    with pytest.raises(AsmError, match="overlaps"):
        assemble("nop\nnop\n.data\n.word 1", "t.S", layout)


# --- errors ---

@pytest.mark.parametrize("src,fragment", [
    ("foo a0, a1", "unrecognized opcode `foo'"),
    ("addi a0, a1, a2", "expected an expression, found a register"),
    ("addi a0, a1", "expected ','"),
    ("addi a0, a1, 5000", "out of range"),
    ("slli a0, a0, 32", "out of range"),
    ("lw a0, 4(x99)", "expected a register"),
    ("j nowhere", "undefined symbol `nowhere'"),
    ("beqz a0, 1f", "undefined symbol `1f'"),
    ("j 1b", "undefined local label `1b'"),
    (".option norvc\nc.li a0, 1", "requires RVC"),
    ("c.addi16sp sp, 0", "non-zero"),
    ("c.lwsp zero, 0(sp)", "non-zero"),
    ("c.lw a0, 0(a7)", "not allowed"),
    (".bogus 1", "unknown directive"),
    ("li a0, later\nlater:", "must be a constant"),
    ("lui a0, 0x100000", "lui expression not in range"),
    ("csrr a0, nosuchcsr", "unknown CSR"),
    (".word 1/0", "division by zero"),
    ("x: nop\nx: nop", "already defined"),
    (".rept 2\nnop", "without .endr"),
    (".bss\n.word 1", "non-zero value"),
    (".option pop", "pop with no .option push"),
    ("addi a0, a0, %pcrel_lo(x)\nx: nop", "no matching %pcrel_hi"),
    ("beq a0, a1, far\n.space 8000\nfar: nop\n.option norvc\njal a0, 0x200000", "out of range"),
])
def test_errors(src: str, fragment: str) -> None:
    assert fragment in err(src)


def test_error_line_numbers() -> None:
    msg = err("nop\n/* multi\nline */\n  nop\n  addi a0, a0, 9999\n")
    assert msg.startswith("bad.S:5: ")


# --- XpulpV2 (table-driven syntax selection) ---

def test_xpulpv2_syntax_selects_encoding() -> None:
    from isa.tables import by_name
    if len(by_name("p.lw")) < 3:
        pytest.skip("XpulpV2 table without p.lw forms")
    w = words("p.lw a0, 4(a1!)\np.lw a0, a2(a1)\np.lw a0, a2(a1!)")
    forms = [decode(x)[0].syntax for x in w]
    assert forms == ["rd, imm(rs1!)", "rd, rs2(rs1)", "rd, rs2(rs1!)"]
    assert len(set(w)) == 3


def test_label_differences_known_at_parse_time() -> None:
    # GAS resolves differences of labels with only fixed-size code between them
    w = words(".option norvc\nstart: nop\nnop\nend:\nli a0, end - start\n"
              ".rept (end - start) / 4\nnop\n.endr")
    assert w == [0x13, 0x13, 0x00800513, 0x13, 0x13]
    assert "must be a constant" in err("a: beqz a0, a\nb: li a0, b - a")


def test_region_overflow_is_reported_with_location() -> None:
    with pytest.raises(AsmError, match=r"^t\.S:3: section \.data .* does not fit memory region"):
        assemble("nop\n.data\n.space 0x200000\n", "t.S")
