"""A full disk is S1Tiling's 69 (outputs) or 70 (tmp), naming the file, with nothing partial left
(a real 256 KiB tmpfs: needs root to mount it)."""

from __future__ import annotations

import os
import subprocess

import pytest

from s1tiling_cloud import exits
from s1tiling_cloud.plan import build_plan
from s1tiling_cloud.runners import run_plan
from tests.plan.requests import local_candidate, make_request, outcome_for


@pytest.fixture
def small_disk(tmp_path):
    """A full 256 KiB filesystem (tmpfs) with `out` and `tmp` folders, unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        for name in ("out", "tmp"):
            (folder / name).mkdir()
        with open(folder / "filler", "wb", buffering=0) as filler:  # fill it to the last block
            try:
                while True:
                    filler.write(b"\xa5" * 4096)
            except OSError:
                pass
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)

def written(folder) -> list[str]:
    """The files on the small disk but the filler (and the runner's bookkeeping)."""
    return sorted(str(p) for p in folder.rglob("*")
                  if p.is_file() and p.name != "filler" and p.suffix != ".jsonl")


def test_a_full_output_disk_is_69_naming_the_file(scene, small_disk, tmp_path):
    products, dem = scene
    request = make_request(str(tmp_path), dem_dir=str(dem), polarisation="VV", mask=False)
    request.paths.output = str(small_disk / "out")
    plan = build_plan(request, outcome_for({"31TCJ": [local_candidate(products[0])]}))
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == exits.OUTPUT_DISK_FULL == 69, report.lines()
    final = next(n for n in plan.nodes if n.stage == "ortho").outputs[0]  # a day's only product
    assert f"No space left on the output disk: cannot write {final}" in report.lines()
    assert written(small_disk) == []  # nothing partial
    assert set((small_disk / "filler").read_bytes()) == {0xA5}  # nothing written lost


def test_a_full_tmp_disk_is_70_naming_the_file(scene, small_disk, tmp_path):
    products, dem = scene
    request = make_request(str(tmp_path), dem_dir=str(dem), polarisation="VV", mask=False)
    request.paths.tmp = str(small_disk / "tmp")
    plan = build_plan(request, outcome_for({"31TCJ": [local_candidate(products[0])]}))
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == exits.TMP_DISK_FULL == 70, report.lines()
    assert any(line.startswith("No space left on the tmp disk: cannot write "
                               f"{small_disk / 'tmp'}") for line in report.lines())
    assert written(small_disk) == []
