"""Ground → radar for every pixel of an S2 tile: the fast mode (exact on a coarse lattice at a few
heights, then interpolated) against the exact mode (every pixel solved through RadarGeometry),
on the real Rome GRD (tile 33TTG, half covered) and a TOPS SLC (IW2, tile 32TNS)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from s1tiling_cloud.geo import S2Tile
from s1tiling_cloud.geo.tile_projection import (
    _P_TOL,
    Grid,
    RadarWindow,
    TileProjector,
    radar_window,
)
from tests.conftest import GRD_ROME, SAFE_DIR, SLC_2021

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")

BOUND = 0.01  # issue 3: the fast mode within 0.01 line and 0.01 pixel of the exact one


@pytest.fixture(scope="module")
def grd():
    return TileProjector.open(SAFE_DIR / GRD_ROME, "IW/VV")


@pytest.fixture(scope="module")
def slc():
    return TileProjector.open(SAFE_DIR / SLC_2021, "IW2/VH")


def rough_heights(grid: Grid, low=0.0, high=2500.0) -> np.ndarray:
    """A sum of sinusoids from 37 km down to 1.3 km wavelength, spanning [low, high]."""
    rows, cols = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    x, y = grid.xy(rows, cols)
    f = (np.sin(2 * np.pi * x / 37e3) * np.cos(2 * np.pi * y / 23e3)
         + 0.5 * np.sin(2 * np.pi * x / 7.1e3 + 1.0) + 0.3 * np.sin(2 * np.pi * (x + y) / 1.3e3))
    f = (f - f.min()) / (f.max() - f.min())
    return (low + (high - low) * f).astype(np.float32)


def assert_agree(projector, fast, exact, bound=BOUND, cover=0.2):
    """Within `bound` where both are valid; valid in one mode only within `bound` of the image's
    edge (-0.5 or n - 0.5); and a good part of the grid valid."""
    (fl, fp), (el, ep) = fast, exact
    both = np.isfinite(fl) & np.isfinite(el)
    assert both.mean() > cover
    assert np.abs(fl - el)[both].max() <= bound
    assert np.abs(fp - ep)[both].max() <= bound
    assert np.array_equal(np.isfinite(fl), np.isfinite(fp))
    assert np.array_equal(np.isfinite(el), np.isfinite(ep))
    only = np.isfinite(fl) != np.isfinite(el)
    if only.any():
        lines, pixels = projector.image_shape
        line = np.where(np.isfinite(fl), fl, el)[only]
        pixel = np.where(np.isfinite(fp), fp, ep)[only]
        off = np.minimum.reduce([np.abs(line + 0.5), np.abs(line - lines + 0.5),
                                 np.abs(pixel + 0.5), np.abs(pixel - pixels + 0.5)])
        assert off.max() <= bound


def test_33ttg_is_well_covered_by_the_rome_grd(grd):
    from shapely.geometry import Polygon

    from s1tiling_cloud.safe import Sentinel1Product

    footprint = Polygon(Sentinel1Product(SAFE_DIR / GRD_ROME).manifest.footprint)
    assert S2Tile.from_name("33TTG").coverage(footprint) > 0.5


@pytest.mark.parametrize("heights", ["flat", "rough"])
def test_fast_matches_exact_at_200m(grd, heights):
    grid = Grid.from_tile("33TTG", 200)
    h = np.float32(180.0) if heights == "flat" else rough_heights(grid)
    fast = grd.project(grid, h)
    exact = grd.project(grid, h, mode="exact")
    assert_agree(grd, fast, exact)
    # the interpolation is far better than the bound (~1e-5 pixel, 3e-7 line: ns time rounding)
    both = np.isfinite(fast[0]) & np.isfinite(exact[0])
    assert np.abs(fast[1] - exact[1])[both].max() < 1e-3


def test_fast_matches_exact_at_60m_rough(grd):
    """Full 60 m tile in fast mode; the exact mode on every 5th row (a sub-grid)."""
    grid = Grid.from_tile("33TTG", 60)
    h = rough_heights(grid)
    line, pixel = grd.project(grid, h)
    exact = grd.project(grid[::5], np.ascontiguousarray(h[::5]), mode="exact")
    assert_agree(grd, (line[::5], pixel[::5]), exact)


def test_large_height_range_and_coarser_lattice(grd):
    """-400 to 8800 m (5 levels by default) and a lattice of 8 km still meet the bound."""
    grid = Grid.from_tile("33TTG", 200)
    h = rough_heights(grid, -400.0, 8800.0)
    exact = grd.project(grid, h, mode="exact")
    assert_agree(grd, grd.project(grid, h), exact)
    assert_agree(grd, grd.project(grid, h, step=40), exact)


def test_exact_mode_is_radar_geometry_at_pixel_centres(grd):
    """Independent of the module's plumbing: pixel (i, j) is the point at the centre
    transform * (j + 0.5, i + 0.5), projected by RadarGeometry."""
    tile = S2Tile.from_name("33TTG")
    grid = Grid.from_tile(tile, 200)
    h = rough_heights(grid)
    line, pixel = grd.project(grid, h, mode="exact")
    rng = np.random.default_rng(3)
    i, j = rng.integers(0, 549, 500), rng.integers(0, 549, 500)
    x, y = tile.ulx + 200 * (j + 0.5), tile.uly - 200 * (i + 0.5)
    lon, lat = Transformer.from_crs(tile.epsg, 4326, always_xy=True).transform(x, y)
    ref_line, ref_pixel = grd.geometry.ground_to_radar(lat, lon, h[i, j].astype(float))
    lines, pixels = grd.image_shape
    inside = ((ref_line >= -0.5) & (ref_line <= lines - 0.5) & (ref_pixel >= -0.5)
              & (ref_pixel <= pixels - 0.5))
    assert inside.sum() > 100 and (~inside).sum() > 100
    np.testing.assert_array_equal(line[i, j][inside], ref_line[inside])
    np.testing.assert_array_equal(pixel[i, j][inside], ref_pixel[inside])
    assert np.isnan(line[i, j][~inside]).all() and np.isnan(pixel[i, j][~inside]).all()


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_nan_heights_give_nan(grd, mode):
    grid = Grid.from_tile("33TTG", 200)
    h = rough_heights(grid)
    holes = h.copy()
    holes[100:180, 300:420] = np.nan
    holes[::7, ::5] = np.nan
    line, pixel = grd.project(grid, holes, mode=mode)
    ref_line, ref_pixel = grd.project(grid, h, mode=mode)
    nan = np.isnan(holes)
    assert np.isnan(line[nan]).all() and np.isnan(pixel[nan]).all()
    # the height range changes (fast mode's levels), the other pixels barely
    assert np.allclose(line[~nan], ref_line[~nan], atol=1e-4, equal_nan=True)
    assert np.allclose(pixel[~nan], ref_pixel[~nan], atol=1e-4, equal_nan=True)
    all_nan = grd.project(grid, np.full(grid.shape, np.nan, np.float32), mode=mode)
    assert np.isnan(all_nan[0]).all() and np.isnan(all_nan[1]).all()
    assert grd.window(grid, np.full(grid.shape, np.nan)) is None


def test_values_stay_inside_the_image(grd):
    grid = Grid.from_tile("33TTG", 200)
    line, pixel = grd.project(grid, rough_heights(grid))
    ok = np.isfinite(line)
    lines, pixels = grd.image_shape
    assert line[ok].min() >= -0.5 and line[ok].max() <= lines - 0.5
    assert pixel[ok].min() >= -0.5 and pixel[ok].max() <= pixels - 0.5
    # the tile runs past the swath's far edge (pixels) and past the product's end (lines)
    assert (~ok).sum() > 0.2 * ok.size
    # edge=0: centres of the outermost samples only
    line0, pixel0 = grd.project(grid, rough_heights(grid), edge=0.0)
    ok0 = np.isfinite(line0)
    assert line0[ok0].min() >= 0 and pixel0[ok0].max() <= pixels - 1


def test_a_tile_the_product_misses(grd):
    grid = Grid.from_tile("31TCJ", 500)  # Toulouse
    line, pixel = grd.project(grid, 200.0)
    assert np.isnan(line).all() and np.isnan(pixel).all()
    assert grd.window(grid, 200.0) is None
    assert radar_window(line, pixel, grd.image_shape) is None


def test_windows_contain_every_valid_point(grd):
    grid = Grid.from_tile("33TTG", 60)
    h = rough_heights(grid)
    line, pixel = grd.project(grid, h)
    from_arrays = radar_window(line, pixel, grd.image_shape, margin=0)
    from_lattice = grd.window(grid, h)
    assert isinstance(from_lattice, RadarWindow)
    for window in (from_arrays, from_lattice, grd.window(grid, (float(h.min()), float(h.max())))):
        assert window.contains(line, pixel)
        assert window.line_start >= 0 and window.line_stop <= grd.image_shape[0]
        assert window.pixel_start >= 0 and window.pixel_stop <= grd.image_shape[1]
    # the tight window: nearest samples of the extreme positions (margin 0)
    ok = np.isfinite(line)
    assert from_arrays.line_start == int(np.floor(line[ok].min() + 0.5))
    assert from_arrays.pixel_stop == min(grd.image_shape[1],
                                         int(np.floor(pixel[ok].max() + 0.5)) + 1)
    assert not RadarWindow(from_arrays.line_start + 1, from_arrays.line_stop,
                           from_arrays.pixel_start, from_arrays.pixel_stop).contains(line, pixel)
    # The lattice's window only knows the range of heights, not where they are: it is larger
    # than the tight one (plus its margin, 2) by what 2.5 km of height moves a point in range
    # (~250 samples here); with flat heights, by a lattice cell across the image's edge, which
    # counts whole (~30 lines here).
    def excess(big, tight):
        return (tight.line_start - big.line_start, big.line_stop - tight.line_stop,
                tight.pixel_start - big.pixel_start, big.pixel_stop - tight.pixel_stop)

    assert min(excess(from_lattice, from_arrays)) >= 0 and max(excess(from_lattice, from_arrays)) < 400
    flat_line, flat_pixel = grd.project(grid, 800.0)
    flat = excess(grd.window(grid, 800.0, margin=0), radar_window(flat_line, flat_pixel,
                                                                   grd.image_shape, margin=0))
    assert min(flat) >= 0 and max(flat) < 80
    # the window reads the image: slices and rasterio's Window agree
    w = from_lattice.to_rasterio()
    assert (w.row_off, w.col_off, w.height, w.width) == (
        from_lattice.line_start, from_lattice.pixel_start, *from_lattice.shape)
    image = np.zeros(grd.image_shape, np.uint8)
    assert image[from_lattice.slices].shape == from_lattice.shape


@pytest.mark.parametrize("which", ["grd", "slc"])
def test_convert_is_radar_geometry(which, grd, slc):
    """The compiled line-time / slant-range → (line, pixel) conversion is RadarGeometry's
    time_line and range_pixel, across GRD records and TOPS bursts."""
    projector = grd if which == "grd" else slc
    g = projector.geometry
    rng = np.random.default_rng(1)
    start = g.orbit.seconds(g.first_line_time)
    t = rng.uniform(start - 1.0, start + 30.0, 200_000)
    r = rng.uniform(8.0e5, 9.6e5, t.size)
    line, pixel = projector.convert(t, r)
    time = g.orbit.datetimes(t)
    np.testing.assert_allclose(line, g.time_line(time), rtol=0, atol=1e-6)
    np.testing.assert_allclose(pixel, g.range_pixel(r, time), rtol=0, atol=1e-6)


def test_tops_slc_bursts(slc):
    """Line jumps between bursts (each point in its more central burst) are decided per pixel
    from the interpolated time, so the fast mode is as good as on GRD; or a forced burst."""
    grid = Grid.from_tile("32TNS", 200)
    h = rough_heights(grid, 0.0, 1500.0)
    fast = slc.project(grid, h)
    exact = slc.project(grid, h, mode="exact")
    assert_agree(slc, fast, exact)
    bursts = np.floor(fast[0][np.isfinite(fast[0])] / slc.geometry.lines_per_burst)
    assert np.unique(bursts).size >= 8
    forced = slc.project(grid, h, burst=4)
    forced_exact = slc.project(grid, h, burst=4, mode="exact")
    assert_agree(slc, forced, forced_exact, cover=0.03)
    ok = np.isfinite(forced[0])
    assert ok.any() and (np.floor(forced[0][ok] / 1513 + 0.5 / 1513) == 4).all()
    in_4 = np.isfinite(fast[0]) & (np.floor(fast[0] / 1513) == 4)
    assert ok[in_4].all() and ok.sum() > in_4.sum()  # and the overlaps with bursts 3 and 5
    with pytest.raises(ValueError, match="burst"):
        slc.project(grid, h, burst=10)


def test_pixels_near_a_switch_are_solved_exactly(grd):
    """With a huge switch tolerance, many pixels take the exact fallback: same answers."""
    grid = Grid.from_tile("33TTG", 200)
    h = rough_heights(grid)
    exact = grd.project(grid, h, mode="exact")
    saved = grd._params.copy()
    try:
        grd._params[_P_TOL] = 0.05  # s: 5% of the records' spacing on each side of a switch
        fast = grd.project(grid, h)
    finally:
        grd._params[:] = saved
    assert_agree(grd, fast, exact)
    both = np.isfinite(fast[0]) & np.isfinite(exact[0])
    same = (fast[0] == exact[0]) & both
    assert same.sum() > 0.05 * both.sum()  # those pixels went through the exact path


def test_float32_outputs_and_scalar_heights(grd):
    grid = Grid.from_tile("33TTG", 200)
    line32, pixel32 = grd.project(grid, 300.0, dtype=np.float32)
    line, pixel = grd.project(grid, np.full(grid.shape, 300.0))
    assert line32.dtype == np.float32 and pixel32.dtype == np.float32
    ok = np.isfinite(line)
    assert np.array_equal(ok, np.isfinite(line32))
    assert np.abs(line32 - line)[ok].max() < 1e-3 and np.abs(pixel32 - pixel)[ok].max() < 2e-3
    out = (np.zeros(grid.shape, np.float32), np.zeros(grid.shape, np.float32))
    written = grd.project(grid, 300.0, out=out)
    assert written[0] is out[0] and written[1] is out[1]
    np.testing.assert_array_equal(out[0], line32)
    with pytest.raises(ValueError, match="shape"):
        grd.project(grid, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="out"):
        grd.project(grid, 300.0, out=(np.zeros((3, 3)), np.zeros((3, 3))))
    with pytest.raises(ValueError, match="mode"):
        grd.project(grid, 0.0, mode="approximate")


def test_sub_grids_and_any_grid():
    grid = Grid.from_tile("33TTG", 60)
    sub = grid[3::7, 10:20:3]
    assert sub.shape == (len(range(3, 1830, 7)), 4)
    rows, cols = np.mgrid[0 : sub.shape[0], 0 : sub.shape[1]]
    np.testing.assert_allclose(np.stack(sub.xy(rows, cols)),
                               np.stack(grid.xy(3 + 7 * rows, 10 + 3 * cols)), rtol=0, atol=1e-6)
    assert grid.resolution == 60.0 and grid.crs.to_epsg() == 32633


def test_any_crs_and_transform(grd):
    """A grid in geographic coordinates (EPSG:4326, 0.002 degree): fast meets exact too."""
    from affine import Affine

    grid = Grid("EPSG:4326", Affine(0.002, 0, 12.0, 0, -0.002, 42.5), (400, 500))
    h = np.full(grid.shape, 600.0, np.float32)
    h[:200] = 50.0
    fast = grd.project(grid, h, step=25)
    exact = grd.project(grid, h, mode="exact")
    assert_agree(grd, fast, exact)
