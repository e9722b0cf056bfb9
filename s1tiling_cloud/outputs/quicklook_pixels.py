"""How a quicklook turns backscatter into bytes: S1Tiling's linear mapping, or a dB stretch.

S1Tiling maps `[0, scale_<pol>]` linearly onto `[0, 255]`: with its default scales a σ° of
-12 dB reads 32 of 255 in VV, and everything below a few per cent of the scale is black. The
`db` stretch keeps the same per-polarisation `scale_<pol>` as its white point (the value
S1Tiling maps to 255 is white in both) and spreads the `DB_RANGE` decibels below it over
1..255: water, fields, forest and towns each get their own grey. No-data (0, NaN) is 0 in both,
and only no-data is 0 in `db`, so a viewer may show it transparent (the report page does).
S1Tiling's quicklook keeps one pixel in 1/ratio² (nearest sampling): a speckled image stays
speckled. The `db` quicklook averages the valid σ° of each output pixel's cell instead (a
multi-look), which is what makes the land cover readable at 5 or 10 %.
"""

from __future__ import annotations

import math

import numba
import numpy as np

STRETCHES = ("db", "linear")
#: Decibels below the white point (10 log10 scale_<pol>) that reach byte 1.
DB_RANGE = 22.0


def shrink(image: np.ndarray, ratio: float, stretch: str) -> np.ndarray:
    """The image at `ratio`% of its size, as the stretch shows it (`sample` or `average`)."""
    return average(image, ratio) if stretch == "db" else sample(image, ratio)


def _size(height: int, width: int, ratio: float) -> tuple[int, int]:
    return max(1, round(height * ratio / 100)), max(1, round(width * ratio / 100))


def average(image: np.ndarray, ratio: float) -> np.ndarray:
    """`ratio`% of the image's size, each pixel the mean of the valid (> 0) values of its cell;
    0 where a cell has none. One pass, no temporary the size of the image."""
    values = np.asarray(image)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    height, width = values.shape
    out_h, out_w = _size(height, width, ratio)
    rows = (np.arange(out_h + 1) * height) // out_h
    cols = (np.arange(out_w + 1) * width) // out_w
    return _cell_means(values, rows, cols)


@numba.njit(cache=True)
def _cell_means(values, rows, cols):  # pragma: no cover - numba
    out_h, out_w = rows.size - 1, cols.size - 1
    total = np.zeros((out_h, out_w))
    count = np.zeros((out_h, out_w))
    cell_of_col = np.empty(values.shape[1], np.int64)
    for c in range(out_w):
        cell_of_col[cols[c]:cols[c + 1]] = c
    for r in range(out_h):
        for i in range(rows[r], rows[r + 1]):
            for j in range(values.shape[1]):
                v = values[i, j]
                if v > 0:  # False for NaN
                    total[r, cell_of_col[j]] += v
                    count[r, cell_of_col[j]] += 1.0
    for r in range(out_h):
        for c in range(out_w):
            total[r, c] = total[r, c] / count[r, c] if count[r, c] > 0 else 0.0
    return total


def sample(image: np.ndarray, ratio: float) -> np.ndarray:
    """`ratio`% of the image's size, nearest sampling at the output pixels' centres
    (`gdal.Translate(widthPct=heightPct=ratio)` with its default resampling)."""
    height, width = image.shape
    out_h, out_w = _size(height, width, ratio)
    rows = np.minimum(((np.arange(out_h) + 0.5) * height / out_h).astype(np.int64), height - 1)
    cols = np.minimum(((np.arange(out_w) + 0.5) * width / out_w).astype(np.int64), width - 1)
    return image[np.ix_(rows, cols)]


def to_bytes(values: np.ndarray, scale: float, stretch: str = "linear") -> np.ndarray:
    """uint8 quicklook pixels of backscatter `values` (linear) for `scale` (see module)."""
    values = np.asarray(values, dtype=np.float64)
    if stretch == "linear":
        byte = np.floor(np.clip(np.nan_to_num(values, nan=0.0) * (255.0 / scale), 0, 255) + 0.5)
        return np.minimum(byte, 255).astype(np.uint8)
    if stretch != "db":
        raise ValueError(f"quicklook stretch must be one of {STRETCHES}, not {stretch!r}")
    low, high = db_bounds(scale)
    valid = np.isfinite(values) & (values > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10.0 * np.log10(np.where(valid, values, 1.0))
    byte = np.floor(1.0 + np.clip((db - low) / (high - low), 0.0, 1.0) * 254.0 + 0.5)
    return np.where(valid, byte, 0).astype(np.uint8)


def db_bounds(scale: float) -> tuple[float, float]:
    """(dB at byte 1, dB at byte 255) of the `db` stretch for `scale`."""
    high = 10.0 * math.log10(scale)
    return high - DB_RANGE, high


def pixel_range(scale: float, stretch: str) -> str:
    """The `QUICKLOOK_PIXEL_RANGE` tag: S1Tiling's `0 .. scale`, or the dB bounds."""
    if stretch == "db":
        low, high = db_bounds(scale)
        return f"{low:.1f} .. {high:.1f} dB"
    return f"0 .. {scale}"
