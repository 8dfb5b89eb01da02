"""RV32C compressed instructions (filled in below)."""
from __future__ import annotations

from .spec import Instr

RVC: list[Instr] = []
