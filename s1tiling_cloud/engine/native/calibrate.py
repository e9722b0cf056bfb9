"""Calibration of one window of a GRD measurement, as S1Tiling's chain does before ortho:
σ°/β°/γ°/DN from the LUTs, optional thermal noise removal with S1Tiling's zero rule, and the
border margins zeroed. Only the window is read and calibrated."""

from __future__ import annotations

import numpy as np

from ...geo.tile_projection import RadarWindow
from ...safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from .denoise import fix_zeros
from .margins import BorderCuts, border_cuts, reset_margins

# normlim calibrates with β° and γ° RTC with σ° (behaviour §2.4): what is applied afterwards
# needs those as inputs.
LUT_OF_CALIBRATION = {"sigma": "sigma", "beta": "beta", "gamma": "gamma", "dn": "dn",
                      "normlim": "beta", "gamma_naught_rtc": "sigma"}


def product_border_cuts(product: Sentinel1Product, swath: str, pol: str,
                        override: bool | None = None) -> BorderCuts:
    """S1Tiling's AnalyseBorders: the IPF version and the zeros of rows 100 and height−100."""
    measurement = product.open_group(f"{swath}/{pol}").measurement
    height = measurement.shape[0]
    rows = measurement[[min(100, height - 1), max(height - 100, 0)], :].values
    return border_cuts(product.manifest.ipf_version, rows[0], rows[1], override)


def calibrate_window(
    product: Sentinel1Product,
    swath: str,
    pol: str,
    window: RadarWindow,
    calibration: str = "sigma",
    remove_thermal_noise: bool = True,
    lower_signal_value: float = 1e-7,
    cuts: BorderCuts | None = None,
    block_lines: int = 1024,
) -> np.ndarray:
    """The calibrated intensity of `window` (float32, no-data 0, margins zeroed), computed in
    blocks of lines so that the LUT and noise temporaries stay small."""
    try:
        kind = LUT_OF_CALIBRATION[calibration]
    except KeyError:
        raise ValueError(f"unknown calibration {calibration!r}; one of "
                         f"{sorted(LUT_OF_CALIBRATION)}") from None
    measurement = product.open_group(f"{swath}/{pol}").measurement
    calibration_ds = product.open_group(f"{swath}/{pol}/calibration")
    noise_range = azimuth = None
    if remove_thermal_noise:
        noise_range = product.open_group(f"{swath}/{pol}/noise_range")
        if f"{swath}/{pol}/noise_azimuth" in product.groups:
            azimuth = product.open_group(f"{swath}/{pol}/noise_azimuth")
    pixels = np.arange(window.pixel_start, window.pixel_stop)
    out = np.empty(window.shape, dtype=np.float32)
    for start in range(window.line_start, window.line_stop, block_lines):
        stop = min(start + block_lines, window.line_stop)
        raw = measurement[start:stop, window.pixel_start:window.pixel_stop].values
        lines = np.arange(start, stop)
        lut = calibration_lut(calibration_ds, kind, lines, pixels)
        noise = noise_lut(noise_range, azimuth, lines, pixels) if remove_thermal_noise else None
        block = calibrate(raw, lut, noise)
        if remove_thermal_noise:
            block = fix_zeros(block, raw, lower_signal_value)
        else:
            block[raw == 0] = 0.0
        out[start - window.line_start:stop - window.line_start] = block
    if cuts is not None:
        reset_margins(out, cuts, window=(window.line_start, window.pixel_start),
                      full_shape=measurement.shape)
    return out
