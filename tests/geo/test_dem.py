"""DEM selection and mosaics, geoid undulation, ellipsoidal heights: on real files only.

Synthetic DEM tiles are written here with analytic heights (planes), as SRTM `.hgt` (what GDAL's
SRTMHGT driver reads), Copernicus-named GeoTIFFs and a UTM GeoTIFF, in a folder and on the S3
API server; cubic convolution reproduces planes, so warped heights are checked to the mm. The
geoid is Debian's EGM96 grid (proj-data), checked against NGA's published EGM96 values.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling

from s1tiling_cloud.exceptions import MissingDEMError, MissingGeoidError, exit_code_for
from s1tiling_cloud.geo.dem import (
    COPERNICUS_30M_FORMAT,
    DemSource,
    cell_fields,
    main_id_field,
    resampling_method,
)
from s1tiling_cloud.geo.geoid import Geoid, find_geoid_file
from s1tiling_cloud.geo.grid import Grid
from s1tiling_cloud.geo.heights import ellipsoid_heights
from s1tiling_cloud.geo.s2tile import S2Tile
from tests.conftest import FIXTURES
from tests.s3server import gdal_env, storage_options, upload

ROME_DEM = FIXTURES / "dem" / "Rome-30m-DEM.tif"
needs_rome = pytest.mark.skipif(not ROME_DEM.is_file(), reason=f"real DEM fixture not found at {ROME_DEM}")
EGM96_FILE = find_geoid_file(("egm96_15.gtx",))
needs_egm96 = pytest.mark.skipif(EGM96_FILE is None, reason="egm96_15.gtx not found: install proj-data")

#: SRTM3 tiles (1201 x 1201, 3 arc-seconds) of the synthetic DEM: 2 x 2 degrees around 13E 42N.
CELLS = [(41, 12), (41, 13), (42, 12), (42, 13)]
N = 1200
#: A no-data hole in N42E013: (lat, lon) of its centre and half-size in nodes.
HOLE = (42.2, 13.2, 10)
#: Where the mosaic is checked: around the corner shared by the four tiles.
AREA = {"lon": (12.7, 13.3), "lat": (41.7, 42.3)}


def plane(lon, lat):
    """Synthetic DEM heights (m): 1 m per 3" eastwards and 2 m per 3" northwards, integers on nodes."""
    return 100.0 + N * (np.asarray(lon) - 12.0) + 2 * N * (np.asarray(lat) - 41.0)


def write_hgt(folder: Path, south: int, west: int, hole: bool = True, surface=plane) -> Path:
    """An SRTM3 tile of `surface(lon, lat)`: big-endian int16, rows from north to south, edges
    shared with neighbours."""
    rows, cols = np.mgrid[0 : N + 1, 0 : N + 1]
    heights = np.rint(surface(west + cols / N, south + 1 - rows / N)).astype(">i2")
    lat, lon, half = HOLE
    if hole and (south, west) == (int(lat), int(lon)):
        r, c = round((south + 1 - lat) * N), round((lon - west) * N)
        heights[r - half : r + half, c - half : c + half] = -32768
    path = folder / f"{cell_fields(south, west)['id']}.hgt"
    heights.tofile(path)
    return path


@pytest.fixture(scope="module")
def srtm_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("srtm")
    for south, west in CELLS:
        write_hgt(folder, south, west)
    return folder


def utm_grid(res: float = 60.0, lon=AREA["lon"], lat=AREA["lat"], epsg: int = 32633) -> Grid:
    """A north-up grid of `epsg` inside a lon/lat box (so every pixel has DEM around it).

    Finer than the DEM: when it is coarser, GDAL widens its kernels (anti-aliasing), which no
    longer reproduce planes exactly.
    """
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    x, y = to_utm.transform([lon[0], lon[1], lon[0], lon[1]], [lat[0], lat[0], lat[1], lat[1]])
    xmin, xmax = np.ceil(max(x[0], x[2]) / res) * res, np.floor(min(x[1], x[3]) / res) * res
    ymin, ymax = np.ceil(max(y[0], y[1]) / res) * res, np.floor(min(y[2], y[3]) / res) * res
    shape = (int((ymax - ymin) / res), int((xmax - xmin) / res))
    return Grid(epsg, Affine(res, 0.0, xmin, 0.0, -res, ymax), shape)


def pixel_lonlat(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Exact lon/lat of every pixel centre (pyproj on each pixel)."""
    rows, cols = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    x, y = grid.xy(rows, cols)
    lon, lat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def away_from_hole(lon, lat, margin: float = 0.02) -> np.ndarray:
    hlat, hlon, half = HOLE
    reach = half / N + margin
    return (np.abs(lon - hlon) > reach) | (np.abs(lat - hlat) > reach)


