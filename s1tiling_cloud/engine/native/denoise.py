"""S1Tiling's rule for zeros after calibration with thermal-noise removal (CorrectDenoising).

Noise subtraction drives weak but valid pixels to 0 (OTB's SARCalibration clamps negative
values to 0), which downstream steps would take for no-data. S1Tiling therefore runs
`BandMath -il cal raw -exp "im2b1==0 ? 0 : im1b1==0 ? {lower_signal_value} : im1b1"`: a raw 0
(true no-data, including the IPF >= 2.90 side bands) stays 0, a denoised 0 becomes
`lower_signal_value` (1e-7 by default). Here "denoised 0" is "<= 0", which also covers a
calibration that does not clamp negative values.
"""

from __future__ import annotations

import numba
import numpy as np

DEFAULT_LOWER_SIGNAL_VALUE = 1e-7


@numba.njit(cache=True, parallel=True)
def _fix_zeros(cal, raw, low, out):
    for i in numba.prange(cal.size):
        if raw[i] == 0:
            out[i] = 0.0
        elif cal[i] <= 0.0:
            out[i] = low
        else:
            out[i] = cal[i]


def fix_zeros(
    calibrated: np.ndarray,
    raw: np.ndarray,
    lower_signal_value: float = DEFAULT_LOWER_SIGNAL_VALUE,
) -> np.ndarray:
    """raw == 0 → 0 (no-data); calibrated <= 0 where raw != 0 → `lower_signal_value`; else
    unchanged (NaN included). Returns a new float32 array of the same shape."""
    if lower_signal_value <= 0:
        raise ValueError(f"lower_signal_value must be > 0, got {lower_signal_value}")
    cal = np.asarray(calibrated, dtype=np.float32)
    raw = np.asarray(raw)
    if cal.shape != raw.shape:
        raise ValueError(f"calibrated {cal.shape} and raw {raw.shape} differ in shape")
    out = np.empty(cal.shape, dtype=np.float32)
    _fix_zeros(np.ascontiguousarray(cal).reshape(-1), np.ascontiguousarray(raw).reshape(-1),
               np.float32(lower_signal_value), out.reshape(-1))
    return out
