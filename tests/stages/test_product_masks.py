"""The border mask written by the stage that writes a final product (`concatenate`, `normlim`,
`rtc`; `ortho` in test_concatenate.py) is the `mask` stage's file byte for byte, made from the
pixels in memory; with the product up to date and the mask deleted, a re-run writes the mask
alone and leaves the product untouched."""

from __future__ import annotations

import os

import numpy as np
import rasterio

from s1tiling_cloud.engine.native.mask import border_mask
from s1tiling_cloud.stages.concatenate import concatenate
from s1tiling_cloud.stages.mask import mask as mask_stage
from s1tiling_cloud.stages.normlim import normlim
from s1tiling_cloud.store import Store
from tests.stages import CRS, PRODUCT_1, PRODUCT_2, TILE, TRANSFORM, write_ortho

# Taller than two of `Store.write_cog`'s 512-row strips: the concatenation's mask gathers them.
SHAPE = (1100, 90)


def halves() -> tuple[np.ndarray, np.ndarray]:
    """Two images of one day: ragged data areas that overlap, holes, a NaN."""
    rng = np.random.default_rng(5)
    a = np.zeros(SHAPE, np.float32)
    b = np.zeros(SHAPE, np.float32)
    a[:700, 3:80] = rng.uniform(0.01, 1.0, (700, 77))
    b[500:1080, 6:88] = rng.uniform(0.01, 1.0, (580, 82))
    a[100:104, 40:43] = 0.0
    a[300, 20] = np.nan
    b[900, 10:30] = 0.0
    return a, b


def same_file(found: str, expected: str) -> None:
    """Same pixels, encoding and tags (provenance included), but the time of writing."""
    with rasterio.open(found) as a, rasterio.open(expected) as b:
        np.testing.assert_array_equal(a.read(), b.read())
        assert a.profile == b.profile
        assert a.tags(ns="IMAGE_STRUCTURE") == b.tags(ns="IMAGE_STRUCTURE")
        ta, tb = a.tags(), b.tags()
        ta.pop("TIFFTAG_DATETIME")
        tb.pop("TIFFTAG_DATETIME")
        assert ta == tb and ta["IMAGE_TYPE"] == "MASK"


def check_mask(product: str, written: str, tmp_path) -> None:
    """`written` is `border_mask` of `product`'s pixels and the `mask` stage's file."""
    reference = str(tmp_path / "reference_BorderMask.tif")
    assert not mask_stage(product, reference).skipped
    same_file(written, reference)
    with rasterio.open(product) as dataset, rasterio.open(written) as found:
        np.testing.assert_array_equal(found.read(1), border_mask(dataset.read(1)))
    # the mask stage takes the finishing stage's mask for its own (same provenance)
    assert mask_stage(product, written).skipped


def identity(path: str) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_ino, found.st_mtime_ns


def test_the_concatenation_writes_its_products_mask(tmp_path):
    a, b = halves()
    inputs = [write_ortho(str(tmp_path / "a.tif"), a, PRODUCT_1),
              write_ortho(str(tmp_path / "b.tif"), b, PRODUCT_2)]
    product, mask = str(tmp_path / "out" / "vh.tif"), str(tmp_path / "out" / "vh_BorderMask.tif")
    made = concatenate(inputs, product, TILE, mask=mask)
    assert made.outputs == [product, mask] and not made.skipped
    check_mask(product, mask, tmp_path)
    # without the mask, the same product (the mask changes nothing of it)
    alone = concatenate(inputs, str(tmp_path / "alone" / "vh.tif"), TILE)
    with rasterio.open(product) as x, rasterio.open(alone.outputs[0]) as y:
        np.testing.assert_array_equal(x.read(), y.read())
    # up to date: skipped; the mask deleted: made again alone, the product untouched
    assert concatenate(inputs, product, TILE, mask=mask).skipped
    before = identity(product)
    Store().remove(mask)
    again = concatenate(inputs, product, TILE, mask=mask)
    assert not again.skipped and again.details["masks_only"]
    assert identity(product) == before
    same_file(mask, str(tmp_path / "reference_BorderMask.tif"))


def test_normlim_writes_its_products_mask(tmp_path):
    a, _ = halves()
    store = Store()
    beta, sin = str(tmp_path / "beta.tif"), str(tmp_path / f"sin_LIA_{TILE}_007.tif")
    store.write_cog(beta, a, crs=CRS, transform=TRANSFORM, nodata=0.0,
                    tags={"CALIBRATION": "beta", "FLYING_UNIT_CODE": "s1a",
                          "S2_TILE_CORRESPONDING_CODE": TILE, "POLARIZATION": "vh"})
    sin_lia = np.full(SHAPE, 0.7, np.float32)
    sin_lia[:, :5] = np.nan  # no LIA there: σ°_NORMLIM is 0, the mask follows it
    store.write_cog(sin, sin_lia, crs=CRS, transform=TRANSFORM, nodata=float("nan"),
                    tags={"S2_TILE_CORRESPONDING_CODE": TILE})
    product, mask = str(tmp_path / "out" / "NormLim.tif"), str(tmp_path / "out" / "NormLim_BorderMask.tif")
    made = normlim(beta, sin, product, mask=mask)
    assert made.outputs == [product, mask]
    check_mask(product, mask, tmp_path)
    before = identity(product)
    Store().remove(mask)
    again = normlim(beta, sin, product, mask=mask)
    assert again.details["masks_only"] and identity(product) == before
    same_file(mask, str(tmp_path / "reference_BorderMask.tif"))
    assert normlim(beta, sin, product, mask=mask).skipped
