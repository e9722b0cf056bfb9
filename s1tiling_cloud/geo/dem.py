"""DEM sources: which DEM files a grid needs, and the DEM mosaic warped onto the grid.

A DEM is tiles in a folder or under an ``s3://bucket/prefix`` named by a format
(S1Tiling's `dem_dir` + `dem_format`), or one GDAL raster / VRT covering the area. Tiles are
listed by a database of footprints (S1Tiling's `dem_database`, a GeoPackage or shapefile whose
fields fill the format, e.g. ``{id}.hgt`` or ``{FileID}``) or, without one, computed from the
grid's lon/lat footprint as the 1-degree cells of SRTM and Copernicus DEM, whose format may use
``{id}`` (``N41E012``), ``{lat}`` (``N41``), ``{lon}`` (``E012``), ``{south}`` and ``{west}``
(integers). A needed file that is missing is `MissingDEMError` naming the tiles, as in
S1Tiling, unless it is a 1-degree cell that is all sea (`geo.landmask`): SRTM and Copernicus
DEM publish no sea tile, and such a cell, like a part of the grid no database tile covers, is
taken at the geoid, as OTB does (a warning, and `DemSelection.geoid_stands_in`).

Heights are over the geoid, as in the files: `heights.ellipsoid_heights` adds the undulation.
The mosaic is a VRT of the needed tiles (so cubic kernels see across tile edges) warped by GDAL
straight into the float32 output, DEM nodata (-32768 in S1Tiling) as NaN.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape as _html_escape
from typing import Any

import numpy as np
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile
from rasterio.transform import array_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from shapely.affinity import translate
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from s1tiling_cloud.exceptions import ConfigurationError, MissingDEMError
from s1tiling_cloud.store import Store, is_remote, join

from .grid import Grid, continuous_longitudes

__all__ = [
    "COPERNICUS_30M_FORMAT",
    "DEM_NODATA",
    "SRTM_FORMAT",
    "DemSelection",
    "DemSource",
    "DemTile",
    "cell_fields",
    "main_id_field",
    "resampling_method",
]

log = logging.getLogger(__name__)

#: S1Tiling's hard-coded DEM nodata, used for sources that declare none.
DEM_NODATA = -32768.0
#: S1Tiling's default `dem_format`: SRTM 1-degree tiles (`N41E012.hgt`).
SRTM_FORMAT = "{id}.hgt"
#: Copernicus DEM GLO-30 COGs as published (one folder per tile).
COPERNICUS_30M_FORMAT = (
    "Copernicus_DSM_COG_10_{lat}_00_{lon}_00_DEM/Copernicus_DSM_COG_10_{lat}_00_{lon}_00_DEM.tif"
)
#: Output rows warped per read: bounds GDAL's buffers for the output's sake.
_BLOCK_ROWS = 1024
#: Smallest error tolerance: GDAL's warped VRTs refuse 0; this one is as good as exact.
_EXACT = 1e-9
#: gdalwarp's `-r` names (S1Tiling's `dem_warp_resampling_method`) that differ from rasterio's.
_GDAL_RESAMPLING = {"near": "nearest", "cubicspline": "cubic_spline"}
#: Overlaps smaller than this share of a footprint (~1 m2 of an S2 tile) are edges that touch.
_MIN_SHARE = 1e-10
_GDAL_TYPES = {"uint8": "Byte", "int8": "Int8", "int16": "Int16", "uint16": "UInt16", "int32": "Int32",
               "uint32": "UInt32", "float32": "Float32", "float64": "Float64"}


def resampling_method(name: str | Resampling) -> Resampling:
    """rasterio's Resampling for a gdalwarp name (`near`, `cubic`, `cubicspline`, `average`...)."""
    if isinstance(name, Resampling):
        return name
    key = str(name).strip().lower()
    try:
        return Resampling[_GDAL_RESAMPLING.get(key, key)]
    except KeyError:
        choices = ", ".join(sorted({"near", "cubicspline", *Resampling.__members__} - {"nearest"}))
        raise ValueError(f"unknown DEM resampling method {name!r}; one of {choices}") from None


def cell_fields(south: int, west: int) -> dict[str, Any]:
    """Format fields of the 1-degree cell whose south-west corner is (south, west)."""
    lat = f"{'N' if south >= 0 else 'S'}{abs(south):02d}"
    lon = f"{'E' if west >= 0 else 'W'}{abs(west):03d}"
    return {"id": lat + lon, "lat": lat, "lon": lon, "south": south, "west": west}


