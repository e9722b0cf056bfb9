"""`argo/checks.py`'s controller rules: each good document passes, and a mutation of it that
Argo's controller would refuse or mishandle is caught. Each test names the Argo source whose
rule it encodes (argoproj/argo-workflows, v3.6/v3.7)."""

from __future__ import annotations

import copy

import pytest

from s1tiling_cloud.argo import ParentRef, plan_to_workflows, workflow_template
from s1tiling_cloud.argo.checks import (
    check_dags_not_empty,
    check_depends_expressions,
    check_locks_not_held_through_retries,
    check_object_names,
    check_retry_budgets,
    check_semaphore_keys,
    depends_errors,
    semantic_errors,
)
from s1tiling_cloud.argo.defaults import RETRY_POLICIES, SEMAPHORE_LIMITS, ArgoSettings, seconds
from s1tiling_cloud.argo.names import child_name

from .plans import campaign

CHART_CONFIG_MAPS = {"s1tiling-cloud-semaphores": {k: str(v) for k, v in SEMAPHORE_LIMITS.items()}}


@pytest.fixture(scope="module")
def template() -> dict:
    return workflow_template("s1_process").to_dict()


@pytest.fixture(scope="module")
def child() -> dict:
    plan = campaign(["33TTG"], 2)
    return plan_to_workflows(plan, parent=ParentRef("s1-process-x7k2p", "uid-1"))[0].to_dict()


def _named(document: dict, name: str) -> dict:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)


def _mutated(document: dict, change) -> dict:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def test_the_good_documents_pass_every_controller_rule(template, child):
    assert semantic_errors(template, config_maps=CHART_CONFIG_MAPS) == []
    assert semantic_errors(child, config_maps=CHART_CONFIG_MAPS) == []


def test_a_dag_without_tasks_is_refused(child):
    """workflow/validate/validate.go `validateDAG`: "templates.%s must have at least one task"."""
    empty = _mutated(child, lambda d: _named(d, "main")["dag"].update(tasks=[]))
    assert check_dags_not_empty(empty) == ["templates.main must have at least one task"]
    assert check_dags_not_empty(child) == []


@pytest.mark.parametrize(("expression", "message"), [
    ("plan && in", "word of Argo's expression language"),  # `in` is an expr operator
    ("plan &&", "does not parse"),
    ("(plan || shared", "does not parse"),
    ("plan shared", "does not parse"),
    ("plan.Finished", "not one of Argo's"),
    ("plan && 3shared", "cannot read"),
    ("plan && sharred", "names no task"),
])
def test_depends_must_parse_after_the_dash_rewrite(expression, message):
    """workflow/controller/dag.go `evaluateDependsLogic`: `strings.ReplaceAll(depends, "-", "_")`
    then `argoexpr.EvalBool`; results from workflow/common/ancestry.go `ValidateTaskResults`."""
    tasks = ["plan", "shared", "in", "3shared"]
    assert any(message in e for e in depends_errors(expression, tasks)), depends_errors(expression, tasks)
    assert depends_errors("plan && (shared.Succeeded || shared-x.Failed) && !shared",
                          ["plan", "shared", "shared-x"]) == []


def test_a_digit_first_task_name_is_refused_with_depends(template, child):
    """workflow/validate/validate.go `validateDAG`: "name cannot begin with a digit when using
    either 'depends' or 'dependencies'"."""
    digit = _mutated(template, lambda d: _named(d, "main")["dag"]["tasks"][0].update(name="1plan"))
    assert any("cannot begin with a digit" in e for e in check_depends_expressions(digit))
    assert check_depends_expressions(template) == [] and check_depends_expressions(child) == []


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["metadata"].update(name="x" * 64), "DNS-1123 label of at most 63"),
    (lambda d: d["metadata"].update(name="S1-Process"), "DNS-1123"),
    (lambda d: d["metadata"]["labels"].update({"s1tiling-cloud/parent": "p" * 64}),
     "not a valid label value"),
])
def test_object_names_follow_kubernetes_and_argo(child, change, message):
    """workflow/validate/validate.go: `maxCharsInObjectName = 63` ("workflow name … must not be
    more than 63 characters long"); Kubernetes names and label values (DNS-1123, ≤ 63)."""
    assert any(message in e for e in check_object_names(_mutated(child, change)))
    cron = {"kind": "CronWorkflow", "metadata": {"name": "c" * 53}}
    assert any("at most 52" in e for e in check_object_names(cron))
    generated = _mutated(child, lambda d: (d["metadata"].pop("name"),
                                           d["metadata"].update(generateName="g" * 60)))
    assert any("generateName" in e for e in check_object_names(generated))


