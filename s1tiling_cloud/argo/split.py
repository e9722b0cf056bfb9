"""Splitting a plan into parts small enough for one Argo workflow each.

Argo keeps a workflow (spec and node status) in one Kubernetes object: ~1,000 nodes and 1 MiB
at most in practice. The status is the larger part: each task is a Retry node and a Pod node
per attempt, each with the task's inputs (~2.7 KB per task with one attempt), so a child of a
few hundred tasks passes 1 MiB and Argo stores its nodes gzipped (`status.compressedNodes`,
~280 bytes per task with every retry used). The byte budget (`max_bytes`, on an estimate
~2× the rendered spec) thus bounds what Argo stores, spec + compressed status: ~340 KB for the
largest child of tests/argo/test_child_status.py with every task at its retry limit.

A plan small enough is one part, with no barrier at all. A larger plan is
cut along independent components (in practice: per tile), in two levels:

- level 0, "shared": the ingest nodes that several components need, and for a component still
  too large (a tile over years) its hubs (heights, LIA maps: the nodes with most descendants),
  with all their ancestors;
- level 1: the rest, components of the plan once level 0 is removed, packed into parts.

Every dependency is then either inside a part, or from a level-1 node onto a level-0 node: the
parent workflow runs all level-0 parts, then all level-1 parts, and each part's DAG mirrors the
plan's `depends` exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..plan.model import Node, Plan

#: Bytes a task takes in a rendered workflow besides its arguments (name, template, depends...).
TASK_OVERHEAD = 240


@dataclass
class Part:
    """Nodes for one child workflow; `level` 0 runs before every level-1 part."""

    name: str
    level: int
    nodes: list[Node]

    @property
    def ids(self) -> set[str]:
        return {n.id for n in self.nodes}


def node_bytes(node: Node, storage_options: dict | None = None) -> int:
    """Estimated size of a node's task in a rendered workflow."""
    args = {**node.args, "storage_options": storage_options or {}}
    return TASK_OVERHEAD + len(json.dumps(args)) * 2 + 2 * len(node.label) + 40 * len(node.depends)


