"""GRD slant↔ground range conversion with the annotation's polynomials.

Each `coordinateConversion` record holds, at one azimuth time, a polynomial from slant range
to ground range (in `sr − sr0`) and its inverse (in `gr − gr0`), in metres. The IPF applies
the record NEAREST in azimuth time to each line: with it, ESA's geolocation grid is reproduced
to 1e-10 m, while interpolating between records is off by up to 3.7 m (0.37 pixel) on the
fixtures (tests/safe/test_radiometry.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .annotation import SPEED_OF_LIGHT

if TYPE_CHECKING:
    import xarray as xr

    from .group import Group


def _nearest(cc: Group | xr.Dataset, azimuth_time: np.ndarray, coefficients: str, origin: str):
    """Coefficients and origin of the record nearest in time to each azimuth time."""
    times = cc["azimuth_time"].values.astype("datetime64[ns]").astype(np.int64)
    t = np.asarray(azimuth_time, dtype="datetime64[ns]").astype(np.int64)
    right = np.clip(np.searchsorted(times, t), 1, max(times.size - 1, 1))
    left = right - 1
    if times.size == 1:
        index = np.zeros(t.shape, dtype=np.int64)
    else:
        index = np.where(np.abs(t - times[left]) <= np.abs(times[right] - t), left, right)
    table = np.nan_to_num(cc[coefficients].values)
    return table[index], cc[origin].values[index]


def _horner(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x, dtype=np.float64)
    for k in range(coeffs.shape[-1] - 1, -1, -1):
        out = out * x + coeffs[..., k]
    return out


def slant_to_ground_range(cc: Group | xr.Dataset, azimuth_time, slant_range) -> np.ndarray:
    """Ground range (m) of slant ranges (m) at azimuth times (arrays broadcast together)."""
    azimuth_time, slant_range = np.broadcast_arrays(
        np.asarray(azimuth_time, dtype="datetime64[ns]"), np.asarray(slant_range, np.float64)
    )
    coeffs, sr0 = _nearest(cc, azimuth_time, "srgr_coefficients", "sr0")
    return _horner(coeffs, slant_range - sr0)


def ground_to_slant_range(cc: Group | xr.Dataset, azimuth_time, ground_range) -> np.ndarray:
    """Slant range (m) of ground ranges (m) at azimuth times (arrays broadcast together)."""
    azimuth_time, ground_range = np.broadcast_arrays(
        np.asarray(azimuth_time, dtype="datetime64[ns]"), np.asarray(ground_range, np.float64)
    )
    coeffs, gr0 = _nearest(cc, azimuth_time, "grsr_coefficients", "gr0")
    return _horner(coeffs, ground_range - gr0)


def pixel_to_slant_range_time(cc: Group | xr.Dataset, azimuth_time, pixel, range_pixel_spacing: float):
    """Two-way slant range time (s) of GRD pixels: ground range = pixel × spacing."""
    ground_range = np.asarray(pixel, dtype=np.float64) * range_pixel_spacing
    return 2.0 * ground_to_slant_range(cc, azimuth_time, ground_range) / SPEED_OF_LIGHT


def slant_range_time_to_pixel(cc: Group | xr.Dataset, azimuth_time, slant_range_time,
                              range_pixel_spacing: float) -> np.ndarray:
    """GRD pixel (fractional) of two-way slant range times."""
    slant_range = np.asarray(slant_range_time, dtype=np.float64) * SPEED_OF_LIGHT / 2.0
    return slant_to_ground_range(cc, azimuth_time, slant_range) / range_pixel_spacing
