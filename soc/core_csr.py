"""CSR file of the CV32E40P model (Numba).

Functional behaviour follows pulp-platform/cv32e40p astral-v1.0 as recorded by the calibration
suite: ``mstatus`` keeps only MIE/UIE/MPIE/UPIE/MPP/MPRV, ``mepc`` bit 0 reads 0, ``mtvec`` keeps
base[31:8] and mode bit 0, ``mcountinhibit`` resets to all ones.  ``mcycle``/``minstret`` count
cycles / retired instructions while not inhibited; ``mhpmcounter3..31`` read as zero.
Reading or writing an unknown CSR, or writing a read-only one, is an illegal instruction.
"""
from __future__ import annotations

from numba import njit

from .core_state import (
    CSR_DCSR, CSR_DPC, CSR_DSCRATCH0, CSR_DSCRATCH1, CSR_MCAUSE, CSR_MCOUNTINHIBIT, CSR_MCYCLE,
    CSR_MCYCLE_T, CSR_MEPC, CSR_MHARTID, CSR_MHPMEVENT, CSR_MIE, CSR_MINSTRET, CSR_MINSTRET_T,
    CSR_MSCRATCH, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC, CSR_MTVEC_SET,
)

MISA_VALUE = 0x40801104      # RV32, I, M, C, X (non-standard extensions present)
MSTATUS_MASK = 0x21899       # UIE, MIE, UPIE, MPIE, MPP, MPRV
MTVEC_MASK = 0xFFFFFF01
MARCHID_VALUE = 4            # CV32E40P's registered architecture id
MVENDORID_VALUE = 0x602      # OpenHW Group


@njit(cache=True)
def mcycle_value(st, c: int, now: int) -> int:
    """Current mcycle (64-bit) at cycle ``now``."""
    if st.csr[c, CSR_MCOUNTINHIBIT] & 1:
        return st.csr[c, CSR_MCYCLE]
    return st.csr[c, CSR_MCYCLE] + now - st.csr[c, CSR_MCYCLE_T]


@njit(cache=True)
def minstret_value(st, c: int) -> int:
    """Current minstret (64-bit): instructions retired before the current one."""
    if st.csr[c, CSR_MCOUNTINHIBIT] & 4:
        return st.csr[c, CSR_MINSTRET]
    return st.csr[c, CSR_MINSTRET] + st.instret[c] - st.csr[c, CSR_MINSTRET_T]


@njit(cache=True)
def csr_read(st, c: int, num: int, now: int) -> tuple[int, bool]:
    """Value of CSR ``num`` (unsigned 32-bit) and whether the CSR exists."""
    if num == 0x300:
        return st.csr[c, CSR_MSTATUS], True
    if num == 0x301:
        return MISA_VALUE, True
    if num == 0x304:
        return st.csr[c, CSR_MIE], True
    if num == 0x305:
        return st.csr[c, CSR_MTVEC], True
    if num == 0x320:
        return st.csr[c, CSR_MCOUNTINHIBIT], True
    if num == 0x340:
        return st.csr[c, CSR_MSCRATCH], True
    if num == 0x341:
        return st.csr[c, CSR_MEPC], True
    if num == 0x342:
        return st.csr[c, CSR_MCAUSE], True
    if num == 0x343:
        return st.csr[c, CSR_MTVAL], True
    if num == 0x344:
        return 0, True
    if num == 0xB00 or num == 0xC00:
        return mcycle_value(st, c, now) & 0xFFFFFFFF, True
    if num == 0xB80 or num == 0xC80:
        return (mcycle_value(st, c, now) >> 32) & 0xFFFFFFFF, True
    if num == 0xB02 or num == 0xC02:
        return minstret_value(st, c) & 0xFFFFFFFF, True
    if num == 0xB82 or num == 0xC82:
        return (minstret_value(st, c) >> 32) & 0xFFFFFFFF, True
    if (0xB03 <= num <= 0xB1F) or (0xB83 <= num <= 0xB9F) or (0xC03 <= num <= 0xC1F) \
            or (0xC83 <= num <= 0xC9F):
        return 0, True
    if 0x323 <= num <= 0x33F:
        return st.csr[c, CSR_MHPMEVENT + num - 0x323], True
    if num == 0xF14 or num == 0xCC0:
        return st.csr[c, CSR_MHARTID], True
    if num == 0xF11:
        return MVENDORID_VALUE, True
    if num == 0xF12:
        return MARCHID_VALUE, True
    if num == 0xF13:
        return 0, True
    if num == 0x7B0:
        return st.csr[c, CSR_DCSR], True
    if num == 0x7B1:
        return st.csr[c, CSR_DPC], True
    if num == 0x7B2:
        return st.csr[c, CSR_DSCRATCH0], True
    if num == 0x7B3:
        return st.csr[c, CSR_DSCRATCH1], True
    if 0x800 <= num <= 0x806 and num != 0x803:
        loop = (num - 0x800) >> 2
        return st.hwl[c, loop, (num - 0x800) & 3] & 0xFFFFFFFF, True
    return 0, False


