"""Matplotlib plots (Agg backend, PNG) drawn from reports only, never from the simulator.

* ``plot_timeline``: Gantt chart, one row per track (layers, cores, DMA, IMA, DW), slices coloured
  by layer;
* ``plot_energy``: energy breakdown, stacked bars by engine group (cores, L1, DMA, IMA, DW,
  other) for each layer and for the whole run;
* ``plot_layers``: per-layer latency and energy bars;
* ``compare_mappings(reports)``: speed-up and energy efficiency of each mapping relative to the
  CORES mapping, with the published [G22] ratios (system-facts section 6) as markers;
* ``plot_report(report, out_dir)``: the three per-run plots into ``out_dir``; ``redraw(dir)`` is
  ``hetsoc plot DIR``.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .energy import engine_kind  # noqa: E402
from .report import Report  # noqa: E402
from .trace_perfetto import track_order  # noqa: E402

GROUPS = ("cores", "l1", "dma", "ima", "dw", "other")
GROUP_COLOURS = {"cores": "#4c72b0", "l1": "#55a868", "dma": "#8172b2", "ima": "#c44e52",
                 "dw": "#dd8452", "other": "#937860"}
# [G22] section 6: (speed-up, energy-efficiency gain) over the 8-core mapping; None = not given
PUBLISHED_RATIOS = {"ima_cjob8": (1.23, None), "ima_cjob16": (2.27, None),
                    "hybrid": (4.6, 3.4), "ima_dw": (11.5, 9.5)}


def _group(engine: str) -> str:
    if engine_kind(engine) == "core":
        return "cores"
    return "l1" if engine == "tcdm" else engine


def _grouped(per_engine: dict[str, float]) -> dict[str, float]:
    out = {g: 0.0 for g in GROUPS}
    for e, v in per_engine.items():
        g = _group(e)
        out[g] = out.get(g, 0.0) + v
    return out


def plot_timeline(report: Report) -> Figure:
    """Gantt chart of the run's slices (needs ``report.records``; empty axes otherwise)."""
    rec = report.records
    fig, ax = plt.subplots(figsize=(11, 4.5))
    if rec is None or (not rec.slices and not rec.layer_spans):
        ax.text(0.5, 0.5, "no slices recorded", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    order = track_order(rec)
    layer_names = [r["name"] for r in report.layers]
    cmap = plt.get_cmap("tab10")
    colour = {n: cmap(i % 10) for i, n in enumerate(layer_names)}
    us = rec.cycles_to_us
    rows = {t: i for i, t in enumerate(order)}
    for layer, (s, e) in rec.layer_spans.items():
        ax.broken_barh([(us(s), us(e - s))], (rows["layers"] - 0.4, 0.8),
                       facecolors=colour.get(layer, "grey"), edgecolor="black", linewidth=0.3)
        ax.text(us(s + e) / 2, rows["layers"], layer, ha="center", va="center", fontsize=7)
    for sl in rec.slices:
        c = colour.get(sl.layer, "lightgrey") if sl.category != "barrier" else "black"
        ax.broken_barh([(us(sl.start_cycle), us(sl.duration_cycles))],
                       (rows[sl.track] - 0.35, 0.7), facecolors=c, linewidth=0)
    ax.set_yticks(range(len(order)), order)
    ax.invert_yaxis()
    ax.set_xlabel("time (us)")
    ax.set_xlim(0, us(rec.cycles_total) or 1)
    ax.set_title(f"{report.workload['name']} / {report.mapping['name']}: timeline "
                 f"({report.latency_cycles} cycles)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[n]) for n in layer_names]
    if handles:
        ax.legend(handles, layer_names, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def plot_energy(report: Report) -> Figure:
    """Stacked energy bars (nJ) by engine group: one bar per layer, one for the whole run."""
    e = report.energy
    names = [r["name"] for r in report.layers] + ["total"]
    data = [_grouped(e["per_layer_pj"].get(n, {}).get("per_engine_pj", {}))
            for n in names[:-1]] + [_grouped(e["per_engine_pj"])]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bottom = [0.0] * len(names)
    for g in GROUPS:
        vals = [d.get(g, 0.0) / 1e3 for d in data]
        if any(vals):
            ax.bar(names, vals, bottom=bottom, label=g, color=GROUP_COLOURS[g])
            bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("energy (nJ)")
    ax.set_title(f"{report.workload['name']} / {report.mapping['name']}: energy "
                 f"{e['total_pj'] / 1e3:.1f} nJ")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_layers(report: Report) -> Figure:
    """Per-layer latency (us) and energy (nJ) bars, labelled with each layer's engine."""
    names = [f"{r['name']}\n({r['engine']})" for r in report.layers]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.bar(names, [r["latency_us"] for r in report.layers], color="#4c72b0")
    a1.set_ylabel("latency (us)")
    a1.set_title("latency per layer")
    a2.bar(names, [r["energy_pj"] / 1e3 for r in report.layers], color="#c44e52")
    a2.set_ylabel("energy (nJ)")
    a2.set_title("energy per layer")
    for a in (a1, a2):
        a.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"{report.workload['name']} / {report.mapping['name']}")
    fig.tight_layout()
    return fig


def compare_mappings(reports: list[Report]) -> Figure:
    """Speed-up and energy-efficiency gain of each report over the one whose mapping is
    ``cores`` (ValueError if none), with the published [G22] ratios as markers."""
    base = [r for r in reports if r.mapping.get("name") == "cores"]
    if not base:
        raise ValueError("compare_mappings: needs a report of the 'cores' mapping as baseline")
    b = base[0]
    others = [r for r in reports if r is not b]
    names = [r.mapping["name"] for r in others]
    speed = [b.latency_cycles / r.latency_cycles if r.latency_cycles else 0.0 for r in others]
    eff = [b.energy["total_pj"] / r.energy["total_pj"] if r.energy["total_pj"] else 0.0
           for r in others]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = list(range(len(others)))
    w = 0.38
    ax.bar([i - w / 2 for i in x], speed, w, label="speed-up (simulated)", color="#4c72b0")
    ax.bar([i + w / 2 for i in x], eff, w, label="energy efficiency (simulated)",
           color="#55a868")
    label = "published [G22]"
    for i, n in enumerate(names):
        pub = PUBLISHED_RATIOS.get(n)
        if pub is None:
            continue
        ax.plot(i - w / 2, pub[0], marker="D", color="black", linestyle="none", label=label)
        label = "_nolegend_"
        if pub[1] is not None:
            ax.plot(i + w / 2, pub[1], marker="D", color="black", linestyle="none",
                    label="_nolegend_")
    for i, (s, e) in enumerate(zip(speed, eff)):
        ax.text(i - w / 2, s, f"{s:.2f}x", ha="center", va="bottom", fontsize=7)
        ax.text(i + w / 2, e, f"{e:.2f}x", ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(x, names)
    ax.set_ylabel("gain over the cores mapping (x)")
    ax.set_title(f"{b.workload['name']}: mappings vs 8 cores")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Save a figure as PNG and close it."""
    p = Path(path)
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p


def plot_report(report: Report, out_dir: str | Path) -> list[Path]:
    """Write timeline.png, energy.png and layers.png for one report; return the paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    return [save(plot_timeline(report), d / "timeline.png"),
            save(plot_energy(report), d / "energy.png"),
            save(plot_layers(report), d / "layers.png")]


def redraw(report_dir: str | Path) -> list[Path]:
    """``hetsoc plot DIR``: reload the report in ``DIR`` and redraw its plots there.  When
    ``DIR`` holds no report.json but sub-directories with reports, redraw each of them and the
    mapping comparison (``compare.png``) if a ``cores`` report is among them."""
    d = Path(report_dir)
    if (d / "report.json").exists():
        return plot_report(Report.load(d), d)
    subs = sorted(p for p in d.iterdir() if (p / "report.json").exists()) if d.is_dir() else []
    if not subs:
        raise ValueError(f"{d}: no report.json here or in its sub-directories")
    reports = [Report.load(p) for p in subs]
    out: list[Path] = []
    for p, r in zip(subs, reports):
        out += plot_report(r, p)
    if any(r.mapping.get("name") == "cores" for r in reports):
        out.append(save(compare_mappings(reports), d / "compare.png"))
    return out