def _components(nodes: Sequence[Node]) -> list[list[Node]]:
    """Weakly connected components of `nodes` (edges: `depends` inside `nodes`), in plan order."""
    index = {n.id: i for i, n in enumerate(nodes)}
    parent = list(range(len(nodes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for node in nodes:
        for dep in node.depends:
            if dep in index:
                a, b = find(index[node.id]), find(index[dep])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[Node]] = {}
    for i, node in enumerate(nodes):
        groups.setdefault(find(i), []).append(node)
    return list(groups.values())


def _descendant_counts(nodes: Sequence[Node]) -> dict[str, int]:
    ids = {n.id for n in nodes}
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for node in nodes:
        for dep in node.depends:
            if dep in ids:
                children[dep].append(node.id)
    counts: dict[str, int] = {}
    for node in nodes:
        seen: set[str] = set()
        stack = list(children[node.id])
        while stack:
            child = stack.pop()
            if child not in seen:
                seen.add(child)
                stack.extend(children[child])
        counts[node.id] = len(seen)
    return counts


def _ancestors(node_ids: Iterable[str], by_id: dict[str, Node]) -> set[str]:
    found: set[str] = set()
    stack = [d for i in node_ids for d in by_id[i].depends]
    while stack:
        dep = stack.pop()
        if dep not in found:
            found.add(dep)
            stack.extend(by_id[dep].depends)
    return found


class _Limits:
    def __init__(self, max_nodes: int, max_bytes: int, weight: Callable[[Node], int]) -> None:
        self.max_nodes, self.max_bytes, self.weight = max_nodes, max_bytes, weight

    def fits(self, nodes: Sequence[Node]) -> bool:
        return len(nodes) <= self.max_nodes and sum(map(self.weight, nodes)) <= self.max_bytes

    def pack(self, groups: Sequence[list[Node]], what: str) -> list[list[Node]]:
        """Groups (each fitting) packed first-fit in order into bins that fit."""
        bins: list[list[Node]] = []
        sizes: list[tuple[int, int]] = []
        for group in groups:
            if not self.fits(group):
                raise ValueError(f"cannot split the plan: {what} of {len(group)} nodes "
                                 f"({group[0].id} ...) exceeds one workflow's limits")
            count, weight = len(group), sum(map(self.weight, group))
            if bins and sizes[-1][0] + count <= self.max_nodes and sizes[-1][1] + weight <= self.max_bytes:
                bins[-1].extend(group)
                sizes[-1] = (sizes[-1][0] + count, sizes[-1][1] + weight)
            else:
                bins.append(list(group))
                sizes.append((count, weight))
        return bins


def _hubs(component: list[Node], limits: _Limits) -> set[str]:
    """The fewest most-depended-on nodes whose removal leaves pieces that each fit."""
    counts = _descendant_counts(component)
    ranked = sorted(component, key=lambda n: -counts[n.id])
    for k in range(1, len(component)):
        removed = {n.id for n in ranked[:k]}
        rest = [n for n in component if n.id not in removed]
        if all(limits.fits(piece) for piece in _components(rest)):
            return removed
    return {n.id for n in component}


def split_plan(plan: Plan, *, max_nodes: int = 1000, max_bytes: int = 512 * 1024,
               weight: Callable[[Node], int] | None = None) -> list[Part]:
    """The plan as parts that each fit `max_nodes` and `max_bytes` (level-0 parts first); none
    for a plan with nothing to do (Argo refuses a DAG without tasks)."""
    if not plan.nodes:
        return []
    weigh = weight or (lambda node: node_bytes(node, plan.storage_options))
    limits = _Limits(max_nodes, max_bytes, weigh)
    nodes = list(plan.topological())
    order = {n.id: i for i, n in enumerate(plan.nodes)}
    if limits.fits(nodes):
        return [Part("part-001", 1, sorted(nodes, key=lambda n: order[n.id]))]
    by_id = {n.id: n for n in plan.nodes}
    ingest = {n.id for n in plan.nodes if n.stage == "ingest"}
    components = _components([n for n in plan.nodes if n.id not in ingest])
    component_of = {n.id: i for i, c in enumerate(components) for n in c}
    users_of: dict[str, set[int]] = {i: set() for i in ingest}
    for node in plan.nodes:
        for dep in node.depends:
            if dep in users_of and node.id in component_of:
                users_of[dep].add(component_of[node.id])
    shared: set[str] = set()
    for node_id in sorted(ingest, key=order.__getitem__):
        users = users_of[node_id]
        if len(users) == 1:
            components[users.pop()].append(by_id[node_id])
        elif not users:
            components.append([by_id[node_id]])
        else:
            shared.add(node_id)
    for component in components:
        if not limits.fits(component):
            shared |= _hubs(component, limits)
    shared |= _ancestors(shared, by_id)
    level0 = [n for n in plan.nodes if n.id in shared]
    level1 = [n for n in plan.nodes if n.id not in shared]
    parts = [Part(f"shared-{i:03d}", 0, nodes)
             for i, nodes in enumerate(limits.pack(_components(level0), "a shared group"), 1)]
    parts += [Part(f"part-{i:03d}", 1, nodes)
              for i, nodes in enumerate(limits.pack(_components(level1), "a group"), 1)]
    check_parts(plan, parts)
    return parts


def check_parts(plan: Plan, parts: Sequence[Part]) -> None:
    """Every node in exactly one part; every dependency inside its part or onto level 0."""
    where = {}
    for part in parts:
        for node in part.nodes:
            if node.id in where:
                raise ValueError(f"node {node.id} is in {where[node.id].name} and {part.name}")
            where[node.id] = part
    missing = [n.id for n in plan.nodes if n.id not in where]
    if missing:
        raise ValueError(f"nodes in no part: {missing[:5]}")
    for node in plan.nodes:
        part = where[node.id]
        for dep in node.depends:
            other = where[dep]
            if other is not part and not (other.level == 0 and part.level == 1):
                raise ValueError(f"{node.id} ({part.name}) depends on {dep} ({other.name}), "
                                 "which does not run before it")
