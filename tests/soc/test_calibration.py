"""Every program of the RTL-measured CV32E40P calibration suite must reproduce its signature
exactly: cycle count (word 0), retired instructions (word 1) and functional results."""
from __future__ import annotations

import json

import pytest

from tests.conftest import CALIBRATION
from soc.iss import run_elf


def _programs() -> list[dict]:
    manifest = CALIBRATION / "manifest.json"
    if not manifest.exists():
        return []
    return json.loads(manifest.read_text())["programs"]


PROGRAMS = _programs()


@pytest.mark.parametrize("prog", PROGRAMS, ids=[p["name"] for p in PROGRAMS])
def test_signature_matches_rtl(calibration_dir, prog: dict) -> None:
    result = run_elf(calibration_dir / prog["elf"], max_cycles=10_000_000)
    assert result.ok, result.message
    assert result.exit_code == 0
    expected = [int(w, 16) for w in (calibration_dir / prog["signature"]).read_text().split()]
    got = result.signature
    diffs = [f"word {i} ({prog['words'][i] if i < len(prog['words']) else '?'}): "
             f"expected {e:08x}, got {g:08x}"
             for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert len(got) == len(expected)
    assert not diffs, f"{prog['name']}: " + "; ".join(diffs)


def test_manifest_is_not_empty(calibration_dir) -> None:
    assert len(PROGRAMS) >= 46
