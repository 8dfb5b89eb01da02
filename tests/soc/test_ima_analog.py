"""The IMA's analog model (soc.ima_analog), its configuration and its area model.

Ideal mode must equal the integer reference bit for bit; every noise source must follow the
[AIHW] PCM statistics within sampling error; runs are seeded and reproducible.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from soc import ima_analog as ia
from soc.ima_area import CALIBRATION, IMA_AREA_MM2, ima_area
from soc.ima_config import ImaConfig, ImaConfigError

RNG = np.random.default_rng(20240607)


def rand_w(cfg: ImaConfig, shape, rng=RNG, sign: int = 0) -> np.ndarray:
    w = rng.integers(-cfg.w_max, cfg.w_max + 1, shape)
    return np.abs(w) * sign if sign else w


def rand_x(n: int, rng=RNG) -> np.ndarray:
    return rng.integers(-128, 128, n).astype(np.int8)


def reference(cfg, W, x, lo=None, hi=None):
    return ia.ideal_reference(W, x, cfg.adc_low if lo is None else lo,
                              cfg.adc_high if hi is None else hi, adc_bits=cfg.adc_bits,
                              dac_bits=cfg.dac_bits, dac_input_max=cfg.dac_input_max)


def tight_range(cfg, W, x):
    """An ADC range around the column sums so that the outputs use the whole code range."""
    acc = ia.dac_levels(x, cfg.dac_bits, cfg.dac_input_max) @ W
    span = max(int(np.abs(acc).max()) * cfg.dac_input_max // cfg.dac_levels // 2, 1)
    return -span, span


# ------------------------------------------------------------------ integer reference itself
def test_reference_rounds_half_away_from_zero_and_clips():
    # q = 127, D = 254: y = acc * 127 / 254 = acc / 2 -> halves are exact
    W = np.array([[1, -1, 1, -1, 1, 1]])
    cfg = dict(adc_bits=8, dac_bits=8, dac_input_max=127)
    for xv, expect in [(1, [1, -1, 1, -1, 1, 1]), (3, [2, -2, 2, -2, 2, 2]),
                       (5, [3, -3, 3, -3, 3, 3]), (127, [64, -64, 64, -64, 64, 64])]:
        out = ia.ideal_reference(W, np.array([xv], np.int8), -254, 254, **cfg)
        assert out.tolist() == expect
    # clipping: |acc| beyond the range saturates at +-q; [0, hi] clips negatives to 0
    out = ia.ideal_reference(np.array([[100, -100]]), np.array([127], np.int8), -10, 10, **cfg)
    assert out.tolist() == [127, -127]
    out = ia.ideal_reference(np.array([[100, -100]]), np.array([127], np.int8), 0, 10, **cfg)
    assert out.tolist() == [127, 0]
    # DAC: -128 saturates at -127; a 4-bit DAC maps 127 -> 7 and 9 -> round(9*7/127) = 0
    assert ia.dac_levels(np.array([-128, 127, 9, 10, -10]), 4, 127).tolist() == [-7, 7, 0, 1, -1]


# ------------------------------------------------------------------ ideal mode, bit exact
@pytest.mark.parametrize("mapping", ["differential", "unipolar", "offset"])
@pytest.mark.parametrize("shape", [(1, 1), (27, 32), (255, 256), (256, 256), (3, 1), (64, 200)])
def test_ideal_full_array_windows(mapping, shape):
    cfg = ImaConfig(mapping=mapping)
    nr, nc = shape
    sign = 1 if mapping == "unipolar" else 0
    W = rand_w(cfg, (nr, nc), sign=sign)
    if mapping == "unipolar":       # per column sign: even columns negative
        W[:, ::2] *= -1
    st = ia.program(cfg, W)
    for _ in range(3):
        x = rand_x(nr)
        out = st.mvm(x, rows=nr, cols=nc)
        assert np.array_equal(out, reference(cfg, W, x))
        lo, hi = tight_range(cfg, W, x)
        out = st.mvm(x, rows=nr, cols=nc, adc_low=lo, adc_high=hi)
        assert np.array_equal(out, reference(cfg, W, x, lo, hi))


@pytest.mark.parametrize("mapping", ["differential", "unipolar", "offset"])
def test_ideal_random_windows_inside_the_array(mapping):
    cfg = ImaConfig(mapping=mapping)
    sign = 1 if mapping == "unipolar" else 0
    W = rand_w(cfg, (cfg.rows, cfg.cols), sign=sign)
    if mapping == "unipolar":
        W[:, RNG.random(cfg.cols) < 0.5] *= -1
    st = ia.program(cfg, W)
    for _ in range(60):
        r0, c0 = RNG.integers(0, cfg.rows), RNG.integers(0, cfg.cols)
        nr = int(RNG.integers(1, cfg.rows - r0 + 1))
        nc = int(RNG.integers(1, cfg.cols - c0 + 1))
        x = rand_x(nr)
        sub = W[r0:r0 + nr, c0:c0 + nc]
        lo, hi = tight_range(cfg, sub, x)
        if RNG.random() < 0.3:
            lo = 0                                  # ReLU-like range: negatives clip to 0
        out = st.mvm(x, row0=int(r0), col0=int(c0), rows=nr, cols=nc, adc_low=lo, adc_high=hi)
        assert np.array_equal(out, reference(cfg, sub, x, lo, hi)), (r0, c0, nr, nc)


@pytest.mark.parametrize("sign", [1, -1])
def test_ideal_unipolar_all_positive_and_all_negative_tiles(sign):
    cfg = ImaConfig(mapping="unipolar", weight_bits=3, device_bits=2)
    W = rand_w(cfg, (cfg.rows, cfg.cols), sign=sign)
    st = ia.program(cfg, W)
    assert (st.col_sign == sign).all() or sign == 1
    x = rand_x(cfg.rows)
    lo, hi = tight_range(cfg, W, x)
    assert np.array_equal(st.mvm(x, adc_low=lo, adc_high=hi), reference(cfg, W, x, lo, hi))


@pytest.mark.parametrize("mapping", ["differential", "unipolar", "offset"])
@pytest.mark.parametrize("weight_bits,device_bits", [(4, 1), (4, 2), (4, 3), (8, 4), (8, 2),
                                                     (6, 4), (8, 8), (2, 1), (5, 2)])
def test_ideal_bit_slicing_is_exact(mapping, weight_bits, device_bits):
    cfg = ImaConfig(mapping=mapping, weight_bits=weight_bits, device_bits=device_bits,
                    rows=96, cols=80)
    W = rand_w(cfg, (96, 80), sign=1 if mapping == "unipolar" else 0)
    st = ia.program(cfg, W)
    assert cfg.n_slices == math.ceil(cfg.code_range.bit_length() / device_bits)
    assert np.array_equal(st.effective_weights(), W)
    for _ in range(3):
        x = rand_x(96)
        lo, hi = tight_range(cfg, W, x)
        assert np.array_equal(st.mvm(x, adc_low=lo, adc_high=hi), reference(cfg, W, x, lo, hi))
        out = st.mvm(x[5:60], row0=5, col0=3, rows=55, cols=70, adc_low=lo, adc_high=hi)
        assert np.array_equal(out, reference(cfg, W[5:60, 3:73], x[5:60], lo, hi))


@pytest.mark.parametrize("dac_bits,dac_input_max,adc_bits", [(8, 127, 8), (4, 127, 8),
                                                             (6, 100, 5), (8, 128, 2),
                                                             (3, 20, 7), (7, 64, 8)])
def test_ideal_converter_precisions(dac_bits, dac_input_max, adc_bits):
    cfg = ImaConfig(dac_bits=dac_bits, dac_input_max=dac_input_max, adc_bits=adc_bits)
    W = rand_w(cfg, (256, 256))
    st = ia.program(cfg, W)
    for _ in range(4):
        x = rand_x(256)
        lo, hi = tight_range(cfg, W, x)
        assert np.array_equal(st.mvm(x, adc_low=lo, adc_high=hi), reference(cfg, W, x, lo, hi))
        lo2 = -int(RNG.integers(1, 3000))
        hi2 = int(RNG.integers(1, 3000))
        assert np.array_equal(st.mvm(x, adc_low=lo2, adc_high=hi2),
                              reference(cfg, W, x, lo2, hi2))


def test_ideal_storage_classes_and_sub_block_programming():
    # exact |W| <= 7: uint8 (W + 8); exact |W| <= 127: int8; noisy: int16 fixed point
    assert ia.program(ImaConfig(), np.ones((2, 2), int)).wt.dtype == (
        np.uint8 if ia.USE_SIMD_U8 else np.int8)
    assert ia.program(ImaConfig(weight_bits=8), np.full((2, 2), 100)).wt.dtype == np.int8
    noisy = ImaConfig().with_pcm_noise(read_noise_scale=0.0)
    assert ia.program(noisy, np.ones((2, 2), int)).wt.dtype == np.int16
    # programming blocks one after the other = programming the whole matrix
    cfg = ImaConfig(mapping="offset", rows=64, cols=64)
    W = rand_w(cfg, (64, 64))
    st = ia.ImaState(cfg)
    st.program(W[:40, :30], 0, 0)
    st.program(W[:40, 30:], 0, 30)
    st.program(W[40:], 40, 0)
    x = rand_x(64)
    assert np.array_equal(st.mvm(x), reference(cfg, W, x))
    # unprogrammed array: exact zero weights
    assert (ia.ImaState(cfg).mvm(x) == 0).all()


def test_portable_kernel_equals_simd_kernel():
    if not ia.USE_SIMD:
        pytest.skip("host without AVX2: only the portable kernel runs")
    for cfg in (ImaConfig(), ImaConfig(weight_bits=8),
                ImaConfig(mapping="offset").with_pcm_noise(t_since_programming_s=1e4,
                                                           output_noise_sigma=0.04)):
        W = rand_w(cfg, (256, 256))
        a, b = ia.program(cfg, W), ia.program(cfg, W)
        b._batch, b._one = ia._batch_portable, ia._one_portable   # (mvm: a batch of one)
        for _ in range(5):
            x = rand_x(200)
            r0, c0 = int(RNG.integers(0, 56)), int(RNG.integers(0, 100))
            ya = a.mvm(x, row0=r0, col0=c0, rows=200, cols=150)
            yb = b.mvm(x, row0=r0, col0=c0, rows=200, cols=150)
            assert np.array_equal(ya, yb)
        assert np.array_equal(a.counts, b.counts)


# ------------------------------------------------------------------ batched jobs
BATCH_CONFIGS = {
    "ideal": lambda: ImaConfig(),                                        # row-quad uint8 class
    "ideal-8bit": lambda: ImaConfig(weight_bits=8),                      # exact int8 class
    "ideal-sliced": lambda: ImaConfig(weight_bits=8, device_bits=2),     # bit slicing, int8
    "ideal-offset-dac6": lambda: ImaConfig(mapping="offset", dac_bits=6, adc_bits=6,
                                           dac_input_max=100),
    "prog-drift": lambda: ImaConfig(prog_noise_scale=1.0, drift_scale=1.0,
                                    t_since_programming_s=3600.0),       # int16, no read noise
    "pcm-offset": lambda: ImaConfig(mapping="offset").with_pcm_noise(
        t_since_programming_s=1e4, output_noise_sigma=0.04),             # read, ref, output
    "pcm": lambda: ImaConfig().with_pcm_noise(),
}


@pytest.mark.parametrize("name", sorted(BATCH_CONFIGS))
def test_mvm_batch_equals_successive_mvm_calls(name):
    """One ``mvm_batch`` call == n ``mvm`` calls: outputs (noise included: each job keeps its
    read index), counters, and for ideal configurations the integer reference."""
    cfg = BATCH_CONFIGS[name]()
    W = rand_w(cfg, (cfg.rows, cfg.cols))
    a, b = ia.program(cfg, W), ia.program(cfg, W)
    windows = [(0, 0, 256, 256), (0, 0, 27, 32), (3, 5, 200, 150), (37, 200, 219, 56),
               (255, 255, 1, 1), (128, 0, 100, 33)]
    for k, (r0, c0, nr, nc) in enumerate(windows):
        n = (1, 17, 40)[k % 3]
        X = RNG.integers(-128, 128, (n, nr + 3)).astype(np.int8)      # longer rows are fine
        lo, hi = tight_range(cfg, W[r0:r0 + nr, c0:c0 + nc], X[0, :nr])
        first = -1 if k % 2 == 0 else int(RNG.integers(0, 10**6))
        Ya = np.empty((n, nc), np.int8)
        for j in range(n):
            a.mvm(X[j], Ya[j], r0, c0, nr, nc, lo, hi, -1 if first < 0 else first + j)
        Yb = b.mvm_batch(X, None, r0, c0, nr, nc, lo, hi, first)
        assert Yb.shape == (n, nc) and np.array_equal(Ya, Yb), (name, k)
        assert np.array_equal(a.counts, b.counts), (name, k)
        if cfg.is_ideal:
            ref = np.stack([reference(cfg, W[r0:r0 + nr, c0:c0 + nc], X[j, :nr], lo, hi)
                            for j in range(n)])
            assert np.array_equal(Yb, ref), (name, k)
    # reprogramming a block invalidates what the kernel caches per window
    W2 = rand_w(cfg, (64, 256))
    a.program(W2, 100, 0)
    b.program(W2, 100, 0)
    W[100:164] = W2
    X = RNG.integers(-128, 128, (5, 256)).astype(np.int8)
    Yb = b.mvm_batch(X)
    assert np.array_equal(Yb, np.stack([a.mvm(x) for x in X]))
    if cfg.is_ideal:
        assert np.array_equal(Yb, np.stack([reference(cfg, W, x) for x in X]))


def test_mvm_batch_portable_equals_simd_and_output_views():
    if not ia.USE_SIMD:
        pytest.skip("host without AVX2: only the portable kernel runs")
    for cfg in (ImaConfig(), ImaConfig(weight_bits=8), noisy_cfg()):
        W = rand_w(cfg, (256, 256))
        a, b = ia.program(cfg, W), ia.program(cfg, W)
        b._batch = ia._batch_portable
        X = RNG.integers(-128, 128, (9, 256)).astype(np.int8)
        for r0, c0, nr, nc in ((0, 0, 256, 256), (7, 9, 120, 130)):
            assert np.array_equal(a.mvm_batch(X, row0=r0, col0=c0, rows=nr, cols=nc),
                                  b.mvm_batch(X, row0=r0, col0=c0, rows=nr, cols=nc))
        assert np.array_equal(a.counts, b.counts)
    # non-contiguous inputs and outputs (strided views) give the same results
    st = ia.program(ImaConfig(), W := rand_w(ImaConfig(), (256, 256)))
    X = RNG.integers(-128, 128, (6, 512)).astype(np.int8)
    Y = np.zeros((6, 300), np.int8)
    st.mvm_batch(X[:, ::2], Y[:, ::1][:, :256], rows=256, cols=256)
    st.mvm_batch(X[:, ::2], Y[:, 44:], rows=256, cols=256)
    ref = np.stack([reference(ImaConfig(), W, x) for x in X[:, ::2]])
    assert np.array_equal(Y[:, 44:], ref) and np.array_equal(st.mvm_batch(X[::2, ::2]), ref[::2])


def test_mvm_batch_errors_and_empty_batch():
    st = ia.ImaState(ImaConfig(rows=8, cols=8))
    with pytest.raises(ValueError, match="2-D int8"):
        st.mvm_batch(np.zeros(8, np.int8))
    with pytest.raises(ValueError, match="2-D int8"):
        st.mvm_batch(np.zeros((2, 8), np.int16))
    with pytest.raises(ValueError, match="Y must be"):
        st.mvm_batch(np.zeros((2, 8), np.int8), np.zeros((3, 8), np.int8))
    with pytest.raises(ValueError, match="window"):
        st.mvm_batch(np.zeros((2, 8), np.int8), row0=4, rows=5)
    with pytest.raises(ValueError, match="int8 array of at least"):
        st.mvm_batch(np.zeros((2, 4), np.int8))
    with pytest.raises(ValueError, match="ADC range"):
        st.mvm_batch(np.zeros((2, 8), np.int8), adc_low=3, adc_high=3)
    assert st.mvm_batch(np.zeros((0, 8), np.int8)).shape == (0, 8)
    assert st.counters().jobs == 0


def test_division_free_adc_equals_the_integer_adc():
    """``_adc_ints`` (reciprocal, nudge, truncation) against ``adc_codes`` on random sums and
    on the exact rounding and clipping boundaries, for random converter precisions and ADC
    ranges up to 2^31."""
    rng = np.random.default_rng(5)
    for trial in range(400):
        adc_bits, dac_bits = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        m = int(rng.integers(1, 129))
        lv, q = (1 << (dac_bits - 1)) - 1, (1 << (adc_bits - 1)) - 1
        d = int(rng.integers(1, (100, 1 << 20, 2**31 - 1)[trial % 3]))
        lo, hi = (-d, int(rng.integers(-d + 1, d + 1))) if trial % 2 else (
            int(rng.integers(-d, d)), d)
        dd = max(abs(lo), abs(hi))
        span = min(dd * lv // m + 2, 2**30)
        k = rng.integers(0, q + 1, 200)
        edge = ((2 * k - 1) * dd * lv) // (2 * q * m)        # half-code boundaries
        A = np.concatenate([rng.integers(-span, span + 1, 300), edge, edge + 1, edge - 1,
                            -edge, -edge + 1, -edge - 1, [0, 1, -1, lo * lv // m,
                                                          hi * lv // m]])
        A = np.clip(A, -2**30, 2**30)
        offs = (rng.integers(-2**20, 2**20, A.size) * (trial % 2)).astype(np.int32)
        out = np.empty(A.size, np.int8)
        clips = ia._adc_ints((A + offs).astype(np.int32), offs, out, float(m), float(lv),
                             float(q), lo, hi)
        assert np.array_equal(out, ia.adc_codes(A, lo, hi, adc_bits, dac_bits, m)), trial
        v = A * m
        assert clips == int(((v < lo * lv) | (v > hi * lv)).sum()), trial


@pytest.mark.slow
def test_one_256x256_mvm_under_a_microsecond_of_host_time():
    """Issue 4's floor: a 256 x 256 ideal job costs well under a microsecond of host time in a
    batch (``mvm_batch`` of 256 jobs, best of 20 runs).  ``HETSOC_IMA_MVM_BUDGET_US``
    overrides the 1 us budget (e.g. on a host without AVX2)."""
    import os
    import time
    budget = float(os.environ.get("HETSOC_IMA_MVM_BUDGET_US", "1.0"))
    cfg = ImaConfig()
    st = ia.program(cfg, rand_w(cfg, (256, 256)))
    X = RNG.integers(-128, 128, (256, 256)).astype(np.int8)
    Y = st.mvm_batch(X)
    best = math.inf
    for _ in range(20):
        t0 = time.perf_counter()
        st.mvm_batch(X, Y)
        best = min(best, (time.perf_counter() - t0) / len(X))
    assert best * 1e6 < budget, f"{best * 1e6:.3f} us per job (budget {budget} us)"


# ------------------------------------------------------------------ ADC and counters
def test_adc_clipping_and_counters():
    cfg = ImaConfig(rows=64, cols=48)
    W = rand_w(cfg, (64, 48))
    st = ia.program(cfg, W)
    x = rand_x(64)
    acc = ia.dac_levels(x) @ W
    lo, hi = -int(np.abs(acc).max()) // 4, int(np.abs(acc).max()) // 3
    out = st.mvm(x, adc_low=lo, adc_high=hi)
    assert np.array_equal(out, reference(cfg, W, x, lo, hi))
    clipped = int(((acc < lo) | (acc > hi)).sum())
    assert clipped > 0
    assert (out[acc > hi] == 127).all() and (out[acc < lo] == round(-127 * abs(lo) / hi)).all()
    st.mvm(x[:10], row0=3, col0=5, rows=10, cols=7)
    c = st.counters()
    assert c.jobs == 2 and c.rows_active == 74 and c.cols_active == 55
    assert c.dac_conversions == 74 and c.adc_conversions == 55 and c.macs == 64 * 48 + 70
    assert c.device_cols_active == 2 * 55 and c.device_reads == 2 * (64 * 48 + 70)
    assert c.adc_clips >= clipped
    assert c.devices_programmed == 2 * 64 * 48 and c.weights_written == 64 * 48
    assert c.weight_words_written == 64 * 6 and c.program_ops == 1
    assert set(c.as_dict()) == set(ia.COUNTER_NAMES)
    off = ia.program(ImaConfig(mapping="offset", weight_bits=8, device_bits=4, rows=8, cols=8),
                     np.zeros((8, 8), int))
    assert off.counters().devices_programmed == 8 * 8 * 2 + 8 * 2   # 2 slices + 2 ref columns


# ------------------------------------------------------------------ noise statistics
def folded_normal_moments(mu, sd):
    """Mean and standard deviation of |N(mu, sd^2)|."""
    phi = math.exp(-mu * mu / (2 * sd * sd))
    mean = sd * math.sqrt(2 / math.pi) * phi + mu * math.erf(mu / (sd * math.sqrt(2)))
    return mean, math.sqrt(mu * mu + sd * sd - mean * mean)


def level_matrix(cfg):
    """Columns j hold weight j % (w_max + 1): 32 columns x 256 rows per level."""
    return np.tile(np.arange(cfg.cols) % (cfg.w_max + 1), (cfg.rows, 1))


def test_programming_noise_sigma_per_conductance_level():
    cfg = ImaConfig(mapping="unipolar", g_scale="weight_range", prog_noise_scale=1.0)
    W = level_matrix(cfg)
    g = ia.program(cfg, W).conductance_us()[0, 0]
    c0, c1, c2 = ia.PROG_COEFFS_US
    for k in range(cfg.w_max + 1):
        target = k / cfg.w_max * cfg.g_max_us
        sel = g[:, W[0] == k]
        sigma = c0 + c1 * (k / cfg.w_max) + c2 * (k / cfg.w_max) ** 2
        n = sel.size
        if k == 0:      # clamped at 0: mean of max(N(0, s), 0) = s / sqrt(2 pi)
            assert abs(sel.mean() - sigma / math.sqrt(2 * math.pi)) < 4 * sigma / math.sqrt(n)
            continue
        assert abs(sel.mean() - target) < 4 * sigma / math.sqrt(n)
        assert abs(sel.std() / sigma - 1) < 4 / math.sqrt(2 * n), k
    # the scale multiplies sigma; g_max rescales the polynomial (fitted at 25 uS)
    half = ImaConfig(mapping="unipolar", g_scale="weight_range", prog_noise_scale=0.5,
                     g_max_us=50.0)
    g2 = ia.program(half, W).conductance_us()[0, 0][:, W[0] == 7]
    assert abs(g2.std() / (0.5 * (c0 + c1 + c2) * 2) - 1) < 0.05


def test_drift_exponent_statistics_and_drift_law():
    cfg = ImaConfig(mapping="unipolar", g_scale="weight_range", drift_scale=1.0,
                    t_since_programming_s=3600.0, drift_compensation="none")
    W = level_matrix(cfg)
    st = ia.program(cfg, W)
    nu = st.nu[0, 0]
    for k in range(1, cfg.w_max + 1):
        lg = math.log(k / cfg.w_max)
        mu = min(max(-0.0155 * lg + 0.0244, 0.049), 0.1)
        sd = min(max(-0.0125 * lg - 0.0059, 0.008), 0.045)
        mean, std = folded_normal_moments(mu, sd)
        sel = nu[:, W[0] == k]
        n = sel.size
        assert abs(sel.mean() - mean) < 4 * std / math.sqrt(n), k
        assert abs(sel.std() / std - 1) < 4 / math.sqrt(2 * n) + 0.01, k
    # g(t) = g_prog ((t + t0) / t0)^-nu, and the effective weights follow
    g0 = st.conductance_us(at_time=False)
    gt = st.conductance_us()
    assert np.allclose(gt, g0 * ((3600.0 + 20.0) / 20.0) ** -st.nu, rtol=1e-12)
    assert np.allclose(st.effective_weights(), st.level[0, 0] * ((3620.0 / 20.0) ** -nu))
    # drift_scale multiplies nu
    st2 = ia.program(ImaConfig(mapping="unipolar", g_scale="weight_range", drift_scale=0.5), W)
    assert np.allclose(st2.nu, 0.5 * nu)


@pytest.mark.parametrize("t_s", [0.0, 86400.0])
def test_read_noise_sigma_follows_qs_sqrt_log(t_s):
    # unipolar, one device per weight: a one-hot input reads one device per column
    cfg = ImaConfig(mapping="unipolar", g_scale="weight_range", read_noise_scale=1.0,
                    t_since_programming_s=t_s, rows=16, cols=256)
    W = np.tile(np.arange(256) % 4 + 4, (16, 1))           # levels 4..7
    st = ia.program(cfg, W)
    x = np.zeros(16, np.int8)
    x[3] = 127
    reads = np.array([st.currents(x) for _ in range(1500)])
    mean_expect = 127.0 * W[3]
    t = t_s + 20.0
    for k in range(4, 8):
        gn = k / cfg.w_max
        qs = min(0.0088 / gn**0.65, 0.2)
        rel = qs * math.sqrt(math.log((t + 250e-9) / (2 * 250e-9)))
        sel = reads[:, W[3] == k]
        sigma = 127.0 * k * rel
        n = sel.size
        assert abs(sel.mean() - 127.0 * k) < 4 * sigma / math.sqrt(n)
        assert abs(sel.std() / sigma - 1) < 4 / math.sqrt(2 * n) + 0.01, (k, sel.std(), sigma)
    assert np.allclose(reads.mean(axis=0), mean_expect, rtol=0.01)
    # per read: a new draw each job; replaying a read index reproduces it
    assert not np.array_equal(reads[0], reads[1])
    again = st.currents(x, read_index=7)
    assert np.array_equal(again, reads[7])


def test_output_noise_and_offset_reference_noise():
    cfg = ImaConfig(output_noise_sigma=0.05, rows=8, cols=256)
    st = ia.program(cfg, np.zeros((8, 256), int))
    reads = np.array([st.currents(np.zeros(8, np.int8)) for _ in range(400)])
    sigma = 0.05 * 127 * 7
    assert abs(reads.std() / sigma - 1) < 4 / math.sqrt(2 * reads.size)
    # offset mapping: the shared reference column's noise is common to all columns
    cfg = ImaConfig(mapping="offset", g_scale="weight_range", read_noise_scale=1.0, rows=8,
                    cols=256)
    st = ia.program(cfg, np.zeros((8, 256), int))
    x = np.zeros(8, np.int8)
    x[0] = 100
    reads = np.array([st.currents(x) for _ in range(1500)])
    cov = np.cov(reads[:, 0], reads[:, 1])
    # both devices (main and reference) sit at level 7 of 14 -> equal variances
    gn = 7 / 14
    rel = min(0.0088 / gn**0.65, 0.2) * math.sqrt(math.log((20.0 + 250e-9) / 500e-9))
    s2 = (100 * 7 * rel) ** 2
    assert abs(cov[0, 0] / (2 * s2) - 1) < 0.12
    assert abs(cov[0, 1] / s2 - 1) < 0.15


def test_drift_compensation_restores_the_reference_read():
    base = ImaConfig(mapping="differential").with_pcm_noise(
        read_noise_scale=0.0, t_since_programming_s=1e6)
    W = rand_w(base, (256, 256))
    for mode in ("global", "column"):
        st = ia.program(ImaConfig(**{**base.__dict__, "drift_compensation": mode}), W)
        w0 = st.effective_weights(at_time=False, compensated=False)
        wt = st.effective_weights()
        if mode == "global":
            assert math.isclose(np.abs(wt.sum(0)).sum(), np.abs(w0.sum(0)).sum(), rel_tol=1e-12)
        else:
            assert np.allclose(np.abs(wt.sum(0)), np.abs(w0.sum(0)), rtol=1e-9)
    raw = ia.program(ImaConfig(**{**base.__dict__, "drift_compensation": "none"}), W)
    assert np.abs(raw.effective_weights()).sum() < 0.75 * np.abs(W).sum()   # drifted down


# ------------------------------------------------------------------ seeds and switches
def noisy_cfg(**kw):
    return ImaConfig().with_pcm_noise(t_since_programming_s=3600.0, output_noise_sigma=0.02,
                                      **kw)


def test_seeded_runs_reproduce_and_seeds_differ():
    W = rand_w(ImaConfig(), (256, 256))
    xs = [rand_x(256) for _ in range(5)]
    runs = []
    for seed in (1, 1, 2):
        st = ia.program(noisy_cfg(seed=seed), W)
        runs.append(np.array([st.mvm(x) for x in xs]))
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    # noisy but close to ideal: most outputs within a few codes of the reference
    ref = np.array([reference(ImaConfig(), W, x) for x in xs])
    assert np.abs(runs[0].astype(int) - ref).mean() < 6


def test_disabled_noise_is_exactly_off_and_sources_are_independent():
    W = rand_w(ImaConfig(), (256, 256))
    # every scale 0 with a late inference time: still the exact reference
    st = ia.program(ImaConfig(t_since_programming_s=1e7, drift_compensation="column"), W)
    x = rand_x(256)
    assert np.array_equal(st.mvm(x), reference(ImaConfig(), W, x)) and st.flags == 0
    # switching read noise or drift on leaves the programming-noise draws unchanged
    a = ia.program(ImaConfig(prog_noise_scale=1.0), W)
    b = ia.program(ImaConfig(prog_noise_scale=1.0, read_noise_scale=1.0, drift_scale=1.0), W)
    assert np.array_equal(a.level, b.level)
    # drift on at t = 0 changes nothing yet
    c = ia.program(ImaConfig(drift_scale=1.0), W)
    assert np.array_equal(c.mvm(x), reference(ImaConfig(), W, x))
    c.set_time(1e5)
    assert not np.array_equal(c.effective_weights(compensated=False), W)


# ------------------------------------------------------------------ configuration
def test_config_validation_messages():
    for kw, key in [(dict(mapping="bipolar"), "mapping"), (dict(rows=0), "rows"),
                    (dict(adc_bits=9), "adc_bits"), (dict(device_bits=0), "device_bits"),
                    (dict(adc_low=5, adc_high=5), "adc_low"),
                    (dict(prog_noise_scale=-1.0), "prog_noise_scale"),
                    (dict(g_max_us=0.0), "g_max_us"), (dict(t_read_s=float("nan")), "t_read_s"),
                    (dict(drift_compensation="x"), "drift_compensation")]:
        with pytest.raises(ImaConfigError) as e:
            ImaConfig(**kw)
        msg = str(e.value)
        assert msg.startswith(key) and "\n" not in msg
    with pytest.raises(ImaConfigError, match="arch.yaml: unknown key 'colums'"):
        ImaConfig.from_dict({"colums": 3}, "arch.yaml")
    with pytest.raises(ImaConfigError, match="rows = True: must be an integer"):
        ImaConfig.from_dict({"rows": True})
    with pytest.raises(ImaConfigError, match="x.yaml: weight_bits = 1: allowed 2..8"):
        ImaConfig.from_dict({"weight_bits": 1}, "x.yaml")
    cfg = ImaConfig.from_dict({"mapping": "offset", "g_max_us": 20, "seed": 3})
    assert cfg.mapping == "offset" and cfg.g_max_us == 20.0 and cfg.is_ideal
    assert ImaConfig().with_pcm_noise().prog_noise_scale == 1.0
    assert (ImaConfig(weight_bits=8, device_bits=2).n_slices,
            ImaConfig(mapping="offset", weight_bits=4, device_bits=4).n_slices,
            ImaConfig(weight_bits=4, device_bits=2).n_slices) == (4, 1, 2)


def test_program_and_job_errors():
    st = ia.ImaState(ImaConfig(mapping="unipolar", rows=4, cols=4))
    with pytest.raises(ValueError, match="mixes signs"):
        st.program(np.array([[1, 0], [-1, 0]]))
    with pytest.raises(ValueError, match=r"\[-7, 7\]"):
        st.program(np.array([[8]]))
    with pytest.raises(ValueError, match="does not fit"):
        st.program(np.ones((2, 2), int), 3, 0)
    with pytest.raises(ValueError, match="integers"):
        st.program(np.array([[0.5]]))
    with pytest.raises(ValueError, match="window"):
        st.mvm(np.zeros(4, np.int8), row0=2, rows=3)
    with pytest.raises(ValueError, match="int8"):
        st.mvm(np.zeros(4, np.int16))
    with pytest.raises(ValueError, match="ADC range"):
        st.mvm(np.zeros(4, np.int8), adc_low=3, adc_high=3)
    with pytest.raises(ValueError, match="set_time"):
        st.set_time(-1.0)


# ------------------------------------------------------------------ area model
def test_area_calibration_and_mapping_modes():
    cal = ima_area(CALIBRATION)
    assert math.isclose(cal.total_mm2, IMA_AREA_MM2, rel_tol=1e-12)
    uni = ima_area(ImaConfig(mapping="unipolar"))
    off = ima_area(ImaConfig(mapping="offset"))
    assert math.isclose(cal.array_mm2, 2 * uni.array_mm2)                 # differential x2
    assert off.device_slots == uni.device_slots + 256                    # + reference column
    assert uni.total_mm2 < off.total_mm2 < cal.total_mm2
    assert (uni.adc_mm2, uni.dac_mm2, uni.digital_mm2) == (cal.adc_mm2, cal.dac_mm2,
                                                           cal.digital_mm2)
    sliced = ima_area(ImaConfig(weight_bits=8, device_bits=2))            # 4 slices
    assert math.isclose(sliced.array_mm2, 4 * cal.array_mm2)
    assert math.isclose(ima_area(CALIBRATION, pipelined=True).total_mm2 / cal.total_mm2, 1.05)
    small = ima_area(ImaConfig(rows=128, cols=128, adc_bits=6))
    assert small.total_mm2 < 0.5 * cal.total_mm2
