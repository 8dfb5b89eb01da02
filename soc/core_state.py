"""Architectural and micro-architectural state of N CV32E40P cores, as arrays indexed by core.

The state is a namedtuple of numpy arrays so that Numba-compiled code can take it as one
argument (and cache the compiled code).  Index constants below name the columns.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from isa.spec import ICLASSES

CoreState = namedtuple("CoreState", "x pc cycle instret csr hwl hz stop cnt xtra mmio")

# --- mmio columns: the peripheral-access replay protocol --------------------------------------
# An access to a peripheral window stops the core (STOP_MMIO) without committing anything and
# records the access; the device model answers and sets MMIO_READY (and MMIO_VALUE for a load);
# the instruction is then executed again and takes the answer instead of touching memory.
MMIO_READY = 0
MMIO_VALUE = 1     # load: value returned by the device; store: value written by the core
MMIO_ADDR = 2
MMIO_INFO = 3      # size | 0x100 if store | 0x200 if p.elw

# --- csr columns (internal slots, not CSR numbers) ---------------------------------------------
CSR_MSTATUS = 0
CSR_MTVEC = 1
CSR_MEPC = 2
CSR_MCAUSE = 3
CSR_MSCRATCH = 4
CSR_MTVAL = 5
CSR_MIE = 6
CSR_MCOUNTINHIBIT = 7
CSR_MCYCLE = 8          # counter value at time CSR_MCYCLE_T (see soc.core_csr)
CSR_MCYCLE_T = 9
CSR_MINSTRET = 10       # counter value when instret was CSR_MINSTRET_T
CSR_MINSTRET_T = 11
CSR_MHARTID = 12
CSR_MTVEC_SET = 13      # 1 once software wrote mtvec: traps then go to the handler
CSR_DCSR = 14
CSR_DPC = 15
CSR_DSCRATCH0 = 16
CSR_DSCRATCH1 = 17
CSR_MHPMEVENT = 18      # 29 slots: mhpmevent3..31 (stored, counters 3..31 read as 0)
NCSR = CSR_MHPMEVENT + 29

# --- hazard-tracking columns: what the previous instructions left in the pipeline -------------
HZ_LOAD_RD = 0      # register loaded by the previous instruction (0: none)
HZ_LOAD_RD2 = 1     # register loaded by the instruction before that (0: none)
HZ_ALU_RD = 2       # register written through the ALU port by the previous instruction
HZ_ALU_RD2 = 3      # second ALU-port write of the previous instruction (post-increment base)
HZ_LINK = 4         # 1 if the previous instruction was jal/jalr (its link is HZ_ALU_RD)
HZ_MULTI = 5        # 1 if the previous instruction took several cycles (div, mulh, misaligned)
NHZ = 8

# --- stop reasons -------------------------------------------------------------------------------
STOP_NONE = 0
STOP_TOHOST = 1        # store to tohost: arg = stored value
STOP_MAX_CYCLES = 2
STOP_ILLEGAL = 3       # illegal instruction without a trap handler
STOP_ECALL = 4
STOP_EBREAK = 5
STOP_LOAD_FAULT = 6    # arg = address
STOP_STORE_FAULT = 7   # arg = address
STOP_FETCH_FAULT = 8   # arg = address
STOP_MMIO = 9          # access to a peripheral window (cluster engine handles it)
STOP_CHUNK = 10        # the requested instruction budget ran out
STOP_EXIT = 11         # end-of-computation: the cluster program finished (arg = exit status)
STOP_NAMES = {
    STOP_NONE: "running", STOP_TOHOST: "tohost", STOP_MAX_CYCLES: "max-cycles",
    STOP_ILLEGAL: "illegal-instruction", STOP_ECALL: "ecall", STOP_EBREAK: "ebreak",
    STOP_LOAD_FAULT: "load-access-fault", STOP_STORE_FAULT: "store-access-fault",
    STOP_FETCH_FAULT: "fetch-access-fault", STOP_MMIO: "mmio", STOP_CHUNK: "chunk",
    STOP_EXIT: "exit",
}
# stop columns
STOP_REASON = 0
STOP_PC = 1
STOP_ARG = 2
STOP_RAW = 3

# --- action counters ----------------------------------------------------------------------------
NICLASS = len(ICLASSES)
CNT_INSTR = 0                      # NICLASS columns: instructions retired per timing class
CNT_STALL_LOAD_USE = NICLASS       # stall cycles by cause
CNT_STALL_WAW = NICLASS + 1
CNT_STALL_JALR = NICLASS + 2
CNT_STALL_BRANCH = NICLASS + 3     # taken-branch penalty cycles
CNT_STALL_JUMP = NICLASS + 4       # jal/jalr/mret penalty cycles
CNT_STALL_MULTI = NICLASS + 5      # extra cycles of mulh/div
CNT_STALL_MISALIGNED = NICLASS + 6
CNT_STALL_CSR = NICLASS + 7
CNT_STALL_FENCE = NICLASS + 8
CNT_STALL_MEM = NICLASS + 9        # extra memory latency / bank conflicts (cluster)
CNT_LOADS = NICLASS + 10
CNT_STORES = NICLASS + 11
CNT_HWLOOP_JUMPS = NICLASS + 12
CNT_TRAPS = NICLASS + 13
CNT_SLEEP = NICLASS + 14           # cycles spent clock-gated (p.elw on the event unit)
CNT_STALL_FETCH = NICLASS + 15     # instruction-cache miss cycles (cluster, hierarchical model)
NCNT = NICLASS + 16
COUNTER_NAMES = (
    [f"instr_{c}" for c in ICLASSES]
    + ["stall_load_use", "stall_waw", "stall_jalr", "stall_branch", "stall_jump",
       "stall_multicycle", "stall_misaligned", "stall_csr", "stall_fence", "stall_memory",
       "loads", "stores", "hwloop_jumps", "traps", "sleep_cycles", "stall_fetch"]
)
assert len(COUNTER_NAMES) == NCNT


def new_state(ncores: int, boot_pc: int = 0, hartid_base: int = 0) -> CoreState:
    """Reset state for ``ncores`` cores: pc = ``boot_pc``, counters inhibited (as on the RTL)."""
    st = CoreState(
        x=np.zeros((ncores, 32), np.int32),
        pc=np.full(ncores, boot_pc, np.int64),
        cycle=np.zeros(ncores, np.int64),
        instret=np.zeros(ncores, np.int64),
        csr=np.zeros((ncores, NCSR), np.int64),
        hwl=np.zeros((ncores, 2, 3), np.int64),
        hz=np.zeros((ncores, NHZ), np.int64),
        stop=np.zeros((ncores, 4), np.int64),
        cnt=np.zeros((ncores, NCNT), np.int64),
        xtra=np.zeros(ncores, np.int64),
        mmio=np.zeros((ncores, 4), np.int64),
    )
    st.csr[:, CSR_MCOUNTINHIBIT] = 0xFFFFFFFF & ~2   # all counters inhibited (bit 1 reserved)
    st.csr[:, CSR_MSTATUS] = 0x1800                  # MPP = machine
    st.csr[:, CSR_MHARTID] = hartid_base + np.arange(ncores)
    return st
