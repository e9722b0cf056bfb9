"""What the WorkflowTemplates' own pods run: planning (`workflow plan-pod`) and launching one
child workflow (`workflow launch`).

The planning pod writes the plan and one manifest per part under
`{[Paths] tmp}/argo/{workflow name}/` in object storage, and the lists of those URIs as its
output parameters: the parent workflow stays small whatever the campaign's size.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .. import exits
from ..plan.model import Plan
from ..runners.argo_progress import report_progress
from ..store import Store, join
from .children import ParentRef, part_workflows
from .client import ArgoServer
from .defaults import LABEL_PARENT, ArgoSettings
from .nodes import OffloadedNodes, is_offloaded
from .situation import DONE_PHASES, FAILED_PHASES, situation_from_workflow, workflow_exit_code
from .transient import API_BACKOFF, Backoff, with_retries

log = logging.getLogger(__name__)
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflows"
#: The pod's ServiceAccount token (projected by Kubernetes), which the Argo Server accepts.
SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def compute_plan(config_text: str, scenario: str, source: str = "request.cfg") -> Plan:
    """The plan of a request, as `s1tiling-cloud plan CONFIG` computes it (search included),
    less the nodes with no work left (`runners.remaining`: every promised output exists)."""
    from ..config.parse import load_request
    from ..plan.request import plan_request
    from ..runners.remaining import pending_plan

    return pending_plan(plan_request(load_request(source, text=config_text), scenario))


def workspace(plan: Plan, workflow_name: str) -> str:
    """Where a submission keeps its plan and manifests: under the request's `[Paths] tmp`."""
    tmp = str((plan.request.get("paths") or {}).get("tmp") or "")
    if not tmp:
        raise ValueError("the plan's request has no [Paths] tmp to keep the workflow manifests in")
    return join(join(tmp, "argo"), workflow_name)


def write_parts(plan: Plan, *, workflow_name: str, settings: ArgoSettings, parent_uid: str | None = None,
                store: Store | None = None) -> dict[str, list[str]]:
    """Write the plan and its child manifests; the URIs of the level-0 and level-1 manifests."""
    store = store or Store(plan.storage_options)
    base = workspace(plan, workflow_name)
    store.write_bytes(join(base, "plan.json"), plan.to_json().encode())
    lists: dict[str, list[str]] = {"shared-parts": [], "parts": []}
    for part, workflow in part_workflows(plan, settings=settings,
                                         parent=ParentRef(workflow_name, parent_uid)):
        uri = join(base, f"{part.name}.json")
        store.write_bytes(uri, json.dumps(workflow.to_dict(), sort_keys=True).encode())
        lists["shared-parts" if part.level == 0 else "parts"].append(uri)
    return lists