# ---- grids and names ------------------------------------------------------------------------

def test_main_id_is_the_first_field_naming_an_id():
    assert main_id_field(["lat", "tile_id", "ID2"]) == "tile_id"
    assert main_id_field(["FID", "id"]) == "FID"
    assert main_id_field(["lat", "lon"]) == "lat"
    assert main_id_field([]) is None


def test_grid_from_tile_and_margin():
    tile = S2Tile.from_name("33TTG")
    grid = Grid.from_tile(tile, 10)
    assert grid.shape == (10980, 10980) and grid.crs.to_epsg() == 32633
    assert grid.bounds == tile.bounds
    grown = grid.grown(2)
    assert grown.shape == (10984, 10984)
    assert grown.bounds == (199960.0, 4590220.0, 309800.0, 4700060.0)
    assert grid.window(10, 20, 5, 6).transform == tile.transform(10) @ Affine.translation(20, 10)


@needs_rome
def test_grid_of_a_dataset():
    with rasterio.open(ROME_DEM) as ds:
        grid = Grid.of(ds)
        assert grid.shape == (360, 360) and grid.transform == ds.transform
    with pytest.raises(TypeError, match="from_tile"):
        Grid.of(S2Tile.from_name("33TTG"))


def test_cell_names():
    assert cell_fields(41, 12)["id"] == "N41E012"
    assert cell_fields(-1, -1)["id"] == "S01W001"
    assert cell_fields(0, -180) == {"id": "N00W180", "lat": "N00", "lon": "W180", "south": 0, "west": -180}
    assert COPERNICUS_30M_FORMAT.format(**cell_fields(41, 12)) == (
        "Copernicus_DSM_COG_10_N41_00_E012_00_DEM/Copernicus_DSM_COG_10_N41_00_E012_00_DEM.tif"
    )


def test_resampling_names():
    assert resampling_method("near") is Resampling.nearest
    assert resampling_method("cubic") is Resampling.cubic
    assert resampling_method("cubicspline") is Resampling.cubic_spline
    with pytest.raises(ValueError, match="unknown DEM resampling"):
        resampling_method("bco")


def test_cells_of_an_s2_tile(tmp_path):
    """33TTG spans 11.35-12.72 E, 41.41-42.43 N: four SRTM cells, sharing the whole tile."""
    selection = DemSource.tiles(tmp_path).select(Grid.from_tile(S2Tile.from_name("33TTG"), 10))
    assert sorted(t.id for t in selection.tiles) == ["N41E011", "N41E012", "N42E011", "N42E012"]
    assert selection.tiles[0].uri == str(tmp_path / f"{selection.tiles[0].id}.hgt")
    assert sum(t.coverage for t in selection.tiles) == pytest.approx(1.0)
    assert [t.exists for t in selection.tiles] == [False] * 4


def test_cells_across_the_antimeridian(tmp_path):
    """A UTM 60 grid reaching past 180 E needs cells named W180 as well as E179."""
    grid = Grid(32760, Affine(100.0, 0.0, 780_000.0, 0.0, -100.0, 7_800_000.0), (500, 600))
    lon = np.asarray(grid.footprint.exterior.xy[0])
    assert lon.min() < 180.0 < lon.max()
    ids = sorted(t.id for t in DemSource.tiles(tmp_path).select(grid).tiles)
    assert ids == ["S20E179", "S20W180", "S21E179", "S21W180"]


def test_margin_reaches_the_next_cell(tmp_path):
    grid = Grid(4326, Affine(0.0003, 0, 12.5, 0, -0.0003, 41.6), (100, 1660))  # east edge 12.998 E
    dem = DemSource.tiles(tmp_path)
    assert [t.id for t in dem.select(grid).tiles] == ["N41E012"]
    assert [t.id for t in dem.select(grid, margin=10).tiles] == ["N41E012", "N41E013"]
    # Only the grid's own cells are needed: the margin reads a neighbour when it is there.
    with pytest.raises(MissingDEMError, match=r"N41E012 \(expected") as caught:
        dem.require(grid, margin=10)
    assert caught.value.missing == ["N41E012"]
    write_hgt(tmp_path, 41, 12)
    assert [t.id for t in dem.require(grid, margin=10).tiles] == ["N41E012"]
    write_hgt(tmp_path, 41, 13)
    assert [t.id for t in dem.require(grid, margin=10).tiles] == ["N41E012", "N41E013"]


