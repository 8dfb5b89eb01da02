"""The ``hetsoc`` command line.

Every failure the user can cause (a bad file, an illegal instruction, an access outside memory,
a program that does not stop) is reported as one line on stderr with a non-zero exit status;
Python tracebacks are shown only with ``HETSOC_DEBUG=1``.

Exit status: the program's exit code for ``exec`` runs that end through ``tohost``;
1 for a run that ended abnormally or bad input; 2 for command-line usage errors.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _exit_status(exit_code: int | None) -> int:
    """Process exit status for a program's exit code (non-zero codes stay non-zero)."""
    code = exit_code or 0
    return code & 0xFF if code & 0xFF else (1 if code else 0)


def _report(result, args: argparse.Namespace, summary: str) -> int:
    """Print the JSON report and/or a one-line summary or error; return the exit status."""
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    if not result.ok:
        print(f"hetsoc: error: {result.message}", file=sys.stderr)
        return 1
    if not args.json:
        print(summary)
    return _exit_status(result.exit_code)


def _cmd_exec_cluster(args: argparse.Namespace) -> int:
    from .cluster import Cluster
    from .cluster_config import ClusterConfig
    from .runtime import load_cluster_program

    cfg = ClusterConfig(n_cores=args.cores)
    image = load_cluster_program(args.program, cfg)
    result = Cluster(image, cfg).run(max_cycles=args.max_cycles, progress=True)
    result.message = f"{args.program}: {result.message}"
    return _report(result, args, f"{result.message}; exit code {result.exit_code} after "
                   f"{result.cycles} cycles, {result.instret} instructions on {args.cores} cores")


def _cmd_run(args: argparse.Namespace) -> int:
    from .simulation import simulate

    report = simulate(args.workload, arch=args.arch, mapping=args.mapping, seed=args.seed,
                      out_dir=args.out, trace=args.trace, plots=args.plots, progress=True,
                      stage_l2=args.stage_l2)
    print(report.summary_table())
    if args.out:
        print(f"report written to {args.out}")
    if report.check.get("passed") is False:
        bad = [k for k, v in report.check.get("layers", {}).items() if v.get("mismatches")]
        print(f"hetsoc: error: functional check failed in layer(s) {', '.join(bad)}",
              file=sys.stderr)
        return 1
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .comparison import compare

    mappings = tuple(m.strip() for m in args.mappings.split(",") if m.strip())
    reports, table = compare(args.workload, arch=args.arch, mappings=mappings,
                             out_dir=args.out, seed=args.seed)
    print(table, end="")
    if args.out:
        print(f"reports, comparison.md and compare.png written to {args.out}")
    return 1 if any(r.check.get("passed") is False for r in reports) else 0


def _cmd_exec(args: argparse.Namespace) -> int:
    from .iss import Core, load_program

    if args.cores:
        return _cmd_exec_cluster(args)
    image = load_program(args.program)
    core = Core(image)
    trace = open(args.trace, "w") if args.trace else None
    try:
        result = core.run(max_cycles=args.max_cycles, trace=trace)
    finally:
        if trace:
            trace.close()
    if args.signature:
        sig = core.signature()
        if sig is None:
            raise UserError(f"{args.program}: no begin_signature/end_signature symbols")
        Path(args.signature).write_text("".join(f"{w:08x}\n" for w in sig))
    return _report(result, args, result.message)


def _cmd_asm(args: argparse.Namespace) -> int:
    from isa.assembler import assemble
    from isa.elf_writer import write_elf

    from .iss import read_source

    src = Path(args.source)
    image = assemble(read_source(src), filename=str(src))
    out = Path(args.output or src.with_suffix(".elf"))
    write_elf(image, out)
    print(f"{out}: entry 0x{image.entry:08x}, "
          f"{sum(len(s.data) for s in image.segments)} bytes in {len(image.segments)} segment(s)")
    return 0


def _cmd_disasm(args: argparse.Namespace) -> int:
    from isa.disassembler import disassemble
    from isa.elf import load_elf

    image = load_elf(args.program)
    names = {}
    for name, addr in image.symbols.items():
        if not name.startswith(("$", ".")) and not name.endswith(".o"):
            names.setdefault(addr, name)
    for seg in image.segments:
        if not seg.executable and not args.all:
            continue
        for addr, length, word, text in disassemble(seg.data, seg.addr):
            if addr in names:
                print(f"\n{addr:08x} <{names[addr]}>:")
            raw = f"{word:08x}" if length == 4 else f"{word:04x}    "
            print(f"{addr:8x}:\t{raw}\t{text}")
    return 0


class UserError(ValueError):
    """Bad input reported as one line."""


