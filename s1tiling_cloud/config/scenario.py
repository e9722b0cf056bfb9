"""S1Tiling's four programs as one typed registry, and the checks they add to the configuration's.

Every layer asks the same few questions of a scenario (does it make products or only maps, which
map, does it read the DEM and geoid, does it take the search options), so the answers live here,
once, as attributes of `Scenario`; the plan, the Argo templates, the API and the CLI read them
instead of comparing names.

A `.cfg` is valid on its own, yet not for every program: NORMLIM σ° and the LIA/IA maps are
computed per relative orbit from precise orbit files, so they need the orbits listed, and the
maps-only programs have no product scan to turn `tiles: ALL` into tiles. Any platforms may be
listed, as S1Tiling allows: a relative orbit is a ground track, the same for every platform,
so a tile's LIA map does not depend on which platform flew it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ConfigurationError
from .model import Request
from .values import ALL_TILES

__all__ = ["SCENARIOS", "Scenario", "check_scenario", "scenario", "scenario_name"]


@dataclass(frozen=True)
class Scenario:
    """One of S1Tiling's programs, and what the layers need to know of it.

    Attributes
    ----------
    name : str
        The API function (`s1_process_lia`); also the plan's and the Argo label's scenario.
    program : str
        S1Tiling's console script (`S1LIAMap`).
    command : str
        The `s1tiling-cloud` command (`lia`).
    template : str
        The Argo WorkflowTemplate's name (`s1-process-lia`).
    summary : str
        What the program makes, for the commands' help.
    map_stage : str or None
        The stage making the scenario's maps (`lia`, `ia`, `gamma_area`); None for S1Processor,
        whose maps depend on the calibration.
    map_label : str
        How S1Tiling's messages name the maps (`LIA`, `IA`).
    maps_from_orbit_files : bool
        Maps only, per listed relative orbit: a tile no product covers gets its maps from the
        precise orbit files, so the orbits must be listed and `tiles: ALL` cannot be expanded.
    needs_heights : bool
        Reads the DEM and the geoid (checked before the search; a `heights` node per tile).
    search_options : bool
        The command takes `--searched_items_per_page`, `--nb_max_search_retries`,
        `--eodag_download_wait` and `--eodag_download_timeout`, as S1Tiling's program does.
    """

    name: str
    program: str
    command: str
    template: str
    summary: str
    map_stage: str | None
    map_label: str
    maps_from_orbit_files: bool
    needs_heights: bool
    search_options: bool

    @property
    def makes_products(self) -> bool:
        """S1Processor: backscatter products; every other program writes maps only."""
        return self.map_stage is None

    def needs_relative_orbits(self, calibration: str) -> bool:
        """Whether `[DataSource] relative_orbit_list` must be set for this `calibration`."""
        return self.maps_from_orbit_files or (self.makes_products and calibration == "normlim")


#: S1Tiling's programs by API name, in S1Tiling's order.
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(name="s1_process", program="S1Processor", command="process", template="s1-process",
             summary="S1 GRD products to calibrated, orthorectified S2 tiles",
             map_stage=None, map_label="LIA", maps_from_orbit_files=False, needs_heights=True,
             search_options=True),
    Scenario(name="s1_process_lia", program="S1LIAMap", command="lia", template="s1-process-lia",
             summary="the sin(LIA) (and LIA) maps of each tile and relative orbit",
             map_stage="lia", map_label="LIA", maps_from_orbit_files=True, needs_heights=True,
             search_options=False),
    Scenario(name="s1_process_ia", program="S1IAMap", command="ia", template="s1-process-ia",
             summary="the ellipsoid incidence angle maps of each tile and relative orbit",
             map_stage="ia", map_label="IA", maps_from_orbit_files=True, needs_heights=False,
             search_options=False),
    Scenario(name="s1_process_gamma_area", program="S1GammaAreaMap", command="gamma-area",
             template="s1-process-gamma-area",
             summary="the γ-area map of each tile and relative orbit, for γ° RTC",
             map_stage="gamma_area", map_label="γ-area",
             maps_from_orbit_files=False, needs_heights=True, search_options=True),
)}
_BY_PROGRAM = {s.program.lower(): s for s in SCENARIOS.values()}


def scenario(name: str | Scenario) -> Scenario:
    """The scenario of an API name (`s1_process_lia`) or a program name (`S1LIAMap`).

    Parameters
    ----------
    name : str or Scenario
        The API name, or S1Tiling's program name in any case; a `Scenario` is returned as is.

    Returns
    -------
    Scenario

    Raises
    ------
    ValueError
        When `name` is neither, with the known names.
    """
    if isinstance(name, Scenario):
        return name
    key = name.strip()
    found = SCENARIOS.get(key) or _BY_PROGRAM.get(key.lower())
    if found is None:
        known = ", ".join([*SCENARIOS, *(s.program for s in SCENARIOS.values())])
        raise ValueError(f"unknown scenario {name!r}; one of {known}")
    return found


def scenario_name(name: str) -> str:
    """The API name of a scenario.

    Parameters
    ----------
    name : str
        The API name (`s1_process_lia`) or S1Tiling's program name (`S1LIAMap`).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When `name` is neither.
    """
    return scenario(name).name


def check_scenario(request: Request, name: str | Scenario) -> None:
    """Check that `request` can run the scenario `name`.

    Parameters
    ----------
    request : Request
        The parsed request.
    name : str or Scenario
        The scenario, by API or program name.

    Raises
    ------
    ConfigurationError
        (exit 72) Relative orbits are needed and not listed, or a maps-only program is given
        `tiles: ALL`.
    ValueError
        For an unknown scenario.
    """
    chosen = scenario(name)
    source = request.source
    if (chosen.needs_relative_orbits(request.processing.calibration)
            and not request.data_source.relative_orbit_list):
        raise ConfigurationError(f"At least one relative orbit is required for {chosen.map_label} map "
                                 f"generation ({chosen.program}): set [DataSource] relative_orbit_list",
                                 source)
    if chosen.maps_from_orbit_files and request.processing.tiles == [ALL_TILES]:
        raise ConfigurationError(f"[Processing] tiles: {ALL_TILES} is not supported by {chosen.program}, "
                                 "which scans no S1 product: list the tiles", source)
