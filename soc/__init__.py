"""hetsoc: cycle-accurate simulator of a heterogeneous RISC-V cluster for tiny-ML inference.

Python API:

* :func:`soc.simulate`: a workload YAML (or ``Workload``) on an architecture under a mapping ->
  a :class:`soc.report.Report` (what ``hetsoc run`` does); :func:`soc.compare` runs several
  mappings (``hetsoc compare``);
* :func:`soc.load_workload`, :func:`soc.load_arch`, :func:`soc.load_mapping`: the validated
  inputs, for design-space sweeps (e.g. ``dataclasses.replace`` on ``Arch.cluster``);
* :class:`soc.cluster.Cluster`: a cluster running a program (``hetsoc exec --cores N``), with
  its IMA (``Cluster.ima``) and depthwise accelerator (``Cluster.dw``);
* :func:`soc.run_elf` / :func:`soc.run_image` / :class:`soc.Core`: one cycle-exact CV32E40P
  core (``hetsoc exec``).

The heavier modules are imported on first use, so ``import soc`` stays quick.
"""
from .iss import Core, ExecResult, run_elf, run_image

_LAZY = {"simulate": ("simulation", "simulate"), "compare": ("comparison", "compare"),
         "load_workload": ("workload", "load_workload"), "load_arch": ("arch", "load_arch"),
         "load_mapping": ("mapping_presets", "load_mapping"), "Report": ("report", "Report"),
         "Cluster": ("cluster", "Cluster")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'soc' has no attribute {name!r}")


__all__ = ["Core", "ExecResult", "run_elf", "run_image", *_LAZY]
