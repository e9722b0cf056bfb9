"""The store: URIs, atomic publication, COG and quicklook writing, provenance reuse.

Locally and against the real S3 API server of `tests/s3server.py` (s3fs, boto3 and GDAL's
`/vsis3/` over HTTP). Atomicity is checked with real failures: a pixel function that raises
half-way, and a writer process killed with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1tiling_cloud.outputs.metadata import Provenance, complete_tags
from s1tiling_cloud.stages.base import provenance_matches
from s1tiling_cloud.stages.quicklook import write_quicklook
from s1tiling_cloud.store import (
    COG_MEDIA_TYPE,
    S3Config,
    Store,
    gdal_path,
    join,
)
from tests.s3server import gdal_env, s3_client, storage_options

REPO = Path(__file__).resolve().parents[1]
CRS = "EPSG:32633"
TRANSFORM = Affine(10.0, 0.0, 499980.0, 0.0, -10.0, 100020.0)
TAGS = {"TIFFTAG_IMAGEDESCRIPTION": "sigma calibrated orthorectified Sentinel-1A IW GRD",
        "TIFFTAG_SOFTWARE": "s1tiling-cloud v0.1.0", "TIFFTAG_DATETIME": "2024:05:06 07:08:09",
        "ACQUISITION_DATETIME": "2020:01:08T04:41:50Z", "INPUT_S1_IMAGES": "A, B",
        "PRJ.GAIN": "1.5"}


def backscatter(rows: int = 1200, cols: int = 1100) -> np.ndarray:
    """A smooth σ° field with a no-data (0) margin, as a tile edge has."""
    y, x = np.mgrid[0:rows, 0:cols]
    image = (0.05 + 0.04 * np.sin(x / 97.0) * np.cos(y / 53.0)).astype(np.float32)
    image[:, :137] = 0
    return image


def ghost_header(head: bytes) -> None:
    """GDAL's COG marker at the start of the file: IFDs before the data, untouched since."""
    assert b"GDAL_STRUCTURAL_METADATA_SIZE=" in head[:64]
    assert b"LAYOUT=IFDS_BEFORE_DATA" in head[:400]
    assert b"KNOWN_INCOMPATIBLE_EDITION=NO" in head[:400]


def check_cog(dataset, *, dtype: str, nodata, overviews: list[int], predictor: str,
              count: int = 1) -> None:
    assert dataset.driver == "GTiff"
    structure = dataset.tags(ns="IMAGE_STRUCTURE")
    assert structure["LAYOUT"] == "COG"
    assert structure["COMPRESSION"] == "DEFLATE"
    assert structure.get("PREDICTOR") == predictor
    assert dataset.block_shapes == [(512, 512)] * count  # tiled, 512 × 512
    assert dataset.overviews(1) == overviews
    assert dataset.dtypes == (dtype,) * count
    assert dataset.nodata == nodata
    assert dataset.crs == rasterio.crs.CRS.from_string(CRS)
    assert dataset.transform == TRANSFORM


def visible_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def failing_pixels(fail_at_row: int = 512):
    """A pixel function that fails half-way through a tile (after a strip was written)."""
    calls = []

    def pixels(window):
        calls.append(window.row_off)
        if window.row_off >= fail_at_row:
            raise RuntimeError("engine failure in the middle of the tile")
        return np.ones((window.height, window.width), np.float32)

    return pixels, calls


# --------------------------------------------------------------------------- URIs, config

def test_gdal_paths_and_schemes():
    assert gdal_path("/data/out/a.tif") == "/data/out/a.tif"
    assert gdal_path("file:///data/out/a.tif") == "/data/out/a.tif"
    assert gdal_path(Path("rel/a.tif")) == "rel/a.tif"
    assert gdal_path("s3://bucket/out/33NWB/a.tif") == "/vsis3/bucket/out/33NWB/a.tif"
    with pytest.raises(ValueError, match="scheme"):
        gdal_path("gs://bucket/a.tif")
    with pytest.raises(ValueError, match="bucket"):
        gdal_path("s3:///a.tif")


