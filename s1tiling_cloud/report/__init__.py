"""The run report page (`index.html`) of a run or of a STAC catalog.

The local runner writes `run.json` (the request, time per stage, the `Situation`) and then
`index.html` next to the outputs' catalog; `s1tiling-cloud report DIR` makes the same page
from a catalog alone (local or s3://), with the run's facts when `run.json` is there too.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..stac.documents import JsonDocuments, dumps
from ..stac.hrefs import sibling
from ..store import Store
from .catalog import read_catalog
from .page import render

if TYPE_CHECKING:
    from ..plan.model import Plan
    from ..runners.report import RunReport

__all__ = ["catalog_of", "run_facts", "write_report", "write_run_page"]

log = logging.getLogger(__name__)

PAGE = "index.html"
RUN_FACTS = "run.json"


def catalog_of(location: str) -> str:
    """The catalog URI of `location`: a `catalog.json`, or the folder holding one."""
    location = str(location)
    return location if location.endswith(".json") else location.rstrip("/") + "/catalog.json"


def write_report(location: str, *, storage_options: Mapping[str, Any] | None = None,
                 page: str | None = None, run: Mapping[str, Any] | None = None) -> str:
    """Write the page of the catalog at `location` (next to it unless `page` is given), with
    `run`'s facts or else those of the `run.json` beside the catalog; returns the page's URI."""
    options = dict(storage_options or {})
    catalog = catalog_of(location)
    page = page or sibling(catalog, PAGE)
    if run is None:
        run = JsonDocuments(options).read(sibling(catalog, RUN_FACTS))
    _, products = read_catalog(catalog, options)
    html = render(products, page, catalog_uri=catalog, run=run)
    Store(options).write_bytes(page, html.encode("utf-8"), "text/html; charset=utf-8")
    return page


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
