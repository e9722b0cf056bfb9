"""S1Tiling's start-up checks before any search or work: tiles (73), DEM (75), geoid (76)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from s1tiling_cloud.exceptions import ConfigurationError, MissingDEMError, MissingGeoidError, NoS2TileError
from s1tiling_cloud.plan.request import plan_request
from s1tiling_cloud.runners.remaining import pending_plan
from s1tiling_cloud.testing import write_dem_tiles

from .requests import make_request, outcome_for
from .test_build import LATER


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    """Flat SRTM3 tiles over 31TCJ only (not over its eastern neighbour 31TDJ)."""
    folder = tmp_path_factory.mktemp("dem")
    write_dem_tiles(0.0, (43.2, 44.4), (0.45, 1.95), folder, kind="srtm3")
    return folder


def test_unknown_tiles_are_dropped_with_a_warning(tmp_path, dem, caplog):
    request = make_request(str(tmp_path), tiles=("31TCJ", "31TZA"), dem_dir=str(dem))
    with caplog.at_level(logging.WARNING):
        plan = plan_request(request, outcome=outcome_for({"31TCJ": [LATER]}))
    assert "Tile 31TZA does not exist, skipping" in caplog.text
    assert plan.request["processing"]["tiles"] == ["31TCJ"]
    assert {n.stage for n in plan.nodes} == {"ingest", "heights", "ortho"}


def test_no_tile_left(tmp_path, dem):
    with pytest.raises(NoS2TileError) as error:
        plan_request(make_request(str(tmp_path), tiles=("31TZA",), dem_dir=str(dem)), outcome=outcome_for({}))
    assert error.value.exit_code == 73


def test_missing_dem_tiles_fail_before_the_search(tmp_path, dem):
    request = make_request(str(tmp_path), tiles=("31TCJ", "31TDJ"), dem_dir=str(dem))
    with pytest.raises(MissingDEMError, match="31TDJ: .*N43E002") as error:
        plan_request(request, outcome=outcome_for({}))
    assert error.value.exit_code == 75
    # The IA maps need no DEM.
    plan = plan_request(dataclasses.replace(request, data_source=dataclasses.replace(
        request.data_source, relative_orbit_list=[7])), "s1_process_ia",
        outcome=outcome_for({"31TCJ": [LATER]}))
    assert [n.id for n in plan.nodes] == [f"ingest/{LATER.id}", "ia/31TCJ/007", "ia/31TDJ/007"]
    # 31TDJ has no product: its map comes from the orbit files (S1Tiling >= 1.3)
    eof_only = plan.node("ia/31TDJ/007")
    assert eof_only.args["product"] is None and eof_only.args["relative_orbit"] == 7
    assert eof_only.args["eof_dir"] == f"{tmp_path}/out/_EOF" and not eof_only.depends


def test_missing_geoid(tmp_path, dem):
    request = make_request(str(tmp_path), dem_dir=str(dem))
    request.paths.geoid_file = str(tmp_path / "no-such-geoid.gtx")
    with pytest.raises(MissingGeoidError) as error:
        plan_request(request, outcome=outcome_for({}))
    assert error.value.exit_code == 76


def test_scenario_checks(tmp_path, dem):
    request = make_request(str(tmp_path), dem_dir=str(dem))  # no relative orbit listed
    with pytest.raises(ConfigurationError, match="relative orbit"):
        plan_request(request, "s1_process_lia", outcome=outcome_for({}))


def test_with_both_the_geoid_and_the_dem_missing_the_geoid_is_reported_first(tmp_path, dem):
    request = make_request(str(tmp_path), tiles=("31TCJ", "31TDJ"), dem_dir=str(dem))
    request.paths.geoid_file = str(tmp_path / "no-such-geoid.gtx")
    with pytest.raises(MissingGeoidError) as error:  # S1Tiling's order: 76 before 75
        plan_request(request, outcome=outcome_for({}))
    assert error.value.exit_code == 76


@pytest.mark.parametrize("scenario", ["s1_process_gamma_area", "s1_process_lia"])
def test_a_maps_program_downloads_nothing_for_a_map_that_exists(tmp_path, dem, scenario):
    request = make_request(str(tmp_path), dem_dir=str(dem))
    request.data_source.relative_orbit_list = [7]
    plan = plan_request(request, scenario, outcome=outcome_for({"31TCJ": [LATER]}))
    maps = [n for n in plan.nodes if n.stage in ("gamma_area", "lia")]
    assert [n.stage for n in plan.nodes][:2] == ["ingest", "heights"] and len(maps) == 1
    for uri in maps[0].outputs:  # the map is there (a re-run, or made by another campaign)
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).write_bytes(b"map")
    again = plan_request(request, scenario, outcome=outcome_for({"31TCJ": [LATER]}))
    assert pending_plan(again).nodes == []  # no download, no heights, no map
