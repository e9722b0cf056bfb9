"""A stage pod imports only what its stage uses: the modules its fixed cost was cut by
(issue 15: ≤ 2 s from process start) must not come back through an eager import.

Each case runs the `stage` command in a fresh interpreter, as a pod does, on inputs that do not
exist (the stage's module and the command's bookkeeping are imported, then the stage fails on
its first read), and lists what was imported when the process exits. The ortho also runs on a
real (synthetic) product: reading the SAFE must not import xarray either.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import rasterio

#: Imported by no stage below: the local runner, the planner, search and STAC (`runners`
#: imported them all for the progress file), and what they pulled (pystac, jsonschema, eodag).
NOT_IN_ANY_STAGE = ("s1tiling_cloud.runners.local", "s1tiling_cloud.plan", "s1tiling_cloud.search",
                    "s1tiling_cloud.stac", "pystac", "jsonschema", "eodag", "boto3.session")
#: xarray and pandas (~0.6 s of imports, ~0.9 s more for a first Dataset, which imports dask)
#: are the SAFE reader's xarray backend's: the ortho reads the SAFE without them.
XARRAY = ("xarray", "pandas", "dask")
NOT_IN_STAGES_WITHOUT_SAFE = (*XARRAY, "s1tiling_cloud.safe")

PROBE = """
import atexit, json, sys
watched = json.loads(sys.argv[1])
atexit.register(lambda: print("IMPORTED " + json.dumps([m for m in watched if m in sys.modules])))
sys.argv = ["s1tiling-cloud", *sys.argv[2:]]
from s1tiling_cloud.cli import app
app(prog_name="s1tiling-cloud")
"""


def imported_by_stage(name: str, arguments: dict, watched: tuple[str, ...],
                      succeeds: bool = False) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(watched), "stage", name,
                           "--args", json.dumps(arguments)],
                          capture_output=True, text=True, timeout=300, check=False)
    if succeeds:
        assert done.returncode == 0, done.stderr
    else:
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
     NOT_IN_ANY_STAGE + XARRAY),
])
def test_a_stage_pod_does_not_import_what_its_stage_does_not_use(tmp_path, name, arguments,
                                                                 watched):
    arguments = json.loads(json.dumps(arguments).replace("{tmp}", str(tmp_path)))
    assert imported_by_stage(name, arguments, watched) == []


@pytest.mark.parametrize("products", [1, 2], ids=["one product", "a same-day pair fused"])
def test_the_ortho_pod_reads_a_product_without_xarray(tmp_path, products):
    from s1tiling_cloud.stages.heights import heights
    from s1tiling_cloud.testing import SyntheticGRD, write_flat_dem, write_grd

    first = SyntheticGRD(center_lat=43.6, center_lon=1.44, lines=150, samples=200)
    # the next slice of the pass, 3.6 s later and further along the descending track
    following = first.replace(center_lat=43.6 - 0.2123, center_lon=1.44 - 0.0515,
                              start="2020-01-08T04:41:53.600", seed=7)
    safes = [str(write_grd(grd, tmp_path / "s1")) for grd in (first, following)[:products]]
    dem = tmp_path / "dem.tif"
    write_flat_dem(dem, 0.0, 45.0, 1 / 200, 400, 600)
    heights_uri = str(tmp_path / "heights.tif")
    heights("31TCJ", 200.0, heights_uri, {"dem_dir": str(dem)})
    output = tmp_path / "vv.tif"
    params = {"resolution": 200.0, **({"day_product": True} if products > 1 else {})}
    arguments = {"product": safes[0] if products == 1 else safes, "tile": "31TCJ",
                 "heights_uri": heights_uri, "outputs": {"VV": str(output)}, "params": params}
    assert imported_by_stage("ortho", arguments, XARRAY, succeeds=True) == []
    with rasterio.open(output) as dataset:
        assert (dataset.read(1) > 0).any()  # the product's pixels are on the tile


GC_PROBE = """
import gc, json, sys
from s1tiling_cloud.stages import registry
seen = {}
run_stage = registry.run_stage

def watched_run(*args, **kwargs):
    seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return run_stage(*args, **kwargs)

registry.run_stage = watched_run
sys.argv = ["s1tiling-cloud", *sys.argv[1:]]
from s1tiling_cloud.cli import app
try:
    app(prog_name="s1tiling-cloud")
finally:
    print("GC " + json.dumps(seen))
"""


def test_a_pod_runs_its_stage_with_the_garbage_collector_on(tmp_path):
    """The pod's command imports its stage with the collector off (`cli._import_stage`), then
    freezes what it imported: the stage's own work must find the collector on again."""
    arguments = {"product": str(tmp_path / "missing.tif"), "output": str(tmp_path / "mask.tif")}
    done = subprocess.run([sys.executable, "-c", GC_PROBE, "stage", "mask", "--args",
                           json.dumps(arguments)],
                          capture_output=True, text=True, timeout=300, check=False)
    line = [row for row in done.stdout.splitlines() if row.startswith("GC ")]
    assert line, done.stdout + done.stderr
    seen = json.loads(line[-1].removeprefix("GC "))
    assert seen["enabled"] is True and seen["frozen"] > 0
