"""avgpool (kernels/dnn/avgpool.S): bit-exact against soc.qnn.avgpool over window sizes,
strides, ragged shapes, requantisation, ReLU and core counts."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.cluster_config import ClusterConfig
from soc.kernels_dw import avgpool_args, dw_program, run_dw

BUF = 4096


@lru_cache(maxsize=None)
def _image(ncores: int):
    cfg = ClusterConfig(n_cores=ncores)
    return dw_program("avgpool", ("avgpool",), {"p_in": BUF, "p_out": BUF}, cfg), cfg


def _run(h, w, c, k, stride, mul, shift, relu, ncores=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c), dtype=np.int8)
    ref = qnn.avgpool(x, k, stride, mul, shift, relu)
    image, cfg = _image(ncores)
    s = image.symbols
    args = avgpool_args(s["p_in"], s["p_out"], h, w, c, k, stride=stride, mul=mul, shift=shift,
                        relu=relu, ncores=ncores)
    cl, _, _ = run_dw(image, cfg, args, {"p_in": x.tobytes()})
    return np.frombuffer(cl.read(s["p_out"], ref.size), np.int8).reshape(ref.shape), ref


CASES = [  # h, w, c, k, stride, mul, shift, relu
    (4, 4, 8, 2, 2, 1, 2, False),
    (5, 7, 3, 2, 2, 1, 2, True),      # ragged: the last row/column are not covered
    (6, 6, 5, 3, 3, 57, 9, False),
    (7, 7, 16, 7, 1, 21, 10, False),  # global pooling (MobileNetV2's last layer)
    (8, 6, 9, 3, 1, 3, 3, True),      # overlapping windows
    (3, 9, 1, 1, 1, 1, 0, False),     # k = 1: a requantised copy
    (9, 9, 4, 4, 2, 1, 0, False),     # no shift: saturation
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}-k{c[3]}s{c[4]}")
def test_avgpool_bit_exact(case):
    y, ref = _run(*case, seed=case[0] * 31 + case[2])
    np.testing.assert_array_equal(y, ref)


def test_core_counts_agree():
    for ncores in (1, 2, 4, 8):
        y, ref = _run(6, 7, 5, 2, 1, 3, 2, True, ncores=ncores, seed=1)
        np.testing.assert_array_equal(y, ref)


def test_packer_rejects():
    base = 0x1000_1000
    with pytest.raises(ValueError, match="does not fit"):
        avgpool_args(base, base + 1024, 2, 2, 4, 3)
    with pytest.raises(ValueError, match="overflow"):
        avgpool_args(base, base + 1024, 8, 8, 4, 2, mul=1 << 24)
    with pytest.raises(ValueError, match="kernel size 0"):
        avgpool_args(base, base + 1024, 8, 8, 4, 0)
