"""The run's report page: after a local run, its facts (`run.json`) and `index.html` next to
the outputs' catalog, rendered by `report` (which knows catalogs, not runs)."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from ..plan.model import Plan
from ..report import PAGE, RUN_FACTS, write_report
from ..report.page import render
from ..stac.documents import dumps
from ..stac.hrefs import sibling
from ..store import Store
from .report import RunReport

__all__ = ["run_facts", "write_run_page"]

log = logging.getLogger(__name__)


def run_facts(plan: Plan, report: RunReport) -> dict[str, Any]:
    """What the page says of a run: request, time per stage, Situation, files made."""
    stages: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"nodes": 0, "seconds": 0.0, "statuses": defaultdict(int)})
    for outcome in report.outcomes.values():
        facts = stages[outcome.stage]
        facts["nodes"] += 1
        facts["seconds"] = round(facts["seconds"] + float(outcome.seconds or 0.0), 3)
        facts["statuses"][outcome.status] += 1
    lines = report.lines()
    return {"scenario": plan.scenario, "request": plan.request,
            "stages": {name: {**f, "statuses": dict(f["statuses"])} for name, f in stages.items()},
            "situation": str(report.situation), "code": report.code,
            "seconds": report.seconds, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "produced": report.produced(), "failures": [line for line in lines[:-1]
                                                        if not line.startswith("Success: ")]}


#: Node states after which the page says something new (a re-run that found everything done
#: writes nothing at all, the page included).
_NEWS = frozenset({"ran", "reused", "failed", "not run"})


def write_run_page(plan: Plan, report: RunReport) -> str | None:
    """`run.json` and `index.html` in the request's output folder (or its catalog's), after a
    local run that did something, or when there is no page yet; None when the plan has no
    request or nothing is written. A page that cannot be written is logged, never a failure of
    the run."""
    request = plan.request or {}
    output = (request.get("paths") or {}).get("output")
    if not output:
        return None
    catalog = (request.get("stac") or {}).get("catalog") or f"{output.rstrip('/')}/catalog.json"
    try:
        if not {o.status for o in report.outcomes.values()} & _NEWS and \
                Store(plan.storage_options).exists(sibling(catalog, PAGE)):
            return None
        store = Store(plan.storage_options)
        facts = json.loads(json.dumps(run_facts(plan, report), default=str))  # plain JSON
        store.write_bytes(sibling(catalog, RUN_FACTS), dumps(facts), "application/json")
        if store.exists(catalog):
            return write_report(catalog, storage_options=plan.storage_options, run=facts)
        page = sibling(catalog, PAGE)  # nothing published: the run's files, without the catalog
        store.write_bytes(page, render([], page, catalog_uri=None, run=facts).encode("utf-8"),
                          "text/html; charset=utf-8")
        return page
    except Exception as error:  # noqa: BLE001 - the page is a convenience: the run stands
        log.warning("could not write the run report page: %s", error)
        return None
