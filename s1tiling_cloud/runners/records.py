"""What a run remembers between runs: per node, that it finished and what it wrote.

A re-run must not redo finished work, including work whose inputs are gone: the orthorectified
images of a finished product are removed with the other intermediates, so the stage's own
re-run rule (outputs whose provenance matches) cannot be checked without making them again.
So when a node succeeds the runner writes a small record (a line of a journal in
`{tmp}/.s1tiling-cloud/done/`, or on S3 an object there per node): the node's digest (stage,
arguments and, recursively, its dependencies' digests, so a change upstream invalidates
everything downstream) and each output's
`PROVENANCE_HASH`. `state` says whether a record matches (same digest, every output still
there with that hash). Whether a node still has work is decided by `runners.remaining`: there,
outputs that exist are kept whoever made them, so a record adds one fact the files cannot
give, that a node ran and wrote nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

import rasterio.errors

from .. import __version__
from ..plan.model import Node, Plan
from ..store import Store, is_remote

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
        self.local = not is_remote(self.folder)
        self._journal: dict[str, dict[str, Any]] | None = None
        self._appending = None

    @classmethod
    def for_plan(cls, plan: Plan, store: Store) -> RunRecords | None:
        tmp = (plan.request or {}).get("paths", {}).get("tmp")
        if not tmp:
            return None
        return cls(f"{str(tmp).rstrip('/')}/.s1tiling-cloud/done", store, node_digests(plan))

    def uri(self, node: Node) -> str:
        """Where the record of `node` is kept in object storage (one object per node)."""
        return f"{self.folder}/{hashlib.sha256(node.id.encode()).hexdigest()[:32]}.json"

    def folders(self) -> list[str]:
        """The local folders the records are in (for removing a killed run's leftovers)."""
        return [self.folder] if self.local else []

    # ---- the local journal ----------------------------------------------------------------
    # Locally, records are lines appended to a journal (one file per run, merged into one
    # when the next run starts): creating one file per node costs milliseconds on a busy disk,
    # and a campaign has 10,000s of nodes. A line cut short by a kill is ignored.

    def _journals(self) -> list[str]:
        try:
            names = sorted(e.name for e in os.scandir(self.folder)
                           if e.name.startswith("journal-") and e.name.endswith(".jsonl"))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [os.path.join(self.folder, name) for name in names]

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._journal is not None:
            return self._journal
        journal: dict[str, dict[str, Any]] = {}
        files = self._journals()
        for path in files:
            with open(path, encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    try:
                        record = json.loads(line)
                        journal[str(record["id"])] = record
                    except (ValueError, KeyError, TypeError):
                        continue  # a line a kill cut short
        if len(files) > 1:  # merge: one file, the latest record of each node
            merged = "".join(json.dumps(r, sort_keys=True) + "\n" for r in journal.values())
            self.store.write_bytes(os.path.join(self.folder, _journal_name()), merged.encode(),
                                   durable=False)
            for path in files:
                with suppress(FileNotFoundError):
                    os.remove(path)
        self._journal = journal
        return journal

    def _append(self, record: dict[str, Any]) -> None:
        if self._appending is None:
            os.makedirs(self.folder, exist_ok=True)
            self._appending = open(os.path.join(self.folder, _journal_name()), "a",  # noqa: SIM115
                                   encoding="utf-8")
        self._appending.write(json.dumps(record, sort_keys=True) + "\n")
        self._appending.flush()  # not synced: a lost record only costs a re-check
        self._load()[record["id"]] = record

    def close(self) -> None:
        if self._appending is not None:
            self._appending.close()
            self._appending = None

    def _hash(self, uri: str) -> str | None:
        """An output's `PROVENANCE_HASH` (None for a file that is no raster)."""
        if not uri.lower().endswith(_RASTERS):
            return None
        if not is_remote(uri) and not os.path.isfile(uri):  # cheaper than GDAL's failed open
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
            if self.local:
                self._append(record)
            else:
                self.store.write_bytes(self.uri(node), json.dumps(record, indent=1).encode())
        except OSError as error:  # a missing record only costs a re-check on the next run
            log.warning("cannot record %s as done: %s", node.id, error)

    def _record(self, node: Node) -> dict[str, Any] | None:
        if self.local:
            return self._load().get(node.id)
        uri = self.uri(node)
        try:
            if not self.store.exists(uri):
                return None
            return json.loads(self.store.read_bytes(uri))
        except (OSError, ValueError):
            return None

    def state(self, node: Node, exists: Callable[[str], bool] | None = None) -> list[str] | bool | None:
        """None: no record of `node`; False: a record of other work (other inputs, settings
        or software), or one of its outputs is gone or was rewritten since; else the outputs
        it wrote."""
        record = self._record(node)
        if record is None:
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


def _journal_name() -> str:
    """A journal's name: in time order, unique to this process."""
    return f"journal-{time.time_ns():020d}-{os.getpid()}.jsonl"
