"""Differential testing of the core's RV32IMC semantics against unicorn (QEMU's RISC-V model).

Every seed of :mod:`tests.soc.random_rv32` gives a random program that is assembled once with
:func:`isa.assembler.assemble_full` and executed

* on :class:`soc.iss.Core` (until it stores to ``tohost``), and
* on unicorn (``UC_ARCH_RISCV``/``UC_MODE_RISCV32``) with the same memory image and initial
  registers, stopped by a write hook on ``tohost`` (the store is the last instruction both
  execute; ``_diff_end``, the ``j .`` after it, is a backstop ``until`` address);

then all 32 registers and the whole data buffer are compared.  On a mismatch the assertion
names the seed, the first differing register and byte, the first instruction whose result
differs (found by replaying both with per-instruction traces) and the disassembled program.

``HETSOC_DIFF_N`` overrides the number of programs of the default run (300) and
``HETSOC_DIFF_SLOW_N`` that of the ``slow`` run (5000, ``pytest -m slow``).
"""
from __future__ import annotations

import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pytest

from isa.assembler import AsmResult, assemble_full
from isa.decoder import decode
from isa.disassembler import disassemble, disassemble_word
from soc.iss import ABI_NAMES, Core
from soc.memory import Region, read_bytes
from tests.soc.random_rv32 import (
    BUF_SIZE, RV32I_MNEMONICS, RV32M_MNEMONICS, RVC_MNEMONICS, Program, generate,
)

unicorn = pytest.importorskip("unicorn")
from unicorn import riscv_const as rv  # noqa: E402

#: One RAM window at 0 for both simulators (the programs use the calibration link.ld layout).
RAM_SIZE = 0x40000
#: Generous bounds: the programs retire a few hundred to a few thousand instructions.
MAX_CYCLES = 2_000_000
MAX_INSNS = 500_000

N_DEFAULT = int(os.environ.get("HETSOC_DIFF_N", "300"))
N_SLOW = int(os.environ.get("HETSOC_DIFF_SLOW_N", "5000"))
SLOW_BASE = 100_000     # slow seeds do not overlap the default ones
SLOW_CHUNK = 100
MASK = 0xFFFFFFFF


@dataclass
class Outcome:
    """Architectural state at the tohost store."""

    regs: list[int]        # x0..x31, unsigned
    buf: bytes
    ok: bool
    message: str
    instret: int = 0
    counters: dict[str, int] | None = None


def _signed(v: int) -> int:
    """``v`` as a signed 32-bit value (the core's register file is int32)."""
    v &= MASK
    return v - (1 << 32) if v & 0x80000000 else v


@lru_cache(maxsize=512)
def build(seed: int) -> tuple[Program, AsmResult]:
    """The program of ``seed`` and its assembly."""
    prog = generate(seed)
    return prog, assemble_full(prog.source, f"random_rv32_seed{seed}.S")


def text_segments(res: AsmResult) -> list[tuple[int, bytes]]:
    """``(address, bytes)`` of the executable segments."""
    return [(s.addr, s.data) for s in res.image.segments if s.executable]


# ---- our core ----------------------------------------------------------------------------------

def make_core(prog: Program, res: AsmResult) -> Core:
    """A core loaded with the program and its initial registers."""
    core = Core(res.image, regions=(Region("ram", 0, RAM_SIZE),))
    for i in range(1, 32):
        core.state.x[0, i] = _signed(prog.init_regs[i])
    return core


def run_core(prog: Program, res: AsmResult) -> Outcome:
    """Run on :class:`soc.iss.Core`."""
    core = make_core(prog, res)
    r = core.run(max_cycles=MAX_CYCLES)
    regs = [int(v) & MASK for v in core.state.x[0]]
    buf = bytes(read_bytes(core.mem, res.symbols["buf"], BUF_SIZE))
    ok = r.ok and r.exit_code == 0
    return Outcome(regs, buf, ok, r.message, r.instret, dict(r.counters))


# ---- unicorn -----------------------------------------------------------------------------------

