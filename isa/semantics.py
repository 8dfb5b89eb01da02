"""Numba helper functions used by the instructions' semantics snippets (see ``isa.spec``).

Register values travel as signed 32-bit quantities held in int64.  Every helper returns a
value in that convention unless its name says otherwise (``u32`` returns the unsigned view).
All helpers are pure and allocation-free; LLVM inlines them into the generated dispatch (Numba's
IR-level inlining is avoided: it multiplies compile time).
"""
from __future__ import annotations

from numba import njit

_J = dict(cache=True)


@njit(**_J)
def s32(x: int) -> int:
    """Wrap an integer to signed 32 bits."""
    x = x & 0xFFFFFFFF
    return x - 0x100000000 if x & 0x80000000 else x


@njit(**_J)
def u32(x: int) -> int:
    """Unsigned view of a 32-bit value."""
    return x & 0xFFFFFFFF


@njit(**_J)
def sext(x: int, bits: int) -> int:
    """Sign-extend the low ``bits`` bits of ``x``."""
    m = (1 << bits) - 1
    x = x & m
    return x - (1 << bits) if (x >> (bits - 1)) & 1 else x


@njit(**_J)
def mulh(a: int, b: int) -> int:
    """Upper 32 bits of signed x signed."""
    return s32((a * b) >> 32)


@njit(**_J)
def mulhsu(a: int, b: int) -> int:
    """Upper 32 bits of signed x unsigned."""
    return s32((a * (b & 0xFFFFFFFF)) >> 32)


@njit(**_J)
def mulhu(a: int, b: int) -> int:
    """Upper 32 bits of unsigned x unsigned, without overflowing int64."""
    a = a & 0xFFFFFFFF
    b = b & 0xFFFFFFFF
    return s32(((a >> 16) * b + (((a & 0xFFFF) * b) >> 16)) >> 16)


@njit(**_J)
def div(a: int, b: int) -> int:
    """RISC-V signed division (round toward zero; /0 -> -1; overflow -> -2**31)."""
    if b == 0:
        return -1
    if a == -0x80000000 and b == -1:
        return -0x80000000
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


@njit(**_J)
def rem(a: int, b: int) -> int:
    """RISC-V signed remainder (sign of the dividend; %0 -> a; overflow -> 0)."""
    if b == 0:
        return a
    if a == -0x80000000 and b == -1:
        return 0
    r = abs(a) % abs(b)
    return -r if a < 0 else r


@njit(**_J)
def divu(a: int, b: int) -> int:
    """RISC-V unsigned division (/0 -> all ones)."""
    b = b & 0xFFFFFFFF
    if b == 0:
        return -1
    return s32((a & 0xFFFFFFFF) // b)


@njit(**_J)
def remu(a: int, b: int) -> int:
    """RISC-V unsigned remainder (%0 -> a)."""
    b = b & 0xFFFFFFFF
    if b == 0:
        return a
    return s32((a & 0xFFFFFFFF) % b)


@njit(**_J)
def clz32(x: int) -> int:
    """Count leading zeros of a 32-bit value (32 for zero)."""
    x = x & 0xFFFFFFFF
    if x == 0:
        return 32
    n = 0
    if x <= 0x0000FFFF:
        n += 16
        x <<= 16
    if x <= 0x00FFFFFF:
        n += 8
        x <<= 8
    if x <= 0x0FFFFFFF:
        n += 4
        x <<= 4
    if x <= 0x3FFFFFFF:
        n += 2
        x <<= 2
    if x <= 0x7FFFFFFF:
        n += 1
    return n


@njit(**_J)
def popcount32(x: int) -> int:
    """Number of set bits of a 32-bit value."""
    x = x & 0xFFFFFFFF
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & 0xFFFFFFFF) >> 24
