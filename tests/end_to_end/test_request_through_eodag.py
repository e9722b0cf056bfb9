"""A user's `.cfg` through the real CLI, eodag and the S3 API server: S1Tiling's products with
their names, metadata and masks; each product downloaded once and nothing else touched; a
re-run that does nothing; a run killed midway that a re-run completes to the same rasters."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import rasterio

from .conftest import (
    ASCENDING,
    DEM_BUCKET,
    GOOD_BUCKET,
    PAIR,
    TILE,
    WRITES,
    assert_same_rasters,
    cli_command,
    download,
    final_names,
    keys,
    output_keys,
    rasters,
    run_cli,
    snapshot,
)

pytestmark = [pytest.mark.s3, pytest.mark.slow]

BACKSCATTER_KEYS = {
    "TIFFTAG_DATETIME", "TIFFTAG_SOFTWARE", "TIFFTAG_IMAGEDESCRIPTION", "ACQUISITION_DATETIME",
    "CALIBRATION", "NOISE_REMOVED", "LOWER_SIGNAL_VALUE", "DEM_INFO", "FLYING_UNIT_CODE",
    "IMAGE_TYPE", "INPUT_S1_IMAGES", "ORBIT_NUMBER", "ORBIT_DIRECTION", "RELATIVE_ORBIT_NUMBER",
    "ORTHORECTIFICATION_INTERPOLATOR", "ORTHORECTIFIED", "POLARIZATION",
    "S2_TILE_CORRESPONDING_CODE", "SPATIAL_RESOLUTION", "PROJECT"}


def test_the_request_makes_s1tilings_products(good_run, moto, tmp_path):
    assert "Situation: 0 computations errors. 0 search failures. 0 download failures. " \
           "0 download timeouts" in good_run.run.output
    # A successful run logs no error: not even GDAL's, from a dataset closed after its file.
    assert not [line for line in good_run.run.output.splitlines() if "ERROR" in line], \
        good_run.run.output[-6000:]
    out_keys = [k for k in good_run.objects if k.startswith("out/")]
    assert sorted(out_keys) == sorted(output_keys(*PAIR) + output_keys(*ASCENDING) + [
        "out/catalog.json", "out/s1tiling-sigma0/collection.json", "out/index.html", "out/run.json"])
    out = download(moto.client(), GOOD_BUCKET, "out/", tmp_path)
    local = out / TILE
    for stamp, orbit in (PAIR, ASCENDING):
        vv, vh, vv_mask, vh_mask = (local / name for name in final_names(stamp, orbit))
        for image, mask, pol in ((vv, vv_mask, "vv"), (vh, vh_mask, "vh")):
            with rasterio.open(image) as dataset:
                tags = dataset.tags()
                pixels = dataset.read(1)
                assert dataset.dtypes == ("float32",) and dataset.res == (120.0, 120.0)
                assert dataset.crs.to_epsg() == 32631 and dataset.nodata == 0
                assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert set(tags) >= BACKSCATTER_KEYS, BACKSCATTER_KEYS - set(tags)
            assert (tags["IMAGE_TYPE"], tags["CALIBRATION"], tags["POLARIZATION"]) == (
                "BACKSCATTERING", "sigma", pol)
            assert (tags["S2_TILE_CORRESPONDING_CODE"], tags["FLYING_UNIT_CODE"]) == (TILE, "s1a")
            assert tags["PROJECT"] == "s1tiling-cloud end-to-end"
            with rasterio.open(mask) as dataset:
                border = dataset.read(1)
                assert dataset.dtypes == ("uint8",) and dataset.tags()["IMAGE_TYPE"] == "MASK"
            assert set(np.unique(border)) == {0, 1}
            # The mask keeps valid pixels only (it is the eroded valid area).
            assert (pixels[border == 1] > 0).all() and border.sum() > 0.5 * (pixels > 0).sum()
    with rasterio.open(local / final_names(*PAIR)[0]) as dataset:
        pair = dataset.tags()
    with rasterio.open(local / final_names(*ASCENDING)[0]) as dataset:
        single = dataset.tags()
    assert (pair["ORBIT_DIRECTION"], pair["RELATIVE_ORBIT_NUMBER"]) == ("DES", "007")
    assert pair["ACQUISITION_DATETIME"] == "2020:01:08T04:41:50Z"
    assert pair["ACQUISITION_DATETIME_1"] == "2020:01:08T04:41:50Z"
    assert pair["ACQUISITION_DATETIME_2"] == "2020:01:08T04:41:53Z"
    assert (single["ORBIT_DIRECTION"], single["RELATIVE_ORBIT_NUMBER"]) == ("ASC", "073")
    assert single["ACQUISITION_DATETIME"] == "2020:01:09T17:50:00Z"
    with rasterio.open(out / "_QL" / f"s1a_{TILE}_vv_{PAIR[1]}_{PAIR[0]}_quicklook.jpg") as dataset:
        assert dataset.driver == "JPEG" and dataset.dtypes == ("uint8",)
        assert dataset.tags()["IMAGE_TYPE"] == "QUICKLOOK" and "QUICKLOOK_SCALE" in dataset.tags()


def test_each_product_is_downloaded_once_and_nothing_else_is_touched(good_run, archive, moto):
    run = good_run.run
    reads = run.product_reads()
    for role in "ABD":  # every file of each product in the request, once
        prefix = f"s1/products/{archive.id(role)}.SAFE/"
        assert {k.removeprefix(prefix): n for k, n in reads.items() if k.startswith(prefix)} == dict.fromkeys(
            archive.files(role), 1), role
    for role in "CE":  # another date, another tile: never read, not even their manifest
        assert not [c for c in run.calls if archive.id(role) in c.key and "/products/" in c.key], role
    assert sum(reads.values()) == sum(len(archive.files(r)) for r in "ABD")
    # The product cache holds the three products, byte for byte as the provider has them.
    cache = sorted(k for k in good_run.objects if k.startswith("s1/"))
    assert cache == sorted(f"s1/{archive.id(r)}.SAFE/{f}" for r in "ABD" for f in archive.files(r))
    provider = snapshot(moto.client(), "provider", "s1/products/")
    for role in "ABD":
        for name in archive.files(role):
            assert good_run.objects[f"s1/{archive.id(role)}.SAFE/{name}"] == \
                provider[f"s1/products/{archive.id(role)}.SAFE/{name}"]
    # Nothing written but in the run's own bucket; no intermediate left in tmp.
    assert {c.bucket for c in run.writes()} == {GOOD_BUCKET}
    assert not run.writes(DEM_BUCKET) and not run.writes("provider")
    assert sorted({k.split("/")[0] for k in good_run.objects}) == ["out", "s1", "tmp"]
    assert not [k for k in good_run.objects if k.startswith("tmp/") and not k.startswith(
        "tmp/.s1tiling-cloud/done/")]


def test_stac_items_are_published(good_run, archive, moto):
    client = moto.client()

    def document(key: str) -> dict:
        return json.loads(client.get_object(Bucket=GOOD_BUCKET, Key=key)["Body"].read())

    catalog = document("out/catalog.json")
    assert [link["href"] for link in catalog["links"] if link["rel"] == "child"] == [
        "./s1tiling-sigma0/collection.json"]
    collection = document("out/s1tiling-sigma0/collection.json")
    items = sorted(link["href"] for link in collection["links"] if link["rel"] == "item")
    assert items == [f"./s1a_{TILE}_{orbit}_{stamp}/s1a_{TILE}_{orbit}_{stamp}.json"
                     for stamp, orbit in (ASCENDING, PAIR)]
    pair = document(f"out/s1tiling-sigma0/s1a_{TILE}_{PAIR[1]}_{PAIR[0]}/"
                    f"s1a_{TILE}_{PAIR[1]}_{PAIR[0]}.json")
    assert pair["properties"]["sat:relative_orbit"] == 7
    assert pair["assets"]["vv"]["href"] == f"s3://{GOOD_BUCKET}/out/{TILE}/{final_names(*PAIR)[0]}"
    assert {"vv", "vh", "mask_vv", "mask_vh", "quicklook_vv", "quicklook_vh"} <= set(pair["assets"])
    sources = {link["title"] for link in pair["links"] if link["rel"] == "derived_from"}
    assert sources == {archive.id("A"), archive.id("B")}


def test_a_rerun_does_no_work(good_run, moto):
    before = snapshot(moto.client(), GOOD_BUCKET)
    again = run_cli(good_run.config, good_run.run_env, moto)
    assert again.code == 0, again.output[-4000:]
    assert "running 0 nodes" in again.output
    assert again.writes() == []  # not one object written, replaced or removed
    assert again.product_reads() == {}  # nothing downloaded again
    assert snapshot(moto.client(), GOOD_BUCKET) == before


def _first_pair_product(client) -> str | None:
    """The first of the pair's day products (written by the day's ortho, which fuses the pair's
    products) once it exists: the run is then midway through that day's chain."""
    found = [k for k in keys(client, GOOD_BUCKET, "out/") if PAIR[0] in k and k.endswith(".tif")]
    return found[0] if found else None


