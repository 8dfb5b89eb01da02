"""``hetsoc exec/asm/disasm``: outputs, signatures, traces, and one-line errors on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from soc.cli import main

PASS_TAIL = """
    li   t0, 1
    la   t1, tohost
    sw   t0, 0(t1)
1:  j    1b
    .section .tohost, "aw", @nobits
    .globl tohost
tohost:
    .space 4
"""


def _prog(tmp_path: Path, body: str, name: str = "p.S", tail: str = PASS_TAIL) -> Path:
    src = tmp_path / name
    src.write_text("    .text\n    .globl _start\n_start:\n" + body + "\n" + tail)
    return src


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("hetsoc: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_exec_json_reports_cycles_and_exit_code(tmp_path, capsys):
    src = _prog(tmp_path, "    li a0, 3\n    li a1, 4\n    mul a2, a0, a1\n")
    code, out, _ = _run(["exec", str(src), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["stop_reason"] == "tohost" and data["exit_code"] == 0
    assert data["instructions_retired"] == 3 + 4  # li, li, mul, then li/la(2)/sw
    assert data["counters"]["instr_mul"] == 1


def test_exec_exit_code_is_tohost_value_shifted(tmp_path, capsys):
    tail = PASS_TAIL.replace("li   t0, 1", "li   t0, 7")   # exit code 3
    src = _prog(tmp_path, "    nop\n", tail=tail)
    code, out, _ = _run(["exec", str(src)], capsys)
    assert code == 3
    assert "exit code 3" in out


def test_exec_signature_and_trace(tmp_path, capsys):
    body = """
    la   t4, begin_signature
    li   t0, 0x12345678
    sw   t0, 0(t4)
    li   t0, -1
    sw   t0, 4(t4)
"""
    tail = PASS_TAIL + """
    .data
    .balign 16
    .globl begin_signature
begin_signature:
    .word 0, 0
    .globl end_signature