def _cmd_validate(args: argparse.Namespace) -> int:
    """Validate a workload / arch / mapping / energy YAML, chosen by its top-level ``kind:``."""
    from .workload import read_yaml

    data = read_yaml(args.file, UserError)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "workload":
        from .workload import load_workload
        w = load_workload(args.file)
        b = w.tensor_bytes()
        summary = (f"workload {w.name}: {len(w.layers)} layers, input {list(w.input_shape)}, "
                   f"{sum(layer.macs for layer in w.layers)} MACs, {b['total_bytes']} tensor bytes")
    elif kind == "arch":
        from .arch import load_arch
        a = load_arch(args.file)
        summary = (f"arch {a.name}: {a.cluster.n_cores} cores at {a.cluster.clock_hz} Hz, "
                   f"{a.cluster.tcdm_size_bytes} B L1 in {a.cluster.tcdm_banks} banks, "
                   f"IMA {a.ima.rows}x{a.ima.cols}")
    elif kind == "mapping":
        from .mapping_presets import load_mapping, load_mapping_spec
        spec = load_mapping_spec(args.file)
        summary = f"mapping {spec.name}: " + ", ".join(
            f"{op}: {a}" for op, a in spec.rules.items())
        if args.workload:
            from .workload import load_workload
            m = load_mapping(args.file, load_workload(args.workload))
            summary += "; " + ", ".join(f"{k} -> {v}" for k, v in m.items())
    elif kind == "energy":
        from .energy import load_energy_table
        t = load_energy_table(args.file)
        summary = (f"energy table {t.name}: {sum(len(v) for v in t.actions.values())} actions, "
                   f"{len(t.leakage)} leakage components")
    else:
        raise UserError(f"{args.file}: kind = {kind!r}: allowed workload, arch, mapping, energy")
    print(f"ok: {args.file}: {summary}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    """Redraw the plots of a written report directory."""
    from .plots import redraw

    paths = redraw(args.dir)
    print(f"ok: wrote {len(paths)} plot(s): " + ", ".join(str(p) for p in paths))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hetsoc`` command."""
    p = argparse.ArgumentParser(prog="hetsoc", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("exec", help="run a RISC-V ELF on a cycle-exact CV32E40P core")
    e.add_argument("program", help="RV32 little-endian ELF executable, or an assembly source (.S)")
    e.add_argument("--signature", metavar="FILE",
                   help="write the words between begin_signature and end_signature")
    e.add_argument("--json", action="store_true", help="print cycles, instructions, exit code")
    e.add_argument("--max-cycles", type=_int, default=10**9, metavar="N",
                   help="stop with an error after N cycles (default 1e9)")
    e.add_argument("--trace", metavar="FILE", help="write an instruction trace (single core)")
    e.add_argument("--cores", type=int, default=0, metavar="N",
                   help="run on a cluster of N cores (banked TCDM, event unit); a .S source "
                        "is linked with the cluster runtime (kernels/runtime/crt0.S)")
    e.set_defaults(func=_cmd_exec)

    a = sub.add_parser("asm", help="assemble a GNU-as source into an ELF")
    a.add_argument("source")
    a.add_argument("-o", "--output", metavar="FILE")
    a.set_defaults(func=_cmd_asm)

    d = sub.add_parser("disasm", help="disassemble the executable segments of an ELF")
    d.add_argument("program")
    d.add_argument("--all", action="store_true", help="also non-executable segments")
    d.set_defaults(func=_cmd_disasm)

    v = sub.add_parser("validate", help="check a workload, arch, mapping or energy YAML "
                                        "(chosen by its top-level kind:)")
    v.add_argument("file")
    v.add_argument("--workload", metavar="FILE",
                   help="for a mapping: also apply it to this workload")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("run", help="simulate a workload YAML under a mapping: generated "
                                   "control code, functional check, report")
    r.add_argument("workload", help="workload YAML file")
    r.add_argument("--arch", default="pulp_g22", metavar="NAME|FILE",
                   help="architecture preset or YAML (default pulp_g22)")
    r.add_argument("--mapping", default="cores", metavar="NAME|FILE",
                   help="mapping preset (cores, hybrid, ...) or YAML (default cores)")
    r.add_argument("--out", metavar="DIR", help="write report.json, CSVs, records, program.S")
    r.add_argument("--trace", action="store_true", help="also write a Perfetto trace.json")
    r.add_argument("--plots", action="store_true", help="also write the plots")
    r.add_argument("--seed", type=_int, help="override the workload's seed")
    r.add_argument("--stage-l2", action="store_true",
                   help="start input and weights in L2: the program moves them to L1 (and the "
                        "output back) with the DMA")
    r.set_defaults(func=_cmd_run)

    c = sub.add_parser("compare", help="run a workload under several mappings and tabulate "
                                       "speed-up and energy efficiency over the cores mapping")
    c.add_argument("workload", help="workload YAML file")
    c.add_argument("--arch", default="pulp_g22_multi", metavar="NAME|FILE",
                   help="architecture for every mapping (default pulp_g22_multi)")
    c.add_argument("--mappings", default="cores,ima_cjob8,ima_cjob16,hybrid,ima_dw",
                   help="comma-separated mapping presets or files (must include cores)")
    c.add_argument("--out", metavar="DIR", help="write each report, comparison.md, compare.png")
    c.add_argument("--seed", type=_int, help="override the workload's seed")
    c.set_defaults(func=_cmd_compare)

    pl = sub.add_parser("plot", help="redraw the plots of a report directory")
    pl.add_argument("dir", help="a directory written by a run (report.json), or one holding "
                                "several such directories (adds the mapping comparison)")
    pl.set_defaults(func=_cmd_plot)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hetsoc`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("hetsoc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # noqa: BLE001 - every failure becomes one line
        if os.environ.get("HETSOC_DEBUG"):
            raise
        known = isinstance(e, (ValueError, OSError, RuntimeError))
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        if not known:
            text = f"internal error ({type(e).__name__}: {text}); rerun with HETSOC_DEBUG=1"
        print(f"hetsoc: error: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