@pytest.mark.parametrize(("tile", "cells"), [
    ("17MRV", ["S01W079", "S01W078"]), ("18MTE", ["S01W078", "S01W077"]),
    ("34MCE", ["S01E019", "S01E020"])])
def test_a_tile_edge_on_a_degree_line_needs_no_cell_across_it(tmp_path, tile, cells):
    """These tiles' north edge is the equator: S1Tiling needs the southern cells only."""
    grid = Grid.from_tile(S2Tile.from_name(tile), 60)
    dem = DemSource.tiles(tmp_path)
    assert [t.id for t in dem.select(grid).tiles] == cells
    for cell in cells:
        south, west = (-1 if cell[0] == "S" else 1) * int(cell[1:3]), int(cell[4:])
        write_hgt(tmp_path, south, -west if cell[3] == "W" else west, hole=False)
    selection = dem.require(grid, margin=4)  # the margin reaches N00: not needed
    assert [t.id for t in selection.tiles] == cells and not selection.sea
    assert selection.geoid_stands_in == ""


#: 32VKM (59.4-60.4 N, 3.0-5.0 E, Norway's coast): its westernmost cells are all North Sea.
COAST = "32VKM"
COAST_LAND = ["N59E004", "N59E005", "N60E004", "N60E005"]
COAST_SEA = ["N59E003", "N60E003"]


def test_sea_cells_without_a_dem_tile_are_taken_at_the_geoid(tmp_path, caplog):
    grid = Grid.from_tile(S2Tile.from_name(COAST), 60)
    dem = DemSource.tiles(tmp_path)
    assert sorted(t.id for t in dem.select(grid).tiles) == sorted(COAST_LAND + COAST_SEA)
    with pytest.raises(MissingDEMError) as caught:  # nothing there: the land cells are missing
        dem.require(grid)
    assert caught.value.missing == COAST_LAND and exit_code_for(caught.value) == 75
    for cell in COAST_LAND:  # a gentle slope (`plane` is far out of int16 at 60 N)
        write_hgt(tmp_path, int(cell[1:3]), int(cell[4:]), hole=False,
                  surface=lambda lon, lat: 100.0 + 50.0 * (lon - 3.0) + 50.0 * (lat - 59.0))
    with caplog.at_level(logging.INFO, logger="s1tiling_cloud.geo.dem"):
        selection = dem.require(grid, margin=4)
    assert selection.sea == tuple(COAST_SEA) and not selection.missing
    assert sorted(t.id for t in selection.tiles if t.exists) == COAST_LAND
    assert selection.geoid_stands_in == "geoid over the sea cells N59E003, N60E003"
    assert "N59E003, N60E003" in caplog.text and "taken at the geoid" in caplog.text
    heights = ellipsoid_heights(grid, dem, EGM96_FILE, fill_height=0.0)
    geoid = Geoid.open(EGM96_FILE).on_grid(grid)
    lon, _ = pixel_lonlat(grid.window(0, 0, 200, 200))  # the tile's west: 3.0-3.2 E, sea
    assert lon.max() < 4.0
    assert np.abs(heights[:200, :200] - geoid[:200, :200]).max() < 1e-3
    # A land cell without its file is still an error naming it (and only it).
    (tmp_path / "N60E005.hgt").unlink()
    with pytest.raises(MissingDEMError, match="N60E005") as caught:
        dem.require(grid)
    assert caught.value.missing == ["N60E005"]


# ---- warping the mosaic ---------------------------------------------------------------------

def test_srtm_mosaic_is_exact_across_tile_edges(srtm_dir):
    """Cubic on a plane is exact: the mosaic (a VRT) is seamless at 13 E and 42 N."""
    grid = utm_grid()
    dem = DemSource.tiles(srtm_dir)
    assert sorted(t.id for t in dem.require(grid).tiles) == [cell_fields(*c)["id"] for c in CELLS]
    heights = dem.warp(grid, tolerance=0.0)
    assert heights.dtype == np.float32 and heights.shape == grid.shape
    lon, lat = pixel_lonlat(grid)
    ok = away_from_hole(lon, lat)
    assert np.isfinite(heights[ok]).all()
    assert np.abs(heights[ok] - plane(lon, lat)[ok]).max() < 2e-3
    # gdalwarp's default approximate transformer: within 0.125 source pixel
    approx = dem.warp(grid)
    assert np.abs(approx[ok] - plane(lon, lat)[ok]).max() < 0.125 * 3 + 1e-3


