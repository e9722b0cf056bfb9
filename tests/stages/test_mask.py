"""Stage `mask`: a product with a known valid area gives the hand-computed opening by ITK's ball
of radius 5, as a uint8 0/1 COG with S1Tiling's mask tags; a re-run is skipped."""

from __future__ import annotations

import numpy as np
import rasterio

from s1tiling_cloud.outputs.names import mask_name
from s1tiling_cloud.stages.mask import mask as border_mask
from tests.stages import PRODUCT_1, PRODUCT_2, TRANSFORM, write_product

SHAPE = (40, 50)
TOP, BOTTOM, LEFT, RIGHT = 6, 33, 8, 41  # the valid rectangle, bounds included


def product_image() -> np.ndarray:
    image = np.zeros(SHAPE, np.float32)
    image[TOP:BOTTOM + 1, LEFT:RIGHT + 1] = 0.2
    image[20, 25] = 0.0               # a no-data pixel inside
    image[18:21, RIGHT + 1:47] = 0.2  # a 3-pixel wide spur on the right: thinner than the ball
    image[2, 2] = 0.5                 # an isolated speck near the image corner
    image[30, 12] = np.nan            # NaN is data for `im1b1==0?0:1`
    return image


def expected_mask() -> np.ndarray:
    """The opening of the rectangle by the radius-5 ball (rows of half-width 2 3 4 5 5 5 5 5 4 3
    2) is the union of the balls that fit in it: the rectangle, less at each corner the pixels
    the ball centred 5 pixels in from both sides misses, 3 + 2 + 1 (a staircase). The spur and
    the speck hold no ball; a one-pixel hole stays a hole (every other pixel is in some ball
    that avoids it)."""
    mask = np.zeros(SHAPE, np.uint8)
    mask[TOP:BOTTOM + 1, LEFT:RIGHT + 1] = 1
    missed = {0: 3, 1: 2, 2: 1}  # row from the corner → pixels missed from the side
    for depth, count in missed.items():
        for row in (TOP + depth, BOTTOM - depth):
            mask[row, LEFT:LEFT + count] = 0
            mask[row, RIGHT - count + 1:RIGHT + 1] = 0
    mask[20, 25] = 0
    return mask


def test_the_mask_is_the_opened_valid_area(tmp_path):
    product = write_product(str(tmp_path / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"),
                            product_image())
    out = str(tmp_path / mask_name("s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"))
    assert out.endswith("_20200108txxxxxx_BorderMask.tif")
    result = border_mask(product, out)
    assert result.outputs == [out] and not result.skipped
    expected = expected_mask()
    assert expected.sum() == 28 * 34 - 4 * 6 - 1
    with rasterio.open(out) as dataset:
        np.testing.assert_array_equal(dataset.read(1), expected)
        assert dataset.dtypes == ("uint8",) and dataset.nodata is None
        assert dataset.transform == TRANSFORM
        assert dataset.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        tags = dataset.tags()
    assert result.details["valid_fraction"] == round(expected.sum() / expected.size, 6)
    assert tags["IMAGE_TYPE"] == "MASK"
    assert tags["TIFFTAG_IMAGEDESCRIPTION"] == ("Orthorectified Sentinel-1A IW GRD smoothed border "
                                                "mask S2 tile")
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}"  # the product's keys are kept
    assert tags["ACQUISITION_DATETIME_2"] == "2020:01:08T04:42:15Z" and tags["PROJECT"] == "demo"
    assert tags["PROVENANCE_STAGE"] == "mask" and product in tags["PROVENANCE_INPUTS"]


def test_a_rerun_is_skipped_until_the_product_changes(tmp_path):
    product = write_product(str(tmp_path / "p.tif"), product_image())
    out = str(tmp_path / "p_BorderMask.tif")
    border_mask(product, out)
    assert border_mask(product, out).skipped
    image = product_image()
    image[TOP:BOTTOM + 1, LEFT:LEFT + 10] = 0  # the valid area shrinks
    write_product(product, image, version=2)
    assert not border_mask(product, out).skipped
    with rasterio.open(out) as dataset:
        assert not dataset.read(1)[:, :LEFT + 10].any()


def test_the_stage_module_has_no_border_mask():
    """`border_mask` was the stage's old name: importing it from the stage module fails rather
    than silently giving the engine's function (of another signature)."""
    import s1tiling_cloud.stages.mask as stage_module

    assert not hasattr(stage_module, "border_mask")
