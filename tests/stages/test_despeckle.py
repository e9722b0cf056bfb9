"""Stage `despeckle`: Lee and Frost values worked out by hand on a bright point in a flat field,
S1Tiling's `[Filtering]` checks as configuration errors, filtered tags, the re-run rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.stages.despeckle import FilterParams, despeckle
from tests.stages import PRODUCT_1, PRODUCT_2, write_product


def bright_point() -> np.ndarray:
    """Ones, and 10 at the centre of a 5 × 5 image."""
    image = np.ones((5, 5), np.float32)
    image[2, 2] = 10.0
    return image


@pytest.fixture
def product(tmp_path):
    return write_product(str(tmp_path / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"), bright_point())


def filtered(uri: str):
    with rasterio.open(uri) as dataset:
        assert dataset.dtypes == ("float32",) and dataset.nodata == 0
        assert dataset.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        return dataset.read(1), dataset.tags()


def test_lee_by_hand(tmp_path, product):
    """A 3 × 3 window holding the point: E = 18/9 = 2, sample V = (8·1² + 8²)/8 = 9, so
    Ci² = 9/4 > Cu² = 1/4 (4 looks) and w = 1 − Cu²/Ci² = 8/9; R = E + w (I − E): 82/9 at the
    point, 10/9 around it. Windows without the point are flat (V = 0): R = E = 1, also on the
    border, where the edge pixel is repeated."""
    out = str(tmp_path / "s1a_33NWB_vh_DES_007_20200108txxxxxx_filtered.tif")
    result = despeckle(product, out, {"method": "Lee", "window_radius": 1, "nblooks": 4})
    assert result.outputs == [out] and not result.skipped
    values, tags = filtered(out)
    expected = np.ones((5, 5), np.float32)
    expected[1:4, 1:4] = 10 / 9
    expected[2, 2] = 82 / 9
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert tags["FILTERED"] == "true" and tags["FILTERING_METHOD"] == "lee"
    assert tags["FILTERING_WINDOW_RADIUS"] == "1" and tags["FILTERING_NBLOOKS"] == "4.0"
    assert "FILTERING_DERAMP" not in tags
    assert tags["IMAGE_TYPE"] == "BACKSCATTERING"
    assert tags["TIFFTAG_IMAGEDESCRIPTION"] == "Orthorectified and despeckled Sentinel-1A IW GRD S2 tile"
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}" and tags["PROJECT"] == "demo"
    assert tags["PROVENANCE_STAGE"] == "despeckle"


def test_frost_by_hand(tmp_path, product):
    """At the point: α = deramp · V / E² = 0.1 · 9 / 4; weights e^(−α d) at d = 0, 1 (×4), √2 (×4),
    R = (10 + 4 e^(−α) + 4 e^(−α√2)) / (1 + 4 e^(−α) + 4 e^(−α√2))."""
    out = str(tmp_path / "frost.tif")
    despeckle(product, out, FilterParams("frost", 1, deramp=0.1))
    values, tags = filtered(out)
    alpha = 0.1 * 9 / 4
    near, diagonal = 4 * math.exp(-alpha), 4 * math.exp(-alpha * math.sqrt(2))
    assert values[2, 2] == pytest.approx((10 + near + diagonal) / (1 + near + diagonal), rel=1e-6)
    assert values[0, 0] == 1.0 and values[4, 4] == 1.0
    assert tags["FILTERING_METHOD"] == "frost" and tags["FILTERING_DERAMP"] == "0.1"
    assert "FILTERING_NBLOOKS" not in tags


@pytest.mark.parametrize("params, message", [
    ({"method": "median", "window_radius": 1, "nblooks": 4}, "unknown filter"),
    ({"method": "none", "window_radius": 1, "nblooks": 4}, "unknown filter"),
    ({"method": "frost", "window_radius": 1, "nblooks": 4}, "needs deramp"),
    ({"method": "gammamap", "window_radius": 1}, "needs nblooks"),
    ({"method": "kuan", "window_radius": 0, "nblooks": 4}, "window_radius"),
    ({"method": "lee", "nblooks": 4}, "window_radius"),
])
def test_missing_or_wrong_filtering_keys_are_configuration_errors(tmp_path, product, params, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        despeckle(product, str(tmp_path / "x.tif"), params)
    assert caught.value.exit_code == 72
    assert not (tmp_path / "x.tif").exists()


def test_only_the_keys_the_method_uses_decide_a_rerun(tmp_path, product):
    out = str(tmp_path / "filtered.tif")
    despeckle(product, out, {"method": "kuan", "window_radius": 1, "nblooks": 4})
    # A config setting `deramp` too (used by frost only) gives the same output: reused.
    assert despeckle(product, out, {"method": "KUAN", "window_radius": 1, "nblooks": 4.0,
                                    "deramp": 0.2}).skipped
    assert not despeckle(product, out, {"method": "kuan", "window_radius": 1, "nblooks": 1}).skipped
    write_product(product, bright_point() * 2, version=2)  # the product is made again
    assert not despeckle(product, out, {"method": "kuan", "window_radius": 1, "nblooks": 1}).skipped
