"""What a run remembers between runs: per node, that it finished and what it wrote.

A re-run must not redo finished work, including work whose inputs are gone: the orthorectified
images of a finished product are removed with the other intermediates, so the stage's own
re-run rule (outputs whose provenance matches) cannot be checked without making them again.
So when a node succeeds the runner writes a small record, `{tmp}/.s1tiling-cloud/done/<hash of
the node id>.json`: the node's digest (stage, arguments and, recursively, its dependencies'
digests, so a change upstream invalidates everything downstream) and each output's
`PROVENANCE_HASH`. A node is *done* when its record has the same digest and every output still
exists with that hash (nothing rewrote it since).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import rasterio.errors

from .. import __version__
from ..plan.model import Node, Plan
from ..store import Store

log = logging.getLogger(__name__)

_RASTERS = (".tif", ".tiff", ".jpg", ".jpeg")


#: Stages that only fetch inputs: a downloaded product is the same data as one found in the
#: cache, so they leave no mark on their dependents' digests (a run that downloaded and its
#: re-run, which finds the products cached and plans no download, agree).
_FETCHING = frozenset({"ingest", "eof"})


def node_digests(plan: Plan) -> dict[str, str]:
    """Per node: a hash of the software version, its stage and arguments, and its
    dependencies' digests (but the fetching stages')."""
    digests: dict[str, str] = {}
    stages = {node.id: node.stage for node in plan.nodes}
    for node in plan.topological():
        record = {"software": __version__, "stage": node.stage, "args": node.args,
                  "depends": [digests[d] for d in node.depends if stages[d] not in _FETCHING]}
        text = json.dumps(record, sort_keys=True, default=str)
        digests[node.id] = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return digests


class RunRecords:
    """The records of the nodes of one plan, under `folder` (local or s3://)."""

    def __init__(self, folder: str, store: Store, digests: Mapping[str, str]) -> None:
        self.folder = folder.rstrip("/")
        self.store = store
        self.digests = dict(digests)

    @classmethod
    def for_plan(cls, plan: Plan, store: Store) -> RunRecords | None:
        tmp = (plan.request or {}).get("paths", {}).get("tmp")
        if not tmp:
            return None
        return cls(f"{str(tmp).rstrip('/')}/.s1tiling-cloud/done", store, node_digests(plan))

    def uri(self, node: Node) -> str:
        return f"{self.folder}/{hashlib.sha256(node.id.encode()).hexdigest()[:32]}.json"

    def _hash(self, uri: str) -> str | None:
        """An output's `PROVENANCE_HASH` (None for a file that is no raster)."""
        if not uri.lower().endswith(_RASTERS):
            return None
        try:
            return self.store.read_tags(uri).get("PROVENANCE_HASH")
        except (rasterio.errors.RasterioError, OSError):
            return None

    def _present(self, uri: str) -> bool:
        return self.store.exists(uri) or self.store.exists(f"{uri.rstrip('/')}/manifest.safe")

    def save(self, node: Node, outputs: list[str]) -> None:
        record = {"id": node.id, "stage": node.stage, "digest": self.digests[node.id],
                  "outputs": {uri: self._hash(uri) for uri in outputs}}
        try:
            self.store.write_bytes(self.uri(node), json.dumps(record, indent=1).encode())
        except OSError as error:  # a missing record only costs a re-check on the next run
            log.warning("cannot record %s as done: %s", node.id, error)

    def done(self, node: Node) -> list[str] | None:
        """The outputs of `node` if it is done (see the module's doc), else None."""
        state = self.state(node)
        return state if isinstance(state, list) else None

    def state(self, node: Node, exists: Callable[[str], bool] | None = None) -> list[str] | bool | None:
        """None: no record of `node`; False: a record of other work (other inputs, settings
        or software), or one of its outputs is gone or was rewritten since; else the outputs
        it wrote."""
        uri = self.uri(node)
        try:
            if not self.store.exists(uri):
                return None
            record: dict[str, Any] = json.loads(self.store.read_bytes(uri))
        except (OSError, ValueError):
            return None
        if record.get("id") != node.id or record.get("digest") != self.digests.get(node.id):
            return False
        present = exists or self._present
        outputs = record.get("outputs") or {}
        for output, digest in outputs.items():
            if not present(output):
                return False
            if digest is not None and self._hash(output) != digest:
                return False
        return list(outputs)
