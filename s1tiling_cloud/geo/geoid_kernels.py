"""The geoid's compiled interpolation (numba), apart from `geoid.Geoid` so that opening a
geoid, as planning does to check it, does not load numba (~0.15 s of a run's start).

Bilinear between the grid's nodes (`bilinear1`), for scattered points (`bilinear`) or every
pixel centre of a grid from a lon/lat lattice (`undulation_on_grid`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["bilinear", "bilinear1", "undulation_on_grid"]


@numba.njit(cache=True, inline="always")
def bilinear1(values, u, v, period, dlon):
    """Bilinear value at fractional (column u, row v); NaN outside the rows or a regional grid.

    With `period` > 0 the columns wrap: u is taken modulo `period`; else u may be off by a turn.
    """
    rows, cols = values.shape
    if not (v >= 0.0 and v <= rows - 1):
        return np.nan
    if period > 0:
        u -= math.floor(u / period) * period
        j0 = int(u)
        if j0 >= period:  # u just below a multiple of the period, rounded up
            j0 -= period
            u -= period
        j1 = j0 + 1 if j0 + 1 < period else 0
    else:
        turn = 360.0 / abs(dlon)  # a regional grid written in the other longitude convention
        if u < 0.0:
            u += turn
        elif u > cols - 1:
            u -= turn
        if not (u >= 0.0 and u <= cols - 1):
            return np.nan
        j0 = min(int(u), max(cols - 2, 0))
        j1 = min(j0 + 1, cols - 1)
    wu = u - j0
    i0 = min(int(v), max(rows - 2, 0))
    i1 = min(i0 + 1, rows - 1)
    wv = v - i0
    top = values[i0, j0] + wu * (values[i0, j1] - values[i0, j0])
    bottom = values[i1, j0] + wu * (values[i1, j1] - values[i1, j0])
    return top + wv * (bottom - top)


@numba.njit(cache=True, parallel=True)
def undulation_on_grid(clon, clat, step, values, lon0, lat0, dlon, dlat, period, row0, out,
                        add):  # pragma: no cover - compiled
    rows, cols = out.shape
    nr, nc = clon.shape
    # lattice cell and weight of every column, once
    cj0 = np.empty(cols, dtype=np.int64)
    cwj = np.empty(cols, dtype=np.float64)
    for j in range(cols):
        cj0[j] = min(j // step, nc - 2) if nc > 1 else 0
        cwj[j] = (j - cj0[j] * step) / step if nc > 1 else 0.0
    for i in numba.prange(rows):
        i0 = min(i // step, nr - 2) if nr > 1 else 0
        wi = (i - i0 * step) / step if nr > 1 else 0.0
        i1 = min(i0 + 1, nr - 1)
        for j in range(cols):
            j0 = cj0[j]
            j1 = min(j0 + 1, nc - 1)
            wj = cwj[j]
            top = clon[i0, j0] + wj * (clon[i0, j1] - clon[i0, j0])
            bottom = clon[i1, j0] + wj * (clon[i1, j1] - clon[i1, j0])
            lon = top + wi * (bottom - top)
            top = clat[i0, j0] + wj * (clat[i0, j1] - clat[i0, j0])
            bottom = clat[i1, j0] + wj * (clat[i1, j1] - clat[i1, j0])
            lat = top + wi * (bottom - top)
            value = bilinear1(values, (lon - lon0) / dlon, (lat - lat0) / dlat - row0, period, dlon)
            if add:
                out[i, j] += value
            else:
                out[i, j] = value


@numba.njit(cache=True, parallel=True)
def bilinear(values, u, v, period, dlon, out):  # pragma: no cover - compiled
    for k in numba.prange(u.size):
        out[k] = bilinear1(values, u[k], v[k], period, dlon)
