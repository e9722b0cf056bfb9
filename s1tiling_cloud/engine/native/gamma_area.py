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

Algorithm, in two passes over blocks of rows of the grid grown by `pad` rows and columns of
edge-replicated heights (so that radar cells on the tile's edges are complete in both sums):

1. facet corners: the 4 corners of every pixel, heights averaged from the 4 pixel centres
   around them; ECEF as P = E + h n̂ (E and n̂ the ellipsoid point and normal, from lon/lat
   interpolated in a lattice of exact pyproj values); vector area ½ (P11 − P00) × (P01 − P10),
   oriented outwards (`gamma_area_kernels`, numba, float64);
2. look vector û from the facet's centre to the satellite at the zero-Doppler time of the
   ground there (satellite positions interpolated in a lattice of exact zero-Doppler
   solutions), the same for the ellipsoid facet below it;
3. the facet's radar (line, pixel) from `TileProjector` (pixel centre at its height), in
   radar *cells* of `cell` lines × pixels (a cell spans ≥ `cell_factor` facets per axis, so
   that every cell receives several facets: with 10 m facets and 10 m GRD pixels, 2 × 2);
4. A_γ (clamped at 0: a facet facing away is in shadow and illuminates nothing), A_γ,E and
   A_σ,E = |vector area| splatted bilinearly over the 4 neighbouring cells of one accumulator
   of every cell the grid can reach; each tile pixel's cell coordinates and mask are kept;
5. second pass: the sums gathered back bilinearly at each tile pixel's own radar position;
   G = ΣA_γ / ΣA_γ,E and C = ΣA_γ,E / ΣA_σ,E there.

Mask (uint8): 1 layover (the mapping tile → radar folds: the Jacobian of (line, pixel) with
respect to (row, col) changes sign from the ellipsoid's), 2 shadow (the facet faces away from
the radar, A_γ ≤ 0), 3 both, 0 neither; 255 outside the radar image. Cast shadows (facets
occluded by other terrain) are not traced.

Memory: the first pass accumulates every facet of the grown grid before the first block is
yielded (the generator's first `next()`), so what is held at once is the accumulator (3 float64
per radar cell the grid reaches: ~0.7 GB for a 10 m tile in 2 × 2 cells of a 10 m GRD), 9 bytes
per tile pixel (cell coordinates as float32, mask) and one block's temporaries: ~20 float64
arrays of the block's rows of the grown grid (heights, radar positions with and without the
heights, ECEF frames, the three areas, cell coordinates), ~0.5 GB for 256 rows of a 10 m tile
with its 4.4 km margin. The `gamma_area` stage around it peaked at ~4.1 GiB RSS on a 10 m tile
(docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...geo.ellipsoid import geodetic_to_ecef
from ...geo.grid import Grid
from ...geo.orbit import Orbit
from ...geo.range_doppler import zero_doppler
from ...geo.tile_projection import TileProjector
from . import DEFAULT_OUTER_MARGIN_RATIO
from .gamma_area_kernels import corner_frames, facet_areas, folds, gather_ratios, splat

#: Rows per block of both passes (256 rows of a 10 m tile and its margin: ~3 M facets; the
#: temporaries this bounds: the module's docstring, "Memory").
DEFAULT_BLOCK_ROWS = 256
#: Facet corners between the nodes of the lattice of exact lon/lat and satellite positions.
LATTICE_STEP = 32
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


def margin_pixels(grid: Grid, ratio: float) -> int:
    """Pixels of DEM facets around `grid` that count (the `pad` of :func:`gamma_area_blocks`)
    for a margin of `ratio` × the grid's larger side (S1Tiling's `outer_margin_ratio`: 0.04
    of a 109.8 km tile, 4.4 km, whatever the resolution); 0 disables the margin."""
    if not ratio >= 0:
        raise ValueError(f"a margin ratio is >= 0, not {ratio}")
    return math.ceil(float(ratio) * max(grid.shape))


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
        per_facet = np.maximum(d_row, d_col)
        steps.append(np.nanmedian(per_facet) if np.isfinite(per_facet).any() else np.nan)
    if not np.isfinite(steps).all():  # the image meets too few of those points (a corner of the
        steps = _steps_by_neighbours(projector, grid, step)  # tile): the pixels next to them
    return tuple(max(1, math.ceil(cell_factor * float(s) - 1e-9)) for s in steps)


def _steps_by_neighbours(projector: TileProjector, grid: Grid, step: int) -> list[float]:
    """Radar lines and pixels per facet step from each sub-grid point's next row and column
    pixels (1.0 where the image meets none of them: any cell then holds the few facets)."""
    rows, cols = grid.shape
    here = projector.project(grid[0:rows - 1:step, 0:cols - 1:step], 0.0)
    below = projector.project(grid[1::step, 0:cols - 1:step], 0.0)
    right = projector.project(grid[0:rows - 1:step, 1::step], 0.0)
    steps = []
    for k in range(2):
        per_facet = np.maximum(np.abs(below[k] - here[k]), np.abs(right[k] - here[k]))
        steps.append(float(np.nanmedian(per_facet)) if np.isfinite(per_facet).any() else 1.0)
    return steps


def gamma_area_blocks(grid: Grid, heights: np.ndarray, projector: TileProjector,
                      orbit: Orbit | None = None, *, block_rows: int = DEFAULT_BLOCK_ROWS,
                      halo: int | None = None, pad: int | None = None,
                      cell: tuple[int, int] | None = None,
                      cell_factor: float = DEFAULT_CELL_FACTOR,
                      distribute_area: bool = True) -> Iterator[GammaAreaBlock]:
    """The γ-area map of `grid` for the radar image of `projector`, block by block.

    Parameters
    ----------
    grid : Grid
        The output grid (an S2 tile at some resolution).
    heights : ndarray
        Heights above the WGS84 ellipsoid (m) of the grid's pixels, the grid's shape, NaN
        allowed (no value there).
    projector : TileProjector
        The radar image's geometry.
    orbit : Orbit, optional
        The orbit of the look vectors (default: the projector's).
    block_rows : int
        Rows per block of both passes (memory: the module's docstring).
    halo, pad : int, optional
        Rows and columns of edge-replicated heights around the grid whose facets count too, so
        that the radar cells on the grid's edges are complete (`pad`; `halo` is its older
        name; default: `margin_pixels` of `DEFAULT_OUTER_MARGIN_RATIO`, the stage's and
        S1Tiling's default, 4.4 km of a tile). They must cover the ground distance over which
        the facets of one radar cell spread (layover).
    cell : (int, int), optional
        Radar cell (lines, pixels); default :func:`radar_cell` with `cell_factor`.
    distribute_area : bool
        Spread each facet's areas bilinearly over the 4 radar cells around its position (True),
        or add them to the nearest cell (False: S1Tiling's `distribute_area = False`).

    Yields
    ------
    GammaAreaBlock
        Consecutive blocks of at most `block_rows` rows of the grid.

    Two passes (see the module's docstring): every facet of the grown grid is splatted into
    one accumulator of the radar cells the grid covers, keeping each pixel's radar position
    (all of it on the first `next()`); then the accumulator is gathered at the pixels, block
    by block.
    """
    heights = np.asarray(heights, dtype=np.float32)
    if heights.shape != grid.shape:
        raise ValueError(f"heights of shape {heights.shape} on a grid of {grid.shape}")
    orbit = orbit or projector.geometry.orbit
    if pad is None:
        pad = margin_pixels(grid, DEFAULT_OUTER_MARGIN_RATIO) if halo is None else int(halo)
    block_rows = max(1, int(block_rows))
    cell = cell or radar_cell(projector, grid, cell_factor)
    state = _accumulate(grid, heights, projector, orbit, int(pad), cell, block_rows,
                        bool(distribute_area))
    n_rows = grid.shape[0]
    for start in range(0, n_rows, block_rows):
        rows = slice(start, min(n_rows, start + block_rows))
        yield GammaAreaBlock(rows, *_gather_block(state, rows))


@dataclass
class _Accumulated:
    """What the first pass leaves: the three sums per radar cell (A_γ, A_γ,E, A_σ,E) from
    cell (k0, m0) on, and per output pixel its radar cell coordinates (u, v) and mask."""

    acc: np.ndarray | None
    k0: int
    m0: int
    u: np.ndarray
    v: np.ndarray
    mask: np.ndarray


def _lattice(big: Grid, step: int, heights: np.ndarray, orbit: Orbit):
    """Exact (lon, lat) (2, n_i, n_j) of every `step`-th corner of `big` (at least 4 nodes per
    axis, the last at or beyond the last corner), and the satellite's ECEF position (3, n_i,
    n_j) at the zero-Doppler time of those corners at the grid's mean height."""
    n_i, n_j = (max(4, math.ceil(n / step) + 1) for n in big.shape)
    rr, cc = np.meshgrid(np.arange(n_i) * float(step) - 0.5, np.arange(n_j) * float(step) - 0.5,
                         indexing="ij")
    lon, lat = big.lonlat(*big.xy(rr, cc))
    finite = heights[np.isfinite(heights)]
    mean_h = float(finite.mean()) if finite.size else 0.0
    xyz = geodetic_to_ecef(lat, lon, np.full_like(lat, mean_h))
    t, _ = zero_doppler(orbit, xyz)
    satellite, _ = orbit.interpolate(np.where(np.isfinite(t), t, orbit.start))
    satellite[~np.isfinite(t)] = np.nan
    return (np.ascontiguousarray(np.stack([lon, lat])),
            np.ascontiguousarray(np.moveaxis(satellite, -1, 0)))


def _cells(projector: TileProjector, big: Grid, heights: np.ndarray, cell, edge: float):
    """First cell (k0, m0) and shape of the accumulator of every cell a facet of `big` can
    reach (None when the grid misses the image)."""
    finite = heights[np.isfinite(heights)]
    if not finite.size:
        return None
    window = projector.window(big, (min(0.0, float(finite.min())), max(0.0, float(finite.max()))))
    if window is None:
        return None
    cl, cp = cell
    k0 = math.floor((window.line_start - edge + 0.5) / cl - 0.5) - 1
    m0 = math.floor((window.pixel_start - edge + 0.5) / cp - 0.5) - 1
    k1 = math.floor((window.line_stop + edge + 0.5) / cl - 0.5) + 3
    m1 = math.floor((window.pixel_stop + edge + 0.5) / cp - 0.5) + 3
    return k0, m0, (k1 - k0, m1 - m0)


def _accumulate(grid: Grid, heights, projector, orbit, pad, cell, block_rows,
                distribute) -> _Accumulated:
    n_rows, n_cols = grid.shape
    u = np.full(grid.shape, np.nan, np.float32)
    v = np.full(grid.shape, np.nan, np.float32)
    mask = np.full(grid.shape, OUTSIDE, np.uint8)
    big = grid.grown(pad)
    big_rows, big_cols = big.shape
    # Facets a little outside the image still count, so that its edge cells are complete.
    edge = 4.0 * max(cell) + 2.0
    extent = _cells(projector, big, heights, cell, edge)
    if extent is None:
        return _Accumulated(None, 0, 0, u, v, mask)
    k0, m0, shape = extent
    acc = np.zeros((3, *shape))
    step = LATTICE_STEP
    lonlat, satellite = _lattice(big, step, heights, orbit)
    cl, cp = cell
    n_lines, n_pixels = projector.image_shape
    cols = np.clip(np.arange(-1, big_cols + 1) - pad, 0, n_cols - 1)
    for a in range(0, big_rows, block_rows):
        b = min(big_rows, a + block_rows)
        # pixel rows a - 1 .. b of the grown grid (edge-replicated heights around the tile)
        rows = np.clip(np.arange(a - 1, b + 1) - pad, 0, n_rows - 1)
        h = heights[np.ix_(rows, cols)].astype(np.float64)  # (b - a + 2, big_cols + 2)
        corner_h = 0.25 * (h[:-1, :-1] + h[1:, :-1] + h[:-1, 1:] + h[1:, 1:])  # corners a .. b
        # radar positions of pixels a - 1 .. b (the rows around for the layover's gradients)
        sub = big.window(a - 1, 0, b - a + 2, big_cols)
        line, pixel = projector.project(sub, h[:, 1:-1], edge=edge)
        line_e, pixel_e = projector.project(sub, 0.0, edge=edge)
        inner = slice(1, -1)
        wanted = np.isfinite(line[inner]) | np.isfinite(line_e[inner])
        if not wanted.any():
            continue
        origin = np.empty((b - a + 1, big_cols + 1, 3))
        normal = np.empty_like(origin)
        corner_frames(lonlat, float(step), float(a), origin, normal)
        a_gamma, a_gamma_e, a_sigma_e = (np.empty((b - a, big_cols)) for _ in range(3))
        facet_areas(origin, normal, np.ascontiguousarray(corner_h), satellite, float(step),
                    float(a), wanted, a_gamma, a_gamma_e, a_sigma_e)
        del origin, normal
        # DEM and ellipsoid facets each count wherever they fall (near the image's edges they
        # are not the same facets: the DEM's are shifted in range by h / tan θ).
        lu, pu = line[inner], pixel[inner]
        le, pe = line_e[inner], pixel_e[inner]
        valid = np.isfinite(lu) & np.isfinite(a_gamma)
        valid_e = np.isfinite(le) & np.isfinite(a_gamma_e)
        shadow = a_gamma <= 0
        uu, vv = (lu + 0.5) / cl - 0.5 - k0, (pu + 0.5) / cp - 0.5 - m0
        splat(acc[0], uu, vv, np.where(shadow, 0.0, a_gamma), valid, distribute)
        ue, ve = (le + 0.5) / cl - 0.5 - k0, (pe + 0.5) / cp - 0.5 - m0
        splat(acc[1], ue, ve, a_gamma_e, valid_e, distribute)
        splat(acc[2], ue, ve, a_sigma_e, valid_e, distribute)
        # the tile's pixels among rows a .. b - 1: their cells and mask
        t0, t1 = max(a, pad), min(b, pad + n_rows)
        if t0 >= t1:
            continue
        keep = (slice(t0 - a, t1 - a), slice(pad, pad + n_cols))
        out = slice(t0 - pad, t1 - pad)
        inside = ((lu >= -0.5) & (lu <= n_lines - 0.5) & (pu >= -0.5) & (pu <= n_pixels - 0.5))
        ok = (valid & inside)[keep]
        u[out] = np.where(ok, uu[keep], np.nan)
        v[out] = np.where(ok, vv[keep], np.nan)
        layover = folds(line, pixel, line_e, pixel_e)[inner][keep]  # the mapping folds
        mask[out] = np.where(ok, (layover * LAYOVER) | (shadow[keep] * SHADOW), OUTSIDE)
    return _Accumulated(acc, k0, m0, u, v, mask)


def _gather_block(state: _Accumulated, rows: slice):
    mask = state.mask[rows]
    shape = mask.shape
    g = np.full(shape, np.nan, np.float32)
    c = np.full(shape, np.nan, np.float32)
    if state.acc is None:
        return g, c, mask
    gather_ratios(state.acc, state.u[rows], state.v[rows], mask != OUTSIDE, g, c)
    return g, c, mask

