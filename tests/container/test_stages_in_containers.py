"""The image runs the stages as Argo pods do: each stage of a small request in its own
`docker run` (non-root, read-only root filesystem), sharing nothing but the S3 API server, and
the outputs equal the local run's, byte for byte in the rasters (all tags but the write time).
"""

from __future__ import annotations

import json

import pytest

from s1tiling_cloud.stages.base import run_stage
from tests.container.chain import demo_chain, write_inputs
from tests.container.compare import differences, snapshot
from tests.container.docker import run_in_container
from tests.s3server import gdal_env, s3_client, upload

pytestmark = [pytest.mark.container, pytest.mark.s3, pytest.mark.slow]

BUCKET = "campaign"


def test_every_stage_in_its_own_container_equals_the_local_run(image, docker_cli, s3_server,
                                                                 tmp_path, monkeypatch):
    product, dem = write_inputs(tmp_path)
    product_uri = upload(s3_server, BUCKET, product, "inputs/s1")
    dem_uri = upload(s3_server, BUCKET, dem, "inputs/dem")
    calls = demo_chain(product, product_uri, dem_uri, f"s3://{BUCKET}/run")
    assert [name for name, _ in calls] == ["heights", "ortho"] + ["concatenate", "mask",
                                                                   "quicklook"] * 2
    # Credentials and endpoint come from the environment, as in a pod (never in the arguments).
    environment = gdal_env(s3_server)
    assert not any(value in json.dumps(calls) for value in ("testing", s3_server))
    client = s3_client(s3_server)

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    local_results = [run_stage(name, arguments) for name, arguments in calls]
    local = snapshot(client, BUCKET, "run/")
    for key in local:
        client.delete_object(Bucket=BUCKET, Key=key)

    pod_results = [run_in_container(docker_cli, image, name, arguments, environment)
                   for name, arguments in calls]
    pods = snapshot(client, BUCKET, "run/")

    # (a pod's arguments are sorted JSON, as the WorkflowTemplates pass them: compare as sets)
    assert [sorted(r["outputs"]) for r in pod_results] == [sorted(r.outputs) for r in local_results]
    assert not any(r["skipped"] for r in pod_results)  # each pod computed its outputs itself
    rasters = [key for key in local if key.endswith((".tif", ".jpg"))]
    assert len(rasters) == 1 + 2 + 2 * 3  # heights, 2 orthos, per polarisation final/mask/ql
    assert differences(local, pods) == []


def test_a_rerun_pod_reuses_what_another_pod_wrote(image, docker_cli, s3_server, tmp_path):
    """The re-run rule across pods: outputs whose provenance matches are not recomputed."""
    product, dem = write_inputs(tmp_path)
    dem_uri = upload(s3_server, BUCKET, dem, "rerun/dem")
    calls = demo_chain(product, "unused", dem_uri, f"s3://{BUCKET}/rerun")
    name, arguments = calls[0]
    environment = gdal_env(s3_server)
    first = run_in_container(docker_cli, image, name, arguments, environment)
    again = run_in_container(docker_cli, image, name, arguments, environment)
    assert first["skipped"] is False and again["skipped"] is True
    assert again["outputs"] == first["outputs"] == [arguments["out_uri"]]
