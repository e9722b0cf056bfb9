"""Geoid undulation (height of the geoid above the WGS84 ellipsoid) from a geoid grid file.

The grid (EGM96 `egm96_15.gtx` by default, EGM2008 or any file GDAL reads: GTX, GeoTIFF, ENVI
`.grd`; a local file, or an s3:// object reached with the `store`'s S3 settings) is read with
rasterio and interpolated bilinearly between its nodes, here, rather than through pyproj's
vertical transformations: with the PyPI pyproj wheel a missing grid silently returns the input
height, and S1Tiling fails instead (`MissingGeoidError`).

Nodes are the pixel centres of the GDAL dataset. A global grid spans one turn of longitude,
either with 360/step columns or with one more that repeats the first (WW15MGH, egm96.grd):
longitudes wrap around it whatever the convention of the file (0..360 or -180..180).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from s1tiling_cloud.exceptions import InvalidGeoidError, MissingGeoidError
from s1tiling_cloud.store import Store, is_remote

from .grid import Grid

__all__ = ["EGM96", "Geoid", "default_geoid_file", "find_geoid_file"]

#: Names of the EGM96 15' grid: Debian's proj-data, then PROJ's CDN name.
EGM96 = ("egm96_15.gtx", "us_nga_egm96_15.tif")
#: Folders searched for a geoid given by name, after $PROJ_DATA and $PROJ_LIB.
_PROJ_DIRS = ("/usr/share/proj", "/usr/local/share/proj")
#: Spacing (pixels, and at most ~250 m on a map projection) of the nodes where lon/lat are
#: computed exactly; bilinear in between: exact to ~1e-9 degree, and exact on lon/lat grids.
_LONLAT_STEP = 16
_LONLAT_SPAN_M = 250.0
#: GDAL settings on top of the store's: sidecars (an ENVI `.grd`'s `.hdr`) are probed one by one,
#: where the store's `EMPTY_DIR` would hide them, and folders are not listed.
_OPEN_OPTIONS = {"GDAL_DISABLE_READDIR_ON_OPEN": "YES"}


def find_geoid_file(names: tuple[str, ...] | str) -> Path | None:
    """First existing file among `names` in $PROJ_DATA, $PROJ_LIB and the usual PROJ folders."""
    names = (names,) if isinstance(names, str) else names
    dirs = [d for var in ("PROJ_DATA", "PROJ_LIB") for d in os.environ.get(var, "").split(os.pathsep) if d]
    for folder in (*dirs, *_PROJ_DIRS):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                return path
    return None


def default_geoid_file() -> Path:
    """EGM96 15' grid (S1Tiling's default geoid); MissingGeoidError when no copy is found."""
    found = find_geoid_file(EGM96)
    if found is None:
        raise MissingGeoidError(f"{EGM96[0]} (searched $PROJ_DATA, $PROJ_LIB, {', '.join(_PROJ_DIRS)})")
    return found


@dataclass(frozen=True)
class Geoid:
    """A geoid grid file, opened once to learn its layout; values are read per request."""

    path: str
    #: Longitude / latitude of node (0, 0) and steps between nodes (degrees; dlat < 0 north-up).
    lon0: float
    lat0: float
    dlon: float
    dlat: float
    width: int
    height: int
    #: Columns after which longitudes repeat (0: a regional grid, no wrap).
    period: int
    nodata: float | None = field(default=None)
    #: s3fs-style options (see `store.Store`) for a grid in object storage.
    storage_options: Mapping[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *,
             storage_options: Mapping[str, Any] | None = None) -> Geoid:
        """Open `path` (a file, an s3:// URI, or a name searched like PROJ does), EGM96 by default.

        An s3:// grid is read with `storage_options` (else the environment's S3 settings).
        A missing or unreadable file, or one that is not a lon/lat grid, is MissingGeoidError.
        """
        if path is None:
            path = default_geoid_file()
        elif not is_remote(path) and not Path(path).is_file():
            path = find_geoid_file(str(path)) or path
        try:
            with _open(Store(storage_options), path) as ds:
                t = ds.transform
                geographic = ds.crs is None or ds.crs.is_geographic
                if not geographic:
                    raise InvalidGeoidError(path, f"its CRS is {ds.crs}, not longitude/latitude")
                if t.b != 0.0 or t.d != 0.0 or t.a <= 0.0 or t.e >= 0.0:
                    raise InvalidGeoidError(path, "not a north-up longitude/latitude grid")
                _check_extent(path, t, ds.width, ds.height)
                _check_values(path, ds)
                width, height, nodata = ds.width, ds.height, ds.nodata
        except rasterio.errors.RasterioIOError as error:
            raise MissingGeoidError(path) from error
        dlon, dlat = float(t.a), float(t.e)
        turn = 360.0 / abs(dlon)
        if abs(width - turn) < 1e-6:
            period = width
        elif abs(width - 1 - turn) < 1e-6:
            period = width - 1
        else:
            period = 0
        return cls(str(path), float(t.c) + dlon / 2, float(t.f) + dlat / 2, dlon, dlat, width, height,
                   period, None if nodata is None else float(nodata), storage_options)

    @functools.cached_property
    def _store(self) -> Store:
        """Reads the grid (a file or an S3 object, through GDAL) with `storage_options`."""
        return Store(self.storage_options)

    # ---- evaluation -----------------------------------------------------------------------

    def undulation(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Undulation (m, float64) at points (degrees); NaN outside a regional grid or on nodata."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        lon, lat = np.broadcast_arrays(lon, lat)
        out = np.empty(lon.shape, dtype=np.float64)
        if lon.size == 0:
            return out
        from .geoid_kernels import bilinear

        values, row0 = self._rows_for(float(np.nanmin(lat)), float(np.nanmax(lat)))
        bilinear(values, self._u(lon.ravel()), self._v(lat.ravel(), row0), self.period, self.dlon,
                  out.reshape(-1))
        return out

    def on_grid(self, grid, out: np.ndarray | None = None, add: bool = False) -> np.ndarray:
        """Undulation at every pixel centre of `grid` (float32), or added to `out` when `add`.

        Lon/lat are exact on a lattice of every few pixels and bilinear in between (see
        `_LONLAT_STEP`), all in one parallel pass with no full-size temporaries.
        """
        grid = Grid.of(grid)
        if out is None:
            out, add = np.empty(grid.shape, dtype=np.float32), False
        elif out.shape != grid.shape:
            raise ValueError(f"out has shape {out.shape}, the grid {grid.shape}")
        from .geoid_kernels import undulation_on_grid

        clon, clat, step = _lonlat_lattice(grid)
        values, row0 = self._rows_for(float(clat.min()), float(clat.max()))
        undulation_on_grid(clon, clat, step, values, self.lon0, self.lat0, self.dlon, self.dlat,
                            self.period, row0, out, add)
        return out

    # ---- helpers --------------------------------------------------------------------------

    def _u(self, lon: np.ndarray) -> np.ndarray:
        """Fractional column of longitudes (`geoid_kernels.bilinear1` wraps it)."""
        return (lon - self.lon0) / self.dlon

    def _v(self, lat: np.ndarray, row0: int) -> np.ndarray:
        return (lat - self.lat0) / self.dlat - row0

    def _rows_for(self, lat_a: float, lat_b: float) -> tuple[np.ndarray, int]:
        """Grid rows (all columns, float64, nodata as NaN) around a latitude range; first row."""
        va = (lat_a - self.lat0) / self.dlat
        vb = (lat_b - self.lat0) / self.dlat
        first = max(0, min(self.height - 1, math.floor(min(va, vb))))
        last = max(0, min(self.height - 1, math.floor(max(va, vb)) + 1))
        try:
            with _open(self._store, self.path) as ds:
                values = ds.read(1, window=Window(0, first, self.width, last - first + 1))
        except rasterio.errors.RasterioIOError as error:
            raise MissingGeoidError(self.path) from error
        values = values.astype(np.float64)
        if self.nodata is not None:
            values[values == self.nodata] = np.nan
        if self.period and self.width > self.period:  # drop the repeated column(s)
            values = np.ascontiguousarray(values[:, : self.period])
        return values, first


#: Geoid undulations stay within about ±110 m (EGM96: -107 to +86 m; EGM2008 alike).
UNDULATION_RANGE = (-150.0, 150.0)


def _check_extent(path, t, width: int, height: int) -> None:
    """A geoid grid lies within the globe (a degree of slack for repeated edges)."""
    west, north = t.c, t.f
    east, south = west + width * t.a, north + height * t.e
    if not (-361.0 <= west < east <= 361.0 and -91.0 <= south < north <= 91.0):
        raise InvalidGeoidError(path, f"its extent ({west:g}, {south:g}, {east:g}, {north:g}) "
                                "is not within longitudes ±360° and latitudes ±90°")


def _check_values(path, ds) -> None:
    """Undulations of a sample of the grid (at most 256 × 256 values) are geoid heights."""
    shape = (min(ds.height, 256), min(ds.width, 256))
    sample = ds.read(1, out_shape=shape, masked=True)
    values = np.ma.getdata(sample)[~np.ma.getmaskarray(sample)].astype(np.float64)
    values = values[np.isfinite(values)]
    low, high = UNDULATION_RANGE
    if not values.size:
        raise InvalidGeoidError(path, "it holds no value")
    if values.min() < low or values.max() > high:
        raise InvalidGeoidError(path, f"its values span {values.min():g} to {values.max():g} m, "
                                f"not geoid undulations ({low:g} to {high:g} m)")


@contextmanager
def _open(store: Store, path: str | os.PathLike):
    """The grid opened by GDAL in the store's environment."""
    with store.gdal_env(**_OPEN_OPTIONS), rasterio.open(store.gdal_path(path)) as ds:
        yield ds


def _lonlat_lattice(grid: Grid) -> tuple[np.ndarray, np.ndarray, int]:
    """Lon/lat (float64) of the pixel centres at every `step` rows and columns, past the last."""
    rows, cols = grid.shape
    step = _LONLAT_STEP
    if grid.crs.is_projected:
        t = grid.transform
        pixel = max(math.hypot(t.a, t.d), math.hypot(t.b, t.e)) * grid.crs.axis_info[0].unit_conversion_factor
        step = max(1, min(step, int(_LONLAT_SPAN_M // pixel)))
    r = np.arange(0, rows - 1 + step, step, dtype=np.float64)
    c = np.arange(0, cols - 1 + step, step, dtype=np.float64)
    x, y = grid.xy(r[:, None], c[None, :])
    lon, lat = grid.lonlat(x, y)
    return np.ascontiguousarray(lon), np.ascontiguousarray(lat), step
