"""The `otb` engine of the stages after ortho (concatenate, mask, despeckle): the same outputs,
names and tags as the native engine, the pixels by OTB's own applications. Agreement between
the two is the tolerance documented in docs/stages.md: identical for Synthetize and the mask,
1e-6 relative for Despeckle (float32 rounding of the window statistics)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import MissingApplication, exit_code_for
from s1tiling_cloud.stages.concatenate import concatenate
from s1tiling_cloud.stages.despeckle import despeckle
from s1tiling_cloud.stages.mask import mask as border_mask
from tests.stages import PRODUCT_1, PRODUCT_2, TILE, write_ortho, write_product

pytestmark = pytest.mark.skipif(shutil.which("otbcli_Synthetize") is None,
                                reason="OTB's applications (Debian otb-bin) are not installed")

SHAPE = (48, 64)


def speckled(seed: int, valid_rows: slice) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.zeros(SHAPE, np.float32)
    values[valid_rows] = (0.05 * rng.gamma(4.0, 0.25, size=SHAPE)[valid_rows]).astype(np.float32)
    values[valid_rows.start + 3, 10] = 0.0  # a hole inside the valid area
    return values


def read(uri: str) -> tuple[np.ndarray, dict]:
    with rasterio.open(uri) as dataset:
        tags = dataset.tags()
        # The provenance differs by the engine (and so must: see the reuse test).
        return dataset.read(1), {k: v for k, v in tags.items()
                                 if k != "TIFFTAG_DATETIME" and not k.startswith("PROVENANCE")}


def both_engines(run, tmp_path, name: str) -> tuple[tuple, tuple]:
    native = run(str(tmp_path / "native" / name), "native")
    otb = run(str(tmp_path / "otb" / name), "otb")
    assert native.outputs and otb.outputs and not otb.skipped
    return read(native.outputs[0]), read(otb.outputs[0])


def test_concatenate_by_synthetize_equals_native(tmp_path):
    a = write_ortho(str(tmp_path / "a.tif"), speckled(1, slice(0, 30)), PRODUCT_1)
    b = write_ortho(str(tmp_path / "b.tif"), speckled(2, slice(20, 48)), PRODUCT_2)
    (native, native_tags), (otb, otb_tags) = both_engines(
        lambda out, engine: concatenate([a, b], out, TILE, {"engine": engine}), tmp_path, "day.tif")
    np.testing.assert_array_equal(otb, native)
    assert otb_tags == native_tags and otb_tags["IMAGE_TYPE"] == "BACKSCATTERING"


def test_border_mask_by_otb_equals_native(tmp_path):
    values = speckled(3, slice(5, 44))
    values[20:23, 30:33] = 0.0  # a hole the opening keeps, thin data the opening removes:
    values[0:5, 40] = 0.2
    product = write_product(str(tmp_path / "product.tif"), values)
    (native, native_tags), (otb, otb_tags) = both_engines(
        lambda out, engine: border_mask(product, out, engine=engine), tmp_path, "mask.tif")
    np.testing.assert_array_equal(otb, native)
    assert otb.dtype == np.uint8 and otb_tags == native_tags and 0 < otb.mean() < 1


@pytest.mark.parametrize(("method", "key", "value"), [("lee", "nblooks", 4.0),
                                                      ("frost", "deramp", 0.5)])
def test_despeckle_by_otb_agrees_with_native(tmp_path, method, key, value):
    product = write_product(str(tmp_path / "product.tif"), speckled(4, slice(0, 48)))
    params = {"method": method, "window_radius": 2, key: value}
    (native, native_tags), (otb, otb_tags) = both_engines(
        lambda out, engine: despeckle(product, out, {**params, "engine": engine}), tmp_path,
        "filtered.tif")
    np.testing.assert_allclose(otb, native, rtol=1e-6, atol=0)
    assert otb_tags == native_tags and otb_tags["FILTERING_METHOD"] == method


def test_engines_do_not_reuse_each_others_outputs(tmp_path):
    product = write_product(str(tmp_path / "product.tif"), speckled(5, slice(0, 48)))
    out = str(tmp_path / "mask.tif")
    assert not border_mask(product, out).skipped
    assert border_mask(product, out).skipped
    assert not border_mask(product, out, engine="otb").skipped  # another provenance
    assert border_mask(product, out, engine="otb").skipped


def test_otb_engine_without_otb_is_missing_application(tmp_path, monkeypatch):
    product = write_product(str(tmp_path / "product.tif"), speckled(6, slice(0, 48)))
    monkeypatch.setenv("PATH", str(tmp_path))  # no otbcli_* reachable: as on a machine without OTB
    with pytest.raises(MissingApplication) as caught:
        border_mask(product, str(tmp_path / "mask.tif"), engine="otb")
    assert exit_code_for(caught.value) == 77
    assert not os.path.exists(tmp_path / "mask.tif")
