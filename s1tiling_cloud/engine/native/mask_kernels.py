"""The numba kernels of the border mask's opening (`engine.native.mask` says what they compute).

In a module of their own so that `engine.native.mask`'s constants (the radius a stage records)
load without numba: a `mask` stage that reuses its output never imports it. Parallel over rows:
on 2 cores that costs less CPU than one thread, about half of it for a 10980² tile
(`benchmarks/mask_tile.py`; the figures and their runs: docs/benchmarks.md, the border mask).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["dilate_rows", "erode_rows", "row_distance"]


@numba.njit(cache=True, parallel=True)
def row_distance(src, target_is_foreground, cap, dist):
    """Distance, capped at `cap`, from each pixel to the nearest pixel of its row that is
    foreground (`src != 0`) if `target_is_foreground`, background otherwise; pixels outside
    the image are never targets. Computed as the number of h in [0, cap) whose window
    [x - h, x + h] holds no target: cap - 1 rounds of byte-wise ANDs, which vectorise."""
    rows, cols = src.shape
    n = np.uint64(cols)
    zero = np.uint64(0)
    for y in numba.prange(rows):
        free = np.empty(cols, dtype=np.uint8)  # 1 where the pixel is not a target
        for x in range(cols):
            free[x] = (src[y, x] != 0) != target_is_foreground
        clear = free.copy()  # 1 where [x - h, x + h] holds no target
        d = dist[y]
        d[:] = clear
        for h in range(1, cap):
            # unsigned indices: no negative-index wraparound, so the loops vectorise
            hu = np.uint64(h)
            for x in range(hu, n):
                clear[x] = clear[x] & free[x - hu]
            for x in range(zero, n - hu):
                clear[x] = clear[x] & free[x + hu]
            for x in range(zero, n):
                d[x] = d[x] + clear[x]


@numba.njit(cache=True, parallel=True)
def erode_rows(dist, widths, out):
    """`out` = 1 where, for every row k of the ball within the image, the row distance to
    background is > its half-width `widths[k]` (rows outside the image count as foreground)."""
    rows, cols = dist.shape
    ry = widths.size // 2
    for y in numba.prange(rows):
        for x in range(cols):
            out[y, x] = 1
        for k in range(widths.size):
            yy = y + k - ry
            if yy < 0 or yy >= rows:
                continue  # rows outside the image are foreground
            need = np.uint8(widths[k] + 1)  # no background pixel within the half-width
            for x in range(cols):
                out[y, x] &= np.uint8(dist[yy, x] >= need)


@numba.njit(cache=True, parallel=True)
def dilate_rows(dist, widths, out):
    """`out` = 1 where, for some row k of the ball within the image, the row distance to
    foreground is <= its half-width `widths[k]` (rows outside the image count as background)."""
    rows, cols = dist.shape
    ry = widths.size // 2
    for y in numba.prange(rows):
        for x in range(cols):
            out[y, x] = 0
        for k in range(widths.size):
            yy = y + k - ry
            if yy < 0 or yy >= rows:
                continue  # rows outside the image are background
            reach = np.uint8(widths[k])
            for x in range(cols):
                out[y, x] |= np.uint8(dist[yy, x] <= reach)
