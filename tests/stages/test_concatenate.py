"""Stage `concatenate`: first non-null pixel in input order, S1Tiling's names and tags for two
inputs and for one, the re-run rule (skip, and recompute once an input changed), S3 outputs."""

from __future__ import annotations

import os
import re
import uuid

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.engine.native.mask import border_mask
from s1tiling_cloud.exceptions import ConfigurationError, NotCompatibleInput
from s1tiling_cloud.outputs.names import Naming, tile_fields
from s1tiling_cloud.stages.concatenate import concatenate
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.mask import mask as mask_stage
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.stages.registry import run_stage
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_flat_dem, write_grd
from tests.s3server import s3_client, storage_options
from tests.stages import (
    PRODUCT_1,
    PRODUCT_2,
    PRODUCT_NEXT_CYCLE,
    TILE,
    TRANSFORM,
    image,
    write_ortho,
)

SHAPE = (30, 40)


def first_half() -> np.ndarray:
    """The earlier image: data on rows 0–19, two holes inside, a NaN."""
    a = np.zeros(SHAPE, np.float32)
    a[:20] = 0.1
    a[5, 5] = 0.0
    a[15, 7] = 0.0
    a[12, 30] = np.nan
    return a


def second_half() -> np.ndarray:
    """The later image: data on rows 10–29 (overlapping rows 10–19), one hole."""
    b = np.zeros(SHAPE, np.float32)
    b[10:] = 0.3
    b[25, 3] = 0.0
    return b


@pytest.fixture
def pair(tmp_path):
    a = write_ortho(str(tmp_path / "s2" / "a.tif"), first_half(), PRODUCT_1)
    b = write_ortho(str(tmp_path / "s2" / "b.tif"), second_half(), PRODUCT_2)
    return a, b


def read(uri: str, store: Store | None = None):
    with (store or Store()).open_raster(uri) as dataset:
        return dataset.read(1), dict(dataset.tags()), dataset


def test_two_images_take_the_first_non_null_pixel(tmp_path, pair):
    out = str(tmp_path / "out" / TILE / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif")
    result = concatenate(list(pair), out, TILE)
    assert result.outputs == [out] and not result.skipped
    assert result.details["acquisition_stamp"] == "20200108txxxxxx"
    values, tags, dataset = read(out)
    expected = np.zeros(SHAPE, np.float32)
    expected[:20] = 0.1           # the first image wherever it has data, overlap included
    expected[20:] = 0.3           # the second one elsewhere
    expected[5, 5] = 0.0          # null in both
    expected[15, 7] = 0.3         # a hole of the first filled by the second
    expected[12, 30] = 0.3        # NaN is null too
    expected[25, 3] = 0.0
    np.testing.assert_array_equal(values, expected)
    assert dataset.nodata == 0 and dataset.dtypes == ("float32",)
    assert dataset.transform == TRANSFORM and dataset.crs.to_epsg() == 32633
    with rasterio.open(out) as cog:
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    assert tags["IMAGE_TYPE"] == "BACKSCATTERING"
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}"
    assert tags["ACQUISITION_DATETIME"] == "2020:01:08T04:41:50Z"
    assert tags["ACQUISITION_DATETIME_1"] == "2020:01:08T04:41:50Z"
    assert tags["ACQUISITION_DATETIME_2"] == "2020:01:08T04:42:15Z"
    assert tags["POLARIZATION"] == "vh" and tags["RELATIVE_ORBIT_NUMBER"] == "007"
    assert tags["ORBIT_DIRECTION"] == "DES" and tags["ORBIT_NUMBER"] == "030704"
    assert tags["CALIBRATION"] == "sigma" and tags["NOISE_REMOVED"] == "True"
    assert tags["LOWER_SIGNAL_VALUE"] == "1e-07" and tags["SPATIAL_RESOLUTION"] == "10.0"
    assert tags["S2_TILE_CORRESPONDING_CODE"] == TILE and tags["DEM_INFO"] == "SRTM_30_hgt"
    assert tags["TIFFTAG_IMAGEDESCRIPTION"] == "sigma calibrated orthorectified Sentinel-1A IW GRD"
    assert tags["PROJECT"] == "demo"  # `[Metadata]` keys are carried
    assert tags["PROVENANCE_STAGE"] == "concatenate"
    assert pair[0] in tags["PROVENANCE_INPUTS"] and pair[1] in tags["PROVENANCE_INPUTS"]
    # The name S1Tiling gives this product, from the same images.
    fields = tile_fields([image(PRODUCT_1), image(PRODUCT_2)], TILE)
    assert Naming().filename("concatenation", fields) == out.rsplit("/", 1)[-1]


