"""`Store.copy_cog`: a COG published under new tags with its compressed tiles copied as they
are. Against GDAL writing the same pixels with the same tags: the same pixels (overviews
included), tags, structure and COG layout; a file whose IFDs follow its data is refused."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from s1tiling_cloud.cog_retag import NotRetaggable
from s1tiling_cloud.store import Store

CRS = "EPSG:32631"
TRANSFORM = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4900020.0)


def speckled(rows: int = 1300, cols: int = 1100) -> np.ndarray:
    image = np.random.default_rng(5).gamma(4.4, 0.05 / 4.4, (rows, cols)).astype(np.float32)
    image[:, :137] = 0
    return image


def everything(uri: str) -> dict:
    with rasterio.open(uri) as dataset:
        return {"tags": dataset.tags(), "band_tags": dataset.tags(1),
                "structure": dataset.tags(ns="IMAGE_STRUCTURE"), "nodata": dataset.nodata,
                "crs": dataset.crs, "transform": dataset.transform,
                "descriptions": dataset.descriptions, "overviews": dataset.overviews(1),
                "blocks": dataset.block_shapes, "pixels": dataset.read(1),
                "levels": [dataset.read(1, out_shape=(dataset.height // f, dataset.width // f))
                           for f in dataset.overviews(1)]}


def assert_same(found: dict, expected: dict) -> None:
    assert found.keys() == expected.keys()
    for key in found:
        if key == "pixels":
            np.testing.assert_array_equal(found[key], expected[key])
        elif key == "levels":
            assert len(found[key]) == len(expected[key])
            for level, other in zip(found[key], expected[key], strict=True):
                np.testing.assert_array_equal(level, other)
        else:
            assert found[key] == expected[key], key


@pytest.mark.parametrize("bigtiff", ["NO", "YES"])
def test_new_tags_same_tiles_as_a_fresh_encoding(tmp_path, bigtiff):
    store = Store()
    image = speckled()
    options = {"crs": CRS, "transform": TRANSFORM, "nodata": 0.0,
               "creation_options": {"BIGTIFF": bigtiff}}
    source = store.write_cog(str(tmp_path / "image.tif"), image, **options,
                             tags={"IMAGE_TYPE": "GRD", "OLD_ONLY": "x",
                                   "TIFFTAG_IMAGEDESCRIPTION": "an image"})
    tags = {"IMAGE_TYPE": "BACKSCATTERING", "ESCAPED": "<a & b>" * 40,
            "TIFFTAG_IMAGEDESCRIPTION": "sigma calibrated product",
            "TIFFTAG_DATETIME": "2020:01:08 04:41:50", "TIFFTAG_SOFTWARE": "s1tiling-cloud"}
    copied = store.copy_cog(source, str(tmp_path / "copied.tif"), tags=tags)
    encoded = store.write_cog(str(tmp_path / "encoded.tif"), image, **options, tags=tags)
    found, expected = everything(copied), everything(encoded)
    assert "OLD_ONLY" not in found["tags"] and found["tags"]["ESCAPED"] == "<a & b>" * 40
    assert found["structure"]["LAYOUT"] == "COG" and found["overviews"] == [2, 4]
    assert_same(found, expected)
    with open(copied, "rb") as file:
        head = file.read(400)
    assert b"LAYOUT=IFDS_BEFORE_DATA" in head and b"KNOWN_INCOMPATIBLE_EDITION=NO" in head
    # the tiles themselves were not re-encoded: same compressed size as GDAL's own encoding
    assert abs((tmp_path / "copied.tif").stat().st_size
               - (tmp_path / "encoded.tif").stat().st_size) < 64


def test_band_descriptions_survive(tmp_path):
    store = Store()
    source = store.write_cog(str(tmp_path / "image.tif"), speckled(300, 200), crs=CRS,
                             transform=TRANSFORM, nodata=0.0, band_descriptions=["sigma0"])
    copied = store.copy_cog(source, str(tmp_path / "copied.tif"), tags={"A": "1"})
    with rasterio.open(copied) as dataset:
        assert dataset.descriptions == ("sigma0",) and dataset.tags()["A"] == "1"


def test_a_tiff_whose_ifds_follow_the_data_is_refused(tmp_path):
    store = Store()
    path = store.write_cog(str(tmp_path / "image.tif"), speckled(300, 200), crs=CRS,
                           transform=TRANSFORM, nodata=0.0, overviews=None)
    with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dataset:  # IFD moves to the end
        dataset.update_tags(LONG="x" * 5000)
    with pytest.raises(NotRetaggable, match="precede"):
        store.copy_cog(path, str(tmp_path / "out.tif"), tags={"A": "1"})
    assert not (tmp_path / "out.tif").exists()
    with pytest.raises(NotRetaggable, match="not a TIFF"):
        (tmp_path / "text.tif").write_bytes(b"hello, world")
        from s1tiling_cloud.cog_retag import retag
        retag(b"hello, world", [])
