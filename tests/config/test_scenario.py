"""The checks S1Tiling's programs add: orbits for NORMLIM/LIA/IA, no `tiles: ALL` for maps only,
one platform for NORMLIM and IA."""

from __future__ import annotations

import pytest

from s1tiling_cloud.config import check_scenario, load_request
from s1tiling_cloud.exceptions import ConfigurationError, exit_code_for


@pytest.fixture
def request_with(write_cfg, env):
    def make(changes):
        return load_request(write_cfg(changes), environ=env)

    return make


def test_plain_calibrations_need_no_orbit(request_with):
    request = request_with({})
    for scenario in ("s1_process", "S1Processor", "s1_process_gamma_area", "S1GammaAreaMap"):
        check_scenario(request, scenario)


@pytest.mark.parametrize("scenario, changes", [
    ("s1_process", {("Processing", "calibration"): "normlim"}),
    ("s1_process_lia", {}),
    ("S1LIAMap", {}),
    ("s1_process_ia", {}),
])
def test_normlim_lia_and_ia_need_a_relative_orbit(request_with, scenario, changes):
    request = request_with(changes)
    with pytest.raises(ConfigurationError, match="relative_orbit_list") as caught:
        check_scenario(request, scenario)
    assert "At least one relative orbit is required" in str(caught.value)
    assert request.source in str(caught.value) and exit_code_for(caught.value) == 72
    check_scenario(request_with({**changes, ("DataSource", "relative_orbit_list"): "7"}), scenario)


@pytest.mark.parametrize("scenario, program", [("s1_process_lia", "S1LIAMap"), ("s1_process_ia", "S1IAMap")])
def test_maps_only_programs_refuse_all_tiles(request_with, scenario, program):
    request = request_with({("Processing", "tiles"): "ALL", ("DataSource", "download"): "False",
                            ("DataSource", "relative_orbit_list"): "7"})
    check_scenario(request, "s1_process")  # S1Processor takes the tiles of the local products
    with pytest.raises(ConfigurationError, match=f"ALL is not supported by {program}"):
        check_scenario(request, scenario)


@pytest.mark.parametrize("scenario, changes", [
    ("s1_process", {("Processing", "calibration"): "normlim"}),
    ("s1_process_lia", {}),
    ("s1_process_ia", {}),
])
def test_normlim_and_maps_allow_several_platforms(request_with, scenario, changes):
    # S1Tiling accepts them: a relative orbit is a ground track, whatever the platform.
    base = {**changes, ("DataSource", "relative_orbit_list"): "7"}
    for platforms in ("S1A", "S1A, S1B", "S1A S1C S1D"):
        request = request_with({**base, ("DataSource", "platform_list"): platforms})
        check_scenario(request, scenario)
        assert len(request.data_source.platform_list) == len(platforms.replace(",", "").split())


def test_gamma_rtc_allows_several_platforms(request_with):
    request = request_with({("Processing", "calibration"): "gamma_naught_rtc",
                            ("DataSource", "platform_list"): "S1A, S1C"})
    check_scenario(request, "s1_process")
    check_scenario(request, "s1_process_gamma_area")


def test_unknown_scenario(request_with):
    with pytest.raises(ValueError, match="unknown scenario"):
        check_scenario(request_with({}), "s1_process_everything")