def test_input_order_decides_the_overlap_and_tags_do_not_depend_on_it(tmp_path, pair):
    out = str(tmp_path / "reversed.tif")
    concatenate([pair[1], pair[0]], out, TILE)
    values, tags, _ = read(out)
    assert np.all(values[10:20, :] == 0.3)  # the second image now wins where both have data
    assert values[0, 0] == np.float32(0.1)  # and the first fills its nulls
    assert tags["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}"  # sorted, whatever the order
    assert tags["ACQUISITION_DATETIME_1"] == "2020:01:08T04:41:50Z"


def test_one_image_is_copied_into_a_product_with_its_time_stamp(tmp_path):
    source = first_half()
    ortho = write_ortho(str(tmp_path / "a.tif"), source, PRODUCT_1)
    out = str(tmp_path / "s1a_33NWB_vh_DES_007_20200108t044150.tif")
    # `[Metadata]` keys given to the stage win over the carried ones, never over S1Tiling's.
    result = concatenate([ortho], out, TILE, {"metadata": {"PROJECT": "campaign-2",
                                                           "IMAGE_TYPE": "mine"}})
    assert result.details == {"acquisition_stamp": "20200108t044150", "inputs": 1}
    values, tags, _ = read(out)
    np.testing.assert_array_equal(values, np.nan_to_num(source, nan=0.0))
    assert tags["IMAGE_TYPE"] == "BACKSCATTERING"  # the ortho image said GRD
    assert tags["PROJECT"] == "campaign-2"
    assert tags["INPUT_S1_IMAGES"] == PRODUCT_1
    assert tags["ACQUISITION_DATETIME"] == "2020:01:08T04:41:50Z"
    assert tags["ACQUISITION_DATETIME_1"] == "2020:01:08T04:41:50Z"  # S1Tiling numbers one too
    assert Store().exists(ortho)  # inputs are never removed by the stage
    assert Naming().filename("concatenation", tile_fields([image(PRODUCT_1)], TILE)) \
        == out.rsplit("/", 1)[-1]


def test_images_of_different_products_are_refused(tmp_path, pair):
    vv = write_ortho(str(tmp_path / "vv.tif"), second_half(), PRODUCT_2, "vv")
    with pytest.raises(NotCompatibleInput, match="polarisation"):
        concatenate([pair[0], vv], str(tmp_path / "x.tif"), TILE)
    later = write_ortho(str(tmp_path / "later.tif"), second_half(), PRODUCT_NEXT_CYCLE)
    with pytest.raises(NotCompatibleInput, match="acquisition_day"):
        concatenate([pair[0], later], str(tmp_path / "x.tif"), TILE)
    with pytest.raises(NotCompatibleInput, match="tile"):
        concatenate(list(pair), str(tmp_path / "x.tif"), "31TCJ")
    assert not (tmp_path / "x.tif").exists()


@pytest.fixture
def bucket(s3_server):
    name = f"stages-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    return name


@pytest.mark.s3
def test_on_s3_a_rerun_is_skipped_until_an_input_changes(s3_server, bucket, tmp_path):
    options = storage_options(s3_server)
    store = Store(options)
    a = write_ortho(f"s3://{bucket}/tmp/S2/{TILE}/a.tif", first_half(), PRODUCT_1, store=store)
    b = write_ortho(f"s3://{bucket}/tmp/S2/{TILE}/b.tif", second_half(), PRODUCT_2, store=store)
    out = f"s3://{bucket}/out/{TILE}/s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"
    arguments = {"inputs": [a, b], "output": out, "tile": TILE, "storage_options": options}
    first = run_stage("concatenate", arguments)
    assert not first.skipped and first.outputs == [out]
    key = out.split("/", 3)[3]
    etag = s3_client(s3_server).head_object(Bucket=bucket, Key=key)["ETag"]
    values, tags, _ = read(out, store)
    assert values[15, 7] == np.float32(0.3) and tags["ACQUISITION_DATETIME_2"] == "2020:01:08T04:42:15Z"

    again = run_stage("concatenate", arguments)
    assert again.skipped and again.outputs == [out]
    assert s3_client(s3_server).head_object(Bucket=bucket, Key=key)["ETag"] == etag

    # The second image is made again, differently: same URI, new content and provenance.
    write_ortho(b, second_half() * 2, PRODUCT_2, store=store, version=2)
    changed = run_stage("concatenate", arguments)
    assert not changed.skipped
    values, _, _ = read(out, store)
    assert values[15, 7] == np.float32(0.6) and values[0, 0] == np.float32(0.1)
    assert s3_client(s3_server).head_object(Bucket=bucket, Key=key)["ETag"] != etag
    assert store.exists(a) and store.exists(b)
    # Swapping the inputs changes the result (overlap), so it is not a reuse either.
    assert not run_stage("concatenate", {**arguments, "inputs": [b, a]}).skipped


def test_a_tile_taller_than_a_strip_is_read_and_written_strip_by_strip(tmp_path):
    rng = np.random.default_rng(3)
    shape = (1100, 70)  # three 512-row strips
    a = rng.uniform(0.01, 1, shape).astype(np.float32)
    b = rng.uniform(0.01, 1, shape).astype(np.float32)
    a[rng.random(shape) < 0.4] = 0.0
    b[rng.random(shape) < 0.4] = 0.0
    inputs = [write_ortho(str(tmp_path / "a.tif"), a, PRODUCT_1),
              write_ortho(str(tmp_path / "b.tif"), b, PRODUCT_2)]
    concatenate(inputs, str(tmp_path / "out.tif"), TILE)
    with rasterio.open(tmp_path / "out.tif") as dataset:
        np.testing.assert_array_equal(dataset.read(1), np.where(a != 0, a, b))
        assert dataset.overviews(1)  # a COG with its overviews


def small_product_and_heights(tmp_path):
    """A synthetic GRD on 31TCJ and the tile's heights at 60 m over a flat DEM: what an
    `ortho` call needs."""
    product = write_grd(SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800),
                        tmp_path / "s1")
    dem = tmp_path / "dem.tif"
    write_flat_dem(dem, 0.0, 45.0, 1 / 200, 400, 600)
    heights_uri = str(tmp_path / "heights.tif")
    heights("31TCJ", 60.0, heights_uri, {"dem_dir": str(dem)})
    return product, heights_uri


