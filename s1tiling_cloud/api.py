"""S1Tiling's Python API (`s1tiling.libs.api`): same entry points, parameters and result.

Each function reads the request (a `.cfg` path, a `Configuration`, or a `Request`), checks it
for its scenario, searches the products, plans the work and runs it with the local runner,
then returns the run's `Situation` (`.code` is the exit code). The four entry points keep
S1Tiling's signatures; their one body, `run_scenario`, takes the program from the scenario
registry (`config.scenario`). Errors found before any work
(configuration 72, tiles 73, no S1 product 74 or only corrupted ones 71, DEM 75, geoid 76)
are raised, typed, as S1Tiling raises them.

Accepted for compatibility, without effect here: `debug_tasks` and `watch_ram` (no Dask
graph), `cache_before_ortho` (only the window a tile needs is calibrated, in memory),
`lia_process`/`gamma_area_process` (S1Tiling's pipeline hooks). `debug_otb` runs every node in
this process, one at a time, as S1Tiling's does outside Dask.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from inspect import signature
from typing import Any

from .config import Configuration
from .config.model import Request
from .config.scenario import SCENARIOS, Scenario
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
from .runners.local import run_plan, start_workers
from .store import GDAL_CACHE_MB, NUMBA_THREADING_LAYER

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

#: The entry points' parameters, as their docstrings' Parameters section says them.
_PARAMETERS = {
    "config_opt": ("str, os.PathLike, Configuration or Request",
                   "The request: a `.cfg` path, or the request already read."),
    "dl_wait": ("int, default 2", "Minutes between two download tries (eodag)."),
    "dl_timeout": ("int, default 20", "Minutes before a download is given up (eodag)."),
    "searched_items_per_page": ("int, default 20", "Products per search page."),
    "nb_max_search_retries": ("int, default 5", "Tries of a search page before it counts as a "
                              "search failure."),
    "dryrun": ("bool, default False", "Print the plan on standard output; run nothing."),
    "debug_otb": ("bool, default False", "Run every step in this process, one at a time."),
    "debug_caches": ("bool, default False", "Keep the intermediate files."),
    "watch_ram": ("bool, default False", "Accepted for S1Tiling's sake; no effect."),
    "debug_tasks": ("bool, default False", "Accepted for S1Tiling's sake; no effect."),
    "cache_before_ortho": ("bool, default False", "Accepted for S1Tiling's sake; no effect: only "
                           "the window a tile needs is calibrated, in memory."),
    "lia_process": ("optional", "S1Tiling's pipeline hook; accepted, no effect."),
    "gamma_area_process": ("optional", "S1Tiling's pipeline hook; accepted, no effect."),
}
_RETURNS_RAISES = """
Returns
-------
Situation
    The run's failure counts; `.code` is S1Tiling's exit code for them (0: all done).

Raises
------
ConfigurationError
    (72) The request is invalid, or invalid for this program.
NoS2TileError
    (73) None of the requested tiles exists.
NoS1ImageError
    (74) No Sentinel-1 product was found for the tiles and dates (products programs only).
CorruptedDataSAFEError
    (71) The only products found could not be read; it names the first.
MissingDEMError
    (75) A tile's DEM is missing (programs that read the DEM).
MissingGeoidError
    (76) The geoid file is missing (programs that read the DEM).
"""
#: What `run_scenario` uses of the entry points' parameters; it ignores the others.
_RUN_OPTIONS = ("dl_wait", "dl_timeout", "searched_items_per_page", "nb_max_search_retries",
                "dryrun", "debug_otb", "debug_caches")


def request_of(config_opt: ConfigOption) -> Request:
    """The request of a `.cfg` path, a `Configuration` or a `Request`.

    Parameters
    ----------
    config_opt : str, os.PathLike, Configuration or Request
        Where the request is, or the request already read.

    Returns
    -------
    Request

    Raises
    ------
    ConfigurationError
        (72) The `.cfg` is missing or invalid.
    """
    if isinstance(config_opt, Request):
        return config_opt
    if isinstance(config_opt, Configuration):
        return config_opt.request
    return Configuration(config_opt).request


def _set_worker_environment(request: Request) -> None:
    """The workers' environment (they inherit it): S1Tiling's threads per application; and, as
    in a pod unless the user chose otherwise, GDAL's block cache bounded
    (`store.GDAL_CACHE_MB`) and numba's thread-safe layer (`store.NUMBA_THREADING_LAYER`)."""
    threads = str(request.processing.nb_otb_threads)
    os.environ["ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS"] = threads
    os.environ["GDAL_NUM_THREADS"] = threads
    os.environ.setdefault("GDAL_CACHEMAX", str(GDAL_CACHE_MB))
    os.environ.setdefault("NUMBA_THREADING_LAYER", NUMBA_THREADING_LAYER)


