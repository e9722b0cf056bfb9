"""Splitting plans into parts that fit one Argo workflow, with every dependency honoured."""

from __future__ import annotations

import pytest

from s1tiling_cloud.argo.split import check_parts, split_plan
from s1tiling_cloud.plan.model import Node, Plan

from .plans import campaign


def test_a_small_plan_is_one_part_with_no_barrier():
    plan = campaign(["33TTG", "33TUG"], 3)
    parts = split_plan(plan)
    assert [(p.name, p.level) for p in parts] == [("part-001", 1)]
    assert [n.id for n in parts[0].nodes] == [n.id for n in plan.nodes]


def test_products_shared_by_tiles_are_ingested_first_in_a_shared_part():
    plan = campaign(["33TTG", "33TUG", "33TVG"], 12)
    parts = split_plan(plan, max_nodes=80)  # a tile's 49 nodes fit, two tiles' do not
    check_parts(plan, parts)
    shared = [p for p in parts if p.level == 0]
    assert len(shared) == 1 and {n.stage for n in shared[0].nodes} == {"ingest"}
    assert len(shared[0].nodes) == 12
    others = [p for p in parts if p.level == 1]
    assert all(len(p.nodes) <= 80 for p in parts)
    # a tile's work is never spread over parts when it fits one
    for part in others:
        tiles = {n.args.get("tile") for n in part.nodes}
        assert len(tiles - {None}) == 1


def test_products_of_one_tile_stay_with_it():
    plan = campaign(["33TTG", "33TUG"], 6, shared=False)
    parts = split_plan(plan, max_nodes=60)
    assert [p.level for p in parts] == [1, 1]
    for part in parts:
        ingests = {n.id for n in part.nodes if n.stage == "ingest"}
        users = {d for n in part.nodes for d in n.depends if d.startswith("ingest/")}
        assert ingests == users


def test_a_tile_too_large_for_one_workflow_gives_its_hubs_to_level_0():
    plan = campaign(["33TTG"], 40, shared=False)  # ~560 nodes on one tile
    parts = split_plan(plan, max_nodes=100)
    check_parts(plan, parts)
    level0 = {n.id for p in parts if p.level == 0 for n in p.nodes}
    assert "heights/33TTG" in level0
    assert all(len(p.nodes) <= 100 for p in parts)
    assert sum(len(p.nodes) for p in parts) == len(plan.nodes)


def test_byte_limit_splits_too():
    plan = campaign(["33TTG", "33TUG"], 4, shared=False)
    parts = split_plan(plan, max_nodes=10_000, max_bytes=40_000)
    assert len(parts) > 1
    check_parts(plan, parts)


def test_a_group_that_cannot_fit_is_an_error():
    nodes = [Node(id=f"ortho/{i}", stage="ortho", args={"outputs": "x" * 1000}) for i in range(2)]
    with pytest.raises(ValueError, match="exceeds one workflow's limits"):
        split_plan(Plan("s1_process", nodes), max_bytes=1000)


def test_fan_in_splits_into_independent_levels():
    nodes = [Node(id=f"ortho/{i}", stage="ortho", args={}) for i in range(5)]
    nodes.append(Node(id="concatenate", stage="concatenate", args={}, depends=[n.id for n in nodes]))
    plan = Plan("s1_process", nodes)
    parts = split_plan(plan, max_nodes=3)
    check_parts(plan, parts)
    assert all(len(p.nodes) <= 3 for p in parts)


def test_check_parts_refuses_a_dependency_on_a_later_part():
    plan = campaign(["33TTG"], 1)
    parts = split_plan(plan)
    late = parts[0].nodes.pop(0)  # the ingest node alone in a level-1 part of its own
    parts.append(type(parts[0])("part-002", 1, [late]))
    with pytest.raises(ValueError, match="does not run before it"):
        check_parts(plan, parts)