#: The time limits of every S3 request by default, in GDAL's and in botocore's words.
GDAL_LIMITS = {"GDAL_HTTP_CONNECTTIMEOUT": "10", "GDAL_HTTP_LOW_SPEED_TIME": "60",
               "GDAL_HTTP_LOW_SPEED_LIMIT": "1", "GDAL_HTTP_MAX_RETRY": "2",
               "GDAL_HTTP_RETRY_DELAY": "1"}
BOTOCORE_LIMITS = {"connect_timeout": 10.0, "read_timeout": 60.0,
                   "retries": {"total_max_attempts": 3, "mode": "standard"}}


def test_s3_settings_from_options_or_environment():
    env = {"AWS_ENDPOINT_URL": "http://minio.local:9000", "AWS_REGION": "eu-west-3"}
    config = S3Config.resolve(None, env)
    assert (config.endpoint_url, config.region, config.virtual_hosting) == (
        "http://minio.local:9000", "eu-west-3", False)
    assert config.gdal_options() == {"AWS_S3_ENDPOINT": "minio.local:9000", "AWS_HTTPS": "NO",
                                     "AWS_VIRTUAL_HOSTING": "FALSE", "AWS_REGION": "eu-west-3",
                                     **GDAL_LIMITS}
    assert config.s3fs_options() == {
        "client_kwargs": {"endpoint_url": "http://minio.local:9000", "region_name": "eu-west-3"},
        "config_kwargs": {"s3": {"addressing_style": "path"}, **BOTOCORE_LIMITS}}
    # GDAL's own variables work too; explicit options win over the environment.
    gdal_style = S3Config.resolve(None, {"AWS_S3_ENDPOINT": "ceph:7480", "AWS_HTTPS": "NO",
                                         "AWS_VIRTUAL_HOSTING": "TRUE"})
    assert gdal_style.endpoint_url == "http://ceph:7480" and gdal_style.virtual_hosting
    explicit = S3Config.resolve({"endpoint_url": "https://s3.example.org", "region_name": "x"}, env)
    assert explicit.endpoint_url == "https://s3.example.org" and explicit.region == "x"
    assert explicit.gdal_options()["AWS_HTTPS"] == "YES"
    aws = S3Config.resolve(None, {})  # plain AWS: virtual-hosted style, GDAL's defaults
    assert aws.endpoint_url is None and aws.virtual_hosting
    assert aws.gdal_options() == {"AWS_VIRTUAL_HOSTING": "TRUE", **GDAL_LIMITS}
    assert aws.gdal_session() is None  # GDAL finds credentials itself (env, IRSA, profile)
    assert S3Config.resolve({"anon": True}, {}).gdal_options()["AWS_NO_SIGN_REQUEST"] == "YES"
    # a store's storage_options configure another store the same way (DEMs, geoids)
    for given in ({"endpoint_url": "http://minio:9000", "virtual_hosting": True, "anon": True},
                  {"endpoint_url": "http://minio:9000", "region_name": "x"}, {}):
        config = S3Config.resolve(given, {})
        assert S3Config.resolve(config.s3fs_options(), {"AWS_VIRTUAL_HOSTING": "NO"}) == config


def test_s3_time_limits_from_options_or_environment():
    """Every S3 request's limits: the options' (s3fs's spelling), else `AWS_MAX_ATTEMPTS` for
    the tries, else the defaults; the same numbers for botocore and for GDAL's curl."""
    given = {"config_kwargs": {"connect_timeout": 2.5, "read_timeout": 7,
                               "retries": {"total_max_attempts": 5}}}
    config = S3Config.resolve(given, {"AWS_MAX_ATTEMPTS": "9"})
    assert (config.connect_timeout, config.read_timeout, config.max_attempts) == (2.5, 7.0, 5)
    options = config.gdal_options()
    assert (options["GDAL_HTTP_CONNECTTIMEOUT"], options["GDAL_HTTP_LOW_SPEED_TIME"],
            options["GDAL_HTTP_MAX_RETRY"]) == ("3", "7", "4")  # curl takes whole seconds
    assert config.s3fs_options()["config_kwargs"]["retries"] == {"total_max_attempts": 5,
                                                                 "mode": "standard"}
    # botocore's own `max_attempts` counts the retries only
    assert S3Config.resolve({"config_kwargs": {"retries": {"max_attempts": 0}}}, {}).max_attempts == 1
    assert S3Config.resolve(config.s3fs_options(), {}) == config  # they round-trip
    assert S3Config.resolve(None, {"AWS_MAX_ATTEMPTS": "2"}).max_attempts == 2
    with pytest.raises(ValueError, match="read_timeout"):
        S3Config.resolve({"config_kwargs": {"read_timeout": 0}}, {})


