"""The synthetic products' geometry is the IPF's: bistatic line times, terrain on a DEM + geoid.

The package's geometry core (``RadarGeometry`` from the written files, ``DemSource`` and
``ellipsoid_heights`` on the written DEM tiles) is the reader here: a product is right when the
core, reading only what was written, finds the generator's truth.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo import DemSource, Geoid, Grid, RadarGeometry, ellipsoid_heights
from s1tiling_cloud.geo.range_doppler import SPEED_OF_LIGHT
from s1tiling_cloud.testing import (
    SyntheticGRD,
    compute_geometry,
    write_dem_tiles,
    write_flat_dem_tiles,
    write_grd,
)

warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)

#: A smooth relief around Toulouse: a 700 m hill, a ridge, a regional slope (heights over the
#: geoid; slopes below 0.25, far from layover).
HILL_LAT, HILL_LON = 43.62, 1.40


def hills(lat, lon):
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    hill = 700.0 * np.exp(-(((lat - HILL_LAT) * 111e3) ** 2 + ((lon - HILL_LON) * 80.6e3) ** 2)
                          / (2 * 2500.0**2))
    ridge = 150.0 * np.sin((lon - 1.0) * 40.0) * np.cos((lat - 43.0) * 30.0)
    return 180.0 + hill + ridge + 800.0 * (lat - 43.6)


def gcps(product: Path, pol: str = "vv"):
    (tiff,) = product.glob(f"measurement/*-{pol}-*.tiff")
    with rasterio.open(tiff) as ds:
        points, _ = ds.gcps
    return {k: np.array([getattr(p, a) for p in points]) for k, a in
            (("lat", "y"), ("lon", "x"), ("h", "z"), ("line", "row"), ("pixel", "col"))}


def grid_times(product: Path, pol: str = "vv") -> dict[str, np.ndarray]:
    (path,) = product.glob(f"annotation/s1*-{pol}-*.xml")
    root = ET.parse(path).getroot()
    points = root.findall("geolocationGrid/geolocationGridPointList/geolocationGridPoint")
    info = root.find("imageAnnotation/imageInformation")
    first = np.datetime64(info.findtext("productFirstLineUtcTime"), "ns")
    dt = float(info.findtext("azimuthTimeInterval"))
    az = np.array([np.datetime64(p.findtext("azimuthTime"), "ns") for p in points])
    line = np.array([float(p.findtext("line")) for p in points])
    return {"delay": (az - first) / np.timedelta64(1, "s") - line * dt,
            "srt": np.array([float(p.findtext("slantRangeTime")) for p in points]), "dt": dt}


# -- bistatic convention ---------------------------------------------------------------------

FULL_WIDTH = SyntheticGRD(43.6, 1.44, lines=120, samples=25_000, polarisations=("VV",))


@pytest.fixture(scope="module")
def full_width(tmp_path_factory) -> Path:
    return write_grd(FULL_WIDTH, tmp_path_factory.mktemp("full_width"))


@pytest.fixture(scope="module")
def full_width_dem(tmp_path_factory) -> Path:
    return write_grd(FULL_WIDTH.replace(dem=hills), tmp_path_factory.mktemp("full_width_dem"))


@pytest.mark.parametrize("name", ["full_width", "full_width_dem"])
def test_radar_geometry_reproduces_the_written_grid(name, request):
    """Full swath (25,000 samples, ±0.27 ms of bistatic delay): the core's ground_to_radar of
    every GCP finds its (line, pixel) to 0.005 line / 0.01 pixel (measured: 3e-7 / 8e-5)."""
    product = request.getfixturevalue(name)
    g = gcps(product)
    geometry = RadarGeometry.open(product, "IW/VV")
    line, pixel = geometry.ground_to_radar(g["lat"], g["lon"], g["h"])
    assert np.abs(line - g["line"]).max() < 0.005
    assert np.abs(pixel - g["pixel"]).max() < 0.01
    # Without the bistatic correction the far and near columns are ~0.18 line off.
    geometry.bistatic_reference = np.nan
    line, _ = geometry.ground_to_radar(g["lat"], g["lon"], g["h"])
    assert 0.1 < np.abs(line - g["line"]).max() < 0.3


def test_grid_azimuth_times_follow_the_ipf(full_width):
    """As in ESA's grids: each point's azimuthTime is its zero-Doppler time, its line's time
    plus (τ − τ_ref)/2, from −0.27 ms at near range to +0.27 ms at far range (the Rome GRD:
    −0.267 ms and +0.276 ms)."""
    t = grid_times(full_width)
    slope, offset = np.polyfit(t["srt"], t["delay"], 1)
    assert slope == pytest.approx(0.5, abs=1e-3)
    assert np.abs(t["delay"] - (slope * t["srt"] + offset)).max() < 1e-6  # µs text
    assert -3.2e-4 < t["delay"].min() < -2.2e-4 and 2.2e-4 < t["delay"].max() < 3.2e-4
    # τ_ref is the mid-swath time of the first line, as RadarGeometry computes it.
    geometry = RadarGeometry.open(full_width, "IW/VV")
    tau_ref = np.mean(t["srt"] - 2 * t["delay"])
    assert tau_ref == pytest.approx(geometry.bistatic_reference, abs=1e-7)  # µs text / 210


def test_generator_geometry_round_trips():
    geo = compute_geometry(FULL_WIDTH.replace(dem=hills))
    rng = np.random.default_rng(3)
    lines, pixels = rng.uniform(0, 119, 500), rng.uniform(0, 24_999, 500)
    lat, lon, h = geo.locate(lines, pixels)
    line, pixel = geo.ground_to_radar(lat, lon, h)
    assert np.abs(line - lines).max() < 1e-6
    assert np.abs(pixel - pixels).max() < 1e-3  # the written srgr and grsr fits: ~1 mm
    # The bistatic delay is not a constant: zero-Doppler times differ along a line.
    zd = geo.zero_doppler_seconds(np.zeros(2), np.array([0.0, 24_999.0]))
    assert np.diff(zd)[0] == pytest.approx(
        np.diff(geo.slant_range(np.zeros(2), np.array([0.0, 24_999.0])))[0] / SPEED_OF_LIGHT,
        rel=1e-9)


# -- terrain ---------------------------------------------------------------------------------


def test_grid_heights_are_dem_plus_geoid(full_width_dem):
    g = gcps(full_width_dem)
    undulation = Geoid.open().undulation(g["lon"], g["lat"])
    assert np.abs(g["h"] - (hills(g["lat"], g["lon"]) + undulation)).max() < 1e-3
    assert g["h"].max() - g["h"].min() > 300  # real relief, not a flat scene
    # The annotation holds the same heights.
    (path,) = full_width_dem.glob("annotation/s1*-vv-*.xml")
    heights = [float(e.text) for e in ET.parse(path).getroot().iter("height")]
    assert np.allclose(sorted(heights), sorted(g["h"]), atol=1e-9)


def test_dem_moves_ground_points_as_the_radar_sees_them():
    """A pixel's ground point on the DEM lies toward the radar, by ~h cot(incidence), from
    the same pixel's point on the ellipsoid."""
    geo = compute_geometry(FULL_WIDTH.replace(dem=hills))
    lines, pixels = np.full(5, 60.0), np.linspace(1000, 24_000, 5)
    lat, lon, h = geo.locate(lines, pixels)
    lat0, lon0, h0 = geo.locate(lines, pixels, 0.0)
    shift = np.hypot((lat - lat0) * 111.2e3, (lon - lon0) * 111.2e3 * np.cos(np.radians(lat)))
    inc = np.radians(geo.incidence(lines, pixels))
    assert np.allclose(shift, np.abs(h) / np.tan(inc), rtol=0.01)
    assert np.all(h0 == 0.0) and np.abs(h).min() > 20


