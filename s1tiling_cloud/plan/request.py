"""A request → its plan, with S1Tiling's start-up checks before any search or work.

Order, as S1Processor fails: the scenario's own configuration checks (72), unknown tiles
dropped with a warning and `NoS2TileError` (73) when none is left, the geoid
(`MissingGeoidError`, 76), the DEM tiles every tile needs (`MissingDEMError`, 75: sea cells
without a tile are taken at the geoid); then the search and the plan. Errors propagate typed:
the API and the CLI turn them into exit codes.
"""

from __future__ import annotations

import dataclasses
import logging

from ..config.model import Request
from ..exceptions import MissingDEMError
from ..geo import Grid
from ..geo.dem import DemSource
from ..geo.geoid import Geoid
from ..geo.s2tile import existing_tiles
from ..search.model import SearchOutcome
from .build import SCENARIOS, build_plan
from .model import Plan

log = logging.getLogger(__name__)

#: Pixels around a tile the DEM must cover (the heights stage reads that margin).
DEM_MARGIN = 4


def check_dem(request: Request, tiles: list[str]) -> None:
    """`MissingDEMError` naming the missing DEM files of the first tile lacking some."""
    paths = request.paths
    source = DemSource.from_config(paths.dem_dir, paths.dem_database, paths.dem_source_format,
                                   storage_options=request.storage.storage_options())
    resolution = float(request.processing.output_spatial_resolution)
    for tile in tiles:
        try:
            source.require(Grid.from_tile(tile, resolution), margin=DEM_MARGIN)
        except MissingDEMError as error:
            named = MissingDEMError(f"{tile}: {error.details}")
            named.missing = getattr(error, "missing", [])
            raise named from error


def check_geoid(request: Request) -> None:
    """`MissingGeoidError` unless the geoid (the configured file, or EGM96) opens."""
    Geoid.open(request.paths.geoid_file, storage_options=request.storage.storage_options() or None)


def with_tiles(request: Request, tiles: list[str]) -> Request:
    """The request restricted to `tiles` (the valid ones)."""
    processing = dataclasses.replace(request.processing, tiles=list(tiles))
    return dataclasses.replace(request, processing=processing)


def plan_request(request: Request, scenario: str = "s1_process", *, searched_items_per_page: int = 20,
                 nb_max_search_retries: int = 5, dl_wait: float = 2, dl_timeout: float = 20,
                 outcome: SearchOutcome | None = None) -> Plan:
    """Check the request for `scenario`, search its products (unless `outcome` is given), and
    plan the work. Raises the typed errors of the checks; search failures are counted in the
    plan (`plan.search["search_failures"]`), not raised."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    from ..config import check_scenario

    check_scenario(request, scenario)
    every_tile = [t.upper() for t in request.processing.tiles] == ["ALL"]
    if not every_tile:
        tiles = existing_tiles(list(request.processing.tiles))
        request = with_tiles(request, tiles)
    if scenario != "s1_process_ia":
        check_geoid(request)  # with both missing, S1Tiling reports the geoid (76) first
        if not every_tile:
            check_dem(request, tiles)
    if outcome is None:
        from ..search import find_products

        # Every group is planned, done or not: what is already done is decided on the plan
        # (`runners.remaining`), from every output it promises, not from the σ° files only.
        outcome = find_products(request, items_per_page=searched_items_per_page,
                                max_retries=nb_max_search_retries)
    if every_tile:  # `tiles: ALL`: the tiles the products cover, checked once known
        tiles = existing_tiles(sorted(outcome.per_tile)) if outcome.per_tile else []
        if tiles and scenario != "s1_process_ia":
            check_dem(request, tiles)
        outcome = dataclasses.replace(outcome, per_tile={t: outcome.per_tile[t] for t in tiles})
    # A map that exists is not made again, and nothing is downloaded for it: that, as every
    # "already done", is decided on the plan by `runners.remaining` (local runner, Argo).
    return build_plan(request, outcome, scenario, dl_wait=dl_wait, dl_timeout=dl_timeout)