def test_credentials_stay_out_of_reprs():
    store = Store({"key": "AKIAEXAMPLEKEY42", "secret": "sup3r-s3cret-v4lue",
                   "endpoint_url": "http://127.0.0.1:1"}, environ={})
    for text in (repr(store), repr(store.s3), repr(store.s3.gdal_session())):
        assert "AKIAEXAMPLEKEY42" not in text and "sup3r-s3cret-v4lue" not in text
    assert store.storage_options["secret"] == "sup3r-s3cret-v4lue"  # for s3fs, when given


# --------------------------------------------------------------------------- local COGs

def test_local_cog_is_valid_and_round_trips(tmp_path):
    store = Store(environ={})
    image = backscatter()
    uri = tmp_path / "out" / "33NWB" / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"
    returned = store.write_cog(uri, image, crs=CRS, transform=TRANSFORM, nodata=0, tags=TAGS,
                               band_descriptions=["VH"])
    assert returned == os.fspath(uri)
    with rasterio.open(uri) as dataset:
        check_cog(dataset, dtype="float32", nodata=0.0, overviews=[2, 4], predictor="3")
        assert dataset.tags() == {**TAGS, "AREA_OR_POINT": "Area"}
        assert dataset.descriptions == ("VH",)
        np.testing.assert_array_equal(dataset.read(1), image)
        overview = dataset.read(1, out_shape=(300, 275))  # from the 4× overview
        assert np.isclose(overview[150, 200], image[600:604, 800:804].mean(), rtol=0.05)
    ghost_header(uri.read_bytes()[:400])
    assert visible_files(uri.parent) == [uri.name]
    assert [p.name for p in uri.parent.iterdir()] == [uri.name]  # no temporary left behind


def test_integer_masks_multiband_and_overview_choices(tmp_path):
    store = Store(environ={})
    mask = (backscatter() != 0).astype(np.uint8)
    store.write_cog(tmp_path / "mask.tif", mask, crs=CRS, transform=TRANSFORM, nodata=None)
    with rasterio.open(tmp_path / "mask.tif") as dataset:
        check_cog(dataset, dtype="uint8", nodata=None, overviews=[2, 4], predictor="2")
        np.testing.assert_array_equal(dataset.read(1), mask)
        assert set(np.unique(dataset.read(1, out_shape=(300, 275)))) <= {0, 1}  # nearest
    both = np.stack([backscatter(), backscatter() * 2])
    store.write_cog(tmp_path / "two.tif", both, crs=CRS, transform=TRANSFORM, nodata=0,
                    band_descriptions=["VV", "VH"], overviews=1)
    with rasterio.open(tmp_path / "two.tif") as dataset:
        check_cog(dataset, dtype="float32", nodata=0.0, overviews=[2], predictor="3", count=2)
        assert dataset.descriptions == ("VV", "VH")
    lia = np.full((700, 600), 4500, np.uint16)
    store.write_cog(tmp_path / "LIA.tif", lia.astype(np.float64), dtype="uint16", crs=CRS,
                    transform=TRANSFORM, nodata=None, overviews=None)
    with rasterio.open(tmp_path / "LIA.tif") as dataset:
        check_cog(dataset, dtype="uint16", nodata=None, overviews=[], predictor="2")
    sin_lia = np.full((600, 600), np.nan, np.float32)
    store.write_cog(tmp_path / "sin_LIA.tif", sin_lia, crs=CRS, transform=TRANSFORM,
                    nodata=np.nan, overviews=0)
    with rasterio.open(tmp_path / "sin_LIA.tif") as dataset:
        assert np.isnan(dataset.nodata)