def test_nodata_is_nan(srtm_dir):
    grid = utm_grid()
    heights = DemSource.tiles(srtm_dir).warp(grid)
    lon, lat = pixel_lonlat(grid)
    hlat, hlon, half = HOLE
    inside = (np.abs(lon - hlon) < half / N - 0.002) & (np.abs(lat - hlat) < half / N - 0.002)
    assert inside.sum() > 0 and np.isnan(heights[inside]).all()
    assert np.isnan(heights).sum() < 4 * inside.sum() + 50


def test_other_resamplings(srtm_dir):
    grid = utm_grid(res=50.0)
    lon, lat = pixel_lonlat(grid)
    ok = away_from_hole(lon, lat)
    dem = DemSource.tiles(srtm_dir)
    bilinear = dem.warp(grid, "bilinear", tolerance=0.0)
    assert np.abs(bilinear[ok] - plane(lon, lat)[ok]).max() < 2e-3
    nearest = dem.warp(grid, "near", tolerance=0.0)
    assert np.abs(nearest[ok] - plane(lon, lat)[ok]).max() <= 1.5 + 1e-3  # half a node each way


def test_missing_tile_is_missing_dem_error(srtm_dir, tmp_path):
    for path in srtm_dir.glob("*.hgt"):
        if path.name != "N42E013.hgt":
            shutil.copy(path, tmp_path / path.name)
    with pytest.raises(MissingDEMError, match="N42E013") as info:
        DemSource.tiles(tmp_path).warp(utm_grid())
    assert info.value.missing == ["N42E013"]
    assert exit_code_for(info.value) == 75
    # a grid that needs only the tiles present is fine
    west = utm_grid(lon=(12.7, 12.9), lat=(41.7, 42.3))
    assert np.isfinite(DemSource.tiles(tmp_path).warp(west)).all()


def test_allow_missing_warns_and_leaves_nan(srtm_dir, tmp_path, caplog):
    for path in srtm_dir.glob("*.hgt"):
        if path.name != "N42E013.hgt":
            shutil.copy(path, tmp_path / path.name)
    grid = utm_grid()
    with caplog.at_level(logging.WARNING, logger="s1tiling_cloud.geo.dem"):
        heights = DemSource.tiles(tmp_path, allow_missing=True).warp(grid, tolerance=0.0)
    assert "N42E013" in caplog.text
    lon, lat = pixel_lonlat(grid)
    assert np.isnan(heights[(lon > 13.01) & (lat > 42.01)]).all()
    ok = (lon < 12.99) | (lat < 41.99)
    assert np.abs(heights[ok] - plane(lon, lat)[ok]).max() < 2e-3


def test_database_selects_tiles_and_warns_on_partial_coverage(srtm_dir, tmp_path, caplog):
    """A GeoPackage of footprints with a `FileID` field (sub-folders, as Copernicus's database).

    N42E013 is absent from it (sea, say): no error, a coverage warning, NaN there.
    """
    raw = pytest.importorskip("pyogrio.raw")
    from shapely import to_wkb
    from shapely.geometry import box

    cells = [c for c in CELLS if c != (42, 13)]
    for south, west in cells:
        fields = cell_fields(south, west)
        (tmp_path / fields["lon"]).mkdir(exist_ok=True)
        shutil.copy(srtm_dir / f"{fields['id']}.hgt", tmp_path / fields["lon"] / f"{fields['id']}.hgt")
    database = tmp_path / "footprints.gpkg"
    geometry = np.array([to_wkb(box(w, s, w + 1, s + 1)) for s, w in cells], dtype=object)
    ids = np.array([cell_fields(s, w)["id"] for s, w in cells], dtype=object)
    files = np.array([f"{cell_fields(s, w)['lon']}/{cell_fields(s, w)['id']}.hgt" for s, w in cells],
                     dtype=object)
    raw.write(str(database), geometry, [ids, files], fields=["id", "FileID"],
              geometry_type="Polygon", crs="EPSG:4326", layer="dem", driver="GPKG")

    dem = DemSource.tiles(tmp_path, "{FileID}", database)
    grid = utm_grid()
    selection = dem.select(grid)
    assert sorted(t.id for t in selection.tiles) == ["N41E012", "N41E013", "N42E012"]
    assert all(t.exists for t in selection.tiles)
    assert 0.6 < selection.coverage < 0.9
    with caplog.at_level(logging.WARNING, logger="s1tiling_cloud.geo.dem"):
        heights = dem.warp(grid, tolerance=0.0)
    assert "DEM covers" in caplog.text
    lon, lat = pixel_lonlat(grid)
    assert np.isnan(heights[(lon > 13.01) & (lat > 42.01)]).all()
    ok = (lon < 12.99) | (lat < 41.99)
    assert np.abs(heights[ok] - plane(lon, lat)[ok]).max() < 2e-3
    # a tile listed in the database but not on disk is an error
    (tmp_path / "E013" / "N41E013.hgt").unlink()
    with pytest.raises(MissingDEMError, match="N41E013"):
        dem.warp(grid)


