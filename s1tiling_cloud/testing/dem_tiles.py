"""Synthetic DEM tiles in SRTM's ``.hgt`` format, which `s1tiling_cloud.geo.DemSource.tiles` reads.

An SRTM tile covers one 1-degree cell and is named after its south-west corner (``N43E001.hgt``,
``S34E151.hgt``, ``N00W001.hgt``). It is a bare array of big-endian int16 heights in metres
over the EGM96 geoid, 3601 x 3601 samples (SRTM1, 1 arc-second) or 1201 x 1201 (SRTM3,
3 arc-seconds), row 0 on the northern edge, column 0 on the western edge: the samples lie on
the cell's edges, so neighbouring tiles repeat their common row or column. No data is -32768.

Heights are rounded to the metre as in real SRTM tiles: a scene rendered with the function
itself and orthorectified with its tiles differ by at most 0.5 m in height.

`write_flat_dem` writes a flat DEM as one GeoTIFF instead (a `dem_dir` may name a single file).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..geo.dem import DEM_NODATA, cell_fields
from .terrain import dem_function

#: Samples per side of a tile, per kind.
SRTM_SIZES = {"srtm1": 3601, "srtm3": 1201}
#: Rows of a tile evaluated at once (bounds the memory of the user's function's temporaries).
_ROWS_PER_CALL = 400


def tile_cells(lat_range: Sequence[float], lon_range: Sequence[float]) -> list[tuple[int, int]]:
    """(south, west) of the 1-degree cells that cover [lat_min, lat_max] x [lon_min, lon_max].

    Longitudes may run past 180 (a range across the antimeridian); cells are named wrapped.
    """
    lat0, lat1 = sorted(float(v) for v in lat_range)
    lon0, lon1 = sorted(float(v) for v in lon_range)
    if lat0 < -90.0 or lat1 > 90.0:
        raise ValueError(f"latitudes out of range: {lat_range}")
    souths = range(max(-90, math.floor(lat0)), max(math.floor(lat0) + 1, min(90, math.ceil(lat1))))
    wests = range(math.floor(lon0), max(math.floor(lon0) + 1, math.ceil(lon1)))
    return [(s, w) for s in souths for w in wests]


def hgt_name(south: int, west: int) -> str:
    """``N43E001.hgt`` for the cell whose south-west corner is (43, 1)."""
    return f"{cell_fields(south, (west + 180) % 360 - 180)['id']}.hgt"


def write_dem_tiles(
    function: Callable[[np.ndarray, np.ndarray], np.ndarray] | float | str | os.PathLike,
    lat_range: Sequence[float],
    lon_range: Sequence[float],
    out_dir: str | os.PathLike,
    kind: str = "srtm1",
) -> list[Path]:
    """Write the SRTM tiles of ``function`` (heights over the geoid, ``h(lat, lon)`` in degrees,
    or a constant, or any DEM `SyntheticGRD` accepts) over the cells covering the ranges.

    Returns the paths written, in (south, west) order. NaN heights are written as no-data.
    """
    try:
        n = SRTM_SIZES[kind.lower()]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(SRTM_SIZES)}, not {kind!r}") from None
    heights = dem_function(function)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    step = 1.0 / (n - 1)
    for south, west in tile_cells(lat_range, lon_range):
        lon = west + np.arange(n) * step
        tile = np.empty((n, n), dtype=">i2")
        for r0 in range(0, n, _ROWS_PER_CALL):
            r1 = min(n, r0 + _ROWS_PER_CALL)
            lat = (south + 1) - np.arange(r0, r1) * step
            la, lo = np.meshgrid(lat, (lon + 180.0) % 360.0 - 180.0, indexing="ij")
            h = np.asarray(heights(la, lo), dtype=np.float64)
            bad = ~np.isfinite(h)
            h = np.clip(np.round(np.where(bad, 0.0, h)), -32767, 32767)
            h[bad] = DEM_NODATA
            tile[r0:r1] = h.astype(np.int16)
        path = out / hgt_name(south, west)
        partial = path.with_name(path.name + ".part")
        tile.tofile(partial)
        partial.replace(path)
        paths.append(path)
    return paths


def write_flat_dem_tiles(
    lat_range: Sequence[float],
    lon_range: Sequence[float],
    out_dir: str | os.PathLike,
    kind: str = "srtm1",
    height: float = 0.0,
) -> list[Path]:
    """SRTM tiles of a flat DEM (``height`` metres over the geoid, 0 by default): the geoid."""
    return write_dem_tiles(float(height), lat_range, lon_range, out_dir, kind)


def write_flat_dem(path: str | os.PathLike, west: float, north: float, step: float, rows: int,
                   cols: int) -> Path:
    """One int16 GeoTIFF (EPSG:4326) of a flat DEM, 0 m over the geoid, from (`west`,
    `north`) with `rows` × `cols` samples of `step` degrees: a DEM for stages on small tiles."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="int16", crs="EPSG:4326", nodata=DEM_NODATA,
                       transform=from_origin(west, north, step, step)) as dataset:
        dataset.write(np.zeros((1, rows, cols), np.int16))
    return Path(path)
