"""Generate the Numba-compiled instruction-set simulator from the instruction tables.

Every 32-bit instruction in ``isa.tables.EXEC`` contributes its ``sem`` snippet to one leaf of a
binary dispatch tree over the op id, so each behaviour is written once (in the table) and the
dispatch covers the table exactly (checked here at generation time).  The generated module is
written to a cache directory named by the hash of its source and imported from there, so that
Numba's on-disk cache (``cache=True``) survives between processes: only the first run on a
machine pays the compile time.

The generated ``run`` executes instructions of one core until a stop condition (see
``soc.core_state.STOP_*``), a cycle limit or an instruction budget, applying the timing rules of
``soc.core_timing``.  It is the inner loop of both ``hetsoc exec`` and the cluster engine.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import textwrap
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from isa.tables import EXEC, OP_ID, exec_instr

HELPER_MODULES = ("isa.semantics", "isa.xpulp_semantics")
#: Modules whose compiled code ends up inside the generated module.  Numba's cache only checks
#: the generated file itself, so their source is hashed into it: editing any of them yields a
#: new module (and a fresh compile) instead of stale cached machine code.
DEPENDENCIES = HELPER_MODULES + ("isa.decoder", "isa.tables", "soc.memory", "soc.core_csr",
                                 "soc.core_timing", "soc.core_state", "soc.cluster_state", "soc.stream_engine",
                                 "soc.core_codegen")


def cache_dir() -> Path:
    """Where generated modules (and their Numba caches) live."""
    d = os.environ.get("HETSOC_CACHE_DIR")
    path = Path(d) if d else Path.home() / ".cache" / "hetsoc"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _split_args(s: str) -> list[str]:
    """Split a macro argument list on top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


_MACRO = re.compile(r"^(\s*)(?:(\w+)\s*=\s*)?(LOAD|STORE|CSR|TRAP|MRET)\((.*)\)\s*$")


_NPC = re.compile(r"^(\s*)npc\s*=(?!=)")


def _expand_line(line: str) -> list[str]:
    m = _MACRO.match(line)
    if not m:
        jm = _NPC.match(line)
        # Any control transfer sets ``taken`` (a branch to the next address is still taken).
        return [line, f"{jm.group(1)}taken = 1"] if jm else [line]
    ind, target, macro, args = m.group(1), m.group(2), m.group(3), _split_args(m.group(4))
    if macro == "LOAD":
        addr, size, signed = args
        return [ind + s for s in (
            f"_a = ({addr}) & 0xFFFFFFFF",
            f"_r = region_index(mem, _a, {size})",
            "if _r >= 0 and mem.off[_r] >= 0:",
            f"    {target} = read_mem(mem, mem.off[_r] + _a - mem.base[_r], {size}, {signed})",
            f"    mis = is_misaligned(_a, {size})",
            "    lat = mem.lat[_r]",
            "elif st.mmio[c, MMIO_READY] != 0:",
            f"    {target} = st.mmio[c, MMIO_VALUE]",
            "    st.mmio[c, MMIO_READY] = 0",
            "elif _r >= 0:",
            f"    fault = {STOP_MMIO}",
            "    fault_addr = _a",
            "    st.mmio[c, MMIO_ADDR] = _a",
            f"    st.mmio[c, MMIO_INFO] = {size} | (0x200 if ic == IC_ELW else 0)",
            "else:",
            f"    fault = {STOP_LOAD}",
            "    fault_addr = _a",
        )]
    if macro == "STORE":
        addr, size, value = args
        return [ind + s for s in (
            f"_a = ({addr}) & 0xFFFFFFFF",
            "if _a == mem.tohost:",
            f"    stop_after = {STOP_TOHOST}",
            f"    stop_arg = ({value}) & 0xFFFFFFFF",
            "else:",
            f"    _r = region_index(mem, _a, {size})",
            "    if _r >= 0 and mem.off[_r] >= 0:",
            f"        write_mem(mem, mem.off[_r] + _a - mem.base[_r], {size}, {value})",
            f"        mis = is_misaligned(_a, {size})",
            "        lat = mem.lat[_r]",
            "    elif st.mmio[c, MMIO_READY] != 0:",
            "        st.mmio[c, MMIO_READY] = 0",
            "    elif _r >= 0:",
            f"        fault = {STOP_MMIO}",
            "        fault_addr = _a",
            "        st.mmio[c, MMIO_ADDR] = _a",
            f"        st.mmio[c, MMIO_INFO] = {size} | 0x100",
            f"        st.mmio[c, MMIO_VALUE] = ({value}) & 0xFFFFFFFF",
            "    else:",
            f"        fault = {STOP_STORE}",
            "        fault_addr = _a",
        )]
    if macro == "CSR":
        op, num, value, do_write = args
        return [ind + s for s in (
            f"_old, _ok = csr_read(st, c, {num}, now + stall)",
            "if not _ok:",
            "    trap = 2",
            "else:",
            f"    if {do_write}:",
            f"        _v = ({value}) & 0xFFFFFFFF",
            f"        if {op} == 1:",
            "            _v = _old | _v",
            f"        elif {op} == 2:",
            "            _v = _old & ~_v",
            f"        if not csr_write(st, c, {num}, _v, now + stall):",
            "            trap = 2",
            f"    {target} = _old",
        )]
    if macro == "TRAP":
        return [f"{ind}trap = {args[0]}"]
    # MRET
    return [ind + s for s in (
        "npc = st.csr[c, CSR_MEPC]",
        "_ms = st.csr[c, CSR_MSTATUS]",
        "st.csr[c, CSR_MSTATUS] = (_ms & ~0x8) | ((_ms >> 4) & 0x8) | 0x80",
        "is_mret = 1",
        "taken = 1",
    )]


