"""Numpy reference of the quantised (int8) layer operators: the golden model of every kernel,
accelerator and workload in hetsoc.

One definition per operator, in integer arithmetic only, so results are bit-exact and
platform-independent.  Layout conventions: activations are HWC (``[H, W, C]``) unless a function
says CHW; pointwise/conv weights are ``[Cout, Kh, Kw, Cin]`` (a filter is contiguous in the HWC
order of the patch it multiplies, as in the IMA's virtual im2col and in PULP-NN); depthwise
weights are ``[C, 3, 3]``; fully-connected weights are ``[N, K]``.

Requantisation (cores, the depthwise accelerator): ``y = clip((acc + bias) >> shift, lo, 127)``
with an arithmetic (floor) shift, ``lo = 0`` with ReLU and -128 without.  The residual add is
``y = clip((a * mul_a + b * mul_b) >> shift, lo, 127)``; average pooling is
``y = clip((sum * mul) >> shift, lo, 127)`` over the window.
"""
from __future__ import annotations

import numpy as np

INT8_MIN = -128
INT8_MAX = 127


class ShapeError(ValueError):
    """Operands whose shapes or parameters do not fit the operator."""


def requantize(acc: np.ndarray, shift: int, relu: bool = False) -> np.ndarray:
    """int32/int64 accumulators -> int8: arithmetic right shift by ``shift``, then clip to
    [0, 127] with ReLU or [-128, 127] without."""
    if not 0 <= shift <= 31:
        raise ShapeError(f"shift = {shift}: allowed 0..31")
    y = np.asarray(acc, np.int64) >> shift
    return np.clip(y, 0 if relu else INT8_MIN, INT8_MAX).astype(np.int8)


def out_size(n: int, k: int, stride: int, pad: int) -> int:
    """Output length of a convolution along one axis (``pad`` zeros on both sides)."""
    if stride < 1 or pad < 0 or n + 2 * pad < k:
        raise ShapeError(f"axis of {n} with kernel {k}, stride {stride}, pad {pad}: no output")
    return (n + 2 * pad - k) // stride + 1


def _pad_hwc(x: np.ndarray, pad: int) -> np.ndarray:
    return np.pad(np.asarray(x, np.int64), ((pad, pad), (pad, pad), (0, 0)))


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """HWC int8 image -> ``[Ho*Wo, kh*kw*C]`` patches, each in (ky, kx, c) order, zero padding."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ShapeError(f"im2col wants an HWC array, got shape {x.shape}")
    h, w, c = x.shape
    ho, wo = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    cols = np.empty((ho, wo, kh, kw, c), x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            cols[:, :, ky, kx, :] = xp[ky:ky + stride * ho:stride, kx:kx + stride * wo:stride, :]
    return cols.reshape(ho * wo, kh * kw * c)


def conv2d_acc(x: np.ndarray, w: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Integer accumulators of a dense convolution: HWC ``x``, ``w[Cout, Kh, Kw, Cin]`` ->
    int64 ``[Ho, Wo, Cout]`` (no bias, no requantisation)."""
    w = np.asarray(w)
    if w.ndim != 4 or np.asarray(x).ndim != 3 or w.shape[3] != np.asarray(x).shape[2]:
        raise ShapeError(f"conv2d: input {np.shape(x)} and weights {w.shape} do not match "
                         "(HWC input, [Cout, Kh, Kw, Cin] weights)")
    cout, kh, kw, _ = w.shape
    h, wd, _ = np.shape(x)
    ho, wo = out_size(h, kh, stride, pad), out_size(wd, kw, stride, pad)
    cols = im2col(x, kh, kw, stride, pad).astype(np.int64)
    return (cols @ w.reshape(cout, -1).astype(np.int64).T).reshape(ho, wo, cout)


def conv2d(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           pad: int = 0, shift: int = 0, relu: bool = False) -> np.ndarray:
    """Quantised dense convolution (pointwise when Kh = Kw = 1): HWC int8 in and out."""
    acc = conv2d_acc(x, w, stride, pad)
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return requantize(acc, shift, relu)


