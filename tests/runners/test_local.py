"""The local runner on small synthetic products: outputs named and tagged as S1Tiling's, a
re-run that does nothing, a killed run that a re-run completes to the same rasters, failures
counted and reported as S1Tiling counts them."""

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

from s1tiling_cloud.exceptions import DownloadTimeoutError
from s1tiling_cloud.plan import Plan, build_plan
from s1tiling_cloud.runners import run_plan
from s1tiling_cloud.runners.report import DONE, FAILED, PRUNED, RAN, NodeOutcome, situation_of
from s1tiling_cloud.runners.worker import describe
from s1tiling_cloud.store import Store
from tests.plan.requests import local_candidate, make_request, outcome_for, remote_candidate
from tests.s3server import s3_client, storage_options, upload

FINALS = ["s1a_31TCJ_vv_DES_007_20200108t044150.tif", "s1a_31TCJ_vh_DES_007_20200108t044150.tif",
          "s1a_31TCJ_vv_DES_007_20200120t044150.tif", "s1a_31TCJ_vh_DES_007_20200120t044150.tif"]


def plan_for(root: str, candidates, dem: Path, **options) -> Plan:
    request = make_request(root, dem_dir=str(dem), quicklook=True, **options)
    return build_plan(request, outcome_for({"31TCJ": list(candidates)}))


def statuses(report) -> dict[str, str]:
    return {o.id: o.status for o in report.outcomes.values()}


def rasters(folder: Path) -> dict[str, tuple[np.ndarray, dict]]:
    """Every raster under `folder`: its pixels and its tags but the generation time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".tif", ".jpg"):
            with rasterio.open(path) as dataset:
                tags = dataset.tags()
                tags.pop("TIFFTAG_DATETIME", None)
                found[str(path.relative_to(folder))] = (dataset.read(), tags)
    return found


def test_local_run_makes_s1tiling_products_and_a_rerun_does_nothing(scene, tmp_path):
    products, dem = scene
    plan = plan_for(str(tmp_path), [local_candidate(p) for p in products], dem)
    report = run_plan(plan, processes=2, progress=False)
    assert report.code == 0, report.lines()
    assert set(statuses(report).values()) == {RAN}
    tile = tmp_path / "out" / "31TCJ"
    assert sorted(p.name for p in tile.iterdir()) == sorted(
        FINALS + [f.replace(".tif", "_BorderMask.tif") for f in FINALS])
    assert len(list((tmp_path / "out" / "_QL").glob("*_quicklook.jpg"))) == 4
    with rasterio.open(tile / FINALS[2]) as dataset:
        tags = dataset.tags()
        assert dataset.dtypes == ("float32",) and dataset.res == (60.0, 60.0)
        assert (dataset.read(1) > 0).any()
    assert tags["IMAGE_TYPE"] == "BACKSCATTERING" and tags["CALIBRATION"] == "sigma"
    assert tags["S2_TILE_CORRESPONDING_CODE"] == "31TCJ" and tags["PROJECT"] == "s1tiling-cloud tests"
    assert tags["INPUT_S1_IMAGES"] == products[1].stem
    lines = report.lines()
    assert f"Success: {tile / FINALS[0]}" in lines
    assert lines[-1] == "Situation: 0 computations errors. 0 search failures. 0 download failures. " \
                        "0 download timeouts"
    # Intermediates (heights, per-image orthos) are gone once their products are made.
    assert sorted(report.removed) == sorted(u for n in plan.nodes if n.intermediate for u in n.outputs)
    assert not list((tmp_path / "tmp").rglob("*.tif"))
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*") if p.is_file()}

    again = run_plan(plan, processes=2, progress=False)
    assert again.code == 0
    states = statuses(again)
    assert {states[n.id] for n in plan.nodes if n.intermediate} == {PRUNED}
    assert {states[n.id] for n in plan.nodes if not n.intermediate} == {DONE}
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert f"Success: {tile / FINALS[0]}" in again.lines()


def test_debug_caches_keep_intermediates_and_stages_reuse_them(scene, tmp_path):
    products, dem = scene
    plan = plan_for(str(tmp_path), [local_candidate(products[0])], dem, mask=False)
    plan.nodes = [n for n in plan.nodes if n.stage != "quicklook"]
    assert run_plan(plan, processes=0, keep_intermediates=True, progress=False).code == 0
    kept = sorted(p.name for p in (tmp_path / "tmp" / "S2" / "31TCJ").glob("*.tif"))
    # a day's only product is the ortho's own output, final: no per-image σ° in tmp
    assert kept == ["DEM_GEOID_projected_on_31TCJ.tif"]
    shutil.rmtree(tmp_path / "tmp" / ".s1tiling-cloud")  # no records: outputs that exist are done
    again = run_plan(plan, processes=0, progress=False)
    assert {o.status for o in again.outcomes.values()} == {"done", "pruned"}
    assert not list((tmp_path / "tmp").rglob("*.tif"))  # now removed


@pytest.mark.s3
def test_local_run_on_object_storage(scene, s3_server, tmp_path):
    products, dem = scene
    bucket = f"run-{os.getpid()}-{time.monotonic_ns() % 100000}"
    location = upload(s3_server, bucket, products[0], "s1")
    plan = plan_for(f"s3://{bucket}", [local_candidate(products[0], location)], dem)
    plan.storage_options = storage_options(s3_server)
    report = run_plan(plan, processes=1, progress=False)
    assert report.code == 0, report.lines()
    listing = s3_client(s3_server).list_objects_v2(Bucket=bucket, Prefix="out/")
    keys = sorted(o["Key"] for o in listing.get("Contents", []))
    assert f"out/31TCJ/{FINALS[0]}" in keys and f"out/31TCJ/{FINALS[1]}" in keys
    assert "out/_QL/s1a_31TCJ_vh_DES_007_20200108t044150_quicklook.jpg" in keys
    store = Store(plan.storage_options)
    tags = store.read_tags(f"s3://{bucket}/out/31TCJ/{FINALS[0]}")
    assert tags["INPUT_S1_IMAGES"] == products[0].stem and tags["POLARIZATION"] == "vv"
    tmp = s3_client(s3_server).list_objects_v2(Bucket=bucket, Prefix="tmp/")
    assert not [o["Key"] for o in tmp.get("Contents", []) if o["Key"].endswith(".tif")]
    again = run_plan(plan, processes=0, progress=False)
    assert RAN not in statuses(again).values() and again.code == 0


_RUN = """
import sys
from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.runners.local import run_plan
if __name__ == "__main__":
    run_plan(Plan.from_json(open(sys.argv[1]).read()), processes=1, progress=False)
