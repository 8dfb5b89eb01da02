"""Shared pytest fixtures and paths."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HETSOC_SHARED", REPO.parent / "shared"))
CALIBRATION = SHARED / "calibration" / "cv32e40p"


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    """The RTL-measured CV32E40P calibration suite (skips when shared/ is absent)."""
    if not (CALIBRATION / "manifest.json").exists():
        if os.environ.get("CI"):
            pytest.fail(f"calibration suite not found at {CALIBRATION} (required in CI)")
        pytest.skip(f"calibration suite not found at {CALIBRATION}")
    return CALIBRATION
