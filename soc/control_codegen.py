"""The control program of a ``soc.mapper.Plan``: one RISC-V assembly source, ``main`` on all cores.

Structure of the generated ``main(core_id, ncores)``::

    all cores meet at a barrier; core 0 stores 0 to the trace-marker register
    for each step i of the plan:
        kernel step: every core calls  entry(&hs_blk_i)      (the kernel ends with rt_barrier)
        IMA step:    core 0 calls ima_run(array, &hs_blk_i) (19 job words in .data) then ima_wait;
                     then every core calls rt_barrier
        DW step:     core 0 calls dw_run(&hs_blk_i) (14 job words) then dw_wait; barrier
        DMA step:    core 0 runs rt_dma_copy for each (dst, src, bytes) of hs_blk_i; barrier
        core 0 stores i + 1 to the trace-marker register
    return 0 (core 0's value ends the run)

The trace marker (``soc.cluster.MARK_OFFSET``) records the cycle of every step boundary and lets
the simulator snapshot the action counters there (per-layer counts); each marker is one
peripheral store by core 0.

The argument blocks and job descriptors are ``.word`` literals in ``.data``; the tensors live
in ``hs_arena`` (16-byte aligned, last in ``.data``).  Because the blocks hold absolute
addresses, ``build_program`` assembles twice: once with placeholder blocks of the same size to
learn the arena's address, then with the real words (the arena does not move).  The kernels of
``kernels/dnn`` are appended with ``soc.kernels_lib.kernel_source``; the runtime (crt0, hal_ima)
is prepended by ``soc.runtime.cluster_program``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .kernels_lib import kernel_source
from .cluster import MARK_OFFSET
from .mapper import KERNEL_FILES, STACK_BYTES, MapError, Plan
from .runtime import cluster_program

ARENA = "hs_arena"


def _mark(i: int) -> list[str]:
    return [f"    bnez  s0, .Lhs_m{i}", f"    li    t1, {i}", "    sw    t1, 0(s1)",
            f".Lhs_m{i}:"]


def _main(plan: Plan) -> list[str]:
    L = ["    .text", "    .globl main", "main:",
         "    addi  sp, sp, -16", "    sw    ra, 12(sp)", "    sw    s0, 8(sp)",
         "    sw    s1, 4(sp)", "    sw    s2, 0(sp)",
         "    mv    s0, a0                  # s0 = core id",
         f"    li    s1, PERIPH_BASE + {MARK_OFFSET}   # s1 = trace-marker register",
         "    call  rt_barrier"] + _mark(0)
    for i, step in enumerate(plan.steps):
        L.append(f"    # step {i}: layer {step.layer}: {step.kind} {step.entry}")
        if step.kind == "kernel":
            L += [f"    la    a0, hs_blk_{i}", f"    call  {step.entry}"]
        elif step.kind == "dma":
            # hs_blk_i = [count, (dst, src, bytes) x count]; core 0 copies one after the other
            L += [f"    bnez  s0, .Lhs_w{i}", f"    la    s2, hs_blk_{i}",
                  "    lw    t1, 0(s2)", "    addi  s2, s2, 4", f"    beqz  t1, .Lhs_w{i}",
                  f".Lhs_d{i}:", "    lw    a0, 0(s2)", "    lw    a1, 4(s2)",
                  "    lw    a2, 8(s2)", "    call  rt_dma_copy", "    addi  s2, s2, 12",
                  f"    la    t1, hs_blk_{i}", "    lw    t1, 0(t1)", "    slli  t2, t1, 1",
                  "    add   t1, t1, t2", "    slli  t1, t1, 2", f"    la    t2, hs_blk_{i}",
                  "    addi  t2, t2, 4", "    add   t1, t1, t2", f"    bne   s2, t1, .Lhs_d{i}",
                  f".Lhs_w{i}:", "    call  rt_barrier"]
        else:
            call = ([f"    li    a0, {step.array}", f"    la    a1, hs_blk_{i}",
                     "    call  ima_run", "    call  ima_wait"] if step.kind == "ima" else
                    [f"    la    a0, hs_blk_{i}", "    call  dw_run", "    call  dw_wait"])
            L += [f"    bnez  s0, .Lhs_w{i}"] + call + [f".Lhs_w{i}:", "    call  rt_barrier"]
        L += _mark(i + 1)
    L += ["    lw    ra, 12(sp)", "    lw    s0, 8(sp)", "    lw    s1, 4(sp)",
          "    lw    s2, 0(sp)", "    addi  sp, sp, 16", "    li    a0, 0", "    ret", ""]
    return L


def _data(plan: Plan, blocks: list[bytes] | None, sizes: list[int]) -> list[str]:
    L = ["    .data"]
    for i, size in enumerate(sizes):
        L += ["    .balign 4", f"hs_blk_{i}:"]
        if blocks is None:
            L.append(f"    .space {size}")
        else:
            words = struct.unpack(f"<{len(blocks[i]) // 4}I", blocks[i])
            for j in range(0, len(words), 8):
                L.append("    .word " + ", ".join(f"0x{w:08x}" for w in words[j:j + 8]))
    L += ["    .balign 16", f"{ARENA}:", f"    .space {max(plan.arena_bytes, 16)}", ""]
    return L


def generate(plan: Plan, blocks: list[bytes] | None = None,
             sizes: list[int] | None = None) -> str:
    """The program's assembly source (without the runtime): main, the kernels, the data."""
    if sizes is None:
        sizes = [len(b) for b in blocks] if blocks is not None else []
    header = [f"# hetsoc control program: workload {plan.workload.name}, mapping "
              f"{getattr(plan.mapping, 'name', 'custom')}, {len(plan.steps)} steps", ""]
    return ("\n".join(header + _main(plan)) + "\n" + kernel_source(*KERNEL_FILES) + "\n"
            + "\n".join(_data(plan, blocks, sizes)))