from .core_state import STOP_LOAD_FAULT as STOP_LOAD  # noqa: E402
from .core_state import STOP_MMIO  # noqa: E402
from .core_state import STOP_STORE_FAULT as STOP_STORE  # noqa: E402
from .core_state import STOP_TOHOST  # noqa: E402


def _leaf(ins) -> list[str]:
    body = textwrap.dedent(ins.sem).strip("\n").splitlines() or ["pass"]
    out: list[str] = [f"# {ins.name}: {ins.syntax}"]
    for line in body:
        out.extend(_expand_line(line))
    return out


def _tree(ops: list[tuple[int, list[str]]], indent: int) -> list[str]:
    pad = "    " * indent
    if len(ops) <= 3:
        lines: list[str] = []
        for k, (op, body) in enumerate(ops):
            kw = "if" if k == 0 else "elif"
            lines.append(f"{pad}{kw} op == {op}:")
            lines.extend(f"{pad}    {b}" for b in body)
        return lines
    mid = len(ops) // 2
    return ([f"{pad}if op < {ops[mid][0]}:"] + _tree(ops[:mid], indent + 1)
            + [f"{pad}else:"] + _tree(ops[mid:], indent + 1))


#: Extensions whose pure instructions stay inline in the main loop (the hottest ops).
INLINE_EXTENSIONS = ("rv32i", "rv32m")
_DISPATCH_MARK = re.compile(r"^( *)# @@DISPATCH@@ *$", re.M)
_INSTR_MARK = re.compile(r"^( *)# @@INSTR@@ *$", re.M)
_FRAGMENT_DEF = re.compile(r"^def _instr_fragment\(\):.*\n", re.M)


def _extract_fragment(template: str) -> tuple[str, str]:
    """Split the template into the body of ``_instr_fragment`` (dedented) and the rest."""
    m = _FRAGMENT_DEF.search(template)
    start, end = m.start(), m.end()
    nxt = re.compile(r"^(@njit|def |class )", re.M).search(template, end)
    stop = nxt.start() if nxt else len(template)
    body = [line[4:] if line.startswith("    ") else line
            for line in template[end:stop].rstrip().splitlines()]
    return "\n".join(body), template[:start] + template[stop:]


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())

#: Maximum number of ops per out-of-line function (keeps every function quick to compile).
CHUNK_OPS = 48
_EFFECT = re.compile(r"\b(LOAD|STORE|CSR|TRAP|MRET|npc|st|res2)\b")


def is_pure(ins) -> bool:
    """True if the snippet only computes ``res`` from operands (no memory, control or state)."""
    return not _EFFECT.search(ins.sem)


def _chunk_function(k: int, ops: list[tuple[int, list[str]]]) -> str:
    body = "\n".join(_tree(ops, 1))
    return (f"@njit(cache=True)\n"
            f"def pure_{k}(op, rs1v, rs2v, rs3v, rdv, imm, imm2, pc):\n"
            f"    res = np.int64(0)\n{body}\n    return res\n")


