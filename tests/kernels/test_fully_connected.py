"""fc (kernels/dnn/fully_connected.S): bit-exact against soc.qnn.fully_connected over ragged
shapes, ReLU on/off, several shifts; identical on 1, 2, 4 and 8 cores; packer errors."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.kernels_lib import TCDM_BASE, KernelHarness, fc_args

ARENA = 64 * 1024


@lru_cache(maxsize=None)
def harness(ncores: int) -> KernelHarness:
    return KernelHarness("fully_connected", "fc", ARENA, n_cores=ncores)


def run_fc(n, k, shift, relu, ncores=8, seed=0, bias_range=4000, xoff=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, k, dtype=np.int8)
    w = rng.integers(-128, 128, (n, k), dtype=np.int8)
    b = rng.integers(-bias_range, bias_range + 1, n, dtype=np.int32)
    h = harness(ncores)
    h.reset_alloc()
    px = h.alloc(k + 8) + xoff
    pw = h.alloc(n * k + 8)
    pb = h.alloc(4 * n)
    py = h.alloc(n + 8)
    guard = b"\xa5" * (n + 4)
    r = h.run(fc_args(px, pw, pb, py, n, k, shift, relu, ncores),
              {px: x.tobytes(), pw: w.tobytes(), pb: b.tobytes(), py: guard}, [(py, n + 4)])
    raw = r.outputs[0]
    assert raw[n:] == guard[n:], "fc wrote past the end of y"
    return np.frombuffer(raw[:n], np.int8), qnn.fully_connected(x, w, b, shift, relu), r


SHAPES = [  # N, K, shift, relu
    (1, 1, 0, False), (1, 3, 2, True), (3, 4, 3, False), (4, 5, 4, True), (5, 1, 1, False),
    (7, 9, 5, True), (10, 64, 8, False), (13, 7, 6, True), (33, 50, 9, False),
    (32, 128, 10, True), (64, 256, 12, False), (9, 200, 31, False), (40, 15, 0, False),
]


@pytest.mark.parametrize("n,k,shift,relu", SHAPES)
def test_bit_exact(n, k, shift, relu):
    y, ref, _ = run_fc(n, k, shift, relu, seed=n * 100 + k)
    np.testing.assert_array_equal(y, ref)


def test_unaligned_x_and_saturation():
    for relu in (False, True):
        y, ref, _ = run_fc(21, 30, 4, relu, bias_range=30000, xoff=1, seed=5)
        np.testing.assert_array_equal(y, ref)
        assert (ref == 127).any() and (ref == (0 if relu else -128)).any()


@pytest.mark.parametrize("n,k", [(23, 37), (64, 128)])
def test_core_counts_identical(n, k):
    _, ref, _ = run_fc(n, k, 7, True, ncores=1, seed=2)
    for nc in (1, 2, 4, 8):
        y, _, _ = run_fc(n, k, 7, True, ncores=nc, seed=2)
        np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("kwargs,msg", [
    (dict(x=0x0), "not inside the TCDM"),
    (dict(bias=TCDM_BASE + 1), "not 4-byte aligned"),
    (dict(n=0), "fc N = 0"),
    (dict(shift=-1), "fc shift = -1"),
])
def test_bad_arguments(kwargs, msg):
    base = dict(x=TCDM_BASE, w=TCDM_BASE + 0x1000, bias=TCDM_BASE + 0x2000,
                out=TCDM_BASE + 0x3000, n=8, k=8, shift=0, relu=False, ncores=8)
    base.update(kwargs)
    with pytest.raises(ValueError, match=msg) as e:
        fc_args(**base)
    assert "\n" not in str(e.value)
