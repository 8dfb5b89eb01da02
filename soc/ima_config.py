"""Parameters of the analog in-memory-computing accelerator's numeric model (``soc.ima_analog``).

Every parameter is defined once, with its unit in its name where it has one.  The defaults are
the published IMA ([G22] in ``shared/reference/system-facts.md`` section 4: 256 x 256 array,
8-bit signed inputs, 4-bit signed weights, 8-bit outputs) with **every non-ideality off**: the
functional model of [GV] is ideal, and the ideal configuration is the anchor that each
non-ideality is measured against.  ``ImaConfig.with_pcm_noise()`` switches on the PCM statistics
of section 7 ([AIHW]: programming noise, drift, read noise).  ``docs/ima_analog.md`` defines the
arithmetic each parameter enters.

Units: conductances in microsiemens (``_us``), times in seconds (``_s``); ADC bounds are integers
in units of one input step times one weight step (the integer dot product ``sum_i x_i w_ij`` of
int8 inputs and integer weights), as the [GV] ADC_LOW / ADC_HIGH registers set them per job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

MAPPINGS = ("differential", "unipolar", "offset")
G_SCALES = ("matrix_max", "weight_range")
DRIFT_COMPENSATIONS = ("none", "global", "column")
EXECUTIONS = ("pipelined", "sequential")

_STR_KEYS = {"mapping": MAPPINGS, "g_scale": G_SCALES, "drift_compensation": DRIFT_COMPENSATIONS,
             "execution": EXECUTIONS}
_FLOAT_KEYS = ("g_max_us", "prog_noise_scale", "read_noise_scale", "drift_scale",
               "output_noise_sigma", "t_since_programming_s", "t0_s", "t_read_s",
               "mvm_latency_ns", "weight_write_ns")


class ImaConfigError(ValueError):
    """An invalid IMA parameter; the message is one line naming the key and what is allowed."""


@dataclass(frozen=True)
class ImaConfig:
    """IMA analog-model parameters (array geometry, converters, devices, noise, seed)."""

    # array geometry: weight rows (inputs) x weight columns (outputs) of the logical array
    rows: int = 256
    cols: int = 256
    # converters
    dac_bits: int = 8                    # signed DAC: levels -(2^(b-1)-1) .. 2^(b-1)-1
    dac_input_max: int = 127             # int8 input mapped to the DAC's full scale (inputs clip here)
    adc_bits: int = 8                    # signed ADC: outputs -(2^(b-1)-1) .. 2^(b-1)-1 (int8 out)
    adc_low: int = -10668                # default ADC range when a job does not set one: +-12 full-
    adc_high: int = 10668                # scale products (12 * 127 * 7; [AIHW] out_bound = 12)
    # weights and devices
    weight_bits: int = 4                 # signed weights in [-(2^(b-1)-1), 2^(b-1)-1]
    device_bits: int = 4                 # levels per device 0 .. 2^b - 1; fewer bits -> bit slicing
    mapping: str = "differential"        # "differential" (G+ - G-), "unipolar", "offset"
    g_max_us: float = 25.0               # conductance of the largest level ([AIHW])
    g_scale: str = "matrix_max"          # "matrix_max": max |W| of each programmed matrix -> g_max;
    #                                      "weight_range": the format's largest weight -> g_max
    # PCM non-idealities ([AIHW]); a scale of 0 switches the effect off exactly
    prog_noise_scale: float = 0.0
    read_noise_scale: float = 0.0
    drift_scale: float = 0.0
    output_noise_sigma: float = 0.0      # additive Gaussian per output, in full-scale input x weight
    t_since_programming_s: float = 0.0   # inference time after the end of programming
    t0_s: float = 20.0                   # drift reference time ([AIHW] t_0)
    t_read_s: float = 250e-9             # 1/f-noise fit parameter ([AIHW] t_read)
    drift_compensation: str = "global"   # "none", "global" or "column" output scale
    seed: int = 0                        # programming noise, drift exponents and read-noise streams
    # timing of the accelerator around the array (``soc.ima_device``)
    mvm_latency_ns: float = 130.0        # analog MVM, constant ([G22]); cycles = ceil(ns * clock)
    execution: str = "pipelined"         # "sequential": stream-in, compute, stream-out per job;
    #                                      "pipelined": stream-in i+1 / stream-out i-1 overlap
    #                                      the compute of job i ([G22])
    n_arrays: int = 1                    # crossbars behind the IMA, one active at a time ([G22])
    weight_write_ns: float = 1000.0      # one 32-bit weight-register write (8 weights) ([GV])

    def __post_init__(self) -> None:
        def bad(key: str, allowed: str) -> ImaConfigError:
            return ImaConfigError(f"{key} = {getattr(self, key)!r}: {allowed}")

        for key, choices in _STR_KEYS.items():
            if getattr(self, key) not in choices:
                raise bad(key, "allowed " + ", ".join(repr(c) for c in choices))
        if not 1 <= self.rows <= 1024:
            raise bad("rows", "allowed 1..1024")
        if not 1 <= self.cols <= 1024:
            raise bad("cols", "allowed 1..1024")
        for key in ("dac_bits", "adc_bits"):
            if not 2 <= getattr(self, key) <= 8:
                raise bad(key, "allowed 2..8 (signed, int8 data path)")
        if not 1 <= self.dac_input_max <= 128:
            raise bad("dac_input_max", "allowed 1..128")
        if not 2 <= self.weight_bits <= 8:
            raise bad("weight_bits", "allowed 2..8")
        if not 1 <= self.device_bits <= 8:
            raise bad("device_bits", "allowed 1..8")
        for key in ("adc_low", "adc_high"):
            if abs(getattr(self, key)) > 2**31 - 1:
                raise bad(key, "must fit in a signed 32-bit register")
        if self.adc_low >= self.adc_high:
            raise bad("adc_low", f"must be < adc_high ({self.adc_high})")
        for key in _FLOAT_KEYS:
            value = getattr(self, key)
            if not math.isfinite(value) or value < 0:
                raise bad(key, "must be a finite number >= 0")
        if self.g_max_us <= 0:
            raise bad("g_max_us", "must be > 0")
        if self.t0_s <= 0:
            raise bad("t0_s", "must be > 0")
        if self.t_read_s <= 0:
            raise bad("t_read_s", "must be > 0")
        if self.mvm_latency_ns <= 0:
            raise bad("mvm_latency_ns", "must be > 0")
        if not 1 <= self.n_arrays <= 64:
            raise bad("n_arrays", "allowed 1..64")
        if not 0 <= self.seed < 2**63:
            raise bad("seed", "allowed 0 .. 2^63 - 1")

    # ------------------------------------------------------------------ derived quantities
    @property
    def w_max(self) -> int:
        """Largest weight magnitude: 2^(weight_bits-1) - 1 (the format is symmetric)."""
        return (1 << (self.weight_bits - 1)) - 1

    @property
    def dac_levels(self) -> int:
        """L: largest DAC level, 2^(dac_bits-1) - 1."""
        return (1 << (self.dac_bits - 1)) - 1

    @property
    def adc_levels(self) -> int:
        """q: largest output code, 2^(adc_bits-1) - 1."""
        return (1 << (self.adc_bits - 1)) - 1

    @property
    def code_range(self) -> int:
        """Largest non-negative integer stored by one polarity of a weight: w_max, or 2 w_max
        for the offset mapping (w + w_max)."""
        return 2 * self.w_max if self.mapping == "offset" else self.w_max

    @property
    def n_slices(self) -> int:
        """Devices per polarity of a weight: base-2^device_bits digits of ``code_range``."""
        return max(1, math.ceil(self.code_range.bit_length() / self.device_bits))

    @property
    def n_polarities(self) -> int:
        """2 for the differential pair (G+ and G- columns), else 1."""
        return 2 if self.mapping == "differential" else 1

    @property
    def device_cols_per_col(self) -> int:
        """Physical device columns per logical weight column (reference columns not counted)."""
        return self.n_polarities * self.n_slices

    @property
    def ref_cols(self) -> int:
        """Reference device columns (offset mapping: one per slice, shared by all columns)."""
        return self.n_slices if self.mapping == "offset" else 0

    @property
    def is_ideal(self) -> bool:
        """True when every non-ideality is off (the integer reference is then exact)."""
        return (self.prog_noise_scale == 0 and self.read_noise_scale == 0
                and self.drift_scale == 0 and self.output_noise_sigma == 0)

    # ------------------------------------------------------------------ construction
    def with_pcm_noise(self, **overrides) -> "ImaConfig":
        """This configuration with the [AIHW] PCM statistics switched on at scale 1 (programming
        noise, drift, read noise), plus any further overrides."""
        values = dict(prog_noise_scale=1.0, read_noise_scale=1.0, drift_scale=1.0)
        values.update(overrides)
        return replace(self, **values)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<ima config>") -> "ImaConfig":
        """Build from a mapping (e.g. a YAML section); unknown keys and bad values raise a
        one-line ImaConfigError that names ``source`` and the key."""
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict):
            raise ImaConfigError(f"{source}: expected a mapping of IMA parameters, got "
                                 f"{type(data).__name__}")
        for key, value in data.items():
            if key not in known:
                raise ImaConfigError(f"{source}: unknown key {key!r}; allowed: "
                                     f"{', '.join(sorted(known))}")
            if key in _STR_KEYS:
                ok = isinstance(value, str)
                what = "a string"
            elif key in _FLOAT_KEYS:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                what = "a number"
            else:
                ok = isinstance(value, int) and not isinstance(value, bool)
                what = "an integer"
            if not ok:
                raise ImaConfigError(f"{source}: {key} = {value!r}: must be {what}")
        values = {k: (float(v) if k in _FLOAT_KEYS else v) for k, v in data.items()}
        try:
            return cls(**values)
        except ImaConfigError as e:
            raise ImaConfigError(f"{source}: {e}") from None
