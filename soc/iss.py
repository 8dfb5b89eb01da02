"""Run a RISC-V program on one CV32E40P core with ideal (zero-wait-state) memory.

This is ``hetsoc exec`` and its Python API (:func:`run_elf`, :func:`run_image`).  The run ends
when the program stores to the ``tohost`` symbol (exit code = value >> 1, the riscv-tests /
Spike convention), traps without a handler, faults, or reaches the cycle limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from isa.elf import load_elf
from isa.image import Image
from isa.registers import ABI_NAMES
from isa.tables import decode_tables, exec_info

from .core_codegen import core_module
from .core_state import (
    COUNTER_NAMES, STOP_ARG, STOP_CHUNK, STOP_EBREAK, STOP_ECALL, STOP_FETCH_FAULT, STOP_ILLEGAL,
    STOP_LOAD_FAULT, STOP_MAX_CYCLES, STOP_NAMES, STOP_PC, STOP_REASON,
    STOP_STORE_FAULT, STOP_TOHOST, CoreState, new_state,
)
from .core_timing import SLOW_CSR_TABLE
from .diagnostics import describe_pc
from .memory import Memory, Region, build_memory, load_image, read_bytes


#: Default memory map of ``hetsoc exec``: 1 MiB at 0 (riscv-tests / calibration programs) and
#: the cluster's L1 and L2 windows, all ideal.
DEFAULT_REGIONS = (
    Region("ram", 0x0000_0000, 0x10_0000),
    Region("tcdm", 0x1000_0000, 512 * 1024),
    Region("l2", 0x1C00_0000, 1000 * 1024),
)
DEFAULT_MAX_CYCLES = 10**9
TRACE_CHUNK = 4096


@dataclass
class ExecResult:
    """Outcome of one program run."""

    stop_reason: str
    cycles: int
    instret: int
    exit_code: int | None
    pc: int
    message: str
    signature: list[int] | None = None
    counters: dict[str, int] = field(default_factory=dict)
    host_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the program ended by writing tohost."""
        return self.stop_reason == "tohost"

    def as_dict(self) -> dict:
        """JSON-friendly view."""
        return {
            "stop_reason": self.stop_reason, "exit_code": self.exit_code, "cycles": self.cycles,
            "instructions_retired": self.instret, "pc": f"0x{self.pc:08x}",
            "message": self.message, "counters": self.counters,
            "host_seconds": round(self.host_seconds, 6),
        }