"""


def test_a_killed_run_rerun_gives_the_same_rasters(scene, tmp_path):
    products, dem = scene
    plan = plan_for(str(tmp_path), [local_candidate(p) for p in products], dem)
    assert run_plan(plan, processes=0, progress=False).code == 0
    reference = rasters(tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
    shutil.rmtree(tmp_path / "tmp")
    (tmp_path / "plan.json").write_text(plan.to_json())
    (tmp_path / "run.py").write_text(_RUN)
    process = subprocess.Popen([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "plan.json")],
                               start_new_session=True, cwd=Path(__file__).resolve().parents[2])
    first = tmp_path / "out" / "31TCJ" / FINALS[0]
    deadline = time.monotonic() + 120
    while not first.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the runner and its worker, mid-run
    process.wait()
    assert first.exists(), "the run ended before it was killed"
    made = [p for p in (tmp_path / "out").rglob("*.tif")]
    assert len(made) < len(reference) - 4  # killed midway: not every product is there
    for path in made:  # what has a final name is complete
        with rasterio.open(path) as dataset:
            assert "PROVENANCE_HASH" in dataset.tags()
            dataset.read()
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 0 and RAN in statuses(report).values()
    again = rasters(tmp_path / "out")
    assert sorted(again) == sorted(reference)
    for name, (pixels, tags) in reference.items():
        np.testing.assert_array_equal(again[name][0], pixels, err_msg=name)
        assert again[name][1] == tags, name


def test_a_corrupted_product_gives_71_and_every_other_product(scene, tmp_path):
    products, dem = scene
    spoiled = tmp_path / "s1" / products[0].name
    shutil.copytree(products[0], spoiled)
    next((spoiled / "measurement").glob("*-vv-*.tiff")).unlink()
    plan = plan_for(str(tmp_path), [local_candidate(spoiled), local_candidate(products[1])], dem)
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 71
    assert report.situation.nb_computation_errors == 1
    states = statuses(report)
    assert states[f"ortho/31TCJ/{products[0].stem}"] == FAILED
    assert states[f"ortho/31TCJ/{products[1].stem}"] == RAN
    assert {p.name for p in (tmp_path / "out" / "31TCJ").glob("*.tif")} == {
        FINALS[2], FINALS[3], FINALS[2].replace(".tif", "_BorderMask.tif"),
        FINALS[3].replace(".tif", "_BorderMask.tif")}
    lines = report.lines()
    assert any(line.startswith("Computation failure: 's1a_31TCJ_DES_007_20200108t044150' cannot be "
                               "produced because of MissingMeasurementError") for line in lines)
    assert lines[-1].startswith("Situation: 1 computations errors. 0 search failures.")
    # The intermediates the failed product needed are kept for the next run; the others are not.
    assert (tmp_path / "tmp" / "S2" / "31TCJ" / "DEM_GEOID_projected_on_31TCJ.tif").exists()


def test_a_download_failure_gives_67_and_skips_only_its_products(scene, tmp_path):
    products, dem = scene
    offline = remote_candidate(local_candidate(products[1]))
    offline.eodag = None  # nothing to download it from: the ingest stage fails, offline
    plan = plan_for(str(tmp_path), [local_candidate(products[0]), offline], dem)
    plan.search["search_failures"] = 0
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 67
    assert (report.situation.nb_download_failures, report.situation.nb_computation_errors) == (1, 0)
    assert (tmp_path / "out" / "31TCJ" / FINALS[0]).exists()
    assert not (tmp_path / "out" / "31TCJ" / FINALS[2]).exists()
    assert any(line.startswith("Download failure: 's1a_31TCJ_DES_007_20200120t044150' cannot be produced "
                               "because of DownloadS1FileError") for line in report.lines())


def test_counts_follow_s1tilings_rule():
    def failed(error: Exception) -> NodeOutcome:
        return NodeOutcome("ingest/x", "ingest", "x", FAILED, error=describe(error))

    timeout = failed(DownloadTimeoutError("31TCJ"))
    assert timeout.error["category"] == "download_timeout"
    assert situation_of([timeout]).code == 68  # only timeouts: offline data
    assert situation_of([timeout], search_failures=1).code == 67
    assert situation_of([timeout, failed(ValueError("boom"))]).code == 66
    assert str(situation_of([timeout])) == ("Situation: 0 computations errors. 0 search failures. "
                                            "1 download failures. 1 download timeouts")


def _forkserver_workers() -> list[int]:
    """The pids of this process's pool workers: children of its forkserver (read from /proc)."""
    def parent(pid: str) -> int:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])

    def cmdline(pid: str) -> str:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")

    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    servers = set()
    for pid in pids:
        try:
            if parent(pid) == os.getpid() and "forkserver" in cmdline(pid):
                servers.add(int(pid))
        except OSError:
            continue
    workers = []
    for pid in pids:
        try:
            if parent(pid) in servers:
                workers.append(int(pid))
        except OSError:
            continue
    return workers


