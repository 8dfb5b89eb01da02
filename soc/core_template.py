"""Template of the generated instruction-set simulator (see ``soc.core_codegen``).

Not imported directly: ``core_codegen`` splices the per-instruction semantics of the tables into
the dispatch marker below and imports the result.  Everything outside the dispatch is the
per-instruction pipeline of the CV32E40P model: fetch from the decode cache, hazard stalls,
execute, write-back, timing, hardware loops, traps.
"""
import numpy as np
from numba import njit

from isa.decoder import decode_word
from soc.core_csr import csr_read, csr_write
from soc.core_state import (
    CNT_HWLOOP_JUMPS, CNT_INSTR, CNT_LOADS, CNT_STALL_BRANCH, CNT_STALL_CSR, CNT_STALL_FENCE,
    CNT_STALL_JALR, CNT_STALL_JUMP, CNT_STALL_LOAD_USE, CNT_STALL_MISALIGNED, CNT_STALL_MULTI,
    CNT_STALL_WAW, CNT_STORES, CNT_TRAPS, CSR_MCAUSE, CSR_MEPC, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC,
    CSR_MTVEC_SET, HZ_ALU_RD, HZ_ALU_RD2, HZ_LINK, HZ_LOAD_RD, HZ_LOAD_RD2, HZ_MULTI,
    CNT_STALL_MEM, MMIO_ADDR, MMIO_INFO, MMIO_READY, MMIO_VALUE,
    STOP_ARG, STOP_CHUNK, STOP_EBREAK, STOP_ECALL, STOP_FETCH_FAULT, STOP_ILLEGAL,
    STOP_MAX_CYCLES, STOP_PC, STOP_RAW, STOP_REASON,
)
from soc.core_timing import (
    DIV_BY_ZERO_CYCLES, IC_BRANCH, IC_CSR, IC_DIV, IC_ELW, IC_FENCE, IC_JAL, IC_JALR, IC_LOAD,
    IC_MULH, IC_STORE, IC_SYSTEM, MRET_CYCLES, SLOW_CSR_CYCLES, TAKEN_BRANCH_CYCLES,
    TRAP_ENTRY_CYCLES, div_cycles, is_misaligned,
)
from soc.memory import read_mem, region_index, translate, write_mem  # noqa: F401
# @@HELPERS@@

# @@CONSTANTS@@


@njit(cache=True)
def _is32_at(mem, addr):
    """1 if a 32-bit instruction starts at ``addr`` and ``addr`` is not word aligned (4n+2)."""
    if (addr & 2) == 0:
        return 0
    o = translate(mem, addr, 2)
    if o < 0:
        return 0
    return 1 if (mem.data16[o >> 1] & 3) == 3 else 0