def test_pixel_function_is_called_strip_by_strip(tmp_path):
    image = backscatter()
    windows = []

    def pixels(window):
        windows.append((window.row_off, window.height, window.width))
        return image[window.row_off:window.row_off + window.height]

    store = Store(environ={}, scratch_dir=tmp_path / "scratch")
    store.write_cog(tmp_path / "a.tif", pixels, shape=image.shape, dtype="float32",
                    crs=CRS, transform=TRANSFORM, nodata=0)
    assert windows == [(0, 512, 1100), (512, 512, 1100), (1024, 176, 1100)]
    with rasterio.open(tmp_path / "a.tif") as dataset:
        check_cog(dataset, dtype="float32", nodata=0.0, overviews=[2, 4], predictor="3")
        np.testing.assert_array_equal(dataset.read(1), image)
    assert list((tmp_path / "scratch").iterdir()) == []
    with pytest.raises(ValueError, match="shape"):
        store.write_cog(tmp_path / "b.tif", pixels, crs=CRS, transform=TRANSFORM, nodata=0)


def test_failure_half_way_leaves_no_object_and_no_garbage_locally(tmp_path):
    store = Store(environ={}, scratch_dir=tmp_path / "scratch")
    folder = tmp_path / "out"
    uri = folder / "a.tif"
    pixels, calls = failing_pixels()
    with pytest.raises(RuntimeError, match="middle of the tile"):
        store.write_cog(uri, pixels, shape=(1200, 1100), dtype="float32", crs=CRS,
                        transform=TRANSFORM, nodata=0)
    assert calls == [0, 512]  # one strip was written before the failure
    assert not uri.exists() and list(folder.iterdir()) == []
    assert list((tmp_path / "scratch").iterdir()) == []
    # A failing re-write leaves the previous version untouched.
    store.write_cog(uri, backscatter(), crs=CRS, transform=TRANSFORM, nodata=0)
    before = uri.read_bytes()
    pixels, _ = failing_pixels()
    with pytest.raises(RuntimeError):
        store.write_cog(uri, pixels, shape=(1200, 1100), dtype="float32", crs=CRS,
                        transform=TRANSFORM, nodata=0)
    assert uri.read_bytes() == before and [p.name for p in folder.iterdir()] == ["a.tif"]
    # So does a GDAL error (an invalid creation option) while encoding.
    with pytest.raises(Exception, match="TileWidth"):  # rasterio's CPLE_AppDefinedError
        store.write_cog(uri, backscatter(), crs=CRS, transform=TRANSFORM, nodata=0,
                        creation_options={"BLOCKSIZE": 100})
    assert uri.read_bytes() == before and [p.name for p in folder.iterdir()] == ["a.tif"]


def test_open_for_writing_is_atomic(tmp_path):
    store = Store(environ={})
    uri = f"file://{tmp_path}/stac/item.json"
    with pytest.raises(KeyError), store.open(uri, "w") as f:
        f.write('{"partial": ')
        raise KeyError("killed while writing")
    assert not store.exists(uri) and list((tmp_path / "stac").iterdir()) == []
    with store.open(uri, "w") as f:
        f.write('{"id": "a"}')
    assert store.read_bytes(uri) == b'{"id": "a"}'
    with store.open(uri) as f:
        assert f.read() == b'{"id": "a"}'
    store.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert store.exists(tmp_path / "b.bin") and not store.exists(tmp_path / "c.bin")
    store.remove(tmp_path / "b.bin")
    assert not store.exists(tmp_path / "b.bin")
    with pytest.raises(ValueError):
        store.open(uri, "a")


# --------------------------------------------------------------------------- provenance