@pytest.mark.parametrize("kind,size", [("srtm1", 3601), ("srtm3", 1201)])
def test_dem_tiles_are_srtm_and_read_by_the_core(tmp_path, kind, size):
    paths = write_dem_tiles(hills, (43.3, 44.2), (0.8, 1.9), tmp_path, kind=kind)
    assert sorted(p.name for p in paths) == ["N43E000.hgt", "N43E001.hgt", "N44E000.hgt",
                                              "N44E001.hgt"]
    raw = np.fromfile(tmp_path / "N43E001.hgt", dtype=">i2").reshape(size, size)
    # Row 0 is the north edge, column 0 the west edge; samples on the edges.
    assert raw[0, 0] == round(float(hills(44.0, 1.0)))
    assert raw[-1, -1] == round(float(hills(43.0, 2.0)))
    assert raw[size // 2, size // 2] == round(float(hills(43.5, 1.5)))
    with rasterio.open(tmp_path / "N43E001.hgt") as ds:  # GDAL's SRTMHGT driver
        assert ds.driver == "SRTMHGT" and ds.shape == (size, size)
    # The core reads them: DEM + geoid on a grid around the hill.
    grid = Grid.from_tile("31TCJ", 60.0)
    grid = grid.window(700, 400, 200, 300)
    heights = ellipsoid_heights(grid, DemSource.tiles(tmp_path), resampling="bilinear")
    x, y = grid.xy(np.arange(0, 200, 7)[:, None], np.arange(0, 300, 11)[None, :])
    lon, lat = grid.lonlat(x, y)
    truth = hills(lat, lon) + Geoid.open().undulation(lon, lat)
    step_m = 30.0 if kind == "srtm1" else 90.0
    tolerance = 0.6 + (2.0 if step_m > 30 else 0.3)  # rounding + bilinear between samples
    assert np.abs(heights[::7, ::11] - truth).max() < tolerance


def test_flat_dem_tiles(tmp_path):
    paths = write_flat_dem_tiles((43.1, 44.3), (0.4, 1.95), tmp_path, kind="srtm3")
    assert [p.name for p in paths] == ["N43E000.hgt", "N43E001.hgt", "N44E000.hgt", "N44E001.hgt"]
    assert not np.fromfile(paths[1], dtype=">i2").any()
    grid = Grid.from_tile("31TCJ", 600.0)
    heights = ellipsoid_heights(grid, DemSource.tiles(tmp_path), fill_height=0.0)
    x, y = grid.xy(np.array([90.0]), np.array([90.0]))
    lon, lat = grid.lonlat(x, y)
    assert heights[90, 90] == pytest.approx(Geoid.open().undulation(lon, lat)[0], abs=1e-3)


def test_dem_tiles_across_the_equator_and_greenwich(tmp_path):
    paths = write_dem_tiles(lambda lat, lon: 10 * lat + lon, (-0.5, 0.5), (-0.5, 0.5), tmp_path,
                            kind="srtm3")
    assert sorted(p.name for p in paths) == ["N00E000.hgt", "N00W001.hgt", "S01E000.hgt",
                                              "S01W001.hgt"]
    raw = np.fromfile(tmp_path / "S01W001.hgt", dtype=">i2").reshape(1201, 1201)
    assert raw[0, 0] == round(10 * 0 + -1) and raw[-1, 0] == round(10 * -1 + -1)


def test_dem_as_a_raster_or_tiles_gives_the_same_scene(tmp_path):
    """SyntheticGRD(dem=...) takes a function, a tile folder or one raster: the grids agree
    to the 1 m rounding of the tiles."""
    write_dem_tiles(hills, (43.5, 43.7), (1.3, 1.6), tmp_path / "tiles", kind="srtm1")
    spec = SyntheticGRD(43.6, 1.44, lines=400, samples=600, polarisations=("VV",))
    by_function = compute_geometry(spec.replace(dem=hills)).grid
    by_tiles = compute_geometry(spec.replace(dem=tmp_path / "tiles")).grid
    by_raster = compute_geometry(spec.replace(dem=tmp_path / "tiles" / "N43E001.hgt")).grid
    for other in (by_tiles, by_raster):
        assert np.abs(other.height - by_function.height).max() < 1.0
        d = np.hypot(other.latitude - by_function.latitude,
                     (other.longitude - by_function.longitude) * math.cos(math.radians(43.6)))
        assert d.max() * 111e3 < 1.5  # 1 m of height moves a point 1.2 m at most