def test_two_parents_whose_long_names_differ_only_at_the_end_get_distinct_children():
    """Daily CronWorkflow runs are named `{cron}-{unix time}` (workflow/cron/operator.go): their
    long names differ only at the end, where a name cut to 63 characters loses it."""
    base = "eo-prod-campaign-s1-process-lia-occitanie-mountains-"
    monday = ParentRef(base + "1733551200", "uid-monday")
    tuesday = ParentRef(base + "1733637600", "uid-tuesday")
    names = {child_name(p.name, p.uid, "part-001") for p in (monday, tuesday)}
    assert len(names) == 2
    assert all(len(n) <= 63 and check_object_names({"metadata": {"name": n}}) == [] for n in names)
    # without a uid (a child printed by the CLI), the parent's full name still tells them apart
    assert child_name(monday.name, None, "part-001") != child_name(tuesday.name, None, "part-001")
    plan = campaign(["33TTG"], 1)
    documents = [plan_to_workflows(plan, parent=p)[0].to_dict() for p in (monday, tuesday)]
    assert documents[0]["metadata"]["name"] != documents[1]["metadata"]["name"]


def test_every_semaphore_key_a_child_references_is_installed(child):
    """Argo errors a node whose semaphore key is missing: "Sync configuration key '%s' not found
    in ConfigMap" (workflow/controller/controller.go, the semaphore limit getter of
    workflow/sync/). Providers the chart lists keep their key; any other shares `default`."""
    plan = campaign(["33TTG"], 2)  # products of peps and cop_dataspace
    assert check_semaphore_keys(child, CHART_CONFIG_MAPS) == []
    keys = {r["configMapKeyRef"]["key"] for t in child["spec"]["templates"]
            for r in (t.get("synchronization") or {}).get("semaphores") or []}
    assert keys == {"default", "cop_dataspace"}  # peps is not a key of the default chart
    # a child made for a chart that lists peps, checked against the default chart: refused
    chart_with_peps = ArgoSettings(semaphore_keys=("default", "cop_dataspace", "peps"))
    listed = plan_to_workflows(plan, settings=chart_with_peps)[0].to_dict()
    assert check_semaphore_keys(listed, CHART_CONFIG_MAPS) == [
        "Sync configuration key 'peps' not found in ConfigMap 's1tiling-cloud-semaphores'"]
    assert check_semaphore_keys(listed, {}) == [
        "semaphore ConfigMap 's1tiling-cloud-semaphores' is not installed"]
    assert any("not an integer" in e for e in check_semaphore_keys(
        child, {"s1tiling-cloud-semaphores": {"default": "two", "cop_dataspace": "4"}}))


def test_no_max_duration_is_shorter_than_the_attempts_it_bounds(template, child):
    """workflow/controller/operator.go `processNodeRetries`: `maxDurationDeadline =
    firstChildNode.StartedAt.Add(maxDuration)`, i.e. counted from the FIRST attempt's start
    (argo-workflows#13044), not per wait."""
    assert check_retry_budgets(template) == [] and check_retry_budgets(child) == []
    short = _mutated(child, lambda d: _named(d, "stage-ortho")["retryStrategy"]["backoff"].update(
        maxDuration="5m"))
    assert any("stage-ortho: maxDuration 5m is shorter" in e for e in check_retry_budgets(short))
    unannotated = _mutated(child, lambda d: _named(d, "stage-ortho").pop("metadata"))
    assert any("no s1tiling-cloud/longest-run" in e for e in check_retry_budgets(unannotated))
    # the launchers follow their child for hours: no maxDuration at all
    assert "maxDuration" not in _named(template, "launch")["retryStrategy"]["backoff"]
    for kind, policy in RETRY_POLICIES.items():
        if policy.longest_run:
            assert seconds(policy.max_duration) >= (policy.limit + 1) * seconds(policy.longest_run), kind


def test_no_download_slot_is_held_through_retry_waits(child):
    """workflow/controller/operator.go `executeTemplate`: the template's lock is acquired for
    its node (the Retry node when the template retries) and released when that node is
    fulfilled, i.e. after every attempt and backoff wait."""
    assert check_locks_not_held_through_retries(child) == []
    pod = next(t for t in child["spec"]["templates"] if t.get("synchronization"))
    wrapper = next(t for t in child["spec"]["templates"] if t["name"] == pod["name"].removesuffix("-pod"))
    retries = wrapper["retryStrategy"]
    merged = _mutated(child, lambda d: _named(d, pod["name"]).update(retryStrategy=retries))
    message = "holds a lock through its retries (synchronization and retryStrategy on one template)"
    assert check_locks_not_held_through_retries(merged) == [f"{pod['name']}: {message}"]
