"""The four-mapping study of [G22]: run one workload under several mappings and tabulate
speed-up and energy-efficiency gain over the CORES mapping next to the published ratios
(``hetsoc compare``).

Every mapping runs on the same architecture (``pulp_g22_multi`` by default: the published
cluster with enough crossbars to keep the depthwise-on-IMA weight blocks programmed; latency and
energy of the other mappings do not depend on the number of arrays).
"""
from __future__ import annotations

from pathlib import Path

from .plots import PUBLISHED_RATIOS, compare_mappings, save
from .report import Report
from .simulation import simulate, write_outputs

DEFAULT_MAPPINGS = ("cores", "ima_cjob8", "ima_cjob16", "hybrid", "ima_dw")


def compare(workload: str | Path, arch: str = "pulp_g22_multi",
            mappings: tuple[str, ...] = DEFAULT_MAPPINGS, out_dir: str | Path | None = None,
            seed: int | None = None) -> tuple[list[Report], str]:
    """Run every mapping; returns the reports and a Markdown table (also written, with each
    run's report and ``compare.png``, under ``out_dir``)."""
    if "cores" not in mappings:
        raise ValueError("compare: the mappings must include 'cores' (the baseline)")
    # every mapping runs before anything is written: a failing one leaves no partial output
    runs = [simulate(workload, arch=arch, mapping=m, seed=seed, keep_program=True)
            for m in mappings]
    reports = [r for r, _ in runs]
    table = comparison_table(reports)
    if out_dir is not None:
        for m, (rep, program) in zip(mappings, runs):
            write_outputs(Path(out_dir) / Path(m).stem, rep, program)
        (Path(out_dir) / "comparison.md").write_text(table)
        save(compare_mappings(reports), Path(out_dir) / "compare.png")
    return reports, table


def comparison_table(reports: list[Report]) -> str:
    """Markdown: per mapping latency, energy, speed-up and energy-efficiency gain over the
    ``cores`` report, the published ratios, and the functional check."""
    base = next(r for r in reports if r.mapping.get("name") == "cores")
    lines = ["| mapping | cycles | µs | energy (nJ) | speed-up | published speed-up | "
             "energy eff. | published energy eff. | check |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        name = r.mapping.get("name")
        e = r.energy["total_pj"]
        speed = base.latency_cycles / r.latency_cycles
        eff = base.energy["total_pj"] / e if e else 0.0
        pub = PUBLISHED_RATIOS.get(name, (1.0, 1.0) if name == "cores" else (None, None))

        def fmt(v):
            return "-" if v is None else f"{v:.2f}x"
        check = {True: "bit-exact", False: "FAILED", None: "noisy"}[r.check.get("passed")]
        lines.append(f"| {name} | {r.latency_cycles} | {r.latency_us:.1f} | {e / 1e3:.1f} | "
                     f"{speed:.2f}x | {fmt(pub[0])} | {eff:.2f}x | {fmt(pub[1])} | {check} |")
    return "\n".join(lines) + "\n"


__all__ = ["DEFAULT_MAPPINGS", "compare", "comparison_table"]
