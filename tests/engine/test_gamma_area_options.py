"""γ-area options that S1Tiling exposes (`distribute_area`, the DEM margin of
`outer_margin_ratio`) change the map where they should, on a small grid inside a synthetic GRD
over hills: how a facet's area reaches the radar cells, and whether the facets beyond the grid's
edges complete its edge cells."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.transform import from_origin

from s1tiling_cloud.engine.native.gamma_area import gamma_area_blocks, margin_pixels, radar_cell
from s1tiling_cloud.geo import Grid, TileProjector
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.testing import SyntheticGRD, write_grd

RES = 60.0
SIZE = 80  # 4.8 km: inside the GRD's 8 km × 10 km


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    spec = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=200, samples=250,
                        pixel_spacing=40.0, speckle=False)
    product = Sentinel1Product(write_grd(spec, tmp_path_factory.mktemp("s1")))
    swath = product.swaths[0]
    projector = TileProjector.open(product, f"{swath}/{product.polarisations(swath)[0]}")
    x, y = Transformer.from_crs(4326, 32631, always_xy=True).transform(1.44, 43.6)
    grid = Grid("EPSG:32631", from_origin(x - SIZE * RES / 2, y + SIZE * RES / 2, RES, RES),
                (SIZE, SIZE))
    cols = np.arange(SIZE) * RES
    heights = np.broadcast_to(300.0 + 150.0 * np.sin(2 * np.pi * cols / 3000.0),
                              grid.shape).astype(np.float32)
    return grid, heights, projector


def _g(scene, **options):
    grid, heights, projector = scene
    return np.vstack([b.gamma_area for b in gamma_area_blocks(grid, heights, projector,
                                                              block_rows=32, **options)])


def test_distribute_area_spreads_or_assigns_the_area(scene):
    spread, nearest = _g(scene, distribute_area=True), _g(scene, distribute_area=False)
    ok = np.isfinite(spread) & np.isfinite(nearest)
    assert ok.mean() > 0.9
    difference = np.abs(spread[ok] - nearest[ok])
    print(f"distribute_area: |G(spread) - G(nearest)| max {difference.max():.4f}, "
          f"mean G {spread[ok].mean():.4f} / {nearest[ok].mean():.4f}")
    assert difference.max() > 1e-3  # the option is not ignored
    assert abs(spread[ok].mean() - nearest[ok].mean()) < 0.02  # the same area, placed otherwise


def test_the_margin_completes_the_edge_cells_only(scene):
    bare, padded = _g(scene, pad=0), _g(scene, pad=16)
    inner = (slice(24, -24), slice(24, -24))
    # the same up to float32 rounding (their lattices of exact values start elsewhere)
    np.testing.assert_allclose(bare[inner], padded[inner], rtol=1e-5)
    edges = np.zeros(bare.shape, bool)
    edges[:, :2] = edges[:, -2:] = True
    ok = edges & np.isfinite(bare) & np.isfinite(padded)
    assert ok.sum() > 100
    assert np.abs(bare[ok] - padded[ok]).max() > 1e-3  # the margin is not ignored


def test_margin_pixels_from_the_ratio():
    assert margin_pixels(Grid.from_tile("31TCJ", 10.0), 0.04) == 440  # 4.4 km
    assert margin_pixels(Grid.from_tile("31TCJ", 60.0), 0.04) == 74
    assert margin_pixels(Grid.from_tile("31TCJ", 60.0), 0.0) == 0
    with pytest.raises(ValueError):
        margin_pixels(Grid.from_tile("31TCJ", 60.0), -0.1)


def _facets(heights):
    """The kernel's three areas for corner `heights` (5 × 5: 4 × 4 facets) near 43.6° N, the
    satellite at a fixed point to the west, 700 km up."""
    from s1tiling_cloud.engine.native.gamma_area_kernels import corner_frames, facet_areas
    from s1tiling_cloud.geo.ellipsoid import geodetic_to_ecef

    step = 2.0
    ii, jj = np.meshgrid(np.arange(4.0), np.arange(4.0), indexing="ij")
    lonlat = np.ascontiguousarray(np.stack([1.44 + 1e-4 * step * jj, 43.6 - 1e-4 * step * ii]))
    sat = np.asarray(geodetic_to_ecef(np.array(43.6), np.array(-3.0), np.array(700e3)),
                     dtype=np.float64).reshape(3, 1, 1)
    satellite = np.ascontiguousarray(np.broadcast_to(sat, (3, 4, 4)))
    origin, normal = np.empty((5, 5, 3)), np.empty((5, 5, 3))
    corner_frames(lonlat, step, 0.0, origin, normal)
    out = [np.empty((4, 4)) for _ in range(3)]
    facet_areas(origin, normal, np.ascontiguousarray(heights, dtype=np.float64), satellite, step,
                0.0, np.ones((4, 4), bool), *out)
    return out


def test_a_dem_void_keeps_its_ellipsoid_facets():
    heights = np.full((5, 5), 300.0)
    heights[2, 2] = np.nan  # a void: the 4 facets around that corner
    a_gamma, a_gamma_e, a_sigma_e = _facets(heights)
    _, flat_gamma_e, flat_sigma_e = _facets(np.zeros((5, 5)))
    assert np.isnan(a_gamma[1:3, 1:3]).all() and np.isfinite(a_gamma).sum() == 12
    # the ellipsoid's areas do not depend on the heights, voids included
    np.testing.assert_array_equal(a_gamma_e, flat_gamma_e)
    np.testing.assert_array_equal(a_sigma_e, flat_sigma_e)
    assert (a_sigma_e > 0).all()


def test_nearest_splat_reaches_the_last_row_and_column():
    from s1tiling_cloud.engine.native.gamma_area_kernels import splat

    acc = np.zeros((3, 3))
    u, v = np.array([[2.2, 0.0]]), np.array([[1.0, 2.4]])
    splat(acc, u, v, np.array([[1.0, 2.0]]), np.ones((1, 2), bool), False)
    assert acc[2, 1] == 1.0 and acc[0, 2] == 2.0 and acc.sum() == 3.0


def test_the_default_margin_is_the_stage_s(scene):
    """No `pad`: the margin of `DEFAULT_OUTER_MARGIN_RATIO`, the stage's and S1Tiling's."""
    from s1tiling_cloud.engine.native import DEFAULT_OUTER_MARGIN_RATIO
    from s1tiling_cloud.stages.gamma_area import GammaAreaParams

    assert GammaAreaParams().outer_margin_ratio == DEFAULT_OUTER_MARGIN_RATIO
    grid = scene[0]
    np.testing.assert_array_equal(
        _g(scene), _g(scene, pad=margin_pixels(grid, DEFAULT_OUTER_MARGIN_RATIO)))


def test_a_product_meeting_a_corner_of_a_large_grid_has_a_radar_cell(scene):
    """A product that covers one point of the coarse sub-grid (a tile's corner): the cell
    comes from the pixels next to it, not a NaN median (which crashed the stage)."""
    grid, _, projector = scene
    x, y = Transformer.from_crs(4326, 32631, always_xy=True).transform(1.44, 43.6)
    huge = Grid("EPSG:32631", from_origin(x - RES / 2, y + RES / 2, RES, RES), (16000, 16000))
    lines, pixels = radar_cell(projector, huge)
    near_lines, near_pixels = radar_cell(projector, grid)
    assert abs(lines - near_lines) <= 1 and abs(pixels - near_pixels) <= 1


def test_the_layover_folds_are_numpy_gradients_determinants_of_opposite_signs():
    """`folds` (the layover flag) computes, per pixel, numpy.gradient's derivatives of both
    mappings and compares their Jacobians' signs, edges and NaNs included."""
    from s1tiling_cloud.engine.native.gamma_area_kernels import folds

    rng = np.random.default_rng(11)
    rows, cols = np.mgrid[0:40, 0:57].astype(np.float64)
    line = rows * 0.9 + rng.normal(0, 0.3, rows.shape)
    pixel = cols * 1.1 + 8.0 * np.sin(cols / 3.0) + rng.normal(0, 0.3, cols.shape)  # folds
    line_e, pixel_e = rows.copy(), cols * 1.05
    line[5, 7] = np.nan

    def det(a, b):
        ar, ac = np.gradient(a)
        br, bc = np.gradient(b)
        return ar * bc - ac * br

    with np.errstate(invalid="ignore"):
        expected = (det(line, pixel) * det(line_e, pixel_e)) < 0
    assert 0 < expected.sum() < expected.size  # both cases present
    assert np.array_equal(folds(line, pixel, line_e, pixel_e), expected)
