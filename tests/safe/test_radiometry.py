"""The radiometric and geometric helpers the engines need, checked on the real fixtures:
calibration LUT interpolation, thermal noise (range × azimuth blocks), the GRD slant↔ground
polynomials against ESA's own geolocation grid, and SLC burst cropping / debursting."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from s1tiling_cloud.safe import Sentinel1Product, calibrate, calibration_lut, noise_lut, srgr
from s1tiling_cloud.safe import bursts as burst_tools
from tests.conftest import GRD_ROME, SAFE_DIR, SLC_2021
from tests.safe import xml_facts

pytestmark = pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")

ROME = SAFE_DIR / GRD_ROME
ROME_CAL = next((ROME / "annotation" / "calibration").glob("calibration-*vv*.xml"))
ROME_NOISE = next((ROME / "annotation" / "calibration").glob("noise-*vv*.xml"))


@pytest.fixture(scope="module")
def rome():
    product = Sentinel1Product(ROME)
    return {g: product.open_group(f"IW/VV/{g}") for g in
            ("calibration", "noise_range", "noise_azimuth", "coordinate_conversion", "gcp")}


@pytest.mark.parametrize("kind,key", [("sigma", "sigma"), ("beta", "beta"), ("gamma", "gamma"),
                                      ("dn", "dn")])
def test_calibration_lut_is_exact_on_nodes_and_bilinear_between(rome, kind, key):
    vectors = xml_facts.calibration_vectors(ROME_CAL)
    k = 5
    v0, v1 = vectors[k], vectors[k + 1]
    on_nodes = calibration_lut(rome["calibration"], kind, np.array([v0["line"]]), v0["pixel"])
    np.testing.assert_allclose(on_nodes[0], v0[key], rtol=1e-6)
    # halfway between two vectors and two pixel nodes: the mean of the four neighbours
    line = (v0["line"] + v1["line"]) / 2
    j = 100
    pixel = (v0["pixel"][j] + v0["pixel"][j + 1]) / 2
    expected = np.mean([v0[key][j], v0[key][j + 1], v1[key][j], v1[key][j + 1]])
    value = calibration_lut(rome["calibration"], kind, np.array([line]), np.array([pixel]))
    assert value.dtype == np.float32
    assert float(value[0, 0]) == pytest.approx(expected, rel=1e-6)


def test_calibration_formula_on_the_measurement(rome):
    product = Sentinel1Product(ROME)
    window = (slice(2000, 2100), slice(5000, 5150))
    dn = product.open_group("IW/VV").measurement[window].values
    lines = np.arange(2000, 2100)
    pixels = np.arange(5000, 5150)
    sigma_lut = calibration_lut(rome["calibration"], "sigma", lines, pixels)
    sigma0 = calibrate(dn, sigma_lut)
    expected = dn.astype(np.float64) ** 2 / sigma_lut.astype(np.float64) ** 2
    np.testing.assert_allclose(sigma0, expected, rtol=1e-6)
    assert sigma0.dtype == np.float32


def test_thermal_noise_is_range_times_azimuth_in_every_block(rome):
    ranges = xml_facts.noise_range_vectors(ROME_NOISE)
    blocks = xml_facts.noise_azimuth_blocks(ROME_NOISE)
    assert len(blocks) == 3
    vector = ranges[4]
    for block in blocks:
        inside = (vector["pixel"] >= block["first_sample"]) & (vector["pixel"] <= block["last_sample"])
        pixels = vector["pixel"][inside][:20]
        noise = noise_lut(rome["noise_range"], rome["noise_azimuth"], np.array([vector["line"]]),
                          pixels)
        azimuth = np.interp(vector["line"], block["line"], block["lut"])
        expected = vector["lut"][inside][:20] * azimuth
        np.testing.assert_allclose(noise[0], expected, rtol=1e-6)


def test_noise_between_range_vectors_is_linear_in_line(rome):
    ranges = xml_facts.noise_range_vectors(ROME_NOISE)
    a, b = ranges[10], ranges[11]
    pixel = np.array([a["pixel"][50]])
    assert b["pixel"][50] == pixel[0]
    mid = (a["line"] + b["line"]) / 2
    value = noise_lut(rome["noise_range"], None, np.array([mid]), pixel)
    assert float(value[0, 0]) == pytest.approx((a["lut"][50] + b["lut"][50]) / 2, rel=1e-6)


def test_grd_polynomials_reproduce_esa_geolocation_grid(rome):
    """Pixel → slant range time with the annotation's polynomials lands on ESA's own grid."""
    gcp = rome["gcp"]
    info = Sentinel1Product(ROME).info("IW")
    pixels = np.broadcast_to(gcp.pixel.values, gcp.slant_range_time.shape)
    srt = srgr.pixel_to_slant_range_time(rome["coordinate_conversion"], gcp.azimuth_time.values,
                                         pixels, info["range_pixel_spacing"])
    error_m = np.abs(srt - gcp.slant_range_time.values) * 299792458.0 / 2
    assert error_m.max() < 1e-3, f"max slant range error {error_m.max():.3f} m"
    back = srgr.slant_range_time_to_pixel(rome["coordinate_conversion"], gcp.azimuth_time.values,
                                          gcp.slant_range_time.values, info["range_pixel_spacing"])
    assert np.abs(back - pixels).max() < 0.01  # ESA's inverse polynomial: ~8 cm


def test_slant_ground_round_trip(rome):
    cc = rome["coordinate_conversion"]
    times = cc.azimuth_time.values[3] + np.arange(0, 5_000_000_000, 1_000_000_000).astype(
        "timedelta64[ns]")
    ground = np.linspace(0, 250_000, 5)
    slant = srgr.ground_to_slant_range(cc, times, ground)
    # ESA's two polynomials are each other's inverse to a few centimetres
    assert np.abs(srgr.slant_to_ground_range(cc, times, slant) - ground).max() < 0.1


@pytest.fixture(scope="module")
def iw1():
    product = Sentinel1Product(SAFE_DIR / SLC_2021)
    return product, product.open_group("IW1/VV/bursts"), product.info("IW1")


def test_burst_crop_matches_the_measurement_lines(iw1):
    product, timing, info = iw1
    burst = product.open_group(f"IW1/{product.burst_ids('IW1')[2]}")
    whole = product.open_group("IW1/VV").measurement
    np.testing.assert_array_equal(burst.VV[:, 200:260].values,
                                  whole[2 * 1501:3 * 1501, 200:260].values)
    mask = burst_tools.valid_mask(burst.first_valid_sample.values, burst.last_valid_sample.values,
                                  burst.pixel.values)
    assert mask.shape == burst.VV.shape
    assert not mask[0].any() and mask[750].sum() > 20000  # first lines invalid, middle valid


def test_deburst_keeps_each_valid_line_once_in_time_order(iw1):
    product, timing, info = iw1
    measurement = product.open_group("IW1/VV").measurement[:, :600]
    out = burst_tools.deburst(measurement, timing, info["azimuth_time_interval"])
    steps = np.diff(out.azimuth_time.values).astype(np.int64) / 1e9
    assert steps.min() > 0, "no repeated or reversed azimuth times"
    assert np.median(steps) == pytest.approx(info["azimuth_time_interval"], rel=1e-6)
    assert steps.max() < 3 * info["azimuth_time_interval"], "no gap at burst boundaries"
    assert out.sizes["azimuth_time"] < 9 * 1501  # overlaps removed
    assert len(np.unique(out.line.values)) == out.sizes["azimuth_time"]
    first_valid = timing.first_valid_sample.values
    # samples before a line's first valid sample are filled with 0; the rest keep the data (2+0j)
    row = out.isel(azimuth_time=out.sizes["azimuth_time"] // 2).values
    line = int(out.line[out.sizes["azimuth_time"] // 2])
    fv = first_valid[line // 1501, line % 1501]
    assert np.all(row[:fv] == 0) and np.all(row[fv:600] == 2)


def test_xr_open_of_calibration_group_dims(rome):
    ds = xr.open_dataset(ROME, group="IW/VV/calibration")
    assert ds.sigma_nought.dims == ("line", "pixel")
    assert ds.attrs["absolute_calibration_constant"] == pytest.approx(1.393)
