"""Cluster DMA: 1-D and 2-D transfers both ways, bit-exact, with cycles that follow the L2 rate
(8 B/cycle after the L2 latency) and the TCDM port arbitration."""
from __future__ import annotations

import numpy as np
import pytest

from soc.cluster import Cluster, DmaJob
from soc.cluster_config import ClusterConfig
from soc.runtime import cluster_program

WAIT_DMA = """
    .text
    .globl main
main:
    mv    s9, ra
    li    a0, EVT_DMA
    call  rt_wait_event
    mv    ra, s9
    li    a0, 0
    ret
    .data
    .balign 16
buf:
    .space 1024
"""
L2_SRC = 0x1C080000     # inside L2, past the program
L2_DST = 0x1C090000


def _cluster(source: str = WAIT_DMA, **cfg) -> tuple[Cluster, object]:
    config = ClusterConfig(n_cores=1, **cfg)
    image = cluster_program(source, "dma.S", config)
    return Cluster(image, config), image


def _fill(cl: Cluster, addr: int, n: int, seed: int = 3) -> bytes:
    data = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()
    from soc.memory import write_bytes
    write_bytes(cl.mem, addr, data)
    return data


def test_1d_l2_to_tcdm_bit_exact_at_l2_rate():
    cl, image = _cluster()
    buf = image.symbols["buf"]
    data = _fill(cl, L2_SRC, 256)
    cl.dma_submit(DmaJob(L2_SRC, buf, 256, events_to=1))
    result = cl.run(max_cycles=100_000)
    assert result.ok, result.message
    assert cl.read(buf, 256) == data
    # first 8 bytes after the 10-cycle L2 latency, then 8 B/cycle: 32 cycles, done the next one
    assert cl.dma_completions == [10 + 32]
    assert result.dma["bytes_l2_to_tcdm"] == 256


def test_2d_l2_to_tcdm_with_strides():
    cl, image = _cluster()
    buf = image.symbols["buf"]
    data = _fill(cl, L2_SRC, 4 * 64)
    cl.dma_submit(DmaJob(L2_SRC, buf, 24, rows=4, src_stride_bytes=64, dst_stride_bytes=32,
                         events_to=1))
    assert cl.run(max_cycles=100_000).ok
    got = cl.read(buf, 4 * 32)
    for r in range(4):
        assert got[32 * r:32 * r + 24] == data[64 * r:64 * r + 24]
    assert cl.dma_completions == [10 + 96 // 8]


def test_1d_tcdm_to_l2_bit_exact():
    cl, image = _cluster()
    buf = image.symbols["buf"]
    data = _fill(cl, buf, 200)
    cl.dma_submit(DmaJob(buf, L2_DST, 200, events_to=1))
    assert cl.run(max_cycles=100_000).ok
    assert cl.read(L2_DST, 200) == data


def test_misaligned_addresses_are_copied_bytewise():
    cl, image = _cluster()
    buf = image.symbols["buf"]
    data = _fill(cl, L2_SRC + 3, 37)
    cl.dma_submit(DmaJob(L2_SRC + 3, buf + 1, 37, events_to=1))
    assert cl.run(max_cycles=100_000).ok
    assert cl.read(buf + 1, 37) == data


HAMMER = """
    .text
    .globl main
main:
    la    a2, buf
    lp.setupi 0, 200, 1f
    lw    t1, 0(a2)
    lw    t1, 0(a2)
1:  lw    t1, 0(a2)
    li    a0, 0
    ret
    .data
    .balign 16
buf:
    .space 64
"""


def test_dma_and_core_on_the_same_bank():
    """The core loads bank b every cycle; a one-word DMA write to bank b becomes ready at cycle
    50 (L2 latency 50).  The core won bank b at cycle 49, so round-robin grants the DMA port at
    50 and the core loses exactly that one cycle."""
    cl, image = _cluster(HAMMER, l2_latency_cycles=50)
    buf = image.symbols["buf"]
    _fill(cl, L2_SRC, 4)
    cl.dma_submit(DmaJob(L2_SRC, buf, 4))
    result = cl.run(max_cycles=100_000)
    assert result.ok, result.message
    bank = ((buf - 0x10000000) >> 2) % 32
    assert cl.dma_completions == [51]
    assert result.cores[0]["tcdm_conflict_cycles"] == 1
    assert result.banks["conflicts"][bank] == 1
    assert result.dma["tcdm_conflict_cycles"] == 0


def test_dma_programmed_from_risc_v():
    src = """
    .text
    .globl main
main:
    mv    s9, ra
    li    t0, 0x10201800          # DMA registers
    li    t1, 0x1C080000
    sw    t1, 0(t0)               # SRC
    la    t1, buf
    sw    t1, 4(t0)               # DST
    li    t1, 128
    sw    t1, 8(t0)               # LEN
    sw    zero, 24(t0)            # START (events to this core)
    li    a0, EVT_DMA
    call  rt_wait_event
    li    t0, 0x10201800
    lw    a0, 32(t0)              # DONE count -> exit code
    mv    ra, s9
    ret
    .data
    .balign 16
buf:
    .space 128
"""
    cl, image = _cluster(src)
    data = _fill(cl, L2_SRC, 128)
    result = cl.run(max_cycles=100_000)
    assert result.ok and result.exit_code == 1, result.message
    assert cl.read(image.symbols["buf"], 128) == data


def test_misprogrammed_dma_is_a_one_line_error():
    src = """
    .text
    .globl main
main:
    li    t0, 0x10201800
    li    t1, 0x1C080000
    sw    t1, 0(t0)
    li    t1, 0x1C090000          # L2 to L2: not allowed
    sw    t1, 4(t0)
    li    t1, 16
    sw    t1, 8(t0)
    sw    zero, 24(t0)
    ret
"""
    cl, _ = _cluster(src)
    result = cl.run(max_cycles=100_000)
    assert not result.ok
    assert result.message.startswith("core 0 at pc 0x")
    assert "one side must be the TCDM" in result.message
    assert "\n" not in result.message


def test_python_submit_validates():
    cl, _ = _cluster()
    with pytest.raises(ValueError, match="not inside the TCDM or L2"):
        cl.dma_submit(DmaJob(0x50000000, 0x10000000, 16))
