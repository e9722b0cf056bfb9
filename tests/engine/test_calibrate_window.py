"""The fused calibration kernel equals the LUT formula computed step by step with the reader's
helpers (bilinear LUTs, range × azimuth noise, S1Tiling's zero rule) to 1e-5 relative, on the
real Rome GRD (real LUTs, three azimuth noise blocks) and on an old-IPF synthetic product."""

from __future__ import annotations

import numpy as np
import pytest

from s1tiling_cloud.engine.native.calibrate import calibrate_window
from s1tiling_cloud.engine.native.denoise import fix_zeros
from s1tiling_cloud.geo.tile_projection import RadarWindow
from s1tiling_cloud.safe import Sentinel1Product, calibrate, calibration_lut, noise_lut
from s1tiling_cloud.testing import SyntheticGRD, write_grd
from tests.conftest import GRD_ROME, SAFE_DIR


def _reference(product, pol, window, kind, denoise):
    lines = np.arange(window.line_start, window.line_stop)
    pixels = np.arange(window.pixel_start, window.pixel_stop)
    raw = product.open_group(f"IW/{pol}").measurement[window.slices].values
    lut = calibration_lut(product.open_group(f"IW/{pol}/calibration"), kind, lines, pixels)
    if not denoise:
        return np.where(raw == 0, 0, calibrate(raw, lut))
    azimuth = (product.open_group(f"IW/{pol}/noise_azimuth")
               if f"IW/{pol}/noise_azimuth" in product.groups else None)
    noise = noise_lut(product.open_group(f"IW/{pol}/noise_range"), azimuth, lines, pixels)
    return fix_zeros(calibrate(raw, lut, noise), raw, 1e-7)


@pytest.mark.skipif(not SAFE_DIR.is_dir(), reason=f"fixtures not found at {SAFE_DIR}")
@pytest.mark.parametrize("kind", ["sigma", "beta", "gamma"])
@pytest.mark.parametrize("denoise", [True, False])
def test_rome_window_equals_the_formula(kind, denoise):
    product = Sentinel1Product(SAFE_DIR / GRD_ROME)
    # across the IW1/IW2 noise block boundary (sample 8890) and several vector lines
    window = RadarWindow(5000, 5700, 8500, 9300)
    fast = calibrate_window(product, "IW", "VV", window, kind, denoise, block_lines=256)
    np.testing.assert_allclose(fast, _reference(product, "VV", window, kind, denoise), rtol=1e-5)


def test_old_ipf_product_without_azimuth_noise(tmp_path):
    spec = SyntheticGRD(center_lat=10.0, center_lon=20.0, lines=500, samples=700,
                        ipf_version="002.72", seed=2)
    product = Sentinel1Product(write_grd(spec, tmp_path))
    assert "IW/VH/noise_azimuth" not in product.groups
    window = RadarWindow(0, 500, 0, 700)
    fast = calibrate_window(product, "IW", "VH", window, "sigma", True, 1e-7)
    reference = _reference(product, "VH", window, "sigma", True)
    # where DN² and the noise nearly cancel, float32 rounding of the reference dominates: an
    # absolute floor of 1e-6 of the typical value
    floor = 1e-6 * float(np.median(reference[reference > 0]))
    np.testing.assert_allclose(fast, reference, rtol=1e-5, atol=floor)
    assert (fast == 0).sum() == (reference == 0).sum()  # raw zeros stay no-data
    lowered = (reference == np.float32(1e-7)).sum()
    assert (fast == np.float32(1e-7)).sum() == lowered > 0  # denoised ≤ 0 → lower_signal_value


def test_written_into_a_used_array_block_by_block(tmp_path):
    """`out` (an earlier image, not zeroed) gets exactly the image a new array gets, whatever
    the block size, and is what is returned."""
    spec = SyntheticGRD(center_lat=10.0, center_lon=20.0, lines=500, samples=700, seed=4)
    product = Sentinel1Product(write_grd(spec, tmp_path))
    window = RadarWindow(20, 470, 30, 650)
    fresh = calibrate_window(product, "IW", "VV", window, "sigma", True, 1e-7)
    used = np.full(window.shape, np.float32(3.5))
    again = calibrate_window(product, "IW", "VV", window, "sigma", True, 1e-7, block_lines=64,
                             out=used)
    assert again is used
    np.testing.assert_array_equal(again, fresh)
    with pytest.raises(ValueError, match="C-contiguous float32"):
        calibrate_window(product, "IW", "VV", window, out=np.empty((3, 3), np.float32))
