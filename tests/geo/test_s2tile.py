"""S2 tiles computed from their names: ESA's known corners, MGRS rules, covering, coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Point, Polygon, box

from s1tiling_cloud.exceptions import NoS2TileError
from s1tiling_cloud.geo.s2tile import TILE_SIZE, S2Tile

_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLUMN_SETS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"


def _utm_box_to_lonlat(tile: S2Tile, xmin, ymin, xmax, ymax) -> Polygon:
    """A rectangle of the tile's UTM zone as a lon/lat polygon, densified every kilometre."""
    to_lonlat = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    utm = shapely.segmentize(box(xmin, ymin, xmax, ymax), 1000.0)
    return shapely.transform(utm, lambda xy: np.column_stack(to_lonlat.transform(*xy.T)))


def _lonlat_to_utm(tile: S2Tile, lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs(4326, tile.epsg, always_xy=True).transform(lon, lat)


def _contains(footprint: Polygon, lon: float, lat: float) -> bool:
    """Point in footprint, whichever side of the antimeridian either is written on."""
    return any(footprint.contains(Point(lon + turn * 360.0, lat)) for turn in (-1, 0, 1))


def _brute_force_covering(geometry, zones, bands) -> list[str]:
    """Every valid name of the given zones and bands whose footprint meets the geometry."""
    shifted = [translate(geometry, xoff=turn * 360.0) for turn in (-1, 0, 1)]
    names = []
    for zone in zones:
        for band in bands:
            for column in _COLUMN_SETS[(zone - 1) % 3]:
                for row in _ROWS:
                    try:
                        tile = S2Tile.from_name(f"{zone:02d}{band}{column}{row}")
                    except NoS2TileError:
                        continue
                    if any(tile.footprint.intersects(g) for g in shifted):
                        names.append(tile.name)
    return sorted(names)


# ---- corners -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "epsg", "ul"),
    [
        # the examples
        ("33NWB", 32633, (499980, 200040)),
        ("31TCJ", 32631, (300000, 4900020)),
        ("33TTG", 32633, (199980, 4700040)),
        # ESA's grid and L1C products: each 60 m offset case, both hemispheres
        ("01CCV", 32701, (300000, 2000020)),  # south: the 60 m grid counts from the equator
        ("53HNA", 32753, (499980, 6100000)),
        ("19KDR", 32719, (399960, 7600000)),  # x offset -40 m
        ("19KCR", 32719, (300000, 7600000)),
        ("43RFM", 32643, (600000, 3200040)),
        ("32TNM", 32632, (499980, 4700040)),
    ],
)
def test_upper_left_corner_matches_esa(name, epsg, ul):
    tile = S2Tile.from_name(name)
    assert tile.epsg == epsg
    assert tile.crs.to_epsg() == epsg
    assert (tile.ulx, tile.uly) == ul
    assert tile.bounds == (ul[0], ul[1] - TILE_SIZE, ul[0] + TILE_SIZE, ul[1])


def test_name_parts():
    tile = S2Tile.from_name("33TTG")
    assert (tile.name, tile.zone, tile.band, tile.square) == ("33TTG", 33, "T", "TG")
    assert str(tile) == "33TTG"


@pytest.mark.parametrize("spelling", ["33TTG", "T33TTG", "33ttg", "t33ttg", " 33TTG\n"])
def test_accepts_t_prefix_and_lower_case(spelling):
    assert S2Tile.from_name(spelling) == S2Tile.from_name("33TTG")


def test_one_digit_zone_is_normalised():
    assert S2Tile.from_name("1CCV").name == "01CCV"


@pytest.mark.parametrize("name", ["33TIG", "33OTG", "33TTW", "33BTG", "33YTG", "333TTG", "33TT",
                                  "61TTG", "TT33G"])
def test_one_tile_name_rule_for_the_grid_the_configuration_and_stac(name):
    """Letters MGRS never uses (I, O, rows past V, bands outside C..X) are no tile name,
    wherever a name is read."""
    from s1tiling_cloud.config.values import tile_names
    from s1tiling_cloud.exceptions import ConfigurationError
    from s1tiling_cloud.outputs.names import split_tile_name

    with pytest.raises(NoS2TileError):
        S2Tile.from_name(name)
    with pytest.raises(ConfigurationError):
        tile_names([name], "tiles", None)
    assert split_tile_name(name) is None or split_tile_name(name)[0] > 60
    assert split_tile_name(" t33ttg") == (33, "T", "T", "G")
    assert tile_names(["t3ttg"], "tiles", None) == ["03TTG"]


