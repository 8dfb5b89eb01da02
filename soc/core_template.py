"""Template of the generated instruction-set simulator (see ``soc.core_codegen``).

Not imported directly.  ``core_codegen`` splices the per-instruction semantics of the tables
into ``_instr_fragment`` (at its dispatch marker) and pastes that fragment's body into the two
loops that drive the cores:

* ``run``: one core alone (``hetsoc exec``);
* ``cluster_run``: every core of a cluster, cycle by cycle, with each TCDM access arbitrated
  per bank and cycle (round-robin; every lost grant costs the requester exactly one cycle).

The fragment is pasted as text rather than called: the state travels as namedtuples of arrays,
and a real (non-inlined) call would incref and decref every one of them on every instruction.

Inside the fragment: ``c`` is the core; ``pc``, ``now`` and the ``hz_*`` hazard registers are
locals of the enclosing loop; on exit ``sr`` is 0 or a stop reason and ``retired`` says whether
the instruction completed (``pc``/``now``/``hz_*`` then describe the next instruction).
"""
import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from isa.decoder import decode_word
from soc.core_csr import csr_read, csr_write
from soc.core_state import (
    CNT_HWLOOP_JUMPS, CNT_INSTR, CNT_LOADS, CNT_SLEEP, CNT_STALL_BRANCH, CNT_STALL_CSR,
    CNT_STALL_FETCH,
    CNT_STALL_FENCE, CNT_STALL_JALR, CNT_STALL_JUMP, CNT_STALL_LOAD_USE, CNT_STALL_MEM,
    CNT_STALL_MISALIGNED, CNT_STALL_MULTI, CNT_STALL_WAW, CNT_STORES, CNT_TRAPS, CSR_MCAUSE,
    CSR_MEPC, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC, CSR_MTVEC_SET, HZ_ALU_RD, HZ_ALU_RD2, HZ_LINK,
    HZ_LOAD_RD, HZ_LOAD_RD2, HZ_MULTI, MMIO_ADDR, MMIO_INFO, MMIO_READY, MMIO_VALUE, STOP_ARG,
    STOP_CHUNK, STOP_EBREAK, STOP_ECALL, STOP_FETCH_FAULT, STOP_ILLEGAL, STOP_MAX_CYCLES,
    STOP_MMIO, STOP_PC, STOP_RAW, STOP_REASON,
)
from soc.core_timing import (
    IC_BRANCH, IC_CSR, IC_DIV, IC_ELW, IC_FENCE, IC_JAL, IC_JALR, IC_LOAD, IC_MULH, IC_STORE,
    IC_SYSTEM, MRET_CYCLES, SLOW_CSR_CYCLES, TAKEN_BRANCH_CYCLES, TRAP_ENTRY_CYCLES, div_cycles,
    is_misaligned, load_stall,
)
from soc.memory import read_mem, region_index, translate, write_mem  # noqa: F401
from soc.cluster_state import (  # noqa: F401
    D_ACTIVE, D_BYTES_IN, D_BYTES_OUT, D_DONE_L1, D_DST, D_DSTRIDE, D_FIFO_BYTES, D_ISSUED, D_L2,
    D_L2_BYTES_PER_CYCLE, D_L2_LATENCY, D_L2T, D_LEN, D_SRC, D_SSTRIDE, D_START, D_TO_L2,
    D_TOTAL, ENG_DMA_DONE, ENG_IDLE, ENG_RUN, NDMA_PORTS, P_BANK, P_BYTES, P_GRANT, P_OTHER,
    P_PEND, P_TCDM, STATUS_RUN,
)
from soc.stream_engine import (  # noqa: F401
    A_ACTIVE, A_CONFLICTS, A_CORE_LOSSES, A_MAX_STALL, A_NPORTS, A_PRIO, A_STALL, A_STALL_CYCLES,
    AP_BANK, AP_GRANT, AP_PEND, AP_WRITE, ENG_ACC_DONE, acc_grants, acc_issue, acc_next,
)

#: TCDM -> L2 transfers buffer at most this many bytes read from the TCDM and not yet written to
#: L2 (16 outstanding 32-bit requests, system-facts section 1).
DMA_FIFO_BYTES = 64
#: Cycles covered by the engine's calendar of core events (``cluster_run``); later events wait
#: in a separate set.  A power of two, at most 64 (one bit per slot in an int64).
CAL = 64
CAL_MASK = CAL - 1
# @@HELPERS@@

# @@CONSTANTS@@

AM_CALL = 0     # address formed otherwise (or no access): ask addr_of
AM_RS1 = 1      # rs1
AM_RS1_IMM = 2  # rs1 + imm
AM_RS1_RS2 = 3  # rs1 + rs2
AM_RS1_RS3 = 4  # rs1 + rs3


def _address_modes():
    """Per op, which of the AM_* forms ``addr_of`` (generated above) uses for the access
    address, found by evaluating its Python version on two sets of operands; the cluster engine
    forms the common ones inline instead of calling it."""
    n = PURE_CHUNK.size  # noqa: F821 (defined in the generated module)
    modes = np.zeros(n, np.int64)
    probes = ((1 << 20, 1 << 24, 1 << 28, 1 << 12), (3 << 19, 5 << 23, 7 << 27, -(5 << 11)))
    for op in range(1, n):
        mode = -1
        for r1, r2, r3, imm in probes:
            a = int(addr_of.py_func(op, np.int64(r1), np.int64(r2), np.int64(r3),  # noqa: F821
                                    np.int64(imm))[0])
            forms = {AM_RS1: r1, AM_RS1_IMM: r1 + imm, AM_RS1_RS2: r1 + r2, AM_RS1_RS3: r1 + r3}
            hit = [k for k, v in forms.items() if v == a]
            m = hit[0] if len(hit) == 1 else AM_CALL
            mode = m if mode in (-1, m) else AM_CALL
        modes[op] = mode
    return modes