def test_a_killed_run_rerun_gives_the_same_rasters(good_run, moto, tmp_path):
    client = moto.client()
    reference = rasters(download(client, GOOD_BUCKET, "out/", tmp_path / "reference"))
    pair_outputs = [k for k in good_run.objects if k.startswith("out/") and PAIR[0] in k
                    and not k.endswith(".json")]
    assert len(pair_outputs) == 8
    for key in pair_outputs:  # the pair's products are to be made again, the same way
        client.delete_object(Bucket=GOOD_BUCKET, Key=key)
    mark = moto.log.mark()
    process = subprocess.Popen(cli_command(good_run.config), env=good_run.run_env,
                               cwd=good_run.config.parent, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while _first_pair_product(client) is None and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):  # none left if the run ended by itself
            os.killpg(process.pid, signal.SIGKILL)  # the CLI and its workers, mid-run
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it was killed"
    moto.log.settle()
    killed = moto.log.since(mark)
    left = set(keys(client, GOOD_BUCKET, "out/"))
    assert not set(pair_outputs) <= left  # killed midway: the pair's products are not all there
    for name, (_, tags) in rasters(download(client, GOOD_BUCKET, "out/", tmp_path / "killed")).items():
        assert "PROVENANCE_HASH" in tags, name  # what has a final name is complete
    again = run_cli(good_run.config, good_run.run_env, moto)
    assert again.code == 0, again.output[-4000:]
    assert_same_rasters(rasters(download(client, GOOD_BUCKET, "out/", tmp_path / "again")), reference)
    assert sorted(keys(client, GOOD_BUCKET, "out/")) == sorted(
        k for k in good_run.objects if k.startswith("out/"))
    assert not [k for k in keys(client, GOOD_BUCKET, "tmp/") if k.endswith(".tif")]
    # The cache answered both runs: nothing downloaded again.
    assert not [c for c in killed + again.calls if c.bucket == "provider" and "/products/" in c.key]
    assert not [c for c in killed + again.calls if c.method in WRITES and c.bucket != GOOD_BUCKET]
