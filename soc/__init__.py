"""hetsoc: cycle-accurate simulator of a heterogeneous RISC-V cluster for tiny-ML inference.

Python API (more arrives with the cluster issues):

* :func:`soc.iss.run_elf` / :func:`soc.iss.run_image`: run a program on one cycle-exact
  CV32E40P core (what ``hetsoc exec`` does);
* :class:`soc.iss.Core`: the same with access to memory, registers and counters.
"""
from .iss import Core, ExecResult, run_elf, run_image

__all__ = ["Core", "ExecResult", "run_elf", "run_image"]