def test_a_worker_killed_once_is_tried_again_and_the_run_completes(scene, tmp_path, caplog):
    """S1Tiling retries a killed Dask worker's task once; a worker killed (as by the kernel's
    out-of-memory killer) while it works fails nothing."""
    import threading

    products, dem = scene
    plan = plan_for(str(tmp_path), [local_candidate(products[0])], dem, mask=False)
    reports = []
    thread = threading.Thread(target=lambda: reports.append(run_plan(plan, processes=1,
                                                                     progress=False)))
    thread.start()
    heights = next(n for n in plan.nodes if n.stage == "heights").outputs[0]
    deadline = time.monotonic() + 120
    while not os.path.exists(heights) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _forkserver_workers()
    assert workers, "no pool worker found"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)  # the worker, now busy with the product's ortho
    thread.join(300)
    assert reports, "the run did not end"
    report = reports[0]
    assert report.code == 0, report.lines()
    assert set(statuses(report).values()) == {RAN}
    assert (tmp_path / "out" / "31TCJ" / FINALS[0]).exists()
    assert "died" in caplog.text  # the death was seen, and survived


def test_a_rerun_after_a_download_run_matches_its_records(scene, tmp_path):
    """The run that downloaded a product plans an ingest node; its re-run finds the product in
    the cache and plans none. The other nodes' records must still match."""
    from s1tiling_cloud.runners.records import node_digests

    products, dem = scene
    cached = local_candidate(products[0], location=f"{tmp_path}/s1/{products[0].name}")
    downloaded = plan_for(str(tmp_path), [remote_candidate(cached)], dem)
    rerun = plan_for(str(tmp_path), [cached], dem)
    assert any(n.stage == "ingest" for n in downloaded.nodes)
    assert not any(n.stage == "ingest" for n in rerun.nodes)
    first, second = node_digests(downloaded), node_digests(rerun)
    assert {n: d for n, d in first.items() if not n.startswith("ingest/")} == second


@pytest.mark.parametrize(("calibration", "suffix", "tag"), [
    ("normlim", "NormLim", "Normlim"), ("gamma_naught_rtc", "GammaNaughtRTC", "GammaNaughtRTC")])
def test_a_single_product_day_under_a_terrain_correction_completes(scene, tmp_path, calibration,
                                                                  suffix, tag):
    # The per-image ortho and the one-image concatenation once shared a temporary name: the
    # ortho's removal took the concatenated file and the correction ended in exit 66. Now the
    # ortho writes that day's product itself, an intermediate the correction reads.
    products, dem = scene
    request = make_request(str(tmp_path), dem_dir=str(dem), calibration=calibration,
                           polarisation="VV")
    plan = build_plan(request, outcome_for({"31TCJ": [local_candidate(products[1])]}))
    ortho = next(n for n in plan.nodes if n.stage == "ortho")
    assert ortho.intermediate and not any(n.stage == "concatenate" for n in plan.nodes)
    report = run_plan(plan, processes=1, progress=False)
    assert report.code == 0, report.lines()
    final = f"s1a_31TCJ_vv_DES_007_20200120t044150_{suffix}.tif"
    assert sorted(p.name for p in (tmp_path / "out" / "31TCJ").iterdir()) == [
        final, final.replace(".tif", "_BorderMask.tif")]
    with rasterio.open(tmp_path / "out" / "31TCJ" / final) as dataset:
        assert (dataset.read(1) > 0).any()
        assert dataset.tags()["CALIBRATION"] == tag
