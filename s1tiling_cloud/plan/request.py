"""A request → its plan, with S1Tiling's start-up checks before any search or work.

Order, as S1Processor fails: the scenario's own configuration checks (72), unknown tiles
dropped with a warning and `NoS2TileError` (73) when none is left, the geoid
(`MissingGeoidError`, 76), the DEM tiles every tile needs (`MissingDEMError`, 75: sea cells
without a tile are taken at the geoid); then the search and the plan, and `check_found`: a
program that needs products and found none fails (71 when the only ones cannot be read, else
74). Errors propagate typed: the API and the CLI turn them into exit codes.
"""

from __future__ import annotations

import dataclasses
import logging

from ..config.model import Request
from ..config.scenario import Scenario, check_scenario
from ..config.scenario import scenario as scenario_of
from ..config.values import ALL_TILES
from ..exceptions import CorruptedDataSAFEError, MissingDEMError, NoS1ImageError
from ..geo import Grid
from ..geo.dem import DemSource
from ..geo.geoid import Geoid
from ..geo.s2tile import existing_tiles
from ..search.model import SearchOutcome
from .build import build_plan
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


def plan_request(request: Request, scenario: str | Scenario = "s1_process", *,
                 searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
                 dl_wait: float = 2, dl_timeout: float = 20,
                 outcome: SearchOutcome | None = None) -> Plan:
    """Check the request for `scenario`, search its products (unless `outcome` is given), and
    plan the work. Raises the typed errors of the checks, `check_found`'s included: a given
    `outcome` is checked too (74, or 71 when its only products could not be read). With
    `tiles: ALL`, the scan of `s1_images` raises 71 itself when every product there is
    unreadable (`search._scan`). Search failures are counted in the plan
    (`plan.search["search_failures"]`), not raised."""
    chosen = scenario_of(scenario)
    check_scenario(request, chosen)
    every_tile = [t.upper() for t in request.processing.tiles] == [ALL_TILES]
    if not every_tile:
        tiles = existing_tiles(list(request.processing.tiles))
        request = with_tiles(request, tiles)
    if chosen.needs_heights:
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
        if tiles and chosen.needs_heights:
            check_dem(request, tiles)
        outcome = dataclasses.replace(outcome, per_tile={t: outcome.per_tile[t] for t in tiles})
    check_found(outcome, chosen)
    # A map that exists is not made again, and nothing is downloaded for it: that, as every
    # "already done", is decided on the plan by `runners.remaining` (local runner, Argo).
    return build_plan(request, outcome, chosen, dl_wait=dl_wait, dl_timeout=dl_timeout)


def check_found(outcome: SearchOutcome, scenario: Scenario) -> None:
    """Refuse a request whose program needs products when none was found.

    S1Tiling's `NoS1ImageError` (74) says that no Sentinel-1 product intersects the requested
    tiles in the time range: an empty `s1_images`, or a search that found nothing. When the only
    products there could not be read, the error is the first one's `CorruptedDataSAFEError`
    (71), naming it. Nothing is raised when a search failed (67, counted in the plan), when
    products were found but the request's filters dropped them all, nor for the programs that
    make their maps from the orbit files alone (`Scenario.maps_from_orbit_files`).

    Parameters
    ----------
    outcome : SearchOutcome
        What the search (or the scan of `s1_images`) found.
    scenario : Scenario
        The program's scenario.
    """
    if scenario.maps_from_orbit_files or outcome.search_failures:
        return
    if any(outcome.per_tile.values()) or outcome.found:
        return
    if outcome.unreadable:
        raise CorruptedDataSAFEError(*outcome.unreadable[0])
    raise NoS1ImageError()
