"""`Store.write_cog` computes a COG's overviews itself (`cog_overviews`) and has the COG driver
read everything from memory; the file must be the one the COG driver writes when it does all
the work (reached with an explicit `OVERVIEWS` creation option): same pixels at every level,
layout, tags, no-data and band descriptions. One band in DEFLATE is compressed by `cog_tiles`:
the same file but for its DEFLATE streams (`same_tiles`: each tile the same bytes once
decompressed); other files are the driver's byte for byte."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1tiling_cloud import cog_overviews
from s1tiling_cloud.store import Store
from tests.cog_layout import same_tiles

TRANSFORM = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0)
TAGS = {"TIFFTAG_IMAGEDESCRIPTION": "a product", "TIFFTAG_DATETIME": "2020:01:08 04:41:50",
        "CALIBRATION": "sigma", "PROVENANCE_PARAMS": '{"a": [1, 2], "b": "<&>"}'}
#: Odd sizes, so that some levels are not half the previous one (175 × 152 from 350 × 305).
SHAPE = (1400, 1220)
BLOCK = 128


def _speckle(rng, shape):
    return rng.gamma(4.4, 10 ** -1.2 / 4.4, shape).astype(np.float32)


def _float_zero_nodata(rng):
    """σ°-like, no-data 0 in a border, scattered and in whole blocks; also pixels whose valid
    neighbours average to exactly 0 (written as the smallest float, not as no-data), -0.0
    (no-data too) and a NaN (a valid value for a 0 no-data)."""
    values = _speckle(rng, SHAPE)
    values[:, :197] = 0.0
    values[rng.random(SHAPE) < 0.2] = 0.0
    values[300:340, 200:360] = 0.0
    values[100:102, 400:402] = [[1.5, -1.5], [2.0, -2.0]]
    values[104, 404] = -0.0
    values[111, 333] = np.nan
    return values, 0.0


def _float_nan_nodata(rng):
    values = (rng.standard_normal(SHAPE) * 300).astype(np.float32)
    values[:150] = np.nan
    values[rng.random(SHAPE) < 0.3] = np.nan
    return values, float("nan")


def _uint8_mask(rng):
    return (rng.random(SHAPE) < 0.6).astype(np.uint8), None


def _levels(path):
    with rasterio.open(path) as dataset:
        levels = [dataset.read()]
        for index in range(len(dataset.overviews(1))):
            with rasterio.open(path, overview_level=index) as overview:
                levels.append(overview.read())
        profile = dict(dataset.profile, nodata=repr(dataset.nodata))  # nan != nan
        return levels, {"profile": profile, "tags": dataset.tags(),
                        "structure": dataset.tags(ns="IMAGE_STRUCTURE"),
                        "descriptions": dataset.descriptions,
                        "factors": dataset.overviews(1)}


@pytest.mark.parametrize("make", [_float_zero_nodata, _float_nan_nodata, _uint8_mask])
@pytest.mark.parametrize("overviews", ["auto", 2])
def test_in_memory_overviews_write_the_cog_driver_file(tmp_path, make, overviews):
    values, nodata = make(np.random.default_rng(3))
    assert cog_overviews.supported(values.dtype, "NEAREST" if values.dtype == np.uint8
                                   else "AVERAGE", nodata)
    store = Store()
    common = {"crs": "EPSG:32631", "transform": TRANSFORM, "nodata": nodata, "tags": TAGS,
              "band_descriptions": ["band one"], "blocksize": BLOCK, "overviews": overviews}
    fast = store.write_cog(tmp_path / "fast.tif", values, **common)
    driver = store.write_cog(tmp_path / "driver.tif", values, **common,
                             creation_options={"OVERVIEWS": "IGNORE_EXISTING"})

    fast_levels, fast_meta = _levels(fast)
    driver_levels, driver_meta = _levels(driver)
    assert fast_meta == driver_meta
    assert fast_meta["structure"]["LAYOUT"] == "COG"
    assert fast_meta["tags"]["PROVENANCE_PARAMS"] == TAGS["PROVENANCE_PARAMS"]
    assert fast_meta["descriptions"] == ("band one",)
    assert len(fast_levels) == (5 if overviews == "auto" else 3)
    for level, (mine, gdal) in enumerate(zip(fast_levels, driver_levels, strict=True)):
        assert mine.shape == gdal.shape, level
        assert mine.tobytes() == gdal.tobytes(), level  # NaNs and signed zeros included
    assert same_tiles(fast, driver)


def test_several_bands_and_no_overviews(tmp_path):
    rng = np.random.default_rng(5)
    values = np.stack([_speckle(rng, SHAPE), _speckle(rng, SHAPE)])
    values[:, :, :140] = 0.0
    store = Store()
    for overviews, force in (("auto", "IGNORE_EXISTING"), (None, "NONE")):
        common = {"crs": "EPSG:32631", "transform": TRANSFORM, "nodata": 0.0, "tags": TAGS,
                  "band_descriptions": ["VV", "VH"], "blocksize": BLOCK, "overviews": overviews}
        fast = store.write_cog(tmp_path / "fast.tif", values, **common)
        driver = store.write_cog(tmp_path / "driver.tif", values, **common,
                                 creation_options={"OVERVIEWS": force})
        assert filecmp.cmp(fast, driver, shallow=False)


def test_overview_shapes_follow_the_cog_driver():
    assert cog_overviews.overview_shapes(10980, 10980, 512) == [
        (5490, 5490), (2745, 2745), (1372, 1372), (686, 686), (343, 343)]
    assert cog_overviews.overview_shapes(512, 300, 512) == []
    assert cog_overviews.overview_shapes(3, 2, 512, count=3) == [(1, 1)]


def test_left_to_the_driver():
    assert not cog_overviews.supported(np.float32, "AVERAGE", None)  # no mask: other arithmetic
    assert not cog_overviews.supported(np.uint16, "AVERAGE", 0)
    assert not cog_overviews.supported(np.float32, "CUBIC", 0.0)
    assert cog_overviews.supported(np.uint16, "NEAREST", 0)
    assert not cog_overviews.readable(np.complex64)


def test_types_memory_cannot_hand_over_go_through_the_driver(tmp_path):
    values = np.arange(200 * 300, dtype=np.int64).reshape(200, 300)
    path = Store().write_cog(tmp_path / "int64.tif", values, crs="EPSG:32631",
                             transform=TRANSFORM, nodata=None, blocksize=128)
    with rasterio.open(path) as dataset:
        assert dataset.dtypes[0] == "int64"
        assert dataset.overviews(1) == [2, 4]
        assert np.array_equal(dataset.read(1), values)


def test_a_block_size_among_the_creation_options_sets_the_overview_levels(tmp_path):
    values = _speckle(np.random.default_rng(9), (1500, 1300))
    store = Store()
    common = {"crs": "EPSG:32631", "transform": TRANSFORM, "nodata": 0.0}
    fast = store.write_cog(tmp_path / "fast.tif", values, **common,
                           creation_options={"BLOCKSIZE": 128})
    driver = store.write_cog(tmp_path / "driver.tif", values, **common,
                             creation_options={"BLOCKSIZE": 128, "OVERVIEWS": "IGNORE_EXISTING"})
    with rasterio.open(fast) as dataset:
        assert dataset.block_shapes == [(128, 128)] and dataset.overviews(1) == [2, 4, 8, 16]
    assert same_tiles(fast, driver)


@pytest.mark.parametrize("nodata", [float("-inf"), float("inf")])
def test_an_infinite_nodata_is_written(tmp_path, nodata):
    values = _speckle(np.random.default_rng(4), (300, 200))
    path = Store().write_cog(tmp_path / "inf.tif", values, crs="EPSG:32631", transform=TRANSFORM,
                             nodata=nodata, overviews=None)
    with rasterio.open(path) as dataset:
        assert dataset.nodata == nodata and np.array_equal(dataset.read(1), values)
