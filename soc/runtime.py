"""Building cluster programs: user assembly + the runtime in ``kernels/runtime``."""
from __future__ import annotations

from pathlib import Path

from isa.assembler import assemble, cluster_layout
from isa.image import Image

from .cluster_config import ClusterConfig


#: Files of ``kernels/runtime`` linked into every cluster program, in this order.
RUNTIME_FILES = ("crt0.S", "hal_ima.S", "hal_dw.S")


def kernels_dir() -> Path:
    """The shipped ``kernels/`` directory: beside the packages in a source checkout, or
    installed as ``soc/kernels`` (package data) by ``pip install``."""
    pkg = Path(__file__).resolve().parent
    for candidate in (pkg.parent / "kernels", pkg / "kernels"):
        if (candidate / "runtime" / "crt0.S").is_file():
            return candidate
    raise FileNotFoundError(f"kernels/runtime/crt0.S not found beside {pkg}")


def runtime_source(name: str = "crt0.S") -> str:
    """Text of a runtime file from ``kernels/runtime``."""
    return (kernels_dir() / "runtime" / name).read_text()


def load_cluster_program(path: str | Path, config: ClusterConfig | None = None) -> Image:
    """An ELF linked for the cluster, or an assembly source linked with the runtime."""
    from isa.elf import load_elf

    from .iss import ASM_SUFFIXES, read_source

    path = Path(path)
    if path.suffix in ASM_SUFFIXES:
        return cluster_program(read_source(path), str(path), config)
    return load_elf(path)


def cluster_program(source: str, filename: str = "<program>",
                    config: ClusterConfig | None = None) -> Image:
    """Assemble ``source`` (which defines ``main``) with the cluster start-up code: code in L2,
    data and stacks in the TCDM, ``NCORES`` defined as the configured core count."""
    cfg = config or ClusterConfig()
    layout = cluster_layout(code_addr=cfg.l2_base, code_size=cfg.l2_size_bytes,
                            data_addr=cfg.tcdm_base, data_size=cfg.tcdm_size_bytes)
    text = (f"    .equ NCORES, {cfg.n_cores}\n" + "\n".join(runtime_source(f) for f in RUNTIME_FILES)
            + "\n" + source)
    image = assemble(text, filename=filename, layout=layout)
    image.source = filename
    return image


def accel_wait_main(waits: tuple[str, ...] | str = "ima_wait", data: str = "") -> str:
    """A cluster ``main`` for driving an accelerator from Python: core 0 calls each of
    ``waits`` (e.g. ``ima_wait``, ``dw_wait``: sleep until the accelerator's end-of-job event),
    then every core meets at a barrier and core 0 ends the run.  ``data`` follows in ``.data``."""
    calls = "\n".join(f"    call  {w}" for w in ((waits,) if isinstance(waits, str) else waits))
    return f"""
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    bnez  a0, 1f
{calls}
1:  call  rt_barrier
    lw    ra, 12(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
    .data
{data}
"""


def accel_hammer_main(wait: str = "ima_wait", target: str = "xin", data: str = "") -> str:
    """Like :func:`accel_wait_main` with one wait, while cores 1..N-1 load the first four words
    of ``target`` in a loop (contending with the accelerator's streams) until core 0 sets
    ``stop`` (a word this program adds to ``data``)."""
    return f"""
    .text
    .globl main
main:
    addi  sp, sp, -16
    sw    ra, 12(sp)
    bnez  a0, 2f
    call  {wait}
    la    t0, stop
    li    t1, 1
    sw    t1, 0(t0)
    j     3f
2:  la    t2, {target}
    la    t3, stop
1:  lw    t1, 0(t2)
    lw    t1, 4(t2)
    lw    t1, 8(t2)
    lw    t1, 12(t2)
    lw    t4, 0(t3)
    beqz  t4, 1b
3:  call  rt_barrier
    lw    ra, 12(sp)
    addi  sp, sp, 16
    li    a0, 0
    ret
    .data
{data}
    .balign 4
stop: .word 0
"""
