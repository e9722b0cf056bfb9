"""Names Argo accepts, made from what a person reads: `ortho 33TTG s1a 20211223` becomes the
DAG task `ortho-33TTG-s1a-20211223`, which is what the Argo UI shows for the node."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..plan.model import Node

#: Argo's rule for step and DAG task names.
TASK_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
MAX_TASK_NAME = 128
#: Kubernetes object names (and the `workflows.argoproj.io/workflow` label value): 63 at most.
MAX_OBJECT_NAME = 63


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
