"""Resampling of a radar image window at fractional (line, pixel) positions: the last step of
orthorectification, for every output pixel of a tile.

Methods: `nearest`, `linear` (bilinear) and `bicubic` (Keys' cubic convolution, a = −0.5, a
4×4 support, as OTB's BCO interpolator with radius 2). No-data is 0, as in S1Tiling: a
position outside the window, or a NaN position, gives 0; where a linear or bicubic support
touches a no-data sample (image borders, cut margins), the nearest sample is used instead, so
the border of the valid area never blends with zeros (that would bias σ° at the swath edge).
"""

from __future__ import annotations

import numba
import numpy as np

METHODS = ("nearest", "linear", "bicubic")
#: Every accepted name (ours and S1Tiling's `orthorectification_interpolation_method`) → method.
INTERPOLATION_NAMES = {"nearest": "nearest", "nn": "nearest", "linear": "linear",
                       "bicubic": "bicubic", "bco": "bicubic", "cubic": "bicubic"}
_CODES = {name: METHODS.index(method) for name, method in INTERPOLATION_NAMES.items()}


@numba.njit(cache=True, inline="always")
def _keys(t: float) -> float:
    """Keys' cubic convolution kernel with a = −0.5."""
    t = abs(t)
    if t <= 1.0:
        return (1.5 * t - 2.5) * t * t + 1.0
    if t < 2.0:
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return 0.0


@numba.njit(cache=True, inline="always")
def _nearest(src, r, c):
    i = int(np.floor(r + 0.5))
    j = int(np.floor(c + 0.5))
    if i < 0 or j < 0 or i >= src.shape[0] or j >= src.shape[1]:
        return 0.0
    return src[i, j]


@numba.njit(cache=True, inline="always")
def _linear(src, r, c):
    i = int(np.floor(r))
    j = int(np.floor(c))
    if i < 0 or j < 0 or i + 1 >= src.shape[0] or j + 1 >= src.shape[1]:
        return _nearest(src, r, c)
    a = src[i, j]
    b = src[i, j + 1]
    d = src[i + 1, j]
    e = src[i + 1, j + 1]
    if a == 0.0 or b == 0.0 or d == 0.0 or e == 0.0:
        return _nearest(src, r, c)
    fr = r - i
    fc = c - j
    return (a * (1.0 - fc) + b * fc) * (1.0 - fr) + (d * (1.0 - fc) + e * fc) * fr


@numba.njit(cache=True, inline="always")
def _bicubic(src, r, c):
    i = int(np.floor(r))
    j = int(np.floor(c))
    if i < 1 or j < 1 or i + 2 >= src.shape[0] or j + 2 >= src.shape[1]:
        return _nearest(src, r, c)
    fr = r - i
    fc = c - j
    total = 0.0
    for di in range(-1, 3):
        wr = _keys(fr - di)
        row = 0.0
        for dj in range(-1, 3):
            v = src[i + di, j + dj]
            if v == 0.0:
                return _nearest(src, r, c)
            row += v * _keys(fc - dj)
        total += wr * row
    return total


@numba.njit(cache=True, parallel=True)
def _resample(src, lines, pixels, row0, col0, method, out):
    rows, cols = lines.shape
    height, width = src.shape
    for y in numba.prange(rows):
        for x in range(cols):
            r = lines[y, x] - row0
            c = pixels[y, x] - col0
            if not (r > -0.5 and c > -0.5 and r < height - 0.5 and c < width - 0.5):
                out[y, x] = 0.0  # NaN positions fail these comparisons too
                continue
            if method == 0:
                v = _nearest(src, r, c)
            elif method == 1:
                v = _linear(src, r, c)
            else:
                v = _bicubic(src, r, c)
            out[y, x] = v


def resample(
    window: np.ndarray,
    lines: np.ndarray,
    pixels: np.ndarray,
    origin: tuple[int, int] = (0, 0),
    method: str = "nearest",
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Values of `window` (float32, no-data 0) at product positions (`lines`, `pixels`),
    float64 (or float32, to halve a tile's memory) arrays of the output's shape; `origin` is
    the window's (row, col) in the product. `out`: a C-contiguous float32 array of the
    output's shape to write into (one no longer needed, e.g. the tile's heights once
    projected: it saves the page faults of fresh memory); None: a new array."""
    try:
        code = _CODES[method]
    except KeyError:
        raise ValueError(f"unknown resampling method {method!r}; one of {METHODS}") from None
    dtype = np.float32 if np.asarray(lines).dtype == np.float32 else np.float64
    lines = np.ascontiguousarray(lines, dtype=dtype)
    pixels = np.ascontiguousarray(pixels, dtype=dtype)
    if lines.shape != pixels.shape:
        raise ValueError(f"lines {lines.shape} and pixels {pixels.shape} differ in shape")
    if out is None:
        out = np.empty(lines.shape, dtype=np.float32)
    elif out.shape != lines.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {lines.shape}")
    src = np.ascontiguousarray(window, dtype=np.float32)
    _resample(src, lines, pixels, float(origin[0]), float(origin[1]), code, out)
    return out
