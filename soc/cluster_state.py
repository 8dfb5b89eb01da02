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
    "acc aport acc_ops acc_ch acc_sig acc_stamp acc_data",
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
    dma = np.zeros(NDMA, np.int64)
    dma[D_L2_BYTES_PER_CYCLE] = dma_l2_bytes_per_cycle
    dma[D_L2_LATENCY] = dma_l2_latency_cycles
    dport = np.zeros((NDMA_PORTS, 6), np.int64)
    dport[:, P_PEND] = -1
    dport[:, P_GRANT] = -1
    return EngineState(
        now=np.zeros(1, np.int64),
        status=np.zeros(ncores, np.int64),
        pend=np.full(ncores, -1, np.int64),
        pbank=np.zeros(ncores, np.int64),
        pwrite=np.zeros(ncores, np.int64),
        grant=np.full(ncores, -1, np.int64),
        rr=np.zeros(nbanks, np.int64),
        bk_t=np.full(nbanks, -1, np.int64),
        bk_key=np.zeros(nbanks, np.int64),
        bk_win=np.zeros(nbanks, np.int64),
        arb_t=np.full(1, -1, np.int64),
        bank_reads=np.zeros(nbanks, np.int64),
        bank_writes=np.zeros(nbanks, np.int64),
        bank_conflicts=np.zeros(nbanks, np.int64),
        core_conflicts=np.zeros(ncores, np.int64),
        tcdm=np.array([tcdm_base, tcdm_size_bytes, tcdm_interleave_bytes], np.int64),
        stop=np.zeros(2, np.int64),
        dma=dma,
        dport=dport,
        dma_conflicts=np.zeros(NDMA_PORTS, np.int64),
        icache=np.array([on, line, shared_extra, miss_extra], np.int64),
        ic_line=np.full(ncores, -1, np.int64),
        ic_ptag=np.full((ncores, plines), -1, np.int64),
        ic_page=np.zeros((ncores, plines), np.int64),
        ic_stag=np.full(slines, -1, np.int64),
        ic_sage=np.zeros(slines, np.int64),
        ic_clock=np.zeros(1, np.int64),
        ic_stats=np.zeros((ncores, 3), np.int64),
        peek=np.full(ncores, -1, np.int64),
        **dict(zip(("acc", "aport", "acc_ops", "acc_ch", "acc_sig", "acc_stamp", "acc_data"),
                   new_streamer(accel_ports, accel_priority, hci_max_stall_cycles))),
    )
