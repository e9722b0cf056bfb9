"""Local incidence angle (LIA) and ellipsoid incidence angle (IA) on an output grid.

Array functions, float64 inside, processed in row blocks (a block and a one-row halo are in
memory, so a 10 m tile needs a few hundred MB, not the ~3 GB per ECEF array of the full tile).

For every pixel centre of the grid, at its height above the WGS84 ellipsoid:

- **Ground point**: grid CRS → geodetic (pyproj) → ECEF (exact).
- **Ground normal**: from the ECEF positions of the neighbouring pixels (central differences
  along rows and columns, second-order one-sided on the grid's edges): n = ∂P/∂row × ∂P/∂col, normalised.
  Working in ECEF makes it exact whatever the map projection: UTM's grid convergence (up to
  ~3° at a zone's edge) and scale factor (0.9996–1.0010) are in the positions themselves, and so
  is the curvature of the ellipsoid. A NaN height makes the normals of its neighbours NaN.
- **Ground → satellite direction**: the exact zero-Doppler time of every pixel
  (`range_doppler.zero_doppler`, numba Newton, parallel), then the satellite's position at that
  time; u = (S − P) / |S − P|. No lattice and no interpolation: no interpolation error to
  measure. NaN where the zero-Doppler time falls outside the orbit's state vectors.
- **LIA** (``normal="full"``, the default) = arccos(n · u): the angle between the local ground
  normal and the ground → satellite direction. ``normal="range_plane"`` first projects n on the
  plane through S, P and the Earth's centre, as S1Tiling's docs (`SARComputeIncidenceAngle`)
  define it; the two differ only by the along-track component of the slope.
- **IA** = the same angle with the ellipsoid normal (cosφcosλ, cosφsinλ, sinφ) at the point.

Angles are degrees in [0, 180]; above 90° the surface faces away from the radar (shadow).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...geo.ellipsoid import ecef_to_geodetic, ellipsoid_normal, geodetic_to_ecef
from ...geo.grid import Grid
from ...geo.orbit import Orbit
from ...geo.range_doppler import zero_doppler

NormalMode = Literal["full", "range_plane"]

#: Rows per block: 512 rows of a 10 m tile (10980 columns) is ~5.6 M points, ~130 MB per
#: float64 (rows, cols, 3) array.
DEFAULT_BLOCK_ROWS = 512


def grid_ecef(grid: Grid, heights: np.ndarray, rows: slice | None = None) -> np.ndarray:
    """ECEF positions (rows, cols, 3) of the pixel centres of `grid` (the rows `rows`) at
    `heights` (same rows; metres above the ellipsoid, NaN allowed)."""
    n_rows, n_cols = grid.shape
    r0, r1, _ = (rows or slice(None)).indices(n_rows)
    heights = np.asarray(heights, dtype=np.float64)
    if heights.shape != (r1 - r0, n_cols):
        raise ValueError(f"heights of shape {heights.shape} for rows {r0}:{r1} of {grid.shape}")
    rr, cc = np.meshgrid(np.arange(r0, r1, dtype=np.float64), np.arange(n_cols, dtype=np.float64),
                         indexing="ij")
    x, y = grid.xy(rr, cc)
    lon, lat = grid.lonlat(x, y)
    return geodetic_to_ecef(lat, lon, heights)


def ground_normals(xyz: np.ndarray) -> np.ndarray:
    """Unit outward normals (rows, cols, 3) of a surface sampled as ECEF positions (rows, cols, 3)
    on a north-up or rotated grid (rows and columns must be a right-handed pair with the
    outward direction, as in a north-up grid whose rows go south): ∂P/∂row × ∂P/∂col.

    Central differences inside, second-order one-sided differences on the edges (needs 2 rows
    and 2 columns; 3 for second order).
    """
    if xyz.shape[0] < 2 or xyz.shape[1] < 2:
        raise ValueError(f"normals need at least 2 x 2 points, got {xyz.shape[:2]}")
    d_row = np.gradient(xyz, axis=0, edge_order=2 if xyz.shape[0] > 2 else 1)
    d_col = np.gradient(xyz, axis=1, edge_order=2 if xyz.shape[1] > 2 else 1)
    n = np.cross(d_row, d_col)
    # Orient outwards whatever the grid's handedness (a south-up grid flips the cross product).
    flip = np.sum(n * xyz, axis=-1, keepdims=True) < 0
    n = np.where(flip, -n, n)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def satellite_positions(orbit: Orbit, xyz: np.ndarray, seconds_guess=None) -> np.ndarray:
    """ECEF satellite positions (..., 3) at the zero-Doppler time of each point (NaN outside the
    orbit's state vectors or for NaN points)."""
    t, _ = zero_doppler(orbit, xyz, seconds_guess)
    sat, _ = orbit.interpolate(np.where(np.isfinite(t), t, orbit.start))
    sat[~np.isfinite(t)] = np.nan
    return sat


def angle_between(normals: np.ndarray, xyz: np.ndarray, sat: np.ndarray,
                  normal: NormalMode = "full") -> np.ndarray:
    """Angle (degrees) between `normals` and the direction from the points `xyz` to `sat`;
    ``normal="range_plane"`` projects the normals on the plane through the point, the satellite
    and the Earth's centre first."""
    u = sat - xyz
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    n = normals
    if normal == "range_plane":
        m = np.cross(xyz, sat)
        m /= np.linalg.norm(m, axis=-1, keepdims=True)
        n = n - np.sum(n * m, axis=-1, keepdims=True) * m
        n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    elif normal != "full":
        raise ValueError(f"normal must be 'full' or 'range_plane', got {normal!r}")
    cos = np.sum(n * u, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def ellipsoid_normals(xyz: np.ndarray) -> np.ndarray:
    """The ellipsoid's outward normals (..., 3) at ECEF points."""
    lat, lon, _ = ecef_to_geodetic(xyz)
    return ellipsoid_normal(lat, lon)


@dataclass
class AngleBlock:
    """One block of rows of a map: its row slice and the angles (degrees, float64)."""

    rows: slice
    degrees: np.ndarray


def _halo_blocks(n_rows: int, block_rows: int) -> Iterator[tuple[slice, slice, slice]]:
    """(rows of the block, rows read with a one-row halo, the block inside the halo)."""
    for start in range(0, n_rows, max(1, block_rows)):
        stop = min(n_rows, start + max(1, block_rows))
        lo, hi = max(0, start - 1), min(n_rows, stop + 1)
        yield slice(start, stop), slice(lo, hi), slice(start - lo, start - lo + stop - start)


def lia_blocks(grid: Grid, heights: np.ndarray, orbit: Orbit, *, normal: NormalMode = "full",
               block_rows: int = DEFAULT_BLOCK_ROWS) -> Iterator[AngleBlock]:
    """LIA (degrees) of `grid` with ellipsoidal `heights` (the grid's shape), block by block."""
    heights = np.asarray(heights)
    if heights.shape != grid.shape:
        raise ValueError(f"heights of shape {heights.shape} on a grid of {grid.shape}")
    guess = None
    for rows, read, inner in _halo_blocks(grid.shape[0], block_rows):
        xyz = grid_ecef(grid, heights[read], read)
        normals = ground_normals(xyz)[inner]
        xyz = xyz[inner]
        sat, guess = _satellites(orbit, xyz, guess)
        yield AngleBlock(rows, angle_between(normals, xyz, sat, normal))


def ia_blocks(grid: Grid, orbit: Orbit, *, height: float = 0.0,
              block_rows: int = DEFAULT_BLOCK_ROWS) -> Iterator[AngleBlock]:
    """Ellipsoid incidence angle (degrees) at the grid's pixel centres `height` metres above the
    ellipsoid (S1Tiling's IA maps: on the ellipsoid, no DEM), block by block."""
    guess = None
    for rows, _ in grid.row_blocks(block_rows):
        n = rows.stop - rows.start
        xyz = grid_ecef(grid, np.full((n, grid.shape[1]), float(height)), rows)
        sat, guess = _satellites(orbit, xyz, guess)
        yield AngleBlock(rows, angle_between(ellipsoid_normals(xyz), xyz, sat))


def _satellites(orbit: Orbit, xyz: np.ndarray, guess: float | None):
    """Satellite positions of a block; the block's median time seeds the next block's Newton."""
    sat_t, _ = zero_doppler(orbit, xyz, guess)
    sat, _ = orbit.interpolate(np.where(np.isfinite(sat_t), sat_t, orbit.start))
    sat[~np.isfinite(sat_t)] = np.nan
    finite = sat_t[np.isfinite(sat_t)]
    return sat, (float(np.median(finite)) if finite.size else guess)


def lia_map(grid: Grid, heights: np.ndarray, orbit: Orbit, **kwargs) -> np.ndarray:
    """The whole LIA map (degrees, float64) at once (see :func:`lia_blocks`)."""
    out = np.full(grid.shape, np.nan)
    for block in lia_blocks(grid, heights, orbit, **kwargs):
        out[block.rows] = block.degrees
    return out


def ia_map(grid: Grid, orbit: Orbit, **kwargs) -> np.ndarray:
    """The whole ellipsoid IA map (degrees, float64) at once (see :func:`ia_blocks`)."""
    out = np.full(grid.shape, np.nan)
    for block in ia_blocks(grid, orbit, **kwargs):
        out[block.rows] = block.degrees
    return out


def degrees_x100(degrees: np.ndarray) -> np.ndarray:
    """S1Tiling's uint16 angle maps: round(100 × degrees). 0 is nodata here (NaN angles): a
    valid angle below 0.005° (a slope facing the radar exactly) is written 1, not 0."""
    values = np.rint(np.nan_to_num(degrees, nan=0.0) * 100.0)
    values = np.where(np.isfinite(degrees), np.clip(values, 1, 65535), 0)
    return values.astype(np.uint16)
