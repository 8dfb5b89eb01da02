"""State of the cluster's cycle engine (``cluster_run`` in the generated core module).

Arrays indexed by core (request bookkeeping of the TCDM arbitration) and by bank (round-robin
pointers and statistics), in one namedtuple so the Numba engine takes them as one argument.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

EngineState = namedtuple(
    "EngineState",
    "now status pend pbank pwrite grant rr bk_t bk_key bk_win arb_t bank_reads bank_writes "
    "bank_conflicts core_conflicts tcdm stop",
)

# Core status in the cluster.
STATUS_RUN = 0      # fetching and executing
STATUS_SLEEP = 1    # clock-gated in a p.elw on the event unit
STATUS_HALT = 2     # finished or stopped by a fault

# cluster_run return values besides a core's stop reason (soc.core_state.STOP_*).
ENG_RUN = 0         # reached t_end
ENG_IDLE = -1       # no core can run (all asleep or halted)
ENG_SLEEP = -2      # reserved


def new_engine(ncores: int, nbanks: int, tcdm_base: int, tcdm_size_bytes: int) -> EngineState:
    """Engine state at cycle 0: every core running, no request pending."""
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
        tcdm=np.array([tcdm_base, tcdm_size_bytes], np.int64),
        stop=np.zeros(2, np.int64),
    )
