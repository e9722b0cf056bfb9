"""The plan: a request turned into a DAG of stage calls, as plain JSON-able data.

Both runners consume it: the local runner calls `stages.registry.run_stage(node.stage, node.args)`
in a process pool; the Argo runner gives each node to a pod running
`s1tiling-cloud stage NODE.stage --args JSON`. So a node's `args` must be exactly the keyword
arguments of the stage function, with URIs for every input and output, and no secret.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Version of the JSON layout below; bumped when a field changes meaning.
PLAN_FORMAT = 1


@dataclass
class Node:
    """One stage call.

    `id` is unique and stable across re-plans of the same request (e.g.
    ``ortho/31TCJ/S1A_IW_GRDH_1SDV_20200108T044150_…``), so a re-run maps onto the same work.
    `label` is what a person reads in a progress bar or Argo's UI (``ortho 31TCJ s1a 20200108``).
    `product` names the final S2 product(s) the node contributes to (the S1Tiling name without
    polarisation), so that a failure is reported as S1Tiling reports it
    ("Download failure: '<S2 name>' cannot be produced because of …").
    """

    id: str
    stage: str
    args: dict[str, Any]
    depends: list[str] = field(default_factory=list)
    label: str = ""
    outputs: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    #: The pod kind its stage runs in ("ingest", "ortho", "light", "map"), copied from
    #: `stages.registry` for readers of `plan --json`: informational only. The Argo render
    #: reads the registry itself (`argo.children`) and the local runner has no pods.
    kind: str = "light"
    #: Its outputs are intermediates (tmp): removed once every node reading them succeeded,
    #: unless the run keeps them (`debug_caches`).
    intermediate: bool = False

    def border_masks(self) -> set[str]:
        """The border masks among its outputs: those a stage writing final products writes
        beside them (its `mask` / `masks` arguments), and can make again from the products
        alone, without its own inputs."""
        masks = self.args.get("masks") or {}
        mask = self.args.get("mask")
        return {*masks.values(), *([mask] if isinstance(mask, str) else [])}


@dataclass
class Plan:
    """The DAG and what it was made from.

    `scenario`: "s1_process", "s1_process_lia", "s1_process_ia" or "s1_process_gamma_area".
    `storage_options`: the `[Storage]` options every stage receives (no credentials).
    `request`: `config.model.Request.to_dict()` of the request.
    `search`: counts of the search (products found, kept, discarded and why; failures).
    """

    scenario: str
    nodes: list[Node]
    storage_options: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    search: dict[str, Any] = field(default_factory=dict)
    format: int = PLAN_FORMAT

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        if len(ids) != len(set(ids)):
            raise ValueError("plan has duplicate node ids")
        known = set(ids)
        for node in self.nodes:
            missing = [d for d in node.depends if d not in known]
            if missing:
                raise ValueError(f"node {node.id} depends on unknown {missing}")

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def topological(self) -> Iterator[Node]:
        """The nodes, each after all those it depends on (stable: plan order among equals)."""
        done: set[str] = set()
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if all(d in done for d in n.depends)]
            if not ready:
                raise ValueError("plan has a cycle")
            for n in ready:
                done.add(n.id)
                yield n
            pending = [n for n in pending if n.id not in done]

    def dependents(self, node_ids: Iterable[str]) -> set[str]:
        """Every node that depends, directly or not, on one of `node_ids`."""
        found: set[str] = set()
        frontier = set(node_ids)
        while frontier:
            frontier = {n.id for n in self.nodes
                        if n.id not in found and frontier.intersection(n.depends)}
            found |= frontier
        return found

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(dataclasses.asdict(self), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        nodes = [Node(**n) for n in data.pop("nodes")]
        return cls(nodes=nodes, **data)
