"""What is already done (`runners.remaining`): a request is complete only when every output its
plan promises exists. Deleting any one output (σ°, `_filtered`, mask, quicklook, STAC item,
collection, catalog) makes a re-run redo exactly what is missing, locally (with the runner's
records) and in the Argo planning pod's reduced plan (without)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid

import numpy as np
import pytest
import rasterio

from s1tiling_cloud.config.model import FilteringSection
from s1tiling_cloud.plan import build_plan
from s1tiling_cloud.runners import run_plan
from s1tiling_cloud.runners.remaining import Existing, missing_outputs, pending_plan, promises
from s1tiling_cloud.runners.report import RAN
from s1tiling_cloud.store import Store
from tests.plan.requests import local_candidate, make_request, outcome_for
from tests.s3server import s3_client, storage_options

TILE = "31TCJ"


@pytest.fixture(scope="module")
def done_once(scene, tmp_path_factory):
    """One product, VH, with despeckling, mask, quicklook and STAC: run once to completion."""
    products, dem = scene
    root = tmp_path_factory.mktemp("remaining")
    request = make_request(str(root), dem_dir=str(dem), quicklook=True, publish=True,
                           polarisation="VH")
    lee = FilteringSection(filter="lee", window_radius=1, nblooks=1.0)
    request = dataclasses.replace(request, filtering=lee)
    plan = build_plan(request, outcome_for({TILE: [local_candidate(products[0])]}))
    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 0, report.lines()
    return plan, root


def files(root) -> dict[str, bytes]:
    out = root / "out"
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def pixels(data: bytes) -> np.ndarray:
    with rasterio.MemoryFile(data) as memory, memory.open() as dataset:
        return dataset.read()


def stamp(path: str) -> tuple[int, int]:
    """A file's inode and modification time: unchanged unless it was written again."""
    found = os.stat(path)
    return found.st_ino, found.st_mtime_ns


def promised(plan, stage: str, suffix: str = "") -> str:
    return next(uri for node in plan.nodes if node.stage == stage and promises(node)
                for uri in node.outputs if uri.endswith(suffix))


