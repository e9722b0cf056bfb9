"""Sentinel-2 tiles computed from their MGRS names, without the ESA grid file.

A Sentinel-2 tile is named after an MGRS 100 km square: UTM zone (1..60), latitude band
(C..X, 8 degrees each, X is 12) and the square's two letters. The tile is the square grown
to 109.8 km (10980 pixels at 10 m), anchored on the 60 m grid at the square's north-west
corner (see `_ul_corner`), in the square's UTM zone (EPSG 326zz north of the equator,
327zz south of it).

MGRS lettering (the "AA" scheme of WGS84 MGRS), derived here rather than tabulated:

* column letter: the square's easting in 100 km (1..8) in one of three 8-letter sets,
  chosen by ``zone % 3`` (A-H for zones 1, 4, ...; J-R for 2, 5, ...; S-Z for 3, 6, ...);
* row letter: northing in 100 km modulo 20 over A-V (no I, O), shifted by 5 letters in even
  zones; southern northings include the 10,000 km false northing, which is a multiple of the
  2,000 km cycle, so the lettering runs on unbroken across the equator;
* the band letter removes the 2,000 km ambiguity of the row letter: a band is less than
  1,500 km tall in northing, so one cycle only meets it.

Grid zones follow MGRS, exceptions included: 31V is 0-3 E and 32V 3-12 E (Norway); in band
X 31X, 33X, 35X, 37X are 9 or 12 degrees wide and 32X, 34X, 36X do not exist (Svalbard).
A name is valid when its square, grown on every side by the tiles' 9.8 km overlap, overlaps
its grid zone (ESA keeps squares that only touch their zone, such as 31VEC, whose square lies
east of 3 E, in 32V's land). Two more rules make ESA's Sentinel-2 grid: band C goes on south
of 80 S (where MGRS has UPS) down to 84 S, the last UTM square row (01CEH); and where a zone's
width changes from band to band (31-37 V and X), a square that meets the band's latitudes and
the zone's land in another band is the zone's too (31VFC reaches 31U, 31VFL 31W, 31WGV the
wide 31X). Every tile of ESA's grid passes (its 56,686 names, as S1Tiling ships them, with
every corner within 2 cm of ESA's polygons for the squares these rules add); some names absent
from ESA's grid file pass too, since they are still well-defined tiles.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from shapely.affinity import translate
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from s1tiling_cloud.exceptions import NoS2TileError
from s1tiling_cloud.outputs.names import split_tile_name

log = logging.getLogger(__name__)

__all__ = ["S2Tile", "TILE_SIZE"]

#: Side of a Sentinel-2 tile (m): 10980 pixels at 10 m.
TILE_SIZE = 109_800
#: Side of an MGRS square (m).
SQUARE_SIZE = 100_000
#: How far a tile reaches beyond its 100 km square (m).
OVERLAP = TILE_SIZE - SQUARE_SIZE
#: Sentinel-2 pixel corners of every resolution (10, 20, 60 m) lie on this grid (m).
GRID_STEP = 60
#: False northing of the southern UTM zones (m).
FALSE_NORTHING_SOUTH = 10_000_000

_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLUMN_SETS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROW_LETTERS = "ABCDEFGHJKLMNPQRSTUV"
_ROW_CYCLE = len(_ROW_LETTERS) * SQUARE_SIZE  # 2,000 km
_EVEN_ZONE_ROW_SHIFT = 5
#: Zone longitudes that differ from the regular 6 degrees, by (zone, band); None: no zone.
_ZONE_EXCEPTIONS: dict[tuple[int, str], tuple[float, float] | None] = {
    (31, "V"): (0.0, 3.0),
    (32, "V"): (3.0, 12.0),
    (31, "X"): (0.0, 9.0),
    (32, "X"): None,
    (33, "X"): (9.0, 21.0),
    (34, "X"): None,
    (35, "X"): (21.0, 33.0),
    (36, "X"): None,
    (37, "X"): (33.0, 42.0),
}
#: Vertices per tile edge in `S2Tile.footprint` (about 11 km apart).
_EDGE_POINTS = 10
#: Longitude / latitude step used to densify polygons before projecting them (degrees).
_DENSIFY_DEG = 0.05
#: A degree of latitude, a little short (m): search margins are in degrees, never too small.
_DEGREE_M = 110_000.0
#: How far a valid tile can reach beyond its grid zone (m): its square plus two overlaps.
_REACH = SQUARE_SIZE + 2 * OVERLAP


#: How far south Sentinel-2's grid goes: ESA names its squares south of 80 S (where MGRS has
#: UPS) as band C, down to the last UTM square row, about 84 S (e.g. 01CEH).
_SOUTHMOST = -84.0


def _band_latitudes(band: str) -> tuple[float, float]:
    """South and north latitude of an MGRS band; X is 12 degrees tall, up to 84 N, and C, in
    Sentinel-2's grid, 12 degrees too, from 84 S."""
    south = -80.0 + 8.0 * _BANDS.index(band)
    north = 84.0 if band == "X" else south + 8.0
    return (_SOUTHMOST if band == "C" else south), north


