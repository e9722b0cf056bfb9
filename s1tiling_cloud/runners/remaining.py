"""Which nodes of a plan still have work: the one rule of "what is already done".

A request is complete only when every output its plan promises exists. The promised outputs are
those of the nodes that are neither intermediates nor fetchers (`ingest`, `eof`): final σ°
products, `_filtered` products, border masks, quicklooks, LIA/IA maps, and the publish node's
STAC item, collection and root catalog. So:

- a promising node has work when one of its outputs is missing (S1Tiling's rule: outputs that
  exist are kept, whoever made them; a record of the local runner only adds that a node which
  ran and wrote nothing, as an ortho whose tile misses the product's data, is done);
- any other node has work only when a node that has work reads it and its own outputs are
  missing (an intermediate removed after use is not made again for nothing, nor is a product
  downloaded whose outputs all exist);
- a node that misses only border masks beside products that exist reads none of its inputs:
  it makes the masks from the products (`stages.mask.masks_alone`), so its inputs are not
  made again for them.

The local runner applies it with its records (`records.RunRecords`), the Argo planning pod
without (`pending_plan`): after a kill, or after someone deleted any one output, a re-run does
exactly what is missing. Existence is read once per folder on S3 (one listing, not one request
per output), so planning a large campaign costs a few requests per tile.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from ..plan.model import Node, Plan
from ..store import Store, is_remote

#: Stages that only fetch inputs: their outputs are no promise of the request.
FETCHING = frozenset({"ingest", "eof"})


def promises(node: Node) -> bool:
    """Whether `node`'s outputs are part of what the request promises."""
    return bool(node.outputs) and not node.intermediate and node.stage not in FETCHING


@dataclass
class WorkLeft:
    """`pending`: the nodes with work, in plan order; `done`: the complete nodes a pending node
    reads or the request promises, with their outputs; every other node is not needed."""

    pending: list[str] = field(default_factory=list)
    done: dict[str, list[str]] = field(default_factory=dict)


class Existing:
    """Whether URIs exist: local files by `stat`, S3 objects from one listing per folder."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._folders: dict[str, set[str]] = {}

    def __call__(self, uri: str) -> bool:
        if not is_remote(uri):
            return os.path.isfile(uri) or os.path.isfile(os.path.join(uri, "manifest.safe"))
        if uri.rstrip("/").endswith(".SAFE"):
            return self.store.exists(f"{uri.rstrip('/')}/manifest.safe")
        folder, name = posixpath.split(uri)
        if folder not in self._folders:
            self._folders[folder] = self._list(folder)
        return name in self._folders[folder]

    def _list(self, folder: str) -> set[str]:
        return {entry.name for entry in self.store.list(folder) if not entry.is_dir}


#: What a record knows of a node: None (no record), False (a record of other work, or of
#: outputs changed since: the outputs decide), or the outputs it wrote (each there, unchanged).
Recorded = Callable[[Node], "list[str] | bool | None"]


def work_left(plan: Plan, exists: Callable[[str], bool], recorded: Recorded | None = None
              ) -> WorkLeft:
    """Apply the rule (module doc) to `plan`; `recorded`: the local runner's records."""
    order = list(plan.topological())
    dependents: dict[str, list[str]] = {node.id: [] for node in order}
    for node in order:
        for dep in node.depends:
            dependents[dep].append(node.id)

    def complete(node: Node) -> list[str] | None:
        """The node's outputs when it is complete, else None."""
        if not node.outputs:
            return None  # nothing to check (an `eof` fetch): it runs when something needs it
        record = recorded(node) if recorded is not None else None
        if isinstance(record, list) and not record:
            return []  # it ran and wrote nothing (no data for it): nothing is missing
        if all(exists(uri) for uri in node.outputs):
            return list(record) if isinstance(record, list) else list(node.outputs)
        return None

    def masks_only(node: Node) -> bool:
        """Whether what `node` misses is border masks alone, its products being there."""
        missing = [uri for uri in node.outputs if not exists(uri)]
        return bool(missing) and set(missing) <= node.border_masks()

    left = WorkLeft()
    needed: dict[str, bool] = {}
    reads: dict[str, bool] = {}  # whether a needed node reads its dependencies' outputs
    for node in reversed(order):
        if promises(node) or any(reads[d] for d in dependents[node.id]):
            outputs = complete(node)
            needed[node.id] = outputs is None
            reads[node.id] = needed[node.id] and not masks_only(node)
            if outputs is not None:
                left.done[node.id] = outputs
        else:
            needed[node.id] = reads[node.id] = False
    left.pending = [node.id for node in plan.nodes if needed[node.id]]
    return left


def pending_plan(plan: Plan, store: Store | None = None) -> Plan:
    """The plan reduced to the nodes with work (for the Argo planning pod, which keeps no
    records): dependencies on complete nodes are dropped (their outputs are there)."""
    left = work_left(plan, Existing(store or Store(plan.storage_options or None)))
    keep = set(left.pending)
    nodes = [dataclasses.replace(node, depends=[d for d in node.depends if d in keep])
             for node in plan.nodes if node.id in keep]
    return dataclasses.replace(plan, nodes=nodes)


def missing_outputs(plan: Plan, exists: Callable[[str], bool]) -> list[str]:
    """The promised outputs of `plan` that do not exist (empty: the request is complete)."""
    return sorted(uri for node in plan.nodes if promises(node)
                  for uri in node.outputs if not exists(uri))
