"""The terrain of a synthetic scene: a DEM (heights over the geoid) plus the geoid undulation.

A DEM is given the way a user thinks of one: a function ``h(lat, lon)`` of heights above the
EGM96 geoid (arrays in, arrays out), a constant (a flat DEM), or a raster -- one GDAL-readable
file (GeoTIFF, VRT, an SRTM ``.hgt``...) or a folder of SRTM ``{id}.hgt`` tiles, such as
`dem_tiles.write_dem_tiles` writes. Rasters are sampled bilinearly between pixel centres and
read window by window; where they have no data (outside, nodata) the height is 0 m above the
geoid, which is what Orfeo ToolBox assumes where it has no DEM.

Range-Doppler geometry needs heights above the WGS84 ellipsoid: `Terrain.height` adds the
undulation of the geoid (EGM96 by default, `s1tiling_cloud.geo.Geoid`), as
`s1tiling_cloud.geo.ellipsoid_heights` does for an orthorectification.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from pyproj import CRS, Transformer
from rasterio.windows import Window

from ..geo.geoid import Geoid

#: What `SyntheticGRD(dem=...)` accepts: heights above the geoid as a function of (lat, lon)
#: in degrees, a constant, or the path of a raster or of a folder of SRTM tiles.
DemLike = float | int | str | os.PathLike | Callable[[np.ndarray, np.ndarray], np.ndarray]


def dem_function(dem: DemLike) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A callable ``h(lat, lon)`` (metres over the geoid, float64) for any accepted DEM."""
    if isinstance(dem, bool):
        raise TypeError("a DEM is a function, a constant or a path, not a bool")
    if isinstance(dem, int | float):
        value = float(dem)
        return lambda lat, lon: np.full(np.broadcast(np.asarray(lat), np.asarray(lon)).shape, value)
    if isinstance(dem, str | os.PathLike):
        path = Path(dem)
        if path.is_dir():
            return TileFolderDem(path)
        if path.is_file():
            return RasterDem(path)
        raise FileNotFoundError(f"DEM {path} is neither a raster nor a folder of .hgt tiles")
    if callable(dem):
        return _ArrayFunction(dem)
    raise TypeError(f"unsupported DEM {dem!r}: a function h(lat, lon), a constant or a path")


@dataclass(frozen=True)
class _ArrayFunction:
    """A user function, called on float64 arrays, its result broadcast to their shape."""

    function: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __call__(self, lat, lon) -> np.ndarray:
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        out = np.asarray(self.function(lat, lon), dtype=np.float64)
        return np.array(np.broadcast_to(out, lat.shape))


class RasterDem:
    """Bilinear heights (over the geoid) from one raster; 0 where it has no data.

    Only the window around the points asked for is read; pixel centres are the nodes (SRTM's
    ``.hgt`` files put their first and last samples on the cell edges, GDAL's transform says so).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        with rasterio.open(self.path) as ds:
            self.transform = ds.transform
            self.inverse = ~ds.transform
            self.shape = (ds.height, ds.width)
            self.nodata = ds.nodata
            crs = ds.crs
        self._to_raster = None
        if crs is not None and not crs.is_geographic:
            self._to_raster = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs),
                                                   always_xy=True)

    def __call__(self, lat, lon) -> np.ndarray:
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        x, y = (lon, lat) if self._to_raster is None else self._to_raster.transform(lon, lat)
        x, y, t = np.asarray(x), np.asarray(y), self.inverse
        col = t.a * x + t.b * y + t.c - 0.5  # from pixel centres
        row = t.d * x + t.e * y + t.f - 0.5
        out = np.zeros(lat.shape)
        rows, cols = self.shape
        inside = (row >= 0) & (row <= rows - 1) & (col >= 0) & (col <= cols - 1)
        if not inside.any():
            return out
        r, c = row[inside], col[inside]
        r0 = int(max(0, math.floor(r.min())))
        c0 = int(max(0, math.floor(c.min())))
        r1 = int(min(rows - 1, math.floor(r.max()) + 1))
        c1 = int(min(cols - 1, math.floor(c.max()) + 1))
        with rasterio.open(self.path) as ds:
            values = ds.read(1, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1)).astype(np.float64)
        if self.nodata is not None:
            values[values == self.nodata] = np.nan
        out[inside] = _bilinear(values, r - r0, c - c0)
        return np.nan_to_num(out, nan=0.0)


def _bilinear(values: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Bilinear interpolation at fractional (row, col) inside ``values``."""
    rows, cols = values.shape
    i = np.clip(np.floor(r).astype(np.int64), 0, max(rows - 2, 0))
    j = np.clip(np.floor(c).astype(np.int64), 0, max(cols - 2, 0))
    wi, wj = r - i, c - j
    i1, j1 = np.minimum(i + 1, rows - 1), np.minimum(j + 1, cols - 1)
    top = values[i, j] * (1 - wj) + values[i, j1] * wj
    bottom = values[i1, j] * (1 - wj) + values[i1, j1] * wj
    return top * (1 - wi) + bottom * wi


