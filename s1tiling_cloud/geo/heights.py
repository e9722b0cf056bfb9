"""Ellipsoidal heights on a grid: the DEM (heights over the geoid) plus the geoid undulation.

What range-Doppler geometry needs (heights above WGS84), as S1Tiling's ProjectDEMToS2Tile,
ProjectGeoidToS2Tile and SumAllHeights build `DEM+GEOID_projected_on_{tile}`: the DEM warped
onto the grid (cubic by default), the geoid interpolated bilinearly at the same pixel centres.
"""

from __future__ import annotations

import os

import numpy as np
from rasterio.enums import Resampling

from .dem import DemSource
from .geoid import Geoid
from .grid import Grid

__all__ = ["ellipsoid_heights"]

_BLOCK_ROWS = 512


def ellipsoid_heights(grid, dem: DemSource, geoid: Geoid | str | os.PathLike | None = None, *,
                      resampling: str | Resampling = "cubic", fill_height: float | None = None,
                      out: np.ndarray | None = None, **warp_options) -> np.ndarray:
    """Heights above the WGS84 ellipsoid (m, float32) at the pixel centres of `grid`.

    NaN where the DEM has no data, unless `fill_height` (m over the geoid, e.g. 0 for the sea,
    which is what OTB assumes where it has no DEM) is given. `geoid` is a `Geoid`, a geoid file
    (an s3:// one is read with the DEM's `storage_options`), or None for EGM96; it is opened
    before the DEM is read so a missing geoid fails first (MissingGeoidError). `warp_options` go
    to `DemSource.warp`. Give a grown grid for a margin.
    """
    grid = Grid.of(grid)
    geoid = geoid if isinstance(geoid, Geoid) else Geoid.open(geoid, storage_options=dem.storage_options)
    out = dem.warp(grid, resampling, out=out, **warp_options)
    if fill_height is not None:
        for block, _ in grid.row_blocks(_BLOCK_ROWS):
            piece = out[block]
            piece[np.isnan(piece)] = fill_height
    return geoid.on_grid(grid, out=out, add=True)
