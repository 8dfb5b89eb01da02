"""State of the cluster's cycle engine (``cluster_run`` in the generated core module).

Arrays indexed by core (request bookkeeping of the TCDM arbitration) and by bank (round-robin
pointers and statistics), in one namedtuple so the Numba engine takes them as one argument.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .stream_engine import new_streamer

EngineState = namedtuple(
    "EngineState",
    "now status pend pbank pwrite grant rr bk_t bk_key bk_win arb_t bank_reads bank_writes "
    "bank_conflicts core_conflicts tcdm stop dma dport dma_conflicts "
    "icache ic_line ic_ptag ic_page ic_stag ic_sage ic_clock ic_stats peek "
    "acc aport acc_ops acc_ch acc_sig acc_stamp acc_data bk_mask bk_list bk_pos cal",
)

# ``EngineState.icache``: [enabled, line bytes, extra cycles of a shared hit, of a double miss]
IC_ON = 0
IC_LINE = 1
IC_SHARED_EXTRA = 2
IC_MISS_EXTRA = 3
# ``EngineState.ic_stats[core]``: private hits, shared hits, misses to L2
ICS_PRIVATE = 0
ICS_SHARED = 1
ICS_MISS = 2

# ---- DMA job fields (``EngineState.dma``) -------------------------------------------------------
D_ACTIVE = 0        # 1 while a job runs
D_TO_L2 = 1         # 0: L2 -> TCDM, 1: TCDM -> L2
D_SRC = 2
D_DST = 3
D_LEN = 4           # bytes per row
D_SSTRIDE = 5
D_DSTRIDE = 6
D_ROWS = 7
D_TOTAL = 8         # bytes of the job
D_START = 9         # cycle the job started
D_L2 = 10           # bytes moved by the L2 side (8 B/cycle after the L2 latency)
D_ISSUED = 11       # bytes requested by the TCDM side
D_DONE_L1 = 12      # bytes granted on the TCDM side
D_L2T = 13          # last cycle the L2 side moved data (it moves once per cycle)
D_BYTES_IN = 14     # statistics: bytes L2 -> TCDM
D_BYTES_OUT = 15    # statistics: bytes TCDM -> L2
D_L2_BYTES_PER_CYCLE = 16
D_L2_LATENCY = 17
D_FIFO_BYTES = 18   # TCDM -> L2: bytes read from TCDM but not yet written to L2
NDMA = 19
NDMA_PORTS = 4
# DMA port request fields (``EngineState.dport[port]``)
P_PEND = 0          # cycle of the pending request, -1 none
P_BANK = 1
P_TCDM = 2          # TCDM address of the chunk
P_OTHER = 3         # L2 address of the chunk
P_BYTES = 4
P_GRANT = 5         # cycle granted, -1 none

# Core status in the cluster.
STATUS_RUN = 0      # fetching and executing
STATUS_SLEEP = 1    # clock-gated in a p.elw on the event unit
STATUS_HALT = 2     # finished or stopped by a fault

# cluster_run return values besides a core's stop reason (soc.core_state.STOP_*).
ENG_RUN = 0         # reached t_end
ENG_IDLE = -1       # no core can run (all asleep or halted)
ENG_DMA_DONE = -2   # a DMA job completed (the engine stops after that cycle)


def new_engine(ncores: int, nbanks: int, tcdm_base: int, tcdm_size_bytes: int,
               tcdm_interleave_bytes: int = 4,
               dma_l2_bytes_per_cycle: int = 8, dma_l2_latency_cycles: int = 0,
               icache: tuple[int, int, int, int, int, int] = (0, 16, 0, 0, 1, 1),
               accel_ports: int = 4, accel_priority: bool = False,
               hci_max_stall_cycles: int = 8) -> EngineState:
    """Engine state at cycle 0: every core running, no request pending, the DMA idle.

    ``icache`` = (enabled, line bytes, shared-hit extra cycles, miss extra cycles, private
    lines per core, shared lines).
    """
    on, line, shared_extra, miss_extra, plines, slines = icache
    # The int64 arrays live in one buffer, each 64-byte aligned: the engine touches most of
    # them every cycle, and fixed relative offsets keep its speed independent of where the
    # allocator happens to put small arrays (store-to-load aliasing between them).
    shapes = {
        "now": (1, 0), "status": (ncores, 0), "pend": (ncores, -1), "pbank": (ncores, 0),
        "pwrite": (ncores, 0), "grant": (ncores, -1), "rr": (nbanks, 0), "bk_t": (nbanks, -1),
        "bk_key": (nbanks, 0), "bk_win": (nbanks, 0), "arb_t": (1, -1),
        "bank_reads": (nbanks, 0), "bank_writes": (nbanks, 0), "bank_conflicts": (nbanks, 0),
        "core_conflicts": (ncores, 0), "tcdm": (3, 0), "stop": (2, 0), "dma": (NDMA, 0),
        "dport": ((NDMA_PORTS, 6), -1), "dma_conflicts": (NDMA_PORTS, 0), "icache": (4, 0),
        "ic_line": (ncores, -1), "ic_clock": (1, 0), "peek": (ncores, -1),
        # scratch of cluster_run, rebuilt on every call: per bank the cores waiting for it,
        # the banks with waiters and their positions in that list; the event calendar (CAL
        # slots, soc/core_template.py)
        "bk_mask": (nbanks, 0), "bk_list": (nbanks, 0), "bk_pos": (nbanks, -1), "cal": (64, 0),
    }
    sizes = {k: int(np.prod(shape)) for k, (shape, _) in shapes.items()}
    pool = np.zeros(sum(-(-n // 8) * 8 for n in sizes.values()) + 8, np.int64)
    start = (-(pool.ctypes.data // 8)) % 8          # first 64-byte boundary
    arrays = {}
    for k, (shape, fill) in shapes.items():
        a = pool[start:start + sizes[k]].reshape(shape)
        a[...] = fill
        arrays[k] = a
        start += -(-sizes[k] // 8) * 8
    dma = arrays["dma"]
    dma[D_L2_BYTES_PER_CYCLE] = dma_l2_bytes_per_cycle
    dma[D_L2_LATENCY] = dma_l2_latency_cycles
    dport = arrays["dport"]
    dport[:, :] = 0
    dport[:, P_PEND] = -1
    dport[:, P_GRANT] = -1
    arrays["tcdm"][:] = (tcdm_base, tcdm_size_bytes, tcdm_interleave_bytes)
    arrays["icache"][:] = (on, line, shared_extra, miss_extra)
    return EngineState(
        **arrays,
        ic_ptag=np.full((ncores, plines), -1, np.int64),
        ic_page=np.zeros((ncores, plines), np.int64),
        ic_stag=np.full(slines, -1, np.int64),
        ic_sage=np.zeros(slines, np.int64),
        ic_stats=np.zeros((ncores, 3), np.int64),
        **dict(zip(("acc", "aport", "acc_ops", "acc_ch", "acc_sig", "acc_stamp", "acc_data"),
                   new_streamer(accel_ports, accel_priority, hci_max_stall_cycles))),
    )
