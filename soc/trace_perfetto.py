"""Chrome trace-event JSON of a run, for ui.perfetto.dev or chrome://tracing.

One process (``pid`` 1, named after the run) with one thread per track: ``core0``..``core<N-1>``,
``dma``, ``ima``, ``dw`` (``M`` metadata events ``process_name``, ``thread_name`` and
``thread_sort_index``), and one ``X`` (complete) event per ``Slice`` with ``ts`` and ``dur`` in
microseconds computed from cycles and the cluster clock, ``cat`` = the slice category (job,
kernel, barrier, transfer, ...) and ``args`` = the slice's args plus its layer and cycle span.
Layer spans appear on an extra ``layers`` track.  Format reference: the Trace Event Format
(``traceEvents``, ``displayTimeUnit``), which Perfetto imports.
"""
from __future__ import annotations

import json
from pathlib import Path

from .records import RunRecords, Slice

PID = 1


def track_order(records: RunRecords) -> list[str]:
    """Tracks in display order: layers, cores by number, then dma, ima, dw, then any others."""
    tracks = {s.track for s in records.slices} | set(records.core_engines)
    if records.layer_spans:
        tracks.add("layers")
    cores = [t for t in records.core_engines if t in tracks]
    fixed = [t for t in ("dma", "ima", "dw") if t in tracks]
    rest = sorted(tracks - set(cores) - set(fixed) - {"layers"})
    return (["layers"] if "layers" in tracks else []) + cores + fixed + rest


def trace_events(records: RunRecords, name: str = "hetsoc") -> dict:
    """The trace as a dict ``{"traceEvents": [...], "displayTimeUnit": "ns", "otherData": ...}``."""
    order = track_order(records)
    tid = {t: i + 1 for i, t in enumerate(order)}
    us = records.cycles_to_us
    events: list[dict] = [{"ph": "M", "pid": PID, "tid": 0, "ts": 0, "name": "process_name",
                           "args": {"name": name}}]
    for t in order:
        events.append({"ph": "M", "pid": PID, "tid": tid[t], "ts": 0, "name": "thread_name",
                       "args": {"name": t}})
        events.append({"ph": "M", "pid": PID, "tid": tid[t], "ts": 0,
                       "name": "thread_sort_index", "args": {"sort_index": tid[t]}})
    slices = list(records.slices)
    slices += [Slice("layers", layer, s, e, layer, "layer")
               for layer, (s, e) in records.layer_spans.items()]
    for s in sorted(slices, key=lambda s: (s.start_cycle, -s.end_cycle)):
        args = dict(s.args)
        args.update({"start_cycle": s.start_cycle, "end_cycle": s.end_cycle})
        if s.layer is not None:
            args["layer"] = s.layer
        events.append({"ph": "X", "pid": PID, "tid": tid[s.track], "name": s.name,
                       "cat": s.category, "ts": us(s.start_cycle),
                       "dur": us(s.end_cycle - s.start_cycle), "args": args})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"clock_hz": records.clock_hz, "cycles_total": records.cycles_total,
                          "generator": "hetsoc"}}


def write_trace(records: RunRecords, path: str | Path, name: str = "hetsoc") -> Path:
    """Write the trace JSON to ``path`` (conventionally ``trace.json``); return the path."""
    p = Path(path)
    p.write_text(json.dumps(trace_events(records, name)))
    return p