ADDR_MODE = _address_modes()


@njit(cache=True)
def _is32_at(mem, addr):
    """1 if a 32-bit instruction starts at ``addr`` and ``addr`` is not word aligned (4n+2)."""
    if (addr & 2) == 0:
        return 0
    o = translate(mem, addr, 2)
    if o < 0:
        return 0
    return 1 if (mem.data16[o >> 1] & 3) == 3 else 0


@njit(cache=True, inline="always")
def tcdm_addr(op, am, x, c, dec, h):
    """Byte address of the data access of decoded row ``h`` (op ``op``, address mode ``am``)
    for core ``c``: the common forms inline, the others through ``addr_of``."""
    a = np.int64(x[c, dec[h, 2]])
    if am == AM_RS1_IMM:
        a += np.int64(dec[h, 5])
    elif am == AM_RS1_RS2:
        a += np.int64(x[c, dec[h, 3]])
    elif am == AM_RS1_RS3:
        a += np.int64(x[c, dec[h, 4]])
    elif am == AM_CALL:
        a, size = addr_of(op, a, np.int64(x[c, dec[h, 3]]), np.int64(x[c, dec[h, 4]]),  # noqa: F821
                          np.int64(dec[h, 5]))
    return a & 0xFFFFFFFF


@njit(cache=True, inline="always")
def fetch_row_cached(mem, tabs, pc, tmp, code_reg):
    """Decode-cache row of the instruction at ``pc`` (decoded on first use).

    ``code_reg`` caches the region of the last fetch (base, size, backing offset).  Returns -1
    when ``pc`` is not in fetchable memory, -2 when a 32-bit instruction runs past its region.
    """
    d = pc - code_reg[0]
    if d < 0 or d + 2 > code_reg[1] or (pc & 1):
        r = region_index(mem, pc, 2)
        if r < 0 or mem.off[r] < 0 or (pc & 1):
            return -1
        code_reg[0] = mem.base[r]
        code_reg[1] = mem.size[r]
        code_reg[2] = mem.off[r]
        d = pc - code_reg[0]
    h = (d + code_reg[2]) >> 1
    dec = mem.dec
    if dec[h, 0] == 0:
        word = np.int64(mem.data16[h])
        if (word & 3) == 3:
            if d + 4 > code_reg[1]:
                return -2
            word |= np.int64(mem.data16[h + 1]) << 16
        decode_word(tabs, word, tmp)
        for k in range(1, 8):
            dec[h, k] = tmp[k]
        dec[h, 0] = tmp[0]
    return h


