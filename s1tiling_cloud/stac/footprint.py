"""The valid-data footprint of a product on its tile, as a lon/lat polygon for its STAC item.

A Sentinel-1 swath covers only part of most S2 tiles, so an item's geometry is where the product
has data, not the tile: a bbox search then finds only items with pixels there. The border mask
(or the product's `!= 0`) is reduced to a coarse grid, strip by strip, where a cell is valid if
any of its pixels is (overviews would not do: a mask's are sampled, and drop thin parts),
vectorised with `rasterio.features.shapes`, simplified to that grid's cell size then grown by it
(so the polygon still covers every valid pixel), densified, and reprojected to EPSG:4326.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.features import shapes
from rasterio.windows import Window
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient

from ..store import Store

__all__ = ["Footprint", "valid_footprint"]

#: Degrees kept in coordinates: 1e-7° is ~1 cm, far below a pixel.
_PRECISION = 1e-7
#: Longest segment (metres) left straight before reprojection: UTM edges curve in lon/lat.
_DENSIFY_M = 5000.0


@dataclass(frozen=True)
class Footprint:
    """Where a product has data: a GeoJSON geometry and bbox in lon/lat (None if nowhere)."""

    geometry: dict[str, Any] | None
    bbox: list[float] | None
    valid_fraction: float


def valid_footprint(store: Store, uri: str, *, max_size: int = 512) -> Footprint:
    """The footprint of the non-zero pixels of `uri` (a border mask or a product, nodata 0)."""
    with store.open_raster(uri) as dataset:
        factor = max(1, math.ceil(max(dataset.height, dataset.width) / max_size))
        valid, count = _coarse_valid(dataset, factor)
        grid = dataset.transform @ Affine.scale(factor, factor)
        crs = dataset.crs
        fraction = count / (dataset.height * dataset.width)
    if not valid.any():
        return Footprint(None, None, 0.0)
    polygons = [shape(geometry) for geometry, _ in
                shapes(valid.astype(np.uint8), mask=valid, transform=grid, connectivity=8)]
    pixel = max(abs(grid.a), abs(grid.e))
    native = shapely.union_all(polygons).simplify(pixel, preserve_topology=True)
    native = shapely.segmentize(native.buffer(pixel, join_style="mitre"), _DENSIFY_M)
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lonlat = shapely.transform(native, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    lonlat = shapely.set_precision(shapely.make_valid(lonlat), _PRECISION)
    lonlat = _oriented(lonlat)
    if lonlat.is_empty:
        return Footprint(None, None, fraction)
    return Footprint(mapping(lonlat), [round(v, 7) for v in lonlat.bounds], round(fraction, 6))


def _coarse_valid(dataset, factor: int, strip_cells: int = 64) -> tuple[np.ndarray, int]:
    """Cells of `factor`² pixels holding any non-zero pixel, and the count of such pixels."""
    rows, cols = math.ceil(dataset.height / factor), math.ceil(dataset.width / factor)
    coarse = np.zeros((rows, cols), bool)
    count = 0
    for top in range(0, rows, strip_cells):
        cells = min(strip_cells, rows - top)
        window = Window(0, top * factor, dataset.width, min(cells * factor, dataset.height - top * factor))
        block = dataset.read(1, window=window)
        valid = np.isfinite(block) & (block != 0)
        count += int(np.count_nonzero(valid))
        padded = np.zeros((cells * factor, cols * factor), bool)
        padded[:valid.shape[0], :valid.shape[1]] = valid
        coarse[top:top + cells] = padded.reshape(cells, factor, cols, factor).any(axis=(1, 3))
    return coarse, count


def _oriented(geometry):
    """Exterior rings counter-clockwise (GeoJSON's right-hand rule); polygons only."""
    if geometry.geom_type == "Polygon":
        return orient(geometry, 1.0)
    if geometry.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([orient(p, 1.0) for p in geometry.geoms])
    polygons = [g for g in getattr(geometry, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    parts = [p for g in polygons for p in (g.geoms if g.geom_type == "MultiPolygon" else [g])]
    return shapely.MultiPolygon([orient(p, 1.0) for p in parts]) if parts else shapely.Polygon()