def test_upper_left_on_60m_grid_and_contains_its_square():
    rng = np.random.default_rng(0)
    checked = 0
    while checked < 500:
        zone = int(rng.integers(1, 61))
        band = _BANDS[rng.integers(len(_BANDS))]
        column = _COLUMN_SETS[(zone - 1) % 3][rng.integers(8)]
        row = _ROWS[rng.integers(len(_ROWS))]
        try:
            tile = S2Tile.from_name(f"{zone}{band}{column}{row}")
        except NoS2TileError:
            continue
        checked += 1
        south = 10_000_000 if band < "N" else 0
        assert tile.ulx % 60 == 0 and (tile.uly - south) % 60 == 0
        x_west = round(tile.ulx / 100_000) * 100_000
        y_north = round(tile.uly / 100_000) * 100_000
        assert 0 <= x_west - tile.ulx < 60 and 0 <= tile.uly - y_north < 60
        assert x_west // 100_000 == _COLUMN_SETS[(zone - 1) % 3].index(column) + 1
        shift = 5 if zone % 2 == 0 else 0
        assert _ROWS[(y_north // 100_000 - 1 + shift) % 20] == row


# ---- grids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("resolution", "size"), [(10, 10980), (20, 5490), (60, 1830)])
def test_shape_and_transform(resolution, size):
    tile = S2Tile.from_name("33NWB")
    assert tile.shape(resolution) == (size, size)
    transform = tile.transform(resolution)
    assert isinstance(transform, Affine)
    assert transform == Affine(resolution, 0.0, 499980.0, 0.0, -resolution, 200040.0)
    assert transform @ (size, size) == (609780.0, 90240.0)


def test_shape_rejects_a_non_positive_resolution():
    with pytest.raises(ValueError):
        S2Tile.from_name("33NWB").shape(0)


# ---- footprint -----------------------------------------------------------------------------


def test_footprint_of_33NWB_matches_esa_grid():
    expected = [
        (14.99982, 1.809819),
        (15.987005, 1.809548),
        (15.986616, 0.816307),
        (14.99982, 0.816429),
    ]
    footprint = S2Tile.from_name("33NWB").footprint
    coords = np.asarray(footprint.exterior.coords)[:-1]
    corners = coords[:: len(coords) // 4]  # UL, UR, LR, LL; the edges are densified between
    np.testing.assert_allclose(corners, expected, atol=1e-5, rtol=0)
    assert footprint.is_valid


def test_footprint_follows_the_curved_edges():
    tile = S2Tile.from_name("33XWG")  # high latitude: the UTM edges bend in lon/lat
    footprint = tile.footprint
    assert len(footprint.exterior.coords) > 5
    x_mid, y_top = (tile.bounds[0] + tile.bounds[2]) / 2, tile.bounds[3]
    lon, lat = Transformer.from_crs(tile.epsg, 4326, always_xy=True).transform(x_mid, y_top - 1)
    assert footprint.contains(Point(lon, lat))


def test_footprint_across_the_antimeridian_stays_one_piece():
    footprint = S2Tile.from_name("01CCV").footprint
    lonmin, latmin, lonmax, latmax = footprint.bounds
    assert lonmin < -180.0 < lonmax and lonmax - lonmin < 5.0  # continuous, not globe-wrapping
    assert -73.1 < latmin < latmax < -72.0
    assert footprint.is_valid


# ---- hemispheres and exceptions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "epsg", "place"),
    [
        ("55HFA", 32755, (149.13, -35.28)),  # Canberra
        ("19HCC", 32719, (-70.66, -33.45)),  # Santiago de Chile
        ("56HLH", 32756, (151.21, -33.87)),  # Sydney
    ],
)
def test_southern_hemisphere(name, epsg, place):
    tile = S2Tile.from_name(name)
    assert tile.epsg == epsg
    assert tile.bounds[1] > 0  # false northing of 10,000 km
    assert tile.footprint.contains(Point(place))


def test_southern_tile_19HCB_lies_south_of_19HCC():
    hcb, hcc = S2Tile.from_name("19HCB"), S2Tile.from_name("19HCC")
    assert hcb.epsg == 32719
    assert (hcb.ulx, hcb.uly) == (300000, 6200020)
    assert hcc.uly - hcb.uly == 100_020  # 60 m grid counted from the equator
    assert hcb.footprint.centroid.y < hcc.footprint.centroid.y < 0


def test_norway_32V_is_widened_west_to_3E():
    oslo = S2Tile.from_name("32VNM")
    assert oslo.epsg == 32632 and (oslo.ulx, oslo.uly) == (499980, 6700020)
    assert oslo.footprint.contains(Point(10.75, 59.91))
    assert S2Tile.from_name("32VKN").footprint.contains(Point(5.32, 60.39))  # Bergen
    # 32VJH: the first column of zone 32, west of 6E, exists only because of the exception
    assert S2Tile.from_name("32VJH").footprint.contains(Point(3.5, 56.5))


def test_norway_31VEC_touches_its_narrowed_zone():
    # 31V is only 0-3E; 31VEC's square starts at 3E (x = 500000, the zone's central meridian)
    # and lies in 32V's land. ESA still has it (L1C products ..._T31VEC_...), with the same
    # geometry as 31UEC below the 56N limit.
    vec, uec = S2Tile.from_name("31VEC"), S2Tile.from_name("31UEC")
    assert (vec.ulx, vec.uly) == (uec.ulx, uec.uly) == (499980, 6300000)
    assert vec.epsg == 32631
    with pytest.raises(NoS2TileError):
        S2Tile.from_name("31VFF")  # 100 km into 32V, far from any land of zone 31


#: Squares of ESA's grid beyond their grid zone, with their upper-left corners, checked against
#: the tile polygons of ESA's grid (S2A_OPER_GIP_TILPAR KML, as S1Tiling ships it: every corner
#: within 2 cm): band C south of 80 S, and the squares of 31-35 V/W that reach the zone's land
#: in the next band (31VFC reaches 31U, 31VFL 31W, 31WGV/33WYV/35WQV the wide 31X/33X/35X).
ESA_BEYOND_THEIR_ZONE = [
    ("01CEH", 32701, 499980, 800020, (-83.836, -82.785)),
    ("02CMQ", 32702, 399960, 1000000, (-82.044, -81.016)),
    ("31VFC", 32631, 600000, 6300000, (55.812, 56.833)),
    ("31VFL", 32631, 600000, 7100040, (62.98, 64.02)),
    ("31WGV", 32631, 699960, 8000040, (70.920, 72.013)),
    ("33WYV", 32633, 699960, 8000040, (70.920, 72.013)),
    ("35WQV", 32635, 699960, 8000040, (70.920, 72.013)),
]


@pytest.mark.parametrize(("name", "epsg", "ulx", "uly", "lats"), ESA_BEYOND_THEIR_ZONE)
def test_esa_squares_beyond_their_grid_zone(name, epsg, ulx, uly, lats):
    tile = S2Tile.from_name(name)
    assert (tile.epsg, tile.ulx, tile.uly) == (epsg, ulx, uly)
    south, north = tile.footprint.bounds[1], tile.footprint.bounds[3]
    assert south == pytest.approx(lats[0], abs=0.02) and north == pytest.approx(lats[1], abs=0.02)


def test_special_squares_agree_with_geotrans_mgrs():
    """GeoTrans places 31WGV, 33WYV, 35WQV's squares (its letters, its cycle) where we do."""
    mgrs = pytest.importorskip("mgrs")
    converter = mgrs.MGRS()
    for name in ("31WGV", "33WYV", "35WQV"):
        tile = S2Tile.from_name(name)
        lat, lon = converter.toLatLon(f"{name}0000000000")  # the square's south-west corner
        x, y = Transformer.from_crs(4326, tile.epsg, always_xy=True).transform(lon, lat)
        assert abs(x - round(x, -5)) < 2 and abs(y - round(y, -5)) < 2  # a 100 km square
        # the tile's corner: on the 60 m grid next to the square's north-west corner
        assert 0 <= round(x, -5) - tile.ulx < 60 and 0 <= tile.uly - round(y, -5) - 100_000 < 60


def test_band_c_goes_on_south_to_84S():
    south = S2Tile.covering(Point(-176.0, -83.5))
    assert "01CEH" in {t.name for t in south} and {t.band for t in south} == {"C"}
    with pytest.raises(NoS2TileError):
        S2Tile.from_name("01CEF")  # a row further south: beyond 84 S


@pytest.mark.parametrize(
    ("name", "epsg", "place"),
    [
        ("33XWG", 32633, (15.63, 78.22)),  # Longyearbyen
        ("33XVH", 32633, (11.92, 78.93)),  # Ny-Alesund: 33X widened west to 9E
    ],
)
def test_svalbard(name, epsg, place):
    tile = S2Tile.from_name(name)
    assert tile.epsg == epsg
    assert tile.footprint.contains(Point(place))


@pytest.mark.parametrize("name", ["31XEA", "35XMA", "37XEJ"])
def test_svalbard_wide_zones_exist(name):
    assert S2Tile.from_name(name).band == "X"


def test_tile_at_a_zone_edge_reaches_into_the_next_zone():
    tile = S2Tile.from_name("31NAA")  # first column of zone 31 (0-6E) at the equator
    assert (tile.ulx, tile.uly) == (99960, 100020)
    assert tile.footprint.contains(Point(-0.3, 0.5))  # zone 30's land
    assert tile.footprint.contains(Point(0.3, 0.5))


@pytest.mark.parametrize(("lat", "band"), [(83.99, "X"), (-79.99, "C")])
def test_highest_latitudes_are_covered(lat, band):
    for lon in np.linspace(-179.5, 179.5, 60):
        tiles = S2Tile.covering(Point(lon, lat))
        assert tiles, (lon, lat)
        assert {t.band for t in tiles} == {band}
        assert all(_contains(t.footprint, lon, lat) for t in tiles), (lon, lat)


@pytest.mark.parametrize(
    "name",
    [
        "foo",
        "",
        "33TZZ",  # Z is not a row letter
        "99ABC",  # zone 99
        "00TTG",  # zone 0
        "61TTG",
        "32XAA",  # Svalbard: 32X does not exist
        "34XEA",
        "36XEA",
        "33ITG",  # no band I
        "33ATG",  # no band A (UPS)
        "33YTG",
        "33TAG",  # A is not a column letter of zone 33 (S-Z)
        "33TTA",  # row A of zone 33 never meets band T
        "33TSG",  # column S (100-200 km) lies west of zone 33 at 41N
        "33TTG1",
        33,
    ],
)
def test_invalid_names_raise(name):
    with pytest.raises(NoS2TileError):
        S2Tile.from_name(name)


def test_no_s2_tile_error_is_a_value_error():
    with pytest.raises(ValueError):
        S2Tile.from_name("33TZZ")


def test_tiles_are_hashable_and_sort_by_name():
    names = ["33TTG", "32TQM", "01CCV"]
    tiles = [S2Tile.from_name(name) for name in names]
    assert [t.name for t in sorted(tiles)] == sorted(names)
    assert len({*tiles, S2Tile.from_name("T33TTG")}) == 3


# ---- independent reference: the `mgrs` package (GeoTrans) ----------------------------------


def test_squares_agree_with_geotrans_mgrs():
    mgrs = pytest.importorskip("mgrs")
    converter = mgrs.MGRS()
    rng = np.random.default_rng(42)
    lats = rng.uniform(-80.0, 84.0, 3000)
    lons = rng.uniform(-180.0, 180.0, 3000)
    # and the exceptions' areas, densely
    lats = np.concatenate([lats, rng.uniform(56.0, 64.0, 300), rng.uniform(72.0, 84.0, 300)])
    lons = np.concatenate([lons, rng.uniform(0.0, 12.0, 300), rng.uniform(0.0, 42.0, 300)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for lat, lon in zip(lats, lons, strict=True):
            name = converter.toMGRS(lat, lon, MGRSPrecision=0)
            tile = S2Tile.from_name(name)  # every square holding a point is a tile
            zone, _, easting, northing = converter.MGRSToUTM(name + "0000000000")
            assert zone == tile.zone
            # GeoTrans answers the centre of the first 1 m cell of the square
            assert round(easting - 0.5) == round(tile.ulx / 100_000) * 100_000, name
            assert round(northing - 0.5) == round(tile.uly / 100_000) * 100_000 - 100_000, name
            x, y = _lonlat_to_utm(tile, lon, lat)
            xmin, ymin, xmax, ymax = tile.bounds
            assert xmin <= x <= xmax and ymin <= y <= ymax, name


# ---- covering ------------------------------------------------------------------------------


def test_covering_rome_includes_both_zones():
    rome = Point(12.5, 41.9).buffer(0.05)
    names = [t.name for t in S2Tile.covering(rome)]
    assert "33TTG" in names and "32TQM" in names
    assert names == sorted(set(names))
    assert all(t.footprint.intersects(rome) for t in S2Tile.covering(rome))


@pytest.mark.parametrize(
    ("geometry", "zones", "bands"),
    [
        (Polygon([(10.0, 41.0), (13.2, 41.4), (12.8, 43.1), (9.5, 42.7)]), range(31, 35), "ST"),
        (box(1.0, 55.0, 8.0, 58.0), range(30, 34), "UVW"),  # Norway exception
        (box(8.0, 77.0, 22.0, 80.0), range(30, 38), "WX"),  # Svalbard exception
        (box(-10.0, 82.5, 10.0, 84.0), range(28, 35), "X"),  # top of the grid
        (box(178.0, -73.0, 182.0, -71.0), [*range(1, 3), *range(59, 61)], "CD"),  # antimeridian
        (box(35.0, -1.0, 38.0, 1.0), range(35, 39), "MN"),  # equator
        (box(-6.1, 43.5, -5.9, 44.5), range(29, 32), "T"),  # zone limit at 6W
    ],
)
def test_covering_matches_brute_force(geometry, zones, bands):
    names = [t.name for t in S2Tile.covering(geometry)]
    assert names == _brute_force_covering(geometry, zones, bands)
    assert names


def test_covering_from_either_side_of_the_antimeridian():
    east = [t.name for t in S2Tile.covering(box(179.8, -72.5, 180.2, -72.3))]
    west = [t.name for t in S2Tile.covering(box(-180.2, -72.5, -179.8, -72.3))]
    split = MultiPolygon([box(179.8, -72.5, 180.0, -72.3), box(-180.0, -72.5, -179.8, -72.3)])
    assert east == west == [t.name for t in S2Tile.covering(split)]
    assert "01CCV" in east and any(name.startswith("60") for name in east)


def test_covering_empty_geometry():
    assert S2Tile.covering(Polygon()) == []


# ---- coverage ------------------------------------------------------------------------------


def test_coverage_of_a_larger_polygon_is_one():
    tile = S2Tile.from_name("33TTG")
    assert tile.coverage(tile.footprint.buffer(0.2)) == pytest.approx(1.0, abs=1e-9)


def test_coverage_of_a_quarter():
    tile = S2Tile.from_name("33TTG")
    xmin, ymin, xmax, ymax = tile.bounds
    xmid, ymid = (xmin + xmax) / 2, (ymin + ymax) / 2
    quarter = _utm_box_to_lonlat(tile, xmin - 5000, ymid, xmid, ymax + 5000)  # NW quarter
    assert tile.coverage(quarter) == pytest.approx(0.25, abs=1e-4)


def test_coverage_of_a_disjoint_polygon_is_zero():
    assert S2Tile.from_name("33TTG").coverage(box(100.0, 10.0, 101.0, 11.0)) == 0.0


def test_coverage_across_the_antimeridian():
    tile = S2Tile.from_name("01CCV")
    lonmin, latmin, lonmax, latmax = tile.footprint.bounds
    wrapped = box(lonmin + 360.0 - 1.0, latmin - 1.0, lonmax + 360.0 + 1.0, latmax + 1.0)
    assert tile.coverage(wrapped) == pytest.approx(1.0, abs=1e-9)