def _instr_fragment():  # @@FRAGMENT@@ (its body is pasted by core_codegen; never called)
    sr = 0
    retired = 0
    wr_reg = -1
    cost = 0
    # ---- fetch: decode cache row h of pc (code region cached in cbase/csize/coff) ----------
    h = -1
    d = pc - cbase
    if d < 0 or d + 2 > csize or (pc & 1):
        r = region_index(mem, pc, 2)
        if r >= 0 and mem.off[r] >= 0 and (pc & 1) == 0:
            cbase = mem.base[r]
            csize = mem.size[r]
            coff = mem.off[r]
            d = pc - cbase
            h = (d + coff) >> 1
    else:
        h = (d + coff) >> 1
    if h >= 0 and dec[h, 0] == 0:
        word = np.int64(mem.data16[h])
        if (word & 3) == 3:
            if d + 4 > csize:
                h = -2
            else:
                word |= np.int64(mem.data16[h + 1]) << 16
        if h >= 0:
            decode_word(tabs, word, tmp)
            for k in range(1, 8):
                dec[h, k] = tmp[k]
            dec[h, 0] = tmp[0]
    if h < 0:
        sr = STOP_FETCH_FAULT
        st.stop[c, STOP_REASON] = STOP_FETCH_FAULT
        st.stop[c, STOP_PC] = pc
        st.stop[c, STOP_ARG] = pc if h == -1 else pc + 2
    else:
        op = dec[h, 0]
        rd = dec[h, 1]
        rs1 = dec[h, 2]
        rs2 = dec[h, 3]
        rs3 = dec[h, 4]
        imm = np.int64(dec[h, 5])
        imm2 = np.int64(dec[h, 6])
        ilen = dec[h, 7]
        npc = pc + ilen
        res = np.int64(0)
        res2 = np.int64(0)
        trap = -1
        fault = 0
        fault_addr = 0
        stop_after = 0
        stop_arg = 0
        mis = 0
        lat = 0
        is_mret = 0
        taken = 0
        rs1v = np.int64(0)
        rs2v = np.int64(0)
        rs3v = np.int64(0)
        rdv = np.int64(0)
        stall_lu = 0
        stall_waw = 0
        stall_jalr = 0
        ic = IC_SYSTEM
        wmask = 0
        stall = 0
        if op < 0:
            trap = 2
        else:
            ic = info.iclass[op]
            rmask = info.reads[op]
            wmask = info.writes[op]
            rs1v = np.int64(x[c, rs1])
            rs2v = np.int64(x[c, rs2])
            rs3v = np.int64(x[c, rs3])
            rdv = np.int64(x[c, rd])
            # ---- hazards against the previous instructions --------------------------------
            ld = hz_load
            if ld != 0:
                if (((rmask & 1) != 0 and rd == ld) or ((rmask & 2) != 0 and rs1 == ld)
                        or ((rmask & 4) != 0 and rs2 == ld) or ((rmask & 8) != 0 and rs3 == ld)):
                    stall_lu = 1
                elif (((wmask & 1) != 0 and rd == ld and ic != IC_LOAD and ic != IC_ELW)
                      or ((wmask & 2) != 0 and rs1 == ld)):
                    stall_waw = 1
            if ic == IC_JALR and rs1 != 0:
                if hz_load == rs1 or (hz_link == 0 and (hz_alu == rs1 or hz_alu2 == rs1)):
                    stall_jalr += 1
                if hz_load2 == rs1:
                    stall_jalr += 1
                if rd == rs1:
                    stall_jalr += 1
            stall = stall_lu + stall_waw + stall_jalr
            # ---- execute ------------------------------------------------------------------
            # @@DISPATCH@@
        if fault != 0:
            sr = fault
            st.stop[c, STOP_REASON] = fault
            st.stop[c, STOP_PC] = pc
            st.stop[c, STOP_ARG] = fault_addr
            st.stop[c, STOP_RAW] = op
        elif trap >= 0:
            if st.csr[c, CSR_MTVEC_SET] == 0:
                if trap == 2:
                    sr = STOP_ILLEGAL
                elif trap == 11:
                    sr = STOP_ECALL
                else:
                    sr = STOP_EBREAK
                st.stop[c, STOP_REASON] = sr
                st.stop[c, STOP_PC] = pc
                st.stop[c, STOP_ARG] = x[c, 10]
                st.stop[c, STOP_RAW] = op
            else:
                st.csr[c, CSR_MEPC] = pc
                st.csr[c, CSR_MCAUSE] = trap
                st.csr[c, CSR_MTVAL] = 0
                ms = st.csr[c, CSR_MSTATUS]
                st.csr[c, CSR_MSTATUS] = (ms & ~0x88) | ((ms & 0x8) << 4) | 0x1800
                cost = TRAP_ENTRY_CYCLES + stall + st.xtra[c]
                st.xtra[c] = 0
                pc = st.csr[c, CSR_MTVEC] & 0xFFFFFF00
                now = now + cost
                cnt[c, CNT_TRAPS] += 1
                hz_load = 0
                hz_load2 = 0
                hz_alu = 0
                hz_alu2 = 0
                hz_link = 0
                hz_multi = 0
                retired = 1
        else:
            # ---- write-back (post-increment base first: a load into its own base wins) -----
            if (wmask & 2) != 0 and rs1 != 0:
                x[c, rs1] = res2
                wr_reg = rs1
            if (wmask & 1) != 0 and rd != 0:
                x[c, rd] = res
                wr_reg = rd
            # ---- timing ---------------------------------------------------------------------
            cost = 1
            if ic == IC_LOAD or ic == IC_STORE:
                cost = 1 + mis
                cnt[c, CNT_STALL_MISALIGNED] += mis
                if ic == IC_LOAD:
                    cnt[c, CNT_LOADS] += 1
                else:
                    cnt[c, CNT_STORES] += 1
            elif ic == IC_BRANCH:
                if taken != 0:
                    cost = TAKEN_BRANCH_CYCLES + _is32_at(mem, npc)
                    cnt[c, CNT_STALL_BRANCH] += cost - 1
            elif ic == IC_JAL or ic == IC_JALR:
                cost = 2 + _is32_at(mem, npc)
                # The jump bubble hides behind a preceding multi-cycle instruction or load WAW
                # stall on the link register, unless the jalr consumes that instruction's result.
                if hz_multi != 0:
                    if not (ic == IC_JALR and (rs1 == hz_alu or rs1 == hz_load)):
                        cost -= 1
                elif stall_waw != 0:
                    cost -= 1
                cnt[c, CNT_STALL_JUMP] += cost - 1
            elif ic == IC_MULH:
                cost = 5
                cnt[c, CNT_STALL_MULTI] += 4
            elif ic == IC_DIV:
                cost = div_cycles(rs2v, op == DIV_OP or op == REM_OP)
                cnt[c, CNT_STALL_MULTI] += cost - 1
            elif ic == IC_CSR:
                if slow_csr[imm & 0xFFF] != 0:
                    cost = SLOW_CSR_CYCLES
                    cnt[c, CNT_STALL_CSR] += cost - 1
            elif ic == IC_FENCE:
                cost = 4 + _is32_at(mem, npc)
                cnt[c, CNT_STALL_FENCE] += cost - 1
            elif ic == IC_ELW:
                cost = 4
                cnt[c, CNT_STALL_MULTI] += 3
                cnt[c, CNT_LOADS] += 1
            elif is_mret != 0:
                cost = MRET_CYCLES + _is32_at(mem, npc)
                cnt[c, CNT_STALL_JUMP] += cost - 1
            extra = st.xtra[c] + lat
            if extra != 0:
                st.xtra[c] = 0
                cnt[c, CNT_STALL_MEM] += extra
            cost += stall + extra
            cnt[c, CNT_STALL_LOAD_USE] += stall_lu
            cnt[c, CNT_STALL_WAW] += stall_waw
            cnt[c, CNT_STALL_JALR] += stall_jalr
            cnt[c, CNT_INSTR + ic] += 1
            # ---- hazard state for the next instruction --------------------------------------
            hz_load2 = hz_load
            is_ld = ic == IC_LOAD or ic == IC_ELW
            hz_load = rd if (is_ld and (wmask & 1) != 0) else 0
            hz_alu = rd if ((not is_ld) and (wmask & 1) != 0) else 0
            hz_alu2 = rs1 if (wmask & 2) != 0 else 0
            hz_link = 1 if (ic == IC_JAL or ic == IC_JALR) else 0
            hz_multi = 1 if (ic == IC_DIV or ic == IC_MULH or mis != 0) else 0
            # ---- hardware loops (XpulpV2: end = address of the last body instruction) ------
            if taken == 0:
                if pc == st.hwl[c, 0, 1] and st.hwl[c, 0, 2] > 1:
                    st.hwl[c, 0, 2] -= 1
                    npc = st.hwl[c, 0, 0]
                    cnt[c, CNT_HWLOOP_JUMPS] += 1
                elif pc == st.hwl[c, 1, 1] and st.hwl[c, 1, 2] > 1:
                    st.hwl[c, 1, 2] -= 1
                    npc = st.hwl[c, 1, 0]
                    cnt[c, CNT_HWLOOP_JUMPS] += 1
            if stop_after != 0:
                sr = stop_after
                st.stop[c, STOP_REASON] = stop_after
                st.stop[c, STOP_PC] = pc
                st.stop[c, STOP_ARG] = stop_arg
            pc = npc & 0xFFFFFFFF
            now = now + cost
            st.instret[c] += 1
            retired = 1


