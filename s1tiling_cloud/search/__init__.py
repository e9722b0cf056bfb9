"""Which Sentinel-1 products a request needs, per tile: eodag's search (or a scan of the
product cache when nothing is downloaded), then S1Tiling's filters.

>>> outcome = find_products(request)                       # doctest: +SKIP
>>> outcome.per_tile["31TCJ"]                              # the S1Candidates to use
>>> outcome.search_failures                                # tiles whose search failed: exit 67
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from shapely import wkt

from ..config.model import Request
from ..exceptions import CorruptedDataSAFEError, NoS2TileError
from ..geo.s2tile import S2Tile, existing_tiles
from . import eodag_compat
from .eodag_search import SearchFailedError, search_tile
from .filters import apply_filters
from .ingest import cache_uri
from .listing import Listing
from .local_scan import scan_products
from .model import S1Candidate, SearchOutcome

__all__ = [
    "S1Candidate",
    "SearchFailedError",
    "SearchOutcome",
    "cache_uri",
    "find_products",
    "requested_tiles",
    "scan_products",
    "search_tile",
]

log = logging.getLogger(__name__)


def requested_tiles(request: Request) -> list[str] | None:
    """The tiles to search: the tiles to process, restricted to `roi_by_tiles` when downloading.

    None for `tiles: ALL` without download: the tiles the cache's products cover.
    """
    tiles = [t for t in request.processing.tiles if t.upper() != "ALL"]
    roi = [t for t in request.data_source.roi_by_tiles if t.upper() != "ALL"]
    if not request.data_source.download:
        return existing_tiles(tiles) if tiles else None
    if not tiles:
        return existing_tiles(roi)
    if not roi:
        return existing_tiles(tiles)
    wanted = set(existing_tiles(roi))
    kept = [t for t in existing_tiles(tiles) if t in wanted]
    if not kept:
        raise NoS2TileError("no tile to process is in roi_by_tiles")
    return kept


def find_products(request: Request, *, dag=None, items_per_page: int = 20, max_retries: int = 5,
                  tiles: Sequence[str] | None = None,
                  storage_options: Mapping[str, Any] | None = None) -> SearchOutcome:
    """Search and filter the products of every tile of `request`, done or not (what is left
    to do is decided on the plan: `runners.remaining`).

    `dag`: an `EODataAccessGateway` to use (else one from `[DataSource] eodag_config`, else
    eodag's default configuration); `storage_options`: how to reach `s1_images` and the
    outputs on S3 (default: `[Storage]`).
    """
    options = dict(storage_options if storage_options is not None
                   else request.storage.storage_options())
    listing = Listing(options)
    tile_names = existing_tiles(tiles) if tiles else requested_tiles(request)
    unreadable: list[tuple[str, str]] = []
    if request.data_source.download:
        found = _search(request, tile_names or [], dag, items_per_page, max_retries)
    else:
        found = _scan(request, tile_names, listing, unreadable)
    outcome = SearchOutcome(search_failures=sum(1 for c in found.values() if c is None),
                            unreadable=unreadable)
    outcome.found = len({c.id for cs in found.values() if cs for c in cs})
    for tile, candidates in found.items():
        if candidates is None:
            continue
        kept, discarded = apply_filters(candidates, request, tile, listing=listing)
        outcome.per_tile[tile] = kept
        outcome.discarded += discarded
    return outcome


def _search(request: Request, tiles: Sequence[str], dag, items_per_page: int, max_retries: int
            ) -> dict[str, list[S1Candidate] | None]:
    """eodag's search per tile; None for a tile whose search failed."""
    if not tiles:
        raise NoS2TileError()
    gateway = dag if dag is not None else eodag_compat.open_gateway(
        request.data_source.eodag_config)
    found: dict[str, list[S1Candidate] | None] = {}
    for tile in tiles:
        try:
            found[tile] = search_tile(gateway, request, tile, items_per_page=items_per_page,
                                      max_retries=max_retries)
        except SearchFailedError as error:
            log.error("%s", error)
            found[tile] = None
    return found


def _scan(request: Request, tiles: Sequence[str] | None, listing: Listing,
          unreadable: list[tuple[str, str]]) -> dict[str, list[S1Candidate] | None]:
    """The cache's products, given to each tile they intersect (all they cover for `ALL`);
    the products that cannot be read go to `unreadable`. For `ALL`, no tile at all is
    `CorruptedDataSAFEError` (71, the first unreadable product) when some could not be read,
    else `NoS2TileError` (73)."""
    candidates, skipped = scan_products(request.paths.s1_images, request.data_source,
                                        listing=listing, unreadable=unreadable)
    for entry, reason in skipped:
        log.warning("%s skipped: %s", entry, reason)
    footprints = {c.id: wkt.loads(c.footprint) for c in candidates}
    if tiles is None:
        tiles = sorted({t.name for c in candidates for t in S2Tile.covering(footprints[c.id])})
        if not tiles and unreadable:  # the only products cannot be read: say which (71)
            raise CorruptedDataSAFEError(*unreadable[0])
        if not tiles:
            raise NoS2TileError()
    found: dict[str, list[S1Candidate] | None] = {}
    for tile in tiles:
        footprint = S2Tile.from_name(tile).footprint
        found[tile] = [c for c in candidates if footprints[c.id].intersects(footprint)]
    return found
