"""The Argo runner: the plan as Hera workflows, their checks, submission, and the pods' commands.

This package's public surface (what the CLI and other modules import) is re-exported here from
`argo.runner` and `argo.pods`; its modules hold one concern each (defaults, split, names,
children, templates, schema, checks, situation, client, pods). Design: docs/argo.md; where it
sits among the layers: docs/architecture.md.
"""

from .pods import in_cluster_server, launch, plan_pod
from .runner import (
    ArgoServer,
    ArgoSettings,
    ParentRef,
    Submitted,
    part_workflows,
    plan_to_workflows,
    render_all,
    render_yaml,
    situation_from_workflow,
    submission,
    submit,
    watch,
    workflow_exit_code,
    workflow_template,
)

__all__ = [
    "ArgoServer", "ArgoSettings", "ParentRef", "Submitted", "in_cluster_server", "launch",
    "part_workflows", "plan_pod", "plan_to_workflows", "render_all", "render_yaml", "situation_from_workflow",
    "submission", "submit", "watch", "workflow_exit_code", "workflow_template",
]
