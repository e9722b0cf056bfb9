"""The `ortho` stage fusing a day's products (a same-day pair): the day's products and their
border masks are those the two-step path gives (an ortho per product, then `concatenate`),
pixels and tags but the provenance; a polarisation one product lacks and a product that misses
the tile; the re-run rule (skip, only a deleted output remade, a deleted mask alone)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.safe import Sentinel1Product
from s1tiling_cloud.stages.concatenate import concatenate
from s1tiling_cloud.stages.heights import heights
from s1tiling_cloud.stages.ortho import ortho
from s1tiling_cloud.store import Store
from s1tiling_cloud.testing import SyntheticGRD, write_flat_dem, write_grd
from tests.stages.test_concatenate import same_product

TILE = "31TCJ"
PARAMS = {"resolution": 60.0, "metadata": {"PROJECT": "campaign-2"}}
FIRST = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=600, samples=800, pixel_spacing=40.0)
# The next slice of the pass: 3.6 s later, 24 km further along the descending track.
NEXT = FIRST.replace(center_lat=43.6 - 0.2123, center_lon=1.44 - 0.0515,
                     start="2020-01-08T04:41:53.600", seed=7)
# A slice starting 1.8 s later: half of it over the first one's ground, with other speckle.
OVERLAPPING = FIRST.replace(center_lat=43.6 - 0.1062, center_lon=1.44 - 0.0258,
                            start="2020-01-08T04:41:51.800", seed=11)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """The pair's SAFEs, a VV-only next slice, a slice of the same day far from the tile, and
    the tile's heights over a flat DEM."""
    folder = tmp_path_factory.mktemp("day")
    products = {
        "first": write_grd(FIRST, folder / "s1"),
        "next": write_grd(NEXT, folder / "s1"),
        "next_vv": write_grd(NEXT.replace(polarisations=("VV",)), folder / "vv"),
        "overlapping": write_grd(OVERLAPPING, folder / "overlapping"),
        "away": write_grd(FIRST.replace(center_lat=46.6, center_lon=5.0,
                                        start="2020-01-08T04:42:30"), folder / "away"),
    }
    dem = folder / "dem.tif"
    write_flat_dem(dem, -1.0, 45.5, 1 / 200, 600, 800)
    heights_uri = str(folder / "heights.tif")
    heights(TILE, 60.0, heights_uri, {"dem_dir": str(dem)})
    return {name: str(path) for name, path in products.items()}, heights_uri


def two_steps(folder, products, heights_uri, pols=("VV", "VH")):
    """The day's products and masks as the plan made them before: an ortho per product
    (per-image images of the polarisations it has), then a concatenation per polarisation,
    with its mask."""
    images = {pol: [] for pol in pols}
    for k, product in enumerate(products):
        has = Sentinel1Product(product).polarisations("IW")
        outputs = {pol: str(folder / f"image{k}_{pol}.tif") for pol in pols if pol in has}
        made = ortho(product, TILE, heights_uri, outputs, PARAMS)
        for pol in outputs:
            if outputs[pol] in made.outputs:
                images[pol].append(outputs[pol])
    return {pol: concatenate(images[pol], str(folder / f"day_{pol}.tif"), TILE,
                             {"metadata": PARAMS["metadata"]},
                             mask=str(folder / f"day_{pol}_BorderMask.tif")).outputs
            for pol in pols}


def same_mask(found: str, expected: str) -> None:
    with rasterio.open(expected) as a, rasterio.open(found) as b:
        np.testing.assert_array_equal(b.read(1), a.read(1))
        assert b.profile == a.profile and b.read(1).any() and not b.read(1).all()


def test_the_fused_day_is_the_concatenation_of_its_orthos(day, tmp_path):
    products, heights_uri = day
    pair = [products["first"], products["next"]]
    expected = two_steps(tmp_path / "two_steps", pair, heights_uri)
    outputs = {pol: str(tmp_path / "fused" / f"day_{pol}.tif") for pol in ("VV", "VH")}
    masks = {pol: str(tmp_path / "fused" / f"day_{pol}_BorderMask.tif") for pol in ("VV", "VH")}
    made = ortho(pair, TILE, heights_uri, outputs, {**PARAMS, "day_product": True}, masks=masks)
    assert made.outputs == [outputs["VV"], masks["VV"], outputs["VH"], masks["VH"]]
    assert not made.skipped and made.details["missed"] == []
    for pol in ("VV", "VH"):
        same_product(outputs[pol], expected[pol][0])
        same_mask(masks[pol], expected[pol][1])
        with rasterio.open(outputs[pol]) as dataset:
            tags, values = dataset.tags(), dataset.read(1)
        assert tags["INPUT_S1_IMAGES"].count("S1A_IW_GRD") == 2 and tags["PROJECT"] == "campaign-2"
        with rasterio.open(str(tmp_path / "two_steps" / f"image1_{pol}.tif")) as dataset:
            second = dataset.read(1)
        with rasterio.open(str(tmp_path / "two_steps" / f"image0_{pol}.tif")) as dataset:
            first = dataset.read(1)
        # both products make the day: each has pixels the other lacks
        assert ((first == 0) & (second != 0) & (values != 0)).sum() > 1000
        assert ((first != 0) & (second == 0) & (values != 0)).sum() > 1000