def test_copernicus_named_geotiffs(tmp_path):
    """Copernicus DEM-like tiles: pixel-is-area float32 GeoTIFFs without nodata, in sub-folders."""
    n = 600
    for south, west in [(41, 12), (41, 13)]:
        path = tmp_path / COPERNICUS_30M_FORMAT.format(**cell_fields(south, west))
        path.parent.mkdir()
        rows, cols = np.mgrid[0:n, 0:n]
        heights = plane(west + (cols + 0.5) / n, south + 1 - (rows + 0.5) / n).astype(np.float32)
        with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                           crs="EPSG:4326", transform=Affine(1 / n, 0, west, 0, -1 / n, south + 1),
                           tiled=True, compress="deflate") as ds:
            ds.write(heights, 1)
    grid = utm_grid(res=100.0, lon=(12.7, 13.3), lat=(41.2, 41.8))
    heights = DemSource.tiles(tmp_path, COPERNICUS_30M_FORMAT).warp(grid, tolerance=0.0)
    lon, lat = pixel_lonlat(grid)
    assert np.abs(heights - plane(lon, lat)).max() < 2e-3


def test_dem_in_another_crs(tmp_path):
    """A single UTM 33 GeoTIFF warped onto a lon/lat grid and onto a UTM 32 grid."""
    res, x0, y0 = 25.0, 290_000.0, 4_660_000.0
    rows, cols = np.mgrid[0:800, 0:800]
    x, y = x0 + (cols + 0.5) * res, y0 - (rows + 0.5) * res

    def utm_plane(x, y):
        return 50.0 + 0.01 * (x - x0) - 0.02 * (y - y0)

    path = tmp_path / "utm33.tif"
    with rasterio.open(path, "w", driver="GTiff", width=800, height=800, count=1, dtype="float32",
                       crs="EPSG:32633", transform=Affine(res, 0, x0, 0, -res, y0), nodata=-32768) as ds:
        ds.write(utm_plane(x, y).astype(np.float32), 1)
    dem = DemSource.from_config(path)
    assert dem.dem_format is None
    to_utm33 = Transformer.from_crs(4326, 32633, always_xy=True)
    lonlat = Grid(4326, Affine(0.0002, 0, 12.50, 0, -0.0002, 42.04), (600, 850))
    utm32 = utm_grid(res=20.0, lon=(12.50, 12.67), lat=(41.92, 42.04), epsg=32632)
    for grid in (lonlat, utm32):
        assert dem.require(grid).coverage == pytest.approx(1.0)
        heights = dem.warp(grid, tolerance=0.0)
        lon, lat = pixel_lonlat(grid)
        expected = utm_plane(*to_utm33.transform(lon, lat))
        assert np.abs(heights - expected).max() < 2e-3


@needs_rome
def test_single_raster_outside_is_missing(tmp_path):
    far = Grid(4326, Affine(0.001, 0, 20.0, 0, -0.001, 50.0), (10, 10))
    with pytest.raises(MissingDEMError, match="does not cover"):
        DemSource.raster(ROME_DEM).warp(far)
    with pytest.raises(MissingDEMError, match="nowhere.tif"):
        DemSource.raster(tmp_path / "nowhere.tif").warp(far)


@needs_rome
def test_rome_fixture_on_a_utm_grid():
    """The real 1" DEM near Rome on a 30 m UTM 33 grid inside its extent: no gap, no overshoot."""
    grid = utm_grid(res=30.0, lon=(12.455, 12.545), lat=(41.955, 42.045))
    assert grid.shape[0] > 300 and grid.shape[1] > 230
    with rasterio.open(ROME_DEM) as ds:
        source = ds.read(1)
    heights = DemSource.raster(ROME_DEM).warp(grid)
    assert np.isfinite(heights).all()
    assert source.min() <= heights.min() and heights.max() <= source.max()
    assert heights.max() - heights.min() > 50  # the hills of Rome, not a constant