def plan_pod(config_text: str, *, scenario: str, workflow_name: str, settings: ArgoSettings,
             outputs_dir: str | os.PathLike, workflow_uid: str | None = None,
             planner: Callable[[str, str], Plan] = compute_plan) -> dict[str, list[str]]:
    """The planning pod: plan, split, write the manifests, and Argo's output parameters.

    A plan with nothing to do (every output exists, no new acquisition) gives two empty lists:
    the `withParam` fan-outs then run no launcher and the submission succeeds, with no child.

    Parameters
    ----------
    config_text : str
        The `.cfg`'s text.
    scenario : str
        The program, by API name or S1Tiling's name.
    workflow_name : str
        The parent workflow's name (the manifests' folder and the children's prefix).
    settings : ArgoSettings
        The deployment's settings.
    outputs_dir : str or os.PathLike
        Where Argo reads the output parameters from: `shared-parts.json`, `parts.json` (lists of
        manifest URIs) and `storage-options.json`.
    workflow_uid : str, optional
        The parent's uid, owner of the children.
    planner : callable, default compute_plan
        `(config_text, scenario) -> Plan`.

    Returns
    -------
    dict of str to list of str
        The manifests' URIs of the level-0 parts (`shared-parts`) and of the others (`parts`).

    Raises
    ------
    Error
        The typed errors of the request's checks (71, 72, 73, 74, 75, 76).
    """
    plan = planner(config_text, scenario)
    lists = write_parts(plan, workflow_name=workflow_name, settings=settings, parent_uid=workflow_uid)
    out = Path(outputs_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, uris in lists.items():
        (out / f"{name}.json").write_text(json.dumps(uris))
    (out / "storage-options.json").write_text(json.dumps(plan.storage_options, sort_keys=True))
    log.info("%d stage calls in %d shared and %d other child workflows", len(plan.nodes),
             len(lists["shared-parts"]), len(lists["parts"]))
    return lists


class WorkflowsApi(Protocol):
    """The calls of `kubernetes.client.CustomObjectsApi` a launching pod needs."""

    def create_namespaced_custom_object(self, group, version, namespace, plural, body, **kw): ...

    def get_namespaced_custom_object(self, group, version, namespace, plural, name, **kw): ...

    def patch_namespaced_custom_object(self, group, version, namespace, plural, name, body, **kw): ...

    def delete_namespaced_custom_object(self, group, version, namespace, plural, name, **kw): ...


def kubernetes_api(host: str | None = None) -> WorkflowsApi:
    """The Kubernetes API as the pod's ServiceAccount (in a cluster), or `host` (tests)."""
    from kubernetes import client, config

    if host:
        configuration = client.Configuration()
        configuration.host = host
        return client.CustomObjectsApi(client.ApiClient(configuration))
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.CustomObjectsApi()


def with_owner(manifest: Mapping[str, Any], owner_name: str | None, owner_uid: str | None) -> dict:
    """The manifest owned by the parent workflow: Kubernetes deletes it with its parent."""
    body = json.loads(json.dumps(manifest))
    if owner_name and owner_uid:
        body.setdefault("metadata", {})["ownerReferences"] = [{
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Workflow", "name": owner_name,
            "uid": owner_uid, "blockOwnerDeletion": True}]
    return body


def _progress(workflow: Mapping[str, Any]) -> tuple[int, int] | None:
    value = str((workflow.get("status") or {}).get("progress") or "")
    done, _, total = value.partition("/")
    return (int(done), int(total)) if done.isdigit() and total.isdigit() else None


class ForeignChild(RuntimeError):
    """A workflow of the child's name exists but belongs to another parent."""


class Stopped(Exception):  # noqa: N818 (an event, not an error)
    """SIGTERM: Argo is stopping or terminating the parent (`argo stop`/`terminate`, its
    deadline), and with it this pod."""


def _stopped(signum, frame) -> None:
    raise Stopped()


def stop_child(api: WorkflowsApi, namespace: str, name: str, backoff: Backoff = API_BACKOFF,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Stop the child as `argo stop` does: `spec.shutdown: Stop` (workflow/util/util.go
    `StopWorkflow`); its running pods are killed, no new one starts."""
    from kubernetes.client.exceptions import ApiException

    try:
        with_retries(lambda: api.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"spec": {"shutdown": "Stop"}}),
            f"stop workflow {name}", backoff, sleep)
        log.info("stopped workflow %s", name)
    except ApiException as error:
        if error.status != 404:  # not created yet: nothing to stop
            raise


def _owned_by(workflow: Mapping[str, Any], owner_name: str | None, owner_uid: str | None) -> bool:
    """Whether an existing child is this parent's: its owner reference's uid, else its label."""
    metadata = workflow.get("metadata") or {}
    if owner_uid:
        return any(r.get("uid") == owner_uid for r in metadata.get("ownerReferences") or [])
    return not owner_name or (metadata.get("labels") or {}).get(LABEL_PARENT) == owner_name


def _create_or_attach(api: WorkflowsApi, namespace: str, body: Mapping[str, Any], owner_name: str | None,
                      owner_uid: str | None, backoff: Backoff, sleep: Callable[[float], None]) -> None:
    """Create the child; when it exists (this pod is a retry, or an earlier create answered
    after a timeout), re-attach to it only if it is this parent's own."""
    from kubernetes.client.exceptions import ApiException

    name = body["metadata"]["name"]
    try:
        with_retries(lambda: api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body),
                     f"create workflow {name}", backoff, sleep)
        log.info("created workflow %s", name)
        return
    except ApiException as error:
        if error.status != 409:
            raise
    existing = with_retries(lambda: api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name),
                            f"get workflow {name}", backoff, sleep)
    if not _owned_by(existing, owner_name, owner_uid):
        raise ForeignChild(f"workflow {name} exists but is not a child of {owner_name} ({owner_uid})")
    if (existing.get("status") or {}).get("phase") not in FAILED_PHASES:
        log.info("workflow %s exists already: following it", name)
        return
    # A launcher that finds its child failed is a retry (`argo retry` of the parent, or of a
    # lost launcher): run the child again. Its stages reuse every output already made.
    log.info("workflow %s ended %s: running it again", name, existing["status"]["phase"])
    with_retries(lambda: api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name),
                 f"delete workflow {name}", backoff, sleep)
    for wait in [*backoff.waits(), None]:
        try:
            api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
            return
        except ApiException as error:
            if error.status != 409 or wait is None:  # 409: the old one is still being deleted
                raise
            sleep(wait)


