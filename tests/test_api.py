"""S1Tiling's API and programs over a `.cfg`: Situation and exit codes, dry runs, early errors."""

from __future__ import annotations

import json
import os

import pytest
import rasterio
from typer.testing import CliRunner

from s1tiling_cloud import api
from s1tiling_cloud.cli import app
from s1tiling_cloud.plan import Plan
from s1tiling_cloud.store import GDAL_CACHE_MB, NUMBA_THREADING_LAYER
from tests.plan.requests import write_config, write_scene

FINAL = "s1a_31TCJ_vv_DES_007_20200108t044150.tif"


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-scene")
    products, dem = write_scene(folder)
    return folder / "s1", dem


def config(tmp_path, scene, **values):
    s1_images, dem = scene
    return write_config(tmp_path / "request.cfg", root=tmp_path, s1_images=s1_images,
                        dem_dir=values.pop("dem_dir", dem), **values)


def test_s1_process_returns_the_situation(scene, tmp_path):
    situation = api.s1_process(str(config(tmp_path, scene)), debug_otb=True)
    assert isinstance(situation, api.Situation) and situation.code == 0
    with rasterio.open(tmp_path / "out" / "31TCJ" / FINAL) as dataset:
        assert dataset.tags()["PROJECT"] == "s1tiling-cloud tests"
    # Re-run: the search finds every product made, and nothing is left to do.
    assert api.s1_process(api.Configuration(str(tmp_path / "request.cfg")), debug_otb=True).code == 0


def test_a_run_sets_the_pods_gdal_and_numba_settings_unless_the_user_did(scene, tmp_path,
                                                                          monkeypatch):
    """The workers inherit the environment of the run: a pod's GDAL_CACHEMAX
    (`store.GDAL_CACHE_MB`) and NUMBA_THREADING_LAYER, or the user's."""
    for name in ("GDAL_CACHEMAX", "NUMBA_THREADING_LAYER"):  # restored after the test
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert api.s1_process(str(config(tmp_path, scene)), debug_otb=True).code == 0
    assert os.environ["GDAL_CACHEMAX"] == str(GDAL_CACHE_MB) == "64"
    assert os.environ["NUMBA_THREADING_LAYER"] == NUMBA_THREADING_LAYER == "threadsafe"
    monkeypatch.setenv("GDAL_CACHEMAX", "512")
    assert api.s1_process(str(tmp_path / "request.cfg"), debug_otb=True).code == 0
    assert os.environ["GDAL_CACHEMAX"] == "512"


def test_s1_process_lia_makes_the_maps_in_worker_processes(scene, tmp_path):
    situation = api.s1_process_lia(str(config(tmp_path, scene)))
    assert situation.code == 0
    with rasterio.open(tmp_path / "out" / "_LIA" / "sin_LIA_31TCJ_007.tif") as dataset:
        assert dataset.tags()["IMAGE_TYPE"] == "LIA" and dataset.res == (60.0, 60.0)
    assert (tmp_path / "out" / "_LIA" / "LIA_31TCJ_007.tif").exists()
    assert not (tmp_path / "out" / "31TCJ").exists()


def test_dryrun_prints_the_plan_and_runs_nothing(scene, tmp_path, capsys):
    assert api.s1_process(str(config(tmp_path, scene)), dryrun=True).code == 0
    text = capsys.readouterr().out
    # two one-product days: their orthos write the products and masks (no concatenate nor mask)
    assert text.startswith("Plan s1_process: 3 nodes (1 heights, 2 ortho)")
    assert f"-> {tmp_path}/out/31TCJ/{FINAL}" in text
    assert not (tmp_path / "out").exists()


def test_plan_command_prints_json(scene, tmp_path):
    done = CliRunner().invoke(app, ["plan", str(config(tmp_path, scene)), "--json",
                                    "--scenario", "S1IAMap"])
    assert done.exit_code == 0, done.output
    plan = Plan.from_json(done.output)
    assert plan.scenario == "s1_process_ia" and [n.id for n in plan.nodes] == ["ia/31TCJ/007"]
    assert json.loads(done.output)["search"]["kept"] == 2


@pytest.mark.parametrize(("values", "code", "message"), [
    ({"tiles": "31TZA"}, 73, "NoS2TileError"),
    ({"dem_dir": "EMPTY"}, 75, "MissingDEMError"),
    ({"calibration": "sigmoid"}, 72, "calibration"),
])
def test_process_command_exit_codes(scene, tmp_path, values, code, message):
    if values.get("dem_dir") == "EMPTY":
        values["dem_dir"] = tmp_path / "no-dem"
        values["dem_dir"].mkdir()
    done = CliRunner().invoke(app, ["process", str(config(tmp_path, scene, **values))])
    assert done.exit_code == code, done.output
    assert message in done.output
    assert not (tmp_path / "out").exists()