CASES = {  # what is deleted → the stages a re-run runs again
    # a day's only product is written by its ortho (no concatenation)
    "sigma0": (("ortho", ".tif"), {"heights", "ortho"}),
    "filtered": (("despeckle", ".tif"), {"despeckle"}),
    # the mask is the ortho's too (native engine): it makes the mask alone from its product,
    # reading none of its inputs (the heights are not made again for it)
    "mask": (("ortho", "_BorderMask.tif"), {"ortho"}),
    "quicklook": (("quicklook", ".jpg"), {"quicklook"}),
    "stac item": (("publish", ".json"), {"publish"}),
    "collection": (("publish", "collection.json"), {"publish"}),
    "catalog": (("publish", "catalog.json"), {"publish"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_deleting_any_output_makes_a_rerun_redo_exactly_it(done_once, case):
    plan, root = done_once
    (stage, suffix), expected = CASES[case]
    reference = files(root)
    victim = promised(plan, stage, suffix)
    store = Store()
    assert store.exists(victim)
    store.remove(victim)
    others = {uri: stamp(uri) for node in plan.nodes if promises(node) for uri in node.outputs
              if uri != victim}

    assert missing_outputs(plan, Existing(store)) == [victim]
    # The Argo planning pod (no records): only the nodes with work, no edge to a done node.
    reduced = pending_plan(plan)
    assert {n.stage for n in reduced.nodes} == expected, [n.id for n in reduced.nodes]
    assert all(d in {n.id for n in reduced.nodes} for n in reduced.nodes for d in n.depends)

    report = run_plan(plan, processes=0, progress=False)
    assert report.code == 0, report.lines()
    ran = {o.stage for o in report.outcomes.values() if o.status == RAN}
    assert ran == expected, case
    again = files(root)
    assert sorted(again) == sorted(reference)  # the exact set of outputs, nothing more
    for name, data in reference.items():
        if name.endswith(".tif"):
            np.testing.assert_array_equal(pixels(again[name]), pixels(data), err_msg=name)
    assert missing_outputs(plan, Existing(store)) == []
    if case not in ("sigma0", "stac item", "collection", "catalog"):  # written with the victim
        assert {uri: stamp(uri) for uri in others} == others  # nothing else rewritten
    quiet = run_plan(plan, processes=0, progress=False)
    assert quiet.code == 0 and RAN not in {o.status for o in quiet.outcomes.values()}


def test_without_records_existing_outputs_are_done_and_missing_ones_are_made(done_once):
    """The planning pod's rule is the runner's without records: outputs that exist are done
    (S1Tiling's rule), whoever wrote them."""
    plan, root = done_once
    shutil.rmtree(root / "tmp" / ".s1tiling-cloud")
    assert pending_plan(plan).nodes == []
    mask = promised(plan, "ortho", "_BorderMask.tif")
    Store().remove(mask)
    report = run_plan(plan, processes=0, progress=False)
    assert {o.stage for o in report.outcomes.values() if o.status == RAN} == {"ortho"}


def test_a_replan_keeps_a_group_whose_sigma0_exists_but_not_its_mask(scene, tmp_path):
    """The search no longer drops a group because its σ° files exist (defect: a run killed
    after σ° was written never made the mask, quicklook nor STAC item)."""
    from s1tiling_cloud.plan.request import plan_request

    products, dem = scene
    shutil.copytree(products[0], tmp_path / "s1" / products[0].name)
    request = make_request(str(tmp_path), dem_dir=str(dem), publish=True, polarisation="VH")
    assert run_plan(plan_request(request), processes=0, progress=False).code == 0
    plan = plan_request(request)
    mask = promised(plan, "ortho", "_BorderMask.tif")
    Store().remove(mask)
    report = run_plan(plan_request(request), processes=0, progress=False)
    assert {o.stage for o in report.outcomes.values() if o.status == RAN} == {"ortho"}
    assert Store().exists(mask)


def test_outputs_made_with_other_settings_are_kept_as_s1tiling_does(scene, tmp_path):
    """Records of other work (another [Metadata]; a copied bucket): the outputs decide."""
    products, dem = scene
    request = make_request(str(tmp_path), dem_dir=str(dem), publish=True, polarisation="VH")
    plan = build_plan(request, outcome_for({TILE: [local_candidate(products[0])]}))
    assert run_plan(plan, processes=0, progress=False).code == 0
    other = build_plan(dataclasses.replace(request, metadata={"PROJECT": "another"}),
                       outcome_for({TILE: [local_candidate(products[0])]}))
    before = files(tmp_path)
    report = run_plan(other, processes=0, progress=False)
    assert report.code == 0 and RAN not in {o.status for o in report.outcomes.values()}
    assert files(tmp_path) == before


def test_a_deleted_gamma_area_map_is_made_again_with_only_its_inputs(tmp_path):
    """γ°RTC, every product of the tile's date done but its γ-area map deleted: the map is
    pending with the inputs it needs (the products, the heights), no σ°/RTC/mask again."""
    from tests.plan.test_build import PAIR

    request = make_request(str(tmp_path), calibration="gamma_naught_rtc")
    plan = build_plan(request, outcome_for({TILE: [*PAIR]}))
    for node in plan.nodes:
        if promises(node):  # the published outputs: what stays after a run
            for uri in node.outputs:
                Store().write_bytes(uri, b"done")
    assert pending_plan(plan).nodes == []
    area = promised(plan, "gamma_area", ".tif")
    Store().remove(area)
    reduced = pending_plan(plan)
    assert sorted(n.stage for n in reduced.nodes) == ["gamma_area", "heights", "ingest", "ingest"]
    assert missing_outputs(plan, Existing(Store())) == [area]


@pytest.mark.s3
def test_existence_on_s3_from_one_listing_per_folder(s3_server):
    """Objects are found in their folder's listing; a sub-folder is no output; a SAFE folder
    exists with its manifest."""
    bucket = f"remaining-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    store = Store(storage_options(s3_server), environ={})
    root = f"s3://{bucket}/out/{TILE}"
    store.write_bytes(f"{root}/a.tif", b"a")
    store.write_bytes(f"{root}/sub/b.tif", b"b")
    store.write_bytes(f"s3://{bucket}/s1/P.SAFE/manifest.safe", b"<xfdu/>")
    exists = Existing(store)
    assert exists(f"{root}/a.tif") and not exists(f"{root}/sub") and not exists(f"{root}/c.tif")
    assert exists(f"{root}/sub/b.tif") and exists(f"s3://{bucket}/s1/P.SAFE")
    assert not exists(f"s3://{bucket}/s1/Q.SAFE") and not exists(f"s3://{bucket}-absent/x.tif")
