"""im2col (kernels/dnn/im2col.S): bit-exact against soc.qnn.im2col with padding and strides;
identical on 1, 2, 4 and 8 cores; packer errors."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from soc import qnn
from soc.kernels_lib import TCDM_BASE, KernelHarness, im2col_args, im2col_shape

ARENA = 64 * 1024


@lru_cache(maxsize=None)
def harness(ncores: int) -> KernelHarness:
    return KernelHarness("im2col", "im2col", ARENA, n_cores=ncores)


def run_im2col(h_, w_, c, kh, kw, stride, pad, ncores=8, seed=0, offsets=(0, 0)):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (h_, w_, c), dtype=np.int8)
    p, length = im2col_shape(h_, w_, c, kh, kw, stride, pad)
    h = harness(ncores)
    h.reset_alloc()
    pi = h.alloc(x.size + 8) + offsets[0]
    po = h.alloc(p * length + 8) + offsets[1]
    fill = b"\x77" * (p * length + 4)      # stale data: the zero padding must be written
    r = h.run(im2col_args(pi, po, h_, w_, c, kh, kw, stride, pad, ncores),
              {pi: x.tobytes(), po: fill}, [(po, p * length + 4)])
    raw = r.outputs[0]
    assert raw[p * length:] == fill[p * length:], "im2col wrote past the end of out"
    out = np.frombuffer(raw[:p * length], np.int8).reshape(p, length)
    return out, qnn.im2col(x, kh, kw, stride, pad)


SHAPES = [  # H, W, C, Kh, Kw, stride, pad
    (1, 1, 1, 1, 1, 1, 0),
    (5, 5, 3, 3, 3, 1, 1),
    (8, 7, 3, 3, 3, 2, 1),
    (6, 6, 8, 3, 3, 1, 0),
    (4, 9, 5, 2, 3, 2, 1),
    (3, 3, 1, 3, 3, 1, 2),
    (9, 9, 4, 5, 5, 2, 2),
    (7, 5, 2, 1, 1, 2, 0),
    (10, 10, 16, 3, 3, 1, 1),
    (6, 11, 7, 3, 2, 3, 1),
]


@pytest.mark.parametrize("h,w,c,kh,kw,stride,pad", SHAPES)
def test_bit_exact(h, w, c, kh, kw, stride, pad):
    out, ref = run_im2col(h, w, c, kh, kw, stride, pad, seed=h * w * c)
    np.testing.assert_array_equal(out, ref)


def test_unaligned_buffers():
    out, ref = run_im2col(6, 6, 4, 3, 3, 1, 1, offsets=(1, 3))
    np.testing.assert_array_equal(out, ref)


def test_core_counts_identical():
    _, ref = run_im2col(7, 6, 3, 3, 3, 1, 1, ncores=1, seed=4)
    for nc in (1, 2, 4, 8):
        out, _ = run_im2col(7, 6, 3, 3, 3, 1, 1, ncores=nc, seed=4)
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("kwargs,msg", [
    (dict(out=0x2000_0000), "not inside the TCDM"),
    (dict(pad=3), "must be smaller than the kernel"),
    (dict(stride=0), "im2col stride = 0"),
    (dict(h=1, pad=0), "smaller than the"),
])
def test_bad_arguments(kwargs, msg):
    base = dict(inp=TCDM_BASE, out=TCDM_BASE + 0x1000, h=8, w=8, c=3, kh=3, kw=3, stride=1,
                pad=1, ncores=8)
    base.update(kwargs)
    with pytest.raises(ValueError, match=msg) as e:
        im2col_args(**base)
    assert "\n" not in str(e.value)