def make_unicorn(prog: Program, res: AsmResult):
    """A unicorn RV32 machine with the image and initial registers; returns ``(uc, box)``,
    ``box`` receiving the value stored to tohost."""
    uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
    uc.mem_map(0, RAM_SIZE)
    tohost = res.symbols["tohost"]
    uc.mem_map(tohost & ~0xFFF, 0x1000)
    for seg in res.image.segments:
        assert seg.end <= RAM_SIZE, f"segment at {seg.addr:#x} outside the RAM window"
        uc.mem_write(seg.addr, bytes(seg.data))
    for i in range(1, 32):
        uc.reg_write(rv.UC_RISCV_REG_X0 + i, prog.init_regs[i])
    box: dict[str, int] = {}

    def on_tohost(uc_, access, address, size, value, user) -> None:
        """Record the exit value and stop at the tohost store."""
        box["value"] = value
        uc_.emu_stop()

    uc.hook_add(unicorn.UC_HOOK_MEM_WRITE, on_tohost, begin=tohost, end=tohost + 3)
    return uc, box


def _uc_regs(uc) -> list[int]:
    """x0..x31 of unicorn, unsigned."""
    return [0] + [uc.reg_read(rv.UC_RISCV_REG_X0 + i) & MASK for i in range(1, 32)]


def run_unicorn(prog: Program, res: AsmResult) -> Outcome:
    """Run on unicorn until the tohost store."""
    uc, box = make_unicorn(prog, res)
    msg = ""
    try:
        uc.emu_start(res.image.entry, res.symbols["_diff_end"], count=MAX_INSNS)
    except unicorn.UcError as e:
        msg = f"unicorn: {e} at pc {uc.reg_read(rv.UC_RISCV_REG_PC):#x}"
    ok = box.get("value") == 1
    if not ok and not msg:
        msg = f"unicorn stopped at pc {uc.reg_read(rv.UC_RISCV_REG_PC):#x} without writing tohost"
    buf = bytes(uc.mem_read(res.symbols["buf"], BUF_SIZE))
    return Outcome(_uc_regs(uc), buf, ok, msg)


# ---- diagnostics -------------------------------------------------------------------------------

_TRACE_PC = re.compile(r"\s*\d+ 0x([0-9a-f]{8}) ")
_TRACE_WR = re.compile(r" +(\w+)=0x([0-9a-f]{8})  \(\d+\)$")
_REG_INDEX = {n: i for i, n in enumerate(ABI_NAMES)}


def listing(res: AsmResult) -> str:
    """Disassembly of the program's code (runs of zero half-words collapsed)."""
    out: list[str] = []
    for addr, data in text_segments(res):
        zeros = 0
        for a, _n, word, text in disassemble(data, addr):
            if word == 0:
                zeros += 1
                continue
            if zeros:
                out.append(f"    ... {zeros} zero half-words")
                zeros = 0
            out.append(f"  {a:08x}:  {text}")
        if zeros:
            out.append(f"    ... {zeros} zero half-words")
    return "\n".join(out)


