"""Stage `quicklook`: a Byte JPEG at `ratio`% of the size, in dB below `scale_<pol>` (or
S1Tiling's linear `[0, scale_<pol>]` → `[0, 255]`) with S1Tiling's per-polarisation defaults,
the product's tags plus the quicklook keys in the `.aux.xml` sidecar, and the re-run rule."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.stages.quicklook import quicklook
from s1tiling_cloud.store import Store
from tests.stages import PRODUCT_1, PRODUCT_2, TRANSFORM, write_product


def flat(value: float, shape=(200, 320)) -> np.ndarray:
    """A flat field with a no-data band on the left; the step falls between two 8 × 8 JPEG blocks
    of the quicklook, so that JPEG is exact on both sides."""
    image = np.full(shape, value, np.float32)
    image[:, :160] = 0.0
    return image


def pixels(uri: str) -> np.ndarray:
    with rasterio.open(uri) as dataset:
        assert dataset.dtypes == ("uint8",) and dataset.driver == "JPEG"
        assert dataset.transform == TRANSFORM @ Affine.scale(20, 20)  # 5 %: 20 × coarser
        return dataset.read(1)


def test_vh_default_scale_and_ratio(tmp_path):
    product = write_product(str(tmp_path / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"), flat(0.025))
    out = str(tmp_path / "_QL" / "s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg")
    result = quicklook(product, out, {"stretch": "linear"})
    assert result.outputs == [out] and not result.skipped
    assert result.details == {"scale": 0.05, "ratio": 5, "stretch": "linear"}
    values = pixels(out)
    assert values.shape == (10, 16)  # 5 % of 200 × 320
    # 0.025 of vh's 0.05 → 127.5 → 128; no-data stays 0 (JPEG is exact on these flat blocks)
    assert np.all(values[:, 8:] == 128) and np.all(values[:, :8] == 0)
    tags = Store().read_tags(out)  # from the `.aux.xml` sidecar
    assert tags["IMAGE_TYPE"] == "QUICKLOOK"
    assert tags["QUICKLOOK_SCALE"] == "1/20" and tags["QUICKLOOK_PIXEL_RANGE"] == "0 .. 0.05"
    assert "QUICKLOOK_STRETCH" not in tags
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}" and tags["PROJECT"] == "demo"
    assert tags["PROVENANCE_STAGE"] == "quicklook"


@pytest.mark.parametrize(("pol", "value", "byte"), [
    # vh: white at 10 log10(0.05) = -13.0 dB, byte 1 at -35.0 dB; -16.0 dB → 1 + 254 × 0.863
    ("vh", 0.025, 220), ("vh", 0.05, 255), ("vh", 1e-4, 1), ("vh", 10 ** -2.4, 128),
    # vv: white at -3.0 dB; water at -22 dB → 1 + 254 × 3.0 / 22 = 35.6; fields at -10 dB
    ("vv", 10 ** -2.2, 36), ("vv", 0.1, 174), ("vv", 3.0, 255)])
def test_the_default_stretch_is_in_db_below_the_scale(tmp_path, pol, value, byte):
    product = write_product(str(tmp_path / f"s1a_33NWB_{pol}_DES_007_20200108txxxxxx.tif"),
                            flat(value), pol)
    out = str(tmp_path / "_QL" / f"s1a_33NWB_{pol}_DES_007_20200108txxxxxx_quicklook.jpg")
    result = quicklook(product, out)
    assert result.details["stretch"] == "db"
    values = pixels(out)
    # Only no-data is black: it may be shown transparent (JPEG is exact on these flat blocks).
    assert np.all(values[:, 8:] == byte) and np.all(values[:, :8] == 0)
    tags = Store().read_tags(out)
    assert tags["QUICKLOOK_STRETCH"] == "db"
    expected = "-35.0 .. -13.0 dB" if pol == "vh" else "-25.0 .. -3.0 dB"
    assert tags["QUICKLOOK_PIXEL_RANGE"] == expected and tags["QUICKLOOK_SCALE"] == "1/20"


def test_the_polarisation_picks_its_scale_and_a_rerun_is_skipped(tmp_path):
    product = write_product(str(tmp_path / "vv.tif"), flat(0.25), "vv")
    out = str(tmp_path / "vv_quicklook.jpg")
    linear = {"stretch": "linear"}
    quicklook(product, out, linear)  # vv: 0.5 by default; 0.25 → 127.5 → 128
    assert np.all(pixels(out)[:, 8:] == 128)
    assert quicklook(product, out, linear).skipped
    # Another polarisation's scale does not change this quicklook: still reused.
    assert quicklook(product, out, {"scale_vh": 0.1, **linear}).skipped
    result = quicklook(product, out, {"scale_vv": 1.0, **linear})  # 0.25 → 63.75 → 64
    assert not result.skipped and np.all(pixels(out)[:, 8:] == 64)
    assert Store().read_tags(out)["QUICKLOOK_PIXEL_RANGE"] == "0 .. 1.0"
    # The stretch is part of the provenance: changing it makes the quicklook again.
    again = quicklook(product, out, {"scale_vv": 1.0})
    assert not again.skipped and np.all(pixels(out)[:, 8:] == 185)  # -6 dB of [-22, 0] dB


@pytest.mark.parametrize("params", [{"ratio": 0}, {"ratio": 150}, {"scale_hh": 0},
                                    {"stretch": "log"}])
def test_bad_quicklook_keys_are_configuration_errors(tmp_path, params):
    product = write_product(str(tmp_path / "p.tif"), flat(0.1))
    with pytest.raises(ConfigurationError):
        quicklook(product, str(tmp_path / "q.jpg"), params)


def test_the_db_quicklook_averages_the_valid_values_of_each_cell():
    from s1tiling_cloud.outputs.quicklook_pixels import average, sample, to_bytes

    rng = np.random.default_rng(0)
    speckled = rng.gamma(4.4, 0.1 / 4.4, (400, 400))  # σ° 0.1 (-10 dB), 4.4 looks
    speckled[:, :200] = 0.0  # no-data on the left
    speckled[:10, 200:220] = np.nan  # and a hole: half a cell
    mean = average(speckled, 5)  # 20 × 20 cells
    assert mean.shape == (20, 20) and np.all(mean[:, :10] == 0)
    assert np.abs(10 * np.log10(mean[:, 10:]) + 10).max() < 0.5  # 400 pixels a cell: ±0.1 dB
    assert np.isclose(mean[0, 10], np.nanmean(speckled[:20, 200:220]), rtol=1e-12)
    # Nearest sampling (S1Tiling's) keeps the speckle: one pixel of 400.
    assert np.abs(10 * np.log10(sample(speckled, 5)[:, 10:])).std() > 1.0
    assert np.all(to_bytes(mean, 0.5, "db")[:, :10] == 0)
    assert np.all(to_bytes(mean, 0.5, "db")[:, 10:] > 150)
