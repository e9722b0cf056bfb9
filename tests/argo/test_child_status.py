"""Launching pods and `watch` against children as Argo really stores and serves them: a large
child's nodes compressed or offloaded, API errors while polling, a request with nothing to do,
a name taken by another parent's child. HTTP on 127.0.0.1 (argo_server.py), node statuses as
the controller writes them (argo_status.py)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import requests
from kubernetes.client.exceptions import ApiException
from typer.testing import CliRunner

from s1tiling_cloud import exits
from s1tiling_cloud.argo import ParentRef, part_workflows, watch
from s1tiling_cloud.argo.client import ArgoServer
from s1tiling_cloud.argo.defaults import ArgoSettings
from s1tiling_cloud.argo.nodes import OffloadedNodes
from s1tiling_cloud.argo.pods import ForeignChild, in_cluster_server, kubernetes_api, launch, plan_pod
from s1tiling_cloud.argo.situation import situation_from_workflow
from s1tiling_cloud.argo.templates import AFTER_SHARED
from s1tiling_cloud.argo.transient import Backoff
from s1tiling_cloud.cli import app
from s1tiling_cloud.exits import Situation
from s1tiling_cloud.plan.build import build_plan
from s1tiling_cloud.search.model import SearchOutcome

from .argo_server import ArgoServerThread
from .argo_status import MAX_WORKFLOW_SIZE, TooLarge, simulated_status, size, stored
from .plans import campaign, request

PARENT = "s1-process-x7k2p"
PARENT_UID = "uid-parent"
FAST = Backoff(attempts=5, first=0.01, longest=0.01)


@pytest.fixture
def argo():
    with ArgoServerThread() as state:
        yield state


@pytest.fixture(scope="module")
def large_child() -> dict:
    """The largest child the default split makes of a 10-tile × 12-day campaign."""
    plan = campaign([f"3{i}T{c}G" for i in range(1, 6) for c in "TU"], 12, shared=False)
    pairs = part_workflows(plan, parent=ParentRef(PARENT, PARENT_UID), settings=ArgoSettings(namespace="s1"))
    part, workflow = max(pairs, key=lambda pair: len(pair[0].nodes))
    document = workflow.to_dict()
    document["metadata"].update(namespace="s1", ownerReferences=[
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": PARENT, "uid": PARENT_UID}])
    return document


def _tasks(document: dict) -> list[dict]:
    return next(t for t in document["spec"]["templates"] if t["name"] == "main")["dag"]["tasks"]


def _ended(document: dict) -> tuple[dict, Situation]:
    """The child ended as a real campaign does: every task retried to its template's limit once
    (the worst status size), two ingests failing 67 and 68, one ortho failing 71 for good."""
    limits = {t["name"]: int(t["retryStrategy"]["limit"]) for t in document["spec"]["templates"]
              if t.get("retryStrategy")}
    attempts = {t["name"]: [78] * limits[t["template"]] + [0] for t in _tasks(document)}
    ingests = [t["name"] for t in _tasks(document) if t["template"].startswith("stage-ingest")]
    orthos = [t["name"] for t in _tasks(document) if t["template"] == "stage-ortho"]
    attempts[ingests[0]] = [67] * (limits["stage-ingest-default"] + 1)
    attempts[ingests[1]] = [68] * (limits["stage-ingest-default"] + 1)
    attempts[orthos[0]] = [78, 71]
    return {**document, "status": simulated_status(document, attempts)}, Situation(1, 0, 2, 1)


def _write_manifest(tmp_path: Path, document: dict) -> str:
    manifest = {k: v for k, v in document.items() if k != "status"}
    manifest["metadata"] = {k: v for k, v in manifest["metadata"].items() if k != "ownerReferences"}
    path = tmp_path / "part.json"
    path.write_text(json.dumps(manifest))
    return str(path)


def test_a_large_child_status_passes_1_mib_and_argo_stores_it_compressed(large_child):
    """workflow/packer/packer.go: past MAX_WORKFLOW_SIZE (1 MiB) of JSON the nodes go to
    `status.compressedNodes`; they must then fit, or the controller fails the workflow."""
    ended, expected = _ended(large_child)
    assert len(_tasks(large_child)) > 300
    assert size(ended) > MAX_WORKFLOW_SIZE  # status.nodes alone would not fit
    packed, offloaded = stored(ended)
    assert offloaded is None and "nodes" not in packed["status"] and packed["status"]["compressedNodes"]
    assert size(packed) < MAX_WORKFLOW_SIZE // 2  # room to spare: spec + compressed nodes
    # the Situation is the same whichever way the nodes are stored
    assert situation_from_workflow(ended) == situation_from_workflow(packed) == expected
    with pytest.raises(TooLarge):
        stored(ended, max_size=size(packed) - 1)


def test_launch_reads_a_compressed_child(argo, large_child, tmp_path, caplog):
    """The Kubernetes API serves the Workflow as stored: the launcher decodes compressedNodes
    and logs the child's counts."""
    caplog.set_level("INFO", logger="s1tiling_cloud.argo.pods")
    ended, expected = _ended(large_child)
    packed, _ = stored(ended)
    name = large_child["metadata"]["name"]
    argo.script[name] = [{"phase": "Running", "progress": "3/400"}, packed["status"]]
    code = launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
                  owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url), poll_seconds=0)
    assert code == expected.code == exits.TASK_FAILED
    assert "compressedNodes" in argo.workflows[name]["status"]
    assert str(expected) in caplog.text  # 1 computation error, 2 download failures, 1 timeout


