"""The matrix's requests rendered for Argo: the plan the local runner runs becomes child
workflows that pass Argo's semantic checks and hold every node of the plan, once."""

from __future__ import annotations

import pytest

from s1tiling_cloud.argo.checks import semantic_errors
from s1tiling_cloud.argo.children import part_workflows
from s1tiling_cloud.config import load_request
from s1tiling_cloud.plan.request import plan_request

from .conftest import write_config


@pytest.mark.parametrize(("roles", "scenario", "options"), [
    (["A", "A_next", "A_later"], "s1_process", {}),
    (["A", "A_asc"], "s1_process", {"calibration": "normlim", "orbits": "7, 73", "filter": "lee"}),
    (["A", "A_next"], "s1_process", {"calibration": "gamma_naught_rtc"}),
    (["C_old", "C_new", "D", "A_vv"], "s1_process", {}),
    ([], "s1_process_lia", {"orbits": "7"}),
    (["A"], "s1_process_gamma_area", {}),
], ids=["sigma-pair-dates", "normlim-orbits-lee", "rtc-pair", "s1c-s1d-vv-only", "lia-eof",
        "gamma-area"])
def test_the_plan_renders_for_argo(tmp_path, archive, roles, scenario, options):
    extra = f"eof_dir : {archive.eof}" if scenario == "s1_process_lia" else ""
    config = write_config(tmp_path, archive.s1_images(tmp_path, roles), archive.dem,
                          extra_paths=extra, **options)
    plan = plan_request(load_request(config), scenario)
    assert plan.nodes
    rendered = part_workflows(plan, image="registry.local/s1tiling-cloud:test")
    seen = []
    for part, workflow in rendered:
        document = workflow.to_dict()
        assert semantic_errors(document) == [], part
        seen += [n.id for n in part.nodes]
    assert sorted(seen) == sorted(n.id for n in plan.nodes)
