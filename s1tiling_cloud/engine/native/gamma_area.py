"""γ-area maps by area projection (Small 2011, "Flattening Gamma"), on an output grid.

Radiometry (Small 2011, sections II–III; S1Tiling's γ° RTC). The radar measures, per radar pixel, the power
of everything at its slant range and azimuth: β° is that power per unit *slant-plane* area
A_β. The ellipsoid-based normalisations divide by model areas that ignore the relief:

    σ°_E = β° · A_β / A_σ,E = β° · sin θ_E        (A_σ,E: the pixel's area on the ellipsoid)
    γ°_E = β° · A_β / A_γ,E = σ°_E / cos θ_E       (A_γ,E = A_σ,E · cos θ_E)

Terrain flattening replaces the ellipsoid's γ reference area by the *true* one: the sum, over
every DEM facet the radar sees in that pixel, of the facet's area projected on the plane
perpendicular to the look direction,

    A_γ(facet) = (vector area of the facet) · û = area · cos(angle(normal, look))
    γ°_T = β° · A_β / Σ_facets A_γ = σ°_E · A_σ,E / Σ A_γ.

We write the γ-area **normalised by the flat-ellipsoid reference** and the ellipsoid's own
γ/σ reference ratio, both per radar cell:

    G = Σ A_γ(DEM facets in the cell) / Σ A_γ,E(ellipsoid facets in the cell)   (flat → 1)
    C = Σ A_γ,E / Σ A_σ,E (= cos θ_E of the cell)

so that

    γ°_T = σ°_E · A_σ,E / Σ A_γ = σ°_E / (G · C) = γ°_E / G.

The ellipsoid reference is the *same* accumulation with every height set to 0 (same facets,
same projection, same splatting): on flat terrain G = 1 exactly, whatever the sampling, and
the ripple of splatting a facet lattice into a radar grid largely cancels in the ratio.

Algorithm, per block of tile rows (a block, a halo of rows above and below, and `pad` extra
rows and columns of edge-replicated heights around the tile so that radar cells on the tile's
edges are complete in both sums):

1. facet corners: the 4 corners of every tile pixel, heights averaged from the 4 pixel centres
   around them, to ECEF (exact, pyproj + WGS84); vector area ½ (P11 − P00) × (P01 − P10),
   oriented outwards;
2. look vector û from the facet's centre to the satellite at its zero-Doppler time (exact,
   `range_doppler.zero_doppler`), reused for the ellipsoid facet below it;
3. the facet's radar (line, pixel) from `TileProjector` (pixel centre at its height), in
   radar *cells* of `cell` lines × pixels (a cell spans ≥ `cell_factor` facets per axis, so
   that every cell receives several facets: with 10 m facets and 10 m GRD pixels, 2 × 2);
4. A_γ (clamped at 0: a facet facing away is in shadow and illuminates nothing), A_γ,E and
   A_σ,E = |vector area| splatted bilinearly over the 4 neighbouring cells;
5. gathered back bilinearly at each tile pixel's own radar position; G = ΣA_γ / ΣA_γ,E and
   C = ΣA_γ,E / ΣA_σ,E there.

Mask (uint8): 1 layover (the mapping tile → radar folds: the Jacobian of (line, pixel) with
respect to (row, col) changes sign from the ellipsoid's), 2 shadow (the facet faces away from
the radar, A_γ ≤ 0), 3 both, 0 neither; 255 outside the radar image. Cast shadows (facets
occluded by other terrain) are not traced.

Memory: a block is ~30 float64 arrays of (rows + 2 halo + 2 pad) × (cols + 2 pad) and three
accumulation arrays of the radar cells its facets cover.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from ...geo.ellipsoid import geodetic_to_ecef
from ...geo.grid import Grid
from ...geo.orbit import Orbit
from ...geo.range_doppler import zero_doppler
from ...geo.tile_projection import TileProjector

#: Rows per block (a 10 m tile's block of 256 rows: ~2.9 M facets, ~0.8 GB of temporaries).
DEFAULT_BLOCK_ROWS = 256
#: Facets per radar cell along each axis (at least).
DEFAULT_CELL_FACTOR = 2.0

LAYOVER, SHADOW, OUTSIDE = 1, 2, 255


@dataclass
class GammaAreaBlock:
    """One block of rows: the normalised γ-area G, the reference ratio C = cos θ_E (float32,
    NaN outside the image) and the layover/shadow mask (uint8)."""

    rows: slice
    gamma_area: np.ndarray
    cos_reference: np.ndarray
    mask: np.ndarray


def radar_cell(projector: TileProjector, grid: Grid, cell_factor: float = DEFAULT_CELL_FACTOR
               ) -> tuple[int, int]:
    """(lines, pixels) of a radar cell: ≥ `cell_factor` facet steps of `grid` per axis, from the
    ellipsoid projection of a coarse sub-grid (the same for every block)."""
    step = max(1, min(grid.shape) // 64)
    sub = grid[::step, ::step]
    line, pixel = projector.project(sub, 0.0)
    steps = []
    for values in (line, pixel):
        d_row, d_col = (np.abs(d) / step for d in np.gradient(values))
        per_facet = np.nanmedian(np.maximum(d_row, d_col)) if np.isfinite(values).any() else 1.0
        steps.append(max(1, math.ceil(cell_factor * float(per_facet) - 1e-9)))
    return steps[0], steps[1]


def gamma_area_blocks(grid: Grid, heights: np.ndarray, projector: TileProjector,
                      orbit: Orbit | None = None, *, block_rows: int = DEFAULT_BLOCK_ROWS,
                      halo: int | None = None, pad: int | None = None,
                      cell: tuple[int, int] | None = None,
                      cell_factor: float = DEFAULT_CELL_FACTOR) -> Iterator[GammaAreaBlock]:
    """The γ-area map of `grid` with ellipsoidal `heights` (the grid's shape, NaN allowed) for
    the radar image of `projector`, block by block (see the module's docstring).

    `halo` (rows, default: 2 km of rows and at least 8) and `pad` (default: as `halo`) must
    cover the ground distance over which facets of one radar cell are spread (layover)."""
    heights = np.asarray(heights, dtype=np.float32)
    if heights.shape != grid.shape:
        raise ValueError(f"heights of shape {heights.shape} on a grid of {grid.shape}")
    orbit = orbit or projector.geometry.orbit
    res = grid.resolution_m
    halo = max(8, math.ceil(2000.0 / res)) if halo is None else int(halo)
    pad = halo if pad is None else int(pad)
    cell = cell or radar_cell(projector, grid, cell_factor)
    big = grid.grown(pad)
    n_rows, n_cols = grid.shape
    guess = None
    for start in range(0, n_rows, max(1, block_rows)):
        stop = min(n_rows, start + max(1, block_rows))
        # rows of the grown grid: the block, its halo, clipped to the padded extent
        lo, hi = max(0, start + pad - halo), min(n_rows + 2 * pad, stop + pad + halo)
        block, guess = _block(big, heights, projector, orbit, lo, hi, pad, cell,
                              (start + pad - lo, stop + pad - lo), guess)
        yield GammaAreaBlock(slice(start, stop), *block)


def _padded_heights(heights: np.ndarray, rows: np.ndarray, cols: np.ndarray, pad: int):
    r = np.clip(rows - pad, 0, heights.shape[0] - 1)
    c = np.clip(cols - pad, 0, heights.shape[1] - 1)
    return heights[np.ix_(r, c)].astype(np.float64)


def _block(big: Grid, heights, projector, orbit, lo, hi, pad, cell, inner, guess):
    n_rows, n_cols = heights.shape
    i0, i1 = inner
    out_shape = (i1 - i0, n_cols)
    g = np.full(out_shape, np.nan, np.float32)
    c = np.full(out_shape, np.nan, np.float32)
    mask = np.full(out_shape, OUTSIDE, np.uint8)
    rows = np.arange(lo, hi)
    sub = big.window(lo, 0, hi - lo, big.shape[1])
    h = _padded_heights(heights, rows, np.arange(big.shape[1]), pad)
    # Facets a little outside the image still count, so that its edge cells are complete.
    edge = 4.0 * max(cell) + 2.0
    line, pixel = projector.project(sub, h, edge=edge)
    line_e, pixel_e = projector.project(sub, np.zeros_like(h), edge=edge)
    valid = np.isfinite(line) | np.isfinite(line_e)
    if not valid.any():
        return (g, c, mask), guess
    # Only the columns with facets in the image (and a pad around them).
    cols_any = np.flatnonzero(valid.any(axis=0))
    c0, c1 = max(0, cols_any[0] - pad), min(big.shape[1], cols_any[-1] + pad + 1)
    h, line, pixel, line_e, pixel_e = (a[:, c0:c1] for a in (h, line, pixel, line_e, pixel_e))
    sub = big.window(lo, c0, hi - lo, c1 - c0)

    # 1. corners and vector areas (DEM and ellipsoid)
    hp = np.pad(h, 1, mode="edge")
    corners_h = 0.25 * (hp[:-1, :-1] + hp[1:, :-1] + hp[:-1, 1:] + hp[1:, 1:])
    rr, cc = np.meshgrid(np.arange(hi - lo + 1, dtype=np.float64) - 0.5,
                         np.arange(c1 - c0 + 1, dtype=np.float64) - 0.5, indexing="ij")
    lon, lat = sub.lonlat(*sub.xy(rr, cc))
    del rr, cc
    corners = geodetic_to_ecef(lat, lon, corners_h)
    corners_e = geodetic_to_ecef(lat, lon, np.zeros_like(corners_h))
    del lat, lon, corners_h
    area, centre = _vector_area(corners)
    area_e, centre_e = _vector_area(corners_e)
    del corners, corners_e
    # 2. look vectors (satellite at the zero-Doppler time of the DEM facet's centre)
    t, _ = zero_doppler(orbit, centre, guess)
    ok_t = np.isfinite(t)
    sat, _ = orbit.interpolate(np.where(ok_t, t, orbit.start))
    if ok_t.any():
        guess = float(np.median(t[ok_t]))
    a_gamma = _dot_unit(area, sat - centre)
    a_gamma_e = _dot_unit(area_e, sat - centre_e)
    a_sigma_e = np.linalg.norm(area_e, axis=-1)
    del area, area_e, centre, centre_e, sat
    # DEM and ellipsoid facets each count wherever they fall (near the image's edges they are
    # not the same facets: the DEM's are shifted in range by h / tan θ).
    valid = np.isfinite(line) & ok_t & np.isfinite(a_gamma)
    valid_e = np.isfinite(line_e) & ok_t & np.isfinite(a_gamma_e)
    shadow = a_gamma <= 0
    # 3.–4. splat in radar cells
    cl, cp = cell
    u, v = (line + 0.5) / cl - 0.5, (pixel + 0.5) / cp - 0.5
    ue, ve = (line_e + 0.5) / cl - 0.5, (pixel_e + 0.5) / cp - 0.5
    both_u = np.concatenate([u[valid], ue[valid_e]])
    both_v = np.concatenate([v[valid], ve[valid_e]])
    if not both_u.size:
        return (g, c, mask), guess
    k0, m0 = int(np.floor(both_u.min())) - 1, int(np.floor(both_v.min())) - 1
    k1, m1 = int(np.floor(both_u.max())) + 3, int(np.floor(both_v.max())) + 3
    acc = np.zeros((3, k1 - k0, m1 - m0))
    _splat(acc[0], u - k0, v - m0, np.where(shadow, 0.0, a_gamma), valid)
    _splat(acc[1], ue - k0, ve - m0, a_gamma_e, valid_e)
    _splat(acc[2], ue - k0, ve - m0, a_sigma_e, valid_e)
    # 5. gather at the block's own pixels (without halo and pad)
    j0, j1 = max(0, c0 - pad), min(n_cols, c1 - pad)  # tile columns in the cropped arrays
    keep = (slice(i0, i1), slice(j0 + pad - c0, j1 + pad - c0))
    n_lines, n_pixels = projector.image_shape
    inside = ((line >= -0.5) & (line <= n_lines - 0.5) & (pixel >= -0.5)
              & (pixel <= n_pixels - 0.5))
    ub, vb, ok = u[keep], v[keep], (valid & inside)[keep]
    num = _gather(acc[0], ub - k0, vb - m0, ok)
    den = _gather(acc[1], ub - k0, vb - m0, ok)
    ref = _gather(acc[2], ub - k0, vb - m0, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        g[:, j0:j1] = np.where(ok & (den > 0), num / den, np.nan)
        c[:, j0:j1] = np.where(ok & (ref > 0), den / ref, np.nan)
    layover = _folds(line, pixel, line_e, pixel_e)[keep]
    mask[:, j0:j1] = np.where(ok, (layover * LAYOVER) | (shadow[keep] * SHADOW), OUTSIDE)
    return (g, c, mask), guess


def _vector_area(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vector areas (outward) and centres of the quadrilaterals of a (R+1, C+1, 3) corner grid."""
    p00, p01 = corners[:-1, :-1], corners[:-1, 1:]
    p10, p11 = corners[1:, :-1], corners[1:, 1:]
    area = 0.5 * np.cross(p11 - p00, p01 - p10)
    centre = 0.25 * (p00 + p01 + p10 + p11)
    flip = np.sum(area * centre, axis=-1, keepdims=True) < 0
    return np.where(flip, -area, area), centre


def _dot_unit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1) / np.linalg.norm(b, axis=-1)


def _folds(line, pixel, line_e, pixel_e) -> np.ndarray:
    """Where the Jacobian of (line, pixel) w.r.t. (row, col) has the other sign than the
    ellipsoid's (the mapping folds: layover)."""
    def det(a, b):
        ar, ac = np.gradient(a)
        br, bc = np.gradient(b)
        return ar * bc - ac * br
    with np.errstate(invalid="ignore"):
        return (det(line, pixel) * det(line_e, pixel_e)) < 0


@numba.njit(cache=True)
def _splat(acc, u, v, w, valid):  # pragma: no cover - compiled
    n_u, n_v = acc.shape
    for i in range(u.shape[0]):
        for j in range(u.shape[1]):
            if not valid[i, j]:
                continue
            fu, fv = math.floor(u[i, j]), math.floor(v[i, j])
            a, b = u[i, j] - fu, v[i, j] - fv
            k, m = int(fu), int(fv)
            if k < 0 or m < 0 or k + 1 >= n_u or m + 1 >= n_v:
                continue
            x = w[i, j]
            acc[k, m] += x * (1 - a) * (1 - b)
            acc[k, m + 1] += x * (1 - a) * b
            acc[k + 1, m] += x * a * (1 - b)
            acc[k + 1, m + 1] += x * a * b


@numba.njit(parallel=True, cache=True)
def _gather(acc, u, v, valid):  # pragma: no cover - compiled
    out = np.zeros(u.shape)
    n_u, n_v = acc.shape
    for i in numba.prange(u.shape[0]):
        for j in range(u.shape[1]):
            if not valid[i, j]:
                continue
            fu, fv = math.floor(u[i, j]), math.floor(v[i, j])
            a, b = u[i, j] - fu, v[i, j] - fv
            k, m = int(fu), int(fv)
            if k < 0 or m < 0 or k + 1 >= n_u or m + 1 >= n_v:
                continue
            out[i, j] = (acc[k, m] * (1 - a) * (1 - b) + acc[k, m + 1] * (1 - a) * b
                         + acc[k + 1, m] * a * (1 - b) + acc[k + 1, m + 1] * a * b)
    return out


def apply_rtc(sigma0: np.ndarray, gamma_area: np.ndarray, cos_reference: np.ndarray | float,
              min_gamma_area: float = 0.01) -> np.ndarray:
    """γ°_T = σ°_E / (G · C) (float32); 0 (nodata) where σ° is 0 or NaN, G or C is NaN, or G is
    below `min_gamma_area` (shadow: no illuminated area)."""
    s = np.asarray(sigma0, dtype=np.float64)
    ga = np.asarray(gamma_area, dtype=np.float64)
    cr = np.asarray(cos_reference, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = s / (ga * cr)
        bad = ~np.isfinite(values) | (s == 0) | ~(ga >= min_gamma_area) | ~(cr > 0)
    return np.where(bad, 0.0, values).astype(np.float32)