def run_scenario(config_opt: ConfigOption, scenario: str | Scenario, *, dl_wait: float = 2,
                 dl_timeout: float = 20, searched_items_per_page: int = 20,
                 nb_max_search_retries: int = 5, dryrun: bool = False, debug_otb: bool = False,
                 debug_caches: bool = False, progress: bool | None = None) -> Situation:
    """Plan a scenario for the request, and run it with the local runner or print the plan.

    Parameters
    ----------
    config_opt : str, os.PathLike, Configuration or Request
        The request.
    scenario : str or Scenario
        The program, by API name (`s1_process_lia`) or S1Tiling's name (`S1LIAMap`).
    dl_wait, dl_timeout, searched_items_per_page, nb_max_search_retries, dryrun, debug_otb, \
debug_caches
        As in `s1_process`.
    progress : bool, optional
        A progress bar (True), log lines (False); by default a bar on a terminal only.

    Returns
    -------
    Situation
        The run's failure counts (none for a dry run but the search's).

    Raises
    ------
    Error
        The typed errors of the checks before any work (71, 72, 73, 74, 75, 76); ValueError for an
        unknown scenario.
    """
    request = request_of(config_opt)
    processes = 0 if debug_otb else max(1, request.processing.nb_parallel_processes)
    if processes and not dryrun:  # the workers' imports while this process plans
        _set_worker_environment(request)
        start_workers()
    plan: Plan = plan_request(request, scenario, searched_items_per_page=searched_items_per_page,
                              nb_max_search_retries=nb_max_search_retries, dl_wait=dl_wait,
                              dl_timeout=dl_timeout)
    search_failures = int(plan.search.get("search_failures", 0))
    if dryrun:
        sys.stdout.write(render_text(plan))
        return Situation(nb_search_failures=search_failures)
    _set_worker_environment(request)  # for a run in this process too (debug_otb)
    report = run_plan(plan, processes=processes, progress=progress, keep_intermediates=debug_caches)
    return report.situation


def _entry_point(function: Callable[..., Situation]) -> Callable[..., Situation]:
    """Complete an entry point's docstring (its summary) with its parameters, result and errors,
    from `_PARAMETERS` and `_RETURNS_RAISES`: one description of each, shared by the four."""
    lines = ["", "Parameters", "----------"]
    for name in signature(function).parameters:
        kind, description = _PARAMETERS[name]
        lines += [f"{name} : {kind}", f"    {description}"]
    function.__doc__ = (function.__doc__ or "").rstrip() + "\n" + "\n".join(lines) + "\n" + _RETURNS_RAISES
    return function


def _run_entry(name: str, arguments: Mapping[str, Any]) -> Situation:
    """The entry points' shared body: the registry's scenario `name` run with the options
    `run_scenario` knows; the others are logged as ignored when set."""
    options = dict(arguments)
    config_opt = options.pop("config_opt")
    run_options = {key: options.pop(key) for key in _RUN_OPTIONS if key in options}
    for key, value in options.items():
        if value:
            log.info("%s has no effect in s1tiling-cloud; ignored", key)
    return run_scenario(config_opt, SCENARIOS[name], **run_options)


@_entry_point
def s1_process(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
               searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
               dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
               watch_ram: bool = False, debug_tasks: bool = False, cache_before_ortho: bool = False,
               lia_process=None, gamma_area_process=None) -> Situation:
    """S1Processor: download, calibrate, orthorectify on S2 tiles, concatenate, mask, despeckle
    (β°/σ°/γ°, NORMLIM σ°, γ° RTC, as `[Processing] calibration` says)."""
    return _run_entry("s1_process", locals())


@_entry_point
def s1_process_lia(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
                   searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
                   dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
                   watch_ram: bool = False, debug_tasks: bool = False) -> Situation:
    """S1LIAMap: sin(LIA) (and LIA in degrees × 100 with `produce_lia_map`) per tile × orbit."""
    return _run_entry("s1_process_lia", locals())


@_entry_point
def s1_process_ia(config_opt: ConfigOption, dryrun: bool = False, debug_otb: bool = False,
                  debug_caches: bool = False, watch_ram: bool = False,
                  debug_tasks: bool = False) -> Situation:
    """S1IAMap: the ellipsoid incidence angle maps (`ia_maps_to_produce`) per tile × orbit."""
    return _run_entry("s1_process_ia", locals())


@_entry_point
def s1_process_gamma_area(config_opt: ConfigOption, dl_wait: int = 2, dl_timeout: int = 20,
                          searched_items_per_page: int = 20, nb_max_search_retries: int = 5,
                          dryrun: bool = False, debug_otb: bool = False, debug_caches: bool = False,
                          watch_ram: bool = False, debug_tasks: bool = False) -> Situation:
    """S1GammaAreaMap: the γ-area map per tile × orbit, for γ° RTC."""
    return _run_entry("s1_process_gamma_area", locals())
