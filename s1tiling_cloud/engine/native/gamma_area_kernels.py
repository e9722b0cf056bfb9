"""Compiled kernels of the γ-area map (`gamma_area`): facet geometry, splatting and gathering.

They are apart from the algorithm's driver because they are its hot loops: one pass over every
DEM facet of a tile (≈ 130 M at 10 m with the pad), float64 inside. Two smooth fields are
interpolated instead of computed exactly per facet, from a lattice of exact values every
`step` facet corners (cubic Lagrange in both directions):

- geodetic latitude/longitude of the facet corners (pyproj on the lattice: UTM → geodetic is
  smooth at the scale of the Earth's radius, so the interpolation error over a few hundred
  metres is far below a millimetre);
- the satellite's position at the zero-Doppler time of the ground below (the look vector's
  origin; it moves ~7 km/s, smoothly, with the facet's azimuth).

The ellipsoid point E and its normal n̂ give the DEM corner exactly: P = E + h n̂ (the geodetic
height is along the normal).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ...geo.ellipsoid import E2, A


@numba.njit(cache=True, inline="always")
def _weights(x, n):  # pragma: no cover - compiled
    """First node and the 4 cubic Lagrange weights at lattice coordinate `x` (n ≥ 4 nodes)."""
    i0 = min(max(int(math.floor(x)) - 1, 0), n - 4)
    s = x - i0
    return (i0, -(s - 1.0) * (s - 2.0) * (s - 3.0) / 6.0, s * (s - 2.0) * (s - 3.0) / 2.0,
            -s * (s - 1.0) * (s - 3.0) / 2.0, s * (s - 1.0) * (s - 2.0) / 6.0)


@numba.njit(cache=True, inline="always")
def _interpolate(values, k, fi, fj, step):  # pragma: no cover - compiled
    """Channel `k` of the lattice `values` (channels, n_i, n_j) at corner indices (fi, fj)."""
    i0, a0, a1, a2, a3 = _weights(fi / step, values.shape[1])
    j0, b0, b1, b2, b3 = _weights(fj / step, values.shape[2])
    v = values[k]
    total = 0.0
    for di in range(4):
        wi = a0 if di == 0 else a1 if di == 1 else a2 if di == 2 else a3
        row = v[i0 + di]
        total += wi * (b0 * row[j0] + b1 * row[j0 + 1] + b2 * row[j0 + 2] + b3 * row[j0 + 3])
    return total


@numba.njit(parallel=True, cache=True)
def corner_frames(lonlat, step, row0, origin, normal):  # pragma: no cover - compiled
    """Ellipsoid points `origin` and unit normals `normal` (rows, cols, 3), ECEF float64, of the
    corners (row0 + i, j) of the corner lattice `lonlat` (2, n_i, n_j: degrees)."""
    n_rows, n_cols = origin.shape[0], origin.shape[1]
    for i in numba.prange(n_rows):
        for j in range(n_cols):
            lon = math.radians(_interpolate(lonlat, 0, row0 + i, j, step))
            lat = math.radians(_interpolate(lonlat, 1, row0 + i, j, step))
            sl, cl = math.sin(lat), math.cos(lat)
            so, co = math.sin(lon), math.cos(lon)
            n = A / math.sqrt(1.0 - E2 * sl * sl)
            origin[i, j, 0] = n * cl * co
            origin[i, j, 1] = n * cl * so
            origin[i, j, 2] = n * (1.0 - E2) * sl
            normal[i, j, 0] = cl * co
            normal[i, j, 1] = cl * so
            normal[i, j, 2] = sl


@numba.njit(cache=True, inline="always")
def _corner(origin, normal, heights, i, j, scale):  # pragma: no cover - compiled
    # scale 0 is the ellipsoid: the height is not read, so that a DEM void (NaN) keeps its
    # ellipsoid facet (NaN × 0 would be NaN).
    h = 0.0 if scale == 0.0 else heights[i, j] * scale
    return (origin[i, j, 0] + h * normal[i, j, 0], origin[i, j, 1] + h * normal[i, j, 1],
            origin[i, j, 2] + h * normal[i, j, 2])


@numba.njit(cache=True, inline="always")
def _projected_area(origin, normal, heights, i, j, scale, sx, sy, sz):  # pragma: no cover
    """(A_γ, |A|): the facet (i, j)'s vector area (outward) projected on the unit vector towards
    the satellite (sx, sy, sz), and its magnitude; heights × `scale` (0: the ellipsoid)."""
    x00, y00, z00 = _corner(origin, normal, heights, i, j, scale)
    x01, y01, z01 = _corner(origin, normal, heights, i, j + 1, scale)
    x10, y10, z10 = _corner(origin, normal, heights, i + 1, j, scale)
    x11, y11, z11 = _corner(origin, normal, heights, i + 1, j + 1, scale)
    ux, uy, uz = x11 - x00, y11 - y00, z11 - z00
    vx, vy, vz = x01 - x10, y01 - y10, z01 - z10
    ax, ay, az = 0.5 * (uy * vz - uz * vy), 0.5 * (uz * vx - ux * vz), 0.5 * (ux * vy - uy * vx)
    cx = 0.25 * (x00 + x01 + x10 + x11)
    cy = 0.25 * (y00 + y01 + y10 + y11)
    cz = 0.25 * (z00 + z01 + z10 + z11)
    if ax * cx + ay * cy + az * cz < 0.0:  # outwards
        ax, ay, az = -ax, -ay, -az
    lx, ly, lz = sx - cx, sy - cy, sz - cz
    return ((ax * lx + ay * ly + az * lz) / math.sqrt(lx * lx + ly * ly + lz * lz),
            math.sqrt(ax * ax + ay * ay + az * az))


@numba.njit(parallel=True, cache=True)
def facet_areas(origin, normal, heights, satellite, step, row0, wanted,
                a_gamma, a_gamma_e, a_sigma_e):  # pragma: no cover - compiled
    """Per facet (i, j) of a block whose corners are (origin, normal, heights) rows i, i + 1:
    A_γ of the DEM facet, A_γ,E and A_σ,E of the ellipsoid facet below it (float64; NaN where
    not `wanted` or where the satellite's position is NaN; A_γ also where a height is NaN, the
    ellipsoid's areas not: they do not depend on the heights). `satellite` (3, n_i,
    n_j) is the lattice of satellite positions, facet (i, j)'s centre at corner indices
    (row0 + i + 0.5, j + 0.5)."""
    n_rows, n_cols = a_gamma.shape
    for i in numba.prange(n_rows):
        for j in range(n_cols):
            if not wanted[i, j]:
                a_gamma[i, j] = a_gamma_e[i, j] = a_sigma_e[i, j] = np.nan
                continue
            fi, fj = row0 + i + 0.5, j + 0.5
            sx = _interpolate(satellite, 0, fi, fj, step)
            sy = _interpolate(satellite, 1, fi, fj, step)
            sz = _interpolate(satellite, 2, fi, fj, step)
            a_gamma[i, j] = _projected_area(origin, normal, heights, i, j, 1.0, sx, sy, sz)[0]
            a_gamma_e[i, j], a_sigma_e[i, j] = _projected_area(origin, normal, heights, i, j, 0.0,
                                                               sx, sy, sz)


@numba.njit(cache=True)
def _bilinear_cell(u, v, n_u, n_v):  # pragma: no cover - compiled
    """The cell (k, m) below (u, v), the fractions (a, b) past it, and whether its 4 cells
    (k..k+1, m..m+1) all lie in an (n_u, n_v) array: what `splat` and `gather_ratios` share."""
    fu, fv = math.floor(u), math.floor(v)
    k, m = int(fu), int(fv)
    inside = k >= 0 and m >= 0 and k + 1 < n_u and m + 1 < n_v
    return k, m, u - fu, v - fv, inside


@numba.njit(cache=True)
def splat(acc, u, v, w, valid, distribute):  # pragma: no cover - compiled
    """Add each valid weight `w` to `acc` at (u, v) (cell indices): bilinearly to the 4 cells
    around it when `distribute`, else all to the nearest cell; points whose cells (the 4, or
    the nearest) are not all in `acc` are skipped."""
    n_u, n_v = acc.shape
    for i in range(u.shape[0]):
        for j in range(u.shape[1]):
            if not valid[i, j]:
                continue
            if not distribute:
                k, m = int(math.floor(u[i, j] + 0.5)), int(math.floor(v[i, j] + 0.5))
                if 0 <= k < n_u and 0 <= m < n_v:
                    acc[k, m] += w[i, j]
                continue
            k, m, a, b, inside = _bilinear_cell(u[i, j], v[i, j], n_u, n_v)
            if not inside:
                continue
            x = w[i, j]
            acc[k, m] += x * (1 - a) * (1 - b)
            acc[k, m + 1] += x * (1 - a) * b
            acc[k + 1, m] += x * a * (1 - b)
            acc[k + 1, m + 1] += x * a * b


@numba.njit(cache=True, inline="always")
def _at(acc, k, m, a, b):  # pragma: no cover - compiled
    """`acc` interpolated bilinearly at cell (k + a, m + b)."""
    return (acc[k, m] * (1 - a) * (1 - b) + acc[k, m + 1] * (1 - a) * b
            + acc[k + 1, m] * a * (1 - b) + acc[k + 1, m + 1] * a * b)


@numba.njit(parallel=True, cache=True)
def gather_ratios(acc, u, v, valid, g, c):  # pragma: no cover - compiled
    """γ-area (A_γ / A_γ,E) and its ellipsoid ratio (A_γ,E / A_σ,E) at each valid (u, v): the
    three sums of `acc` interpolated bilinearly (0 where the 4 cells are not all in `acc`), each
    ratio NaN where its denominator is not positive; `g` and `c` are written where valid."""
    n_u, n_v = acc.shape[1], acc.shape[2]
    for i in numba.prange(u.shape[0]):
        for j in range(u.shape[1]):
            if not valid[i, j]:
                continue
            k, m, a, b, inside = _bilinear_cell(np.float64(u[i, j]), np.float64(v[i, j]),
                                                n_u, n_v)
            num = den = ref = 0.0
            if inside:
                num = _at(acc[0], k, m, a, b)
                den = _at(acc[1], k, m, a, b)
                ref = _at(acc[2], k, m, a, b)
            g[i, j] = num / den if den > 0 else np.nan
            c[i, j] = den / ref if ref > 0 else np.nan


@numba.njit(inline="always")
def _gradients(a, i, j):  # pragma: no cover - compiled
    """numpy.gradient's two derivatives of `a` at (i, j) (unit spacing, first order edges)."""
    rows, cols = a.shape
    if i == 0:
        dr = a[1, j] - a[0, j]
    elif i == rows - 1:
        dr = a[rows - 1, j] - a[rows - 2, j]
    else:
        dr = (a[i + 1, j] - a[i - 1, j]) / 2.0
    if j == 0:
        dc = a[i, 1] - a[i, 0]
    elif j == cols - 1:
        dc = a[i, cols - 1] - a[i, cols - 2]
    else:
        dc = (a[i, j + 1] - a[i, j - 1]) / 2.0
    return dr, dc


@numba.njit(parallel=True, cache=True)
def folds(line, pixel, line_e, pixel_e):  # pragma: no cover - compiled
    """Where the Jacobian of (line, pixel) w.r.t. (row, col) has the other sign than that of
    (line_e, pixel_e): numpy.gradient's derivatives, each determinant `ar·bc − ac·br`."""
    rows, cols = line.shape
    out = np.zeros((rows, cols), np.bool_)
    for i in numba.prange(rows):
        for j in range(cols):
            ar, ac = _gradients(line, i, j)
            br, bc = _gradients(pixel, i, j)
            er, ec = _gradients(line_e, i, j)
            fr, fc = _gradients(pixel_e, i, j)
            out[i, j] = (ar * bc - ac * br) * (er * fc - ec * fr) < 0
    return out