def test_skip_on_matching_provenance_locally(tmp_path):
    store = Store(environ={})
    uri = tmp_path / "a.tif"
    prov = Provenance("concatenate", {"calibration": "sigma"}, ["s3://raw/A.SAFE"])
    assert not provenance_matches(store, uri, prov)  # nothing yet
    store.write_cog(uri, backscatter(), crs=CRS, transform=TRANSFORM, nodata=0,
                    tags=complete_tags(TAGS, provenance=prov))
    assert provenance_matches(store, uri, prov)
    assert not provenance_matches(store, uri, Provenance("concatenate", {"calibration": "beta"},
                                                        ["s3://raw/A.SAFE"]))
    assert not provenance_matches(store, uri, Provenance("concatenate", {"calibration": "sigma"},
                                                        ["s3://raw/B.SAFE"]))
    uri.write_bytes(b"II*\x00 truncated")  # a damaged output is made again, not trusted
    assert not provenance_matches(store, uri, prov)


# --------------------------------------------------------------------------- quicklooks

def test_jpeg_quicklook_local(tmp_path):
    store = Store(environ={})
    image = backscatter()
    image[100:200, 500:600] = 0.2  # brighter than the scale: saturates
    image[300:400, 500:600] = np.nan
    prov = Provenance("quicklook", {"ratio": 5, "scale": 0.05}, ["/out/a.tif"])
    tags = complete_tags({"INPUT_S1_IMAGES": "A, B", "IMAGE_TYPE": "BACKSCATTERING"},
                         provenance=prov)
    uri = tmp_path / "_QL" / "s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg"
    write_quicklook(store, uri, image, 5, 0.05, crs=CRS, transform=TRANSFORM, tags=tags)
    assert sorted(p.name for p in uri.parent.iterdir()) == [uri.name, uri.name + ".aux.xml"]
    with rasterio.open(uri) as dataset:
        assert dataset.driver == "JPEG" and dataset.dtypes == ("uint8",)
        assert dataset.shape == (60, 55)  # 5 % of 1200 × 1100
        assert dataset.crs == rasterio.crs.CRS.from_string(CRS)
        assert dataset.transform == Affine(200.0, 0.0, 499980.0, 0.0, -200.0, 100020.0)
        pixels = dataset.read(1).astype(int)
        found = dataset.tags()
    expected = np.floor(np.clip(image[10::20, 10::20], 0, 0.05) * 255 / 0.05 + 0.5)
    expected = np.nan_to_num(expected, nan=0)
    # JPEG is lossy: it rings at sharp edges, and stays close on the smooth field.
    assert np.abs(pixels - expected)[25:, 10:].max() <= 12
    assert np.abs(pixels - expected).mean() < 3
    assert (pixels[6:9, 26:29] >= 240).all() and (pixels[16:19, 26:29] <= 15).all()
    assert pixels[:, :5].max() <= 16 and pixels[:, :5].mean() < 3  # the no-data margin: dark
    assert (found["IMAGE_TYPE"], found["QUICKLOOK_SCALE"], found["QUICKLOOK_PIXEL_RANGE"]) == (
        "QUICKLOOK", "1/20", "0 .. 0.05")
    assert found["INPUT_S1_IMAGES"] == "A, B" and found["PROVENANCE_HASH"] == prov.digest
    assert provenance_matches(store, uri, prov)
    # The hash inside the JPEG must agree with the sidecar's.
    other = Provenance("quicklook", {"ratio": 5, "scale": 0.5}, ["/out/a.tif"])
    sidecar = Path(f"{uri}.aux.xml")
    sidecar.write_text(sidecar.read_text().replace(prov.digest, other.digest))
    assert not provenance_matches(store, uri, other) and not provenance_matches(store, uri, prov)
    sidecar.unlink()
    assert not provenance_matches(store, uri, prov)
    # The mapping itself, where JPEG is exact (flat blocks): 0.025 of 0.05 → 127.5 → 128.
    for value, byte in [(0.025, 128), (0.05 * 200 / 255, 200), (0.0, 0), (1.0, 255)]:
        write_quicklook(store, tmp_path / "flat.jpg", np.full((320, 320), value, np.float32),
                        ratio=10, scale=0.05, crs=CRS, transform=TRANSFORM)
        with rasterio.open(tmp_path / "flat.jpg") as dataset:
            assert dataset.shape == (32, 32)
            assert np.all(dataset.read(1) == byte), value


