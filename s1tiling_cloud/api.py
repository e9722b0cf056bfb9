"""S1Tiling's Python API (`s1tiling.libs.api`): same entry points, parameters and result.

Each function reads the request (a `.cfg` path, a `Configuration`, or a `Request`), checks it
for its scenario, searches the products, plans the work and runs it with the local runner,
then returns the run's `Situation` (`.code` is the exit code). Errors found before any work
(configuration 72, tiles 73, DEM 75, geoid 76) are raised, typed, as S1Tiling raises them.

Accepted for compatibility, without effect here: `debug_tasks` and `watch_ram` (no Dask
graph), `cache_before_ortho` (only the window a tile needs is calibrated, in memory),
`lia_process`/`gamma_area_process` (S1Tiling's pipeline hooks). `debug_otb` runs every node in
this process, one at a time, as S1Tiling's does outside Dask.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from .config import Configuration
from .config.model import Request
from .exceptions import (
    ConfigurationError,
    CorruptedDataSAFEError,
    DownloadEOFFileError,
    DownloadS1FileError,
    Error,
    InvalidOTBVersionError,
    MissingApplication,
    MissingDEMError,
    MissingGeoidError,
    NoS1ImageError,
    NoS2TileError,
    NotCompatibleInput,
)
from .exits import Situation
from .plan.model import Plan
from .plan.render import render_text
from .plan.request import plan_request
from .runners.local import run_plan

__all__ = [
    "Configuration",
    "ConfigurationError",
    "CorruptedDataSAFEError",
    "DownloadEOFFileError",
    "DownloadS1FileError",
    "Error",
    "InvalidOTBVersionError",
    "MissingApplication",
    "MissingDEMError",
    "MissingGeoidError",
    "NoS1ImageError",
    "NoS2TileError",
    "NotCompatibleInput",
    "Situation",
    "s1_process",
    "s1_process_gamma_area",
    "s1_process_ia",
    "s1_process_lia",
]

log = logging.getLogger(__name__)

ConfigOption = str | os.PathLike | Configuration | Request


def request_of(config_opt: ConfigOption) -> Request:
    """The request of a `.cfg` path, a `Configuration` or a `Request`."""
    if isinstance(config_opt, Request):
        return config_opt
    if isinstance(config_opt, Configuration):
        return config_opt.request
    return Configuration(config_opt).request


def _set_thread_environment(request: Request) -> None:
    """What S1Tiling sets at start: threads per application (inherited by the workers)."""
    threads = str(request.processing.nb_otb_threads)
    os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = threads
    os.environ["GDAL_NUM_THREADS"] = threads


def _ignored(**options: Any) -> None:
    for name, value in options.items():
        if value:
            log.info("%s has no effect in s1tiling-cloud; ignored", name)


def run_scenario(config_opt: ConfigOption, scenario: str, *, dl_wait: float = 2, dl_timeout: float = 20,
                 searched_items_per_page: int = 20, nb_max_search_retries: int = 5, dryrun: bool = False,
                 debug_otb: bool = False, debug_caches: bool = False,
                 progress: bool | None = None) -> Situation:
    """Plan `scenario` for the request and run it (or, `dryrun`, print the plan)."""
    request = request_of(config_opt)
    plan: Plan = plan_request(request, scenario, searched_items_per_page=searched_items_per_page,
                              nb_max_search_retries=nb_max_search_retries, dl_wait=dl_wait,
                              dl_timeout=dl_timeout)
    search_failures = int(plan.search.get("search_failures", 0))
    if dryrun:
        sys.stdout.write(render_text(plan))
        return Situation(nb_search_failures=search_failures)
    _set_thread_environment(request)
    processes = 0 if debug_otb else max(1, request.processing.nb_parallel_processes)
    report = run_plan(plan, processes=processes, progress=progress, keep_intermediates=debug_caches)
    return report.situation


def s1_process(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
               searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
               dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
               watch_ram: bool = False, debug_tasks: bool = False, cache_before_ortho: bool = False,
               lia_process=None, gamma_area_process=None) -> Situation:
    """S1Processor: download, calibrate, orthorectify on S2 tiles, concatenate, mask, despeckle
    (β°/σ°/γ°, NORMLIM σ°, γ° RTC, as `[Processing] calibration` says)."""
    _ignored(watch_ram=watch_ram, debug_tasks=debug_tasks, cache_before_ortho=cache_before_ortho,
             lia_process=lia_process, gamma_area_process=gamma_area_process)
    return run_scenario(config_opt, "s1_process", dl_wait=dl_wait, dl_timeout=dl_timeout,
                        searched_items_per_page=searched_items_per_page,
                        nb_max_search_retries=nb_max_search_retries, dryrun=dryrun,
                        debug_otb=debug_otb, debug_caches=debug_caches)


def s1_process_lia(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
                   searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
                   dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
                   watch_ram: bool = False, debug_tasks: bool = False) -> Situation:
    """S1LIAMap: sin(LIA) (and LIA in degrees × 100 with `produce_lia_map`) per tile × orbit."""
    _ignored(watch_ram=watch_ram, debug_tasks=debug_tasks)
    return run_scenario(config_opt, "s1_process_lia", dl_wait=dl_wait, dl_timeout=dl_timeout,
                        searched_items_per_page=searched_items_per_page,
                        nb_max_search_retries=nb_max_search_retries, dryrun=dryrun,
                        debug_otb=debug_otb, debug_caches=debug_caches)


def s1_process_ia(config_opt: ConfigOption, dryrun: bool = False, debug_otb: bool = False,
                  debug_caches: bool = False, watch_ram: bool = False,
                  debug_tasks: bool = False) -> Situation:
    """S1IAMap: the ellipsoid incidence angle maps (`ia_maps_to_produce`) per tile × orbit."""
    _ignored(watch_ram=watch_ram, debug_tasks=debug_tasks)
    return run_scenario(config_opt, "s1_process_ia", dryrun=dryrun, debug_otb=debug_otb,
                        debug_caches=debug_caches)


def s1_process_gamma_area(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
                          searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
                          dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
                          watch_ram: bool = False, debug_tasks: bool = False) -> Situation:
    """S1GammaAreaMap: the γ-area map per tile × orbit, for γ° RTC."""
    _ignored(watch_ram=watch_ram, debug_tasks=debug_tasks)
    return run_scenario(config_opt, "s1_process_gamma_area", dl_wait=dl_wait, dl_timeout=dl_timeout,
                        searched_items_per_page=searched_items_per_page,
                        nb_max_search_retries=nb_max_search_retries, dryrun=dryrun,
                        debug_otb=debug_otb, debug_caches=debug_caches)