def test_launch_reads_an_offloaded_child_through_the_argo_server(argo, large_child, tmp_path):
    """workflow/hydrator/hydrator.go: with node-status offload the object keeps only
    `offloadNodeStatusVersion`; the Argo Server's GetWorkflow hydrates it
    (server/workflow/workflow_server.go)."""
    ended, expected = _ended(large_child)
    packed, nodes = stored(ended, offload=True)
    name = large_child["metadata"]["name"]
    argo.script[name] = [packed["status"]]
    argo.offloaded[name] = nodes
    manifest = _write_manifest(tmp_path, large_child)
    server = ArgoServer.resolve(argo.url, "s1", "sa-token", base_href="")
    code = launch(manifest, storage_options={}, namespace="s1", owner_name=PARENT, owner_uid=PARENT_UID,
                  api=kubernetes_api(argo.url), server=server, poll_seconds=0)
    assert code == expected.code
    hydrating = [r for r in argo.requests if r.path == f"/api/v1/workflows/s1/{name}"]
    assert len(hydrating) == 1 and hydrating[0].headers["Authorization"] == "Bearer sa-token"
    # with no Argo Server the launcher cannot count: it fails (the CLI exits 78, retried)
    with pytest.raises(OffloadedNodes):
        launch(manifest, storage_options={}, namespace="s1", owner_name=PARENT, owner_uid=PARENT_UID,
               api=kubernetes_api(argo.url), poll_seconds=0)


@pytest.mark.parametrize("offload", [False, True])
def test_watch_counts_a_large_child_however_it_is_stored(argo, large_child, offload):
    """`watch` polls phases with Argo's `fields`, then reads each workflow whole through
    GetWorkflow (hydrated); the list endpoint would serve compressed nodes as stored."""
    ended, expected = _ended(large_child)
    packed, nodes = stored(ended, offload=offload)
    name = large_child["metadata"]["name"]
    parent = {"metadata": {"name": PARENT, "namespace": "s1"}, "spec": {},
              "status": {"phase": "Failed", "progress": "1/2", "nodes": {
                  "l": {"id": "l", "type": "Pod", "phase": "Failed", "templateName": "launch",
                        "inputs": {"parameters": [{"name": "manifest", "value": "s3://x"}]},
                        "outputs": {"exitCode": str(expected.code)}}}}}
    argo.workflows = {PARENT: parent, name: packed}
    if offload:
        argo.offloaded[name] = nodes
    assert watch(PARENT, host=argo.url, namespace="s1", poll_seconds=0) == expected.code
    polls = [r for r in argo.requests if "fields" in r.query]
    assert polls and all("nodes" not in r.query["fields"][0] for r in polls)


