"""LIA and IA maps from a lattice: exact geometry every 160 m, one numba pass between.

The exact maps (`lia`) project every pixel through pyproj and solve its zero-Doppler time by
Newton: ~120 s for a 10 m tile. Everything they need but the heights is smooth over a tile, so
here it is computed exactly on a lattice and interpolated:

- the ground point of a pixel at height h is G + h·n exactly (G its point on the ellipsoid, n
  the ellipsoid normal: `geodetic_to_ecef`'s formula); G and n are exact at the lattice nodes
  (pyproj) and bilinear between (the UTM → geodetic mapping bends by ~Δ²/8R: < 1 mm over a
  160 m cell);
- the satellite at the zero-Doppler time of a lattice node is solved exactly (Newton) at the
  lowest and the highest height of the tile, and taken linearly in the pixel's height between
  (the zero-Doppler time moves by ~0.1 ms per km of height, the satellite by < 1 m: a look
  direction change of 1e-4° at most) and bilinearly between nodes;
- the ground normal is ∂P/∂row × ∂P/∂col from the pixels' points, with `numpy.gradient`'s
  differences (central inside, second-order one-sided on the edges), as the exact maps do.

The angles are the exact maps' to well within 0.01° (tests: `tests/engine/test_lia_lattice.py`
against `lia_map`/`ia_map`), in a few seconds per 10 m tile.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ...geo.ellipsoid import ellipsoid_normal, geodetic_to_ecef
from ...geo.grid import Grid
from ...geo.orbit import Orbit
from ...geo.range_doppler import zero_doppler

__all__ = ["STEP_M", "ia_lattice", "lia_lattice", "lattice_step"]

#: Lattice spacing: 160 m (16 pixels at 10 m, 3 at 60 m), at least 2 pixels.
STEP_M = 160.0
_CHUNK = 32  # rows per parallel task
_MODES = {"full": 0, "range_plane": 1}


def lattice_step(grid: Grid) -> int:
    """Pixels between lattice nodes on `grid`."""
    return max(2, int(round(STEP_M / grid.resolution_m)))


def _lattice(grid: Grid, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Ellipsoid points and normals (R, C, 3) at every `step` pixel centres, past the last."""
    rows, cols = grid.shape
    # nodes up to one past the last pixel's cell: its interpolation reads nodes i and i + 1
    r = np.arange((rows - 1) // step + 2, dtype=np.float64) * step
    c = np.arange((cols - 1) // step + 2, dtype=np.float64) * step
    x, y = grid.xy(r[:, None], c[None, :])
    lon, lat = grid.lonlat(x, y)
    ground = geodetic_to_ecef(lat, lon, 0.0)
    return np.ascontiguousarray(ground), np.ascontiguousarray(ellipsoid_normal(lat, lon))


def _satellites(orbit: Orbit, ground: np.ndarray, normal: np.ndarray, height: float) -> np.ndarray:
    """The satellite (R, C, 3) at the exact zero-Doppler time of each node at `height`; NaN
    where that time falls outside the orbit's state vectors."""
    t, _ = zero_doppler(orbit, ground + height * normal)
    sat, _ = orbit.interpolate(np.where(np.isfinite(t), t, orbit.start))
    sat[~np.isfinite(t)] = np.nan
    return np.ascontiguousarray(sat)


def lia_lattice(grid: Grid, heights: np.ndarray, orbit: Orbit, *, normal: str = "full",
                step: int | None = None) -> np.ndarray:
    """LIA (degrees, float32; NaN where unknown) of `grid` with ellipsoidal `heights`; see
    `engine.native.lia.lia_blocks` for the angles' definitions (`normal`)."""
    if normal not in _MODES:
        raise ValueError(f"normal must be 'full' or 'range_plane', got {normal!r}")
    heights = np.ascontiguousarray(heights, dtype=np.float32)
    if heights.shape != grid.shape:
        raise ValueError(f"heights of shape {heights.shape} on a grid of {grid.shape}")
    if min(grid.shape) < 3:
        raise ValueError(f"the lattice maps need at least 3 x 3 pixels, not {grid.shape}")
    if not np.isfinite(heights).any():
        return np.full(grid.shape, np.nan, dtype=np.float32)
    lo, hi = float(np.nanmin(heights)), float(np.nanmax(heights))  # no full-tile copy
    step = step or lattice_step(grid)
    ground, normals = _lattice(grid, step)
    low = _satellites(orbit, ground, normals, lo)
    high = _satellites(orbit, ground, normals, hi) if hi > lo else low
    out = np.empty(grid.shape, dtype=np.float32)  # the kernel writes every pixel
    _lia_kernel(heights, ground, normals, low, high, lo, 1.0 / (hi - lo) if hi > lo else 0.0,
                step, _MODES[normal], out)
    return out


def ia_lattice(grid: Grid, orbit: Orbit, *, height: float = 0.0,
               step: int | None = None) -> np.ndarray:
    """Ellipsoid incidence angle (degrees, float32, computed in float64; NaN where unknown) at
    `height` metres above the ellipsoid; see `engine.native.lia.ia_blocks`."""
    step = step or lattice_step(grid)
    ground, normals = _lattice(grid, step)
    sat = _satellites(orbit, ground, normals, float(height))
    out = np.empty(grid.shape, dtype=np.float32)
    _ia_kernel(ground, normals, sat, float(height), step, out)
    return out


@numba.njit(cache=True, inline="always")
def _lattice_row(a, y, step, inv, out):
    """`out` (C, 3) = the lattice `a` (R, C, 3) interpolated linearly between its node rows at
    pixel row `y`: the first half of a bilinear interpolation, done once per pixel row."""
    i = y // step
    fy = (y - i * step) * inv
    for j in range(a.shape[1]):
        for k in range(3):
            out[j, k] = a[i, j, k] + fy * (a[i + 1, j, k] - a[i, j, k])


@numba.njit(cache=True, inline="always")
def _along(row, j, fx, k):
    """A lattice row from `_lattice_row` interpolated linearly at `fx` between nodes j, j + 1
    (a pixel column x: j = x // step, fx = (x - j·step) / step)."""
    return row[j, k] + fx * (row[j + 1, k] - row[j, k])


@numba.njit(cache=True, inline="always")
def _gradient(p, at, n, k):
    """numpy.gradient(edge_order=2) of p[..., k] along the first axis at index `at` of `n`."""
    if at == 0:
        return 0.5 * (-3.0 * p[0, k] + 4.0 * p[1, k] - p[2, k])
    if at == n - 1:
        return 0.5 * (3.0 * p[2, k] - 4.0 * p[1, k] + p[0, k])
    return 0.5 * (p[2, k] - p[0, k])


@numba.njit(cache=True, parallel=True)
def _lia_kernel(heights, ground, normal, low, high, lo, inv_span, step, mode, out):
    rows, cols = heights.shape
    nodes = ground.shape[1]
    inv = 1.0 / step
    chunks = (rows + _CHUNK - 1) // _CHUNK
    for chunk in numba.prange(chunks):
        y0 = chunk * _CHUNK
        y1 = min(rows, y0 + _CHUNK)
        a = max(0, min(y0 - 1, rows - 3))
        b = min(rows, max(y1 + 1, 3))
        points = np.empty((b - a, cols, 3))
        row_g = np.empty((nodes, 3))
        row_n = np.empty((nodes, 3))
        for yy in range(a, b):
            _lattice_row(ground, yy, step, inv, row_g)
            _lattice_row(normal, yy, step, inv, row_n)
            for x in range(cols):
                j = x // step
                fx = (x - j * step) * inv
                h = heights[yy, x]
                for k in range(3):
                    points[yy - a, x, k] = (_along(row_g, j, fx, k)
                                            + h * _along(row_n, j, fx, k))
        row_low = np.empty((nodes, 3))
        row_high = np.empty((nodes, 3))
        rowp = np.empty((3, 3))
        colp = np.empty((3, 3))
        for y in range(y0, y1):
            ya = y - 1 if 0 < y < rows - 1 else (0 if y == 0 else rows - 3)
            _lattice_row(low, y, step, inv, row_low)
            _lattice_row(high, y, step, inv, row_high)
            for x in range(cols):
                xa = x - 1 if 0 < x < cols - 1 else (0 if x == 0 else cols - 3)
                for m in range(3):
                    for k in range(3):
                        rowp[m, k] = points[ya + m - a, x, k]
                        colp[m, k] = points[y - a, xa + m, k]
                dr0, dr1, dr2 = (_gradient(rowp, y, rows, 0), _gradient(rowp, y, rows, 1),
                                 _gradient(rowp, y, rows, 2))
                dc0, dc1, dc2 = (_gradient(colp, x, cols, 0), _gradient(colp, x, cols, 1),
                                 _gradient(colp, x, cols, 2))
                n0 = dr1 * dc2 - dr2 * dc1
                n1 = dr2 * dc0 - dr0 * dc2
                n2 = dr0 * dc1 - dr1 * dc0
                p0, p1, p2 = points[y - a, x, 0], points[y - a, x, 1], points[y - a, x, 2]
                if n0 * p0 + n1 * p1 + n2 * p2 < 0.0:
                    n0, n1, n2 = -n0, -n1, -n2
                w = (heights[y, x] - lo) * inv_span
                j = x // step
                fx = (x - j * step) * inv
                s0 = _along(row_low, j, fx, 0)
                s1 = _along(row_low, j, fx, 1)
                s2 = _along(row_low, j, fx, 2)
                s0 += w * (_along(row_high, j, fx, 0) - s0)
                s1 += w * (_along(row_high, j, fx, 1) - s1)
                s2 += w * (_along(row_high, j, fx, 2) - s2)
                if mode == 1:  # the normal projected on the plane through P, S and the centre
                    m0 = p1 * s2 - p2 * s1
                    m1 = p2 * s0 - p0 * s2
                    m2 = p0 * s1 - p1 * s0
                    mn = math.sqrt(m0 * m0 + m1 * m1 + m2 * m2)
                    m0, m1, m2 = m0 / mn, m1 / mn, m2 / mn
                    d = n0 * m0 + n1 * m1 + n2 * m2
                    n0, n1, n2 = n0 - d * m0, n1 - d * m1, n2 - d * m2
                u0, u1, u2 = s0 - p0, s1 - p1, s2 - p2
                cos = ((n0 * u0 + n1 * u1 + n2 * u2)
                       / (math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
                          * math.sqrt(u0 * u0 + u1 * u1 + u2 * u2)))
                if cos != cos:
                    out[y, x] = np.nan
                else:
                    out[y, x] = math.degrees(math.acos(min(1.0, max(-1.0, cos))))


@numba.njit(cache=True, parallel=True)
def _ia_kernel(ground, normal, sat, height, step, out):
    rows, cols = out.shape
    nodes = ground.shape[1]
    inv = 1.0 / step
    chunks = (rows + _CHUNK - 1) // _CHUNK
    for chunk in numba.prange(chunks):
        row_g = np.empty((nodes, 3))
        row_n = np.empty((nodes, 3))
        row_s = np.empty((nodes, 3))
        for y in range(chunk * _CHUNK, min(rows, (chunk + 1) * _CHUNK)):
            _lattice_row(ground, y, step, inv, row_g)
            _lattice_row(normal, y, step, inv, row_n)
            _lattice_row(sat, y, step, inv, row_s)
            for x in range(cols):
                j = x // step
                fx = (x - j * step) * inv
                n0 = _along(row_n, j, fx, 0)
                n1 = _along(row_n, j, fx, 1)
                n2 = _along(row_n, j, fx, 2)
                nn = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
                n0, n1, n2 = n0 / nn, n1 / nn, n2 / nn
                u0 = _along(row_s, j, fx, 0) - _along(row_g, j, fx, 0) - height * n0
                u1 = _along(row_s, j, fx, 1) - _along(row_g, j, fx, 1) - height * n1
                u2 = _along(row_s, j, fx, 2) - _along(row_g, j, fx, 2) - height * n2
                cos = (n0 * u0 + n1 * u1 + n2 * u2) / math.sqrt(u0 * u0 + u1 * u1 + u2 * u2)
                if cos != cos:
                    out[y, x] = np.nan
                else:
                    out[y, x] = math.degrees(math.acos(min(1.0, max(-1.0, cos))))