def _final(workflow: Mapping[str, Any], server: ArgoServer | None) -> Mapping[str, Any]:
    """The ended child with its nodes: offloaded ones through the Argo Server's GetWorkflow."""
    if not is_offloaded(workflow):
        return workflow
    name = workflow["metadata"]["name"]
    if server is None:
        raise OffloadedNodes(f"the nodes of workflow {name} are offloaded and no Argo Server is "
                             "configured (the chart's argoServer.url)")
    return server.workflow(name)


def launch(manifest_uri: str, *, storage_options: Mapping[str, Any] | None, namespace: str,
           owner_name: str | None = None, owner_uid: str | None = None, api: WorkflowsApi | None = None,
           server: ArgoServer | None = None, poll_seconds: float = 15.0,
           timeout_seconds: float | None = None, backoff: Backoff = API_BACKOFF,
           sleep: Callable[[float], None] = time.sleep) -> int:
    """Create a child workflow (or re-attach to it, when this pod is a retry) and follow it to
    its end; transient API errors are retried with `backoff`. On SIGTERM (the parent stopped,
    terminated or past its deadline), stops the child and returns 78.

    Parameters
    ----------
    manifest_uri : str
        The child's manifest (JSON), as `plan_pod` wrote it.
    storage_options : mapping, optional
        fsspec options of the store holding it.
    namespace : str
        The child's namespace.
    owner_name, owner_uid : str, optional
        The parent workflow, made the child's owner.
    api : WorkflowsApi, optional
        The Kubernetes API of workflows; by default the in-cluster one.
    server : ArgoServer, optional
        Reads a child whose node status Argo offloaded to its database.
    poll_seconds : float, default 15
        Seconds between two looks.
    timeout_seconds : float, optional
        Give up after this long; by default never.
    backoff : Backoff
        How transient API errors are retried.
    sleep : callable
        The pause between looks (tests pass their own).

    Returns
    -------
    int
        The exit code of the child's outcome: 0, its `Situation`'s (66, 67, 68), or 78 when Argo
        failed it for no counted reason.
    """
    manifest = json.loads(Store(storage_options).read_bytes(manifest_uri))
    body = with_owner(manifest, owner_name, owner_uid)
    name = body["metadata"]["name"]
    api = api or kubernetes_api()
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stopped) if on_main_thread else None
    try:
        _create_or_attach(api, namespace, body, owner_name, owner_uid, backoff, sleep)
        return _follow(api, namespace, name, server, poll_seconds, timeout_seconds, backoff, sleep)
    except Stopped:
        stop_child(api, namespace, name, backoff, sleep)
        return exits.UNKNOWN_REASON  # Argo does not retry a node of a workflow shutting down
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _follow(api: WorkflowsApi, namespace: str, name: str, server: ArgoServer | None, poll_seconds: float,
            timeout_seconds: float | None, backoff: Backoff, sleep: Callable[[float], None]) -> int:
    started = time.monotonic()
    while True:
        workflow = with_retries(lambda: api.get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name), f"get workflow {name}", backoff, sleep)
        progress = _progress(workflow)
        if progress:
            report_progress(*progress)
        phase = (workflow.get("status") or {}).get("phase")
        if phase in DONE_PHASES:
            final = _final(workflow, server)
            code = workflow_exit_code(final)
            log.info("workflow %s: %s. %s (exit code %d)", name, phase, situation_from_workflow(final), code)
            return code
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise TimeoutError(f"workflow {name} still {phase} after {timeout_seconds} s")
        sleep(poll_seconds)


def in_cluster_server(url: str | None, namespace: str) -> ArgoServer | None:
    """The Argo Server, reached as this pod's ServiceAccount (its projected token).

    Parameters
    ----------
    url : str or None
        The server's URL (the chart's `argoServer.url`).
    namespace : str
        The pod's namespace.

    Returns
    -------
    ArgoServer or None
        None without `url`.
    """
    if not url:
        return None
    token_file = Path(os.environ.get("S1TILING_SA_TOKEN", SA_TOKEN))
    token = token_file.read_text().strip() if token_file.is_file() else None
    return ArgoServer.resolve(url, namespace, token, base_href="")