def matmul(a: np.ndarray, bt: np.ndarray, bias: np.ndarray | None = None, shift: int = 0,
           relu: bool = False) -> np.ndarray:
    """``a[M, K] @ bt[N, K]^T`` -> requantised int8 ``[M, N]`` (a pointwise layer with M pixels)."""
    a = np.asarray(a, np.int64)
    bt = np.asarray(bt, np.int64)
    if a.ndim != 2 or bt.ndim != 2 or a.shape[1] != bt.shape[1]:
        raise ShapeError(f"matmul: shapes {a.shape} and {bt.shape} (want [M, K] and [N, K])")
    acc = a @ bt.T
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return requantize(acc, shift, relu)


def fully_connected(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None,
                    shift: int = 0, relu: bool = False) -> np.ndarray:
    """``w[N, K] @ x[K]`` (+ bias) -> requantised int8 ``[N]``."""
    return matmul(np.asarray(x).reshape(1, -1), w, bias, shift, relu).reshape(-1)


def depthwise_acc(x: np.ndarray, w: np.ndarray, stride: int = 1, pad: int = 1) -> np.ndarray:
    """Integer accumulators of a depthwise convolution: HWC ``x[H, W, C]``, ``w[C, Kh, Kw]``."""
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 3 or w.ndim != 3 or w.shape[0] != x.shape[2]:
        raise ShapeError(f"depthwise: input {x.shape} and weights {w.shape} do not match "
                         "(HWC input, [C, Kh, Kw] weights)")
    _, kh, kw = w.shape
    h, wd, c = x.shape
    ho, wo = out_size(h, kh, stride, pad), out_size(wd, kw, stride, pad)
    xp = _pad_hwc(x, pad)
    acc = np.zeros((ho, wo, c), np.int64)
    for ky in range(kh):
        for kx in range(kw):
            acc += xp[ky:ky + stride * ho:stride, kx:kx + stride * wo:stride, :] * \
                w[:, ky, kx].astype(np.int64)
    return acc


def depthwise(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
              pad: int = 1, shift: int = 0, relu: bool = False) -> np.ndarray:
    """Quantised depthwise convolution, HWC int8 in and out."""
    acc = depthwise_acc(x, w, stride, pad)
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return requantize(acc, shift, relu)


def residual_add(a: np.ndarray, b: np.ndarray, mul_a: int = 1, mul_b: int = 1, shift: int = 0,
                 relu: bool = False) -> np.ndarray:
    """Element-wise ``clip((a * mul_a + b * mul_b) >> shift)`` of two int8 tensors."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    if a.shape != b.shape:
        raise ShapeError(f"residual add: shapes {a.shape} and {b.shape} differ")
    return requantize(a * mul_a + b * mul_b, shift, relu)


def avgpool(x: np.ndarray, k: int, stride: int | None = None, mul: int = 1, shift: int = 0,
            relu: bool = False) -> np.ndarray:
    """Average pooling of an HWC tensor over k x k windows (no padding):
    ``clip((sum * mul) >> shift)``; ``mul``/``shift`` approximate 1 / k^2."""
    x = np.asarray(x)
    stride = k if stride is None else stride
    h, w, c = x.shape
    ho, wo = out_size(h, k, stride, 0), out_size(w, k, stride, 0)
    acc = np.zeros((ho, wo, c), np.int64)
    for ky in range(k):
        for kx in range(k):
            acc += x[ky:ky + stride * ho:stride, kx:kx + stride * wo:stride, :].astype(np.int64)
    return requantize(acc * mul, shift, relu)


def hwc_to_chw(x: np.ndarray) -> np.ndarray:
    """``[H, W, C]`` -> ``[C, H, W]`` (the marshaling between the IMA and CHW core kernels)."""
    return np.ascontiguousarray(np.transpose(np.asarray(x), (2, 0, 1)))


def chw_to_hwc(x: np.ndarray) -> np.ndarray:
    """``[C, H, W]`` -> ``[H, W, C]``."""
    return np.ascontiguousarray(np.transpose(np.asarray(x), (1, 2, 0)))