@njit(cache=True)
def csr_write(st, c: int, num: int, value: int, now: int) -> bool:
    """Write CSR ``num``; returns False for unknown or read-only CSRs."""
    value = value & 0xFFFFFFFF
    if num == 0x300:
        st.csr[c, CSR_MSTATUS] = value & MSTATUS_MASK
    elif num == 0x301 or num == 0x344:
        pass  # WARL, writes ignored
    elif num == 0x304:
        st.csr[c, CSR_MIE] = value
    elif num == 0x305:
        st.csr[c, CSR_MTVEC] = value & MTVEC_MASK
        st.csr[c, CSR_MTVEC_SET] = 1
    elif num == 0x320:
        # Freeze or restart the counters at the current values.
        st.csr[c, CSR_MCYCLE] = mcycle_value(st, c, now)
        st.csr[c, CSR_MCYCLE_T] = now
        st.csr[c, CSR_MINSTRET] = minstret_value(st, c)
        st.csr[c, CSR_MINSTRET_T] = st.instret[c]
        st.csr[c, CSR_MCOUNTINHIBIT] = value & 0xFFFFFFFD
    elif num == 0x340:
        st.csr[c, CSR_MSCRATCH] = value
    elif num == 0x341:
        st.csr[c, CSR_MEPC] = value & 0xFFFFFFFE
    elif num == 0x342:
        st.csr[c, CSR_MCAUSE] = value
    elif num == 0x343:
        st.csr[c, CSR_MTVAL] = value
    elif num == 0xB00:
        st.csr[c, CSR_MCYCLE] = (mcycle_value(st, c, now) & ~0xFFFFFFFF) | value
        st.csr[c, CSR_MCYCLE_T] = now
    elif num == 0xB80:
        st.csr[c, CSR_MCYCLE] = (mcycle_value(st, c, now) & 0xFFFFFFFF) | (value << 32)
        st.csr[c, CSR_MCYCLE_T] = now
    elif num == 0xB02:
        st.csr[c, CSR_MINSTRET] = (minstret_value(st, c) & ~0xFFFFFFFF) | value
        st.csr[c, CSR_MINSTRET_T] = st.instret[c] + 1  # the writing instruction itself does not count
    elif num == 0xB82:
        st.csr[c, CSR_MINSTRET] = (minstret_value(st, c) & 0xFFFFFFFF) | (value << 32)
        st.csr[c, CSR_MINSTRET_T] = st.instret[c] + 1
    elif (0xB03 <= num <= 0xB1F) or (0xB83 <= num <= 0xB9F):
        pass  # hardware performance counters 3..31 are not implemented (read 0)
    elif 0x323 <= num <= 0x33F:
        st.csr[c, CSR_MHPMEVENT + num - 0x323] = value
    elif num == 0x7B0:
        st.csr[c, CSR_DCSR] = value
    elif num == 0x7B1:
        st.csr[c, CSR_DPC] = value & 0xFFFFFFFE
    elif num == 0x7B2:
        st.csr[c, CSR_DSCRATCH0] = value
    elif num == 0x7B3:
        st.csr[c, CSR_DSCRATCH1] = value
    elif 0x800 <= num <= 0x806 and num != 0x803:
        loop = (num - 0x800) >> 2
        st.hwl[c, loop, (num - 0x800) & 3] = value
    else:
        return False
    return True
