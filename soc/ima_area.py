"""Area model of the IMA: crossbar array, row DACs, column ADCs and digital periphery, per mapping
mode, calibrated to the published 0.83 mm^2 per 256 x 256 IMA ([G22], system-facts section 4).

Calibration point (``CALIBRATION``): the published IMA, i.e. 256 rows x 256 weight columns of
4-bit signed weights stored **differentially** (HERMES' 8T4R cell: a G+ half and a G- half, each
a 4T2R "device slot"), 256 8-bit pulse-width row DACs, 256 8-bit column ADCs (one per weight
column: G+ - G- is taken in the analog domain) and the digital periphery, sequential execution
model.  The differential mapping is the calibration mode because HERMES stores signed weights as
a conductance difference; the unipolar and offset modes of [GR20] drop one half of the cell.

Shares of the 0.83 mm^2 (``SHARES``):
    digital periphery 12.5 % -- derived: [G22] reports that the pipelined execution model adds
        about 40 % IMA digital logic for about +5 % IMA area, so digital = 0.05 / 0.40;
    array 35 %, ADCs 40 %, DACs 12.5 % -- assumptions (no public breakdown in the sources);
        ``docs/ima_analog.md`` gives the sensitivity of each mode's area to them.

Scaling from the calibration point:
    array    proportional to device slots = rows x (cols x polarities x slices + reference cols)
             (differential doubles the columns; unipolar and offset do not; bit slicing
             multiplies them; offset adds one reference column per slice);
    ADCs     proportional to weight columns x adc_bits / 8 (a counter-based CCO ADC grows with
             its bit count; one ADC per weight column in every mode, slices combined in analog);
    DACs     proportional to rows x dac_bits / 8;
    digital  proportional to (rows + cols) / 512 (row and column buffers, job control), x 1.4
             for the pipelined execution model ([G22]).
"""
from __future__ import annotations

from dataclasses import dataclass

from soc.ima_config import ImaConfig

IMA_AREA_MM2 = 0.83                       # [G22]: per 256 x 256 IMA (HERMES, scaled to 22 nm)
SHARES = {"array": 0.35, "adc": 0.40, "dac": 0.125, "digital": 0.125}
PIPELINED_DIGITAL_FACTOR = 1.4            # [G22]: +40 % IMA digital logic when pipelined
CALIBRATION = ImaConfig(rows=256, cols=256, weight_bits=4, device_bits=4, mapping="differential",
                        dac_bits=8, adc_bits=8)

_CAL_SLOTS = 256 * 256 * 2                # rows x weight columns x (G+, G-)
SLOT_MM2 = SHARES["array"] * IMA_AREA_MM2 / _CAL_SLOTS          # one 4T2R device slot
ADC_MM2 = SHARES["adc"] * IMA_AREA_MM2 / 256                    # one 8-bit column ADC
DAC_MM2 = SHARES["dac"] * IMA_AREA_MM2 / 256                    # one 8-bit row DAC
DIGITAL_PORT_MM2 = SHARES["digital"] * IMA_AREA_MM2 / 512       # per row + per column


@dataclass(frozen=True)
class ImaArea:
    """Area breakdown of one IMA in mm^2."""

    array_mm2: float
    adc_mm2: float
    dac_mm2: float
    digital_mm2: float
    device_slots: int

    @property
    def total_mm2(self) -> float:
        return self.array_mm2 + self.adc_mm2 + self.dac_mm2 + self.digital_mm2

    def as_dict(self) -> dict:
        return {"array_mm2": self.array_mm2, "adc_mm2": self.adc_mm2, "dac_mm2": self.dac_mm2,
                "digital_mm2": self.digital_mm2, "total_mm2": self.total_mm2,
                "device_slots": self.device_slots}


def device_slots(cfg: ImaConfig) -> int:
    """Device slots of the array: rows x (cols x polarities x slices + reference columns)."""
    return cfg.rows * (cfg.cols * cfg.device_cols_per_col + cfg.ref_cols)


def ima_area(cfg: ImaConfig, pipelined: bool = False) -> ImaArea:
    """Area of an IMA with the geometry, converters and mapping of ``cfg``."""
    slots = device_slots(cfg)
    digital = DIGITAL_PORT_MM2 * (cfg.rows + cfg.cols)
    if pipelined:
        digital *= PIPELINED_DIGITAL_FACTOR
    return ImaArea(array_mm2=SLOT_MM2 * slots,
                   adc_mm2=ADC_MM2 * cfg.cols * cfg.adc_bits / 8,
                   dac_mm2=DAC_MM2 * cfg.rows * cfg.dac_bits / 8,
                   digital_mm2=digital,
                   device_slots=slots)
