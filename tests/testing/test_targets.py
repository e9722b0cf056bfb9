"""Point targets and noise-free scenes: the truth a processing chain must find.

Radiometry goes through the package's reader (``s1tiling_cloud.safe``: LUTs and calibration,
as the engine uses them); geometry through the geometry core reading the written files
(``TileProjector`` on DEM tiles written by `write_dem_tiles`) -- a small orthorectification
that must put every target where `target_truth` says.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from s1tiling_cloud.geo import DemSource, Grid, RadarGeometry, TileProjector, ellipsoid_heights
from s1tiling_cloud.safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from s1tiling_cloud.testing import (
    SyntheticGRD,
    Target,
    centroid,
    compute_geometry,
    target_truth,
    write_dem_tiles,
    write_flat_dem_tiles,
    write_grd,
)
from s1tiling_cloud.testing.targets import IMPULSE_SIGMA, impulse_weights
from tests.testing.test_geometry_truth import hills

warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)

TILE = "31TCJ"
BASE = SyntheticGRD(43.6, 1.44, lines=800, samples=1200, polarisations=("VV",), sigma0_db=-12.0,
                    seed=11)


def sigma0_image(product: Path, pol: str = "VV") -> tuple[np.ndarray, np.ndarray]:
    """(σ° after noise removal, raw DN) of a whole small product, by the package's reader."""
    p = Sentinel1Product(product)
    dn = p.open_group(f"IW/{pol}").measurement.values
    lines, pixels = np.arange(dn.shape[0]), np.arange(dn.shape[1])
    lut = calibration_lut(p.open_group(f"IW/{pol}/calibration"), "sigma", lines, pixels)
    azimuth = p.open_group(f"IW/{pol}/noise_azimuth") if f"IW/{pol}/noise_azimuth" in p.groups else None
    noise = noise_lut(p.open_group(f"IW/{pol}/noise_range"), azimuth, lines, pixels)
    return calibrate(dn, lut, noise), dn


def targets_at(spec: SyntheticGRD, lines, pixels, **kwargs) -> list[Target]:
    """Targets on the scene's surface under the given image positions."""
    lat, lon, _ = compute_geometry(spec).locate(np.asarray(lines, float), np.asarray(pixels, float))
    return [Target(float(a), float(b), **kwargs) for a, b in zip(lat, lon, strict=True)]


# -- radiometry ------------------------------------------------------------------------------


def test_impulse_is_centred_and_normalised():
    for x in (10.0, 10.25, 10.5, 10.73, -3.4):
        k0, w = impulse_weights(x)
        k = k0 + np.arange(w.size)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        assert (w * k).sum() == pytest.approx(x, abs=5e-5)  # the sampling bias of sigma 0.7
        assert math.sqrt((w * (k - x) ** 2).sum()) == pytest.approx(
            math.sqrt(IMPULSE_SIGMA**2 + 1 / 12), abs=0.01)


@pytest.mark.parametrize("beta,mean_db,per_pixel_db", [(2370.0, 0.002, 0.01), (237.0, 0.03, 0.08)])
def test_noise_free_sigma0_is_exact(tmp_path, beta, mean_db, per_pixel_db):
    """Uniform σ° −12 dB, no speckle, thermal noise on: after calibration and noise removal,
    −12 dB per pixel to the DN's rounding -- 0.01 dB with beta_nought 2370 (DN ~750), 0.08 dB
    at the default 237 (DN ~75, whose rounding a small product's few DN levels do not average
    out: 0.02 dB in the mean)."""
    spec = BASE.replace(speckle=False, beta_nought=beta)
    sigma0, dn = sigma0_image(write_grd(spec, tmp_path))
    valid = dn > 0
    assert valid.mean() > 0.9
    db = 10 * np.log10(sigma0[valid])
    assert abs(10 * np.log10(sigma0[valid].mean()) + 12.0) < mean_db
    assert np.abs(db + 12.0).max() < per_pixel_db
    # The rounding bound: ±0.5 DN is ±(DN + 1/4) in DN², 4.34 (DN + 1/4) / (DN² − N) dB.
    assert np.abs(db + 12.0).max() < 5.0 / dn[valid].min()
    # No speckle: neighbouring DNs differ by the rounding only.
    assert np.abs(np.diff(dn[100:700, 100:1100].astype(int), axis=1)).max() <= 2


