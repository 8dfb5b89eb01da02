"""dw_conv_chw / dw_conv_hwc (kernels/dnn/depthwise_{chw,hwc}.S): bit-exact against
soc.qnn.depthwise over shapes, strides, paddings, ReLU, ragged edges and core counts."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.cluster_config import ClusterConfig
from soc.kernels_dw import dw_chw_args, dw_hwc_args, dw_program, run_dw

BUF = 6144                       # bytes per tensor label (enough for every case below)
KERNELS = {"chw": ("dw_conv_chw", "depthwise_chw", dw_chw_args),
           "hwc": ("dw_conv_hwc", "depthwise_hwc", dw_hwc_args)}


@lru_cache(maxsize=None)
def _image(layout: str, ncores: int):
    entry, name, _ = KERNELS[layout]
    cfg = ClusterConfig(n_cores=ncores)
    image = dw_program(entry, (name,), {"x_in": BUF, "y_out": BUF, "wts": BUF, "bias": 4 * 512},
                       cfg)
    return image, cfg


def _run(layout, h, w, c, stride, pad, relu, ncores=8, seed=0, shift=None):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h, w, c), dtype=np.int8)
    wt = rng.integers(-128, 128, (c, 3, 3), dtype=np.int8)
    bias = rng.integers(-4000, 4000, c).astype(np.int32)
    shift = int(rng.integers(5, 9)) if shift is None else shift
    ref = qnn.depthwise(x, wt, bias, stride, pad, shift, relu)
    image, cfg = _image(layout, ncores)
    s = image.symbols
    _, _, pack = KERNELS[layout]
    args = pack(s["x_in"], s["y_out"], s["wts"], s["bias"], h, w, c, stride=stride, pad=pad,
                shift=shift, relu=relu, ncores=ncores)
    xin = qnn.hwc_to_chw(x) if layout == "chw" else x
    cl, result, _ = run_dw(image, cfg, args, {"x_in": xin.tobytes(), "wts": wt.tobytes(),
                                              "bias": bias.tobytes()})
    ho, wo = ref.shape[:2]
    y = np.frombuffer(cl.read(s["y_out"], ref.size), np.int8)
    y = qnn.chw_to_hwc(y.reshape(c, ho, wo)) if layout == "chw" else y.reshape(ho, wo, c)
    return y, ref, result


CASES = [  # h, w, c, stride, pad, relu
    (8, 8, 8, 1, 1, False),
    (8, 8, 8, 1, 1, True),
    (7, 9, 5, 1, 1, False),       # odd sizes, C not a multiple of 4
    (9, 7, 3, 2, 1, True),        # stride 2, odd W: right border pixel
    (10, 8, 6, 2, 1, False),      # stride 2, even W: no right border
    (6, 11, 7, 1, 0, True),       # no padding
    (11, 10, 13, 2, 0, False),    # stride 2, no padding, odd C
    (2, 2, 4, 1, 1, False),       # tiny: every pixel on a border
    (1, 3, 2, 1, 1, True),        # one row: top and bottom rows outside
    (3, 2, 9, 2, 1, False),
    (5, 5, 1, 1, 1, False),       # one channel
    (4, 16, 19, 1, 1, True),      # more channels than cores, ragged split
]


@pytest.mark.parametrize("layout", ["chw", "hwc"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:3])) +
                         f"-s{c[3]}p{c[4]}{'r' if c[5] else ''}")
def test_depthwise_bit_exact(layout, case):
    y, ref, _ = _run(layout, *case, seed=hash(case) & 0xFFFF)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("layout", ["chw", "hwc"])
def test_extreme_requantisation(layout):
    # shift 0 saturates nearly everything; large bias drives the clip on both sides.
    y, ref, _ = _run(layout, 5, 6, 5, 1, 1, False, shift=0)
    np.testing.assert_array_equal(y, ref)
    y, ref, _ = _run(layout, 5, 6, 5, 2, 1, True, shift=31)
    np.testing.assert_array_equal(y, ref)


@pytest.mark.parametrize("layout", ["chw", "hwc"])
def test_core_counts_agree(layout):
    outs = [_run(layout, 7, 6, 11, s, 1, r, ncores=n, seed=5)[0]
            for n in (1, 2, 4, 8) for s, r in [(1, False), (2, True)]]
    ref1 = _run(layout, 7, 6, 11, 1, 1, False, ncores=1, seed=5)[1]
    ref2 = _run(layout, 7, 6, 11, 2, 1, True, ncores=1, seed=5)[1]
    for i, y in enumerate(outs):
        np.testing.assert_array_equal(y, ref1 if i % 2 == 0 else ref2)


def test_more_cores_are_faster():
    r1 = _run("chw", 8, 8, 16, 1, 1, False, ncores=1)[2]
    r8 = _run("chw", 8, 8, 16, 1, 1, False, ncores=8)[2]
    assert r1.cycles / r8.cycles > 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(k=5), "only 3x3"),
    (dict(stride=3), "stride 3"),
    (dict(pad=2), "padding 2"),
    (dict(shift=32), "shift = 32"),
    (dict(ncores=9), "ncores = 9"),
])
def test_packer_rejects_unsupported(kwargs, match):
    base = 0x1000_1000
    with pytest.raises(ValueError, match=match):
        dw_chw_args(base, base + 0x1000, base + 0x2000, base + 0x3000, 8, 8, 4, **kwargs)


def test_packer_rejects_bad_buffers():
    base = 0x1000_1000
    with pytest.raises(ValueError, match="outside the TCDM"):
        dw_hwc_args(0x1C00_0000, base, base + 0x2000, base + 0x3000, 8, 8, 4)
    with pytest.raises(ValueError, match="outside the TCDM"):   # HWC reads C bytes past
        dw_hwc_args(0x1008_0000 - 8 * 8 * 4, base, base + 0x2000, base + 0x3000, 8, 8, 4)
    dw_hwc_args(0x1000_0000, base, base + 0x2000, base + 0x3000, 8, 8, 4)   # no read before
    with pytest.raises(ValueError, match="4-byte aligned"):
        dw_chw_args(base, base + 0x1000, base + 0x2000, base + 0x3002, 8, 8, 4)
    with pytest.raises(ValueError, match="width >= 2"):
        dw_chw_args(base, base + 0x1000, base + 0x2000, base + 0x3000, 8, 1, 4)
