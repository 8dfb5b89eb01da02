"""pw_conv (kernels/dnn/pointwise.S): bit-exact against soc.qnn.matmul over ragged shapes, ReLU
on/off, several shifts, random bias, unaligned buffers; identical on 1, 2, 4 and 8 cores; the
argument packer's one-line errors."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.kernels_lib import TCDM_BASE, TCDM_END, KernelHarness, pw_args

ARENA = 96 * 1024


@lru_cache(maxsize=None)
def harness(ncores: int) -> KernelHarness:
    return KernelHarness("pointwise", "pw_conv", ARENA, n_cores=ncores)


def run_pw(m, n, k, shift, relu, ncores=8, seed=0, bias_range=4000, offsets=(0, 0, 0),
           arg_cores=None):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b = rng.integers(-bias_range, bias_range + 1, n, dtype=np.int32)
    h = harness(ncores)
    h.reset_alloc()
    pa = h.alloc(m * k + 8) + offsets[0]
    pw = h.alloc(n * k + 8) + offsets[1]
    pb = h.alloc(4 * n)
    po = h.alloc(m * n + 8) + offsets[2]
    guard = b"\x5a" * (m * n + 4)
    args = pw_args(pa, pw, pb, po, m, n, k, shift, relu, arg_cores or ncores)
    r = h.run(args, {pa: a.tobytes(), pw: w.tobytes(), pb: b.tobytes(), po: guard},
              [(po, m * n + 4)])
    raw = r.outputs[0]
    assert raw[m * n:] == guard[m * n:], "pw_conv wrote past the end of out"
    out = np.frombuffer(raw[:m * n], np.int8).reshape(m, n)
    return out, qnn.matmul(a, w, b, shift, relu), r


SHAPES = [  # M, N, K, shift, relu
    (1, 1, 1, 0, False),
    (1, 4, 4, 3, True),
    (2, 4, 8, 5, False),
    (3, 5, 7, 6, True),
    (5, 3, 2, 2, False),
    (7, 6, 3, 1, True),
    (9, 7, 13, 7, False),
    (16, 8, 16, 8, True),
    (17, 13, 22, 9, False),
    (18, 15, 9, 6, True),
    (21, 16, 33, 10, False),
    (24, 12, 12, 4, True),
    (33, 9, 5, 5, False),
    (64, 32, 48, 11, True),
    (40, 20, 64, 12, False),
    (30, 24, 31, 0, False),
    (12, 10, 20, 31, False),
    (8, 8, 128, 9, True),      # K % 64 == 0: the K-rotated path
    (13, 5, 256, 10, False),
    (6, 4, 64, 8, False),
    (3, 12, 192, 9, True),
]


@pytest.mark.parametrize("m,n,k,shift,relu", SHAPES)
def test_bit_exact(m, n, k, shift, relu):
    out, ref, _ = run_pw(m, n, k, shift, relu, seed=m * 1000 + n * 10 + k)
    np.testing.assert_array_equal(out, ref)


# The 4-pixel x 4-channel path (K % 4 == 0, K >= 8) needs >= 4 pixels per core: few cores.
# N % 4 != 0 (leftover channels of pixel quads), M % 4 in 1..3 (pairs / odd pixel after the
# quads), K = 8 (one inner iteration after the peeled one), K % 64 == 0 with K/4 = 16 (kc = 2
# on some cores) and larger, both clip flavours.
SHAPES_4X4 = [  # M, N, K, shift, relu, ncores
    (4, 4, 8, 4, False, 1),
    (20, 10, 8, 5, True, 1),
    (23, 7, 16, 7, False, 2),
    (37, 21, 24, 6, True, 2),
    (19, 13, 64, 9, True, 4),
    (40, 12, 64, 8, False, 8),
    (34, 6, 128, 10, False, 4),
    (66, 9, 384, 11, True, 8),
    (17, 16, 192, 12, False, 2),
]


@pytest.mark.parametrize("m,n,k,shift,relu,ncores", SHAPES_4X4)
def test_bit_exact_4x4(m, n, k, shift, relu, ncores):
    out, ref, _ = run_pw(m, n, k, shift, relu, ncores=ncores, seed=m * 7 + n + k)
    np.testing.assert_array_equal(out, ref)


def test_saturation_4x4():
    for relu in (False, True):
        out, ref, _ = run_pw(16, 11, 32, 4, relu, ncores=2, bias_range=40000, seed=9)
        np.testing.assert_array_equal(out, ref)
        assert (ref == 127).any() and (ref == (0 if relu else -128)).any()


@pytest.mark.parametrize("offsets", [(1, 2, 3), (3, 1, 1)])
def test_unaligned_buffers(offsets):
    out, ref, _ = run_pw(11, 10, 12, 6, False, offsets=offsets)
    np.testing.assert_array_equal(out, ref)
    out, ref, _ = run_pw(13, 10, 16, 6, True, ncores=2, offsets=offsets)   # 4x4 path
    np.testing.assert_array_equal(out, ref)


def test_saturation_both_ways():
    # Large biases drive many outputs into both clip bounds.
    for relu in (False, True):
        out, ref, _ = run_pw(10, 9, 20, 3, relu, bias_range=20000, seed=7)
        np.testing.assert_array_equal(out, ref)
        assert (ref == 127).any() and (ref == (0 if relu else -128)).any()


@pytest.mark.parametrize("m,n,k", [(23, 11, 13), (16, 16, 32), (10, 9, 128), (45, 14, 64)])
def test_core_counts_identical(m, n, k):
    outs = [run_pw(m, n, k, 7, True, ncores=nc, seed=3)[0] for nc in (1, 2, 4, 8)]
    _, ref, _ = run_pw(m, n, k, 7, True, ncores=1, seed=3)
    for o in outs:
        np.testing.assert_array_equal(o, ref)


def test_fewer_cores_than_cluster():
    out, ref, _ = run_pw(19, 9, 10, 5, False, ncores=8, arg_cores=3)
    np.testing.assert_array_equal(out, ref)


def test_eight_cores_faster_than_one():
    _, _, r1 = run_pw(32, 16, 32, 8, False, ncores=1)
    _, _, r8 = run_pw(32, 16, 32, 8, False, ncores=8)
    assert r1.cycles / r8.cycles > 4.0


@pytest.mark.parametrize("kwargs,msg", [
    (dict(inp=0x1C00_0000), "not inside the TCDM"),
    (dict(out=TCDM_END - 10), "not inside the TCDM"),
    (dict(bias=TCDM_BASE + 2), "not 4-byte aligned"),
    (dict(k=0), "pw K = 0"),
    (dict(shift=32), "pw shift = 32"),
    (dict(ncores=0), "pw ncores = 0"),
    (dict(m=2.5), "want an integer"),
])
def test_bad_arguments(kwargs, msg):
    base = dict(inp=TCDM_BASE, w=TCDM_BASE + 0x1000, bias=TCDM_BASE + 0x2000,
                out=TCDM_BASE + 0x3000, m=8, n=8, k=8, shift=0, relu=False, ncores=8)
    base.update(kwargs)
    with pytest.raises(ValueError, match=msg) as e:
        pw_args(**base)
    assert "\n" not in str(e.value)


def _random_shapes(count: int, seed: int = 12345):
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(1, 40)), int(rng.integers(1, 24)), int(rng.integers(1, 70)),
             int(rng.integers(0, 16)), bool(rng.integers(0, 2)), int(rng.integers(1, 9)))
            for _ in range(count)]


@pytest.mark.parametrize("m,n,k,shift,relu,ncores", _random_shapes(24))
def test_random_shapes(m, n, k, shift, relu, ncores):
    out, ref, _ = run_pw(m, n, k, shift, relu, ncores=ncores if ncores in (1, 2, 4, 8) else 8,
                         arg_cores=ncores, seed=m + n + k)
    np.testing.assert_array_equal(out, ref)