def test_launch_retries_api_errors_while_polling(argo, large_child, tmp_path):
    """A brief API outage during hours of polling (503, 504, 429) is waited out with backoff;
    a refusal that retrying cannot fix (403) is not retried."""
    ended, expected = _ended(large_child)
    name = large_child["metadata"]["name"]
    argo.script[name] = [{"phase": "Running"}, {"phase": "Running"}, stored(ended)[0]["status"]]
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:  # the first poll interval: the API server restarts
            argo.fail.extend([503, 504, 429])

    code = launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
                  owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url),
                  poll_seconds=1, backoff=FAST, sleep=sleep)
    assert code == expected.code
    assert waits.count(0.01) == 3  # three backoff waits, then polling went on
    argo.fail.append(403)
    with pytest.raises(ApiException) as raised:
        launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
               owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url),
               poll_seconds=0, backoff=FAST, sleep=sleep)
    assert raised.value.status == 403


def test_a_launcher_never_follows_another_parents_child(argo, large_child, tmp_path):
    """HTTP 409 on create means the name is taken: re-attach only to this parent's own child."""
    name = large_child["metadata"]["name"]
    foreign = json.loads(json.dumps(large_child))
    foreign["metadata"]["ownerReferences"][0]["uid"] = "uid-yesterday"
    argo.workflows[name] = foreign
    with pytest.raises(ForeignChild, match="not a child of"):
        launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
               owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url), poll_seconds=0)


def test_unexpected_errors_of_the_pods_exit_78_which_their_retry_rule_retries(tmp_path):
    """Not 1, which no retry expression of the templates matches (the parent would fail while
    its child runs on)."""
    missing = tmp_path / "nowhere" / "part-001.json"  # FileNotFoundError: no typed error
    result = CliRunner().invoke(app, ["workflow", "launch", str(missing), "--namespace", "s1"])
    assert result.exit_code == exits.UNKNOWN_REASON, result.output
    assert "FileNotFoundError" in result.output
    result = CliRunner().invoke(app, ["workflow", "plan-pod", "--scenario", "s1_process", "--workflow-name",
                                      "w", "--outputs-dir", str(tmp_path), "--semaphore-keys", "[default"])
    assert result.exit_code == exits.UNKNOWN_REASON, result.output  # JSONDecodeError: unexpected


def test_a_finished_request_submits_nothing_and_succeeds(argo, tmp_path):
    """A run with nothing to do (here: no new acquisition) makes no child: Argo would refuse
    its empty DAG (validate.go). The fan-outs get empty lists, which dag.go skips
    ("Skipped, empty params"), and `parts` still runs after a skipped `shared`."""
    plan = build_plan(request(["33TTG"]), SearchOutcome(per_tile={"33TTG": []}, found=0))
    assert plan.nodes == []
    plan.request["paths"]["tmp"] = str(tmp_path / "tmp")
    lists = plan_pod("[unused]", scenario="s1_process", workflow_name=PARENT, workflow_uid=PARENT_UID,
                     settings=ArgoSettings(namespace="s1"), outputs_dir=tmp_path / "out",
                     planner=lambda text, scenario: plan)
    assert lists == {"shared-parts": [], "parts": []}
    assert json.loads((tmp_path / "out" / "parts.json").read_text()) == []
    assert json.loads((tmp_path / "out" / "shared-parts.json").read_text()) == []
    assert "shared.Skipped" in AFTER_SHARED
    assert argo.requests == []  # nothing created
    parent = {"metadata": {"name": PARENT, "namespace": "s1"}, "spec": {}, "status": {
        "phase": "Succeeded", "progress": "1/1", "nodes": {
            "p": {"id": "p", "type": "Pod", "phase": "Succeeded", "templateName": "plan",
                  "outputs": {"exitCode": "0"}},
            "s": {"id": "s", "type": "Skipped", "phase": "Skipped", "message": "Skipped, empty params"},
            "q": {"id": "q", "type": "Skipped", "phase": "Skipped", "message": "Skipped, empty params"}}}}
    argo.workflows = {PARENT: parent}
    assert watch(PARENT, host=argo.url, namespace="s1", poll_seconds=0) == exits.OK


