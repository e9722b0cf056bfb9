"""S1Tiling's Situation and exit code from Argo workflows' JSON (fixtures written by hand in
the Argo server's format: `status.nodes`, Retry nodes over Pod attempts, exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1tiling_cloud import exits
from s1tiling_cloud.argo import situation_from_workflow, workflow_exit_code
from s1tiling_cloud.exits import Situation

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_success():
    assert situation_from_workflow(load("parent_succeeded")) == Situation()
    assert workflow_exit_code(load("parent_succeeded")) == exits.OK


def test_last_attempts_count_and_retried_successes_do_not():
    # ingest 67 → download failure; ingest 68 → failure and timeout; ortho 78 then success →
    # nothing; ortho 71 → computation error; the omitted mask is not counted.
    assert situation_from_workflow(load("child_failures")) == Situation(1, 0, 2, 1)


def test_download_failures_alone_give_67_and_timeouts_alone_give_68():
    assert workflow_exit_code(load("parent_succeeded"), [load("child_offline")]) == exits.OFFLINE_DATA
    child = load("child_offline")
    child["status"]["nodes"]["i2"]["outputs"]["exitCode"] = "67"
    assert workflow_exit_code(load("parent_succeeded"), [child]) == exits.DOWNLOAD_ERROR


def test_computation_errors_win():
    assert workflow_exit_code(load("parent_succeeded"), [load("child_failures"), load("child_offline")]) \
        == exits.TASK_FAILED


@pytest.mark.parametrize(("fixture", "code"), [("parent_config_error", exits.CONFIG_ERROR),
                                               ("parent_search_failed", exits.DOWNLOAD_ERROR),
                                               ("parent_terminated", exits.UNKNOWN_REASON)])
def test_planning_failures_and_stopped_workflows(fixture, code):
    assert workflow_exit_code(load(fixture)) == code


def test_a_launcher_reporting_its_child_is_not_counted_twice():
    assert situation_from_workflow(load("parent_terminated")) == Situation()


def test_a_planning_pod_killed_at_its_deadline_is_78_not_137():
    """Argo kills a pod past `activeDeadlineSeconds` (exit 137): not an S1Tiling code."""
    workflow = load("parent_config_error")
    workflow["status"]["nodes"]["p1a"]["message"] = "Error (exit code 137)"
    assert workflow_exit_code(workflow) == exits.UNKNOWN_REASON
