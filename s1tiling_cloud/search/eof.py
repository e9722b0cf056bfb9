"""The search for precise orbit files (EOF) through eodag (`S1_AUX_POEORB`), as S1Tiling
makes it (LIA workflow, step 5).

What the cache (`[Paths] eof_dir`) already covers, and which files a period needs, are
decided with the names and the one choice rule of `geo.eof`; here eodag is asked for the orbit
files of the period when the cache leaves part of it uncovered.

>>> search_eofs(dag, "S1A", start, stop)[0]               # the best match first
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..geo.eof import EOFCandidate, as_utc, eof_preference, parse_eof_name
from . import eodag_compat as compat

__all__ = ["EOF_COLLECTION", "ORBITS_PROPERTY", "search_eofs"]

log = logging.getLogger(__name__)

#: eodag's collection of Sentinel-1 precise orbit files (eodag 3: the product type).
EOF_COLLECTION = "S1_AUX_POEORB"
#: How far the query reaches around the period: a POEORB is valid 26 h, and providers of
#: static catalogs keep only the files whose validity lies *inside* the query's dates.
QUERY_MARGIN = timedelta(days=2)
#: A search result's property [first, last]: the absolute orbits of its first and last state
#: vectors. Providers do not say them for orbit files (then the relative orbit is checked on the
#: files, `file_orbits`); the tests' provider does, and eodag keeps it when mapped.
ORBITS_PROPERTY = "s1tiling:absolute_orbits"

def _orbit_range(properties: Mapping[str, Any]) -> tuple[int, int] | None:
    """First and last absolute orbits, when the provider says them (`ORBITS_PROPERTY`)."""
    value = properties.get(ORBITS_PROPERTY)
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _candidate(product: Any) -> EOFCandidate | None:
    properties = dict(product.properties)
    name = str(properties.get("id") or properties.get("title") or "")
    return parse_eof_name(name, absolute_orbits=_orbit_range(properties),
                          provider=getattr(product, "provider", None), eodag=product.as_dict())


def _query(start: datetime, stop: datetime, provider: str | None) -> dict[str, Any]:
    key = "collection" if compat.EODAG_MAJOR >= 4 else "productType"
    query: dict[str, Any] = {
        key: EOF_COLLECTION, "raise_errors": True,
        "start": (start - QUERY_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": (stop + QUERY_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if provider:
        query["provider"] = provider
    return query


def search_eofs(dag, platform: str | None, start: datetime | str, stop: datetime | str,
                relative_orbit: int | None = None, *,
                provider: str | None = None) -> list[EOFCandidate]:
    """The precise orbit files eodag finds for [start, stop], best first.

    Every mission is asked for (satellites of one constellation share the tracks, and S1Tiling
    accepts another mission's file for an orbit); they are ranked by the one rule of file
    choice, `geo.eof.eof_preference` from the start (the requested `platform` first, then one
    file covering the whole period, then the newest processing). Only POEORB files intersecting the period
    are kept, and, with `relative_orbit`, those that span it (when the provider says which
    orbits a file spans; otherwise it is checked on the file).
    """
    start, stop = as_utc(start), as_utc(stop)
    results = dag.search_all(**_query(start, stop, provider))
    found: dict[str, EOFCandidate] = {}
    for product in results:
        candidate = _candidate(product)
        if candidate is None:
            log.warning("ignoring a search result that is not an orbit file: %s",
                        product.properties.get("id"))
            continue
        if candidate.kind != "POEORB" or not candidate.intersects(start, stop):
            continue
        if relative_orbit is not None and not candidate.has_relative_orbit(relative_orbit):
            continue
        found.setdefault(candidate.id, candidate)
    ranked = sorted(found.values(), key=eof_preference(platform, start, stop), reverse=True)
    log.info("%d precise orbit files found for %s - %s", len(ranked), start, stop)
    return ranked