class Core:
    """One core, its memory and the compiled simulator; the object behind ``hetsoc exec``."""

    def __init__(self, image: Image, regions: tuple[Region, ...] | list[Region] = DEFAULT_REGIONS,
                 hartid: int = 0, tohost: int | None = None) -> None:
        self.image = image
        th = image.symbol("tohost") if tohost is None else tohost
        self.mem: Memory = build_memory(list(regions), -1 if th is None else th)
        load_image(self.mem, image)
        self.state: CoreState = new_state(1, boot_pc=image.entry, hartid_base=hartid)
        self._mod = core_module()
        self._tabs = decode_tables()
        self._info = exec_info()
        self._no_trace = np.zeros((0, 5), np.int64)

    def run(self, max_cycles: int = DEFAULT_MAX_CYCLES, trace: TextIO | None = None) -> ExecResult:
        """Run until the program stops or ``max_cycles`` cycles have elapsed."""
        import time

        st = self.state
        t0 = time.perf_counter()
        while True:
            st.stop[0, :] = 0
            if trace is None:
                self._mod.run(st, self.mem, self._tabs, self._info, SLOW_CSR_TABLE, 0,
                              max_cycles, 1 << 62, self._no_trace)
            else:
                buf = np.zeros((TRACE_CHUNK, 5), np.int64)
                n = self._mod.run(st, self.mem, self._tabs, self._info, SLOW_CSR_TABLE, 0,
                                  max_cycles, TRACE_CHUNK, buf)
                self._write_trace(trace, buf[:n])
            if st.stop[0, STOP_REASON] != STOP_CHUNK:
                break
        return self._result(time.perf_counter() - t0)

    def _write_trace(self, out: TextIO, rows: np.ndarray) -> None:
        from isa.disassembler import disassemble_word

        for cyc, pc, reg, val, cost in rows.tolist():
            word = self.read_u32(pc, allow_fail=True)
            if word is not None and (word & 3) != 3:
                word &= 0xFFFF
            raw = "????????" if word is None else (f"{word:08x}" if word > 0xFFFF or (word & 3) == 3
                                                    else f"    {word:04x}")
            text = "<unmapped>" if word is None else disassemble_word(word, pc)
            wr = f" {ABI_NAMES[reg]:>4}=0x{val & 0xFFFFFFFF:08x}" if reg >= 0 else ""
            out.write(f"{cyc:10d} 0x{pc:08x} {raw} {text:<32}{wr}  ({cost})\n")

    def read_u32(self, addr: int, allow_fail: bool = False) -> int | None:
        """Little-endian word at ``addr`` (``None`` when unmapped and ``allow_fail``)."""
        try:
            return int.from_bytes(read_bytes(self.mem, addr, 4), "little")
        except ValueError:
            if allow_fail:
                try:
                    return int.from_bytes(read_bytes(self.mem, addr, 2), "little")
                except ValueError:
                    return None
            raise

    def signature(self) -> list[int] | None:
        """Words between ``begin_signature`` and ``end_signature`` (riscv-arch-test convention)."""
        b, e = self.image.symbol("begin_signature"), self.image.symbol("end_signature")
        if b is None or e is None:
            return None
        raw = read_bytes(self.mem, b, e - b)
        return [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw) - 3, 4)]

    def describe(self, pc: int) -> str:
        """``pc 0x... (disassembly)`` for error messages."""
        return describe_pc(self.mem, pc)

    def _result(self, seconds: float) -> ExecResult:
        st = self.state
        reason = int(st.stop[0, STOP_REASON])
        pc = int(st.stop[0, STOP_PC])
        arg = int(st.stop[0, STOP_ARG]) & 0xFFFFFFFF
        cycles, instret = int(st.cycle[0]), int(st.instret[0])
        exit_code = None
        src = self.image.source
        if reason == STOP_TOHOST:
            exit_code = arg >> 1
            msg = f"{src}: exit code {exit_code} after {cycles} cycles"
        elif reason == STOP_MAX_CYCLES:
            msg = f"{src}: core 0 did not stop within {cycles} cycles (--max-cycles) at {self.describe(pc)}"
        elif reason == STOP_ILLEGAL:
            msg = f"{src}: core 0: illegal instruction at {self.describe(pc)}"
        elif reason in (STOP_ECALL, STOP_EBREAK):
            name = STOP_NAMES[reason]
            msg = f"{src}: core 0: {name} without a trap handler at pc 0x{pc:08x}"
            exit_code = arg & 0xFFFFFFFF if reason == STOP_ECALL else None
        elif reason in (STOP_LOAD_FAULT, STOP_STORE_FAULT):
            kind = "load from" if reason == STOP_LOAD_FAULT else "store to"
            msg = f"{src}: core 0: {kind} unmapped address 0x{arg:08x} at {self.describe(pc)}"
        elif reason == STOP_FETCH_FAULT:
            msg = f"{src}: core 0: instruction fetch from unmapped address 0x{arg:08x}"
        else:
            msg = f"{src}: core 0 stopped ({STOP_NAMES.get(reason, reason)}) at pc 0x{pc:08x}"
        counters = {n: int(v) for n, v in zip(COUNTER_NAMES, st.cnt[0].tolist())}
        return ExecResult(STOP_NAMES.get(reason, str(reason)), cycles, instret, exit_code, pc, msg,
                          self.signature() if reason == STOP_TOHOST else None, counters, seconds)


def run_image(image: Image, *, max_cycles: int = DEFAULT_MAX_CYCLES,
              regions: tuple[Region, ...] | list[Region] = DEFAULT_REGIONS,
              trace: TextIO | None = None) -> ExecResult:
    """Run ``image`` on one core; see :class:`Core`."""
    return Core(image, regions).run(max_cycles=max_cycles, trace=trace)


ASM_SUFFIXES = (".S", ".s", ".asm")


def load_program(path: str | Path) -> Image:
    """An ELF executable, or an assembly source (``.S``/``.s``) assembled with the default
    layout of ``isa.assembler`` (entry ``_start`` at 0x80, ``tohost`` at 0x20000004)."""
    path = Path(path)
    if path.suffix in ASM_SUFFIXES:
        from isa.assembler import assemble

        image = assemble(read_source(path), filename=str(path))
        image.source = str(path)
        return image
    return load_elf(path)


def read_source(path: str | Path) -> str:
    """Text of a source file; a one-line ValueError if it cannot be read."""
    try:
        return Path(path).read_text()
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror}") from None


def run_elf(path: str | Path, **kwargs) -> ExecResult:
    """Load the program at ``path`` (see :func:`load_program`) and run it on one core
    (keyword arguments as :func:`run_image`)."""
    return run_image(load_program(path), **kwargs)


__all__ = ["Core", "DEFAULT_REGIONS", "ExecResult", "load_program", "read_source", "run_elf",
           "run_image"]
