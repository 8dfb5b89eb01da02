"""Host load facts printed next to every benchmark figure (shared by the benchmark scripts)."""
from __future__ import annotations

import os
import subprocess


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages, or None where the OS does not report them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def uptime_line() -> str | None:
    """The output of ``uptime`` (None if unavailable)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def numba_cache_state(dispatcher) -> str:
    """Whether a Numba dispatcher's code was loaded from the on-disk cache or compiled."""
    stats = getattr(dispatcher, "stats", None)
    if stats is None:
        return "unknown"
    hits, misses = sum(stats.cache_hits.values()), sum(stats.cache_misses.values())
    return "hit (loaded from cache)" if hits else ("miss (compiled)" if misses else "unknown")
