"""The Helm chart, rendered by the real Helm engine for default and non-default values: every
manifest valid (kubernetes-validate --strict, Argo's strict schema), the WorkflowTemplates those
`workflows/` renders, least-privilege RBAC, and credentials only ever named."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from s1tiling_cloud import __version__
from s1tiling_cloud.argo.checks import check_object_names
from s1tiling_cloud.argo.defaults import DEFAULT_SECRET_VARIABLES
from tests.conftest import ARGO_SCHEMA
from tests.helm.render import CHART, ROOT, by_kind, render, validation_errors

helm = pytest.importorskip("helm_python", reason="helm-python-sdk (Helm's engine) is not installed")
pytest.importorskip("kubernetes_validate")

RENDERED = ROOT / "workflows" / "rendered"
needs_argo_schema = pytest.mark.skipif(not ARGO_SCHEMA.exists(),
                                       reason=f"Argo's JSON schema not found at {ARGO_SCHEMA}")
needs_rendered = pytest.mark.skipif(not any(RENDERED.glob("*.yaml")),
                                    reason=f"no rendered WorkflowTemplates in {RENDERED} yet")

CONFIG = """\
[Paths]
output : s3://eo-products/s1tiling
s1_images : s3://eo-products/s1
tmp : s3://eo-products/tmp
dem_dir : s3://eo-dem/srtm
[DataSource]
download : True
roi_by_tiles : 31TCJ
first_date : 2024-01-01
last_date : {{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}-{{workflow.creationTimestamp.d}}
[Processing]
calibration : sigma
tiles : 31TCJ
"""
CUSTOM = {
    "image": {"repository": "registry.example.org/eo/s1tiling-cloud", "tag": "0.1.0-rc1",
              "pullPolicy": "Always"},
    "serviceAccounts": {"workflow": {"name": "eo-runner",
                                     "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
                        "stage": {"name": "eo-stage",
                                  "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/s3"}},
                        "submitter": {"name": "eo-submit", "createToken": True}},
    "rbac": {"extraSubmitters": [{"kind": "Group", "name": "eo-operators",
                                  "apiGroup": "rbac.authorization.k8s.io"}]},
    "secrets": {"s3": {"name": "eo-s3-keys"}, "eodag": {"name": "eo-providers"}},
    "semaphores": {"configMapName": "eo-downloads", "limits": {"default": 1, "peps": 2}},
    "workflow": {"maxNodes": 500, "parallelism": 40},
    "argoServer": {"url": "https://argo-server.argo:2746"},
    "cron": {"enabled": True, "scenario": "s1_process_lia", "schedules": ["30 5 * * *"],
             "timezone": "Europe/Paris", "config": CONFIG},
}
DEFAULT_NAMES = ("s1tiling-cloud-workflow", "s1tiling-cloud-stage", "s1tiling-cloud-s3",
                 "s1tiling-cloud-eodag", "s1tiling-cloud-semaphores")


def kinds(documents) -> list[tuple[str, str]]:
    return sorted((d["kind"], d["metadata"]["name"]) for d in documents)


def rules(role) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


@needs_argo_schema
def test_default_values_render_valid_manifests():
    documents = render()
    assert kinds(documents) == sorted([
        ("ConfigMap", "s1tiling-cloud-semaphores"),
        *[(kind, f"s1tiling-cloud-{role}") for kind in ("Role", "RoleBinding", "ServiceAccount")
          for role in ("stage", "submitter", "workflow")],
        *[("WorkflowTemplate", n) for n in ("s1-process", "s1-process-gamma-area", "s1-process-ia",
                                             "s1-process-lia")]])
    assert [e for d in documents for e in validation_errors(d)] == []
    assert by_kind(documents, "ConfigMap")["s1tiling-cloud-semaphores"]["data"] == {
        "default": "2", "cop_dataspace": "4"}


@needs_argo_schema
def test_the_validation_catches_broken_manifests():
    """The checks above are not vacuous: a typo in a core or an Argo manifest is refused."""
    documents = render(CUSTOM)
    role = copy.deepcopy(by_kind(documents, "Role")["eo-runner"])
    role["rules"][0]["verb"] = role["rules"][0].pop("verbs")
    config_map = copy.deepcopy(by_kind(documents, "ConfigMap")["eo-downloads"])
    config_map["data"]["peps"] = 2
    cron = copy.deepcopy(next(iter(by_kind(documents, "CronWorkflow").values())))
    cron["spec"]["schedule"] = cron["spec"].pop("schedules")[0]  # Argo < 3.6's field
    template = copy.deepcopy(by_kind(documents, "WorkflowTemplate")["s1-process"])
    template["spec"]["entrypint"] = template["spec"].pop("entrypoint")
    for broken in (role, config_map, cron, template):
        assert validation_errors(broken), broken["kind"]


@needs_rendered
def test_the_chart_installs_the_workflow_templates_that_workflows_renders(tmp_path):
    from s1tiling_cloud.argo import render_all

    fresh = {}
    for path in render_all(tmp_path):
        for document in yaml.safe_load_all(path.read_text()):
            fresh[document["metadata"]["name"]] = document
    committed = {}
    for path in sorted(RENDERED.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            committed[document["metadata"]["name"]] = document
    installed = by_kind(render(), "WorkflowTemplate")
    assert installed == committed == fresh
    assert (CHART / "files" / "workflows").resolve() == RENDERED.resolve()


@needs_argo_schema
def test_non_default_values_render_valid_manifests_with_their_names():
    documents = render(CUSTOM, name="campaign", namespace="eo-prod")
    assert [e for d in documents for e in validation_errors(d)] == []
    templates = by_kind(documents, "WorkflowTemplate")
    text = yaml.safe_dump(list(templates.values()))
    assert not any(name in text for name in DEFAULT_NAMES)
    for template in templates.values():
        spec = template["spec"]
        assert spec["serviceAccountName"] == "eo-runner"
        parameters = {p["name"]: p.get("value") for p in spec["arguments"]["parameters"]}
        assert parameters["image"] == "registry.example.org/eo/s1tiling-cloud:0.1.0-rc1"
        assert parameters["max-nodes"] == "500" and parameters["parallelism"] == "40"
        assert json.loads(parameters["semaphore-keys"]) == ["cop_dataspace", "default", "peps"]
        assert parameters["argo-server"] == "https://argo-server.argo:2746"
        for container in (t["container"] for t in spec["templates"] if "container" in t):
            assert container["imagePullPolicy"] == "Always"
            assert {"eo-s3-keys"} <= {e["secretRef"]["name"] for e in container["envFrom"]}
    plan = next(t for t in templates["s1-process"]["spec"]["templates"] if t["name"] == "plan")
    command = plan["container"]["command"]
    for option, value in [("--s3-secret", "eo-s3-keys"), ("--eodag-secret", "eo-providers"),
                          ("--semaphore-configmap", "eo-downloads"),
                          ("--stage-service-account", "eo-stage")]:
        assert command[command.index(option) + 1] == value

    accounts = by_kind(documents, "ServiceAccount")
    assert set(accounts) == {"eo-runner", "eo-stage", "eo-submit"}
    assert accounts["eo-runner"]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}
    bindings = by_kind(documents, "RoleBinding")
    assert bindings["eo-submit"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "eo-submit", "namespace": "eo-prod"},
        {"kind": "Group", "name": "eo-operators", "apiGroup": "rbac.authorization.k8s.io"}]
    assert bindings["eo-runner"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "eo-runner", "namespace": "eo-prod"}]
    assert bindings["eo-stage"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "eo-stage", "namespace": "eo-prod"}]
    config_maps = by_kind(documents, "ConfigMap")
    # Helm merges maps with the defaults: a provider of values.yaml stays unless set to null.
    assert config_maps["eo-downloads"]["data"] == {"default": "1", "peps": "2", "cop_dataspace": "4"}
    dropped = render({"semaphores": {"limits": {"cop_dataspace": None}}})
    assert by_kind(dropped, "ConfigMap")["s1tiling-cloud-semaphores"]["data"] == {"default": "2"}


@needs_argo_schema
def test_the_cron_workflow_submits_a_scenario_with_its_request():
    documents = render(CUSTOM, name="campaign", namespace="eo-prod")
    crons = by_kind(documents, "CronWorkflow")
    assert list(crons) == ["campaign-s1-process-lia"]
    assert check_object_names(crons["campaign-s1-process-lia"]) == []  # ≤ 52 characters
    spec = crons["campaign-s1-process-lia"]["spec"]
    assert spec["schedules"] == ["30 5 * * *"] and spec["timezone"] == "Europe/Paris"
    assert spec["concurrencyPolicy"] == "Forbid"
    workflow = spec["workflowSpec"]
    template = by_kind(documents, "WorkflowTemplate")[workflow["workflowTemplateRef"]["name"]]
    declared = {p["name"] for p in template["spec"]["arguments"]["parameters"]}
    given = {p["name"]: p["value"] for p in workflow["arguments"]["parameters"]}
    assert set(given) <= declared and given["config"] == CONFIG  # the .cfg, byte for byte
    assert "cron" not in {d["kind"] for d in render()}  # disabled by default


def test_rbac_is_least_privilege():
    roles = by_kind(render(), "Role")
    executor = {("argoproj.io", "workflowtaskresults", "create"),
                ("argoproj.io", "workflowtaskresults", "patch")}
    assert rules(roles["s1tiling-cloud-workflow"]) == executor | {
        ("argoproj.io", "workflows", "create"), ("argoproj.io", "workflows", "get"),
        ("argoproj.io", "workflows", "patch"), ("argoproj.io", "workflows", "delete"),
        ("argoproj.io", "workflows/finalizers", "update")}
    # The stage pods (child workflows), which parse downloaded data, cannot create workflows.
    assert rules(roles["s1tiling-cloud-stage"]) == executor
    assert rules(roles["s1tiling-cloud-submitter"]) == {
        ("argoproj.io", "workflows", verb) for verb in ("create", "get", "list", "watch")} | {
        ("argoproj.io", "workflowtemplates", "get"), ("", "configmaps", "create")}
    assert not any(r["kind"].startswith("Cluster") for r in render(CUSTOM))  # namespaced only
    assert by_kind(render({"rbac": {"create": False}}), "Role") == {}


def test_credentials_are_named_never_held():
    for documents in (render(), render(CUSTOM)):
        secrets = by_kind(documents, "Secret")
        for secret in secrets.values():  # only the token Secret that Kubernetes fills in
            assert secret["type"] == "kubernetes.io/service-account-token"
            assert "data" not in secret and "stringData" not in secret
    token = by_kind(render(CUSTOM), "Secret")["eo-submit-token"]
    assert token["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "eo-submit"}


def test_values_are_checked_against_the_schema():
    with pytest.raises(helm.HelmError, match="imagee"):
        render({"imagee": {"repository": "x"}})  # a typo is an error, not an ignored key
    with pytest.raises(helm.HelmError, match="parallelism"):
        render({"workflow": {"parallelism": -1}})
    with pytest.raises(helm.HelmError, match="cron.config"):
        render({"cron": {"enabled": True}})  # a cron without a request


def test_chart_metadata_and_lint():
    with helm.Chart.load(CHART) as chart:
        assert chart.metadata["appVersion"] == __version__  # the image tag it installs by default
        assert chart.schema is not None
        documented = (CHART / "values.yaml").read_text()
        for key in chart.values:
            assert f"\n{key}:" in documented
    report = helm.lint(str(CHART), strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


DIGEST = "sha256:" + "0123456789abcdef" * 4


def _plan_envs(documents) -> dict[str, tuple[list[str], dict[str, str]]]:
    """WorkflowTemplate -> (its planning pod's Secrets, its environment)."""
    found = {}
    for name, template in by_kind(documents, "WorkflowTemplate").items():
        plan = next(t for t in template["spec"]["templates"] if t["name"] == "plan")
        container = plan["container"]
        found[name] = ([e["secretRef"]["name"] for e in container["envFrom"]],
                       {e["name"]: e.get("value") for e in container["env"]})
    return found


def test_the_planning_pod_holds_no_provider_credentials_unless_its_search_needs_them():
    for secrets, env in _plan_envs(render()).values():
        assert secrets == ["s1tiling-cloud-s3"]
        assert env["S1TILING_CLOUD_SECRET_VARIABLES"] == DEFAULT_SECRET_VARIABLES
    documents = render({"secrets": {"eodag": {"name": "eo-providers", "forSearch": True},
                                    "variables": ["EODAG__*", "MY_TOKEN_FILE"]}})
    assert [e for d in documents for e in validation_errors(d)] == []
    for secrets, env in _plan_envs(documents).values():
        assert secrets == ["s1tiling-cloud-s3", "eo-providers"]
        assert env["S1TILING_CLOUD_SECRET_VARIABLES"] == "EODAG__*,MY_TOKEN_FILE"


def test_the_image_can_be_pinned_by_digest():
    documents = render({"image": {"repository": "registry.example.org/eo/s1", "tag": "1.0",
                                  "digest": DIGEST}})
    assert [e for d in documents for e in validation_errors(d)] == []
    for template in by_kind(documents, "WorkflowTemplate").values():
        parameters = {p["name"]: p.get("value") for p in template["spec"]["arguments"]["parameters"]}
        assert parameters["image"] == f"registry.example.org/eo/s1@{DIGEST}"
    with pytest.raises(helm.HelmError, match="digest"):
        render({"image": {"digest": "latest"}})


def test_every_pod_but_the_launchers_has_a_deadline():
    for template in by_kind(render(), "WorkflowTemplate").values():
        deadlines = {t["name"]: t.get("activeDeadlineSeconds") for t in template["spec"]["templates"]
                     if "container" in t}
        assert deadlines.pop("plan") == 30 * 60
        assert deadlines and all(value is None for value in deadlines.values())  # launchers