end_signature:
"""
    src = _prog(tmp_path, body, tail=tail)
    sig, trace = tmp_path / "out.sig", tmp_path / "out.trace"
    code, _, _ = _run(["exec", str(src), "--signature", str(sig), "--trace", str(trace)], capsys)
    assert code == 0
    assert sig.read_text() == "12345678\nffffffff\n"
    lines = trace.read_text().splitlines()
    assert any("t0=0x12345678" in line for line in lines)
    # cycle, pc, raw, disassembly ... (cost): the first instruction issues at cycle 0
    assert lines[0].split()[0] == "0"


def test_asm_then_exec_elf_then_disasm(tmp_path, capsys):
    src = _prog(tmp_path, "    addi a0, zero, 5\n")
    elf = tmp_path / "p.elf"
    code, _, _ = _run(["asm", str(src), "-o", str(elf)], capsys)
    assert code == 0 and elf.exists()
    code, _, _ = _run(["exec", str(elf)], capsys)
    assert code == 0
    code, out, _ = _run(["disasm", str(elf)], capsys)
    assert code == 0
    assert "<_start>:" in out and "c.li" in out


@pytest.mark.parametrize("mutate,needle", [
    (lambda b: b"hello, this is not an ELF file\n", "not an ELF file"),
    (lambda b: b[:4] + b"\x02" + b[5:], "64-bit"),
    (lambda b: b[:5] + b"\x02" + b[6:], "big-endian"),
    (lambda b: b[:40], "truncated"),
])
def test_bad_elf_files(tmp_path, capsys, calibration_dir, mutate, needle):
    raw = (calibration_dir / "programs" / "base_empty.elf").read_bytes()
    bad = tmp_path / "bad.elf"
    bad.write_bytes(mutate(raw))
    code, _, err = _run(["exec", str(bad)], capsys)
    assert code == 1
    assert needle in _one_line_error(err)


def test_wrong_machine_elf(tmp_path, capsys, calibration_dir):
    raw = bytearray((calibration_dir / "programs" / "base_empty.elf").read_bytes())
    raw[18:20] = (62).to_bytes(2, "little")  # EM_X86_64
    bad = tmp_path / "x86.elf"
    bad.write_bytes(bytes(raw))
    code, _, err = _run(["exec", str(bad)], capsys)
    assert code == 1 and "not RISC-V" in _one_line_error(err)


def test_illegal_instruction_names_pc_and_word(tmp_path, capsys):
    src = _prog(tmp_path, "    nop\n    .word 0xffffffff\n")
    code, _, err = _run(["exec", str(src)], capsys)
    line = _one_line_error(err)
    assert code == 1
    assert "illegal instruction at pc 0x00000082" in line
    assert "0xffffffff" in line


def test_load_outside_memory(tmp_path, capsys):
    src = _prog(tmp_path, "    li a0, 0x40000000\n    lw a1, 8(a0)\n")
    code, _, err = _run(["exec", str(src)], capsys)
    line = _one_line_error(err)
    assert code == 1
    assert "load from unmapped address 0x40000008" in line and "lw a1,8(a0)" in line


def test_store_outside_memory(tmp_path, capsys):
    src = _prog(tmp_path, "    li a0, 0x40000000\n    sw a1, 0(a0)\n")
    code, _, err = _run(["exec", str(src)], capsys)
    line = _one_line_error(err)
    assert code == 1 and "store to unmapped address 0x40000000" in line


def test_program_that_never_stops(tmp_path, capsys):
    src = _prog(tmp_path, "1:  j 1b\n")
    code, _, err = _run(["exec", str(src), "--max-cycles", "1000"], capsys)
    line = _one_line_error(err)
    assert code == 1
    assert "did not stop within 1000 cycles" in line and "pc 0x00000080 (c.j 0x80)" in line


def test_ecall_without_handler(tmp_path, capsys):
    src = _prog(tmp_path, "    li a0, 5\n    ecall\n")
    code, _, err = _run(["exec", str(src)], capsys)
    assert code == 1 and "ecall without a trap handler" in _one_line_error(err)


def test_assembly_error_is_one_line(tmp_path, capsys):
    src = _prog(tmp_path, "    frobnicate a0, a1\n")
    code, _, err = _run(["exec", str(src)], capsys)
    line = _one_line_error(err)
    assert code == 1 and f"{src}:4:" in line


def test_missing_file(tmp_path, capsys):
    code, _, err = _run(["exec", str(tmp_path / "nope.elf")], capsys)
    assert code == 1 and "cannot read" in _one_line_error(err)


def test_console_script_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_text("not an elf")
    proc = subprocess.run([sys.executable, "-m", "soc", "exec", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("hetsoc: error:")
    assert "Traceback" not in proc.stderr


def test_exec_on_a_cluster_reports_cores_and_banks(tmp_path, capsys):
    src = tmp_path / "par.S"
    src.write_text("""
    .text
    .globl main
main:
    mv    s9, ra
    call  rt_barrier
    mv    ra, s9
    li    a0, 0
    ret
""")
    code, out, _ = _run(["exec", "--cores", "4", str(src), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert len(data["cores"]) == 4 and len(data["banks"]["conflicts"]) == 32
    assert all(c["counters"]["instr_elw"] >= 1 for c in data["cores"])


def test_exec_cluster_deadlock_is_an_error(tmp_path, capsys):
    src = tmp_path / "dead.S"
    src.write_text("""
    .text
    .globl main
main:
    bnez  a0, 1f
    li    t0, EU_BASE
    sw    zero, EU_MASK(t0)
    p.elw zero, EU_WAIT(t0)
1:  call  rt_barrier
    ret
""")
    code, _, err = _run(["exec", "--cores", "2", str(src)], capsys)
    line = _one_line_error(err)
    assert code == 1 and "deadlock" in line and str(src) in line
