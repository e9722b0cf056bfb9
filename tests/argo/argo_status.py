"""A child workflow's status as Argo's controller writes it, and as its packer stores it.

Built from the child's own DAG, the way the controller builds nodes: the workflow's DAG node;
per task a `Retry` node (a template with `retryStrategy`) holding the task's resolved inputs,
whose children are one node per attempt: a `Pod` holding the inputs again, its exit code,
message, times, host and resources, or, for a `steps` wrapper (ingest), a `Steps` node over a
`StepGroup` over that `Pod` (workflow/controller/operator.go `executeTemplate`,
`processNodeRetries`; steps.go; pkg/apis/workflow/v1alpha1 `NodeStatus`). Stored as Argo's packer does
(workflow/packer/packer.go): over `MAX_WORKFLOW_SIZE` (1 MiB) of JSON, `status.nodes` becomes
`status.compressedNodes` (base64 of gzip, util/file/fileutil.go); still over it, the workflow
fails unless node-status offload is on, which moves the nodes to the database and leaves
`status.offloadNodeStatusVersion` (workflow/hydrator/hydrator.go `Dehydrate`).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

MAX_WORKFLOW_SIZE = 1024 * 1024
STARTED = "2026-12-07T05:00:00Z"
FINISHED = "2026-12-07T05:12:31Z"


class TooLarge(ValueError):
    """'workflow is longer than maximum allowed size.' (packer.go): the controller fails it."""


def _id(workflow: str, node_name: str) -> str:
    return f"{workflow}-{zlib.crc32(node_name.encode()):010d}"


def _message(code: int) -> str | None:
    return None if code == 0 else f"Error (exit code {code})"


def simulated_status(document: Mapping[str, Any], attempts: Mapping[str, Sequence[int]] | None = None
                     ) -> dict[str, Any]:
    """The `status` of the child `document` once ended: each task's attempts end with the exit
    codes `attempts[task]` gives (default: one attempt, 0)."""
    attempts = attempts or {}
    name = document["metadata"]["name"]
    templates = {t["name"]: t for t in document["spec"]["templates"]}
    tasks = templates["main"]["dag"]["tasks"]
    root = {"id": name, "name": name, "displayName": name, "type": "DAG", "templateName": "main",
            "templateScope": "local/" + name, "startedAt": STARTED, "finishedAt": FINISHED,
            "children": [], "outboundNodes": []}
    nodes: dict[str, Any] = {name: root}
    done = failed = 0
    for task in tasks:
        codes = list(attempts.get(task["name"], [0]))
        inputs = {"parameters": copy.deepcopy(task["arguments"]["parameters"])}
        retry_name = f"{name}.{task['name']}"
        retry_id = _id(name, retry_name)
        phase = "Succeeded" if codes[-1] == 0 else "Failed"
        retry = {"id": retry_id, "name": retry_name, "displayName": task["name"], "type": "Retry",
                 "templateName": task["template"], "templateScope": "local/" + name, "phase": phase,
                 "boundaryID": name, "startedAt": STARTED, "finishedAt": FINISHED,
                 "progress": "1/1" if phase == "Succeeded" else "0/1", "inputs": inputs,
                 "children": [], "resourcesDuration": {"cpu": 311, "memory": 1244}}
        if phase == "Failed":
            retry["message"] = _message(codes[-1])
        else:
            retry["outputs"] = {"exitCode": "0"}
        nodes[retry_id] = retry
        root["children"].append(retry_id)
        wrapper = templates[task["template"]].get("steps")
        for attempt, code in enumerate(codes):
            pod_name = f"{retry_name}({attempt})"
            if wrapper:  # Retry -> Steps -> StepGroup -> Pod
                step = wrapper[0][0]
                steps_id, group_id = _id(name, pod_name), _id(name, f"{pod_name}[0]")
                pod_name = f"{pod_name}[0].{step['name']}"
                phase_of = "Succeeded" if code == 0 else "Failed"
                nodes[steps_id] = {"id": steps_id, "name": retry_name + f"({attempt})", "type": "Steps",
                                   "displayName": f"{task['name']}({attempt})", "phase": phase_of,
                                   "templateName": task["template"], "boundaryID": name, "inputs": inputs,
                                   "startedAt": STARTED, "finishedAt": FINISHED, "children": [group_id],
                                   "outboundNodes": [_id(name, pod_name)]}
                nodes[group_id] = {"id": group_id, "name": f"{retry_name}({attempt})[0]", "type": "StepGroup",
                                   "displayName": "[0]", "phase": phase_of, "boundaryID": steps_id,
                                   "templateName": task["template"], "startedAt": STARTED,
                                   "finishedAt": FINISHED, "children": [_id(name, pod_name)]}
                retry["children"].append(steps_id)
            pod_id = _id(name, pod_name)
            pod = {"id": pod_id, "name": pod_name, "displayName": f"{task['name']}({attempt})",
                   "type": "Pod", "templateName": task["template"], "templateScope": "local/" + name,
                   "phase": "Succeeded" if code == 0 else "Failed", "boundaryID": name,
                   "startedAt": STARTED, "finishedAt": FINISHED, "progress": "1/1" if code == 0 else "0/1",
                   "inputs": copy.deepcopy(inputs), "outputs": {"exitCode": str(code)},
                   "hostNodeName": "ip-10-0-12-34.eu-west-3.compute.internal",
                   "resourcesDuration": {"cpu": 311, "memory": 1244}}
            if code:
                pod["message"] = _message(code)
            nodes[pod_id] = pod
            if wrapper:
                pod["templateName"] = wrapper[0][0]["template"]
            else:
                retry["children"].append(pod_id)
        done += phase == "Succeeded"
        failed += phase == "Failed"
    root["phase"] = "Failed" if failed else "Succeeded"
    return {"phase": root["phase"], "startedAt": STARTED, "finishedAt": FINISHED,
            "progress": f"{done}/{len(tasks)}", "nodes": nodes}


def size(workflow: Mapping[str, Any]) -> int:
    """packer.go `getSize`: the length of the workflow's JSON (Go writes no spaces)."""
    return len(json.dumps(workflow, separators=(",", ":")))


def stored(workflow: Mapping[str, Any], *, offload: bool = False, max_size: int = MAX_WORKFLOW_SIZE
           ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the Workflow object as the controller stores it, the offloaded nodes or None)."""
    packed = copy.deepcopy(dict(workflow))
    status = packed["status"]
    if size(packed) <= max_size:
        return packed, None
    nodes = status.pop("nodes")
    status["compressedNodes"] = base64.b64encode(
        gzip.compress(json.dumps(nodes, separators=(",", ":")).encode())).decode()
    if size(packed) <= max_size and not offload:
        return packed, None
    if not offload:
        raise TooLarge(f"workflow is longer than maximum allowed size. compressed size {size(packed)} "
                       f"> maxSize {max_size}")
    status.pop("compressedNodes")
    status["offloadNodeStatusVersion"] = f"fnv:{zlib.crc32(json.dumps(nodes).encode())}"
    return packed, nodes
