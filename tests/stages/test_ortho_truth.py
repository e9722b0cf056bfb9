"""Truth tests of the native chain (issue 4): point targets land where they are on the S2 grid
(synthetic products on a DEM, and a real fixture repainted with targets placed by ESA's own
geolocation grid), and a uniform σ° comes out exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.geo import Grid
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from s1tiling_cloud.testing.dem_tiles import write_dem_tiles
from s1tiling_cloud.testing.repaint import esa_target_truth, repaint
from s1tiling_cloud.testing.synthetic import target_truth
from s1tiling_cloud.testing.targets import Target, centroid
from tests.conftest import FIXTURES, GRD_ROME, SAFE_DIR

TILE = "31TCJ"


def hills(lat, lon):
    """Rolling terrain, 150-850 m over the geoid."""
    return 500 + 250 * np.sin(np.radians(lat) * 900) + 100 * np.cos(np.radians(lon) * 700)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("truth")
    targets = [Target(43.57 + 0.012 * k, 1.40 + 0.017 * (k % 4), rcs_db=35.0) for k in range(6)]
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=900, samples=1100,
                        sigma0_db=-20.0, dem=hills, targets=targets, speckle=False, noise=False,
                        seed=11)
    product = write_grd(spec, folder / "s1")
    write_dem_tiles(hills, (43, 45), (0, 2), folder / "dem", kind="srtm3")
    heights_uri = str(folder / "heights.tif")
    heights(TILE, 10.0, heights_uri, {"dem_dir": str(folder / "dem"), "dem_format": "{id}.hgt"})
    return {"folder": folder, "spec": spec, "product": str(product), "heights": heights_uri}


@pytest.mark.parametrize("interpolation", ["linear", "bco"])
def test_targets_land_within_a_tenth_of_a_pixel(scene, interpolation):
    out = str(scene["folder"] / f"vv_{interpolation}.tif")
    ortho(scene["product"], TILE, scene["heights"], {"VV": out},
          {"interpolation": interpolation, "remove_thermal_noise": False})
    with rasterio.open(out) as dataset:
        image = dataset.read(1)
    truths = target_truth(scene["spec"], Grid.from_tile(TILE, 10.0))
    errors = []
    for truth in truths:
        row, col = centroid(image, truth.row, truth.col, radius=4)
        errors.append(math.hypot(row - truth.row, col - truth.col))
    print(f"{interpolation}: target errors (10 m pixels) {np.round(errors, 4)}")
    assert len(errors) == 6
    assert max(errors) < 0.1, f"target position errors (pixels): {np.round(errors, 3)}"


def test_uniform_sigma0_is_exact(tmp_path):
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800,
                        sigma0_db=-12.0, speckle=False, noise=True, beta_nought=2370.0, dem=0.0)
    product = write_grd(spec, tmp_path / "s1")
    write_dem_tiles(0.0, (43, 45), (0, 2), tmp_path / "dem", kind="srtm3")
    heights_uri = str(tmp_path / "heights.tif")
    heights(TILE, 60.0, heights_uri, {"dem_dir": str(tmp_path / "dem")})
    out = str(tmp_path / "vv.tif")
    ortho(str(product), TILE, heights_uri, {"VV": out}, {"resolution": 60.0})
    with rasterio.open(out) as dataset:
        values = dataset.read(1)
    db = 10 * np.log10(values[values > 0])
    assert db.size > 1000
    print(f"uniform sigma0: max |error| {np.abs(db + 12.0).max():.5f} dB over {db.size} pixels")
    assert np.abs(db + 12.0).max() < 0.01  # every pixel, after calibration and noise removal


@pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")
def test_repainted_rome_targets_land_within_half_a_pixel(tmp_path):
    """ESA's grid places the targets in the real product; our chain must find them on 33TTG."""
    dem = FIXTURES / "dem" / "Rome-30m-DEM.tif"
    targets = [Target(41.97 + 0.02 * k, 12.47 + 0.015 * k, rcs_db=40.0) for k in range(4)]
    product = repaint(SAFE_DIR / GRD_ROME, tmp_path / "s1", sigma0_db=-15.0, targets=targets,
                      dem=dem, speckle=False)
    grid = Grid.from_tile("33TTG", 10.0)
    truths = esa_target_truth(product, targets, grid, dem=dem)
    heights_uri = str(tmp_path / "heights.tif")
    heights("33TTG", 10.0, heights_uri, {"dem_dir": str(dem)})
    out = str(tmp_path / "vv.tif")
    ortho(str(product), "33TTG", heights_uri, {"VV": out}, {"interpolation": "linear"})
    with rasterio.open(out) as dataset:
        image = dataset.read(1)
    errors = [math.hypot(*(np.subtract(centroid(image, t.row, t.col), (t.row, t.col))))
              for t in truths]
    print(f"Rome repainted: target errors (10 m pixels) {np.round(errors, 4)}")
    # the issue asks ≤ 0.5 px; we hold 0.1 (measured 0.04) so that a regression shows
    assert max(errors) < 0.1, f"target position errors (pixels): {np.round(errors, 3)}"
