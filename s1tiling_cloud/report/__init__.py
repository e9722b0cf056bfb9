"""The run report page (`index.html`) of a run or of a STAC catalog.

The local runner writes `run.json` (the request, time per stage, the `Situation`; see
`runners.run_page`) and then `index.html` next to the outputs' catalog; `s1tiling-cloud report
DIR` makes the same page from a catalog alone (local or s3://), with the run's facts when
`run.json` is there too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..stac.documents import JsonDocuments
from ..stac.hrefs import sibling
from ..store import Store
from .catalog import read_catalog
from .page import render

__all__ = ["PAGE", "RUN_FACTS", "catalog_of", "write_report"]

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