# ---- object storage -------------------------------------------------------------------------

@pytest.mark.s3
def test_srtm_tiles_on_s3_with_storage_options(srtm_dir, s3_server):  # noqa: F811 (pytest fixture)
    prefix = upload(s3_server, "dem", srtm_dir, prefix="srtm")
    grid = utm_grid(res=100.0)
    dem = DemSource.tiles(prefix, storage_options=storage_options(s3_server))
    assert DemSource.from_config(prefix, storage_options=storage_options(s3_server)) == dem
    selection = dem.require(grid)
    assert all(t.uri.startswith(prefix + "/") and t.exists for t in selection.tiles)
    remote = dem.warp(grid)
    local = DemSource.tiles(srtm_dir).warp(grid)
    np.testing.assert_array_equal(remote, local)
    assert np.isnan(remote).any() and np.isfinite(remote).sum() > 0.99 * remote.size


@pytest.mark.s3
def test_srtm_tiles_on_s3_from_the_environment(srtm_dir, s3_server, monkeypatch):  # noqa: F811
    prefix = upload(s3_server, "dem-env", srtm_dir)
    for name in ("AWS_S3_ENDPOINT", "AWS_HTTPS", "AWS_VIRTUAL_HOSTING"):
        monkeypatch.delenv(name, raising=False)
    env = gdal_env(s3_server)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(name, env[name])
    grid = utm_grid(res=100.0)
    np.testing.assert_array_equal(DemSource.tiles(prefix).warp(grid), DemSource.tiles(srtm_dir).warp(grid))


@pytest.mark.s3
def test_missing_tile_on_s3(srtm_dir, s3_server, tmp_path):  # noqa: F811
    folder = tmp_path / "gap"
    folder.mkdir()
    for path in srtm_dir.glob("*.hgt"):
        if path.name != "N41E012.hgt":
            shutil.copy(path, folder / path.name)
    prefix = upload(s3_server, "dem-gap", folder)
    dem = DemSource.tiles(prefix, storage_options=storage_options(s3_server))
    with pytest.raises(MissingDEMError, match=r"N41E012 \(expected s3://dem-gap/gap/N41E012.hgt\)"):
        dem.warp(utm_grid(res=100.0))


@pytest.mark.s3
@needs_rome
def test_single_raster_on_s3(s3_server):  # noqa: F811
    uri = upload(s3_server, "dem-rome", ROME_DEM)
    grid = utm_grid(res=30.0, lon=(12.455, 12.545), lat=(41.955, 42.045))
    so = storage_options(s3_server)
    dem = DemSource.from_config(uri, storage_options=so)
    assert dem.dem_format is None
    np.testing.assert_array_equal(dem.warp(grid), DemSource.raster(ROME_DEM).warp(grid))


