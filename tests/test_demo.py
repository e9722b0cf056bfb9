"""The quick start's job: the bundled example (product, DEM tiles, demo.cfg) planned and run by
the local runner onto 31TCJ, and a re-run that has nothing left to do."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import rasterio

from s1tiling_cloud.config import load_request
from s1tiling_cloud.demo import run_demo


def test_demo_makes_every_product_and_reruns_for_free(tmp_path):
    run = run_demo(tmp_path, lines=700, samples=900, resolution=60.0, processes=1, progress=False)
    assert run.report.code == 0, run.report.lines()
    request = load_request(run.config)
    assert (request.data_source.download, request.processing.tiles) == (False, ["31TCJ"])
    assert request.mask.generate_border_mask and request.quicklook.generate
    stages = [node.stage for node in run.plan.nodes]
    assert stages[:2] == ["heights", "ortho"] and stages.count("concatenate") == 2
    assert {o.status for o in run.report.outcomes.values()} == {"ran"}
    finals = [n.outputs[0] for n in run.plan.nodes if n.stage == "concatenate"]
    assert [p.rsplit("/", 1)[1] for p in finals] == [
        "s1a_31TCJ_vv_DES_007_20200108t044150.tif", "s1a_31TCJ_vh_DES_007_20200108t044150.tif"]
    assert finals[0].startswith(str(tmp_path / "output" / "31TCJ"))
    with rasterio.open(finals[0]) as dataset:
        values = dataset.read(1)
        assert dataset.tags()["IMAGE_TYPE"] == "BACKSCATTERING"
    assert abs(10 * np.log10(values[values > 0].mean()) + 12.0) < 0.1
    assert len(list((tmp_path / "output" / "_QL").glob("*_quicklook.jpg"))) == 2
    assert (tmp_path / "output" / "catalog.json").exists()
    again = run_demo(tmp_path, lines=700, samples=900, resolution=60.0, processes=1, progress=False)
    assert again.report.code == 0
    assert not again.report.by_status("ran", "reused")


def test_demo_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "s1tiling_cloud.cli", "demo", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "31TCJ" in done.stdout and "quicklook" in done.stdout
    assert len(list((tmp_path / "output" / "31TCJ").glob("*_BorderMask.tif"))) == 2