@dataclass(frozen=True)
class DemTile:
    """One DEM file a grid needs: its id, where it is expected, whether it is there."""

    id: str
    uri: str
    exists: bool
    #: Fraction of the grid's footprint it covers.
    coverage: float
    #: The 1-degree cell's (south, west) corner, for tiles named by cell (no database).
    cell: tuple[int, int] | None = None


@dataclass(frozen=True)
class DemSelection:
    """The DEM files a grid needs and how much of the grid they cover together (0..1)."""

    tiles: tuple[DemTile, ...]
    coverage: float
    #: Ids of the needed cells without a DEM file that are all sea: taken at the geoid.
    sea: tuple[str, ...] = ()

    @property
    def missing(self) -> list[DemTile]:
        return [t for t in self.tiles if not t.exists and t.id not in self.sea]

    @property
    def geoid_stands_in(self) -> str:
        """Where heights are the geoid's, as `DEM_INFO` says it ("" when the DEM covers all)."""
        if self.sea:
            return f"geoid over the sea cells {', '.join(self.sea)}"
        if self.coverage < 1.0 - 1e-9:
            return f"geoid outside the DEM tiles ({100 * (1 - self.coverage):.1f}% of the area)"
        return ""

    @property
    def uris(self) -> list[str]:
        """The files to read: the needed ones that exist."""
        return [t.uri for t in self.tiles if t.exists]