@njit(cache=True)
def run(st, mem, tabs, info, slow_csr, c, max_cycle, max_instr, tr):
    """Execute core ``c`` until it stops, reaches ``max_cycle`` or retires ``max_instr``.

    Returns the number of instructions retired.  ``st.stop[c]`` tells why it stopped.  If
    ``tr`` has rows, row ``i`` receives (issue cycle, pc, register written or -1, its value,
    cycles) of the ``i``-th instruction retired (the caller sizes ``max_instr`` to fit).
    """
    x = st.x
    hz = st.hz
    cnt = st.cnt
    dec = mem.dec
    tmp = np.zeros(8, np.int64)
    n = 0
    pc = st.pc[c]
    now = st.cycle[c]
    # Hazard state lives in locals inside the loop and is written back on exit.
    hz_load = hz[c, HZ_LOAD_RD]
    hz_load2 = hz[c, HZ_LOAD_RD2]
    hz_alu = hz[c, HZ_ALU_RD]
    hz_alu2 = hz[c, HZ_ALU_RD2]
    hz_link = hz[c, HZ_LINK]
    hz_multi = hz[c, HZ_MULTI]
    # Code region cache: pc in [cbase, cbase + csize) maps to backing offset pc - cbase + coff.
    cbase = np.int64(0)
    csize = np.int64(0)
    coff = np.int64(0)
    while True:
        if now >= max_cycle:
            st.stop[c, STOP_REASON] = STOP_MAX_CYCLES
            st.stop[c, STOP_PC] = pc
            break
        if n >= max_instr:
            st.stop[c, STOP_REASON] = STOP_CHUNK
            st.stop[c, STOP_PC] = pc
            break
        # ---- fetch / decode (cached per half-word) -------------------------------------------
        d = pc - cbase
        if d < 0 or d + 2 > csize or (pc & 1):
            r = region_index(mem, pc, 2)
            if r < 0 or mem.off[r] < 0 or (pc & 1):
                st.stop[c, STOP_REASON] = STOP_FETCH_FAULT
                st.stop[c, STOP_PC] = pc
                st.stop[c, STOP_ARG] = pc
                break
            cbase = mem.base[r]
            csize = mem.size[r]
            coff = mem.off[r]
            d = pc - cbase
        h = (d + coff) >> 1
        if dec[h, 0] == 0:
            word = np.int64(mem.data16[h])
            if (word & 3) == 3:
                if d + 4 > csize:
                    st.stop[c, STOP_REASON] = STOP_FETCH_FAULT
                    st.stop[c, STOP_PC] = pc
                    st.stop[c, STOP_ARG] = pc + 2
                    break
                word |= np.int64(mem.data16[h + 1]) << 16
            decode_word(tabs, word, tmp)
            for k in range(1, 8):
                dec[h, k] = tmp[k]
            dec[h, 0] = tmp[0]
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
        if op < 0:
            ic = IC_SYSTEM
            rmask = 0
            wmask = 0
            stall = 0
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
                st.stop[c, STOP_REASON] = fault
                st.stop[c, STOP_PC] = pc
                st.stop[c, STOP_ARG] = fault_addr
                st.stop[c, STOP_RAW] = op
                break
        # ---- traps --------------------------------------------------------------------------
        if trap >= 0:
            if st.csr[c, CSR_MTVEC_SET] == 0:
                if trap == 2:
                    st.stop[c, STOP_REASON] = STOP_ILLEGAL
                elif trap == 11:
                    st.stop[c, STOP_REASON] = STOP_ECALL
                else:
                    st.stop[c, STOP_REASON] = STOP_EBREAK
                st.stop[c, STOP_PC] = pc
                st.stop[c, STOP_ARG] = x[c, 10]
                st.stop[c, STOP_RAW] = op
                break
            st.csr[c, CSR_MEPC] = pc
            st.csr[c, CSR_MCAUSE] = trap
            st.csr[c, CSR_MTVAL] = 0
            ms = st.csr[c, CSR_MSTATUS]
            st.csr[c, CSR_MSTATUS] = (ms & ~0x88) | ((ms & 0x8) << 4) | 0x1800
            pc = st.csr[c, CSR_MTVEC] & 0xFFFFFF00
            now = now + TRAP_ENTRY_CYCLES + stall
            cnt[c, CNT_TRAPS] += 1
            hz_load = 0
            hz_load2 = 0
            hz_alu = 0
            hz_alu2 = 0
            hz_link = 0
            hz_multi = 0
            n += 1
            continue
        # ---- write-back (post-increment base first: a load into its own base wins) ---------
        if (wmask & 2) != 0 and rs1 != 0:
            x[c, rs1] = res2
        if (wmask & 1) != 0 and rd != 0:
            x[c, rd] = res
        # ---- timing -------------------------------------------------------------------------
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
        # ---- hazard state for the next instruction ------------------------------------------
        hz_load2 = hz_load
        is_ld = ic == IC_LOAD or ic == IC_ELW
        hz_load = rd if (is_ld and (wmask & 1) != 0) else 0
        hz_alu = rd if ((not is_ld) and (wmask & 1) != 0) else 0
        hz_alu2 = rs1 if (wmask & 2) != 0 else 0
        hz_link = 1 if (ic == IC_JAL or ic == IC_JALR) else 0
        hz_multi = 1 if (ic == IC_DIV or ic == IC_MULH or mis != 0) else 0
        # ---- hardware loops (XpulpV2: end = address of the last body instruction) ----------
        if taken == 0:
            if pc == st.hwl[c, 0, 1] and st.hwl[c, 0, 2] > 1:
                st.hwl[c, 0, 2] -= 1
                npc = st.hwl[c, 0, 0]
                cnt[c, CNT_HWLOOP_JUMPS] += 1
            elif pc == st.hwl[c, 1, 1] and st.hwl[c, 1, 2] > 1:
                st.hwl[c, 1, 2] -= 1
                npc = st.hwl[c, 1, 0]
                cnt[c, CNT_HWLOOP_JUMPS] += 1
        if tr.shape[0] > 0:
            tr[n, 0] = now
            tr[n, 1] = pc
            tr[n, 2] = -1
            if (wmask & 1) != 0 and rd != 0:
                tr[n, 2] = rd
                tr[n, 3] = x[c, rd]
            elif (wmask & 2) != 0 and rs1 != 0:
                tr[n, 2] = rs1
                tr[n, 3] = x[c, rs1]
            tr[n, 4] = cost
        ipc = pc
        pc = npc & 0xFFFFFFFF
        now = now + cost
        st.instret[c] += 1
        n += 1
        if stop_after != 0:
            st.stop[c, STOP_REASON] = stop_after
            st.stop[c, STOP_PC] = ipc
            st.stop[c, STOP_ARG] = stop_arg
            break
    st.pc[c] = pc
    st.cycle[c] = now
    hz[c, HZ_LOAD_RD] = hz_load
    hz[c, HZ_LOAD_RD2] = hz_load2
    hz[c, HZ_ALU_RD] = hz_alu
    hz[c, HZ_ALU_RD2] = hz_alu2
    hz[c, HZ_LINK] = hz_link
    hz[c, HZ_MULTI] = hz_multi
    return n
