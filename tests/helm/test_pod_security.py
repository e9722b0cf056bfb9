"""What a real cluster would do with what the chart installs: the pods Argo's controller would
build pass the `restricted` Pod Security Standard, and every semaphore key a child can reference
exists in the chart's ConfigMap, for default and non-default values."""

from __future__ import annotations

import copy
import json

import pytest

from s1tiling_cloud.argo import plan_to_workflows
from s1tiling_cloud.argo.checks import check_semaphore_keys
from s1tiling_cloud.argo.defaults import ArgoSettings
from s1tiling_cloud.argo.pod_security import argo_pod, restricted_violations
from s1tiling_cloud.plan.build import build_plan
from s1tiling_cloud.search.model import SearchOutcome
from tests.argo.plans import candidate, request
from tests.helm.render import CHART, by_kind, render
from tests.helm.test_chart import CUSTOM

helm = pytest.importorskip("helm_python", reason="helm-python-sdk (Helm's engine) is not installed")


def _chart_values() -> dict:
    with helm.Chart.load(CHART) as chart:
        return copy.deepcopy(chart.values)


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def children_of(documents: list[dict], plan) -> list[dict]:
    """The children the planning pod of the chart's s1-process template would write for `plan`:
    its command's names and its parameters' defaults, as `workflow plan-pod` reads them."""
    template = by_kind(documents, "WorkflowTemplate")["s1-process"]
    parameters = {p["name"]: p.get("value") for p in template["spec"]["arguments"]["parameters"]}
    command = next(t for t in template["spec"]["templates"] if t["name"] == "plan")["container"]["command"]
    settings = ArgoSettings(
        stage_service_account=_option(command, "--stage-service-account"),
        s3_secret=_option(command, "--s3-secret"), eodag_secret=_option(command, "--eodag-secret"),
        semaphore_configmap=_option(command, "--semaphore-configmap"),
        semaphore_keys=tuple(json.loads(parameters["semaphore-keys"])), image=parameters["image"])
    return [w.to_dict() for w in plan_to_workflows(plan, settings=settings)]


def _plan_with_providers(*providers: str):
    candidates = [candidate(day, provider=provider) for day, provider in enumerate(providers)]
    return build_plan(request(["33TTG"], days=len(providers)),
                      SearchOutcome(per_tile={"33TTG": candidates}, found=len(candidates)))


@pytest.mark.parametrize("values", [{}, CUSTOM], ids=["default-values", "custom-values"])
def test_every_semaphore_key_a_child_can_reference_is_installed(values):
    """Argo errors an ingest node whose key is absent ("Sync configuration key '…' not found in
    ConfigMap", workflow/controller/controller.go; workflow/sync/): listed providers keep their
    key, any other (creodias here, peps in the default chart) shares `default`."""
    documents = render(values)
    config_maps = {name: d["data"] for name, d in by_kind(documents, "ConfigMap").items()}
    plan = _plan_with_providers("cop_dataspace", "peps", "creodias", "PEPS")
    keys = set()
    for child in children_of(documents, plan):
        assert check_semaphore_keys(child, config_maps) == []
        keys |= {r["configMapKeyRef"]["key"] for t in child["spec"]["templates"]
                 for r in (t.get("synchronization") or {}).get("semaphores") or []}
    assert keys == ({"cop_dataspace", "default"} if not values else {"cop_dataspace", "default", "peps"})


def test_a_provider_the_chart_drops_falls_back_to_default():
    documents = render({"semaphores": {"limits": {"cop_dataspace": None}}})
    config_maps = {name: d["data"] for name, d in by_kind(documents, "ConfigMap").items()}
    [child] = children_of(documents, _plan_with_providers("cop_dataspace"))
    assert check_semaphore_keys(child, config_maps) == []
    # the same child checked against a chart that never had `default` is refused, and the
    # chart's schema refuses to drop `default`
    assert check_semaphore_keys(child, {"s1tiling-cloud-semaphores": {"cop_dataspace": "4"}})
    with pytest.raises(helm.HelmError, match="default"):
        render({"semaphores": {"limits": {"default": None}}})


def _pods(documents: list[dict], executor: dict | None) -> dict[str, dict]:
    """Every pod Argo would build: the templates' plan and launch pods, every stage pod."""
    pods = {}
    for name, template in by_kind(documents, "WorkflowTemplate").items():
        for t in ("plan", "launch"):
            pods[f"{name}/{t}"] = argo_pod(template, t, executor)
    plan = _plan_with_providers("cop_dataspace", "peps")
    for child in children_of(documents, plan):
        for t in child["spec"]["templates"]:
            if "container" in t:
                pods[f"child/{t['name']}"] = argo_pod(child, t["name"], executor)
    return pods


@pytest.mark.parametrize("values", [{}, CUSTOM], ids=["default-values", "custom-values"])
def test_the_full_pods_meet_the_restricted_pod_security_standard(values):
    """workflow/controller/workflowpod.go (v3.7 `createWorkflowPod`): `init` and `wait`
    containers from `newExecContainer`, whose securityContext is only the controller's
    `executor.securityContext`; the pod's from the template, else the workflow. Checked against
    https://kubernetes.io/docs/concepts/security/pod-security-standards/ (Restricted)."""
    executor = _chart_values()["executor"]["securityContext"]
    pods = _pods(render(values), executor)
    assert {"child/stage-ortho", "child/stage-ingest-cop-dataspace-pod", "s1-process/plan",
            "s1-process/launch"} <= set(pods)
    for name, pod in pods.items():
        assert [c["name"] for c in pod["containers"]] == ["wait", "main"], name
        assert [c["name"] for c in pod["initContainers"]] == ["init"], name
        assert restricted_violations(pod) == [], name


def test_without_the_executor_setting_the_init_and_wait_containers_break_restricted():
    """What the deploy guide warns about: Argo's own containers carry no securityContext."""
    pods = _pods(render(), None)
    for pod in pods.values():
        errors = restricted_violations(pod)
        assert errors and all(e.startswith(("container init:", "container wait:")) for e in errors)
        assert any("allowPrivilegeEscalation" in e for e in errors)
        assert any("drop ALL" in e for e in errors)


@pytest.mark.parametrize(("change", "message"), [
    (lambda pod: pod["containers"][1]["securityContext"].update(privileged=True), "privileged"),
    (lambda pod: pod["containers"][1]["securityContext"].update(allowPrivilegeEscalation=True),
     "allowPrivilegeEscalation"),
    (lambda pod: pod["containers"][1]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
     "adds capabilities"),
    (lambda pod: pod["securityContext"].update(runAsUser=0), "runAsUser 0"),
    (lambda pod: pod["securityContext"].update(runAsNonRoot=False), "runAsNonRoot"),
    (lambda pod: pod["securityContext"].pop("seccompProfile"), "seccompProfile"),
    (lambda pod: pod["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run"}}), "hostPath"),
    (lambda pod: pod.update(hostNetwork=True), "hostNetwork"),
    (lambda pod: pod["containers"][1].update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPort"),
])
def test_each_restricted_rule_is_checked(change, message):
    executor = _chart_values()["executor"]["securityContext"]
    pod = copy.deepcopy(_pods(render(), executor)["child/stage-ortho"])
    assert restricted_violations(pod) == []
    change(pod)
    assert any(message in e for e in restricted_violations(pod)), restricted_violations(pod)
