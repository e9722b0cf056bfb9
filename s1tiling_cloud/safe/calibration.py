"""Calibration vectors (`calibration-*.xml`) and the radiometric calibration they define.

σ°, β°, γ° and DN LUTs are amplitudes A: calibrated intensity = (|DN|² − noise) / A².
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import lut
from . import xmlnodes as x
from .annotation import AZIMUTH_TIME_ATTRS, attrs
from .group import Group

if TYPE_CHECKING:
    import xarray as xr

LUT_NAMES = {"sigma": "sigma_nought", "beta": "beta_nought", "gamma": "gamma", "dn": "dn"}
_TAGS = {"sigma_nought": "sigmaNought", "beta_nought": "betaNought", "gamma": "gamma", "dn": "dn"}


def calibration(root) -> Group:
    """The calibration vectors on their (line, pixel) grid."""
    nodes = x.findall(root, "calibrationVectorList/calibrationVector")
    pixels = [x.vector(n, "pixel", np.int64) for n in nodes]
    if any(p.shape != pixels[0].shape or (p != pixels[0]).any() for p in pixels):
        raise ValueError("calibration vectors do not share one pixel grid")
    data = {
        name: (("line", "pixel"), np.stack([x.vector(n, tag) for n in nodes]).astype(np.float32),
               attrs(tag, "1"))
        for name, tag in _TAGS.items()
    }
    return Group(
        data,
        coords={
            "line": ("line", x.column(nodes, "line", np.int64), attrs("line", "1", "image line")),
            "pixel": ("pixel", pixels[0], attrs("pixel", "1", "image pixel")),
            "azimuth_time": ("line", x.column(nodes, "azimuthTime", np.datetime64),
                             AZIMUTH_TIME_ATTRS),
        },
        attrs={
            "absolute_calibration_constant": x.number(
                root, "calibrationInformation/absoluteCalibrationConstant"
            )
        },
    )


def calibration_lut(
    cal: Group | xr.Dataset, kind: str, lines: np.ndarray, pixels: np.ndarray
) -> np.ndarray:
    """The amplitude LUT of `kind` ("sigma", "beta", "gamma", "dn") on (lines × pixels), float32,
    from the calibration group `cal` (its `Group` or its Dataset)."""
    try:
        name = LUT_NAMES[kind]
    except KeyError:
        raise ValueError(f"unknown calibration kind {kind!r}; one of {sorted(LUT_NAMES)}") from None
    values = cal[name].values
    pixel = cal["pixel"].values.astype(np.float64)
    out = lut.bilinear(cal["line"].values, [pixel] * len(values), list(values), lines, pixels)
    return out.astype(np.float32)


def calibrate(
    measurement: np.ndarray, amplitude_lut: np.ndarray, noise: np.ndarray | None = None
) -> np.ndarray:
    """Calibrated intensity (|DN|² − noise) / A², float32; the caller applies no-data rules."""
    power = np.abs(measurement).astype(np.float32) ** 2
    if noise is not None:
        power = power - noise.astype(np.float32)
    return power / np.square(amplitude_lut, dtype=np.float32)
