"""The WorkflowTemplates and child workflows: Argo's schema (strict), semantic checks, the
production defaults, and `hera generate yaml workflows/` == `workflows/rendered/`."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from s1tiling_cloud.argo import (
    ParentRef,
    part_workflows,
    plan_to_workflows,
    render_all,
    render_yaml,
    workflow_template,
)
from s1tiling_cloud.argo.checks import semantic_errors
from s1tiling_cloud.argo.defaults import RETRY_POLICIES, ArgoSettings
from s1tiling_cloud.argo.names import child_name
from s1tiling_cloud.argo.podspec import active_deadline
from s1tiling_cloud.argo.schema import schema_errors
from s1tiling_cloud.config.scenario import SCENARIOS

from .plans import campaign

ROOT = Path(__file__).resolve().parents[2]


def _valid(document: dict, schema: Path, **limits) -> None:
    assert schema_errors(document, path=schema) == []
    assert semantic_errors(document, **limits) == []


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_templates_pass_the_strict_schema_and_the_checks(scenario, argo_schema):
    document = workflow_template(scenario).to_dict()
    _valid(document, argo_schema)
    assert document["metadata"]["name"] == SCENARIOS[scenario].template
    plan = next(t for t in document["spec"]["templates"] if t["name"] == "plan")
    assert plan["container"]["command"][:5] == ["s1tiling-cloud", "workflow", "plan-pod", "--scenario",
                                                scenario]


def test_hera_generate_yaml_renders_the_committed_files(tmp_path):
    out = tmp_path / "hera"
    run = subprocess.run([sys.executable, "-m", "hera", "generate", "yaml", str(ROOT / "workflows"),
                          "--to", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rendered = ROOT / "workflows" / "rendered"
    names = sorted(p.name for p in rendered.glob("*.yaml"))
    assert names == sorted(f"{s}.yaml" for s in SCENARIOS)
    assert sorted(p.name for p in out.iterdir()) == names
    assert all(filecmp.cmp(out / n, rendered / n, shallow=False) for n in names)
    render_all(tmp_path / "ours")
    assert all(filecmp.cmp(tmp_path / "ours" / n, rendered / n, shallow=False) for n in names)


def test_child_workflow_mirrors_the_plan(argo_schema):
    plan = campaign(["33TTG", "33TUG"], 2)
    [workflow] = plan_to_workflows(plan, image="registry.local/s1tiling-cloud:1", namespace="s1",
                                   parent=ParentRef("s1-process-x7k2p", "uid-1"))
    document = workflow.to_dict()
    _valid(document, argo_schema)
    assert document["metadata"]["name"] == child_name("s1-process-x7k2p", "uid-1", "part-001")
    assert document["metadata"]["name"].startswith("s1-process-x7k2p-")
    assert document["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    # Stage pods run as their own ServiceAccount, which cannot create workflows; only the
    # template's planning and launching pods run as the workflow one.
    assert document["spec"]["serviceAccountName"] == "s1tiling-cloud-stage"
    template = workflow_template("s1_process").to_dict()
    assert template["spec"]["serviceAccountName"] == "s1tiling-cloud-workflow"
    plan_pod = next(t for t in template["spec"]["templates"] if t["name"] == "plan")
    plan_command = plan_pod["container"]["command"]
    assert plan_command[plan_command.index("--stage-service-account") + 1] == "s1tiling-cloud-stage"
    dag = next(t for t in document["spec"]["templates"] if t["name"] == "main")["dag"]["tasks"]
    by_name = {t["name"]: t for t in dag}
    assert len(dag) == len(plan.nodes)
    ortho = by_name["ortho-33TTG-s1b-20211201"]
    node = plan.node("ortho/33TTG/S1B_IW_GRDH_1SDV_20211201T051122_20211201T051147_030148_039993_0000")
    assert set(ortho["depends"].split(" && ")) == {"ingest-s1b-20211201-022", "heights-33TTG"}
    args = {p["name"]: p["value"] for p in ortho["arguments"]["parameters"]}
    assert args["stage"] == "ortho"
    assert json.loads(args["args"]) == {**node.args, "storage_options": plan.storage_options}
    names = {n.id: t["name"] for n, t in zip(plan.nodes, dag, strict=True)}
    for n, task in zip(plan.nodes, dag, strict=True):  # depends == node.depends, exactly
        assert set(filter(None, (task.get("depends") or "").split(" && "))) == {names[d] for d in n.depends}


def test_pods_carry_the_production_defaults():
    plan = campaign(["33TTG"], 2)  # products from peps and cop_dataspace
    # peps has no key of its own in the default semaphore ConfigMap: it shares `default`
    document = plan_to_workflows(plan)[0].to_dict()
    assert {t["name"] for t in document["spec"]["templates"]} == {
        "main", "stage-ingest-default", "stage-ingest-default-pod", "stage-ingest-cop-dataspace",
        "stage-ingest-cop-dataspace-pod", "stage-ortho", "stage-light"}  # heights is light
    settings = ArgoSettings(semaphore_keys=("default", "cop_dataspace", "peps"))
    document = plan_to_workflows(plan, settings=settings)[0].to_dict()
    spec = document["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    assert set(templates) == {"main", "stage-ingest-peps", "stage-ingest-peps-pod",
                              "stage-ingest-cop-dataspace", "stage-ingest-cop-dataspace-pod", "stage-ortho",
                              "stage-light"}
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["podGC"]["strategy"] == "OnPodSuccess" and spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    ortho = templates["stage-ortho"]
    assert ortho["container"]["resources"]["requests"]["memory"] == "3Gi"
    assert ortho["container"]["command"] == ["s1tiling-cloud", "stage", "{{inputs.parameters.stage}}",
                                             "--args", "{{inputs.parameters.args}}"]
    assert ortho["container"]["securityContext"]["readOnlyRootFilesystem"] is True
    assert ortho["container"]["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    retry = ortho["retryStrategy"]["expression"]
    assert "78" in retry and "72" not in retry and "71" not in retry and "67" not in retry
    # the download slot is held by the pod only; the retries (and their waits) are its wrapper's
    wrapper, ingest = templates["stage-ingest-peps"], templates["stage-ingest-peps-pod"]
    assert ingest["synchronization"]["semaphores"][0]["configMapKeyRef"] == {
        "name": "s1tiling-cloud-semaphores", "key": "peps"}
    assert "retryStrategy" not in ingest and "synchronization" not in wrapper
    assert wrapper["retryStrategy"]["limit"] == 5 and "expression" not in wrapper["retryStrategy"]
    assert [[s["template"] for s in group] for group in wrapper["steps"]] == [["stage-ingest-peps-pod"]]
    secrets = [e["secretRef"]["name"] for e in ingest["container"]["envFrom"]]
    assert secrets == ["s1tiling-cloud-s3", "s1tiling-cloud-eodag"]
    assert [e["secretRef"]["name"] for e in ortho["container"]["envFrom"]] == ["s1tiling-cloud-s3"]
    # Each pod is stopped after its kind's longest run (Argo's per-pod activeDeadlineSeconds).
    assert {name: templates[name].get("activeDeadlineSeconds") for name in (
        "stage-ortho", "stage-light", "stage-ingest-peps-pod")} == {
        "stage-ortho": 3600, "stage-light": 1800, "stage-ingest-peps-pod": 3600}
    assert active_deadline(RETRY_POLICIES["map"]) == 3600  # no map stage in this plan
    assert "activeDeadlineSeconds" not in wrapper  # a steps template: Argo refuses it there
    env = {e["name"]: e["value"] for e in ortho["container"]["env"]}
    assert env["S1TILING_CLOUD_SECRET_VARIABLES"] == "EODAG__*"


def test_a_campaign_splits_into_valid_child_workflows(argo_schema):
    plan = campaign([f"3{i}TTG" for i in range(1, 7)], 10)
    settings = ArgoSettings(max_nodes=150)
    pairs = part_workflows(plan, settings=settings, parent=ParentRef("s1-process-abcde"))
    assert [p.level for p, _ in pairs][0] == 0 and len(pairs) > 2
    seen = 0
    for part, workflow in pairs:
        document = workflow.to_dict()
        _valid(document, argo_schema, max_nodes=150)
        seen += len(part.nodes)
        assert document["metadata"]["labels"]["s1tiling-cloud/parent"] == "s1-process-abcde"
    assert seen == len(plan.nodes)
    text = render_yaml(w for _, w in pairs)
    assert len(list(yaml.safe_load_all(text))) == len(pairs)


def test_lia_scenario_renders(argo_schema):
    plan = campaign(["33TTG"], 2, calibration="normlim")
    [workflow] = plan_to_workflows(plan)
    document = workflow.to_dict()
    _valid(document, argo_schema)
    stages = {p["value"] for t in document["spec"]["templates"] if t.get("dag")
              for task in t["dag"]["tasks"] for p in task["arguments"]["parameters"] if p["name"] == "stage"}
    assert {"lia", "normlim", "ortho"} <= stages


def test_the_secret_variables_reach_every_pod_of_the_children():
    """The planning pod renders the children with its own `S1TILING_CLOUD_SECRET_VARIABLES`
    (the chart's `secrets.variables`), so stage and ingest pods refuse and mask the same names."""
    settings = ArgoSettings(secret_variables="EODAG__*,MY_TOKEN_FILE")
    document = plan_to_workflows(campaign(["33TTG"], 2), settings=settings)[0].to_dict()
    containers = [t["container"] for t in document["spec"]["templates"] if "container" in t]
    assert containers and all(
        {e["name"]: e.get("value") for e in c["env"]}["S1TILING_CLOUD_SECRET_VARIABLES"]
        == "EODAG__*,MY_TOKEN_FILE" for c in containers)


def test_every_pod_bounds_gdal_block_cache_and_takes_a_threadsafe_numba_layer():
    """GDAL's block cache is bounded in every pod, the WorkflowTemplates' (plan, launch) and the
    children's (stages, ingest), so that a pod's peak memory does not follow its node's; and
    numba's threading layer is one that parallel kernels launched from two threads survive."""
    documents = [workflow_template(scenario).to_dict() for scenario in SCENARIOS]
    documents += [w.to_dict() for w in plan_to_workflows(campaign(["33TTG"], 2))]
    containers = {t["name"]: t["container"] for d in documents for t in d["spec"]["templates"]
                  if "container" in t}
    assert {"plan", "stage-ortho", "stage-light"} <= set(containers)
    for container in containers.values():
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["GDAL_CACHEMAX"] == "64" and env["NUMBA_THREADING_LAYER"] == "threadsafe"
