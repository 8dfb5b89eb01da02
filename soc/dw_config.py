"""Parameters of the depthwise (DW) accelerator's timing model (``soc.dw_device``).

Every parameter is defined once, with its unit in its name where it has one.  Sources: [G22]
in ``shared/reference/system-facts.md`` section 5 (the DW accelerator's microarchitecture);
values that [G22] does not give are marked "assumption" and discussed in ``docs/dw_accel.md``.
The published design is the default; the other values exist to study the model, not to tune it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from .cluster_config import ConfigError

KERNEL = 3                 # the accelerator computes 3x3 depthwise only ([G22])


@dataclass(frozen=True)
class DwConfig:
    """Microarchitecture of the DW accelerator (datapath, window buffer, schedule, limits)."""

    # datapath ([G22] section 5)
    channels_per_pass: int = 16          # filters kept stationary per block (3x3x16 weights)
    multipliers: int = 36                # multipliers + adder tree over 3x3x4
    channels_per_cycle: int = 4          # channels whose 3x3 MACs finish each cycle (36 / 9)
    window_rows: int = 4                 # window buffer rows: 3 of the window + 1 loading
    loop_cycles: int = 4                 # the per-output-row loop of the FSM: cycles 0-2 load,
    #                                      cycles 0-3 MAC, cycle 3 store + slide ([G22])
    # schedule details [G22] does not give
    setup_cycles: int = 0                # assumption: FSM cycles from port grant to first access
    padded_slot_cycles: int = 1          # assumption: a window slot that falls on the zero
    #                                      padding costs this many cycles (0 or 1) and no access
    # register limits
    max_channels: int = 4096             # assumption: 12-bit channel counter
    max_size: int = 1024                 # assumption: H and W up to 1024 (10-bit counters)
    channel_multiple: int = 4            # assumption: C a multiple of 4 and buffers 4-byte
    #                                      aligned, so every pixel's 16-channel slice is whole
    #                                      32-bit words (one 128-bit access)

    def __post_init__(self) -> None:
        def bad(key: str, allowed: str) -> ConfigError:
            return ConfigError(f"{key} = {getattr(self, key)!r}: {allowed}")

        for key in ("channels_per_pass", "multipliers", "channels_per_cycle", "window_rows",
                    "loop_cycles", "max_channels", "max_size", "channel_multiple"):
            if getattr(self, key) < 1:
                raise bad(key, "must be >= 1")
        if self.multipliers != KERNEL * KERNEL * self.channels_per_cycle:
            raise bad("multipliers", f"must be 9 * channels_per_cycle "
                      f"({KERNEL * KERNEL * self.channels_per_cycle}): one 3x3 window per "
                      "channel and cycle")
        if self.channels_per_pass % self.channels_per_cycle:
            raise bad("channels_per_pass", f"must be a multiple of channels_per_cycle "
                      f"({self.channels_per_cycle})")
        if self.window_rows != 4:
            raise bad("window_rows", "allowed 4 (3 window rows + 1 loading; the schedule of "
                      "soc.dw_device assumes it)")
        if self.loop_cycles < self.mac_cycles_per_pixel:
            raise bad("loop_cycles", f"must be >= channels_per_pass / channels_per_cycle "
                      f"({self.mac_cycles_per_pixel}): the MACs of one output pixel")
        if self.loop_cycles < KERNEL + 1:
            raise bad("loop_cycles", "must be >= 4 (3 pixel loads + 1 store on the one port)")
        if not 0 <= self.setup_cycles <= 1000:
            raise bad("setup_cycles", "allowed 0..1000")
        if self.padded_slot_cycles not in (0, 1):
            raise bad("padded_slot_cycles", "allowed 0 or 1")
        if self.channel_multiple not in (1, 2, 4):
            raise bad("channel_multiple", "allowed 1, 2, 4")
        if self.max_channels % self.channel_multiple:
            raise bad("max_channels", f"must be a multiple of channel_multiple "
                      f"({self.channel_multiple})")

    # ------------------------------------------------------------------ derived quantities
    @property
    def mac_cycles_per_pixel(self) -> int:
        """Cycles the multipliers need for one output pixel of a full block (16 / 4 = 4)."""
        return -(-self.channels_per_pass // self.channels_per_cycle)

    @property
    def peak_macs_per_cycle(self) -> int:
        """Multipliers busy every cycle (36)."""
        return self.multipliers

    @classmethod
    def from_dict(cls, data: dict, source: str = "<config>") -> "DwConfig":
        """Build from a mapping; unknown keys and bad values raise a one-line ConfigError."""
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key {key!r}; allowed: "
                                  f"{', '.join(sorted(known))}")
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{source}: {key} = {value!r}: must be an integer")
        try:
            return cls(**data)
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None


__all__ = ["DwConfig", "KERNEL"]
