"""Numba helpers for the XpulpV2 semantics snippets (``isa.xpulpv2``).

Conventions are those of ``isa.semantics``: register values are signed 32-bit quantities held in
int64 and every helper returns a value in that convention.  SIMD helpers take the lane width
``w`` (16 for ``.h``, 8 for ``.b``) as their last argument; snippets pass it as a literal, so
after inlining the lane loops unroll and the width arithmetic folds away.  Everything is scalar
and allocation-free.  All public names start with ``xp_`` so that they cannot collide with the
names of ``isa.semantics`` in the generated simulator's namespace.

Behaviours follow the RI5CY / CV32E40P RTL (pulp-platform/cv32e40p ``astral-v1.0``) where it
differs from the ISA manuals:

* ``pv.avg``/``pv.avgu`` shift the *wrapped* lane sum (the carry is dropped); ``pv.avg`` shifts
  arithmetically, ``pv.avgu`` logically.
* SIMD shift amounts are taken modulo the lane width (the shifter uses the low 4 / 3 bits of
  each lane of operand b).
* ``p.clip rd, rs1, rs2`` clips to ``[~rs2, rs2]`` (``~b = -(b + 1)``): ``~b`` if ``a <= ~b``,
  else ``min(a, b)``; ``p.clipu`` gives 0 for ``a <= 0``, else ``min(a, b)``.  The immediate
  forms use ``b = (2**Is2 - 1) >> 1`` (so ``Is2 = 0`` gives ``b = 0``).
* ``p.ff1``/``p.fl1`` of zero return 32; ``p.clb`` of zero returns 0.
"""
from __future__ import annotations

from numba import njit

from .semantics import clz32, popcount32, s32, sext, u32

_J = dict(cache=True)


# --- lanes -----------------------------------------------------------------------------------

@njit(**_J)
def xp_lane(x: int, i: int, w: int) -> int:
    """Signed lane ``i`` (width ``w``) of ``x``."""
    return sext(x >> (i * w), w)


@njit(**_J)
def xp_ulane(x: int, i: int, w: int) -> int:
    """Unsigned lane ``i`` (width ``w``) of ``x``."""
    return (x >> (i * w)) & ((1 << w) - 1)


