"""The quick start's job: the bundled example through every stage onto 31TCJ, and a re-run that
reuses everything."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import rasterio

from s1tiling_cloud.demo import run_demo


def test_demo_makes_every_product_and_reruns_for_free(tmp_path):
    run = run_demo(tmp_path, lines=700, samples=900, resolution=60.0)
    stages = [r.stage for r in run.results]
    assert stages == ["heights", "ortho"] + ["concatenate", "mask", "quicklook"] * 2
    finals = [r.outputs[0] for r in run.results if r.stage == "concatenate"]
    assert [p.rsplit("/", 1)[1] for p in finals] == [
        "s1a_31TCJ_vv_DES_007_20200108t044150.tif", "s1a_31TCJ_vh_DES_007_20200108t044150.tif"]
    with rasterio.open(finals[0]) as dataset:
        values = dataset.read(1)
        assert dataset.tags()["IMAGE_TYPE"] == "BACKSCATTERING"
    assert 10 * np.log10(values[values > 0].mean()) == np.float32(-12.0) or abs(
        10 * np.log10(values[values > 0].mean()) + 12.0) < 0.1
    again = run_demo(tmp_path, lines=700, samples=900, resolution=60.0)
    assert all(r.skipped for r in again.results)


def test_demo_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "s1tiling_cloud.cli", "demo", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "31TCJ" in done.stdout and "quicklook" in done.stdout
    assert len(list((tmp_path / "products" / "31TCJ").glob("*_BorderMask.tif"))) == 2