_ACCESS = re.compile(r"\b(LOAD|STORE)\((.*)\)")


def _addr_function() -> str:
    """``addr_of(op, rs1v, rs2v, rs3v, imm) -> (address, size)`` of every load/store op, from
    the same LOAD/STORE macro arguments the dispatch uses (size 0 for other ops)."""
    leaves = []
    for ins in EXEC:
        m = _ACCESS.search(ins.sem)
        if m:
            args = _split_args(m.group(2))
            leaves.append((OP_ID[id(ins)], [f"return {args[0]}, {args[1]}"]))
    leaves.sort()
    body = "\n".join(_tree(leaves, 1))
    return ("@njit(cache=True)\n"
            "def addr_of(op, rs1v, rs2v, rs3v, imm):\n"
            f"{body}\n    return np.int64(0), 0\n")


def generate_source() -> str:
    """Source of the simulator module for the current instruction tables.

    Ops with side effects and the pure RV32IM ops are dispatched inline in ``run``; the other
    pure ops (most of XpulpV2) are dispatched in out-of-line functions of ``CHUNK_OPS`` ops
    each, selected through the ``PURE_CHUNK`` table.
    """
    inline, outline = [], []
    for ins in EXEC:
        if not ins.sem:
            raise ValueError(f"{ins.name} ({ins.ext}) has no semantics snippet")
        entry = (OP_ID[id(ins)], _leaf(ins))
        (outline if is_pure(ins) and ins.ext not in INLINE_EXTENSIONS else inline).append(entry)
    covered = sorted(o for o, _ in inline + outline)
    assert covered == list(range(1, len(EXEC) + 1)), "dispatch must cover the table exactly"
    chunks = [outline[i:i + CHUNK_OPS] for i in range(0, len(outline), CHUNK_OPS)]
    chunk_of = [-1] * (len(EXEC) + 1)
    for k, ch in enumerate(chunks):
        for op, _ in ch:
            chunk_of[op] = k
    calls = [(k, [f"res = pure_{k}(op, rs1v, rs2v, rs3v, rdv, imm, imm2, pc)"])
             for k in range(len(chunks))]
    functions = "\n\n".join([_chunk_function(k, ch) for k, ch in enumerate(chunks)]
                              + [_addr_function()])
    template = (Path(__file__).with_name("core_template.py")).read_text()
    fragment, template = _extract_fragment(template)
    level = len(_DISPATCH_MARK.search(fragment).group(1)) // 4
    pad = "    " * level
    call_tree = [line.replace("op == ", "ch == ").replace("op < ", "ch < ")
                 for line in _tree(calls, level + 1)] if calls else [pad + "    pass"]
    dispatch = "\n".join([pad + "ch = PURE_CHUNK[op]", pad + "if ch >= 0:"] + call_tree
                          + [pad + "else:"] + _tree(inline, level + 1))
    fragment = _DISPATCH_MARK.sub(lambda m: dispatch, fragment)
    template = _INSTR_MARK.sub(lambda m: _indent(fragment, m.group(1)), template)
    imports = "\n".join(f"from {m} import *  # noqa: F401,F403" for m in HELPER_MODULES
                        if importlib.util.find_spec(m) is not None)
    constants = "\n".join(
        [f"{n.upper()}_OP = {OP_ID[id(exec_instr(n))]}" for n in ("div", "rem")]
        + [f"PURE_CHUNK = np.array({chunk_of}, np.int64)", "", "", functions])
    deps = hashlib.sha256()
    for name in DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            deps.update(Path(spec.origin).read_bytes())
    header = f"# generated by soc.core_codegen; dependencies sha256 {deps.hexdigest()}\n"
    return header + template.replace("# @@HELPERS@@", imports).replace("# @@CONSTANTS@@",
                                                                         constants)


@lru_cache(maxsize=None)
def core_module() -> ModuleType:
    """Import (generating on first use) the simulator module for the current tables."""
    src = generate_source()
    digest = hashlib.sha256(src.encode()).hexdigest()[:16]
    name = f"hetsoc_core_{digest}"
    path = cache_dir() / f"{name}.py"
    if not path.exists() or path.read_text() != src:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(src)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