def test_the_tags_of_a_real_ortho_output_are_understood(tmp_path):
    """The interface between stages: `ortho`'s own output (a synthetic GRD on 31TCJ at 60 m)."""
    product, heights_uri = small_product_and_heights(tmp_path)
    image_uri = str(tmp_path / "vv.tif")
    ortho(str(product), "31TCJ", heights_uri, {"VV": image_uri}, {"resolution": 60.0})
    out = str(tmp_path / "product.tif")
    result = concatenate([image_uri], out, "31TCJ")
    source, ortho_tags, _ = read(image_uri)
    values, tags, _ = read(out)
    np.testing.assert_array_equal(values, source)
    assert result.details["acquisition_stamp"] == "20200108t044150"
    assert tags["INPUT_S1_IMAGES"] == ortho_tags["INPUT_S1_IMAGES"] == product.name.removesuffix(".SAFE")
    for key in ("ACQUISITION_DATETIME", "ORBIT_NUMBER", "RELATIVE_ORBIT_NUMBER", "ORBIT_DIRECTION",
                "POLARIZATION", "FLYING_UNIT_CODE", "CALIBRATION", "SPATIAL_RESOLUTION"):
        assert tags[key] == ortho_tags[key], key
    assert (ortho_tags["IMAGE_TYPE"], tags["IMAGE_TYPE"]) == ("GRD", "BACKSCATTERING")


