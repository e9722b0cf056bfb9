"""`s1tiling-cloud workflow render|children|templates`."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from s1tiling_cloud.argo.checks import semantic_errors
from s1tiling_cloud.argo.schema import schema_errors
from s1tiling_cloud.cli import app

from .plans import campaign


def test_render_prints_the_submitted_workflow(request_cfg, argo_schema):
    result = CliRunner().invoke(app, ["workflow", "render", str(request_cfg), "--scenario", "S1LIAMap",
                                      "--namespace", "s1", "--max-nodes", "500"])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert schema_errors(document, path=argo_schema) == [] and semantic_errors(document) == []
    assert document["spec"]["workflowTemplateRef"] == {"name": "s1-process-lia"}
    parameters = {p["name"]: p.get("value") for p in document["spec"]["arguments"]["parameters"]}
    assert parameters == {"config": request_cfg.read_text(), "max-nodes": "500"}


def test_render_refuses_a_bad_request(tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text("[Paths]\noutput: /x\n")
    result = CliRunner().invoke(app, ["workflow", "render", str(bad)])
    assert result.exit_code == 72, result.output


def test_children_of_a_plan(tmp_path, argo_schema):
    path = tmp_path / "plan.json"
    path.write_text(campaign(["33TTG", "33TUG"], 3).to_json())
    result = CliRunner().invoke(app, ["workflow", "children", str(path), "--max-nodes", "20",
                                      "--parent", "s1-process-abc"])
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.stdout))
    assert len(documents) == 3  # shared ingests, then one per tile
    for document in documents:
        assert schema_errors(document, path=argo_schema) == []
        assert semantic_errors(document, max_nodes=20) == []


def test_templates_prints_the_four(tmp_path):
    result = CliRunner().invoke(app, ["workflow", "templates"])
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout)]
    assert names == ["s1-process", "s1-process-lia", "s1-process-ia", "s1-process-gamma-area"]
