"""A stage pod imports only what its stage uses: the modules its fixed cost was cut by
(issue 15: ≤ 2 s from process start) must not come back through an eager import.

Each case runs the `stage` command in a fresh interpreter, as a pod does, on inputs that do not
exist (the stage's module and the command's bookkeeping are imported, then the stage fails on
its first read), and lists what was imported when the process exits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Imported by no stage below: the local runner, the planner, search and STAC (`runners`
#: imported them all for the progress file), and what they pulled (pystac, jsonschema, eodag).
NOT_IN_ANY_STAGE = ("s1tiling_cloud.runners.local", "s1tiling_cloud.plan", "s1tiling_cloud.search",
                    "s1tiling_cloud.stac", "pystac", "jsonschema", "eodag", "boto3.session")
#: The SAFE reader's xarray (and pandas) belong to the stages that read a SAFE (ortho).
NOT_IN_STAGES_WITHOUT_SAFE = ("xarray", "pandas", "s1tiling_cloud.safe")

PROBE = """
import atexit, json, sys
watched = json.loads(sys.argv[1])
atexit.register(lambda: print("IMPORTED " + json.dumps([m for m in watched if m in sys.modules])))
sys.argv = ["s1tiling-cloud", *sys.argv[2:]]
from s1tiling_cloud.cli import app
app(prog_name="s1tiling-cloud")
"""


def imported_by_stage(name: str, arguments: dict, watched: tuple[str, ...]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(watched), "stage", name,
                           "--args", json.dumps(arguments)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode not in (0, 2), done.stderr  # ran and failed on its missing input
    line = [row for row in done.stdout.splitlines() if row.startswith("IMPORTED ")]
    assert line, done.stdout + done.stderr
    return json.loads(line[-1].removeprefix("IMPORTED "))


@pytest.mark.parametrize("name, arguments, watched", [
    ("mask", {"product": "{tmp}/missing.tif", "output": "{tmp}/mask.tif"},
     NOT_IN_ANY_STAGE + NOT_IN_STAGES_WITHOUT_SAFE),
    ("concatenate", {"inputs": ["{tmp}/missing.tif"], "output": "{tmp}/product.tif",
                     "tile": "31TCJ"}, NOT_IN_ANY_STAGE + NOT_IN_STAGES_WITHOUT_SAFE),
    ("heights", {"tile": "31TCJ", "resolution": 60.0, "out_uri": "{tmp}/h.tif",
                 "dem": {"dem_dir": "{tmp}/missing.tif"}},
     NOT_IN_ANY_STAGE + NOT_IN_STAGES_WITHOUT_SAFE + ("xml.sax.saxutils",)),
    ("ortho", {"product": "{tmp}/missing.SAFE", "tile": "31TCJ", "heights_uri": "{tmp}/h.tif",
               "outputs": {"VV": "{tmp}/vv.tif"}, "params": {"resolution": 60.0}},
     NOT_IN_ANY_STAGE),
])
def test_a_stage_pod_does_not_import_what_its_stage_does_not_use(tmp_path, name, arguments,
                                                                 watched):
    arguments = json.loads(json.dumps(arguments).replace("{tmp}", str(tmp_path)))
    assert imported_by_stage(name, arguments, watched) == []