class TileFolderDem:
    """Heights from a folder of SRTM ``{id}.hgt`` tiles (1-degree cells), 0 where none."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._tiles: dict[tuple[int, int], RasterDem | None] = {}
        self._lock = threading.Lock()

    def _tile(self, south: int, west: int) -> RasterDem | None:
        from ..geo.dem import cell_fields

        key = (south, west)
        with self._lock:
            if key not in self._tiles:
                path = self.folder / f"{cell_fields(south, (west + 180) % 360 - 180)['id']}.hgt"
                self._tiles[key] = RasterDem(path) if path.is_file() else None
            return self._tiles[key]

    def __call__(self, lat, lon) -> np.ndarray:
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        out = np.zeros(lat.shape)
        lon = (lon + 180.0) % 360.0 - 180.0
        south, west = np.floor(lat).astype(np.int64), np.floor(lon).astype(np.int64)
        for s, w in set(zip(south.ravel().tolist(), west.ravel().tolist(), strict=True)):
            tile = self._tile(s, w)
            if tile is None:
                continue
            here = (south == s) & (west == w)
            out[here] = tile(lat[here], lon[here])
        return out


@dataclass(frozen=True)
class Terrain:
    """The surface a synthetic scene lies on: heights above the ellipsoid at (lat, lon).

    Without a DEM it is the ellipsoid raised by ``reference`` metres (the spec's
    ``terrain_height``); with one it is the DEM plus the geoid undulation.
    """

    reference: float = 0.0
    dem: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    geoid_path: str | None = None
    _geoid: list = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, reference: float, dem: DemLike | None, geoid: str | os.PathLike | None = None
           ) -> Terrain:
        return cls(float(reference), None if dem is None else dem_function(dem),
                   None if geoid is None else str(geoid))

    @property
    def flat(self) -> bool:
        return self.dem is None

    @property
    def geoid(self) -> Geoid:
        """The geoid grid (EGM96 unless another file was given), opened once."""
        if not self._geoid:
            self._geoid.append(Geoid.open(self.geoid_path))
        return self._geoid[0]

    def undulation(self, lat, lon) -> np.ndarray:
        """Geoid height above the ellipsoid (m) at (lat, lon)."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        return self.geoid.undulation(lon, lat)

    def above_geoid(self, lat, lon) -> np.ndarray:
        """The DEM's height (m over the geoid); for a flat scene, its height over the geoid."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        if self.dem is None:
            return self.reference - self.undulation(lat, lon)
        return self.dem(lat, lon)

    def height(self, lat, lon) -> np.ndarray:
        """Height of the surface above the WGS84 ellipsoid (m) at (lat, lon)."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        if self.dem is None:
            return np.full(lat.shape, self.reference)
        return self.dem(lat, lon) + self.undulation(lat, lon)

    def ellipsoid_height(self, lat, lon, above_geoid=None) -> np.ndarray:
        """Ellipsoidal height of points: ``above_geoid`` + undulation where given (not NaN),
        else the surface's."""
        lat, lon = np.broadcast_arrays(np.asarray(lat, np.float64), np.asarray(lon, np.float64))
        surface = self.height(lat, lon)
        if above_geoid is None:
            return surface
        given = np.broadcast_to(np.asarray(above_geoid, np.float64), lat.shape)
        if np.isnan(given).all():
            return surface
        return np.where(np.isnan(given), surface, given + self.undulation(lat, lon))
