"""hwc_to_chw / chw_to_hwc (kernels/dnn/marshal.S): bit-exact against soc.qnn over shapes with
ragged pixel and channel counts, and across core counts."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.cluster_config import ClusterConfig
from soc.kernels_dw import dw_program, marshal_args, run_dw

BUF = 8192


@lru_cache(maxsize=None)
def _image(entry: str, ncores: int):
    cfg = ClusterConfig(n_cores=ncores)
    return dw_program(entry, ("marshal",), {"t_in": BUF, "t_out": BUF}, cfg), cfg


def _run(entry, h, w, c, ncores=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c), dtype=np.int8)
    src = x if entry == "hwc_to_chw" else qnn.hwc_to_chw(x)
    ref = qnn.hwc_to_chw(x) if entry == "hwc_to_chw" else x
    image, cfg = _image(entry, ncores)
    s = image.symbols
    args = marshal_args(s["t_in"], s["t_out"], h, w, c, ncores=ncores)
    cl, _, _ = run_dw(image, cfg, args, {"t_in": src.tobytes()})
    return np.frombuffer(cl.read(s["t_out"], x.size), np.int8).reshape(ref.shape), ref


SHAPES = [(1, 1, 1), (1, 3, 5), (4, 4, 4), (5, 7, 3), (8, 8, 16), (3, 5, 33), (16, 16, 8),
          (7, 9, 12), (2, 2, 96)]


@pytest.mark.parametrize("entry", ["hwc_to_chw", "chw_to_hwc"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_transpose_bit_exact(entry, shape):
    y, ref = _run(entry, *shape, seed=sum(shape))
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("entry", ["hwc_to_chw", "chw_to_hwc"])
def test_core_counts_agree(entry):
    for ncores in (1, 2, 4, 8):
        y, ref = _run(entry, 5, 6, 7, ncores=ncores, seed=2)
        np.testing.assert_array_equal(y, ref)


def test_round_trip():
    rng = np.random.default_rng(4)
    x = rng.integers(-128, 128, (6, 5, 9), dtype=np.int8)
    image, cfg = _image("hwc_to_chw", 8)
    s = image.symbols
    cl, _, _ = run_dw(image, cfg, marshal_args(s["t_in"], s["t_out"], 6, 5, 9),
                      {"t_in": x.tobytes()})
    chw = cl.read(s["t_out"], x.size)
    image2, cfg2 = _image("chw_to_hwc", 8)
    s2 = image2.symbols
    cl2, _, _ = run_dw(image2, cfg2, marshal_args(s2["t_in"], s2["t_out"], 6, 5, 9),
                       {"t_in": chw})
    np.testing.assert_array_equal(np.frombuffer(cl2.read(s2["t_out"], x.size), np.int8)
                                  .reshape(x.shape), x)


def test_packer_rejects_overlap():
    with pytest.raises(ValueError, match="overlap"):
        marshal_args(0x1000_1000, 0x1000_1010, 4, 4, 4)
