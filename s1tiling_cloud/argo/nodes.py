"""A workflow's node statuses, read the way Argo stores and serves them.

The controller keeps `status.nodes` in the Workflow object while it fits `MAX_WORKFLOW_SIZE`
(1 MiB); past it, its packer (workflow/packer/packer.go) replaces them by
`status.compressedNodes` (base64 of gzip of the nodes' JSON, util/file/fileutil.go
`CompressEncodeString`); with node-status offload on and the object still too large (or
`ALWAYS_OFFLOAD_NODE_STATUS`), the nodes go to SQL and the object keeps only
`status.offloadNodeStatusVersion` (workflow/hydrator/hydrator.go). The Kubernetes API serves the
object as stored; the Argo Server's GetWorkflow hydrates both (server/workflow/workflow_server.go).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"


class OffloadedNodes(LookupError):
    """The workflow's nodes are in the Argo Server's database, not in the object read."""


def is_offloaded(workflow: Mapping[str, Any]) -> bool:
    status = workflow.get("status") or {}
    return bool(status.get("offloadNodeStatusVersion")) and not status.get("nodes")


def decode_compressed(text: str) -> dict[str, Any]:
    """`status.compressedNodes` as the node map (gzip, Argo's default compression)."""
    raw = base64.b64decode(text)
    if not raw.startswith(GZIP_MAGIC):
        raise ValueError("status.compressedNodes is not gzip (is the controller's "
                         "compression algorithm set to another one?)")
    return json.loads(gzip.decompress(raw))


def node_statuses(workflow: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    """The node map: `status.nodes`, else the decoded `status.compressedNodes`; raises
    `OffloadedNodes` when the nodes are offloaded (read it through the Argo Server)."""
    status = workflow.get("status") or {}
    if status.get("nodes"):
        return status["nodes"]
    if status.get("compressedNodes"):
        return decode_compressed(status["compressedNodes"])
    if is_offloaded(workflow):
        name = (workflow.get("metadata") or {}).get("name")
        raise OffloadedNodes(f"the nodes of workflow {name} are offloaded (version "
                             f"{status['offloadNodeStatusVersion']}): read it through the Argo Server")
    return {}
