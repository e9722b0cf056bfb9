"""S1Tiling's `Situation` (and exit code) from Argo workflows' node statuses and exit codes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import exits
from ..exits import Situation
from .nodes import node_statuses

FAILED_PHASES = ("Failed", "Error")
DONE_PHASES = ("Succeeded", "Failed", "Error")
#: Exit codes with which a launching pod reports its child's outcome (counted in the child).
CHILD_OUTCOMES = (exits.TASK_FAILED, exits.DOWNLOAD_ERROR, exits.OFFLINE_DATA)
_EXIT_CODE = re.compile(r"exit code (\d+)")


def _exit_code(node: Mapping[str, Any]) -> int | None:
    code = (node.get("outputs") or {}).get("exitCode")
    if code not in (None, ""):
        return int(code)
    found = _EXIT_CODE.search(node.get("message") or "")
    return int(found.group(1)) if found else None


def _stage(node: Mapping[str, Any]) -> str:
    for parameter in (node.get("inputs") or {}).get("parameters") or []:
        if parameter.get("name") == "stage":
            return str(parameter.get("value"))
    template = node.get("templateName") or ""
    return "ingest" if template.startswith("stage-ingest") else template


def _descendants(node_id: str, nodes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Ids under `node_id`, depth first, children in order."""
    found = []
    for child in (nodes.get(node_id) or {}).get("children") or []:
        if child in nodes:
            found += [child, *_descendants(child, nodes)]
    return found


def _last_pod(node_id: str, nodes: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    """The attempt's pod: the node itself, or the last Pod under it (an attempt of a `steps`
    wrapper is Steps → StepGroup → Pod)."""
    pods = [nodes[i] for i in [node_id, *_descendants(node_id, nodes)] if nodes[i].get("type") == "Pod"]
    return pods[-1] if pods else nodes[node_id]


def outcomes(workflow: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """(stage, phase, exit code) of every pod-running task, its last attempt when retried."""
    nodes = node_statuses(workflow)
    retries = [i for i, node in nodes.items() if node.get("type") == "Retry"]
    attempts = {d for i in retries for d in _descendants(i, nodes)}
    found = []
    for node_id, node in nodes.items():
        kind = node.get("type")
        if kind == "Retry":
            children = [c for c in node.get("children") or [] if c in nodes]
            last = _last_pod(children[-1], nodes) if children else node
            found.append((_stage(node), node.get("phase", ""), _exit_code(last)))
        elif kind == "Pod" and node_id not in attempts:
            found.append((_stage(node), node.get("phase", ""), _exit_code(node)))
    return found


def situation_from_workflow(workflow: Mapping[str, Any]) -> Situation:
    """Failure counts of one workflow, as S1Tiling counts them.

    A failed ingest with 67 is a download failure, with 68 a download timeout (offline product,
    also a failure); a planning pod failing with 67 is a search failure; any other failed stage
    is a computation error. A launching pod that reports its child's outcome is not counted
    (the child's own nodes are); one that failed itself is a computation error.

    Parameters
    ----------
    workflow : mapping
        The workflow as Argo's API returns it (`status.nodes` read).

    Returns
    -------
    Situation
    """
    computation = search = download = timeouts = 0
    for stage, phase, code in outcomes(workflow):
        if phase not in FAILED_PHASES:
            continue
        if stage == "plan":
            search += code == exits.DOWNLOAD_ERROR
        elif stage == "launch":
            computation += code not in CHILD_OUTCOMES
        elif stage == "ingest" and code in (exits.DOWNLOAD_ERROR, exits.OFFLINE_DATA):
            download += 1
            timeouts += code == exits.OFFLINE_DATA
        else:
            computation += 1
    return Situation(computation, search, download, timeouts)


def combined(situations: Iterable[Situation]) -> Situation:
    total = Situation()
    for s in situations:
        total = Situation(total.nb_computation_errors + s.nb_computation_errors,
                          total.nb_search_failures + s.nb_search_failures,
                          total.nb_download_failures + s.nb_download_failures,
                          total.nb_download_timeouts + s.nb_download_timeouts)
    return total


def planning_failure(workflow: Mapping[str, Any]) -> int | None:
    """The exit code of a planning pod that failed for a reason other than the search (72: the
    configuration, 73: no S2 tile, 74: no S1 image...): S1Tiling ends with it, before any count.
    A code that is not S1Tiling's (none, or 137 when Argo killed the pod at its deadline) is 78."""
    for stage, phase, code in outcomes(workflow):
        if stage == "plan" and phase in FAILED_PHASES and code != exits.DOWNLOAD_ERROR:
            return code if code in exits.S1TILING_CODES else exits.UNKNOWN_REASON
    return None


def workflow_exit_code(workflow: Mapping[str, Any], children: Iterable[Mapping[str, Any]] = ()) -> int:
    """The exit code of a finished submission.

    Parameters
    ----------
    workflow : mapping
        The parent workflow, as Argo's API returns it.
    children : iterable of mapping
        Its child workflows, likewise.

    Returns
    -------
    int
        The planning failure's code, else the `Situation`'s of the workflow and its children,
        else 78 when Argo failed it for no counted reason (deadline, termination, a lost
        controller).
    """
    fatal = planning_failure(workflow)
    if fatal is not None:
        return fatal
    situation = combined(situation_from_workflow(w) for w in [workflow, *children])
    if situation.code:
        return situation.code
    phase = (workflow.get("status") or {}).get("phase")
    return exits.UNKNOWN_REASON if phase in FAILED_PHASES else exits.OK
