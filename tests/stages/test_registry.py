"""The stage registry is the one list every caller reads: each stage in it runs through
`s1tiling-cloud stage NAME`, each planned node names one of them, the plan and the Argo render
give a node the same pod kind, and a bad parameter is a configuration error (exit 72) in every
stage that takes params."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest
from typer.testing import CliRunner

from s1tiling_cloud import exits
from s1tiling_cloud.argo.children import part_workflows
from s1tiling_cloud.cli import app
from s1tiling_cloud.exceptions import ConfigurationError
from s1tiling_cloud.stages.registry import POD_KINDS, STAGES, run_stage, stage_arguments
from tests.argo.plans import campaign

#: The least arguments each stage with params binds (URIs that are never read: the params are
#: refused before any input is opened).
MISSING = "/nonexistent/s1tiling-cloud/x.tif"
REQUIRED: dict[str, dict] = {
    "heights": {"tile": "31TCJ", "resolution": 10.0, "out_uri": MISSING},
    "ortho": {"product": MISSING, "tile": "31TCJ", "heights_uri": MISSING,
              "outputs": {"VV": MISSING}},
    "concatenate": {"inputs": [MISSING], "output": MISSING, "tile": "31TCJ"},
    "despeckle": {"product": MISSING, "output": MISSING},
    "quicklook": {"product": MISSING, "output": MISSING},
    "lia": {"product": MISSING, "tile": "31TCJ", "heights_uri": MISSING,
            "outputs": {"sin_LIA": MISSING}},
    "ia": {"product": MISSING, "tile": "31TCJ", "outputs": {"IA": MISSING}},
    "normlim": {"product": MISSING, "sin_lia_uri": MISSING, "output": MISSING},
    "gamma_area": {"product": MISSING, "tile": "31TCJ", "heights_uri": MISSING,
                   "output": MISSING},
    "rtc": {"product": MISSING, "gamma_area_uri": MISSING, "output": MISSING},
}

PLANS = [("s1_process", "sigma"), ("s1_process", "normlim"), ("s1_process", "gamma_naught_rtc"),
         ("s1_process_lia", "sigma"), ("s1_process_ia", "sigma"),
         ("s1_process_gamma_area", "sigma")]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_loads_with_its_params_and_storage_options(name):
    stage = STAGES[name]
    assert stage.name == name and stage.module.rsplit(".", 1)[-1] == name  # module = stage name
    assert stage.pod_kind in POD_KINDS
    parameters = inspect.signature(stage.load()).parameters
    assert "storage_options" in parameters  # what `stage_arguments` relies on
    assert set(stage.partial_inputs) <= set(parameters)
    if stage.params is None:
        assert stage.load_params_type() is None
    else:
        assert stage.params in parameters and dataclasses.is_dataclass(stage.load_params_type())


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_is_known_to_the_cli(name):
    """`s1tiling-cloud stage NAME` finds it: arguments it does not take are a usage error (2)
    about its arguments, not an unknown stage."""
    result = CliRunner().invoke(app, ["stage", name, "--args", json.dumps({"no_such_argument": 1})])
    assert result.exit_code == 2 and "--args" in result.output
    assert "unknown stage" not in result.output
    result = CliRunner().invoke(app, ["stage", f"{name}_nope", "--args", "{}"])
    assert result.exit_code == 2 and "unknown stage" in result.output


def test_stages_with_params_are_the_ones_this_test_calls():
    assert set(REQUIRED) == {name for name, stage in STAGES.items() if stage.params}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_an_unknown_parameter_is_exit_72_in_every_stage(name):
    arguments = {**REQUIRED[name], STAGES[name].params: {"no_such_parameter": 1}}
    with pytest.raises(ConfigurationError, match="no_such_parameter"):
        run_stage(name, arguments)
    result = CliRunner().invoke(app, ["stage", name, "--args", json.dumps(arguments)])
    assert result.exit_code == exits.CONFIG_ERROR == 72, result.output


@pytest.mark.parametrize(("name", "params"), [
    ("ortho", {"lower_signal_value": 0}),  # was ValueError, exit 78, before `StageCall`
    ("normlim", {"lower_signal_value": 0}),
    ("ortho", {"engine": "gpu"}),
    ("despeckle", {"method": "lee", "window_radius": 2, "nblooks": 1.0, "engine": "gpu"}),
    ("concatenate", {"engine": "gpu"}),
    ("lia", {"normal": "sideways"}),
    ("despeckle", {"method": "median"}),
])
def test_a_refused_value_is_exit_72(name, params):
    result = CliRunner().invoke(app, ["stage", name, "--args",
                                      json.dumps({**REQUIRED[name], "params": params})])
    assert result.exit_code == exits.CONFIG_ERROR, result.output


@pytest.mark.parametrize(("name", "outputs"), [
    ("lia", {"cos_LIA": MISSING}),  # was ValueError, exit 78 (which Argo retries)
    ("ia", {"LIA": MISSING}),
    ("ia", {}),
])
def test_a_wrong_output_kind_is_exit_72(name, outputs):
    result = CliRunner().invoke(app, ["stage", name, "--args",
                                      json.dumps({**REQUIRED[name], "outputs": outputs})])
    assert result.exit_code == exits.CONFIG_ERROR, result.output


def test_a_reversed_eof_period_is_exit_72(tmp_path):
    arguments = {"platform": "S1A", "start": "2024-01-02T00:00:00", "stop": "2024-01-01T00:00:00",
                 "eof_dir": str(tmp_path)}
    result = CliRunner().invoke(app, ["stage", "eof", "--args", json.dumps(arguments)])
    assert result.exit_code == exits.CONFIG_ERROR, result.output
    assert "before it starts" in result.output


@pytest.mark.parametrize(("scenario", "calibration"), PLANS)
def test_plan_nodes_name_registered_stages_and_argo_gives_them_the_plan_s_pod_kind(
        scenario, calibration):
    plan = campaign(["33TTG"], 2, calibration=calibration, scenario=scenario)
    assert {node.stage for node in plan.nodes} <= set(STAGES)
    assert all(node.kind == STAGES[node.stage].pod_kind for node in plan.nodes)
    rendered = 0
    for part, workflow in part_workflows(plan):
        dag = next(t for t in workflow.to_dict()["spec"]["templates"] if t["name"] == "main")["dag"]
        for node, task in zip(part.nodes, dag["tasks"], strict=True):
            kind = "ingest" if task["template"].startswith("stage-ingest-") else \
                task["template"].removeprefix("stage-")
            assert kind == node.kind, node.id
            arguments = {p["name"]: p["value"] for p in task["arguments"]["parameters"]}
            assert json.loads(arguments["args"]) == stage_arguments(node.stage, node.args,
                                                                    plan.storage_options)
            rendered += 1
    assert rendered == len(plan.nodes)


def test_heights_runs_in_a_light_pod_and_only_publish_is_serial():
    assert STAGES["heights"].pod_kind == "light"
    assert [name for name, stage in STAGES.items() if stage.serial] == ["publish"]


def test_a_stage_call_turns_numpy_huge_pages_off():
    """A stage's arrays get 4 KiB pages: numpy no longer madvises them as huge pages (whose
    synchronous compaction cost seconds of system time on fragmented memory)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _set_madvise_hugepage
    from s1tiling_cloud.stages.base import StageCall

    _set_madvise_hugepage(True)
    StageCall("heights")
    assert _set_madvise_hugepage(False) is False  # returns the setting it replaces