@pytest.mark.s3
@needs_egm96
def test_geoid_on_s3_with_storage_options(srtm_dir, s3_server, tmp_path, monkeypatch):  # noqa: F811
    """An s3:// geoid grid on a custom endpoint, reached by storage_options alone, reads as the file."""
    for name in ("AWS_S3_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_HTTPS",
                 "AWS_VIRTUAL_HOSTING", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    local = tmp_path / "egm96_15.gtx"
    shutil.copy(EGM96_FILE, local)
    uri = upload(s3_server, "geoid", local, prefix="proj")
    so = storage_options(s3_server)
    remote = Geoid.open(uri, storage_options=so)
    reference = Geoid.open(local)
    assert remote == dataclasses.replace(reference, path=uri)  # the same layout, read remotely
    lat, lon, _ = np.array(NGA_EGM96).T
    np.testing.assert_array_equal(remote.undulation(lon, lat), reference.undulation(lon, lat))
    grid = utm_grid(res=1000.0)
    np.testing.assert_array_equal(remote.on_grid(grid), reference.on_grid(grid))
    # ellipsoid_heights reads an s3:// geoid with the DEM's storage options
    dem = DemSource.tiles(srtm_dir, storage_options=so)
    np.testing.assert_array_equal(ellipsoid_heights(grid, dem, uri),
                                  ellipsoid_heights(grid, dem, reference))
    with pytest.raises(MissingGeoidError):
        Geoid.open("s3://geoid/proj/egm2008.gtx", storage_options=so)


# ---- geoid ----------------------------------------------------------------------------------

#: NGA's published EGM96 test points (OUTINTPT.DAT of the EGM96 interpolation package):
#: latitude, longitude (0..360), geoid height (m).
NGA_EGM96 = [
    (38.6281550, 269.7791550, -31.628),
    (-14.6212170, 305.0211140, -2.969),
    (46.8743190, 102.4487290, -43.575),
    (-23.6174460, 133.8747120, 15.871),
    (38.6254730, 359.9995000, 50.066),
    (-0.4667440, 0.0023000, 17.329),
]


@needs_egm96
def test_egm96_at_published_points():
    """Bilinear on the 15' grid is within 0.1 m of NGA's values, either longitude convention."""
    geoid = Geoid.open()
    lat, lon, expected = np.array(NGA_EGM96).T
    assert np.abs(geoid.undulation(lon, lat) - expected).max() < 0.1
    assert np.abs(geoid.undulation(lon - 360.0, lat) - expected).max() < 0.1


@needs_egm96
def test_egm96_known_places():
    geoid = Geoid.open(EGM96_FILE)
    assert 47.0 < geoid.undulation(12.5, 42.0) < 50.0  # Rome
    assert -108.0 < geoid.undulation(80.0, 5.0) < -104.0  # the Indian Ocean low, south of Sri Lanka
    assert geoid.undulation(78.75, 4.75) == pytest.approx(-106.99, abs=0.01)  # the grid's minimum


@needs_egm96
def test_geoid_on_its_own_nodes_is_exact():
    """A lon/lat grid whose pixel centres are geoid nodes gives the node values bit for bit."""
    geoid = Geoid.open()
    with rasterio.open(geoid.path) as ds:
        nodes = ds.read(1)
    # 20 x 30 nodes from (lat 45, lon -10), and a grid that crosses the antimeridian
    grid = Grid(4326, Affine(0.25, 0, -10.125, 0, -0.25, 45.125), (20, 30))
    np.testing.assert_array_equal(geoid.on_grid(grid), nodes[180:200, 680:710])
    across = Grid(4326, Affine(0.25, 0, 178.875, 0, -0.25, 10.125), (4, 8))
    expected = nodes[320:324][:, np.r_[1436:1440, 0:4]]
    np.testing.assert_array_equal(geoid.on_grid(across), expected)


@needs_egm96
def test_geoid_wraps_longitudes():
    geoid = Geoid.open()
    with rasterio.open(geoid.path) as ds:
        nodes = ds.read(1).astype(np.float64)
    lat = 10.0  # row 320
    between = geoid.undulation(np.array([179.875, -180.125, 539.875]), np.full(3, lat))
    assert between == pytest.approx(np.full(3, (nodes[320, 1439] + nodes[320, 0]) / 2))


@needs_egm96
def test_geoid_files_in_other_layouts(tmp_path):
    """The same grid as 0..360 GeoTIFF with a repeated column (like egm96.grd) reads the same,
    and so does ENVI `.grd` (whose georeferencing is in the `.hdr` beside it)."""
    geoid = Geoid.open()
    with rasterio.open(geoid.path) as ds:
        nodes = ds.read(1)
    shifted = np.concatenate([nodes[:, 720:], nodes[:, :720], nodes[:, 720:721]], axis=1)  # 0..360
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, 1000), rng.uniform(-89, 89, 1000)
    for name, driver in (("egm96_0_360.tif", "GTiff"), ("egm96_0_360.grd", "ENVI")):
        path = tmp_path / name
        with rasterio.open(path, "w", driver=driver, width=1441, height=721, count=1, dtype="float32",
                           crs="EPSG:4326", transform=Affine(0.25, 0, -0.125, 0, -0.25, 90.125)) as ds:
            ds.write(shifted, 1)
        other = Geoid.open(path)
        assert other.period == 1440
        np.testing.assert_allclose(other.undulation(lon, lat), geoid.undulation(lon, lat), atol=1e-5)