@njit(cache=True)
def dma_requests(d, dport, t, req_t, tb, nbanks, interleave):
    """Advance the active DMA job's L2 side for cycle ``t`` (once per cycle) and post TCDM-side
    requests, one 32-bit-word chunk per free port, for cycle ``req_t``."""
    if d[D_L2T] != t:
        d[D_L2T] = t
        if t >= d[D_START] + d[D_L2_LATENCY]:
            if d[D_TO_L2] == 0:
                d[D_L2] = min(d[D_TOTAL], d[D_L2] + d[D_L2_BYTES_PER_CYCLE])
            else:
                moved = min(d[D_L2_BYTES_PER_CYCLE], d[D_FIFO_BYTES])
                d[D_FIFO_BYTES] -= moved
                d[D_L2] += moved
    for p in range(NDMA_PORTS):
        if dport[p, P_PEND] >= 0:
            continue
        done = d[D_ISSUED]
        if done >= d[D_TOTAL]:
            break
        row = done // d[D_LEN]
        off = done - row * d[D_LEN]
        if d[D_TO_L2] == 0:
            tcdm = d[D_DST] + row * d[D_DSTRIDE] + off
            other = d[D_SRC] + row * d[D_SSTRIDE] + off
        else:
            tcdm = d[D_SRC] + row * d[D_SSTRIDE] + off
            other = d[D_DST] + row * d[D_DSTRIDE] + off
        n = min(4 - (tcdm & 3), d[D_LEN] - off)
        if d[D_TO_L2] == 0:
            if done + n > d[D_L2]:
                break
        elif d[D_FIFO_BYTES] + (done - d[D_DONE_L1]) + n > DMA_FIFO_BYTES:
            break
        dport[p, P_PEND] = req_t
        dport[p, P_BANK] = ((tcdm - tb) // interleave) % nbanks
        dport[p, P_TCDM] = tcdm
        dport[p, P_OTHER] = other
        dport[p, P_BYTES] = n
        dport[p, P_GRANT] = -1
        d[D_ISSUED] = done + n


@njit(cache=True)
def dma_copy(mem, d, dport, p):
    """Move the bytes of port ``p``'s granted chunk; returns 1 when the job is complete."""
    n = dport[p, P_BYTES]
    to_l2 = d[D_TO_L2] != 0
    src = dport[p, P_TCDM] if to_l2 else dport[p, P_OTHER]
    dst = dport[p, P_OTHER] if to_l2 else dport[p, P_TCDM]
    so = translate(mem, src, n)
    do = translate(mem, dst, n)
    for i in range(n):
        write_mem(mem, do + i, 1, mem.data[so + i])
    d[D_DONE_L1] += n
    dport[p, P_PEND] = -1
    dport[p, P_GRANT] = -1
    if to_l2:
        d[D_FIFO_BYTES] += n
        d[D_BYTES_OUT] += n
        return 0
    d[D_BYTES_IN] += n
    return 1 if d[D_DONE_L1] >= d[D_TOTAL] else 0


@njit(cache=True)
def icache_fetch(cfg, ptag, page, stag, sage, clock, stats, c, line):
    """Look up instruction line ``line`` for core ``c`` in its private cache, then the shared
    one (both fully associative, least-recently-used replacement); fill on a miss.  Returns the
    extra fetch cycles (0 for a private hit)."""
    clock[0] += 1
    now = clock[0]
    victim = 0
    for k in range(ptag.shape[1]):
        if ptag[c, k] == line:
            page[c, k] = now
            stats[c, 0] += 1
            return 0
        if page[c, k] < page[c, victim]:
            victim = k
    ptag[c, victim] = line
    page[c, victim] = now
    svictim = 0
    for k in range(stag.size):
        if stag[k] == line:
            sage[k] = now
            stats[c, 1] += 1
            return cfg[2]
        if sage[k] < sage[svictim]:
            svictim = k
    stag[svictim] = line
    sage[svictim] = now
    stats[c, 2] += 1
    return cfg[3]


@njit(cache=True)
def run(st, mem, tabs, info, slow_csr, c, max_cycle, max_instr, tr):
    """Execute core ``c`` alone until it stops, reaches ``max_cycle`` or retires ``max_instr``.

    Returns the number of instructions retired.  ``st.stop[c]`` tells why it stopped.  If
    ``tr`` has rows, row ``i`` receives (issue cycle, pc, register written or -1, its value,
    cycles) of the ``i``-th instruction retired (the caller sizes ``max_instr`` to fit).
    """
    x = st.x
    cnt = st.cnt
    dec = mem.dec
    tmp = np.zeros(8, np.int64)
    cbase = np.int64(0)
    csize = np.int64(0)
    coff = np.int64(0)
    tracing = tr.shape[0] > 0
    n = 0
    pc = st.pc[c]
    now = st.cycle[c]
    hz_load = st.hz[c, HZ_LOAD_RD]
    hz_load2 = st.hz[c, HZ_LOAD_RD2]
    hz_alu = st.hz[c, HZ_ALU_RD]
    hz_alu2 = st.hz[c, HZ_ALU_RD2]
    hz_link = st.hz[c, HZ_LINK]
    hz_multi = st.hz[c, HZ_MULTI]
    while True:
        if now >= max_cycle:
            st.stop[c, STOP_REASON] = STOP_MAX_CYCLES
            st.stop[c, STOP_PC] = pc
            break
        if n >= max_instr:
            st.stop[c, STOP_REASON] = STOP_CHUNK
            st.stop[c, STOP_PC] = pc
            break
        ipc = pc
        t0 = now
        # @@INSTR@@
        if retired != 0:
            if tracing:
                tr[n, 0] = t0
                tr[n, 1] = ipc
                tr[n, 2] = wr_reg
                tr[n, 3] = x[c, wr_reg] if wr_reg >= 0 else 0
                tr[n, 4] = now - t0
            n += 1
        if sr != 0:
            break
    st.pc[c] = pc
    st.cycle[c] = now
    st.hz[c, HZ_LOAD_RD] = hz_load
    st.hz[c, HZ_LOAD_RD2] = hz_load2
    st.hz[c, HZ_ALU_RD] = hz_alu
    st.hz[c, HZ_ALU_RD2] = hz_alu2
    st.hz[c, HZ_LINK] = hz_link
    st.hz[c, HZ_MULTI] = hz_multi
    return n


@njit(cache=True)
def _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask, arb):
    """Charge the cycles lost so far by the core requests still waiting after the last
    arbitrated cycle ``arb`` (``cluster_run`` charges them lazily, at the grant) and move them
    to cycle ``arb + 1``: the state the engine leaves is the same as if every lost cycle had
    been charged when it was lost."""
    for c in range(pend.size):
        p = pend[c]
        if (run_mask >> c) & 1 != 0 and 0 <= p <= arb and grant[c] < 0:
            lost = arb + 1 - p
            xtra[c] += lost
            bank_conflicts[pbank[c]] += lost
            core_conflicts[c] += lost
            pend[c] = arb + 1


