"""The fault matrix of the local runner: SIGKILL of the whole process group at stage boundaries
and in the middle of stages, SIGKILL / SIGTERM / SIGINT of the runner's main process only.

After each: no worker outlives the runner, nothing has a final name but complete files, and a
re-run completes the exact set of outputs, rasters identical to an uninterrupted run's, STAC
documents complete, no temporary file left anywhere.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.plan import build_plan
from s1tiling_cloud.runners import run_plan
from s1tiling_cloud.runners.remaining import Existing, missing_outputs
from s1tiling_cloud.store import Store
from tests.plan.requests import local_candidate, make_request, outcome_for

REPO = Path(__file__).resolve().parents[2]
_RUN = """
import logging, sys
from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.runners.local import run_plan
if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    report = run_plan(Plan.from_json(open(sys.argv[1]).read()), processes=2, progress=False)
    sys.exit(report.code)
"""


@pytest.fixture(scope="module")
def reference(scene, tmp_path_factory):
    """The plan (one product, VV + VH: mask, quicklook, STAC) and its uninterrupted outputs."""
    products, dem = scene
    root = tmp_path_factory.mktemp("faults")
    request = make_request(str(root), dem_dir=str(dem), quicklook=True, publish=True)
    plan = build_plan(request, outcome_for({"31TCJ": [local_candidate(products[0])]}))
    assert run_plan(plan, processes=0, progress=False).code == 0
    (root / "plan.json").write_text(plan.to_json())
    (root / "run.py").write_text(_RUN)
    return plan, root, contents(root / "out")


def contents(folder: Path) -> dict[str, object]:
    """Every file under `folder`: a raster's pixels and tags (but its time), other files' text
    without their varying parts (STAC times, sizes and checksums of rasters rewritten)."""
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if path.suffix in (".tif", ".jpg"):
            with rasterio.open(path) as dataset:
                tags = dataset.tags()
                tags.pop("TIFFTAG_DATETIME", None)
                found[name] = (dataset.read(), tags)
        else:
            found[name] = None  # STAC documents: checked complete by `missing_outputs`
    return found


def group_pids(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (read from /proc), zombies aside."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _described(pids: list[int]) -> list[str]:
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found.append(f"{pid}: {f.read().decode(errors='replace')[:120]}")
        except OSError:
            continue
    return found


def wait_for(condition, seconds: float = 180.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp" in p.name or p.name.startswith((".ingest-", "s1tc-"))]


def final(plan, stage: str) -> Path:
    return Path(next(n for n in plan.nodes if n.stage == stage).outputs[0])


def first_mask(plan) -> Path:
    """The first border mask of the plan (written with its product: no mask node)."""
    return Path(next(uri for n in plan.nodes for uri in n.outputs if uri.endswith("_BorderMask.tif")))


def heights(plan) -> Path:
    return Path(next(n for n in plan.nodes if n.stage == "heights").outputs[0])


def any_temporary(root: Path):
    return lambda: bool(temporaries(root / "out") or temporaries(root / "tmp"))


# (when to act, what to kill, the signal, the exit code expected (None: killed by SIGKILL))
SCENARIOS = {
    "group SIGKILL after heights": ("heights", "group", signal.SIGKILL, None),
    "group SIGKILL after the first σ°": ("σ°", "group", signal.SIGKILL, None),
    "group SIGKILL after the first mask": ("mask", "group", signal.SIGKILL, None),
    "group SIGKILL mid-write": ("writing", "group", signal.SIGKILL, None),
    "main SIGKILL mid-run": ("heights", "main", signal.SIGKILL, None),
    "main SIGTERM mid-run": ("heights", "main", signal.SIGTERM, 143),
    "main SIGINT mid-write": ("writing", "main", signal.SIGINT, 130),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_fault_matrix(reference, scenario):
    plan, root, expected = reference
    when, target, signum, code = SCENARIOS[scenario]
    for folder in ("out", "tmp"):
        shutil.rmtree(root / folder, ignore_errors=True)
    process = subprocess.Popen([sys.executable, str(root / "run.py"), str(root / "plan.json")],
                               cwd=REPO, start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    moment = {"heights": lambda: heights(plan).exists(),
              "σ°": lambda: final(plan, "ortho").exists(),  # a day's only product: the ortho's
              "mask": lambda: first_mask(plan).exists(),
              "writing": any_temporary(root)}[when]
    reached = wait_for(lambda: moment() or process.poll() is not None)
    assert reached and process.poll() is None, f"the run ended before {when}"
    workers = [p for p in group_pids(process.pid) if p != process.pid]
    if target == "group":
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    process.wait(timeout=120)
    # No worker outlives the runner (the kernel's parent-death signal, the pid watcher).
    assert wait_for(lambda: not group_pids(process.pid), 60), _described(group_pids(process.pid))
    output, _ = process.communicate(timeout=60)
    assert workers, "the runner had no worker process"
    if code is None:
        assert process.returncode == -signal.SIGKILL
    else:  # stopped cleanly: S1Tiling's report and the interrupted code, no temporary file
        assert process.returncode == code, output
        name = signal.Signals(signum).name
        assert f"Interrupted by {name}" in output and "Situation:" in output, output
        assert not temporaries(root / "out"), temporaries(root / "out")
    for path in (root / "out").rglob("*.tif"):  # what has a final name is complete
        with rasterio.open(path) as dataset:
            assert "PROVENANCE_HASH" in dataset.tags(), path
            dataset.read()

    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 0, report.lines()
    assert not temporaries(root / "out") and not temporaries(root / "tmp")
    assert missing_outputs(plan, Existing(Store())) == []
    again = contents(root / "out")
    assert sorted(again) == sorted(expected)
    for name, value in expected.items():
        if value is not None:
            np.testing.assert_array_equal(again[name][0], value[0], err_msg=name)
            assert again[name][1] == value[1], name


def test_a_stale_temporary_file_is_removed_by_the_next_run(reference, tmp_path):
    """A temporary file whose writer is gone (a dead pid) goes; one of a live writer stays."""
    plan, root, _ = reference
    folder = final(plan, "ortho").parent
    folder.mkdir(parents=True, exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = folder / f".x.tif.{dead}-0123456789ab.tmp"
    stale_ovr = folder / f".x.tif.{dead}-0123456789ab.tmp.ovr.tmp"
    live = folder / f".y.tif.{os.getppid()}-0123456789ab.tmp"
    for path in (stale, stale_ovr, live):
        path.write_bytes(b"partial")
    run_plan(plan, processes=0, progress=False)
    assert not stale.exists() and not stale_ovr.exists()
    assert live.exists()
    live.unlink()
