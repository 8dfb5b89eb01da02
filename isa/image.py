"""A loadable program image: what the assembler produces and the ELF reader returns."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    """Bytes to place at ``addr``; ``memsz`` >= ``len(data)`` (the rest is zero-filled)."""

    addr: int
    data: bytes
    memsz: int
    executable: bool = False
    writable: bool = True

    @property
    def end(self) -> int:
        """One past the last byte of the segment in memory."""
        return self.addr + self.memsz


@dataclass
class Image:
    """Entry point, loadable segments and the symbol table of a program."""

    entry: int
    segments: list[Segment]
    symbols: dict[str, int] = field(default_factory=dict)
    source: str = "<memory>"

    def symbol(self, name: str) -> int | None:
        """Address of ``name``, or ``None``."""
        return self.symbols.get(name)