def _zone_longitudes(zone: int, band: str) -> tuple[float, float] | None:
    """West and east longitude of a grid zone; None where MGRS has no such zone (32X)."""
    if (zone, band) in _ZONE_EXCEPTIONS:
        return _ZONE_EXCEPTIONS[(zone, band)]
    west = -180.0 + 6.0 * (zone - 1)
    return west, west + 6.0


def _central_meridian(zone: int) -> float:
    return -183.0 + 6.0 * zone


def _epsg(zone: int, band: str) -> int:
    return (32600 if band >= "N" else 32700) + zone


@functools.cache
def _to_utm(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


@functools.cache
def _to_lonlat(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def _project(geometry: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """Apply a pyproj transformer to every vertex of a shapely geometry."""
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(*xy.T)))


@functools.cache
def _grid_zone(zone: int, band: str) -> Polygon | None:
    """The grid zone (zone x band) in its UTM coordinates, densified so parallels curve."""
    longitudes = _zone_longitudes(zone, band)
    if longitudes is None:
        return None
    west, east = longitudes
    south, north = _band_latitudes(band)
    lonlat = shapely.segmentize(box(west, south, east, north), _DENSIFY_DEG)
    return _project(lonlat, _to_utm(_epsg(zone, band)))


@functools.cache
def _zone_land(zone: int, north: bool) -> Polygon:
    """The zone's own land in one hemisphere (its grid zones of every band, exceptions
    included), in the UTM projection of that hemisphere."""
    bands = [b for b in _BANDS if (b >= "N") == north]
    epsg = (32600 if north else 32700) + zone
    pieces = []
    for band in bands:
        longitudes = _zone_longitudes(zone, band)
        if longitudes is None:
            continue
        south, top = _band_latitudes(band)
        lonlat = shapely.segmentize(box(longitudes[0], south, longitudes[1], top), _DENSIFY_DEG)
        pieces.append(_project(lonlat, _to_utm(epsg)))
    return shapely.union_all(pieces)


@functools.cache
def _band_strip(zone: int, band: str) -> Polygon:
    """The band's latitudes over every longitude the zone reaches in any band (UTM)."""
    wests, easts = zip(*(lon for b in _BANDS if (lon := _zone_longitudes(zone, b)) is not None),
                       strict=True)
    south, north = _band_latitudes(band)
    lonlat = shapely.segmentize(box(min(wests), south, max(easts), north), _DENSIFY_DEG)
    return _project(lonlat, _to_utm(_epsg(zone, band)))


def _parse(name: str) -> tuple[int, str, str, str]:
    """Split a tile name into zone, band, column and row letters (`outputs.names`'s one
    definition of a tile name); NoS2TileError if malformed."""
    parts = split_tile_name(name)
    if parts is None:
        raise NoS2TileError(f"{name!r} is not a Sentinel-2 tile name (like 33TTG: a UTM zone, a "
                            "latitude band C..X, column and row letters, no I nor O)")
    if not 1 <= parts[0] <= 60:
        raise NoS2TileError(f"{name!r}: UTM zone {parts[0]} is not in 1..60")
    return parts


def _column_index(zone: int, column: str) -> int | None:
    """Easting of the square in 100 km (1..8), or None if the letter is not in the zone's set."""
    letters = _COLUMN_SETS[(zone - 1) % 3]
    return letters.index(column) + 1 if column in letters else None


def _row_northing(zone: int, row: str, grid_zone: Polygon) -> int | None:
    """Northing of the square's south edge: the row letter's cycle that meets the grid zone.

    Bands are at most ~1,450 km tall in northing (X), less than the 2,000 km cycle, so at
    most one candidate meets the band, even with the overlap margin.
    """
    shift = _EVEN_ZONE_ROW_SHIFT if zone % 2 == 0 else 0
    base = ((_ROW_LETTERS.index(row) - shift) % len(_ROW_LETTERS)) * SQUARE_SIZE
    _, ymin, _, ymax = grid_zone.bounds
    for northing in range(base, FALSE_NORTHING_SOUTH, _ROW_CYCLE):
        if northing - OVERLAP < ymax and northing + SQUARE_SIZE + OVERLAP > ymin:
            return northing
    return None


def _ul_corner(x_west: int, y_north: int, south: bool) -> tuple[int, int]:
    """Upper-left corner of a tile from its square's north-west corner.

    S2 tiles put their corner on the 60 m grid (so the 10, 20 and 60 m rasters share it), at
    the nearest grid point west and north of the square's corner: x rounded down and y rounded
    up to a multiple of 60 m, so the tile always contains its square. The y grid is counted
    from the equator, not from the southern false northing (10,000 km is not a multiple of
    60 m). Hence the "-20 m in x, +40 m in y" seen on many tiles: 100 km is 40 m more than a
    multiple of 60 m, so the offsets cycle through (0, -40, -20) in x and (0, +20, +40) in y.
    Checked on 33NWB (499980, 200040), 31TCJ (300000, 4900020), 33TTG (199980, 4700040),
    01CCV (300000, 2000020), 53HNA (499980, 6100000), 19KDR (399960, 7600000).
    """
    x = (x_west // GRID_STEP) * GRID_STEP
    offset = FALSE_NORTHING_SOUTH if south else 0
    y = -((offset - y_north) // GRID_STEP) * GRID_STEP + offset  # ceil of (y_north - offset)
    return x, y


@dataclass(frozen=True, order=True)
class S2Tile:
    """One Sentinel-2 tile: its name and the upper-left corner of its grid in UTM metres.

    Build it with `S2Tile.from_name`. Tiles sort by name.
    """

    name: str
    zone: int
    band: str
    square: str
    ulx: int
    uly: int

    # ---- construction ---------------------------------------------------------------------

    @classmethod
    def from_name(cls, name: str) -> S2Tile:
        """The tile named `name` ("33TTG", "T33TTG" or lower case); NoS2TileError otherwise."""
        zone, band, column, row = _parse(name)
        canonical = f"{zone:02d}{band}{column}{row}"
        grid_zone = _grid_zone(zone, band)
        if grid_zone is None:
            raise NoS2TileError(f"{canonical}: grid zone {zone}{band} does not exist (Svalbard)")
        column_index = _column_index(zone, column)
        if column_index is None:
            letters = _COLUMN_SETS[(zone - 1) % 3]
            raise NoS2TileError(f"{canonical}: column letters of zone {zone} are {letters}")
        x_west = column_index * SQUARE_SIZE
        y_south = _row_northing(zone, row, grid_zone)
        if y_south is None or not _meets_grid_zone(x_west, y_south, grid_zone, zone, band):
            raise NoS2TileError(f"{canonical}: square {column}{row} lies outside {zone}{band}")
        ulx, uly = _ul_corner(x_west, y_south + SQUARE_SIZE, south=band < "N")
        return cls(canonical, zone, band, column + row, ulx, uly)

    @classmethod
    def covering(cls, geometry: BaseGeometry) -> list[S2Tile]:
        """Every tile, in name order, whose footprint intersects a lon/lat geometry.

        Neighbouring zones and both band names of squares on a band limit are included. A
        geometry across the antimeridian may use longitudes past +-180 degrees or be split.
        """
        found = []
        for zone, band, window in _grid_zone_windows():
            local = _clip_around(geometry, window)
            if local.is_empty:
                continue
            near = _tiles_near(zone, band, local)
            found += [tile for tile in near if tile.footprint.intersects(local)]
        return sorted(found)

    # ---- grid -----------------------------------------------------------------------------

    @property
    def epsg(self) -> int:
        return _epsg(self.zone, self.band)

    @property
    def crs(self) -> CRS:
        return CRS.from_epsg(self.epsg)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in metres in the tile's UTM zone."""
        return (
            float(self.ulx),
            float(self.uly - TILE_SIZE),
            float(self.ulx + TILE_SIZE),
            float(self.uly),
        )

    def shape(self, resolution: float) -> tuple[int, int]:
        """(rows, columns) of the tile's grid at `resolution` metres (10980 at 10 m)."""
        size = round(TILE_SIZE / _positive(resolution))
        return size, size

    def transform(self, resolution: float) -> Affine:
        """Affine transform (rasterio convention) of the tile's grid at `resolution` metres."""
        res = _positive(resolution)
        return Affine(res, 0.0, float(self.ulx), 0.0, -res, float(self.uly))

    # ---- geometry -------------------------------------------------------------------------

    @cached_property
    def footprint(self) -> Polygon:
        """The tile in lon/lat: corners UL, UR, LR, LL, edges densified every ~11 km.

        Longitudes are continuous around the zone's central meridian, so a tile that crosses
        the antimeridian has some beyond +-180 degrees instead of a polygon that wraps the globe.
        """
        xmin, ymin, xmax, ymax = self.bounds
        corners = np.array([(xmin, ymax), (xmax, ymax), (xmax, ymin), (xmin, ymin)])
        t = np.linspace(0.0, 1.0, _EDGE_POINTS, endpoint=False)[:, None]
        ends = np.roll(corners, -1, axis=0)
        x, y = np.concatenate([a + t * (b - a) for a, b in zip(corners, ends, strict=True)]).T
        lon, lat = _to_lonlat(self.epsg).transform(x, y)
        cm = _central_meridian(self.zone)
        lon = cm + (np.asarray(lon) - cm + 180.0) % 360.0 - 180.0
        return Polygon(np.column_stack([lon, lat]))

    def coverage(self, geometry: BaseGeometry) -> float:
        """Fraction (0..1) of the tile's area covered by a lon/lat geometry, computed in UTM."""
        lonmin, latmin, lonmax, latmax = self.footprint.bounds
        margin = 0.1  # degrees: the footprint's vertices are ~11 km apart, its edges bend
        window = (lonmin - margin, latmin - margin, lonmax + margin, latmax + margin)
        clipped = _clip_around(geometry, window)
        if clipped.is_empty:
            return 0.0
        utm = _project(shapely.segmentize(clipped, _DENSIFY_DEG / 5), _to_utm(self.epsg))
        covered = utm.intersection(box(*self.bounds)).area
        return min(1.0, covered / float(TILE_SIZE * TILE_SIZE))

    def __str__(self) -> str:
        return self.name


def _positive(resolution: float) -> float:
    res = float(resolution)
    if not res > 0.0:
        raise ValueError(f"resolution must be positive, not {resolution!r}")
    return res


def _meets_grid_zone(x_west: int, y_south: int, grid_zone: Polygon, zone: int, band: str) -> bool:
    """Whether the square, grown by the tiles' overlap, overlaps its grid zone (1 m2 or more).

    Where a zone's width changes from band to band (31-37 V and X), ESA also keeps a square
    of the band that reaches the zone's land in a neighbouring band (31VFC reaches 31U, 31WGV
    reaches 31X): it meets both the band's latitudes and the zone's land.
    """
    grown = box(
        x_west - OVERLAP,
        y_south - OVERLAP,
        x_west + SQUARE_SIZE + OVERLAP,
        y_south + SQUARE_SIZE + OVERLAP,
    )
    if grown.intersection(grid_zone).area >= 1.0:
        return True
    if not any((zone, b) in _ZONE_EXCEPTIONS for b in _BANDS):
        return False
    return (grown.intersection(_band_strip(zone, band)).area >= 1.0
            and grown.intersection(_zone_land(zone, band >= "N")).area >= 1.0)


def _clip_around(geometry: BaseGeometry, window: tuple[float, ...]) -> BaseGeometry:
    """The parts of a lon/lat geometry, or of its copies one turn east or west, in a window.

    Windows and footprints have longitudes continuous around a zone's central meridian, maybe
    past +-180 degrees; the copies find the geometries written on the other side.
    """
    wlonmin, wlatmin, wlonmax, wlatmax = window
    if geometry.is_empty:
        return geometry
    lonmin, latmin, lonmax, latmax = geometry.bounds
    if latmin > wlatmax or latmax < wlatmin:
        return Polygon()
    pieces = []
    for turn in (-1, 0, 1):
        xoff = 360.0 * turn
        if lonmin + xoff <= wlonmax and lonmax + xoff >= wlonmin:
            moved = translate(geometry, xoff=xoff) if turn else geometry
            pieces.append(moved.intersection(box(*window)))
    return shapely.union_all(pieces) if pieces else Polygon()


@functools.cache
def _grid_zone_windows() -> tuple[tuple[int, str, tuple[float, float, float, float]], ...]:
    """Every grid zone with the lon/lat window its tiles stay in.

    A valid tile lies within `_REACH` of its grid zone: the window adds that distance in
    degrees, of longitude at the band's highest latitude (capped at 85 degrees).
    """
    lat_margin = _REACH / _DEGREE_M
    windows = []
    for zone in range(1, 61):
        for band in _BANDS:
            longitudes = _zone_longitudes(zone, band)
            if longitudes is None:
                continue
            south, north = _band_latitudes(band)
            widest = min(max(abs(south), abs(north)) + lat_margin, 85.0)
            lon_margin = _REACH / (_DEGREE_M * math.cos(math.radians(widest)))
            window = (
                longitudes[0] - lon_margin,
                max(south - lat_margin, -90.0),
                longitudes[1] + lon_margin,
                min(north + lat_margin, 90.0),
            )
            windows.append((zone, band, window))
    return tuple(windows)


def _tiles_near(zone: int, band: str, geometry: BaseGeometry) -> Iterator[S2Tile]:
    """Valid tiles of one grid zone whose 100 km square may meet the geometry's UTM bbox.

    The geometry must be near the grid zone (see `_grid_zone_windows`) for the projection.
    """
    utm = _project(shapely.segmentize(geometry, _DENSIFY_DEG), _to_utm(_epsg(zone, band)))
    xmin, ymin, xmax, ymax = utm.bounds
    letters = _COLUMN_SETS[(zone - 1) % 3]
    shift = _EVEN_ZONE_ROW_SHIFT if zone % 2 == 0 else 0
    first_col = max(1, math.floor((xmin - OVERLAP) / SQUARE_SIZE))
    last_col = min(8, math.floor((xmax + OVERLAP) / SQUARE_SIZE))
    first_row = max(0, math.floor((ymin - OVERLAP) / SQUARE_SIZE))
    last_row = min(99, math.floor((ymax + OVERLAP) / SQUARE_SIZE))
    for column in range(first_col, last_col + 1):
        for row in range(first_row, last_row + 1):
            letter = _ROW_LETTERS[(row + shift) % len(_ROW_LETTERS)]
            try:
                tile = S2Tile.from_name(f"{zone:02d}{band}{letters[column - 1]}{letter}")
            except NoS2TileError:
                continue
            if abs(tile.uly - (row + 1) * SQUARE_SIZE) < GRID_STEP:  # the cycle of `row`
                yield tile


def existing_tiles(names: Iterable[str]) -> list[str]:
    """The tiles of `names` that exist, spelled as `S2Tile` spells them, sorted and unique.
    Unknown ones are dropped with S1Tiling's warning; `NoS2TileError` when none is left."""
    names = list(names)
    kept: set[str] = set()
    for name in names:
        try:
            kept.add(S2Tile.from_name(name).name)
        except NoS2TileError as error:
            log.warning("Tile %s does not exist, skipping (%s)", name, error.details)
    if not kept:
        raise NoS2TileError(f"none among {', '.join(map(str, names)) or 'no tile'}")
    return sorted(kept)
