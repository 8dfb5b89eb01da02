"""residual_add (kernels/dnn/residual_add.S): bit-exact against soc.qnn.residual_add for any n
(SIMD bulk + scalar tail), misaligned buffers, multipliers, shifts, ReLU and core counts."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.cluster_config import ClusterConfig
from soc.kernels_dw import add_args, dw_program, run_dw

BUF = 4096


@lru_cache(maxsize=None)
def _image(ncores: int):
    cfg = ClusterConfig(n_cores=ncores)
    return dw_program("residual_add", ("residual_add",), {"in_a": BUF, "in_b": BUF, "out": BUF},
                      cfg), cfg


def _run(n, mul_a, mul_b, shift, relu, ncores=8, offsets=(0, 0, 0), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, n, dtype=np.int8)
    b = rng.integers(-128, 128, n, dtype=np.int8)
    ref = qnn.residual_add(a, b, mul_a, mul_b, shift, relu)
    image, cfg = _image(ncores)
    s = image.symbols
    pa, pb, po = (s[k] + o for k, o in zip(("in_a", "in_b", "out"), offsets))
    args = add_args(pa, pb, po, n, mul_a=mul_a, mul_b=mul_b, shift=shift, relu=relu,
                    ncores=ncores)
    pad_a = bytes(offsets[0]) + a.tobytes()
    pad_b = bytes(offsets[1]) + b.tobytes()
    cl, result, _ = run_dw(image, cfg, args, {"in_a": pad_a, "in_b": pad_b})
    y = np.frombuffer(cl.read(po, n), np.int8)
    return y, ref


@pytest.mark.parametrize("n", [1, 3, 4, 5, 31, 32, 33, 64, 100, 257, 1023])
def test_sizes(n):
    y, ref = _run(n, 3, 5, 3, False, seed=n)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("mul_a, mul_b, shift, relu", [
    (1, 1, 0, False), (1, 1, 1, True), (255, 255, 0, False), (0, 200, 7, False),
    (128, 77, 8, True), (17, 0, 31, False), (255, 1, 9, True),
])
def test_requantisation(mul_a, mul_b, shift, relu):
    y, ref = _run(203, mul_a, mul_b, shift, relu, seed=shift)
    np.testing.assert_array_equal(y, ref)


def test_misaligned_buffers():
    y, ref = _run(77, 2, 3, 2, False, offsets=(1, 2, 3), seed=9)
    np.testing.assert_array_equal(y, ref)


def test_core_counts_agree():
    for ncores in (1, 2, 4, 8):
        y, ref = _run(131, 9, 11, 4, True, ncores=ncores, seed=3)
        np.testing.assert_array_equal(y, ref)


def test_packer_rejects():
    base = 0x1000_1000
    with pytest.raises(ValueError, match="mul_a = -1"):
        add_args(base, base + 256, base + 512, 16, mul_a=-1)
    with pytest.raises(ValueError, match="mul_b = 256"):
        add_args(base, base + 256, base + 512, 16, mul_b=256)
    with pytest.raises(ValueError, match="outside the TCDM"):
        add_args(base, base + 256, 0x1008_0000 - 8, 16)
    with pytest.raises(ValueError, match="n = 0"):
        add_args(base, base + 256, base + 512, 0)
