"""Names Argo accepts, made from what a person reads: `ortho 33TTG s1a 20211223` becomes the
DAG task `ortho-33TTG-s1a-20211223`, which is what the Argo UI shows for the node."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from ..plan.model import Node

#: Argo's rule for step and DAG task names.
TASK_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
MAX_TASK_NAME = 128
#: Kubernetes object names (and the `workflows.argoproj.io/workflow` label value): 63 at most
#: (Argo's `maxCharsInObjectName`, workflow/validate/validate.go).
MAX_OBJECT_NAME = 63
#: A DNS-1123 label: what a Workflow's name must be for its pods and its label to exist.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: Hex digits of the parent's identity in a child's name.
PARENT_HASH = 8


def slug(text: str, *, limit: int = MAX_TASK_NAME) -> str:
    """`text` with every run of other characters turned into one '-', trimmed to `limit`."""
    value = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")[:limit].rstrip("-")
    return value or "node"


def task_names(nodes: Iterable[Node]) -> dict[str, str]:
    """node id -> a unique task name from its label (its id when it has none).

    Two nodes with the same label (two slices of one day) get `-2`, `-3`... in plan order.
    """
    names: dict[str, str] = {}
    used: set[str] = set()
    for node in nodes:
        base = slug(node.label or node.id, limit=MAX_TASK_NAME - 4)
        name, count = base, 1
        while name.lower() in used:
            count += 1
            name = f"{base}-{count}"
        used.add(name.lower())
        names[node.id] = name
    return names


def object_name(*parts: str) -> str:
    """A Kubernetes object name (lower case, '-', ≤ 63) from parts; the first part is cut first."""
    tail = "-".join(slug(p).lower() for p in parts[1:])
    head = slug(parts[0]).lower()[:max(1, MAX_OBJECT_NAME - len(tail) - 1)] if parts else ""
    return "-".join(p for p in (head.rstrip("-"), tail) if p)[:MAX_OBJECT_NAME].rstrip("-")


def child_name(parent_name: str, parent_uid: str | None, part: str) -> str:
    """A child workflow's name, unique per parent: `{parent…}-{hash}-{part}`.

    The hash is of the parent's uid (its name when there is none): two parents whose long names
    differ only at the end (daily CronWorkflow runs) get different children, and a parent's
    retried launcher finds its own child again.
    """
    digest = hashlib.sha256((parent_uid or parent_name).encode()).hexdigest()[:PARENT_HASH]
    return object_name(parent_name, digest, part)