@dataclass(frozen=True)
class DemSource:
    """Where DEM heights come from (see the module's doc); build it with a classmethod."""

    location: str
    #: None: `location` is one raster; else the name of a tile relative to `location`.
    dem_format: str | None = SRTM_FORMAT
    dem_database: str | None = None
    database_layer: str | None = None
    storage_options: Mapping[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)
    #: Tolerate missing tiles (DEM sets without sea tiles and no database): a warning, NaN there.
    allow_missing: bool = False

    @classmethod
    def tiles(cls, location: str | os.PathLike, dem_format: str = SRTM_FORMAT,
              dem_database: str | os.PathLike | None = None, *, database_layer: str | None = None,
              storage_options: Mapping[str, Any] | None = None, allow_missing: bool = False) -> DemSource:
        """Tiles named by `dem_format` in a folder or under an s3:// prefix."""
        database = None if dem_database is None else str(dem_database)
        return cls(str(location), dem_format, database, database_layer, storage_options, allow_missing)

    @classmethod
    def raster(cls, location: str | os.PathLike, *,
               storage_options: Mapping[str, Any] | None = None) -> DemSource:
        """One GDAL raster or VRT (local or s3://) covering the area."""
        return cls(str(location), None, storage_options=storage_options)

    @classmethod
    def from_config(cls, dem_dir: str | os.PathLike, dem_database: str | os.PathLike | None = None,
                    dem_format: str | None = None, *,
                    storage_options: Mapping[str, Any] | None = None) -> DemSource:
        """S1Tiling's `[Paths]` keys: a `dem_dir` that is a file is one raster, else a tile folder."""
        location = str(dem_dir)
        if dem_database is None and dem_format is None and Store(storage_options).exists(location):
            return cls.raster(location, storage_options=storage_options)
        return cls.tiles(location, dem_format or SRTM_FORMAT, dem_database, storage_options=storage_options)

    @functools.cached_property
    def _store(self) -> Store:
        """Reads the DEM (files, S3 objects, GDAL's `/vsis3/`) with `storage_options`."""
        return Store(self.storage_options)

    # ---- selection ------------------------------------------------------------------------

    def select(self, grid, margin: int = 0) -> DemSelection:
        """The DEM files `grid` grown by `margin` pixels needs (missing ones included).

        From the database's footprints, the 1-degree cells, or the one raster's outline.
        """
        grid = Grid.of(grid).grown(margin) if margin else Grid.of(grid)
        with self._store.gdal_env():
            if self.dem_format is None:
                return self._select_raster(grid)
            if self.dem_database is not None:
                return self._select_from_database(grid)
            return self._select_cells(grid)

    def require(self, grid, margin: int = 0) -> DemSelection:
        """The DEM files to read for `grid` grown by `margin` pixels; MissingDEMError naming
        the missing files that hold land, a warning if the DEM leaves part of the grid uncovered.

        Needed are the files of the grid itself: those only the margin reaches are read when
        present (a tile whose edge lies on a degree line needs no cell across it, as in S1Tiling).
        A needed 1-degree cell without a file is taken at the geoid when it is all sea (SRTM and
        Copernicus DEM publish no sea tile; OTB takes the geoid there): `DemSelection.sea`.
        """
        grid = Grid.of(grid)
        needed = self.select(grid)
        if margin:
            read = self.select(grid.grown(margin))
            ids = {t.id for t in needed.tiles}
            selection = DemSelection(tuple(t for t in read.tiles if t.exists or t.id in ids),
                                     read.coverage)
            grid = grid.grown(margin)
        else:
            selection = needed
        sea = _sea_cells(selection.missing) if not self.allow_missing else ()
        if sea:
            selection = DemSelection(selection.tiles, selection.coverage, sea)
            log.info("No DEM tile for the sea cells %s of %s: taken at the geoid", ", ".join(sea),
                     _describe(grid))
        missing = selection.missing
        if missing:
            ids = ", ".join(t.id for t in missing)
            where = ", ".join(t.uri for t in missing)
            if not self.allow_missing:
                error = MissingDEMError(f"Missing DEM tiles for {_describe(grid)}: {ids} (expected {where})")
                error.missing = [t.id for t in missing]
                raise error
            log.warning("Missing DEM tiles for %s: %s; their heights are no-data", _describe(grid), ids)
        if selection.coverage < 1.0 - 1e-9:
            log.warning("DEM covers %.2f%% of %s (tiles %s)", 100 * selection.coverage, _describe(grid),
                        ", ".join(t.id for t in selection.tiles) or "none")
        if self.dem_format is None and selection.coverage <= 0.0:
            raise MissingDEMError(f"DEM {self.location} does not cover {_describe(grid)}")
        return selection

    # ---- heights --------------------------------------------------------------------------

    def warp(self, grid, resampling: str | Resampling = "cubic", *, out: np.ndarray | None = None,
             num_threads: int | None = None, warp_mem_limit: int = 128,
             tolerance: float = 0.01, lattice: bool = True) -> np.ndarray:
        """Heights over the geoid on `grid` (float32, NaN where no DEM): the mosaic warped by GDAL.

        `resampling` is S1Tiling's `dem_warp_resampling_method` (cubic by default); `tolerance` is
        gdalwarp's `-et`, the error allowed to GDAL's approximate transformer in source pixels:
        0.01 by default (~0.3 m on SRTM 1", at little cost), 0.125 as gdalwarp and S1Tiling, 0 for
        exact transformations. `warp_mem_limit` (MB) bounds GDAL's buffers, the output aside.
        `lattice`: a single geographic DEM mosaic, fully valid over the tile and coarser than it,
        is resampled by `dem_warp.lattice_warp` (GDAL's cubic kernel at exact positions, 4× less
        CPU than GDAL's warper); False: always GDAL's warper.
        """
        grid = Grid.of(grid)
        method = resampling_method(resampling)
        if out is None:
            out = np.empty(grid.shape, dtype=np.float32)
        elif out.shape != grid.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float32 array of shape {grid.shape}")
        uris = self.require(grid).uris
        if not uris:
            out.fill(np.nan)
            return out
        threads = num_threads or os.cpu_count() or 1
        # Here, not at the top: planning selects DEM tiles without numba (~0.15 s).
        from .dem_warp import lattice_warp

        with self._store.gdal_env():
            for uri in uris:
                check_dem_file(self._store.gdal_path(uri), grid)
            mosaics = list(_mosaics([self._store.gdal_path(u) for u in uris]))
            for index, mosaic in enumerate(mosaics):
                with mosaic as src:
                    nodata = src.nodata if src.nodata is not None else DEM_NODATA
                    if (lattice and len(mosaics) == 1
                            and lattice_warp(src, grid, method, nodata, out)):
                        continue  # every pixel written: no NaN fill first (a pass of 0.5 GB)
                    if index == 0:
                        out.fill(np.nan)
                    with WarpedVRT(src, src_nodata=nodata, nodata=np.nan, dtype="float32", crs=grid.crs,
                                   transform=grid.transform, width=grid.shape[1], height=grid.shape[0],
                                   resampling=method, tolerance=max(tolerance, _EXACT),
                                   warp_mem_limit=warp_mem_limit,
                                   NUM_THREADS=threads) as vrt:
                        _read_blocks(vrt, grid, out, fill_only=index > 0)
        return out

    # ---- selection strategies -------------------------------------------------------------

    def _uri(self, fields: Mapping[str, Any]) -> str:
        try:
            name = self.dem_format.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigurationError(f"dem_format {self.dem_format!r} does not fit the DEM fields "
                                     f"{sorted(fields)}: {error}") from error
        return join(self.location, name)

    def _tile(self, tile_id: str, fields: Mapping[str, Any], coverage: float) -> DemTile:
        uri = self._uri(fields)
        return DemTile(tile_id, uri, self._store.exists(uri), coverage)

    def _select_cells(self, grid: Grid) -> DemSelection:
        """1-degree cells overlapping the footprint (longitudes continuous, ids wrapped)."""
        footprint = grid.footprint
        area = footprint.area
        lonmin, latmin, lonmax, latmax = footprint.bounds
        tiles = []
        for south in range(max(-90, math.floor(latmin)), min(90, math.ceil(latmax))):
            for west in range(math.floor(lonmin), math.ceil(lonmax)):
                part = footprint.intersection(box(west, south, west + 1, south + 1)).area
                if part > _MIN_SHARE * area:
                    fields = cell_fields(south, (west + 180) % 360 - 180)
                    tile = self._tile(fields["id"], fields, part / area)
                    tiles.append(dataclasses.replace(tile, cell=(south, fields["west"])))
        return DemSelection(tuple(tiles), 1.0 if tiles else 0.0)

    def _select_from_database(self, grid: Grid) -> DemSelection:
        """Features of the database overlapping the footprint (R-tree by bbox, then exact)."""
        records, crs = _read_database(self.dem_database, self.database_layer, self._store, grid)
        pieces = _footprint_pieces(grid.footprint, crs)
        total = sum(p.area for p in pieces)
        if total <= 0.0:
            return DemSelection((), 0.0)
        tiles, overlapping = [], []
        for fields, geometry in records:
            part = sum(geometry.intersection(p).area for p in pieces)
            if part > _MIN_SHARE * total:
                overlapping.append(geometry)
                tiles.append(self._tile(_main_id(fields), fields, part / total))
        union = shapely.union_all(overlapping) if overlapping else Polygon()
        covered = sum(union.intersection(p).area for p in pieces)
        return DemSelection(tuple(tiles), min(1.0, covered / total))

    def _select_raster(self, grid: Grid) -> DemSelection:
        uri = self.location
        name = os.path.basename(uri.rstrip("/"))
        if not self._store.exists(uri) and not uri.startswith("/vsi"):
            return DemSelection((DemTile(name, uri, False, 0.0),), 0.0)
        with rasterio.open(self._store.gdal_path(uri)) as ds:
            outline = _raster_outline(ds, grid)
        footprint = grid.footprint
        coverage = min(1.0, outline.intersection(footprint).area / footprint.area)
        return DemSelection((DemTile(name, uri, True, coverage),), coverage)