# --------------------------------------------------------------------------- S3

@pytest.fixture
def bucket(s3_server):  # noqa: F811
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(s3_server, tmp_path):  # noqa: F811
    return Store(storage_options(s3_server), scratch_dir=tmp_path / "scratch", environ={})


def keys(endpoint: str, bucket: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.mark.s3
def test_s3_cog_is_valid_and_gdal_reads_it_through_vsis3(s3_server, bucket, s3_store):  # noqa: F811
    image = backscatter()
    uri = f"s3://{bucket}/out/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"
    s3_store.write_cog(uri, image, crs=CRS, transform=TRANSFORM, nodata=0, tags=TAGS)
    assert s3_store.exists(uri) and not s3_store.exists(uri + ".aux.xml")
    assert keys(s3_server, bucket) == ["out/33NWB/s1a_33NWB_vh_DES_007_20200108txxxxxx.tif"]
    head = s3_client(s3_server).head_object(Bucket=bucket, Key=uri.split("/", 3)[3])
    assert head["ContentType"] == COG_MEDIA_TYPE
    ghost_header(s3_store.read_bytes(uri)[:400])
    with s3_store.gdal_env(), rasterio.open(f"/vsis3/{bucket}/out/33NWB/"
                                            "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif") as dataset:
        check_cog(dataset, dtype="float32", nodata=0.0, overviews=[2, 4], predictor="3")
        assert dataset.tags() == {**TAGS, "AREA_OR_POINT": "Area"}
        window = rasterio.windows.Window(600, 500, 300, 200)
        np.testing.assert_array_equal(dataset.read(1, window=window), image[500:700, 600:900])
    assert list((Path(s3_store.scratch_dir)).iterdir()) == []


@pytest.mark.s3
def test_s3_failure_half_way_leaves_no_object(s3_server, bucket, s3_store):  # noqa: F811
    uri = f"s3://{bucket}/out/a.tif"
    pixels, calls = failing_pixels()
    with pytest.raises(RuntimeError, match="middle of the tile"):
        s3_store.write_cog(uri, pixels, shape=(1200, 1100), dtype="float32", crs=CRS,
                           transform=TRANSFORM, nodata=0)
    assert calls == [0, 512]
    assert not s3_store.exists(uri) and keys(s3_server, bucket) == []
    uploads = s3_client(s3_server).list_multipart_uploads(Bucket=bucket)
    assert not uploads.get("Uploads")
    assert list(Path(s3_store.scratch_dir).iterdir()) == []
    # A failing re-write leaves the published version as it was.
    s3_store.write_cog(uri, backscatter(), crs=CRS, transform=TRANSFORM, nodata=0)
    before = s3_store.read_bytes(uri)
    with pytest.raises(RuntimeError):
        s3_store.write_cog(uri, failing_pixels()[0], shape=(1200, 1100), dtype="float32",
                           crs=CRS, transform=TRANSFORM, nodata=0)
    assert s3_store.read_bytes(uri) == before and keys(s3_server, bucket) == ["out/a.tif"]
    with pytest.raises(KeyError), s3_store.open(f"s3://{bucket}/stac/item.json", "wb") as f:
        f.write(b'{"partial": ')
        raise KeyError("killed while writing")
    assert keys(s3_server, bucket) == ["out/a.tif"]


@pytest.mark.s3
def test_s3_skip_on_provenance_sees_replaced_objects(s3_server, bucket, s3_store):  # noqa: F811
    """GDAL caches /vsis3/ files per process: a replaced object must still be read afresh."""
    uri = f"s3://{bucket}/out/a.tif"
    first = Provenance("concatenate", {"calibration": "sigma"}, ["s3://raw/A.SAFE"])
    second = Provenance("concatenate", {"calibration": "beta"}, ["s3://raw/A.SAFE"])
    assert not provenance_matches(s3_store, uri, first)
    s3_store.write_cog(uri, backscatter(), crs=CRS, transform=TRANSFORM, nodata=0,
                       tags=complete_tags(TAGS, provenance=first))
    assert provenance_matches(s3_store, uri, first)
    assert not provenance_matches(s3_store, uri, second)
    # Replaced by another writer (another pod, here another Store): smaller, other tags.
    other = Store(storage_options(s3_server), environ={})
    other.write_cog(uri, backscatter(300, 200), crs=CRS, transform=TRANSFORM, nodata=0,
                    tags=complete_tags(TAGS, provenance=second))
    assert provenance_matches(s3_store, uri, second)
    assert not provenance_matches(s3_store, uri, first)
    with s3_store.open_raster(uri) as dataset:
        assert dataset.shape == (300, 200)


@pytest.mark.s3
def test_s3_jpeg_quicklook(s3_server, bucket, s3_store):  # noqa: F811
    prov = Provenance("quicklook", {"ratio": 5, "scale": 0.05}, ["s3://b/out/a.tif"])
    uri = f"s3://{bucket}/out/_QL/s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg"
    write_quicklook(s3_store, uri, backscatter(), 5, 0.05, crs=CRS, transform=TRANSFORM,
                    tags=complete_tags({"IMAGE_TYPE": "BACKSCATTERING"},
                                       provenance=prov))
    assert keys(s3_server, bucket) == [
        "out/_QL/s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg",
        "out/_QL/s1a_33NWB_vh_DES_007_20200108txxxxxx_quicklook.jpg.aux.xml"]
    tags = s3_store.read_tags(uri)
    assert (tags["IMAGE_TYPE"], tags["QUICKLOOK_SCALE"]) == ("QUICKLOOK", "1/20")
    assert provenance_matches(s3_store, uri, prov)
    with s3_store.open_raster(uri) as dataset:
        assert dataset.shape == (60, 55) and dataset.driver == "JPEG"
    s3_store.remove(uri + ".aux.xml")  # as if killed between the image and its sidecar
    assert not provenance_matches(s3_store, uri, prov)


@pytest.mark.s3
def test_store_configured_from_the_environment(s3_server, bucket, monkeypatch, caplog):  # noqa: F811
    """No options at all: endpoint and credentials come from the environment, as in a pod."""
    for name, value in gdal_env(s3_server).items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    store = Store()
    assert store.s3.key is None and store.s3.endpoint_url == s3_server
    uri = f"s3://{bucket}/env/a.tif"
    store.write_cog(uri, backscatter(600, 550), crs=CRS, transform=TRANSFORM, nodata=0, tags=TAGS)
    with store.gdal_env(), rasterio.open(gdal_path(uri)) as dataset:
        check_cog(dataset, dtype="float32", nodata=0.0, overviews=[2], predictor="3")
    assert store.read_tags(uri)["INPUT_S1_IMAGES"] == "A, B"
    secret = gdal_env(s3_server)["AWS_SECRET_ACCESS_KEY"]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("s1tiling_cloud")]
    assert ours and not any(secret in message for message in ours)