def test_noise_off_writes_zero_noise(tmp_path):
    spec = BASE.replace(speckle=False, noise=False, beta_nought=2370.0)
    product = write_grd(spec, tmp_path)
    p = Sentinel1Product(product)
    assert not np.any(p.open_group("IW/VV/noise_range").noise_range_lut.values)
    sigma0, dn = sigma0_image(product)
    valid = dn > 0
    # The DN is round(sqrt(σ° A²)): no noise in it (the reader's LUT is float32).
    lines, pixels = np.arange(dn.shape[0]), np.arange(dn.shape[1])
    a = calibration_lut(p.open_group("IW/VV/calibration"), "sigma", lines, pixels)
    assert np.abs(dn[valid] - np.sqrt(10**-1.2) * a[valid].astype(float)).max() < 0.5 + 1e-3
    assert np.abs(10 * np.log10(sigma0[valid]) + 12.0).max() < 0.01


def test_speckled_scene_with_targets_keeps_its_mean(tmp_path):
    spec = BASE.replace(looks=4.4, targets=targets_at(BASE, [200, 600], [300, 900]))
    sigma0, dn = sigma0_image(write_grd(spec, tmp_path))
    valid = dn > 0
    far = np.ones_like(valid)
    for t in target_truth(spec):
        far[int(t.line) - 8 : int(t.line) + 9, int(t.pixel) - 8 : int(t.pixel) + 9] = False
    assert abs(10 * np.log10(sigma0[valid & far].mean()) + 12.0) < 0.02
    # Speckle is there: the intensity's coefficient of variation is 1/sqrt(looks).
    ratio = sigma0[valid & far] / 10**-1.2
    assert ratio.std() == pytest.approx(1 / math.sqrt(4.4), rel=0.05)


# -- geometry: targets in the image ------------------------------------------------------------


@pytest.fixture(scope="module")
def dem_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dem")
    write_dem_tiles(hills, (43.5, 43.7), (1.3, 1.6), folder / "hills", kind="srtm1")
    write_flat_dem_tiles((43.5, 43.7), (1.3, 1.6), folder / "flat", kind="srtm1")
    return folder


@pytest.fixture(scope="module")
def scene(tmp_path_factory, dem_dir):
    """A noise-free product on the hills (the DEM tiles themselves) with 12 targets: on the
    ground, above it, at given heights over the geoid."""
    spec = BASE.replace(dem=dem_dir / "hills", speckle=False, beta_nought=2370.0)
    rng = np.random.default_rng(5)
    lines = rng.uniform(40, 760, 12)
    pixels = np.concatenate([rng.uniform(60, 1140, 8), rng.uniform(300, 1100, 4)])
    targets = targets_at(spec, lines[:8], pixels[:8], rcs_db=30.0)
    # (1200 m over the geoid: ~800 m above the ground, ~90 pixels nearer than the ground.)
    targets += targets_at(spec, lines[8:], pixels[8:], height_above_geoid=1200.0, rcs_db=33.0)
    spec = spec.replace(targets=targets)
    product = write_grd(spec, tmp_path_factory.mktemp("scene"))
    return spec, product


def test_targets_are_drawn_at_their_true_position(scene):
    """Noise-free: each target's centroid in the calibrated image is its true (line, pixel)
    (measured: 2e-4 pixel), and its σ° summed over the pixels, times a pixel's area, its RCS."""
    spec, product = scene
    sigma0, _ = sigma0_image(product)
    background = 10**-1.2
    truths = target_truth(spec)
    assert len(truths) == 12
    for t in truths:
        assert t.inside(spec.lines, spec.samples, margin=5)
        r, c = centroid(sigma0, t.line, t.pixel, background=background)
        assert abs(r - t.line) < 0.005 and abs(c - t.pixel) < 0.005, (t, r, c)
        i, j = int(round(t.line)), int(round(t.pixel))
        excess = (sigma0[i - 6 : i + 7, j - 6 : j + 7] - background).sum()
        assert excess * spec.pixel_spacing**2 == pytest.approx(t.target.rcs, rel=0.01)
    # The ones given a height over the geoid float above the hills.
    for t in truths[8:]:
        assert t.height == pytest.approx(1200.0 + _undulation(t.lat, t.lon), abs=1e-6)
        assert t.height - hills(t.lat, t.lon) - _undulation(t.lat, t.lon) > 100


def _undulation(lat, lon) -> float:
    from s1tiling_cloud.geo import Geoid

    return float(Geoid.open().undulation(lon, lat))


