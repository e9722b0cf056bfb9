"""Stage `quicklook`: a Byte JPEG at `ratio`% of the size, `[0, scale_<pol>]` → `[0, 255]` with
S1Tiling's per-polarisation defaults, the product's tags plus the quicklook keys in the
`.aux.xml` sidecar, and the re-run rule."""

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
    result = quicklook(product, out)
    assert result.outputs == [out] and not result.skipped
    assert result.details == {"scale": 0.05, "ratio": 5}
    values = pixels(out)
    assert values.shape == (10, 16)  # 5 % of 200 × 320
    # 0.025 of vh's 0.05 → 127.5 → 128; no-data stays 0 (JPEG is exact on these flat blocks)
    assert np.all(values[:, 8:] == 128) and np.all(values[:, :8] == 0)
    tags = Store().read_tags(out)  # from the `.aux.xml` sidecar
    assert tags["IMAGE_TYPE"] == "QUICKLOOK"
    assert tags["QUICKLOOK_SCALE"] == "1/20" and tags["QUICKLOOK_PIXEL_RANGE"] == "0 .. 0.05"
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}" and tags["PROJECT"] == "demo"
    assert tags["PROVENANCE_STAGE"] == "quicklook"


def test_the_polarisation_picks_its_scale_and_a_rerun_is_skipped(tmp_path):
    product = write_product(str(tmp_path / "vv.tif"), flat(0.25), "vv")
    out = str(tmp_path / "vv_quicklook.jpg")
    quicklook(product, out)  # vv: 0.5 by default; 0.25 → 127.5 → 128
    assert np.all(pixels(out)[:, 8:] == 128)
    assert quicklook(product, out).skipped
    # Another polarisation's scale does not change this quicklook: still reused.
    assert quicklook(product, out, {"scale_vh": 0.1}).skipped
    result = quicklook(product, out, {"scale_vv": 1.0})  # 0.25 → 63.75 → 64
    assert not result.skipped and np.all(pixels(out)[:, 8:] == 64)
    assert Store().read_tags(out)["QUICKLOOK_PIXEL_RANGE"] == "0 .. 1.0"


@pytest.mark.parametrize("params", [{"ratio": 0}, {"ratio": 150}, {"scale_hh": 0}])
def test_bad_quicklook_keys_are_configuration_errors(tmp_path, params):
    product = write_product(str(tmp_path / "p.tif"), flat(0.1))
    with pytest.raises(ConfigurationError):
        quicklook(product, str(tmp_path / "q.jpg"), params)
