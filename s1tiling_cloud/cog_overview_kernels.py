"""The numba kernel of `cog_overviews`' AVERAGE (that module says what it computes).

In a module of its own so that writing a COG without float overviews (masks, no overviews)
does not load numba. Serial: the five levels of a 10980² tile take ~0.1 CPU s, as much as in
parallel, and the ortho stage encodes each polarisation in a thread while its main thread
computes the next one. The kernels release the GIL (`nogil`), so they do not stop those other
threads.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["average", "average_by_two"]


@numba.njit(cache=True, inline="always")
def _valid(value, nodata, nodata_is_nan):
    """Whether a pixel counts: not NaN for a NaN no-data, else not equal to the no-data."""
    return not np.isnan(value) if nodata_is_nan else value != nodata


@numba.njit(cache=True, inline="always")
def _edge_weight(k, start, stop, first, last):
    """The weight of row (column) `k` of a footprint [start, stop): `first` for its first,
    `last` for its last, 1 inside (a one-pixel footprint takes `first`)."""
    if k == start:
        return first
    if k == stop - 1:
        return last
    return 1.0


@numba.njit(cache=True, nogil=True)
def average(src, y_start, y_stop, y_first, y_last, x_start, x_stop, x_first, x_last,
            nodata, nodata_is_nan, replacement, out):
    """`out[i, j]` = weighted mean of the valid pixels of `src` in rows
    [y_start[i], y_stop[i]) and columns [x_start[j], x_stop[j]); the first and last row
    (column) weigh y_first[i] and y_last[i] (x_first[j], x_last[j]), the others 1. Sums are
    float64, accumulated row by row of the footprint as GDAL does. No valid pixel: `nodata`;
    a mean equal to `nodata`: `replacement`."""
    rows, cols = out.shape
    for i in range(rows):
        a, b = y_start[i], y_stop[i]
        for j in range(cols):
            c, d = x_start[j], x_stop[j]
            total = 0.0
            weight = 0.0
            count = 0
            for y in range(a, b):
                line = 0.0
                line_weight = 0.0
                for x in range(c, d):
                    value = src[y, x]
                    if _valid(value, nodata, nodata_is_nan):
                        count += 1
                        w = _edge_weight(x, c, d, x_first[j], x_last[j])
                        line += np.float64(value) * w
                        line_weight += w
                wy = _edge_weight(y, a, b, y_first[i], y_last[i])
                total += line * wy
                weight += line_weight * wy
            if count == 0:
                out[i, j] = nodata
            else:
                mean = np.float32(total / weight)
                if not nodata_is_nan and mean == nodata:
                    mean = replacement
                out[i, j] = mean


@numba.njit(cache=True, nogil=True)
def average_by_two(src, nodata, nodata_is_nan, replacement, out):
    """`average` where `src` is exactly twice `out` on both axes: every footprint is 2 × 2
    whole pixels (weights 1), which lets the loop run without the footprint tables."""
    rows, cols = out.shape
    for i in range(rows):
        top = src[2 * i]
        bottom = src[2 * i + 1]
        for j in range(cols):
            a = top[2 * j]
            b = top[2 * j + 1]
            c = bottom[2 * j]
            d = bottom[2 * j + 1]
            va = _valid(a, nodata, nodata_is_nan)
            vb = _valid(b, nodata, nodata_is_nan)
            vc = _valid(c, nodata, nodata_is_nan)
            vd = _valid(d, nodata, nodata_is_nan)
            count = np.int32(va) + np.int32(vb) + np.int32(vc) + np.int32(vd)
            upper = (np.float64(a) if va else 0.0) + (np.float64(b) if vb else 0.0)
            lower = (np.float64(c) if vc else 0.0) + (np.float64(d) if vd else 0.0)
            if count == 0:
                out[i, j] = nodata
            else:
                mean = np.float32((upper + lower) / count)
                if not nodata_is_nan and mean == nodata:
                    mean = replacement
                out[i, j] = mean