def test_truth_is_what_the_core_finds(scene):
    """target_truth's (line, pixel) is RadarGeometry's, reading the written product; its
    (x, y) and (row, col) are the S2 grid's."""
    spec, product = scene
    grid = Grid.from_tile(TILE, 10.0)
    truths = target_truth(spec, grid)
    geometry = RadarGeometry.open(product, "IW/VV")
    lat = np.array([t.lat for t in truths])
    lon = np.array([t.lon for t in truths])
    h = np.array([t.height for t in truths])
    line, pixel = geometry.ground_to_radar(lat, lon, h)
    assert np.abs(line - [t.line for t in truths]).max() < 0.005
    assert np.abs(pixel - [t.pixel for t in truths]).max() < 0.01
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    assert np.allclose([t.x for t in truths], x, atol=1e-6)
    assert np.allclose([t.y for t in truths], y, atol=1e-6)
    gx, gy = grid.xy(np.array([t.row for t in truths]), np.array([t.col for t in truths]))
    assert np.allclose(gx, x, atol=1e-6) and np.allclose(gy, y, atol=1e-6)


def _orthorectify(product: Path, window: Grid, dem: Path) -> np.ndarray:
    """σ° of the product on ``window``: heights DEM + geoid, exact range-Doppler, bilinear."""
    sigma0, _ = sigma0_image(product)
    heights = ellipsoid_heights(window, DemSource.tiles(dem), resampling="bilinear")
    line, pixel = TileProjector.open(product, "IW/VV").project(window, heights, mode="exact")
    outside = ~(np.isfinite(line) & np.isfinite(pixel))
    line, pixel = np.where(outside, 0.0, line), np.where(outside, 0.0, pixel)
    i = np.clip(np.floor(line).astype(int), 0, sigma0.shape[0] - 2)
    j = np.clip(np.floor(pixel).astype(int), 0, sigma0.shape[1] - 2)
    u, v = line - i, pixel - j
    out = ((1 - u) * (1 - v) * sigma0[i, j] + (1 - u) * v * sigma0[i, j + 1]
           + u * (1 - v) * sigma0[i + 1, j] + u * v * sigma0[i + 1, j + 1])
    return np.where(outside, np.nan, out)


def test_orthorectification_with_the_right_dem_puts_targets_in_place(scene, dem_dir):
    """On the S2 grid (10 m), with the DEM the scene was made on, every target lands within
    0.05 output pixel of its true (row, col); with a flat DEM (the geoid) the targets on the
    hills move by their height x cot(incidence) -- tens of pixels."""
    spec, product = scene
    grid = Grid.from_tile(TILE, 10.0)
    geo = compute_geometry(spec)
    to_map = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    inverse = ~grid.transform
    errors = []
    for t in target_truth(spec, grid)[:8]:
        r0, c0 = int(round(t.row)) - 20, int(round(t.col)) - 20
        right = _orthorectify(product, grid.window(r0, c0, 41, 41), dem_dir / "hills")
        r, c = centroid(right, t.row - r0, t.col - c0, radius=5, background=10**-1.2)
        errors.append(math.hypot(r + r0 - t.row, c + c0 - t.col))
        # With a flat DEM the target shows where its radar position meets the geoid.
        lat, lon, _ = geo.locate(t.line, t.pixel, _undulation(t.lat, t.lon))
        x, y = to_map.transform(float(lon), float(lat))
        col, row = inverse.a * x + inverse.b * y + inverse.c, inverse.d * x + inverse.e * y + inverse.f
        r0, c0 = int(round(row - 0.5)) - 20, int(round(col - 0.5)) - 20
        flat = _orthorectify(product, grid.window(r0, c0, 41, 41), dem_dir / "flat")
        r, c = centroid(flat, row - 0.5 - r0, col - 0.5 - c0, radius=5, background=10**-1.2)
        assert math.hypot(r + r0 - (row - 0.5), c + c0 - (col - 0.5)) < 0.05
        moved = 10.0 * math.hypot(r + r0 - t.row, c + c0 - t.col)
        inc = math.radians(float(geo.incidence(t.line, t.pixel)))
        above = t.height - _undulation(t.lat, t.lon)
        assert moved > 100.0 and moved == pytest.approx(above / math.tan(inc), rel=0.02)
        print(f"flat DEM: {above:.0f} m over the geoid, moved {moved:.1f} m")
    assert max(errors) < 0.05, errors
    print("orthorectified target errors (output pixels):", np.round(errors, 4))
