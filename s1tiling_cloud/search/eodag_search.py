"""The search of one tile's Sentinel-1 products through eodag, as S1Tiling does it.

One query per tile: IW GRD products in the dates (inclusive), over the bounding box of the
tile's footprint, with the polarisation pair, orbit direction, and the relative orbit or
platform when exactly one is asked for (lists are filtered here, after the search). Pages are
fetched until one comes back short; a page that times out is asked again, up to
`max_retries` times, then the tile's search fails (`SearchFailedError`, counted as a search
failure: exit 67).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..config.model import DataSourceSection, Request
from ..geo.s2tile import S2Tile
from . import eodag_compat as compat
from .candidates import candidate_from_eoproduct
from .model import S1Candidate

__all__ = ["SearchFailedError", "matches_request", "search_tile"]

log = logging.getLogger(__name__)


class SearchFailedError(RuntimeError):
    """The search of a tile failed (after its retries): S1Tiling's per-tile RuntimeError."""

    def __init__(self, tile: str, reason: str) -> None:
        self.tile = tile
        super().__init__(f"Cannot search S1 products for tile {tile}: {reason}")


def _query_dates(first: date, last: date) -> tuple[str, str]:
    """Inclusive dates as eodag's start/end: the first day's midnight to the last day's end."""
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    end -= timedelta(microseconds=1)
    return f"{first.isoformat()}T00:00:00Z", end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _only(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else None


def matches_request(candidate: S1Candidate, source: DataSourceSection) -> bool:
    """The client-side filters: dates, IW GRD, platforms, orbits, direction, polarisations."""
    if "_IW_GRD" not in candidate.id:
        return False
    if not source.first_date <= candidate.start.date() <= source.last_date:
        return False
    if source.platform_list and candidate.platform not in {p.upper() for p in source.platform_list}:
        return False
    if source.relative_orbit_list and candidate.relative_orbit not in source.relative_orbit_list:
        return False
    if source.orbit_direction and candidate.orbit_direction != source.orbit_direction.upper():
        return False
    # S1Tiling uses what a product has of the request: a VV-only (1SSV) product gives the VV
    # products of a VV-VH request.
    return bool(set(source.polarisations) & set(candidate.polarisations))


def _page(dag, tile: str, page: int, items_per_page: int, max_retries: int,
          criteria: dict[str, Any], retry_wait: float) -> list:
    for attempt in range(1, max_retries + 1):
        try:
            return compat.search_page(dag, page=page, items_per_page=items_per_page, **criteria)
        except Exception as error:
            if not compat.is_timeout(error):
                raise SearchFailedError(tile, f"{type(error).__name__}: {error}") from error
            log.warning("search of %s, page %d: timeout (attempt %d/%d)", tile, page, attempt,
                        max_retries)
            if attempt == max_retries:
                raise SearchFailedError(tile, f"{max_retries} timeouts on page {page}") from error
            time.sleep(retry_wait)
    raise SearchFailedError(tile, "no attempt made (max_retries < 1)")


def search_tile(dag, request: Request, tile: str, *, items_per_page: int = 20,
                max_retries: int = 5, provider: str | None = None,
                retry_wait: float = 0.0) -> list[S1Candidate]:
    """The products eodag finds for one tile, filtered on the request, in identifier order."""
    source = request.data_source
    lonmin, latmin, lonmax, latmax = S2Tile.from_name(tile).footprint.bounds
    start, end = _query_dates(source.first_date, source.last_date)
    criteria = compat.s1_grd_query(
        polarisations=source.polarisations, orbit_direction=source.orbit_direction,
        relative_orbit=_only(source.relative_orbit_list),
        platform=_only([p.upper() for p in source.platform_list]))
    criteria.update(start=start, end=end,
                    geom={"lonmin": lonmin, "latmin": latmin, "lonmax": lonmax, "latmax": latmax})
    if provider:
        criteria["provider"] = provider
    found: dict[str, S1Candidate] = {}
    for page in range(1, 10_000):
        results = _page(dag, tile, page, items_per_page, max_retries, criteria, retry_wait)
        fresh = _new_candidates(results, found)
        found.update((c.id, c) for c in fresh)
        # A short page is the last; a page of nothing new means the provider does not page
        # (a static catalog answers every page with all its items).
        if len(results) < items_per_page or not fresh:
            break
    kept = [c for c in found.values() if matches_request(c, source)]
    log.info("tile %s: %d products found, %d match the request", tile, len(found), len(kept))
    return sorted(kept, key=lambda c: c.id)


def _new_candidates(results: Iterable[Any], found: dict[str, S1Candidate]) -> list[S1Candidate]:
    fresh = []
    for product in results:
        try:
            candidate = candidate_from_eoproduct(product)
        except (ValueError, KeyError) as error:
            log.warning("ignoring a search result that is not an S1 GRD product: %s", error)
            continue
        if candidate.id not in found:
            fresh.append(candidate)
    return fresh