def same_product(found: str, expected: str) -> None:
    """Same pixels (overviews included), encoding, georeferencing and tags, but the keys that
    say when and by which stage a file was made."""
    with rasterio.open(expected) as a, rasterio.open(found) as b:
        np.testing.assert_array_equal(b.read(1), a.read(1))
        assert b.overviews(1) == a.overviews(1) and b.overviews(1)
        for factor in b.overviews(1):
            shape = (b.height // factor, b.width // factor)
            np.testing.assert_array_equal(b.read(1, out_shape=shape), a.read(1, out_shape=shape))
        assert b.tags(ns="IMAGE_STRUCTURE") == a.tags(ns="IMAGE_STRUCTURE")
        assert (b.nodata, b.crs, b.transform, b.block_shapes) == (a.nodata, a.crs, a.transform,
                                                                  a.block_shapes)
        made_here = re.compile(r"^(TIFFTAG_DATETIME|PROVENANCE_\w+)$")
        tags_a = {k: v for k, v in a.tags().items() if not made_here.match(k)}
        tags_b = {k: v for k, v in b.tags().items() if not made_here.match(k)}
        assert tags_b == tags_a and tags_b["IMAGE_TYPE"] == "BACKSCATTERING"


def test_the_ortho_of_a_day_with_one_product_writes_what_its_concatenation_gave(tmp_path):
    """A day with one product has no concatenation node: its ortho writes the day's product
    itself, the very pixels and tags the concatenation of its image gives."""
    product, heights_uri = small_product_and_heights(tmp_path)
    params = {"resolution": 60.0, "metadata": {"PROJECT": "campaign-2"}}
    image = str(tmp_path / "vv.tif")
    ortho(str(product), "31TCJ", heights_uri, {"VV": image}, params)
    expected = concatenate([image], str(tmp_path / "concat" / "vv.tif"), "31TCJ",
                           {"metadata": params["metadata"]}).outputs[0]
    direct = str(tmp_path / "direct" / "vv.tif")
    made = ortho(str(product), "31TCJ", heights_uri, {"VV": direct}, {**params, "day_product": True})
    assert made.outputs == [direct] and not made.skipped
    same_product(direct, expected)
    assert Store().read_tags(direct)["PROJECT"] == "campaign-2"
    # the re-run rule: reused as it is; made again once deleted
    assert ortho(str(product), "31TCJ", heights_uri, {"VV": direct},
                 {**params, "day_product": True}).skipped
    Store().remove(direct)
    again = ortho(str(product), "31TCJ", heights_uri, {"VV": direct}, {**params, "day_product": True})
    assert not again.skipped and Store().exists(direct)


def test_the_ortho_of_a_day_with_one_product_writes_its_masks(tmp_path):
    """The ortho that writes final products writes their border masks too (native engine):
    the `mask` stage's files; a deleted mask is made again alone, the product untouched."""
    product, heights_uri = small_product_and_heights(tmp_path)
    params = {"resolution": 60.0, "day_product": True}
    out, mask = str(tmp_path / "out" / "vv.tif"), str(tmp_path / "out" / "vv_BorderMask.tif")
    made = ortho(str(product), "31TCJ", heights_uri, {"VV": out}, params, masks={"VV": mask})
    assert made.outputs == [out, mask]
    reference = str(tmp_path / "reference_BorderMask.tif")
    mask_stage(out, reference)
    with rasterio.open(mask) as a, rasterio.open(reference) as b, rasterio.open(out) as p:
        np.testing.assert_array_equal(a.read(1), b.read(1))
        np.testing.assert_array_equal(a.read(1), border_mask(p.read(1)))
        assert a.read(1).any() and not a.read(1).all()
        tags_a, tags_b = a.tags(), b.tags()
        assert tags_a.pop("TIFFTAG_DATETIME") and tags_b.pop("TIFFTAG_DATETIME")
        assert tags_a == tags_b and a.profile == b.profile
    assert ortho(str(product), "31TCJ", heights_uri, {"VV": out}, params,
                 masks={"VV": mask}).skipped
    before = (os.stat(out).st_ino, os.stat(out).st_mtime_ns)
    Store().remove(mask)
    again = ortho(str(product), "31TCJ", heights_uri, {"VV": out}, params, masks={"VV": mask})
    assert again.details["masks_only"] and (os.stat(out).st_ino, os.stat(out).st_mtime_ns) == before
    with rasterio.open(mask) as a, rasterio.open(reference) as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
    with pytest.raises(ConfigurationError):  # masks are those of a day's products
        ortho(str(product), "31TCJ", heights_uri, {"VV": out}, {"resolution": 60.0},
              masks={"VV": mask})
