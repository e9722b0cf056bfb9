"""Each semantic check and the strict schema catch the mistake they are for."""

from __future__ import annotations

import copy

import pytest

from s1tiling_cloud.argo import plan_to_workflows, workflow_template
from s1tiling_cloud.argo.checks import semantic_errors
from s1tiling_cloud.argo.schema import schema_errors

from .plans import campaign


@pytest.fixture(scope="module")
def template() -> dict:
    return workflow_template("s1_process").to_dict()


@pytest.fixture(scope="module")
def child() -> dict:
    return plan_to_workflows(campaign(["33TTG"], 2))[0].to_dict()


def _named(document: dict, name: str) -> dict:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)


def _task(document: dict, name: str) -> dict:
    return next(t for t in _named(document, "main")["dag"]["tasks"] if t["name"] == name)


def _mutated(document: dict, change) -> dict:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


MUTATIONS = {
    "entrypoint": (lambda d: d["spec"].update(entrypoint="mian"), "names no template"),
    "template": (lambda d: _task(d, "plan").update(template="planner"), "does not exist"),
    "depends": (lambda d: _task(d, "parts").update(depends="plan && sharred"), "not a task of the DAG"),
    "input": (lambda d: _named(d, "launch")["container"]["command"].append("{{inputs.parameters.x}}"),
              "not an input"),
    "workflow-parameter": (lambda d: _named(d, "plan")["container"]["command"].append(
        "{{workflow.parameters.images}}"), "not a workflow parameter"),
    "task-output": (lambda d: _task(d, "parts").update(withParam="{{tasks.plan.outputs.parameters.part}}"),
                    "not an output"),
    "task-name": (lambda d: _task(d, "plan").update(name="plan the work"), "not a valid Argo task name"),
    "missing-argument": (lambda d: _task(d, "shared")["arguments"]["parameters"].pop(),
                         "does not pass 'storage-options'"),
    "secret-env": (lambda d: _named(d, "plan")["container"]["env"].append(
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "abcd1234"}), "literal value"),
    "secret-value": (lambda d: d["metadata"].update(annotations={"k": "AKIAIOSFODNN7EXAMPLE"}),
                     "looks like a credential"),
    "item": (lambda d: _task(d, "plan").update(
        arguments={"parameters": [{"name": "x", "value": "{{item}}"}]}),
             "outside a withParam"),
}


def test_the_good_documents_pass(template, child):
    assert semantic_errors(template) == [] and semantic_errors(child) == []


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_each_mutation_is_caught(template, mutation):
    change, message = MUTATIONS[mutation]
    errors = semantic_errors(_mutated(template, change))
    assert any(message in e for e in errors), errors


def test_child_mutations_are_caught(child):
    first, second = _named(child, "main")["dag"]["tasks"][:2]
    broken = _mutated(child, lambda d: _named(d, "main")["dag"]["tasks"][1].update(
        depends=f"{first['name']}-typo"))
    assert any("not a task of the DAG" in e for e in semantic_errors(broken))
    twice = _mutated(child, lambda d: _named(d, "main")["dag"]["tasks"][1].update(name=first["name"]))
    assert any("defined twice" in e for e in semantic_errors(twice))
    assert any("more than 5 nodes" in e for e in semantic_errors(child, max_nodes=5))
    assert any("bytes" in e for e in semantic_errors(child, max_bytes=10_000))
    assert any("secret value" in e for e in semantic_errors(child, secret_values=["minio.storage"]))


def test_strict_schema_catches_typos_the_upstream_schema_lets_through(template, argo_schema):
    typo = _mutated(template, lambda d: d["spec"].update(entrypint="main"))
    assert schema_errors(typo, path=argo_schema, strict=False) == []
    assert any("entrypint" in e for e in schema_errors(typo, path=argo_schema))
    retrys = _mutated(template, lambda d: _named(d, "plan").update(retrys={"limit": 3}))
    assert any("retrys" in e for e in schema_errors(retrys, path=argo_schema))


def test_int_or_string_correction(template, argo_schema):
    as_int = _mutated(template, lambda d: _named(d, "plan")["retryStrategy"].update(limit=3))
    assert schema_errors(as_int, path=argo_schema) == []
    wrong = _mutated(template, lambda d: _named(d, "plan")["retryStrategy"].update(limit=[3]))
    assert schema_errors(wrong, path=argo_schema)