def _sea_cells(missing: Sequence[DemTile]) -> tuple[str, ...]:
    """Ids of the missing 1-degree cells that hold no land (`geo.landmask`)."""
    cells = [t for t in missing if t.cell is not None]
    if not cells:
        return ()
    from .landmask import cells_with_land

    land = cells_with_land(t.cell for t in cells)
    return tuple(t.id for t in cells if t.cell not in land)


def _read_blocks(vrt: WarpedVRT, grid: Grid, out: np.ndarray, fill_only: bool) -> None:
    """Warp row blocks into `out`; `fill_only`: only where `out` is still NaN (a later mosaic)."""
    width = grid.shape[1]
    for block, sub in grid.row_blocks(_BLOCK_ROWS):
        window = Window(0, block.start, width, sub.shape[0])
        if not fill_only:
            vrt.read(1, out=out[block], window=window)
            continue
        piece = vrt.read(1, window=window)
        hole = np.isnan(out[block])
        out[block][hole] = piece[hole]


def _describe(grid: Grid) -> str:
    crs = grid.crs.to_epsg() or grid.crs.name
    return f"grid EPSG:{crs} {grid.shape[0]}x{grid.shape[1]} at {tuple(round(v, 3) for v in grid.bounds)}"


def main_id_field(names: Sequence[str]) -> str | None:
    """S1Tiling's main id of a DEM tile: the first field whose name contains `id` or `ID`, else
    the first field; None without fields. The one rule, for the database's fields and for
    `dem_format`'s.

    Parameters
    ----------
    names : sequence of str
        Field names, in their order.
    """
    return next((n for n in names if "id" in n or "ID" in n), names[0] if names else None)


def _main_id(fields: Mapping[str, Any]) -> str:
    """The value of a database feature's main id field (`main_id_field`)."""
    name = main_id_field(list(fields))
    return str(fields[name]) if name is not None else "?"