def test_products_given_latest_first_are_merged_earliest_first(day, tmp_path):
    products, heights_uri = day
    pair = [products["first"], products["overlapping"]]
    expected = two_steps(tmp_path / "two_steps", pair, heights_uri, pols=("VV",))
    with rasterio.open(str(tmp_path / "two_steps" / "image0_VV.tif")) as first, \
            rasterio.open(str(tmp_path / "two_steps" / "image1_VV.tif")) as second:
        a, b = first.read(1), second.read(1)
    both = (a != 0) & (b != 0)
    assert both.sum() > 1000 and (a[both] != b[both]).mean() > 0.5  # which one wins shows
    backwards = {"VV": str(tmp_path / "backwards" / "day_VV.tif")}
    ortho(pair[::-1], TILE, heights_uri, backwards, {**PARAMS, "day_product": True})
    same_product(backwards["VV"], expected["VV"][0])


def test_a_polarisation_one_product_lacks_and_a_product_off_the_tile(day, tmp_path):
    """VH is the first product's alone (the next slice is VV only); a slice of that day that
    misses the tile adds nothing and is named."""
    products, heights_uri = day
    fused = [products["first"], products["next_vv"], products["away"]]
    expected = two_steps(tmp_path / "two_steps", fused, heights_uri)
    outputs = {pol: str(tmp_path / "fused" / f"day_{pol}.tif") for pol in ("VV", "VH")}
    made = ortho(fused, TILE, heights_uri, outputs, {**PARAMS, "day_product": True})
    assert made.outputs == [outputs["VV"], outputs["VH"]]
    assert made.details["missed"] == [os.path.basename(products["away"]).removesuffix(".SAFE")]
    for pol in ("VV", "VH"):
        same_product(outputs[pol], expected[pol][0])
    assert Store().read_tags(outputs["VH"])["INPUT_S1_IMAGES"].count("S1A_IW_GRD") == 1
    alone = ortho([products["away"], products["away"]], TILE, heights_uri,
                  {"VV": str(tmp_path / "none.tif")}, {**PARAMS, "day_product": True})
    assert alone.outputs == [] and "does not intersect" in alone.details["reason"]


def test_a_rerun_keeps_what_is_up_to_date(day, tmp_path):
    products, heights_uri = day
    pair = [products["first"], products["next"]]
    params = {**PARAMS, "day_product": True}
    outputs = {pol: str(tmp_path / f"day_{pol}.tif") for pol in ("VV", "VH")}
    masks = {pol: str(tmp_path / f"day_{pol}_BorderMask.tif") for pol in ("VV", "VH")}
    everything = [outputs["VV"], masks["VV"], outputs["VH"], masks["VH"]]
    ortho(pair, TILE, heights_uri, outputs, params, masks=masks)

    def stamps():
        return {uri: (os.stat(uri).st_ino, os.stat(uri).st_mtime_ns) for uri in everything}

    before = stamps()
    again = ortho(pair, TILE, heights_uri, outputs, params, masks=masks)
    assert again.skipped and stamps() == before
    # a deleted product: only it (and its mask, made from its pixels) made again
    with rasterio.open(outputs["VH"]) as dataset:
        old_values, old_tags = dataset.read(1), dataset.tags()
    Store().remove(outputs["VH"])
    again = ortho(pair, TILE, heights_uri, outputs, params, masks=masks)
    assert not again.skipped and sorted(again.outputs) == sorted(everything)
    after = stamps()
    assert after[outputs["VV"]] == before[outputs["VV"]] and after[masks["VV"]] == before[masks["VV"]]
    with rasterio.open(outputs["VH"]) as dataset:
        np.testing.assert_array_equal(dataset.read(1), old_values)
        assert dataset.tags()["PROVENANCE_HASH"] == old_tags["PROVENANCE_HASH"]
    # a deleted mask: the mask alone, from the product as it is
    before = stamps()
    Store().remove(masks["VV"])
    again = ortho(pair, TILE, heights_uri, outputs, params, masks=masks)
    assert again.details["masks_only"] and os.path.exists(masks["VV"])
    after = stamps()
    assert all(after[uri] == before[uri] for uri in everything if uri != masks["VV"])
    # the other params, another day: all made again
    changed = ortho(pair, TILE, heights_uri, outputs, {**params, "lower_signal_value": 1e-6},
                    masks=masks)
    assert not changed.skipped and all(stamps()[uri] != after[uri] for uri in outputs.values())


def test_only_the_native_engine_fuses_a_days_products(day, tmp_path):
    products, heights_uri = day
    with pytest.raises(ConfigurationError):
        ortho([products["first"], products["next"]], TILE, heights_uri,
              {"VV": str(tmp_path / "vv.tif")}, PARAMS)  # not the day's product
