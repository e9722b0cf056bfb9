"""Items of real products (made by the stages): content, footprint, files, offline validation."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import shape

from s1tiling_cloud.stac.item import build_item, item_dict, item_id
from s1tiling_cloud.stac.publication import publish_product
from s1tiling_cloud.stac.validate import offline_validator, problems
from s1tiling_cloud.store import Store


@pytest.fixture(scope="module")
def first_item(chain, tmp_path_factory):
    """The files of the first product, and its item as the static catalog stores it."""
    _, made = chain
    catalog = str(tmp_path_factory.mktemp("item") / "catalog.json")
    published = publish_product(made[0], catalog, processing={"engine": "native"})
    return made[0], json.loads(Path(published.item_uri).read_text())


def test_bare_item_has_no_tree_links(chain):
    item = item_dict(build_item(chain[1][0], Store()))
    assert [link["rel"] for link in item["links"]] == ["derived_from"]


def test_item_names_properties_and_links(first_item):
    files, item = first_item
    props = item["properties"]
    assert item["id"] == "s1a_31TCJ_DES_007_20200108t044150" == item_id(files.products["VV"])
    assert item["collection"] == "s1tiling-sigma0"
    assert props["datetime"] == props["start_datetime"] == "2020-01-08T04:41:50Z"
    assert props["end_datetime"] >= props["start_datetime"]
    assert props["sar:polarizations"] == ["VV", "VH"]
    assert (props["sar:instrument_mode"], props["sar:frequency_band"]) == ("IW", "C")
    assert props["sar:center_frequency"] == 5.405 and props["sar:observation_direction"] == "right"
    assert props["sar:pixel_spacing_range"] == 60.0 and props["sar:looks_range"] == 5
    assert (props["sat:orbit_state"], props["sat:relative_orbit"], props["sat:absolute_orbit"]) == \
        ("descending", 7, 30704)
    assert (props["mgrs:utm_zone"], props["mgrs:latitude_band"], props["mgrs:grid_square"]) == \
        (31, "T", "CJ")
    assert props["proj:code"] == "EPSG:32631" and props["proj:shape"] == [1830, 1830]
    assert props["processing:software"]["s1tiling-cloud"]
    assert props["processing:level"] == "L2" and "31TCJ" in props["processing:lineage"]
    assert props["s1tiling:calibration"] == "sigma" and props["s1tiling:noise_removed"] is True
    assert props["s1tiling:engine"] == "native"
    derived = [link for link in item["links"] if link["rel"] == "derived_from"]
    assert [link["title"] for link in derived] == [files.inputs[0]["id"]]
    assert set(item["assets"]) == {"vv", "vh", "mask_vv", "mask_vh", "quicklook_vv", "quicklook_vh"}
    vv = item["assets"]["vv"]
    assert vv["roles"] == ["data"] and "cloud-optimized" in vv["type"]
    assert vv["raster:bands"][0]["data_type"] == "float32" and vv["raster:bands"][0]["nodata"] == 0
    assert "thumbnail" in item["assets"]["quicklook_vv"]["roles"]
    with open(files.products["VV"], "rb") as f:
        content = f.read()
    assert vv["file:size"] == len(content)
    assert vv["file:checksum"] == "1220" + hashlib.sha256(content).hexdigest()


def test_geometry_is_the_valid_footprint(first_item):
    """Every valid pixel lies inside the geometry, which is far smaller than the tile."""
    files, item = first_item
    with rasterio.open(files.masks["VV"]) as dataset:
        mask = dataset.read(1).astype(bool)
        to_utm = Transformer.from_crs("EPSG:4326", dataset.crs, always_xy=True)
        footprint = shapely.transform(shape(item["geometry"]), lambda xy: np.column_stack(
            to_utm.transform(xy[:, 0], xy[:, 1])))
        inside = rasterize([footprint], out_shape=mask.shape, transform=dataset.transform,
                           all_touched=True).astype(bool)
    assert mask.any()
    assert np.count_nonzero(mask & ~inside) <= 0.002 * np.count_nonzero(mask)
    assert footprint.area < 2.0 * np.count_nonzero(mask) * 60.0 * 60.0
    west, south, east, north = item["bbox"]
    assert west < east and south < north and 0.5 < west < 3 and 43 < south < 45


def test_item_validates_offline_and_mutations_fail(first_item, schema_dir):
    _, item = first_item
    validator = offline_validator(schema_dir)
    assert problems(item, validator) == []

    def broken(change) -> dict:
        copied = copy.deepcopy(item)
        change(copied)
        return copied

    mutations = {
        "sar band": lambda d: d["properties"].update({"sar:frequency_band": "Z"}),
        "orbit type": lambda d: d["properties"].update({"sat:relative_orbit": "seven"}),
        "mgrs square": lambda d: d["properties"].pop("mgrs:grid_square"),
        "proj shape": lambda d: d["properties"].update({"proj:shape": [1830]}),
        "checksum": lambda d: d["assets"]["vv"].update({"file:checksum": "not-a-multihash"}),
        "raster type": lambda d: d["assets"]["vv"]["raster:bands"][0].update({"data_type": "f32"}),
        "software": lambda d: d["properties"].update({"processing:software": {"x": 1}}),
        "no datetime": lambda d: d["properties"].pop("datetime"),
    }
    for name, change in mutations.items():
        assert problems(broken(change), validator), f"mutation {name!r} passed validation"


def test_a_map_with_nan_nodata_is_written_as_json(tmp_path):
    """sin LIA maps have NaN as nodata: the raster extension's "nan", not a bare NaN that a
    strict JSON writer refuses (a NORMLIM product's publication failed on it)."""
    from datetime import UTC, datetime

    import pystac
    from affine import Affine

    from s1tiling_cloud.stac.item import _map_asset

    store = Store()
    uri = str(tmp_path / "sin_LIA_31TCJ_007.tif")
    store.write_cog(uri, np.full((64, 64), np.nan, np.float32), crs="EPSG:32631",
                    transform=Affine(60, 0, 300000, 0, -60, 4900020), nodata=float("nan"),
                    tags={"DATA_TYPE": "sin(LIA)"})
    item = pystac.Item("x", None, None, datetime(2020, 1, 8, tzinfo=UTC), {})
    _map_asset(item, store, "sin_LIA", uri, None)
    text = json.dumps(item_dict(item), allow_nan=False)
    assert json.loads(text)["assets"]["sin_LIA"]["raster:bands"][0]["nodata"] == "nan"
