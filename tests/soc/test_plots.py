"""Plots drawn from synthetic reports: files exist and are non-empty PNGs; hetsoc plot/validate."""
from __future__ import annotations

from pathlib import Path

import pytest

from soc.cli import main
from soc.plots import compare_mappings, plot_report, redraw, save
from tests.soc.test_report import make_report

PNG = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parents[2]


def _is_png(p: Path) -> bool:
    return p.stat().st_size > 1000 and p.read_bytes()[:8] == PNG


def test_plot_report(tmp_path):
    paths = plot_report(make_report(), tmp_path)
    assert [p.name for p in paths] == ["timeline.png", "energy.png", "layers.png"]
    assert all(_is_png(p) for p in paths)


def test_compare_mappings(tmp_path):
    reports = [make_report("cores", 8.0), make_report("ima_cjob8", 5.0),
               make_report("ima_cjob16", 3.0), make_report("hybrid", 1.5),
               make_report("ima_dw", 1.0)]
    assert _is_png(save(compare_mappings(reports), tmp_path / "c.png"))
    with pytest.raises(ValueError, match="cores"):
        compare_mappings(reports[1:])


def test_cli_plot_redraws(tmp_path, capsys):
    for m, s in (("cores", 8.0), ("ima_dw", 1.0)):
        make_report(m, s).write(tmp_path / m)
    assert main(["plot", str(tmp_path / "ima_dw")]) == 0
    assert _is_png(tmp_path / "ima_dw" / "timeline.png")
    assert main(["plot", str(tmp_path)]) == 0
    assert _is_png(tmp_path / "compare.png")
    assert "ok: wrote" in capsys.readouterr().out
    assert len(redraw(tmp_path / "cores")) == 3
    assert main(["plot", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hetsoc: error: ")


def test_cli_validate(tmp_path, capsys):
    for f in ("workloads/bottleneck.yaml", "soc/data/arch/pulp_g22.yaml",
              "soc/data/mappings/ima_dw.yaml", "soc/data/energy_22nm.yaml"):
        assert main(["validate", str(REPO / f)]) == 0
        assert capsys.readouterr().out.startswith("ok: ")
    bad = tmp_path / "b.yaml"
    bad.write_text("kind: workload\nschema_version: 1\nname: x\ninput: {shape: [4, 4, 4]}\n"
                   "layers:\n  - {name: a, op: pointwise, out_channels: 4, shift: 99}\n")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"hetsoc: error: {bad}: layer 'a': shift = 99: allowed 0..31"]
    bad.write_text("kind: nothing\n")
    assert main(["validate", str(bad)]) == 1
    assert "allowed workload, arch, mapping, energy" in capsys.readouterr().err
    bad.write_text("kind: [\n")
    assert main(["validate", str(bad)]) == 1
    assert "invalid YAML" in capsys.readouterr().err