# --------------------------------------------------------------------------- listings

LISTED = {"a.EOF": b"1", "b.json": b"22", "sub/c.json": b"333", "sub/deep/d.EOF": b"4444"}


def check_listing(store: Store, root: str) -> None:
    """The same tree, listed one level, recursively and by pattern."""
    top = store.list(root)
    assert [(e.name, e.size, e.is_dir) for e in top] == [
        ("a.EOF", 1, False), ("b.json", 2, False), ("sub", None, True)]
    assert all(e.uri == join(root, e.name) for e in top)
    assert all(e.mtime > 0 for e in top if not e.is_dir)
    everything = store.list(root, recursive=True)
    assert [e.uri for e in everything] == [join(root, k) for k in sorted(LISTED)]
    assert [e.size for e in everything] == [len(LISTED[k]) for k in sorted(LISTED)]
    assert [e.name for e in store.list(root, "*.EOF", recursive=True)] == ["a.EOF", "d.EOF"]
    assert [e.name for e in store.list(join(root, "sub"), "*.json")] == ["c.json"]
    assert store.list(join(root, "absent")) == []
    assert store.list(join(root, "a.EOF")) == []  # a file is not a folder



def test_a_jpeg_s_comment_is_the_caller_s(tmp_path):
    """`write_jpeg` writes the comment it is given, and reads no meaning into the tags (the
    provenance comment is the quicklook stage's: `stages.base.jpeg_comment`)."""
    store = Store()
    pixels = np.full((32, 32), 128, np.uint8)
    plain, commented = tmp_path / "plain.jpg", tmp_path / "commented.jpg"
    tags = {"PROVENANCE_HASH": "sha256:0"}
    store.write_jpeg(plain, pixels, crs=CRS, transform=TRANSFORM, tags=tags)
    store.write_jpeg(commented, pixels, crs=CRS, transform=TRANSFORM, tags=tags, comment="hello")
    assert "COMMENT" not in store.read_tags(plain)
    assert store.read_tags(commented)["COMMENT"].lower() == "hello"

