"""XpulpV2 (PULP) extension tables (filled in below)."""
from __future__ import annotations

from .spec import Instr

XPULPV2: list[Instr] = []
