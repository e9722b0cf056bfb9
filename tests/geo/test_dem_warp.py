"""The DEM on a tile grid by the lattice path (`geo.dem_warp`): GDAL's cubic warp with exact
transformations to within float32 rounding (closer than GDAL's default approximate
transformer), and GDAL's warper itself wherever the lattice path does not apply."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin

from s1tiling_cloud.geo import DemSource, Grid
from s1tiling_cloud.geo.dem_warp import lattice_warp

TILE = "31TCJ"


def hills_dem(path, hole: bool = False, pixel: float = 1 / 200) -> str:
    """≈ 800 m of relief over 43-45°N 0-3°E (the tile and a margin), int16 with no-data."""
    west, north = 0.0, 45.0
    rows, cols = int(2 / pixel), int(3 / pixel)
    y, x = np.mgrid[0:rows, 0:cols] * (2 * np.pi / 90)
    heights = 400 + 250 * np.sin(x) * np.cos(0.7 * y) + 150 * np.sin(0.3 * x + 0.5 * y)
    heights = heights.astype(np.int16)
    if hole:
        heights[rows // 2, cols // 3] = -32768  # a void in the middle of the tile
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="int16", crs="EPSG:4326",
                       transform=from_origin(west, north, pixel, pixel), nodata=-32768) as out:
        out.write(heights[None])
    return str(path)


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    return hills_dem(tmp_path_factory.mktemp("dem") / "hills.tif")


def test_the_lattice_path_is_gdals_cubic_warp_with_exact_transformations(dem):
    grid = Grid.from_tile(TILE, 60.0)
    source = DemSource.from_config(dem, None, None)
    fast = source.warp(grid, "cubic")
    exact = source.warp(grid, "cubic", lattice=False, tolerance=0)
    default = source.warp(grid, "cubic", lattice=False)
    assert not np.isnan(fast).any() and np.ptp(fast) > 500
    # float32 rounding of ~800 m values (GDAL's weights are computed in another order)
    assert np.abs(fast - exact).max() < 2e-3
    # GDAL's default approximate transformer (-et 0.01) is further from the exact warp
    assert np.abs(default - exact).max() > np.abs(fast - exact).max()


def test_gdals_warper_runs_where_the_lattice_path_does_not_apply(tmp_path, dem):
    grid = Grid.from_tile(TILE, 60.0)
    out = np.full(grid.shape, -1.0, dtype=np.float32)
    with rasterio.open(dem) as src:
        assert lattice_warp(src, grid, Resampling.cubic, -32768, out)
        untouched = np.full(grid.shape, -1.0, dtype=np.float32)
        assert not lattice_warp(src, grid, Resampling.bilinear, -32768, untouched)
        # a DEM finer than the grid: GDAL widens its kernel, the lattice path does not
        coarse = Grid.from_tile(TILE, 600.0)
        assert not lattice_warp(src, coarse, Resampling.cubic, -32768,
                                np.empty(coarse.shape, np.float32))
        assert (untouched == -1.0).all()
    holed = hills_dem(tmp_path / "holed.tif", hole=True)
    with rasterio.open(holed) as src:
        assert not lattice_warp(src, grid, Resampling.cubic, -32768, untouched)
    # and the DEM source then gives GDAL's warp, no-data included
    source = DemSource.from_config(holed, None, None)
    np.testing.assert_array_equal(source.warp(grid, "cubic"),
                                  source.warp(grid, "cubic", lattice=False))
    assert np.isnan(source.warp(grid, "cubic")).any()