@njit(cache=True)
def cluster_run(st, mem, tabs, info, slow_csr, eng, t_end):
    """Advance every core of the cluster from cycle ``eng.now[0]`` to ``t_end`` (exclusive).

    Per cycle: (1) a core whose next instruction issues now and accesses the TCDM posts a
    request for cycle issue + hazard stall; (2) each bank grants one request (round-robin over
    requesters; the arbitration of a cycle is done once, so re-entering the same cycle after a
    peripheral access or a chunk boundary changes nothing); losers retry next cycle and pay one
    cycle per lost grant; (3) granted cores and cores without a TCDM access execute, in core
    order.  Returns ``ENG_RUN`` at ``t_end``, ``ENG_IDLE`` when no core can run, or a core's stop
    reason (``eng.stop[1]`` = the core); ``eng.now[0]`` is the cycle reached.

    How it stays cheap (the cycle semantics above are unchanged; ``eng`` holds only the
    canonical state, everything below is rebuilt from it on entry):

    * cycles in which no core, DMA port or streamer port has anything to do are skipped;
    * each running core has one next event, its posted request's cycle (``pend``) or its next
      issue (``cycle``), kept in a calendar of core bit masks, so a cycle touches only the cores
      whose event it is;
    * a request whose cycle has come waits in a per-bank mask until granted; the winner is the
      first set bit at or after the bank's round-robin pointer, so a cycle costs one lookup per
      requested bank however many cores wait;
    * lost cycles are charged when the request is granted (``grant - pend``), and those of
      requests still waiting when the engine returns by ``_flush_losses``, which also moves
      them to the next cycle: what the engine leaves behind is exactly the state of charging
      every lost cycle as it happens.
    """
    x = st.x
    cnt = st.cnt
    dec = mem.dec
    tmp = np.zeros(8, np.int64)
    code_reg = np.zeros(3, np.int64)
    cbase = np.int64(0)
    csize = np.int64(0)
    coff = np.int64(0)
    ncores = st.pc.size
    # Every array used per cycle is hoisted out of the namedtuples once (see the module docstring).
    status = eng.status
    pend = eng.pend
    pbank = eng.pbank
    pwrite = eng.pwrite
    grant = eng.grant
    rr = eng.rr
    bk_t = eng.bk_t
    bk_win = eng.bk_win
    arb_t = eng.arb_t
    bank_reads = eng.bank_reads
    bank_writes = eng.bank_writes
    bank_conflicts = eng.bank_conflicts
    core_conflicts = eng.core_conflicts
    peek = eng.peek
    pcs = st.pc
    cyc = st.cycle
    hzs = st.hz
    xtra = st.xtra
    iclass = info.iclass
    reads = info.reads
    writes = info.writes
    nbanks = rr.size
    tb = eng.tcdm[0]
    tsz = eng.tcdm[1]
    interleave = eng.tcdm[2]
    t = eng.now[0]
    nmasters = ncores + NDMA_PORTS
    icache_on = eng.icache[0] != 0
    ic_line_bytes = eng.icache[1]
    dma = eng.dma
    dport = eng.dport
    acc = eng.acc
    aport = eng.aport
    acc_ops = eng.acc_ops
    acc_ch = eng.acc_ch
    acc_sig = eng.acc_sig
    acc_stamp = eng.acc_stamp
    acc_data = eng.acc_data
    nacc = acc[A_NPORTS]
    one = np.int64(1)
    amode = ADDR_MODE
    # bank of a TCDM offset: shift and mask when interleave and bank count are powers of two
    bshift = -1
    if (interleave & (interleave - 1)) == 0 and (nbanks & (nbanks - 1)) == 0:
        bshift = 0
        while (one << bshift) < interleave:
            bshift += 1
    bmask1 = nbanks - 1
    # ---- event bookkeeping of this call (rebuilt from the canonical arrays on every entry) ----
    # Every running core has exactly one next event: its posted TCDM request (``pend``: the
    # first cycle it competes) or else the issue of its next instruction (``cyc``).  Events
    # within CAL cycles sit in a calendar of core masks (slot = cycle % CAL, ``occ`` = slots in
    # use), later ones in ``far``.  A request whose cycle has come waits in its bank's mask
    # ``bm`` (banks with waiters listed in ``blist``) until granted, so a cycle costs a calendar
    # slot plus one winner per requested bank, however many cores wait.
    cal = eng.cal
    bm = eng.bk_mask
    blist = eng.bk_list
    bpos = eng.bk_pos
    for k in range(CAL):
        cal[k] = 0
    for b in range(nbanks):
        bm[b] = 0
        bpos[b] = -1
    nact = 0
    occ = np.int64(0)
    far = np.int64(0)
    far_min = np.int64(-1)
    run_mask = np.int64(0)
    cur0 = np.int64(0)
    for c in range(ncores):
        if status[c] != STATUS_RUN:
            continue
        run_mask |= one << c
        e = pend[c] if pend[c] >= 0 else cyc[c]
        if e <= t:
            cur0 |= one << c
        elif e - t < CAL:
            cal[e & CAL_MASK] |= one << c
            occ |= one << (e & CAL_MASK)
        else:
            far |= one << c
            if far_min < 0 or e < far_min:
                far_min = e
    while t < t_end:
        # ---- (1) requests of the accelerator streamer, the DMA ports and the cores ----------
        if acc[A_ACTIVE] == 1:
            acc_issue(acc, aport, acc_ops, acc_ch, acc_sig, acc_stamp, t,
                      t if arb_t[0] != t else t + 1, tb, nbanks, interleave)
        if acc[A_ACTIVE] == 2:
            # the stream program finished: report before anything else happens in this cycle
            acc[A_ACTIVE] = 0
            eng.now[0] = t
            _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask,
                          arb_t[0])
            return ENG_ACC_DONE
        # dma[D_ACTIVE]: 0 idle, 1 running, 2 complete and not yet reported (survives re-entry)
        if dma[D_ACTIVE] == 1:
            # Requests posted after this cycle's arbitration (re-entry) compete next cycle.
            dma_requests(dma, dport, t, t if arb_t[0] != t else t + 1, tb, nbanks, interleave)
        # Cores whose event is now: take them off the calendar.
        slot = t & CAL_MASK
        cur = cur0 | cal[slot]
        cur0 = 0
        if cur != 0:
            cal[slot] = 0
            occ &= ~(one << slot)
        if far_min == t:
            nf = np.int64(0)
            far_min = -1
            m = far
            while m != 0:
                c = trailing_zeros(m)
                m &= m - 1
                e = pend[c] if pend[c] >= 0 else cyc[c]
                if e <= t:
                    cur |= one << c
                else:
                    nf |= one << c
                    if far_min < 0 or e < far_min:
                        far_min = e
            far = nf
        xm = np.int64(0)        # cores executing now
        m = cur
        while m != 0:
            c = trailing_zeros(m)
            m &= m - 1
            if pend[c] >= 0:
                if grant[c] == t:
                    xm |= one << c      # granted before a re-entry in this cycle
                else:
                    # its request competes from now on
                    b = pbank[c]
                    if bm[b] == 0:
                        bpos[b] = nact
                        blist[nact] = b
                        nact += 1
                    bm[b] |= one << c
                continue
            if peek[c] == 0 and not icache_on:
                xm |= one << c  # classified when its previous instruction retired
                continue
            if icache_on:
                # A fetch from a new line looks it up; a miss delays the instruction's issue.
                line = pcs[c] // ic_line_bytes
                if line != eng.ic_line[c]:
                    eng.ic_line[c] = line
                    extra = icache_fetch(eng.icache, eng.ic_ptag, eng.ic_page, eng.ic_stag,
                                         eng.ic_sage, eng.ic_clock, eng.ic_stats, c, line)
                    if extra > 0:
                        cyc[c] += extra
                        cnt[c, CNT_STALL_FETCH] += extra
                        e = cyc[c]
                        if e - t < CAL:
                            cal[e & CAL_MASK] |= one << c
                            occ |= one << (e & CAL_MASK)
                        else:
                            far |= one << c
                            if far_min < 0 or e < far_min:
                                far_min = e
                        continue
            # Fast path of fetch_row_cached written out: a call here (even inlined) costs the
            # reference counting of the mem/tabs arrays on every issuing instruction.
            xm |= one << c      # unless it posts a TCDM request below
            pcc = pcs[c]
            dd = pcc - code_reg[0]
            if dd < 0 or dd + 2 > code_reg[1] or (pcc & 1) != 0:
                h = fetch_row_cached(mem, tabs, pcc, tmp, code_reg)
            else:
                h = (dd + code_reg[2]) >> 1
                if dec[h, 0] == 0:
                    h = fetch_row_cached(mem, tabs, pcc, tmp, code_reg)
            if h < 0 or dec[h, 0] <= 0:
                continue
            op = dec[h, 0]
            ic = iclass[op]
            if ic != IC_LOAD and ic != IC_STORE and ic != IC_ELW:
                peek[c] = 0
                continue
            a = tcdm_addr(op, amode[op], x, c, dec, h)
            if a < tb or a >= tb + tsz:
                continue
            lw = load_stall(hzs[c, HZ_LOAD_RD], ic, reads[op], writes[op],
                            dec[h, 1], dec[h, 2], dec[h, 3], dec[h, 4])
            xm &= ~(one << c)
            b = ((a - tb) >> bshift) & bmask1 if bshift >= 0 else ((a - tb) // interleave) % nbanks
            pbank[c] = b
            pwrite[c] = 1 if ic == IC_STORE else 0
            grant[c] = -1
            if lw != 0:
                pend[c] = t + 1
                cal[(t + 1) & CAL_MASK] |= one << c
                occ |= one << ((t + 1) & CAL_MASK)
            else:
                pend[c] = t
                if bm[b] == 0:
                    bpos[b] = nact
                    blist[nact] = b
                    nact += 1
                bm[b] |= one << c
        # ---- (2) arbitration, once per cycle ------------------------------------------------
        if arb_t[0] != t:
            arb_t[0] = t
            # Masters: cores 0..ncores-1, then the DMA's TCDM ports.  Each bank grants the first
            # requester at or after its round-robin pointer.  A waiting core's lost cycles are
            # charged when it is granted (and by _flush_losses when the engine returns).
            dpend = 0
            if dma[D_ACTIVE] != 0:      # (ports request only while a job runs)
                for p in range(NDMA_PORTS):
                    if dport[p, P_PEND] == t:
                        dpend |= 1 << p
            log_any = nact > 0 or dpend != 0
            won = np.int64(0)
            if dpend == 0 and acc[A_ACTIVE] != 1:
                # cores only: the winners need not be recorded per bank
                for k in range(nact):
                    b = blist[k]
                    mk = bm[b]
                    hi = mk & ~((one << rr[b]) - 1)
                    won |= one << trailing_zeros(hi if hi != 0 else mk)
                nact_arb = 0
            else:
                nact_arb = nact
            for k in range(nact_arb):
                b = blist[k]
                mk = bm[b]
                if dpend != 0:
                    for p in range(NDMA_PORTS):
                        if (dpend >> p) & 1 != 0 and dport[p, P_BANK] == b:
                            mk |= one << (ncores + p)
                hi = mk & ~((one << rr[b]) - 1)
                bk_t[b] = t
                bk_win[b] = trailing_zeros(hi if hi != 0 else mk)
            if dpend != 0:
                # banks requested by DMA ports only
                for p in range(NDMA_PORTS):
                    if (dpend >> p) & 1 == 0:
                        continue
                    b = dport[p, P_BANK]
                    if bk_t[b] == t:
                        continue
                    mk = np.int64(0)
                    for q in range(NDMA_PORTS):
                        if (dpend >> q) & 1 != 0 and dport[q, P_BANK] == b:
                            mk |= one << (ncores + q)
                    hi = mk & ~((one << rr[b]) - 1)
                    bk_t[b] = t
                    bk_win[b] = trailing_zeros(hi if hi != 0 else mk)
            if acc[A_ACTIVE] == 1:
                # HCI arbiter (hci_arbiter, MODE 0): per bank the high-priority side passes
                # when it requests that bank; after A_MAX_STALL consecutive cycles in which both
                # sides requested, the high side is held off entirely for one cycle.
                acc_any = False
                for p in range(nacc):
                    if aport[p, AP_PEND] == t:
                        acc_any = True
                acc_high = acc[A_PRIO] == 1
                block = acc[A_MAX_STALL] > 0 and acc[A_STALL] >= acc[A_MAX_STALL]
                if block and not acc_high and acc_any:
                    for b in range(nbanks):
                        if bk_t[b] == t:
                            bk_win[b] = -3      # the cores/DMA side gets no bank this cycle
                acc_lost = False
                for p in range(nacc):
                    if aport[p, AP_PEND] != t:
                        continue
                    b = aport[p, AP_BANK]
                    log_wants = bk_t[b] == t and bk_win[b] >= 0
                    if (bk_t[b] == t and bk_win[b] == -2) or (acc_high and block) or \
                            (log_wants and not acc_high):
                        aport[p, AP_PEND] = t + 1
                        bank_conflicts[b] += 1
                        acc[A_CONFLICTS] += 1
                        acc_lost = True
                        continue
                    if log_wants:
                        acc[A_CORE_LOSSES] += 1
                    bk_t[b] = t
                    bk_win[b] = -2
                    aport[p, AP_GRANT] = t
                    if aport[p, AP_WRITE] != 0:
                        bank_writes[b] += 1
                    else:
                        bank_reads[b] += 1
                if acc_lost:
                    acc[A_STALL_CYCLES] += 1
                if acc_any and log_any and not block:
                    acc[A_STALL] += 1
                else:
                    acc[A_STALL] = 0
            if dpend != 0:
                for p in range(NDMA_PORTS):
                    if dport[p, P_PEND] == t:
                        b = dport[p, P_BANK]
                        if bk_win[b] == ncores + p:
                            dport[p, P_GRANT] = t
                            rr[b] = ncores + p + 1 if ncores + p + 1 < nmasters else 0
                            if dma[D_TO_L2] != 0:
                                bank_reads[b] += 1
                            else:
                                bank_writes[b] += 1
                        else:
                            dport[p, P_PEND] = t + 1
                            bank_conflicts[b] += 1
                            eng.dma_conflicts[p] += 1
            for k in range(nact_arb):
                w = bk_win[blist[k]]
                if 0 <= w < ncores:
                    won |= one << w
            xm |= won
            m = won
            while m != 0:
                c = trailing_zeros(m)
                m &= m - 1
                b = pbank[c]
                lost = t - pend[c]
                if lost != 0:
                    xtra[c] += lost
                    bank_conflicts[b] += lost
                    core_conflicts[c] += lost
                    pend[c] = t
                grant[c] = t
                rr[b] = c + 1
                if pwrite[c] != 0:
                    bank_writes[b] += 1
                else:
                    bank_reads[b] += 1
                bm[b] &= ~(one << c)
                if bm[b] == 0:
                    k = bpos[b]
                    nact -= 1
                    last = blist[nact]
                    blist[k] = last
                    bpos[last] = k
                    bpos[b] = -1
        # ---- (3) execute: DMA chunks, then cores --------------------------------------------
        if dma[D_ACTIVE] == 1:
            done = 0
            for p in range(NDMA_PORTS):
                if dport[p, P_GRANT] == t:
                    done |= dma_copy(mem, dma, dport, p)
            if dma[D_TO_L2] != 0 and dma[D_L2] >= dma[D_TOTAL]:
                done = 1
            if done != 0:
                dma[D_ACTIVE] = 2
        t_next = t + 1 if dma[D_ACTIVE] == 1 else -1
        if acc[A_ACTIVE] == 1:
            acc_grants(mem, acc, aport, acc_ops, acc_ch, acc_data, t)
            t_next = acc_next(acc, aport, acc_ops, acc_ch, acc_sig, t)
            if dma[D_ACTIVE] == 1:
                t_next = t + 1
        # Granted cores and cores without a TCDM access execute, in core order.
        while xm != 0:
            c = trailing_zeros(xm)
            xm &= xm - 1
            pc = pcs[c]
            now = cyc[c]
            hz_load = hzs[c, HZ_LOAD_RD]
            hz_load2 = hzs[c, HZ_LOAD_RD2]
            hz_alu = hzs[c, HZ_ALU_RD]
            hz_alu2 = hzs[c, HZ_ALU_RD2]
            hz_link = hzs[c, HZ_LINK]
            hz_multi = hzs[c, HZ_MULTI]
            # @@INSTR@@
            pcs[c] = pc
            cyc[c] = now
            hzs[c, HZ_LOAD_RD] = hz_load
            hzs[c, HZ_LOAD_RD2] = hz_load2
            hzs[c, HZ_ALU_RD] = hz_alu
            hzs[c, HZ_ALU_RD2] = hz_alu2
            hzs[c, HZ_LINK] = hz_link
            hzs[c, HZ_MULTI] = hz_multi
            if sr != 0:
                if retired != 0:
                    pend[c] = -1
                    grant[c] = -1
                    peek[c] = -1
                eng.now[0] = t
                eng.stop[0] = sr
                eng.stop[1] = c
                _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask,
                              arb_t[0])
                return sr
            pend[c] = -1
            grant[c] = -1
            # Classify the next instruction now (cheap: the code region is cached in locals)
            # so that only cores whose next one may need the TCDM are looked at when it issues.
            # A TCDM access is posted right away: only this core can change the registers and
            # hazard state it depends on before it issues (not with the icache model, whose
            # misses delay the issue first).
            e = now
            nxt = 1
            d2 = pc - cbase
            if d2 >= 0 and d2 + 2 <= csize and (pc & 1) == 0:
                h2 = (d2 + coff) >> 1
                op2 = dec[h2, 0]
                if op2 > 0:
                    ic2 = iclass[op2]
                    if ic2 != IC_LOAD and ic2 != IC_STORE and ic2 != IC_ELW:
                        nxt = 0
                    elif not icache_on:
                        a2 = tcdm_addr(op2, amode[op2], x, c, dec, h2)
                        if tb <= a2 < tb + tsz:
                            lw2 = load_stall(hz_load, ic2, reads[op2], writes[op2],
                                             dec[h2, 1], dec[h2, 2], dec[h2, 3], dec[h2, 4])
                            e = now + (1 if lw2 != 0 else 0)
                            pend[c] = e
                            pbank[c] = (((a2 - tb) >> bshift) & bmask1 if bshift >= 0
                                        else ((a2 - tb) // interleave) % nbanks)
                            pwrite[c] = 1 if ic2 == IC_STORE else 0
                        else:
                            nxt = 0
            peek[c] = nxt
            if e - t < CAL:
                cal[e & CAL_MASK] |= one << c
                occ |= one << (e & CAL_MASK)
            else:
                far |= one << c
                if far_min < 0 or e < far_min:
                    far_min = e
        if dma[D_ACTIVE] == 2:
            dma[D_ACTIVE] = 0
            eng.now[0] = t + 1
            _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask,
                          arb_t[0])
            return ENG_DMA_DONE
        # ---- next cycle at which anything happens -------------------------------------------
        if nact > 0:
            t_next = t + 1      # waiting requests compete again
        elif run_mask != 0:
            tc = far_min
            if occ != 0:
                s = (t + 1) & CAL_MASK
                hi = occ & ~((one << s) - 1)
                k = trailing_zeros(hi if hi != 0 else occ)
                tk = t + 1 + ((k - s) & CAL_MASK)
                if tc < 0 or tk < tc:
                    tc = tk
            if tc >= 0 and (t_next < 0 or tc < t_next):
                t_next = tc
        if t_next < 0:
            eng.now[0] = t
            _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask,
                          arb_t[0])
            return ENG_IDLE
        t = t_next if t_next > t else t + 1
    eng.now[0] = t_end if t > t_end else t
    _flush_losses(pend, grant, pbank, xtra, bank_conflicts, core_conflicts, run_mask, arb_t[0])
    return ENG_RUN