def test_list_local_folder(tmp_path):
    for key, data in LISTED.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(data)
    check_listing(Store(environ={}), str(tmp_path))
    assert [e.name for e in Store(environ={}).list(f"file://{tmp_path}", "*.json")] == ["b.json"]


@pytest.mark.s3
def test_list_s3_prefix_follows_pages(s3_server, bucket, s3_store):  # noqa: F811
    root = f"s3://{bucket}/tree"
    for key, data in LISTED.items():
        s3_store.write_bytes(join(root, key), data)
    s3_store.write_bytes(f"s3://{bucket}/tree-sibling/x.EOF", b"x")  # shares the key prefix
    check_listing(s3_store, root)
    # One key per request: four pages, the same entries.
    paged = s3_store.list(root, recursive=True, page_size=1)
    assert [e.uri for e in paged] == [join(root, k) for k in sorted(LISTED)]
    assert [e.name for e in s3_store.list(root, page_size=1)] == ["a.EOF", "b.json", "sub"]
    assert s3_store.list(f"s3://{bucket}-absent/tree") == []
    assert [e.name for e in s3_store.list(f"s3://{bucket}")] == ["tree", "tree-sibling"]


# --------------------------------------------------------------------------- killed writers

CHILD = r"""
import sys, time
import numpy as np
from affine import Affine
from s1tiling_cloud.store import Store
from tests.s3server import storage_options

uri, marker, endpoint, scratch = sys.argv[1:5]
store = Store(storage_options(endpoint) if endpoint else None, scratch_dir=scratch, environ={})

def pixels(window):
    if window.row_off >= 512:
        open(marker, "w").close()
        time.sleep(600)
    return np.ones((window.height, window.width), np.float32)

store.write_cog(uri, pixels, shape=(1200, 1100), dtype="float32",
                crs="EPSG:32633", transform=Affine(10, 0, 0, 0, -10, 0), nodata=0)
"""


def kill_writer_mid_tile(uri: str, tmp_path: Path, endpoint: str = "") -> None:
    marker = tmp_path / "half-way"
    process = subprocess.Popen([sys.executable, "-c", CHILD, uri, str(marker), endpoint,
                                str(tmp_path / "scratch")], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline, "the writer never reached the middle of the tile"
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_killed_writer_leaves_no_final_object_locally(tmp_path):
    folder = tmp_path / "out" / "33NWB"
    uri = folder / "a.tif"
    kill_writer_mid_tile(str(uri), tmp_path)
    assert not uri.exists()
    assert not folder.exists() or visible_files(folder) == []


@pytest.mark.s3
@pytest.mark.slow
def test_killed_writer_leaves_no_object_on_s3(s3_server, bucket, tmp_path):  # noqa: F811
    uri = f"s3://{bucket}/out/33NWB/a.tif"
    kill_writer_mid_tile(uri, tmp_path, s3_server)
    assert keys(s3_server, bucket) == []
    assert not s3_client(s3_server).list_multipart_uploads(Bucket=bucket).get("Uploads")
