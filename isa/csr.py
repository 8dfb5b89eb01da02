"""CSR numbers and names of the modelled CV32E40P (RI5CY, astral-v1.0) core."""
from __future__ import annotations

CSR_NAMES: dict[int, str] = {
    0x300: "mstatus", 0x301: "misa", 0x304: "mie", 0x305: "mtvec", 0x320: "mcountinhibit",
    0x340: "mscratch", 0x341: "mepc", 0x342: "mcause", 0x343: "mtval", 0x344: "mip",
    0xB00: "mcycle", 0xB02: "minstret", 0xB80: "mcycleh", 0xB82: "minstreth",
    0xC00: "cycle", 0xC01: "time", 0xC02: "instret", 0xC80: "cycleh", 0xC81: "timeh",
    0xC82: "instreth",
    0xF11: "mvendorid", 0xF12: "marchid", 0xF13: "mimpid", 0xF14: "mhartid",
    0x7B0: "dcsr", 0x7B1: "dpc", 0x7B2: "dscratch0", 0x7B3: "dscratch1",
    # XpulpV2 custom CSRs (cv32e40p astral-v1.0): hardware-loop registers and uhartid.
    0x800: "lpstart0", 0x801: "lpend0", 0x802: "lpcount0",
    0x804: "lpstart1", 0x805: "lpend1", 0x806: "lpcount1",
    0xCC0: "uhartid",
}
for _n in range(3, 32):
    CSR_NAMES[0xB00 + _n] = f"mhpmcounter{_n}"
    CSR_NAMES[0xB80 + _n] = f"mhpmcounter{_n}h"
    CSR_NAMES[0x320 + _n] = f"mhpmevent{_n}"
CSR_NUMBERS: dict[str, int] = {v: k for k, v in CSR_NAMES.items()}

#: CSRs whose access costs 4 cycles on CV32E40P (the "status" CSRs; system-facts section 2).
SLOW_CSRS: frozenset[int] = frozenset(
    [0x300, 0x341, 0x305, 0x342, 0xB00, 0xB02, 0xB80, 0xB82, 0x320, 0x7B0, 0x7B1, 0x7B2, 0x7B3,
     0xC00, 0xC02, 0xC80, 0xC82]
    + [0xB00 + n for n in range(3, 32)] + [0xB80 + n for n in range(3, 32)]
    + [0x320 + n for n in range(3, 32)]
)


def csr_name(num: int) -> str:
    """Name of CSR ``num`` or its hex number."""
    return CSR_NAMES.get(num, f"0x{num:03x}")
