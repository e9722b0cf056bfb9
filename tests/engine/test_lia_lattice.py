"""The lattice LIA/IA maps (`engine.native.lia_lattice`) against the exact per-pixel ones
(`engine.native.lia`): within 0.01° (the issue's truth bound; measured ≤ 0.002°) on hilly
terrain with a hole of no-data, on both normals, with the same pixels unknown; IA too."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.lia import ia_map, lia_map
from s1tiling_cloud.engine.native.lia_lattice import ia_lattice, lia_lattice
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.geo.orbit_source import product_orbit
from s1tiling_cloud.testing import SyntheticGRD, write_grd

TRUTH_DEGREES = 0.01


@pytest.fixture(scope="module")
def orbit(tmp_path_factory):
    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800),
                        tmp_path_factory.mktemp("lia_lattice"))
    return product_orbit(str(product)).orbit


def hills(grid: Grid) -> np.ndarray:
    """≈ 800 m of relief with slopes up to ~25°, and a few unknown pixels."""
    rows, cols = np.mgrid[0:grid.shape[0], 0:grid.shape[1]] * (grid.resolution_m / 60.0)
    heights = (400 + 250 * np.sin(cols / 30) * np.cos(rows / 45)
               + 150 * np.sin(0.3 * cols / 20 + 0.5 * rows / 20)).astype(np.float32)
    heights[100:103, 200:260] = np.nan
    return heights


@pytest.mark.parametrize("normal", ["full", "range_plane"])
def test_lia_from_the_lattice_is_the_exact_lia(orbit, normal):
    grid = Grid.from_tile("31TCJ", 60.0).window(0, 0, 700, 913)  # odd sizes: partial cells
    heights = hills(grid)
    fast = lia_lattice(grid, heights, orbit, normal=normal)
    exact = lia_map(grid, heights, orbit, normal=normal)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(exact))
    assert np.isnan(exact).sum() > 180  # the hole and its neighbours' normals
    assert np.nanmax(np.abs(fast - exact)) < TRUTH_DEGREES
    assert np.nanmax(exact) - np.nanmin(exact) > 20  # the relief shows


def test_ia_from_the_lattice_is_the_exact_ia(orbit):
    grid = Grid.from_tile("31TCJ", 120.0)
    np.testing.assert_allclose(ia_lattice(grid, orbit, height=250.0),
                               ia_map(grid, orbit, height=250.0), atol=1e-5, rtol=0)


def test_no_height_known_gives_an_unknown_map(orbit):
    grid = Grid.from_tile("31TCJ", 600.0)
    assert np.isnan(lia_lattice(grid, np.full(grid.shape, np.nan, np.float32), orbit)).all()
    with pytest.raises(ValueError, match="3 x 3"):
        lia_lattice(grid.window(0, 0, 2, 5), np.zeros((2, 5), np.float32), orbit)
