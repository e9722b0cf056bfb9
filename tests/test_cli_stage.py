"""`s1tiling-cloud stage NAME --args JSON`, run as an Argo pod runs it (a subprocess): one JSON
line on stdout, exit code 0; a typed error ends with S1Tiling's exit code, wrong arguments
with a usage error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud import exits
from tests.stages import PRODUCT_1, PRODUCT_2, TILE, write_ortho, write_product


def command() -> list[str]:
    script = Path(sys.executable).with_name("s1tiling-cloud")
    return [str(script)] if script.exists() else [sys.executable, "-m", "s1tiling_cloud.cli"]


def stage(*arguments: str, stdin: str | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*command(), "stage", *arguments], capture_output=True, text=True,
                          input=stdin, timeout=300, check=False, env=env)


@pytest.fixture
def images(tmp_path):
    a = np.zeros((20, 30), np.float32)
    a[:12] = 0.1
    b = np.zeros((20, 30), np.float32)
    b[8:] = 0.3
    return [write_ortho(str(tmp_path / "a.tif"), a, PRODUCT_1),
            write_ortho(str(tmp_path / "b.tif"), b, PRODUCT_2)]


def test_a_stage_end_to_end(tmp_path, images):
    out = str(tmp_path / "out" / TILE / "s1a_33NWB_vh_DES_007_20200108txxxxxx.tif")
    arguments = json.dumps({"inputs": images, "output": out, "tile": TILE})
    run = stage("concatenate", "--args", arguments)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1  # only the result on stdout: a pod's output parameter
    result = json.loads(lines[0])
    assert result["stage"] == "concatenate" and result["outputs"] == [out]
    assert result["skipped"] is False and result["details"]["acquisition_stamp"] == "20200108txxxxxx"
    with rasterio.open(out) as dataset:
        values = dataset.read(1)
        assert dataset.tags()["INPUT_S1_IMAGES"] == f"{PRODUCT_1}, {PRODUCT_2}"
    assert np.all(values[:12] == np.float32(0.1)) and np.all(values[12:] == np.float32(0.3))

    # The same call from a file is a re-run: skipped.
    args_file = tmp_path / "args.json"
    args_file.write_text(arguments)
    again = stage("concatenate", "--args-file", str(args_file))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["skipped"] is True
    # ... and from standard input.
    assert json.loads(stage("concatenate", "--args-file", "-", stdin=arguments).stdout)["skipped"]


def test_a_stage_in_an_argo_pod_reports_its_progress(tmp_path, images):
    progress = tmp_path / "argo" / "progress"
    progress.parent.mkdir()
    out = str(tmp_path / "out.tif")
    run = stage("concatenate", "--args", json.dumps({"inputs": images, "output": out, "tile": TILE}),
                env={**os.environ, "ARGO_PROGRESS_FILE": str(progress)})
    assert run.returncode == 0, run.stderr
    assert progress.read_text() == "1/1\n"  # what Argo's executor reads for the node


def test_the_per_product_stages(tmp_path):
    product = write_product(str(tmp_path / "p.tif"), np.full((40, 40), 0.02, np.float32))
    for name, arguments in [
        ("mask", {"product": product, "output": str(tmp_path / "p_BorderMask.tif")}),
        ("despeckle", {"product": product, "output": str(tmp_path / "p_filtered.tif"),
                       "params": {"method": "lee", "window_radius": 1, "nblooks": 4}}),
        ("quicklook", {"product": product, "output": str(tmp_path / "p_quicklook.jpg")}),
    ]:
        run = stage(name, "--args", json.dumps(arguments))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["outputs"] == [arguments["output"]]
        assert Path(arguments["output"]).exists()


def test_typed_errors_end_with_s1tiling_s_exit_codes(tmp_path, images):
    product = write_product(str(tmp_path / "p.tif"), np.ones((10, 10), np.float32))
    bad_filter = {"product": product, "output": str(tmp_path / "f.tif"),
                  "params": {"method": "median", "window_radius": 1}}
    run = stage("despeckle", "--args", json.dumps(bad_filter))
    assert run.returncode == exits.CONFIG_ERROR == 72
    assert run.stdout == "" and "ConfigurationError" in run.stderr and "median" in run.stderr
    # Images of another tile: a wiring error (NotCompatibleInput), S1Tiling's "unknown reason".
    wrong_tile = {"inputs": images, "output": str(tmp_path / "x.tif"), "tile": "31TCJ"}
    run = stage("concatenate", "--args", json.dumps(wrong_tile))
    assert run.returncode == exits.UNKNOWN_REASON and "NotCompatibleInput" in run.stderr
    # A missing input is not a typed error: 78 too, with the traceback for the pod's log.
    missing = {"product": str(tmp_path / "nowhere.tif"), "output": str(tmp_path / "m.tif")}
    run = stage("mask", "--args", json.dumps(missing))
    assert run.returncode == exits.UNKNOWN_REASON and "Traceback" in run.stderr
    assert not (tmp_path / "f.tif").exists() and not (tmp_path / "x.tif").exists()


@pytest.mark.parametrize("arguments", [
    ("nonesuch", "--args", "{}"),                               # unknown stage
    ("mask", "--args", "{not json"),                            # not JSON
    ("mask", "--args", "[1, 2]"),                               # not keyword arguments
    ("mask", "--args", json.dumps({"product": "p.tif"})),       # a required argument missing
    ("mask", "--args", json.dumps({"product": "p", "output": "o", "radius": 3})),  # unknown one
    ("mask",),                                                  # no arguments at all
])
def test_wrong_arguments_are_usage_errors(arguments):
    run = stage(*arguments)
    assert run.returncode == 2 and run.stdout == ""


def test_a_pod_s_command_line_and_typer_s_parsing_end_alike(tmp_path, images):
    """`stage NAME --args JSON` (the pods' form) skips typer's parsing; `--args=JSON` goes
    through typer: the same output, exit code and messages, success or not."""
    out = str(tmp_path / "merged.tif")
    arguments = json.dumps({"inputs": images, "output": out, "tile": TILE})
    first = stage("concatenate", "--args", arguments)
    again, again_by_typer = stage("concatenate", "--args", arguments), stage("concatenate",
                                                                              f"--args={arguments}")
    assert first.returncode == again.returncode == again_by_typer.returncode == 0
    assert json.loads(again.stdout) == json.loads(again_by_typer.stdout) | {
        "seconds": json.loads(again.stdout)["seconds"]}
    for wrong in ("{not json", json.dumps({"product": "p.tif"})):
        pod, by_typer = stage("mask", "--args", wrong), stage("mask", f"--args={wrong}")
        assert pod.returncode == by_typer.returncode == 2
        assert pod.stderr == by_typer.stderr and "Usage" in pod.stderr
    missing = json.dumps({"product": str(tmp_path / "none.tif"), "output": str(tmp_path / "m.tif")})
    pod, by_typer = stage("mask", "--args", missing), stage("mask", f"--args={missing}")
    assert pod.returncode == by_typer.returncode == exits.UNKNOWN_REASON
    assert pod.stderr.splitlines()[-1] == by_typer.stderr.splitlines()[-1]