@njit(**_J)
def xp_splat(x: int, w: int) -> int:
    """The low ``w`` bits of ``x`` replicated into every lane (``.sc``/``.sci`` operand b)."""
    v = x & ((1 << w) - 1)
    r = 0
    for i in range(32 // w):
        r |= v << (i * w)
    return s32(r)


@njit(**_J)
def xp_lane_ones(cond: bool, w: int) -> int:
    """All ones in a lane when ``cond`` holds, else zero (unshifted)."""
    return ((1 << w) - 1) if cond else 0


# --- lane-wise arithmetic --------------------------------------------------------------------

@njit(**_J)
def xp_vadd(a: int, b: int, w: int) -> int:
    """``pv.add``: lane-wise wrapping addition."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        r |= ((xp_ulane(a, i, w) + xp_ulane(b, i, w)) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vsub(a: int, b: int, w: int) -> int:
    """``pv.sub``: lane-wise wrapping subtraction."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        r |= ((xp_ulane(a, i, w) - xp_ulane(b, i, w)) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vavg(a: int, b: int, w: int) -> int:
    """``pv.avg``: wrapped lane sum shifted right arithmetically by one (carry dropped)."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        t = sext(xp_ulane(a, i, w) + xp_ulane(b, i, w), w)
        r |= ((t >> 1) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vavgu(a: int, b: int, w: int) -> int:
    """``pv.avgu``: wrapped lane sum shifted right logically by one (carry dropped)."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        t = (xp_ulane(a, i, w) + xp_ulane(b, i, w)) & m
        r |= (t >> 1) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vmin(a: int, b: int, w: int) -> int:
    """``pv.min``: lane-wise signed minimum."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        x = xp_lane(a, i, w)
        y = xp_lane(b, i, w)
        r |= ((x if x < y else y) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vminu(a: int, b: int, w: int) -> int:
    """``pv.minu``: lane-wise unsigned minimum."""
    r = 0
    for i in range(32 // w):
        x = xp_ulane(a, i, w)
        y = xp_ulane(b, i, w)
        r |= (x if x < y else y) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vmax(a: int, b: int, w: int) -> int:
    """``pv.max``: lane-wise signed maximum."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        x = xp_lane(a, i, w)
        y = xp_lane(b, i, w)
        r |= ((x if x > y else y) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vmaxu(a: int, b: int, w: int) -> int:
    """``pv.maxu``: lane-wise unsigned maximum."""
    r = 0
    for i in range(32 // w):
        x = xp_ulane(a, i, w)
        y = xp_ulane(b, i, w)
        r |= (x if x > y else y) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vsrl(a: int, b: int, w: int) -> int:
    """``pv.srl``: lane-wise logical right shift by ``b`` lane mod ``w``."""
    r = 0
    for i in range(32 // w):
        r |= (xp_ulane(a, i, w) >> (xp_ulane(b, i, w) & (w - 1))) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vsra(a: int, b: int, w: int) -> int:
    """``pv.sra``: lane-wise arithmetic right shift by ``b`` lane mod ``w``."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        r |= ((xp_lane(a, i, w) >> (xp_ulane(b, i, w) & (w - 1))) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vsll(a: int, b: int, w: int) -> int:
    """``pv.sll``: lane-wise left shift by ``b`` lane mod ``w``."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        r |= ((xp_ulane(a, i, w) << (xp_ulane(b, i, w) & (w - 1))) & m) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vabs(a: int, w: int) -> int:
    """``pv.abs``: lane-wise absolute value (the most negative lane value stays as is)."""
    r = 0
    m = (1 << w) - 1
    for i in range(32 // w):
        x = xp_lane(a, i, w)
        r |= ((x if x >= 0 else -x) & m) << (i * w)
    return s32(r)


# --- lane-wise comparisons (all ones in a lane where true) -----------------------------------

@njit(**_J)
def xp_vcmpeq(a: int, b: int, w: int) -> int:
    """``pv.cmpeq``."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) == xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpne(a: int, b: int, w: int) -> int:
    """``pv.cmpne``."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) != xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpgt(a: int, b: int, w: int) -> int:
    """``pv.cmpgt`` (signed)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_lane(a, i, w) > xp_lane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpge(a: int, b: int, w: int) -> int:
    """``pv.cmpge`` (signed)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_lane(a, i, w) >= xp_lane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmplt(a: int, b: int, w: int) -> int:
    """``pv.cmplt`` (signed)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_lane(a, i, w) < xp_lane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmple(a: int, b: int, w: int) -> int:
    """``pv.cmple`` (signed)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_lane(a, i, w) <= xp_lane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpgtu(a: int, b: int, w: int) -> int:
    """``pv.cmpgtu`` (unsigned)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) > xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpgeu(a: int, b: int, w: int) -> int:
    """``pv.cmpgeu`` (unsigned)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) >= xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpltu(a: int, b: int, w: int) -> int:
    """``pv.cmpltu`` (unsigned)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) < xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vcmpleu(a: int, b: int, w: int) -> int:
    """``pv.cmpleu`` (unsigned)."""
    r = 0
    for i in range(32 // w):
        r |= xp_lane_ones(xp_ulane(a, i, w) <= xp_ulane(b, i, w), w) << (i * w)
    return s32(r)


# --- dot products ----------------------------------------------------------------------------

@njit(**_J)
def xp_vdot(a: int, b: int, w: int, a_signed: bool, b_signed: bool) -> int:
    """Sum over lanes of ``a[i] * b[i]`` (not wrapped; the caller adds the accumulator).

    ``a_signed``/``b_signed`` select signed or unsigned lanes: dotup (F, F), dotusp (F, T),
    dotsp (T, T).
    """
    acc = 0
    for i in range(32 // w):
        x = xp_lane(a, i, w) if a_signed else xp_ulane(a, i, w)
        y = xp_lane(b, i, w) if b_signed else xp_ulane(b, i, w)
        acc += x * y
    return acc


# --- lane moves ------------------------------------------------------------------------------

@njit(**_J)
def xp_vextract(a: int, idx: int, w: int) -> int:
    """``pv.extract``: lane ``idx`` (mod number of lanes), sign-extended."""
    return xp_lane(a, idx & (32 // w - 1), w)


@njit(**_J)
def xp_vextractu(a: int, idx: int, w: int) -> int:
    """``pv.extractu``: lane ``idx`` (mod number of lanes), zero-extended."""
    return xp_ulane(a, idx & (32 // w - 1), w)


@njit(**_J)
def xp_vinsert(d: int, a: int, idx: int, w: int) -> int:
    """``pv.insert``: ``d`` with lane ``idx`` (mod lanes) replaced by the low lane of ``a``."""
    sh = (idx & (32 // w - 1)) * w
    m = ((1 << w) - 1) << sh
    return s32((d & ~m) | ((a << sh) & m))


@njit(**_J)
def xp_vshuffle(a: int, sel: int, w: int) -> int:
    """``pv.shuffle``: lane ``i`` of the result is lane ``sel[i] mod lanes`` of ``a``."""
    r = 0
    n = 32 // w
    for i in range(n):
        r |= xp_ulane(a, xp_ulane(sel, i, w) & (n - 1), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_vshuffle2(d: int, a: int, sel: int, w: int) -> int:
    """``pv.shuffle2``: lane ``i`` comes from ``a`` if bit log2(lanes) of ``sel[i]`` is set,
    else from ``d`` (the old rd); the low bits of ``sel[i]`` pick the lane."""
    r = 0
    n = 32 // w
    for i in range(n):
        s = xp_ulane(sel, i, w)
        src = a if (s & n) != 0 else d
        r |= xp_ulane(src, s & (n - 1), w) << (i * w)
    return s32(r)


@njit(**_J)
def xp_shuffle_sel_h(imm: int) -> int:
    """Selector word of ``pv.shuffle.sci.h``: lane 0 <- imm bit 0, lane 1 <- imm bit 1."""
    return (imm & 1) | (((imm >> 1) & 1) << 16)


@njit(**_J)
def xp_shuffle_sel_b(imm: int, k: int) -> int:
    """Selector word of ``pv.shuffleI<k>.sci.b``: lanes 0..2 from the 2-bit fields of the
    6-bit immediate, lane 3 from the mnemonic's ``k``."""
    return (imm & 3) | (((imm >> 2) & 3) << 8) | (((imm >> 4) & 3) << 16) | ((k & 3) << 24)


@njit(**_J)
def xp_pack_h(a: int, b: int) -> int:
    """``pv.pack.h``: ``{a[15:0], b[15:0]}``."""
    return s32(((a & 0xFFFF) << 16) | (b & 0xFFFF))


@njit(**_J)
def xp_packhi_b(d: int, a: int, b: int) -> int:
    """``pv.packhi.b``: ``{a[7:0], b[7:0], d[15:0]}``."""
    return s32(((a & 0xFF) << 24) | ((b & 0xFF) << 16) | (d & 0xFFFF))


@njit(**_J)
def xp_packlo_b(d: int, a: int, b: int) -> int:
    """``pv.packlo.b``: ``{d[31:16], a[7:0], b[7:0]}``."""
    return s32((d & ~0xFFFF) | ((a & 0xFF) << 8) | (b & 0xFF))


# --- scalar ALU ------------------------------------------------------------------------------

@njit(**_J)
def xp_clip(a: int, b: int) -> int:
    """``p.clip``/``p.clipi`` as the RTL computes it: ``~b`` if ``a <= ~b``, else min(a, b)."""
    nb = ~b
    if a <= nb:
        return nb
    return a if a < b else b


@njit(**_J)
def xp_clipu(a: int, b: int) -> int:
    """``p.clipu``/``p.clipui``: 0 if ``a <= 0``, else min(a, b) (signed compare)."""
    if a <= 0:
        return 0
    return a if a < b else b


@njit(**_J)
def xp_clip_bound(n: int) -> int:
    """Upper bound of ``p.clipi``/``p.clipui`` for the 5-bit immediate ``n``: 2**(n-1) - 1."""
    return ((1 << n) - 1) >> 1


@njit(**_J)
def xp_ff1(a: int) -> int:
    """``p.ff1``: index of the lowest set bit, 32 if none."""
    x = a & 0xFFFFFFFF
    if x == 0:
        return 32
    return 31 - clz32(x & -x)


@njit(**_J)
def xp_fl1(a: int) -> int:
    """``p.fl1``: index of the highest set bit, 32 if none."""
    x = a & 0xFFFFFFFF
    if x == 0:
        return 32
    return 31 - clz32(x)


@njit(**_J)
def xp_clb(a: int) -> int:
    """``p.clb``: number of leading bits equal to the sign bit, minus one; 0 for zero."""
    x = a & 0xFFFFFFFF
    if x == 0:
        return 0
    if x & 0x80000000:
        x = ~x & 0xFFFFFFFF
    return clz32(x) - 1


@njit(**_J)
def xp_cnt(a: int) -> int:
    """``p.cnt``: population count."""
    return popcount32(a)


@njit(**_J)
def xp_ror(a: int, n: int) -> int:
    """``p.ror``: rotate right by ``n mod 32``."""
    x = a & 0xFFFFFFFF
    k = n & 31
    return s32((x >> k) | (x << (32 - k)))


# --- bit fields (Is3 = field size - 1, Is2 = field offset) -----------------------------------

@njit(**_J)
def xp_bmask(s3: int, s2: int) -> int:
    """Mask of ``s3 + 1`` ones starting at bit ``s2`` (truncated to 32 bits)."""
    return (((1 << ((s3 & 31) + 1)) - 1) << (s2 & 31)) & 0xFFFFFFFF


@njit(**_J)
def xp_bextract(a: int, s3: int, s2: int) -> int:
    """``p.extract``: bits ``[s2 + s3 : s2]`` of ``a``, sign-extended from bit ``s3``."""
    n = (s3 & 31) + 1
    return sext(a >> (s2 & 31), n)


@njit(**_J)
def xp_bextractu(a: int, s3: int, s2: int) -> int:
    """``p.extractu``: bits ``[s2 + s3 : s2]`` of ``a``, zero-extended."""
    n = (s3 & 31) + 1
    return s32(((a & 0xFFFFFFFF) >> (s2 & 31)) & ((1 << n) - 1))


@njit(**_J)
def xp_binsert(d: int, a: int, s3: int, s2: int) -> int:
    """``p.insert``: the low ``s3 + 1`` bits of ``a`` written into ``d`` at bit ``s2``."""
    m = xp_bmask(s3, s2)
    return s32(((a << (s2 & 31)) & m) | (d & ~m))


@njit(**_J)
def xp_bclr(a: int, s3: int, s2: int) -> int:
    """``p.bclr``: clear ``s3 + 1`` bits of ``a`` from bit ``s2``."""
    return s32(a & ~xp_bmask(s3, s2))


@njit(**_J)
def xp_bset(a: int, s3: int, s2: int) -> int:
    """``p.bset``: set ``s3 + 1`` bits of ``a`` from bit ``s2``."""
    return s32(a | xp_bmask(s3, s2))


# --- 16-bit multiplies and normalisation (opcode 0x5B) ---------------------------------------

@njit(**_J)
def xp_half(x: int, hi: bool, is_signed: bool) -> int:
    """Half-word of ``x`` (upper if ``hi``), sign- or zero-extended."""
    h = (x >> 16) if hi else x
    return sext(h, 16) if is_signed else (h & 0xFFFF)


@njit(**_J)
def xp_norm(x: int, n: int, is_signed: bool, rnd: bool) -> int:
    """Add the rounding constant 2**(n-1) (if ``rnd`` and n > 0), wrap to 32 bits and shift
    right by ``n`` (arithmetic if ``is_signed``): the tail of p.mulN/p.macN/p.addN/p.subN."""
    k = n & 31
    if rnd:
        x = x + (((1 << k)) >> 1)
    if is_signed:
        return s32(x) >> k
    return s32(u32(x) >> k)


__all__ = sorted(n for n in list(globals()) if n.startswith("xp_"))
