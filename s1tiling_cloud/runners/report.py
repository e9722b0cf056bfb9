"""A run's outcome: per node what happened, S1Tiling's execution report, and the `Situation`.

The report is S1Tiling's: "Success: <file>" per product written, "Download failure: '<S2
product>' cannot be produced because of …" or "Computation failure: …" per product that could
not be made, then the "Situation: …" line. Counts follow S1Tiling's rule: download timeouts
are download failures too; a corrupted SAFE is a computation error that also sets exit 71
(S1Tiling stops on it; we make every other product first, then say which SAFE to remove).
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import exits
from ..plan.model import Plan
from .worker import CORRUPTED, DOWNLOAD_FAILURE, DOWNLOAD_TIMEOUT

#: Node states. Finished well: RAN (computed), REUSED (the stage found its outputs), DONE
#: (recorded by an earlier run), PRUNED (not needed: what reads it is done), EMPTY (no data
#: for it, e.g. the tile misses the product's valid area). Not made: FAILED, NOT_RUN.
RAN, REUSED, DONE, PRUNED, EMPTY, FAILED, NOT_RUN = (
    "ran", "reused", "done", "pruned", "empty", "failed", "not run")
SUCCEEDED = frozenset({RAN, REUSED, DONE, PRUNED, EMPTY})


@dataclass(frozen=True)
class RunSituation(exits.Situation):
    """`exits.Situation` plus the corrupted SAFEs met: their presence makes the code 71."""

    corrupted_products: tuple[str, ...] = ()
    #: The signal that stopped the run (SIGTERM, SIGINT), if one did: 128 + its number.
    interrupted: int | None = None
    #: S1Tiling's code for a full disk met (69 outputs, 70 tmp), and the file being written.
    disk_full: tuple[int, str] | None = None
    #: The object storage endpoint a stage could not reach, if one could not: 78.
    unreachable: str | None = None

    @property
    def code(self) -> int:
        if self.interrupted is not None:
            return exits.interrupted(self.interrupted)
        if self.disk_full is not None:
            return self.disk_full[0]
        if self.unreachable is not None:
            return exits.UNKNOWN_REASON  # StorageUnreachableError's code
        if self.corrupted_products:
            return exits.CORRUPTED_DATA_SAFE
        return super().code


@dataclass
class NodeOutcome:
    id: str
    stage: str
    label: str
    status: str
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: dict[str, Any] | None = None
    cause: str | None = None  # NOT_RUN: the failed node it waited for
    writing: str | None = None  # FAILED: the (first) file it was to write


@dataclass
class RunReport:
    plan: Plan
    outcomes: dict[str, NodeOutcome]
    situation: RunSituation
    seconds: float = 0.0
    removed: list[str] = field(default_factory=list)

    @property
    def code(self) -> int:
        return self.situation.code

    def by_status(self, *statuses: str) -> list[NodeOutcome]:
        return [o for o in self.outcomes.values() if o.status in statuses]

    def lines(self) -> list[str]:
        """S1Tiling's execution report, then the Situation line."""
        lines = [f"Success: {uri}" for uri in self.produced()]
        for product, error in self.failures():
            kind = ("Download failure" if error.get("category") in (DOWNLOAD_FAILURE, DOWNLOAD_TIMEOUT)
                    else "Computation failure")
            lines.append(f"{kind}: '{product}' cannot be produced because of "
                         f"{error.get('type')}: {error.get('message')}")
        if self.situation.disk_full is not None:
            code, path = self.situation.disk_full
            where = "output" if code == exits.OUTPUT_DISK_FULL else "tmp"
            lines.append(f"No space left on the {where} disk: cannot write {path}")
        if self.situation.interrupted is not None:
            left = len(self.by_status(NOT_RUN))
            lines.append(f"Interrupted by {signal.Signals(self.situation.interrupted).name}: "
                         f"{left} stage calls not run; a re-run does what is left")
        lines.append(str(self.situation))
        return lines

    def produced(self) -> list[str]:
        """The final (not intermediate) files the plan's successful nodes wrote or found."""
        found = []
        for node in self.plan.nodes:
            outcome = self.outcomes.get(node.id)
            if node.intermediate or node.stage in ("ingest", "eof") or outcome is None:
                continue
            if outcome.status in (RAN, REUSED, DONE):
                found.extend(outcome.outputs)
        return sorted(set(found))

    def failures(self) -> list[tuple[str, dict[str, Any]]]:
        """(S2 product, the error that stopped it) for each product a failure touched."""
        found: dict[str, dict[str, Any]] = {}
        for node in self.plan.nodes:
            outcome = self.outcomes.get(node.id)
            if outcome is None or outcome.status not in (FAILED, NOT_RUN):
                continue
            error = outcome.error
            if error is None and outcome.cause:
                error = self.outcomes[outcome.cause].error
            for product in node.products:
                found.setdefault(product, error or {"type": "Error", "message": "unknown"})
        return sorted(found.items())


def situation_of(outcomes: Iterable[NodeOutcome], search_failures: int = 0,
                 interrupted: int | None = None, tmp: str | None = None) -> RunSituation:
    """Counts of the failed nodes, S1Tiling's way (timeouts are download failures too)."""
    computation = downloads = timeouts = 0
    corrupted: list[str] = []
    full: tuple[int, str] | None = None
    unreachable: str | None = None
    for outcome in outcomes:
        if outcome.status != FAILED or outcome.error is None:
            continue
        unreachable = unreachable or outcome.error.get("unreachable")
        if outcome.error.get("disk_full") and full is None:
            full = _disk_full(outcome, tmp)
        category = outcome.error.get("category")
        if category == DOWNLOAD_TIMEOUT:
            downloads += 1
            timeouts += 1
        elif category == DOWNLOAD_FAILURE:
            downloads += 1
        else:
            computation += 1
            if category == CORRUPTED:
                corrupted.append(outcome.id)
    return RunSituation(nb_computation_errors=computation, nb_search_failures=search_failures,
                        nb_download_failures=downloads, nb_download_timeouts=timeouts,
                        corrupted_products=tuple(sorted(corrupted)), interrupted=interrupted,
                        disk_full=full, unreachable=unreachable)


def _disk_full(outcome: NodeOutcome, tmp: str | None) -> tuple[int, str]:
    """69 when the file being written is an output, 70 when it is under `[Paths] tmp`."""
    path = outcome.writing or "?"
    under_tmp = bool(tmp) and path.startswith(str(tmp).rstrip("/") + "/")
    return (exits.TMP_DISK_FULL if under_tmp else exits.OUTPUT_DISK_FULL), path
