"""A raster grid (CRS, affine transform, shape): what heights, masks and products are computed on.

An S2 tile at one resolution is one (`Grid.from_tile`); so is any rasterio dataset
(`Grid.of`). Rows and columns follow rasterio: the transform maps (col, row) of a pixel's
upper-left corner to map coordinates; pixel centres are at +0.5.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import Polygon

__all__ = ["Grid", "continuous_longitudes"]

#: Vertices per edge of a grid's lon/lat footprint: edges bend after projection.
_EDGE_POINTS = 32


def continuous_longitudes(lon: np.ndarray, centre: float) -> np.ndarray:
    """Longitudes shifted by whole turns to lie within 180 degrees of `centre`.

    Keeps a grid across the antimeridian in one piece (some longitudes beyond +-180).
    """
    return centre + (np.asarray(lon, dtype=np.float64) - centre + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Grid:
    """A north-up or rotated raster grid: CRS, affine transform of pixel corners, (rows, cols)."""

    crs: CRS
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", CRS.from_user_input(self.crs))
        rows, cols = (int(n) for n in self.shape)
        if rows < 1 or cols < 1:
            raise ValueError(f"a grid needs at least one pixel, not shape {self.shape}")
        object.__setattr__(self, "shape", (rows, cols))

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    def from_tile(cls, tile, resolution: float) -> Grid:
        """The grid of an `S2Tile` (or tile name) at `resolution` metres (10980² at 10 m)."""
        if isinstance(tile, str):
            from .s2tile import S2Tile

            tile = S2Tile.from_name(tile)
        return cls(tile.crs, tile.transform(resolution), tile.shape(resolution))

    @classmethod
    def of(cls, obj) -> Grid:
        """A Grid from anything with `crs`, `transform` and `shape` (a rasterio dataset, a Grid)."""
        if isinstance(obj, Grid):
            return obj
        try:
            return cls(obj.crs, obj.transform, tuple(obj.shape)[-2:])
        except (AttributeError, TypeError) as error:
            raise TypeError(f"{obj!r} has no crs, transform and shape: use Grid.from_tile for an "
                            "S2Tile") from error

    # ---- derived grids --------------------------------------------------------------------

    def grown(self, pixels: int) -> Grid:
        """The same grid with `pixels` more on every side (a margin for kernels, normals...)."""
        n = int(pixels)
        rows, cols = self.shape
        return Grid(self.crs, self.transform @ Affine.translation(-n, -n), (rows + 2 * n, cols + 2 * n))

    def window(self, row_off: int, col_off: int, rows: int, cols: int) -> Grid:
        """The sub-grid of `rows` x `cols` pixels starting at (row_off, col_off)."""
        return Grid(self.crs, self.transform @ Affine.translation(col_off, row_off), (rows, cols))

    def row_blocks(self, rows: int) -> Iterator[tuple[slice, Grid]]:
        """(row slice, sub-grid) for consecutive blocks of at most `rows` rows, full width."""
        height, width = self.shape
        for start in range(0, height, max(1, int(rows))):
            stop = min(height, start + max(1, int(rows)))
            yield slice(start, stop), self.window(start, 0, stop - start, width)

    def __getitem__(self, key) -> Grid:
        """The sub-grid of a (rows, cols) pair of slices (positive steps): its pixel centres are
        those of the selected pixels, e.g. ``grid[::10]`` for every tenth row."""
        rows, cols = (key, slice(None)) if not isinstance(key, tuple) else key
        (r0, r1, rs), (c0, c1, cs) = (s.indices(n) for s, n in zip((rows, cols), self.shape,
                                                                      strict=True))
        if rs <= 0 or cs <= 0:
            raise ValueError("sub-grids need positive slice steps")
        shape = (len(range(r0, r1, rs)), len(range(c0, c1, cs)))
        # Sub pixel (i, j) centre: (c0 + cs j + 0.5, r0 + rs i + 0.5) in this grid's indices.
        sub = Affine.translation(c0 + 0.5 - 0.5 * cs, r0 + 0.5 - 0.5 * rs) @ Affine.scale(cs, rs)
        return Grid(self.crs, self.transform @ sub, shape)

    @property
    def resolution(self) -> float:
        """The larger of the two pixel sizes (CRS units)."""
        t = self.transform
        return max(math.hypot(t.a, t.d), math.hypot(t.b, t.e))

    @property
    def resolution_m(self) -> float:
        """The larger pixel size in metres (degrees count 111.32 km)."""
        if self.crs.is_geographic:
            return self.resolution * 111_320.0
        factor = self.crs.axis_info[0].unit_conversion_factor if self.crs.axis_info else 1.0
        return self.resolution * factor

    # ---- geometry -------------------------------------------------------------------------

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the pixel corners, in the grid's CRS."""
        rows, cols = self.shape
        x, y = self.xy(np.array([0, 0, rows, rows]) - 0.5, np.array([0, cols, cols, 0]) - 0.5)
        return float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (float64) of pixel centres at (possibly fractional) row, col indices."""
        t = self.transform
        r = np.asarray(rows, dtype=np.float64) + 0.5
        c = np.asarray(cols, dtype=np.float64) + 0.5
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f

    def lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (degrees, float64) of map coordinates of this grid's CRS.

        Longitudes are continuous around the grid's centre (see `continuous_longitudes`).
        """
        lon, lat = self._to_lonlat.transform(np.asarray(x, np.float64), np.asarray(y, np.float64))
        return continuous_longitudes(lon, self._centre_lon), np.asarray(lat, dtype=np.float64)

    @cached_property
    def footprint(self) -> Polygon:
        """The grid's outline (pixel corners) in lon/lat, edges densified, longitudes continuous."""
        rows, cols = self.shape
        t = np.linspace(0.0, 1.0, _EDGE_POINTS, endpoint=False)
        r = np.concatenate([np.zeros_like(t), t * rows, np.full_like(t, rows), (1 - t) * rows])
        c = np.concatenate([t * cols, np.full_like(t, cols), (1 - t) * cols, np.zeros_like(t)])
        x, y = self.xy(r - 0.5, c - 0.5)
        lon, lat = self.lonlat(x, y)
        return shapely.make_valid(Polygon(np.column_stack([lon, lat])))

    @cached_property
    def _to_lonlat(self) -> Transformer:
        return Transformer.from_crs(self.crs, CRS.from_epsg(4326), always_xy=True)

    @cached_property
    def _centre_lon(self) -> float:
        rows, cols = self.shape
        x, y = self.xy(np.array([(rows - 1) / 2.0]), np.array([(cols - 1) / 2.0]))
        lon, _ = self._to_lonlat.transform(x, y)
        return float(np.asarray(lon)[0])