@needs_egm96
def test_regional_geoid_in_the_other_longitude_convention(tmp_path):
    """A regional grid written over 190..200 E answers for -170..-160, and NaN outside."""
    geoid = Geoid.open()
    with rasterio.open(geoid.path) as ds:
        nodes = ds.read(1)
    path = tmp_path / "pacific.tif"
    with rasterio.open(path, "w", driver="GTiff", width=41, height=41, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(0.25, 0, 189.875, 0, -0.25, 10.125)) as ds:
        ds.write(nodes[320:361, 40:81], 1)
    regional = Geoid.open(path)
    assert regional.period == 0
    lon, lat = np.array([-165.3, 195.2, -169.9]), np.array([5.1, 2.2, 0.05])
    np.testing.assert_allclose(regional.undulation(lon, lat), geoid.undulation(lon, lat), atol=1e-5)
    assert np.isnan(regional.undulation(np.array([-150.0, 195.0]), np.array([5.0, 20.0]))).all()


@needs_egm96
def test_geoid_on_a_utm_grid_matches_points():
    grid = utm_grid(res=1000.0)
    geoid = Geoid.open()
    lon, lat = pixel_lonlat(grid)
    np.testing.assert_allclose(geoid.on_grid(grid), geoid.undulation(lon, lat), atol=1e-4)


def test_missing_geoid(tmp_path):
    with pytest.raises(MissingGeoidError) as info:
        Geoid.open(tmp_path / "egm2008.gtx")
    assert exit_code_for(info.value) == 76 and "egm2008.gtx" in str(info.value)
    broken = tmp_path / "broken.gtx"
    broken.write_text("not a grid")
    with pytest.raises(MissingGeoidError):
        Geoid.open(broken)
    # heights fail on the geoid before reading any DEM (even a missing one)
    with pytest.raises(MissingGeoidError):
        ellipsoid_heights(utm_grid(), DemSource.tiles(tmp_path), tmp_path / "egm2008.gtx")


# ---- ellipsoidal heights --------------------------------------------------------------------

@needs_egm96
def test_ellipsoid_heights_are_dem_plus_geoid(srtm_dir):
    grid = utm_grid()
    dem = DemSource.tiles(srtm_dir)
    geoid = Geoid.open()
    heights = ellipsoid_heights(grid, dem, geoid, tolerance=0.0)
    lon, lat = pixel_lonlat(grid)
    ok = away_from_hole(lon, lat)
    expected = plane(lon, lat) + geoid.undulation(lon, lat)
    assert np.abs(heights[ok] - expected[ok]).max() < 3e-3
    hole = np.isnan(dem.warp(grid))
    assert hole.any() and np.array_equal(np.isnan(heights), hole)
    filled = ellipsoid_heights(grid, dem, geoid, fill_height=0.0)
    np.testing.assert_allclose(filled[hole], geoid.undulation(lon, lat)[hole], atol=1e-4)


@needs_rome
@needs_egm96
def test_ellipsoid_heights_on_the_rome_fixture():
    grid = utm_grid(res=30.0, lon=(12.455, 12.545), lat=(41.955, 42.045))
    dem = DemSource.from_config(ROME_DEM)
    difference = ellipsoid_heights(grid, dem) - dem.warp(grid)
    assert difference.min() > 48.4 and difference.max() < 48.8  # EGM96 near Rome


def test_an_hgt_of_random_bytes_is_refused_naming_it(srtm_dir, tmp_path):
    """An .hgt of the right size but random bytes gives heights of ±32 km: refused (75)."""
    for path in srtm_dir.glob("*.hgt"):
        shutil.copy(path, tmp_path / path.name)
    victim = tmp_path / "N42E013.hgt"
    victim.write_bytes(np.random.default_rng(1).bytes(victim.stat().st_size))
    with pytest.raises(MissingDEMError) as info:
        DemSource.tiles(tmp_path).warp(utm_grid())
    assert exit_code_for(info.value) == 75
    assert "N42E013.hgt" in str(info.value) and "not heights" in str(info.value)


def test_a_dem_tile_in_web_mercator_is_refused_naming_it(srtm_dir, tmp_path):
    """The cell's numbers written in EPSG:3857: the tile lies near (0, 0), not where its name
    says; refused (75) instead of giving no product and no warning."""
    for path in srtm_dir.glob("*.hgt"):
        with rasterio.open(path) as source:
            profile = {**source.profile, "driver": "GTiff", "crs": "EPSG:3857"}
            with rasterio.open(tmp_path / f"{path.stem}.tif", "w", **profile) as target:
                target.write(source.read())
    with pytest.raises(MissingDEMError) as info:
        DemSource.tiles(tmp_path, dem_format="{id}.tif").warp(utm_grid())
    assert exit_code_for(info.value) == 75
    assert "EPSG:3857" in str(info.value) and "does not reach" in str(info.value)