def first_divergence(prog: Program, res: AsmResult) -> str:
    """Replay both simulators instruction by instruction and describe the first instruction
    whose pc or register result differs (best effort)."""
    core = make_core(prog, res)
    text = io.StringIO()
    core.run(max_cycles=MAX_CYCLES, trace=text)
    core_steps: list[tuple[int, int, int]] = []       # pc, reg (-1: none), value
    for line in text.getvalue().splitlines():
        m = _TRACE_PC.match(line)
        if not m:
            continue
        w = _TRACE_WR.search(line)
        reg = _REG_INDEX.get(w.group(1), -1) if w else -1
        core_steps.append((int(m.group(1), 16), reg, int(w.group(2), 16) if w else 0))

    uc, _box = make_unicorn(prog, res)
    uc_steps: list[tuple[int, list[int]]] = []        # pc, registers before the instruction

    def on_code(uc_, address, size, user) -> None:
        """Record pc and registers before every instruction."""
        uc_steps.append((address, _uc_regs(uc_)))
        if len(uc_steps) > len(core_steps) + 2:
            uc_.emu_stop()

    uc.hook_add(unicorn.UC_HOOK_CODE, on_code)
    try:
        uc.emu_start(res.image.entry, res.symbols["_diff_end"], count=MAX_INSNS)
    except unicorn.UcError:
        pass
    uc_steps.append((uc.reg_read(rv.UC_RISCV_REG_PC), _uc_regs(uc)))

    def insn(pc: int) -> str:
        """``address: disassembly`` of the instruction at ``pc``."""
        raw = bytes(uc.mem_read(pc, 4))
        return f"{pc:#010x}: {disassemble_word(int.from_bytes(raw, 'little'), pc)}"

    regs = list(prog.init_regs)
    for i, (pc, reg, val) in enumerate(core_steps):
        if i + 1 >= len(uc_steps):
            return f"core retired more instructions ({len(core_steps)}) than unicorn"
        upc, before = uc_steps[i]
        if upc != pc:
            prev = insn(core_steps[i - 1][0]) if i else "<entry>"
            return (f"control flow diverges after instruction #{i - 1} {prev}: "
                    f"core continues at {pc:#x}, unicorn at {upc:#x}")
        if reg > 0:
            regs[reg] = val
        after = uc_steps[i + 1][1]
        bad = [r for r in range(1, 32) if regs[r] != after[r]]
        if bad:
            r = bad[0]
            found = decode(int.from_bytes(bytes(uc.mem_read(pc, 4)), "little"))
            used = sorted({v for s, v in (found[1].items() if found else ())
                           if s in ("rs1", "rs2", "rd") and v})
            operands = ", ".join(f"{ABI_NAMES[k]}={before[k]:#010x}" for k in used)
            return (f"first differing result: instruction #{i} {insn(pc)} -> "
                    f"{ABI_NAMES[r]} expected (unicorn) {after[r]:#010x}, got (core) "
                    f"{regs[r]:#010x}; operands before: {operands}")
    return "no per-instruction difference found (memory-only difference?)"


def compare(seed: int) -> tuple[str | None, int]:
    """Run ``seed`` on both simulators; returns (mismatch report or None, instructions)."""
    prog, res = build(seed)
    got = run_core(prog, res)
    exp = run_unicorn(prog, res)
    problems: list[str] = []
    if not exp.ok:
        problems.append(f"unicorn did not finish: {exp.message}")
    if not got.ok:
        problems.append(f"core did not finish: {got.message}")
    bad_regs = [i for i in range(32) if got.regs[i] != exp.regs[i]]
    if bad_regs:
        r = bad_regs[0]
        problems.append(
            f"{len(bad_regs)} register(s) differ, first x{r} ({ABI_NAMES[r]}): expected "
            f"(unicorn) {exp.regs[r]:#010x}, got (core) {got.regs[r]:#010x}"
            + (f"; others: {', '.join(ABI_NAMES[k] for k in bad_regs[1:])}" if bad_regs[1:]
               else ""))
    bad_bytes = [i for i in range(BUF_SIZE) if got.buf[i] != exp.buf[i]]
    if bad_bytes:
        b = bad_bytes[0]
        problems.append(
            f"{len(bad_bytes)} buffer byte(s) differ, first buf+{b} "
            f"({res.symbols['buf'] + b:#x}): expected (unicorn) {exp.buf[b]:#04x}, "
            f"got (core) {got.buf[b]:#04x}")
    if not problems:
        return None, got.instret
    try:
        where = first_divergence(prog, res)
    except Exception as e:  # diagnostics must not hide the real report
        where = f"(divergence search failed: {e!r})"
    init = " ".join(f"{ABI_NAMES[i]}={v:#x}" for i, v in enumerate(prog.init_regs) if i)
    report = (f"seed {seed}: " + "; ".join(problems) + f"\n{where}\ninitial registers: {init}"
              f"\nreproduce: tests.soc.random_rv32.generate({seed})\nprogram:\n{listing(res)}")
    return report, got.instret


