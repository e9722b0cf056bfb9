"""The scenario registry (`config.scenario`) is what every layer reads: each of S1Tiling's programs
has its API function, its command and console script, its plan and its Argo template, and every
command ends typed errors with S1Tiling's exit code on standard error."""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from s1tiling_cloud import api, cli
from s1tiling_cloud.argo import submission, workflow_template
from s1tiling_cloud.config.scenario import SCENARIOS, check_scenario, scenario
from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.plan import build_plan
from s1tiling_cloud.search.model import SearchOutcome
from tests.plan.requests import make_request, write_config

ROOT = Path(__file__).resolve().parents[1]
EVERY = list(SCENARIOS.values())


def _ids(value):
    return value.name


def test_names_find_their_scenario():
    for chosen in EVERY:
        assert scenario(chosen.name) is scenario(chosen.program.upper()) is scenario(chosen) is chosen
    with pytest.raises(ValueError, match="S1LIAMap"):
        scenario("s1_process_nothing")


@pytest.mark.parametrize("chosen", EVERY, ids=_ids)
def test_api_function_command_and_console_script(chosen):
    function = getattr(api, chosen.name)
    assert chosen.name in api.__all__ and "Parameters" in function.__doc__
    assert list(inspect.signature(function).parameters)[0] == "config_opt"
    commands = typer.main.get_command(cli.app).commands
    assert chosen.program in commands[chosen.command].help
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[chosen.program] == f"s1tiling_cloud.cli:{chosen.program}"
    assert callable(getattr(cli, chosen.program))
    options = {o for p in commands[chosen.command].params for o in p.opts}
    assert ("--searched_items_per_page" in options) == chosen.search_options
    assert ("--cache-before-ortho" in options) == chosen.makes_products


@pytest.mark.parametrize("chosen", EVERY, ids=_ids)
def test_plan_and_argo_template_agree(chosen, tmp_path):
    plan = build_plan(make_request(str(tmp_path)), SearchOutcome(per_tile={}), chosen.program)
    assert plan.scenario == chosen.name
    template = workflow_template(chosen.name).to_dict()
    assert template["metadata"]["name"] == chosen.template
    assert template["metadata"]["labels"]["s1tiling-cloud/scenario"] == chosen.name
    planner = next(t for t in template["spec"]["templates"] if t["name"] == "plan")
    assert planner["container"]["command"][3:5] == ["--scenario", chosen.name]
    workflow = submission("[Paths]\n", chosen.program).to_dict()
    assert workflow["spec"]["workflowTemplateRef"]["name"] == chosen.template
    assert workflow["metadata"]["labels"]["s1tiling-cloud/scenario"] == chosen.name


def test_relative_orbits_are_required_by_the_maps_and_normlim(tmp_path):
    for chosen in EVERY:
        for calibration in ("sigma", "normlim"):
            request = make_request(str(tmp_path), calibration=calibration)
            request = dataclasses.replace(request, data_source=dataclasses.replace(
                request.data_source, relative_orbit_list=[]))
            if chosen.needs_relative_orbits(calibration):
                with pytest.raises(ConfigurationError, match=chosen.program):
                    check_scenario(request, chosen)
            else:
                check_scenario(request, chosen)
    assert [s.program for s in EVERY if s.needs_relative_orbits("sigma")] == ["S1LIAMap", "S1IAMap"]


def _invoke(*args: str):
    return CliRunner().invoke(cli.app, list(args))


@pytest.mark.parametrize("chosen", EVERY, ids=_ids)
def test_each_command_ends_typed_errors_with_their_code(chosen, tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text("[Paths]\noutput : /data/out\n")
    done = _invoke(chosen.command, str(bad))
    assert done.exit_code == 72, done.output
    assert "Please fix the configuration file" in done.stderr and done.stdout == ""
    (tmp_path / "dem").mkdir()
    unknown = write_config(tmp_path / "unknown.cfg", root=tmp_path, s1_images=tmp_path / "s1",
                           dem_dir=tmp_path / "dem", tiles="31TZA")
    done = _invoke(chosen.command, str(unknown))
    assert done.exit_code == 73 and "NoS2TileError" in done.stderr, done.output
    if chosen.needs_heights:
        no_dem = write_config(tmp_path / "no-dem.cfg", root=tmp_path, s1_images=tmp_path / "s1",
                              dem_dir=tmp_path / "dem")
        done = _invoke(chosen.command, str(no_dem), "--dryrun")
        assert done.exit_code == 75 and "MissingDEMError" in done.stderr, done.output


def test_other_commands_take_the_same_path(tmp_path, monkeypatch):
    """A typed error in a non-processing command: its code; an untyped one: 78, one line."""
    bad = tmp_path / "bad.cfg"
    bad.write_text("[Paths]\noutput : /data/out\n")
    monkeypatch.delenv("ARGO_SERVER", raising=False)
    for command in (["report", str(tmp_path)], ["submit", str(bad)], ["watch", "some-workflow"]):
        done = _invoke(*command)
        assert done.exit_code == 72 and "ConfigurationError" in done.stderr, (command, done.output)
    done = _invoke("plan", str(bad))
    assert done.exit_code == 72 and "ConfigurationError" in done.stderr, done.output
    done = _invoke("workflow", "render", str(bad))
    assert done.exit_code == 72 and "ConfigurationError" in done.stderr, done.output
    broken = tmp_path / "plan.json"
    broken.write_text("{}")
    done = _invoke("workflow", "children", str(broken))
    assert done.exit_code == 78, done.output
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.output
    done = _invoke("plan", str(bad), "--scenario", "S1Nothing")
    assert done.exit_code == 2 and "S1LIAMap" in done.output  # a usage error stays typer's