@dataclass
class Program:
    """The assembled control program and what the simulator needs to read it back."""

    image: object
    source: str
    arena: int
    blocks: list[bytes]


def build_program(plan: Plan, cfg) -> Program:
    """Assemble the plan's program (twice: see the module docstring); checks that the arena
    ends below the cores' stacks (``MapError`` with the shortfall otherwise)."""
    placeholder = plan.blocks(cfg.tcdm_base + 16)       # sizes only; addresses fixed below
    sizes = [len(b) for b in placeholder]
    first = cluster_program(generate(plan, None, sizes), f"{plan.workload.name}.S", cfg)
    arena = first.symbols[ARENA]
    stack_bottom = cfg.tcdm_base + cfg.tcdm_size_bytes - cfg.n_cores * STACK_BYTES
    if arena + plan.arena_bytes > stack_bottom:
        raise MapError(f"mapping {getattr(plan.mapping, 'name', 'custom')}: the tensors "
                       f"({plan.arena_bytes} B from 0x{arena:08x}) overlap the cores' stacks "
                       f"at 0x{stack_bottom:08x}; short by "
                       f"{arena + plan.arena_bytes - stack_bottom} B")
    blocks = plan.blocks(arena)
    src = generate(plan, blocks)
    image = cluster_program(src, f"{plan.workload.name}.S", cfg)
    if image.symbols[ARENA] != arena:   # pragma: no cover - same sizes, same layout
        raise RuntimeError("control program: the arena moved between the two assemblies")
    if plan.l2_arena:
        code_end = max((seg.addr + seg.memsz for seg in image.segments
                        if cfg.l2_base <= seg.addr < cfg.l2_base + cfg.l2_size_bytes),
                       default=cfg.l2_base)
        if code_end > plan.l2_arena:
            raise MapError(f"staging in L2: the program ends at 0x{code_end:08x}, above the "
                           f"staged tensors at 0x{plan.l2_arena:08x}; short by "
                           f"{code_end - plan.l2_arena} B of L2")
    return Program(image, src, arena, blocks)


__all__ = ["ARENA", "Program", "build_program", "generate"]
