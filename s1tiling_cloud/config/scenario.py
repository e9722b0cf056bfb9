"""The checks S1Tiling's entry points add to the configuration's own.

A `.cfg` is valid on its own, yet not for every program: NORMLIM σ° and the LIA/IA maps are
computed per relative orbit from precise orbit files, so they need the orbits listed, and the
maps-only programs have no product scan to turn `tiles: ALL` into tiles. Any platforms may be
listed, as S1Tiling allows: a relative orbit is a ground track, the same for every platform,
so a tile's LIA map does not depend on which platform flew it.
"""

from __future__ import annotations

from ..exceptions import ConfigurationError
from .model import Request
from .values import ALL_TILES

__all__ = ["SCENARIOS", "check_scenario", "scenario_name"]

#: S1Tiling's API functions, and the program that runs each.
SCENARIOS = {
    "s1_process": "S1Processor",
    "s1_process_lia": "S1LIAMap",
    "s1_process_ia": "S1IAMap",
    "s1_process_gamma_area": "S1GammaAreaMap",
}
_BY_PROGRAM = {program.lower(): function for function, program in SCENARIOS.items()}


def scenario_name(scenario: str) -> str:
    """The API name (`s1_process_lia`) of a scenario given by API or program name (`S1LIAMap`)."""
    key = scenario.strip()
    if key in SCENARIOS:
        return key
    try:
        return _BY_PROGRAM[key.lower()]
    except KeyError:
        known = ", ".join([*SCENARIOS, *SCENARIOS.values()])
        raise ValueError(f"unknown scenario {scenario!r}; one of {known}") from None


def check_scenario(request: Request, scenario: str) -> None:
    """ConfigurationError (exit 72) when `request` cannot run `scenario`."""
    name = scenario_name(scenario)
    program = SCENARIOS[name]
    source = request.source
    normlim = name == "s1_process" and request.processing.calibration == "normlim"
    maps_only = name in ("s1_process_lia", "s1_process_ia")
    if (normlim or maps_only) and not request.data_source.relative_orbit_list:
        what = "IA" if name == "s1_process_ia" else "LIA"
        raise ConfigurationError(f"At least one relative orbit is required for {what} map generation "
                                 f"({program}): set [DataSource] relative_orbit_list", source)
    if maps_only and request.processing.tiles == [ALL_TILES]:
        raise ConfigurationError(f"[Processing] tiles: {ALL_TILES} is not supported by {program}, which "
                                 "scans no S1 product: list the tiles", source)
