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
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..plan.model import Plan
from ..runners.argo_progress import report_progress
from ..store import Store, join
from .children import ParentRef, part_workflows
from .defaults import ArgoSettings
from .situation import DONE_PHASES, workflow_exit_code

log = logging.getLogger(__name__)
GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflows"


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
             outputs_dir: str | os.PathLike,
             planner: Callable[[str, str], Plan] = compute_plan) -> dict[str, list[str]]:
    """The planning pod: plan, split, write the manifests, and Argo's output parameters."""
    plan = planner(config_text, scenario)
    lists = write_parts(plan, workflow_name=workflow_name, settings=settings)
    out = Path(outputs_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, uris in lists.items():
        (out / f"{name}.json").write_text(json.dumps(uris))
    (out / "storage-options.json").write_text(json.dumps(plan.storage_options, sort_keys=True))
    log.info("%d stage calls in %d shared and %d other child workflows", len(plan.nodes),
             len(lists["shared-parts"]), len(lists["parts"]))
    return lists


class WorkflowsApi(Protocol):
    """The two calls of `kubernetes.client.CustomObjectsApi` a launching pod needs."""

    def create_namespaced_custom_object(self, group, version, namespace, plural, body, **kw): ...

    def get_namespaced_custom_object(self, group, version, namespace, plural, name, **kw): ...


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


def launch(manifest_uri: str, *, storage_options: Mapping[str, Any] | None, namespace: str,
           owner_name: str | None = None, owner_uid: str | None = None, api: WorkflowsApi | None = None,
           poll_seconds: float = 15.0, timeout_seconds: float | None = None) -> int:
    """Create a child workflow (or find it, when this pod is a retry) and follow it to its end.

    Returns the exit code of the child's outcome: 0, its `Situation`'s (66, 67, 68), or 78
    when Argo failed it for no counted reason.
    """
    from kubernetes.client.exceptions import ApiException

    manifest = json.loads(Store(storage_options).read_bytes(manifest_uri))
    body = with_owner(manifest, owner_name, owner_uid)
    name = body["metadata"]["name"]
    api = api or kubernetes_api()
    try:
        api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        log.info("created workflow %s", name)
    except ApiException as error:
        if error.status != 409:
            raise
        log.info("workflow %s exists already: following it", name)
    started = time.monotonic()
    while True:
        workflow = api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        progress = _progress(workflow)
        if progress:
            report_progress(*progress)
        phase = (workflow.get("status") or {}).get("phase")
        if phase in DONE_PHASES:
            code = workflow_exit_code(workflow)
            log.info("workflow %s: %s (exit code %d)", name, phase, code)
            return code
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            raise TimeoutError(f"workflow {name} still {phase} after {timeout_seconds} s")
        time.sleep(poll_seconds)
