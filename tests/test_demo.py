"""The quick start's job: the bundled example (product, DEM tiles, demo.cfg) planned and run by
the local runner onto 31TCJ, a re-run that has nothing left to do, the demo scene's truth found
in the products (land cover, relief, reflectors), and the run's page as a browser shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from scipy.ndimage import binary_erosion

from s1tiling_cloud.config import load_request
from s1tiling_cloud.demo import demo_scene, demo_spec, run_demo
from s1tiling_cloud.geo import Grid
from s1tiling_cloud.testing import centroid, target_truth
from s1tiling_cloud.testing.demo_scene import FIELD, URBAN, WATER
from tests import browser

#: A smaller demo (20 × 24 km around the tile's centre, products at 40 m) for the tests.
LINES, SAMPLES, RESOLUTION = 1000, 1200, 40.0
STEM = "s1a_31TCJ_{}_DES_007_20200108t044150"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    run = run_demo(folder, lines=LINES, samples=SAMPLES, resolution=RESOLUTION, processes=1,
                   progress=False)
    assert run.report.code == 0, run.report.lines()
    return folder, run


def test_demo_makes_every_product_and_reruns_for_free(demo):
    folder, run = demo
    request = load_request(run.config)
    assert (request.data_source.download, request.processing.tiles) == (False, ["31TCJ"])
    assert request.mask.generate_border_mask and request.quicklook.generate
    stages = [node.stage for node in run.plan.nodes]
    # one product: its ortho writes the day's products and their masks (no concatenate, no mask)
    assert stages[:2] == ["heights", "ortho"] and not {"concatenate", "mask"} & set(stages)
    assert {o.status for o in run.report.outcomes.values()} == {"ran"}
    finals = list(next(n for n in run.plan.nodes if n.stage == "ortho").args["outputs"].values())
    assert [p.rsplit("/", 1)[1] for p in finals] == [
        f"{STEM.format('vv')}.tif", f"{STEM.format('vh')}.tif"]
    assert finals[0].startswith(str(folder / "output" / "31TCJ"))
    with rasterio.open(finals[0]) as dataset:
        assert dataset.tags()["IMAGE_TYPE"] == "BACKSCATTERING"
    assert len(list((folder / "output" / "_QL").glob("*_quicklook.jpg"))) == 2
    assert (folder / "output" / "catalog.json").exists()
    facts = json.loads((folder / "output" / "run.json").read_text())
    assert facts["code"] == 0 and facts["situation"].startswith("Situation: 0 computations errors")
    assert facts["stages"]["ortho"]["nodes"] == 1 and facts["stages"]["quicklook"]["nodes"] == 2
    assert (folder / "output" / "index.html").exists()
    again = run_demo(folder, lines=LINES, samples=SAMPLES, resolution=RESOLUTION, processes=1,
                     progress=False)
    assert again.report.code == 0
    assert not again.report.by_status("ran", "reused")


def _product(folder, pol):
    with rasterio.open(folder / "output" / "31TCJ" / f"{STEM.format(pol)}.tif") as dataset:
        return dataset.read(1).astype(np.float64), dataset.transform, dataset.crs


def _mean_db(image, mask):
    assert mask.sum() > 200, "too few pixels to average the speckle"
    return 10 * np.log10(image[mask].mean())


def test_the_demo_scene_shows_land_cover_relief_and_reflectors(demo):
    folder, _ = demo
    vv, transform, crs = _product(folder, "vv")
    vh, _, _ = _product(folder, "vh")
    rows, cols = np.mgrid[0:vv.shape[0], 0:vv.shape[1]]
    x, y = transform * (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    scene, spec = demo_scene(), demo_spec(LINES, SAMPLES)
    classes = scene.classes(lat, lon)
    terrain = scene.terrain_db(spec, lat, lon)
    valid = (vv > 0) & (vh > 0)

    def region(mask):  # away from class edges and the swath's border
        return binary_erosion(mask & valid, iterations=2)

    flat = np.abs(terrain) < 0.3
    water, fields = region((classes == WATER) & flat), region((classes == FIELD) & flat)
    # Water about -22 dB VV (thermal noise removed), more than 10 dB darker than the fields.
    assert abs(_mean_db(vv, water) + 22.0) < 1.0
    assert _mean_db(vv, fields) - _mean_db(vv, water) > 10.0
    assert _mean_db(vv, region(classes == URBAN)) > _mean_db(vv, fields) + 6.0
    # Cross-polarisation: VH about 8 dB below VV over the fields.
    assert 7.0 < _mean_db(vv, fields) - _mean_db(vh, fields) < 9.0
    # Relief: fields on slopes facing the radar brighter than those facing away, by what
    # the terrain's truth says.
    fore = region((classes == FIELD) & (terrain > 0.8))
    back = region((classes == FIELD) & (terrain < -0.8))
    measured = _mean_db(vv, fore) - _mean_db(vv, back)
    truth = 10 * np.log10(np.mean(10 ** (terrain[fore] / 10)) / np.mean(10 ** (terrain[back] / 10)))
    assert measured > 2.0 and abs(measured - truth) < 0.7, (measured, truth)
    # Corner reflectors where they truly are: nearest-neighbour ortho puts a point in the 40 m
    # pixel nearest to it (half a pixel), from the 20 m pixel nearest to it (a quarter).
    truths = [t for t in target_truth(spec, Grid.from_tile("31TCJ", RESOLUTION))
              if 5 <= t.row < vv.shape[0] - 5 and 5 <= t.col < vv.shape[1] - 5
              and valid[int(t.row) - 4:int(t.row) + 5, int(t.col) - 4:int(t.col) + 5].all()]
    assert len(truths) >= 3
    for t in truths:
        row, col = centroid(vv, t.row, t.col, radius=3)
        assert abs(row - t.row) < 0.75 and abs(col - t.col) < 0.75, (t.target, row - t.row, col - t.col)
        assert vv[int(round(row)), int(round(col))] > 30 * np.median(vv[fields])


def test_the_run_page_opens_in_chromium_with_every_quicklook_and_link(demo, tmp_path):
    folder, _ = demo
    with browser.http_folder(folder / "output") as base:
        page = browser.open_page(f"{base}/index.html", tmp_path / "page.png")
    _check_page(page, expect_situation=True)


def test_the_report_command_rebuilds_the_page_from_a_catalog_in_s3(demo, s3_server, tmp_path):
    """The outputs uploaded to the S3 API server, their catalog rebuilt there (asset hrefs then
    s3://), `s1tiling-cloud report s3://…`, and the page opened where the (public-read) bucket
    serves it, its links resolved by the same server."""
    from tests.s3server import gdal_env, s3_client, upload

    folder, _ = demo
    bucket = "report"
    client = s3_client(s3_server)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_acl(Bucket=bucket, ACL="public-read")  # a browser reads it over HTTP
    for sub in ("31TCJ", "_QL"):
        upload(s3_server, bucket, folder / "output" / sub, "run/output")
    env = {**gdal_env(s3_server), "PATH": "/usr/bin:/bin"}
    for command in (["catalog", "rebuild", f"s3://{bucket}/run/output"],
                    ["report", f"s3://{bucket}/run/output"]):
        done = subprocess.run([sys.executable, "-m", "s1tiling_cloud.cli", *command], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    assert f"s3://{bucket}/run/output/index.html" in done.stdout
    page = browser.open_page(f"{s3_server}/{bucket}/run/output/index.html",
                             tmp_path / "page.png")
    _check_page(page, expect_situation=False)
    assert any(link["href"].startswith("./31TCJ/") for link in page.links)


def test_a_run_without_catalog_gets_a_page_listing_its_files(demo, tmp_path):
    """No STAC publication: the page still says how the run went and links what it made."""
    import copy

    from s1tiling_cloud.runners.run_page import write_run_page

    _, run = demo
    plan = copy.deepcopy(run.plan)
    plan.request["stac"]["catalog"] = str(tmp_path / "nowhere" / "catalog.json")
    page = write_run_page(plan, run.report)
    assert page == str(tmp_path / "nowhere" / "index.html")
    html = (tmp_path / "nowhere" / "index.html").read_text()
    assert "No product in the catalog" in html and "Situation: 0 computations errors" in html
    for uri in run.report.produced():  # linked relative to the page
        assert f'href="{os.path.relpath(uri, tmp_path / "nowhere")}"' in html
    assert json.loads((tmp_path / "nowhere" / "run.json").read_text())["produced"] == \
        run.report.produced()


def test_report_of_a_folder_without_catalog_is_a_configuration_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "s1tiling_cloud.cli", "report", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    # one line on stderr, however long the path (no wrapping at 80 columns in pod logs)
    assert done.returncode == 72 and f"no STAC catalog at {tmp_path}" in done.stderr
    assert not (tmp_path / "index.html").exists()


def _check_page(page, *, expect_situation):
    assert page.title == "s1tiling-cloud run report"
    quicklooks = [image for image in page.images if "quicklook" in image["alt"]]
    assert len(quicklooks) == 2  # VV and VH of the one product
    for image in quicklooks:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
    assert page.links, "no link on the page"
    bad = [link for link in page.links if link["status"] != 200]
    assert not bad, bad
    names = {link["href"].rsplit("/", 1)[-1] for link in page.links}
    assert {f"{STEM.format('vv')}.tif", f"{STEM.format('vh')}.tif",
            "s1a_31TCJ_DES_007_20200108t044150.json"} <= names
    assert "31TCJ" in page.text and "VV VH" in page.text and "relative orbit 007" in page.text
    if expect_situation:
        assert "Situation: 0 computations errors" in page.text and "Time per stage" in page.text
        assert "ortho" in page.text and "Request" in page.text
    else:
        assert "Not recorded" in page.text
    # The screenshot: a real rendering of the whole page; in each view, the tile's corner (no
    # data: the test product covers the tile's centre) shows the page's grey through the
    # quicklook, the data in its centre does not.
    with rasterio.open(page.screenshot) as shot:
        pixels = shot.read()
    assert shot.width >= 1000 and pixels.std() > 20
    assert len(page.views) == 2
    for x, y, width, height in page.views:
        corner = pixels[:3, int(y + 0.1 * height), int(x + 0.1 * width)]
        centre = pixels[:3, int(y + 0.5 * height), int(x + 0.5 * width)]
        assert list(corner) == [0x5F, 0x6B, 0x73], corner  # .view's background
        assert list(centre) != [0x5F, 0x6B, 0x73]
