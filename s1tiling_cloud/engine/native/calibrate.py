"""Calibration of one window of a GRD measurement, as S1Tiling's chain does before ortho:
σ°/β°/γ°/DN from the LUTs, optional thermal noise removal with S1Tiling's zero rule, and the
border margins zeroed. Only the window is read and calibrated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from .denoise import fix_zeros
from .margins import BorderCuts, border_cuts, reset_margins

# normlim calibrates with β° and γ° RTC with σ° (behaviour §2.4): what is applied afterwards
# needs those as inputs.
LUT_OF_CALIBRATION = {"sigma": "sigma", "beta": "beta", "gamma": "gamma", "dn": "dn",
                      "normlim": "beta", "gamma_naught_rtc": "sigma"}


@dataclass(frozen=True)
class Window:
    """Rows [row0, row1) and columns [col0, col1) of the full image."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.row0, self.row1), slice(self.col0, self.col1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.row1 - self.row0, self.col1 - self.col0


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
    window: Window,
    calibration: str = "sigma",
    remove_thermal_noise: bool = True,
    lower_signal_value: float = 1e-7,
    cuts: BorderCuts | None = None,
) -> np.ndarray:
    """The calibrated intensity of `window` (float32, no-data 0, margins zeroed)."""
    try:
        kind = LUT_OF_CALIBRATION[calibration]
    except KeyError:
        raise ValueError(f"unknown calibration {calibration!r}; one of "
                         f"{sorted(LUT_OF_CALIBRATION)}") from None
    raw = product.open_group(f"{swath}/{pol}").measurement[window.slices].values
    lines = np.arange(window.row0, window.row1)
    pixels = np.arange(window.col0, window.col1)
    lut = calibration_lut(product.open_group(f"{swath}/{pol}/calibration"), kind, lines, pixels)
    noise = None
    if remove_thermal_noise:
        azimuth = (product.open_group(f"{swath}/{pol}/noise_azimuth")
                   if f"{swath}/{pol}/noise_azimuth" in product.groups else None)
        noise = noise_lut(product.open_group(f"{swath}/{pol}/noise_range"), azimuth, lines, pixels)
    image = calibrate(raw, lut, noise)
    image = fix_zeros(image, raw, lower_signal_value) if remove_thermal_noise else np.where(
        raw == 0, np.float32(0), image)
    if cuts is not None:
        full = product.open_group(f"{swath}/{pol}").measurement.shape
        reset_margins(image, cuts, window=(window.row0, window.col0), full_shape=full)
    return image.astype(np.float32, copy=False)
