"""The per-pixel arithmetic of the two terrain corrections, NORMLIM and γ° RTC, in one numba pass.

Both are float64 arithmetic on float32 tiles written as float32 (as OTB's BandMath does).
Written with numpy the formulas held five tile-sized float64 temporaries (~5 GB for a 10 m
tile, and a request runs the VV and VH stages at once); here each pixel is read, computed and
written once. The rules:

    NORMLIM:  (isnan(sin_LIA) || β° == 0 || isnan(β°)) ? 0 : max(lower_signal_value, β° · sin_LIA)
    γ° RTC:   g = A_γ / A_ref;  v = σ° / g;  (!isfinite(v) || σ° == 0 || !(g >= min_area)) ? 0 : v
              then × calibration_factor in float32 when it is not 1

NaN propagates through the max as numpy's `maximum` does (β° = ±inf with sin_LIA = 0).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["gamma_naught_rtc", "normlim"]


@numba.njit(cache=True, parallel=True)
def _normlim(beta, sin_lia, lower, out):
    rows, cols = beta.shape
    for y in numba.prange(rows):
        for x in range(cols):
            b = np.float64(beta[y, x])
            s = np.float64(sin_lia[y, x])
            if np.isnan(s) or b == 0.0 or np.isnan(b):
                out[y, x] = 0.0
            else:
                v = b * s
                out[y, x] = v if (np.isnan(v) or v > lower) else lower


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _gamma_rtc(sigma, area, reference, min_area, factor, out):
    rows, cols = sigma.shape
    scale = factor != 1.0
    f32_factor = np.float32(factor)
    for y in numba.prange(rows):
        for x in range(cols):
            s = np.float64(sigma[y, x])
            g = np.float64(area[y, x]) / reference
            v = s / g
            bad = not np.isfinite(v) or s == 0.0 or not g >= min_area
            value = np.float32(0.0) if bad else np.float32(v)
            out[y, x] = value * f32_factor if scale else value


def _tile_pair(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape or first.ndim != 2:
        raise ValueError(f"expected two 2-D arrays of one shape, got {first.shape} and {second.shape}")
    return first, second


def normlim(beta0: np.ndarray, sin_lia: np.ndarray, lower_signal_value: float = 1e-7) -> np.ndarray:
    """σ°_NORMLIM from β° and sin(LIA) (2-D, one shape): float32, 0 where β° is 0 or NaN or
    sin(LIA) is NaN, else max(`lower_signal_value`, β° · sin(LIA)) computed in float64.

    Parameters
    ----------
    beta0, sin_lia : numpy.ndarray
        β° and the sin LIA map on the same grid.
    lower_signal_value : float
        S1Tiling's `lower_signal_value`: the least value of a valid pixel.
    """
    beta0, sin_lia = _tile_pair(beta0, sin_lia)
    out = np.empty(beta0.shape, dtype=np.float32)
    _normlim(beta0, sin_lia, float(lower_signal_value), out)
    return out


def gamma_naught_rtc(sigma0: np.ndarray, gamma_area: np.ndarray, reference_area: float,
                     min_gamma_area: float, calibration_factor: float = 1.0) -> np.ndarray:
    """γ°_T = calibration_factor · σ° · A_ref / A_γ (float32): 0 where σ° is 0, the quotient is
    not finite (NaN map, zero area) or A_γ / A_ref is below `min_gamma_area / A_ref` (shadow).

    Parameters
    ----------
    sigma0, gamma_area : numpy.ndarray
        σ° and the γ-area map (m²) on the same grid.
    reference_area : float
        A_σ,E, the ellipsoid area of a radar pixel (m²) the map's areas are relative to.
    min_gamma_area : float
        S1Tiling's `min_gamma_area` (m²).
    calibration_factor : float
        S1Tiling's `calibration_factor`, applied to the float32 result when not 1.
    """
    sigma0, gamma_area = _tile_pair(sigma0, gamma_area)
    out = np.empty(sigma0.shape, dtype=np.float32)
    _gamma_rtc(sigma0, gamma_area, float(reference_area), min_gamma_area / reference_area,
               float(calibration_factor), out)
    return out