def _read_database(path: str, layer: str | None, store: Store, grid: Grid):
    """Features near the grid's footprint as (fields, geometry) in the database's CRS; that CRS."""
    try:
        import pyogrio
        import pyogrio.raw
    except ImportError as error:  # pragma: no cover - a declared dependency
        raise ConfigurationError("reading a dem_database needs the pyogrio package") from error
    if is_remote(path):
        source: Any = store.read_bytes(path)  # a GeoPackage is one file
    else:
        source = store.gdal_path(path)
        if not os.path.exists(source):
            raise ConfigurationError(f"dem_database {path} does not exist")
    info = pyogrio.read_info(source, layer=layer)
    crs = CRS.from_user_input(info["crs"]) if info.get("crs") else CRS.from_epsg(4326)
    records, seen = [], set()
    for piece in _footprint_pieces(grid.footprint, crs):
        meta, fids, geometry, columns = pyogrio.raw.read(source, layer=layer, bbox=piece.bounds,
                                                         return_fids=True)
        names = list(meta["fields"])
        for k, wkb in enumerate(geometry):
            if wkb is None or int(fids[k]) in seen:
                continue
            seen.add(int(fids[k]))
            fields = {name: _plain(columns[i][k]) for i, name in enumerate(names)}
            records.append((fields, shapely.from_wkb(wkb)))
    return records, crs


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _footprint_pieces(footprint: BaseGeometry, crs: CRS) -> list[BaseGeometry]:
    """The lon/lat footprint cut at +-180 degrees, each piece in `crs`."""
    world = box(-180.0, -90.0, 180.0, 90.0)
    pieces = []
    for turn in (-1, 0, 1):
        piece = translate(footprint, xoff=360.0 * turn).intersection(world)
        if piece.area > _MIN_SHARE * footprint.area:
            pieces.append(piece)
    geographic = CRS.from_epsg(4326)
    if crs.is_geographic and crs.ellipsoid == geographic.ellipsoid:
        return pieces
    to_db = Transformer.from_crs(geographic, crs, always_xy=True)
    return [
        shapely.transform(shapely.segmentize(p, 0.01), lambda xy: np.column_stack(to_db.transform(*xy.T)))
        for p in pieces
    ]


def _raster_outline(ds, grid: Grid) -> Polygon:
    """A raster's outline in lon/lat, longitudes continuous like the grid's footprint."""
    outline = Grid(ds.crs, ds.transform, ds.shape)
    lon, lat = outline.footprint.exterior.xy
    centre = grid.footprint.centroid.x
    return shapely.make_valid(Polygon(np.column_stack([continuous_longitudes(np.asarray(lon), centre), lat])))


# ---- mosaics ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Header:
    path: str
    crs: CRS
    transform: Any
    width: int
    height: int
    dtype: str
    nodata: float | None
    block: tuple[int, int]


def _header(path: str) -> _Header:
    with rasterio.open(path) as ds:
        return _Header(path, CRS.from_user_input(ds.crs), ds.transform, ds.width, ds.height, ds.dtypes[0],
                       ds.nodata, ds.block_shapes[0])


#: Heights a DEM may hold (m): below the Dead Sea shore, above Everest, with a margin.
HEIGHT_RANGE = (-600.0, 9000.0)