# ---- tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(N_DEFAULT))
def test_random_program_matches_unicorn(seed: int) -> None:
    """Program ``seed``: registers and buffer equal unicorn's at the tohost store."""
    report, _ = compare(seed)
    assert report is None, report


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range((N_SLOW + SLOW_CHUNK - 1) // SLOW_CHUNK))
def test_random_programs_match_unicorn_slow(chunk: int) -> None:
    """A chunk of ``SLOW_CHUNK`` more seeds (``pytest -m slow``)."""
    start = SLOW_BASE + chunk * SLOW_CHUNK
    seeds = range(start, min(start + SLOW_CHUNK, SLOW_BASE + N_SLOW))
    failures = []
    for seed in seeds:
        build.cache_clear()
        report, _ = compare(seed)
        if report is not None:
            failures.append((seed, report))
    assert not failures, (f"{len(failures)} failing seed(s): {[s for s, _ in failures]}\n"
                          + failures[0][1])


def mnemonic_counts(seeds: range) -> Counter:
    """How often each mnemonic occurs in the code assembled for ``seeds`` (static count)."""
    counts: Counter = Counter()
    for seed in seeds:
        _prog, res = build(seed)
        for addr, data in text_segments(res):
            for _a, _n, word, _text in disassemble(data, addr):
                found = decode(word) if word else None
                if found is not None:
                    counts[found[0].name] += 1
    return counts


def test_generator_covers_rv32imc() -> None:
    """Every RV32IM mnemonic and every RVC mnemonic but c.ebreak occurs in the default seeds
    (and often enough), so the differential test cannot silently lose coverage."""
    n = min(N_DEFAULT, 100)
    counts = mnemonic_counts(range(n))
    missing = sorted((RV32I_MNEMONICS | RV32M_MNEMONICS | RVC_MNEMONICS) - set(counts))
    assert not missing, f"mnemonics never generated in {n} programs: {missing}"
    rare = sorted(m for m in RV32I_MNEMONICS | RV32M_MNEMONICS | RVC_MNEMONICS
                  if counts[m] < n // 10)
    assert not rare, f"mnemonics generated fewer than {n // 10} times: " + ", ".join(
        f"{m}={counts[m]}" for m in rare)
    unexpected = sorted(m for m in counts if not m.startswith("c.") and m not in
                        RV32I_MNEMONICS | RV32M_MNEMONICS | {"fence.i"})
    assert not unexpected, f"unexpected mnemonics (XpulpV2/CSR/system?): {unexpected}"


def test_programs_exercise_corner_cases() -> None:
    """The programs really contain the corner cases (static patterns) and the core really
    executes misaligned accesses, taken branches and jumps (its event counters), so the
    differential test cannot degrade into trivial programs."""
    src = "\n".join(build(s)[0].source for s in range(20))
    for pat in (r"\blw \w+, -?\d*[13579]\((s0|sp)\)", r"\bs[hw] \w+, -?\d*[13579]\((s0|sp)\)",
                r"\bdiv\w* \w+, \w+, zero", r"li \w+, (0x80000000|2147483648|-2147483648)",
                r"li \w+, -1\n\s+(div|rem)", r"\bs(ll|rl|ra)i \w+, \w+, 0\n",
                r"\bs(ll|rl|ra)i \w+, \w+, 31\n", r"c\.jalr ra", r"jalr (\w+), 0\(\1\)",
                r"la \w+, \.L\d+\+1", r"li s1, [2-8]\n\.loop", r"\.space 4200",
                r"\.option norvc", r"\.2byte", r"fence\.i"):
        assert re.search(pat, src), f"no {pat!r} in 20 programs"
    totals: Counter = Counter()
    insns = 0
    for seed in range(20):
        prog, res = build(seed)
        got = run_core(prog, res)
        assert got.ok, got.message
        assert got.instret < 20_000, f"seed {seed}: {got.instret} instructions (runaway loop?)"
        insns += got.instret
        totals.update(got.counters or {})
    assert insns > 20 * 200, f"only {insns} instructions in 20 programs"
    for name in ("stall_misaligned", "stall_branch", "stall_jump", "loads", "stores"):
        if name in totals:
            assert totals[name] > 20, f"counter {name} = {totals[name]} over 20 programs"


def test_generator_is_deterministic() -> None:
    """Same seed, same program; different seeds, different programs."""
    a, b = generate(12345), generate(12345)
    assert a.source == b.source and a.init_regs == b.init_regs
    assert generate(1).source != generate(2).source