def test_stopping_the_parent_stops_the_child(argo, large_child, tmp_path):
    """`argo stop`/`terminate` of the parent, or its deadline, kills its pods (SIGTERM to the
    launcher's main container); the launcher then stops its child as `argo stop` would
    (`spec.shutdown: Stop`, workflow/util/util.go `StopWorkflow`). Deleting the parent deletes
    the children through their owner reference (checked in test_submit_watch.py)."""
    name = large_child["metadata"]["name"]
    argo.script[name] = [{"phase": "Running"}]

    def sleep(seconds: float) -> None:
        signal.raise_signal(signal.SIGTERM)  # the kubelet stopping the pod mid-poll

    previous = signal.getsignal(signal.SIGTERM)
    code = launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
                  owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url),
                  poll_seconds=1, sleep=sleep)
    assert code == exits.UNKNOWN_REASON
    [patch] = [r for r in argo.requests if r.method == "PATCH"]
    assert patch.path == f"/apis/argoproj.io/v1alpha1/namespaces/s1/workflows/{name}"
    assert patch.body == {"spec": {"shutdown": "Stop"}}
    assert signal.getsignal(signal.SIGTERM) is previous  # the handler is the launcher's only


def test_a_retried_launcher_runs_its_failed_child_again(argo, large_child, tmp_path):
    """`argo retry` of the parent re-runs its failed launchers: each finds its child failed
    (HTTP 409 on create), deletes it and creates it again; the stages reuse the outputs made."""
    name = large_child["metadata"]["name"]
    failed, _ = _ended(large_child)
    argo.workflows[name] = stored(failed)[0]
    argo.script[name] = [argo.workflows[name]["status"], {"phase": "Running"},
                         {"phase": "Succeeded", "progress": "400/400"}]
    code = launch(_write_manifest(tmp_path, large_child), storage_options={}, namespace="s1",
                  owner_name=PARENT, owner_uid=PARENT_UID, api=kubernetes_api(argo.url), poll_seconds=0)
    assert code == exits.OK
    assert [d["status"]["phase"] for d in argo.deleted] == ["Failed"]
    assert [r.method for r in argo.requests][:4] == ["POST", "GET", "DELETE", "POST"]


def test_links_and_api_calls_honour_the_servers_base_href(argo, monkeypatch):
    """An Argo Server behind a path (`--basehref /argo/`, `ARGO_BASE_HREF` for the argo CLI)
    serves its UI and API under it: links and calls keep it."""
    monkeypatch.setenv("ARGO_BASE_HREF", "/argo/")
    server = ArgoServer.resolve("https://example.org", "s1")
    assert server.link("s1-process-x7k2p") == "https://example.org/argo/workflows/s1/s1-process-x7k2p"
    proxied = ArgoServer.resolve(argo.url, "s1", base_href="")
    assert proxied.link("w") == f"{argo.url}/workflows/s1/w"
    monkeypatch.setenv("ARGO_BASE_HREF", "/argo")
    behind = ArgoServer.resolve(argo.url, "s1")
    argo.workflows = {"w": {"metadata": {"name": "w"}, "spec": {}, "status": {"phase": "Running"}}}
    with pytest.raises(requests.HTTPError, match="404"):  # the local server has no /argo prefix
        behind.workflow("w", backoff=FAST)
    assert argo.requests[-1].path == "/argo/api/v1/workflows/s1/w"


def test_the_launcher_reaches_the_argo_server_as_its_service_account(tmp_path, monkeypatch):
    """The template passes `--argo-server {{workflow.parameters.argo-server}}` (empty: none);
    the launcher presents its projected ServiceAccount token."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOi.sa-token\n")
    monkeypatch.setenv("S1TILING_SA_TOKEN", str(token))
    server = in_cluster_server("https://argo-server.argo:2746", "eo")
    assert (server.host, server.namespace, server.token) == ("https://argo-server.argo:2746/", "eo",
                                                             "eyJhbGciOi.sa-token")
    assert in_cluster_server("", "eo") is None and in_cluster_server(None, "eo") is None