def check_dem_file(path: str, grid: Grid) -> None:
    """A DEM file must be a height raster where its name says: MissingDEMError (75) naming it
    when it does not reach the grid (a wrong CRS, e.g. EPSG:3857 numbers read as degrees), or
    when its heights are no heights (random bytes in an `.hgt`: a window of it is read)."""
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise MissingDEMError(f"DEM file {path} has no CRS")
            left, bottom, right, top = transform_bounds(grid.crs, ds.crs, *array_bounds(
                grid.shape[0], grid.shape[1], grid.transform), densify_pts=21)
            west, south, east, north = ds.bounds
            if right < west or left > east or top < min(south, north) or bottom > max(south, north):
                raise MissingDEMError(f"DEM file {path} ({ds.crs}, bounds {tuple(ds.bounds)}) "
                                      f"does not reach {_describe(grid)}: wrong CRS or place")
            # a window in the middle: a few blocks, not the whole file (an .hgt on S3)
            rows, cols = min(ds.height, 256), min(ds.width, 256)
            window = Window((ds.width - cols) // 2, (ds.height - rows) // 2, cols, rows)
            sample = ds.read(1, window=window, masked=True)
    except RasterioIOError as error:
        raise MissingDEMError(f"DEM file {path} is unreadable: {error}") from error
    values = np.ma.getdata(sample)[~np.ma.getmaskarray(sample)].astype(np.float64)
    values = values[np.isfinite(values) & (values != DEM_NODATA)]
    low, high = HEIGHT_RANGE
    if values.size and (values.min() < low or values.max() > high):
        raise MissingDEMError(f"DEM file {path} holds values from {values.min():g} to "
                              f"{values.max():g} m: not heights ({low:g} to {high:g} m)")


def _mosaics(paths: Sequence[str]):
    """Datasets to warp, in order: one VRT per CRS of north-up tiles, any other raster alone."""
    headers = [_header(p) for p in paths]
    groups: dict[str, list[_Header]] = {}
    alone = []
    for h in headers:
        north_up = h.transform.b == 0.0 and h.transform.d == 0.0 and h.transform.e < 0.0
        if north_up and len(headers) > 1:
            groups.setdefault(h.crs.to_wkt(), []).append(h)
        else:
            alone.append(h)
    for h in alone:
        yield rasterio.open(h.path)
    for group in groups.values():
        yield _VrtDataset(_vrt_xml(group))


class _VrtDataset:
    """An in-memory VRT opened as a dataset, released on exit."""

    def __init__(self, xml: str) -> None:
        self._memfile = MemoryFile(xml.encode(), ext=".vrt")

    def __enter__(self):
        self._ds = self._memfile.open()
        return self._ds

    def __exit__(self, *exc) -> None:
        self._ds.close()
        self._memfile.close()


def _xml_text(text: str) -> str:
    """`text` as XML character data (&, < and > escaped; `html`, not `xml.sax.saxutils`, whose
    import pulls `urllib.request` into every heights pod)."""
    return _html_escape(text, quote=False)


def _vrt_xml(headers: Sequence[_Header]) -> str:
    """A VRT mosaic of north-up rasters sharing a CRS, at their finest resolution (BuildVRT's way)."""
    res_x = min(h.transform.a for h in headers)
    res_y = min(-h.transform.e for h in headers)
    left = min(h.transform.c for h in headers)
    top = max(h.transform.f for h in headers)
    right = max(h.transform.c + h.width * h.transform.a for h in headers)
    bottom = min(h.transform.f + h.height * h.transform.e for h in headers)
    width = max(1, math.ceil((right - left) / res_x - 1e-6))
    height = max(1, math.ceil((top - bottom) / res_y - 1e-6))
    sources = []
    for h in headers:
        t = h.transform
        same_res = abs(t.a - res_x) < 1e-12 * res_x and abs(-t.e - res_y) < 1e-12 * res_y
        nodata = h.nodata if h.nodata is not None else DEM_NODATA
        resample = "" if same_res else ' resampling="cubic"'
        sources.append(
            f"<ComplexSource{resample}>"
            f'<SourceFilename relativeToVRT="0">{_xml_text(h.path)}</SourceFilename>'
            f'<SourceBand>1</SourceBand>'
            f'<SourceProperties RasterXSize="{h.width}" RasterYSize="{h.height}" '
            f'DataType="{_GDAL_TYPES.get(h.dtype, "Float32")}" BlockXSize="{h.block[1]}" '
            f'BlockYSize="{h.block[0]}"/>'
            f'<SrcRect xOff="0" yOff="0" xSize="{h.width}" ySize="{h.height}"/>'
            f'<DstRect xOff="{_snap((t.c - left) / res_x)!r}" yOff="{_snap((top - t.f) / res_y)!r}" '
            f'xSize="{_snap(h.width * t.a / res_x)!r}" ySize="{_snap(h.height * -t.e / res_y)!r}"/>'
            f"<NODATA>{nodata!r}</NODATA></ComplexSource>"
        )
    return (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
        f"<SRS>{_xml_text(headers[0].crs.to_wkt())}</SRS>"
        f"<GeoTransform>{left!r}, {res_x!r}, 0.0, {top!r}, 0.0, {-res_y!r}</GeoTransform>"
        f'<VRTRasterBand dataType="Float32" band="1"><NoDataValue>{DEM_NODATA!r}</NoDataValue>'
        + "".join(sources)
        + "</VRTRasterBand></VRTDataset>"
    )


def _snap(pixels: float) -> float:
    """Whole pixels when rounding errors are all that stands between (no resampling in the VRT)."""
    nearest = round(pixels)
    return float(nearest) if abs(pixels - nearest) < 1e-6 else pixels
