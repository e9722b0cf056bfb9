"""`cog_tiles`: the COGs whose tiles `Store.write_cog` compresses itself are the COG driver's
files but for their DEFLATE streams (each tile the same bytes once decompressed, the same
header, IFDs and layout); the others are left to GDAL, byte for byte its files."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1tiling_cloud import cog_tiles, tiff_ifds
from s1tiling_cloud.store import Store
from tests.cog_layout import same_tiles

TRANSFORM = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0)
TAGS = {"TIFFTAG_DATETIME": "2020:01:08 04:41:50", "CALIBRATION": "sigma"}


def _write_both(tmp_path, values, nodata, **kwargs):
    """`values` written by `write_cog` and by the COG driver alone."""
    store = Store()
    common = {"crs": "EPSG:32631", "transform": TRANSFORM, "nodata": nodata, "tags": TAGS,
              "blocksize": 128, **kwargs}
    options = dict(common.pop("creation_options", {}))
    overviews = common.get("overviews", "auto")
    force = "NONE" if overviews in (None, 0) else "IGNORE_EXISTING"
    mine = store.write_cog(tmp_path / "mine.tif", values, **common, creation_options=options)
    gdal = store.write_cog(tmp_path / "gdal.tif", values, **common,
                           creation_options={**options, "OVERVIEWS": force})
    return mine, gdal


def _stub(tmp_path, values) -> bytes:
    """GDAL's tile-less COG of `values`' shape (128² blocks, no overviews): all no-data, with
    `SPARSE_OK`."""
    path = Store().write_cog(tmp_path / "stub.tif", np.zeros_like(values), crs="EPSG:32631",
                             transform=TRANSFORM, nodata=0.0, blocksize=128, overviews=None,
                             creation_options={"SPARSE_OK": "TRUE"})
    with open(path, "rb") as file:
        return file.read()


def _speckle(shape, seed=1):
    rng = np.random.default_rng(seed)
    values = rng.gamma(4.4, 0.014, shape).astype(np.float32)
    values[:, : shape[1] // 7] = 0.0
    return values


@pytest.mark.parametrize(("values", "nodata", "overviews"), [
    (_speckle((700, 530)), 0.0, "auto"),                    # partial tiles on both edges
    (_speckle((512, 384)), 0.0, "auto"),                    # whole tiles only
    (_speckle((100, 90)), 0.0, None),                       # one tile: its offset in the IFD
    (_speckle((300, 260)), None, None),                     # no no-data
    (_speckle((300, 260)).astype(np.float64), float("nan"), None),   # 8-byte planes
    ((np.random.default_rng(2).random((300, 260)) < 0.5).astype(np.uint8), None, 2),
    (np.zeros((300, 260), np.float32), 0.0, "auto"),        # all no-data: tiles still written
    (_speckle((700, 530)), 1000.0, "auto"),                 # odd-length no-data tag value
], ids=["float32", "whole-tiles", "one-tile", "no-nodata", "float64", "mask", "empty",
        "nodata-1000"])
def test_the_tiles_are_the_drivers_once_decompressed(tmp_path, values, nodata, overviews):
    mine, gdal = _write_both(tmp_path, values, nodata, overviews=overviews)
    assert same_tiles(mine, gdal)
    assert not filecmp.cmp(mine, gdal, shallow=False)  # compressed here, not by the driver
    with rasterio.open(mine) as dataset:
        assert dataset.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert dataset.read(1).tobytes() == values.tobytes()


@pytest.mark.parametrize(("kwargs", "nodata"), [
    ({"predictor": 1, "dtype": np.int16}, -32768),          # 2-byte pixels, no predictor
    ({"tags": {**TAGS, "CALIBRATION": "ss"}}, 0.0),         # an odd-length tag
    ({"creation_options": {"BIGTIFF": "YES"}}, 0.0),        # 8-byte offsets
], ids=["int16", "odd-tag", "bigtiff"])
def test_other_headers_are_the_drivers_too(tmp_path, kwargs, nodata):
    values = _speckle((700, 530))
    if kwargs.get("dtype"):
        values = (values * 1e4).astype(kwargs["dtype"])
    mine, gdal = _write_both(tmp_path, values, nodata, **kwargs)
    assert same_tiles(mine, gdal)
    assert not filecmp.cmp(mine, gdal, shallow=False)


def test_a_file_past_what_the_header_holds_is_the_drivers(tmp_path, monkeypatch):
    """When the tiles compressed here cannot be set in GDAL's header (as when they pass 4 GiB
    in a classic TIFF), the driver writes the file, over the incomplete one."""
    def overflow(*args):
        raise tiff_ifds.NotATiff("an offset does not fit TIFF type 4")

    monkeypatch.setattr(cog_tiles, "set_offsets", overflow)
    mine, gdal = _write_both(tmp_path, _speckle((700, 530)), 0.0)
    assert filecmp.cmp(mine, gdal, shallow=False)


def test_the_file_does_not_depend_on_the_threads(tmp_path):
    values = _speckle((900, 700))
    store = Store()
    files = [store.write_cog(tmp_path / f"{threads}.tif", values, crs="EPSG:32631",
                             transform=TRANSFORM, nodata=0.0, blocksize=128,
                             num_threads=threads) for threads in (1, 3)]
    assert filecmp.cmp(*files, shallow=False)


@pytest.mark.parametrize("options", [{"LEVEL": 6}, {"COMPRESS": "ZSTD"}, {"ZLEVEL": 1},
                                     {"PREDICTOR": "STANDARD"}])
def test_other_encodings_are_the_drivers_files(tmp_path, options):
    mine, gdal = _write_both(tmp_path, _speckle((300, 260)), 0.0, creation_options=options)
    assert filecmp.cmp(mine, gdal, shallow=False)


def test_what_is_encoded_here():
    base = {"COMPRESS": "DEFLATE", "LEVEL": 1, "BLOCKSIZE": 512, "BIGTIFF": "IF_SAFER",
            "NUM_THREADS": "ALL_CPUS"}
    assert cog_tiles.encodable(np.float32, 1, {**base, "PREDICTOR": "FLOATING_POINT"})
    assert cog_tiles.encodable(np.uint8, 1, {**base, "PREDICTOR": "STANDARD"})
    assert cog_tiles.encodable(np.int16, 1, {**base, "PREDICTOR": "NO"})
    assert not cog_tiles.encodable(np.int16, 1, {**base, "PREDICTOR": "STANDARD"})
    assert not cog_tiles.encodable(np.float32, 2, {**base, "PREDICTOR": "FLOATING_POINT"})
    assert not cog_tiles.encodable(np.dtype(">f4"), 1, {**base, "PREDICTOR": "FLOATING_POINT"})
    assert not cog_tiles.encodable(np.float32, 1, {**base, "PREDICTOR": "FLOATING_POINT",
                                                   "TILING_SCHEME": "GoogleMapsCompatible"})
    assert not cog_tiles.encodable(np.float32, 1, {**base, "PREDICTOR": "FLOATING_POINT",
                                                   "LEVEL": 6})


def test_a_file_with_tiles_is_not_filled(tmp_path):
    values = _speckle((300, 260))
    _, gdal = _write_both(tmp_path, values, 0.0, overviews=None)
    options = {"BLOCKSIZE": 128, "PREDICTOR": "FLOATING_POINT"}
    with open(gdal, "rb") as file:
        written = file.read()
    with pytest.raises(cog_tiles.NotLaidOut, match="wrote tiles"):
        cog_tiles.write(str(tmp_path / "out.tif"), written, [values], options)
    with pytest.raises(cog_tiles.NotLaidOut, match="1 IFDs for 2 images"):
        cog_tiles.write(str(tmp_path / "out.tif"), written, [values] * 2, options)
    with pytest.raises(cog_tiles.NotLaidOut, match="truncated"):
        cog_tiles.write(str(tmp_path / "out.tif"), written[:200], [values], options)
    with pytest.raises(cog_tiles.NotLaidOut, match="not tiled and encoded"):
        cog_tiles.write(str(tmp_path / "out.tif"), _stub(tmp_path, values), [values],
                        {**options, "BLOCKSIZE": 256})
    with pytest.raises(cog_tiles.NotLaidOut, match="not a TIFF"):
        cog_tiles.write(str(tmp_path / "out.tif"), b"GIF89a", [values], options)
