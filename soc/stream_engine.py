"""The accelerators' streamer inside the cluster's cycle engine (Numba part).

An accelerator job (IMA, depthwise accelerator) is compiled by Python into a *stream program*:
per channel (e.g. source, compute, sink) a list of operations

* ``K_READ addr nbytes``: read the 32-bit words covering ``[addr, addr + nbytes)`` from the TCDM;
* ``K_WRITE addr nbytes data_off``: write ``data[data_off:data_off + nbytes]`` there (byte enables
  for partial words);
* ``K_DELAY cycles``: the channel is busy for that many cycles (e.g. the analog MVM);
* ``K_SIGNAL k n`` / ``K_WAIT k v``: add ``n`` to counter ``k`` / wait until counter ``k >= v``
  (the hand-shakes of the job pipeline: buffer full, buffer free);
* ``K_STAMP i``: record the current cycle in ``stamp[i]`` (job timelines for traces and reports);
* ``K_IDLE n``: like ``K_DELAY``; used for datapath cycles without a memory access.

Cycle-exact behaviour modelled here: the streamer has ``nports`` 32-bit TCDM ports (default 4,
i.e. 128 bits).  Each cycle, the free ports go to the channels in round-robin order; a channel
issues one *wide access* of up to ``nports`` consecutive words of its current operation, and
issues the next one only once every word of it has been granted (lock-step; a lost word retries
the next cycle).  Each word is arbitrated in the requested bank together with the cores and the
DMA (``cluster_run``): the HCI rule gives one side priority and lets the other through after
``max_stall`` consecutive cycles in which it lost a bank.  An operation completes in the cycle
its last word is granted; the channel's next operation starts the following cycle.

Approximated: the accelerator's FIFOs are not modelled beyond the lock-step wide access; the data
a job computes on is read when the job is triggered (see ``soc.ima_device``), the timing of the
reads comes from here.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .memory import translate, write_mem

# ---- operations (rows of the program: kind, a, b, c) ------------------------------------------
K_READ = 1
K_WRITE = 2
K_DELAY = 3
K_SIGNAL = 4
K_WAIT = 5
K_STAMP = 6
K_IDLE = 7

# ---- streamer fields (``EngineState.acc``) ----------------------------------------------------
A_ACTIVE = 0        # 0 idle, 1 running, 2 finished and not yet reported
A_T = 1             # last cycle whose issue step ran (re-entering a cycle changes nothing)
A_NPORTS = 2
A_RR = 3            # channel served first at the next port allocation
A_PRIO = 4          # 0: cores/DMA side has priority in a bank conflict, 1: the accelerator side
A_MAX_STALL = 5     # the low-priority side wins after this many consecutive stalled cycles
A_STALL = 6         # consecutive cycles the low-priority side lost a bank
A_START = 7         # cycle the program started
A_END = 8           # cycle the program was seen complete (its end-of-job event cycle)
A_WORDS_READ = 9
A_WORDS_WRITTEN = 10
A_CONFLICTS = 11    # words that lost their bank (each costs a cycle of that wide access)
A_STALL_CYCLES = 12  # cycles with at least one lost word
A_BUSY_CYCLES = 13  # cycles with at least one word granted
A_CORE_LOSSES = 14  # requests of the cores/DMA that lost a bank to the accelerator side
A_BYTES_READ = 15
A_BYTES_WRITTEN = 16
NA = 17

# ---- channel fields (``EngineState.acc_ch[k]``) ----------------------------------------------
C_PC = 0            # index of the current operation
C_END = 1           # one past the channel's last operation
C_POS = 2           # bytes issued of the current read/write
C_UNTIL = 3         # end cycle of the current delay, -1 none
C_PENDING = 4       # words of the current wide access not yet granted
NC = 5
MAX_CHANNELS = 4

# ---- port fields (``EngineState.aport[p]``) --------------------------------------------------
AP_PEND = 0         # cycle of the pending request, -1 none
AP_BANK = 1
AP_ADDR = 2         # byte address of the first byte of the word it carries
AP_BYTES = 3
AP_CH = 4
AP_WRITE = 5
AP_DOFF = 6         # offset of the bytes in the program's data
AP_GRANT = 7        # cycle granted, -1 none
NAP = 8
MAX_PORTS = 8

ENG_ACC_DONE = -3   # ``cluster_run``: the stream program finished (the engine stops after that)


def new_streamer(nports: int, accel_priority: bool, max_stall_cycles: int):
    """Arrays of an idle streamer: (acc, aport, ops, ch, sig, stamp, data)."""
    acc = np.zeros(NA, np.int64)
    acc[A_NPORTS] = nports
    acc[A_PRIO] = 1 if accel_priority else 0
    acc[A_MAX_STALL] = max_stall_cycles
    acc[A_T] = -1
    aport = np.zeros((MAX_PORTS, NAP), np.int64)
    aport[:, AP_PEND] = -1
    aport[:, AP_GRANT] = -1
    return (acc, aport, np.zeros((1, 4), np.int64), np.zeros((MAX_CHANNELS, NC), np.int64),
            np.zeros(16, np.int64), np.zeros(1, np.int64), np.zeros(4, np.uint8))


@njit(cache=True)
def _advance(ops, ch, sig, stamp, k, t):
    """Run channel ``k``'s zero-time operations and finished delays at cycle ``t``; stop at an
    access, a running delay or an unmet wait."""
    while ch[k, C_PC] < ch[k, C_END]:
        i = ch[k, C_PC]
        kind = ops[i, 0]
        if kind == K_SIGNAL:
            sig[ops[i, 1]] += ops[i, 2]
        elif kind == K_WAIT:
            if sig[ops[i, 1]] < ops[i, 2]:
                return
        elif kind == K_STAMP:
            stamp[ops[i, 1]] = t
        elif kind == K_DELAY or kind == K_IDLE:
            if ch[k, C_UNTIL] < 0:
                ch[k, C_UNTIL] = t + ops[i, 1]
            if t < ch[k, C_UNTIL]:
                return
            ch[k, C_UNTIL] = -1
        else:
            if ch[k, C_POS] < ops[i, 2] or ch[k, C_PENDING] > 0:
                return
            ch[k, C_POS] = 0
        ch[k, C_PC] = i + 1


@njit(cache=True)
def acc_issue(acc, aport, ops, ch, sig, stamp, t, req_t, tb, nbanks, interleave):
    """Issue step of cycle ``t`` (once per cycle): advance every channel, then hand the free
    ports to the channels that can start a wide access; requests compete at ``req_t``."""
    if acc[A_T] == t:
        return
    acc[A_T] = t
    nch = ch.shape[0]
    for k in range(nch):
        _advance(ops, ch, sig, stamp, k, t)
    # a second pass lets a channel see a signal raised by a later channel in this cycle
    for k in range(nch):
        _advance(ops, ch, sig, stamp, k, t)
    nports = acc[A_NPORTS]
    done = True
    for k in range(nch):
        if ch[k, C_PC] < ch[k, C_END] or ch[k, C_PENDING] > 0:
            done = False
    if done:
        acc[A_ACTIVE] = 2
        acc[A_END] = t
        return
    first = acc[A_RR]
    served = -1
    for j in range(nch):
        k = (first + j) % nch
        if ch[k, C_PC] >= ch[k, C_END] or ch[k, C_PENDING] > 0:
            continue
        i = ch[k, C_PC]
        kind = ops[i, 0]
        if kind != K_READ and kind != K_WRITE:
            continue
        nbytes = ops[i, 2]
        for p in range(nports):
            if ch[k, C_POS] >= nbytes:
                break
            if aport[p, AP_PEND] >= 0:
                continue
            pos = ch[k, C_POS]
            a = ops[i, 1] + pos
            n = min(4 - (a & 3), nbytes - pos)
            aport[p, AP_PEND] = req_t
            aport[p, AP_BANK] = ((a - tb) // interleave) % nbanks
            aport[p, AP_ADDR] = a
            aport[p, AP_BYTES] = n
            aport[p, AP_CH] = k
            aport[p, AP_WRITE] = 1 if kind == K_WRITE else 0
            aport[p, AP_DOFF] = ops[i, 3] + pos
            aport[p, AP_GRANT] = -1
            ch[k, C_POS] = pos + n
            ch[k, C_PENDING] += 1
        if served < 0:
            served = k
    if served >= 0:
        acc[A_RR] = (served + 1) % nch


@njit(cache=True)
def acc_grants(mem, acc, aport, ops, ch, data, t):
    """Complete the words granted at cycle ``t`` (writes reach memory now)."""
    any_grant = False
    for p in range(acc[A_NPORTS]):
        if aport[p, AP_GRANT] != t:
            continue
        any_grant = True
        n = aport[p, AP_BYTES]
        if aport[p, AP_WRITE] != 0:
            o = translate(mem, aport[p, AP_ADDR], n)
            d = aport[p, AP_DOFF]
            for j in range(n):
                write_mem(mem, o + j, 1, data[d + j])
            acc[A_WORDS_WRITTEN] += 1
            acc[A_BYTES_WRITTEN] += n
        else:
            acc[A_WORDS_READ] += 1
            acc[A_BYTES_READ] += n
        k = aport[p, AP_CH]
        ch[k, C_PENDING] -= 1
        aport[p, AP_PEND] = -1
        aport[p, AP_GRANT] = -1
    if any_grant:
        acc[A_BUSY_CYCLES] += 1
        acc[A_END] = t


@njit(cache=True)
def acc_next(acc, aport, ops, ch, sig, t):
    """Next cycle at which the streamer has something to do (-1: only waits on other agents)."""
    if acc[A_ACTIVE] == 2:
        return t + 1
    for p in range(acc[A_NPORTS]):
        if aport[p, AP_PEND] >= 0:
            return t + 1
    best = -1
    for k in range(ch.shape[0]):
        if ch[k, C_PC] >= ch[k, C_END]:
            continue
        i = ch[k, C_PC]
        kind = ops[i, 0]
        if kind == K_DELAY or kind == K_IDLE:
            u = ch[k, C_UNTIL]
            nt = u if u > t else t + 1
        elif kind == K_WAIT:
            if sig[ops[i, 1]] < ops[i, 2]:
                continue
            nt = t + 1
        else:
            nt = t + 1
        if best < 0 or nt < best:
            best = nt
    if best < 0:
        # every channel finished (the completion is seen in the next issue step) or waits
        finished = True
        for k in range(ch.shape[0]):
            if ch[k, C_PC] < ch[k, C_END]:
                finished = False
        if finished:
            return t + 1
    return best
