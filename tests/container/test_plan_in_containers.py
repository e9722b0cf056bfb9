"""The image runs a real plan as Argo would: the small request's plan (`plan_request`, its
inputs and outputs on the S3 API server) rendered as child Workflows (`argo.children`), each DAG
task in its own `docker run` with the pod's command, env and security settings, sharing nothing
but the S3 API server. The outputs equal the local runner's for the same plan: every raster
byte for byte in its pixels and tags (all but the write time), every STAC document (all but the
stamps that follow from the write time; each asset's checksum is checked against its own run's
file), intermediates included.
"""

from __future__ import annotations

import json

import pytest

from s1tiling_cloud.plan.model import Plan
from s1tiling_cloud.runners.local import run_plan
from s1tiling_cloud.runners.report import RAN
from tests.container.compare import (
    checksum_problems,
    differences,
    empty,
    snapshot,
    without_write_times,
)
from tests.container.pods import plan_pods, run_pod
from tests.container.request import small_plan, upload_inputs
from tests.s3server import KEY, SECRET, s3_client

pytestmark = [pytest.mark.container, pytest.mark.s3, pytest.mark.slow]

BUCKET = "campaign"
#: What the Kubernetes Secret of object storage gives every pod (`envFrom`): keys only; the
#: endpoint and region travel in the plan's `storage_options`, from the request's [Storage].
SECRETS = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
#: The local runner's own records (which nodes are done, under tmp), which pods do not keep.
RECORDS = "tmp/.s1tiling-cloud/"


@pytest.fixture
def run_prefix(request) -> str:
    """The key prefix of a test's outputs and tmp (each test its own: a plan skips what exists)."""
    return f"runs/{request.node.name.removeprefix('test_')[:40]}/"


@pytest.fixture
def planned(s3_server, tmp_path, monkeypatch, run_prefix) -> Plan:
    """The request's inputs uploaded, and its plan made here, as the workflow's first pod does."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    inputs = upload_inputs(s3_server, BUCKET, tmp_path)
    return small_plan(s3_server, inputs, f"s3://{BUCKET}/{run_prefix.rstrip('/')}")


def stac_documents(objects: dict[str, bytes]) -> dict[str, dict]:
    return {key: json.loads(data) for key, data in objects.items() if key.endswith(".json")}


def test_the_plan_in_pods_equals_the_local_run(image, docker_cli, s3_server, planned, run_prefix):
    plan = planned
    assert [n.stage for n in plan.topological()] == [
        "heights", "ortho", "quicklook", "quicklook", "publish"]  # the ortho writes finals and masks
    pods = plan_pods(plan, image)
    assert sorted(p.stage for p in pods) == sorted(n.stage for n in plan.nodes)
    assert all(p.read_only_root and p.user == "1000:1000" and "/tmp" in p.empty_dirs for p in pods)
    assert not any(value in " ".join(p.command) for p in pods for value in SECRETS.values())
    client = s3_client(s3_server)

    report = run_plan(plan, processes=0, progress=False, keep_intermediates=True)
    assert report.code == 0 and {o.status for o in report.outcomes.values()} == {RAN}
    local = {k: v for k, v in snapshot(client, BUCKET, run_prefix).items()
             if not k.startswith(run_prefix + RECORDS)
             and not k.endswith(("/output/index.html", "/output/run.json"))}  # the local run's page
    empty(client, BUCKET, run_prefix)

    results = [run_pod(docker_cli, image, pod, SECRETS) for pod in pods]
    in_pods = snapshot(client, BUCKET, run_prefix)

    assert not any(r["skipped"] for r in results)  # each pod computed its outputs itself
    by_node = {o.stage + str(sorted(o.outputs)) for o in report.outcomes.values()}
    assert {r["stage"] + str(sorted(r["outputs"])) for r in results} == by_node
    rasters = [key for key in local if key.endswith((".tif", ".jpg"))]
    assert len(rasters) == 1 + 2 * 3  # heights, per polarisation final/mask/ql (the ortho's)
    items = {k: v for k, v in stac_documents(local).items() if v.get("type") == "Feature"}
    assert len(items) == 1 and len(next(iter(items.values()))["assets"]) >= 6
    problems = differences(local, in_pods)
    assert problems == [], "\n".join(problems)
    assert checksum_problems(local, BUCKET) == checksum_problems(in_pods, BUCKET) == []
    for key, item in items.items():  # the same assets, hrefs and all
        assert item["assets"]["vv"]["href"].startswith(f"s3://{BUCKET}/{run_prefix}output/")
        assert without_write_times(json.loads(in_pods[key])["assets"]) == without_write_times(
            item["assets"])


def test_a_rerun_pod_reuses_what_another_pod_wrote(image, docker_cli, planned):
    """The re-run rule across pods: outputs whose provenance matches are not recomputed."""
    heights = next(pod for pod in plan_pods(planned, image) if pod.stage == "heights")
    first = run_pod(docker_cli, image, heights, SECRETS)
    again = run_pod(docker_cli, image, heights, SECRETS)
    assert first["skipped"] is False and again["skipped"] is True
    assert again["outputs"] == first["outputs"] == planned.node("heights/31TCJ").outputs
