"""`submit`, `watch` and the launching pod against a real HTTP exchange on 127.0.0.1 (a small
server speaking the Argo Server and Kubernetes endpoints used; see argo_server.py)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from s1tiling_cloud import exits
from s1tiling_cloud.argo import submit, watch
from s1tiling_cloud.argo.checks import semantic_errors
from s1tiling_cloud.argo.defaults import ArgoSettings
from s1tiling_cloud.argo.names import child_name
from s1tiling_cloud.argo.pods import kubernetes_api, launch, plan_pod
from s1tiling_cloud.argo.schema import schema_errors
from s1tiling_cloud.cli import app

from ..s3server import KEY, REGION, SECRET, s3_client
from .argo_server import ArgoServerThread
from .plans import campaign

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "s3cr3t-bearer-token-value"


@pytest.fixture
def argo():
    with ArgoServerThread() as state:
        yield state


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_submit_sends_a_valid_workflow_referencing_the_template(argo, request_cfg, argo_schema, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
    submitted = submit(request_cfg, host=argo.url, namespace="s1", token=TOKEN, scenario="s1_process_lia")
    assert submitted.name == "s1-process-lia-x7k2p"
    assert submitted.link == f"{argo.url}/workflows/s1/s1-process-lia-x7k2p"
    [post] = argo.requests
    assert (post.method, post.path) == ("POST", "/api/v1/workflows/s1")
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    body = post.body
    assert body["namespace"] == "s1"
    workflow = body["workflow"]
    workflow.setdefault("apiVersion", "argoproj.io/v1alpha1")
    workflow.setdefault("kind", "Workflow")
    assert schema_errors(workflow, path=argo_schema) == []
    assert semantic_errors(workflow, secret_values=[TOKEN, "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"]) == []
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "s1-process-lia"}
    assert workflow["spec"]["arguments"]["parameters"] == [
        {"name": "config", "value": request_cfg.read_text()}]
    assert TOKEN not in json.dumps(body)


def test_submit_through_a_configmap(argo, request_cfg, argo_schema):
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = argo.url
    core = client.CoreV1Api(client.ApiClient(configuration))
    submit(request_cfg, host=argo.url, namespace="s1", use_config_map=True, config_map_api=core)
    created, posted = argo.requests
    assert created.path == "/api/v1/namespaces/s1/configmaps"
    assert created.body["data"] == {"request.cfg": request_cfg.read_text()}
    assert created.body["metadata"]["labels"]["workflows.argoproj.io/configmap-type"] == "Parameter"
    [config] = posted.body["workflow"]["spec"]["arguments"]["parameters"]
    assert config == {"name": "config", "valueFrom": {"configMapKeyRef": {
        "name": created.body["metadata"]["name"], "key": "request.cfg"}}}


def test_cli_submit_prints_name_and_link(argo, request_cfg, monkeypatch):
    monkeypatch.setenv("ARGO_SERVER", argo.url)
    monkeypatch.setenv("ARGO_NAMESPACE", "s1")
    monkeypatch.setenv("ARGO_TOKEN", TOKEN)
    result = CliRunner().invoke(app, ["submit", str(request_cfg), "--image", "registry.local/s1:2"])
    assert result.exit_code == 0, result.output
    assert "s1-process-x7k2p" in result.output
    assert f"{argo.url}/workflows/s1/s1-process-x7k2p" in result.output
    assert TOKEN not in result.output
    parameters = argo.requests[0].body["workflow"]["spec"]["arguments"]["parameters"]
    assert {"name": "image", "value": "registry.local/s1:2"} in parameters


def test_watch_follows_to_the_end_and_returns_the_situation_code(argo):
    parent, child = _fixture("parent_succeeded"), _fixture("child_offline")
    argo.workflows = {"s1-process-x7k2p": parent, "s1-process-x7k2p-part-002": child}
    argo.script["s1-process-x7k2p"] = [{"phase": "Running", "progress": "1/3"}, parent["status"]]
    seen = []
    code = watch("s1-process-x7k2p", host=argo.url, namespace="s1", poll_seconds=0.01,
                 on_progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert code == exits.OFFLINE_DATA
    assert seen[0][0] == "Running" and seen[-1][0] == "Succeeded"
    lists = [r for r in argo.requests if r.path == "/api/v1/workflows/s1"]
    assert lists[0].query["listOptions.labelSelector"] == ["s1tiling-cloud/parent=s1-process-x7k2p"]


def test_cli_watch_exits_with_the_code(argo):
    argo.workflows = {"s1-process-bad": _fixture("parent_config_error")}
    result = CliRunner().invoke(app, ["watch", "s1-process-bad", "--server", argo.url, "--namespace", "s1",
                                      "--poll-seconds", "0.01"])
    assert result.exit_code == exits.CONFIG_ERROR, result.output


@pytest.mark.s3
def test_planning_pod_then_launching_pod(argo, s3_server, tmp_path, monkeypatch, argo_schema):
    """The planning pod writes manifests to object storage; a launching pod creates the child
    through the Kubernetes API (owned by the parent) and ends with the child's outcome."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)  # as the Secret gives them to the pod
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    bucket = f"campaign-{uuid.uuid4().hex[:8]}"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    plan = campaign(["33TTG", "33TUG", "33TVG"], 4)
    plan.storage_options = {"endpoint_url": s3_server, "region": REGION}
    plan.request["paths"]["tmp"] = f"s3://{bucket}/tmp"
    lists = plan_pod("[unused]", scenario="s1_process", workflow_name="s1-process-x7k2p",
                     settings=ArgoSettings(max_nodes=30, namespace="s1"), outputs_dir=tmp_path,
                     workflow_uid="uid-parent", planner=lambda text, scenario: plan)
    assert json.loads((tmp_path / "shared-parts.json").read_text()) == lists["shared-parts"]
    assert len(lists["shared-parts"]) == 1 and len(lists["parts"]) == 3
    assert lists["parts"][0] == f"s3://{bucket}/tmp/argo/s1-process-x7k2p/part-001.json"
    options = json.loads((tmp_path / "storage-options.json").read_text())

    name = child_name("s1-process-x7k2p", "uid-parent", "part-001")
    argo.script[name] = [{"phase": "Running", "progress": "2/14"}, _fixture("child_offline")["status"]]
    progress = tmp_path / "progress"
    monkeypatch.setenv("ARGO_PROGRESS_FILE", str(progress))
    code = launch(lists["parts"][0], storage_options=options, namespace="s1", owner_name="s1-process-x7k2p",
                  owner_uid="uid-parent", api=kubernetes_api(argo.url), poll_seconds=0.01)
    assert code == exits.OFFLINE_DATA
    assert progress.read_text() == "2/3\n"
    created = argo.requests[0]
    assert (created.method, created.path) == ("POST", "/apis/argoproj.io/v1alpha1/namespaces/s1/workflows")
    assert created.body["metadata"]["ownerReferences"][0]["uid"] == "uid-parent"
    assert schema_errors(created.body, path=argo_schema) == []
    # a retried launching pod finds its child; failed, it runs it again (outputs are reused)
    assert launch(lists["parts"][0], storage_options=options, namespace="s1", owner_name="s1-process-x7k2p",
                  owner_uid="uid-parent", api=kubernetes_api(argo.url),
                  poll_seconds=0.01) == exits.OFFLINE_DATA
    assert len(argo.workflows) == 1 and len(argo.deleted) == 1
